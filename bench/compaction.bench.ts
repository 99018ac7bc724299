// Bytes per point after compaction on devops-style data: 100 series (10 hosts × 10 cpu fields),
// one day at 10 s (8,640 points per series), 2-decimal gauges (test/helpers devopsBatch: a random
// walk in [0, 100] with uniform steps of up to ±2.00, fixed seed). Written as 5,000-point appends,
// sealed, compacted into one day partition by ShardWriter.compact. Target ≤ 1.5 bytes/point.
// Same-run baselines: the ingest segments before compaction, zlib deflate (level 6) of the raw
// per-series columns, and the dense column codecs alone (what the format's value and timestamp
// encodings cost before block, LZ4 and segment overhead). Compaction speed is reported against
// the dense codecs' encode speed on the same columns. Every round compacts twice, once with the
// v1 column codecs (setCodecsWriteVersion(1): DecimalScaled varints) and once with the latest
// (DecimalPacked), so the format change is measured before/after in the same run, bytes and
// speed. All data is generated before timing.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { LATEST_CODECS_VERSION, ShardWriter, setCodecsWriteVersion, shardDirectory, type CodecsVersion, type WriteBatch } from '../engine/index.js';
import { ByteWriter } from '../engine/codec/bytes.js';
import { encodeFloats } from '../engine/codec/floats.js';
import { encodeTimestamps } from '../engine/codec/timestamps.js';
import { devopsBatch } from '../test/helpers/batches.js';
import { sliceBatches } from './data.js';
import { fmt, fmtSpread, isEntry, ratios, spread, writeResults } from './report.js';

const DAY_MS = 86_400_000;
const START_MS = Date.UTC(2024, 0, 1);
const HOSTS = 10;
const POINTS_PER_SERIES = DAY_MS / 10_000;
const ROUNDS = 3;
const TARGET_BYTES_PER_POINT = 1.5;

/**
 * Writes the batches into a fresh shard, seals and compacts it with the dense writers held to
 * `codecs`; returns the sizes and the compaction's points/s. Only the compaction is timed.
 */
