// Read side of one shard directory: keeps an index of its segments in step with the disk
// (new segments, blocks appended to the active one, seals, compaction swaps) and reads the blocks
// a scan needs. Never writes; sees only whole, checksummed, batch-complete blocks, so it can run
// on any thread while the shard's writer appends.
import * as path from 'node:path';
import type { Catalog } from '../catalog/catalog.js';
import { CorruptionError } from '../errors.js';
import type { FileSystem } from '../io/fs.js';
import { decodeBlock, type DecodedBlock } from './block.js';
import { TRAILER_BYTES, decodeTrailer, parseSegmentFileName, segmentFileName } from './format.js';
import { walkBlocks, type BlockEntry, type SegmentIndex } from './segment-index.js';
import { fileSource, openSegment } from './segment-file.js';

/** One segment as the reader knows it, with its refs mapped to catalog ids. */
export interface SegmentView {
  readonly sequence: number;
  index: SegmentIndex;
  /** refToId[ref] = catalog id of the segment's series `ref`; grows with the index. */
  refToId: Uint32Array;
  /** Sorted catalog ids and their refs, rebuilt lazily when the series count changes. */
  byId: { ids: Uint32Array; refs: Uint32Array } | undefined;
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
        walkBlocks(source, view.index);
      } else {
        const opened = openSegment(filePath, source);
        if (!opened.ok) return;
        if (view) view.index = opened.index;
        else this.views.set(seq, { sequence: seq, index: opened.index, refToId: new Uint32Array(0), byId: undefined });
      }
    } finally {
      fsys.close(fd);
    }
    this.mapRefs(this.views.get(seq)!);
  }

  private mapRefs(view: SegmentView): void {
    const keys = view.index.seriesKeys;
    if (view.refToId.length === keys.length) return;
    const next = new Uint32Array(keys.length);
    next.set(view.refToId);
    for (let ref = view.refToId.length; ref < keys.length; ref++) next[ref] = this.catalog.resolve(keys[ref]!);
    view.refToId = next;
    view.byId = undefined;
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

