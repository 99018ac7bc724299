// Shared bench plumbing: operations/s out of a tinybench task, and the JSON results file.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Bench } from 'tinybench';

/** Mean operations per second of a finished task, 0 if it failed. */
export function opsPerSecond(bench: Bench, name: string): number {
  const task = bench.getTask(name);
  const result = task?.result as { throughput?: { mean: number } } | undefined;
  return result?.throughput?.mean ?? 0;
}

/** Writes `bench/results/<suite>.json` (git-ignored) and returns its path. */
export function writeResults(suite: string, results: unknown): string {
  const dir = path.resolve('bench/results');
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${suite}.json`);
  fs.writeFileSync(file, `${JSON.stringify({ suite, at: new Date().toISOString(), node: process.version, results }, null, 2)}\n`);
  return file;
}
