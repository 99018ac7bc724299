// Compaction and retention of one shard (docs/format/compaction.md): rewrites sealed segments
// into time-partitioned, series-sorted, densely encoded segments, resolving duplicates (last
// write wins) and dropping what TTL, retention and tombstones hide. Crash-safe: outputs are
// written as *.tmp, synced, renamed into place, and only then are the sources removed; an
// interrupted run is committed or rolled back by finishInterruptedCompactions at the next open.
// Limit of this version: it holds all points of the sources in memory at once.
import * as path from 'node:path';
import { canonicalSeriesKey } from '../catalog/series-key.js';
import { fromSystemError } from '../errors.js';
import { NodeFileSystem, type FileSystem } from '../io/fs.js';
import { BlockEncoder, decodeBlock } from '../segment/block.js';
import {
  SEGMENT_HEADER_BYTES,
  SegmentKind,
  encodeSegmentHeader,
  parseSegmentFileName,
  segmentFileName,
} from '../segment/format.js';
import { SegmentIndex, encodeFooterAndTrailer } from '../segment/segment-index.js';
import { fileSource, openSegment } from '../segment/segment-file.js';
import { selectorMatches, type Tombstone } from '../segment/tombstones.js';
import type { EngineLog } from '../segment/writer.js';
import { ValueKind, type SeriesKey } from '../types.js';

export const DEFAULT_PARTITION_MS = 86_400_000;
/** Points per output block before it is cut (at a series boundary when possible). */
const TARGET_BLOCK_POINTS = 32_768;
const MAX_BLOCK_POINTS = 65_536;

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
  /** Sequences of sealed segments to compact; default: every sealed segment in the directory. */
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

/** One surviving point: where it came from decides duplicates; expiry carries the TTL. */
interface Candidate {
  t: number;
  writtenAtMs: number;
  sequence: number;
  order: number;
  kind: number;
  float: number;
  int: bigint;
  text: string | undefined;
  /** Absolute expiry (ms) from the source run's TTL, or Infinity. */
  expiresAtMs: number;
}

interface SeriesPointsIn {
  readonly key: SeriesKey;
  readonly canonical: string;
  readonly points: Candidate[];
}

/**
 * Compacts sealed segments of one shard. The caller (the shard's writer thread) guarantees
 * nothing else rewrites the shard meanwhile. Throws EngineError (NoSpace/Io) if writing fails;
 * then no output is in place and every source is untouched.
 */
