// Compaction and retention of one shard (docs/format/compaction.md): rewrites sealed segments
// into time-partitioned, series-sorted, densely encoded segments, resolving duplicates and dropping
// what TTL, retention and tombstones hide; crash-safe (commit protocol and recovery below). Never
// touches the active segment. Holds every surviving source point in memory (see compactShard).
import * as path from 'node:path';
import { canonicalSeriesKey } from '../catalog/series-key.js';
import { CorruptionError, EngineError, fromSystemError } from '../errors.js';
import { NodeFileSystem, type FileSystem } from '../io/fs.js';
import { BlockEncoder, decodeBlock } from '../segment/block.js';
import {
  BLOCK_HEADER_BYTES,
  SEGMENT_HEADER_BYTES,
  SegmentKind,
  TRAILER_BYTES,
  decodeBlockHeader,
  decodeSegmentHeader,
  decodeTrailer,
  encodeSegmentHeader,
  parseSegmentFileName,
  segmentFileName,
  verifyBlock,
} from '../segment/format.js';
import { SegmentIndex, encodeFooterAndTrailer, type ByteSource, type CompactionInfo } from '../segment/segment-index.js';
import { fileSource, openSegment } from '../segment/segment-file.js';
import { selectorMatches, type Tombstone } from '../segment/tombstones.js';
import type { EngineLog } from '../segment/writer.js';
import { ValueKind, type SeriesKey } from '../types.js';

export const DEFAULT_PARTITION_MS = 86_400_000;
/** Points per output block before it is cut (at a series boundary when possible). */
const TARGET_BLOCK_POINTS = 32_768;
const MAX_BLOCK_POINTS = 65_536;
/** Initial capacity of one series' candidate columns in one partition (doubles as it fills). */
const INITIAL_CANDIDATES = 16;

export interface CompactionOptions {
  readonly shardDir: string;
  readonly shardId: number;
  readonly fs?: FileSystem;
  /** Width of a time partition; partitions are aligned to multiples of it from the epoch (UTC). */
  readonly partitionMs?: number;
  readonly nowMs?: () => number;
  /** Points with t < now − retentionMs are dropped. 0 or absent: keep forever. */
  readonly retentionMs?: number;
  readonly tombstones: readonly Tombstone[];
  readonly log?: EngineLog;
  /**
   * Sequences of sealed segments to compact; default: every sealed segment in the directory. Of
   * these, a segment holding a block newer than a block of a segment left out is deferred (not
   * compacted, logged as `compaction.sources_deferred`); see chooseSources.
   */
  readonly sources?: readonly number[];
  /** First sequence the outputs may use; must be above every sequence in the directory. */
  readonly firstOutputSequence: number;
}

export interface CompactionResult {
  readonly compactionId: number;
  readonly sources: number[];
  readonly outputs: number[];
  readonly pointsIn: number;
  readonly pointsOut: number;
  readonly bytesIn: number;
  readonly bytesOut: number;
}

/**
 * The source runs points came from: what orders duplicates (block writtenAtMs, then block
 * sequence) and when the run's TTL expires. Indexed by `SeriesCandidates.run`; append-only.
 */
interface SourceRuns {
  readonly writtenAtMs: number[];
  readonly sequence: number[];
  /** Absolute expiry (ms) from the run's TTL, or Infinity. */
  readonly expiresAtMs: number[];
}

/**
 * The points of one series in one partition that survived TTL, retention and tombstones, in
 * read order (sources by sequence, blocks and points in file order): for two points of one
 * source block, the later index is the later position. Columns grow by doubling; `ints` and
 * `texts` exist only once a point of that kind arrives.
 */
class SeriesCandidates {
  length = 0;
  t = new Float64Array(INITIAL_CANDIDATES);
  run = new Uint32Array(INITIAL_CANDIDATES);
  kind = new Uint8Array(INITIAL_CANDIDATES);
  float = new Float64Array(INITIAL_CANDIDATES);
  int: BigInt64Array | undefined;
  text: (string | undefined)[] | undefined;

