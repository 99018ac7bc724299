// Columnar batch builder shared by the ingest decoders: grows typed-array columns, dedups series
// within a batch (identity = metric + tag set, as canonicalSeriesKey), carries per-series TTLs and
// hands engine WriteBatch objects to a sink. Strings are interned to integer ids so a repeated
// series costs a few integer compares, not a string build and hash. Pure: no I/O, no engine writer.
import { ValueKind, type SeriesKey, type WriteBatch } from '../../engine/index.js';
import { utf8String } from './json/tokenizer.js';

/** Largest absolute timestamp the engine stores (docs/format/block.md §Timestamps column): |t| < 2^50 ms. */
export const MAX_ABS_TIMESTAMP_MS = 2 ** 50;

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const TWO_32 = 4294967296;

function fnvBytes(buf: Uint8Array, start: number, end: number): number {
  let h = 0x811c9dc5 ^ (end - start);
  for (let i = start; i < end; i++) h = Math.imul(h ^ buf[i]!, 0x01000193);
  return h ^ (h >>> 15);
}

const encoder = new TextEncoder();

/**
 * Interned strings: id ↔ UTF-8 bytes ↔ string. Ids are dense from 0 and stable until `clear()`.
 * Equal strings always get the same id; a string with a lone surrogate is stored as its
 * well-formed form (U+FFFD), the only form the engine can persist. Strings are built lazily,
 * once per id, when `string(id)` is first asked for.
 */
export class StringTable {
  private slots = new Int32Array(1024); // id + 1, 0 = empty; open addressing
  private hashes = new Int32Array(256);
  private offsets = new Int32Array(256);
  private lengths = new Int32Array(256);
  private arena = new Uint8Array(4096);
  private arenaUsed = 0;
  private readonly strings: (string | undefined)[] = [];
  private scratch = new Uint8Array(256);
  /** Number of distinct strings. */
  size = 0;

  /** Bytes held by the table (its arena), for cache limits. */
  get bytes(): number {
    return this.arenaUsed;
  }

  /** Forgets every string; ids restart from 0. */
  clear(): void {
    this.slots.fill(0);
    this.size = 0;
    this.arenaUsed = 0;
    // Emptied in place, not replaced by a new []: a fresh array has another elements kind (map),
    // and replacing it deoptimized every compiled function that reads the field (decision 0017).
    this.strings.length = 0;
  }

  /** Id of the string whose well-formed UTF-8 encoding is buf[start, end) (ASCII is always well-formed). */
  internBytes(buf: Uint8Array, start: number, end: number): number {
    const h = fnvBytes(buf, start, end);
    const n = end - start;
    const mask = this.slots.length - 1;
    let slot = h & mask;
    for (;;) {
      const e = this.slots[slot]! - 1;
      if (e < 0) break;
      if (this.hashes[e] === h && this.lengths[e] === n && this.sameBytes(e, buf, start, n)) return e;
      slot = (slot + 1) & mask;
    }
    return this.insert(buf, start, n, h, slot);
  }

  /**
   * internBytes through a one-entry memo per call site (`memo[at]` is the id returned last time
   * at this position): a repeat of the previous object's tag key or value is then a plain byte
   * compare, no hash. Same result as internBytes.
   */
  internBytesAt(memo: Int32Array, at: number, buf: Uint8Array, start: number, end: number): number {
    const last = memo[at]!;
    if (last >= 0 && last < this.size && this.lengths[last] === end - start && this.sameBytes(last, buf, start, end - start)) return last;
    const id = this.internBytes(buf, start, end);
    memo[at] = id;
    return id;
  }

  /** Id of `s` (lone surrogates become U+FFFD). */
  internString(s: string): number {
    const max = s.length * 3;
    if (max > this.scratch.length) this.scratch = new Uint8Array(Math.max(max, this.scratch.length * 2));
    const { written } = encoder.encodeInto(s, this.scratch);
    return this.internBytes(this.scratch, 0, written);
  }

