// Postings: sorted lists of series ids (one per metric and per tag pair in the catalog) and the
// set operations a matcher combines them with. In-memory only, never persisted (ids are
// process-local). Set operations never modify their inputs and always return fresh arrays.
import type { SeriesId } from '../types.js';

const EMPTY_IDS = new Uint32Array(0);

/**
 * A growable sorted list of series ids, like Prometheus' MemPostings lists: the catalog hands out
 * ids in increasing order, so `add` is an append in the common case.
 */
export class Postings {
  /**
   * ids[0..n) strictly increasing (no duplicates); ids[n..) is spare capacity. Capacity doubles
   * when full (amortised O(1) append). Only `add` writes.
   */
  private ids: Uint32Array;
  private n = 0;

  constructor(initialCapacity = 4) {
    this.ids = new Uint32Array(Math.max(1, initialCapacity));
  }

  get length(): number {
    return this.n;
  }

  /** Allocated capacity in bytes (for memory accounting). */
  get capacityBytes(): number {
    return this.ids.byteLength;
  }

  /**
   * Adds `id` keeping the list sorted and duplicate-free. Greater than the last id: O(1)
   * amortised append (the catalog's only case). Already present: no-op. Smaller: binary search
   * and shift, O(n) — allowed so a caller building lists out of order stays correct.
   */
  add(id: SeriesId | number): void {
    const n = this.n;
    if (n === this.ids.length) this.grow();
    const ids = this.ids;
    if (n === 0 || id > ids[n - 1]!) {
      ids[n] = id;
      this.n = n + 1;
      return;
    }
    const at = lowerBound(ids, 0, n, id);
    if (ids[at] === id) return;
    ids.copyWithin(at + 1, at, n);
    ids[at] = id;
    this.n = n + 1;
  }

  /** Whether `id` is in the list (binary search). */
  has(id: SeriesId | number): boolean {
    const at = lowerBound(this.ids, 0, this.n, id);
    return at < this.n && this.ids[at] === id;
  }

  /**
   * Zero-copy view of the sorted ids. Valid until the next `add`; the caller must not write to it
   * (copy with `slice()` to keep or modify).
   */
  view(): Uint32Array {
    return this.ids.subarray(0, this.n);
  }

  private grow(): void {
    const next = new Uint32Array(this.ids.length * 2);
    next.set(this.ids);
    this.ids = next;
  }
}

