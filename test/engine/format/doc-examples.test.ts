// Every byte example printed in docs/format/primitives.md, block.md (both runs layouts),
// segment.md, series-key.md, compaction.md and tombstones.md, and codecs.md's example taken from the golden fixture (its
// other examples: test/engine/codec/format-freeze.test.ts), checked against the engine's encoders
// and the fixture, so the documents cannot drift from the code.
import * as fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ByteReader, ByteWriter } from '../../../engine/codec/bytes.js';
import { crc32c } from '../../../engine/codec/crc32c.js';
import { decodeFloats, encodeFloats } from '../../../engine/codec/floats.js';
import { lz4Compress, lz4Decompress } from '../../../engine/codec/lz4.js';
import { canonicalSeriesKey, decodeSeriesKey, encodeSeriesKey, MAX_SERIES_KEY_BYTES } from '../../../engine/catalog/series-key.js';
import { BlockEncoder, decodeBlock, decodeRuns } from '../../../engine/segment/block.js';
import { decodeBlockHeader } from '../../../engine/segment/format.js';
import { encodeTombstone } from '../../../engine/segment/tombstones.js';
import type { SeriesKey } from '../../../engine/types.js';

const FIXTURE = fileURLToPath(new URL('../../fixtures/format-v1/', import.meta.url));

function hex(bytes: Uint8Array): string {
  return [...bytes].map((b) => b.toString(16).padStart(2, '0').toUpperCase()).join(' ');
}

function written(f: (w: ByteWriter) => void): string {
  const w = new ByteWriter(64);
  f(w);
  return hex(w.bytes());
}

describe('docs/format/primitives.md examples', () => {
  it('i64 fields', () => {
    expect(written((w) => w.i64n(-1))).toBe('FF FF FF FF FF FF FF FF');
    expect(written((w) => w.i64n(1_700_000_000_000))).toBe('00 68 E5 CF 8B 01 00 00');
    // Tombstone bounds of "all time" deletes: beyond 2^53, still exact doubles, read back exactly.
    expect(written((w) => w.i64n(-(2 ** 63)))).toBe('00 00 00 00 00 00 00 80');
    expect(written((w) => w.i64n(2 ** 63 - 2 ** 10))).toBe('00 FC FF FF FF FF FF 7F');
    expect(new ByteReader(Uint8Array.of(0x00, 0xfc, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f)).i64n()).toBe(2 ** 63 - 2 ** 10);
    expect(new ByteReader(Uint8Array.of(0, 0, 0, 0, 0, 0, 0, 0x80)).i64n()).toBe(-(2 ** 63));
  });

  it('varuint', () => {
    expect(written((w) => w.varuint(0))).toBe('00');
    expect(written((w) => w.varuint(127))).toBe('7F');
    expect(written((w) => w.varuint(128))).toBe('80 01');
    expect(written((w) => w.varuint(300))).toBe('AC 02');
    expect(written((w) => w.varuint(2 ** 53))).toBe('80 80 80 80 80 80 80 10');
    expect(new ByteReader(Uint8Array.of(0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x10)).varuint()).toBe(2 ** 53);
    // Eight bytes at most.
    expect(() => new ByteReader(new Uint8Array(9).fill(0x80)).varuint()).toThrow(RangeError);
  });

  it('varint (zig-zag)', () => {
    expect([0, -1, 1, -2, 64].map((v) => written((w) => w.varint(v)))).toEqual(['00', '01', '02', '03', '80 01']);
    for (const v of [0, -1, 1, -(2 ** 52), 2 ** 52, 123_456_789]) {
      const w = new ByteWriter(16);
      w.varint(v);
      expect(new ByteReader(w.bytes()).varint()).toBe(v);
    }
  });

  it('string', () => {
    expect(written((w) => w.string('hé'))).toBe('03 68 C3 A9');
    expect(written((w) => w.string(''))).toBe('00');
    expect(written((w) => w.string('\ud800'))).toBe('03 EF BF BD');
    expect(() => new ByteReader(Uint8Array.of(0x02, 0xc3, 0x28)).string()).toThrow();
  });

  it('CRC-32C', () => {
    expect(crc32c(new TextEncoder().encode('123456789'))).toBe(0xe3069283);
    expect(crc32c(new Uint8Array(0))).toBe(0);
    // Continuing a CRC over a second range = the CRC of the concatenation.
    const a = new TextEncoder().encode('hello ');
    const b = new TextEncoder().encode('world');
    expect(crc32c(b, crc32c(a))).toBe(crc32c(new TextEncoder().encode('hello world')));
  });

  it('LZ4 stored form', () => {
    const raw = new TextEncoder().encode('a'.repeat(63) + 'bc');
    const stored = lz4Compress(raw);
    expect(hex(stored)).toBe('41 00 00 00 1F 61 01 00 27 60 61 61 61 61 62 63');
    expect(hex(lz4Decompress(stored, 65))).toBe(hex(raw));
    expect(() => lz4Decompress(stored, 64)).toThrow(RangeError);
  });
});

