// The in-memory series catalog: series key ⇄ dense SeriesId, and the inverted index (metric →
// ids, tag key → values, (tag key, value) → ids; (metric, tag key) → values is derived on
// demand) that matchers and listings run against. Never does I/O and is never persisted: the engine rebuilds it at open
// from the series keys in segments (docs/format/series-key.md). One thread owns an instance.
import type { SeriesId, SeriesKey } from '../types.js';
import { Postings, intersect, union, subtract } from './postings.js';
import { setTag } from './series-key.js';

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
// heapUsed deltas in bench/catalog.bench.ts ("heap bytes/series" vs "estimate bytes/series").
const STRING_HEADER_BYTES = 16;
const MAP_ENTRY_BYTES = 40; // OrderedHashMap: key + value + chain + bucket share, ×1.5 fill slack
const SMALL_OBJECT_BYTES = 200; // a Map/Set or a Postings with its Uint32Array
const ARRAY_SLOT_BYTES = 8;

const NO_SYMBOL = -1;

/** Records live in chunks of 2^16 u32 (256 KiB); a record never straddles two chunks. */
const RECORD_CHUNK_SHIFT = 16;
const RECORD_CHUNK_ENTRIES = 1 << RECORD_CHUNK_SHIFT;
const RECORD_CHUNK_MASK = RECORD_CHUNK_ENTRIES - 1;

/**
 * Murmur3-style hash of a symbol record (rec[0..n)): mixes every 32-bit symbol, then finalises.
 * Ids of the slot table are chosen by `hash & mask`, so the low bits must be well mixed.
 */
