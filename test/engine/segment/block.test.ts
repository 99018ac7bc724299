// Block runs section (docs/format/block.md §Runs): decodeRuns in both layouts and what it rejects,
// and which layout a writer writes for its codecs version — BlockEncoder directly, and ShardWriter
// ingest and compaction held with setCodecsWriteVersion.
import * as fs from 'node:fs';
import * as path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ShardWriter, setCodecsWriteVersion, shardDirectory, type CodecsVersion } from '../../../engine/index.js';
import { ByteReader } from '../../../engine/codec/bytes.js';
import { lz4Compress, lz4Decompress } from '../../../engine/codec/lz4.js';
import { BlockEncoder, decodeBlock, decodeRuns, type BlockColumns } from '../../../engine/segment/block.js';
import {
  BLOCK_FLAG_LZ4,
  BLOCK_FLAG_RUN_COLUMNS,
  BLOCK_HEADER_BYTES,
  alignUp,
  decodeBlockHeader,
  encodeBlockHeader,
  type BlockHeader,
} from '../../../engine/segment/format.js';
import { batchOf } from '../../helpers/batches.js';
import { tempDir } from '../../helpers/tmp.js';

const U32_MAX = 2 ** 32 - 1;

function header(runColumns: boolean, runCount: number, pointCount: number): BlockHeader {
  return {
    flags: BLOCK_FLAG_LZ4 | (runColumns ? BLOCK_FLAG_RUN_COLUMNS : 0),
    blockBytes: 0,
    payloadStoredBytes: 0,
    payloadRawBytes: 0,
    pointCount,
    runCount,
    newSeriesCount: 0,
    firstNewSeriesRef: 0,
    minTimestampMs: 0,
    maxTimestampMs: 0,
    sequence: 1,
    writtenAtMs: 0,
  };
}

/** decodeRuns over `bytes` as plain arrays; also checks that it consumed every byte. */
function runs(runColumns: boolean, runCount: number, pointCount: number, bytes: number[]): { refs: number[]; counts: number[]; ttls: number[] } {
  const r = new ByteReader(Uint8Array.from(bytes));
  const got = decodeRuns(r, header(runColumns, runCount, pointCount));
  expect(r.remaining).toBe(0);
  return { refs: [...got.runRefs], counts: [...got.runPointCounts], ttls: [...got.runTtlSeconds] };
}

/** LEB128 bytes of an unsigned value (up to 2^53), and of a zig-zag signed one. */
function varuint(v: number): number[] {
  const out: number[] = [];
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
  return out;
}
const varint = (v: number): number[] => varuint(v >= 0 ? 2 * v : -2 * v - 1);

/** One float point per ref, at t = 0: block columns with the given runs. */
function columns(refs: readonly number[], counts: readonly number[], ttls: readonly number[]): BlockColumns {
  const n = counts.reduce((a, b) => a + b, 0);
  return {
    pointCount: n,
    runCount: refs.length,
    runRefs: Uint32Array.from(refs),
    runPointCounts: Uint32Array.from(counts),
    runTtlSeconds: Uint32Array.from(ttls),
    timestampsMs: Float64Array.from({ length: n }, (_, i) => i),
    kinds: new Uint8Array(n),
    floats: Float64Array.from({ length: n }, (_, i) => i / 4),
    ints: new BigInt64Array(0),
    texts: [],
  };
}

const META = { firstNewSeriesRef: 0, sequence: 1, writtenAtMs: 1_700_000_000_000, batchContinues: false };

/** A block's flags byte and the raw bytes of its runs section (no series definitions in these blocks). */
function runsSection(block: Uint8Array): { flags: number; bytes: number[] } {
  const h = decodeBlockHeader(block, block.length);
  if (typeof h === 'string') throw new Error(h);
  const r = new ByteReader(lz4Decompress(block.subarray(BLOCK_HEADER_BYTES, BLOCK_HEADER_BYTES + h.payloadStoredBytes), h.payloadRawBytes));
  decodeRuns(r, h);
  return { flags: h.flags, bytes: [...r.buf.subarray(0, r.pos)] };
}