describe('docs/format/series-key.md examples', () => {
  const key = (k: SeriesKey): string => written((w) => encodeSeriesKey(w, k));

  it('binary form v1', () => {
    expect(key({ metric: 'cpu', tags: { host: 'a', dc: 'eu' } })).toBe('03 63 70 75 02 02 64 63 02 65 75 04 68 6F 73 74 01 61');
    expect(key({ metric: 'up', tags: {} })).toBe('02 75 70 00');
    // UTF-8 order: U+FF01 (EF BC 81) before U+1F600 (F0 9F 98 80), whatever order they came in.
    expect(key({ metric: 'm', tags: { '\u{1F600}': 'y', '\uff01': 'x' } })).toBe('01 6D 02 03 EF BC 81 01 78 04 F0 9F 98 80 01 79');
    const decoded = decodeSeriesKey(new ByteReader(Uint8Array.of(0x01, 0x6d, 0x02, 0x03, 0xef, 0xbc, 0x81, 0x01, 0x78, 0x04, 0xf0, 0x9f, 0x98, 0x80, 0x01, 0x79)));
    expect(decoded).toEqual({ metric: 'm', tags: { '\uff01': 'x', '\u{1F600}': 'y' } });
  });

  it('canonical strings', () => {
    expect(canonicalSeriesKey({ metric: 'cpu', tags: { host: 'a', dc: 'eu' } })).toBe('cpu{dc=eu,host=a}');
    expect(canonicalSeriesKey({ metric: 'up', tags: {} })).toBe('up{}');
    expect(canonicalSeriesKey({ metric: 'm', tags: { '\uff01': 'x', '\u{1F600}': 'y' } })).toBe('m{\u{1F600}=y,\uff01=x}');
    expect(canonicalSeriesKey({ metric: 'a,b', tags: { 'k=1': 'v}', z: '\\' } })).toBe('a\\,b{k\\=1=v\\},z=\\\\}');
  });

  it('limits and what a reader rejects', () => {
    expect(MAX_SERIES_KEY_BYTES).toBe(65_536);
    // 3-byte length prefix + 65 532 bytes + tag count 00 = 65 536 bytes: the largest key.
    const w = new ByteWriter(64);
    encodeSeriesKey(w, { metric: 'x'.repeat(65_532), tags: {} });
    expect(w.length).toBe(65_536);
    expect(() => encodeSeriesKey(new ByteWriter(64), { metric: 'x'.repeat(65_533), tags: {} })).toThrow(RangeError);
    expect(() => encodeSeriesKey(new ByteWriter(64), { metric: '\ud800', tags: {} })).toThrow(RangeError);
    const decode = (bytes: number[]): SeriesKey => decodeSeriesKey(new ByteReader(Uint8Array.from(bytes)));
    expect(() => decode([0x01, 0x6d, 0x02, 0x01, 0x62, 0x00, 0x01, 0x61, 0x00])).toThrow(/strictly increasing/); // unsorted
    expect(() => decode([0x01, 0x6d, 0x02, 0x01, 0x61, 0x00, 0x01, 0x61, 0x00])).toThrow(/strictly increasing/); // duplicate
    expect(() => decode([0x01, 0x6d, 0x01, 0x01, 0x61])).toThrow(RangeError); // truncated
    expect(() => decode([0x02, 0xc3, 0x28, 0x00])).toThrow(/UTF-8/);
    expect(() => decode([0x80, 0x80, 0x80, 0x80, 0x00])).toThrow(RangeError); // length prefix over 4 bytes
  });
});

