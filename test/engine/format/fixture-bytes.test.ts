// Reads the golden fixture test/fixtures/format-v1/ with a minimal reader written from
// docs/format/*.md alone — DataView reads at the documented offsets, the documented walk and
// footer payload, both layouts of a block's runs, the fast column encodings and DecimalPacked —
// so any difference between the
// documents and the bytes fails here. Only CRC-32C and LZ4 block decompression come from the
// engine (engine/codec/crc32c.ts, lz4.ts); shard 3's values come from the data set.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { crc32c } from '../../../engine/codec/crc32c.js';
import { lz4Decompress } from '../../../engine/codec/lz4.js';
import { shard3Gauge, shard3Offset, shard3Span, shard3Uptime } from '../../fixtures/format-v1-data.js';

const FIXTURE = fileURLToPath(new URL('../../fixtures/format-v1/', import.meta.url));
const T0 = 1_700_000_000_000;

function read(rel: string): Uint8Array {
  return new Uint8Array(fs.readFileSync(path.join(FIXTURE, rel)));
}

// ------------------------------------------------------------------ primitives.md

function view(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}
const u16 = (b: Uint8Array, at: number): number => view(b).getUint16(at, true);
const u32 = (b: Uint8Array, at: number): number => view(b).getUint32(at, true);
/** i64 that must hold |v| ≤ 2^53 (header fields). */
function i64(b: Uint8Array, at: number): number {
  const v = view(b).getBigInt64(at, true);
  expect(v <= 2n ** 53n && v >= -(2n ** 53n)).toBe(true);
  return Number(v);
}
const ascii = (b: Uint8Array, at: number): string => String.fromCharCode(...b.subarray(at, at + 4));
const alignUp8 = (n: number): number => Math.ceil(n / 8) * 8;