  /** The string of an id. */
  string(id: number): string {
    let s = this.strings[id];
    if (s === undefined) {
      const o = this.offsets[id]!;
      s = utf8String(this.arena, o, o + this.lengths[id]!);
      this.strings[id] = s;
    }
    return s;
  }

  /** UTF-8 byte length of an id's string. */
  byteLength(id: number): number {
    return this.lengths[id]!;
  }

  private sameBytes(id: number, buf: Uint8Array, start: number, n: number): boolean {
    const arena = this.arena;
    const o = this.offsets[id]!;
    for (let i = 0; i < n; i++) if (arena[o + i] !== buf[start + i]) return false;
    return true;
  }

  private insert(buf: Uint8Array, start: number, n: number, h: number, slot: number): number {
    const id = this.size;
    if (id === this.hashes.length) {
      this.hashes = grownInt32(this.hashes, id * 2);
      this.offsets = grownInt32(this.offsets, id * 2);
      this.lengths = grownInt32(this.lengths, id * 2);
    }
    if (this.arenaUsed + n > this.arena.length) {
      const grown = new Uint8Array(Math.max(this.arenaUsed + n, this.arena.length * 2));
      grown.set(this.arena.subarray(0, this.arenaUsed));
      this.arena = grown;
    }
    this.arena.set(buf.subarray(start, start + n), this.arenaUsed);
    this.hashes[id] = h;
    this.offsets[id] = this.arenaUsed;
    this.lengths[id] = n;
    this.arenaUsed += n;
    this.size = id + 1;
    this.slots[slot] = id + 1;
    if (this.size * 2 > this.slots.length) this.slots = rehash(this.slots, this.hashes, this.size);
    return id;
  }
}

/** A slot table twice as large holding ids 0..count−1 by their hashes (id + 1 per slot). */
function rehash(slots: Int32Array, hashes: Int32Array, count: number): Int32Array<ArrayBuffer> {
  const next = new Int32Array(slots.length * 2);
  const mask = next.length - 1;
  for (let id = 0; id < count; id++) {
    let slot = hashes[id]! & mask;
    while (next[slot] !== 0) slot = (slot + 1) & mask;
    next[slot] = id + 1;
  }
  return next;
}

/** A copy of `a` in a new array of `length` elements (growing a column). */
export function grownInt32(a: Int32Array, length: number): Int32Array<ArrayBuffer> {
  const next = new Int32Array(length);
  next.set(a);
  return next;
}

function grownUint32(a: Uint32Array, length: number): Uint32Array<ArrayBuffer> {
  const next = new Uint32Array(length);
  next.set(a);
  return next;
}

/** Limits of a SeriesCache; `trim()` forgets everything once one is passed. */
export interface SeriesCacheOptions {
  /** Series entries kept. Default 200,000. */
  readonly maxCachedSeries?: number;
  /** Bytes of interned strings kept. Default 32 MiB. */
  readonly maxCachedStringBytes?: number;
}

/** Decoders that hold ids across calls and were dropped without closing their body. */
const openBodies = new FinalizationRegistry<SeriesCache>((cache) => cache.releaseBody());

/**
 * Series identity shared by the builders of a thread: interned strings, tag sets (sorted
 * [key id, value id] tuples) and series entries (metric id, tag set id) with their SeriesKey
 * objects, built once. Ids are dense, never reused until `trim()`, which forgets everything — and
 * only runs while no decoder has a body open (`openBody`/`closeBody`), so no caller ever holds a
 * stale id. Single-threaded like everything in a worker; not shared across threads.
 */
export class SeriesCache {
  readonly strings = new StringTable();
  private readonly maxCachedSeries: number;
  private readonly maxCachedStringBytes: number;
  private bodies = 0;
  private gen = 0;
  /**
   * Identity of the current entry numbering (WriteBatch.seriesNumbering): replaced by every
   * trim(), after which entry numbers name other series.
   */
  numbering: object = {};