export function compactShard(options: CompactionOptions): CompactionResult {
  const fsys = options.fs ?? new NodeFileSystem();
  const now = (options.nowMs ?? Date.now)();
  const partitionMs = options.partitionMs ?? DEFAULT_PARTITION_MS;
  const retentionFloor = options.retentionMs ? now - options.retentionMs : -Infinity;
  const dir = options.shardDir;
  const compactionId = now * 1000 + Math.floor(Math.random() * 1000);
  const log = options.log ?? (() => {});

  const sources: { seq: number; index: SegmentIndex; bytes: number }[] = [];
  const wanted = options.sources ? new Set(options.sources) : undefined;
  for (const name of fsys.readdir(dir)) {
    const seq = parseSegmentFileName(name);
    if (seq === undefined || (wanted && !wanted.has(seq))) continue;
    const filePath = path.join(dir, name);
    const fd = fsys.open(filePath, 'r');
    try {
      const size = fsys.sizeOf(fd);
      const opened = openSegment(filePath, fileSource(fsys, fd, size));
      if (opened.ok && opened.index.sealed) sources.push({ seq, index: opened.index, bytes: size });
    } finally {
      fsys.close(fd);
    }
  }
  sources.sort((a, b) => a.seq - b.seq);

  // Gather every visible point, per partition and series.
  const partitions = new Map<number, Map<string, SeriesPointsIn>>();
  let pointsIn = 0;
  let order = 0;
  for (const source of sources) {
    const fd = fsys.open(source.index.path, 'r');
    try {
      for (const entry of source.index.blocks) {
        const bytes = new Uint8Array(entry.blockBytes);
        fsys.pread(fd, bytes, entry.offset);
        const block = decodeBlock(bytes, bytes.length);
        pointsIn += block.pointCount;
        let p = 0;
        for (let r = 0; r < block.runCount; r++) {
          const key = source.index.seriesKeys[block.runRefs[r]!]!;
          const count = block.runPointCounts[r]!;
          const ttl = block.runTtlSeconds[r]!;
          const expiresAtMs = ttl > 0 ? entry.writtenAtMs + ttl * 1000 : Infinity;
          const runStart = p;
          p += count;
          if (expiresAtMs <= now) continue;
          const tombs = options.tombstones.filter((t) => selectorMatches(t.selector, key));
          let canonical: string | undefined;
          for (let i = runStart; i < p; i++) {
            const t = block.timestampsMs[i]!;
            if (t < retentionFloor) continue;
            if (tombs.some((tb) => t >= tb.startMs && t <= tb.endMs && entry.writtenAtMs <= tb.createdAtMs)) continue;
            canonical ??= canonicalSeriesKey(key);
            const part = Math.floor(t / partitionMs);
            let series = partitions.get(part);
            if (!series) {
              series = new Map();
              partitions.set(part, series);
            }
            let s = series.get(canonical);
            if (!s) {
              s = { key, canonical, points: [] };
              series.set(canonical, s);
            }
            const kind = block.kinds[i]!;
            s.points.push({
              t,
              writtenAtMs: entry.writtenAtMs,
              sequence: entry.sequence,
              order: order++,
              kind,
              float: block.floats[i]!,
              int: kind === ValueKind.Int64 ? block.ints[i]! : 0n,
              text: kind === ValueKind.String || kind === ValueKind.Json ? block.texts[i] : undefined,
              expiresAtMs,
            });
          }
        }
      }
    } finally {
      fsys.close(fd);
    }
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
      const written = writeOutput(fsys, tmpPath, finalPath, series, {
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
    for (const tmp of tmpPaths) {
      try {
        if (fsys.exists(tmp)) fsys.unlink(tmp);
      } catch {
        // Recovery removes *.tmp at the next open.
      }
    }
    throw fromSystemError(err, `compacting ${dir}`);
  }
  // Commit point: once every output is renamed into place, the sources are redundant.
  outputs.forEach((seq, i) => fsys.rename(tmpPaths[i]!, path.join(dir, segmentFileName(seq))));
  fsys.fsyncDir(dir);
  for (const s of sources) fsys.unlink(s.index.path);
  fsys.fsyncDir(dir);
  const bytesIn = sources.reduce((n, s) => n + s.bytes, 0);
  log({ level: 'info', event: 'compaction.finished', shard: options.shardId, compactionId, sources: sources.length, outputs: outputs.length, pointsIn, pointsOut, bytesIn, bytesOut });
  return { compactionId, sources: sources.map((s) => s.seq), outputs, pointsIn, pointsOut, bytesIn, bytesOut };
}

/**
 * Resolves duplicates of one series (last write wins: writtenAtMs, then block sequence, then
 * position) and returns the survivors in time order.
 */
function survivors(points: Candidate[]): Candidate[] {
  points.sort((a, b) => a.t - b.t || a.writtenAtMs - b.writtenAtMs || a.sequence - b.sequence || a.order - b.order);
  const out: Candidate[] = [];
  for (let i = 0; i < points.length; i++) {
    if (i + 1 < points.length && points[i + 1]!.t === points[i]!.t) continue;
    out.push(points[i]!);
  }
  return out;
}

function writeOutput(
  fsys: FileSystem,
  tmpPath: string,
  finalPath: string,
  series: SeriesPointsIn[],
  meta: { shardId: number; sequence: number; nowMs: number; compaction: SegmentIndex['compaction'] & object },
): { points: number; bytes: number } {
  const encoder = new BlockEncoder('dense');
  const header = { kind: SegmentKind.Compacted, shardId: meta.shardId, sequence: meta.sequence, createdAtMs: meta.nowMs, capacityBytes: 0 };
  const index = new SegmentIndex(finalPath, header);
  index.compaction = meta.compaction;
  const fd = fsys.open(tmpPath, 'w');
  let offset = SEGMENT_HEADER_BYTES;
  let points = 0;
  try {
    // Pending block: runs of (series ref, points, ttl) — a series with several TTLs gets one run each.
    let runs: { ref: number; pts: Candidate[]; ttlSeconds: number }[] = [];
    let pending = 0;
    let defined: SeriesKey[] = [];
    let nextRef = 0;
    const flush = (): void => {
      if (pending === 0) return;
      const n = pending;
      const cols = {
        pointCount: n,
        runCount: runs.length,
        runRefs: Uint32Array.from(runs, (r) => r.ref),
        runPointCounts: Uint32Array.from(runs, (r) => r.pts.length),
        runTtlSeconds: Uint32Array.from(runs, (r) => r.ttlSeconds),
        timestampsMs: new Float64Array(n),
        kinds: new Uint8Array(n),
        floats: new Float64Array(n),
        ints: new BigInt64Array(n),
        texts: new Array<string | undefined>(n),
      };
      let writtenAtMs = -Infinity;
      let sequence = 0;
      let minTs = Infinity;
      let maxTs = -Infinity;
      let i = 0;
      for (const run of runs) {
        for (const p of run.pts) {
          cols.timestampsMs[i] = p.t;
          cols.kinds[i] = p.kind;
          cols.floats[i] = p.float;
          cols.ints[i] = p.int;
          cols.texts[i] = p.text;
          if (p.writtenAtMs > writtenAtMs) writtenAtMs = p.writtenAtMs;
          if (p.sequence > sequence) sequence = p.sequence;
          if (p.t < minTs) minTs = p.t;
          if (p.t > maxTs) maxTs = p.t;
          i++;
        }
      }
      // Keep each run's expiry: the TTL is relative to the block's writtenAtMs, which may now be
      // later than the point's own write; rounding up can only extend a point's life by < 1 s.
      runs.forEach((run, r) => {
        const expires = run.pts[0]!.expiresAtMs;
        cols.runTtlSeconds[r] = Number.isFinite(expires) ? Math.max(1, Math.ceil((expires - writtenAtMs) / 1000)) : 0;
      });
      const bytes = encoder.encode(cols, defined, { firstNewSeriesRef: nextRef - defined.length, sequence, writtenAtMs, batchContinues: false });
      fsys.pwrite(fd, bytes, offset);
      index.addBlock({ offset, blockBytes: bytes.length, pointCount: n, minTimestampMs: minTs, maxTimestampMs: maxTs, sequence, writtenAtMs, refs: cols.runRefs }, defined);
      offset += bytes.length;
      points += n;
      runs = [];
      pending = 0;
      defined = [];
    };
    for (const s of series) {
      const kept = survivors(s.points);
      if (kept.length === 0) continue;
      let ref = -1;
      let from = 0;
      while (from < kept.length) {
        // A run: consecutive points with the same expiry, at most what fits in the block.
        let to = from + 1;
        const room = MAX_BLOCK_POINTS - pending;
        while (to < kept.length && to - from < room && kept[to]!.expiresAtMs === kept[from]!.expiresAtMs) to++;
        if (ref < 0) {
          // First run of this series in the segment: the current block defines it.
          ref = nextRef++;
          defined.push(s.key);
        }
        runs.push({ ref, pts: kept.slice(from, to), ttlSeconds: 0 });
        pending += to - from;
        from = to;
        if (pending >= MAX_BLOCK_POINTS) flush();
      }
      if (pending >= TARGET_BLOCK_POINTS) flush();
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

/**
 * Commits or rolls back compactions a crash interrupted. Call before reading a shard. For each
 * compaction id found in compacted segments' footers: all outputs present → delete the sources
 * still present (it had committed); some missing → delete the outputs present (it had not; the
 * sources are intact).
 */
export function finishInterruptedCompactions(fsys: FileSystem, shardDir: string, log: EngineLog = () => {}): void {
  const groups = new Map<number, { outputs: string[]; outputCount: number; sources: readonly number[] }>();
  const present = new Set<number>();
  for (const name of fsys.readdir(shardDir)) {
    const seq = parseSegmentFileName(name);
    if (seq === undefined) continue;
    present.add(seq);
    const filePath = path.join(shardDir, name);
    const fd = fsys.open(filePath, 'r');
    try {
      const size = fsys.sizeOf(fd);
      const opened = openSegment(filePath, fileSource(fsys, fd, size));
      if (!opened.ok || opened.index.header.kind !== SegmentKind.Compacted || !opened.index.compaction) continue;
      const c = opened.index.compaction;
      let g = groups.get(c.compactionId);
      if (!g) {
        g = { outputs: [], outputCount: c.outputCount, sources: c.sourceSequences };
        groups.set(c.compactionId, g);
      }
      g.outputs.push(filePath);
    } finally {
      fsys.close(fd);
    }
  }
  for (const [compactionId, g] of groups) {
    if (g.outputs.length === g.outputCount) {
      const leftovers = g.sources.filter((s) => present.has(s));
      if (leftovers.length === 0) continue;
      for (const s of leftovers) fsys.unlink(path.join(shardDir, segmentFileName(s)));
      log({ level: 'warn', event: 'compaction.committed_at_recovery', compactionId, removedSources: leftovers });
    } else {
      for (const out of g.outputs) fsys.unlink(out);
      log({ level: 'warn', event: 'compaction.rolled_back_at_recovery', compactionId, removedOutputs: g.outputs });
    }
    fsys.fsyncDir(shardDir);
  }
}
