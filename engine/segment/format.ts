// Fixed-size on-disk headers of segment files: the segment header, the block header and the
// sealed-segment trailer (docs/format/segment.md and docs/format/block.md). Encode/decode and
// checksum only; no I/O. The constants below ARE the format: change them only with a version bump.
import { crc32c } from '../codec/crc32c.js';

// docs/format/segment.md §Segment header
export const SEGMENT_MAGIC = 0x47535453; // "STSG" read as u32 LE
export const SEGMENT_FORMAT_VERSION = 1;
export const SEGMENT_HEADER_BYTES = 64;
export const SegmentKind = { Ingest: 0, Compacted: 1 } as const;
export type SegmentKind = (typeof SegmentKind)[keyof typeof SegmentKind];

// docs/format/block.md §Block header
export const BLOCK_MAGIC = 0x4b425453; // "STBK"
export const BLOCK_FORMAT_VERSION = 1;
export const BLOCK_HEADER_BYTES = 72;
export const BLOCK_ALIGN_BYTES = 8;
export const BLOCK_FLAG_LZ4 = 0x01;
/** More blocks of the same append follow; the batch is visible only once a block without it is. */
export const BLOCK_FLAG_BATCH_CONTINUES = 0x02;
/**
 * Block flag: the runs section is in the run columns layout (docs/format/block.md §Runs), written
 * from codecs version 3 on; without it, the v1 layout of three varuints per run.
 */
export const BLOCK_FLAG_RUN_COLUMNS = 0x04;

// docs/format/segment.md §Footer and trailer
export const FOOTER_MAGIC = 0x54465453; // "STFT"
export const FOOTER_HEADER_BYTES = 24;
export const TRAILER_MAGIC = 0x52545453; // "STTR"
export const TRAILER_BYTES = 16;

/** Timestamps must satisfy |t| < 2^50 ms (±35,000 years) so delta-of-delta stays exact in doubles. */
export const MAX_ABS_TIMESTAMP_MS = 2 ** 50;

export interface SegmentHeader {
  readonly kind: SegmentKind;
  readonly shardId: number;
  readonly sequence: number;
  readonly createdAtMs: number;
  readonly capacityBytes: number;
}

export interface BlockHeader {
  readonly flags: number;
  /** Whole block: header + stored payload + zero padding to 8 bytes. */
  readonly blockBytes: number;
  readonly payloadStoredBytes: number;
  readonly payloadRawBytes: number;
  readonly pointCount: number;
  readonly runCount: number;
  readonly newSeriesCount: number;
  /** Segment-local ref of the first series this block defines (refs are dense per segment). */
  readonly firstNewSeriesRef: number;
  readonly minTimestampMs: number;
  readonly maxTimestampMs: number;
  /** Per-shard write order, strictly increasing across all of a shard's segments. */
  readonly sequence: number;
  /** Wall clock when written, ms; per-shard non-decreasing. Used for TTL and delete ordering. */
  readonly writtenAtMs: number;
}

export interface Footer {
  readonly footerBytes: number;
  readonly payloadStoredBytes: number;
  readonly payloadRawBytes: number;
}