  // Tag sets: id t ↔ tuple [tagCount, k1, v1, …] sorted by key id, in `tuples`.
  private tuples = new Int32Array(4096);
  private tuplesUsed = 0;
  private tagSetSlots = new Int32Array(1024); // tag set + 1
  private tagSetTuple = new Int32Array(256);
  private tagSetHash = new Int32Array(256);
  private tagSetCount = 0;

  // Series entries: e ↔ (metric id, tag set id).
  private seriesSlots = new Int32Array(1024); // entry + 1
  private entryMetric = new Int32Array(256);
  private entryTagSet = new Int32Array(256);
  private readonly entryKeys: (SeriesKey | undefined)[] = [];
  /** keyOf's scratch: one series' tag keys and values while they are sorted. */
  private readonly keyNames: string[] = [];
  private readonly keyValues: string[] = [];
  /** Number of series entries (ids 0 … count − 1). */
  entryCount = 0;

  constructor(options: SeriesCacheOptions = {}) {
    this.maxCachedSeries = options.maxCachedSeries ?? 200_000;
    this.maxCachedStringBytes = options.maxCachedStringBytes ?? 32 * 1024 * 1024;
  }

  /** Changes whenever `trim()` forgets ids: callers that keep ids across bodies drop them. */
  get generation(): number {
    return this.gen;
  }

  /**
   * Declares that `owner` (a decoder) holds ids until `closeBody(owner)`; trim() waits for it. An
   * owner garbage-collected while open counts as closed. Opening twice is a no-op.
   */
  openBody(owner: object): void {
    if (openOwners.has(owner)) return;
    openOwners.add(owner);
    openBodies.register(owner, this, owner);
    this.bodies++;
  }

  closeBody(owner: object): void {
    if (!openOwners.delete(owner)) return;
    openBodies.unregister(owner);
    this.bodies--;
  }

  /** @internal FinalizationRegistry callback. */
  releaseBody(): void {
    this.bodies--;
  }

  /**
   * Forgets every string, tag set and series if a limit is passed and no body is open. Builders
   * must have flushed (decoders do before they close their body). Returns whether it cleared.
   */
  trim(): boolean {
    if (this.entryCount <= this.maxCachedSeries && this.strings.bytes <= this.maxCachedStringBytes) return false;
    return this.forget();
  }

  /**
   * Forgets every string, tag set and series whatever the limits, unless a body is open (the
   * worker's warm-up leaves nothing of its series behind). Returns whether it cleared.
   */
  forget(): boolean {
    if (this.bodies > 0) return false;
    this.strings.clear();
    // Slot tables are zeroed, not replaced: a field assigned only once is a constant to compiled
    // code, and its first reassignment deoptimizes all of it (decision 0017).
    this.tagSetSlots.fill(0);
    this.tagSetCount = 0;
    this.tuplesUsed = 0;
    this.seriesSlots.fill(0);
    this.entryCount = 0;
    this.entryKeys.length = 0; // in place: see StringTable.clear
    this.gen++;
    this.numbering = {};
    return true;
  }

  /** Id of the tag set tuple[0, 1 + 2·tuple[0]) (pairs sorted by key id, keys distinct). */
  tagSetOf(tuple: Int32Array): number {
    const words = 1 + 2 * tuple[0]!;
    let h = 0x9e3779b9 | 0;
    for (let i = 0; i < words; i++) h = Math.imul(h ^ tuple[i]!, 0x85ebca6b) ^ (h >>> 13);
    h ^= h >>> 16;
    const mask = this.tagSetSlots.length - 1;
    let slot = h & mask;
    for (;;) {
      const t = this.tagSetSlots[slot]! - 1;
      if (t < 0) break;
      if (this.tagSetHash[t] === h && this.sameTuple(t, tuple, words)) return t;
      slot = (slot + 1) & mask;
    }
    return this.newTagSet(tuple, h, words, slot);
  }

