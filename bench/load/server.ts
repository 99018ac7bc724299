// The load generator's view of the server: spawning a fresh one (dist/src/main.js on ephemeral
// ports and a fresh temporary data directory), its CPU seconds and peak RSS from /proc, and the
// stored-point count through the KairosDB query endpoint. Never on the timed path.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { listeningPorts } from '../../test/helpers/listening.js';

const here = path.dirname(fileURLToPath(import.meta.url));
/** dist/src/main.js (this file runs as dist/bench/load/server.js). */
export const MAIN_JS = path.resolve(here, '../../src/main.js');

export interface SpawnedServer {
  readonly pid: number;
  readonly http: number;
  /** The line-protocol port. */
  readonly telnet: number;
  readonly dataDir: string;
  readonly child: ChildProcess;
  /** SIGTERM, wait for exit (up to `timeoutMs`, then SIGKILL); resolves with the exit code. */
  stop(timeoutMs?: number): Promise<number | null>;
  /** Everything the server logged on stderr so far. */
  stderr(): string;
}

export async function spawnServer(options: { threads: number; nodeArgs?: readonly string[]; serverArgs?: readonly string[]; dataDir?: string }): Promise<SpawnedServer> {
  const dataDir = options.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'strata-load-'));
  const child = spawn(
    process.execPath,
    [
      ...(options.nodeArgs ?? []),
      MAIN_JS,
      '--http-port',
      '0',
      '--telnet-port',
      '0',
      '--host',
      '127.0.0.1',
      '--data-dir',
      dataDir,
      '--threads',
      String(options.threads),
      ...(options.serverArgs ?? []),
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let err = '';
  child.stderr!.on('data', (d: Buffer) => {
    // Keep the tail only: a long run logs a line per segment.
    err = (err + d.toString()).slice(-256 * 1024);
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const ports = await listeningPorts(child, exited, () => err);
  return {
    pid: child.pid!,
    http: ports.http,
    telnet: ports.telnet,
    dataDir,
    child,
    stderr: () => err,
    async stop(timeoutMs = 60_000) {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

let clockTicks: number | undefined;
function ticksPerSecond(): number {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

/** user + system CPU seconds of process `pid` (all its threads), or undefined if unreadable. */
export function processCpuSeconds(pid: number): number | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
    // Fields after the parenthesised command name: state is field 3, utime 14, stime 15.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(rest[11]) + Number(rest[12])) / ticksPerSecond();
  } catch {
    return undefined;
  }
}

/**
 * Seconds the threads of `pid` spent runnable but waiting for a CPU (sum of each thread's
 * /proc/PID/task/TID/schedstat run_delay), or undefined if unreadable. On a shared machine this is
 * how much CPU other processes (and the load generator) took from the server.
 */
export function processRunDelaySeconds(pid: number): number | undefined {
  try {
    let ns = 0;
    for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
      try {
        ns += Number(fs.readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'latin1').split(' ')[1]);
      } catch {
        // the thread exited between the listing and the read
      }
    }
    return Number.isFinite(ns) ? ns / 1e9 : undefined;
  } catch {
    return undefined;
  }
}

/** Peak resident set (VmHWM) of `pid` in bytes, or undefined. */
export function processPeakRssBytes(pid: number): number | undefined {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'latin1'));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

function postJson(host: string, port: number, urlPath: string, body: unknown, timeoutMs = 300_000): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const data = Buffer.from(JSON.stringify(body));
    const req = http.request(
      { host, port, method: 'POST', path: urlPath, agent: false, timeout: timeoutMs, headers: { 'Content-Type': 'application/json', 'Content-Length': data.length } },
      (res) => {
        const parts: Buffer[] = [];
        res.on('data', (d: Buffer) => parts.push(d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(parts).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`query timed out after ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(data);
  });
}

/**
 * Points stored for `metrics` in [startMs, endMs]: the sum of the KairosDB query's sample_size
 * (raw points scanned, before aggregation) over the metrics. A whole-range count aggregator keeps
 * the response small.
 */
export async function storedPoints(host: string, port: number, metrics: readonly string[], startMs: number, endMs: number): Promise<number> {
  const query = {
    start_absolute: startMs,
    end_absolute: endMs,
    metrics: metrics.map((name) => ({ name, aggregators: [{ name: 'count', sampling: { value: 1000, unit: 'years' } }] })),
  };
  const r = await postJson(host, port, '/api/v1/datapoints/query', query);
  if (r.status !== 200) throw new Error(`count query: HTTP ${r.status}: ${r.text.slice(0, 500)}`);
  const parsed = JSON.parse(r.text) as { queries?: { sample_size?: number }[] };
  const queries = parsed.queries ?? [];
  if (queries.length !== metrics.length) throw new Error(`count query: ${queries.length} results for ${metrics.length} metrics`);
  let sum = 0;
  for (const q of queries) sum += q.sample_size ?? 0;
  return sum;
}
