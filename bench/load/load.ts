// `npm run bench:load -- [options]`: the end-to-end ingest load generator. Generates a seeded
// TSBS-devops-like workload, pre-builds every request (head + body, gzipped if asked) before the
// clock starts, sends it over keep-alive connections (closed loop, or open loop at --rate), and
// reports points/s (2xx only), latency percentiles, client and server CPU, and — measured in the
// same run, on one core of this process — JSON.parse of exactly the same bodies (Buffer → utf8
// string → JSON.parse; for --gzip also gunzip first), as the ratio end-to-end ÷ JSON.parse.
// Finally checks that the server stores exactly the acknowledged points. One JSON line per run on
// stdout (and appended to --json-out), a readable summary on stderr; exit status 1 if any request
// failed or the stored count differs. See docs/benchmarks.md, "End-to-end ingest".
import * as fs from 'node:fs';
import * as os from 'node:os';
import { parseArgs } from 'node:util';
import * as zlib from 'node:zlib';
import { machine, median } from '../report.js';
import { runLoad, summarizeLatency } from './client.js';
import { buildRequest } from './http.js';
import { processCpuSeconds, processPeakRssBytes, processRunDelaySeconds, spawnServer, storedPoints, type SpawnedServer } from './server.js';
import { buildWorkload, type LoadFormat } from './workload.js';

const HELP = `Usage: npm run bench:load -- (--spawn [--threads N] | --url URL) [options]

Target
  --spawn                start dist/src/main.js on ephemeral ports with a fresh temp data dir; stop it at the end
  --threads N            server worker threads with --spawn (default 2)
  --server-arg A         extra server flag (repeatable), e.g. --server-arg=--sync --server-arg=never
  --server-node-arg A    extra node flag for the server (repeatable), e.g. --server-node-arg=--cpu-prof
  --keep-data            keep the spawned server's data dir
  --url URL              an already running server: http://127.0.0.1:PORT[/path] (path defaults per format)
  --server-pid PID       with --url: also record that process's CPU seconds and peak RSS

Workload (seeded, generated before timing)
  --format F             kairosdb (POST /api/v1/datapoints, ms) | opentsdb (POST /api/put, s); default kairosdb
  --hosts N | --series N series = hosts x 10 cpu fields (default 1000 hosts = 10,000 series)
  --points N             total points, rounded up to whole timestamps (default 2,000,000)
  --batch N              points per request (default 5000)
  --gzip                 gzip bodies (Content-Encoding: gzip); --gzip-level L (default 6)
  --precision D          round values to D decimals (default: full float64 precision, like TSBS)
  --seed N --interval S --start ISO --metric-prefix P   (defaults 1, 10, 2024-01-01T00:00:00Z, cpu)

Load
  --concurrency N        keep-alive connections, one request in flight each (default 4)
  --rate R               open loop: offer R points/s; latency counts from each request's due time
  --baseline-passes N    JSON.parse passes over all bodies, half before and half after the load (default 2)
  --verify none          skip the stored-count check (default: KairosDB query sample_size)

Output
  --json-out FILE        append the result line to FILE; --label TEXT tags it
`;

interface Baseline {
  /** Points/s of each pass. */
  readonly passes: number[];
  readonly pointsPerS: number;
  readonly bytesPerS: number;
  readonly sink: number;
}

/** One pass of `fn` over every body, timed as a whole; points/s. */
function baselinePass(bodies: readonly Buffer[], points: number, fn: (b: Buffer) => number): { pointsPerS: number; bytesPerS: number; sink: number } {
  let sink = 0;
  let bytes = 0;
  const t0 = performance.now();
  for (const b of bodies) {
    sink += fn(b);
    bytes += b.length;
  }
  const s = (performance.now() - t0) / 1000;
  return { pointsPerS: points / s, bytesPerS: bytes / s, sink };
}

