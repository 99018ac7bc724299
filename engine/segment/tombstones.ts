// Deletes: an append-only, checksummed log of tombstones (docs/format/tombstones.md). A
// tombstone hides the points of matching series in [startMs, endMs] that were written at or
// before it; compaction drops them for good. Recovery keeps every whole record and cuts a torn
// tail. Appends are fsynced before they return, so an acknowledged delete survives power loss.
import { ByteReader, ByteWriter } from '../codec/bytes.js';
import { crc32c } from '../codec/crc32c.js';
import { fromSystemError } from '../errors.js';
import { readWholeFile, type FileSystem } from '../io/fs.js';
import type { SeriesKey } from '../types.js';

export const TOMBSTONE_LOG_FILE = 'tombstones.log';
export const TOMBSTONE_MAGIC = 0x42545453; // "STTB"
const RECORD_HEADER_BYTES = 12;

/** Which series a delete applies to: a metric and, per tag key, the allowed values (OR). */
export interface SeriesSelector {
  readonly metric: string;
  readonly tags?: Readonly<Record<string, readonly string[]>>;
}

export interface Tombstone {
  readonly selector: SeriesSelector;
  readonly startMs: number;
  readonly endMs: number;
  /** Points in blocks written at or before this wall-clock time are hidden. */
  readonly createdAtMs: number;
}

export function selectorMatches(selector: SeriesSelector, key: SeriesKey): boolean {
  if (selector.metric !== key.metric) return false;
  const tags = selector.tags;
  if (!tags) return true;
  for (const k of Object.keys(tags)) {
    const v = key.tags[k];
    if (v === undefined || !tags[k]!.includes(v)) return false;
  }
  return true;
}

export function encodeTombstone(t: Tombstone): Uint8Array {
  const body = new ByteWriter(256);
  body.i64n(t.createdAtMs);
  body.i64n(t.startMs);
  body.i64n(t.endMs);
  body.string(t.selector.metric);
  const tags = t.selector.tags ?? {};
  const keys = Object.keys(tags).sort();
  body.varuint(keys.length);
  for (const k of keys) {
    body.string(k);
    const values = tags[k]!;
    body.varuint(values.length);
    for (const v of values) body.string(v);
  }
  const payload = body.bytes();
  const out = new ByteWriter(RECORD_HEADER_BYTES + payload.length);
  out.u32(TOMBSTONE_MAGIC);
  out.u32(payload.length);
  out.u32(crc32c(payload));
  out.raw(payload);
  return out.bytes().slice();
}

/** Decodes whole records; returns them and the byte length of the valid prefix. */
export function decodeTombstones(bytes: Uint8Array): { tombstones: Tombstone[]; validBytes: number } {
  const tombstones: Tombstone[] = [];
  let at = 0;
  while (at + RECORD_HEADER_BYTES <= bytes.length) {
    const r = new ByteReader(bytes, at);
    if (r.u32() !== TOMBSTONE_MAGIC) break;
    const len = r.u32();
    const crc = r.u32();
    if (at + RECORD_HEADER_BYTES + len > bytes.length) break;
    const payload = bytes.subarray(at + RECORD_HEADER_BYTES, at + RECORD_HEADER_BYTES + len);
    if (crc32c(payload) !== crc) break;
    try {
      const p = new ByteReader(payload);
      const createdAtMs = p.i64n();
      const startMs = p.i64n();
      const endMs = p.i64n();
      const metric = p.string();
      const nKeys = p.varuint();
      const tags: Record<string, string[]> = {};
      for (let i = 0; i < nKeys; i++) {
        const k = p.string();
        const n = p.varuint();
        const values: string[] = [];
        for (let j = 0; j < n; j++) values.push(p.string());
        tags[k] = values;
      }
      tombstones.push({ selector: nKeys > 0 ? { metric, tags } : { metric }, startMs, endMs, createdAtMs });
    } catch {
      break;
    }
    at += RECORD_HEADER_BYTES + len;
  }
  return { tombstones, validBytes: at };
}

/**
 * The tombstone log of one data directory. Only one instance per directory may append (the
 * engine's owner); any number may `reload()` to pick up new records.
 */
export class TombstoneLog {
  private records: Tombstone[] = [];
  /** Length of the whole-record prefix of the file; appends go exactly here. */
  private validBytes = 0;
  private seenFileBytes = -1;

  constructor(
    private readonly fsys: FileSystem,
    readonly filePath: string,
  ) {}

  get tombstones(): readonly Tombstone[] {
    return this.records;
  }

  /** Re-reads the file if its size changed; with `repair`, cuts a torn tail from the file. */
  reload(repair = false): void {
    const fsys = this.fsys;
    if (!fsys.exists(this.filePath)) {
      this.records = [];
      this.validBytes = 0;
      this.seenFileBytes = 0;
      return;
    }
    const bytes = readWholeFile(fsys, this.filePath);
    if (bytes.length === this.seenFileBytes && !repair) return;
    const decoded = decodeTombstones(bytes);
    this.records = decoded.tombstones;
    this.validBytes = decoded.validBytes;
    this.seenFileBytes = bytes.length;
    if (repair && decoded.validBytes < bytes.length) {
      const fd = fsys.open(this.filePath, 'r+');
      try {
        fsys.ftruncate(fd, decoded.validBytes);
        fsys.fsync(fd);
      } finally {
        fsys.close(fd);
      }
      this.seenFileBytes = decoded.validBytes;
    }
  }

  /**
   * Appends one tombstone at the end of the valid prefix and fsyncs it before returning.
   * Throws EngineError (NoSpace/Io) on failure; the log then still ends at its last whole record.
   */
  append(t: Tombstone): void {
    const fsys = this.fsys;
    const record = encodeTombstone(t);
    let fd = -1;
    try {
      fd = fsys.open(this.filePath, fsys.exists(this.filePath) ? 'r+' : 'w+');
      fsys.pwrite(fd, record, this.validBytes);
      fsys.fsync(fd);
    } catch (err) {
      if (fd >= 0) {
        try {
          fsys.ftruncate(fd, this.validBytes);
        } catch {
          // The torn record fails its CRC and is cut at the next open.
        }
      }
      throw fromSystemError(err, `appending to ${this.filePath}`);
    } finally {
      if (fd >= 0) fsys.close(fd);
    }
    this.validBytes += record.length;
    this.seenFileBytes = this.validBytes;
    this.records = [...this.records, t];
  }
}
