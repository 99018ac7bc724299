// Side-by-side ingest against the peers of `../shared/peers` (VictoriaMetrics from Debian's
// package, optionally InfluxDB) and Strata, in one run, with the harness's own workload, client
// and measurement for every server: OpenTSDB `/api/put` JSON, TSBS-devops-like data (10,000
// series, 8 tags, full-precision values, timestamps in seconds), bodies generated once per
// (batch, gzip) before any timing. Every run gets a fresh server process and data directory;
// repetitions are the outer loop and servers alternate within it, so drift in the machine's load
// spreads over all of them. Strata's stored count is checked through its KairosDB query API (the
// harness has no verifier for it); the peers' through the harness's verifiers.
//
//   npx tsc -p tsconfig.json && node dist/bench/peers.js --harness ../shared/peers \
//     --servers vm,strata --batches 5000,50 --gzip off,on --reps 3 --points 2000000 --out results.jsonl
//
// A server named `strata@flag=value@…` is Strata with those flags (e.g. `strata@warm-up-points=0`).
// Needs `victoria-metrics` on PATH (apt-get install victoria-metrics) for `vm`, and the harness's
// `npm install` (undici). Prints one summary line per run and the median table at the end.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { spawnServer, storedPoints } from './load/server.js';
import { CPU_FIELDS } from './load/workload.js';

interface HarnessWorkload {
  readonly bodies: readonly Buffer[];
  readonly points: number;
  readonly series: number;
  readonly timestamps: number;
}
interface HarnessResult {
  readonly pointsPerS: number;
  readonly pointsAccepted: number;
  readonly non2xx: number;
  readonly serverCpuS: number | null;
  readonly clientCpuS: number;
  readonly wallS: number;
  readonly latMs: { readonly p50: number; readonly p99: number; readonly max: number };
  storedPoints?: number;
  storedOk?: boolean;
  readonly [key: string]: unknown;
}
interface Harness {
  generate(o: Record<string, unknown>): HarnessWorkload;
  measure(w: HarnessWorkload, o: Record<string, unknown>): Promise<HarnessResult>;
  summaryLine(r: HarnessResult): string;
  startPeer(name: string, root?: string): Promise<{ pid: number; dir: string; url: string; format: string; verify: string; verifyUrl: string; stop(): Promise<unknown> }>;
}

