// Read side of one shard directory: keeps an index of its segments in step with the disk
// (new segments, blocks appended to the active one, seals, compaction swaps) and reads the blocks
// a scan needs. Never writes; sees only whole, checksummed, batch-complete blocks, so it can run
// on any thread while the shard's writer appends.
import * as path from 'node:path';
import type { Catalog } from '../catalog/catalog.js';
import { seriesKeysEnd } from '../catalog/series-key.js';
import { CorruptionError } from '../errors.js';
import type { FileSystem } from '../io/fs.js';
import type { SeriesId, SeriesKey } from '../types.js';
import { decodeBlock, type DecodedBlock } from './block.js';
import { TRAILER_BYTES, decodeTrailer, parseSegmentFileName, segmentFileName } from './format.js';
import { walkBlocks, type BlockEntry, type SegmentIndex, type SegmentReadOptions } from './segment-index.js';
import { fileSource, openSegment } from './segment-file.js';

/**
 * Series definitions stay binary keys until the catalog resolves them, and walked blocks are read
 * up to their runs (SegmentReadOptions). Bench: bench/catalog.bench.ts "Engine.open 1M".
 */
const READ_OPTIONS: SegmentReadOptions = { encodedKeys: true };

/** One segment as the reader knows it, with its refs mapped to catalog ids. */
export interface SegmentView {
  readonly sequence: number;
  index: SegmentIndex;
  /** refToId[ref] = catalog id of the segment's series `ref`; grows with the index. */
  refToId: Uint32Array;
  /** Sorted catalog ids and their refs, rebuilt lazily when the series count changes. */
  byId: { ids: Uint32Array; refs: Uint32Array } | undefined;
  /**
   * Key of a mapped ref, from the catalog: the index releases its copy of the keys once they
   * are mapped (SegmentIndex.releaseSeriesKeys) and asks this if it ever needs one again.
   */
  readonly keyOf: (ref: number) => SeriesKey;
}

export class ShardReader {
  private readonly views = new Map<number, SegmentView>();

  constructor(
    private readonly fsys: FileSystem,
    readonly dir: string,
    readonly shardId: number,
    private readonly catalog: Catalog,
  ) {}

  /**
   * Brings the index in step with the directory. Registers every series it meets with the
   * catalog. A segment that cannot be opened (being quarantined or replaced) is skipped.
   */
  refresh(): void {
    const fsys = this.fsys;
    if (!fsys.exists(this.dir)) return;
    const present = new Set<number>();
    for (const name of fsys.readdir(this.dir)) {
      const seq = parseSegmentFileName(name);
      if (seq !== undefined) present.add(seq);
    }
    for (const seq of this.views.keys()) if (!present.has(seq)) this.views.delete(seq);
    for (const seq of [...present].sort((a, b) => a - b)) {
      const view = this.views.get(seq);
      if (view && view.index.sealed) continue;
      this.refreshSegment(seq, view);
    }
  }

  private refreshSegment(seq: number, view: SegmentView | undefined): void {
    const fsys = this.fsys;
    const filePath = path.join(this.dir, segmentFileName(seq));
    let fd: number;
    try {
      fd = fsys.open(filePath, 'r');
    } catch {
      return; // gone between readdir and open (compaction retired it)
    }
    try {
      const size = fsys.sizeOf(fd);
      const source = fileSource(fsys, fd, size);
      const sealedNow = size >= TRAILER_BYTES && decodeTrailer(source.read(size - TRAILER_BYTES, TRAILER_BYTES)) !== undefined;
      if (view && !sealedNow) {
        // Still active: continue the walk where it stopped.
        walkBlocks(source, view.index, READ_OPTIONS);
      } else {
        const opened = openSegment(filePath, source, READ_OPTIONS);
        if (!opened.ok) return;
        if (view) view.index = opened.index;
        else this.views.set(seq, this.newView(seq, opened.index));
      }
    } finally {
      fsys.close(fd);
    }
    this.mapRefs(this.views.get(seq)!);
  }

  private newView(sequence: number, index: SegmentIndex): SegmentView {
    const catalog = this.catalog;
    const view: SegmentView = {
      sequence,
      index,
      refToId: new Uint32Array(0),
      byId: undefined,
      keyOf: (ref) => catalog.key(view.refToId[ref]! as SeriesId),
    };
    return view;
  }