/** Cursor over a payload: varuint ≤ 8 bytes, zig-zag varint, varuint-length UTF-8 strings. */
class Cursor {
  pos = 0;
  constructor(readonly b: Uint8Array) {}
  get left(): number {
    return this.b.length - this.pos;
  }
  u8(): number {
    if (this.pos >= this.b.length) throw new RangeError('past end');
    return this.b[this.pos++]!;
  }
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
  bytes(n: number): Uint8Array {
    if (this.pos + n > this.b.length) throw new RangeError('past end');
    const out = this.b.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
  string(): string {
    return new TextDecoder('utf-8', { fatal: true }).decode(this.bytes(this.varuint()));
  }
  /** series-key.md: metric, varuint tag count, then key/value pairs, keys strictly increasing (UTF-8 bytes). */
  seriesKey(): string {
    const metric = this.string();
    const n = this.varuint();
    const parts: string[] = [];
    let prev: Uint8Array | undefined;
    for (let i = 0; i < n; i++) {
      const kBytes = this.bytes(this.varuint());
      const k = new TextDecoder('utf-8', { fatal: true }).decode(kBytes);
      if (prev !== undefined) expect(Buffer.compare(prev, kBytes)).toBeLessThan(0); // strictly increasing bytes
      prev = kBytes;
      parts.push(`${k}=${this.string()}`);
    }
    return `${metric}{${parts.join(',')}}`;
  }
}

/** primitives.md §LZ4 stored form: u32 raw length, then one LZ4 block. */
function unlz4(stored: Uint8Array, rawBytes: number): Uint8Array {
  expect(u32(stored, 0)).toBe(rawBytes);
  return lz4Decompress(stored, rawBytes);
}

// ------------------------------------------------------------------ segment.md

interface SegmentHeader {
  version: number;
  kind: number;
  shardId: number;
  headerBytes: number;
  sequence: number;
  createdAtMs: number;
  capacityBytes: number;
}

function segmentHeader(b: Uint8Array): SegmentHeader {
  expect(ascii(b, 0)).toBe('STSG');
  expect(u32(b, 0)).toBe(0x47535453);
  expect(u32(b, 60)).toBe(crc32c(b.subarray(0, 60)));
  expect([...b.subarray(40, 60)].every((x) => x === 0)).toBe(true);
  return {
    version: u16(b, 4),
    kind: u16(b, 6),
    shardId: u32(b, 8),
    headerBytes: u32(b, 12),
    sequence: i64(b, 16),
    createdAtMs: i64(b, 24),
    capacityBytes: i64(b, 32),
  };
}

interface Block {
  offset: number;
  flags: number;
  blockBytes: number;
  payloadStoredBytes: number;
  payloadRawBytes: number;
  pointCount: number;
  runCount: number;
  newSeriesCount: number;
  minTimestampMs: number;
  maxTimestampMs: number;
  sequence: number;
  writtenAtMs: number;
  firstNewSeriesRef: number;
  raw: Uint8Array;
}

/** block.md §Block header, checked as the document says; undefined + reason where a walk stops. */
function blockAt(b: Uint8Array, at: number): Block | string {
  if (b.length - at < 72) return 'truncated block header';
  const magic = u32(b, at);
  if (magic === 0) return 'end of blocks';
  if (magic !== 0x4b425453) return 'bad block magic';
  expect(ascii(b, at)).toBe('STBK');
  expect(b[at + 4]).toBe(1);
  expect(u16(b, at + 6)).toBe(0);
  const h = b.subarray(at);
  const blk = {
    offset: at,
    flags: b[at + 5]!,
    blockBytes: u32(h, 8),
    payloadStoredBytes: u32(h, 12),
    payloadRawBytes: u32(h, 16),
    pointCount: u32(h, 20),
    runCount: u32(h, 24),
    newSeriesCount: u32(h, 28),
    minTimestampMs: i64(h, 32),
    maxTimestampMs: i64(h, 40),
    sequence: i64(h, 48),
    writtenAtMs: i64(h, 56),
    firstNewSeriesRef: u32(h, 64),
  };
  expect(blk.flags & ~0x07).toBe(0); // LZ4, BATCH_CONTINUES, RUN_COLUMNS
  expect(blk.blockBytes).toBe(alignUp8(72 + blk.payloadStoredBytes));
  expect(at + blk.blockBytes).toBeLessThanOrEqual(b.length);
  // CRC over header [0, 68) then [72, blockBytes): payload and padding.
  const crc = crc32c(h.subarray(72, blk.blockBytes), crc32c(h.subarray(0, 68)));
  expect(u32(h, 68)).toBe(crc);
  expect([...h.subarray(72 + blk.payloadStoredBytes, blk.blockBytes)].every((x) => x === 0)).toBe(true);
  const stored = h.subarray(72, 72 + blk.payloadStoredBytes);
  const raw = blk.flags & 0x01 ? unlz4(stored, blk.payloadRawBytes) : stored;
  return { ...blk, raw };
}

/** segment.md §Blocks and how a reader finds them. */
function walk(b: Uint8Array): { blocks: Block[]; endOffset: number; reason: string } {
  const blocks: Block[] = [];
  const pending: Block[] = [];
  let offset = 64;
  for (;;) {
    const blk = blockAt(b, offset);
    if (typeof blk === 'string') {
      return { blocks, endOffset: pending.length > 0 ? pending[0]!.offset : offset, reason: blk };
    }
    pending.push(blk);
    offset += blk.blockBytes;
    if ((blk.flags & 0x02) === 0) blocks.push(...pending.splice(0));
  }
}

interface FooterEntry {
  offset: number;
  blockBytes: number;
  pointCount: number;
  minTimestampMs: number;
  maxTimestampMs: number;
  sequence: number;
  writtenAtMs: number;
  refs: number[];
}

interface Footer {
  footerOffset: number;
  series: string[];
  blocks: FooterEntry[];
  compaction: { compactionId: number; outputIndex: number; outputCount: number; sourceSequences: number[] } | undefined;
}

/** segment.md §Recognising a sealed segment, §Trailer, §Footer, §Footer payload. */
function sealed(b: Uint8Array): Footer | undefined {
  if (b.length < 80) return undefined;
  const t = b.subarray(b.length - 16);
  if (u32(t, 0) !== 0x52545453 || u32(t, 12) !== crc32c(t.subarray(0, 12))) return undefined;
  expect(ascii(t, 0)).toBe('STTR');
  const footerOffset = u32(t, 4);
  const footerBytes = u32(t, 8);
  if (footerOffset + footerBytes + 16 !== b.length) return undefined;
  const f = b.subarray(footerOffset, footerOffset + footerBytes);
  expect(ascii(f, 0)).toBe('STFT');
  expect(u32(f, 0)).toBe(0x54465453);
  expect(u32(f, 4)).toBe(footerBytes);
  const stored = u32(f, 8);
  expect(footerBytes).toBe(alignUp8(24 + stored));
  expect(u32(f, 16)).toBe(0);
  expect(u32(f, 20)).toBe(crc32c(f.subarray(24, footerBytes), crc32c(f.subarray(0, 20))));
  const c = new Cursor(unlz4(f.subarray(24, 24 + stored), u32(f, 12)));
  const series: string[] = [];
  const seriesCount = c.varuint();
  for (let i = 0; i < seriesCount; i++) series.push(c.seriesKey());
  const blocks: FooterEntry[] = [];
  const blockCount = c.varuint();
  let prev = 0;
  for (let i = 0; i < blockCount; i++) {
    const offset = prev + c.varuint();
    prev = offset;
    const blockBytes = c.varuint();
    const pointCount = c.varuint();
    const minTimestampMs = c.varint();
    const maxTimestampMs = minTimestampMs + c.varuint();
    const sequence = c.varuint();
    const writtenAtMs = c.varint();
    const refs: number[] = [];
    const runs = c.varuint();
    for (let r = 0; r < runs; r++) refs.push(c.varuint());
    blocks.push({ offset, blockBytes, pointCount, minTimestampMs, maxTimestampMs, sequence, writtenAtMs, refs });
  }
  let compaction: Footer['compaction'];
  const has = c.u8();
  expect([0, 1]).toContain(has);
  if (has === 1) {
    const compactionId = c.varuint();
    const outputIndex = c.varuint();
    const outputCount = c.varuint();
    const sourceSequences: number[] = [];
    const n = c.varuint();
    for (let i = 0; i < n; i++) sourceSequences.push(c.varuint());
    compaction = { compactionId, outputIndex, outputCount, sourceSequences };
  }
  expect(c.left).toBe(0);
  return { footerOffset, series, blocks, compaction };
}

// ------------------------------------------------------------------ codecs.md §DecimalPacked

interface DecimalPacked {
  e: number;
  coding: number;
  /** Width byte of each group, in order. */
  widths: number[];
  values: number[];
}

/**
 * After the encoding byte: u8 e, u8 coding, head varints (1, or 2 for delta-of-delta), then
 * groups of up to 128 zig-zag fields: u8 width, ⌈g·width/8⌉ bytes, fields least significant bit
 * first. Read one bit at a time, as the document states it, with BigInt for fields over 32 bits.
 */
function decimalPacked(c: Cursor, n: number): DecimalPacked {
  const e = c.u8();
  const coding = c.u8();
  expect(e).toBeLessThanOrEqual(15);
  expect([0, 1]).toContain(coding);
  const w: number[] = [];
  const head = Math.min(n, coding === 1 ? 2 : 1);
  for (let k = 0; k < head; k++) w.push(c.varint());
  const widths: number[] = [];
  while (w.length < n) {
    const width = c.u8();
    expect(width).toBeLessThanOrEqual(54);
    widths.push(width);
    const g = Math.min(128, n - w.length);
    const bytes = c.bytes(Math.ceil((g * width) / 8));
    for (let i = 0; i < g; i++) {
      let z = 0n;
      for (let j = 0; j < width; j++) {
        const bit = i * width + j;
        z |= BigInt((bytes[bit >>> 3]! >>> (bit & 7)) & 1) << BigInt(j);
      }
      w.push(Number(z % 2n === 0n ? z / 2n : -(z + 1n) / 2n));
    }
    // Padding after the last field is zero.
    const used = g * width;
    for (let bit = used; bit < bytes.length * 8; bit++) expect((bytes[bit >>> 3]! >>> (bit & 7)) & 1).toBe(0);
  }
  const values: number[] = [];
  let m = 0;
  let d = 0;
  w.forEach((wk, k) => {
    if (coding === 0 || k < 2) d = wk;
    else d += wk;
    m = k === 0 ? wk : m + d;
    expect(Math.abs(m)).toBeLessThanOrEqual(2 ** 50);
    values.push(m / Number(`1e${e}`));
  });
  return { e, coding, widths, values };
}

// ------------------------------------------------------------------ block.md §Payload

interface Payload {
  newSeries: string[];
  runs: [ref: number, points: number, ttlSeconds: number][];
  timestampsMs: number[];
  kinds: number[];
  /** Values in point order when every column uses a fast encoding or DecimalPacked; else undefined. */
  values: (number | bigint | string)[] | undefined;
  /** The float column, when it is DecimalPacked. */
  packed?: DecimalPacked;
}

/**
 * block.md §Runs. Flag 0x04 clear: (ref, pointCount, ttlSeconds) varuints per run. Set (run
 * columns): runCount zig-zag varints ref − (previous ref + 1), previous of run 0 = −1; then the
 * counts and the TTLs, each u8 mode 0 + one varuint for every run, or mode 1 + a varuint per run.
 */
function readRuns(c: Cursor, blk: Block): Payload['runs'] {
  const n = blk.runCount;
  const runs: Payload['runs'] = [];
  if ((blk.flags & 0x04) === 0) {
    for (let i = 0; i < n; i++) runs.push([c.varuint(), c.varuint(), c.varuint()]);
  } else {
    const refs: number[] = [];
    let previous = -1;
    for (let i = 0; i < n; i++) {
      const ref = previous + 1 + c.varint();
      expect(ref >= 0 && ref <= 2 ** 32 - 1).toBe(true);
      refs.push(ref);
      previous = ref;
    }
    const column = (): number[] => {
      const mode = c.u8();
      expect([0, 1]).toContain(mode);
      const values = mode === 0 ? new Array<number>(n).fill(c.varuint()) : Array.from({ length: n }, () => c.varuint());
      expect(values.every((v) => v <= 2 ** 32 - 1)).toBe(true);
      return values;
    };
    const counts = column();
    const ttls = column();
    refs.forEach((ref, i) => runs.push([ref, counts[i]!, ttls[i]!]));
  }
  expect(runs.reduce((sum, r) => sum + r[1], 0)).toBe(blk.pointCount);
  return runs;
}

/** The raw bytes of a block's runs section, as hex: after the series definitions, up to the timestamps column. */
function runsHex(blk: Block): string {
  const c = new Cursor(blk.raw);
  for (let i = 0; i < blk.newSeriesCount; i++) c.seriesKey();
  const start = c.pos;
  readRuns(c, blk);
  return [...blk.raw.subarray(start, c.pos)].map((b) => b.toString(16).padStart(2, '0').toUpperCase()).join(' ');
}

function payload(blk: Block): Payload {
  const c = new Cursor(blk.raw);
  const newSeries: string[] = [];
  for (let i = 0; i < blk.newSeriesCount; i++) newSeries.push(c.seriesKey());
  const runs = readRuns(c, blk);
  const n = blk.pointCount;

  // Timestamps (codecs.md): encoding byte; 1 = delta-of-delta zig-zag varints, 0 = raw i64.
  const timestampsMs: number[] = [];
  const tsEncoding = c.u8();
  if (tsEncoding === 1) {
    let prev = 0;
    let delta = 0;
    for (let i = 0; i < n; i++) {
      const v = c.varint();
      if (i === 0) prev = v;
      else {
        delta = i === 1 ? v : delta + v;
        prev += delta;
      }
      timestampsMs.push(prev);
    }
  } else {
    expect(tsEncoding).toBe(0);
    for (let i = 0; i < n; i++) timestampsMs.push(i64(c.bytes(8), 0));
  }

  // Kinds: mode 0 = one kind byte for all, mode 1 = a byte per point.
  const mode = c.u8();
  const kinds = mode === 0 ? new Array<number>(n).fill(c.u8()) : [...c.bytes(n)];
  expect([0, 1]).toContain(mode);
  expect(kinds.every((k) => k >= 0 && k <= 3)).toBe(true);

  // Value columns: uniform Float64 / Int64: one column of n; otherwise float, int, string, json
  // columns of the non-empty kinds, in that order.
  const counts = [0, 1, 2, 3].map((k) => kinds.filter((x) => x === k).length);
  const uniform = mode === 0 ? kinds[0] ?? 0 : -1;
  const order = uniform === 0 || uniform === 1 ? [uniform] : [0, 1, 2, 3].filter((k) => counts[k]! > 0);
  const columns = new Map<number, (number | bigint | string)[]>();
  let packed: DecimalPacked | undefined;
  for (const k of order) {
    const count = uniform === 0 || uniform === 1 ? n : counts[k]!;
    const enc = c.u8();
    const col: (number | bigint | string)[] = [];
    const isPacked = k === 0 && enc === 3;
    if ((k === 0 || k === 1) && enc !== 0 && !isPacked) return { newSeries, runs, timestampsMs, kinds, values: undefined };
    if (isPacked) {
      packed = decimalPacked(c, count);
      col.push(...packed.values);
    } else if (k === 0) for (let i = 0; i < count; i++) col.push(view(c.bytes(8)).getFloat64(0, true));
    else if (k === 1) for (let i = 0; i < count; i++) col.push(view(c.bytes(8)).getBigInt64(0, true));
    else {
      expect(enc).toBe(0); // dictionary: distinct strings, then an index per value
      const dict: string[] = [];
      const distinct = c.varuint();
      for (let i = 0; i < distinct; i++) dict.push(c.string());
      for (let i = 0; i < count; i++) col.push(dict[c.varuint()]!);
    }
    columns.set(k, col);
  }
  expect(c.left).toBe(0);
  const next = new Map<number, number>();
  const values = kinds.map((k) => {
    const i = next.get(k) ?? 0;
    next.set(k, i + 1);
    return columns.get(k)![i]!;
  });
  return packed ? { newSeries, runs, timestampsMs, kinds, values, packed } : { newSeries, runs, timestampsMs, kinds, values };
}

/** Header fields as the docs name them, for compact expectations. */
function fields(b: Block): Omit<Block, 'raw' | 'payloadStoredBytes' | 'payloadRawBytes' | 'blockBytes'> {
  const { raw: _raw, payloadStoredBytes: _s, payloadRawBytes: _r, blockBytes: _b, ...rest } = b;
  return rest;
}

// ------------------------------------------------------------------ the fixture

describe('format-v1 fixture, read with the documented layout', () => {
  it('shard 0 segment 1: sealed ingest segment', () => {
    const b = read('shards/0/0000000000000001.seg');
    expect(segmentHeader(b)).toEqual({ version: 1, kind: 0, shardId: 0, headerBytes: 64, sequence: 1, createdAtMs: T0, capacityBytes: 16384 });
    const footer = sealed(b)!;
    expect(footer).toBeDefined();
    const w = walk(b);
    expect(w.reason).toBe('bad block magic'); // the walk runs into the footer
    expect(w.endOffset).toBe(footer.footerOffset);
    expect(w.blocks.map(fields)).toEqual([
      { offset: 64, flags: 1, pointCount: 24, runCount: 6, newSeriesCount: 6, minTimestampMs: -2000, maxTimestampMs: 2000, sequence: 1, writtenAtMs: T0, firstNewSeriesRef: 0 },
      { offset: w.blocks[0]!.offset + w.blocks[0]!.blockBytes, flags: 1, pointCount: 3, runCount: 2, newSeriesCount: 1, minTimestampMs: 0, maxTimestampMs: 3000, sequence: 2, writtenAtMs: T0 + 1000, firstNewSeriesRef: 6 },
    ]);

    // The footer repeats the walk.
    expect(footer.compaction).toBeUndefined();
    expect(footer.series).toEqual([
      'fx.float{dc=eu,host=a}',
      'fx.int{host=a}',
      'fx.str{host=a}',
      'fx.json{host=a}',
      'fx.ttl{host=a}',
      'fx.mixed{}',
      'fx.float{host=b}',
    ]);
    expect(footer.blocks).toEqual(
      w.blocks.map((blk, i) => ({
        offset: blk.offset,
        blockBytes: blk.blockBytes,
        pointCount: blk.pointCount,
        minTimestampMs: blk.minTimestampMs,
        maxTimestampMs: blk.maxTimestampMs,
        sequence: blk.sequence,
        writtenAtMs: blk.writtenAtMs,
        refs: [[0, 1, 2, 3, 4, 5], [0, 6]][i],
      })),
    );

    const p1 = payload(w.blocks[0]!);
    expect(p1.newSeries).toEqual(footer.series.slice(0, 6));
    expect(p1.runs).toEqual([
      [0, 7, 0],
      [1, 5, 0],
      [2, 4, 0],
      [3, 3, 0],
      [4, 2, 3600],
      [5, 3, 0],
    ]);
    // Each run sorted by time, equal timestamps in input order; runs concatenated.
    expect(p1.timestampsMs).toEqual([-2000, -1000, 0, 0, 500, 1000, 2000, -5, 0, 1, 2, 3, 10, 20, 30, 40, 10, 20, 30, 100, 200, 1, 2, 3]);
    expect(p1.kinds).toEqual([0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 0, 0, 0, 1, 2]);
    const v = p1.values!;
    expect(v.slice(0, 7)).toEqual([1.5, -0, 0.1, 0.2, 5.5, 1e308, NaN]);
    expect(Object.is(v[1], -0)).toBe(true);
    expect(v.slice(7, 12)).toEqual([-1n, 9_007_199_254_740_993n, -(2n ** 63n), 2n ** 63n - 1n, 0n]);
    expect(v.slice(12, 16)).toEqual(['hello', 'héllo ✓ 🌍', '', 'hello']);
    expect(v.slice(16, 19)).toEqual(['{"a":1,"b":[true,null]}', '[1,2.5,"x"]', 'null']);
    expect(v.slice(19)).toEqual([1, 2, 1.25, 7n, 'seven']);

    const p2 = payload(w.blocks[1]!);
    expect(p2).toEqual({
      newSeries: ['fx.float{host=b}'],
      runs: [
        [0, 2, 0],
        [6, 1, 0],
      ],
      timestampsMs: [1000, 3000, 0],
      kinds: [0, 0, 0],
      values: [2.5, 3, 42],
    });
  });

  it('shard 0 segment 2: active (unsealed) segment, zero tail, a two-block batch', () => {
    const b = read('shards/0/0000000000000002.seg');
    expect(b.length).toBe(16384);
    expect(segmentHeader(b)).toEqual({ version: 1, kind: 0, shardId: 0, headerBytes: 64, sequence: 2, createdAtMs: T0 + 3000, capacityBytes: 16384 });
    expect(sealed(b)).toBeUndefined();
    const w = walk(b);
    expect(w.reason).toBe('end of blocks');
    expect([...b.subarray(w.endOffset)].every((x) => x === 0)).toBe(true);
    expect(w.blocks.map(fields).map(({ offset: _o, ...rest }) => rest)).toEqual([
      { flags: 1, pointCount: 2, runCount: 1, newSeriesCount: 1, minTimestampMs: -5, maxTimestampMs: 4, sequence: 3, writtenAtMs: T0 + 3000, firstNewSeriesRef: 0 },
      { flags: 1, pointCount: 3, runCount: 3, newSeriesCount: 3, minTimestampMs: 0, maxTimestampMs: 40, sequence: 4, writtenAtMs: T0 + 4000, firstNewSeriesRef: 1 },
      { flags: 3, pointCount: 65_536, runCount: 1, newSeriesCount: 1, minTimestampMs: 0, maxTimestampMs: 655_350, sequence: 5, writtenAtMs: T0 + 5000, firstNewSeriesRef: 4 },
      { flags: 1, pointCount: 4, runCount: 1, newSeriesCount: 0, minTimestampMs: 655_360, maxTimestampMs: 655_390, sequence: 6, writtenAtMs: T0 + 5000, firstNewSeriesRef: 5 },
    ]);
    // Blocks follow each other with no gaps from offset 64, 8-aligned.
    let at = 64;
    for (const blk of w.blocks) {
      expect(blk.offset).toBe(at);
      expect(blk.offset % 8).toBe(0);
      at += blk.blockBytes;
    }
    expect(w.endOffset).toBe(at);

    const payloads = w.blocks.map(payload);
    expect(payloads[0]).toEqual({ newSeries: ['fx.int{host=a}'], runs: [[0, 2, 0]], timestampsMs: [-5, 4], kinds: [1, 1], values: [5n, 123_456_789_012_345_678n] });
    expect(payloads[1]).toEqual({
      newSeries: ['fx.float{dc=eu,host=a}', 'fx.str{host=a}', 'fx.json{host=a}'],
      runs: [
        [1, 1, 0],
        [2, 1, 0],
        [3, 1, 0],
      ],
      timestampsMs: [0, 30, 40],
      kinds: [0, 2, 3],
      values: [99, 'back', '{"late":true}'],
    });
    expect(payloads[2]!.newSeries).toEqual(['fx.bulk{}']);
    expect(payloads[2]!.runs).toEqual([[4, 65_536, 0]]);
    expect(payloads[3]!.runs).toEqual([[4, 4, 0]]);
    const ts = [...payloads[2]!.timestampsMs, ...payloads[3]!.timestampsMs];
    const vs = [...payloads[2]!.values!, ...payloads[3]!.values!];
    expect(ts.length).toBe(65_540);
    expect(ts.every((t, i) => t === i * 10)).toBe(true);
    expect(vs.every((x, i) => x === i % 4)).toBe(true);
  });

  it('a batch is visible only with its last block: cutting the second block hides the first', () => {
    const b = read('shards/0/0000000000000002.seg').slice();
    const blocks = walk(b).blocks;
    const last = blocks[blocks.length - 1]!;
    b.fill(0, last.offset); // as if the process died after copying block 5 only
    const w = walk(b);
    expect(w.reason).toBe('end of blocks');
    expect(w.blocks.map((x) => x.sequence)).toEqual([3, 4]);
    expect(w.endOffset).toBe(blocks[2]!.offset);
  });

  it('shard 1: compacted segments, one per day partition, with compaction info in the footer', () => {
    const names = fs.readdirSync(path.join(FIXTURE, 'shards/1')).sort();
    expect(names).toEqual(['0000000000000002.seg', '0000000000000003.seg', '0000000000000004.seg']);
    const expected = [
      { series: ['fx.c.dec{k=v}'], min: -86_400_000, max: -1, points: 2, sequence: 1, writtenAtMs: T0 + 6000 },
      { series: ['fx.c.dec{k=v}', 'fx.c.gorilla{k=v}', 'fx.c.int{}', 'fx.c.str{}', 'fx.c.ttl{}'], min: 0, max: 8000, points: 21, sequence: 2, writtenAtMs: T0 + 6500 },
      { series: ['fx.c.dec{k=v}'], min: 86_400_000, max: 86_400_000, points: 1, sequence: 1, writtenAtMs: T0 + 6000 },
    ];
    names.forEach((name, i) => {
      const b = read(`shards/1/${name}`);
      const seq = i + 2;
      expect(segmentHeader(b)).toEqual({ version: 1, kind: 1, shardId: 1, headerBytes: 64, sequence: seq, createdAtMs: T0 + 7000, capacityBytes: b.length });
      const footer = sealed(b)!;
      expect(footer.compaction).toEqual({ compactionId: (T0 + 7000) * 1000, outputIndex: i, outputCount: 3, sourceSequences: [1] });
      expect(footer.series).toEqual(expected[i]!.series);
      const w = walk(b);
      expect(w.endOffset).toBe(footer.footerOffset);
      expect(w.blocks.length).toBe(1);
      const blk = w.blocks[0]!;
      expect(fields(blk)).toEqual({
        offset: 64,
        flags: 1,
        pointCount: expected[i]!.points,
        runCount: expected[i]!.series.length,
        newSeriesCount: expected[i]!.series.length,
        minTimestampMs: expected[i]!.min,
        maxTimestampMs: expected[i]!.max,
        sequence: expected[i]!.sequence,
        writtenAtMs: expected[i]!.writtenAtMs,
        firstNewSeriesRef: 0,
      });
      const p = payload(blk);
      expect(p.newSeries).toEqual(expected[i]!.series);
      if (i === 1) {
        // Series sorted by canonical key; one run each; the TTL run keeps its TTL.
        expect(p.runs).toEqual([
          [0, 3, 0],
          [1, 8, 0],
          [2, 5, 0],
          [3, 3, 0],
          [4, 2, 7200],
        ]);
        expect(p.timestampsMs).toEqual([0, 1000, 2000, 1000, 2000, 3000, 4000, 5000, 6000, 7000, 8000, 0, 1, 2, 3, 4, 10, 20, 30, 5, 6]);
        expect(p.kinds).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 2, 2, 2, 0, 0]);
      }
    });
  });