describe('docs/format/compaction.md worked example (fixture bytes)', () => {
  const seg = new Uint8Array(fs.readFileSync(`${FIXTURE}shards/2/0000000000000002.seg`));
  const str = (s: string): string => `${hex(Uint8Array.of(s.length))} ${hex(new TextEncoder().encode(s))}`;

  it('segment header and block header', () => {
    expect(seg.length).toBe(392);
    expect(hex(seg.subarray(0, 40))).toBe('53 54 53 47 01 00 01 00 02 00 00 00 40 00 00 00 02 00 00 00 00 00 00 00 10 8F E5 CF 8B 01 00 00 88 01 00 00 00 00 00 00');
    expect(hex(seg.subarray(60, 64))).toBe('73 5E A8 6A');
    const h = new DataView(seg.buffer, seg.byteOffset + 64, 72);
    expect([8, 12, 16, 20, 24, 28].map((at) => h.getUint32(at, true))).toEqual([208, 132, 136, 11, 6, 4]);
    expect([32, 40, 48, 56].map((at) => Number(h.getBigInt64(at, true)))).toEqual([1, 400, 2, 1_700_000_009_000]);
    expect(seg[64 + 5]).toBe(0x01); // flags: LZ4 only
  });

  it('block payload', () => {
    const raw = lz4Decompress(seg.subarray(64 + 72, 64 + 72 + 132), 136);
    expect(hex(raw)).toBe(
      [
        `${str('fx.d.json')} 00 ${str('fx.d.keep')} 00 ${str('fx.d.raw')} 00 ${str('fx.d.ttl')} 00`,
        '00 01 00 01 01 00 01 01 1E 02 04 00 03 01 3B 03 03 00',
        '01 14 50 4F 61 64 00 00 BE 01 08 00 00',
        '01 03 01 01 00 00 00 00 01 01 01 01',
        '00 55 55 55 55 55 55 D5 3F 6C 3F 9A 5C 05 2E 00 80 9C 75 00 88 3C E4 37 7E 00 00 00 00 00 00 F0 FF',
        '01 02 02 01 26 14 14',
        '00 01 07 7B 22 61 22 3A 31 7D 00',
      ].join(' '),
    );
  });

  it('footer payload with the compaction info', () => {
    const footerOffset = new DataView(seg.buffer, seg.byteOffset).getUint32(seg.length - 12, true);
    const f = new DataView(seg.buffer, seg.byteOffset + footerOffset, 24);
    const raw = lz4Decompress(seg.subarray(footerOffset + 24, footerOffset + 24 + f.getUint32(8, true)), f.getUint32(12, true));
    expect(raw.length).toBe(78);
    expect(hex(raw)).toBe(
      [
        `04 ${str('fx.d.json')} 00 ${str('fx.d.keep')} 00 ${str('fx.d.raw')} 00 ${str('fx.d.ttl')} 00`,
        '01 40 D0 01 0B 02 8F 03 02 D0 AC AC FE F9 62 06 00 01 01 02 03 03',
        '01 80 AD DB C5 C1 C4 82 03 00 04 01 01',
      ].join(' '),
    );
  });
});

