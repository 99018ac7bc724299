// Float64 column codec (docs/format/codecs.md §Floats): Raw little-endian f64 (the ingest fast
// path; LZ4 runs after), Gorilla XOR bit packing, and decimal scaling to integers stored as
// varints (DecimalScaled) or bit-packed in groups (DecimalPacked). Every encoding round-trips
// bit-exactly (NaN payloads, -0, ±Infinity, subnormals) or is not chosen.
// Owns one column's bytes only; never stores the value count (the block header does).
import type { ByteReader, ByteWriter } from './bytes.js';
import { codecsWriteVersion, type CodecsVersion } from './codecs-version.js';

/** Encoding byte values (docs/format/codecs.md §Encoding bytes); frozen on-disk values. */
export const FloatEncoding = { Raw: 0, Gorilla: 1, DecimalScaled: 2, DecimalPacked: 3 } as const;
export type FloatEncoding = (typeof FloatEncoding)[keyof typeof FloatEncoding];
/** 'fast' = ingest (Raw, a memory copy); 'dense' = compaction (smallest of all encodings). */
export type FloatEncodingMode = 'fast' | 'dense';

/** DecimalScaled and DecimalPacked integer coding byte (docs/format/codecs.md §DecimalScaled). */
const DECIMAL_DELTA = 0;
const DECIMAL_DELTA_OF_DELTA = 1;
const MAX_DECIMAL_EXPONENT = 15;
/** |m| bound for DecimalScaled: keeps deltas within ±2^51 and delta-of-deltas within ±2^52, exact. */
const MAX_SCALED = 2 ** 50;
/** Exact powers of ten as literals (not `10 ** e`), the divisors the format names. */
const POW10 = [1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15] as const;
/** DecimalPacked (docs/format/codecs.md §DecimalPacked): fields per group, widest field in bits. */
export const DECIMAL_PACKED_GROUP_FIELDS = 128;
export const DECIMAL_PACKED_MAX_WIDTH = 54;
/** Widths the one-word decode path reads: a field starts at bit 0–7 of a byte, 7 + 25 ≤ 32. */
const PACKED_ONE_WORD_WIDTH = 25;
/** Wider fields are read and written in chunks of up to 24 bits, low chunk first. */
const PACKED_CHUNK_BITS = 24;
const TWO_POW_24 = 0x100_0000;
const TWO_POW_32 = 0x1_0000_0000;
const TWO_POW_48 = 2 ** 48;
/** The decoder reads a 4-byte window at a field's first byte: up to 3 bytes past a group. */
const PACKED_READ_PAD = 4;
/** Gorilla worst case per value: 2 control + 5 + 6 + 64 bits = 77 bits < 10 bytes. */
const GORILLA_MAX_BYTES_PER_VALUE = 10;

// Raw copies the Float64Array's memory and the Gorilla code reads words [lo, hi] from a
// Uint32Array view; both are the on-disk little-endian order only on a little-endian host.
if (new Uint8Array(new Float64Array([1]).buffer)[7] !== 0x3f) {
  throw new Error('Strata requires a little-endian host (float columns copy memory as is)');
}

/** Grow-only Gorilla output buffer, module-owned and reused by every dense encode. */
let gorillaScratch = new Uint8Array(1 << 16);
/** Grow-only scaled integers of the decimal candidates, reused by every dense encode. */
let scaledScratch = new Float64Array(1 << 10);
/** Grow-only DecimalPacked output buffer, module-owned and reused by every dense encode. */
let packedScratch = new Uint8Array(1 << 12);
/** The zig-zag fields of the DecimalPacked group being written. */
const packedGroupScratch = new Float64Array(DECIMAL_PACKED_GROUP_FIELDS);
/** A group copied here (zero-padded) when fewer than PACKED_READ_PAD bytes follow it in the input. */
const packedReadScratch = new Uint8Array(Math.ceil((DECIMAL_PACKED_GROUP_FIELDS * DECIMAL_PACKED_MAX_WIDTH) / 8) + PACKED_READ_PAD);

/**
 * Appends values[start, end) as one column: the encoding byte, then the payload.
 * 'fast' writes Raw: one memory copy through a Uint8Array view (no per-value work).
 * 'dense' sizes Gorilla and, when every value is an exact short decimal (see the doc),
 * DecimalScaled and DecimalPacked, and writes the smallest; Raw when none is strictly smaller.
 * `codecsVersion` (default: this thread's codecsWriteVersion) bounds the encodings 'dense' may
 * pick: 1 never writes DecimalPacked. An empty slice is Raw with no payload. Reads `values` only
 * during the call.
 */
