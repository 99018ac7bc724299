// Scan speed: points/s decoded and merged for one series over a day (8,640 points at 10 s) and
// for 10,000 series over an hour (360 points each), from ingest segments as written by 5,000-point
// appends. Same-run baseline: JSON.parse of a KairosDB-style query response holding the same
// points (what a client pays to read them). Data is written before timing.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Bench } from 'tinybench';
import { Engine, ShardWriter, shardDirectory, type WriteBatch } from '../engine/index.js';
import { devopsBatch } from '../test/helpers/batches.js';
import { opsPerSecond, writeResults } from './report.js';

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;
const START_MS = Date.UTC(2024, 0, 1);

function appendInSlices(writer: ShardWriter, all: WriteBatch, points: number): void {
  for (let from = 0; from < all.length; from += points) {
    const to = Math.min(all.length, from + points);
    writer.append({
      length: to - from,
      series: all.series,
      seriesIndex: all.seriesIndex.subarray(from, to),
      timestampsMs: all.timestampsMs.subarray(from, to),
      kinds: all.kinds.subarray(from, to),
      floats: all.floats.subarray(from, to),
      ints: all.ints,
      texts: all.texts,
    });
  }
}

export async function main(): Promise<Record<string, number>> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-bench-scan-'));
  const writer = ShardWriter.open({ dir: shardDirectory(dataDir, 0), shardId: 0, syncPolicy: 'never' });
  // One host (10 series) for a day, written in time order as 5,000-point appends.
  appendInSlices(writer, devopsBatch(1, DAY_MS / 10_000, START_MS, 10_000, 3), 5_000);
  // 1,000 hosts (10,000 series) for an hour, the day after.
  const hourStart = START_MS + DAY_MS;
  appendInSlices(writer, devopsBatch(1_000, HOUR_MS / 10_000, hourStart, 10_000, 4), 5_000);
  writer.close();

  const engine = Engine.open({ dataDir, owner: false });
  const oneSeries = engine.select({ metric: 'cpu.usage_user', tags: { hostname: ['host_0'] } }).subarray(0, 1);
  const allSeries = engine.catalog.select({});
  const daySeries = engine.scan(oneSeries, START_MS, START_MS + DAY_MS - 1);
  const dayPoints = daySeries[0]!.length;
  const hourPoints = engine.scan(allSeries, hourStart, hourStart + HOUR_MS - 1).reduce((n, s) => n + s.length, 0);
  const dayJson = JSON.stringify([{ name: 'cpu.usage_user', values: Array.from(daySeries[0]!.timestampsMs, (t, i) => [t, daySeries[0]!.floats[i]]) }]);
  let sink = 0;

  const bench = new Bench({ time: 2_000, warmupTime: 200 });
  bench
    .add('scan 1 series x 1 day', () => {
      sink += engine.scan(oneSeries, START_MS, START_MS + DAY_MS - 1)[0]!.length;
    })
    .add('scan 10,000 series x 1 hour', () => {
      sink += engine.scan(allSeries, hourStart, hourStart + HOUR_MS - 1).length;
    })
    .add('baseline: JSON.parse 1 series x 1 day response', () => {
      sink += (JSON.parse(dayJson) as unknown[]).length;
    });
  await bench.run();
  fs.rmSync(dataDir, { recursive: true, force: true });

  const day = opsPerSecond(bench, 'scan 1 series x 1 day') * dayPoints;
  const hour = opsPerSecond(bench, 'scan 10,000 series x 1 hour') * hourPoints;
  const parse = opsPerSecond(bench, 'baseline: JSON.parse 1 series x 1 day response') * dayPoints;
  console.table([
    { task: `scan 1 series x 1 day (${dayPoints} points)`, 'points/s': Math.round(day).toLocaleString('en-US') },
    { task: `scan 10,000 series x 1 hour (${hourPoints} points)`, 'points/s': Math.round(hour).toLocaleString('en-US') },
    { task: 'baseline: JSON.parse of the day as a response', 'points/s': Math.round(parse).toLocaleString('en-US') },
  ]);
  console.log(`scan day / JSON.parse: ${(day / parse).toFixed(2)}x (sink ${sink > 0})`);
  const results = { dayPointsPerSec: day, hourPointsPerSec: hour, jsonParsePointsPerSec: parse, dayPoints, hourPoints };
  writeResults('scan', results);
  return results;
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
