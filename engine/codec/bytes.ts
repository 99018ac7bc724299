// Growable little-endian byte writer and a bounds-checked cursor reader: the primitives every
// on-disk structure is built from (docs/format/primitives.md). Never does I/O; a reader that runs
// past its end throws CorruptionError-friendly RangeErrors instead of reading garbage.

const TWO_POW_32 = 0x1_0000_0000;
const textEncoder = new TextEncoder();
// ignoreBOM: a leading U+FEFF is part of the stored string, not a byte-order mark to strip.
const textDecoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Appends little-endian fields to a growable buffer. `bytes()` returns a view of the written
 * prefix that stays valid until the next write or `reset()`; copy it if it must outlive those.
 */
export class ByteWriter {
  private buf: Uint8Array;
  private view: DataView;
  private pos = 0;

  constructor(initialBytes = 4096) {
    this.buf = new Uint8Array(Math.max(16, initialBytes));
    this.view = new DataView(this.buf.buffer);
  }

  get length(): number {
    return this.pos;
  }

  reset(): void {
    this.pos = 0;
  }

  /** Makes room for `n` more bytes (amortised doubling). */
  ensure(n: number): void {
    const need = this.pos + n;
    if (need <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < need) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  u8(v: number): void {
    this.ensure(1);
    this.buf[this.pos++] = v;
  }

  u16(v: number): void {
    this.ensure(2);
    this.view.setUint16(this.pos, v, true);
    this.pos += 2;
  }

  u32(v: number): void {
    this.ensure(4);
    this.view.setUint32(this.pos, v, true);
    this.pos += 4;
  }

  i32(v: number): void {
    this.ensure(4);
    this.view.setInt32(this.pos, v, true);
    this.pos += 4;
  }

  f64(v: number): void {
    this.ensure(8);
    this.view.setFloat64(this.pos, v, true);
    this.pos += 8;
  }

  i64(v: bigint): void {
    this.ensure(8);
    this.view.setBigInt64(this.pos, v, true);
    this.pos += 8;
  }

  /** Signed 64-bit from a JS number that must be an integer with |v| ≤ 2^53. */
  i64n(v: number): void {
    this.ensure(8);
    const lo = v % TWO_POW_32;
    const hi = Math.floor(v / TWO_POW_32);
    this.view.setUint32(this.pos, lo < 0 ? lo + TWO_POW_32 : lo, true);
    this.view.setInt32(this.pos + 4, hi, true);
    this.pos += 8;
  }

  /** Unsigned LEB128 of an integer 0 ≤ v ≤ 2^53 (values above 2^31 use arithmetic, not bit ops). */
  varuint(v: number): void {
    this.ensure(10);
    const buf = this.buf;
    let pos = this.pos;
    while (v >= 0x80) {
      if (v < TWO_POW_32) {
        buf[pos++] = (v & 0x7f) | 0x80;
        v >>>= 7;
      } else {
        buf[pos++] = (v % 128) | 0x80;
        v = Math.floor(v / 128);
      }
    }
    buf[pos++] = v;
    this.pos = pos;
  }

  /**
   * varuint(values[i]) for every i, in order: the same bytes, one capacity check for the whole
   * array and a loop V8 keeps tight. For the per-block ref lists of a segment footer (millions of
   * refs per sealed segment) and per-run block columns. Bench: bench/append.bench.ts (seals).
   */
  varuints(values: Uint32Array): void {
    this.ensure(5 * values.length);
    const buf = this.buf;
    let pos = this.pos;
    for (let i = 0; i < values.length; i++) {
      let v = values[i]!;
      while (v >= 0x80) {
        buf[pos++] = (v & 0x7f) | 0x80;
        v >>>= 7;
      }
      buf[pos++] = v;
    }
    this.pos = pos;
  }

  /** Zig-zag then LEB128 of an integer with |v| ≤ 2^52. */
  varint(v: number): void {
    this.varuint(v >= 0 ? v * 2 : -v * 2 - 1);
  }

  raw(src: Uint8Array): void {
    this.ensure(src.length);
    this.buf.set(src, this.pos);
    this.pos += src.length;
  }

  /** varuint byte length, then the UTF-8 bytes. */
  string(s: string): void {
    // Short ASCII strings (metric names, tag keys and values, nearly always) are copied unit by
    // unit: for a few dozen bytes a plain loop costs a fraction of a TextEncoder call (a TSBS
    // series key, 17 strings, encoded in 0.83 instead of 2.3 µs; bench/first-sight.bench.ts measures
    // the whole new-series path). The first non-ASCII unit abandons the copy (pos has not moved)
    // for the general path, which rewrites those bytes.
    const n = s.length;
    if (n < 0x80) {
      this.ensure(1 + n);
      const buf = this.buf;
      const start = this.pos + 1;
      let i = 0;
      for (; i < n; i++) {
        const c = s.charCodeAt(i);
        if (c >= 0x80) break;
        buf[start + i] = c;
      }
      if (i === n) {
        buf[this.pos] = n; // varuint(n): one byte below 0x80
        this.pos = start + n;
        return;
      }
    }
    // Worst case 3 bytes per UTF-16 unit; encodeInto avoids an intermediate allocation.
    this.ensure(10 + s.length * 3);
    const start = this.pos;
    const scratch = this.buf.subarray(start + 10);
    const { written } = textEncoder.encodeInto(s, scratch);
    // Write the length, then move the bytes down to sit right after it.
    this.varuint(written);
    this.buf.copyWithin(this.pos, start + 10, start + 10 + written);
    this.pos += written;
  }

  /** View of the written bytes; valid until the next write or reset. */
  bytes(): Uint8Array {
    return this.buf.subarray(0, this.pos);
  }

  /** Patches a u32 at an absolute offset already written. */
  setU32At(offset: number, v: number): void {
    this.view.setUint32(offset, v, true);
  }
}

/** Cursor over a byte range; every read checks bounds and throws RangeError past the end. */
export class ByteReader {
  private readonly view: DataView;
  pos: number;
  readonly end: number;