  constructor(
    readonly key: SeriesKey,
    readonly canonical: string,
  ) {}

  push(t: number, run: number, kind: number, float: number, int: bigint, text: string | undefined): void {
    const i = this.length;
    if (i === this.t.length) this.grow();
    this.t[i] = t;
    this.run[i] = run;
    this.kind[i] = kind;
    this.float[i] = float;
    if (kind === ValueKind.Int64) {
      this.int ??= new BigInt64Array(this.t.length);
      this.int[i] = int;
    } else if (text !== undefined) {
      this.text ??= [];
      this.text[i] = text;
    }
    this.length = i + 1;
  }

  private grow(): void {
    const n = this.t.length * 2;
    const t = new Float64Array(n);
    t.set(this.t);
    this.t = t;
    const run = new Uint32Array(n);
    run.set(this.run);
    this.run = run;
    const kind = new Uint8Array(n);
    kind.set(this.kind);
    this.kind = kind;
    const float = new Float64Array(n);
    float.set(this.float);
    this.float = float;
    if (this.int) {
      const int = new BigInt64Array(n);
      int.set(this.int);
      this.int = int;
    }
  }
}

interface Source {
  readonly seq: number;
  readonly index: SegmentIndex;
  readonly bytes: number;
}

/**
 * Compacts sealed segments of one shard. The caller (the shard's writer thread) guarantees
 * nothing else rewrites the shard meanwhile. `now` (options.nowMs) decides TTL expiry and the
 * retention floor, and becomes the outputs' createdAtMs. Commit protocol (docs/format/compaction.md):
 * 1. every output is written as `<seq>.seg.tmp`, sealed and fsynced;
 * 2. every output is renamed to `<seq>.seg`, then the directory is fsynced — the commit point;
 * 3. the sources are unlinked, then the directory is fsynced.
 * A failure in 1 or 2 throws EngineError (NoSpace/Io, the shard stays usable) after taking the
 * outputs back out (best effort: what is left is resolved by finishInterruptedCompactions at the
 * next open and is harmless until then — outputs only repeat points the sources hold). After the
 * commit point nothing throws: a source that cannot be unlinked is logged
 * (`compaction.sources_left`) and left for the next open or the next compaction; its points are
 * older duplicates of what the outputs hold.
 *
 * Memory (the limit of this version): every point of the sources that survives TTL, retention
 * and tombstones is held at once, in columns: 21 bytes per point plus growth slack (up to 2×), 8
 * more per int64 point, the strings of string/JSON points, and 24 bytes (plus slack) per source
 * run (one series' points in one source block). Measured peak (heap + array buffers, devops data,
 * 864,000 points): 45 bytes/point from 5,000-point appends, 73 when every run holds one point. The
 * caller bounds it by what it passes as sources (ShardWriter.compact: every sealed segment).
 */
