// Latency at a fixed offered load, side by side with VictoriaMetrics, and memory under a flood
// (issue 6, targets 3 and 5). One run:
//
//   1. Strata's own maximum: closed loop (bench/load, OpenTSDB /api/put, --batch, 4 connections).
//   2. Open loop at --fraction of that maximum (default 0.5), the same workload, against a fresh
//      Strata and a fresh VictoriaMetrics (../shared/peers' startPeer), alternating, --reps times:
//      latency from each request's due time (coordinated omission corrected: bench/load/client.ts).
//      Each server is warmed up first with --warmup-points of the same series a year earlier
//      (closed loop), so the measured phase sees known series and optimized code, not a start-up.
//   3. Flood: open loop at --flood × the maximum (default 4) against Strata with
//      --max-inflight-bytes --flood-budget-mib, sampling the server's anonymous RSS (RssAnon: the
//      heap, bodies in flight, the catalog; not the mapped segment pages, which are page cache)
//      every 50 ms; the refused requests get 503.
//
//   npx tsc -p tsconfig.json && node dist/bench/latency.js --harness ../shared/peers --out latency.jsonl
//
// Each measurement is one `node dist/bench/load/load.js` process (its JSON line is kept in --out).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { runLoadProcess, warmUp as warmUpServer, type LoadLine } from './load/process.js';
import { spawnServer } from './load/server.js';

const { values: a } = parseArgs({
  options: {
    harness: { type: 'string', default: '../shared/peers' },
    points: { type: 'string', default: '2000000' },
    batch: { type: 'string', default: '5000' },
    concurrency: { type: 'string', default: '16' },
    fraction: { type: 'string', default: '0.5' },
    flood: { type: 'string', default: '4' },
    'flood-budget-mib': { type: 'string', default: '64' },
    reps: { type: 'string', default: '3' },
    'warmup-points': { type: 'string', default: '200000' },
    threads: { type: 'string', default: '2' },
    out: { type: 'string' },
  },
});
const points = Number(a.points);
const batch = Number(a.batch);
const reps = Number(a.reps);
const threads = Number(a.threads);

function runLoad(args: readonly string[], label: string): Promise<LoadLine> {
  return runLoadProcess(['--format', 'opentsdb', '--batch', String(batch), '--points', String(points), '--baseline-passes', '1', ...args], label, a.out);
}

/** Samples /proc/PID/status RssAnon every 50 ms until stopped; returns the peak in bytes. */
function sampleRssAnon(pid: number): () => number {
  let peak = 0;
  const timer = setInterval(() => {
    try {
      const m = /RssAnon:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
      if (m) peak = Math.max(peak, Number(m[1]) * 1024);
    } catch {
      /* gone */
    }
  }, 50);
  return () => {
    clearInterval(timer);
    return peak;
  };
}

function warmUp(url: string, pid: number): Promise<void> {
  return warmUpServer(url, pid, Number(a['warmup-points']));
}