  /** Series entry of (metric id, tag set id). */
  entryOf(metricId: number, tagSetId: number): number {
    const mask = this.seriesSlots.length - 1;
    let slot = seriesHash(metricId, tagSetId) & mask;
    for (;;) {
      const e = this.seriesSlots[slot]! - 1;
      if (e < 0) break;
      if (this.entryMetric[e] === metricId && this.entryTagSet[e] === tagSetId) return e;
      slot = (slot + 1) & mask;
    }
    return this.newEntry(metricId, tagSetId, slot);
  }

  /** The SeriesKey of an entry, built once: tags inserted in sorted key order. */
  keyOf(e: number): SeriesKey {
    let key = this.entryKeys[e];
    if (key !== undefined) return key;
    const t = this.tuples;
    const o = this.tagSetTuple[this.entryTagSet[e]!]!;
    const n = t[o]!;
    const strings = this.strings;
    // Insertion sort by key string into reused scratch arrays (keys are distinct): a new series
    // allocates only its tags object, no [key, value] pairs and no comparator closure. keyOf was
    // the largest single cost of a new series (bench/first-sight.bench.ts).
    const names = this.keyNames;
    const values = this.keyValues;
    for (let i = 0; i < n; i++) {
      const k = strings.string(t[o + 1 + 2 * i]!);
      const v = strings.string(t[o + 2 + 2 * i]!);
      let j = i;
      for (; j > 0 && names[j - 1]! > k; j--) {
        names[j] = names[j - 1]!;
        values[j] = values[j - 1]!;
      }
      names[j] = k;
      values[j] = v;
    }
    const tags: Record<string, string> = {};
    for (let i = 0; i < n; i++) {
      const k = names[i]!;
      if (k === '__proto__') Object.defineProperty(tags, k, { value: values[i], enumerable: true, writable: true, configurable: true });
      else tags[k] = values[i]!;
    }
    key = { metric: strings.string(this.entryMetric[e]!), tags };
    this.entryKeys[e] = key;
    return key;
  }

  private sameTuple(t: number, tuple: Int32Array, words: number): boolean {
    const tuples = this.tuples;
    const o = this.tagSetTuple[t]!;
    for (let i = 0; i < words; i++) if (tuples[o + i] !== tuple[i]) return false;
    return true;
  }

  private newTagSet(tuple: Int32Array, h: number, words: number, slot: number): number {
    const t = this.tagSetCount;
    if (t === this.tagSetTuple.length) {
      this.tagSetTuple = grownInt32(this.tagSetTuple, t * 2);
      this.tagSetHash = grownInt32(this.tagSetHash, t * 2);
    }
    if (this.tuplesUsed + words > this.tuples.length) {
      const grown = new Int32Array(Math.max(this.tuplesUsed + words, this.tuples.length * 2));
      grown.set(this.tuples.subarray(0, this.tuplesUsed));
      this.tuples = grown;
    }
    this.tuples.set(tuple.subarray(0, words), this.tuplesUsed);
    this.tagSetTuple[t] = this.tuplesUsed;
    this.tuplesUsed += words;
    this.tagSetHash[t] = h;
    this.tagSetCount = t + 1;
    this.tagSetSlots[slot] = t + 1;
    if (this.tagSetCount * 2 > this.tagSetSlots.length) this.tagSetSlots = rehash(this.tagSetSlots, this.tagSetHash, this.tagSetCount);
    return t;
  }

  private newEntry(metricId: number, tagSetId: number, slot: number): number {
    const e = this.entryCount;
    if (e === this.entryMetric.length) {
      this.entryMetric = grownInt32(this.entryMetric, e * 2);
      this.entryTagSet = grownInt32(this.entryTagSet, e * 2);
    }
    this.entryMetric[e] = metricId;
    this.entryTagSet[e] = tagSetId;
    this.entryKeys[e] = undefined;
    this.entryCount = e + 1;
    this.seriesSlots[slot] = e + 1;
    if (this.entryCount * 2 > this.seriesSlots.length) {
      const slots = new Int32Array(this.seriesSlots.length * 2);
      const mask = slots.length - 1;
      for (let k = 0; k < this.entryCount; k++) {
        let s = seriesHash(this.entryMetric[k]!, this.entryTagSet[k]!) & mask;
        while (slots[s] !== 0) s = (s + 1) & mask;
        slots[s] = k + 1;
      }
      this.seriesSlots = slots;
    }
    return e;
  }
}