function dv(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function setI64n(view: DataView, at: number, v: number): void {
  const lo = v % 0x1_0000_0000;
  view.setUint32(at, lo < 0 ? lo + 0x1_0000_0000 : lo, true);
  view.setInt32(at + 4, Math.floor(v / 0x1_0000_0000), true);
}

function getI64n(view: DataView, at: number): number {
  return view.getInt32(at + 4, true) * 0x1_0000_0000 + view.getUint32(at, true);
}

export function alignUp(n: number, to = BLOCK_ALIGN_BYTES): number {
  return Math.ceil(n / to) * to;
}

/** Writes a segment header into out[0, 64). */
export function encodeSegmentHeader(out: Uint8Array, h: SegmentHeader): void {
  out.fill(0, 0, SEGMENT_HEADER_BYTES);
  const v = dv(out);
  v.setUint32(0, SEGMENT_MAGIC, true);
  v.setUint16(4, SEGMENT_FORMAT_VERSION, true);
  v.setUint16(6, h.kind, true);
  v.setUint32(8, h.shardId, true);
  v.setUint32(12, SEGMENT_HEADER_BYTES, true);
  setI64n(v, 16, h.sequence);
  setI64n(v, 24, h.createdAtMs);
  setI64n(v, 32, h.capacityBytes);
  v.setUint32(60, crc32c(out.subarray(0, 60)), true);
}

/** Decodes and verifies a segment header; returns a reason string when it is not valid. */
export function decodeSegmentHeader(bytes: Uint8Array): SegmentHeader | string {
  if (bytes.length < SEGMENT_HEADER_BYTES) return 'file shorter than the segment header';
  const v = dv(bytes);
  if (v.getUint32(0, true) !== SEGMENT_MAGIC) return 'bad segment magic';
  if (v.getUint32(60, true) !== crc32c(bytes.subarray(0, 60))) return 'segment header CRC mismatch';
  const version = v.getUint16(4, true);
  if (version !== SEGMENT_FORMAT_VERSION) return `unsupported segment version ${version}`;
  const kind = v.getUint16(6, true);
  if (kind !== SegmentKind.Ingest && kind !== SegmentKind.Compacted) return `unknown segment kind ${kind}`;
  return {
    kind,
    shardId: v.getUint32(8, true),
    sequence: getI64n(v, 16),
    createdAtMs: getI64n(v, 24),
    capacityBytes: getI64n(v, 32),
  };
}

/**
 * Writes a block header into out[0, 72) with its CRC: CRC-32C over header bytes [0, 68) continued
 * over everything after the header up to blockBytes — stored payload and zero padding, so no byte
 * of a block escapes the check. `afterHeader` must be exactly out[72, blockBytes).
 */
export function encodeBlockHeader(out: Uint8Array, h: BlockHeader, afterHeader: Uint8Array): void {
  out.fill(0, 0, BLOCK_HEADER_BYTES);
  const v = dv(out);
  v.setUint32(0, BLOCK_MAGIC, true);
  v.setUint8(4, BLOCK_FORMAT_VERSION);
  v.setUint8(5, h.flags);
  v.setUint32(8, h.blockBytes, true);
  v.setUint32(12, h.payloadStoredBytes, true);
  v.setUint32(16, h.payloadRawBytes, true);
  v.setUint32(20, h.pointCount, true);
  v.setUint32(24, h.runCount, true);
  v.setUint32(28, h.newSeriesCount, true);
  setI64n(v, 32, h.minTimestampMs);
  setI64n(v, 40, h.maxTimestampMs);
  setI64n(v, 48, h.sequence);
  setI64n(v, 56, h.writtenAtMs);
  v.setUint32(64, h.firstNewSeriesRef, true);
  v.setUint32(68, crc32c(afterHeader, crc32c(out.subarray(0, 68))), true);
}

/**
 * Reads a block header at `bytes[0..]` without checking the payload CRC (see verifyBlock).
 * Returns a reason string for anything structurally wrong, including `limit` (bytes available
 * from this offset to the end of the readable region) being too small for the declared length.
 */
export function decodeBlockHeader(bytes: Uint8Array, limit: number): BlockHeader | string {
  if (limit < BLOCK_HEADER_BYTES) return 'truncated block header';
  const v = dv(bytes);
  const magic = v.getUint32(0, true);
  if (magic !== BLOCK_MAGIC) return magic === 0 ? 'end of blocks' : 'bad block magic';
  const version = v.getUint8(4);
  if (version !== BLOCK_FORMAT_VERSION) return `unsupported block version ${version}`;
  const h: BlockHeader = {
    flags: v.getUint8(5),
    blockBytes: v.getUint32(8, true),
    payloadStoredBytes: v.getUint32(12, true),
    payloadRawBytes: v.getUint32(16, true),
    pointCount: v.getUint32(20, true),
    runCount: v.getUint32(24, true),
    newSeriesCount: v.getUint32(28, true),
    minTimestampMs: getI64n(v, 32),
    maxTimestampMs: getI64n(v, 40),
    sequence: getI64n(v, 48),
    writtenAtMs: getI64n(v, 56),
    firstNewSeriesRef: v.getUint32(64, true),
  };
  if (h.blockBytes !== alignUp(BLOCK_HEADER_BYTES + h.payloadStoredBytes)) return 'block length disagrees with payload length';
  if (h.blockBytes > limit) return 'block runs past the readable end';
  return h;
}

/** True when the CRC in the header matches header [0,68) + bytes [72, blockBytes). */
export function verifyBlock(bytes: Uint8Array, h: BlockHeader): boolean {
  const stored = dv(bytes).getUint32(68, true);
  const afterHeader = bytes.subarray(BLOCK_HEADER_BYTES, h.blockBytes);
  return stored === crc32c(afterHeader, crc32c(bytes.subarray(0, 68)));
}

/** Footer header (24 bytes) + its CRC over header [0,20) and out[24, footerBytes) (payload + padding). */
export function encodeFooterHeader(out: Uint8Array, f: Footer, afterHeader: Uint8Array): void {
  out.fill(0, 0, FOOTER_HEADER_BYTES);
  const v = dv(out);
  v.setUint32(0, FOOTER_MAGIC, true);
  v.setUint32(4, f.footerBytes, true);
  v.setUint32(8, f.payloadStoredBytes, true);
  v.setUint32(12, f.payloadRawBytes, true);
  v.setUint32(16, 0, true);
  v.setUint32(20, crc32c(afterHeader, crc32c(out.subarray(0, 20))), true);
}

export function decodeFooterHeader(bytes: Uint8Array, limit: number): Footer | string {
  if (limit < FOOTER_HEADER_BYTES) return 'truncated footer';
  const v = dv(bytes);
  if (v.getUint32(0, true) !== FOOTER_MAGIC) return 'bad footer magic';
  const f: Footer = {
    footerBytes: v.getUint32(4, true),
    payloadStoredBytes: v.getUint32(8, true),
    payloadRawBytes: v.getUint32(12, true),
  };
  if (f.footerBytes !== alignUp(FOOTER_HEADER_BYTES + f.payloadStoredBytes) || f.footerBytes > limit) {
    return 'footer length out of bounds';
  }
  const afterHeader = bytes.subarray(FOOTER_HEADER_BYTES, f.footerBytes);
  if (v.getUint32(20, true) !== crc32c(afterHeader, crc32c(bytes.subarray(0, 20)))) return 'footer CRC mismatch';
  return f;
}

/** Trailer: the last 16 bytes of a sealed segment, pointing at its footer. */
export function encodeTrailer(out: Uint8Array, footerOffset: number, footerBytes: number): void {
  const v = dv(out);
  v.setUint32(0, TRAILER_MAGIC, true);
  v.setUint32(4, footerOffset, true);
  v.setUint32(8, footerBytes, true);
  v.setUint32(12, crc32c(out.subarray(0, 12)), true);
}

export function decodeTrailer(bytes: Uint8Array): { footerOffset: number; footerBytes: number } | undefined {
  if (bytes.length < TRAILER_BYTES) return undefined;
  const v = dv(bytes);
  if (v.getUint32(0, true) !== TRAILER_MAGIC) return undefined;
  if (v.getUint32(12, true) !== crc32c(bytes.subarray(0, 12))) return undefined;
  return { footerOffset: v.getUint32(4, true), footerBytes: v.getUint32(8, true) };
}

/** File name of segment `sequence`: 16 lower-case hex digits + ".seg" (sorts in write order). */
export function segmentFileName(sequence: number): string {
  return `${sequence.toString(16).padStart(16, '0')}.seg`;
}

export function parseSegmentFileName(name: string): number | undefined {
  const m = /^([0-9a-f]{16})\.seg$/.exec(name);
  return m ? parseInt(m[1]!, 16) : undefined;
}
