// The credential log's bytes (docs/decisions/0010-credential-store.md, "File format"): a 16-byte
// file header, then records of one transaction each — a 16-byte header with its own CRC-32C and
// a CRC-32C'd JSON payload. scanLog tells a torn tail (a crash mid-append: cut it) from damage
// (refuse it: a dropped revoke would bring a token back). Pure: no I/O.
import { crc32c as nativeCrc32c } from '@node-rs/crc32';
import {
  CAVE_SCOPES,
  MAX_LABEL_CHARS,
  NAME_PATTERN,
  ONENET_PERMISSIONS,
  type CredentialOp,
  type Transaction,
} from './model.js';
import { SECRET_HASH_BYTES } from './secrets.js';

export const CREDENTIAL_LOG_FILE = 'credentials.log';
/** File header magic, bytes `STCR` ("Strata credentials"). */
export const LOG_MAGIC = 0x52435453;
export const LOG_VERSION = 1;
export const LOG_HEADER_BYTES = 16;
/** Record header magic, bytes `STCT` ("Strata credential transaction"). */
export const RECORD_MAGIC = 0x54435453;
export const RECORD_HEADER_BYTES = 16;
/** A record claiming a longer payload is damage, not a transaction. */
export const MAX_RECORD_PAYLOAD_BYTES = 1 << 20;

function crc32c(bytes: Uint8Array): number {
  return nativeCrc32c(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), 0) >>> 0;
}

/** magic u32 · version u32 · reserved u32 (0) · crc32c of bytes [0, 12) u32 — all little-endian. */
export function encodeLogHeader(): Uint8Array {
  const b = Buffer.alloc(LOG_HEADER_BYTES);
  b.writeUInt32LE(LOG_MAGIC, 0);
  b.writeUInt32LE(LOG_VERSION, 4);
  b.writeUInt32LE(0, 8);
  b.writeUInt32LE(crc32c(b.subarray(0, 12)), 12);
  return b;
}

/** magic u32 · payloadBytes u32 · payload crc32c u32 · crc32c of bytes [0, 12) u32 · payload (UTF-8 JSON). */
export function encodeRecord(txn: Transaction): Uint8Array {
  const payload = Buffer.from(JSON.stringify({ seq: txn.seq, at: txn.atMs, ops: txn.ops }), 'utf8');
  if (payload.length > MAX_RECORD_PAYLOAD_BYTES) throw new RangeError(`credential transaction of ${payload.length} bytes is too large`);
  const b = Buffer.alloc(RECORD_HEADER_BYTES + payload.length);
  b.writeUInt32LE(RECORD_MAGIC, 0);
  b.writeUInt32LE(payload.length, 4);
  b.writeUInt32LE(crc32c(payload), 8);
  b.writeUInt32LE(crc32c(b.subarray(0, 12)), 12);
  payload.copy(b, RECORD_HEADER_BYTES);
  return b;
}

export interface ScannedRecord {
  /** Absolute file offset of the record header. */
  readonly offset: number;
  readonly txn: Transaction;
}

/** What follows the last whole record: nothing, a torn append (safe to cut), or damage (never accepted). */
export type LogTail = { readonly kind: 'clean' } | { readonly kind: 'torn' } | { readonly kind: 'damaged'; readonly offset: number; readonly reason: string };

export interface LogScan {
  readonly records: readonly ScannedRecord[];
  /** Absolute offset just past the file header and the last whole record (0: no valid header yet). */
  readonly validEnd: number;
  readonly tail: LogTail;
}

function allZero(bytes: Uint8Array): boolean {
  for (const b of bytes) if (b !== 0) return false;
  return true;
}

/**
 * Scans `bytes`, which are the file's bytes from absolute offset `baseOffset` (0: the whole file,
 * header included; otherwise a record boundary). A record cut short — a partial header, or a
 * payload shorter than its checksummed header says — or an all-zero remainder is a torn tail.
 * Anything else that fails a check is damage at its offset; the records before it are returned.
 */