  it('shard 2: compacted segments with two runs of one series in a block and a series over two blocks', () => {
    const names = fs.readdirSync(path.join(FIXTURE, 'shards/2')).sort();
    expect(names).toEqual(['0000000000000002.seg', '0000000000000003.seg', '0000000000000004.seg', '0000000000000005.seg']);
    const DAY = 86_400_000;
    const segments = names.map((name, i) => {
      const b = read(`shards/2/${name}`);
      expect(segmentHeader(b)).toEqual({ version: 1, kind: 1, shardId: 2, headerBytes: 64, sequence: i + 2, createdAtMs: T0 + 10_000, capacityBytes: b.length });
      const footer = sealed(b)!;
      expect(footer.compaction).toEqual({ compactionId: (T0 + 10_000) * 1000, outputIndex: i, outputCount: 4, sourceSequences: [1] });
      const w = walk(b);
      expect(w.endOffset).toBe(footer.footerOffset);
      expect(footer.blocks.map((e) => e.offset)).toEqual(w.blocks.map((blk) => blk.offset));
      return { footer, blocks: w.blocks };
    });

    // Day 0: series sorted by canonical key. fx.d.keep (ref 1): both versions of t = 50, oldest
    // first, one run per expiry (the newer one's 30 s TTL). fx.d.ttl (ref 3) in two runs, one per
    // expiry; its 60 s TTL re-based on the block's writtenAtMs (T0 + 9 s): 59 s. fx.d.gone
    // (expired), fx.d.raw t = −1 (retention) and fx.d.json t = 20 (tombstone) are gone.
    const day0 = segments[0]!;
    expect(day0.footer.series).toEqual(['fx.d.json{}', 'fx.d.keep{}', 'fx.d.raw{}', 'fx.d.ttl{}']);
    expect(day0.footer.blocks[0]!.refs).toEqual([0, 1, 1, 2, 3, 3]);
    expect(fields(day0.blocks[0]!)).toMatchObject({ pointCount: 11, runCount: 6, newSeriesCount: 4, minTimestampMs: 1, maxTimestampMs: 400, sequence: 2, writtenAtMs: T0 + 9000 });
    const p0 = payload(day0.blocks[0]!);
    expect(p0.runs).toEqual([
      [0, 1, 0],
      [1, 1, 0],
      [1, 1, 30],
      [2, 4, 0],
      [3, 1, 59],
      [3, 3, 0],
    ]);
    expect(p0.timestampsMs).toEqual([10, 50, 50, 1, 2, 3, 4, 100, 200, 300, 400]);
    expect(p0.kinds).toEqual([3, 1, 1, 0, 0, 0, 0, 1, 1, 1, 1]);

    // Day 1: fx.d.bulk over two blocks; the second defines no series and continues ref 0.
    const day1 = segments[1]!;
    expect(day1.footer.series).toEqual(['fx.d.bulk{}']);
    expect(day1.blocks.map(fields).map(({ offset: _o, ...rest }) => rest)).toEqual([
      { flags: 1, pointCount: 65_536, runCount: 1, newSeriesCount: 1, minTimestampMs: DAY, maxTimestampMs: DAY + 655_350, sequence: 3, writtenAtMs: T0 + 9500, firstNewSeriesRef: 0 },
      { flags: 1, pointCount: 4464, runCount: 1, newSeriesCount: 0, minTimestampMs: DAY + 655_360, maxTimestampMs: DAY + 699_990, sequence: 4, writtenAtMs: T0 + 9500, firstNewSeriesRef: 1 },
    ]);
    expect(day1.footer.blocks.map((e) => e.refs)).toEqual([[0], [0]]);

    // Days 2 and 3: one series, uniform Int64 blocks.
    for (const day of [segments[2]!, segments[3]!]) {
      expect(day.footer.series).toEqual(['fx.d.int{}']);
      expect(payload(day.blocks[0]!).kinds.every((k) => k === 1)).toBe(true);
    }
  });

