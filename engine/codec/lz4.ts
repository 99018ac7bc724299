// LZ4 block compression of block payloads (docs/format/block.md, "payload"). The only file that
// imports the LZ4 binding. Stored form: u32 LE uncompressed length, then one LZ4 block
// (the lz4_flex "size-prepended" layout, which lz4-napi's compressSync writes).
import { compressSync, uncompressSync } from 'lz4-napi';

/** Compresses `raw`; the result is a fresh Buffer owned by the caller. */
export function lz4Compress(raw: Uint8Array): Buffer {
  return compressSync(Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength));
}

/**
 * Decompresses a stored payload. Throws RangeError if the stored length prefix disagrees with
 * `expectedRawBytes` or the LZ4 stream is malformed (callers turn that into a CorruptionError).
 */
export function lz4Decompress(stored: Uint8Array, expectedRawBytes: number): Buffer {
  if (stored.length < 4) throw new RangeError('LZ4 payload shorter than its length prefix');
  const prefix = stored[0]! | (stored[1]! << 8) | (stored[2]! << 16) | (stored[3]! << 24);
  if (prefix >>> 0 !== expectedRawBytes) {
    throw new RangeError(`LZ4 length prefix ${prefix >>> 0} != header raw length ${expectedRawBytes}`);
  }
  let out: Buffer;
  try {
    out = uncompressSync(stored);
  } catch (err) {
    throw new RangeError(`LZ4 stream malformed: ${(err as Error).message}`);
  }
  if (out.length !== expectedRawBytes) {
    throw new RangeError(`LZ4 stream decoded to ${out.length} bytes, expected ${expectedRawBytes}`);
  }
  return out;
}
