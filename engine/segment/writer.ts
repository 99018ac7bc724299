// The shard writer: the only writer of one shard directory. Recovers the shard on open, appends
// columnar batches as blocks into a preallocated MAP_SHARED segment, rolls and seals segments,
// and makes appends durable by the configured sync policy (docs/format/segment.md, §Recovery).
// Never called from two threads; never reads points back (readers do that).
import * as path from 'node:path';
import { threadId } from 'node:worker_threads';
import { Catalog } from '../catalog/catalog.js';
import { compactShard, finishInterruptedCompactions, type CompactionResult } from '../compact/compaction.js';
import { EngineError, EngineErrorCode, fromSystemError } from '../errors.js';
import { NodeFileSystem, readWholeFile, writeFileAtomic, type FileSystem } from '../io/fs.js';
import { processIsAlive } from '../io/process.js';
import { ValueKind, type SeriesKey, type WriteBatch } from '../types.js';
import type { Tombstone } from './tombstones.js';
import { BlockEncoder, type BlockColumns } from './block.js';
import {
  MAX_ABS_TIMESTAMP_MS,
  SEGMENT_HEADER_BYTES,
  SegmentKind,
  encodeSegmentHeader,
  parseSegmentFileName,
  segmentFileName,
} from './format.js';
import { SegmentIndex, bufferSource, encodeFooterAndTrailer, walkBlocks, type BlockEntry } from './segment-index.js';
import { fileSource, openSegment } from './segment-file.js';

export type SyncPolicy = 'interval' | 'always' | 'never';

/** A structured engine event for the host's logger (the engine never prints). */
export interface EngineEvent {
  readonly level: 'info' | 'warn' | 'error';
  readonly event: string;
  readonly [field: string]: unknown;
}
export type EngineLog = (event: EngineEvent) => void;

export interface ShardWriterOptions {
  /** The shard directory, e.g. `<data>/shards/3`; created if missing. */
  readonly dir: string;
  readonly shardId: number;
  readonly fs?: FileSystem;
  /** Preallocated size of each new ingest segment. Default 64 MiB. */
  readonly segmentBytes?: number;
  /** Default 'interval'. */
  readonly syncPolicy?: SyncPolicy;
  /** For 'interval': msync period. Default 1000 ms. */
  readonly syncIntervalMs?: number;
  readonly log?: EngineLog;
  /** Called after every msync of appended bytes, with its duration (for the server's metrics). */
  readonly onSync?: (durationSeconds: number, bytes: number) => void;
  /** Wall clock in ms; injectable for tests. */
  readonly nowMs?: () => number;
}

export interface AppendReceipt {
  readonly points: number;
  readonly blocks: number;
  /** Series this shard had never written before (the catalog must learn them). */
  readonly newSeries: readonly SeriesKey[];
  /**
   * Present when the append must also be durable (policy 'always' or `sync: true`): resolves
   * after an msync that covers this append (shared with concurrent appends: group commit), or
   * rejects with an EngineError if the sync fails. Absent: the points are in the mapping, which
   * survives a killed process; power loss is covered by the periodic sync.
   */
  readonly durable?: Promise<void>;
}

export const DEFAULT_SEGMENT_BYTES = 64 * 1024 * 1024;
export const DEFAULT_SYNC_INTERVAL_MS = 1000;
/** Points per block before a batch is split into several blocks of one append. */
export const MAX_BLOCK_POINTS = 65_536;
/** Zero-fill chunk used to preallocate segment files with real disk blocks. */
const PREALLOCATE_CHUNK_BYTES = 1 << 20;
export const QUARANTINE_DIR = 'quarantine';
/** `<shard>/LOCK` holds "<pid> <threadId>" of the writer that owns the shard. */
export const LOCK_FILE = 'LOCK';
/** A LOCK marked free in place (pid 0 is never alive): claimed without allocating a block. */
const FREE_LOCK = '0 0\n';

interface ActiveSegment {
  readonly index: SegmentIndex;
  readonly fd: number;
  readonly mapping: Buffer;
  readonly capacityBytes: number;
  /**
   * refOf[shard-local series id] = that series' segment-local ref, −1 if this segment has not
   * defined it; mirrors index.seriesKeys. Grown on demand (ids past the end read as −1).
   */
  refOf: Int32Array;
  /** Bytes [syncedUpTo, index.endOffset) are written but not yet msynced. */
  syncedUpTo: number;
}

interface PendingCommit {
  readonly promise: Promise<void>;
  resolve(): void;
  reject(err: unknown): void;
}

/**
 * Appends to one shard. Open with `ShardWriter.open` (runs recovery), append, close.
 * Invariant: everything before `active.index.endOffset` is whole, checksummed blocks; the rest of
 * the preallocated file is zero.
 */
export class ShardWriter {
  private readonly fs: FileSystem;
  private readonly segmentBytes: number;
  private readonly syncPolicy: SyncPolicy;
  private readonly log: EngineLog;
  private readonly onSync: ((durationSeconds: number, bytes: number) => void) | undefined;
  private readonly nowMs: () => number;
  private readonly encoder = new BlockEncoder('fast');
  /** Sealed segments of this shard in sequence order (readers list the directory themselves). */
  private readonly sealedSequences: number[] = [];
  /** Sealed segments that are compaction outputs (kind Compacted); a subset of sealedSequences. */
  private readonly compactedSequences = new Set<number>();
  /**
   * Series identity on the append path: every series this writer has met, as a dense shard-local
   * id. A symbol-table lookup instead of building and hashing a canonical string per series per
   * append (~0.4 µs instead of ~3 µs for an 8-tag key, most of an append's time when each point
   * is its own series). Bench: bench/append.bench.ts "append: 5,000 series × 1 point". Holds ids of
   * series whose append failed too; `written` says which ones reached a segment.
   */
  private readonly series = new Catalog({ indexed: false });
  /**
   * Per producer numbering (WriteBatch.seriesNumbering): number → shard-local id, -1 = not yet
   * met. Decoders number their series densely and keep the numbers across batches
   * (src/protocols/batch-builder.ts SeriesCache), so an append of known series costs one array
   * read per series instead of a symbol-table walk over every tag (~0.45 µs for an 8-tag key).
   * Weak, so a numbering the producer drops is freed. Bench: bench/append.bench.ts "append:
   * 5,000 series × 1 point" (numbered) vs "… keys fresh from JSON.parse" (not numbered).
   */
  private readonly idsByNumbering = new WeakMap<object, Int32Array>();
  /** written[id] = WRITTEN once a block holding series `id` is in a segment of this shard; grows only. */
  private written = new Uint8Array(1024);
  private writtenCount = 0;
  private active: ActiveSegment | undefined;
  private nextSegmentSequence = 1;
  private nextBlockSequence = 1;
  private lastWrittenAtMs = -Infinity;
  private syncTimer: NodeJS.Timeout | undefined;
  private pendingCommit: PendingCommit | undefined;
  /** Segments whose fsync failed at recovery (see durable()). */
  private readonly unsyncedAtRecovery = new Set<string>();
  private closed = false;

