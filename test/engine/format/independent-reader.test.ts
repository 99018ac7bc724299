// A reader of the v1 on-disk format written from docs/format/*.md alone — the test that a newcomer
// can read the files without opening the code. It imports nothing from engine/ (not even CRC-32C
// or LZ4: both are implemented here from primitives.md), decodes every file of the golden fixture
// test/fixtures/format-v1/, and checks it against the data set of test/fixtures/format-v1-data.ts,
// restated below as the appends, deletes and compactions that wrote it. Where the documents and
// the bytes disagree, this file fails; fix the document, never the fixture.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';

const FIXTURE = fileURLToPath(new URL('../../fixtures/format-v1/', import.meta.url));
const T0 = 1_700_000_000_000;
const DAY = 86_400_000;

// =================================================================================================
// primitives.md
// =================================================================================================

/** CRC-32C: reflected polynomial 0x82F63B78, init and final XOR 0xFFFFFFFF, over the parts in order. */
const CRC_TABLE = ((): Uint32Array => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

function crc32c(...parts: Uint8Array[]): number {
  let c = 0xffffffff;
  for (const part of parts) for (const b of part) c = CRC_TABLE[(c ^ b) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** One LZ4 block (not a frame): sequences of token, literals, 2-byte offset, match. */
function lz4Block(src: Uint8Array, rawBytes: number): Uint8Array {
  const out = new Uint8Array(rawBytes);
  let ip = 0;
  let op = 0;
  const length = (n: number): number => {
    if (n !== 15) return n;
    for (;;) {
      if (ip >= src.length) throw new RangeError('LZ4 length runs past the block');
      const b = src[ip++]!;
      n += b;
      if (b !== 255) return n;
    }
  };
  while (ip < src.length) {
    const token = src[ip++]!;
    const literals = length(token >>> 4);
    if (ip + literals > src.length || op + literals > rawBytes) throw new RangeError('LZ4 literals overrun');
    out.set(src.subarray(ip, ip + literals), op);
    ip += literals;
    op += literals;
    if (ip === src.length) break; // the last sequence has literals only
    if (ip + 2 > src.length) throw new RangeError('LZ4 offset truncated');
    const offset = src[ip]! | (src[ip + 1]! << 8);
    ip += 2;
    const match = length(token & 15) + 4;
    if (offset === 0 || offset > op || op + match > rawBytes) throw new RangeError('LZ4 match out of range');
    for (let i = 0; i < match; i++, op++) out[op] = out[op - offset]!;
  }
  if (op !== rawBytes) throw new RangeError(`LZ4 block decoded to ${op} bytes, expected ${rawBytes}`);
  return out;
}

/** The LZ4 stored form: u32 raw length (must equal the header's), then one LZ4 block. */
function unstore(stored: Uint8Array, rawBytes: number): Uint8Array {
  expect(new DataView(stored.buffer, stored.byteOffset, 4).getUint32(0, true)).toBe(rawBytes);
  return lz4Block(stored.subarray(4), rawBytes);
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const alignUp8 = (n: number): number => Math.ceil(n / 8) * 8;

/** Bounds-checked little-endian cursor. */
class Cursor {
  pos: number;
  private readonly view: DataView;
  constructor(
    readonly b: Uint8Array,
    start = 0,
    readonly end = b.length,
  ) {
    this.pos = start;
    this.view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  }
  get left(): number {
    return this.end - this.pos;
  }
  private take(n: number): number {
    if (this.pos + n > this.end) throw new RangeError(`read of ${n} at ${this.pos} past ${this.end}`);
    const at = this.pos;
    this.pos += n;
    return at;
  }
  u8(): number {
    return this.b[this.take(1)]!;
  }
  u16(): number {
    return this.view.getUint16(this.take(2), true);
  }
  u32(): number {
    return this.view.getUint32(this.take(4), true);
  }
  i64(): bigint {
    return this.view.getBigInt64(this.take(8), true);
  }
  /** An i64 header field: a JavaScript number, |v| ≤ 2^53 or the structure is corrupt. */
  i64n(): number {
    const v = this.i64();
    if (v > 2n ** 53n || v < -(2n ** 53n)) throw new RangeError(`i64 field ${v} beyond ±2^53`);
    return Number(v);
  }
  f64(): number {
    return this.view.getFloat64(this.take(8), true);
  }
  bytes(n: number): Uint8Array {
    const at = this.take(n);
    return this.b.subarray(at, at + n);
  }
  /** LEB128, at most 8 bytes (values ≤ 2^53 on the wire). */
  varuint(): number {
    let v = 0;
    for (let i = 0; i < 8; i++) {
      const byte = this.u8();
      v += (byte & 0x7f) * 2 ** (7 * i);
      if (byte < 0x80) return v;
    }
    throw new RangeError('varuint longer than 8 bytes');
  }
  varint(): number {
    const z = this.varuint();
    return z % 2 === 0 ? z / 2 : -(z + 1) / 2;
  }
  /** The 64-bit varint of the DeltaZigzag int column: ≤ 10 bytes, the 10th only 00 or 01. */
  varuint64(): bigint {
    let z = 0n;
    for (let i = 0; i < 10; i++) {
      const byte = this.u8();
      if (i === 9 && byte > 1) throw new RangeError('varint64 beyond 64 bits');
      z |= BigInt(byte & 0x7f) << BigInt(7 * i);
      if (byte < 0x80) return z;
    }
    throw new RangeError('varint64 longer than 10 bytes');
  }
  string(): string {
    return utf8.decode(this.bytes(this.varuint()));
  }
}

// =================================================================================================
// series-key.md
// =================================================================================================

interface Key {
  readonly metric: string;
  /** Sorted as stored (by UTF-8 bytes). */
  readonly tags: readonly (readonly [string, string])[];
}

/** Binary form v1: string metric, varuint tag count, (string key, string value) × count. */
function seriesKey(c: Cursor): Key {
  const start = c.pos;
  const metric = c.string();
  const count = c.varuint();
  const tags: [string, string][] = [];
  let previous: Uint8Array | undefined;
  for (let i = 0; i < count; i++) {
    const keyBytes = c.bytes(c.varuint());
    // Tag keys strictly increasing by their UTF-8 bytes (sorted, no duplicates).
    if (previous !== undefined) expect(Buffer.compare(previous, keyBytes)).toBeLessThan(0);
    previous = keyBytes;
    tags.push([utf8.decode(keyBytes), c.string()]);
  }
  expect(c.pos - start).toBeLessThanOrEqual(65_536);
  return { metric, tags };
}

const escapeCanonical = (s: string): string => s.replace(/[\\{},=]/g, '\\$&');
const canonicalCache = new WeakMap<Key, string>();

/** §Canonical string: metric{k=v,…}, tags by UTF-16 code units, `\ { } , =` escaped. */
function canonical(key: Key): string {
  let s = canonicalCache.get(key);
  if (s === undefined) {
    const tags = [...key.tags].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    s = `${escapeCanonical(key.metric)}{${tags.map(([k, v]) => `${escapeCanonical(k)}=${escapeCanonical(v)}`).join(',')}}`;
    canonicalCache.set(key, s);
  }
  return s;
}

// =================================================================================================
// codecs.md
// =================================================================================================

/** Which encoding each column of a block used, e.g. "floats:Gorilla", and its runs layout, e.g. "runs:columns". */
type Encodings = Set<string>;

function timestampsColumn(c: Cursor, n: number, seen: Encodings): number[] {
  const encoding = c.u8();
  const out: number[] = [];
  if (encoding === 0) {
    seen.add('timestamps:Raw');
    for (let i = 0; i < n; i++) out.push(Number(c.i64()));
    return out;
  }
  expect(encoding).toBe(1);
  seen.add('timestamps:DeltaOfDelta');
  let t = 0;
  let delta = 0;
  for (let k = 0; k < n; k++) {
    const v = c.varint();
    if (k === 0) t = v;
    else {
      delta = k === 1 ? v : delta + v;
      t += delta;
    }
    out.push(t);
  }
  return out;
}

/** Bits of a Gorilla stream, most significant bit of each byte first. */
class BitReader {
  bit = 0;
  constructor(private readonly b: Uint8Array) {}
  read(n: number): bigint {
    let v = 0n;
    for (let i = 0; i < n; i++, this.bit++) {
      if (this.bit >= this.b.length * 8) throw new RangeError('Gorilla stream ends early');
      v = (v << 1n) | BigInt((this.b[this.bit >>> 3]! >>> (7 - (this.bit & 7))) & 1);
    }
    return v;
  }
}

const MASK64 = (1n << 64n) - 1n;
const f64FromBits = (bits: bigint): number => {
  const dv = new DataView(new ArrayBuffer(8));
  dv.setBigUint64(0, bits, true);
  return dv.getFloat64(0, true);
};

function floatsColumn(c: Cursor, n: number, seen: Encodings): number[] {
  const encoding = c.u8();
  const out: number[] = [];
  if (encoding === 0) {
    seen.add('floats:Raw');
    for (let i = 0; i < n; i++) out.push(c.f64());
  } else if (encoding === 1) {
    seen.add('floats:Gorilla');
    const streamBytes = c.varuint();
    const bits = new BitReader(c.bytes(streamBytes));
    let pattern = bits.read(64);
    out.push(f64FromBits(pattern));
    let window: { lead: number; meaningful: number } | undefined;
    for (let k = 1; k < n; k++) {
      if (bits.read(1) === 1n) {
        if (bits.read(1) === 1n) {
          const lead = Number(bits.read(5));
          const meaningful = Number(bits.read(6)) + 1;
          expect(lead + meaningful).toBeLessThanOrEqual(64);
          window = { lead, meaningful };
        } else if (window === undefined) {
          throw new RangeError("Gorilla '10' before any '11'");
        }
        const m = bits.read(window.meaningful);
        pattern = (pattern ^ (m << BigInt(64 - window.lead - window.meaningful))) & MASK64;
      }
      out.push(f64FromBits(pattern));
    }
    expect(streamBytes).toBe(Math.ceil(bits.bit / 8));
  } else if (encoding === 2) {
    seen.add('floats:DecimalScaled');
    const e = c.u8();
    const coding = c.u8();
    expect(e).toBeLessThanOrEqual(15);
    expect([0, 1]).toContain(coding);
    const ws: number[] = [];
    for (let k = 0; k < n; k++) ws.push(c.varint());
    out.push(...decimalValues(ws, e, coding));
  } else {
    // DecimalPacked: DecimalScaled's e, coding and wₖ; the head as varints, the rest zig-zag
    // fields in groups of 128 (u8 width, then the fields least significant bit first).
    expect(encoding).toBe(3);
    seen.add('floats:DecimalPacked');
    const e = c.u8();
    const coding = c.u8();
    expect(e).toBeLessThanOrEqual(15);
    expect([0, 1]).toContain(coding);
    const ws: number[] = [];
    const head = Math.min(n, coding === 1 ? 2 : 1);
    for (let k = 0; k < head; k++) ws.push(c.varint());
    while (ws.length < n) {
      const width = c.u8();
      expect(width).toBeLessThanOrEqual(54);
      const g = Math.min(128, n - ws.length);
      const bits = new LsbBitReader(c.bytes(Math.ceil((g * width) / 8)));
      for (let i = 0; i < g; i++) {
        const z = bits.read(width);
        ws.push(Number(z % 2n === 0n ? z / 2n : -(z + 1n) / 2n));
      }
    }
    out.push(...decimalValues(ws, e, coding));
  }
  return out;
}

/** Bits of a DecimalPacked group, least significant bit of each byte first; fields low bit first. */
class LsbBitReader {
  bit = 0;
  constructor(private readonly b: Uint8Array) {}
  read(n: number): bigint {
    let v = 0n;
    for (let j = 0; j < n; j++, this.bit++) v |= BigInt((this.b[this.bit >>> 3]! >>> (this.bit & 7)) & 1) << BigInt(j);
    return v;
  }
}

/** DecimalScaled's integers back to values: mₖ from the wₖ of `coding`, then mₖ / 10^e. */
function decimalValues(ws: readonly number[], e: number, coding: number): number[] {
  const scale = Number(`1e${e}`);
  const out: number[] = [];
  let m = 0;
  let delta = 0;
  ws.forEach((w, k) => {
    delta = coding === 1 && k >= 2 ? delta + w : w;
    m += delta;
    expect(Math.abs(m)).toBeLessThanOrEqual(2 ** 50);
    out.push(m / scale);
  });
  return out;
}

function intsColumn(c: Cursor, n: number, seen: Encodings): bigint[] {
  const encoding = c.u8();
  const out: bigint[] = [];
  if (encoding === 0) {
    seen.add('ints:Raw');
    for (let i = 0; i < n; i++) out.push(c.i64());
    return out;
  }
  expect(encoding).toBe(1);
  seen.add('ints:DeltaZigzag');
  let v = 0n;
  for (let k = 0; k < n; k++) {
    const z = c.varuint64();
    const d = (z >> 1n) ^ -(z & 1n);
    v = BigInt.asIntN(64, v + d);
    out.push(v);
  }
  return out;
}

function stringsColumn(c: Cursor, n: number, seen: Encodings, what: string): string[] {
  expect(c.u8()).toBe(0);
  seen.add(`${what}:Dictionary`);
  const distinct = c.varuint();
  expect(distinct).toBeLessThanOrEqual(n);
  const dictionary: string[] = [];
  for (let i = 0; i < distinct; i++) dictionary.push(c.string());
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const index = c.varuint();
    expect(index).toBeLessThan(distinct);
    out.push(dictionary[index]!);
  }
  return out;
}

// =================================================================================================
// block.md
// =================================================================================================

type Value = number | bigint | string | { readonly json: string };

interface Run {
  readonly ref: number;
  readonly count: number;
  readonly ttlSeconds: number;
}

interface Block {
  readonly offset: number;
  readonly flags: number;
  readonly blockBytes: number;
  readonly pointCount: number;
  readonly minTimestampMs: number;
  readonly maxTimestampMs: number;
  readonly sequence: number;
  readonly writtenAtMs: number;
  readonly firstNewSeriesRef: number;
  readonly newSeries: Key[];
  readonly runs: Run[];
  readonly timestampsMs: number[];
  readonly values: Value[];
  readonly encodings: Encodings;
}

/** §Runs, v1 layout (flag RUN_COLUMNS clear): varuint ref, pointCount, ttlSeconds per run. */
function runTriples(c: Cursor, runCount: number, seen: Encodings): Run[] {
  seen.add('runs:v1');
  const runs: Run[] = [];
  for (let i = 0; i < runCount; i++) runs.push({ ref: c.varuint(), count: c.varuint(), ttlSeconds: c.varuint() });
  return runs;
}

const U32_MAX = 2 ** 32 - 1;

/**
 * §Runs, run columns layout (flag RUN_COLUMNS set): runCount zig-zag varints, each the ref minus
 * (the previous run's ref + 1), run 0's previous ref being −1; then the point counts and the TTL
 * seconds, each a run column: u8 mode 0 + one varuint for every run, or mode 1 + one per run.
 * A ref outside 0 … 2^32 − 1, a value above 2^32 − 1 or another mode is corruption.
 */
function runColumns(c: Cursor, runCount: number, seen: Encodings): Run[] {
  seen.add('runs:columns');
  const refs: number[] = [];
  let previous = -1;
  for (let i = 0; i < runCount; i++) {
    const ref = previous + 1 + c.varint();
    if (ref < 0 || ref > U32_MAX) throw new RangeError(`run ${i}: ref ${ref} out of range`);
    refs.push(ref);
    previous = ref;
  }
  const column = (what: string): number[] => {
    const mode = c.u8();
    let values: number[];
    if (mode === 0) values = new Array<number>(runCount).fill(c.varuint());
    else if (mode === 1) values = Array.from({ length: runCount }, () => c.varuint());
    else throw new RangeError(`run ${what}: unknown mode ${mode}`);
    if (values.some((v) => v > U32_MAX)) throw new RangeError(`run ${what}: value above 2^32 − 1`);
    seen.add(`${what}:${mode === 0 ? 'uniform' : 'perRun'}`);
    return values;
  };
  const counts = column('runCounts');
  const ttls = column('runTtls');
  return refs.map((ref, i) => ({ ref, count: counts[i]!, ttlSeconds: ttls[i]! }));
}

/** The block at `at`, or the reason a walk stops there. */
function block(b: Uint8Array, at: number): Block | string {
  if (b.length - at < 72) return 'truncated block header';
  const h = new Cursor(b, at);
  const magic = h.u32();
  if (magic === 0) return 'end of blocks';
  if (magic !== 0x4b425453) return 'bad block magic';
  const version = h.u8();
  const flags = h.u8();
  const reserved = h.u16();
  const blockBytes = h.u32();
  const payloadStoredBytes = h.u32();
  const payloadRawBytes = h.u32();
  const pointCount = h.u32();
  const runCount = h.u32();
  const newSeriesCount = h.u32();
  const minTimestampMs = h.i64n();
  const maxTimestampMs = h.i64n();
  const sequence = h.i64n();
  const writtenAtMs = h.i64n();
  const firstNewSeriesRef = h.u32();
  const crc = h.u32();
  if (version !== 1) return 'unsupported block version';
  if (blockBytes !== alignUp8(72 + payloadStoredBytes)) return 'block length disagrees with payload length';
  if (at + blockBytes > b.length) return 'block runs past the end';
  if (crc !== crc32c(b.subarray(at, at + 68), b.subarray(at + 72, at + blockBytes))) return 'block CRC mismatch';
  expect(reserved).toBe(0);
  expect(flags & ~0x07).toBe(0); // LZ4 0x01, BATCH_CONTINUES 0x02, RUN_COLUMNS 0x04
  expect(b.subarray(at + 72 + payloadStoredBytes, at + blockBytes).every((x) => x === 0)).toBe(true);

  const stored = b.subarray(at + 72, at + 72 + payloadStoredBytes);
  const raw = flags & 0x01 ? unstore(stored, payloadRawBytes) : stored;
  const c = new Cursor(raw);
  const encodings: Encodings = new Set();
  const newSeries: Key[] = [];
  for (let i = 0; i < newSeriesCount; i++) newSeries.push(seriesKey(c));
  const runs = flags & 0x04 ? runColumns(c, runCount, encodings) : runTriples(c, runCount, encodings);
  expect(runs.reduce((n, r) => n + r.count, 0)).toBe(pointCount);
  const timestampsMs = timestampsColumn(c, pointCount, encodings);

  // Kinds column: mode 0 = one kind byte for every point, mode 1 = one byte per point.
  const mode = c.u8();
  expect([0, 1]).toContain(mode);
  const uniform = mode === 0 ? c.u8() : -1;
  const kinds = mode === 0 ? new Array<number>(pointCount).fill(uniform) : [...c.bytes(pointCount)];
  expect(kinds.every((k) => k >= 0 && k <= 3)).toBe(true);

  // Value columns: uniform Float64 or Int64 → one column of every point (present even when the
  // block is empty); otherwise float, int, string, JSON columns of the kinds present, in that order.
  const columns: Value[][] = [[], [], [], []];
  if (uniform === 0) columns[0] = floatsColumn(c, pointCount, encodings);
  else if (uniform === 1) columns[1] = intsColumn(c, pointCount, encodings);
  else {
    const count = (k: number): number => kinds.filter((x) => x === k).length;
    if (count(0) > 0) columns[0] = floatsColumn(c, count(0), encodings);
    if (count(1) > 0) columns[1] = intsColumn(c, count(1), encodings);
    if (count(2) > 0) columns[2] = stringsColumn(c, count(2), encodings, 'strings');
    if (count(3) > 0) columns[3] = stringsColumn(c, count(3), encodings, 'json').map((json) => ({ json }));
  }
  expect(c.left).toBe(0); // the payload is consumed exactly
  const next = [0, 0, 0, 0];
  const values = kinds.map((k) => columns[k]![next[k]!++]!);

  let lo = Infinity;
  let hi = -Infinity;
  for (const t of timestampsMs) [lo, hi] = [Math.min(lo, t), Math.max(hi, t)];
  expect(pointCount === 0 ? [0, 0] : [lo, hi]).toEqual([minTimestampMs, maxTimestampMs]);
  return { offset: at, flags, blockBytes, pointCount, minTimestampMs, maxTimestampMs, sequence, writtenAtMs, firstNewSeriesRef, newSeries, runs, timestampsMs, values, encodings };
}

// =================================================================================================
// segment.md
// =================================================================================================

interface SegmentHeader {
  readonly kind: number;
  readonly shardId: number;
  readonly sequence: number;
  readonly createdAtMs: number;
  readonly capacityBytes: number;
}

interface DirectoryEntry {
  readonly offset: number;
  readonly blockBytes: number;
  readonly pointCount: number;
  readonly minTimestampMs: number;
  readonly maxTimestampMs: number;
  readonly sequence: number;
  readonly writtenAtMs: number;
  readonly refs: number[];
}

interface CompactionInfo {
  readonly compactionId: number;
  readonly outputIndex: number;
  readonly outputCount: number;
  readonly sourceSequences: number[];
}

interface Footer {
  readonly footerOffset: number;
  readonly footerBytes: number;
  readonly series: Key[];
  readonly blocks: DirectoryEntry[];
  readonly compaction: CompactionInfo | undefined;
}

interface Segment {
  readonly header: SegmentHeader;
  readonly size: number;
  readonly footer: Footer | undefined;
  /** Accepted blocks, in file order, and the segment's series by ref. */
  readonly blocks: Block[];
  readonly series: Key[];
  readonly endOffset: number;
  readonly stopReason: string;
}

function segmentHeader(b: Uint8Array): SegmentHeader {
  expect(b.length).toBeGreaterThanOrEqual(64);
  const c = new Cursor(b);
  expect(c.u32()).toBe(0x47535453);
  expect(new DataView(b.buffer, b.byteOffset).getUint32(60, true)).toBe(crc32c(b.subarray(0, 60)));
  expect(c.u16()).toBe(1); // version
  const kind = c.u16();
  expect([0, 1]).toContain(kind);
  const shardId = c.u32();
  expect(c.u32()).toBe(64); // headerBytes
  const header = { kind, shardId, sequence: c.i64n(), createdAtMs: c.i64n(), capacityBytes: c.i64n() };
  expect(c.bytes(20).every((x) => x === 0)).toBe(true);
  return header;
}

/** §Recognising a sealed segment: trailer, then the footer it points at. */
function footer(b: Uint8Array): Footer | undefined {
  if (b.length < 64 + 16) return undefined;
  const t = new Cursor(b, b.length - 16);
  if (t.u32() !== 0x52545453) return undefined;
  const footerOffset = t.u32();
  const footerBytes = t.u32();
  if (t.u32() !== crc32c(b.subarray(b.length - 16, b.length - 4))) return undefined;
  if (footerOffset + footerBytes + 16 !== b.length) return undefined;

  const f = new Cursor(b, footerOffset);
  expect(f.u32()).toBe(0x54465453);
  expect(f.u32()).toBe(footerBytes);
  const storedBytes = f.u32();
  const rawBytes = f.u32();
  expect(f.u32()).toBe(0); // reserved
  const crc = f.u32();
  expect(footerBytes).toBe(alignUp8(24 + storedBytes));
  expect(crc).toBe(crc32c(b.subarray(footerOffset, footerOffset + 20), b.subarray(footerOffset + 24, footerOffset + footerBytes)));
  expect(b.subarray(footerOffset + 24 + storedBytes, footerOffset + footerBytes).every((x) => x === 0)).toBe(true);

  const c = new Cursor(unstore(b.subarray(footerOffset + 24, footerOffset + 24 + storedBytes), rawBytes));
  const series: Key[] = [];
  const seriesCount = c.varuint();
  for (let i = 0; i < seriesCount; i++) series.push(seriesKey(c));
  const blocks: DirectoryEntry[] = [];
  const blockCount = c.varuint();
  let previousOffset = 0;
  for (let i = 0; i < blockCount; i++) {
    const offset = previousOffset + c.varuint();
    previousOffset = offset;
    const blockBytes = c.varuint();
    const pointCount = c.varuint();
    const minTimestampMs = c.varint();
    const maxTimestampMs = minTimestampMs + c.varuint();
    const sequence = c.varuint();
    const writtenAtMs = c.varint();
    const refs: number[] = [];
    const runCount = c.varuint();
    for (let r = 0; r < runCount; r++) refs.push(c.varuint());
    expect(refs.every((ref) => ref < seriesCount)).toBe(true);
    expect(offset + blockBytes).toBeLessThanOrEqual(footerOffset);
    blocks.push({ offset, blockBytes, pointCount, minTimestampMs, maxTimestampMs, sequence, writtenAtMs, refs });
  }
  const hasCompaction = c.u8();
  expect([0, 1]).toContain(hasCompaction);
  let compaction: CompactionInfo | undefined;
  if (hasCompaction === 1) {
    const compactionId = c.varuint();
    const outputIndex = c.varuint();
    const outputCount = c.varuint();
    const sourceSequences: number[] = [];
    const sourceCount = c.varuint();
    for (let i = 0; i < sourceCount; i++) sourceSequences.push(c.varuint());
    compaction = { compactionId, outputIndex, outputCount, sourceSequences };
  }
  expect(c.left).toBe(0);
  return { footerOffset, footerBytes, series, blocks, compaction };
}

/** §Blocks and how a reader finds them: the walk, accepting whole batches only. */
function walk(b: Uint8Array): { blocks: Block[]; endOffset: number; reason: string } {
  const accepted: Block[] = [];
  const pending: Block[] = [];
  let offset = 64;
  for (;;) {
    const blk = block(b, offset);
    if (typeof blk === 'string') return { blocks: accepted, endOffset: pending[0]?.offset ?? offset, reason: blk };
    pending.push(blk);
    offset += blk.blockBytes;
    if ((blk.flags & 0x02) === 0) accepted.push(...pending.splice(0));
  }
}

function segment(b: Uint8Array): Segment {
  const header = segmentHeader(b);
  const sealed = footer(b);
  const walked = walk(b);
  let blocks = walked.blocks;
  if (sealed) {
    // A sealed segment is read through its footer: the directory names every block, and a walk
    // runs into the footer's magic. Both must agree.
    expect(walked.reason).toBe('bad block magic');
    expect(walked.endOffset).toBe(sealed.footerOffset);
    blocks = sealed.blocks.map((entry) => {
      const blk = block(b, entry.offset);
      if (typeof blk === 'string') throw new Error(blk);
      expect(entry).toEqual({
        offset: blk.offset,
        blockBytes: blk.blockBytes,
        pointCount: blk.pointCount,
        minTimestampMs: blk.minTimestampMs,
        maxTimestampMs: blk.maxTimestampMs,
        sequence: blk.sequence,
        writtenAtMs: blk.writtenAtMs,
        refs: blk.runs.map((r) => r.ref),
      });
      return blk;
    });
    expect(blocks.map((x) => x.offset)).toEqual(walked.blocks.map((x) => x.offset));
  }
  // Refs: each block defines newSeriesCount series from firstNewSeriesRef = series defined so far.
  const series: Key[] = [];
  let offset = 64;
  for (const blk of blocks) {
    expect(blk.offset).toBe(offset);
    offset += blk.blockBytes;
    expect(blk.firstNewSeriesRef).toBe(series.length);
    series.push(...blk.newSeries);
    expect(blk.runs.every((r) => r.ref < series.length)).toBe(true);
  }
  if (sealed) expect(sealed.series).toEqual(series);
  return { header, size: b.length, footer: sealed, blocks, series, endOffset: walked.endOffset, stopReason: walked.reason };
}

// =================================================================================================
// tombstones.md
// =================================================================================================

interface Tombstone {
  readonly createdAtMs: number;
  readonly startMs: number;
  readonly endMs: number;
  readonly metric: string;
  readonly tags: readonly (readonly [string, readonly string[]])[];
}

function tombstones(b: Uint8Array): Tombstone[] {
  const out: Tombstone[] = [];
  let at = 0;
  while (at + 12 <= b.length) {
    const h = new Cursor(b, at);
    if (h.u32() !== 0x42545453) break;
    const payloadBytes = h.u32();
    const crc = h.u32();
    if (at + 12 + payloadBytes > b.length || crc !== crc32c(b.subarray(at + 12, at + 12 + payloadBytes))) break;
    const c = new Cursor(b, at + 12, at + 12 + payloadBytes);
    // startMs / endMs may be any i64 ("all time" deletes): read them as bigint.
    const createdAtMs = c.i64n();
    const startMs = Number(c.i64());
    const endMs = Number(c.i64());
    const metric = c.string();
    const tags: [string, string[]][] = [];
    const keyCount = c.varuint();
    for (let k = 0; k < keyCount; k++) {
      const key = c.string();
      const values: string[] = [];
      const valueCount = c.varuint();
      for (let v = 0; v < valueCount; v++) values.push(c.string());
      tags.push([key, values]);
    }
    out.push({ createdAtMs, startMs, endMs, metric, tags });
    at += 12 + payloadBytes;
  }
  expect(at).toBe(b.length);
  return out;
}

function tombstoneMatches(tomb: Tombstone, key: Key): boolean {
  if (tomb.metric !== key.metric) return false;
  return tomb.tags.every(([k, values]) => key.tags.some(([tk, tv]) => tk === k && values.includes(tv)));
}

// =================================================================================================
// README.md §Writing a reader: the data directory and what a reader shows
// =================================================================================================

interface StoredPoint {
  readonly key: Key;
  readonly t: number;
  readonly value: Value;
  readonly writtenAtMs: number;
  readonly shardId: number;
  readonly sequence: number;
  /** Position in its block. */
  readonly position: number;
  /** writtenAtMs + ttlSeconds · 1000, or Infinity. */
  readonly expiresAtMs: number;
}

interface DataDir {
  readonly shards: Map<number, { name: string; segment: Segment }[]>;
  readonly tombstones: Tombstone[];
}

function readDataDir(dir: string): DataDir {
  const shards = new Map<number, { name: string; segment: Segment }[]>();
  const shardNames = fs.readdirSync(path.join(dir, 'shards')).filter((n) => /^\d+$/.test(n));
  for (const shard of shardNames.sort((a, b) => Number(a) - Number(b))) {
    const files = fs
      .readdirSync(path.join(dir, 'shards', shard))
      .filter((n) => /^[0-9a-f]{16}\.seg$/.test(n))
      .sort();
    shards.set(
      Number(shard),
      files.map((name) => {
        const seg = segment(new Uint8Array(fs.readFileSync(path.join(dir, 'shards', shard, name))));
        expect(seg.header.sequence).toBe(parseInt(name.slice(0, 16), 16));
        expect(seg.header.shardId).toBe(Number(shard));
        return { name, segment: seg };
      }),
    );
  }
  const log = path.join(dir, 'tombstones.log');
  return { shards, tombstones: fs.existsSync(log) ? tombstones(new Uint8Array(fs.readFileSync(log))) : [] };
}

function storedPoints(data: DataDir): StoredPoint[] {
  const out: StoredPoint[] = [];
  for (const [shardId, segments] of data.shards) {
    for (const { segment: seg } of segments) {
      for (const blk of seg.blocks) {
        let p = 0;
        for (const run of blk.runs) {
          const expiresAtMs = run.ttlSeconds > 0 ? blk.writtenAtMs + run.ttlSeconds * 1000 : Infinity;
          for (let i = 0; i < run.count; i++, p++) {
            out.push({ key: seg.series[run.ref]!, t: blk.timestampsMs[p]!, value: blk.values[p]!, writtenAtMs: blk.writtenAtMs, shardId, sequence: blk.sequence, position: p, expiresAtMs });
          }
        }
      }
    }
  }
  return out;
}

/** Checklist 7 and 8: hide TTL-expired and deleted points, then the newest write of each timestamp wins. */
function visible(points: readonly StoredPoint[], tombs: readonly Tombstone[], nowMs: number): Map<string, [number, Value][]> {
  const bySeries = new Map<string, StoredPoint[]>();
  for (const p of points) {
    if (p.expiresAtMs <= nowMs) continue;
    if (tombs.some((tb) => tombstoneMatches(tb, p.key) && tb.startMs <= p.t && p.t <= tb.endMs && p.writtenAtMs <= tb.createdAtMs)) continue;
    const name = canonical(p.key);
    const list = bySeries.get(name);
    if (list) list.push(p);
    else bySeries.set(name, [p]);
  }
  const out = new Map<string, [number, Value][]>();
  for (const [name, ps] of bySeries) {
    ps.sort((a, b) => a.t - b.t || a.writtenAtMs - b.writtenAtMs || a.shardId - b.shardId || a.sequence - b.sequence || a.position - b.position);
    out.set(
      name,
      ps.filter((p, i) => ps[i + 1]?.t !== p.t).map((p): [number, Value] => [p.t, p.value]),
    );
  }
  return out;
}

// =================================================================================================
// The data set of test/fixtures/format-v1-data.ts, restated
// =================================================================================================

const k = (metric: string, tags: Record<string, string> = {}): Key => ({ metric, tags: Object.entries(tags) });

interface Append {
  readonly shardId: number;
  readonly writtenAtMs: number;
  /** Block sequence of the append's first block. */
  readonly sequence: number;
  readonly series: readonly Key[];
  readonly ttlSeconds?: readonly number[];
  readonly points: readonly (readonly [series: number, t: number, value: Value])[];
}

const I64_MIN = -(2n ** 63n);
const I64_MAX = 2n ** 63n - 1n;
const BEYOND_DOUBLE = 9_007_199_254_740_993n;

const SHARD0: Append[] = [
  {
    shardId: 0,
    writtenAtMs: T0,
    sequence: 1,
    series: [k('fx.float', { host: 'a', dc: 'eu' }), k('fx.int', { host: 'a' }), k('fx.str', { host: 'a' }), k('fx.json', { host: 'a' }), k('fx.ttl', { host: 'a' }), k('fx.mixed')],
    ttlSeconds: [0, 0, 0, 0, 3600, 0],
    points: [
      [0, 1000, 1e308],
      [1, 0, BEYOND_DOUBLE],
      [0, -2000, 1.5],
      [2, 10, 'hello'],
      [0, 0, 0.1],
      [3, 10, { json: '{"a":1,"b":[true,null]}' }],
      [0, -1000, -0],
      [1, 1, I64_MIN],
      [1, 2, I64_MAX],
      [1, 3, 0n],
      [1, -5, -1n],
      [2, 20, 'héllo ✓ 🌍'],
      [2, 30, ''],
      [2, 40, 'hello'],
      [3, 20, { json: '[1,2.5,"x"]' }],
      [3, 30, { json: 'null' }],
      [4, 100, 1],
      [4, 200, 2],
      [5, 3, 'seven'],
      [5, 1, 1.25],
      [5, 2, 7n],
      [0, 0, 0.2],
      [0, 500, 5.5],
      [0, 2000, NaN],
    ],
  },
  {
    shardId: 0,
    writtenAtMs: T0 + 1000,
    sequence: 2,
    series: [k('fx.float', { dc: 'eu', host: 'a' }), k('fx.float', { host: 'b' })],
    points: [
      [0, 1000, 2.5],
      [1, 0, 42],
      [0, 3000, 3],
    ],
  },
  {
    shardId: 0,
    writtenAtMs: T0 + 3000,
    sequence: 3,
    series: [k('fx.int', { host: 'a' })],
    points: [
      [0, 4, 123_456_789_012_345_678n],
      [0, -5, 5n],
    ],
  },
  {
    shardId: 0,
    writtenAtMs: T0 + 4000,
    sequence: 4,
    series: [k('fx.float', { host: 'a', dc: 'eu' }), k('fx.str', { host: 'a' }), k('fx.json', { host: 'a' })],
    points: [
      [0, 0, 99],
      [1, 30, 'back'],
      [2, 40, { json: '{"late":true}' }],
    ],
  },
  {
    shardId: 0,
    writtenAtMs: T0 + 5000,
    sequence: 5,
    series: [k('fx.bulk')],
    points: Array.from({ length: 65_540 }, (_, i) => [0, i * 10, i % 4] as const),
  },
];
/** Which appends went to which ingest segment of shard 0 (segment 1 was sealed after two). */
const SHARD0_SEGMENTS = [SHARD0.slice(0, 2), SHARD0.slice(2)];

const SHARD1_SOURCE: Append[] = [
  {
    shardId: 1,
    writtenAtMs: T0 + 6000,
    sequence: 1,
    series: [k('fx.c.dec', { k: 'v' }), k('fx.c.gorilla', { k: 'v' }), k('fx.c.int'), k('fx.c.str'), k('fx.c.ttl')],
    ttlSeconds: [0, 0, 0, 0, 7200],
    points: [
      [0, -DAY, 0.5],
      [0, -1, 1.25],
      [0, 0, 2.75],
      [0, 1000, 3.5],
      [0, 2000, 100.125],
      [0, DAY, -7.5],
      [0, 0, 2.875],
      ...Array.from({ length: 8 }, (_, i) => [1, (i + 1) * 1000, Math.PI * (i + 1)] as const),
      [2, 0, I64_MIN],
      [2, 1, I64_MAX],
      [2, 2, BEYOND_DOUBLE],
      [2, 3, 0n],
      [2, 4, -1n],
      [3, 10, 'x'],
      [3, 20, 'y'],
      [3, 30, 'x'],
      [4, 5, 1],
      [4, 6, 2],
    ],
  },
  { shardId: 1, writtenAtMs: T0 + 6500, sequence: 2, series: [k('fx.c.int')], points: [[0, 3, 42n]] },
];

/** shard 3's "random" steps: a 32-bit integer hash of i. */
function shard3Hash(i: number): number {
  let x = Math.imul(i + 1, 0x9e3779b1) >>> 0;
  x ^= x >>> 15;
  x = Math.imul(x, 0x85ebca77) >>> 0;
  x ^= x >>> 13;
  return x >>> 0;
}
const SHARD3_GAUGE = ((): number[] => {
  let h = 5000;
  return Array.from({ length: 300 }, (_, i) => (h = Math.min(10_000, Math.max(0, h + (shard3Hash(i) % 401) - 200))) / 100);
})();
const SHARD3_UPTIME = Array.from({ length: 200 }, (_, i) => (i < 150 ? 100_005 + 1000 * i : 1000 * (i - 150)) / 100);
const SHARD3_OFFSET = ((): number[] => {
  let v = 2 ** 40;
  return Array.from({ length: 130 }, (_, i) => (v += shard3Hash(1000 + i) * 4 - 2 ** 33));
})();
const SHARD3_SPAN = Array.from({ length: 20 }, (_, i) => shard3Hash(2000 + i) * 2 ** 18 + (shard3Hash(3000 + i) % 2 ** 18) - 2 ** 49);

/** Shard 3: written with codecs version 2, so its compacted float columns may be DecimalPacked. */
const SHARD3_SOURCE: Append[] = [
  {
    shardId: 3,
    writtenAtMs: T0 + 11_000,
    sequence: 1,
    series: [k('fx.p.gauge'), k('fx.p.state'), k('fx.p.uptime'), k('fx.p.offset'), k('fx.p.span')],
    points: [
      ...SHARD3_GAUGE.map((v, i) => [0, i * 10_000, v] as const),
      [1, 5, 'up'],
      [1, 2_000_000, 'degraded'],
      ...SHARD3_UPTIME.map((v, i) => [2, DAY + i * 10_000, v] as const),
      ...SHARD3_OFFSET.map((v, i) => [3, 2 * DAY + i * 10_000, v] as const),
      ...SHARD3_SPAN.map((v, i) => [4, 2 * DAY + i * 10_000, v] as const),
    ],
  },
];

const SHARD2_SOURCE: Append[] = [
  {
    shardId: 2,
    writtenAtMs: T0 + 8000,
    sequence: 1,
    series: [k('fx.d.raw'), k('fx.d.json'), k('fx.d.ttl'), k('fx.d.gone'), k('fx.d.keep')],
    ttlSeconds: [0, 0, 60, 1, 0],
    points: [
      [0, -1, 7],
      [0, 1, 1 / 3],
      [0, 2, -2.5e-310],
      [0, 3, 1e300],
      [0, 4, -Infinity],
      [1, 10, { json: '{"a":1}' }],
      [1, 20, { json: '[false]' }],
      [2, 100, 1n],
      [2, 200, 2n],
      [3, 5, 5],
      [4, 50, 1n],
    ],
  },
  {
    shardId: 2,
    writtenAtMs: T0 + 9000,
    sequence: 2,
    series: [k('fx.d.ttl'), k('fx.d.int'), k('fx.d.keep')],
    ttlSeconds: [0, 0, 30],
    points: [
      [0, 200, 20n],
      [0, 300, 30n],
      [0, 400, 40n],
      [1, 2 * DAY + 1, 1n],
      [1, 2 * DAY + 2, 2n],
      [1, 2 * DAY + 3, 3n],
      [1, 2 * DAY + 4, 5n],
      [1, 2 * DAY + 5, 8n],
      [1, 3 * DAY + 1, 2n ** 62n],
      [1, 3 * DAY + 2, -(2n ** 62n)],
      [1, 3 * DAY + 3, 2n ** 62n],
      [2, 50, 2n],
    ],
  },
  {
    shardId: 2,
    writtenAtMs: T0 + 9500,
    sequence: 3,
    series: [k('fx.d.bulk')],
    points: Array.from({ length: 70_000 }, (_, i) => [0, DAY + i * 10, i % 4] as const),
  },
];

/**
 * The codecs version each shard was written with (format-v1-data.ts): from 3 on, every block the
 * shard's writers wrote — ingest and compacted — has flag RUN_COLUMNS and run columns.
 */
const CODECS_VERSION_BY_SHARD = [1, 1, 1, 2, 3];
const runColumnsFlag = (shardId: number): number => (CODECS_VERSION_BY_SHARD[shardId]! >= 3 ? 0x04 : 0);

/** Shard 4, codecs version 3: two appends, sealed, compacted at T0 + 14 s into segment 2. */
const SHARD4_SOURCE: Append[] = [
  {
    shardId: 4,
    writtenAtMs: T0 + 13_000,
    sequence: 1,
    series: [k('fx.k.a'), k('fx.k.b'), k('fx.k.c')],
    ttlSeconds: [0, 0, 600],
    points: [
      [0, 0, 1],
      [0, 10, 2],
      [0, 20, 3],
      [1, 5, 4],
      [2, 7, 5],
      [2, 8, 6],
    ],
  },
  {
    shardId: 4,
    writtenAtMs: T0 + 13_500,
    sequence: 2,
    series: [k('fx.k.a')],
    ttlSeconds: [120],
    points: [
      [0, 30, 7],
      [0, 40, 8],
    ],
  },
];
const SHARD4_COMPACTION: Compaction = { nowMs: T0 + 14_000, firstOutputSequence: 2, sourceSequences: [1], tombstones: [], compactionId: (T0 + 14_000) * 1000 };

const cpu = (host: string): Key => k('fx.r.cpu', { host });
/** Shard 4's appends after the compaction: segment 3 (sealed after two appends), then segment 4 (active). */
const SHARD4: Append[] = [
  { shardId: 4, writtenAtMs: T0 + 15_000, sequence: 3, series: [cpu('h0'), cpu('h1'), cpu('h2'), cpu('h3'), cpu('h4')], points: [0, 1, 2, 3, 4].map((s) => [s, 1000, s + 0.5] as const) },
  {
    shardId: 4,
    writtenAtMs: T0 + 16_000,
    sequence: 4,
    series: [cpu('h3'), cpu('h0'), k('fx.r.mem', { host: 'h0' }), cpu('h4')],
    ttlSeconds: [0, 60, 0, 3600],
    points: [
      [0, 2000, 30],
      [0, 3000, 31],
      [1, 2000, 10],
      [2, 2000, 100n],
      [2, 3000, 101n],
      [2, 4000, 102n],
      [3, 2000, 40],
    ],
  },
  {
    shardId: 4,
    writtenAtMs: T0 + 17_000,
    sequence: 5,
    series: [cpu('h1'), cpu('h2')],
    ttlSeconds: [30, 30],
    points: [
      [0, 5000, 11],
      [0, 6000, 12],
      [1, 5000, 21],
      [1, 6000, 22],
    ],
  },
  {
    shardId: 4,
    writtenAtMs: T0 + 18_000,
    sequence: 6,
    series: [cpu('h2'), cpu('h1'), cpu('h2')],
    points: [
      [0, 7000, 23],
      [1, 7000, 13],
      [2, 8000, 24],
    ],
  },
];
const SHARD4_SEGMENTS = [SHARD4.slice(0, 2), SHARD4.slice(2)];

/** The deletes in tombstones.log (Engine.delete at T0 + 2 s). */
const LOGGED_TOMBSTONES: Tombstone[] = [
  { createdAtMs: T0 + 2000, startMs: -500, endMs: 500, metric: 'fx.float', tags: [['host', ['a']]] },
  { createdAtMs: T0 + 2000, startMs: 30, endMs: 30, metric: 'fx.str', tags: [] },
];

interface Compaction {
  readonly nowMs: number;
  readonly firstOutputSequence: number;
  readonly sourceSequences: number[];
  readonly retentionMs?: number;
  readonly tombstones: readonly Tombstone[];
  readonly compactionId: number;
}

const SHARD1_COMPACTION: Compaction = { nowMs: T0 + 7000, firstOutputSequence: 2, sourceSequences: [1], tombstones: [], compactionId: (T0 + 7000) * 1000 };
const SHARD2_COMPACTION: Compaction = {
  nowMs: T0 + 10_000,
  firstOutputSequence: 2,
  sourceSequences: [1],
  retentionMs: T0 + 10_000,
  tombstones: [{ createdAtMs: T0 + 8500, startMs: 20, endMs: 20, metric: 'fx.d.json', tags: [] }],
  compactionId: (T0 + 10_000) * 1000,
};
const SHARD3_COMPACTION: Compaction = { nowMs: T0 + 12_000, firstOutputSequence: 2, sourceSequences: [1], tombstones: [], compactionId: (T0 + 12_000) * 1000 };

// ---- what the documents say those writes become ------------------------------------------------

interface ExpectedRun {
  readonly series: string;
  readonly ttlSeconds: number;
  readonly points: [number, Value][];
}

interface ExpectedBlock {
  readonly flags: number;
  readonly sequence: number;
  readonly writtenAtMs: number;
  readonly runs: ExpectedRun[];
}

interface Write {
  readonly key: Key;
  readonly t: number;
  readonly value: Value;
  readonly writtenAtMs: number;
  readonly sequence: number;
  readonly order: number;
  readonly expiresAtMs: number;
}

/**
 * block.md: an append of more than 65 536 points is cut, in input order, into blocks of 65 536
 * (BATCH_CONTINUES on all but the last; RUN_COLUMNS on all from codecs version 3); a block holds
 * one run per entry of the append's series list, its points sorted by time with equal timestamps
 * in write order.
 */
function ingestBlocks(append: Append): { blocks: ExpectedBlock[]; writes: Write[] } {
  const blocks: ExpectedBlock[] = [];
  const writes: Write[] = [];
  const chunks = Math.ceil(append.points.length / 65_536);
  for (let c = 0; c < chunks; c++) {
    const chunk = append.points.slice(c * 65_536, (c + 1) * 65_536);
    const runs: ExpectedRun[] = [];
    append.series.forEach((key, s) => {
      const points = chunk.filter(([i]) => i === s).map(([, t, v]): [number, Value] => [t, v]);
      if (points.length === 0) return;
      points.sort((a, b) => a[0] - b[0]); // stable: equal timestamps keep write order
      const ttlSeconds = append.ttlSeconds?.[s] ?? 0;
      runs.push({ series: canonical(key), ttlSeconds, points });
      for (const [t, value] of points) {
        const expiresAtMs = ttlSeconds > 0 ? append.writtenAtMs + ttlSeconds * 1000 : Infinity;
        writes.push({ key, t, value, writtenAtMs: append.writtenAtMs, sequence: append.sequence + c, order: writes.length, expiresAtMs });
      }
    });
    blocks.push({ flags: (c < chunks - 1 ? 0x03 : 0x01) | runColumnsFlag(append.shardId), sequence: append.sequence + c, writtenAtMs: append.writtenAtMs, runs });
  }
  return { blocks, writes };
}

/**
 * compaction.md: drop what TTL, retention and the given tombstones hide; one output per day
 * partition; series by canonical string; per timestamp the newest version, plus older ones that
 * outlive every newer one kept; runs per expiry; blocks cut at 65 536 points (never between two
 * versions of one timestamp), or at a series boundary from 32 768; TTL re-based on the block's
 * writtenAtMs; flags LZ4, plus RUN_COLUMNS from codecs version 3.
 */
function compact(sources: readonly Append[], spec: Compaction): { header: SegmentHeader; compaction: CompactionInfo; blocks: ExpectedBlock[] }[] {
  const writes = sources.flatMap((a) => ingestBlocks(a).writes).map((w, order) => ({ ...w, order }));
  const floor = spec.retentionMs ? spec.nowMs - spec.retentionMs : -Infinity;
  const kept = writes.filter(
    (w) =>
      w.expiresAtMs > spec.nowMs &&
      w.t >= floor &&
      !spec.tombstones.some((tb) => tombstoneMatches(tb, w.key) && tb.startMs <= w.t && w.t <= tb.endMs && w.writtenAtMs <= tb.createdAtMs),
  );
  const partitions = [...new Set(kept.map((w) => Math.floor(w.t / DAY)))].sort((a, b) => a - b);
  return partitions.map((partition, outputIndex) => {
    const inPartition = kept.filter((w) => Math.floor(w.t / DAY) === partition);
    const names = [...new Set(inPartition.map((w) => canonical(w.key)))].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const blocks: ExpectedBlock[] = [];
    let pending: { series: string; expiresAtMs: number; writes: Write[] }[] = [];
    let pendingPoints = 0;
    const flush = (): void => {
      if (pendingPoints === 0) return;
      const all = pending.flatMap((r) => r.writes);
      const writtenAtMs = all.reduce((m, w) => Math.max(m, w.writtenAtMs), -Infinity);
      const sequence = all.reduce((m, w) => Math.max(m, w.sequence), 0);
      blocks.push({
        flags: 0x01 | runColumnsFlag(sources[0]!.shardId),
        sequence,
        writtenAtMs,
        runs: pending.map((r) => ({
          series: r.series,
          ttlSeconds: Number.isFinite(r.expiresAtMs) ? Math.max(1, Math.ceil((r.expiresAtMs - writtenAtMs) / 1000)) : 0,
          points: r.writes.map((w): [number, Value] => [w.t, w.value]),
        })),
      });
      pending = [];
      pendingPoints = 0;
    };
    for (const name of names) {
      const candidates = inPartition.filter((w) => canonical(w.key) === name);
      candidates.sort((a, b) => a.t - b.t || a.writtenAtMs - b.writtenAtMs || a.sequence - b.sequence || a.order - b.order);
      // Newest to oldest: keep a version when it outlives every newer one kept; then oldest first.
      const survivors: Write[] = [];
      let outlives = -Infinity;
      for (let j = candidates.length - 1; j >= 0; j--) {
        const w = candidates[j]!;
        if (candidates[j + 1]?.t !== w.t) outlives = -Infinity; // the newest version of its timestamp
        if (w.expiresAtMs > outlives) {
          survivors.push(w);
          outlives = w.expiresAtMs;
        }
      }
      survivors.reverse();
      let from = 0;
      while (from < survivors.length) {
        const room = 65_536 - pendingPoints;
        let to = from + 1;
        while (to < survivors.length && to - from < room && survivors[to]!.expiresAtMs === survivors[from]!.expiresAtMs) to++;
        if (to - from === room && to < survivors.length && survivors[to]!.t === survivors[to - 1]!.t) {
          let start = to - 1;
          while (start > from && survivors[start - 1]!.t === survivors[to]!.t) start--;
          if (start > from) to = start;
          else if (pendingPoints > 0) {
            flush();
            continue;
          }
        }
        pending.push({ series: name, expiresAtMs: survivors[from]!.expiresAtMs, writes: survivors.slice(from, to) });
        pendingPoints += to - from;
        from = to;
        if (pendingPoints >= 65_536) flush();
      }
      if (pendingPoints >= 32_768) flush();
    }
    flush();
    return {
      header: { kind: 1, shardId: sources[0]!.shardId, sequence: spec.firstOutputSequence + outputIndex, createdAtMs: spec.nowMs, capacityBytes: -1 },
      compaction: { compactionId: spec.compactionId, outputIndex, outputCount: partitions.length, sourceSequences: spec.sourceSequences },
      blocks,
    };
  });
}

/** A decoded block in the shape of ExpectedBlock (refs resolved through the segment's series). */
function asExpected(seg: Segment, blk: Block): ExpectedBlock {
  let p = 0;
  return {
    flags: blk.flags,
    sequence: blk.sequence,
    writtenAtMs: blk.writtenAtMs,
    runs: blk.runs.map((run) => {
      const points = blk.timestampsMs.slice(p, p + run.count).map((t, i): [number, Value] => [t, blk.values[p + i]!]);
      p += run.count;
      return { series: canonical(seg.series[run.ref]!), ttlSeconds: run.ttlSeconds, points };
    }),
  };
}

const byName = (a: ExpectedRun, b: ExpectedRun): number => (a.series < b.series ? -1 : a.series > b.series ? 1 : 0);

const sameValue = (a: Value, b: Value): boolean =>
  typeof a === 'object' && typeof b === 'object' ? a.json === b.json : Object.is(a, b);

/** toEqual for series maps, fast on the 135 000 bulk points: full diff only around a difference. */
function expectSameSeries(got: Map<string, [number, Value][]>, want: Map<string, [number, Value][]>): void {
  expect([...got.keys()].sort()).toEqual([...want.keys()].sort());
  for (const [name, points] of want) {
    const g = got.get(name)!;
    const at = points.findIndex(([t, v], i) => g[i] === undefined || g[i]![0] !== t || !sameValue(g[i]![1], v));
    if (at >= 0 || g.length !== points.length) {
      const from = Math.max(0, at < 0 ? points.length : at);
      expect(g.slice(from, from + 3), `${name} from point ${from}`).toEqual(points.slice(from, from + 3));
    }
  }
}

// =================================================================================================
// The tests
// =================================================================================================

describe('an independent reader written from docs/format/ reads the v1 fixture', () => {
  let data: DataDir;
  beforeAll(() => {
    data = readDataDir(FIXTURE);
  });

  it('its own CRC-32C and LZ4 agree with the examples of primitives.md', () => {
    expect(crc32c(new TextEncoder().encode('123456789'))).toBe(0xe3069283);
    expect(crc32c(new Uint8Array(0))).toBe(0);
    const stored = Uint8Array.of(0x41, 0, 0, 0, 0x1f, 0x61, 0x01, 0x00, 0x27, 0x60, 0x61, 0x61, 0x61, 0x61, 0x62, 0x63);
    expect(new TextDecoder().decode(unstore(stored, 65))).toBe(`${'a'.repeat(63)}bc`);
  });

  it('its own codecs decode the worked examples of codecs.md', () => {
    const cursor = (hexBytes: string): Cursor => new Cursor(Uint8Array.from(Buffer.from(hexBytes.replace(/ /g, ''), 'hex')));
    const seen: Encodings = new Set();
    const done = (c: Cursor): void => expect(c.left).toBe(0);
    let c = cursor('01 D0 0F D0 0F 00 E7 07');
    expect(timestampsColumn(c, 4, seen)).toEqual([1000, 2000, 3000, 3500]);
    done(c);
    c = cursor('00 00 00 00 00 00 00 F8 3F 00 00 00 00 00 00 00 80');
    expect(floatsColumn(c, 2, seen)).toEqual([1.5, -0]);
    done(c);
    const a = 0.1 + 0.2;
    c = cursor('01 13 3F D3 33 33 33 33 33 34 7F 80 00 00 00 0F 00 00 00 01 C0');
    expect(floatsColumn(c, 4, seen)).toEqual([a, a, 0.3, a]);
    done(c);
    c = cursor('02 02 01 AC 02 96 01 00');
    expect(floatsColumn(c, 3, seen)).toEqual([1.5, 2.25, 3]);
    done(c);
    c = cursor('03 01 00 0A 05 AE D8 88 AE 82');
    expect(floatsColumn(c, 9, seen)).toEqual([0.5, 1.2, 0.9, 2, 1.1, 1.5, 0.3, 0.8, 1.6]);
    done(c);
    c = cursor('01 01 04 FE FF FF FF FF FF FF FF FF 01 01');
    expect(intsColumn(c, 4, seen)).toEqual([-1n, 1n, -(2n ** 63n), 2n ** 63n - 1n]);
    done(c);
    c = cursor('00 03 01 61 01 62 00 00 01 00 02');
    expect(stringsColumn(c, 4, seen, 'strings')).toEqual(['a', 'b', 'a', '']);
    done(c);
  });

  it('finds every shard and segment of the data directory', () => {
    expect([...data.shards.keys()]).toEqual([0, 1, 2, 3, 4]);
    const summary = [...data.shards].map(([shard, segs]) =>
      segs.map(({ name, segment: s }) => ({ shard, name, kind: s.header.kind, sealed: s.footer !== undefined, blocks: s.blocks.length })),
    );
    expect(summary).toEqual([
      [
        { shard: 0, name: '0000000000000001.seg', kind: 0, sealed: true, blocks: 2 },
        { shard: 0, name: '0000000000000002.seg', kind: 0, sealed: false, blocks: 4 },
      ],
      [2, 3, 4].map((seq) => ({ shard: 1, name: `000000000000000${seq}.seg`, kind: 1, sealed: true, blocks: 1 })),
      [2, 3, 4, 5].map((seq) => ({ shard: 2, name: `000000000000000${seq}.seg`, kind: 1, sealed: true, blocks: seq === 3 ? 2 : 1 })),
      [2, 3, 4].map((seq) => ({ shard: 3, name: `000000000000000${seq}.seg`, kind: 1, sealed: true, blocks: 1 })),
      [
        { shard: 4, name: '0000000000000002.seg', kind: 1, sealed: true, blocks: 1 },
        { shard: 4, name: '0000000000000003.seg', kind: 0, sealed: true, blocks: 2 },
        { shard: 4, name: '0000000000000004.seg', kind: 0, sealed: false, blocks: 2 },
      ],
    ]);
  });

  it('ingest segments: headers as created, the active one unsealed with a zero tail', () => {
    const [sealed, active] = data.shards.get(0)!.map((s) => s.segment);
    expect(sealed!.header).toEqual({ kind: 0, shardId: 0, sequence: 1, createdAtMs: T0, capacityBytes: 16_384 });
    expect(sealed!.size).toBe(sealed!.footer!.footerOffset + sealed!.footer!.footerBytes + 16); // cut after the trailer
    expect(sealed!.footer!.compaction).toBeUndefined();
    expect(active!.header).toEqual({ kind: 0, shardId: 0, sequence: 2, createdAtMs: T0 + 3000, capacityBytes: 16_384 });
    expect(active!.size).toBe(16_384);
    expect(active!.stopReason).toBe('end of blocks');
    const bytes = fs.readFileSync(path.join(FIXTURE, 'shards/0/0000000000000002.seg'));
    expect(bytes.subarray(active!.endOffset).every((x) => x === 0)).toBe(true);
  });

  it('ingest blocks hold exactly the appends of the data set', () => {
    for (const [shardId, segments] of [
      [0, SHARD0_SEGMENTS],
      [4, SHARD4_SEGMENTS],
    ] as const) {
      const ingest = data.shards.get(shardId)!.filter(({ segment: seg }) => seg.header.kind === 0);
      expect(ingest.length).toBe(segments.length);
      ingest.forEach(({ segment: seg }, i) => {
        const want = segments[i]!.flatMap((a) => ingestBlocks(a).blocks);
        const got = seg.blocks.map((blk) => asExpected(seg, blk));
        // The order of runs in an ingest block is not part of the format: compare them by series.
        const sorted = (blocks: ExpectedBlock[]): ExpectedBlock[] => blocks.map((b) => ({ ...b, runs: [...b.runs].sort(byName) }));
        expect(sorted(got)).toEqual(sorted(want));
      });
    }
  });

  it('shard 4 (codecs version 3): run columns in every block, refs as the appends defined them', () => {
    const [compacted, sealed, active] = data.shards.get(4)!.map((s) => s.segment);
    expect(sealed!.header).toEqual({ kind: 0, shardId: 4, sequence: 3, createdAtMs: T0 + 15_000, capacityBytes: 16_384 });
    expect(sealed!.size).toBe(sealed!.footer!.footerOffset + sealed!.footer!.footerBytes + 16);
    expect(active!.header).toEqual({ kind: 0, shardId: 4, sequence: 4, createdAtMs: T0 + 17_000, capacityBytes: 16_384 });
    expect(active!.stopReason).toBe('end of blocks');
    const runs = (seg: Segment): [number, number, number][][] => seg.blocks.map((blk) => blk.runs.map((r) => [r.ref, r.count, r.ttlSeconds]));
    // One series in two runs (two expiries); TTLs re-based on the block's writtenAtMs.
    expect(runs(compacted!)).toEqual([
      [
        [0, 3, 0],
        [0, 2, 120],
        [1, 1, 0],
        [2, 2, 600],
      ],
    ]);
    // Consecutive refs with uniform columns; then refs backwards and jumping with per-run columns.
    expect(runs(sealed!)).toEqual([
      [0, 1, 2, 3, 4].map((ref) => [ref, 1, 0]),
      [
        [3, 2, 0],
        [0, 1, 60],
        [5, 3, 0],
        [4, 1, 3600],
      ],
    ]);
    expect(sealed!.series.map(canonical)).toEqual([...[0, 1, 2, 3, 4].map((h) => `fx.r.cpu{host=h${h}}`), 'fx.r.mem{host=h0}']);
    // A new segment numbers its series from 0 again; block 4 defines none and lists h2 twice.
    expect(runs(active!)).toEqual([
      [
        [0, 2, 30],
        [1, 2, 30],
      ],
      [
        [1, 1, 0],
        [0, 1, 0],
        [1, 1, 0],
      ],
    ]);
    expect(active!.series.map(canonical)).toEqual(['fx.r.cpu{host=h1}', 'fx.r.cpu{host=h2}']);
  });

  it('each shard\'s blocks use the runs layout of its codecs version', () => {
    for (const [shardId, segs] of data.shards) {
      for (const { segment: seg } of segs) {
        for (const blk of seg.blocks) {
          const columns = CODECS_VERSION_BY_SHARD[shardId]! >= 3;
          expect(blk.flags & 0x04).toBe(columns ? 0x04 : 0);
          expect(blk.encodings.has(columns ? 'runs:columns' : 'runs:v1')).toBe(true);
          expect(blk.encodings.has(columns ? 'runs:v1' : 'runs:columns')).toBe(false);
        }
      }
    }
  });

  it('its own run columns reader rejects what block.md calls corruption', () => {
    const runsOf = (runCount: number, ...bytes: number[]): Run[] => {
      const c = new Cursor(Uint8Array.from(bytes));
      const runs = runColumns(c, runCount, new Set());
      expect(c.left).toBe(0);
      return runs;
    };
    expect(runsOf(2, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00)).toEqual([
      { ref: 0, count: 1, ttlSeconds: 0 },
      { ref: 1, count: 1, ttlSeconds: 0 },
    ]);
    expect(runsOf(0, 0x00, 0x00, 0x00, 0x00)).toEqual([]);
    expect(() => runsOf(1, 0x01, 0x00, 0x01, 0x00, 0x00)).toThrow(/out of range/); // ref −1
    expect(() => runsOf(1, 0x80, 0x80, 0x80, 0x80, 0x20, 0x00, 0x01, 0x00, 0x00)).toThrow(/out of range/); // ref 2^32
    expect(runsOf(1, 0xfe, 0xff, 0xff, 0xff, 0x1f, 0x00, 0x01, 0x00, 0x00)[0]!.ref).toBe(U32_MAX); // the largest ref
    expect(() => runsOf(1, 0x00, 0x02, 0x01, 0x00, 0x00)).toThrow(/unknown mode 2/);
    expect(() => runsOf(1, 0x00, 0x00, 0x80, 0x80, 0x80, 0x80, 0x10, 0x00, 0x00)).toThrow(/above/); // count 2^32
  });

  it('compacted segments are what compaction.md says compacting the source appends gives', () => {
    for (const [shardId, sources, spec] of [
      [1, SHARD1_SOURCE, SHARD1_COMPACTION],
      [2, SHARD2_SOURCE, SHARD2_COMPACTION],
      [3, SHARD3_SOURCE, SHARD3_COMPACTION],
      [4, SHARD4_SOURCE, SHARD4_COMPACTION],
    ] as const) {
      const want = compact(sources, spec);
      const outputs = data.shards.get(shardId)!.filter(({ segment: seg }) => seg.header.kind === 1);
      const got = outputs.map(({ segment: seg }) => ({
        header: { ...seg.header, capacityBytes: -1 },
        compaction: seg.footer!.compaction!,
        blocks: seg.blocks.map((blk) => asExpected(seg, blk)),
      }));
      expect(got).toEqual(want);
      for (const { segment: seg } of outputs) expect(seg.header.capacityBytes).toBe(seg.size);
    }
  });

  it('uses every encoding and runs layout the fixture\'s writers produce (codecs versions 1, 2 and 3)', () => {
    const seen = new Set<string>();
    for (const segs of data.shards.values()) for (const { segment: seg } of segs) for (const blk of seg.blocks) for (const e of blk.encodings) seen.add(e);
    expect([...seen].sort()).toEqual([
      'floats:DecimalPacked',
      'floats:DecimalScaled',
      'floats:Gorilla',
      'floats:Raw',
      'ints:DeltaZigzag',
      'ints:Raw',
      'json:Dictionary',
      'runCounts:perRun',
      'runCounts:uniform',
      'runTtls:perRun',
      'runTtls:uniform',
      'runs:columns',
      'runs:v1',
      'strings:Dictionary',
      'timestamps:DeltaOfDelta',
    ]);
  });

  it('tombstones.log holds the two deletes', () => {
    expect(data.tombstones).toEqual(LOGGED_TOMBSTONES);
  });

  it('what a reader shows (README checklist 7–8) is the data set after deletes, TTL and LWW', () => {
    // The data set's own semantics: every write of shard 0 and what the compactions kept, hidden
    // by the logged deletes and TTL, the newest write of each timestamp winning.
    const modelPoints: StoredPoint[] = [...SHARD0, ...SHARD4].flatMap((a) => ingestBlocks(a).writes.map((w) => ({ ...w, shardId: a.shardId, position: w.order })));
    for (const [shardId, sources, spec] of [
      [1, SHARD1_SOURCE, SHARD1_COMPACTION],
      [2, SHARD2_SOURCE, SHARD2_COMPACTION],
      [3, SHARD3_SOURCE, SHARD3_COMPACTION],
      [4, SHARD4_SOURCE, SHARD4_COMPACTION],
    ] as const) {
      const keys = new Map(sources.flatMap((a) => a.series).map((key) => [canonical(key), key]));
      for (const out of compact(sources, spec)) {
        for (const blk of out.blocks) {
          let position = 0;
          for (const run of blk.runs) {
            const expiresAtMs = run.ttlSeconds > 0 ? blk.writtenAtMs + run.ttlSeconds * 1000 : Infinity;
            for (const [t, value] of run.points) {
              modelPoints.push({ key: keys.get(run.series)!, t, value, writtenAtMs: blk.writtenAtMs, shardId, sequence: blk.sequence, position: position++, expiresAtMs });
            }
          }
        }
      }
    }
    const stored = storedPoints(data);
    for (const nowMs of [T0 + 10_000, T0 + 39_000, T0 + 68_000, T0 + 3_600_000]) {
      expectSameSeries(visible(stored, data.tombstones, nowMs), visible(modelPoints, LOGGED_TOMBSTONES, nowMs));
    }
    // Spot checks, stated plainly.
    const got = visible(stored, data.tombstones, T0 + 10_000);
    expect(got.get('fx.float{dc=eu,host=a}')).toEqual([
      [-2000, 1.5],
      [-1000, -0],
      [0, 99],
      [1000, 2.5],
      [2000, NaN],
      [3000, 3],
    ]);
    expect(got.get('fx.int{host=a}')!.map(([, v]) => v)).toEqual([5n, BEYOND_DOUBLE, I64_MIN, I64_MAX, 0n, 123_456_789_012_345_678n]);
    expect(got.get('fx.str{host=a}')).toEqual([
      [10, 'hello'],
      [20, 'héllo ✓ 🌍'],
      [30, 'back'],
      [40, 'hello'],
    ]);
    expect(got.get('fx.c.dec{k=v}')!.map(([, v]) => v)).toEqual([0.5, 1.25, 2.875, 3.5, 100.125, -7.5]);
    expect(got.get('fx.c.gorilla{k=v}')!.map(([, v]) => v)).toEqual(Array.from({ length: 8 }, (_, i) => Math.PI * (i + 1)));
    expect(got.get('fx.c.int{}')!.map(([, v]) => v)).toEqual([I64_MIN, I64_MAX, BEYOND_DOUBLE, 42n, -1n]);
    expect(got.get('fx.d.raw{}')!.map(([, v]) => v)).toEqual([1 / 3, -2.5e-310, 1e300, -Infinity]);
    expect(got.get('fx.d.json{}')).toEqual([[10, { json: '{"a":1}' }]]);
    expect(got.has('fx.d.gone{}')).toBe(false);
    expect(got.get('fx.d.keep{}')).toEqual([[50, 2n]]);
    expect(visible(stored, data.tombstones, T0 + 39_000).get('fx.d.keep{}')).toEqual([[50, 1n]]);
    expect(got.get('fx.d.bulk{}')!.length).toBe(70_000);
    expect(got.get('fx.p.gauge{}')!.map(([, v]) => v)).toEqual(SHARD3_GAUGE);
    expect(got.get('fx.p.uptime{}')!.slice(149, 152)).toEqual([
      [DAY + 1_490_000, 2490.05],
      [DAY + 1_500_000, 0],
      [DAY + 1_510_000, 10],
    ]);
    expect(got.get('fx.p.span{}')!.map(([, v]) => v)).toEqual(SHARD3_SPAN);
    expect(visible(stored, data.tombstones, T0 + 3_600_000).has('fx.ttl{host=a}')).toBe(false);
    expect(visible(stored, data.tombstones, T0 + 68_000).get('fx.d.ttl{}')!.map(([t]) => t)).toEqual([200, 300, 400]);
    // Shard 4 (run columns): the TTLs of the per-run and uniform columns, and a series over both segments.
    expect(got.get('fx.r.cpu{host=h2}')).toEqual([
      [1000, 2.5],
      [5000, 21],
      [6000, 22],
      [7000, 23],
      [8000, 24],
    ]);
    expect(got.get('fx.r.mem{host=h0}')).toEqual([
      [2000, 100n],
      [3000, 101n],
      [4000, 102n],
    ]);
    expect(got.get('fx.k.a{}')!.map(([t]) => t)).toEqual([0, 10, 20, 30, 40]);
    const later = visible(stored, data.tombstones, T0 + 68_000);
    expect(later.get('fx.r.cpu{host=h1}')).toEqual([
      [1000, 1.5],
      [7000, 13],
    ]); // the 30 s TTL of block 3 (T0 + 17 s) has run out
    expect(later.get('fx.r.cpu{host=h0}')).toEqual([
      [1000, 0.5],
      [2000, 10],
    ]); // 60 s from T0 + 16 s: still there
    expect(visible(stored, data.tombstones, T0 + 3_600_000).get('fx.r.cpu{host=h0}')).toEqual([[1000, 0.5]]);
    expect(visible(stored, data.tombstones, T0 + 3_600_000).get('fx.k.a{}')!.map(([t]) => t)).toEqual([0, 10, 20]); // 120 s run gone
  });
});