describe('docs/format/codecs.md DecimalPacked example in the fixture', () => {
  it('the float column of shards/3/0000000000000003.seg (fx.p.uptime)', () => {
    const seg = new Uint8Array(fs.readFileSync(`${FIXTURE}shards/3/0000000000000003.seg`));
    const h = new DataView(seg.buffer, seg.byteOffset + 64, 72);
    const raw = lz4Decompress(seg.subarray(64 + 72, 64 + 72 + h.getUint32(12, true)), h.getUint32(16, true));
    const column = raw.subarray(raw.length - 177);
    expect(hex(column.subarray(0, 10))).toBe('03 02 01 CA 9A 0C D0 0F 00 13');
    const fields = column.subarray(10);
    expect(fields.length).toBe(Math.ceil((70 * 19) / 8));
    // Fields 20 and 21 (bits 380–417) are the only non-zero ones: 500 009 and 500 010.
    const field = (i: number): number => {
      let z = 0;
      for (let j = 0; j < 19; j++) z += ((fields[(i * 19 + j) >>> 3]! >>> ((i * 19 + j) & 7)) & 1) * 2 ** j;
      return z;
    };
    const nonZero = Array.from({ length: 70 }, (_, i) => [i, field(i)]).filter(([, z]) => z !== 0);
    expect(nonZero).toEqual([
      [20, 500_009],
      [21, 500_010],
    ]);
    // The engine reads it back as the ramp with its reset, and writes those values the same way.
    const values = new Float64Array(200);
    decodeFloats(new ByteReader(column), 200, values, 0);
    expect(values[0]).toBe(1000.05);
    expect(values[149]).toBe(2490.05);
    expect(values[150]).toBe(0);
    expect(values[199]).toBe(490);
    expect(written((w) => encodeFloats(w, values, 0, 200, 'dense', 2))).toBe(hex(column));
  });
});

describe('docs/format/tombstones.md example', () => {
  it('the documented record', () => {
    const record = encodeTombstone({ selector: { metric: 'cpu', tags: { host: ['a', 'b'] } }, startMs: 0, endMs: 1000, createdAtMs: 1_700_000_000_000 });
    expect(hex(record)).toBe(
      [
        '53 54 54 42',
        '27 00 00 00',
        'CB 9A 43 DD',
        '00 68 E5 CF 8B 01 00 00',
        '00 00 00 00 00 00 00 00',
        'E8 03 00 00 00 00 00 00',
        '03 63 70 75',
        '01',
        '04 68 6F 73 74',
        '02',
        '01 61 01 62',
      ].join(' '),
    );
    expect(crc32c(record.subarray(12))).toBe(0xdd439acb);
  });
});