  private constructor(
    readonly dir: string,
    readonly shardId: number,
    options: ShardWriterOptions,
  ) {
    this.fs = options.fs ?? new NodeFileSystem();
    this.segmentBytes = options.segmentBytes ?? DEFAULT_SEGMENT_BYTES;
    this.syncPolicy = options.syncPolicy ?? 'interval';
    this.log = options.log ?? (() => {});
    this.onSync = options.onSync;
    this.nowMs = options.nowMs ?? Date.now;
  }

  /** Opens the shard, recovering every segment in it (see docs/format/segment.md §Recovery). */
  /**
   * Removes `<shard>/LOCK` if it names this process. Call only while no writer of this process
   * holds any shard (at start-up, before opening writers): a LOCK naming our own pid can then only
   * be left by an earlier process that had the same pid (pid reuse, e.g. pid 1 in a container),
   * which the liveness check cannot tell from a live writer in this process. Returns whether a
   * lock was removed.
   */
  static clearStaleLockOfThisProcess(dir: string, fsys: FileSystem = new NodeFileSystem()): boolean {
    const lockPath = path.join(dir, LOCK_FILE);
    if (!fsys.exists(lockPath)) return false;
    const [pidText] = new TextDecoder().decode(readWholeFile(fsys, lockPath)).split(' ');
    if (Number(pidText) !== process.pid) return false;
    // Marked free in place rather than unlinked, so that re-claiming it needs no new disk block
    // (a server restarted on a full disk must still start and serve reads).
    overwriteInPlace(fsys, lockPath, new TextEncoder().encode(FREE_LOCK));
    return true;
  }

  static open(options: ShardWriterOptions): ShardWriter {
    const writer = new ShardWriter(options.dir, options.shardId, options);
    writer.claim();
    try {
      writer.recover();
    } catch (err) {
      writer.release();
      throw err;
    }
    if (writer.syncPolicy === 'interval') {
      const ms = options.syncIntervalMs ?? DEFAULT_SYNC_INTERVAL_MS;
      writer.syncTimer = setInterval(() => writer.syncNowQuietly(), ms);
      writer.syncTimer.unref();
    }
    return writer;
  }

  /** Number of distinct series this shard has written. */
  get seriesCount(): number {
    return this.writtenCount;
  }

  private markWritten(id: number): void {
    if (id >= this.written.length) this.written = grownFlags(this.written, id + 1);
    if (this.written[id] !== WRITTEN) {
      this.written[id] = WRITTEN;
      this.writtenCount++;
    }
  }

  // ---------------------------------------------------------------- ownership

  /**
   * Takes `<shard>/LOCK`. Refused (ShardBusy) while another live process, or another writer in
   * this process, holds it; a lock left by a dead process (crash, SIGKILL) is taken over.
   */
  private claim(): void {
    const fsys = this.fs;
    fsys.mkdirp(this.dir);
    const lockPath = path.join(this.dir, LOCK_FILE);
    const mine = new TextEncoder().encode(`${process.pid} ${threadId}\n`);
    try {
      if (fsys.exists(lockPath)) {
        const [pidText] = new TextDecoder().decode(readWholeFile(fsys, lockPath)).split(' ');
        const pid = Number(pidText);
        if (Number.isInteger(pid) && pid > 0 && isAlive(pid)) {
          throw new EngineError(EngineErrorCode.ShardBusy, `shard ${this.dir} is owned by process ${pid}`, true);
        }
        // Taken over in place: a stale lock (a killed process) already holds a disk block, so a
        // restart on a full disk can claim the shard and serve reads; writeFileAtomic would need a
        // new one for its temporary file. A torn overwrite reads as a dead pid and is taken over.
        overwriteInPlace(fsys, lockPath, mine);
      } else {
        writeFileAtomic(fsys, lockPath, mine);
      }
    } catch (err) {
      throw err instanceof EngineError ? err : fromSystemError(err, `claiming shard ${this.dir}`);
    }
  }

  private release(): void {
    try {
      this.fs.unlink(path.join(this.dir, LOCK_FILE));
    } catch {
      // Already gone; a stale lock is taken over at the next open anyway.
    }
  }

  // ---------------------------------------------------------------- recovery

