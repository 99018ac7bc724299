// What is known about one segment without reading its points: header, series dictionary (ref →
// key), block directory, and for sealed segments the footer that stores all of that
// (docs/format/segment.md §Footer). Also the block walk shared by recovery and readers, which
// yields only whole, checksummed, batch-complete blocks (docs/format/segment.md §Blocks and how
// a reader finds them; the light walk reads block payloads up to their runs, docs/format/block.md).
import { ByteReader, ByteWriter } from '../codec/bytes.js';
import { lz4Compress, lz4Decompress } from '../codec/lz4.js';
import { decodeSeriesKey, encodeSeriesKey, seriesKeysEnd } from '../catalog/series-key.js';
import type { SeriesKey } from '../types.js';
import { emptyPackedArray } from '../packed-array.js';
import { decodeBlock, decodeRuns } from './block.js';
import {
  BLOCK_FLAG_BATCH_CONTINUES,
  BLOCK_FLAG_LZ4,
  BLOCK_HEADER_BYTES,
  FOOTER_HEADER_BYTES,
  SEGMENT_HEADER_BYTES,
  TRAILER_BYTES,
  alignUp,
  decodeBlockHeader,
  decodeFooterHeader,
  encodeFooterHeader,
  encodeTrailer,
  verifyBlock,
  type BlockHeader,
  type SegmentHeader,
} from './format.js';

/** Directory entry of one block: where it is and what it covers. */
export interface BlockEntry {
  readonly offset: number;
  readonly blockBytes: number;
  readonly pointCount: number;
  readonly minTimestampMs: number;
  readonly maxTimestampMs: number;
  readonly sequence: number;
  readonly writtenAtMs: number;
  /** Segment-local refs of the block's runs, in stored order. */
  readonly refs: Uint32Array;
}

/** Set on compacted segments: which compaction wrote them and which segments they replace. */
export interface CompactionInfo {
  readonly compactionId: number;
  readonly outputIndex: number;
  readonly outputCount: number;
  /** Sequences of the segments (same shard) this compaction's outputs replace. */
  readonly sourceSequences: readonly number[];
}

/**
 * How much of a segment openSegment and walkBlocks decode.
 *
 * `encodedKeys: true` — for a reader that resolves the series into a catalog
 * (Catalog.resolveEncodedKeys) and then needs no key objects: series definitions are kept as
 * their binary keys (SegmentIndex.encodedSeriesRuns), checked for structure only (bounds; tag
 * order and UTF-8 are checked when the catalog resolves them), and a walked block is decoded
 * only up to its runs (header, CRC, LZ4, series definitions, runs adding up to the point
 * count); its value columns are decoded, and their damage reported, by the scan that reads it.
 * Building a SeriesKey per series and decoding every column cost the 1 M-series open ~1.5 s;
 * bench/catalog.bench.ts "Engine.open 1M".
 *
 * Default (false): every key is decoded and every walked block decoded whole, as recovery and
 * compaction need.
 */
export interface SegmentReadOptions {
  readonly encodedKeys?: boolean;
}

/** Consecutive series definitions in binary form: refs [firstRef, firstRef + count). */
export interface EncodedSeriesRun {
  readonly firstRef: number;
  readonly count: number;
  /** File offset of the block or footer that holds these definitions (for error reports). */
  readonly fileOffset: number;
  /** Exactly `count` v1 binary keys back to back (docs/format/series-key.md). Read-only. */
  readonly bytes: Uint8Array;
}

/**
 * Mutable index of one segment. The series dictionary (refs 0 … seriesCount − 1) and `blocks`
 * are append-only and in file order; `endOffset` is the first byte after the last whole block
 * (where the next block goes).
 *
 * The dictionary is held in one of two forms. Decoded: a SeriesKey per ref (what `seriesKeys`
 * returns), used once a block is added from key objects or someone asks for `seriesKeys`. Encoded
 * (an index read with `encodedKeys`): runs of binary keys for refs [releasedRefs, seriesCount),
 * plus, for refs a reader has resolved and released (releaseSeriesKeys), a function that
 * rebuilds their keys — so a reader's index of a million series holds no key at all.
 */
