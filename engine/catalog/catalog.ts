// The in-memory series catalog: series key ⇄ dense SeriesId, and the inverted index (metric →
// ids, tag key → values, (tag key, value) → ids; (metric, tag key) → values is derived on
// demand) that matchers and listings run against. Never does I/O and is never persisted: the
// engine rebuilds it at open from the binary series keys in segments (docs/format/series-key.md),
// straight from their bytes. One thread owns an instance.
import type { SeriesId, SeriesKey } from '../types.js';
import { Postings, intersect, union, subtract } from './postings.js';
import { SeriesKeySplitter, decodeSeriesKeyText, setTag } from './series-key.js';
import { emptyPackedArray } from '../packed-array.js';

/**
 * Which series a query wants. All given parts must hold (AND):
 * - `metric`: exact metric name.
 * - `tags`: for each key, the series has that key with one of the listed values (OR within a
 *   key, AND across keys); an empty list matches nothing.
 * - `excludeTags`: the series does not have that key with one of the listed values (series
 *   without the key are kept).
 * - `tagKeyPresent`: the series has each of these keys, whatever the value.
 * An empty matcher selects every series.
 */
export interface SeriesMatcher {
  readonly metric?: string;
  readonly tags?: Readonly<Record<string, readonly string[]>>;
  readonly excludeTags?: Readonly<Record<string, readonly string[]>>;
  readonly tagKeyPresent?: readonly string[];
}

// Rough V8 sizes on 64-bit Node without pointer compression, for memoryStats(). Checked against
// heapUsed deltas in bench/catalog.bench.ts ("Catalog alone" vs "Catalog.memoryStats estimate").
const STRING_HEADER_BYTES = 16;
const MAP_ENTRY_BYTES = 40; // OrderedHashMap: key + value + chain + bucket share, ×1.5 fill slack
const SMALL_OBJECT_BYTES = 200; // a Map/Set or a Postings with its Uint32Array
const ARRAY_SLOT_BYTES = 8;

const NO_SYMBOL = -1;
/** Slots of Catalog.recentMetric; a power of two. */
const METRIC_MEMO_SLOTS = 64;

/** Tag-set records live in chunks of 2^16 u32 (256 KiB); a record never straddles two chunks. */
const RECORD_CHUNK_SHIFT = 16;
const RECORD_CHUNK_ENTRIES = 1 << RECORD_CHUNK_SHIFT;
const RECORD_CHUNK_MASK = RECORD_CHUNK_ENTRIES - 1;

// Series identity hash, Murmur3-style, over a key's record [metric, k1, v1, …] (rec[0..n), pairs
// sorted): the tag symbols rec[1..n) are mixed first (hashRecordTags, which alone keys the
// tag-set table), then the metric, then the result is finalised (finishRecordHash). Tables pick
// slots by `hash & mask`, so the low bits must be well mixed. Tags first so that keys sharing a
// tag set (a host's fields) share the partial hash and only mix in their metric (bench:
// bench/catalog.bench.ts "Engine.open 1M").

/** The partial hash of a record's tag symbols rec[1..n). */
function hashRecordTags(rec: Uint32Array, n: number): number {
  let h = 0x9747b28c ^ n;
  for (let i = 1; i < n; i++) h = mixRecordHash(h, rec[i]!);
  // Unsigned, as the tag-set table stores it; mixing it further treats it as int32 again.
  return h >>> 0;
}