describe('decodeRuns: run columns layout (flag RUN_COLUMNS)', () => {
  it('decodes ref distances, uniform and per-run columns', () => {
    // refs 0, 1, 2: distances 0; counts uniform 1; TTLs uniform 0.
    expect(runs(true, 3, 3, [0, 0, 0, 0, 1, 0, 0])).toEqual({ refs: [0, 1, 2], counts: [1, 1, 1], ttls: [0, 0, 0] });
    // refs 3, 0, 5, 4 (+3, −4, +4, −2); counts 2, 1, 3, 1 per run; TTLs 0, 60, 0, 3600 per run.
    expect(runs(true, 4, 7, [6, 7, 8, 3, 1, 2, 1, 3, 1, 1, 0, 0x3c, 0, 0x90, 0x1c])).toEqual({ refs: [3, 0, 5, 4], counts: [2, 1, 3, 1], ttls: [0, 60, 0, 3600] });
    // A repeated ref (distance −1) and a per-run column whose values happen to be equal (readers accept it).
    expect(runs(true, 2, 4, [0, 1, 1, 2, 2, 0, 9])).toEqual({ refs: [0, 0], counts: [2, 2], ttls: [9, 9] });
    // No runs: both columns still have their mode byte and value.
    expect(runs(true, 0, 0, [0, 0, 0, 0])).toEqual({ refs: [], counts: [], ttls: [] });
    // The extremes: ref 2^32 − 1 from −1, then back to 0; counts and TTLs up to 2^32 − 1.
    expect(runs(true, 2, U32_MAX + 1, [...varint(U32_MAX), ...varint(-U32_MAX - 1), 1, ...varuint(U32_MAX), 1, 0, ...varuint(U32_MAX)])).toEqual({
      refs: [U32_MAX, 0],
      counts: [U32_MAX, 1],
      ttls: [U32_MAX, U32_MAX],
    });
  });

  it('rejects an unknown mode of either column', () => {
    expect(() => runs(true, 1, 1, [0, 2, 1, 0, 0])).toThrow(/unknown run counts mode 2/);
    expect(() => runs(true, 1, 1, [0, 0, 1, 0xff, 0])).toThrow(/unknown run TTLs mode 255/);
  });

  it('rejects a ref below 0 or above 2^32 − 1', () => {
    expect(() => runs(true, 1, 1, [1, 0, 1, 0, 0])).toThrow(/run 0: ref -1 out of range/); // −1 + 1 − 1
    expect(() => runs(true, 2, 2, [4, 7, 0, 1, 0, 0])).toThrow(/run 1: ref -1 out of range/); // 2, then 3 − 4
    expect(() => runs(true, 1, 1, [...varint(U32_MAX + 1), 0, 1, 0, 0])).toThrow(/run 0: ref 4294967296 out of range/);
    expect(() => runs(true, 2, 2, [...varint(U32_MAX), 0, 0, 1, 0, 0])).toThrow(/run 1: ref 4294967296 out of range/);
  });

  it('rejects a point count or TTL above 2^32 − 1, uniform or per run', () => {
    expect(() => runs(true, 1, 1, [0, 0, ...varuint(U32_MAX + 1), 0, 0])).toThrow(/run counts: 4294967296 out of range/);
    expect(() => runs(true, 2, 2, [0, 0, 1, 1, ...varuint(U32_MAX + 1), 0, 0])).toThrow(/run counts 1: 4294967296 out of range/);
    expect(() => runs(true, 1, 1, [0, 0, 1, 0, ...varuint(2 ** 40)])).toThrow(/run TTLs: 1099511627776 out of range/);
    expect(() => runs(true, 2, 2, [0, 0, 0, 1, 1, ...varuint(U32_MAX + 1), 0])).toThrow(/run TTLs 0: 4294967296 out of range/);
  });

  it('rejects counts that do not add up to the header pointCount, and a truncated section', () => {
    expect(() => runs(true, 2, 4, [0, 0, 1, 1, 2, 0, 0])).toThrow(/runs hold 3 points, header says 4/);
    expect(() => runs(true, 2, 2, [0, 0, 0, 2, 0, 0])).toThrow(/runs hold 4 points, header says 2/);
    expect(() => runs(true, 3, 3, [0, 0, 0, 1, 1, 1])).toThrow(RangeError); // per-run counts cut short
    expect(() => runs(true, 1, 1, [0, 0, 1])).toThrow(RangeError); // no TTL column
  });
});

