// Timestamp column codec (docs/format/codecs.md §Timestamps): integer milliseconds held in a
// Float64Array, stored as raw i64 or as zig-zag delta-of-delta varints. Owns the bytes of one
// column only: never stores the value count (the block header does), never sorts, never
// assumes order (deltas may be negative).
import type { ByteReader, ByteWriter } from './bytes.js';

/** Encoding byte values (docs/format/codecs.md §Encoding bytes); frozen on-disk values. */
export const TimestampEncoding = { Raw: 0, DeltaOfDelta: 1 } as const;
export type TimestampEncoding = (typeof TimestampEncoding)[keyof typeof TimestampEncoding];

/** |t| must stay below this so every delta-of-delta is within ±2^52 and exact in a double. */
const MAX_ABS_TIMESTAMP_MS = 2 ** 50;
/** A zig-zag value below 2^53 needs at most 8 LEB128 bytes. */
const MAX_VARINT_BYTES = 8;
const TWO_POW_32 = 0x1_0000_0000;

/**
 * Grow-only scratch the delta-of-delta encoder writes varints into before one `w.raw` copy.
 * Why: writing bytes into a local Uint8Array and copying once is faster than a `w.varint` call
 * per value (each one re-checks capacity): ~4.5 vs ~6 ns/value on a 10 s series in
 * `bench/codec.bench.ts` "timestamps encode".
 * Module-owned, reused by every call; nothing outside this file ever sees it.
 */
let scratch = new Uint8Array(1 << 16);

/**
 * Appends tsMs[start, end) as one column: the encoding byte, then the payload.
 * DeltaOfDelta (default): zig-zag varint of the first value, of the first delta, then of each
 * delta's change — a regular series costs one byte per point before LZ4.
 * Every value must be an integer with |t| < 2^50 (negatives and 0 are fine, order is free);
 * anything else throws RangeError before a byte is written, so a column is never half-written.
 */
export function encodeTimestamps(
  w: ByteWriter,
  tsMs: Float64Array,
  start: number,
  end: number,
  encoding: TimestampEncoding = TimestampEncoding.DeltaOfDelta,
): void {
  checkSlice(tsMs.length, start, end);
  if (encoding === TimestampEncoding.Raw) {
    for (let i = start; i < end; i++) checkTimestamp(tsMs[i]!, i);
    w.u8(TimestampEncoding.Raw);
    for (let i = start; i < end; i++) w.i64n(tsMs[i]!);
    return;
  }
  if (encoding !== TimestampEncoding.DeltaOfDelta) throw new RangeError(`unknown timestamp encoding ${String(encoding)}`);

  const n = end - start;
  if (scratch.length < n * MAX_VARINT_BYTES) scratch = new Uint8Array(n * MAX_VARINT_BYTES * 2);
  const bytes = deltaOfDeltaVarints(tsMs, start, end, scratch);
  w.u8(TimestampEncoding.DeltaOfDelta);
  w.raw(scratch.subarray(0, bytes));
}

/**
 * Writes the DeltaOfDelta payload of tsMs[start, end) (see encodeTimestamps) to buf from 0 and
 * returns its length in bytes; checks every timestamp (RangeError) as it goes.
 *
 * Why the loop is a function of its own: V8 compiles a long loop on the stack (OSR) during an
 * early call, before the code after the loop has ever run, and every later call that had not
 * yet reached the function's regular compiled code entered that OSR code and was thrown back
 * to the interpreter right after the loop ("Insufficient type feedback for generic named
 * access" at the `w.u8` that followed it, up to ~160 times in a 2 M-point run; `--trace-deopt`
 * during the peers workload, decision 0017). Here nothing but the return follows the loop.
 */
