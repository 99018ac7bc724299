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
export { processIsAlive } from './io/process.js';
export { ValueKind, type SeriesKey, type SeriesId, type Tags, type WriteBatch } from './types.js';
// Read-only access to segment structure for offline tools (`strata inspect`): these open, walk and
// decode segment files and never write or repair (docs/format/segment.md).
export { openSegment, fileSource } from './segment/segment-file.js';
export { decodeBlock } from './segment/block.js';
export { SegmentKind, FOOTER_MAGIC, SEGMENT_HEADER_BYTES, TRAILER_BYTES, decodeBlockHeader, decodeFooterHeader, decodeSegmentHeader, decodeTrailer, parseSegmentFileName, verifyBlock } from './segment/format.js';