export function compactShard(options: CompactionOptions): CompactionResult {
  const fsys = options.fs ?? new NodeFileSystem();
  const now = (options.nowMs ?? Date.now)();
  const partitionMs = options.partitionMs ?? DEFAULT_PARTITION_MS;
  const retentionFloor = options.retentionMs ? now - options.retentionMs : -Infinity;
  const dir = options.shardDir;
  const log = options.log ?? (() => {});

  let listed: Listing;
  try {
    listed = listSegments(fsys, dir, options.sources ? new Set(options.sources) : undefined);
  } catch (err) {
    throw err instanceof EngineError ? err : fromSystemError(err, `compacting ${dir}: listing segments`);
  }
  const { sources, deferred } = chooseSources(listed);
  if (deferred.length > 0) {
    log({ level: 'warn', event: 'compaction.sources_deferred', shard: options.shardId, deferred, reason: 'an older block is in a segment not being compacted' });
  }
  // Unique among the compactions whose outputs are in the directory, which is what recovery
  // groups by; the random part keeps ids of different shards apart in logs.
  let compactionId = now * 1000 + Math.floor(Math.random() * 1000);
  while (listed.idsInUse.has(compactionId)) compactionId++;

  // Gather every visible point, per partition and series.
  const partitions = new Map<number, Map<string, SeriesCandidates>>();
  const runs: SourceRuns = { writtenAtMs: [], sequence: [], expiresAtMs: [] };
  let pointsIn = 0;
  for (const source of sources) {
    pointsIn += gather(fsys, source, options.tombstones, now, retentionFloor, partitionMs, partitions, runs);
  }

  // Write one output per partition, oldest first.
  const partKeys = [...partitions.keys()].sort((a, b) => a - b);
  const outputs: number[] = [];
  const tmpPaths: string[] = [];
  let pointsOut = 0;
  let bytesOut = 0;
  try {
    partKeys.forEach((part, outputIndex) => {
      const seq = options.firstOutputSequence + outputIndex;
      const finalPath = path.join(dir, segmentFileName(seq));
      const tmpPath = `${finalPath}.tmp`;
      tmpPaths.push(tmpPath);
      const series = [...partitions.get(part)!.values()].sort((a, b) => (a.canonical < b.canonical ? -1 : a.canonical > b.canonical ? 1 : 0));
      partitions.delete(part); // written once; let its columns go as soon as this output is done
      const written = writeOutput(fsys, tmpPath, finalPath, series, runs, {
        shardId: options.shardId,
        sequence: seq,
        nowMs: now,
        compaction: { compactionId, outputIndex, outputCount: partKeys.length, sourceSequences: sources.map((s) => s.seq) },
      });
      pointsOut += written.points;
      bytesOut += written.bytes;
      outputs.push(seq);
    });
  } catch (err) {
    removeQuietly(fsys, tmpPaths); // Recovery removes *.tmp at the next open anyway.
    throw err instanceof EngineError ? err : fromSystemError(err, `compacting ${dir}`);
  }

  // Commit: every output renamed into place and the renames durable. Until then the sources are
  // the truth, so any failure takes the outputs back out.
  const placed: string[] = [];
  try {
    outputs.forEach((seq, i) => {
      const finalPath = path.join(dir, segmentFileName(seq));
      fsys.rename(tmpPaths[i]!, finalPath);
      placed.push(finalPath);
    });
    fsys.fsyncDir(dir);
  } catch (err) {
    removeQuietly(fsys, [...placed, ...tmpPaths]);
    try {
      fsys.fsyncDir(dir);
    } catch {
      // Whatever is left is a complete or partial output set next to intact sources: recovery
      // commits the first (sources deleted) and rolls back the second (outputs deleted).
    }
    throw fromSystemError(err, `committing compaction ${compactionId} in ${dir}`);
  }

  // Committed: the sources are redundant. Failures from here on are logged, not thrown.
  const left: number[] = [];
  for (const s of sources) {
    try {
      fsys.unlink(s.index.path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') left.push(s.seq);
    }
  }
  try {
    fsys.fsyncDir(dir);
  } catch (err) {
    // A power loss may bring unlinked sources back; recovery deletes them (all outputs present).
    log({ level: 'warn', event: 'compaction.sync_failed', shard: options.shardId, compactionId, error: String(err) });
  }
  if (left.length > 0) {
    log({ level: 'warn', event: 'compaction.sources_left', shard: options.shardId, compactionId, sources: left });
  }
  const bytesIn = sources.reduce((n, s) => n + s.bytes, 0);
  log({ level: 'info', event: 'compaction.finished', shard: options.shardId, compactionId, sources: sources.length, outputs: outputs.length, pointsIn, pointsOut, bytesIn, bytesOut });
  return { compactionId, sources: sources.map((s) => s.seq), outputs, pointsIn, pointsOut, bytesIn, bytesOut };
}

interface Listing {
  /** Sealed segments compaction was asked for (all sealed ones when not told), by sequence. */
  readonly candidates: Source[];
  /**
   * Block sequences of every other segment; for an unsealed ingest segment only its first
   * block's (its later blocks are newer still, and newer than every sealed segment's).
   */
  readonly others: number[][];
  /** Compaction ids of the compacted segments in the directory. */
  readonly idsInUse: Set<number>;
}

/**
 * Lists the shard's segments: the sealed ones asked for, with their index (from the footer), and
 * the block sequences of every other one. Segments whose header fails its checks are left out:
 * readers skip them too. I/O errors propagate.
 */
function listSegments(fsys: FileSystem, dir: string, wanted: ReadonlySet<number> | undefined): Listing {
  const candidates: Source[] = [];
  const others: number[][] = [];
  const idsInUse = new Set<number>();
  for (const name of fsys.readdir(dir)) {
    const seq = parseSegmentFileName(name);
    if (seq === undefined) continue;
    const filePath = path.join(dir, name);
    const fd = fsys.open(filePath, 'r');
    try {
      const size = fsys.sizeOf(fd);
      const source = fileSource(fsys, fd, size);
      const header = decodeSegmentHeader(source.read(0, SEGMENT_HEADER_BYTES));
      if (typeof header === 'string') continue;
      const sealed = size >= SEGMENT_HEADER_BYTES + TRAILER_BYTES && decodeTrailer(source.read(size - TRAILER_BYTES, TRAILER_BYTES)) !== undefined;
      if (!sealed && header.kind === SegmentKind.Ingest) {
        // The active segment (or one whose seal failed): only its first block matters here.
        const first = firstBlockSequence(source);
        if (first !== undefined) others.push([first]);
        continue;
      }
      const opened = openSegment(filePath, source);
      if (!opened.ok) continue;
      const index = opened.index;
      if (index.compaction) idsInUse.add(index.compaction.compactionId);
      if (index.sealed && (!wanted || wanted.has(seq))) candidates.push({ seq, index, bytes: size });
      else others.push(index.blocks.map((b) => b.sequence));
    } finally {
      fsys.close(fd);
    }
  }
  candidates.sort((a, b) => a.seq - b.seq);
  return { candidates, others, idsInUse };
}

/** Sequence of the first block of an ingest segment, if that block is whole and checksummed. */
function firstBlockSequence(source: ByteSource): number | undefined {
  const header = decodeBlockHeader(source.read(SEGMENT_HEADER_BYTES, BLOCK_HEADER_BYTES), source.size - SEGMENT_HEADER_BYTES);
  if (typeof header === 'string') return undefined;
  return verifyBlock(source.read(SEGMENT_HEADER_BYTES, header.blockBytes), header) ? header.sequence : undefined;
}

/**
 * Picks the sources among the candidates so that no block left out has a sequence between the
 * oldest and the newest source block. Why: an output block takes the newest writtenAtMs and
 * sequence of its points, so a source point whose newer write stays behind in a block in that
 * span would win against that write afterwards. Blocks left out that are older or newer than
 * every source block keep their order against every output. When a left-out block falls inside,
 * the candidates with a block at or after it are deferred (the older ones are compacted) and
 * the check repeats. With ShardWriter.compact (every sealed segment) nothing is deferred unless
 * a segment failed to seal or to read.
 */
function chooseSources(listed: Listing): { sources: Source[]; deferred: number[] } {
  let sources = listed.candidates;
  while (sources.length > 0) {
    let lo = Infinity;
    let hi = -Infinity;
    for (const c of sources) {
      for (const b of c.index.blocks) {
        if (b.sequence < lo) lo = b.sequence;
        if (b.sequence > hi) hi = b.sequence;
      }
    }
    let intruder = Infinity;
    const check = (seqs: readonly number[]): void => {
      for (const q of seqs) if (q >= lo && q <= hi && q < intruder) intruder = q;
    };
    for (const seqs of listed.others) check(seqs);
    for (const c of listed.candidates) if (!sources.includes(c)) check(c.index.blocks.map((b) => b.sequence));
    if (intruder === Infinity) break;
    sources = sources.filter((c) => c.index.maxSequence < intruder);
  }
  return { sources, deferred: listed.candidates.filter((c) => !sources.includes(c)).map((c) => c.seq) };
}

/**
 * Reads every block of one source and adds the points that TTL, retention and tombstones leave
 * visible at `now` to `partitions`. Returns the number of points read. Throws CorruptionError for
 * a damaged block, EngineError (Io) for a failed read.
 */
function gather(
  fsys: FileSystem,
  source: Source,
  tombstones: readonly Tombstone[],
  now: number,
  retentionFloor: number,
  partitionMs: number,
  partitions: Map<number, Map<string, SeriesCandidates>>,
  runs: SourceRuns,
): number {
  const filePath = source.index.path;
  const keys = source.index.seriesKeys;
  const canonicalOf: (string | undefined)[] = [];
  const tombsOf: (readonly Tombstone[] | undefined)[] = [];
  let pointsIn = 0;
  let fd: number;
  try {
    fd = fsys.open(filePath, 'r');
  } catch (err) {
    throw fromSystemError(err, `compaction reading ${filePath}`);
  }
  try {
    for (const entry of source.index.blocks) {
      const bytes = new Uint8Array(entry.blockBytes);
      let got: number;
      try {
        got = fsys.pread(fd, bytes, entry.offset);
      } catch (err) {
        throw fromSystemError(err, `compaction reading ${filePath}`);
      }
      let block;
      try {
        block = decodeBlock(bytes, got);
      } catch (err) {
        throw new CorruptionError(filePath, entry.offset, (err as Error).message);
      }
      pointsIn += block.pointCount;
      let p = 0;
      for (let r = 0; r < block.runCount; r++) {
        const ref = block.runRefs[r]!;
        const count = block.runPointCounts[r]!;
        const ttl = block.runTtlSeconds[r]!;
        const expiresAtMs = ttl > 0 ? entry.writtenAtMs + ttl * 1000 : Infinity;
        const runStart = p;
        p += count;
        if (expiresAtMs <= now) continue;
        const key = keys[ref];
        if (!key) throw new CorruptionError(filePath, entry.offset, `run names series ref ${ref} of ${keys.length}`);
        const tombs = (tombsOf[ref] ??= tombstones.filter((t) => selectorMatches(t.selector, key)));
        const canonical = (canonicalOf[ref] ??= canonicalSeriesKey(key));
        const runIndex = runs.writtenAtMs.length;
        runs.writtenAtMs.push(entry.writtenAtMs);
        runs.sequence.push(entry.sequence);
        runs.expiresAtMs.push(expiresAtMs);
        let lastPart = NaN;
        let series: SeriesCandidates | undefined;
        for (let i = runStart; i < p; i++) {
          const t = block.timestampsMs[i]!;
          if (t < retentionFloor) continue;
          if (tombs.length > 0 && hiddenByTombstone(tombs, t, entry.writtenAtMs)) continue;
          const part = Math.floor(t / partitionMs);
          if (part !== lastPart || !series) {
            let bySeries = partitions.get(part);
            if (!bySeries) {
              bySeries = new Map();
              partitions.set(part, bySeries);
            }
            series = bySeries.get(canonical);
            if (!series) {
              series = new SeriesCandidates(key, canonical);
              bySeries.set(canonical, series);
            }
            lastPart = part;
          }
          const kind = block.kinds[i]!;
          series.push(
            t,
            runIndex,
            kind,
            block.floats[i]!,
            kind === ValueKind.Int64 ? block.ints[i]! : 0n,
            kind === ValueKind.String || kind === ValueKind.Json ? block.texts[i] : undefined,
          );
        }
      }
    }
  } finally {
    fsys.close(fd);
  }
  return pointsIn;
}

function hiddenByTombstone(tombs: readonly Tombstone[], t: number, writtenAtMs: number): boolean {
  for (const tb of tombs) {
    if (t >= tb.startMs && t <= tb.endMs && writtenAtMs <= tb.createdAtMs) return true;
  }
  return false;
}

/**
 * The points of one series to keep, as indexes into `s`, in time order. Duplicates (same
 * timestamp) are ordered as readers order them — block writtenAtMs, then block sequence, then
 * position — and the newest is kept. Older versions are kept too when they outlive every newer
 * one kept: readers hide expired points *before* resolving duplicates, so once a newer point's
 * TTL passes, the older one is what a read returns (docs/format/README.md, checklist 7–8).
 * Versions of one timestamp come out oldest first, so within a block the newest is last.
 */
function survivors(s: SeriesCandidates, runs: SourceRuns): Uint32Array {
  const n = s.length;
  const ts = s.t;
  const run = s.run;
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  let strictlyIncreasing = true;
  for (let i = 1; i < n; i++) {
    if (ts[i]! <= ts[i - 1]!) {
      strictlyIncreasing = false;
      break;
    }
  }
  if (strictlyIncreasing) return order;
  const wt = runs.writtenAtMs;
  const sq = runs.sequence;
  order.sort((a, b) => ts[a]! - ts[b]! || wt[run[a]!]! - wt[run[b]!]! || sq[run[a]!]! - sq[run[b]!]! || a - b);
  const keep = new Uint32Array(n);
  let k = 0;
  for (let end = n; end > 0; ) {
    // order[start, end) are the versions of one timestamp, oldest first.
    let start = end - 1;
    const t = ts[order[start]!]!;
    while (start > 0 && ts[order[start - 1]!] === t) start--;
    // Newest first here (kept is built backwards and reversed at the end).
    let outlives = -Infinity;
    for (let j = end - 1; j >= start; j--) {
      const expires = runs.expiresAtMs[run[order[j]!]!]!;
      if (expires > outlives) {
        keep[k++] = order[j]!;
        outlives = expires;
      }
    }
    end = start;
  }
  return keep.subarray(0, k).reverse();
}

/** One run of an output block: points `idx` of series `s`, all with the same expiry. */
interface OutputRun {
  readonly ref: number;
  readonly s: SeriesCandidates;
  readonly idx: Uint32Array;
}

function writeOutput(
  fsys: FileSystem,
  tmpPath: string,
  finalPath: string,
  series: SeriesCandidates[],
  runs: SourceRuns,
  meta: { shardId: number; sequence: number; nowMs: number; compaction: CompactionInfo },
): { points: number; bytes: number } {
  const encoder = new BlockEncoder('dense');
  const header = { kind: SegmentKind.Compacted, shardId: meta.shardId, sequence: meta.sequence, createdAtMs: meta.nowMs, capacityBytes: 0 };
  const index = new SegmentIndex(finalPath, header);
  index.compaction = meta.compaction;
  const fd = fsys.open(tmpPath, 'w');
  let offset = SEGMENT_HEADER_BYTES;
  let points = 0;
  try {
    // Pending block: runs of (series ref, points) — a series with several expiries gets one run each.
    let pending: OutputRun[] = [];
    let pendingPoints = 0;
    let defined: SeriesKey[] = [];
    let nextRef = 0;
    const flush = (): void => {
      if (pendingPoints === 0) return;
      const n = pendingPoints;
      const hasInts = pending.some((r) => r.s.int);
      const hasTexts = pending.some((r) => r.s.text);
      const cols = {
        pointCount: n,
        runCount: pending.length,
        runRefs: Uint32Array.from(pending, (r) => r.ref),
        runPointCounts: Uint32Array.from(pending, (r) => r.idx.length),
        runTtlSeconds: new Uint32Array(pending.length),
        timestampsMs: new Float64Array(n),
        kinds: new Uint8Array(n),
        floats: new Float64Array(n),
        ints: new BigInt64Array(hasInts ? n : 0),
        texts: new Array<string | undefined>(hasTexts ? n : 0),
      };
      // The block's writtenAtMs and sequence are the newest of its points' sources, so a block
      // never loses a duplicate contest against a later write it used to win in this shard.
      let writtenAtMs = -Infinity;
      let sequence = 0;
      let minTs = Infinity;
      let maxTs = -Infinity;
      let i = 0;
      for (const r of pending) {
        const s = r.s;
        for (const j of r.idx) {
          const t = s.t[j]!;
          cols.timestampsMs[i] = t;
          cols.kinds[i] = s.kind[j]!;
          cols.floats[i] = s.float[j]!;
          if (s.int) cols.ints[i] = s.int[j]!;
          if (s.text) cols.texts[i] = s.text[j];
          const src = s.run[j]!;
          if (runs.writtenAtMs[src]! > writtenAtMs) writtenAtMs = runs.writtenAtMs[src]!;
          if (runs.sequence[src]! > sequence) sequence = runs.sequence[src]!;
          if (t < minTs) minTs = t;
          if (t > maxTs) maxTs = t;
          i++;
        }
      }
      // Keep each run's expiry: the TTL is relative to the block's writtenAtMs, which may now be
      // later than the point's own write; rounding up can only extend a point's life by < 1 s.
      pending.forEach((r, k) => {
        const expires = runs.expiresAtMs[r.s.run[r.idx[0]!]!]!;
        cols.runTtlSeconds[k] = Number.isFinite(expires) ? Math.max(1, Math.ceil((expires - writtenAtMs) / 1000)) : 0;
      });
      const bytes = encoder.encode(cols, defined, { firstNewSeriesRef: nextRef - defined.length, sequence, writtenAtMs, batchContinues: false });
      fsys.pwrite(fd, bytes, offset);
      index.addBlock({ offset, blockBytes: bytes.length, pointCount: n, minTimestampMs: minTs, maxTimestampMs: maxTs, sequence, writtenAtMs, refs: cols.runRefs }, defined);
      offset += bytes.length;
      points += n;
      pending = [];
      pendingPoints = 0;
      defined = [];
    };
    for (const s of series) {
      const kept = survivors(s, runs);
      if (kept.length === 0) continue;
      const expiryOf = (k: number): number => runs.expiresAtMs[s.run[kept[k]!]!]!;
      let ref = -1;
      let from = 0;
      while (from < kept.length) {
        // A run: consecutive points with the same expiry, at most what fits in the block.
        const room = MAX_BLOCK_POINTS - pendingPoints;
        let to = from + 1;
        while (to < kept.length && to - from < room && expiryOf(to) === expiryOf(from)) to++;
        if (to - from === room && to < kept.length && s.t[kept[to]!] === s.t[kept[to - 1]!]) {
          // The block is full in the middle of the versions of one timestamp. Across blocks their
          // order would rest on the blocks' writtenAtMs, which need not follow it: cut before them.
          const t = s.t[kept[to]!]!;
          let start = to - 1;
          while (start > from && s.t[kept[start - 1]!] === t) start--;
          if (start > from) {
            to = start;
          } else if (pendingPoints > 0) {
            flush();
            continue;
          }
        }
        if (ref < 0) {
          // First run of this series in the segment: the current block defines it.
          ref = nextRef++;
          defined.push(s.key);
        }
        pending.push({ ref, s, idx: kept.subarray(from, to) });
        pendingPoints += to - from;
        from = to;
        if (pendingPoints >= MAX_BLOCK_POINTS) flush();
      }
      if (pendingPoints >= TARGET_BLOCK_POINTS) flush();
    }
    flush();
    const tail = encodeFooterAndTrailer(index, offset);
    fsys.pwrite(fd, tail, offset);
    const headerBytes = new Uint8Array(SEGMENT_HEADER_BYTES);
    encodeSegmentHeader(headerBytes, { ...header, capacityBytes: offset + tail.length });
    fsys.pwrite(fd, headerBytes, 0);
    fsys.fsync(fd);
    return { points, bytes: offset + tail.length };
  } finally {
    fsys.close(fd);
  }
}

/** Unlinks what exists of `paths`, ignoring failures (recovery cleans up at the next open). */
function removeQuietly(fsys: FileSystem, paths: readonly string[]): void {
  for (const p of paths) {
    try {
      if (fsys.exists(p)) fsys.unlink(p);
    } catch {
      // Left for recovery.
    }
  }
}

/**
 * The compaction info of a readable compacted segment; undefined for ingest segments (only their
 * 64-byte header is read), unreadable files and compacted segments whose footer fails its checks.
 */
function compactionInfoOf(fsys: FileSystem, filePath: string): CompactionInfo | undefined {
  const fd = fsys.open(filePath, 'r');
  try {
    const size = fsys.sizeOf(fd);
    const source = fileSource(fsys, fd, size);
    const header = decodeSegmentHeader(source.read(0, SEGMENT_HEADER_BYTES));
    if (typeof header === 'string' || header.kind !== SegmentKind.Compacted) return undefined;
    const opened = openSegment(filePath, source);
    return opened.ok && opened.index.sealed ? opened.index.compaction : undefined;
  } finally {
    fsys.close(fd);
  }
}

/**
 * Commits or rolls back compactions a crash (or an I/O error) interrupted. Call before reading a
 * shard, after deleting its *.tmp files. Groups compacted segments by compaction id and, newest
 * compaction first:
 * - every output present → the compaction had committed: delete the sources still present;
 * - some output missing, every source present → it had not: delete the outputs present (the
 *   sources hold every point they do);
 * - some output missing and some source gone → it committed and later lost an output (a later
 *   compaction took it, or it was quarantined): delete nothing, log `compaction.unresolved`.
 *   Never roll back a compaction whose sources are gone: its outputs are the only copy.
 */
export function finishInterruptedCompactions(fsys: FileSystem, shardDir: string, log: EngineLog = () => {}): void {
  const groups = new Map<number, { outputs: number[]; outputCount: number; sources: readonly number[] }>();
  const present = new Set<number>();
  for (const name of fsys.readdir(shardDir)) {
    const seq = parseSegmentFileName(name);
    if (seq === undefined) continue;
    present.add(seq);
    const c = compactionInfoOf(fsys, path.join(shardDir, name));
    if (!c) continue;
    let g = groups.get(c.compactionId);
    if (!g) {
      g = { outputs: [], outputCount: c.outputCount, sources: c.sourceSequences };
      groups.set(c.compactionId, g);
    }
    g.outputs.push(seq);
  }
  const newestFirst = [...groups].sort(([, a], [, b]) => Math.max(...b.outputs) - Math.max(...a.outputs));
  for (const [compactionId, g] of newestFirst) {
    const outputs = g.outputs.filter((s) => present.has(s));
    const sources = g.sources.filter((s) => present.has(s));
    if (sources.length === 0) continue; // finished
    let remove: number[];
    let event: string;
    if (outputs.length === g.outputCount) {
      remove = sources;
      event = 'compaction.committed_at_recovery';
    } else if (sources.length === g.sources.length) {
      remove = outputs;
      event = 'compaction.rolled_back_at_recovery';
    } else {
      log({ level: 'warn', event: 'compaction.unresolved', compactionId, outputsPresent: outputs, outputCount: g.outputCount, sourcesPresent: sources });
      continue;
    }
    for (const s of remove) {
      try {
        fsys.unlink(path.join(shardDir, segmentFileName(s)));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw fromSystemError(err, `finishing compaction ${compactionId} in ${shardDir}`);
      }
      present.delete(s);
    }
    fsys.fsyncDir(shardDir);
    log({ level: 'warn', event, compactionId, removed: remove.map(segmentFileName) });
  }
}