function deltaOfDeltaVarints(tsMs: Float64Array, start: number, end: number, buf: Uint8Array): number {
  let pos = 0;
  let prev = 0;
  let prevDelta = 0;
  for (let i = start; i < end; i++) {
    const t = tsMs[i]!;
    checkTimestamp(t, i);
    // k = 0: the value itself; k = 1: the first delta; later: delta minus previous delta.
    const delta = t - prev;
    const v = i === start ? t : i === start + 1 ? delta : delta - prevDelta;
    prevDelta = delta;
    prev = t;
    // Zig-zag (exact: |v| ≤ 2^52 so z ≤ 2^53), then LEB128. Bit ops only work below 2^32.
    let z = v >= 0 ? v * 2 : -v * 2 - 1;
    while (z >= TWO_POW_32) {
      buf[pos++] = (z % 128) | 0x80;
      z = Math.floor(z / 128);
    }
    while (z >= 0x80) {
      buf[pos++] = (z & 0x7f) | 0x80;
      z >>>= 7;
    }
    buf[pos++] = z;
  }
  return pos;
}

/**
 * Reads one column of `count` timestamps written by encodeTimestamps into
 * out[outStart, outStart + count) and leaves `r` just past it. Throws RangeError on an unknown
 * encoding byte, a truncated column, a varint over 8 bytes, or when `out` is too short; `out`
 * may then be partly written.
 */
export function decodeTimestamps(r: ByteReader, count: number, out: Float64Array, outStart: number): void {
  checkOut(out.length, count, outStart);
  const encoding = r.u8();
  if (encoding === TimestampEncoding.Raw) {
    for (let i = 0; i < count; i++) out[outStart + i] = r.i64n();
    return;
  }
  if (encoding !== TimestampEncoding.DeltaOfDelta) throw new RangeError(`unknown timestamp encoding ${encoding}`);

  // Pass 1: varints → signed values straight into `out`, reading r.buf directly (bounds checked
  // against r.end) instead of one r.varint() call per byte.
  const buf = r.buf;
  const limit = r.end;
  let pos = r.pos;
  for (let i = 0; i < count; i++) {
    if (pos >= limit) throw new RangeError(`timestamp column truncated at value ${i} of ${count}`);
    let b = buf[pos++]!;
    if (b < 0x80) {
      // One-byte varint (every point of a regular series): int32 zig-zag, no float division.
      out[outStart + i] = (b >>> 1) ^ -(b & 1);
      continue;
    }
    let z = b & 0x7f;
    let scale = 128;
    let bytes = 1;
    while (b >= 0x80) {
      if (bytes === MAX_VARINT_BYTES) throw new RangeError(`timestamp varint at ${pos} is longer than ${MAX_VARINT_BYTES} bytes`);
      if (pos >= limit) throw new RangeError(`timestamp column truncated at value ${i} of ${count}`);
      b = buf[pos++]!;
      z += (b & 0x7f) * scale;
      scale *= 128;
      bytes++;
    }
    out[outStart + i] = z % 2 === 0 ? z / 2 : -(z + 1) / 2;
  }
  r.pos = pos;

  // Pass 2: integrate delta-of-deltas back into timestamps.
  if (count < 2) return;
  let prev = out[outStart]!;
  let delta = 0;
  for (let i = 1; i < count; i++) {
    const o = outStart + i;
    delta = i === 1 ? out[o]! : delta + out[o]!;
    prev += delta;
    out[o] = prev;
  }
}

function checkTimestamp(t: number, i: number): void {
  if (!Number.isInteger(t) || Math.abs(t) >= MAX_ABS_TIMESTAMP_MS) {
    throw new RangeError(`timestamp ${t} at index ${i} is not an integer with |t| < 2^50 ms`);
  }
}

function checkSlice(length: number, start: number, end: number): void {
  if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end < start || end > length) {
    throw new RangeError(`slice [${start}, ${end}) is not within 0..${length}`);
  }
}

function checkOut(length: number, count: number, outStart: number): void {
  if (!Number.isInteger(count) || !Number.isInteger(outStart) || count < 0 || outStart < 0 || outStart + count > length) {
    throw new RangeError(`cannot decode ${count} values into ${length} slots from ${outStart}`);
  }
}