export function scanLog(bytes: Uint8Array, baseOffset: number): LogScan {
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const records: ScannedRecord[] = [];
  let at = 0;
  const damaged = (offset: number, reason: string): LogScan => ({
    records,
    validEnd: baseOffset + at,
    tail: { kind: 'damaged', offset: baseOffset + offset, reason },
  });
  const torn = (): LogScan => ({ records, validEnd: baseOffset + at, tail: { kind: 'torn' } });

  if (baseOffset === 0) {
    if (view.length === 0) return { records, validEnd: 0, tail: { kind: 'clean' } };
    if (view.length < LOG_HEADER_BYTES || allZero(view)) return torn();
    if (view.readUInt32LE(0) !== LOG_MAGIC) return damaged(0, 'not a credential log (bad file magic)');
    if (crc32c(view.subarray(0, 12)) !== view.readUInt32LE(12)) return damaged(0, 'file header checksum mismatch');
    const version = view.readUInt32LE(4);
    if (version !== LOG_VERSION) return damaged(4, `format version ${version} is not supported (this strata reads ${LOG_VERSION})`);
    at = LOG_HEADER_BYTES;
  }
  while (at < view.length) {
    const rest = view.subarray(at);
    if (rest.length < RECORD_HEADER_BYTES || allZero(rest)) return torn();
    if (crc32c(rest.subarray(0, 12)) !== rest.readUInt32LE(12)) return damaged(at, 'record header checksum mismatch');
    if (rest.readUInt32LE(0) !== RECORD_MAGIC) return damaged(at, 'bad record magic');
    const payloadBytes = rest.readUInt32LE(4);
    if (payloadBytes > MAX_RECORD_PAYLOAD_BYTES) return damaged(at, `record of ${payloadBytes} bytes is over the limit`);
    if (rest.length < RECORD_HEADER_BYTES + payloadBytes) return torn();
    const payload = rest.subarray(RECORD_HEADER_BYTES, RECORD_HEADER_BYTES + payloadBytes);
    if (crc32c(payload) !== rest.readUInt32LE(8)) return damaged(at, 'record payload checksum mismatch');
    let txn: Transaction;
    try {
      txn = parseTransaction(JSON.parse(payload.toString('utf8')));
    } catch (err) {
      return damaged(at, `record payload is not a transaction: ${(err as Error).message}`);
    }
    records.push({ offset: baseOffset + at, txn });
    at += RECORD_HEADER_BYTES + payloadBytes;
  }
  return { records, validEnd: baseOffset + at, tail: { kind: 'clean' } };
}

type FieldKind = 'name' | 'name?' | 'label' | 'id' | 'hash' | 'boolean' | 'scopes' | 'permissions';

/** Every operation's fields and their kinds; a payload with any other field is refused. */
const OP_FIELDS: { readonly [K in CredentialOp['op']]: Readonly<Record<string, FieldKind>> } = {
  'org.create': { org: 'name' },
  'org.delete': { org: 'name' },
  'team.create': { org: 'name', team: 'name' },
  'team.delete': { org: 'name', team: 'name' },
  'cave.token.create': { id: 'id', org: 'name', team: 'name?', scopes: 'scopes', description: 'label', sha256: 'hash' },
  'cave.token.revoke': { id: 'id' },
  'onenet.product.create': { product: 'name' },
  'onenet.device.create': { product: 'name', device: 'name', title: 'label' },
  'onenet.key.create': { id: 'id', product: 'name', device: 'name?', permissions: 'permissions', master: 'boolean', description: 'label', sha256: 'hash' },
  'onenet.key.revoke': { id: 'id' },
  'admin.token.set': { sha256: 'hash' },
};

function isSetOf(value: unknown, allowed: readonly string[]): boolean {
  return (
    Array.isArray(value) &&
    value.length > 0 &&
    new Set(value).size === value.length &&
    value.every((v) => typeof v === 'string' && allowed.includes(v))
  );
}

function fieldOk(kind: FieldKind, value: unknown): boolean {
  switch (kind) {
    case 'name?':
      return value === undefined || (typeof value === 'string' && NAME_PATTERN.test(value));
    case 'name':
      return typeof value === 'string' && NAME_PATTERN.test(value);
    case 'label':
      return typeof value === 'string' && value.length <= MAX_LABEL_CHARS;
    case 'id':
      return Number.isSafeInteger(value) && (value as number) > 0;
    case 'hash':
      return typeof value === 'string' && value.length === SECRET_HASH_BYTES * 2 && /^[0-9a-f]+$/.test(value);
    case 'boolean':
      return typeof value === 'boolean';
    case 'scopes':
      return isSetOf(value, CAVE_SCOPES);
    case 'permissions':
      return isSetOf(value, ONENET_PERMISSIONS);
  }
}

/** Checks the shape of a decoded payload; throws Error naming the first problem. */
export function parseTransaction(json: unknown): Transaction {
  if (typeof json !== 'object' || json === null) throw new Error('not an object');
  const { seq, at, ops, ...extra } = json as Record<string, unknown>;
  if (Object.keys(extra).length > 0) throw new Error(`unknown field ${Object.keys(extra)[0]}`);
  if (!Number.isSafeInteger(seq) || (seq as number) < 1) throw new Error('bad seq');
  if (!Number.isSafeInteger(at)) throw new Error('bad at');
  if (!Array.isArray(ops) || ops.length === 0) throw new Error('no ops');
  for (const op of ops as unknown[]) {
    if (typeof op !== 'object' || op === null) throw new Error('op is not an object');
    const { op: name, ...fields } = op as Record<string, unknown>;
    const spec = typeof name === 'string' && Object.hasOwn(OP_FIELDS, name) ? OP_FIELDS[name as CredentialOp['op']] : undefined;
    if (!spec) throw new Error(`unknown op ${JSON.stringify(name)}`);
    for (const key of Object.keys(fields)) if (!Object.hasOwn(spec, key)) throw new Error(`${name}: unknown field ${key}`);
    for (const [key, kind] of Object.entries(spec)) if (!fieldOk(kind, fields[key])) throw new Error(`${name}: bad ${key}`);
  }
  return { seq: seq as number, atMs: at as number, ops: ops as CredentialOp[] };
}
