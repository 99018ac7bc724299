// Int64 column codec (docs/format/codecs.md §Ints): exact signed 64-bit integers, as raw
// little-endian i64 (fast) or zig-zag LEB128 of the wrapping delta to the previous value (dense).
// Full range -2^63 … 2^63-1; deltas wrap modulo 2^64 so every pair of values round-trips.
import type { ByteReader, ByteWriter } from './bytes.js';
import type { FloatEncodingMode } from './floats.js';

export const IntEncoding = { Raw: 0, DeltaZigzag: 1 } as const;
export type IntEncoding = (typeof IntEncoding)[keyof typeof IntEncoding];

const SMALL = 2n ** 52n;

/**
 * Appends values[start, end) with an encoding byte: 'fast' → Raw (memory copy), 'dense' →
 * DeltaZigzag. Deltas within ±2^52 (nearly all real data) take a Number fast path that writes
 * the same bytes as the BigInt path, avoiding BigInt shifts per value.
 */
export function encodeInts(w: ByteWriter, values: BigInt64Array, start: number, end: number, mode: FloatEncodingMode): void {
  if (mode === 'fast') {
    w.u8(IntEncoding.Raw);
    w.raw(new Uint8Array(values.buffer, values.byteOffset + start * 8, (end - start) * 8));
    return;
  }
  w.u8(IntEncoding.DeltaZigzag);
  let prev = 0n;
  for (let i = start; i < end; i++) {
    const v = values[i]!;
    const d = BigInt.asIntN(64, v - prev);
    prev = v;
    if (d > -SMALL && d < SMALL) {
      w.varint(Number(d));
    } else {
      writeVarU64(w, BigInt.asUintN(64, (d << 1n) ^ (d >> 63n)));
    }
  }
}

export function decodeInts(r: ByteReader, count: number, out: BigInt64Array, outStart: number): void {
  const encoding = r.u8();
  if (encoding === IntEncoding.Raw) {
    new Uint8Array(out.buffer, out.byteOffset + outStart * 8, count * 8).set(r.raw(count * 8));
    return;
  }
  if (encoding !== IntEncoding.DeltaZigzag) throw new RangeError(`unknown int encoding ${encoding}`);
  let prev = 0n;
  for (let i = 0; i < count; i++) {
    const z = readVarU64(r);
    const d = typeof z === 'number' ? BigInt(z % 2 === 0 ? z / 2 : -(z + 1) / 2) : BigInt.asIntN(64, (z >> 1n) ^ -(z & 1n));
    prev = BigInt.asIntN(64, prev + d);
    out[outStart + i] = prev;
  }
}

function writeVarU64(w: ByteWriter, v: bigint): void {
  while (v >= 0x80n) {
    w.u8(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  w.u8(Number(v));
}

/** LEB128 up to 10 bytes; a Number when below 2^53, else a BigInt. */
function readVarU64(r: ByteReader): number | bigint {
  let result = 0;
  let scale = 1;
  for (let i = 0; i < 7; i++) {
    const b = r.u8();
    result += (b & 0x7f) * scale;
    if (b < 0x80) return result;
    scale *= 128;
  }
  let big = BigInt(result);
  let shift = 49n;
  for (let i = 7; i < 10; i++) {
    const b = r.u8();
    big |= BigInt(b & 0x7f) << shift;
    if (b < 0x80) {
      if (big >= 1n << 64n) throw new RangeError('varint exceeds 64 bits');
      return big;
    }
    shift += 7n;
  }
  throw new RangeError('varint longer than 10 bytes');
}