const openOwners = new WeakSet<object>();

function seriesHash(metricId: number, tagSetId: number): number {
  const h = Math.imul(metricId ^ 0x27d4eb2f, 0x85ebca6b) ^ Math.imul(tagSetId + 0x165667b1, 0xc2b2ae35);
  return h ^ (h >>> 15);
}

let threadCache: SeriesCache | undefined;

/** The SeriesCache of this thread, used by every builder not given its own. */
export function sharedSeriesCache(): SeriesCache {
  threadCache ??= new SeriesCache();
  return threadCache;
}

export interface BatchBuilderOptions extends SeriesCacheOptions {
  /** Points per WriteBatch; the builder hands a batch to the sink when it is full. Default 65,536. */
  readonly maxPointsPerBatch?: number;
  /**
   * Series identity to use. Default: the thread's shared cache (sharedSeriesCache()), or a cache
   * of its own when maxCachedSeries / maxCachedStringBytes are given.
   */
  readonly cache?: SeriesCache;
}

/** Receives a full batch. The batch and its arrays belong to the builder and are reused once the sink returns. */
export type BatchSink = (batch: WriteBatch) => void;

/**
 * Builds WriteBatch columns point by point.
 *
 * Series: `beginSeries(metricId)`, `addTag(keyId, valueId)`…, `endSeries(ttlSeconds)` select the
 * series of the following `add*` calls (ids come from `strings`); `selectSeries(key)` does the same
 * from a SeriesKey; `beginTags`/`endTags` + `selectById` split the tag set out (to cache it).
 * Identity is the SeriesCache's: metric + tag set, whatever the tag order; a repeated tag key keeps
 * its last value. The same series appears once per batch (with its TTL).
 *
 * TTL: WriteBatch carries one TTL per series entry. When a series comes back with a different TTL
 * than it has in the current batch, the batch is flushed first, so write order (and so last-write-
 * wins between the two points) is kept exactly.
 *
 * Flushing: the sink is called synchronously from `add*` when the batch is full and from
 * `flush()`. It must not keep the batch or its arrays (the engine writer copies what it keeps).
 * If the sink throws, the batch's points are dropped, the error propagates, and the builder stays
 * usable. The same SeriesKey object comes back for the same series across batches (and builders
 * sharing a cache) until the cache is trimmed.
 */
export class BatchBuilder {
  readonly cache: SeriesCache;
  private readonly sink: BatchSink;
  private readonly maxPoints: number;

  // Point columns, `length` used; capacity grows by doubling up to maxPoints.
  private length = 0;
  private capacity: number;
  private seriesIndex: Uint32Array;
  private timestampsMs: Float64Array;
  private kinds: Uint8Array;
  private floats: Float64Array;
  private ints: BigInt64Array;
  /** Two 32-bit words per int64 (little-endian hosts): safe integers are written without a BigInt. */
  private intWords: Uint32Array;
  private texts: (string | undefined)[] = [];
  private textCount = 0;

  // Series of the current batch, parallel: SeriesKey, TTL.
  private batchSeries: SeriesKey[] = [];
  private batchTtl = new Uint32Array(256);
  /** Cache entry of each batch series (parallel to batchSeries): WriteBatch.seriesNumbers. */
  private batchEntries = new Uint32Array(256);
  /** Incremented per flush: entry e is in the current batch iff entryEpoch[e] === epoch. */
  private epoch = 1;
  private entryEpoch = new Int32Array(1024);
  private entryBatchIndex = new Int32Array(1024);
  /** Cache generation the epochs refer to. */
  private seenGeneration: number;

  // Tag set being described (beginTags … endTags): [tagCount, k1, v1, …].
  private scratch = new Int32Array(66);
  private pendingMetric = -1;
  // Selected series: batch index (−1: must be re-added after a flush), its entry and TTL.
  private current = -1;
  private currentEntry = -1;
  private currentTtl = 0;

