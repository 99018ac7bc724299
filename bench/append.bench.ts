// Append throughput of pre-built columnar batches into one shard's mapped segment, points/s on
// one core (the bench is single-threaded). Target: ≥ 10 M points/s/core for 5,000-point batches
// over 10,000 devops series. Same-run baselines, alternated with the subject in every round:
// JSON.parse of the equivalent KairosDB body and a memcpy of the batch's column bytes.
// All batches are generated (fixed seed) before timing; the writer is warmed up first, so timed
// appends are steady state: every series already known to the shard and defined in the segment.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Bench } from 'tinybench';
import { ShardWriter, type WriteBatch } from '../engine/index.js';
import { devopsBatch } from '../test/helpers/batches.js';
import { COLUMN_BYTES_PER_POINT, kairosDbBody, sliceBatches, subBatch } from './data.js';
import { fmt, fmtSpread, isEntry, ratios, runRounds, spread, writeResults } from './report.js';

const BATCH_POINTS = 5_000;
const HOSTS = 1_000; // × 10 cpu fields = 10,000 series
const SERIES = HOSTS * 10;
const TIMESTAMPS = 50; // 10,000 series × 50 = 500,000 points = 100 batches, then cycled
const ROUNDS = 3;
const TARGET_POINTS_PER_SEC = 10_000_000;

const T = {
  wide: 'append: 5,000 series × 1 point',
  narrow: 'append: 500 series × 10 points',
  freshParse: 'append: 5,000 series × 1 point, keys fresh from JSON.parse',
  keysParse: 'baseline: JSON.parse of the 5,000 keys alone',
  jsonWide: 'baseline: JSON.parse KairosDB body, 5,000 series × 1 point',
  jsonNarrow: 'baseline: JSON.parse KairosDB body, 500 series × 10 points',
  memcpy: 'baseline: memcpy of the batch columns (21 B/point)',
} as const;

/** Batches of 500 series × 10 timestamps: series group g, window w, points in time-major order. */
function narrowBatches(all: WriteBatch): WriteBatch[] {
  const group = BATCH_POINTS / 10;
  const out: WriteBatch[] = [];
  for (let w = 0; w < TIMESTAMPS / 10; w++) {
    for (let g = 0; g < SERIES / group; g++) {
      const idx = new Uint32Array(BATCH_POINTS);
      let j = 0;
      for (let k = w * 10; k < w * 10 + 10; k++) for (let s = g * group; s < (g + 1) * group; s++) idx[j++] = k * SERIES + s;
      out.push(subBatch(all, idx));
    }
  }
  return out;
}