  private recover(): void {
    const fsys = this.fs;
    fsys.mkdirp(this.dir);
    const names = fsys.readdir(this.dir);
    for (const name of names) {
      // Unfinished creations or compaction outputs: never acknowledged, safe to drop.
      if (name.endsWith('.tmp')) fsys.unlink(path.join(this.dir, name));
    }
    // Before anything is read: commit or roll back a compaction a crash interrupted.
    finishInterruptedCompactions(fsys, this.dir, this.log);
    const sequences = fsys
      .readdir(this.dir)
      .map(parseSegmentFileName)
      .filter((s): s is number => s !== undefined)
      .sort((a, b) => a - b);
    const ingestUnsealed: SegmentIndex[] = [];
    for (const seq of sequences) {
      this.nextSegmentSequence = Math.max(this.nextSegmentSequence, seq + 1);
      const filePath = path.join(this.dir, segmentFileName(seq));
      const index = this.recoverSegment(filePath);
      if (!index) continue;
      for (const key of index.seriesKeys) this.markWritten(this.series.resolve(key));
      if (index.maxSequence >= this.nextBlockSequence) this.nextBlockSequence = index.maxSequence + 1;
      if (index.maxWrittenAtMs > this.lastWrittenAtMs) this.lastWrittenAtMs = index.maxWrittenAtMs;
      if (index.sealed) {
        this.sealedSequences.push(seq);
        if (index.header.kind === SegmentKind.Compacted) this.compactedSequences.add(seq);
      } else ingestUnsealed.push(index);
    }
    // Only the newest unsealed ingest segment stays active; older ones (a crash between rolling
    // and sealing) are sealed now so every segment but one is immutable.
    const last = ingestUnsealed.pop();
    for (const index of ingestUnsealed) this.sealFile(index);
    if (last) this.active = this.mapExisting(last);
  }

  /**
   * Opens one segment, repairing what can be repaired. Returns undefined if the file was
   * quarantined whole (its header cannot be trusted).
   */
  private recoverSegment(filePath: string): SegmentIndex | undefined {
    const fsys = this.fs;
    const fd = fsys.open(filePath, 'r+');
    let opened;
    let size;
    try {
      size = fsys.sizeOf(fd);
      opened = openSegment(filePath, fileSource(fsys, fd, size));
    } finally {
      fsys.close(fd);
    }
    if (!opened.ok) {
      this.quarantine(filePath, 0, opened.reason, 'move');
      return undefined;
    }
    const { index, stop } = opened;
    if (!stop) return this.durable(index);
    if (index.header.kind === SegmentKind.Compacted) {
      // Compacted segments are written whole and sealed before they are renamed into place;
      // one without a valid footer was damaged after the fact.
      this.quarantine(filePath, stop.offset, `compacted segment unreadable: ${stop.reason}`, 'move');
      return undefined;
    }
    if (stop.reason === 'end of blocks' && stop.droppedIncompleteBlocks === 0) {
      if (!this.isZeroFrom(filePath, stop.offset)) {
        this.quarantine(filePath, stop.offset, 'non-zero bytes after the last block', 'copy');
        this.zeroTail(filePath, stop.offset);
      }
      return this.durable(index);
    }
    // Damage. If nothing valid follows, it is a torn tail from an interrupted append: cut it.
    // If whole blocks follow, the segment was corrupted in place: keep a copy for inspection,
    // then keep every block before the damage.
    const tornTail = !this.hasBlockAfter(filePath, stop.offset);
    if (!tornTail) {
      this.quarantine(filePath, stop.offset, `corrupt block: ${stop.reason}`, 'copy');
    } else {
      this.log({
        level: 'warn',
        event: 'segment.torn_tail_truncated',
        file: filePath,
        offset: stop.offset,
        reason: stop.reason,
        droppedIncompleteBlocks: stop.droppedIncompleteBlocks,
      });
    }
    this.zeroTail(filePath, stop.offset);
    return this.durable(index);
  }

  /**
   * fsyncs a kept ingest segment before anything new is appended after it. A killed process
   * leaves blocks in the page cache that were never synced (appends whose msync had not run, a
   * seal whose fsync had not); recovery shows them, and the next msync covers only what is
   * appended after them (it starts at the recovered end). Without this, a power loss could lose
   * those pages and so stop every later walk there, taking acknowledged blocks after them along
   * (test/reliability/power-loss.test.ts). Compacted segments were fsynced before being renamed.
   */
  private durable(index: SegmentIndex): SegmentIndex {
    if (index.header.kind !== SegmentKind.Ingest) return index;
    try {
      const fd = this.fs.open(index.path, 'r+');
      try {
        this.fs.fsync(fd);
      } finally {
        this.fs.close(fd);
      }
    } catch (err) {
      // Not fatal (reads must still be served); if it is the active segment, its first msync
      // covers it from the header instead (mapExisting).
      this.unsyncedAtRecovery.add(index.path);
      this.log({ level: 'warn', event: 'segment.recovery_sync_failed', file: index.path, error: String(err) });
    }
    return index;
  }

  private isZeroFrom(filePath: string, offset: number): boolean {
    return this.lastNonZero(filePath, offset) < offset;
  }

  /** Offset of the last non-zero byte at or after `from`, or from-1 if all zero. */
  private lastNonZero(filePath: string, from: number): number {
    const fsys = this.fs;
    const fd = fsys.open(filePath, 'r');
    try {
      const size = fsys.sizeOf(fd);
      const chunk = new Uint8Array(PREALLOCATE_CHUNK_BYTES);
      let end = size;
      while (end > from) {
        const start = Math.max(from, end - chunk.length);
        const view = chunk.subarray(0, end - start);
        fsys.pread(fd, view, start);
        for (let i = view.length - 1; i >= 0; i--) if (view[i] !== 0) return start + i;
        end = start;
      }
      return from - 1;
    } finally {
      fsys.close(fd);
    }
  }

  /** True if a whole checksummed block starts at some 8-aligned offset after `offset`. */
  private hasBlockAfter(filePath: string, offset: number): boolean {
    const fsys = this.fs;
    const fd = fsys.open(filePath, 'r');
    try {
      const size = fsys.sizeOf(fd);
      const bytes = new Uint8Array(size);
      fsys.pread(fd, bytes, 0);
      const probe = new SegmentIndex(filePath, { kind: 0, shardId: 0, sequence: 0, createdAtMs: 0, capacityBytes: 0 });
      for (let at = offset + 8; at + 8 <= size; at += 8) {
        // Cheap pre-check on the magic before a full decode.
        if (bytes[at] !== 0x53 || bytes[at + 1] !== 0x54 || bytes[at + 2] !== 0x42 || bytes[at + 3] !== 0x4b) continue;
        probe.endOffset = at;
        probe.blocks.length = 0;
        walkBlocks(bufferSource(bytes), probe);
        if (probe.blocks.length > 0) return true;
      }
      return false;
    } finally {
      fsys.close(fd);
    }
  }