describe('docs/format/block.md and segment.md worked examples (fixture bytes)', () => {
  const seg = new Uint8Array(fs.readFileSync(`${FIXTURE}shards/0/0000000000000001.seg`));

  it('segment header', () => {
    expect(hex(seg.subarray(0, 64))).toBe(
      [
        '53 54 53 47 01 00 00 00 00 00 00 00 40 00 00 00',
        '01 00 00 00 00 00 00 00 00 68 E5 CF 8B 01 00 00',
        '00 40 00 00 00 00 00 00 00 00 00 00 00 00 00 00',
        '00 00 00 00 00 00 00 00 00 00 00 00 DA 2F 36 2D',
      ].join(' '),
    );
  });

  it('block 2 of segment 1: header, stored payload, raw payload', () => {
    const at = 464;
    expect(hex(seg.subarray(at, at + 72))).toBe(
      [
        '53 54 42 4B 01 01 00 00 80 00 00 00 37 00 00 00',
        '39 00 00 00 03 00 00 00 02 00 00 00 01 00 00 00',
        '00 00 00 00 00 00 00 00 B8 0B 00 00 00 00 00 00',
        '02 00 00 00 00 00 00 00 E8 6B E5 CF 8B 01 00 00',
        '06 00 00 00 30 26 39 36',
      ].join(' '),
    );
    const raw = lz4Decompress(seg.subarray(at + 72, at + 72 + 0x37), 0x39);
    expect(hex(raw)).toBe(
      [
        '08 66 78 2E 66 6C 6F 61 74 01 04 68 6F 73 74 01 62',
        '00 02 00 06 01 00',
        '01 D0 0F A0 1F 8F 4E',
        '00 00',
        '00 00 00 00 00 00 00 04 40 00 00 00 00 00 00 08 40 00 00 00 00 00 00 45 40',
      ].join(' '),
    );
    expect(seg[at + 127]).toBe(0); // one padding byte: 72 + 55 = 127 → 128
  });

  it('trailer, footer header and footer payload', () => {
    expect(seg.length).toBe(768);
    expect(hex(seg.subarray(752))).toBe('53 54 54 52 50 02 00 00 A0 00 00 00 10 5D 27 6C');
    const footerOffset = 592;
    expect(hex(seg.subarray(footerOffset, footerOffset + 24))).toBe('53 54 46 54 A0 00 00 00 81 00 00 00 9A 00 00 00 00 00 00 00 B7 C8 92 FE');
    const raw = lz4Decompress(seg.subarray(footerOffset + 24, footerOffset + 24 + 129), 154);
    const str = (s: string): string => hex(new TextEncoder().encode(s));
    const key = (metric: string, tags: [string, string][]): string =>
      [`${hex(Uint8Array.of(metric.length))} ${str(metric)}`, hex(Uint8Array.of(tags.length)), ...tags.map(([k, v]) => `${hex(Uint8Array.of(k.length))} ${str(k)} ${hex(Uint8Array.of(v.length))} ${str(v)}`)].join(' ');
    expect(hex(raw)).toBe(
      [
        '07',
        key('fx.float', [
          ['dc', 'eu'],
          ['host', 'a'],
        ]),
        key('fx.int', [['host', 'a']]),
        key('fx.str', [['host', 'a']]),
        key('fx.json', [['host', 'a']]),
        key('fx.ttl', [['host', 'a']]),
        key('fx.mixed', []),
        key('fx.float', [['host', 'b']]),
        '02',
        '40 90 03 18 9F 1F A0 1F 01 80 A0 AB FE F9 62 06 00 01 02 03 04 05',
        '90 03 80 01 03 00 B8 17 02 D0 AF AB FE F9 62 02 00 06',
        '00',
      ].join(' '),
    );
  });
});