async function loadHarness(dir: string): Promise<Harness> {
  const mod = async (f: string): Promise<Record<string, unknown>> => (await import(pathToFileURL(path.resolve(dir, f)).href)) as Record<string, unknown>;
  const gen = await mod('lib/gen.mjs');
  const run = await mod('lib/run.mjs');
  const peers = await mod('lib/peers.mjs');
  return { generate: gen.generate, measure: run.measure, summaryLine: run.summaryLine, startPeer: peers.startPeer } as Harness;
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

const { values: a } = parseArgs({
  options: {
    harness: { type: 'string', default: '../shared/peers' },
    servers: { type: 'string', default: 'vm,strata' },
    batches: { type: 'string', default: '5000' },
    concurrency: { type: 'string', default: '4' },
    gzip: { type: 'string', default: 'off,on' },
    reps: { type: 'string', default: '3' },
    points: { type: 'string', default: '2000000' },
    threads: { type: 'string', default: '2' },
    out: { type: 'string' },
  },
});
const list = (s: string): string[] => s.split(',').map((x) => x.trim()).filter(Boolean);
const servers = list(a.servers!);
const batches = list(a.batches!).map(Number);
const concs = list(a.concurrency!).map(Number);
const gzips = list(a.gzip!).map((g) => g === 'on');
const reps = Number(a.reps);
const h = await loadHarness(a.harness!);

const base = {
  format: 'opentsdb', hosts: 1000, points: Number(a.points), order: 'time', tags: 8, seed: 1,
  start: Date.parse('2024-01-01T00:00:00Z') / 1000, interval: 10, tsUnit: 's', precision: null, metricPrefix: 'cpu.',
};
const work = new Map<string, HarnessWorkload>();
for (const batch of batches) for (const gzip of gzips) work.set(`${batch}/${gzip}`, h.generate({ ...base, batch, gzip }));

/**
 * Server flags of a Strata variant: `strata@warm-up-points=0@sync=never` runs Strata with
 * `--warm-up-points 0 --sync never`, so variants can be compared in one run.
 */
function strataArgs(spec: string): string[] {
  return spec
    .split('@')
    .slice(1)
    .flatMap((kv) => {
      const eq = kv.indexOf('=');
      return eq < 0 ? [`--${kv}`] : [`--${kv.slice(0, eq)}`, kv.slice(eq + 1)];
    });
}

/** One run against a fresh Strata: the harness's measure, then our own stored-count check. */
async function runStrata(w: HarnessWorkload, o: Record<string, unknown>, spec: string): Promise<HarnessResult> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-peers-'));
  const server = await spawnServer({ threads: Number(a.threads), dataDir, serverArgs: strataArgs(spec) });
  try {
    await new Promise((r) => setTimeout(r, 1000));
    const r = await h.measure(w, { ...o, url: `http://127.0.0.1:${server.http}/api/put`, serverPid: server.pid, verify: 'none', dataDir });
    const startMs = base.start * 1000;
    const endMs = startMs + w.timestamps * base.interval * 1000;
    r.storedPoints = await storedPoints('127.0.0.1', server.http, CPU_FIELDS.map((f) => `cpu.${f}`), startMs, endMs);
    r.storedOk = r.storedPoints === r.pointsAccepted;
    return r;
  } finally {
    await server.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

const results: (HarnessResult & { server: string; batch: number; gzip: boolean; concurrency: number })[] = [];
for (let rep = 1; rep <= reps; rep++) {
  for (const batch of batches) {
    for (const gzip of gzips) {
      for (const concurrency of concs) {
        for (const server of servers) {
          const w = work.get(`${batch}/${gzip}`)!;
          const o = { ...base, batch, gzip, concurrency, label: `${server} rep${rep}` };
          let r: HarnessResult;
          if (server === 'strata' || server.startsWith('strata@')) r = await runStrata(w, o, server);
          else {
            const peer = await h.startPeer(server);
            try {
              r = await h.measure(w, { ...o, url: peer.url, serverPid: peer.pid, verify: peer.verify, verifyUrl: peer.verifyUrl, dataDir: peer.dir });
            } finally {
              await peer.stop();
            }
          }
          console.log(h.summaryLine(r));
          const row = { ...r, server, batch, gzip, concurrency, rep, at: new Date().toISOString(), loadAverage1m: os.loadavg()[0] };
          results.push(row);
          if (a.out) fs.appendFileSync(a.out, `${JSON.stringify(row)}\n`);
        }
      }
    }
  }
}

console.log('\n| server | batch | gzip | conc | runs | points/s median (min–max) | server CPU-s | points per server CPU-s | p50 / p99 ms | stored = accepted |');
console.log('|---|--:|---|--:|--:|--:|--:|--:|--:|---|');
for (const batch of batches) {
  for (const gzip of gzips) {
    for (const concurrency of concs) {
      for (const server of servers) {
        const rs = results.filter((r) => r.server === server && r.batch === batch && r.gzip === gzip && r.concurrency === concurrency);
        if (rs.length === 0) continue;
        const pps = rs.map((r) => r.pointsPerS);
        const cpu = rs.map((r) => r.serverCpuS ?? NaN);
        const perCpu = rs.map((r) => r.pointsAccepted / (r.serverCpuS ?? NaN));
        const f = (x: number): string => Math.round(x).toLocaleString('en-US');
        console.log(
          `| ${server} | ${batch} | ${gzip ? 'on' : 'off'} | ${concurrency} | ${rs.length} | ${f(median(pps))} (${f(Math.min(...pps))}–${f(Math.max(...pps))}) | ${median(cpu).toFixed(2)} | ${f(median(perCpu))} | ${median(rs.map((r) => r.latMs.p50)).toFixed(1)} / ${median(rs.map((r) => r.latMs.p99)).toFixed(1)} | ${rs.every((r) => r.storedOk === true) ? 'yes' : 'NO'} |`,
        );
      }
    }
  }
}
