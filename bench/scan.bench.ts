// Scan speed: points/s read, decoded and merged by Engine.scan for one series over a day
// (8,640 points at 10 s) and for 10,000 series over an hour (360 points each), first from the
// ingest segments as 5,000-point appends wrote them, then after compaction. Same-run baselines,
// alternated with the scans in every round: JSON.parse of a KairosDB query response holding the
// same points (what a client pays to read them) and a memcpy of the returned columns.
// Data is written (fixed seed) before timing.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Bench } from 'tinybench';
import { Engine, ShardWriter, shardDirectory, type SeriesPoints, type WriteBatch } from '../engine/index.js';
import { devopsBatch } from '../test/helpers/batches.js';
import { sliceBatches } from './data.js';
import { fmtSpread, isEntry, ratios, runRounds, spread, writeResults, type Spread } from './report.js';

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;
const START_MS = Date.UTC(2024, 0, 1);
const HOUR_START_MS = START_MS + DAY_MS;
const ROUNDS = 2;
/** Series of the hour response parsed by the JSON baseline (its rate is per point). */
const JSON_HOUR_SERIES = 1_000;

const T = {
  day: 'scan 1 series × 1 day',
  hour: 'scan 10,000 series × 1 hour',
  jsonDay: 'baseline: JSON.parse KairosDB response, 1 series × 1 day',
  jsonHour: `baseline: JSON.parse KairosDB response, ${JSON_HOUR_SERIES.toLocaleString('en-US')} series × 1 hour`,
  copyDay: 'baseline: memcpy of the day\'s columns (16 B/point)',
} as const;

function appendAll(writer: ShardWriter, all: WriteBatch): void {
  for (const b of sliceBatches(all, 5_000)) writer.append(b);
}

/** KairosDB query response (`POST /api/v1/datapoints/query`) holding the given series' points. */
function kairosDbResponse(series: readonly SeriesPoints[]): string {
  const results = series.map((s) => ({
    name: s.key.metric,
    group_by: [{ name: 'type', type: 'number' }],
    tags: Object.fromEntries(Object.entries(s.key.tags).map(([k, v]) => [k, [v]])),
    values: Array.from(s.timestampsMs, (t, i) => [t, s.floats[i]]),
  }));
  const sampleSize = series.reduce((n, s) => n + s.length, 0);
  return JSON.stringify({ queries: [{ sample_size: sampleSize, results }] });
}

interface StageFigures {
  dayPointsPerSec: Spread;
  hourPointsPerSec: Spread;
  dayOverJson: Spread;
  hourOverJson: Spread;
  dayOverCopy: Spread;
}

