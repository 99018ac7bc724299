// Postings: sorted lists of series ids, and the set operations queries combine them with.
// Like Prometheus' MemPostings, a list only ever grows at its end because ids are handed out in
// increasing order.
import type { SeriesId } from '../types.js';

/** Growable sorted id list. Invariant: ids strictly increasing; append-only. */
export class Postings {
  private ids = new Uint32Array(4);
  private n = 0;

  get length(): number {
    return this.n;
  }

  /** Appends `id`, which must be greater than every id already present (ignored if equal to the last). */
  add(id: SeriesId | number): void {
    if (this.n > 0) {
      const last = this.ids[this.n - 1]!;
      if (id === last) return;
      if (id < last) throw new RangeError(`postings out of order: ${id} after ${last}`);
    }
    if (this.n === this.ids.length) {
      const next = new Uint32Array(this.ids.length * 2);
      next.set(this.ids);
      this.ids = next;
    }
    this.ids[this.n++] = id;
  }

  /** A view of the ids; valid until the next add. */
  view(): Uint32Array {
    return this.ids.subarray(0, this.n);
  }
}

/** Ids present in both sorted lists (linear merge; gallops past long runs of the longer list). */
export function intersect(a: Uint32Array, b: Uint32Array): Uint32Array {
  if (a.length > b.length) [a, b] = [b, a];
  const out = new Uint32Array(a.length);
  let n = 0;
  let j = 0;
  for (let i = 0; i < a.length && j < b.length; i++) {
    const v = a[i]!;
    if (b[j]! < v) j = gallop(b, j, v);
    if (j < b.length && b[j] === v) out[n++] = v;
  }
  return out.subarray(0, n);
}

/** First index ≥ from with sorted[index] ≥ v (exponential then binary search). */
function gallop(sorted: Uint32Array, from: number, v: number): number {
  let step = 1;
  let hi = from + 1;
  while (hi < sorted.length && sorted[hi]! < v) {
    from = hi;
    step *= 2;
    hi = from + step;
  }
  let lo = from;
  hi = Math.min(hi, sorted.length);
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! < v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Sorted union without duplicates (pairwise merges, smallest first). */
export function union(lists: readonly Uint32Array[]): Uint32Array {
  if (lists.length === 0) return new Uint32Array(0);
  let queue = [...lists].sort((x, y) => x.length - y.length);
  while (queue.length > 1) {
    const merged = mergeTwo(queue[0]!, queue[1]!);
    queue = [merged, ...queue.slice(2)].sort((x, y) => x.length - y.length);
  }
  return queue[0]!;
}

function mergeTwo(a: Uint32Array, b: Uint32Array): Uint32Array {
  const out = new Uint32Array(a.length + b.length);
  let i = 0;
  let j = 0;
  let n = 0;
  while (i < a.length || j < b.length) {
    let v: number;
    if (j >= b.length || (i < a.length && a[i]! < b[j]!)) v = a[i++]!;
    else if (i >= a.length || b[j]! < a[i]!) v = b[j++]!;
    else {
      v = a[i++]!;
      j++;
    }
    out[n++] = v;
  }
  return out.subarray(0, n);
}

/** Ids in `a` and not in `b`. */
export function subtract(a: Uint32Array, b: Uint32Array): Uint32Array {
  const out = new Uint32Array(a.length);
  let n = 0;
  let j = 0;
  for (let i = 0; i < a.length; i++) {
    const v = a[i]!;
    while (j < b.length && b[j]! < v) j++;
    if (j < b.length && b[j] === v) continue;
    out[n++] = v;
  }
  return out.subarray(0, n);
}