export class SegmentIndex {
  // `blocks` and the decoded dictionary start in their final elements kind (emptyPackedArray):
  // the ingest path compiled in the warm-up on another index met them only grown.
  readonly blocks: BlockEntry[] = emptyPackedArray();
  endOffset = SEGMENT_HEADER_BYTES;
  sealed = false;
  compaction: CompactionInfo | undefined;
  maxSequence = -1;
  maxWrittenAtMs = -Infinity;
  minTimestampMs = Infinity;
  maxTimestampMs = -Infinity;
  pointCount = 0;

  /** Number of series the segment defines so far; their refs are 0 … seriesCount − 1. */
  private count = 0;
  /** Key of every ref, in ref order, once the dictionary is decoded; then the only form. */
  private decoded: SeriesKey[] | undefined;
  /** Encoded form: runs covering refs [releasedRefs, count), in ref order, without gaps. */
  private runs: EncodedSeriesRun[] = [];
  /** Encoded form: refs below this were released; `releasedKeyOf` rebuilds their keys. */
  private releasedRefs = 0;
  private releasedKeyOf: ((ref: number) => SeriesKey) | undefined;

  constructor(
    readonly path: string,
    readonly header: SegmentHeader,
  ) {}

  get seriesCount(): number {
    return this.count;
  }

  /**
   * The key of every ref, in ref order. Decodes an encoded dictionary on first use (O(series));
   * from then on the index keeps the decoded form and the array grows with it. The caller must
   * not modify it.
   */
  get seriesKeys(): readonly SeriesKey[] {
    return this.decoded ?? this.decode();
  }

  /**
   * The held binary keys of refs ≥ `fromRef` as runs (the first may start below `fromRef`), or
   * undefined when the dictionary is decoded (read `seriesKeys` instead). Views of the index's
   * storage: read-only, valid until releaseSeriesKeys.
   */
  encodedSeriesRuns(fromRef: number): readonly EncodedSeriesRun[] | undefined {
    if (this.decoded !== undefined) return undefined;
    if (fromRef < this.releasedRefs) throw new RangeError(`series refs below ${this.releasedRefs} were released`);
    return this.runs.filter((run) => run.firstRef + run.count > fromRef);
  }

  /**
   * Drops the held binary keys of every current ref (an encoded index only; a decoded one is
   * left as is): the caller has resolved them and can rebuild any of them with `keyOf`, which
   * the index calls if `seriesKeys` or a footer is asked for later. Refs defined afterwards are
   * held again until the next release.
   */
  releaseSeriesKeys(keyOf: (ref: number) => SeriesKey): void {
    if (this.decoded !== undefined) return;
    if (this.releasedRefs > 0 && this.releasedKeyOf !== keyOf) {
      const earlier = this.releasedKeyOf!;
      const boundary = this.releasedRefs;
      this.releasedKeyOf = (ref) => (ref < boundary ? earlier(ref) : keyOf(ref));
    } else {
      this.releasedKeyOf = keyOf;
    }
    this.releasedRefs = this.count;
    this.runs = [];
  }

  /**
   * Appends the binary key of every ref, in ref order, to `w` (a footer's series dictionary),
   * without decoding an encoded dictionary: held keys are copied as they are (a key has one
   * encoding), released ones rebuilt with their keyOf.
   */
  encodeSeriesKeys(w: ByteWriter): void {
    if (this.decoded !== undefined) {
      for (const key of this.decoded) encodeSeriesKey(w, key);
      return;
    }
    for (let ref = 0; ref < this.releasedRefs; ref++) encodeSeriesKey(w, this.releasedKeyOf!(ref));
    for (const run of this.runs) w.raw(run.bytes);
  }

  /** Adds a block and the series it defines (refs seriesCount, +1, …). */
  addBlock(entry: BlockEntry, newSeries: readonly SeriesKey[]): void {
    this.addSeries(newSeries);
    this.addEntry(entry);
  }

  /** Adds a block whose series definitions are `count` binary keys (see addSeriesEncoded). */
  addBlockEncoded(entry: BlockEntry, keys: Uint8Array, count: number): void {
    this.addSeriesEncoded(keys, count, entry.offset);
    this.addEntry(entry);
  }

