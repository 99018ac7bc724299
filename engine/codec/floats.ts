// Float column codec (docs/format/codecs.md §Floats): Raw little-endian f64 (the ingest fast
// path), Gorilla XOR bit packing, or decimal scaling to integers. Every encoding round-trips
// bit-exactly (NaN payloads, -0, ±Infinity, subnormals); 'dense' picks the smallest.
import { ByteWriter, type ByteReader } from './bytes.js';

export const FloatEncoding = { Raw: 0, Gorilla: 1, DecimalScaled: 2 } as const;
export type FloatEncoding = (typeof FloatEncoding)[keyof typeof FloatEncoding];
export type FloatEncodingMode = 'fast' | 'dense';

/** Largest |integer| decimal scaling stores, so deltas stay within ±2^52 and exact. */
const MAX_SCALED = 2 ** 51;
const MAX_DECIMAL_EXPONENT = 15;
const POW10 = Array.from({ length: MAX_DECIMAL_EXPONENT + 1 }, (_, e) => 10 ** e);

// Raw copies the Float64Array's bytes; that is little-endian only on little-endian hosts.
if (new Uint8Array(new Float64Array([1]).buffer)[7] !== 0x3f) {
  throw new Error('Strata requires a little-endian host (Raw float columns copy memory as is)');
}

const scratchDense = new ByteWriter(1 << 16);
const bits = new Float64Array(1);
const bitsWords = new Uint32Array(bits.buffer); // [lo, hi] on little-endian hosts

/**
 * Appends values[start, end) with an encoding byte. 'fast' = Raw (a memory copy; LZ4 runs after).
 * 'dense' = the smallest of Gorilla, DecimalScaled (when every value is an exact short decimal)
 * and Raw.
 */
export function encodeFloats(w: ByteWriter, values: Float64Array, start: number, end: number, mode: FloatEncodingMode): void {
  if (mode === 'fast' || end - start < 2) {
    writeRaw(w, values, start, end);
    return;
  }
  const n = end - start;
  let bestBytes = 8 * n;
  let best: FloatEncoding = FloatEncoding.Raw;
  const scratch = scratchDense;
  scratch.reset();
  const exponent = decimalExponent(values, start, end);
  if (exponent >= 0) {
    writeDecimal(scratch, values, start, end, exponent);
    if (scratch.length < bestBytes) {
      bestBytes = scratch.length;
      best = FloatEncoding.DecimalScaled;
    }
  }
  const decimalBytes = scratch.bytes().slice();
  scratch.reset();
  writeGorilla(scratch, values, start, end);
  if (scratch.length < bestBytes) {
    best = FloatEncoding.Gorilla;
  }
  if (best === FloatEncoding.Raw) writeRaw(w, values, start, end);
  else if (best === FloatEncoding.Gorilla) {
    w.u8(FloatEncoding.Gorilla);
    w.raw(scratch.bytes());
  } else {
    w.u8(FloatEncoding.DecimalScaled);
    w.raw(decimalBytes);
  }
}

export function decodeFloats(r: ByteReader, count: number, out: Float64Array, outStart: number): void {
  const encoding = r.u8();
  switch (encoding) {
    case FloatEncoding.Raw: {
      const src = r.raw(count * 8);
      new Uint8Array(out.buffer, out.byteOffset + outStart * 8, count * 8).set(src);
      return;
    }
    case FloatEncoding.Gorilla:
      readGorilla(r, count, out, outStart);
      return;
    case FloatEncoding.DecimalScaled: {
      const e = r.u8();
      if (e > MAX_DECIMAL_EXPONENT) throw new RangeError(`decimal exponent ${e} out of range`);
      const scale = POW10[e]!;
      let m = 0;
      for (let i = 0; i < count; i++) {
        m = i === 0 ? r.varint() : m + r.varint();
        out[outStart + i] = m / scale;
      }
      return;
    }
    default:
      throw new RangeError(`unknown float encoding ${encoding}`);
  }
}

function writeRaw(w: ByteWriter, values: Float64Array, start: number, end: number): void {
  w.u8(FloatEncoding.Raw);
  w.raw(new Uint8Array(values.buffer, values.byteOffset + start * 8, (end - start) * 8));
}

/** Smallest e ≤ 15 with every value === round(v·10^e)/10^e exactly, or -1. */
function decimalExponent(values: Float64Array, start: number, end: number): number {
  let e = 0;
  for (let i = start; i < end; i++) {
    const v = values[i]!;
    if (!Number.isFinite(v) || Object.is(v, -0)) return -1;
    while (e <= MAX_DECIMAL_EXPONENT) {
      const m = Math.round(v * POW10[e]!);
      if (Math.abs(m) <= MAX_SCALED && m / POW10[e]! === v) break;
      e++;
    }
    if (e > MAX_DECIMAL_EXPONENT) return -1;
  }
  return e;
}

function writeDecimal(w: ByteWriter, values: Float64Array, start: number, end: number, e: number): void {
  w.u8(e);
  const scale = POW10[e]!;
  let prev = 0;
  for (let i = start; i < end; i++) {
    const m = Math.round(values[i]! * scale);
    w.varint(i === start ? m : m - prev);
    prev = m;
  }
}