  constructor(
    readonly buf: Uint8Array,
    start = 0,
    end = buf.length,
  ) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    this.pos = start;
    this.end = end;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  private need(n: number): void {
    if (this.pos + n > this.end) {
      throw new RangeError(`read of ${n} bytes at ${this.pos} runs past end ${this.end}`);
    }
  }

  u8(): number {
    this.need(1);
    return this.buf[this.pos++]!;
  }

  u16(): number {
    this.need(2);
    const v = this.view.getUint16(this.pos, true);
    this.pos += 2;
    return v;
  }

  u32(): number {
    this.need(4);
    const v = this.view.getUint32(this.pos, true);
    this.pos += 4;
    return v;
  }

  i32(): number {
    this.need(4);
    const v = this.view.getInt32(this.pos, true);
    this.pos += 4;
    return v;
  }

  f64(): number {
    this.need(8);
    const v = this.view.getFloat64(this.pos, true);
    this.pos += 8;
    return v;
  }

  i64(): bigint {
    this.need(8);
    const v = this.view.getBigInt64(this.pos, true);
    this.pos += 8;
    return v;
  }

  /** Signed 64-bit read as a JS number; exact for |v| ≤ 2^53. */
  i64n(): number {
    this.need(8);
    const lo = this.view.getUint32(this.pos, true);
    const hi = this.view.getInt32(this.pos + 4, true);
    this.pos += 8;
    return hi * TWO_POW_32 + lo;
  }

  varuint(): number {
    let result = 0;
    let scale = 1;
    for (let i = 0; i < 8; i++) {
      this.need(1);
      const b = this.buf[this.pos++]!;
      result += (b & 0x7f) * scale;
      if (b < 0x80) return result;
      scale *= 128;
    }
    throw new RangeError(`varuint at ${this.pos} is longer than 8 bytes`);
  }

  varint(): number {
    const z = this.varuint();
    return z % 2 === 0 ? z / 2 : -(z + 1) / 2;
  }

  /** Zero-copy view of the next n bytes. */
  raw(n: number): Uint8Array {
    this.need(n);
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  string(): string {
    const n = this.varuint();
    return textDecoder.decode(this.raw(n));
  }
}
