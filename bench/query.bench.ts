// KairosDB query speed: points/s through `sum` with 1-minute sampling over 1,000 series × 1 hour
// (10 s interval, 360,000 points merged into one group), end to end (select, scan, merge,
// aggregate, encode) and for merge + aggregation alone on pre-scanned series; plus raw points of
// 10 series without aggregators. Same-run baseline, alternated with the subjects in every round:
// Engine.scan of the same 1,000 series and range. Data is written (fixed seed) before timing.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Bench } from 'tinybench';
import { Engine, ShardWriter, shardDirectory, type SeriesKey, type WriteBatch } from '../engine/index.js';
import { parseKairosQuery } from '../src/protocols/kairosdb/query.js';
import { aggregate } from '../src/query/aggregators.js';
import { groupByTypeAndTag, splitByType } from '../src/query/group-by.js';
import { runKairosQuery } from '../src/query/kairosdb.js';
import { seededRandom } from '../test/helpers/batches.js';
import { sliceBatches } from './data.js';
import { fmtSpread, isEntry, ratios, runRounds, spread, writeResults } from './report.js';

const HOUR_MS = 3_600_000;
const INTERVAL_MS = 10_000;
const SERIES = 1_000;
const RAW_SERIES = 10;
const START_MS = Date.UTC(2024, 0, 1);
const END_MS = START_MS + HOUR_MS - 1;
const ROUNDS = 2;

const T = {
  scan: 'baseline: Engine.scan 1,000 series × 1 hour',
  query: 'query: sum 1 min, 1,000 series × 1 hour, end to end',
  merge: 'merge + sum 1 min of pre-scanned series',
  raw: 'query: raw points of 10 series × 1 hour, end to end',
} as const;

/** `series` hosts of metric "cpu" × one hour at 10 s, values a 2-decimal random walk, time-major. */
function hourBatch(series: number, seed: number): WriteBatch {
  const rnd = seededRandom(seed);
  const keys: SeriesKey[] = [];
  for (let h = 0; h < series; h++) keys.push({ metric: 'cpu', tags: { host: `host_${h}`, dc: `dc_${h % 13}` } });
  const steps = HOUR_MS / INTERVAL_MS;
  const n = series * steps;
  const seriesIndex = new Uint32Array(n);
  const timestampsMs = new Float64Array(n);
  const floats = new Float64Array(n);
  const level = keys.map(() => rnd() * 100);
  let i = 0;
  for (let k = 0; k < steps; k++) {
    for (let s = 0; s < series; s++) {
      level[s] = Math.min(100, Math.max(0, level[s]! + (rnd() - 0.5) * 4));
      seriesIndex[i] = s;
      timestampsMs[i] = START_MS + k * INTERVAL_MS;
      floats[i] = Math.round(level[s]! * 100) / 100;
      i++;
    }
  }
  return { length: n, series: keys, seriesIndex, timestampsMs, kinds: new Uint8Array(n), floats, ints: new BigInt64Array(0), texts: [] };
}

export async function main(): Promise<Record<string, unknown>> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-bench-query-'));
  const writer = ShardWriter.open({ dir: shardDirectory(dataDir, 0), shardId: 0, syncPolicy: 'never' });
  for (const b of sliceBatches(hourBatch(SERIES, 7), 5_000)) writer.append(b);
  writer.close();

  const engine = Engine.open({ dataDir, owner: false });
  const ids = engine.select({ metric: 'cpu' });
  const scanned = engine.scan(ids, START_MS, END_MS);
  const points = scanned.reduce((n, s) => n + s.length, 0);
  if (points !== SERIES * (HOUR_MS / INTERVAL_MS)) throw new Error(`scan returned ${points} points`);
  const nowMs = START_MS + 2 * HOUR_MS;
  const sumQuery = parseKairosQuery(
    {
      start_absolute: START_MS,
      end_absolute: END_MS,
      metrics: [{ name: 'cpu', aggregators: [{ name: 'sum', sampling: { value: '1', unit: 'minutes' }, align_sampling: true }] }],
    },
    nowMs,
  );
  const sumSpec = sumQuery.metrics[0]!.aggregators[0]!;
  const ctx = { nowMs, maxPoints: 20_000_000, saveAs: undefined, group: { name: 'cpu', tags: new Map<string, Set<string>>() } };
  const rawHosts = Array.from({ length: RAW_SERIES }, (_, h) => `host_${h}`);
  const rawQuery = parseKairosQuery({ start_absolute: START_MS, end_absolute: END_MS, metrics: [{ name: 'cpu', tags: { host: rawHosts } }] }, nowMs);
  const rawPoints = RAW_SERIES * (HOUR_MS / INTERVAL_MS);
  let sink = 0;

  const build = (): Bench =>
    new Bench({ time: 1_500, warmupTime: 200 })
      .add(T.scan, () => {
        sink += engine.scan(ids, START_MS, END_MS).length;
      })
      .add(T.query, () => {
        sink += runKairosQuery(engine, sumQuery).length;
      })
      .add(T.merge, () => {
        const groups = groupByTypeAndTag(splitByType(scanned), undefined, 'asc');
        sink += aggregate(sumSpec, groups[0]!.points, ctx).length;
      })
      .add(T.raw, () => {
        sink += runKairosQuery(engine, rawQuery).length;
      });
  const r = await runRounds(build, ROUNDS);
  engine.close();
  fs.rmSync(dataDir, { recursive: true, force: true });

  const per = (ops: number[], n: number): number[] => ops.map((o) => o * n);
  const scanPts = per(r.get(T.scan)!, points);
  const queryPts = per(r.get(T.query)!, points);
  const mergePts = per(r.get(T.merge)!, points);
  const rawPts = per(r.get(T.raw)!, rawPoints);
  const results = {
    rounds: ROUNDS,
    points,
    rawPoints,
    scanPointsPerSec: spread(scanPts),
    sumQueryPointsPerSec: spread(queryPts),
    mergeSumPointsPerSec: spread(mergePts),
    rawQueryPointsPerSec: spread(rawPts),
    sumQueryOverScan: spread(ratios(queryPts, scanPts)),
    mergeSumOverScan: spread(ratios(mergePts, scanPts)),
  };
  console.log(`(sink ${sink > 0})`);
  console.table([
    { task: `${T.scan} (${points} points)`, 'points/s': fmtSpread(results.scanPointsPerSec), '÷ scan': '' },
    { task: T.query, 'points/s': fmtSpread(results.sumQueryPointsPerSec), '÷ scan': fmtSpread(results.sumQueryOverScan) },
    { task: T.merge, 'points/s': fmtSpread(results.mergeSumPointsPerSec), '÷ scan': fmtSpread(results.mergeSumOverScan) },
    { task: `${T.raw} (${rawPoints} points)`, 'points/s': fmtSpread(results.rawQueryPointsPerSec), '÷ scan': '' },
  ]);
  writeResults('query', results);
  return results;
}

if (isEntry(import.meta.url)) await main();