/** MSB-first bit packer on top of a ByteWriter. */
class BitWriter {
  private acc = 0;
  private used = 0;
  constructor(private readonly w: ByteWriter) {}
  /** Writes the low `n` bits of `v` (n ≤ 24 per call keeps `acc` within 32 bits). */
  private put(v: number, n: number): void {
    this.acc = (this.acc << n) | (v & ((1 << n) - 1));
    this.used += n;
    while (this.used >= 8) {
      this.used -= 8;
      this.w.u8((this.acc >>> this.used) & 0xff);
    }
    this.acc &= (1 << this.used) - 1;
  }
  /** Writes the low n ≤ 32 bits of a uint32. */
  bits32(v: number, n: number): void {
    if (n > 16) {
      this.put(v >>> 16, n - 16);
      this.put(v & 0xffff, 16);
    } else if (n > 0) this.put(v, n);
  }
  /** Writes the low n ≤ 64 bits of (hi, lo). */
  bits64(hi: number, lo: number, n: number): void {
    if (n > 32) {
      this.bits32(hi, n - 32);
      this.bits32(lo, 32);
    } else this.bits32(lo, n);
  }
  flush(): void {
    if (this.used > 0) this.w.u8((this.acc << (8 - this.used)) & 0xff);
    this.acc = 0;
    this.used = 0;
  }
}

class BitReader {
  private byte = 0;
  private left = 0;
  constructor(private readonly r: ByteReader) {}
  bit(): number {
    if (this.left === 0) {
      this.byte = this.r.u8();
      this.left = 8;
    }
    this.left--;
    return (this.byte >>> this.left) & 1;
  }
  /** Reads n ≤ 32 bits as a uint32. */
  bits32(n: number): number {
    let v = 0;
    for (let i = 0; i < n; i++) v = ((v << 1) | this.bit()) >>> 0;
    return v;
  }
}

function clz64(hi: number, lo: number): number {
  return hi !== 0 ? Math.clz32(hi) : 32 + Math.clz32(lo);
}

function ctz32(x: number): number {
  return x === 0 ? 32 : 31 - Math.clz32(x & -x);
}

function ctz64(hi: number, lo: number): number {
  return lo !== 0 ? ctz32(lo) : 32 + ctz32(hi);
}

/** (hi, lo) >>> s for 0 ≤ s < 64, as [hi, lo]. */
function shr64(hi: number, lo: number, s: number): [number, number] {
  if (s === 0) return [hi, lo];
  if (s >= 32) return [0, hi >>> (s - 32)];
  return [hi >>> s, ((lo >>> s) | (hi << (32 - s))) >>> 0];
}

/** (hi, lo) << s for 0 ≤ s < 64, as [hi, lo]. */
function shl64(hi: number, lo: number, s: number): [number, number] {
  if (s === 0) return [hi, lo];
  if (s >= 32) return [(lo << (s - 32)) >>> 0, 0];
  return [((hi << s) | (lo >>> (32 - s))) >>> 0, (lo << s) >>> 0];
}

/**
 * Gorilla (Pelkonen et al., VLDB 2015): first value 64 bits; then per value the XOR with the
 * previous: '0' if zero; '10' + meaningful bits if they fit the previous window; else '11' +
 * 5 bits leading-zero count (capped at 31) + 6 bits meaningful length (64 stored as 0) + bits.
 */
function writeGorilla(w: ByteWriter, values: Float64Array, start: number, end: number): void {
  const bw = new BitWriter(w);
  let prevHi = 0;
  let prevLo = 0;
  let winLead = -1;
  let winTrail = 0;
  for (let i = start; i < end; i++) {
    bits[0] = values[i]!;
    const lo = bitsWords[0]!;
    const hi = bitsWords[1]!;
    if (i === start) {
      bw.bits64(hi, lo, 64);
    } else {
      const xHi = (hi ^ prevHi) >>> 0;
      const xLo = (lo ^ prevLo) >>> 0;
      if (xHi === 0 && xLo === 0) {
        bw.bits32(0, 1);
      } else {
        const lead = Math.min(31, clz64(xHi, xLo));
        const trail = ctz64(xHi, xLo);
        if (winLead >= 0 && lead >= winLead && trail >= winTrail) {
          bw.bits32(0b10, 2);
          const [mHi, mLo] = shr64(xHi, xLo, winTrail);
          bw.bits64(mHi, mLo, 64 - winLead - winTrail);
        } else {
          const len = 64 - lead - trail;
          bw.bits32(0b11, 2);
          bw.bits32(lead, 5);
          bw.bits32(len & 63, 6);
          const [mHi, mLo] = shr64(xHi, xLo, trail);
          bw.bits64(mHi, mLo, len);
          winLead = lead;
          winTrail = trail;
        }
      }
    }
    prevHi = hi;
    prevLo = lo;
  }
  bw.flush();
}

function readBits64(br: BitReader, n: number): [number, number] {
  if (n > 32) {
    const hi = br.bits32(n - 32);
    return [hi, br.bits32(32)];
  }
  return [0, br.bits32(n)];
}

function readGorilla(r: ByteReader, count: number, out: Float64Array, outStart: number): void {
  if (count === 0) return;
  const br = new BitReader(r);
  let [hi, lo] = readBits64(br, 64);
  bitsWords[0] = lo;
  bitsWords[1] = hi;
  out[outStart] = bits[0]!;
  let winLead = -1;
  let winTrail = 0;
  for (let i = 1; i < count; i++) {
    if (br.bit() === 1) {
      let len: number;
      if (br.bit() === 0) {
        if (winLead < 0) throw new RangeError('Gorilla stream reuses a window before defining one');
        len = 64 - winLead - winTrail;
      } else {
        winLead = br.bits32(5);
        len = br.bits32(6) || 64;
        winTrail = 64 - winLead - len;
        if (winTrail < 0) throw new RangeError('Gorilla window wider than 64 bits');
      }
      const [mHi, mLo] = readBits64(br, len);
      const [xHi, xLo] = shl64(mHi, mLo, winTrail);
      hi = (hi ^ xHi) >>> 0;
      lo = (lo ^ xLo) >>> 0;
    }
    bitsWords[0] = lo;
    bitsWords[1] = hi;
    out[outStart + i] = bits[0]!;
  }
}