  constructor(sink: BatchSink, options: BatchBuilderOptions = {}) {
    this.sink = sink;
    this.cache =
      options.cache ??
      (options.maxCachedSeries !== undefined || options.maxCachedStringBytes !== undefined ? new SeriesCache(options) : sharedSeriesCache());
    this.seenGeneration = this.cache.generation;
    this.maxPoints = Math.max(1, options.maxPointsPerBatch ?? 65_536);
    this.capacity = Math.min(this.maxPoints, 4096);
    this.seriesIndex = new Uint32Array(this.capacity);
    this.timestampsMs = new Float64Array(this.capacity);
    this.kinds = new Uint8Array(this.capacity);
    this.floats = new Float64Array(this.capacity);
    this.ints = new BigInt64Array(this.capacity);
    this.intWords = new Uint32Array(this.ints.buffer);
  }

  /** The interned strings ids refer to (the cache's). */
  get strings(): StringTable {
    return this.cache.strings;
  }

  /** The cache's generation (see SeriesCache.generation). */
  get generation(): number {
    return this.cache.generation;
  }

  /** Points in the batch being built. */
  get pointCount(): number {
    return this.length;
  }

  /** Distinct series entries in the batch being built. */
  get seriesCount(): number {
    return this.batchSeries.length;
  }

  // ---------------------------------------------------------------- series

  /** Starts describing a series (its metric's string id); then addTag…, endSeries. */
  beginSeries(metricId: number): void {
    this.pendingMetric = metricId;
    this.scratch[0] = 0;
  }

  /** Starts describing a tag set on its own; then addTag…, endTags. */
  beginTags(): void {
    this.scratch[0] = 0;
  }

  /** Adds a tag (string ids) to the tag set being described; a repeated key replaces its value. */
  addTag(keyId: number, valueId: number): void {
    let s = this.scratch;
    const n = s[0]!;
    // [1, 1 + 2n) kept sorted by key id.
    let i = n;
    while (i > 0 && s[2 * i - 1]! > keyId) i--;
    if (i > 0 && s[2 * i - 1]! === keyId) {
      s[2 * i] = valueId;
      return;
    }
    if (2 * n + 3 > s.length) {
      const grown = new Int32Array(s.length * 2);
      grown.set(s);
      this.scratch = s = grown;
    }
    for (let j = n; j > i; j--) {
      s[2 * j + 1] = s[2 * j - 1]!;
      s[2 * j + 2] = s[2 * j]!;
    }
    s[2 * i + 1] = keyId;
    s[2 * i + 2] = valueId;
    s[0] = n + 1;
  }

  /** Id of the tag set described since beginTags/beginSeries (stable until the cache is trimmed). */
  endTags(): number {
    return this.cache.tagSetOf(this.scratch);
  }

  /** Selects the described series for the following points, with its TTL (seconds, 0 = none). */
  endSeries(ttlSeconds = 0): void {
    this.selectById(this.pendingMetric, this.endTags(), ttlSeconds);
  }

  /** Selects the series (metric string id, tag set id) for the following points; see endSeries. */
  selectById(metricId: number, tagSetId: number, ttlSeconds = 0): void {
    this.select(this.cache.entryOf(metricId, tagSetId), ttlSeconds >>> 0);
  }

  /** Selects a series given as a SeriesKey (interns its strings); see endSeries. */
  selectSeries(key: SeriesKey, ttlSeconds = 0): void {
    const strings = this.strings;
    this.beginSeries(strings.internString(key.metric));
    for (const k of Object.keys(key.tags)) this.addTag(strings.internString(k), strings.internString(key.tags[k]!));
    this.endSeries(ttlSeconds);
  }

  /**
   * The cache entry of the selected series (−1 before any selection). A caller may keep it while
   * the cache generation is unchanged and select the series again with selectEntry.
   */
  get selectedEntry(): number {
    return this.currentEntry;
  }

