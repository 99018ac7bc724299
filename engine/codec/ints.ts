// Int64 column codec (docs/format/codecs.md §Ints): exact signed 64-bit integers over the full
// range -2^63 … 2^63-1, as raw little-endian i64 or as zig-zag LEB128 of the delta to the
// previous value (wrapping mod 2^64). Owns one column's bytes only; never stores the value count
// (the block header does).
import type { ByteReader, ByteWriter } from './bytes.js';
import type { FloatEncodingMode } from './floats.js';

/** Encoding byte values (docs/format/codecs.md §Encoding bytes); frozen on-disk values. */
export const IntEncoding = { Raw: 0, DeltaZigzag: 1 } as const;
export type IntEncoding = (typeof IntEncoding)[keyof typeof IntEncoding];

/** A 64-bit value takes at most ten 7-bit LEB128 groups. */
const MAX_VARINT_BYTES = 10;
const TWO_POW_32 = 0x1_0000_0000;

// Raw copies memory and the word views below read [lo, hi]; both assume a little-endian host
// (floats.ts refuses to load on any other, and this file imports its types only, so check too).
if (new Uint8Array(new Uint32Array([1]).buffer)[0] !== 1) {
  throw new Error('Strata requires a little-endian host (int columns copy memory as is)');
}

/**
 * Grow-only output of the DeltaZigzag encoder, copied into the writer with one `w.raw` (it also
 * lets 'dense' fall back to Raw when the varints come out larger). Module-owned, reused by every
 * call.
 */
let scratch = new Uint8Array(1 << 16);

/**
 * Appends values[start, end) as one column: the encoding byte, then the payload.
 * 'fast' → Raw (one memory copy). 'dense' → DeltaZigzag, unless its varints would be larger
 * than Raw (values jumping across the whole 64-bit range), in which case Raw.
 * No BigInt arithmetic per value: each i64 is read as two uint32 halves through a Uint32Array
 * view over the same memory; the wrapping subtraction, zig-zag and LEB128 are done on the halves
 * (borrow and shifts by hand), which bench/codec.bench.ts "ints dense" measures.
 */
export function encodeInts(w: ByteWriter, values: BigInt64Array, start: number, end: number, mode: FloatEncodingMode): void {
  checkSlice(values.length, start, end);
  const n = end - start;
  if (mode === 'fast' || n === 0) {
    writeRaw(w, values, start, n);
    return;
  }
  if (mode !== 'dense') throw new RangeError(`unknown int encoding mode ${String(mode)}`);

  if (scratch.length < n * MAX_VARINT_BYTES) scratch = new Uint8Array(n * MAX_VARINT_BYTES * 2);
  const buf = scratch;
  const words = new Uint32Array(values.buffer, values.byteOffset, values.length * 2);
  let pos = 0;
  let prevHi = 0;
  let prevLo = 0;
  for (let i = start; i < end; i++) {
    const lo = words[2 * i]!;
    const hi = words[2 * i + 1]!;
    // d = v - prev (mod 2^64) on halves: dLo in [0, 2^32), dHi as int32.
    let dLo = lo - prevLo;
    let borrow = 0;
    if (dLo < 0) {
      dLo += TWO_POW_32;
      borrow = 1;
    }
    const dHi = (hi - prevHi - borrow) | 0;
    prevLo = lo;
    prevHi = hi;
    // z = (d << 1) ^ (d >> 63), as uint32 halves.
    const sign = dHi >> 31;
    let zLo = ((dLo << 1) ^ sign) >>> 0;
    let zHi = (((dHi << 1) | (dLo >>> 31)) ^ sign) >>> 0;
    // LEB128, low groups first; move 7 bits from zHi into zLo's top after each group.
    while (zHi !== 0) {
      buf[pos++] = (zLo & 0x7f) | 0x80;
      zLo = ((zLo >>> 7) | (zHi << 25)) >>> 0;
      zHi >>>= 7;
    }
    while (zLo >= 0x80) {
      buf[pos++] = (zLo & 0x7f) | 0x80;
      zLo >>>= 7;
    }
    buf[pos++] = zLo;
  }
  if (pos > 8 * n) {
    writeRaw(w, values, start, n);
    return;
  }
  w.u8(IntEncoding.DeltaZigzag);
  w.raw(buf.subarray(0, pos));
}

/**
 * Reads one column of `count` ints written by encodeInts into out[outStart, outStart + count)
 * and leaves `r` just past it. Throws RangeError on an unknown encoding, a truncated column, a
 * varint over 10 bytes or 64 bits, or when `out` is too short; `out` may then be partly written.
 */
export function decodeInts(r: ByteReader, count: number, out: BigInt64Array, outStart: number): void {
  checkOut(out.length, count, outStart);
  const encoding = r.u8();
  if (encoding === IntEncoding.Raw) {
    new Uint8Array(out.buffer, out.byteOffset + outStart * 8, count * 8).set(r.raw(count * 8));
    return;
  }
  if (encoding !== IntEncoding.DeltaZigzag) throw new RangeError(`unknown int encoding ${encoding}`);

  // Read r.buf directly (bounds checked against r.end) and assemble each varint into halves.
  const buf = r.buf;
  const limit = r.end;
  let pos = r.pos;
  const words = new Uint32Array(out.buffer, out.byteOffset, out.length * 2);
  let prevHi = 0;
  let prevLo = 0;
  for (let i = 0; i < count; i++) {
    if (pos >= limit) throw new RangeError(`int column truncated at value ${i} of ${count}`);
    let b = buf[pos++]!;
    let zLo = b & 0x7f;
    let zHi = 0;
    if (b >= 0x80) {
      // Group g (0-based) carries bits 7g … 7g+6: groups 0–3 fill zLo's bits 0–27, group 4
      // straddles (4 bits to zLo, 3 to zHi), groups 5–8 fill zHi, group 9 holds bit 63 only.
      for (let shift = 7; ; shift += 7) {
        if (shift >= 7 * MAX_VARINT_BYTES) throw new RangeError(`int varint at ${pos} is longer than ${MAX_VARINT_BYTES} bytes`);
        if (pos >= limit) throw new RangeError(`int column truncated at value ${i} of ${count}`);
        b = buf[pos++]!;
        const g = b & 0x7f;
        if (shift < 28) zLo |= g << shift;
        else if (shift === 28) {
          zLo |= g << 28;
          zHi = g >>> 4;
        } else if (shift < 63) zHi |= g << (shift - 32);
        else {
          if (g > 1) throw new RangeError(`int varint at ${pos} exceeds 64 bits`);
          zHi |= g << 31;
        }
        if (b < 0x80) break;
      }
      zLo >>>= 0;
      zHi >>>= 0;
    }
    // d = (z >>> 1) ^ -(z & 1), then v = prev + d (mod 2^64) with a carry between halves.
    const neg = -(zLo & 1);
    const dLo = (((zLo >>> 1) | (zHi << 31)) ^ neg) >>> 0;
    const dHi = ((zHi >>> 1) ^ neg) >>> 0;
    const sumLo = prevLo + dLo;
    const carry = sumLo >= TWO_POW_32 ? 1 : 0;
    prevLo = sumLo >>> 0;
    prevHi = (prevHi + dHi + carry) >>> 0;
    const o = outStart + i;
    words[2 * o] = prevLo;
    words[2 * o + 1] = prevHi;
  }
  r.pos = pos;
}

function writeRaw(w: ByteWriter, values: BigInt64Array, start: number, n: number): void {
  w.u8(IntEncoding.Raw);
  w.raw(new Uint8Array(values.buffer, values.byteOffset + start * 8, n * 8));
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