  /** Zeroes [offset, last non-zero byte] so the tail reads as "end of blocks" again. */
  private zeroTail(filePath: string, offset: number): void {
    const last = this.lastNonZero(filePath, offset);
    if (last < offset) return;
    const fsys = this.fs;
    const fd = fsys.open(filePath, 'r+');
    try {
      const zeros = new Uint8Array(Math.min(PREALLOCATE_CHUNK_BYTES, last + 1 - offset));
      for (let at = offset; at <= last; at += zeros.length) {
        fsys.pwrite(fd, zeros.subarray(0, Math.min(zeros.length, last + 1 - at)), at);
      }
      fsys.fsync(fd);
    } finally {
      fsys.close(fd);
    }
  }

  /**
   * Moves (whole-file distrust) or copies (evidence of in-place damage, the live file is then
   * repaired) a segment into `<shard>/quarantine/`. Never deletes anything.
   */
  private quarantine(filePath: string, offset: number, reason: string, how: 'move' | 'copy'): void {
    const fsys = this.fs;
    const qdir = path.join(this.dir, QUARANTINE_DIR);
    fsys.mkdirp(qdir);
    const target = path.join(qdir, `${path.basename(filePath)}.${this.nowMs()}`);
    if (how === 'move') {
      fsys.rename(filePath, target);
    } else {
      const fd = fsys.open(filePath, 'r');
      let bytes: Uint8Array;
      try {
        bytes = new Uint8Array(fsys.sizeOf(fd));
        fsys.pread(fd, bytes, 0);
      } finally {
        fsys.close(fd);
      }
      const out = fsys.open(target, 'wx');
      try {
        fsys.pwrite(out, bytes, 0);
        fsys.fsync(out);
      } finally {
        fsys.close(out);
      }
    }
    fsys.fsyncDir(qdir);
    fsys.fsyncDir(this.dir);
    this.log({ level: 'error', event: 'segment.quarantined', file: filePath, offset, reason, quarantinedAs: target, how });
  }

  private mapExisting(index: SegmentIndex): ActiveSegment {
    const fsys = this.fs;
    const fd = fsys.open(index.path, 'r+');
    const capacityBytes = fsys.sizeOf(fd);
    const mapping = fsys.map(fd, capacityBytes);
    let refOf = new Int32Array(Math.max(1024, this.series.size)).fill(-1);
    index.seriesKeys.forEach((key, ref) => {
      const id = this.series.resolve(key);
      if (id >= refOf.length) refOf = grownRefs(refOf, id + 1);
      refOf[id] = ref;
    });
    const syncedUpTo = this.unsyncedAtRecovery.has(index.path) ? SEGMENT_HEADER_BYTES : index.endOffset;
    return { index, fd, mapping, capacityBytes, refOf, syncedUpTo };
  }

  // ---------------------------------------------------------------- segments

  /**
   * Creates the active segment now if there is none, so that the first append does not pay for
   * its preallocation (a 64 MiB zero write and fsync: ~0.2 s on the first request otherwise). The
   * empty segment is reused by the next open. Throws like append would (e.g. NoSpace); nothing
   * changes then and the next append tries again.
   */
  prepareActiveSegment(): void {
    if (this.closed) throw new EngineError(EngineErrorCode.Closed, `shard ${this.shardId} is closed`, false);
    this.active ??= this.createSegment(0);
  }

  /** Creates, preallocates (real blocks, so ENOSPC shows here), syncs and maps a new segment. */
  private createSegment(minBytes: number): ActiveSegment {
    const fsys = this.fs;
    const sequence = this.nextSegmentSequence;
    const capacityBytes = Math.max(this.segmentBytes, minBytes + SEGMENT_HEADER_BYTES);
    const finalPath = path.join(this.dir, segmentFileName(sequence));
    const tmpPath = `${finalPath}.tmp`;
    const header = { kind: SegmentKind.Ingest, shardId: this.shardId, sequence, createdAtMs: this.nowMs(), capacityBytes };
    let fd = -1;
    try {
      fd = fsys.open(tmpPath, 'w+');
      const zeros = new Uint8Array(Math.min(PREALLOCATE_CHUNK_BYTES, capacityBytes));
      encodeSegmentHeader(zeros, header);
      for (let at = 0; at < capacityBytes; at += zeros.length) {
        fsys.pwrite(fd, zeros.subarray(0, Math.min(zeros.length, capacityBytes - at)), at);
        if (at === 0) zeros.fill(0, 0, SEGMENT_HEADER_BYTES);
      }
      fsys.fsync(fd);
      fsys.rename(tmpPath, finalPath);
      fsys.fsyncDir(this.dir);
    } catch (err) {
      if (fd >= 0) fsys.close(fd);
      try {
        if (fsys.exists(tmpPath)) fsys.unlink(tmpPath);
      } catch {
        // Leave it; the next open removes *.tmp files.
      }
      throw fromSystemError(err, `creating segment ${finalPath}`);
    }
    this.nextSegmentSequence++;
    const mapping = fsys.map(fd, capacityBytes);
    const index = new SegmentIndex(finalPath, header);
    this.log({ level: 'info', event: 'segment.created', file: finalPath, capacityBytes });
    const refOf = new Int32Array(Math.max(1024, this.series.size)).fill(-1);
    return { index, fd, mapping, capacityBytes, refOf, syncedUpTo: SEGMENT_HEADER_BYTES };
  }

  /**
   * Seals the active segment: footer + trailer after the last block, file cut to that length,
   * fsync. A failure leaves it unsealed but whole; recovery seals it on the next open.
   */
  private sealActive(): void {
    const active = this.active;
    if (!active) return;
    this.active = undefined;
    try {
      const tail = encodeFooterAndTrailer(active.index, active.index.endOffset);
      this.fs.pwrite(active.fd, tail, active.index.endOffset);
      this.fs.ftruncate(active.fd, active.index.endOffset + tail.length);
      this.fs.fsync(active.fd);
      active.index.sealed = true;
      this.sealedSequences.push(active.index.header.sequence);
      this.log({ level: 'info', event: 'segment.sealed', file: active.index.path, blocks: active.index.blocks.length });
    } catch (err) {
      this.log({ level: 'warn', event: 'segment.seal_failed', file: active.index.path, error: String(err) });
      try {
        this.fs.msync(active.mapping, SEGMENT_HEADER_BYTES, active.index.endOffset);
      } catch {
        // Still whole in the page cache; nothing acknowledged depends on this sync.
      }
    } finally {
      this.fs.close(active.fd);
    }
  }