  /** Selects a series by its cache entry (from selectedEntry, same generation), with no TTL. */
  selectEntry(entry: number): void {
    this.select(entry, 0);
  }

  private select(e: number, ttl: number): void {
    if (this.seenGeneration !== this.cache.generation) {
      // The cache forgot its ids (entries will be reused): epochs of old entries mean nothing now.
      this.flush();
      this.seenGeneration = this.cache.generation;
      this.epoch++;
    }
    if (e >= this.entryEpoch.length) {
      const n = Math.max(e + 1, this.entryEpoch.length * 2);
      this.entryEpoch = grownInt32(this.entryEpoch, n);
      this.entryBatchIndex = grownInt32(this.entryBatchIndex, n);
    }
    if (this.entryEpoch[e] === this.epoch) {
      const index = this.entryBatchIndex[e]!;
      if (this.batchTtl[index] === ttl) {
        this.current = index;
        this.currentEntry = e;
        this.currentTtl = ttl;
        return;
      }
      // Same series, other TTL: close this batch so the two stay in write order.
      this.flush();
    }
    this.currentEntry = e;
    this.currentTtl = ttl;
    this.current = this.addToBatch(e, ttl);
  }

  private addToBatch(e: number, ttl: number): number {
    const index = this.batchSeries.length;
    this.batchSeries.push(this.cache.keyOf(e));
    if (index === this.batchTtl.length) {
      this.batchTtl = grownUint32(this.batchTtl, index * 2);
      this.batchEntries = grownUint32(this.batchEntries, index * 2);
    }
    this.batchTtl[index] = ttl;
    this.batchEntries[index] = e;
    this.entryEpoch[e] = this.epoch;
    this.entryBatchIndex[e] = index;
    return index;
  }

  // ---------------------------------------------------------------- points

  /** Slot for the next point of the selected series (flushes/grows as needed). */
  private slot(timestampMs: number): number {
    let i = this.length;
    if (i === this.capacity) {
      if (i >= this.maxPoints) {
        this.flush();
        i = 0;
      } else this.grow();
    }
    let s = this.current;
    if (s < 0) {
      if (this.currentEntry < 0 || this.seenGeneration !== this.cache.generation) throw new Error('BatchBuilder: no series selected');
      s = this.current = this.addToBatch(this.currentEntry, this.currentTtl);
    }
    this.seriesIndex[i] = s;
    this.timestampsMs[i] = timestampMs;
    this.length = i + 1;
    return i;
  }

  /** Adds a float64 point. `timestampMs` must be an integer with |t| < 2^50 (the caller validates). */
  addFloat(timestampMs: number, value: number): void {
    const i = this.slot(timestampMs);
    this.kinds[i] = ValueKind.Float64;
    this.floats[i] = value;
  }

  /** Adds an int64 point from a safe integer (|value| ≤ 2^53 − 1). */
  addInt(timestampMs: number, value: number): void {
    const i = this.slot(timestampMs);
    this.kinds[i] = ValueKind.Int64;
    if (LITTLE_ENDIAN) {
      const hi = Math.floor(value / TWO_32);
      this.intWords[2 * i] = value - hi * TWO_32;
      this.intWords[2 * i + 1] = hi;
    } else this.ints[i] = BigInt(value);
  }

  /** Adds an int64 point (must be within the int64 range). */
  addBigInt(timestampMs: number, value: bigint): void {
    const i = this.slot(timestampMs);
    this.kinds[i] = ValueKind.Int64;
    this.ints[i] = value;
  }

  /** Adds a string point. */
  addString(timestampMs: number, value: string): void {
    const i = this.slot(timestampMs);
    this.kinds[i] = ValueKind.String;
    this.texts[i] = value;
    this.textCount++;
  }

  /** Adds a JSON point; `text` must be valid JSON (the caller validates). */
  addJson(timestampMs: number, text: string): void {
    const i = this.slot(timestampMs);
    this.kinds[i] = ValueKind.Json;
    this.texts[i] = text;
    this.textCount++;
  }