function compactOnce(batches: readonly WriteBatch[], codecs: CodecsVersion): { ingestBytes: number; compactedBytes: number; pointsOut: number; pointsPerSec: number } {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-bench-compact-'));
  const before = setCodecsWriteVersion(codecs);
  try {
    const dir = shardDirectory(dataDir, 0);
    const writer = ShardWriter.open({ dir, shardId: 0, syncPolicy: 'never' });
    for (const b of batches) writer.append(b);
    writer.roll();
    const ingestBytes = segmentBytes(dir);
    const t0 = performance.now();
    const result = writer.compact({ tombstones: [] });
    const pointsPerSec = result.pointsIn / ((performance.now() - t0) / 1000);
    writer.close();
    return { ingestBytes, compactedBytes: segmentBytes(dir), pointsOut: result.pointsOut, pointsPerSec };
  } finally {
    setCodecsWriteVersion(before);
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

function segmentBytes(dir: string): number {
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.seg'))
    .reduce((n, f) => n + fs.statSync(path.join(dir, f)).size, 0);
}

/** Each series' timestamps and values as separate columns (devopsBatch is time-major). */
function perSeries(all: WriteBatch): { ts: Float64Array; values: Float64Array }[] {
  const cols = all.series.map(() => ({ ts: new Float64Array(POINTS_PER_SERIES), values: new Float64Array(POINTS_PER_SERIES) }));
  const fill = new Uint32Array(all.series.length);
  for (let i = 0; i < all.length; i++) {
    const s = all.seriesIndex[i]!;
    const c = cols[s]!;
    c.ts[fill[s]!] = all.timestampsMs[i]!;
    c.values[fill[s]!++] = all.floats[i]!;
  }
  return cols;
}

/** Shannon entropy in bits of the value-to-value steps in hundredths (a bound for any coder of deltas). */
function stepEntropyBits(cols: readonly { values: Float64Array }[]): { bits: number; shareAbove63: number } {
  const counts = new Map<number, number>();
  let n = 0;
  let above = 0;
  for (const { values } of cols) {
    for (let k = 1; k < values.length; k++) {
      const d = Math.round(values[k]! * 100) - Math.round(values[k - 1]! * 100);
      counts.set(d, (counts.get(d) ?? 0) + 1);
      if (d > 63 || d < -64) above++; // zigzag ≥ 128: a 2-byte varint
      n++;
    }
  }
  let bits = 0;
  for (const c of counts.values()) bits -= (c / n) * Math.log2(c / n);
  return { bits, shareAbove63: above / n };
}

export async function main(): Promise<Record<string, unknown>> {
  const all = devopsBatch(HOSTS, POINTS_PER_SERIES, START_MS, 10_000, 5);
  const batches = sliceBatches(all, 5_000);
  const cols = perSeries(all);
  const points = all.length;

  // --- sizes (deterministic: same data every run) ---------------------------------------------
  const w = new ByteWriter(1 << 20);
  let tsBytes = 0;
  let valueBytes = 0;
  let valueBytesV1 = 0;
  let deflateBytes = 0;
  for (const c of cols) {
    w.reset();
    encodeTimestamps(w, c.ts, 0, c.ts.length);
    tsBytes += w.length;
    w.reset();
    encodeFloats(w, c.values, 0, c.values.length, 'dense', 2);
    valueBytes += w.length;
    w.reset();
    encodeFloats(w, c.values, 0, c.values.length, 'dense', 1);
    valueBytesV1 += w.length;
    const raw = new Uint8Array(16 * c.ts.length);
    const view = new DataView(raw.buffer);
    for (let k = 0; k < c.ts.length; k++) {
      view.setBigInt64(16 * k, BigInt(c.ts[k]!), true);
      view.setFloat64(16 * k + 8, c.values[k]!, true);
    }
    deflateBytes += zlib.deflateRawSync(raw, { level: 6 }).length;
  }
  const steps = stepEntropyBits(cols);

  // --- rounds: write, seal, compact (codecs 1 and 2, alternating which goes first); dense codec
  // encode on the same columns as the baseline ------------------------------------------------
  let ingestBytes = 0;
  let compactedBytes = 0;
  let compactedBytesV1 = 0;
  let pointsOut = 0;
  const compactPerSec: number[] = [];
  const compactV1PerSec: number[] = [];
  const codecPerSec: number[] = [];
  let sink = 0;
  for (let round = 0; round < ROUNDS; round++) {
    for (const codecs of round % 2 === 0 ? ([1, 2] as const) : ([2, 1] as const)) {
      const once = compactOnce(batches, codecs);
      if (once.pointsOut !== points) throw new Error(`compaction (codecs ${codecs}) kept ${once.pointsOut} of ${points} points`);
      if (codecs === 1) {
        compactedBytesV1 = once.compactedBytes;
        compactV1PerSec.push(once.pointsPerSec);
      } else {
        ingestBytes = once.ingestBytes;
        compactedBytes = once.compactedBytes;
        pointsOut = once.pointsOut;
        compactPerSec.push(once.pointsPerSec);
      }
    }

    // One pass takes only ~30 ms: several passes so a scheduler hiccup does not decide the round.
    const passes = 10;
    const t1 = performance.now();
    for (let pass = 0; pass < passes; pass++) {
      for (const c of cols) {
        w.reset();
        encodeTimestamps(w, c.ts, 0, c.ts.length);
        encodeFloats(w, c.values, 0, c.values.length, 'dense', 2);
        sink += w.length;
      }
    }
    codecPerSec.push((passes * points) / ((performance.now() - t1) / 1000));
  }
  if (pointsOut !== points) throw new Error(`compaction kept ${pointsOut} of ${points} points`);

  const perPoint = (bytes: number): number => bytes / points;
  const compacted = perPoint(compactedBytes);
  const results = {
    points,
    series: all.series.length,
    rounds: ROUNDS,
    targetBytesPerPoint: TARGET_BYTES_PER_POINT,
    targetMet: compacted <= TARGET_BYTES_PER_POINT,
    compactedBytesPerPoint: compacted,
    compactedBytesPerPointCodecsV1: perPoint(compactedBytesV1),
    ingestBytesPerPoint: perPoint(ingestBytes),
    deflateRawColumnsBytesPerPoint: perPoint(deflateBytes),
    codecTimestampBytesPerPoint: perPoint(tsBytes),
    codecValueBytesPerPoint: perPoint(valueBytes),
    codecValueBytesPerPointCodecsV1: perPoint(valueBytesV1),
    rawBytesPerPoint: 16,
    compactedOverIngest: compacted / perPoint(ingestBytes),
    compactedOverDeflate: compacted / perPoint(deflateBytes),
    stepEntropyBitsPerValue: steps.bits,
    stepsNeedingTwoVarintBytes: steps.shareAbove63,
    compactionPointsPerSec: spread(compactPerSec),
    compactionCodecsV1PointsPerSec: spread(compactV1PerSec),
    compactionOverCodecsV1: spread(ratios(compactPerSec, compactV1PerSec)),
    denseCodecEncodePointsPerSec: spread(codecPerSec),
    compactionOverCodec: spread(ratios(compactPerSec, codecPerSec)),
  };
  console.table([
    { stage: 'raw (i64 timestamp + f64 value)', 'bytes/point': '16' },
    { stage: 'baseline: zlib deflate-6 of the raw per-series columns', 'bytes/point': fmt(results.deflateRawColumnsBytesPerPoint) },
    { stage: 'baseline: ingest segments (sealed, before compaction)', 'bytes/point': fmt(results.ingestBytesPerPoint) },
    { stage: 'baseline: after compaction with codecs v1 (DecimalScaled)', 'bytes/point': fmt(results.compactedBytesPerPointCodecsV1) },
    { stage: '  of which dense float codec v1 (before LZ4)', 'bytes/point': fmt(results.codecValueBytesPerPointCodecsV1) },
    { stage: `after compaction (whole segment files, codecs v${LATEST_CODECS_VERSION}: DecimalPacked)`, 'bytes/point': fmt(compacted) },
    { stage: '  of which dense timestamp codec (before LZ4)', 'bytes/point': fmt(results.codecTimestampBytesPerPoint) },
    { stage: '  of which dense float codec (before LZ4)', 'bytes/point': fmt(results.codecValueBytesPerPoint) },
  ]);
  console.log(
    `compacted ÷ deflate: ${fmt(results.compactedOverDeflate)}; ÷ ingest: ${fmt(results.compactedOverIngest)}; ` +
      `value steps: ${fmt(steps.bits)} bits of entropy each, ${(100 * steps.shareAbove63).toFixed(1)} % need a 2-byte varint`,
  );
  console.log(
    `target ≤ ${TARGET_BYTES_PER_POINT} bytes/point: ${results.targetMet ? 'met' : 'NOT met'}; compaction ${fmtSpread(results.compactionPointsPerSec)} points/s, ` +
      `÷ dense codec encode ${fmtSpread(results.compactionOverCodec)} (median of ${ROUNDS} rounds; sink ${sink > 0})`,
  );
  console.log(
    `codecs v${LATEST_CODECS_VERSION} ÷ v1: ${fmt(compacted / results.compactedBytesPerPointCodecsV1)} × the bytes; compaction speed ${fmtSpread(results.compactionOverCodecsV1)} × ` +
      `(v1: ${fmtSpread(results.compactionCodecsV1PointsPerSec)} points/s)`,
  );
  writeResults('compaction', results);
  return results;
}

if (isEntry(import.meta.url)) await main();