export function encodeFloats(
  w: ByteWriter,
  values: Float64Array,
  start: number,
  end: number,
  mode: FloatEncodingMode,
  codecsVersion: CodecsVersion = codecsWriteVersion(),
): void {
  checkSlice(values.length, start, end);
  const n = end - start;
  if (mode === 'fast' || n === 0) {
    w.u8(FloatEncoding.Raw);
    w.raw(new Uint8Array(values.buffer, values.byteOffset + start * 8, n * 8));
    return;
  }
  if (mode !== 'dense') throw new RangeError(`unknown float encoding mode ${String(mode)}`);

  // Sizes exclude the encoding byte. Ties go to Raw, then DecimalScaled, then DecimalPacked
  // (so a column v1 wrote the same way keeps its bytes), then Gorilla; Gorilla must be strictly
  // smaller than the best so far and may give up as soon as it is not.
  const rawBytes = 8 * n;
  let decimalBytes = Infinity;
  let packed = false;
  if (sizeDecimal(values, start, end, codecsVersion >= 2)) {
    decimalBytes = scaledBytesFound;
    if (packedBytesFound < decimalBytes) {
      decimalBytes = packedBytesFound;
      packed = true;
    }
  }
  const gorillaLimit = Math.min(rawBytes, decimalBytes);
  const gorillaLen = encodeGorilla(values, start, end, gorillaLimit);
  const gorillaBytes = gorillaLen < 0 ? Infinity : varuintBytes(gorillaLen) + gorillaLen;

  if (decimalBytes <= gorillaBytes && decimalBytes < rawBytes) {
    if (packed) writePacked(w, n);
    else writeDecimal(w, n);
  } else if (gorillaBytes < rawBytes) {
    w.u8(FloatEncoding.Gorilla);
    w.varuint(gorillaLen);
    w.raw(gorillaScratch.subarray(0, gorillaLen));
  } else {
    w.u8(FloatEncoding.Raw);
    w.raw(new Uint8Array(values.buffer, values.byteOffset + start * 8, n * 8));
  }
}

/**
 * Reads one column of `count` floats written by encodeFloats into out[outStart, outStart + count)
 * and leaves `r` just past it. Throws RangeError on an unknown encoding, a truncated or
 * inconsistent column, or when `out` is too short; `out` may then be partly written.
 */
export function decodeFloats(r: ByteReader, count: number, out: Float64Array, outStart: number): void {
  checkOut(out.length, count, outStart);
  const encoding = r.u8();
  switch (encoding) {
    case FloatEncoding.Raw:
      new Uint8Array(out.buffer, out.byteOffset + outStart * 8, count * 8).set(r.raw(count * 8));
      return;
    case FloatEncoding.Gorilla: {
      const len = r.varuint();
      decodeGorilla(r.raw(len), count, out, outStart);
      return;
    }
    case FloatEncoding.DecimalScaled:
      decodeDecimal(r, count, out, outStart);
      return;
    case FloatEncoding.DecimalPacked:
      decodePacked(r, count, out, outStart);
      return;
    default:
      throw new RangeError(`unknown float encoding ${encoding}`);
  }
}

// ---------------------------------------------------------------------------------------------
// DecimalScaled

/** True when v·10^e rounds to an integer m, |m| ≤ 2^50, with m / 10^e === v bit for bit. */
function fitsDecimal(v: number, e: number): boolean {
  const p = POW10[e]!;
  const m = Math.round(v * p);
  // NaN and ±Infinity fail the bound; -0 is excluded because m / p would give +0 for m = +0.
  return Math.abs(m) <= MAX_SCALED && m / p === v && (v !== 0 || 1 / v > 0);
}

/**
 * Smallest e in 0..15 at which every value fits, or -1. One pass raises e whenever a value
 * needs more; that gives a lower bound, since each smaller e failed some value. Rounding makes
 * "fits at e" not strictly monotone in e, so values before the last raise are re-checked at the
 * final e, raising further (and re-checking everything) in the rare case one fails.
 */