/** Times both scans over `dataDir` as it is now, with their baselines. */
async function measure(dataDir: string, label: string, baselines: { jsonDay: string; jsonHour: string; jsonHourPoints: number }): Promise<StageFigures> {
  const engine = Engine.open({ dataDir, owner: false });
  const oneSeries = engine.select({ metric: 'cpu.usage_user', tags: { hostname: ['host_0'] } }).subarray(0, 1);
  const hourSeries = engine.catalog.select({}); // the day's host is one of the hour's 1,000
  const day = engine.scan(oneSeries, START_MS, START_MS + DAY_MS - 1);
  const dayPoints = day[0]!.length;
  const hourPoints = engine.scan(hourSeries, HOUR_START_MS, HOUR_START_MS + HOUR_MS - 1).reduce((n, s) => n + s.length, 0);
  if (dayPoints !== DAY_MS / 10_000 || hourPoints !== 10_000 * (HOUR_MS / 10_000)) throw new Error(`scan returned ${dayPoints} / ${hourPoints} points`);
  const copy = new Uint8Array(dayPoints * 16);
  let sink = 0;

  const fast = (): Bench =>
    new Bench({ time: 1_500, warmupTime: 200 })
      .add(T.day, () => {
        sink += engine.scan(oneSeries, START_MS, START_MS + DAY_MS - 1)[0]!.length;
      })
      .add(T.jsonDay, () => {
        sink += (JSON.parse(baselines.jsonDay) as { queries: unknown[] }).queries.length;
      })
      // Parsing the hour sample takes ~0.1-0.3 s and swings with GC: timed, not 3 iterations.
      .add(T.jsonHour, () => {
        sink += (JSON.parse(baselines.jsonHour) as { queries: unknown[] }).queries.length;
      })
      .add(T.copyDay, () => {
        const s = day[0]!;
        copy.set(new Uint8Array(s.timestampsMs.buffer, s.timestampsMs.byteOffset, s.timestampsMs.byteLength), 0);
        copy.set(new Uint8Array(s.floats.buffer, s.floats.byteOffset, s.floats.byteLength), s.timestampsMs.byteLength);
        sink += copy[copy.length - 1]!;
      });
  // Each hour scan takes seconds: a fixed, small number of iterations instead of a time budget.
  const heavy = (): Bench =>
    new Bench({ time: 0, iterations: 3, warmupIterations: 1, warmupTime: 0 })
      .add(T.hour, () => {
        sink += engine.scan(hourSeries, HOUR_START_MS, HOUR_START_MS + HOUR_MS - 1).length;
      });
  const f = await runRounds(fast, ROUNDS);
  const h = await runRounds(heavy, ROUNDS);
  engine.close();

  const per = (ops: number[], points: number): number[] => ops.map((o) => o * points);
  const dayPts = per(f.get(T.day)!, dayPoints);
  const jsonDayPts = per(f.get(T.jsonDay)!, dayPoints);
  const copyDayPts = per(f.get(T.copyDay)!, dayPoints);
  const hourPts = per(h.get(T.hour)!, hourPoints);
  const jsonHourPts = per(f.get(T.jsonHour)!, baselines.jsonHourPoints);
  const figures: StageFigures = {
    dayPointsPerSec: spread(dayPts),
    hourPointsPerSec: spread(hourPts),
    dayOverJson: spread(ratios(dayPts, jsonDayPts)),
    hourOverJson: spread(ratios(hourPts, jsonHourPts)),
    dayOverCopy: spread(ratios(dayPts, copyDayPts)),
  };
  console.log(`\n${label} (sink ${sink > 0})`);
  console.table([
    { task: `${T.day} (${dayPoints} points)`, 'points/s': fmtSpread(figures.dayPointsPerSec), '÷ JSON.parse': fmtSpread(figures.dayOverJson), '÷ memcpy': fmtSpread(figures.dayOverCopy) },
    { task: `${T.hour} (${hourPoints} points)`, 'points/s': fmtSpread(figures.hourPointsPerSec), '÷ JSON.parse': fmtSpread(figures.hourOverJson), '÷ memcpy': '' },
    { task: T.jsonDay, 'points/s': fmtSpread(spread(jsonDayPts)), '÷ JSON.parse': '', '÷ memcpy': '' },
    { task: T.jsonHour, 'points/s': fmtSpread(spread(jsonHourPts)), '÷ JSON.parse': '', '÷ memcpy': '' },
    { task: T.copyDay, 'points/s': fmtSpread(spread(copyDayPts)), '÷ JSON.parse': '', '÷ memcpy': '' },
  ]);
  return figures;
}

export async function main(): Promise<Record<string, unknown>> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-bench-scan-'));
  const dir = shardDirectory(dataDir, 0);
  let writer = ShardWriter.open({ dir, shardId: 0, syncPolicy: 'never' });
  // One host (10 series) for a day, then 1,000 hosts (10,000 series) for an hour the day after,
  // each written in time order as 5,000-point appends listing only their own series.
  appendAll(writer, devopsBatch(1, DAY_MS / 10_000, START_MS, 10_000, 3));
  appendAll(writer, devopsBatch(1_000, HOUR_MS / 10_000, HOUR_START_MS, 10_000, 4));
  writer.close();

  // The JSON baselines carry exactly the points the scans return.
  const probe = Engine.open({ dataDir, owner: false });
  const daySeries = probe.scan(probe.select({ metric: 'cpu.usage_user', tags: { hostname: ['host_0'] } }).subarray(0, 1), START_MS, START_MS + DAY_MS - 1);
  const hourSample = probe.scan(probe.catalog.select({}).subarray(0, JSON_HOUR_SERIES), HOUR_START_MS, HOUR_START_MS + HOUR_MS - 1);
  const baselines = {
    jsonDay: kairosDbResponse(daySeries),
    jsonHour: kairosDbResponse(hourSample),
    jsonHourPoints: hourSample.reduce((n, s) => n + s.length, 0),
  };
  probe.close();

  const ingest = await measure(dataDir, 'from ingest segments (as appended)', baselines);
  writer = ShardWriter.open({ dir, shardId: 0, syncPolicy: 'never' });
  writer.roll();
  const compaction = writer.compact({ tombstones: [] });
  writer.close();
  const compacted = await measure(dataDir, `after compaction (${compaction.outputs.length} segments)`, baselines);
  fs.rmSync(dataDir, { recursive: true, force: true });

  const results = { rounds: ROUNDS, ingest, compacted };
  writeResults('scan', results);
  return results;
}

if (isEntry(import.meta.url)) await main();
