// Shared bench plumbing: operations/s out of a tinybench task, rounds of a bench with per-round
// ratios to a same-run baseline, machine facts, and the JSON results file. Never times anything
// itself and never generates data.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Bench } from 'tinybench';

/** Mean operations per second of a finished task (runs / total time), 0 if it failed. */
export function opsPerSecond(bench: Bench, name: string): number {
  const ms = periodMs(bench, name);
  return ms > 0 ? 1000 / ms : 0;
}

/** Mean time of one operation in ms (total time / runs), 0 if the task failed. */
export function periodMs(bench: Bench, name: string): number {
  const result = bench.getTask(name)?.result as { period?: number } | undefined;
  return result?.period ?? 0;
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** A figure measured once per round: the median and the range over the rounds. */
export interface Spread {
  readonly median: number;
  readonly min: number;
  readonly max: number;
  readonly rounds: readonly number[];
}

export function spread(xs: readonly number[]): Spread {
  return { median: median(xs), min: Math.min(...xs), max: Math.max(...xs), rounds: xs };
}

/**
 * Runs `build()`'s bench `rounds` times (a fresh Bench each round, so the subject and its
 * baseline alternate and a burst of load from other processes hits one round, not one task) and
 * returns each task's operations/s per round, by task name.
 */
export async function runRounds(build: () => Bench, rounds: number): Promise<Map<string, number[]>> {
  const out = new Map<string, number[]>();
  for (let r = 0; r < rounds; r++) {
    const bench = build();
    await bench.run();
    for (const task of bench.tasks) {
      if (task.result?.state === 'errored') throw new Error(`bench task '${task.name}' failed: ${String((task.result as { error?: unknown }).error)}`);
      const list = out.get(task.name) ?? [];
      list.push(opsPerSecond(bench, task.name));
      out.set(task.name, list);
    }
  }
  return out;
}

/** Per-round ratio a[i] / b[i] of two tasks' rounds (same length). */
export function ratios(a: readonly number[], b: readonly number[]): number[] {
  return a.map((x, i) => x / b[i]!);
}

/** Formats a number for tables: thousands separators at ≥ 1000, else 3 significant digits. */
export function fmt(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  return Math.abs(v) >= 1000 ? Math.round(v).toLocaleString('en-US') : v.toPrecision(3);
}

/** "median (min–max)" of a spread, formatted with fmt. */
export function fmtSpread(s: Spread): string {
  return s.rounds.length > 1 ? `${fmt(s.median)} (${fmt(s.min)}–${fmt(s.max)})` : fmt(s.median);
}

/** What the figures were measured on; stored with every results file. */
export function machine(): Record<string, unknown> {
  return {
    cpus: os.availableParallelism(),
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    node: process.version,
    loadAverage1m: os.loadavg()[0],
    totalMemBytes: os.totalmem(),
  };
}

/** Writes `bench/results/<suite>.json` (git-ignored) and returns its path. */
export function writeResults(suite: string, results: unknown): string {
  const dir = path.resolve('bench/results');
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${suite}.json`);
  fs.writeFileSync(file, `${JSON.stringify({ suite, at: new Date().toISOString(), machine: machine(), results }, null, 2)}\n`);
  return file;
}

/** Whether this module's file is the process entry (a suite run directly with node). */
export function isEntry(metaUrl: string): boolean {
  return process.argv[1] !== undefined && metaUrl === `file://${path.resolve(process.argv[1])}`;
}