function decimalExponent(values: Float64Array, start: number, end: number): number {
  let e = 0;
  let checkedFrom = start;
  for (let i = start; i < end; i++) {
    const v = values[i]!;
    if (fitsDecimal(v, e)) continue;
    do {
      if (++e > MAX_DECIMAL_EXPONENT) return -1;
    } while (!fitsDecimal(v, e));
    checkedFrom = i;
  }
  let recheckEnd = checkedFrom;
  for (;;) {
    let ok = true;
    for (let i = start; i < recheckEnd; i++) {
      if (!fitsDecimal(values[i]!, e)) {
        ok = false;
        break;
      }
    }
    if (ok) return e;
    if (++e > MAX_DECIMAL_EXPONENT) return -1;
    recheckEnd = end;
  }
}

/** What the last sizeDecimal chose and measured, for writeDecimal and writePacked. */
let decimalExponentChosen = 0;
let decimalCodingChosen = DECIMAL_DELTA;
let packedCodingChosen = DECIMAL_DELTA;
/** Payload bytes (after the encoding byte) of DecimalScaled and DecimalPacked; Infinity if not sized. */
let scaledBytesFound = Infinity;
let packedBytesFound = Infinity;

/**
 * Sizes the DecimalScaled payload and, when `withPacked`, the DecimalPacked one (both after the
 * encoding byte, each with its smaller integer coding) into scaledBytesFound / packedBytesFound.
 * False when the values do not qualify. Leaves the scaled integers in scaledScratch.
 */
function sizeDecimal(values: Float64Array, start: number, end: number, withPacked: boolean): boolean {
  scaledBytesFound = Infinity;
  packedBytesFound = Infinity;
  const e = decimalExponent(values, start, end);
  if (e < 0) return false;
  const n = end - start;
  if (scaledScratch.length < n) scaledScratch = new Float64Array(n * 2);
  const ms = scaledScratch;
  const p = POW10[e]!;
  let deltaBytes = 0;
  let dodBytes = 0;
  // DecimalPacked, per coding: varint head bytes, bytes of the closed groups, and the open
  // group's field count and widest zig-zag field. Delta fields start at k = 1, delta-of-delta
  // fields at k = 2 (the values before are the head).
  let deltaHead = 0;
  let deltaPacked = 0;
  let deltaFields = 0;
  let deltaMax = 0;
  let dodHead = 0;
  let dodPacked = 0;
  let dodFields = 0;
  let dodMax = 0;
  let prev = 0;
  let prevDelta = 0;
  for (let k = 0; k < n; k++) {
    const m = Math.round(values[start + k]! * p);
    ms[k] = m;
    const delta = m - prev;
    const deltaZ = zigzag(delta);
    const dodZ = k < 2 ? deltaZ : zigzag(delta - prevDelta);
    const deltaLen = varuintBytes(deltaZ);
    const dodLen = k < 2 ? deltaLen : varuintBytes(dodZ);
    deltaBytes += deltaLen;
    dodBytes += dodLen;
    prevDelta = delta;
    prev = m;
    if (!withPacked) continue;
    if (k === 0) {
      deltaHead = deltaLen;
      dodHead = deltaLen;
      continue;
    }
    if (deltaZ > deltaMax) deltaMax = deltaZ;
    if (++deltaFields === DECIMAL_PACKED_GROUP_FIELDS) {
      deltaPacked += 1 + ((DECIMAL_PACKED_GROUP_FIELDS * bitWidth(deltaMax)) >>> 3);
      deltaFields = 0;
      deltaMax = 0;
    }
    if (k === 1) {
      dodHead += dodLen;
      continue;
    }
    if (dodZ > dodMax) dodMax = dodZ;
    if (++dodFields === DECIMAL_PACKED_GROUP_FIELDS) {
      dodPacked += 1 + ((DECIMAL_PACKED_GROUP_FIELDS * bitWidth(dodMax)) >>> 3);
      dodFields = 0;
      dodMax = 0;
    }
  }
  decimalExponentChosen = e;
  decimalCodingChosen = dodBytes < deltaBytes ? DECIMAL_DELTA_OF_DELTA : DECIMAL_DELTA;
  scaledBytesFound = 2 + Math.min(deltaBytes, dodBytes);
  if (withPacked) {
    if (deltaFields > 0) deltaPacked += 1 + ((deltaFields * bitWidth(deltaMax) + 7) >>> 3);
    if (dodFields > 0) dodPacked += 1 + ((dodFields * bitWidth(dodMax) + 7) >>> 3);
    deltaPacked += 2 + deltaHead;
    dodPacked += 2 + dodHead;
    packedCodingChosen = dodPacked < deltaPacked ? DECIMAL_DELTA_OF_DELTA : DECIMAL_DELTA;
    packedBytesFound = Math.min(deltaPacked, dodPacked);
  }
  return true;
}

