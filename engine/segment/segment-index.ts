// What is known about one segment without reading its points: header, series dictionary (ref →
// key), block directory, and for sealed segments the footer that stores all of that
// (docs/format/segment.md §Footer). Also the block walk shared by recovery and readers, which
// yields only whole, checksummed, batch-complete blocks.
import { ByteReader, ByteWriter } from '../codec/bytes.js';
import { lz4Compress, lz4Decompress } from '../codec/lz4.js';
import { decodeSeriesKey, encodeSeriesKey } from '../catalog/series-key.js';
import type { SeriesKey } from '../types.js';
import { decodeBlock } from './block.js';
import {
  BLOCK_FLAG_BATCH_CONTINUES,
  BLOCK_HEADER_BYTES,
  FOOTER_HEADER_BYTES,
  SEGMENT_HEADER_BYTES,
  TRAILER_BYTES,
  alignUp,
  decodeBlockHeader,
  decodeFooterHeader,
  encodeFooterHeader,
  encodeTrailer,
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
 * Mutable index of one segment. `seriesKeys` and `blocks` are append-only and in file order;
 * `endOffset` is the first byte after the last whole block (where the next block goes).
 */
export class SegmentIndex {
  readonly seriesKeys: SeriesKey[] = [];
  readonly blocks: BlockEntry[] = [];
  endOffset = SEGMENT_HEADER_BYTES;
  sealed = false;
  compaction: CompactionInfo | undefined;
  maxSequence = -1;
  maxWrittenAtMs = -Infinity;
  minTimestampMs = Infinity;
  maxTimestampMs = -Infinity;
  pointCount = 0;

  constructor(
    readonly path: string,
    readonly header: SegmentHeader,
  ) {}

  addBlock(entry: BlockEntry, newSeries: readonly SeriesKey[]): void {
    for (const key of newSeries) this.seriesKeys.push(key);
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
 * is never half-visible. Returns where and why it stopped.
 */
export function walkBlocks(source: ByteSource, index: SegmentIndex): WalkStop {
  let offset = index.endOffset;
  const pending: { entry: BlockEntry; newSeries: readonly SeriesKey[] }[] = [];
  let pendingStart = offset;
  for (;;) {
    const headerBytes = source.read(offset, BLOCK_HEADER_BYTES);
    const header = decodeBlockHeader(headerBytes, source.size - offset);
    if (typeof header === 'string') {
      return { offset: pending.length > 0 ? pendingStart : offset, reason: header, droppedIncompleteBlocks: pending.length };
    }
    const bytes = source.read(offset, header.blockBytes);
    let decoded;
    try {
      decoded = decodeBlock(bytes, bytes.length);
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
      refs: decoded.runRefs,
    };
    if (pending.length === 0) pendingStart = offset;
    pending.push({ entry, newSeries: decoded.newSeries });
    offset += header.blockBytes;
    if ((header.flags & BLOCK_FLAG_BATCH_CONTINUES) === 0) {
      for (const p of pending) index.addBlock(p.entry, p.newSeries);
      pending.length = 0;
    }
  }
}

/** Encodes the footer (header + LZ4 payload, padded) followed by the 16-byte trailer. */
export function encodeFooterAndTrailer(index: SegmentIndex, footerOffset: number): Uint8Array {
  const w = new ByteWriter(1 << 16);
  w.varuint(index.seriesKeys.length);
  for (const key of index.seriesKeys) encodeSeriesKey(w, key);
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
    for (const ref of b.refs) w.varuint(ref);
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
 * Throws RangeError on any mismatch; the caller then treats the segment as unsealed.
 */
export function decodeFooter(bytes: Uint8Array, index: SegmentIndex, footerOffset: number): void {
  const f = decodeFooterHeader(bytes, bytes.length);
  if (typeof f === 'string') throw new RangeError(f);
  const raw = lz4Decompress(bytes.subarray(FOOTER_HEADER_BYTES, FOOTER_HEADER_BYTES + f.payloadStoredBytes), f.payloadRawBytes);
  const r = new ByteReader(raw);
  const seriesCount = r.varuint();
  const keys: SeriesKey[] = [];
  for (let i = 0; i < seriesCount; i++) keys.push(decodeSeriesKey(r));
  const blockCount = r.varuint();
  let prevOffset = 0;
  let first = true;
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
    index.addBlock(
      { offset, blockBytes, pointCount, minTimestampMs, maxTimestampMs, sequence, writtenAtMs, refs },
      first ? keys : [],
    );
    first = false;
  }
  if (blockCount === 0) index.seriesKeys.push(...keys);
  if (r.u8() === 1) {
    const compactionId = r.varuint();
    const outputIndex = r.varuint();
    const outputCount = r.varuint();
    const n = r.varuint();
    const sourceSequences: number[] = [];
    for (let i = 0; i < n; i++) sourceSequences.push(r.varuint());
    index.compaction = { compactionId, outputIndex, outputCount, sourceSequences };
  }
  if (r.remaining !== 0) throw new RangeError('unread footer bytes');
  index.endOffset = footerOffset;
  index.sealed = true;
}
