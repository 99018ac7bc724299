// Float64 column codec (docs/format/codecs.md §Floats): Raw little-endian f64 (the ingest fast
// path; LZ4 runs after), Gorilla XOR bit packing, and decimal scaling to integers. Every
// encoding round-trips bit-exactly (NaN payloads, -0, ±Infinity, subnormals) or is not chosen.
// Owns one column's bytes only; never stores the value count (the block header does).
import type { ByteReader, ByteWriter } from './bytes.js';

/** Encoding byte values (docs/format/codecs.md §Encoding bytes); frozen on-disk values. */
export const FloatEncoding = { Raw: 0, Gorilla: 1, DecimalScaled: 2 } as const;
export type FloatEncoding = (typeof FloatEncoding)[keyof typeof FloatEncoding];
/** 'fast' = ingest (Raw, a memory copy); 'dense' = compaction (smallest of all encodings). */
export type FloatEncodingMode = 'fast' | 'dense';

/** DecimalScaled integer coding byte (docs/format/codecs.md §DecimalScaled). */
const DECIMAL_DELTA = 0;
const DECIMAL_DELTA_OF_DELTA = 1;
const MAX_DECIMAL_EXPONENT = 15;
/** |m| bound for DecimalScaled: keeps deltas within ±2^51 and delta-of-deltas within ±2^52, exact. */
const MAX_SCALED = 2 ** 50;
/** Exact powers of ten as literals (not `10 ** e`), the divisors the format names. */
const POW10 = [1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15] as const;
/** Gorilla worst case per value: 2 control + 5 + 6 + 64 bits = 77 bits < 10 bytes. */
const GORILLA_MAX_BYTES_PER_VALUE = 10;

// Raw copies the Float64Array's memory and the Gorilla code reads words [lo, hi] from a
// Uint32Array view; both are the on-disk little-endian order only on a little-endian host.
if (new Uint8Array(new Float64Array([1]).buffer)[7] !== 0x3f) {
  throw new Error('Strata requires a little-endian host (float columns copy memory as is)');
}

/** Grow-only Gorilla output buffer, module-owned and reused by every dense encode. */
let gorillaScratch = new Uint8Array(1 << 16);
/** Grow-only scaled integers of the DecimalScaled candidate, reused by every dense encode. */
let scaledScratch = new Float64Array(1 << 10);

/**
 * Appends values[start, end) as one column: the encoding byte, then the payload.
 * 'fast' writes Raw: one memory copy through a Uint8Array view (no per-value work).
 * 'dense' sizes Gorilla and DecimalScaled (when every value is an exact short decimal, see the
 * doc) and writes the smallest; Raw when neither is strictly smaller. An empty slice is Raw with
 * no payload. Reads `values` only during the call.
 */
export function encodeFloats(w: ByteWriter, values: Float64Array, start: number, end: number, mode: FloatEncodingMode): void {
  checkSlice(values.length, start, end);
  const n = end - start;
  if (mode === 'fast' || n === 0) {
    w.u8(FloatEncoding.Raw);
    w.raw(new Uint8Array(values.buffer, values.byteOffset + start * 8, n * 8));
    return;
  }
  if (mode !== 'dense') throw new RangeError(`unknown float encoding mode ${String(mode)}`);

  // Sizes exclude the encoding byte. Ties go to Raw, then DecimalScaled (cheapest to decode),
  // so Gorilla must be strictly smaller than the best so far and may give up as soon as it is not.
  const rawBytes = 8 * n;
  const decimal = sizeDecimal(values, start, end);
  const decimalBytes = decimal < 0 ? Infinity : decimal;
  const gorillaLimit = Math.min(rawBytes, decimalBytes);
  const gorillaLen = encodeGorilla(values, start, end, gorillaLimit);
  const gorillaBytes = gorillaLen < 0 ? Infinity : varuintBytes(gorillaLen) + gorillaLen;

  if (decimalBytes <= gorillaBytes && decimalBytes < rawBytes) {
    writeDecimal(w, n);
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

/** Exponent and integer coding chosen by the last sizeDecimal, for writeDecimal. */
let decimalExponentChosen = 0;
let decimalCodingChosen = DECIMAL_DELTA;

/**
 * Byte size of the DecimalScaled payload (after the encoding byte), or -1 when the values do not
 * qualify. Leaves the scaled integers in scaledScratch for writeDecimal.
 */
function sizeDecimal(values: Float64Array, start: number, end: number): number {
  const e = decimalExponent(values, start, end);
  if (e < 0) return -1;
  const n = end - start;
  if (scaledScratch.length < n) scaledScratch = new Float64Array(n * 2);
  const ms = scaledScratch;
  const p = POW10[e]!;
  let deltaBytes = 0;
  let dodBytes = 0;
  let prev = 0;
  let prevDelta = 0;
  for (let k = 0; k < n; k++) {
    const m = Math.round(values[start + k]! * p);
    ms[k] = m;
    const delta = m - prev;
    deltaBytes += zigzagBytes(delta);
    dodBytes += zigzagBytes(k < 2 ? delta : delta - prevDelta);
    prevDelta = delta;
    prev = m;
  }
  decimalExponentChosen = e;
  decimalCodingChosen = dodBytes < deltaBytes ? DECIMAL_DELTA_OF_DELTA : DECIMAL_DELTA;
  return 2 + Math.min(deltaBytes, dodBytes);
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

/** LEB128 byte count of zigzag(v) for an integer |v| ≤ 2^52. */
function zigzagBytes(v: number): number {
  const z = v >= 0 ? v * 2 : -v * 2 - 1;
  return varuintBytes(z);
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