/** Writes the DecimalScaled column sized by the preceding sizeDecimal over n values. */
function writeDecimal(w: ByteWriter, n: number): void {
  const ms = scaledScratch;
  w.u8(FloatEncoding.DecimalScaled);
  w.u8(decimalExponentChosen);
  w.u8(decimalCodingChosen);
  let prev = 0;
  let prevDelta = 0;
  const dod = decimalCodingChosen === DECIMAL_DELTA_OF_DELTA;
  for (let k = 0; k < n; k++) {
    const m = ms[k]!;
    const delta = m - prev;
    w.varint(dod && k >= 2 ? delta - prevDelta : delta);
    prevDelta = delta;
    prev = m;
  }
}

function decodeDecimal(r: ByteReader, count: number, out: Float64Array, outStart: number): void {
  const e = r.u8();
  if (e > MAX_DECIMAL_EXPONENT) throw new RangeError(`decimal exponent ${e} is above ${MAX_DECIMAL_EXPONENT}`);
  const coding = r.u8();
  if (coding !== DECIMAL_DELTA && coding !== DECIMAL_DELTA_OF_DELTA) throw new RangeError(`unknown decimal integer coding ${coding}`);
  const p = POW10[e]!;
  const dod = coding === DECIMAL_DELTA_OF_DELTA;
  let m = 0;
  let delta = 0;
  for (let k = 0; k < count; k++) {
    const v = r.varint();
    delta = dod && k >= 2 ? delta + v : v;
    m += delta;
    if (!(Math.abs(m) <= MAX_SCALED)) throw new RangeError(`decimal integer ${m} at value ${k} is out of range`);
    out[outStart + k] = m / p;
  }
}

// ---------------------------------------------------------------------------------------------
// DecimalPacked: the DecimalScaled integers, the first one (two for delta-of-delta) as varints
// and the rest as zig-zag fields bit-packed LSB-first in groups of 128, each group at the width
// of its widest field. Why: on devops gauges (steps of up to ±2.00) two thirds of the varint
// deltas take two bytes while the fields need 9 bits. bench/compaction.bench.ts, same run:
// float column 1.671 → 1.133 bytes/value, whole compacted segments 1.693 → 1.158 bytes/point,
// compaction no slower; bench/codec.bench.ts "floats decode DecimalPacked (devops ±2.00)"
// decodes faster than "floats decode DecimalScaled" on the same column.
// Layout choices, measured once on that bench's data cut into 65,536-value block columns (value
// column before LZ4, bytes/value): zig-zag deltas in groups of 32 / 64 / 128 / 256: 1.158 /
// 1.144 / 1.139 / 1.142; frame-of-reference deltas (group minimum as a varint) 1.154 at 128;
// zig-zag delta-of-deltas 1.263. Delta-of-delta stays a coding choice for ramps and counters,
// where a constant step packs at width 0.

/** Zig-zag of an integer |v| ≤ 2^52: 0, -1, 1, -2 … → 0, 1, 2, 3 …; exact in a double. */
function zigzag(v: number): number {
  return v >= 0 ? v * 2 : -v * 2 - 1;
}

/** Bits needed for an integer 0 ≤ z ≤ 2^53 (0 for 0). */
function bitWidth(z: number): number {
  return z < TWO_POW_32 ? 32 - Math.clz32(z) : 64 - Math.clz32(Math.floor(z / TWO_POW_32));
}

