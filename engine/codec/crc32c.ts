// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78) — the checksum of every block, segment
// header and trailer (docs/format/segment.md). The only file that imports the native binding;
// see docs/decisions/0002-crc32c-binding.md for why a SIMD binding and not a JS table.
import { crc32c as nativeCrc32c } from '@node-rs/crc32';

/**
 * CRC-32C of `bytes`, continuing from `previous` (the result of an earlier call over the bytes
 * before these) so a header and a payload in two buffers checksum as one stream.
 */
export function crc32c(bytes: Uint8Array, previous = 0): number {
  const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return nativeCrc32c(buf, previous) >>> 0;
}