function mixRecordHash(h: number, symbol: number): number {
  let k = Math.imul(symbol, 0xcc9e2d51);
  k = (k << 15) | (k >>> 17);
  h ^= Math.imul(k, 0x1b873593);
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

function finishRecordHash(tagsHash: number, metric: number): number {
  let h = mixRecordHash(tagsHash, metric);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** FNV-1a over buf[from, from + n), finalised so the low bits (the byte table's slot) are mixed. */
function hashBytes(buf: Uint8Array, from: number, n: number): number {
  let h = 0x811c9dc5;
  for (let i = from, to = from + n; i < to; i++) h = Math.imul(h ^ buf[i]!, 0x01000193);
  h ^= h >>> 15;
  h = Math.imul(h, 0x2c1b3c6d);
  h ^= h >>> 12;
  return h >>> 0;
}

/** UTF-8 encoder for interned strings that have a UTF-8 form (see Catalog.symbolUtf8). */
const utf8Encoder = new TextEncoder();

// `String.prototype.isWellFormed` ships in Node 20 (V8 11.3) but not in the ES2023 lib typings.
interface WellFormedCheck {
  isWellFormed(): boolean;
}

/**
 * A copy of the open-addressing table `old` ((hash, value + 1) pairs of u32, linear probing)
 * with `length` u32s, each pair moved to its slot in the new size. Growing re-hashes nothing.
 */
function rehashed(old: Uint32Array, length: number): Uint32Array<ArrayBuffer> {
  const table = new Uint32Array(length);
  const mask = (length >>> 1) - 1;
  for (let from = 0; from < old.length; from += 2) {
    const entry = old[from + 1]!;
    if (entry === 0) continue;
    const h = old[from]!;
    let slot = h & mask;
    while (table[2 * slot + 1] !== 0) slot = (slot + 1) & mask;
    table[2 * slot] = h;
    table[2 * slot + 1] = entry;
  }
  return table;
}

function grown(a: Uint32Array, minLength: number): Uint32Array<ArrayBuffer> {
  let size = a.length * 2;
  while (size < minLength) size *= 2;
  const next = new Uint32Array(size);
  next.set(a);
  return next;
}

/**
 * Series registry and inverted index.
 *
 * Memory layout (why it is not a `Map<canonicalString, id>` plus an array of SeriesKey objects):
 * every distinct metric, tag key and tag value string is stored once and named by a 32-bit
 * symbol; every distinct tag set once, as a flat record of symbols [k1, v1, k2, v2, …] in
 * shared Uint32Array chunks, named by a tag-set number; and a series is then just (metric
 * symbol, tag set), 8 bytes in two arrays. Series sharing a tag set (a host's metrics) share its
 * record, and consecutive keys with the same tags resolve without reading their tags again.
 * Identity lookups go through open-addressing tables over those numbers rather than through a
 * canonical string. An 8-tag series costs 8 bytes, 16-32 of table, its share of its tag set's
 * record (~100 bytes) and its postings. Bench: bench/catalog.bench.ts ("Catalog alone" vs
 * "naive catalog" bytes/series, "Engine.open 1M").
 */
export class Catalog {
  /**
   * string → symbol, for every symbol whose string exists (symbolText). Append-only. A symbol
   * resolveEncodedKeys interned from bytes gets its entry when its string is first needed
   * (knownSymbol, text).
   */
  private readonly symbolOf = new Map<string, number>();
  /**
   * symbol → string; dense, append-only, inverse of `symbolOf`. Undefined for a symbol interned
   * from bytes until its string is needed (text): a rebuild creates no string at all, only the
   * queries that name or list a string do. Bench: bench/catalog.bench.ts "Engine.open 1M".
   * Made in its final elements kind (emptyPackedArray: the warm-up's compiled code never met an
   * empty `[]` here).
   */
  private readonly symbolText: (string | undefined)[] = emptyPackedArray();
  /** Estimated heap bytes of the interned strings themselves. */
  private symbolBytes = 0;

  /**
   * The UTF-8 bytes of every interned string that has a UTF-8 form (all but strings holding a
   * lone surrogate, which no binary key can contain): symbol s is symbolUtf8[start[s], start[s]
   * + length[s]), length −1 = none. Append-only, like the symbols. With `byteTable` it lets
   * resolveEncodedKeys map a string's bytes to its symbol without decoding it: a rebuild decodes
   * no string (non-ASCII ones once, to check them) instead of every string of every key. Bench:
   * bench/catalog.bench.ts "Engine.open 1M" (docs/benchmarks.md#catalog).
   */
  private symbolUtf8 = new Uint8Array(1 << 12);
  private symbolUtf8Used = 0;
  private symbolUtf8Start = new Uint32Array(256);
  private symbolUtf8Length = new Int32Array(256);
  /**
   * Open-addressing table over the symbols' UTF-8 bytes, linear probing, as (hashBytes, symbol +
   * 1) pairs of u32, 0 = empty; power-of-two slot count, at most half full.
   */
  private byteTable = new Uint32Array(2 * 1024);
  private byteTableUsed = 0;
  /** Scratch for a string's UTF-8 form (knownSymbol). */
  private utf8Scratch = new Uint8Array(256);
  /** Splits binary keys for resolveEncodedKeys; its spans are scratch. */
  private readonly splitter = new SeriesKeySplitter();
  /** Symbol last seen at each string position of a binary key (−1: none); a memo like recentText. */
  private recentEncodedSymbol = new Int32Array(64).fill(NO_SYMBOL);
  /**
   * Recent metric symbols by a cheap fingerprint of their bytes (encodedMetricSymbol). The
   * metric changes from one key to the next (a host's fields are defined one after the other),
   * so the positional memo misses it every time; this finds it without hashing every byte.
   */
  private readonly recentMetric = new Int32Array(METRIC_MEMO_SLOTS).fill(NO_SYMBOL);
  /**
   * The tag set of the last key resolveEncodedKeys resolved (−1: none, or its build failed) and
   * its partial hash: a key whose tags repeat (SeriesKeySplitter.tagsRepeat) reuses both.
   */
  private encodedTagSet = -1;
  private encodedTagsHash = 0;

  /**
   * Tag sets: tagSetStart[t] = (chunk index << RECORD_CHUNK_SHIFT) | offset, and at that offset
   * in tagSetChunks[chunk index] sits p, the number of tags, then the 2p symbols [k1, v1, …] with
   * the pairs sorted by tag-key symbol ascending (a canonical order of the tag set that needs no
   * string comparison), then, in an indexed catalog, the p pair numbers of those (key, value)
   * pairs (pairPostings). Append-only. Fixed-size chunks instead of one doubling array: growth
   * never copies or re-faults earlier records, and the slack is one partly used chunk instead of
   * up to half the array. A record longer than a chunk gets a chunk of its own, sized to fit.
   */
  private readonly tagSetChunks: Uint32Array[] = [];
  /** Entries used in the last chunk of tagSetChunks. */
  private lastChunkUsed = 0;
  private tagSetStart = new Uint32Array(256);
  private tagSetCount = 0;
  /**
   * Open-addressing table over the tag sets, linear probing, as (hashRecordTags, tag set + 1)
   * pairs of u32, 0 = empty; power-of-two slot count, at most half full.
   */
  private tagSetTable = new Uint32Array(2 * 256);

  /** Series: seriesMetric[id] = its metric symbol, seriesTagSet[id] = its tag set. Append-only. */
  private seriesMetric = new Uint32Array(1024);
  private seriesTagSet = new Uint32Array(1024);
  private count = 0;
  /**
   * Open-addressing hash table over the series, linear probing, as (hash, id + 1) pairs of u32:
   * table[2s] = the identity hash of the series in slot s (finishRecordHash), table[2s + 1] = its
   * id + 1, 0 = empty. Power-of-two slot count, at most half full, so a probe sequence is short
   * and ends at an empty slot. The hash sits next to the id so that a probe reads one cache line, and growing
   * re-hashes nothing. Bench: bench/catalog.bench.ts "Engine.open 1M", "resolve existing series".
   */
  private table = new Uint32Array(2 * 2048);

  /**
   * metric symbol → ids of its series (undefined: not a metric), each list appended to in id
   * order; `metricSymbols` lists the symbols that have one, in creation order. An array indexed
   * by symbol rather than a Map: one lookup per new series. Bench: bench/catalog.bench.ts
   * "Engine.open 1M".
   */
  private metricPostings: (Postings | undefined)[] = [];
  private readonly metricSymbols: number[] = [];
  /** tag key symbol → value symbol → pair number. Inner keys are exactly the key's values. */
  private readonly byTag = new Map<number, Map<number, number>>();
  /** pair number → ids of the series whose tag set has that (key, value) pair, in id order. */
  private readonly pairPostings: Postings[] = [];
  /**
   * (key, value) of each pair number, and an open-addressing table over them ((hash, pair + 1)
   * pairs of u32, at most half full): a new tag set finds its pairs without two Map look-ups
   * each. Bench: bench/catalog.bench.ts "Engine.open 1M".
   */
  private pairKey = new Uint32Array(256);
  private pairValue = new Uint32Array(256);
  private pairTable = new Uint32Array(2 * 512);
  /** The (key, value) pair at each position of the last tag set added, and its pair number. */
  private recentPairKey = new Int32Array(32).fill(NO_SYMBOL);
  private recentPairValue = new Int32Array(32).fill(NO_SYMBOL);
  private recentPair = new Uint32Array(32);
  /** Metric names sorted in UTF-16 order; dropped (undefined) whenever a metric is added. */
  private sortedMetrics: string[] | undefined;

  /** Scratch record for lookups; grows to the largest tag count seen. Never escapes. */
  private scratch = new Uint32Array(64);
  /**
   * Memo of the last string seen at each record position (0 = metric, 2i+1 / 2i+2 = the i-th
   * tag's key / value in `Object.keys` order) and its symbol. Holds interned strings only.
   * Written only at positions ≤ its length (recordOf fills them in order), so it stays packed;
   * made in that kind from the start (emptyPackedArray: the warm-up's compiled code never met an
   * empty `[]` here).
   */
  private recentText: string[] = emptyPackedArray();
  private recentSymbol = new Int32Array(64);

  /**
   * False for an identity-only registry (a shard writer's series → id map): no inverted index is
   * built, which saves the postings' time and memory per new series; select and the listings
   * then throw. Bench: bench/append.bench.ts (the writer's catalog).
   */
  private readonly indexed: boolean;

  constructor(options: { readonly indexed?: boolean } = {}) {
    this.indexed = options.indexed ?? true;
  }

  /** Number of series; ids are exactly 0 .. size − 1. */
  get size(): number {
    return this.count;
  }

  /**
   * The id of `key`, registering and indexing it if new. Ids are dense from 0 in creation order
   * and stable for the life of this instance (they are not stable across restarts). Tag order in
   * `key.tags` is irrelevant. `key` is not retained: the catalog keeps its own copy of the strings.
   */
  resolve(key: SeriesKey): SeriesId {
    const n = this.recordOf(key, true);
    const tagsHash = hashRecordTags(this.scratch, n);
    const metric = this.scratch[0]!;
    const h = finishRecordHash(tagsHash, metric);
    // An existing series is found with one probe (comparing its tag set's record); only a new
    // one needs its tag set's number. Bench: bench/catalog.bench.ts "resolve existing series".
    const found = this.findRecord(h, metric, n);
    if (found >= 0) return found as SeriesId;
    return this.insert(-1 - found, h, metric, this.tagSetOf(tagsHash, n));
  }

  /** The id of `key` if registered; never registers anything. */
  lookup(key: SeriesKey): SeriesId | undefined {
    const n = this.recordOf(key, false);
    if (n < 0) return undefined;
    const metric = this.scratch[0]!;
    const found = this.findRecord(finishRecordHash(hashRecordTags(this.scratch, n), metric), metric, n);
    return found >= 0 ? (found as SeriesId) : undefined;
  }

  /**
   * Resolves `count` v1 binary series keys stored back to back from buf[pos] (a segment
   * footer's series dictionary, a block's series definitions: docs/format/series-key.md),
   * registering and indexing the new ones exactly as `resolve(decodeSeriesKey(…))` would, in
   * order, and writes the i-th key's id to ids[idsAt + i]. Returns the offset after the last
   * key. Throws RangeError on a corrupt key (bounds, tag order, invalid UTF-8); the keys before
   * it stay registered and their ids written. `buf` is not retained.
   *
   * Why not decode and resolve: strings are looked up by their bytes (positional memo, then the
   * byte table) and never decoded (a new non-ASCII one is, once, to check it), a key whose tag
   * bytes repeat the previous key's reuses its tag set outright, and no SeriesKey is built: the
   * 1 M-series rebuild went from 2.8 s (decode + resolve) to about 1 s. Bench:
   * bench/catalog.bench.ts "Engine.open 1M", "component: in-memory Catalog.resolveEncodedKeys".
   */
  resolveEncodedKeys(buf: Uint8Array, pos: number, count: number, ids: Uint32Array, idsAt: number): number {
    const splitter = this.splitter;
    try {
      for (let k = 0; k < count; k++) {
        splitter.split(buf, pos, buf.length);
        const spans = splitter.spans;
        let tagSet = this.encodedTagSet;
        let tagsHash = this.encodedTagsHash;
        if (!splitter.tagsRepeat || tagSet < 0) {
          this.encodedTagSet = -1;
          const n = splitter.count;
          if (n > this.scratch.length) this.growScratch(n);
          const rec = this.scratch;
          for (let i = 1; i < n; i += 2) {
            const ks = this.encodedSymbolAt(i, buf, spans[2 * i]!, spans[2 * i + 1]!);
            const vs = this.encodedSymbolAt(i + 1, buf, spans[2 * i + 2]!, spans[2 * i + 3]!);
            let at = i;
            while (at > 1 && rec[at - 2]! > ks) {
              rec[at] = rec[at - 2]!;
              rec[at + 1] = rec[at - 1]!;
              at -= 2;
            }
            rec[at] = ks;
            rec[at + 1] = vs;
          }
          tagsHash = hashRecordTags(rec, n);
          tagSet = this.tagSetOf(tagsHash, n);
          this.encodedTagsHash = tagsHash;
          this.encodedTagSet = tagSet;
        }
        const metric = this.encodedMetricSymbol(buf, spans[0]!, spans[1]!);
        ids[idsAt + k] = this.resolveSeries(finishRecordHash(tagsHash, metric), metric, tagSet);
        pos = splitter.end;
      }
    } finally {
      splitter.release();
    }
    return pos;
  }

  /**
   * Makes room for `additionalSeries` more series without growing the identity table or the id
   * arrays on the way (a rebuild knows each segment's series count before resolving it).
   * Never changes ids or answers. Bench: bench/catalog.bench.ts "Engine.open 1M".
   */
  reserve(additionalSeries: number): void {
    const total = this.count + additionalSeries;
    if (total > this.seriesMetric.length) {
      this.seriesMetric = grown(this.seriesMetric, total);
      this.seriesTagSet = grown(this.seriesTagSet, total);
    }
    // The table grows when count exceeds half its slots (insert): size it for `total` at once.
    let length = this.table.length;
    while (total > length >>> 2) length *= 2;
    if (length !== this.table.length) this.table = rehashed(this.table, length);
  }

  /**
   * The key of a registered id, as a fresh object the caller owns (rebuilt from the interned
   * strings on every call, so cache it if called in a loop). Property order of `tags` is
   * unspecified. Throws RangeError for an id this catalog never handed out.
   */
  key(id: SeriesId): SeriesKey {
    if (!(id >= 0 && id < this.count && Number.isInteger(id))) throw new RangeError(`unknown series id ${id}`);
    const start = this.tagSetStart[this.seriesTagSet[id]!]!;
    const rec = this.tagSetChunks[start >>> RECORD_CHUNK_SHIFT]!;
    const from = (start & RECORD_CHUNK_MASK) + 1;
    const to = from + 2 * rec[from - 1]!;
    const tags: Record<string, string> = {};
    for (let i = from; i < to; i += 2) setTag(tags, this.text(rec[i]!), this.text(rec[i + 1]!));
    return { metric: this.text(this.seriesMetric[id]!), tags };
  }

  /**
   * Ids of the series `matcher` selects (see SeriesMatcher), sorted ascending, as a fresh array
   * the caller owns. Unknown metrics, keys or values simply match nothing.
   *
   * Plan: intersect the postings of the positive parts (metric, each `tags` key's union of
   * values), shortest first; then drop candidates by reading their records for `tagKeyPresent`
   * (a union over every value of a key like `hostname` would touch every series) and subtract
   * each excluded value's postings (galloping, so cheap when candidates are few).
   */
  select(matcher: SeriesMatcher): Uint32Array {
    this.assertIndexed();
    const lists: Uint32Array[] = [];
    if (matcher.metric !== undefined) {
      const p = this.knownSymbol(matcher.metric);
      const postings = p === undefined ? undefined : this.metricPostings[p];
      if (postings === undefined) return new Uint32Array(0);
      lists.push(postings.view());
    }
    if (matcher.tags !== undefined) {
      for (const k of Object.keys(matcher.tags)) {
        const values = this.valuePostings(k, matcher.tags[k]!);
        if (values.length === 0) return new Uint32Array(0);
        lists.push(values.length === 1 ? values[0]! : union(values));
      }
    }
    let ids: Uint32Array;
    if (lists.length > 0) ids = intersect(lists);
    else {
      ids = new Uint32Array(this.count);
      for (let i = 0; i < ids.length; i++) ids[i] = i;
    }
    if (matcher.tagKeyPresent !== undefined && matcher.tagKeyPresent.length > 0 && ids.length > 0) {
      ids = this.withKeys(ids, matcher.tagKeyPresent);
    }
    if (matcher.excludeTags !== undefined) {
      for (const k of Object.keys(matcher.excludeTags)) {
        for (const p of this.valuePostings(k, matcher.excludeTags[k]!)) {
          if (ids.length === 0) return ids;
          ids = subtract(ids, p);
        }
      }
    }
    return ids;
  }

  /**
   * Metric names in UTF-16 code-unit order, optionally only those starting with `prefix`, at most
   * `limit` of them. A fresh array; the sorted list behind it is cached until a metric is added.
   */
  metricNames(prefix = '', limit = Infinity): string[] {
    this.assertIndexed();
    let sorted = this.sortedMetrics;
    if (sorted === undefined) {
      sorted = [];
      for (const m of this.metricSymbols) sorted.push(this.text(m));
      sorted.sort();
      this.sortedMetrics = sorted;
    }
    if (prefix === '') return sorted.slice(0, limit);
    let lo = 0;
    let hi = sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (sorted[mid]! < prefix) lo = mid + 1;
      else hi = mid;
    }
    const out: string[] = [];
    for (let i = lo; i < sorted.length && out.length < limit && sorted[i]!.startsWith(prefix); i++) out.push(sorted[i]!);
    return out;
  }

  /**
   * Tag keys in UTF-16 order: of the series of `metric` if given (read from those series'
   * records, O(series of the metric × tags)), else of all series (from the index).
   */
  tagKeys(metric?: string): string[] {
    this.assertIndexed();
    if (metric === undefined) return this.texts(this.byTag.keys());
    const ids = this.metricIds(metric);
    if (ids === undefined) return [];
    const keys = new Set<number>();
    let last = -1;
    for (let i = 0; i < ids.length; i++) {
      const tagSet = this.seriesTagSet[ids[i]!]!;
      if (tagSet === last) continue;
      last = tagSet;
      const start = this.tagSetStart[tagSet]!;
      const rec = this.tagSetChunks[start >>> RECORD_CHUNK_SHIFT]!;
      const from = (start & RECORD_CHUNK_MASK) + 1;
      const to = from + 2 * rec[from - 1]!;
      for (let j = from; j < to; j += 2) keys.add(rec[j]!);
    }
    return this.texts(keys);
  }

  /**
   * Values of tag `key` in UTF-16 order: among the series of `metric` if given (read from those
   * series' records, O(series of the metric × tags)), else across all series (from the index).
   *
   * Why (metric, key) → values is not an index: kept as Sets it cost 1.3 s of a 3.2 s rebuild of
   * 1 M devops series (one Set entry per series for a per-host tag, ×10 metrics) and ~30 bytes
   * per series; listings are rare and a 100 k-series metric is scanned in a few ms.
   */
  tagValues(key: string, metric?: string): string[] {
    this.assertIndexed();
    const k = this.knownSymbol(key);
    if (k === undefined) return [];
    if (metric === undefined) {
      const values = this.byTag.get(k);
      return values === undefined ? [] : this.texts(values.keys());
    }
    const ids = this.metricIds(metric);
    if (ids === undefined) return [];
    const values = new Set<number>();
    let last = -1;
    for (let i = 0; i < ids.length; i++) {
      const tagSet = this.seriesTagSet[ids[i]!]!;
      if (tagSet === last) continue;
      last = tagSet;
      const start = this.tagSetStart[tagSet]!;
      const rec = this.tagSetChunks[start >>> RECORD_CHUNK_SHIFT]!;
      const from = (start & RECORD_CHUNK_MASK) + 1;
      const to = from + 2 * rec[from - 1]!;
      for (let j = from; j < to; j += 2) {
        if (rec[j] === k) {
          values.add(rec[j + 1]!);
          break;
        }
      }
    }
    return this.texts(values);
  }

  /**
   * An estimate of the heap bytes this catalog holds, from its array capacities, string lengths
   * and per-entry V8 sizes (64-bit, no pointer compression). Within ~25 % of a measured heapUsed
   * delta on the devops key set of bench/catalog.bench.ts; walks the index, so O(postings).
   */
  memoryStats(): { series: number; approxBytes: number } {
    let bytes = this.seriesMetric.byteLength + this.seriesTagSet.byteLength + this.tagSetStart.byteLength + this.tagSetTable.byteLength;
    for (const chunk of this.tagSetChunks) bytes += chunk.byteLength;
    bytes += this.table.byteLength + this.scratch.byteLength;
    bytes += this.symbolUtf8.byteLength + this.symbolUtf8Start.byteLength + this.symbolUtf8Length.byteLength + this.byteTable.byteLength;
    bytes += this.symbolBytes + this.symbolText.length * ARRAY_SLOT_BYTES + this.symbolOf.size * MAP_ENTRY_BYTES + this.utf8Scratch.byteLength;
    bytes += this.metricPostings.length * ARRAY_SLOT_BYTES;
    for (const m of this.metricSymbols) bytes += ARRAY_SLOT_BYTES + SMALL_OBJECT_BYTES + this.metricPostings[m]!.capacityBytes;
    for (const values of this.byTag.values()) bytes += MAP_ENTRY_BYTES + SMALL_OBJECT_BYTES + values.size * MAP_ENTRY_BYTES;
    for (const p of this.pairPostings) bytes += ARRAY_SLOT_BYTES + SMALL_OBJECT_BYTES + p.capacityBytes;
    bytes += this.pairKey.byteLength + this.pairValue.byteLength + this.pairTable.byteLength;
    return { series: this.count, approxBytes: Math.round(bytes) };
  }

  // -------------------------------------------------------------------------------------------

  /**
   * Fills scratch[0..n) with the symbol record of `key` and returns n, interning new strings when
   * `create`; without it, returns -1 as soon as a string is unknown (no series can have it).
   *
   * Consecutive keys mostly repeat the previous key's strings at the same positions (a host's
   * fields during rebuild, one client's tag set in a batch), so each position first compares
   * with the string it held last time: pointer-equal or a short content compare, instead of a
   * Map lookup. Bench: bench/catalog.bench.ts "resolve existing series" and "component:
   * in-memory decode + Catalog.resolve".
   * Pairs are then insertion-sorted by key symbol: tag sets are small, and already-sorted input
   * (the usual case) costs one comparison per pair.
   */
  private recordOf(key: SeriesKey, create: boolean): number {
    const tags = key.tags;
    const keys = Object.keys(tags);
    const n = 1 + 2 * keys.length;
    if (n > this.scratch.length) this.growScratch(n);
    const rec = this.scratch;
    const m = this.symbolAt(0, key.metric, create);
    if (m === NO_SYMBOL) return -1;
    rec[0] = m;
    let end = 1;
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i]!;
      const ks = this.symbolAt(end, k, create);
      if (ks === NO_SYMBOL) return -1;
      const vs = this.symbolAt(end + 1, tags[k]!, create);
      if (vs === NO_SYMBOL) return -1;
      let at = end;
      while (at > 1 && rec[at - 2]! > ks) {
        rec[at] = rec[at - 2]!;
        rec[at + 1] = rec[at - 1]!;
        at -= 2;
      }
      rec[at] = ks;
      rec[at + 1] = vs;
      end += 2;
    }
    return n;
  }

  /** Grows the scratch record and the per-position memos to hold `n` symbols. */
  private growScratch(n: number): void {
    this.scratch = grown(this.scratch, n);
    const symbols = new Int32Array(this.scratch.length);
    symbols.set(this.recentSymbol);
    this.recentSymbol = symbols;
    const encoded = new Int32Array(this.scratch.length).fill(NO_SYMBOL);
    encoded.set(this.recentEncodedSymbol);
    this.recentEncodedSymbol = encoded;
  }

  /**
   * Symbol of the string stored in buf[from, from + n) at string position `pos` of a binary key,
   * interning it if new: the symbol seen at `pos` last time if the bytes match, else the byte
   * table, else (a new distinct string) decoded and interned.
   */
  private encodedSymbolAt(pos: number, buf: Uint8Array, from: number, n: number): number {
    const recent = this.recentEncodedSymbol[pos]!;
    if (recent !== NO_SYMBOL && this.symbolUtf8Length[recent] === n && this.utf8Equals(recent, buf, from, n)) return recent;
    const sym = this.encodedSymbol(buf, from, n);
    this.recentEncodedSymbol[pos] = sym;
    return sym;
  }

  /**
   * Symbol of the metric stored in buf[from, from + n): first the recent metric with the same
   * fingerprint (length, last and middle byte), else as encodedSymbolAt. Bench:
   * bench/catalog.bench.ts "Engine.open 1M" (the metric look-up was ~10 % of the rebuild).
   */
  private encodedMetricSymbol(buf: Uint8Array, from: number, n: number): number {
    const slot = n === 0 ? 0 : (Math.imul(n, 0x9e3779b1) ^ Math.imul(buf[from + n - 1]!, 0x85ebca6b) ^ buf[from + (n >> 1)]!) >>> 26;
    const recent = this.recentMetric[slot]!;
    if (recent !== NO_SYMBOL && this.symbolUtf8Length[recent] === n && this.utf8Equals(recent, buf, from, n)) return recent;
    const sym = this.encodedSymbol(buf, from, n);
    this.recentMetric[slot] = sym;
    return sym;
  }

  private encodedSymbol(buf: Uint8Array, from: number, n: number): number {
    const h = hashBytes(buf, from, n);
    const sym = this.byteSymbol(buf, from, n, h);
    // Not in the byte table: a new distinct string (every well-formed string interned either way
    // is in the table, and valid UTF-8 decodes to a well-formed string).
    return sym >= 0 ? sym : this.internEncoded(buf, from, n, h);
  }

  /** The symbol whose UTF-8 bytes are buf[from, from + n) (hashBytes h), or −1. */
  private byteSymbol(buf: Uint8Array, from: number, n: number, h: number): number {
    const table = this.byteTable;
    const mask = (table.length >>> 1) - 1;
    let slot = h & mask;
    for (;;) {
      const entry = table[2 * slot + 1]!;
      if (entry === 0) return -1;
      if (table[2 * slot] === h && this.symbolUtf8Length[entry - 1] === n && this.utf8Equals(entry - 1, buf, from, n)) return entry - 1;
      slot = (slot + 1) & mask;
    }
  }

  /** Whether symbol `sym`'s UTF-8 bytes (length already known to be n) equal buf[from, from + n). */
  private utf8Equals(sym: number, buf: Uint8Array, from: number, n: number): boolean {
    const bytes = this.symbolUtf8;
    const start = this.symbolUtf8Start[sym]!;
    for (let i = 0; i < n; i++) if (bytes[start + i] !== buf[from + i]) return false;
    return true;
  }

  /** Room for `maxBytes` more bytes at the end of symbolUtf8; returns where they start. */
  private reserveUtf8(maxBytes: number): number {
    const used = this.symbolUtf8Used;
    if (used + maxBytes > this.symbolUtf8.length) {
      let size = this.symbolUtf8.length * 2;
      while (size < used + maxBytes) size *= 2;
      const next = new Uint8Array(size);
      next.set(this.symbolUtf8.subarray(0, used));
      this.symbolUtf8 = next;
    }
    return used;
  }

  /** Records that symbol `sym`'s UTF-8 form, of hash h, was written to symbolUtf8[from, from + n). */
  private addUtf8(sym: number, from: number, n: number, h: number): void {
    this.symbolUtf8Used = from + n;
    this.symbolUtf8Start[sym] = from;
    this.symbolUtf8Length[sym] = n;
    if (2 * (this.byteTableUsed + 1) > this.byteTable.length >>> 1) this.byteTable = rehashed(this.byteTable, this.byteTable.length * 2);
    const table = this.byteTable;
    const mask = (table.length >>> 1) - 1;
    let slot = h & mask;
    while (table[2 * slot + 1] !== 0) slot = (slot + 1) & mask;
    table[2 * slot] = h;
    table[2 * slot + 1] = sym + 1;
    this.byteTableUsed++;
  }

  /** Symbol of `s` seen at record position `pos`, through the per-position memo. */
  private symbolAt(pos: number, s: string, create: boolean): number {
    if (this.recentText[pos] === s) return this.recentSymbol[pos]!;
    const sym = this.symbol(s, create);
    if (sym !== NO_SYMBOL) {
      this.recentText[pos] = this.text(sym);
      this.recentSymbol[pos] = sym;
    }
    return sym;
  }

  private symbol(s: string, create: boolean): number {
    const known = this.knownSymbol(s);
    if (known !== undefined) return known;
    return create ? this.intern(s) : NO_SYMBOL;
  }

  /**
   * The symbol of `s` if interned: from symbolOf, else (a symbol interned from bytes whose string
   * was never needed) by its UTF-8 bytes in the byte table, entering it in symbolOf on the way.
   */
  private knownSymbol(s: string): number | undefined {
    const known = this.symbolOf.get(s);
    if (known !== undefined || this.symbolOf.size === this.symbolText.length) return known;
    // No UTF-8 form (a lone surrogate): only `intern` makes such symbols, and it enters them.
    if (!(s as unknown as WellFormedCheck).isWellFormed()) return undefined;
    let bytes = this.utf8Scratch;
    if (3 * s.length > bytes.length) bytes = this.utf8Scratch = new Uint8Array(3 * s.length);
    const n = utf8Encoder.encodeInto(s, bytes).written;
    const sym = this.byteSymbol(bytes, 0, n, hashBytes(bytes, 0, n));
    if (sym < 0) return undefined;
    this.text(sym);
    return sym;
  }

  /** The string of symbol `sym`, decoded from its UTF-8 bytes (and remembered) on first use. */
  private text(sym: number): string {
    const known = this.symbolText[sym];
    if (known !== undefined) return known;
    const from = this.symbolUtf8Start[sym]!;
    const n = this.symbolUtf8Length[sym]!;
    const s = decodeSeriesKeyText(this.symbolUtf8, from, n);
    this.symbolText[sym] = s;
    this.symbolOf.set(s, sym);
    this.symbolBytes += STRING_HEADER_BYTES + ((s.length * (s.length === n ? 1 : 2) + 7) & ~7);
    return s;
  }

  /**
   * Registers a new distinct string. Strings of 13+ characters are copied first: V8 represents
   * such substrings as slices that keep their whole parent alive (a request body, a telnet
   * chunk), and one interned hostname must not pin megabytes. Paid once per distinct string.
   */
  private intern(s: string): number {
    let oneByte = true;
    for (let i = 0; i < s.length; i++) {
      if (s.charCodeAt(i) > 0xff) {
        oneByte = false;
        break;
      }
    }
    const copy = s.length >= 13 ? flatCopy(s, oneByte) : s;
    const id = this.addSymbol(copy, oneByte);
    if (!(copy as unknown as WellFormedCheck).isWellFormed()) {
      this.symbolUtf8Length[id] = -1;
      return id;
    }
    const from = this.reserveUtf8(oneByte ? 2 * s.length : 3 * s.length);
    const bytes = this.symbolUtf8;
    let n = s.length;
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) {
        n = utf8Encoder.encodeInto(s, bytes.subarray(from)).written;
        break;
      }
      bytes[from + i] = c;
    }
    this.addUtf8(id, from, n, hashBytes(bytes, from, n));
    return id;
  }

  /**
   * Registers the new distinct string stored as UTF-8 in buf[from, from + n), whose hashBytes is
   * h: its bytes are copied as they are and checked (RangeError if not valid UTF-8; ASCII needs
   * no decoding to tell), and its string is left to be made when needed (text).
   */
  private internEncoded(buf: Uint8Array, from: number, n: number, h: number): number {
    let high = 0;
    for (let i = from, to = from + n; i < to; i++) high |= buf[i]!;
    const s = high < 0x80 ? undefined : decodeSeriesKeyText(buf, from, n);
    const id = this.addSymbol(s, s === undefined || s.length === n);
    const at = this.reserveUtf8(n);
    const bytes = this.symbolUtf8;
    for (let i = 0; i < n; i++) bytes[at + i] = buf[from + i]!;
    this.addUtf8(id, at, n, h);
    return id;
  }

  /** Appends a new symbol of string `s` (undefined: not made yet); its UTF-8 form is for the caller to add. */
  private addSymbol(s: string | undefined, oneByte: boolean): number {
    const id = this.symbolText.length;
    this.symbolText.push(s);
    if (s !== undefined) {
      this.symbolOf.set(s, id);
      this.symbolBytes += STRING_HEADER_BYTES + ((s.length * (oneByte ? 1 : 2) + 7) & ~7);
    }
    if (id >= this.symbolUtf8Start.length) {
      const start = new Uint32Array(this.symbolUtf8Start.length * 2);
      start.set(this.symbolUtf8Start);
      this.symbolUtf8Start = start;
      const length = new Int32Array(this.symbolUtf8Length.length * 2);
      length.set(this.symbolUtf8Length);
      this.symbolUtf8Length = length;
    }
    return id;
  }

  /**
   * The tag set whose pairs are scratch[1..n) (sorted as recordOf leaves them), of partial hash
   * tagsHash (hashRecordTags), added if new.
   */
  private tagSetOf(tagsHash: number, n: number): number {
    const table = this.tagSetTable;
    const mask = (table.length >>> 1) - 1;
    let slot = tagsHash & mask;
    for (;;) {
      const entry = table[2 * slot + 1]!;
      if (entry === 0) return this.addTagSet(slot, tagsHash, n);
      if (table[2 * slot] === tagsHash && this.tagSetEquals(entry - 1, n)) return entry - 1;
      slot = (slot + 1) & mask;
    }
  }

  private tagSetEquals(tagSet: number, n: number): boolean {
    const start = this.tagSetStart[tagSet]!;
    const rec = this.tagSetChunks[start >>> RECORD_CHUNK_SHIFT]!;
    const from = start & RECORD_CHUNK_MASK;
    if (2 * rec[from]! + 1 !== n) return false;
    const probe = this.scratch;
    for (let i = 1; i < n; i++) if (rec[from + i] !== probe[i]) return false;
    return true;
  }

  /** Appends the tag set scratch[1..n) at the empty `slot` of tagSetTable; returns its number. */
  private addTagSet(slot: number, tagsHash: number, n: number): number {
    const tagSet = this.tagSetCount;
    const pairs = (n - 1) >> 1;
    const size = 1 + 2 * pairs + (this.indexed ? pairs : 0);
    let chunkIndex = this.tagSetChunks.length - 1;
    let chunk = this.tagSetChunks[chunkIndex];
    let from = this.lastChunkUsed;
    if (chunk === undefined || from + size > chunk.length) {
      chunkIndex++;
      if (chunkIndex >= 2 ** (32 - RECORD_CHUNK_SHIFT)) throw new RangeError('catalog tag-set space is full');
      chunk = new Uint32Array(Math.max(RECORD_CHUNK_ENTRIES, size));
      this.tagSetChunks.push(chunk);
      from = 0;
    }
    const rec = this.scratch;
    chunk[from] = pairs;
    for (let i = 1; i < n; i++) chunk[from + i] = rec[i]!;
    if (this.indexed) {
      // Consecutive new tag sets mostly share pairs at the same position (a region, an OS):
      // those are found without hashing. Bench: bench/catalog.bench.ts "Engine.open 1M".
      if (pairs > this.recentPairKey.length) this.growRecentPairs(pairs);
      const recentKey = this.recentPairKey;
      const recentValue = this.recentPairValue;
      for (let i = 0; i < pairs; i++) {
        const k = rec[1 + 2 * i]!;
        const v = rec[2 + 2 * i]!;
        if (recentKey[i] !== k || recentValue[i] !== v) {
          recentKey[i] = k;
          recentValue[i] = v;
          this.recentPair[i] = this.pairOf(k, v);
        }
        chunk[from + n + i] = this.recentPair[i]!;
      }
    }
    this.lastChunkUsed = from + size;
    if (tagSet >= this.tagSetStart.length) this.tagSetStart = grown(this.tagSetStart, tagSet + 1);
    this.tagSetStart[tagSet] = chunkIndex * RECORD_CHUNK_ENTRIES + from;
    this.tagSetCount = tagSet + 1;
    this.tagSetTable[2 * slot] = tagsHash;
    this.tagSetTable[2 * slot + 1] = tagSet + 1;
    if (this.tagSetCount > this.tagSetTable.length >>> 2) this.tagSetTable = rehashed(this.tagSetTable, this.tagSetTable.length * 2);
    return tagSet;
  }

  private growRecentPairs(pairs: number): void {
    const keys = new Int32Array(2 * pairs).fill(NO_SYMBOL);
    keys.set(this.recentPairKey);
    this.recentPairKey = keys;
    const values = new Int32Array(2 * pairs).fill(NO_SYMBOL);
    values.set(this.recentPairValue);
    this.recentPairValue = values;
    const numbers = new Uint32Array(2 * pairs);
    numbers.set(this.recentPair);
    this.recentPair = numbers;
  }

  /** The pair number of (key k, value v), registered with empty postings if new. */
  private pairOf(k: number, v: number): number {
    const h = finishRecordHash(mixRecordHash(0x2545f491, k), v);
    const table = this.pairTable;
    const mask = (table.length >>> 1) - 1;
    let slot = h & mask;
    for (;;) {
      const entry = table[2 * slot + 1]!;
      if (entry === 0) break;
      if (table[2 * slot] === h && this.pairKey[entry - 1] === k && this.pairValue[entry - 1] === v) return entry - 1;
      slot = (slot + 1) & mask;
    }
    const pair = this.pairPostings.length;
    this.pairPostings.push(new Postings());
    if (pair >= this.pairKey.length) {
      this.pairKey = grown(this.pairKey, pair + 1);
      this.pairValue = grown(this.pairValue, pair + 1);
    }
    this.pairKey[pair] = k;
    this.pairValue[pair] = v;
    table[2 * slot] = h;
    table[2 * slot + 1] = pair + 1;
    if (2 * (pair + 1) > table.length >>> 1) this.pairTable = rehashed(table, table.length * 2);
    let values = this.byTag.get(k);
    if (values === undefined) {
      values = new Map();
      this.byTag.set(k, values);
    }
    values.set(v, pair);
    return pair;
  }

  /** The id of the series (metric, tagSet) of hash h, registered and indexed if new. */
  private resolveSeries(h: number, metric: number, tagSet: number): SeriesId {
    const found = this.find(h, metric, tagSet);
    return found >= 0 ? (found as SeriesId) : this.insert(-1 - found, h, metric, tagSet);
  }

  /** Probes for the series (metric, tagSet) of hash h: its id, or −1 − the empty slot ending the probe. */
  private find(h: number, metric: number, tagSet: number): number {
    const table = this.table;
    const mask = (table.length >>> 1) - 1;
    let slot = h & mask;
    for (;;) {
      const entry = table[2 * slot + 1]!;
      if (entry === 0) return -1 - slot;
      if (table[2 * slot] === h && this.seriesTagSet[entry - 1] === tagSet && this.seriesMetric[entry - 1] === metric) return entry - 1;
      slot = (slot + 1) & mask;
    }
  }

  /**
   * Probes for the series of hash h whose metric is `metric` and whose tags are scratch[1..n):
   * its id, or −1 − the empty slot ending the probe.
   */
  private findRecord(h: number, metric: number, n: number): number {
    const table = this.table;
    const mask = (table.length >>> 1) - 1;
    let slot = h & mask;
    for (;;) {
      const entry = table[2 * slot + 1]!;
      if (entry === 0) return -1 - slot;
      if (table[2 * slot] === h && this.seriesMetric[entry - 1] === metric && this.tagSetEquals(this.seriesTagSet[entry - 1]!, n)) return entry - 1;
      slot = (slot + 1) & mask;
    }
  }

  /** Registers the series (metric, tagSet) at the empty `slot` and indexes it. */
  private insert(slot: number, h: number, metric: number, tagSet: number): SeriesId {
    const id = this.count;
    if (id === 0xffffffff) throw new RangeError('catalog is full (2^32 − 1 series)');
    if (id >= this.seriesMetric.length) {
      this.seriesMetric = grown(this.seriesMetric, id + 1);
      this.seriesTagSet = grown(this.seriesTagSet, id + 1);
    }
    this.seriesMetric[id] = metric;
    this.seriesTagSet[id] = tagSet;
    this.count = id + 1;
    this.table[2 * slot] = h;
    this.table[2 * slot + 1] = id + 1;
    if (this.count > this.table.length >>> 2) this.table = rehashed(this.table, this.table.length * 2);
    if (this.indexed) this.index(id, metric, tagSet);
    return id as SeriesId;
  }

  /** Adds the new series `id` to the postings of its metric and of each pair of its tag set. */
  private index(id: number, metric: number, tagSet: number): void {
    let metricIds = this.metricPostings[metric];
    if (metricIds === undefined) {
      metricIds = new Postings();
      while (this.metricPostings.length < metric) this.metricPostings.push(undefined);
      this.metricPostings[metric] = metricIds;
      this.metricSymbols.push(metric);
      this.sortedMetrics = undefined;
    }
    metricIds.add(id);
    const start = this.tagSetStart[tagSet]!;
    const rec = this.tagSetChunks[start >>> RECORD_CHUNK_SHIFT]!;
    const from = start & RECORD_CHUNK_MASK;
    const pairs = rec[from]!;
    const pairsAt = from + 1 + 2 * pairs;
    for (let i = 0; i < pairs; i++) this.pairPostings[rec[pairsAt + i]!]!.add(id);
  }

  /** View of the ids of `metric`'s series (valid until the next insert), undefined if unknown. */
  private metricIds(metric: string): Uint32Array | undefined {
    const m = this.knownSymbol(metric);
    return m === undefined ? undefined : this.metricPostings[m]?.view();
  }

  /** Postings views of the listed values of tag `key` that exist (unknown ones are skipped). */
  private valuePostings(key: string, values: readonly string[]): Uint32Array[] {
    const k = this.knownSymbol(key);
    const byValue = k === undefined ? undefined : this.byTag.get(k);
    const out: Uint32Array[] = [];
    if (byValue === undefined) return out;
    for (const value of values) {
      const v = this.knownSymbol(value);
      const pair = v === undefined ? undefined : byValue.get(v);
      if (pair !== undefined) out.push(this.pairPostings[pair]!.view());
    }
    return out;
  }

  /** The ids (sorted) whose records carry every key in `keys`; filters in place, returns a view. */
  private withKeys(ids: Uint32Array, keys: readonly string[]): Uint32Array {
    const want: number[] = [];
    for (const key of keys) {
      const k = this.knownSymbol(key);
      if (k === undefined || !this.byTag.has(k)) return new Uint32Array(0);
      want.push(k);
    }
    let kept = 0;
    let last = -1;
    let lastHasAll = false;
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      const tagSet = this.seriesTagSet[id]!;
      if (tagSet !== last) {
        last = tagSet;
        const start = this.tagSetStart[tagSet]!;
        const rec = this.tagSetChunks[start >>> RECORD_CHUNK_SHIFT]!;
        const from = (start & RECORD_CHUNK_MASK) + 1;
        const to = from + 2 * rec[from - 1]!;
        lastHasAll = true;
        for (const k of want) {
          let found = false;
          for (let j = from; j < to; j += 2) {
            if (rec[j] === k) {
              found = true;
              break;
            }
          }
          if (!found) {
            lastHasAll = false;
            break;
          }
        }
      }
      if (lastHasAll) ids[kept++] = id;
    }
    return kept === ids.length ? ids : ids.slice(0, kept);
  }

  private assertIndexed(): void {
    if (!this.indexed) throw new Error('this catalog was created with indexed: false (identity only)');
  }

  private texts(symbols: Iterable<number>): string[] {
    const out: string[] = [];
    for (const s of symbols) out.push(this.text(s));
    return out.sort();
  }
}

/**
 * A copy of `s` that shares no storage with any other string, so interning it never pins a
 * larger parent string. Latin-1 and UTF-16LE round trips are both lossless (lone surrogates
 * included); Latin-1 halves the bytes moved for the common one-byte case.
 */
function flatCopy(s: string, oneByte: boolean): string {
  return oneByte ? Buffer.from(s, 'latin1').toString('latin1') : Buffer.from(s, 'utf16le').toString('utf16le');
}