/** Writes the DecimalPacked column sized by the preceding sizeDecimal over n values. */
function writePacked(w: ByteWriter, n: number): void {
  const ms = scaledScratch;
  const dod = packedCodingChosen === DECIMAL_DELTA_OF_DELTA;
  w.u8(FloatEncoding.DecimalPacked);
  w.u8(decimalExponentChosen);
  w.u8(packedCodingChosen);
  const head = dod && n >= 2 ? 2 : 1;
  w.varint(ms[0]!);
  if (head === 2) w.varint(ms[1]! - ms[0]!);

  const fields = n - head;
  const need = Math.ceil(fields / DECIMAL_PACKED_GROUP_FIELDS) + Math.ceil((fields * DECIMAL_PACKED_MAX_WIDTH) / 8) + 8;
  if (packedScratch.length < need) packedScratch = new Uint8Array(need * 2);
  const buf = packedScratch;
  const zs = packedGroupScratch;
  let pos = 0;
  let prev = ms[head - 1]!;
  let prevDelta = head === 2 ? ms[1]! - ms[0]! : 0;
  for (let from = head; from < n; from += DECIMAL_PACKED_GROUP_FIELDS) {
    const g = Math.min(DECIMAL_PACKED_GROUP_FIELDS, n - from);
    let max = 0;
    for (let i = 0; i < g; i++) {
      const m = ms[from + i]!;
      const delta = m - prev;
      const z = zigzag(dod ? delta - prevDelta : delta);
      prevDelta = delta;
      prev = m;
      zs[i] = z;
      if (z > max) max = z;
    }
    const width = bitWidth(max);
    buf[pos++] = width;
    if (width > 0) pos = packGroup(buf, pos, zs, g, width);
  }
  w.raw(buf.subarray(0, pos));
}

/**
 * Packs zs[0, g) at `width` bits each, LSB-first, from buf[pos]; returns the position after the
 * last (zero-padded) byte. `acc` holds fewer than 8 pending bits between fields, so a chunk of
 * up to 24 bits shifted in stays below 2^31.
 */
function packGroup(buf: Uint8Array, pos: number, zs: Float64Array, g: number, width: number): number {
  let acc = 0;
  let accBits = 0;
  if (width <= PACKED_CHUNK_BITS) {
    for (let i = 0; i < g; i++) {
      acc |= zs[i]! << accBits;
      accBits += width;
      while (accBits >= 8) {
        buf[pos++] = acc & 0xff;
        acc >>>= 8;
        accBits -= 8;
      }
    }
  } else {
    for (let i = 0; i < g; i++) {
      let z = zs[i]!;
      for (let left = width; left > 0; left -= PACKED_CHUNK_BITS) {
        const bits = left < PACKED_CHUNK_BITS ? left : PACKED_CHUNK_BITS;
        const chunk = bits === PACKED_CHUNK_BITS ? z % TWO_POW_24 : z;
        z = Math.floor(z / TWO_POW_24);
        acc |= chunk << accBits;
        accBits += bits;
        while (accBits >= 8) {
          buf[pos++] = acc & 0xff;
          acc >>>= 8;
          accBits -= 8;
        }
      }
    }
  }
  if (accBits > 0) buf[pos++] = acc & 0xff;
  return pos;
}

function outOfRange(m: number, k: number): RangeError {
  return new RangeError(`decimal integer ${m} at value ${k} is out of range`);
}

/** The n bits (1 ≤ n ≤ 24) at bit offset `bit` of the LSB-first stream starting at src[base]. */
function readBits(src: Uint8Array, base: number, bit: number, n: number): number {
  const i = base + (bit >>> 3);
  const word = src[i]! | (src[i + 1]! << 8) | (src[i + 2]! << 16) | (src[i + 3]! << 24);
  return (word >>> (bit & 7)) & ((1 << n) - 1);
}