  it('shard 3: compacted segments whose float columns are DecimalPacked (codecs version 2)', () => {
    const names = fs.readdirSync(path.join(FIXTURE, 'shards/3')).sort();
    expect(names).toEqual(['0000000000000002.seg', '0000000000000003.seg', '0000000000000004.seg']);
    const DAY = 86_400_000;
    const gauge = shard3Gauge();
    const uptime = shard3Uptime();
    const offset = shard3Offset();
    const span = shard3Span();
    const expected = [
      {
        series: ['fx.p.gauge{}', 'fx.p.state{}'],
        runs: [
          [0, 300, 0],
          [1, 2, 0],
        ],
        timestampsMs: [...gauge.map((_, i) => i * 10_000), 5, 2_000_000],
        kinds: [...gauge.map(() => 0), 2, 2],
        values: [...gauge, 'up', 'degraded'],
        packed: { e: 2, coding: 0, widths: [9, 9, 9] },
      },
      {
        series: ['fx.p.uptime{}'],
        runs: [[0, 200, 0]],
        timestampsMs: uptime.map((_, i) => DAY + i * 10_000),
        kinds: uptime.map(() => 0),
        values: uptime,
        packed: { e: 2, coding: 1, widths: [0, 19] },
      },
      {
        series: ['fx.p.offset{}', 'fx.p.span{}'],
        runs: [
          [0, 130, 0],
          [1, 20, 0],
        ],
        timestampsMs: [...offset.map((_, i) => 2 * DAY + i * 10_000), ...span.map((_, i) => 2 * DAY + i * 10_000)],
        kinds: [...offset, ...span].map(() => 0),
        values: [...offset, ...span],
        packed: { e: 0, coding: 0, widths: [34, 51] },
      },
    ];
    names.forEach((name, i) => {
      const b = read(`shards/3/${name}`);
      expect(segmentHeader(b)).toEqual({ version: 1, kind: 1, shardId: 3, headerBytes: 64, sequence: i + 2, createdAtMs: T0 + 12_000, capacityBytes: b.length });
      const footer = sealed(b)!;
      expect(footer.compaction).toEqual({ compactionId: (T0 + 12_000) * 1000, outputIndex: i, outputCount: 3, sourceSequences: [1] });
      expect(footer.series).toEqual(expected[i]!.series);
      const w = walk(b);
      expect(w.endOffset).toBe(footer.footerOffset);
      expect(w.blocks.length).toBe(1);
      const blk = w.blocks[0]!;
      expect(fields(blk)).toMatchObject({ offset: 64, flags: 1, pointCount: expected[i]!.kinds.length, sequence: 1, writtenAtMs: T0 + 11_000, firstNewSeriesRef: 0 });
      const p = payload(blk);
      expect(p.newSeries).toEqual(expected[i]!.series);
      expect(p.runs).toEqual(expected[i]!.runs);
      expect(p.timestampsMs).toEqual(expected[i]!.timestampsMs);
      expect(p.kinds).toEqual(expected[i]!.kinds);
      const { values: _values, ...packed } = p.packed!;
      expect(packed).toEqual(expected[i]!.packed);
      expect(p.values).toEqual(expected[i]!.values);
    });
  });