  /** Seals an unsealed segment found at recovery that is not the newest. */
  private sealFile(index: SegmentIndex): void {
    const fsys = this.fs;
    const fd = fsys.open(index.path, 'r+');
    try {
      const tail = encodeFooterAndTrailer(index, index.endOffset);
      fsys.pwrite(fd, tail, index.endOffset);
      fsys.ftruncate(fd, index.endOffset + tail.length);
      fsys.fsync(fd);
      index.sealed = true;
      this.sealedSequences.push(index.header.sequence);
    } finally {
      fsys.close(fd);
    }
  }

  // ---------------------------------------------------------------- append

  /**
   * Appends a batch. On return every point is in the shard's mapped segment as whole,
   * checksummed blocks, so a killed process loses none of them; `receipt.durable` says when
   * they are also on disk (see AppendReceipt). A batch larger than MAX_BLOCK_POINTS is split
   * into several blocks that become visible together. On failure nothing of the batch is
   * visible and the shard stays usable (unless the error says otherwise).
   * The batch is only read; nothing of it is retained.
   */
  append(batch: WriteBatch, options: { readonly sync?: boolean } = {}): AppendReceipt {
    if (this.closed) throw new EngineError(EngineErrorCode.Closed, `shard ${this.shardId} is closed`, false);
    validateBatch(batch);
    if (batch.length === 0) return { points: 0, blocks: 0, newSeries: [] };

    // Which series are new to the shard (reported to the catalog) — decided before any write
    // and committed to `written` only after the write succeeds.
    const ids = new Uint32Array(batch.series.length);
    const newIds: number[] = [];
    const newToShard: SeriesKey[] = [];
    const numbers = batch.seriesNumbers;
    const numbering = numbers === undefined ? undefined : batch.seriesNumbering;
    let idOfNumber = numbering === undefined ? undefined : this.idsByNumbering.get(numbering);
    for (let i = 0; i < ids.length; i++) {
      const number = numbering === undefined ? -1 : numbers![i]!;
      let id = idOfNumber !== undefined && number < idOfNumber.length ? idOfNumber[number]! : -1;
      if (id < 0) {
        id = this.series.resolve(batch.series[i]!);
        if (numbering !== undefined && number <= MAX_SERIES_NUMBER) {
          if (idOfNumber === undefined || number >= idOfNumber.length) {
            idOfNumber = grownRefs(idOfNumber ?? new Int32Array(0), Math.max(1024, number + 1));
            this.idsByNumbering.set(numbering, idOfNumber);
          }
          idOfNumber[number] = id;
        }
      }
      ids[i] = id;
      if (id >= this.written.length) this.written = grownFlags(this.written, id + 1);
      if (this.written[id] === NOT_WRITTEN) {
        this.written[id] = PENDING; // also dedupes a series listed twice in the batch
        newIds.push(id);
        newToShard.push(batch.series[i]!);
      }
    }

    const writtenAtMs = Math.max(this.nowMs(), this.lastWrittenAtMs);
    let assigned: number[] = [];
    let blocks;
    try {
      this.active ??= this.createSegment(0);
      blocks = this.encodeBatch(batch, ids, this.active, writtenAtMs, (assigned = []));
      let totalBytes = blocks.bytes.reduce((n, b) => n + b.length, 0);
      if (this.active.index.endOffset + totalBytes > this.active.capacityBytes) {
        this.sealActive();
        this.active = this.createSegment(totalBytes);
        blocks = this.encodeBatch(batch, ids, this.active, writtenAtMs, (assigned = []));
        totalBytes = blocks.bytes.reduce((n, b) => n + b.length, 0);
        if (this.active.index.endOffset + totalBytes > this.active.capacityBytes) {
          throw new EngineError(EngineErrorCode.InvalidBatch, 'batch does not fit in a fresh segment', true);
        }
      }
    } catch (err) {
      // Nothing of the batch reached the mapping: forget the refs it took and its new series.
      if (this.active) for (const id of assigned) this.active.refOf[id] = -1;
      for (const id of newIds) this.written[id] = NOT_WRITTEN;
      throw err;
    }
    const active = this.active;
    // Copy every block into the mapping, then index them. The walk of a reader or of recovery
    // accepts them only as a whole (BATCH_CONTINUES), so a kill mid-copy hides the batch.
    const entries = blocks.entries;
    for (let i = 0; i < entries.length; i++) active.mapping.set(blocks.bytes[i]!, entries[i]!.offset);
    for (let i = 0; i < entries.length; i++) active.index.addBlock(entries[i]!, blocks.newSeries[i]!);
    for (const id of newIds) this.written[id] = WRITTEN;
    this.writtenCount += newIds.length;
    this.nextBlockSequence += blocks.bytes.length;
    this.lastWrittenAtMs = writtenAtMs;

    const receipt: AppendReceipt = { points: batch.length, blocks: blocks.bytes.length, newSeries: newToShard };
    if (options.sync === true || this.syncPolicy === 'always') return { ...receipt, durable: this.commit() };
    return receipt;
  }

