// Size freeze (VictoriaMetrics style): the constants that ARE the v1 format, pinned to the values
// docs/format/*.md state. Changing one of them changes every file on disk: that needs a version
// bump, a new section in the docs' version history and a new fixture — not an edit here.
import { describe, expect, it } from 'vitest';
import { ValueKind } from '../../../engine/index.js';
import { ByteWriter } from '../../../engine/codec/bytes.js';
import { MAX_SERIES_KEY_BYTES, encodeSeriesKey } from '../../../engine/catalog/series-key.js';
import { DEFAULT_PARTITION_MS } from '../../../engine/compact/compaction.js';
import { LATEST_CODECS_VERSION } from '../../../engine/codec/codecs-version.js';
import { lz4Decompress } from '../../../engine/codec/lz4.js';
import { DECIMAL_PACKED_GROUP_FIELDS, DECIMAL_PACKED_MAX_WIDTH, FloatEncoding } from '../../../engine/codec/floats.js';
import { IntEncoding } from '../../../engine/codec/ints.js';
import { StringEncoding } from '../../../engine/codec/strings.js';
import { BlockEncoder } from '../../../engine/segment/block.js';
import { TimestampEncoding } from '../../../engine/codec/timestamps.js';
import {
  BLOCK_ALIGN_BYTES,
  BLOCK_FLAG_BATCH_CONTINUES,
  BLOCK_FLAG_LZ4,
  BLOCK_FLAG_RUN_COLUMNS,
  BLOCK_FORMAT_VERSION,
  BLOCK_HEADER_BYTES,
  BLOCK_MAGIC,
  FOOTER_HEADER_BYTES,
  FOOTER_MAGIC,
  MAX_ABS_TIMESTAMP_MS,
  SEGMENT_FORMAT_VERSION,
  SEGMENT_HEADER_BYTES,
  SEGMENT_MAGIC,
  SegmentKind,
  TRAILER_BYTES,
  TRAILER_MAGIC,
  encodeBlockHeader,
  encodeFooterHeader,
  encodeSegmentHeader,
  encodeTrailer,
  segmentFileName,
} from '../../../engine/segment/format.js';
import { TOMBSTONE_LOG_FILE, TOMBSTONE_MAGIC } from '../../../engine/segment/tombstones.js';
import { MAX_BLOCK_POINTS, QUARANTINE_DIR } from '../../../engine/segment/writer.js';

/** The four ASCII characters of a magic in file order (it is read as a little-endian u32). */
function ascii(magic: number): string {
  return String.fromCharCode(magic & 0xff, (magic >>> 8) & 0xff, (magic >>> 16) & 0xff, magic >>> 24);
}