function row(name: string, r: LoadLine, offered: number): string {
  const l = r.result.latencyMs;
  const f = (x: number): string => x.toFixed(1);
  return `| ${name} | ${Math.round(offered).toLocaleString('en-US')} | ${Math.round(r.result.pointsPerS).toLocaleString('en-US')} | ${f(l.p50Ms)} | ${f(l.p90Ms)} | ${f(l.p99Ms)} | ${f(l.p999Ms)} | ${f(l.maxMs)} | ${r.cpu.serverS?.toFixed(2) ?? 'n/a'} |`;
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((x, y) => x - y);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

async function main(): Promise<void> {
  const peers = (await import(pathToFileURL(path.resolve(a.harness!, 'lib/peers.mjs')).href)) as {
    startPeer(name: string): Promise<{ pid: number; url: string; stop(): Promise<unknown> }>;
  };

  // 1. Strata's maximum, closed loop.
  const maxRuns: number[] = [];
  for (let i = 0; i < Math.max(1, Math.min(reps, 3)); i++) {
    const r = await runLoad(['--spawn', '--threads', String(threads), '--concurrency', '4'], 'strata-max');
    maxRuns.push(r.result.pointsPerS);
    process.stderr.write(`strata closed-loop max: ${Math.round(r.result.pointsPerS)} points/s\n`);
  }
  const max = median(maxRuns);
  const rate = Math.round(max * Number(a.fraction));
  process.stderr.write(`offered load: ${rate} points/s (${a.fraction} × ${Math.round(max)})\n`);

  // 2. Open loop at the fixed rate, servers alternating.
  const rows: string[] = [];
  const p99: { strata: number[]; vm: number[] } = { strata: [], vm: [] };
  for (let rep = 0; rep < reps; rep++) {
    const strata = await spawnServer({ threads });
    let s: LoadLine;
    try {
      const url = `http://127.0.0.1:${strata.http}/api/put`;
      await warmUp(url, strata.pid);
      s = await runLoad(['--url', url, '--server-pid', String(strata.pid), '--verify', 'none', '--concurrency', a.concurrency!, '--rate', String(rate)], 'strata-open');
    } finally {
      await strata.stop();
    }
    p99.strata.push(s.result.latencyMs.p99Ms);
    rows.push(row('Strata', s, rate));
    const vm = await peers.startPeer('vm');
    try {
      await warmUp(vm.url, vm.pid);
      const v = await runLoad(['--url', vm.url, '--server-pid', String(vm.pid), '--verify', 'none', '--concurrency', a.concurrency!, '--rate', String(rate)], 'vm-open');
      p99.vm.push(v.result.latencyMs.p99Ms);
      rows.push(row('VictoriaMetrics 1.79', v, rate));
    } finally {
      await vm.stop();
    }
    process.stderr.write(`rep ${rep + 1}: p99 strata ${p99.strata.at(-1)!.toFixed(1)} ms, vm ${p99.vm.at(-1)!.toFixed(1)} ms\n`);
  }

  // 3. Flood at a multiple of the maximum with a small in-flight budget.
  const budgetBytes = Number(a['flood-budget-mib']) * 1024 * 1024;
  const server = await spawnServer({ threads, serverArgs: ['--max-inflight-bytes', String(budgetBytes)] });
  const idle = (() => {
    const m = /RssAnon:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${server.pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  })();
  const stop = sampleRssAnon(server.pid);
  const floodRate = Math.round(max * Number(a.flood));
  const flood = await runLoad(['--url', `http://127.0.0.1:${server.http}/api/put`, '--server-pid', String(server.pid), '--concurrency', '256', '--rate', String(floodRate)], 'strata-flood');
  const peakAnon = stop();
  await server.stop();

  const mib = (b: number): string => (b / 1024 / 1024).toFixed(0);
  const lines = [
    `Offered load ${rate.toLocaleString('en-US')} points/s = ${a.fraction} × Strata's closed-loop maximum ${Math.round(max).toLocaleString('en-US')} (batch ${batch}, ${a.concurrency} connections, open loop)`,
    '',
    '| server | offered points/s | achieved points/s | p50 ms | p90 ms | p99 ms | p99.9 ms | max ms | server CPU s |',
    '|---|--:|--:|--:|--:|--:|--:|--:|--:|',
    ...rows,
    '',
    `p99, median of ${reps}: Strata ${median(p99.strata).toFixed(1)} ms, VictoriaMetrics ${median(p99.vm).toFixed(1)} ms → ratio ${(median(p99.strata) / median(p99.vm)).toFixed(2)} (target ≤ 0.5)`,
    '',
    `Flood at ${floodRate.toLocaleString('en-US')} points/s (${a.flood} × max), 256 connections, --max-inflight-bytes ${mib(budgetBytes)} MiB:`,
    `achieved ${Math.round(flood.result.pointsPerS).toLocaleString('en-US')} points/s, statuses ${JSON.stringify(flood.result.statusCounts)}, stored = acknowledged: ${flood.verify?.ok ?? 'n/a'};`,
    `server RssAnon idle ${mib(idle)} MiB, peak ${mib(peakAnon)} MiB (growth ${mib(peakAnon - idle)} MiB against a budget of ${mib(budgetBytes)} MiB); peak RSS incl. mapped segments ${mib(flood.cpu.serverPeakRssBytes ?? 0)} MiB`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