  /**
   * Sorts and encodes the batch into blocks against a segment's refs. `ids[s]` is the shard-local
   * id of batch.series[s]. Series new to the segment get the next refs, entered in
   * `segment.refOf` at once and their ids pushed to `assigned`, so the caller can take them back
   * if the blocks never reach the mapping. The entries' offsets are where the blocks go when
   * copied back to back from the segment's endOffset.
   *
   * Each entry is one object literal with all of BlockEntry's fields in walkBlocks' order, so
   * every entry has one map. It used to be completed in append as `{ ...entry, offset }`, and
   * V8 gave each such copy a map of its own: the compiled append threw its code away on the
   * first block of a fresh writer ("wrong map" at `entry.offset` in SegmentIndex.addEntry,
   * `--trace-deopt` during the peers workload after the warm-up, decision 0017).
   */
  private encodeBatch(
    batch: WriteBatch,
    ids: Uint32Array,
    segment: ActiveSegment,
    writtenAtMs: number,
    assigned: number[],
  ): {
    bytes: Uint8Array[];
    entries: BlockEntry[];
    newSeries: SeriesKey[][];
  } {
    let nextRef = segment.index.seriesKeys.length;
    let offset = segment.index.endOffset;
    const bytes: Uint8Array[] = [];
    const entries: BlockEntry[] = [];
    const newSeries: SeriesKey[][] = [];
    const n = batch.length;
    const chunks = Math.ceil(n / MAX_BLOCK_POINTS);
    for (let c = 0; c < chunks; c++) {
      const from = c * MAX_BLOCK_POINTS;
      const to = Math.min(n, from + MAX_BLOCK_POINTS);
      const cols = gatherColumns(batch, from, to);
      const defined: SeriesKey[] = [];
      const firstNewSeriesRef = nextRef;
      for (let r = 0; r < cols.runCount; r++) {
        const s = cols.runRefs[r]!; // batch-local series index until mapped here
        const id = ids[s]!;
        if (id >= segment.refOf.length) segment.refOf = grownRefs(segment.refOf, id + 1);
        let ref = segment.refOf[id]!;
        if (ref < 0) {
          ref = nextRef++;
          segment.refOf[id] = ref;
          assigned.push(id);
          defined.push(batch.series[s]!);
        }
        cols.runRefs[r] = ref;
      }
      const sequence = this.nextBlockSequence + c;
      const block = this.encoder.encode(cols, defined, {
        firstNewSeriesRef,
        sequence,
        writtenAtMs,
        batchContinues: c < chunks - 1,
      });
      bytes.push(block);
      let minTs = Infinity;
      let maxTs = -Infinity;
      for (let i = 0; i < cols.pointCount; i++) {
        const t = cols.timestampsMs[i]!;
        if (t < minTs) minTs = t;
        if (t > maxTs) maxTs = t;
      }
      entries.push({
        offset,
        blockBytes: block.length,
        pointCount: cols.pointCount,
        minTimestampMs: minTs,
        maxTimestampMs: maxTs,
        sequence,
        writtenAtMs,
        refs: cols.runRefs.slice(0, cols.runCount),
      });
      offset += block.length;
      newSeries.push(defined);
    }
    return { bytes, entries, newSeries };
  }

  // ---------------------------------------------------------------- sync

  /**
   * Group commit: resolves once an msync covering everything appended before this call has
   * completed. Calls made in the same turn of the event loop share one msync.
   */
  commit(): Promise<void> {
    if (this.pendingCommit) return this.pendingCommit.promise;
    let resolve!: () => void;
    let reject!: (err: unknown) => void;
    const promise = new Promise<void>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    const pending: PendingCommit = { promise, resolve, reject };
    this.pendingCommit = pending;
    setImmediate(() => {
      this.pendingCommit = undefined;
      try {
        this.syncNow();
        pending.resolve();
      } catch (err) {
        pending.reject(err);
      }
    });
    return promise;
  }

  /** msyncs the active segment's unsynced range now; throws EngineError on failure. */
  syncNow(): void {
    const active = this.active;
    if (!active || active.syncedUpTo >= active.index.endOffset) return;
    const end = active.index.endOffset;
    const startedNs = this.onSync !== undefined ? process.hrtime.bigint() : 0n;
    try {
      this.fs.msync(active.mapping, active.syncedUpTo, end - active.syncedUpTo);
    } catch (err) {
      throw fromSystemError(err, `msync ${active.index.path}`);
    }
    const bytes = end - active.syncedUpTo;
    active.syncedUpTo = end;
    this.onSync?.(Number(process.hrtime.bigint() - startedNs) / 1e9, bytes);
  }

  private syncNowQuietly(): void {
    try {
      this.syncNow();
    } catch (err) {
      this.log({ level: 'error', event: 'segment.sync_failed', shard: this.shardId, error: String(err) });
    }
  }

  /** Stops the sync timer, syncs and releases the active segment (left unsealed for reuse). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.syncTimer) clearInterval(this.syncTimer);
    const active = this.active;
    this.active = undefined;
    try {
      if (active) this.fs.msync(active.mapping, active.syncedUpTo, active.index.endOffset - active.syncedUpTo);
    } finally {
      if (active) this.fs.close(active.fd);
      this.release();
    }
  }

  /** Seals the active segment now (compaction only takes sealed segments). */
  roll(): void {
    this.sealActive();
  }

  /** Sequences of sealed segments, oldest first. */
  sealedSegmentSequences(): readonly number[] {
    return this.sealedSequences;
  }

  /**
   * Compacts this shard's sealed segments (the active one is untouched; `roll()` first to include
   * it) into time-partitioned, series-sorted segments, dropping what TTL, `retentionMs` and
   * `tombstones` hide. Runs on the writer's thread, so nothing else rewrites the shard meanwhile.
   * `tombstones` must be every tombstone of the data directory's log (Engine.tombstones): one left
   * out could stop hiding its points. Throws EngineError (NoSpace/Io, shard usable) if it fails
   * before its commit point; either way the writer's view of its segments follows the directory.
   */
  compact(options: { readonly tombstones: readonly Tombstone[]; readonly retentionMs?: number; readonly partitionMs?: number }): CompactionResult {
    if (this.closed) throw new EngineError(EngineErrorCode.Closed, `shard ${this.shardId} is closed`, false);
    const sources = [...this.sealedSequences];
    const firstOutputSequence = this.nextSegmentSequence;
    try {
      return compactShard({
        fs: this.fs,
        shardDir: this.dir,
        shardId: this.shardId,
        nowMs: this.nowMs,
        log: this.log,
        tombstones: options.tombstones,
        sources,
        firstOutputSequence,
        ...(options.retentionMs !== undefined ? { retentionMs: options.retentionMs } : {}),
        ...(options.partitionMs !== undefined ? { partitionMs: options.partitionMs } : {}),
      });
    } finally {
      this.afterCompaction(firstOutputSequence);
    }
  }

