// OneNET binary uploads (protocols.md §4.2, `POST /bindata`, `GET /bindata/{index}`): the index
// that names a stored binary, and the JSON payload point that holds its bytes. An index is
// `<device>_<time ms>_<datastream>` like the platform's (`3491506_1475204886914_bin`); device ids
// may hold `_`, so an index can read several ways and `indexReadings` lists them all — the route
// keeps the ones the caller's key covers. Pure.
import { NAME_PATTERN } from '../../auth/index.js';

/** Tag that marks the series holding binary payloads, next to `device_id` (never in a OneNET listing). */
export const BINDATA_TAG = 'onenet_bindata';
export const BINDATA_TAG_VALUE = 'payload';

export interface BinaryReading {
  readonly deviceId: string;
  readonly datastreamId: string;
  readonly atMs: number;
}

export function encodeBinaryIndex(r: BinaryReading): string {
  return `${r.deviceId}_${r.atMs}_${r.datastreamId}`;
}

/** Every way `index` splits into a valid device id, a time and a non-empty datastream id. */
export function indexReadings(index: string): BinaryReading[] {
  const out: BinaryReading[] = [];
  for (let i = index.indexOf('_'); i > 0; i = index.indexOf('_', i + 1)) {
    const deviceId = index.slice(0, i);
    if (!NAME_PATTERN.test(deviceId)) break; // a longer prefix only adds characters: still invalid
    const m = /^(\d{1,16})_([\s\S]+)$/.exec(index.slice(i + 1));
    if (m) out.push({ deviceId, atMs: Number(m[1]), datastreamId: m[2]! });
  }
  return out;
}

/** The payload point's JSON text: the description, the size and the bytes in base64. */
export function encodeBinaryPayload(bytes: Uint8Array, desc: string): string {
  return JSON.stringify({ desc, size: bytes.byteLength, base64: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64') });
}

/** The bytes of a payload point, or undefined if the text is not one. */
export function decodeBinaryPayload(text: string): Buffer | undefined {
  try {
    const v = JSON.parse(text) as { base64?: unknown };
    return typeof v.base64 === 'string' ? Buffer.from(v.base64, 'base64') : undefined;
  } catch {
    return undefined;
  }
}
