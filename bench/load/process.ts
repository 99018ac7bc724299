// Runs the load generator (bench/load/load.ts) as a child process and returns its JSON result
// line: the way bench/latency.ts and bench/sweep.ts take each measurement in a fresh process.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const LOAD_JS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), 'load.js');

/** The fields of a load.js result line the callers read. */
export interface LoadLine {
  readonly label: string;
  readonly config: { readonly batch: number; readonly concurrency: number };
  readonly result: {
    readonly pointsPerS: number;
    readonly non2xx: number;
    readonly statusCounts: Record<string, number>;
    readonly latencyMs: { readonly p50Ms: number; readonly p90Ms: number; readonly p99Ms: number; readonly p999Ms: number; readonly maxMs: number };
  };
  readonly cpu: { readonly serverS: number | null; readonly serverPointsPerCpuS: number | null; readonly serverPeakRssBytes: number | null };
  readonly verify?: { readonly ok: boolean };
  readonly ok: boolean;
}

/** `node load.js ARGS --label LABEL`; the result line is appended to `outFile` when given. */
export function runLoadProcess(args: readonly string[], label: string, outFile?: string): Promise<LoadLine> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [LOAD_JS, '--label', label, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('exit', () => {
      const line = out.trim().split('\n').pop() ?? '';
      try {
        const parsed = JSON.parse(line) as LoadLine;
        if (outFile !== undefined) fs.appendFileSync(outFile, `${line}\n`);
        resolve(parsed);
      } catch {
        reject(new Error(`${label}: no result line\n${err.slice(-2000)}`));
      }
    });
  });
}

/**
 * Warms a running server up with `points` OpenTSDB points of the same series a year before the
 * measured data (closed loop), so an open-loop measurement sees known series and optimized code
 * rather than a start-up (the first sight of 10,000 series costs each worker a few hundred ms).
 */
export async function warmUp(url: string, pid: number, points: number): Promise<void> {
  await runLoadProcess(['--format', 'opentsdb', '--url', url, '--server-pid', String(pid), '--verify', 'none', '--concurrency', '4', '--baseline-passes', '1', '--start', '2023-01-01T00:00:00Z', '--points', String(points)], 'warm-up');
}