  /** Defines series without a block (a footer without blocks). Decodes an encoded dictionary. */
  addSeries(newSeries: readonly SeriesKey[]): void {
    if (newSeries.length === 0) return;
    const keys = this.decoded ?? this.decode();
    for (const key of newSeries) keys.push(key);
    this.count = keys.length;
  }

  /**
   * Defines `count` series given as binary keys back to back in `keys` (kept, not copied: the
   * caller must not modify it afterwards), read from the block or footer at `fileOffset`. A
   * decoded index decodes them at once (RangeError if one is corrupt, before anything is added).
   */
  addSeriesEncoded(keys: Uint8Array, count: number, fileOffset: number): void {
    if (count === 0) return;
    if (this.decoded !== undefined) {
      const r = new ByteReader(keys);
      const fresh: SeriesKey[] = [];
      for (let i = 0; i < count; i++) fresh.push(decodeSeriesKey(r));
      for (const key of fresh) this.decoded.push(key);
      this.count = this.decoded.length;
      return;
    }
    this.runs.push({ firstRef: this.count, count, fileOffset, bytes: keys });
    this.count += count;
  }

  private decode(): SeriesKey[] {
    const keys: SeriesKey[] = emptyPackedArray();
    const keyOf = this.releasedKeyOf;
    for (let ref = 0; ref < this.releasedRefs; ref++) keys.push(keyOf!(ref));
    for (const run of this.runs) {
      const r = new ByteReader(run.bytes);
      for (let i = 0; i < run.count; i++) keys.push(decodeSeriesKey(r));
    }
    this.decoded = keys;
    this.runs = [];
    this.releasedRefs = 0;
    this.releasedKeyOf = undefined;
    return keys;
  }

  private addEntry(entry: BlockEntry): void {
    this.blocks.push(entry);
    this.endOffset = entry.offset + entry.blockBytes;
    if (entry.sequence > this.maxSequence) this.maxSequence = entry.sequence;
    if (entry.writtenAtMs > this.maxWrittenAtMs) this.maxWrittenAtMs = entry.writtenAtMs;
    if (entry.pointCount > 0) {
      if (entry.minTimestampMs < this.minTimestampMs) this.minTimestampMs = entry.minTimestampMs;
      if (entry.maxTimestampMs > this.maxTimestampMs) this.maxTimestampMs = entry.maxTimestampMs;
    }
    this.pointCount += entry.pointCount;
  }
}

/** Random access to a segment's bytes: a mapping, a file, or a test buffer. */
export interface ByteSource {
  /** Bytes [offset, offset + length) or fewer if the source ends first. May be a view. */
  read(offset: number, length: number): Uint8Array;
  readonly size: number;
}

export function bufferSource(buf: Uint8Array, size = buf.length): ByteSource {
  return { size, read: (offset, length) => buf.subarray(offset, Math.min(size, offset + length)) };
}

/** Why a walk stopped. 'end' = zero magic (clean end); anything else names the damage. */
export interface WalkStop {
  readonly offset: number;
  readonly reason: string;
  /** Blocks of an unfinished multi-block batch that were dropped before `offset`. */
  readonly droppedIncompleteBlocks: number;
}

/**
 * Walks blocks from `index.endOffset`, adding every whole, checksummed block to `index` and
 * stopping at the first position that is not one. Blocks of a batch that spans several blocks
 * (BATCH_CONTINUES) are added only once the batch's last block is read, so an interrupted batch
 * is never half-visible. Returns where and why it stopped. With `encodedKeys`, a block counts as
 * whole once its payload decodes up to its runs (see SegmentReadOptions); otherwise once it
 * decodes whole.
 */