export async function main(): Promise<Record<string, unknown>> {
  // devopsBatch lays points out time-major: point k·SERIES + s is series s at timestamp k, so a
  // 5,000-point slice holds one point of each of 5,000 series (half the hosts).
  const all = devopsBatch(HOSTS, TIMESTAMPS, Date.UTC(2024, 0, 1), 10_000);
  const wide = sliceBatches(all, BATCH_POINTS);
  const narrow = narrowBatches(all);
  const wideBodies = wide.slice(0, 8).map(kairosDbBody);
  const narrowBodies = narrow.slice(0, 8).map(kairosDbBody);
  const keyJson = wide.slice(0, 8).map((b) => JSON.stringify(b.series));
  // Without series numbers: every key is resolved by hashing it, as for a producer with no cache.
  const unnumbered = wide.slice(0, 8).map(({ seriesNumbers: _numbers, seriesNumbering: _numbering, ...batch }): WriteBatch => batch);
  const copyTarget = new Uint8Array(BATCH_POINTS * COLUMN_BYTES_PER_POINT);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-bench-append-'));
  const writer = ShardWriter.open({ dir, shardId: 0, syncPolicy: 'never', segmentBytes: 256 * 1024 * 1024 });
  for (const b of [...wide, ...narrow]) writer.append(b); // warm-up: every series defined
  let next = 0;
  let sink = 0;

  const build = (): Bench =>
    new Bench({ time: 1_000, warmupTime: 200 })
      .add(T.wide, () => {
        sink += writer.append(wide[next++ % wide.length]!).points;
      })
      .add(T.jsonWide, () => {
        sink += (JSON.parse(wideBodies[next++ % wideBodies.length]!) as unknown[]).length;
      })
      .add(T.memcpy, () => {
        const b = wide[next++ % wide.length]!;
        let at = 0;
        for (const col of [b.seriesIndex, b.timestampsMs, b.kinds, b.floats]) {
          copyTarget.set(new Uint8Array(col.buffer, col.byteOffset, col.byteLength), at);
          at += col.byteLength;
        }
        sink += copyTarget[at - 1]!;
      })
      .add(T.narrow, () => {
        sink += writer.append(narrow[next++ % narrow.length]!).points;
      })
      .add(T.jsonNarrow, () => {
        sink += (JSON.parse(narrowBodies[next++ % narrowBodies.length]!) as unknown[]).length;
      })
      .add(T.freshParse, () => {
        const k = next++ % keyJson.length;
        sink += writer.append({ ...unnumbered[k]!, series: JSON.parse(keyJson[k]!) as WriteBatch['series'] }).points;
      })
      .add(T.keysParse, () => {
        sink += (JSON.parse(keyJson[next++ % keyJson.length]!) as unknown[]).length;
      });
  const ops = await runRounds(build, ROUNDS);
  writer.close();
  fs.rmSync(dir, { recursive: true, force: true });

  const pts = (name: string): number[] => ops.get(name)!.map((o) => o * BATCH_POINTS);
  // Fresh keys: the keys' own parse time, measured separately, is taken out of the append.
  const freshAppend = ops.get(T.freshParse)!.map((o, i) => BATCH_POINTS / (1 / o - 1 / ops.get(T.keysParse)![i]!));
  const figures = {
    wide: spread(pts(T.wide)),
    narrow: spread(pts(T.narrow)),
    freshKeys: spread(freshAppend),
    jsonWide: spread(pts(T.jsonWide)),
    jsonNarrow: spread(pts(T.jsonNarrow)),
    memcpy: spread(pts(T.memcpy)),
    wideOverJson: spread(ratios(pts(T.wide), pts(T.jsonWide))),
    narrowOverJson: spread(ratios(pts(T.narrow), pts(T.jsonNarrow))),
    freshOverJson: spread(ratios(freshAppend, pts(T.jsonWide))),
    wideOverMemcpy: spread(ratios(pts(T.wide), pts(T.memcpy))),
    narrowOverMemcpy: spread(ratios(pts(T.narrow), pts(T.memcpy))),
  };
  console.table([
    { task: T.wide, 'points/s': fmtSpread(figures.wide), '÷ JSON.parse': fmtSpread(figures.wideOverJson), '÷ memcpy': fmtSpread(figures.wideOverMemcpy) },
    { task: T.freshParse, 'points/s': fmtSpread(figures.freshKeys), '÷ JSON.parse': fmtSpread(figures.freshOverJson), '÷ memcpy': '' },
    { task: T.narrow, 'points/s': fmtSpread(figures.narrow), '÷ JSON.parse': fmtSpread(figures.narrowOverJson), '÷ memcpy': fmtSpread(figures.narrowOverMemcpy) },
    { task: T.jsonWide, 'points/s': fmtSpread(figures.jsonWide), '÷ JSON.parse': '', '÷ memcpy': '' },
    { task: T.jsonNarrow, 'points/s': fmtSpread(figures.jsonNarrow), '÷ JSON.parse': '', '÷ memcpy': '' },
    { task: T.memcpy, 'points/s': fmtSpread(figures.memcpy), '÷ JSON.parse': '', '÷ memcpy': '' },
  ]);
  const met = figures.wide.median >= TARGET_POINTS_PER_SEC;
  console.log(
    `median of ${ROUNDS} rounds (min–max); target ≥ ${fmt(TARGET_POINTS_PER_SEC)} points/s/core for ${T.wide}: ${met ? 'met' : 'NOT met'} (sink ${sink > 0})`,
  );
  const results = { batchPoints: BATCH_POINTS, series: SERIES, rounds: ROUNDS, targetPointsPerSec: TARGET_POINTS_PER_SEC, targetMet: met, ...figures };
  writeResults('append', results);
  return results;
}

if (isEntry(import.meta.url)) await main();