  it('shards 0–3 (codecs versions 1 and 2): every block has its runs in the v1 layout (flag 0x04 clear)', () => {
    let blocks = 0;
    for (const shard of [0, 1, 2, 3]) {
      for (const name of fs.readdirSync(path.join(FIXTURE, `shards/${shard}`))) {
        for (const blk of walk(read(`shards/${shard}/${name}`)).blocks) {
          expect(blk.flags & 0x04).toBe(0);
          blocks++;
        }
      }
    }
    expect(blocks).toBe(17); // shard 0: 2 + 4, shard 1: 3, shard 2: 1 + 2 + 1 + 1, shard 3: 3
  });

  it('shard 4 (codecs version 3): every block has its runs as run columns (flag 0x04)', () => {
    const names = fs.readdirSync(path.join(FIXTURE, 'shards/4')).sort();
    expect(names).toEqual(['0000000000000002.seg', '0000000000000003.seg', '0000000000000004.seg']);

    // 0000000000000002.seg: compacted from two appends (T0 + 13 s, T0 + 13.5 s) at T0 + 14 s.
    const compacted = read('shards/4/0000000000000002.seg');
    expect(segmentHeader(compacted)).toEqual({ version: 1, kind: 1, shardId: 4, headerBytes: 64, sequence: 2, createdAtMs: T0 + 14_000, capacityBytes: compacted.length });
    const cFooter = sealed(compacted)!;
    expect(cFooter.compaction).toEqual({ compactionId: (T0 + 14_000) * 1000, outputIndex: 0, outputCount: 1, sourceSequences: [1] });
    expect(cFooter.series).toEqual(['fx.k.a{}', 'fx.k.b{}', 'fx.k.c{}']);
    const cw = walk(compacted);
    expect(cw.endOffset).toBe(cFooter.footerOffset);
    expect(cw.blocks.map(fields)).toEqual([
      { offset: 64, flags: 0x05, pointCount: 8, runCount: 4, newSeriesCount: 3, minTimestampMs: 0, maxTimestampMs: 40, sequence: 2, writtenAtMs: T0 + 13_500, firstNewSeriesRef: 0 },
    ]);
    expect(cFooter.blocks.map((e) => e.refs)).toEqual([[0, 0, 1, 2]]);
    // fx.k.a in two runs (two expiries): ref distance 0 then −1; counts and TTLs per run.
    expect(runsHex(cw.blocks[0]!)).toBe('00 01 00 00 01 03 02 01 02 01 00 78 00 D8 04');
    const pc = payload(cw.blocks[0]!);
    expect(pc.runs).toEqual([
      [0, 3, 0],
      [0, 2, 120],
      [1, 1, 0],
      [2, 2, 600],
    ]);
    expect(pc.timestampsMs).toEqual([0, 10, 20, 30, 40, 5, 7, 8]);
    expect(pc.values).toEqual([1, 2, 3, 7, 8, 4, 5, 6]);

    // 0000000000000003.seg: sealed ingest, two blocks.
    const ingest = read('shards/4/0000000000000003.seg');
    expect(segmentHeader(ingest)).toEqual({ version: 1, kind: 0, shardId: 4, headerBytes: 64, sequence: 3, createdAtMs: T0 + 15_000, capacityBytes: 16384 });
    const iFooter = sealed(ingest)!;
    expect(iFooter.compaction).toBeUndefined();
    expect(iFooter.series).toEqual(['fx.r.cpu{host=h0}', 'fx.r.cpu{host=h1}', 'fx.r.cpu{host=h2}', 'fx.r.cpu{host=h3}', 'fx.r.cpu{host=h4}', 'fx.r.mem{host=h0}']);
    const iw = walk(ingest);
    expect(iw.endOffset).toBe(iFooter.footerOffset);
    expect(iw.blocks.map(fields)).toEqual([
      { offset: 64, flags: 0x05, pointCount: 5, runCount: 5, newSeriesCount: 5, minTimestampMs: 1000, maxTimestampMs: 1000, sequence: 3, writtenAtMs: T0 + 15_000, firstNewSeriesRef: 0 },
      { offset: 216, flags: 0x05, pointCount: 7, runCount: 4, newSeriesCount: 1, minTimestampMs: 2000, maxTimestampMs: 4000, sequence: 4, writtenAtMs: T0 + 16_000, firstNewSeriesRef: 5 },
    ]);
    expect(iFooter.blocks.map((e) => e.refs)).toEqual([
      [0, 1, 2, 3, 4],
      [3, 0, 5, 4],
    ]);
    // Block 1: consecutive refs from 0 (distances all 0), uniform counts of 1, uniform TTL 0.
    expect(runsHex(iw.blocks[0]!)).toBe('00 00 00 00 00 00 01 00 00');
    expect(payload(iw.blocks[0]!)).toEqual({
      newSeries: iFooter.series.slice(0, 5),
      runs: [0, 1, 2, 3, 4].map((ref) => [ref, 1, 0]),
      timestampsMs: [1000, 1000, 1000, 1000, 1000],
      kinds: [0, 0, 0, 0, 0],
      values: [0.5, 1.5, 2.5, 3.5, 4.5],
    });
    // Block 2: refs 3, 0, 5, 4 (zig-zag +3, −4, +4, −2), per-run counts and TTLs (3600 = 90 1C).
    expect(runsHex(iw.blocks[1]!)).toBe('06 07 08 03 01 02 01 03 01 01 00 3C 00 90 1C');
    expect(payload(iw.blocks[1]!)).toEqual({
      newSeries: ['fx.r.mem{host=h0}'],
      runs: [
        [3, 2, 0],
        [0, 1, 60],
        [5, 3, 0],
        [4, 1, 3600],
      ],
      timestampsMs: [2000, 3000, 2000, 2000, 3000, 4000, 2000],
      kinds: [0, 0, 0, 1, 1, 1, 0],
      values: [30, 31, 10, 100n, 101n, 102n, 40],
    });

    // 0000000000000004.seg: active ingest, two blocks then zeros.
    const active = read('shards/4/0000000000000004.seg');
    expect(segmentHeader(active)).toEqual({ version: 1, kind: 0, shardId: 4, headerBytes: 64, sequence: 4, createdAtMs: T0 + 17_000, capacityBytes: 16384 });
    expect(sealed(active)).toBeUndefined();
    const aw = walk(active);
    expect(aw.reason).toBe('end of blocks');
    expect([...active.subarray(aw.endOffset)].every((x) => x === 0)).toBe(true);
    expect(aw.blocks.map(fields)).toEqual([
      { offset: 64, flags: 0x05, pointCount: 4, runCount: 2, newSeriesCount: 2, minTimestampMs: 5000, maxTimestampMs: 6000, sequence: 5, writtenAtMs: T0 + 17_000, firstNewSeriesRef: 0 },
      { offset: 208, flags: 0x05, pointCount: 3, runCount: 3, newSeriesCount: 0, minTimestampMs: 7000, maxTimestampMs: 8000, sequence: 6, writtenAtMs: T0 + 18_000, firstNewSeriesRef: 2 },
    ]);
    // Block 3: uniform counts of 2 and a uniform, non-zero TTL (30 s).
    expect(runsHex(aw.blocks[0]!)).toBe('00 00 00 02 00 1E');
    expect(payload(aw.blocks[0]!)).toEqual({
      newSeries: ['fx.r.cpu{host=h1}', 'fx.r.cpu{host=h2}'],
      runs: [
        [0, 2, 30],
        [1, 2, 30],
      ],
      timestampsMs: [5000, 6000, 5000, 6000],
      kinds: [0, 0, 0, 0],
      values: [11, 12, 21, 22],
    });
    // Block 4: no definitions; refs 1, 0, 1 (zig-zag +1, −2, 0): a series listed twice, two runs.
    expect(runsHex(aw.blocks[1]!)).toBe('02 03 00 00 01 00 00');
    expect(payload(aw.blocks[1]!)).toEqual({
      newSeries: [],
      runs: [
        [1, 1, 0],
        [0, 1, 0],
        [1, 1, 0],
      ],
      timestampsMs: [7000, 7000, 8000],
      kinds: [0, 0, 0],
      values: [23, 13, 24],
    });
  });

