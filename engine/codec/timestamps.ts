// Timestamp column codec (docs/format/codecs.md §Timestamps): delta-of-delta zig-zag varints,
// or raw i64. Values are integer milliseconds in a Float64Array with |t| < 2^50, in any order
// (deltas may be negative). Pure; never allocates per value.
import type { ByteReader, ByteWriter } from './bytes.js';

export const TimestampEncoding = { Raw: 0, DeltaOfDelta: 1 } as const;
export type TimestampEncoding = (typeof TimestampEncoding)[keyof typeof TimestampEncoding];

/**
 * Appends tsMs[start, end) with its encoding byte. DeltaOfDelta (default): first value, then the
 * first delta, then each delta's change, all zig-zag varints — a regular 10 s series costs one
 * byte per point before LZ4. |t| < 2^50 keeps every delta-of-delta within ±2^52, exact in doubles.
 */
export function encodeTimestamps(
  w: ByteWriter,
  tsMs: Float64Array,
  start: number,
  end: number,
  encoding: TimestampEncoding = TimestampEncoding.DeltaOfDelta,
): void {
  w.u8(encoding);
  if (encoding === TimestampEncoding.Raw) {
    for (let i = start; i < end; i++) w.i64n(tsMs[i]!);
    return;
  }
  let prev = 0;
  let prevDelta = 0;
  for (let i = start; i < end; i++) {
    const t = tsMs[i]!;
    const k = i - start;
    if (k === 0) w.varint(t);
    else if (k === 1) w.varint((prevDelta = t - prev));
    else {
      const delta = t - prev;
      w.varint(delta - prevDelta);
      prevDelta = delta;
    }
    prev = t;
  }
}

/** Reads `count` timestamps written by encodeTimestamps into out[outStart, outStart + count). */
export function decodeTimestamps(r: ByteReader, count: number, out: Float64Array, outStart: number): void {
  const encoding = r.u8();
  if (encoding === TimestampEncoding.Raw) {
    for (let i = 0; i < count; i++) out[outStart + i] = r.i64n();
    return;
  }
  if (encoding !== TimestampEncoding.DeltaOfDelta) throw new RangeError(`unknown timestamp encoding ${encoding}`);
  let prev = 0;
  let delta = 0;
  for (let i = 0; i < count; i++) {
    if (i === 0) prev = r.varint();
    else if (i === 1) prev += delta = r.varint();
    else prev += delta += r.varint();
    out[outStart + i] = prev;
  }
}
