// Append throughput: pre-built columnar batches (5,000 points over 10,000 devops series) into a
// shard's mapped segment, points/s on one core. Same-run baselines: a plain copy of the batch's
// columns (the memory-bandwidth floor) and JSON.parse of the same points as an OpenTSDB body
// (what a naive server spends before it has stored anything). Data is built before timing.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Bench } from 'tinybench';
import { ShardWriter, type WriteBatch } from '../engine/index.js';
import { devopsBatch } from '../test/helpers/batches.js';
import { opsPerSecond, writeResults } from './report.js';

const BATCH_POINTS = 5_000;
const HOSTS = 1_000; // × 10 fields = 10,000 series

function sliceBatch(all: WriteBatch, from: number, to: number): WriteBatch {
  return {
    length: to - from,
    series: all.series,
    seriesIndex: all.seriesIndex.subarray(from, to),
    timestampsMs: all.timestampsMs.subarray(from, to),
    kinds: all.kinds.subarray(from, to),
    floats: all.floats.subarray(from, to),
    ints: all.ints,
    texts: all.texts,
  };
}

function openTsdbBody(b: WriteBatch): string {
  const out = [];
  for (let i = 0; i < b.length; i++) {
    const s = b.series[b.seriesIndex[i]!]!;
    out.push({ metric: s.metric, timestamp: b.timestampsMs[i]! / 1000, value: b.floats[i]!, tags: s.tags });
  }
  return JSON.stringify(out);
}

export async function main(): Promise<Record<string, number>> {
  // 10,000 series × 50 timestamps = 500,000 points = 100 batches, then cycled.
  const all = devopsBatch(HOSTS, 50, Date.UTC(2024, 0, 1), 10_000);
  const batches: WriteBatch[] = [];
  for (let from = 0; from < all.length; from += BATCH_POINTS) batches.push(sliceBatch(all, from, from + BATCH_POINTS));
  const bodies = batches.slice(0, 4).map(openTsdbBody);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-bench-append-'));
  const writer = ShardWriter.open({ dir, shardId: 0, syncPolicy: 'never', segmentBytes: 256 * 1024 * 1024 });
  let next = 0;
  let sink = 0;

  const bench = new Bench({ time: 2_000, warmupTime: 300 });
  bench
    .add('append 5,000-point batch (10k series)', () => {
      sink += writer.append(batches[next++ % batches.length]!).points;
    })
    .add('baseline: copy batch columns', () => {
      const b = batches[next++ % batches.length]!;
      sink += b.timestampsMs.slice().length + b.floats.slice().length + b.seriesIndex.slice().length + b.kinds.slice().length;
    })
    .add('baseline: JSON.parse OpenTSDB body (5,000 points)', () => {
      sink += (JSON.parse(bodies[next++ % bodies.length]!) as unknown[]).length;
    });
  await bench.run();
  writer.close();
  fs.rmSync(dir, { recursive: true, force: true });

  const names = bench.tasks.map((t) => t.name);
  const perSec = Object.fromEntries(names.map((n) => [n, opsPerSecond(bench, n) * BATCH_POINTS]));
  console.table(names.map((n) => ({ task: n, 'points/s': Math.round(perSec[n]!).toLocaleString('en-US') })));
  const append = perSec[names[0]!]!;
  const parse = perSec[names[2]!]!;
  console.log(`append / JSON.parse: ${(append / parse).toFixed(2)}x (sink ${sink > 0})`);
  const results = { appendPointsPerSec: append, copyPointsPerSec: perSec[names[1]!]!, jsonParsePointsPerSec: parse, appendOverJsonParse: append / parse };
  writeResults('append', results);
  return results;
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