  it('tombstones.log: two whole records', () => {
    const b = read('tombstones.log');
    const records: unknown[] = [];
    let at = 0;
    while (at + 12 <= b.length) {
      expect(ascii(b, at)).toBe('STTB');
      expect(u32(b, at)).toBe(0x42545453);
      const len = u32(b, at + 4);
      const body = b.subarray(at + 12, at + 12 + len);
      expect(u32(b, at + 8)).toBe(crc32c(body));
      const c = new Cursor(body);
      const createdAtMs = i64(c.bytes(8), 0);
      const startMs = i64(c.bytes(8), 0);
      const endMs = i64(c.bytes(8), 0);
      const metric = c.string();
      const tags: Record<string, string[]> = {};
      const keys = c.varuint();
      for (let k = 0; k < keys; k++) {
        const key = c.string();
        const values: string[] = [];
        const n = c.varuint();
        for (let j = 0; j < n; j++) values.push(c.string());
        tags[key] = values;
      }
      expect(c.left).toBe(0);
      records.push({ createdAtMs, startMs, endMs, metric, tags });
      at += 12 + len;
    }
    expect(at).toBe(b.length);
    expect(records).toEqual([
      { createdAtMs: T0 + 2000, startMs: -500, endMs: 500, metric: 'fx.float', tags: { host: ['a'] } },
      { createdAtMs: T0 + 2000, startMs: 30, endMs: 30, metric: 'fx.str', tags: {} },
    ]);
  });

  it('the data directory holds exactly the documented files', () => {
    const list = (dir: string, prefix = ''): string[] =>
      fs
        .readdirSync(dir, { withFileTypes: true })
        .flatMap((e) => (e.isDirectory() ? list(path.join(dir, e.name), `${prefix}${e.name}/`) : [`${prefix}${e.name}`]))
        .sort();
    expect(list(FIXTURE)).toEqual([
      'shards/0/0000000000000001.seg',
      'shards/0/0000000000000002.seg',
      'shards/1/0000000000000002.seg',
      'shards/1/0000000000000003.seg',
      'shards/1/0000000000000004.seg',
      'shards/2/0000000000000002.seg',
      'shards/2/0000000000000003.seg',
      'shards/2/0000000000000004.seg',
      'shards/2/0000000000000005.seg',
      'shards/3/0000000000000002.seg',
      'shards/3/0000000000000003.seg',
      'shards/3/0000000000000004.seg',
      'shards/4/0000000000000002.seg',
      'shards/4/0000000000000003.seg',
      'shards/4/0000000000000004.seg',
      'tombstones.log',
    ]);
  });
});