function decodePacked(r: ByteReader, count: number, out: Float64Array, outStart: number): void {
  const e = r.u8();
  if (e > MAX_DECIMAL_EXPONENT) throw new RangeError(`decimal exponent ${e} is above ${MAX_DECIMAL_EXPONENT}`);
  const coding = r.u8();
  if (coding !== DECIMAL_DELTA && coding !== DECIMAL_DELTA_OF_DELTA) throw new RangeError(`unknown decimal integer coding ${coding}`);
  if (count === 0) return;
  const p = POW10[e]!;
  const dod = coding === DECIMAL_DELTA_OF_DELTA;

  let o = outStart;
  let m = r.varint();
  if (!(Math.abs(m) <= MAX_SCALED)) throw outOfRange(m, 0);
  out[o++] = m / p;
  let delta = 0;
  let k = 1;
  if (dod && count >= 2) {
    delta = r.varint();
    m += delta;
    if (!(Math.abs(m) <= MAX_SCALED)) throw outOfRange(m, 1);
    out[o++] = m / p;
    k = 2;
  }

  const buf = r.buf;
  const end = r.end;
  let pos = r.pos;
  while (k < count) {
    if (pos >= end) throw new RangeError(`DecimalPacked column truncated before value ${k}`);
    const width = buf[pos++]!;
    if (width > DECIMAL_PACKED_MAX_WIDTH) throw new RangeError(`DecimalPacked group width ${width} is above ${DECIMAL_PACKED_MAX_WIDTH}`);
    const g = Math.min(DECIMAL_PACKED_GROUP_FIELDS, count - k);
    const bytes = (g * width + 7) >>> 3;
    if (pos + bytes > end) throw new RangeError(`DecimalPacked group of ${bytes} bytes at ${pos} runs past end ${end}`);
    // Every field is read through a 4-byte window at its first byte; near the end of the input
    // the group is copied into a zero-padded scratch so no read falls off the array.
    let src = buf;
    let base = pos;
    if (pos + bytes + PACKED_READ_PAD > buf.length) {
      packedReadScratch.set(buf.subarray(pos, pos + bytes));
      packedReadScratch.fill(0, bytes, bytes + PACKED_READ_PAD);
      src = packedReadScratch;
      base = 0;
    }
    if (width === 0) {
      for (let i = 0; i < g; i++) {
        if (dod) m += delta;
        if (!(Math.abs(m) <= MAX_SCALED)) throw outOfRange(m, k + i);
        out[o++] = m / p;
      }
    } else if (width <= PACKED_ONE_WORD_WIDTH) {
      // Hot path (bench/codec.bench.ts "floats decode dense (gauges 2-dec)"): one 4-byte window,
      // shift and mask per field; int32 zig-zag, since z < 2^25.
      const mask = (1 << width) - 1;
      let bit = 0;
      if (dod) {
        for (let i = 0; i < g; i++, bit += width) {
          const b = base + (bit >>> 3);
          const z = ((src[b]! | (src[b + 1]! << 8) | (src[b + 2]! << 16) | (src[b + 3]! << 24)) >>> (bit & 7)) & mask;
          delta += (z >>> 1) ^ -(z & 1);
          m += delta;
          if (!(Math.abs(m) <= MAX_SCALED)) throw outOfRange(m, k + i);
          out[o++] = m / p;
        }
      } else {
        for (let i = 0; i < g; i++, bit += width) {
          const b = base + (bit >>> 3);
          const z = ((src[b]! | (src[b + 1]! << 8) | (src[b + 2]! << 16) | (src[b + 3]! << 24)) >>> (bit & 7)) & mask;
          m += (z >>> 1) ^ -(z & 1);
          if (!(Math.abs(m) <= MAX_SCALED)) throw outOfRange(m, k + i);
          out[o++] = m / p;
        }
      }
    } else {
      // Wide fields: 24-bit chunks, low first, combined with arithmetic (z may reach 2^54).
      let bit = 0;
      for (let i = 0; i < g; i++, bit += width) {
        let z = readBits(src, base, bit, PACKED_CHUNK_BITS);
        if (width <= 2 * PACKED_CHUNK_BITS) {
          z += readBits(src, base, bit + PACKED_CHUNK_BITS, width - PACKED_CHUNK_BITS) * TWO_POW_24;
        } else {
          z += readBits(src, base, bit + PACKED_CHUNK_BITS, PACKED_CHUNK_BITS) * TWO_POW_24;
          z += readBits(src, base, bit + 2 * PACKED_CHUNK_BITS, width - 2 * PACKED_CHUNK_BITS) * TWO_POW_48;
        }
        const d = z % 2 === 0 ? z / 2 : -(z + 1) / 2;
        if (dod) {
          delta += d;
          m += delta;
        } else {
          m += d;
        }
        if (!(Math.abs(m) <= MAX_SCALED)) throw outOfRange(m, k + i);
        out[o++] = m / p;
      }
    }
    pos += bytes;
    k += g;
  }
  r.pos = pos;
}

/** LEB128 byte count of zigzag(v) for an integer |v| ≤ 2^52. */
function zigzagBytes(v: number): number {
  return varuintBytes(zigzag(v));
}

function varuintBytes(z: number): number {
  if (z < 0x80) return 1;
  if (z < 0x4000) return 2;
  if (z < 0x20_0000) return 3;
  if (z < 0x1000_0000) return 4;
  let bytes = 5;
  for (let limit = 2 ** 35; z >= limit; limit *= 128) bytes++;
  return bytes;
}

