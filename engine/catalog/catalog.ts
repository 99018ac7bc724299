// The in-memory series catalog: series key ↔ dense SeriesId, and the inverted index
// (metric → ids, tag key → values, (key, value) → ids) that queries resolve against. Rebuilt from
// segment footers at start-up; never persisted itself. Single-threaded: owned by one thread.
import type { SeriesId, SeriesKey } from '../types.js';
import { canonicalSeriesKey, sortedTagKeys } from './series-key.js';
import { Postings, intersect, subtract, union } from './postings.js';

/**
 * Which series a query wants. `metric` exact; `tags`: for each key the series has one of the
 * listed values (OR within a key, AND across keys); `excludeTags` removes series having one of
 * those values; `tagKeyPresent`: the series has the key. An empty matcher selects every series.
 */
export interface SeriesMatcher {
  readonly metric?: string;
  readonly tags?: Readonly<Record<string, readonly string[]>>;
  readonly excludeTags?: Readonly<Record<string, readonly string[]>>;
  readonly tagKeyPresent?: readonly string[];
}

const EMPTY = new Uint32Array(0);
const SEP = '\u0000';

export class Catalog {
  /** canonical key → id. */
  private readonly ids = new Map<string, SeriesId>();
  /** id → metric (interned). Invariant: dense, append-only, parallel to `tagPairs`. */
  private readonly metrics: string[] = [];
  /** id → [k1, v1, k2, v2, …] sorted by key, strings interned. */
  private readonly tagPairs: (readonly string[])[] = [];
  /** One copy of every distinct metric, tag key and value string. */
  private readonly interned = new Map<string, string>();
  private readonly byMetric = new Map<string, Postings>();
  /** `key \0 value` → ids. */
  private readonly byTag = new Map<string, Postings>();
  /** tag key → its values (all metrics). */
  private readonly valuesByKey = new Map<string, Set<string>>();
  /** metric → tag key → values. */
  private readonly tagsByMetric = new Map<string, Map<string, Set<string>>>();

  get size(): number {
    return this.metrics.length;
  }

  private intern(s: string): string {
    const hit = this.interned.get(s);
    if (hit !== undefined) return hit;
    this.interned.set(s, s);
    return s;
  }

  /** The id of `key`, creating it (and indexing it) if new. Ids are dense from 0 in creation order. */
  resolve(key: SeriesKey): SeriesId {
    return this.resolveCanonical(canonicalSeriesKey(key), key);
  }

  /** As resolve, for callers that already hold `canonical === canonicalSeriesKey(key)`. */
  resolveCanonical(canonical: string, key: SeriesKey): SeriesId {
    const known = this.ids.get(canonical);
    if (known !== undefined) return known;
    const id = this.metrics.length as SeriesId;
    const metric = this.intern(key.metric);
    const pairs: string[] = [];
    let metricTags = this.tagsByMetric.get(metric);
    if (!metricTags) {
      metricTags = new Map();
      this.tagsByMetric.set(metric, metricTags);
    }
    for (const k of sortedTagKeys(key.tags)) {
      const ik = this.intern(k);
      const iv = this.intern(key.tags[k]!);
      pairs.push(ik, iv);
      postingsFor(this.byTag, ik + SEP + iv).add(id);
      setFor(this.valuesByKey, ik).add(iv);
      setFor(metricTags, ik).add(iv);
    }
    postingsFor(this.byMetric, metric).add(id);
    this.metrics.push(metric);
    this.tagPairs.push(pairs);
    this.ids.set(canonical, id);
    return id;
  }

  lookup(key: SeriesKey): SeriesId | undefined {
    return this.ids.get(canonicalSeriesKey(key));
  }

  /** The key of a known id (a fresh object each call). Throws RangeError for unknown ids. */
  key(id: SeriesId): SeriesKey {
    const metric = this.metrics[id];
    if (metric === undefined) throw new RangeError(`unknown series id ${id}`);
    const pairs = this.tagPairs[id]!;
    const tags: Record<string, string> = {};
    for (let i = 0; i < pairs.length; i += 2) tags[pairs[i]!] = pairs[i + 1]!;
    return { metric, tags };
  }

  /** Sorted ids of the series `matcher` selects. */
  select(matcher: SeriesMatcher): Uint32Array {
    let ids: Uint32Array;
    if (matcher.metric !== undefined) {
      ids = this.byMetric.get(matcher.metric)?.view().slice() ?? EMPTY;
    } else {
      ids = new Uint32Array(this.size);
      for (let i = 0; i < ids.length; i++) ids[i] = i;
    }
    for (const [k, values] of Object.entries(matcher.tags ?? {})) {
      if (ids.length === 0) return EMPTY;
      ids = intersect(ids, this.tagUnion(k, values));
    }
    for (const k of matcher.tagKeyPresent ?? []) {
      if (ids.length === 0) return EMPTY;
      ids = intersect(ids, this.tagUnion(k, [...(this.valuesByKey.get(k) ?? [])]));
    }
    for (const [k, values] of Object.entries(matcher.excludeTags ?? {})) {
      if (ids.length === 0) return EMPTY;
      ids = subtract(ids, this.tagUnion(k, values));
    }
    return ids;
  }

  private tagUnion(key: string, values: readonly string[]): Uint32Array {
    const lists: Uint32Array[] = [];
    for (const v of values) {
      const p = this.byTag.get(key + SEP + v);
      if (p) lists.push(p.view());
    }
    return union(lists);
  }

  /** Metric names, sorted, optionally those starting with `prefix`, at most `limit`. */
  metricNames(prefix = '', limit = Infinity): string[] {
    const out = [...this.byMetric.keys()].filter((m) => m.startsWith(prefix)).sort();
    return out.length > limit ? out.slice(0, limit) : out;
  }

  /** Tag keys, sorted: of one metric's series, or of all series. */
  tagKeys(metric?: string): string[] {
    const keys = metric === undefined ? this.valuesByKey.keys() : (this.tagsByMetric.get(metric)?.keys() ?? []);
    return [...keys].sort();
  }

  /** Values of tag `key`, sorted: within one metric's series, or across all. */
  tagValues(key: string, metric?: string): string[] {
    const values = metric === undefined ? this.valuesByKey.get(key) : this.tagsByMetric.get(metric)?.get(key);
    return [...(values ?? [])].sort();
  }

  /**
   * Rough heap bytes: per series the canonical-key map entry and the tag-pair array, plus the
   * interned strings and postings. An estimate for reports; bench/catalog.bench.ts measures.
   */
  memoryStats(): { series: number; approxBytes: number } {
    let bytes = 0;
    for (const s of this.interned.keys()) bytes += 2 * s.length + 16;
    for (const c of this.ids.keys()) bytes += 2 * c.length + 16 + 40;
    for (const p of this.tagPairs) bytes += 16 + 8 * p.length;
    bytes += 4 * (this.size * (1 + this.tagPairs.reduce((n, p) => n + p.length / 2, 0) / Math.max(1, this.size)));
    return { series: this.size, approxBytes: Math.round(bytes) };
  }
}

function postingsFor(map: Map<string, Postings>, key: string): Postings {
  let p = map.get(key);
  if (!p) {
    p = new Postings();
    map.set(key, p);
  }
  return p;
}

function setFor<K>(map: Map<K, Set<string>>, key: K): Set<string> {
  let s = map.get(key);
  if (!s) {
    s = new Set();
    map.set(key, s);
  }
  return s;
}