  /**
   * Takes the directory's word for what a compaction left, whether it succeeded or failed
   * half-way: any `.seg` at or above `firstOutputSequence` is one of its outputs (sealed), and a
   * source it retired is gone — or still there, if unlinking it failed. Moves
   * `nextSegmentSequence` past every output, so a new segment never takes an output's name.
   */
  private afterCompaction(firstOutputSequence: number): void {
    const present = new Set<number>();
    for (const name of this.fs.readdir(this.dir)) {
      const seq = parseSegmentFileName(name);
      if (seq !== undefined) present.add(seq);
    }
    const outputs = [...present].filter((s) => s >= firstOutputSequence);
    const kept = this.sealedSequences.filter((s) => present.has(s) && s < firstOutputSequence);
    this.sealedSequences.length = 0;
    this.sealedSequences.push(...kept, ...outputs);
    this.sealedSequences.sort((a, b) => a - b);
    for (const s of outputs) this.nextSegmentSequence = Math.max(this.nextSegmentSequence, s + 1);
    for (const s of outputs) this.compactedSequences.add(s);
    for (const s of this.compactedSequences) if (!present.has(s)) this.compactedSequences.delete(s);
  }

  /**
   * Sealed segments written by ingest (not by compaction): what a compaction policy counts to
   * decide whether compacting is worth it now.
   */
  sealedIngestSegmentCount(): number {
    let n = 0;
    for (const s of this.sealedSequences) if (!this.compactedSequences.has(s)) n++;
    return n;
  }
}

/** Checks column lengths, timestamps and value kinds; throws InvalidBatch on the first problem. */
function validateBatch(batch: WriteBatch): void {
  const n = batch.length;
  const bad = (msg: string): never => {
    throw new EngineError(EngineErrorCode.InvalidBatch, msg, true);
  };
  if (
    batch.seriesIndex.length < n ||
    batch.timestampsMs.length < n ||
    batch.kinds.length < n ||
    batch.floats.length < n
  ) {
    bad('batch columns are shorter than batch.length');
  }
  const seriesCount = batch.series.length;
  if ((batch.seriesNumbers === undefined) !== (batch.seriesNumbering === undefined)) {
    bad('seriesNumbers and seriesNumbering come together');
  }
  if (batch.seriesNumbers !== undefined && batch.seriesNumbers.length < seriesCount) bad('seriesNumbers is shorter than series');
  validatePoints(batch, n, seriesCount, bad);
  if (batch.ttlSeconds && batch.ttlSeconds.length < seriesCount) bad('ttlSeconds shorter than series');
}

/**
 * validateBatch's check of every point. A function of its own so that nothing but the return
 * follows the loop: V8 compiled the loop on the stack (OSR) during the first batch, before the
 * code after it had run, and that code was thrown away at the `batch.ttlSeconds` after the loop
 * ("Insufficient type feedback for generic named access", `--trace-deopt` during the warm-up,
 * decision 0017; see encodeTimestamps' deltaOfDeltaVarints).
 */
function validatePoints(batch: WriteBatch, n: number, seriesCount: number, bad: (msg: string) => never): void {
  for (let i = 0; i < n; i++) {
    const t = batch.timestampsMs[i]!;
    if (!Number.isInteger(t) || Math.abs(t) >= MAX_ABS_TIMESTAMP_MS) bad(`point ${i}: timestamp ${t} is not an integer ms within ±2^50`);
    if (batch.seriesIndex[i]! >= seriesCount) bad(`point ${i}: series index out of range`);
    const k = batch.kinds[i]!;
    if (k === ValueKind.Int64) {
      if (batch.ints.length <= i) bad(`point ${i}: int64 value missing`);
    } else if (k === ValueKind.String || k === ValueKind.Json) {
      if (typeof batch.texts[i] !== 'string') bad(`point ${i}: text value missing`);
    } else if (k !== ValueKind.Float64) {
      bad(`point ${i}: unknown value kind ${k}`);
    }
  }
}

/**
 * Gathers points [from, to) of a batch into block order: grouped by batch series (counting sort,
 * O(n + series)), each run sorted by timestamp with ties kept in input order (so the later write
 * of a duplicate timestamp is the later point). runRefs hold batch-local series indexes.
 */
function gatherColumns(batch: WriteBatch, from: number, to: number): BlockColumns & { runRefs: Uint32Array } {
  const runCount = runsIfInBlockOrder(batch, from, to);
  return runCount >= 0 ? viewColumns(batch, from, to, runCount) : sortColumns(batch, from, to);
}

/**
 * The number of series runs in points [from, to) if they are already in block order (series
 * indices non-decreasing, timestamps non-decreasing within a series), else -1. Decoders emit
 * points series by series, so this is the common case; it lets viewColumns skip the counting
 * sort and the column copies. Bench: bench/append.bench.ts "append: 5,000 series × 1 point".
 */
function runsIfInBlockOrder(batch: WriteBatch, from: number, to: number): number {
  const seriesIndex = batch.seriesIndex;
  const ts = batch.timestampsMs;
  let runs = 1;
  for (let i = from + 1; i < to; i++) {
    const s = seriesIndex[i]!;
    const prev = seriesIndex[i - 1]!;
    if (s > prev) runs++;
    else if (s < prev || ts[i]! < ts[i - 1]!) return -1;
  }
  return runs;
}

