// Bench data shaping shared by the suites: cutting a generated devops batch into the batches a
// protocol decoder would hand over (each listing only its own series), and the equivalent
// KairosDB request body for JSON.parse baselines. Runs before any timing; never times anything.
import type { SeriesKey, WriteBatch } from '../engine/index.js';

/**
 * The points `indices` of `all` (in that order) as one batch whose `series` lists only the series
 * those points use, in first-use order — what a decoder builds from one request body.
 */
export function subBatch(all: WriteBatch, indices: Uint32Array): WriteBatch {
  const n = indices.length;
  const local = new Map<number, number>();
  const series: SeriesKey[] = [];
  const globalIndex: number[] = [];
  const seriesIndex = new Uint32Array(n);
  const timestampsMs = new Float64Array(n);
  const kinds = new Uint8Array(n);
  const floats = new Float64Array(n);
  for (let j = 0; j < n; j++) {
    const i = indices[j]!;
    const s = all.seriesIndex[i]!;
    let l = local.get(s);
    if (l === undefined) {
      l = series.length;
      local.set(s, l);
      series.push(all.series[s]!);
      globalIndex.push(s);
    }
    seriesIndex[j] = l;
    timestampsMs[j] = all.timestampsMs[i]!;
    kinds[j] = all.kinds[i]!;
    floats[j] = all.floats[i]!;
  }
  // Numbered as a decoder's series cache numbers them: by the series' index in `all`.
  const seriesNumbers = Uint32Array.from(series, (_, l) => globalIndex[l]!);
  return {
    length: n,
    series,
    seriesIndex,
    timestampsMs,
    kinds,
    floats,
    ints: new BigInt64Array(0),
    texts: [],
    seriesNumbers,
    seriesNumbering: all,
  };
}

/** Consecutive slices of `points` points each, every one a subBatch (the last may be shorter). */
export function sliceBatches(all: WriteBatch, points: number): WriteBatch[] {
  const out: WriteBatch[] = [];
  for (let from = 0; from < all.length; from += points) {
    const to = Math.min(all.length, from + points);
    out.push(subBatch(all, Uint32Array.from({ length: to - from }, (_, k) => from + k)));
  }
  return out;
}

/**
 * The KairosDB `POST /api/v1/datapoints` body carrying exactly the batch's float points: one
 * entry per series with its [timestampMs, value] pairs, series in batch order.
 */
export function kairosDbBody(b: WriteBatch): string {
  const points: [number, number][][] = b.series.map(() => []);
  for (let i = 0; i < b.length; i++) points[b.seriesIndex[i]!]!.push([b.timestampsMs[i]!, b.floats[i]!]);
  return JSON.stringify(b.series.map((s, k) => ({ name: s.metric, tags: s.tags, datapoints: points[k] })));
}

/** Bytes of the batch's fixed-width columns: seriesIndex u32, timestamp f64, kind u8, float f64. */
export const COLUMN_BYTES_PER_POINT = 4 + 8 + 1 + 8;