describe('docs/format/block.md §Runs and the run columns worked example (fixture shard 4, codecs 3)', () => {
  const seg = new Uint8Array(fs.readFileSync(`${FIXTURE}shards/4/0000000000000003.seg`));

  /** The runs section of the block at `at` (its raw bytes), and the same runs in the layout `codecsVersion` writes. */
  function runsSection(bytes: Uint8Array, at: number, codecsVersion?: 2 | 3): string {
    let block = bytes.subarray(at, at + new DataView(bytes.buffer, bytes.byteOffset + at).getUint32(8, true));
    if (codecsVersion !== undefined) {
      const decoded = decodeBlock(block, block.length);
      const { header } = decoded;
      block = new BlockEncoder('fast', codecsVersion).encode(decoded, decoded.newSeries, {
        firstNewSeriesRef: header.firstNewSeriesRef,
        sequence: header.sequence,
        writtenAtMs: header.writtenAtMs,
        batchContinues: false,
      });
    }
    const header = decodeBlockHeader(block, block.length);
    if (typeof header === 'string') throw new Error(header);
    const r = new ByteReader(lz4Decompress(block.subarray(72, 72 + header.payloadStoredBytes), header.payloadRawBytes));
    for (let i = 0; i < header.newSeriesCount; i++) decodeSeriesKey(r);
    const start = r.pos;
    decodeRuns(r, header);
    return hex(r.buf.subarray(start, r.pos));
  }

  it('the v1 layout example is block 2 of shards/0/0000000000000001.seg', () => {
    expect(runsSection(new Uint8Array(fs.readFileSync(`${FIXTURE}shards/0/0000000000000001.seg`)), 464)).toBe('00 02 00 06 01 00');
  });

  it('block 1 (five new series, one point each): run columns, and the same runs in the v1 layout', () => {
    expect(seg[64 + 5]).toBe(0x05);
    expect(runsSection(seg, 64)).toBe('00 00 00 00 00 00 01 00 00');
    expect(runsSection(seg, 64, 3)).toBe('00 00 00 00 00 00 01 00 00');
    expect(runsSection(seg, 64, 2)).toBe('00 01 00 01 01 00 02 01 00 03 01 00 04 01 00');
  });

  it('block 2 at 216: header, raw payload, and its runs in the v1 layout', () => {
    const at = 216;
    expect(hex(seg.subarray(at, at + 72))).toBe(
      [
        '53 54 42 4B 01 05 00 00 B0 00 00 00 63 00 00 00',
        '71 00 00 00 07 00 00 00 04 00 00 00 01 00 00 00',
        'D0 07 00 00 00 00 00 00 A0 0F 00 00 00 00 00 00',
        '04 00 00 00 00 00 00 00 80 A6 E5 CF 8B 01 00 00',
        '05 00 00 00 6D 7B D5 F2',
      ].join(' '),
    );
    const raw = lz4Decompress(seg.subarray(at + 72, at + 72 + 99), 113);
    expect(hex(raw)).toBe(
      [
        '08 66 78 2E 72 2E 6D 65 6D 01 04 68 6F 73 74 02 68 30',
        '06 07 08 03',
        '01 02 01 03 01',
        '01 00 3C 00 90 1C',
        '01 A0 1F D0 0F 9F 1F D0 0F D0 0F 00 EF 2E',
        '01 00 00 00 01 01 01 00',
        '00 00 00 00 00 00 00 3E 40 00 00 00 00 00 00 3F 40 00 00 00 00 00 00 24 40 00 00 00 00 00 00 44 40',
        '00 64 00 00 00 00 00 00 00 65 00 00 00 00 00 00 00 66 00 00 00 00 00 00 00',
      ].join(' '),
    );
    expect([...seg.subarray(at + 72 + 99, at + 176)]).toEqual([0, 0, 0, 0, 0]); // padding: 72 + 99 = 171 → 176
    const block = decodeBlock(seg.subarray(at, at + 176), 176);
    expect([...block.runRefs]).toEqual([3, 0, 5, 4]);
    expect([...block.runPointCounts]).toEqual([2, 1, 3, 1]);
    expect([...block.runTtlSeconds]).toEqual([0, 60, 0, 3600]);
    expect(runsSection(seg, at, 2)).toBe('03 02 00 00 01 3C 05 03 00 04 01 90 1C');
  });
});

describe('docs/format/compaction.md run columns example (fixture shard 4)', () => {
  it('the runs section of the compacted block of shards/4/0000000000000002.seg', () => {
    const seg = new Uint8Array(fs.readFileSync(`${FIXTURE}shards/4/0000000000000002.seg`));
    const block = decodeBlock(seg.subarray(64), seg.length - 64);
    expect(block.header).toMatchObject({ flags: 0x05, pointCount: 8, runCount: 4, newSeriesCount: 3, writtenAtMs: 1_700_000_013_500 });
    const raw = lz4Decompress(seg.subarray(64 + 72, 64 + 72 + block.header.payloadStoredBytes), block.header.payloadRawBytes);
    const keys = `06 ${hex(new TextEncoder().encode('fx.k.a'))} 00 06 ${hex(new TextEncoder().encode('fx.k.b'))} 00 06 ${hex(new TextEncoder().encode('fx.k.c'))} 00`;
    expect(hex(raw.subarray(0, 24))).toBe(keys);
    expect(hex(raw.subarray(24, 24 + 15))).toBe('00 01 00 00 01 03 02 01 02 01 00 78 00 D8 04');
  });
});
