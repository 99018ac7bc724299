// Opening a segment file for reading its structure: header, trailer, footer or block walk
// (docs/format/segment.md). Shared by the shard writer's recovery and by readers. Reads only; it
// never repairs — repair (truncate, quarantine) is the writer's job.
import type { FileSystem } from '../io/fs.js';
import {
  SEGMENT_HEADER_BYTES,
  TRAILER_BYTES,
  decodeSegmentHeader,
  decodeTrailer,
} from './format.js';
import { SegmentIndex, decodeFooter, walkBlocks, type ByteSource, type SegmentReadOptions, type WalkStop } from './segment-index.js';

/** A ByteSource over an open file descriptor, read with pread. */
export function fileSource(fsys: FileSystem, fd: number, size: number): ByteSource {
  return {
    size,
    read(offset, length) {
      const n = Math.max(0, Math.min(length, size - offset));
      const out = new Uint8Array(n);
      const got = fsys.pread(fd, out, offset);
      return got === n ? out : out.subarray(0, got);
    },
  };
}

export type OpenedSegment =
  | { readonly ok: true; readonly index: SegmentIndex; readonly stop: WalkStop | undefined }
  | { readonly ok: false; readonly reason: string };

/**
 * Reads a segment's structure from `source`: a valid trailer + footer makes it sealed (no block
 * is read); otherwise the blocks are walked from the header and `stop` says where and why the
 * walk ended. `ok: false` means the header itself cannot be trusted. `options`: how deeply keys
 * and walked blocks are decoded (SegmentReadOptions).
 */
export function openSegment(filePath: string, source: ByteSource, options: SegmentReadOptions = {}): OpenedSegment {
  const header = decodeSegmentHeader(source.read(0, SEGMENT_HEADER_BYTES));
  if (typeof header === 'string') return { ok: false, reason: header };
  const index = new SegmentIndex(filePath, header);
  if (source.size >= SEGMENT_HEADER_BYTES + TRAILER_BYTES) {
    const trailer = decodeTrailer(source.read(source.size - TRAILER_BYTES, TRAILER_BYTES));
    if (trailer && trailer.footerOffset + trailer.footerBytes + TRAILER_BYTES === source.size) {
      try {
        decodeFooter(source.read(trailer.footerOffset, trailer.footerBytes), index, trailer.footerOffset, options);
        return { ok: true, index, stop: undefined };
      } catch {
        // A damaged footer is not fatal: fall through and rebuild the index from the blocks.
      }
    }
  }
  const fresh = new SegmentIndex(filePath, header);
  const stop = walkBlocks(source, fresh, options);
  return { ok: true, index: fresh, stop };
}
