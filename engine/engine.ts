// The engine's read-and-manage side over one data directory: catalog rebuild at open, scans
// across every shard (while their writers append), deletes, retention. Writers are separate
// (`ShardWriter`, one per shard, any thread). Layout: docs/format/README.md.
import * as path from 'node:path';
import { Catalog, type SeriesMatcher } from './catalog/catalog.js';
import { EngineError, EngineErrorCode, fromSystemError } from './errors.js';
import { NodeFileSystem, type FileSystem } from './io/fs.js';
import { ShardReader } from './segment/reader.js';
import { BLOCK_RANK_SHARD_FACTOR, PointAccumulator, type SeriesPoints } from './segment/scan.js';
import {
  TOMBSTONE_LOG_FILE,
  TombstoneLog,
  selectorMatches,
  type SeriesSelector,
  type Tombstone,
} from './segment/tombstones.js';
import { ValueKind, type SeriesId, type SeriesKey } from './types.js';
import type { EngineLog } from './segment/writer.js';

export const SHARDS_DIR = 'shards';

/** `<dataDir>/shards/<shardId>`: the directory one ShardWriter owns. */
export function shardDirectory(dataDir: string, shardId: number): string {
  return path.join(dataDir, SHARDS_DIR, String(shardId));
}

export interface EngineOptions {
  readonly dataDir: string;
  readonly fs?: FileSystem;
  readonly log?: EngineLog;
  readonly nowMs?: () => number;
  /** Points older than now − retentionMs are invisible and dropped by compaction. 0 = forever. */
  readonly retentionMs?: number;
  /** Only the process that owns the data directory repairs the tombstone log. Default true. */
  readonly owner?: boolean;
  /**
   * Runs `fn` while holding a lock shared by every Engine of this data directory that may
   * delete (e.g. one per worker thread), so tombstone appends never interleave. Default: no
   * lock (a single Engine deletes).
   */
  readonly exclusive?: <T>(fn: () => T) => T;
}

/** Scans restarted at most this many times over when a segment vanishes under them (compaction). */
const SCAN_ATTEMPTS = 3;

export class Engine {
  readonly catalog = new Catalog();
  readonly dataDir: string;
  private readonly fs: FileSystem;
  private readonly nowMs: () => number;
  private readonly retentionMs: number;
  private readonly readers = new Map<number, ShardReader>();
  private readonly tombstoneLog: TombstoneLog;
  private readonly exclusive: <T>(fn: () => T) => T;
  private closed = false;

  private constructor(options: EngineOptions) {
    this.dataDir = options.dataDir;
    this.fs = options.fs ?? new NodeFileSystem();
    this.nowMs = options.nowMs ?? Date.now;
    this.retentionMs = options.retentionMs ?? 0;
    this.tombstoneLog = new TombstoneLog(this.fs, path.join(this.dataDir, TOMBSTONE_LOG_FILE));
    this.exclusive = options.exclusive ?? ((fn) => fn());
  }

  /**
   * Opens a data directory (created if missing) and rebuilds the catalog from every shard's
   * segments: sealed segments from their footers, active ones by walking their blocks. Does not
   * repair segments — each shard's writer does that when it opens, so open writers first when
   * recovering after a crash if reads must reflect the repair.
   */
  static open(options: EngineOptions): Engine {
    const engine = new Engine(options);
    engine.fs.mkdirp(path.join(engine.dataDir, SHARDS_DIR));
    engine.tombstoneLog.reload(options.owner ?? true);
    engine.refresh();
    return engine;
  }

  shardDirectory(shardId: number): string {
    return shardDirectory(this.dataDir, shardId);
  }

  /** Shard ids present on disk. */
  shardIds(): number[] {
    const dir = path.join(this.dataDir, SHARDS_DIR);
    return this.fs
      .readdir(dir)
      .filter((name) => /^\d+$/.test(name))
      .map(Number)
      .sort((a, b) => a - b);
  }

  /** Picks up new shards, segments, blocks and tombstones written since the last call. */
  refresh(): void {
    this.assertOpen();
    try {
      for (const shardId of this.shardIds()) {
        let reader = this.readers.get(shardId);
        if (!reader) {
          reader = new ShardReader(this.fs, this.shardDirectory(shardId), shardId, this.catalog);
          this.readers.set(shardId, reader);
        }
        reader.refresh();
      }
      this.tombstoneLog.reload();
    } catch (err) {
      // ENOENT stays raw: scan() restarts on it (a segment retired under it).
      throw (err as NodeJS.ErrnoException).code === 'ENOENT' ? err : readFailure(err);
    }
  }

  /** Registers series a writer reported as new (AppendReceipt.newSeries). */
  noteSeries(keys: readonly SeriesKey[]): void {
    for (const key of keys) this.catalog.resolve(key);
  }

  /**
   * Series ids matching `matcher` (see Catalog.select), sorted, as of now: refreshes first so
   * series that writers created since the last call are included.
   */
  select(matcher: SeriesMatcher): Uint32Array {
    this.refresh();
    return this.catalog.select(matcher);
  }