const jsonParse = (b: Buffer): number => (JSON.parse(b.toString('utf8')) as unknown[]).length;
const gunzipJsonParse = (b: Buffer): number => (JSON.parse(zlib.gunzipSync(b).toString('utf8')) as unknown[]).length;

function int(v: string | undefined, name: string, dflt: number): number {
  if (v === undefined) return dflt;
  const n = Number(v.replaceAll('_', '').replaceAll(',', ''));
  if (!Number.isFinite(n) || n < 0) throw new Error(`--${name}: not a non-negative number: ${v}`);
  return n;
}

async function main(): Promise<number> {
  const { values: a } = parseArgs({
    options: {
      spawn: { type: 'boolean' },
      threads: { type: 'string' },
      'server-arg': { type: 'string', multiple: true },
      'server-node-arg': { type: 'string', multiple: true },
      'keep-data': { type: 'boolean' },
      url: { type: 'string' },
      'server-pid': { type: 'string' },
      format: { type: 'string' },
      hosts: { type: 'string' },
      series: { type: 'string' },
      points: { type: 'string' },
      batch: { type: 'string' },
      gzip: { type: 'boolean' },
      'gzip-level': { type: 'string' },
      precision: { type: 'string' },
      seed: { type: 'string' },
      interval: { type: 'string' },
      start: { type: 'string' },
      'metric-prefix': { type: 'string' },
      concurrency: { type: 'string' },
      rate: { type: 'string' },
      'baseline-passes': { type: 'string' },
      verify: { type: 'string' },
      'json-out': { type: 'string' },
      label: { type: 'string' },
      help: { type: 'boolean' },
    },
    strict: true,
  });
  if (a.help) {
    process.stderr.write(HELP);
    return 0;
  }
  if (a.spawn === (a.url !== undefined)) throw new Error('give exactly one of --spawn and --url (see --help)');
  const format = (a.format ?? 'kairosdb') as LoadFormat;
  if (format !== 'kairosdb' && format !== 'opentsdb') throw new Error(`--format: kairosdb or opentsdb, got ${a.format}`);
  if (a.hosts !== undefined && a.series !== undefined) throw new Error('give --hosts or --series, not both');
  const seriesWanted = a.series === undefined ? undefined : int(a.series, 'series', 0);
  if (seriesWanted !== undefined && seriesWanted % 10 !== 0) throw new Error('--series must be a multiple of 10 (hosts x 10 cpu fields)');
  const hosts = seriesWanted !== undefined ? seriesWanted / 10 : int(a.hosts, 'hosts', 1000);
  const batch = int(a.batch, 'batch', 5000);
  const concurrency = int(a.concurrency, 'concurrency', 4);
  const rate = a.rate === undefined ? undefined : int(a.rate, 'rate', 0);
  const gzip = a.gzip === true;
  const gzipLevel = int(a['gzip-level'], 'gzip-level', 6);
  const precision = a.precision === undefined ? undefined : int(a.precision, 'precision', 0);
  const seed = int(a.seed, 'seed', 1);
  const intervalS = int(a.interval, 'interval', 10);
  const startMs = a.start === undefined ? Date.UTC(2024, 0, 1) : Date.parse(a.start);
  if (!Number.isFinite(startMs)) throw new Error(`--start: not a date: ${a.start}`);
  const metricPrefix = a['metric-prefix'] ?? 'cpu';
  const threads = int(a.threads, 'threads', 2);
  const baselinePasses = Math.max(1, int(a['baseline-passes'], 'baseline-passes', 2));
  const verify = (a.verify ?? 'kairosdb') !== 'none';
  if (a.verify !== undefined && a.verify !== 'none' && a.verify !== 'kairosdb') throw new Error(`--verify: kairosdb or none, got ${a.verify}`);
  if (concurrency < 1 || batch < 1 || hosts < 1) throw new Error('--concurrency, --batch and --hosts must be ≥ 1');
  if (rate !== undefined && rate <= 0) throw new Error('--rate must be > 0');
  const log = (s: string): void => void process.stderr.write(`${s}\n`);

  // Target.
  let server: SpawnedServer | undefined;
  let host: string;
  let port: number;
  let reqPath = format === 'kairosdb' ? '/api/v1/datapoints' : '/api/put';
  let serverPid: number | undefined;
  if (a.spawn) {
    server = await spawnServer({ threads, nodeArgs: a['server-node-arg'] ?? [], serverArgs: a['server-arg'] ?? [] });
    host = '127.0.0.1';
    port = server.http;
    serverPid = server.pid;
    log(`spawned server pid ${server.pid} on :${port} (--threads ${threads}, data ${server.dataDir})`);
  } else {
    const u = new URL(a.url!);
    if (u.protocol !== 'http:') throw new Error('--url must be http://');
    host = u.hostname;
    port = Number(u.port || 80);
    if (u.pathname !== '/' && u.pathname !== '') reqPath = u.pathname;
    serverPid = a['server-pid'] === undefined ? undefined : int(a['server-pid'], 'server-pid', 0);
  }

  try {
    // Workload and request bytes, all before timing.
    const tGen = performance.now();
    const w = buildWorkload({ format, hosts, points: int(a.points, 'points', 2_000_000), batch, seed, startMs, intervalS, precision, metricPrefix });
    const rawBytes = w.bodies.reduce((s, b) => s + b.length, 0);
    const gzBodies = gzip ? w.bodies.map((b) => zlib.gzipSync(b, { level: gzipLevel })) : undefined;
    const headers: [string, string][] = gzip ? [['Content-Encoding', 'gzip']] : [];
    const hostHeader = `${host}:${port}`;
    const requests = (gzBodies ?? w.bodies).map((body) => buildRequest({ path: reqPath, host: hostHeader, body, headers }));
    const wireBytes = requests.reduce((s, r) => s + r.length, 0);
    const genS = (performance.now() - tGen) / 1000;
    log(
      `workload: ${w.points.toLocaleString('en-US')} points, ${w.series.length.toLocaleString('en-US')} series × ${w.timestamps.toLocaleString('en-US')} timestamps, ${w.bodies.length.toLocaleString('en-US')} requests of ≤ ${batch} points; ` +
        `${(rawBytes / 2 ** 20).toFixed(1)} MiB JSON (${(rawBytes / w.points).toFixed(1)} B/point)` +
        (gzBodies ? `, ${(gzBodies.reduce((s, b) => s + b.length, 0) / 2 ** 20).toFixed(1)} MiB gzipped` : '') +
        `; built in ${genS.toFixed(1)} s`,
    );

    // Same-run baselines on this process's one core: half the passes before the load, half after.
    const parsePasses: number[] = [];
    const gunzipPasses: number[] = [];
    let sink = 0;
    const runBaseline = (passes: number): void => {
      for (let p = 0; p < passes; p++) {
        const r = baselinePass(w.bodies, w.points, jsonParse);
        parsePasses.push(r.pointsPerS);
        sink += r.sink;
        if (gzBodies) {
          const g = baselinePass(gzBodies, w.points, gunzipJsonParse);
          gunzipPasses.push(g.pointsPerS);
          sink += g.sink;
        }
      }
    };
    runBaseline(Math.ceil(baselinePasses / 2));

    const storedBefore = verify ? await storedPoints(host, port, w.metrics, w.startMs, w.endMs) : undefined;
    if (storedBefore !== undefined && storedBefore > 0) {
      log(`note: the server already holds ${storedBefore} points of this workload's metrics and range; points sent again overwrite them, so the stored check will fail (use --start or --metric-prefix for fresh series)`);
    }

    // The timed phase.
    const cpu0 = process.cpuUsage();
    const srv0 = serverPid === undefined ? undefined : processCpuSeconds(serverPid);
    const wait0 = serverPid === undefined ? undefined : processRunDelaySeconds(serverPid);
    const clientWait0 = processRunDelaySeconds(process.pid);
    const outcome = await runLoad({ host, port, requests, pointsPerRequest: w.pointsPerBody, concurrency, ratePointsPerS: rate });
    const srv1 = serverPid === undefined ? undefined : processCpuSeconds(serverPid);
    const wait1 = serverPid === undefined ? undefined : processRunDelaySeconds(serverPid);
    const clientWait1 = processRunDelaySeconds(process.pid);
    const cpu = process.cpuUsage(cpu0);
    const wallS = outcome.wallMs / 1000;

    runBaseline(Math.floor(baselinePasses / 2));

    let storedAfter: number | undefined;
    let verifyError: string | undefined;
    if (verify) {
      try {
        storedAfter = await storedPoints(host, port, w.metrics, w.startMs, w.endMs);
      } catch (err) {
        verifyError = (err as Error).message;
      }
    }
    const peakRss = serverPid === undefined ? undefined : processPeakRssBytes(serverPid);

    const latency = summarizeLatency(outcome.latenciesMs);
    const pointsPerS = outcome.okPoints / wallS;
    const non2xx = Object.values(outcome.statusCounts).reduce((s, x) => s + x, 0);
    const parse = median(parsePasses);
    const gunzipParse = gzBodies ? median(gunzipPasses) : undefined;
    const serverCpuS = srv0 !== undefined && srv1 !== undefined ? srv1 - srv0 : undefined;
    const clientCpuS = (cpu.user + cpu.system) / 1e6;
    const serverRunDelayS = wait0 !== undefined && wait1 !== undefined ? wait1 - wait0 : undefined;
    const clientRunDelayS = clientWait0 !== undefined && clientWait1 !== undefined ? clientWait1 - clientWait0 : undefined;
    const storedDelta = storedAfter !== undefined && storedBefore !== undefined ? storedAfter - storedBefore : undefined;
    const storedOk = !verify || storedDelta === outcome.okPoints;
    const ok = non2xx === 0 && outcome.transportErrors === 0 && storedOk;

    let serverExit: number | null | undefined;
    if (server) {
      serverExit = await server.stop();
      if (serverExit !== 0) log(`server exited with ${serverExit}; its stderr tail:\n${server.stderr().slice(-4000)}`);
    }

    const result = {
      tool: 'strata-bench-load',
      at: new Date().toISOString(),
      label: a.label,
      machine: machine(),
      config: {
        format,
        gzip,
        gzipLevel: gzip ? gzipLevel : undefined,
        batch,
        concurrency,
        mode: rate === undefined ? 'closed' : 'open',
        ratePointsPerS: rate,
        hosts,
        series: w.series.length,
        timestamps: w.timestamps,
        points: w.points,
        precision: precision ?? 'full',
        seed,
        intervalS,
        target: a.spawn ? { spawn: true, threads, serverArgs: a['server-arg'] ?? [], serverNodeArgs: a['server-node-arg'] ?? [] } : { url: a.url },
        path: reqPath,
      },
      bytes: { rawJson: rawBytes, rawJsonPerPoint: rawBytes / w.points, wire: wireBytes, sent: outcome.bytesSent },
      generationS: genS,
      result: {
        wallS,
        pointsPerS,
        okPoints: outcome.okPoints,
        requests: w.bodies.length,
        okRequests: outcome.okRequests,
        requestsPerS: outcome.okRequests / wallS,
        wireBytesPerS: outcome.bytesSent / wallS,
        non2xx,
        statusCounts: outcome.statusCounts,
        transportErrors: outcome.transportErrors,
        errorSamples: outcome.errorSamples,
        connections: outcome.connections,
        latencyMs: latency,
      },
      cpu: {
        clientS: clientCpuS,
        clientCores: clientCpuS / wallS,
        serverS: serverCpuS,
        serverCores: serverCpuS === undefined ? undefined : serverCpuS / wallS,
        serverPointsPerCpuS: serverCpuS === undefined ? undefined : outcome.okPoints / serverCpuS,
        serverPeakRssBytes: peakRss,
        // Time the threads were runnable but had no CPU (other processes, or each other).
        serverRunDelayS,
        clientRunDelayS,
      },
      baseline: {
        jsonParsePointsPerS: parse,
        jsonParsePasses: parsePasses,
        gunzipJsonParsePointsPerS: gunzipParse,
        gunzipJsonParsePasses: gzBodies ? gunzipPasses : undefined,
        sink,
      },
      ratio: {
        vsJsonParse: pointsPerS / parse,
        vsGunzipJsonParse: gunzipParse === undefined ? undefined : pointsPerS / gunzipParse,
      },
      verify: verify ? { storedBefore, storedAfter, stored: storedDelta, expected: outcome.okPoints, ok: storedOk, error: verifyError } : { skipped: true },
      serverExit,
      ok,
    };
    const line = JSON.stringify(result);
    process.stdout.write(`${line}\n`);
    if (a['json-out'] !== undefined) fs.appendFileSync(a['json-out'], `${line}\n`);

    const num = (x: number): string => (Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : String(x));
    const lat = (x: number): string => (x < 10 ? x.toFixed(2) : x.toFixed(0));
    log(
      [
        `${format}${gzip ? '+gzip' : ''} batch ${batch} × conc ${concurrency}${rate === undefined ? '' : ` @ ${num(rate)} pts/s offered`}: ` +
          `${num(pointsPerS)} points/s (${num(outcome.okRequests / wallS)} req/s, ${(outcome.bytesSent / wallS / 2 ** 20).toFixed(1)} MiB/s on the wire) over ${wallS.toFixed(2)} s`,
        `  JSON.parse of the same bodies, one core: ${num(parse)} points/s [${parsePasses.map(num).join(', ')}] → ratio ${(pointsPerS / parse).toFixed(3)}` +
          (gunzipParse === undefined ? '' : `; gunzip+JSON.parse ${num(gunzipParse)} points/s → ratio ${(pointsPerS / gunzipParse).toFixed(3)}`),
        `  latency ms: p50 ${lat(latency.p50Ms)}, p90 ${lat(latency.p90Ms)}, p99 ${lat(latency.p99Ms)}, p99.9 ${lat(latency.p999Ms)}, max ${lat(latency.maxMs)} (${latency.count} answered)`,
        `  CPU: client ${clientCpuS.toFixed(2)} s (${(clientCpuS / wallS).toFixed(2)} cores)` +
          (serverCpuS === undefined ? '' : `, server ${serverCpuS.toFixed(2)} s (${(serverCpuS / wallS).toFixed(2)} cores, ${num(outcome.okPoints / serverCpuS)} points per CPU-s)`) +
          (peakRss === undefined ? '' : `, server peak RSS ${(peakRss / 2 ** 20).toFixed(0)} MiB`) +
          (serverRunDelayS === undefined ? '' : `\n  waiting for a CPU while runnable: server threads ${serverRunDelayS.toFixed(2)} s, client ${clientRunDelayS?.toFixed(2) ?? '?'} s`),
        `  non-2xx: ${non2xx === 0 ? 0 : JSON.stringify(outcome.statusCounts)}, transport errors: ${outcome.transportErrors}` +
          (outcome.errorSamples.length > 0 ? `\n  first errors:\n    ${outcome.errorSamples.join('\n    ')}` : ''),
        verify
          ? `  stored: ${storedDelta === undefined ? `unknown (${verifyError})` : num(storedDelta)} of ${num(outcome.okPoints)} acknowledged → ${storedOk ? 'OK' : 'MISMATCH'}`
          : '  stored: not checked (--verify none)',
        `  load average ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}; ${ok ? 'OK' : 'FAILED'}`,
      ].join('\n'),
    );
    return ok ? 0 : 1;
  } finally {
    if (server) {
      await server.stop();
      if (!a['keep-data']) fs.rmSync(server.dataDir, { recursive: true, force: true });
    }
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`bench:load: ${(err as Error)?.stack ?? String(err)}\n`);
    process.exit(2);
  },
);