/** First index i in [from, to) with sorted[i] ≥ v, or `to`. */
function lowerBound(sorted: Uint32Array, from: number, to: number, v: number): number {
  let lo = from;
  let hi = to;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! < v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * First index i ≥ from with sorted[i] ≥ v, or sorted.length: exponential probe (1, 2, 4, …)
 * then binary search inside the last step. O(log d) for a distance d, so walking a long list
 * with it while stepping through a short one costs O(m·log(n/m)) instead of O(n + m).
 */
function gallop(sorted: Uint32Array, from: number, v: number): number {
  const len = sorted.length;
  if (from >= len || sorted[from]! >= v) return from;
  let lo = from; // sorted[lo] < v
  let step = 1;
  let hi = from + 1;
  while (hi < len && sorted[hi]! < v) {
    lo = hi;
    step *= 2;
    hi = lo + step;
  }
  return lowerBound(sorted, lo + 1, hi < len ? hi : len, v);
}

/** Copies out[0..n) into an exactly sized array unless it already is one. */
function trimmed(out: Uint32Array, n: number): Uint32Array {
  return n === out.length ? out : out.slice(0, n);
}

/**
 * Ids present in every list, sorted. Lists must each be sorted strictly increasing; none is
 * modified. No lists → empty (there is no universe to return). Works from the shortest list
 * and gallops through the others, so a 10-id list against a 1 M-id list costs ~10·log(10^5)
 * steps, not 10^6; for lists of similar size the gallop degenerates to a plain merge.
 */
export function intersect(lists: readonly Uint32Array[]): Uint32Array {
  if (lists.length === 0) return new Uint32Array(0);
  const byLength = [...lists].sort((x, y) => x.length - y.length);
  const out = byLength[0]!.slice();
  let n = out.length;
  for (let l = 1; l < byLength.length && n > 0; l++) {
    const other = byLength[l]!;
    let j = 0;
    let kept = 0;
    for (let i = 0; i < n; i++) {
      const v = out[i]!;
      j = gallop(other, j, v);
      if (j >= other.length) break;
      if (other[j] === v) out[kept++] = v;
    }
    n = kept;
  }
  return trimmed(out, n);
}

/**
 * Ids present in any list, sorted, without duplicates. Lists must each be sorted strictly
 * increasing; none is modified. A k-way merge through a binary min-heap of list cursors:
 * O(T·log k) for T ids in total, one output allocation, no intermediate merged lists.
 */
export function union(lists: readonly Uint32Array[]): Uint32Array {
  const k = lists.length;
  if (k === 0) return new Uint32Array(0);
  if (k === 1) return lists[0]!.slice();
  if (k === 2) return mergeTwo(lists[0]!, lists[1]!);
  let total = 0;
  for (const list of lists) total += list.length;
  const out = new Uint32Array(total);
  let n = 0;
  // heap[0..size) holds indexes of non-exhausted lists, ordered by their current head value.
  const heap = new Int32Array(k);
  const cursor = new Int32Array(k);
  const head = (li: number): number => lists[li]![cursor[li]!]!;
  let size = 0;
  for (let li = 0; li < k; li++) if (lists[li]!.length > 0) heap[size++] = li;
  const siftDown = (from: number): void => {
    let at = from;
    const li = heap[at]!;
    const v = head(li);
    for (;;) {
      let child = 2 * at + 1;
      if (child >= size) break;
      if (child + 1 < size && head(heap[child + 1]!) < head(heap[child]!)) child++;
      if (head(heap[child]!) >= v) break;
      heap[at] = heap[child]!;
      at = child;
    }
    heap[at] = li;
  };
  for (let i = (size >> 1) - 1; i >= 0; i--) siftDown(i);
  while (size > 0) {
    const li = heap[0]!;
    const v = head(li);
    if (n === 0 || out[n - 1] !== v) out[n++] = v;
    const next = cursor[li]! + 1;
    cursor[li] = next;
    if (next >= lists[li]!.length) heap[0] = heap[--size]!;
    if (size > 0) siftDown(0);
  }
  return trimmed(out, n);
}

function mergeTwo(a: Uint32Array, b: Uint32Array): Uint32Array {
  if (a.length === 0) return b.slice();
  if (b.length === 0) return a.slice();
  const out = new Uint32Array(a.length + b.length);
  let i = 0;
  let j = 0;
  let n = 0;
  while (i < a.length && j < b.length) {
    const x = a[i]!;
    const y = b[j]!;
    if (x < y) {
      out[n++] = x;
      i++;
    } else if (y < x) {
      out[n++] = y;
      j++;
    } else {
      out[n++] = x;
      i++;
      j++;
    }
  }
  while (i < a.length) out[n++] = a[i++]!;
  while (j < b.length) out[n++] = b[j++]!;
  return trimmed(out, n);
}

/**
 * Ids of `a` that are not in `b`, sorted. Both must be sorted strictly increasing; neither is
 * modified. Walks `a` once and gallops through `b`, so subtracting a huge list from a short one
 * costs O(|a|·log(|b|/|a|)).
 */
export function subtract(a: Uint32Array, b: Uint32Array): Uint32Array {
  if (b.length === 0 || a.length === 0) return a.length === 0 ? EMPTY_IDS.slice() : a.slice();
  const out = new Uint32Array(a.length);
  let n = 0;
  let j = 0;
  let i = 0;
  for (; i < a.length; i++) {
    const v = a[i]!;
    j = gallop(b, j, v);
    if (j >= b.length) break;
    if (b[j] !== v) out[n++] = v;
  }
  // b is exhausted: the rest of a survives as is.
  if (i < a.length) {
    out.set(a.subarray(i), n);
    n += a.length - i;
  }
  return trimmed(out, n);
}