/** Block columns of points [from, to) that runsIfInBlockOrder accepted: views, no copies. */
function viewColumns(batch: WriteBatch, from: number, to: number, runCount: number): BlockColumns & { runRefs: Uint32Array } {
  const runRefs = new Uint32Array(runCount);
  const runPointCounts = new Uint32Array(runCount);
  const runTtlSeconds = new Uint32Array(runCount);
  const seriesIndex = batch.seriesIndex;
  const ttl = batch.ttlSeconds;
  let r = -1;
  let prev = -1;
  for (let i = from; i < to; i++) {
    const s = seriesIndex[i]!;
    if (s !== prev) {
      r++;
      runRefs[r] = s;
      runTtlSeconds[r] = ttl === undefined ? 0 : ttl[s]!;
      prev = s;
    }
    runPointCounts[r]!++;
  }
  return {
    pointCount: to - from,
    runCount,
    runRefs,
    runPointCounts,
    runTtlSeconds,
    timestampsMs: batch.timestampsMs.subarray(from, to),
    kinds: batch.kinds.subarray(from, to),
    floats: batch.floats.subarray(from, to),
    ints: batch.ints.subarray(from, to), // clamped: may be shorter when the batch has no int points
    texts: batch.texts.length > from ? batch.texts.slice(from, to) : EMPTY_TEXTS,
  };
}

/** Block columns of points [from, to) in any order: a stable counting sort by series, then by time. */
function sortColumns(batch: WriteBatch, from: number, to: number): BlockColumns & { runRefs: Uint32Array } {
  const n = to - from;
  const seriesCount = batch.series.length;
  const counts = new Uint32Array(seriesCount + 1);
  for (let i = from; i < to; i++) counts[batch.seriesIndex[i]! + 1]!++;
  let runCount = 0;
  for (let s = 1; s <= seriesCount; s++) if (counts[s]! > 0) runCount++;
  const runRefs = new Uint32Array(runCount);
  const runPointCounts = new Uint32Array(runCount);
  const runTtlSeconds = new Uint32Array(runCount);
  // Prefix sums → first slot of each series.
  for (let s = 1; s <= seriesCount; s++) counts[s]! += counts[s - 1]!;
  const order = new Uint32Array(n);
  const fill = counts.slice(0, seriesCount);
  for (let i = from; i < to; i++) order[fill[batch.seriesIndex[i]!]!++] = i;
  let r = 0;
  for (let s = 0; s < seriesCount; s++) {
    const start = counts[s]!;
    const end = counts[s + 1]!;
    if (end === start) continue;
    runRefs[r] = s;
    runPointCounts[r] = end - start;
    runTtlSeconds[r] = batch.ttlSeconds?.[s] ?? 0;
    sortRunByTimestamp(order, start, end, batch.timestampsMs);
    r++;
  }
  const timestampsMs = new Float64Array(n);
  const kinds = new Uint8Array(n);
  const floats = new Float64Array(n);
  let ints = EMPTY_INTS;
  let texts: (string | undefined)[] = EMPTY_TEXTS;
  for (let j = 0; j < n; j++) {
    const i = order[j]!;
    timestampsMs[j] = batch.timestampsMs[i]!;
    const k = batch.kinds[i]!;
    kinds[j] = k;
    if (k === ValueKind.Float64) floats[j] = batch.floats[i]!;
    else if (k === ValueKind.Int64) {
      if (ints === EMPTY_INTS) ints = new BigInt64Array(n);
      ints[j] = batch.ints[i]!;
    } else {
      if (texts === EMPTY_TEXTS) texts = new Array<string | undefined>(n);
      texts[j] = batch.texts[i];
    }
  }
  return { pointCount: n, runCount, runRefs, runPointCounts, runTtlSeconds, timestampsMs, kinds, floats, ints, texts };
}

const EMPTY_INTS = new BigInt64Array(0);
const EMPTY_TEXTS: (string | undefined)[] = [];

/** Producer series numbers above this are resolved by key, not remembered (bounds the memo array). */
const MAX_SERIES_NUMBER = 1 << 24;

/** States of ShardWriter.written[id]. */
const NOT_WRITTEN = 0;
const PENDING = 1;
const WRITTEN = 2;

function grownFlags(a: Uint8Array, minLength: number): Uint8Array<ArrayBuffer> {
  const next = new Uint8Array(Math.max(minLength, a.length * 2));
  next.set(a);
  return next;
}

function grownRefs(a: Int32Array, minLength: number): Int32Array<ArrayBuffer> {
  const next = new Int32Array(Math.max(minLength, a.length * 2)).fill(-1, a.length);
  next.set(a);
  return next;
}

/** Stable sort of order[start, end) by timestamp: insertion sort (runs are short and usually sorted). */
function sortRunByTimestamp(order: Uint32Array, start: number, end: number, ts: Float64Array): void {
  if (end - start < 2) return;
  let sorted = true;
  for (let j = start + 1; j < end; j++) {
    if (ts[order[j]!]! < ts[order[j - 1]!]!) {
      sorted = false;
      break;
    }
  }
  if (sorted) return;
  if (end - start > 64) {
    const slice = Array.from(order.subarray(start, end));
    slice.sort((a, b) => ts[a]! - ts[b]! || a - b);
    order.set(slice, start);
    return;
  }
  for (let j = start + 1; j < end; j++) {
    const v = order[j]!;
    const t = ts[v]!;
    let k = j - 1;
    while (k >= start && ts[order[k]!]! > t) {
      order[k + 1] = order[k]!;
      k--;
    }
    order[k + 1] = v;
  }
}

/**
 * Rewrites a small existing file in place (no temporary file, so no new disk block: this works
 * on a full disk), cut to the new length and fsynced. Not atomic; for the LOCK file only.
 */
function overwriteInPlace(fsys: FileSystem, filePath: string, bytes: Uint8Array): void {
  const fd = fsys.open(filePath, 'r+');
  try {
    fsys.pwrite(fd, bytes, 0);
    fsys.ftruncate(fd, bytes.length);
    fsys.fsync(fd);
  } finally {
    fsys.close(fd);
  }
}

/**
 * True if process `pid` exists. Our own pid counts as alive: a LOCK naming this process means
 * another writer in it (any thread) holds the shard.
 */
function isAlive(pid: number): boolean {
  return pid === process.pid || processIsAlive(pid);
}