  /**
   * Resolves the series the segment defined since the last call with the catalog, straight from
   * their binary keys, then lets the index drop them. Throws CorruptionError if a key is corrupt
   * (a structure whose checksum holds but whose key does not decode: a writer bug).
   */
  private mapRefs(view: SegmentView): void {
    const index = view.index;
    const from = view.refToId.length;
    const n = index.seriesCount;
    if (from < n) {
      const next = new Uint32Array(n);
      next.set(view.refToId);
      const runs = index.encodedSeriesRuns(from);
      if (runs === undefined) {
        const keys = index.seriesKeys;
        for (let ref = from; ref < n; ref++) next[ref] = this.catalog.resolve(keys[ref]!);
      } else {
        // Size the catalog for the new refs at once rather than by doublings (bench:
        // bench/catalog.bench.ts "Engine.open 1M"), but by at most its current size: any worker
        // accepts any series, so a later shard's refs may be mostly series the catalog has
        // already, and reserving for all of them could oversize it many times over.
        const size = this.catalog.size;
        this.catalog.reserve(size === 0 ? n - from : Math.min(n - from, size));
        for (const run of runs) {
          try {
            let pos = 0;
            // A run that starts below `from` (a segment sealed since the last call: its footer
            // repeats the refs the walk already mapped) is resolved from `from` on.
            if (run.firstRef < from) pos = seriesKeysEnd(run.bytes, 0, from - run.firstRef, run.bytes.length);
            const first = Math.max(from, run.firstRef);
            this.catalog.resolveEncodedKeys(run.bytes, pos, run.firstRef + run.count - first, next, first);
          } catch (err) {
            throw new CorruptionError(index.path, run.fileOffset, `series definition: ${(err as Error).message}`);
          }
        }
      }
      view.refToId = next;
      view.byId = undefined;
    }
    index.releaseSeriesKeys(view.keyOf);
  }

  segments(): SegmentView[] {
    return [...this.views.values()].sort((a, b) => a.sequence - b.sequence);
  }

  /** Refs of the wanted ids present in this segment, as a per-ref flag array (undefined: none). */
  wantedRefs(view: SegmentView, wanted: Uint32Array): Uint8Array | undefined {
    const n = view.refToId.length;
    if (n === 0) return undefined;
    let flags: Uint8Array | undefined;
    if (wanted.length * 8 < n) {
      view.byId ??= sortById(view.refToId);
      const { ids, refs } = view.byId;
      for (const id of wanted) {
        const at = lowerBound(ids, id);
        if (at < ids.length && ids[at] === id) {
          flags ??= new Uint8Array(n);
          flags[refs[at]!] = 1;
        }
      }
    } else {
      const wantedSet = new Set<number>(wanted);
      for (let ref = 0; ref < n; ref++) {
        if (wantedSet.has(view.refToId[ref]!)) {
          flags ??= new Uint8Array(n);
          flags[ref] = 1;
        }
      }
    }
    return flags;
  }

  /** Reads and decodes one block; damage is reported as CorruptionError with file and offset. */
  readBlock(view: SegmentView, entry: BlockEntry): DecodedBlock {
    const fsys = this.fsys;
    const filePath = view.index.path;
    const fd = fsys.open(filePath, 'r');
    try {
      const bytes = new Uint8Array(entry.blockBytes);
      const got = fsys.pread(fd, bytes, entry.offset);
      try {
        return decodeBlock(bytes, got);
      } catch (err) {
        throw new CorruptionError(filePath, entry.offset, (err as Error).message);
      }
    } finally {
      fsys.close(fd);
    }
  }
}

function sortById(refToId: Uint32Array): { ids: Uint32Array; refs: Uint32Array } {
  const refs = new Uint32Array(refToId.length);
  for (let i = 0; i < refs.length; i++) refs[i] = i;
  refs.sort((a, b) => refToId[a]! - refToId[b]!);
  const ids = new Uint32Array(refs.length);
  for (let i = 0; i < refs.length; i++) ids[i] = refToId[refs[i]!]!;
  return { ids, refs };
}

function lowerBound(sorted: Uint32Array, v: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! < v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