// ---------------------------------------------------------------------------------------------
// Gorilla (Pelkonen et al., VLDB 2015). The 64-bit patterns are handled as (hi, lo) uint32 halves
// read from a Uint32Array view, so NaN payloads never pass through a float register and no
// BigInt is involved.

/**
 * Encodes values[start, end) (at least one value) into gorillaScratch; returns its byte length,
 * or -1 as soon as the output reaches `limitBytes` (it could no longer win). Why the early exit:
 * on decimal data Gorilla loses by ~4x and stops after a quarter of the column
 * (bench/codec.bench.ts "floats encode dense (gauges 2-dec)").
 * Bits are packed MSB-first: `acc` holds the `accBits` (< 32) pending low-order bits, flushed
 * four bytes at a time.
 */
function encodeGorilla(values: Float64Array, start: number, end: number, limitBytes: number): number {
  const n = end - start;
  const need = n * GORILLA_MAX_BYTES_PER_VALUE + 16;
  if (gorillaScratch.length < need) gorillaScratch = new Uint8Array(need * 2);
  const buf = gorillaScratch;
  const words = new Uint32Array(values.buffer, values.byteOffset, values.length * 2);
  let pos = 0;
  let acc = 0;
  let accBits = 0;

  /** Appends the low n bits (1 ≤ n ≤ 32) of the uint32 v; v must have no bits above n. */
  const put = (v: number, nBits: number): void => {
    const free = 32 - accBits;
    if (nBits < free) {
      acc = (acc << nBits) | v;
      accBits += nBits;
      return;
    }
    const over = nBits - free; // bits of v that do not fit the current word
    const word = (free === 32 ? 0 : acc << free) | (v >>> over);
    buf[pos] = word >>> 24;
    buf[pos + 1] = word >>> 16;
    buf[pos + 2] = word >>> 8;
    buf[pos + 3] = word;
    pos += 4;
    acc = over === 0 ? 0 : v & ((1 << over) - 1);
    accBits = over;
  };

  let prevHi = words[2 * start + 1]!;
  let prevLo = words[2 * start]!;
  put(prevHi, 32);
  put(prevLo, 32);
  let winLead = -1; // no window yet: the first non-zero XOR must use '11'
  let winTrail = 0;
  for (let i = start + 1; i < end; i++) {
    if (pos >= limitBytes) return -1;
    const hi = words[2 * i + 1]!;
    const lo = words[2 * i]!;
    const xHi = (hi ^ prevHi) >>> 0;
    const xLo = (lo ^ prevLo) >>> 0;
    prevHi = hi;
    prevLo = lo;
    if (xHi === 0 && xLo === 0) {
      put(0, 1);
      continue;
    }
    let lead = xHi !== 0 ? Math.clz32(xHi) : 32 + Math.clz32(xLo);
    if (lead > 31) lead = 31; // the field is 5 bits
    const trail = xLo !== 0 ? 31 - Math.clz32(xLo & -xLo) : 63 - Math.clz32(xHi & -xHi);
    let shift: number;
    let len: number;
    if (winLead >= 0 && lead >= winLead && trail >= winTrail) {
      put(0b10, 2);
      shift = winTrail;
      len = 64 - winLead - winTrail;
    } else {
      len = 64 - lead - trail;
      put(0b11, 2);
      put(lead, 5);
      put(len - 1, 6);
      winLead = lead;
      winTrail = trail;
      shift = trail;
    }
    // (mHi, mLo) = x >>> shift; it has no bits above len.
    let mHi: number;
    let mLo: number;
    if (shift === 0) {
      mHi = xHi;
      mLo = xLo;
    } else if (shift < 32) {
      mHi = xHi >>> shift;
      mLo = ((xLo >>> shift) | (xHi << (32 - shift))) >>> 0;
    } else {
      mHi = 0;
      mLo = xHi >>> (shift - 32);
    }
    if (len > 32) {
      put(mHi, len - 32);
      put(mLo, 32);
    } else {
      put(mLo, len);
    }
  }
  // Flush the pending bits, zero-padded to a whole byte.
  if (accBits > 0) {
    const word = acc << (32 - accBits);
    const tail = (accBits + 7) >>> 3;
    for (let k = 0; k < tail; k++) buf[pos++] = word >>> (24 - 8 * k);
  }
  return pos >= limitBytes ? -1 : pos;
}