export function walkBlocks(source: ByteSource, index: SegmentIndex, options: SegmentReadOptions = {}): WalkStop {
  let offset = index.endOffset;
  const pending: { entry: BlockEntry; keys: Uint8Array | undefined; newSeries: readonly SeriesKey[]; newSeriesCount: number }[] = [];
  let pendingStart = offset;
  for (;;) {
    const headerBytes = source.read(offset, BLOCK_HEADER_BYTES);
    const header = decodeBlockHeader(headerBytes, source.size - offset);
    if (typeof header === 'string') {
      return { offset: pending.length > 0 ? pendingStart : offset, reason: header, droppedIncompleteBlocks: pending.length };
    }
    const bytes = source.read(offset, header.blockBytes);
    let refs: Uint32Array;
    let keys: Uint8Array | undefined;
    let newSeries: readonly SeriesKey[] = [];
    try {
      if (options.encodedKeys === true) {
        const prefix = decodeBlockPrefix(bytes, header);
        refs = prefix.runRefs;
        keys = prefix.keys;
      } else {
        const decoded = decodeBlock(bytes, bytes.length);
        refs = decoded.runRefs;
        newSeries = decoded.newSeries;
      }
    } catch (err) {
      return {
        offset: pending.length > 0 ? pendingStart : offset,
        reason: (err as Error).message,
        droppedIncompleteBlocks: pending.length,
      };
    }
    const entry: BlockEntry = {
      offset,
      blockBytes: header.blockBytes,
      pointCount: header.pointCount,
      minTimestampMs: header.minTimestampMs,
      maxTimestampMs: header.maxTimestampMs,
      sequence: header.sequence,
      writtenAtMs: header.writtenAtMs,
      refs,
    };
    if (pending.length === 0) pendingStart = offset;
    pending.push({ entry, keys, newSeries, newSeriesCount: header.newSeriesCount });
    offset += header.blockBytes;
    if ((header.flags & BLOCK_FLAG_BATCH_CONTINUES) === 0) {
      for (const p of pending) {
        if (p.keys === undefined) index.addBlock(p.entry, p.newSeries);
        else index.addBlockEncoded(p.entry, p.keys, p.newSeriesCount);
      }
      pending.length = 0;
    }
  }
}

/**
 * The part of a block an index needs (docs/format/block.md §Payload): checks the CRC,
 * decompresses, and reads the series definitions (structure only, kept as a copy of their
 * binary keys) and the runs (their point counts must add up to the header's). The timestamp,
 * kinds and value columns are not read. Throws RangeError with a reason.
 */
function decodeBlockPrefix(bytes: Uint8Array, header: BlockHeader): { keys: Uint8Array; runRefs: Uint32Array } {
  if (!verifyBlock(bytes, header)) throw new RangeError('block CRC mismatch');
  const stored = bytes.subarray(BLOCK_HEADER_BYTES, BLOCK_HEADER_BYTES + header.payloadStoredBytes);
  const raw = header.flags & BLOCK_FLAG_LZ4 ? lz4Decompress(stored, header.payloadRawBytes) : stored;
  const keysEnd = seriesKeysEnd(raw, 0, header.newSeriesCount, raw.length);
  const r = new ByteReader(raw);
  r.pos = keysEnd;
  const { runRefs } = decodeRuns(r, header);
  // The keys are kept until the reader resolves them. A view when they are most of a payload the
  // block read does not share (LZ4), so a walk allocates no second copy of them (a copy of 65 MB
  // per segment cost the 1 M-series open a full GC; bench/catalog.bench.ts "Engine.open 1M");
  // otherwise a copy, so a payload of many points is not kept for a few keys.
  const view = raw !== stored && 2 * keysEnd >= raw.length;
  return { keys: view ? raw.subarray(0, keysEnd) : raw.slice(0, keysEnd), runRefs };
}

/** Encodes the footer (header + LZ4 payload, padded) followed by the 16-byte trailer. */
export function encodeFooterAndTrailer(index: SegmentIndex, footerOffset: number): Uint8Array {
  const w = new ByteWriter(1 << 16);
  w.varuint(index.seriesCount);
  index.encodeSeriesKeys(w);
  w.varuint(index.blocks.length);
  let prevOffset = 0;
  for (const b of index.blocks) {
    w.varuint(b.offset - prevOffset);
    prevOffset = b.offset;
    w.varuint(b.blockBytes);
    w.varuint(b.pointCount);
    w.varint(b.minTimestampMs);
    w.varuint(b.maxTimestampMs - b.minTimestampMs);
    w.varuint(b.sequence);
    w.varint(b.writtenAtMs);
    w.varuint(b.refs.length);
    w.varuints(b.refs);
  }
  const c = index.compaction;
  if (c) {
    w.u8(1);
    w.varuint(c.compactionId);
    w.varuint(c.outputIndex);
    w.varuint(c.outputCount);
    w.varuint(c.sourceSequences.length);
    for (const s of c.sourceSequences) w.varuint(s);
  } else {
    w.u8(0);
  }
  const raw = w.bytes();
  const stored = lz4Compress(raw);
  const footerBytes = alignUp(FOOTER_HEADER_BYTES + stored.length);
  const out = new Uint8Array(footerBytes + TRAILER_BYTES);
  out.set(stored, FOOTER_HEADER_BYTES);
  encodeFooterHeader(out, { footerBytes, payloadStoredBytes: stored.length, payloadRawBytes: raw.length }, out.subarray(FOOTER_HEADER_BYTES, footerBytes));
  encodeTrailer(out.subarray(footerBytes), footerOffset, footerBytes);
  return out;
}