describe('decodeRuns: v1 layout (flag clear)', () => {
  it('decodes (ref, count, ttl) triples; the flag decides how the same bytes read', () => {
    expect(runs(false, 2, 3, [0, 2, 0, 6, 1, 0])).toEqual({ refs: [0, 6], counts: [2, 1], ttls: [0, 0] });
    expect(runs(false, 1, 2, [0, 2, 0])).toEqual({ refs: [0], counts: [2], ttls: [0] });
    expect(() => runs(true, 1, 2, [0, 2, 0])).toThrow(/unknown run counts mode 2/);
  });

  it('rejects counts that do not add up, and a truncated section', () => {
    expect(() => runs(false, 2, 4, [0, 2, 0, 6, 1, 0])).toThrow(/runs hold 3 points, header says 4/);
    expect(() => runs(false, 2, 3, [0, 2, 0, 6, 1])).toThrow(RangeError);
  });
});

describe('decodeBlock with a corrupt runs section under a valid CRC', () => {
  /** Re-packs a block after `patch` edits its raw payload: new LZ4 payload, lengths and CRC. */
  function repack(block: Uint8Array, patch: (raw: Uint8Array) => void): Uint8Array {
    const h = decodeBlockHeader(block, block.length);
    if (typeof h === 'string') throw new Error(h);
    const raw = lz4Decompress(block.subarray(BLOCK_HEADER_BYTES, BLOCK_HEADER_BYTES + h.payloadStoredBytes), h.payloadRawBytes).slice();
    patch(raw);
    const stored = lz4Compress(raw);
    const out = new Uint8Array(alignUp(BLOCK_HEADER_BYTES + stored.length));
    out.set(stored, BLOCK_HEADER_BYTES);
    encodeBlockHeader(out, { ...h, blockBytes: out.length, payloadStoredBytes: stored.length, payloadRawBytes: raw.length }, out.subarray(BLOCK_HEADER_BYTES));
    return out;
  }

  it('throws a RangeError naming the fault', () => {
    const block = new BlockEncoder('fast', 3).encode(columns([0, 1, 2], [1, 2, 1], [0, 0, 0]), [], META);
    expect(runsSection(block).bytes).toEqual([0, 0, 0, 1, 1, 2, 1, 0, 0]);
    expect(decodeBlock(repack(block, () => {}), Infinity).pointCount).toBe(4);
    expect(() => decodeBlock(repack(block, (raw) => (raw[3] = 7)), Infinity)).toThrow(/unknown run counts mode 7/);
    expect(() => decodeBlock(repack(block, (raw) => (raw[1] = 5)), Infinity)).toThrow(/run 1: ref -2 out of range/);
    expect(() => decodeBlock(repack(block, (raw) => (raw[5] = 3)), Infinity)).toThrow(/runs hold 5 points, header says 4/);
  });
});