function hashRecord(rec: Uint32Array, n: number): number {
  let h = 0x9747b28c ^ n;
  for (let i = 0; i < n; i++) {
    let k = Math.imul(rec[i]!, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    h ^= Math.imul(k, 0x1b873593);
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
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
 * symbol; a series is then a flat record of symbols [metric, k1, v1, k2, v2, …] in shared
 * Uint32Array chunks (4 bytes per string instead of a pointer plus, for a canonical string, a
 * copy of every character), and identity lookups go through an open-addressing table over
 * those records rather than through a canonical string. An 8-tag series costs 72 bytes of
 * record, 4 of offset and 16-32 of table, plus its share of postings. Bench:
 * bench/catalog.bench.ts ("heapBytesPerSeries" vs "naiveHeapBytesPerSeries").
 */
export class Catalog {
  /** string → symbol. Append-only; one entry per distinct metric, tag key or tag value. */
  private readonly symbolOf = new Map<string, number>();
  /** symbol → string; dense, append-only, inverse of `symbolOf`. */
  private readonly symbolText: string[] = [];
  /** Estimated heap bytes of the interned strings themselves. */
  private symbolBytes = 0;

  /**
   * Series records. recordStart[id] = (chunk index << RECORD_CHUNK_SHIFT) | offset, and at that
   * offset in recordChunks[chunk index] sits n, then the n symbols [metric, k1, v1, …] with the
   * pairs sorted by tag-key symbol ascending (a canonical order of the tag set that needs no
   * string comparison). Append-only. Fixed-size chunks instead of one doubling array: growth
   * never copies or re-faults earlier records, and the slack is one partly used chunk instead of
   * up to half the array (a 1 M-series rebuild spent ~10 % of its time growing one array).
   * A record longer than a chunk gets a chunk of its own, sized to fit.
   */
  private readonly recordChunks: Uint32Array[] = [];
  /** Entries used in the last chunk of recordChunks. */
  private lastChunkUsed = 0;
  private recordStart = new Uint32Array(1024);
  private count = 0;
  /**
   * Open-addressing hash table over the records, linear probing, as (hash, id + 1) pairs of
   * u32: table[2s] = hashRecord of the series in slot s, table[2s + 1] = its id + 1, 0 = empty.
   * Power-of-two slot count, at most half full, so a probe sequence is short and ends at an
   * empty slot. The hash sits next to the id so that a probe reads one cache line, and growing
   * re-hashes nothing. Bench: bench/catalog.bench.ts "rebuild 1M", "resolve existing series".
   */
  private table = new Uint32Array(2 * 2048);

  /** metric symbol → ids of its series. Each list is appended to in id order. */
  private readonly byMetric = new Map<number, Postings>();
  /** tag key symbol → value symbol → ids. Inner keys are exactly the key's values. */
  private readonly byTag = new Map<number, Map<number, Postings>>();
  /** Metric names sorted in UTF-16 order; dropped (undefined) whenever a metric is added. */
  private sortedMetrics: string[] | undefined;

  /** Scratch record for lookups; grows to the largest tag count seen. Never escapes. */
  private scratch = new Uint32Array(64);
  /**
   * Memo of the last string seen at each record position (0 = metric, 2i+1 / 2i+2 = the i-th
   * tag's key / value in `Object.keys` order) and its symbol. Holds interned strings only.
   */
  private recentText: string[] = [];
  private recentSymbol = new Int32Array(64);
  /** Memo of the (key, value) pair at each sorted pair position of the last insert, and its postings. */
  private recentPair = new Float64Array(32).fill(-1);
  private recentPostings: (Postings | undefined)[] = [];

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
    const h = hashRecord(this.scratch, n);
    const found = this.find(h, n);
    return found >= 0 ? (found as SeriesId) : this.insert(-1 - found, h, n);
  }

  /** The id of `key` if registered; never registers anything. */
  lookup(key: SeriesKey): SeriesId | undefined {
    const n = this.recordOf(key, false);
    if (n < 0) return undefined;
    const found = this.find(hashRecord(this.scratch, n), n);
    return found >= 0 ? (found as SeriesId) : undefined;
  }

  /**
   * The key of a registered id, as a fresh object the caller owns (rebuilt from the interned
   * strings on every call, so cache it if called in a loop). Property order of `tags` is
   * unspecified. Throws RangeError for an id this catalog never handed out.
   */
  key(id: SeriesId): SeriesKey {
    if (!(id >= 0 && id < this.count && Number.isInteger(id))) throw new RangeError(`unknown series id ${id}`);
    const start = this.recordStart[id]!;
    const rec = this.recordChunks[start >>> RECORD_CHUNK_SHIFT]!;
    const from = (start & RECORD_CHUNK_MASK) + 1;
    const to = from + rec[from - 1]!;
    const text = this.symbolText;
    const tags: Record<string, string> = {};
    for (let i = from + 1; i < to; i += 2) setTag(tags, text[rec[i]!]!, text[rec[i + 1]!]!);
    return { metric: text[rec[from]!]!, tags };
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
    const lists: Uint32Array[] = [];
    if (matcher.metric !== undefined) {
      const p = this.symbolOf.get(matcher.metric);
      const postings = p === undefined ? undefined : this.byMetric.get(p);
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
    let sorted = this.sortedMetrics;
    if (sorted === undefined) {
      sorted = [];
      for (const m of this.byMetric.keys()) sorted.push(this.symbolText[m]!);
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
    if (metric === undefined) return this.texts(this.byTag.keys());
    const ids = this.metricIds(metric);
    if (ids === undefined) return [];
    const keys = new Set<number>();
    for (let i = 0; i < ids.length; i++) {
      const start = this.recordStart[ids[i]!]!;
      const rec = this.recordChunks[start >>> RECORD_CHUNK_SHIFT]!;
      const from = (start & RECORD_CHUNK_MASK) + 1;
      const to = from + rec[from - 1]!;
      for (let j = from + 1; j < to; j += 2) keys.add(rec[j]!);
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
    const k = this.symbolOf.get(key);
    if (k === undefined) return [];
    if (metric === undefined) {
      const values = this.byTag.get(k);
      return values === undefined ? [] : this.texts(values.keys());
    }
    const ids = this.metricIds(metric);
    if (ids === undefined) return [];
    const values = new Set<number>();
    for (let i = 0; i < ids.length; i++) {
      const start = this.recordStart[ids[i]!]!;
      const rec = this.recordChunks[start >>> RECORD_CHUNK_SHIFT]!;
      const from = (start & RECORD_CHUNK_MASK) + 1;
      const to = from + rec[from - 1]!;
      for (let j = from + 1; j < to; j += 2) {
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
    let bytes = this.recordStart.byteLength;
    for (const chunk of this.recordChunks) bytes += chunk.byteLength;
    bytes += this.table.byteLength + this.scratch.byteLength;
    bytes += this.symbolBytes + this.symbolText.length * (MAP_ENTRY_BYTES + ARRAY_SLOT_BYTES);
    for (const p of this.byMetric.values()) bytes += MAP_ENTRY_BYTES + SMALL_OBJECT_BYTES + p.capacityBytes;
    for (const values of this.byTag.values()) {
      bytes += MAP_ENTRY_BYTES + SMALL_OBJECT_BYTES;
      for (const p of values.values()) bytes += MAP_ENTRY_BYTES + SMALL_OBJECT_BYTES + p.capacityBytes;
    }
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
   * Map lookup. Bench: bench/catalog.bench.ts "rebuild 1M" and "resolve existing series".
   * Pairs are then insertion-sorted by key symbol: tag sets are small, and already-sorted input
   * (the usual case) costs one comparison per pair.
   */
  private recordOf(key: SeriesKey, create: boolean): number {
    const tags = key.tags;
    const keys = Object.keys(tags);
    const n = 1 + 2 * keys.length;
    if (n > this.scratch.length) {
      this.scratch = grown(this.scratch, n);
      const symbols = new Int32Array(this.scratch.length);
      symbols.set(this.recentSymbol);
      this.recentSymbol = symbols;
    }
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

  /** Symbol of `s` seen at record position `pos`, through the per-position memo. */
  private symbolAt(pos: number, s: string, create: boolean): number {
    if (this.recentText[pos] === s) return this.recentSymbol[pos]!;
    const sym = this.symbol(s, create);
    if (sym !== NO_SYMBOL) {
      this.recentText[pos] = this.symbolText[sym]!;
      this.recentSymbol[pos] = sym;
    }
    return sym;
  }

  private symbol(s: string, create: boolean): number {
    const known = this.symbolOf.get(s);
    if (known !== undefined) return known;
    return create ? this.intern(s) : NO_SYMBOL;
  }

  /**
   * Registers a new distinct string. Strings of 13+ characters are copied first: V8 represents
   * such substrings as slices that keep their whole parent alive (a request body, a telnet
   * chunk), and one interned hostname must not pin megabytes. Paid once per distinct string.
   */
  private intern(s: string): number {
    let copy = s;
    let oneByte = true;
    for (let i = 0; i < s.length; i++) {
      if (s.charCodeAt(i) > 0xff) {
        oneByte = false;
        break;
      }
    }
    if (s.length >= 13) copy = flatCopy(s, oneByte);
    const id = this.symbolText.length;
    this.symbolText.push(copy);
    this.symbolOf.set(copy, id);
    this.symbolBytes += STRING_HEADER_BYTES + ((s.length * (oneByte ? 1 : 2) + 7) & ~7);
    return id;
  }

  /** Probes for the record scratch[0..n) of hash h: its id, or −1 − the empty slot ending the probe. */
  private find(h: number, n: number): number {
    const table = this.table;
    const mask = (table.length >>> 1) - 1;
    let slot = h & mask;
    for (;;) {
      const entry = table[2 * slot + 1]!;
      if (entry === 0) return -1 - slot;
      if (table[2 * slot] === h && this.recordEquals(entry - 1, n)) return entry - 1;
      slot = (slot + 1) & mask;
    }
  }

  private recordEquals(id: number, n: number): boolean {
    const start = this.recordStart[id]!;
    const rec = this.recordChunks[start >>> RECORD_CHUNK_SHIFT]!;
    const from = start & RECORD_CHUNK_MASK;
    if (rec[from] !== n) return false;
    const probe = this.scratch;
    for (let i = 0; i < n; i++) if (rec[from + 1 + i] !== probe[i]) return false;
    return true;
  }

  /** Appends the record in scratch[0..n) as a new series at the empty `slot` and indexes it. */
  private insert(slot: number, h: number, n: number): SeriesId {
    const id = this.count;
    if (id === 0xffffffff) throw new RangeError('catalog is full (2^32 − 1 series)');
    let chunkIndex = this.recordChunks.length - 1;
    let chunk = this.recordChunks[chunkIndex];
    let from = this.lastChunkUsed;
    if (chunk === undefined || from + n + 1 > chunk.length) {
      chunkIndex++;
      if (chunkIndex >= 2 ** (32 - RECORD_CHUNK_SHIFT)) throw new RangeError('catalog record space is full');
      chunk = new Uint32Array(Math.max(RECORD_CHUNK_ENTRIES, n + 1));
      this.recordChunks.push(chunk);
      from = 0;
    }
    if (id + 1 > this.recordStart.length) this.recordStart = grown(this.recordStart, id + 1);
    const rec = this.scratch;
    // A plain loop: for ~17 elements, subarray() + set() cost more than the copy itself.
    chunk[from] = n;
    for (let i = 0; i < n; i++) chunk[from + 1 + i] = rec[i]!;
    this.lastChunkUsed = from + n + 1;
    this.recordStart[id] = chunkIndex * RECORD_CHUNK_ENTRIES + from;
    this.count = id + 1;
    this.table[2 * slot] = h;
    this.table[2 * slot + 1] = id + 1;
    if (this.count > this.table.length >>> 2) this.rehash();

    const m = rec[0]!;
    let metricIds = this.byMetric.get(m);
    if (metricIds === undefined) {
      metricIds = new Postings();
      this.byMetric.set(m, metricIds);
      this.sortedMetrics = undefined;
    }
    metricIds.add(id);
    for (let i = 1; i < n; i += 2) {
      const k = rec[i]!;
      const v = rec[i + 1]!;
      // Same pair at the same position as the previous insert (a host's next field): reuse
      // its postings without the two map lookups.
      const pair = k * 0x1_0000_0000 + v;
      const pairAt = i >> 1;
      let ids = this.recentPair[pairAt] === pair ? this.recentPostings[pairAt] : undefined;
      if (ids === undefined) {
        let values = this.byTag.get(k);
        if (values === undefined) {
          values = new Map();
          this.byTag.set(k, values);
        }
        ids = values.get(v);
        if (ids === undefined) {
          ids = new Postings();
          values.set(v, ids);
        }
        if (pairAt >= this.recentPair.length) {
          const next = new Float64Array(this.recentPair.length * 2).fill(-1);
          next.set(this.recentPair);
          this.recentPair = next;
        }
        this.recentPair[pairAt] = pair;
        this.recentPostings[pairAt] = ids;
      }
      ids.add(id);
    }
    return id as SeriesId;
  }

  /** Doubles the table, moving each (hash, id + 1) pair to its slot in the larger one. */
  private rehash(): void {
    const old = this.table;
    const table = new Uint32Array(old.length * 2);
    const mask = (table.length >>> 1) - 1;
    for (let from = 0; from < old.length; from += 2) {
      const entry = old[from + 1]!;
      if (entry === 0) continue;
      const h = old[from]!;
      let slot = h & mask;
      while (table[2 * slot + 1] !== 0) slot = (slot + 1) & mask;
      table[2 * slot] = h;
      table[2 * slot + 1] = entry;
    }
    this.table = table;
  }

  /** View of the ids of `metric`'s series (valid until the next insert), undefined if unknown. */
  private metricIds(metric: string): Uint32Array | undefined {
    const m = this.symbolOf.get(metric);
    return m === undefined ? undefined : this.byMetric.get(m)?.view();
  }

  /** Postings views of the listed values of tag `key` that exist (unknown ones are skipped). */
  private valuePostings(key: string, values: readonly string[]): Uint32Array[] {
    const k = this.symbolOf.get(key);
    const byValue = k === undefined ? undefined : this.byTag.get(k);
    const out: Uint32Array[] = [];
    if (byValue === undefined) return out;
    for (const value of values) {
      const v = this.symbolOf.get(value);
      const p = v === undefined ? undefined : byValue.get(v);
      if (p !== undefined) out.push(p.view());
    }
    return out;
  }

  /** The ids (sorted) whose records carry every key in `keys`; filters in place, returns a view. */
  private withKeys(ids: Uint32Array, keys: readonly string[]): Uint32Array {
    const want: number[] = [];
    for (const key of keys) {
      const k = this.symbolOf.get(key);
      if (k === undefined || !this.byTag.has(k)) return new Uint32Array(0);
      want.push(k);
    }
    let kept = 0;
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      const start = this.recordStart[id]!;
      const rec = this.recordChunks[start >>> RECORD_CHUNK_SHIFT]!;
      const from = (start & RECORD_CHUNK_MASK) + 1;
      const to = from + rec[from - 1]!;
      let all = true;
      for (const k of want) {
        let found = false;
        for (let j = from + 1; j < to; j += 2) {
          if (rec[j] === k) {
            found = true;
            break;
          }
        }
        if (!found) {
          all = false;
          break;
        }
      }
      if (all) ids[kept++] = id;
    }
    return kept === ids.length ? ids : ids.slice(0, kept);
  }

  private texts(symbols: Iterable<number>): string[] {
    const out: string[] = [];
    for (const s of symbols) out.push(this.symbolText[s]!);
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