  /**
   * Points of the given series with startMs ≤ t ≤ endMs, each series in time order with
   * duplicates resolved (last write wins), from every shard and segment, as of now: refreshes
   * first, then reads only whole, committed blocks. Hidden: expired TTL, retention, tombstones.
   * Series with no visible points are omitted. Throws CorruptionError if a needed block is damaged.
   */
  scan(ids: readonly SeriesId[] | Uint32Array, startMs: number, endMs: number): SeriesPoints[] {
    // A compaction in another thread may retire a segment between the refresh and the read of
    // one of its blocks (its outputs are already in place by then: compaction.md). The scan
    // then starts over from a fresh refresh; a file that keeps vanishing is an error.
    for (let attempt = 1; ; attempt++) {
      try {
        return this.scanOnce(ids, startMs, endMs);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || attempt >= SCAN_ATTEMPTS) throw readFailure(err);
      }
    }
  }

  private scanOnce(ids: readonly SeriesId[] | Uint32Array, startMs: number, endMs: number): SeriesPoints[] {
    this.refresh();
    const wanted = Uint32Array.from(new Set<number>(ids)).sort();
    if (wanted.length === 0 || endMs < startMs) return [];
    const now = this.nowMs();
    const retentionFloorMs = this.retentionMs > 0 ? now - this.retentionMs : -Infinity;
    const from = Math.max(startMs, retentionFloorMs);
    const tombstonesById = this.tombstonesFor(wanted);
    const acc = new Map<number, PointAccumulator>();

    for (const reader of this.readers.values()) {
      for (const view of reader.segments()) {
        const idx = view.index;
        if (idx.pointCount === 0 || idx.maxTimestampMs < from || idx.minTimestampMs > endMs) continue;
        const flags = reader.wantedRefs(view, wanted);
        if (!flags) continue;
        for (const entry of idx.blocks) {
          if (entry.maxTimestampMs < from || entry.minTimestampMs > endMs) continue;
          let any = false;
          for (const ref of entry.refs) {
            if (flags[ref]) {
              any = true;
              break;
            }
          }
          if (!any) continue;
          const block = reader.readBlock(view, entry);
          const rank = reader.shardId * BLOCK_RANK_SHARD_FACTOR + entry.sequence;
          const writtenAt = entry.writtenAtMs;
          let p = 0;
          for (let r = 0; r < block.runCount; r++) {
            const ref = block.runRefs[r]!;
            const count = block.runPointCounts[r]!;
            const runStart = p;
            p += count;
            if (!flags[ref]) continue;
            const ttlSeconds = block.runTtlSeconds[r]!;
            if (ttlSeconds > 0 && writtenAt + ttlSeconds * 1000 <= now) continue;
            const id = view.refToId[ref]!;
            const tombs = tombstonesById.get(id);
            let a = acc.get(id);
            for (let i = runStart; i < p; i++) {
              const t = block.timestampsMs[i]!;
              if (t < from || t > endMs) continue;
              if (tombs && hiddenByTombstone(tombs, t, writtenAt)) continue;
              if (!a) {
                a = new PointAccumulator();
                acc.set(id, a);
              }
              const kind = block.kinds[i]!;
              a.push(
                t,
                writtenAt,
                rank,
                kind,
                block.floats[i]!,
                kind === ValueKind.Int64 ? block.ints[i]! : undefined,
                kind === ValueKind.String || kind === ValueKind.Json ? block.texts[i] : undefined,
              );
            }
          }
        }
      }
    }
    const out: SeriesPoints[] = [];
    for (const id of wanted) {
      const a = acc.get(id);
      if (!a) continue;
      const points = a.finish(id as SeriesId, this.catalog.key(id as SeriesId));
      if (points.length > 0) out.push(points);
    }
    return out;
  }

  private tombstonesFor(wanted: Uint32Array): Map<number, Tombstone[]> {
    const out = new Map<number, Tombstone[]>();
    const all = this.tombstoneLog.tombstones;
    if (all.length === 0) return out;
    for (const id of wanted) {
      const key = this.catalog.key(id as SeriesId);
      const hits = all.filter((t) => selectorMatches(t.selector, key));
      if (hits.length > 0) out.set(id, hits);
    }
    return out;
  }

  /**
   * Deletes the points of matching series in [startMs, endMs] written up to now (KairosDB
   * delete, metric delete). Durable (fsynced) when it returns; later writes into the range stay.
   */
  delete(selector: SeriesSelector, startMs: number, endMs: number): void {
    this.assertOpen();
    this.exclusive(() => {
      // Another Engine may have appended since our last reload: append after its records.
      this.tombstoneLog.reload();
      this.tombstoneLog.append({ selector, startMs, endMs, createdAtMs: this.nowMs() });
    });
  }

  get tombstones(): readonly Tombstone[] {
    return this.tombstoneLog.tombstones;
  }

  close(): void {
    this.closed = true;
  }

  private assertOpen(): void {
    if (this.closed) throw new EngineError(EngineErrorCode.Closed, 'engine is closed', false);
  }
}

/**
 * A failed read (EIO and the like: a system error, from the fs facade) as a typed STRATA_IO
 * EngineError, as docs/errors.md promises; anything else (engine errors, bugs) passes unchanged.
 */
function readFailure(err: unknown): unknown {
  if (err instanceof EngineError || typeof (err as NodeJS.ErrnoException | undefined)?.syscall !== 'string') return err;
  return fromSystemError(err, 'reading segments');
}

function hiddenByTombstone(tombs: readonly Tombstone[], t: number, writtenAtMs: number): boolean {
  for (const tomb of tombs) {
    if (t >= tomb.startMs && t <= tomb.endMs && writtenAtMs <= tomb.createdAtMs) return true;
  }
  return false;
}