describe('the runs layout a writer writes follows its codecs version', () => {
  const cols = columns([2, 0, 1], [1, 1, 1], [0, 0, 30]);
  const V1_LAYOUT = [2, 1, 0, 0, 1, 0, 1, 1, 30]; // (ref, count, ttl) per run
  const RUN_COLUMNS = [4, 5, 0, 0, 1, 1, 0, 0, 30]; // refs +2, −3, 0; counts uniform 1; TTLs per run

  it('BlockEncoder: version 1 and 2 write the v1 layout with the flag clear, version 3 run columns with it set', () => {
    for (const mode of ['fast', 'dense'] as const) {
      for (const version of [1, 2, 3] as const) {
        const block = new BlockEncoder(mode, version).encode(cols, [], META);
        expect(runsSection(block), `${mode} codecs ${version}`).toEqual(
          version >= 3 ? { flags: BLOCK_FLAG_LZ4 | BLOCK_FLAG_RUN_COLUMNS, bytes: RUN_COLUMNS } : { flags: BLOCK_FLAG_LZ4, bytes: V1_LAYOUT },
        );
        const decoded = decodeBlock(block, block.length);
        expect([[...decoded.runRefs], [...decoded.runPointCounts], [...decoded.runTtlSeconds]]).toEqual([[2, 0, 1], [1, 1, 1], [0, 0, 30]]);
      }
    }
  });

  it('BlockEncoder without a version takes the thread\'s setCodecsWriteVersion when it is made', () => {
    const before = setCodecsWriteVersion(2);
    try {
      const held = new BlockEncoder('fast');
      setCodecsWriteVersion(3);
      const latest = new BlockEncoder('fast');
      setCodecsWriteVersion(2);
      expect(runsSection(held.encode(cols, [], META)).flags).toBe(BLOCK_FLAG_LZ4); // made under 2
      expect(runsSection(latest.encode(cols, [], META)).flags).toBe(BLOCK_FLAG_LZ4 | BLOCK_FLAG_RUN_COLUMNS); // made under 3
    } finally {
      setCodecsWriteVersion(before);
    }
  });

  /** Flags of every block of every segment of shard 0 under `dataDir`, by file, walking from 64. */
  function flagsByFile(dataDir: string): Record<string, number[]> {
    const dir = shardDirectory(dataDir, 0);
    const out: Record<string, number[]> = {};
    for (const name of fs.readdirSync(dir).filter((n) => n.endsWith('.seg')).sort()) {
      const bytes = fs.readFileSync(path.join(dir, name));
      const flags: number[] = [];
      for (let at = 64; at + 72 <= bytes.length && bytes.readUInt32LE(at) === 0x4b425453; at += bytes.readUInt32LE(at + 8)) flags.push(bytes[at + 5]!);
      out[name] = flags;
    }
    return out;
  }

  for (const version of [2, 3] as const satisfies readonly CodecsVersion[]) {
    it(`ShardWriter opened under codecs version ${version}: ingest and compacted blocks`, () => {
      const dataDir = tempDir();
      const before = setCodecsWriteVersion(version);
      try {
        const w = ShardWriter.open({ dir: shardDirectory(dataDir, 0), shardId: 0, syncPolicy: 'never', segmentBytes: 64 * 1024, nowMs: () => 1_700_000_000_000 });
        w.append(batchOf([0, 1, 2].map((i) => ({ metric: 'm', tags: { host: `h${i}` }, t: 1000, value: i }))));
        w.roll();
        w.compact({ tombstones: [] });
        w.append(batchOf([{ metric: 'm', tags: { host: 'h0' }, t: 2000, value: 5 }]));
        w.close();
      } finally {
        setCodecsWriteVersion(before);
      }
      const flags = version >= 3 ? BLOCK_FLAG_LZ4 | BLOCK_FLAG_RUN_COLUMNS : BLOCK_FLAG_LZ4;
      // 2: the compacted output of sealed segment 1; 3: the active ingest segment.
      expect(flagsByFile(dataDir)).toEqual({ '0000000000000002.seg': [flags], '0000000000000003.seg': [flags] });
    });
  }

  it('a ShardWriter keeps the version it was opened with', () => {
    const dataDir = tempDir();
    const before = setCodecsWriteVersion(2);
    try {
      const w = ShardWriter.open({ dir: shardDirectory(dataDir, 0), shardId: 0, syncPolicy: 'never', segmentBytes: 64 * 1024 });
      setCodecsWriteVersion(3);
      w.append(batchOf([{ metric: 'm', t: 1, value: 1 }]));
      w.close();
    } finally {
      setCodecsWriteVersion(before);
    }
    expect(flagsByFile(dataDir)).toEqual({ '0000000000000001.seg': [BLOCK_FLAG_LZ4] });
  });

  it('any runs round-trip through both layouts (property)', () => {
    const run = fc.record({ ref: fc.oneof(fc.nat(8), fc.constant(U32_MAX), fc.nat({ max: U32_MAX })), count: fc.integer({ min: 1, max: 3 }), ttl: fc.oneof(fc.constant(0), fc.nat({ max: U32_MAX })) });
    fc.assert(
      fc.property(fc.array(run, { maxLength: 20 }), fc.boolean(), (rs, uniformTtl) => {
        const ttls = rs.map((r) => (uniformTtl ? 7 : r.ttl));
        const c = columns(
          rs.map((r) => r.ref),
          rs.map((r) => r.count),
          ttls,
        );
        for (const version of [2, 3] as const) {
          const block = new BlockEncoder('fast', version).encode(c, [], META);
          const d = decodeBlock(block, block.length);
          expect((d.header.flags & BLOCK_FLAG_RUN_COLUMNS) !== 0).toBe(version >= 3);
          expect([...d.runRefs]).toEqual(rs.map((r) => r.ref));
          expect([...d.runPointCounts]).toEqual(rs.map((r) => r.count));
          expect([...d.runTtlSeconds]).toEqual(ttls);
        }
      }),
      { numRuns: 200 },
    );
  });
});