  /**
   * Appends every point of `batch` in its order, each series with its TTL: the points arrive as
   * if they had been added one by one (a TTL change flushes first, a full batch flushes). Meant
   * for batches of another builder on the same cache (a decoder's), whose series numbers are
   * this cache's entries, so no key is looked up; other batches go through their SeriesKeys.
   * The caller keeps the cache from trimming (SeriesCache.openBody) while points of an earlier
   * batch are held here, since entries name other series after a trim.
   */
  addBatch(batch: WriteBatch): void {
    const n = batch.length;
    if (n === 0) return;
    const numbers = batch.seriesNumbering === this.cache.numbering ? batch.seriesNumbers : undefined;
    const ttls = batch.ttlSeconds;
    const srcWords = new Uint32Array(batch.ints.buffer, batch.ints.byteOffset, 2 * batch.ints.length);
    let lastSeries = -1;
    for (let p = 0; p < n; p++) {
      const s = batch.seriesIndex[p]!;
      if (s !== lastSeries) {
        const ttl = ttls === undefined ? 0 : ttls[s]!;
        if (numbers !== undefined) this.select(numbers[s]!, ttl >>> 0);
        else this.selectSeries(batch.series[s]!, ttl);
        lastSeries = s;
      }
      const i = this.slot(batch.timestampsMs[p]!);
      const kind = batch.kinds[p]!;
      this.kinds[i] = kind;
      if (kind === ValueKind.Float64) this.floats[i] = batch.floats[p]!;
      else if (kind === ValueKind.Int64) {
        this.intWords[2 * i] = srcWords[2 * p]!;
        this.intWords[2 * i + 1] = srcWords[2 * p + 1]!;
      } else {
        this.texts[i] = batch.texts[p];
        this.textCount++;
      }
    }
  }

  private grow(): void {
    const n = Math.min(this.maxPoints, this.capacity * 2);
    const seriesIndex = new Uint32Array(n);
    seriesIndex.set(this.seriesIndex);
    const timestampsMs = new Float64Array(n);
    timestampsMs.set(this.timestampsMs);
    const kinds = new Uint8Array(n);
    kinds.set(this.kinds);
    const floats = new Float64Array(n);
    floats.set(this.floats);
    const ints = new BigInt64Array(n);
    ints.set(this.ints);
    this.seriesIndex = seriesIndex;
    this.timestampsMs = timestampsMs;
    this.kinds = kinds;
    this.floats = floats;
    this.ints = ints;
    this.intWords = new Uint32Array(ints.buffer);
    this.capacity = n;
  }

  // ---------------------------------------------------------------- batches

  /** Hands the points gathered so far to the sink as one batch (nothing if there are none). */
  flush(): void {
    const n = this.length;
    if (n === 0) return;
    const batch: WriteBatch = {
      length: n,
      series: this.batchSeries,
      seriesIndex: this.seriesIndex,
      timestampsMs: this.timestampsMs,
      kinds: this.kinds,
      floats: this.floats,
      ints: this.ints,
      texts: this.texts,
      ttlSeconds: this.batchTtl,
      // Cache entry numbers: the writer maps them to its ids without hashing keys (until trim).
      seriesNumbers: this.batchEntries,
      seriesNumbering: this.cache.numbering,
    };
    try {
      this.sink(batch);
    } finally {
      this.clearBatch();
    }
  }

  /** Drops the points gathered so far without calling the sink (the selected series is kept). */
  discard(): void {
    this.clearBatch();
  }

  private clearBatch(): void {
    if (this.textCount > 0) {
      this.texts.fill(undefined, 0, this.length);
      this.textCount = 0;
    }
    this.length = 0;
    this.batchSeries = [];
    this.epoch++;
    this.current = -1;
  }

  /**
   * Asks the cache to forget its ids if over its limits (SeriesCache.trim: only when no decoder
   * has a body open). Call it with an empty batch (after `flush()`).
   */
  trimCaches(): void {
    if (this.length > 0) return;
    if (this.cache.trim()) {
      this.currentEntry = -1;
      this.current = -1;
    }
  }


}
