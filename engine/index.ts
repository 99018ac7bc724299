// The engine's only import path: everything outside engine/ imports from here.
export { Engine, shardDirectory, SHARDS_DIR, type EngineOptions } from './engine.js';
export {
  ShardWriter,
  DEFAULT_SEGMENT_BYTES,
  DEFAULT_SYNC_INTERVAL_MS,
  type AppendReceipt,
  type EngineEvent,
  type EngineLog,
  type ShardWriterOptions,
  type SyncPolicy,
} from './segment/writer.js';
export type { SeriesPoints } from './segment/scan.js';
export type { SeriesSelector, Tombstone } from './segment/tombstones.js';
export { Catalog, type SeriesMatcher } from './catalog/catalog.js';
export { canonicalSeriesKey } from './catalog/series-key.js';
export { LATEST_CODECS_VERSION, codecsWriteVersion, setCodecsWriteVersion, type CodecsVersion } from './codec/codecs-version.js';
export { EngineError, EngineErrorCode, CorruptionError } from './errors.js';
export { NodeFileSystem, FaultyFileSystem, type FileSystem, type FaultRule } from './io/fs.js';
export { ValueKind, type SeriesKey, type SeriesId, type Tags, type WriteBatch } from './types.js';