/** Gorilla input copied here with GORILLA_READ_PAD zero bytes after it; module-owned, reused. */
let gorillaReadScratch = new Uint8Array(1 << 16);
/** peekBits may touch up to 4 bytes past the last bit it returns; they must exist and be zero. */
const GORILLA_READ_PAD = 8;

/**
 * The n bits (1 ≤ n ≤ 32) starting at absolute bit `bit` (MSB-first) as a uint32. The caller
 * checks bounds. Why: one 5-byte gather per field instead of a loop per byte or per bit; the
 * zero pad after the stream removes every bounds branch from here
 * (bench/codec.bench.ts "floats decode dense (full-precision walk)").
 */
function peekBits(buf: Uint8Array, bit: number, n: number): number {
  const i = bit >>> 3;
  const off = bit & 7;
  const word = (buf[i]! << 24) | (buf[i + 1]! << 16) | (buf[i + 2]! << 8) | buf[i + 3]!;
  const aligned = off === 0 ? word : (word << off) | (buf[i + 4]! >>> (8 - off));
  return aligned >>> (32 - n);
}

function decodeGorilla(stream: Uint8Array, count: number, out: Float64Array, outStart: number): void {
  if (count === 0) {
    if (stream.length !== 0) throw new RangeError(`Gorilla stream of ${stream.length} bytes for no values`);
    return;
  }
  if (gorillaReadScratch.length < stream.length + GORILLA_READ_PAD) gorillaReadScratch = new Uint8Array((stream.length + GORILLA_READ_PAD) * 2);
  const buf = gorillaReadScratch;
  buf.set(stream);
  buf.fill(0, stream.length, stream.length + GORILLA_READ_PAD);
  const totalBits = stream.length * 8;
  const truncated = (): RangeError => new RangeError(`Gorilla stream of ${stream.length} bytes truncated`);

  const words = new Uint32Array(out.buffer, out.byteOffset, out.length * 2);
  if (totalBits < 64) throw truncated();
  let hi = peekBits(buf, 0, 32);
  let lo = peekBits(buf, 32, 32);
  let bit = 64;
  let o = outStart;
  words[2 * o + 1] = hi;
  words[2 * o] = lo;
  let winLead = -1;
  let winTrail = 0;
  let winLen = 0;
  for (let i = 1; i < count; i++) {
    o++;
    if (bit >= totalBits) throw truncated();
    // Peek both control bits at once ('0' uses only the first).
    const control = peekBits(buf, bit, 2);
    if (control < 2) {
      bit += 1; // '0': same value as the previous one
    } else {
      bit += 2;
      if (control === 2) {
        if (winLead < 0) throw new RangeError('Gorilla stream reuses a window before defining one');
      } else {
        const header = peekBits(buf, bit, 11); // 5 bits leading zeros, 6 bits length - 1
        bit += 11;
        winLead = header >>> 6;
        winLen = (header & 63) + 1;
        winTrail = 64 - winLead - winLen;
        if (winTrail < 0) throw new RangeError(`Gorilla window of ${winLead} + ${winLen} bits exceeds 64`);
      }
      const len = winLen;
      if (bit + len > totalBits) throw truncated();
      let mHi = 0;
      let mLo: number;
      if (len > 32) {
        mHi = peekBits(buf, bit, len - 32);
        mLo = peekBits(buf, bit + len - 32, 32);
      } else {
        mLo = peekBits(buf, bit, len);
      }
      bit += len;
      // x = m << winTrail
      const s = winTrail;
      if (s === 0) {
        hi ^= mHi;
        lo ^= mLo;
      } else if (s < 32) {
        hi ^= (mHi << s) | (mLo >>> (32 - s));
        lo ^= mLo << s;
      } else {
        hi ^= mLo << (s - 32);
      }
      hi >>>= 0;
      lo >>>= 0;
    }
    words[2 * o + 1] = hi;
    words[2 * o] = lo;
  }
  if (bit > totalBits) throw truncated();
  const usedBytes = Math.ceil(bit / 8);
  if (usedBytes !== stream.length) {
    throw new RangeError(`Gorilla stream is ${stream.length} bytes but its values end after ${usedBytes}`);
  }
}

// ---------------------------------------------------------------------------------------------

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