describe('size freeze (v1)', () => {
  it('fixed structure sizes', () => {
    expect(SEGMENT_HEADER_BYTES).toBe(64);
    expect(BLOCK_HEADER_BYTES).toBe(72);
    expect(FOOTER_HEADER_BYTES).toBe(24);
    expect(TRAILER_BYTES).toBe(16);
    expect(BLOCK_ALIGN_BYTES).toBe(8);
  });

  it('the encoders write exactly those sizes and nothing past them', () => {
    const seg = new Uint8Array(80).fill(0xee);
    encodeSegmentHeader(seg, { kind: SegmentKind.Ingest, shardId: 1, sequence: 1, createdAtMs: 0, capacityBytes: 64 });
    expect(seg.subarray(64).every((x) => x === 0xee)).toBe(true);

    const blk = new Uint8Array(88).fill(0xee);
    encodeBlockHeader(
      blk,
      { flags: BLOCK_FLAG_LZ4, blockBytes: 72, payloadStoredBytes: 0, payloadRawBytes: 0, pointCount: 0, runCount: 0, newSeriesCount: 0, firstNewSeriesRef: 0, minTimestampMs: 0, maxTimestampMs: 0, sequence: 1, writtenAtMs: 0 },
      new Uint8Array(0),
    );
    expect(blk.subarray(72).every((x) => x === 0xee)).toBe(true);

    const footer = new Uint8Array(40).fill(0xee);
    encodeFooterHeader(footer, { footerBytes: 24, payloadStoredBytes: 0, payloadRawBytes: 0 }, new Uint8Array(0));
    expect(footer.subarray(24).every((x) => x === 0xee)).toBe(true);

    const trailer = new Uint8Array(32).fill(0xee);
    encodeTrailer(trailer, 64, 24);
    expect(trailer.subarray(16).every((x) => x === 0xee)).toBe(true);
  });

  it('magic values, as u32 and as ASCII', () => {
    expect([SEGMENT_MAGIC, ascii(SEGMENT_MAGIC)]).toEqual([0x47535453, 'STSG']);
    expect([BLOCK_MAGIC, ascii(BLOCK_MAGIC)]).toEqual([0x4b425453, 'STBK']);
    expect([FOOTER_MAGIC, ascii(FOOTER_MAGIC)]).toEqual([0x54465453, 'STFT']);
    expect([TRAILER_MAGIC, ascii(TRAILER_MAGIC)]).toEqual([0x52545453, 'STTR']);
    expect([TOMBSTONE_MAGIC, ascii(TOMBSTONE_MAGIC)]).toEqual([0x42545453, 'STTB']);
  });

  it('format versions', () => {
    expect(SEGMENT_FORMAT_VERSION).toBe(1);
    expect(BLOCK_FORMAT_VERSION).toBe(1);
  });

  it('flags, kinds and enumerations stored as bytes', () => {
    expect(BLOCK_FLAG_LZ4).toBe(0x01);
    expect(BLOCK_FLAG_BATCH_CONTINUES).toBe(0x02);
    expect(BLOCK_FLAG_RUN_COLUMNS).toBe(0x04);
    expect(SegmentKind).toEqual({ Ingest: 0, Compacted: 1 });
    expect(ValueKind).toEqual({ Float64: 0, Int64: 1, String: 2, Json: 3 });
    // Column encoding bytes (docs/format/codecs.md).
    expect(TimestampEncoding).toEqual({ Raw: 0, DeltaOfDelta: 1 });
    expect(FloatEncoding).toEqual({ Raw: 0, Gorilla: 1, DecimalScaled: 2, DecimalPacked: 3 });
    expect(IntEncoding).toEqual({ Raw: 0, DeltaZigzag: 1 });
    expect(StringEncoding).toEqual({ Dictionary: 0 });
  });

  it('DecimalPacked layout constants and the codecs versions (docs/format/codecs.md)', () => {
    expect(DECIMAL_PACKED_GROUP_FIELDS).toBe(128);
    expect(DECIMAL_PACKED_MAX_WIDTH).toBe(54);
    // Adding an encoding or a payload layout adds a codecs version; the last row of codecs.md's
    // version history (3: run columns).
    expect(LATEST_CODECS_VERSION).toBe(3);
  });

  it('runs section layouts and run column modes (docs/format/block.md §Runs)', () => {
    /** Flags and raw runs section of a block of one float point per run (no series definitions). */
    const runs = (codecsVersion: 2 | 3, refs: number[], counts: number[], ttls: number[]): { flags: number; runs: number[] } => {
      const n = counts.reduce((a, b) => a + b, 0);
      const block = new BlockEncoder('fast', codecsVersion).encode(
        {
          pointCount: n,
          runCount: refs.length,
          runRefs: Uint32Array.from(refs),
          runPointCounts: Uint32Array.from(counts),
          runTtlSeconds: Uint32Array.from(ttls),
          timestampsMs: new Float64Array(n),
          kinds: new Uint8Array(n),
          floats: new Float64Array(n),
          ints: new BigInt64Array(0),
          texts: [],
        },
        [],
        { firstNewSeriesRef: 0, sequence: 1, writtenAtMs: 0, batchContinues: false },
      );
      const view = new DataView(block.buffer, block.byteOffset);
      const raw = lz4Decompress(block.subarray(72, 72 + view.getUint32(12, true)), view.getUint32(16, true));
      // Timestamps (encoding 1, n × 00), kinds (00 00) and the float column (00, n × 8) follow.
      return { flags: block[5]!, runs: [...raw.subarray(0, raw.length - (1 + n) - 2 - (1 + 8 * n))] };
    };
    // v1 layout: (ref, count, ttl) per run, flag clear.
    expect(runs(2, [0, 1], [1, 2], [0, 5])).toEqual({ flags: 0x01, runs: [0, 1, 0, 1, 2, 5] });
    // Run columns: zig-zag ref distances from previous + 1; mode 0 = uniform (one varuint), mode 1 = per run.
    expect(runs(3, [0, 1], [1, 1], [0, 0])).toEqual({ flags: 0x05, runs: [0, 0, 0, 1, 0, 0] });
    expect(runs(3, [0, 1], [1, 2], [7, 5])).toEqual({ flags: 0x05, runs: [0, 0, 1, 1, 2, 1, 7, 5] });
    expect(runs(3, [2, 0, 200], [1, 1, 1], [9, 9, 9])).toEqual({ flags: 0x05, runs: [4, 5, 0x8e, 0x03, 0, 1, 0, 9] }); // 200 − 1 = 199: zig-zag 398
    expect(runs(3, [], [], [])).toEqual({ flags: 0x05, runs: [0, 0, 0, 0] });
  });

  it('series key binary form v1 (docs/format/series-key.md)', () => {
    expect(MAX_SERIES_KEY_BYTES).toBe(65_536);
    // Field by field: string metric, varuint tag count, (string key, string value) sorted by key
    // bytes: "m" (2) + count (1) + "k"="vv" (5) + "kk"="" (4) = 12 bytes.
    const w = new ByteWriter(64);
    encodeSeriesKey(w, { metric: 'm', tags: { kk: '', k: 'vv' } });
    expect([...w.bytes()]).toEqual([0x01, 0x6d, 0x02, 0x01, 0x6b, 0x02, 0x76, 0x76, 0x02, 0x6b, 0x6b, 0x00]);
  });

  it('limits and names the format depends on', () => {
    expect(DEFAULT_PARTITION_MS).toBe(86_400_000);
    expect(MAX_ABS_TIMESTAMP_MS).toBe(2 ** 50);
    expect(MAX_BLOCK_POINTS).toBe(65_536);
    expect(segmentFileName(1)).toBe('0000000000000001.seg');
    expect(segmentFileName(0xabc)).toBe('0000000000000abc.seg');
    expect(TOMBSTONE_LOG_FILE).toBe('tombstones.log');
    expect(QUARANTINE_DIR).toBe('quarantine');
  });
});