/**
 * Fills `index` from a sealed segment's footer (bytes = the footer, starting at its header).
 * Throws RangeError on any mismatch; the caller then treats the segment as unsealed. With
 * `encodedKeys` the series dictionary is kept as binary keys, checked for structure only (see
 * SegmentReadOptions).
 */
export function decodeFooter(bytes: Uint8Array, index: SegmentIndex, footerOffset: number, options: SegmentReadOptions = {}): void {
  const f = decodeFooterHeader(bytes, bytes.length);
  if (typeof f === 'string') throw new RangeError(f);
  const raw = lz4Decompress(bytes.subarray(FOOTER_HEADER_BYTES, FOOTER_HEADER_BYTES + f.payloadStoredBytes), f.payloadRawBytes);
  const r = new ByteReader(raw);
  const seriesCount = r.varuint();
  let keys: SeriesKey[] | undefined;
  let encoded: Uint8Array | undefined;
  if (options.encodedKeys === true) {
    const keysStart = r.pos;
    r.pos = seriesKeysEnd(raw, keysStart, seriesCount, raw.length);
    // A view, not a copy (65 MB per segment at 1 M series; bench/catalog.bench.ts "Engine.open
    // 1M"): the reader releases it as soon as it has resolved the keys.
    encoded = raw.subarray(keysStart, r.pos);
  } else {
    keys = [];
    for (let i = 0; i < seriesCount; i++) keys.push(decodeSeriesKey(r));
  }
  const blockCount = r.varuint();
  let prevOffset = 0;
  const entries: BlockEntry[] = [];
  for (let i = 0; i < blockCount; i++) {
    const offset = prevOffset + r.varuint();
    prevOffset = offset;
    const blockBytes = r.varuint();
    const pointCount = r.varuint();
    const minTimestampMs = r.varint();
    const maxTimestampMs = minTimestampMs + r.varuint();
    const sequence = r.varuint();
    const writtenAtMs = r.varint();
    const runCount = r.varuint();
    const refs = new Uint32Array(runCount);
    for (let k = 0; k < runCount; k++) {
      const ref = r.varuint();
      if (ref >= seriesCount) throw new RangeError(`footer block ${i} names series ref ${ref} of ${seriesCount}`);
      refs[k] = ref;
    }
    if (offset + blockBytes > footerOffset) throw new RangeError(`footer block ${i} runs past the footer`);
    entries.push({ offset, blockBytes, pointCount, minTimestampMs, maxTimestampMs, sequence, writtenAtMs, refs });
  }
  let compaction: CompactionInfo | undefined;
  if (r.u8() === 1) {
    const compactionId = r.varuint();
    const outputIndex = r.varuint();
    const outputCount = r.varuint();
    const n = r.varuint();
    const sourceSequences: number[] = [];
    for (let i = 0; i < n; i++) sourceSequences.push(r.varuint());
    compaction = { compactionId, outputIndex, outputCount, sourceSequences };
  }
  if (r.remaining !== 0) throw new RangeError('unread footer bytes');
  // Nothing is added to `index` before the whole footer has decoded.
  if (encoded !== undefined) index.addSeriesEncoded(encoded, seriesCount, footerOffset);
  else index.addSeries(keys!);
  for (const entry of entries) index.addBlock(entry, []);
  index.compaction = compaction;
  index.endOffset = footerOffset;
  index.sealed = true;
}
