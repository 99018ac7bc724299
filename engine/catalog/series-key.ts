// Series identity in its two forms: the canonical string (in-memory map key, never persisted)
// and the binary series key stored in blocks and segment footers. Pure functions, no I/O, no
// state beyond scratch buffers. Implements docs/format/series-key.md (binary form v1, limits,
// sort orders, canonical string); change the constants or the layout only with a version bump.
import type { ByteReader, ByteWriter } from '../codec/bytes.js';
import type { SeriesKey, Tags } from '../types.js';

// docs/format/series-key.md §Limits
/** Largest encoded series key, in bytes, length prefixes included. Encode and decode enforce it. */
export const MAX_SERIES_KEY_BYTES = 65_536;

// ignoreBOM: a leading U+FEFF is part of the stored string, not a byte-order mark to strip.
const textDecoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

// ---------------------------------------------------------------------------------------------
// Canonical string form (docs/format/series-key.md §Canonical string)
// ---------------------------------------------------------------------------------------------

// Characters the canonical form escapes with a preceding backslash, wherever they occur.
const BACKSLASH = 0x5c;
const NEEDS_ESCAPE = new Uint8Array(128);
for (const c of '\\{},=') NEEDS_ESCAPE[c.charCodeAt(0)] = 1;
const ESCAPE_RE = /[\\{},=]/g;

/**
 * Escapes `\ { } , =` with a backslash. The char-code scan answers "nothing to escape" (the
 * case for practically every real metric and tag) without entering the regex engine or
 * allocating; only strings that contain one of the five characters pay for `replace`. Bench:
 * bench/catalog.bench.ts "canonicalSeriesKey" vs "baseline: regex-escaping canonical".
 */
function escapeCanonical(s: string): string {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 128 && NEEDS_ESCAPE[c] === 1) return s.replace(ESCAPE_RE, '\\$&');
  }
  return s;
}

/** UTF-16 code-unit order (the default `Array#sort` order). */
function compareCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Own enumerable tag keys sorted by `compare`. Skips the sort when the keys already arrive
 * sorted, which is what most clients send and what the batch builder hands over. The returned
 * array is fresh; the caller may keep or mutate it.
 */
function sortedTagKeys(tags: Tags, compare: (a: string, b: string) => number): string[] {
  const keys = Object.keys(tags);
  for (let i = 1; i < keys.length; i++) {
    if (compare(keys[i - 1]!, keys[i]!) >= 0) return keys.sort(compare);
  }
  return keys;
}

/**
 * The canonical string of a series: `metric{k1=v1,k2=v2}` with tags sorted by key in UTF-16
 * code-unit order and every `\ { } , =` inside a metric, key or value escaped as `\` + char.
 * Two keys are equal (same metric, same tag set) exactly when their canonical strings are
 * equal, for any strings including empty ones and lone surrogates. Process-local map key:
 * never write it to disk (the binary form is the persisted identity).
 */
export function canonicalSeriesKey(key: SeriesKey): string {
  const tags = key.tags;
  const keys = sortedTagKeys(tags, compareCodeUnits);
  let out = `${escapeCanonical(key.metric)}{`;
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i]!;
    if (i > 0) out += ',';
    out += `${escapeCanonical(k)}=${escapeCanonical(tags[k]!)}`;
  }
  return `${out}}`;
}

// ---------------------------------------------------------------------------------------------
// Binary form (docs/format/series-key.md §Binary form v1)
// ---------------------------------------------------------------------------------------------

/**
 * Orders strings by Unicode code point, which for well-formed strings is the order of their
 * UTF-8 bytes. Differs from plain UTF-16 comparison only when one side has a surrogate (a
 * code point ≥ U+10000) and the other a unit in U+E000..U+FFFF: surrogates are moved above.
 */
export function compareCodePoints(a: string, b: string): number {
  const n = a.length < b.length ? a.length : b.length;
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x !== y) {
      if (x >= 0xd800 && y >= 0xd800) {
        x = x >= 0xe000 ? x - 0x800 : x + 0x2000;
        y = y >= 0xe000 ? y - 0x800 : y + 0x2000;
      }
      return x - y;
    }
  }
  return a.length - b.length;
}

/** UTF-8 byte length of a well-formed string (a lone surrogate would count 3, like U+FFFD). */
function utf8Bytes(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) n += 1;
    else if (c >= 0xd800 && c < 0xdc00 && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d < 0xe000) {
        n += 2; // 2 units → 4 bytes
        i++;
      } else n += 2;
    } else n += 2;
  }
  return n;
}

function varuintBytes(v: number): number {
  let n = 1;
  while (v >= 0x80) {
    v = Math.floor(v / 128);
    n++;
  }
  return n;
}

function stringBytes(s: string): number {
  const n = utf8Bytes(s);
  return varuintBytes(n) + n;
}

/** Exact size of `encodeSeriesKey(key)` in bytes, length prefixes included. */
export function encodedSeriesKeyBytes(key: SeriesKey): number {
  const keys = Object.keys(key.tags);
  let n = stringBytes(key.metric) + varuintBytes(keys.length);
  for (const k of keys) n += stringBytes(k) + stringBytes(key.tags[k]!);
  return n;
}

// `String.prototype.isWellFormed` ships in Node 20 (V8 11.3) but not in the ES2023 lib typings.
interface WellFormedCheck {
  isWellFormed(): boolean;
}

function assertWellFormed(s: string, what: string): void {
  if (!(s as unknown as WellFormedCheck).isWellFormed()) {
    throw new RangeError(`series key ${what} contains a lone surrogate and has no UTF-8 form`);
  }
}

/**
 * Appends the v1 binary form of `key` to `w`: metric, tag count, then each tag's key and value,
 * tags sorted by key in UTF-8 byte order. Throws RangeError, writing nothing, when the encoding
 * would exceed MAX_SERIES_KEY_BYTES or a string holds a lone surrogate (it would decode as
 * U+FFFD and could collide with another series). Validation of names and tag counts per
 * protocol (protocols.md §7 Limits) happens before the engine; this only guards the format.
 */
export function encodeSeriesKey(w: ByteWriter, key: SeriesKey): void {
  const tags = key.tags;
  const keys = sortedTagKeys(tags, compareCodePoints);
  // Cheap bound first: a UTF-16 unit is at most 3 UTF-8 bytes and a prefix at most 3 bytes
  // (MAX_SERIES_KEY_BYTES < 2^21), so most keys never pay for an exact UTF-8 count.
  let boundBytes = key.metric.length * 3 + 3 + 3;
  assertWellFormed(key.metric, 'metric');
  for (const k of keys) {
    const v = tags[k]!;
    assertWellFormed(k, 'tag key');
    assertWellFormed(v, 'tag value');
    boundBytes += (k.length + v.length) * 3 + 6;
  }
  if (boundBytes > MAX_SERIES_KEY_BYTES) {
    const exact = encodedSeriesKeyBytes(key);
    if (exact > MAX_SERIES_KEY_BYTES) {
      throw new RangeError(`series key of ${exact} bytes exceeds MAX_SERIES_KEY_BYTES (${MAX_SERIES_KEY_BYTES})`);
    }
  }
  w.string(key.metric);
  w.varuint(keys.length);
  for (const k of keys) {
    w.string(k);
    w.string(tags[k]!);
  }
}

function corrupt(message: string, at: number): RangeError {
  return new RangeError(`corrupt series key at byte ${at}: ${message}`);
}

/** Lexicographic comparison of two byte ranges of the same buffer. */
function compareBytes(buf: Uint8Array, a: number, aLen: number, b: number, bLen: number): number {
  const n = aLen < bLen ? aLen : bLen;
  for (let i = 0; i < n; i++) {
    const d = buf[a + i]! - buf[b + i]!;
    if (d !== 0) return d;
  }
  return aLen - bLen;
}

// Decoder cursor for the duration of one decodeSeriesKey call. Module-level rather than closures
// so a call allocates nothing but its result; decoding is synchronous and never re-entered.
let at = 0;

/** Reads a varuint length prefix at `at` (≤ 4 bytes: lengths stay below 2^28), bounded by `end`. */
function readLength(buf: Uint8Array, end: number, readerEnd: number): number {
  let result = 0;
  let scale = 1;
  for (let i = 0; i < 4; i++) {
    if (at >= end) throw truncated(at, end, readerEnd);
    const b = buf[at++]!;
    result += (b & 0x7f) * scale;
    if (b < 0x80) return result;
    scale *= 128;
  }
  throw corrupt('length prefix longer than 4 bytes', at);
}

function truncated(pos: number, end: number, readerEnd: number): RangeError {
  return end < readerEnd
    ? corrupt(`longer than MAX_SERIES_KEY_BYTES (${MAX_SERIES_KEY_BYTES})`, pos)
    : corrupt(`runs past end ${readerEnd}`, pos);
}

/**
 * Reads one v1 binary series key at `r.pos` and advances past it. Throws RangeError (and
 * leaves `r.pos` unchanged) on truncated input, a key longer than MAX_SERIES_KEY_BYTES, tag keys
 * that are not strictly increasing in byte order (unsorted or duplicate), or invalid UTF-8.
 * The returned key and its tags object are fresh and owned by the caller; they reference no
 * part of `r.buf` (strings may be shared with other decoded keys: see `decodeText`).
 */
export function decodeSeriesKey(r: ByteReader): SeriesKey {
  const buf = r.buf;
  const readerEnd = r.end;
  const end = Math.min(readerEnd, r.pos + MAX_SERIES_KEY_BYTES);
  at = r.pos;

  let n = readLength(buf, end, readerEnd);
  if (n > end - at) throw truncated(at, end, readerEnd);
  const metric = decodeText(buf, at, n, 0);
  at += n;
  const count = readLength(buf, end, readerEnd);
  // Every tag takes at least two bytes (two empty strings): reject absurd counts before looping.
  if (count * 2 > end - at) throw truncated(at, end, readerEnd);
  const tags: Record<string, string> = {};
  let prevAt = -1;
  let prevLen = 0;
  for (let i = 0; i < count; i++) {
    const lenAt = at;
    n = readLength(buf, end, readerEnd);
    if (n > end - at) throw truncated(at, end, readerEnd);
    if (prevAt >= 0 && compareBytes(buf, prevAt, prevLen, at, n) >= 0) {
      throw corrupt('tag keys not strictly increasing (unsorted or duplicate)', lenAt);
    }
    prevAt = at;
    prevLen = n;
    const k = decodeText(buf, at, n, 2 * i + 1);
    at += n;
    n = readLength(buf, end, readerEnd);
    if (n > end - at) throw truncated(at, end, readerEnd);
    const v = decodeText(buf, at, n, 2 * i + 2);
    at += n;
    setTag(tags, k, v);
  }
  r.pos = at;
  return { metric, tags };
}

// Two caches of decoded short ASCII strings, keyed by their bytes: the string last decoded at
// each position of a key (metric, 1st tag key, 1st value, …) and a direct-mapped table of
// recent strings. Together they retain at most ~4,200 strings of ≤ TEXT_CACHE_MAX_BYTES bytes
// (~250 KB); purely a speed-up, decoding returns equal strings without them.
const TEXT_CACHE_SLOTS = 4096;
const TEXT_CACHE_MAX_BYTES = 32;
const POSITION_CACHE_SLOTS = 64;
const textCache: string[] = new Array<string>(TEXT_CACHE_SLOTS).fill('');
const positionCache: string[] = new Array<string>(POSITION_CACHE_SLOTS).fill('');

/** Whether the one-byte string `s` spells exactly buf[from..from+n). */
function sameAscii(s: string, buf: Uint8Array, from: number, n: number): boolean {
  if (s.length !== n) return false;
  for (let i = 0; i < n; i++) if (s.charCodeAt(i) !== buf[from + i]) return false;
  return true;
}

/**
 * UTF-8 bytes at `from` → string, for position `pos` of the key being decoded. Keys repeat the
 * same few strings (tag keys, metric names, a host's name across its fields, low-cardinality
 * values), mostly at the same position as the previous key, so short ASCII strings are first
 * compared with the previous key's string at `pos`, then looked up by hash in `textCache`. A
 * hit allocates nothing and returns the same string object each time, whose hash V8 has already
 * cached, which also makes the catalog's intern lookups cheap. Bench: bench/catalog.bench.ts
 * "component: in-memory decode + Catalog.resolve" (the rebuild at open no longer decodes keys:
 * see SeriesKeySplitter).
 */
function decodeText(buf: Uint8Array, from: number, n: number, pos: number): string {
  if (n === 0) return '';
  if (n > TEXT_CACHE_MAX_BYTES) return decodeUtf8(buf, from, n);
  const slotAtPos = pos < POSITION_CACHE_SLOTS ? pos : POSITION_CACHE_SLOTS - 1;
  const previous = positionCache[slotAtPos]!;
  if (sameAscii(previous, buf, from, n)) return previous;
  const to = from + n;
  let h = 0x811c9dc5;
  let high = 0;
  for (let i = from; i < to; i++) {
    const b = buf[i]!;
    high |= b;
    h = Math.imul(h ^ b, 0x01000193);
  }
  if (high >= 0x80) return decodeUtf8(buf, from, n);
  const slot = (h ^ (h >>> 16)) & (TEXT_CACHE_SLOTS - 1);
  let s = textCache[slot]!;
  if (!sameAscii(s, buf, from, n)) {
    s = decodeUtf8(buf, from, n);
    textCache[slot] = s;
  }
  positionCache[slotAtPos] = s;
  return s;
}

// ---------------------------------------------------------------------------------------------
// Binary keys without decoding (docs/format/series-key.md §Binary form v1)
// ---------------------------------------------------------------------------------------------

/**
 * Splits v1 binary series keys into their strings without decoding them, for callers that look
 * strings up by their bytes (the catalog's rebuild at open: decoding each key into a SeriesKey
 * first cost ~0.7 s plus GC per million keys; bench/catalog.bench.ts "Engine.open 1M").
 *
 * After `split(buf, pos, limit)`: the key's `count` strings (1 + 2 × tag count) are at
 * `spans[2i]` (byte offset in `buf`) with byte length `spans[2i + 1]`; string 0 is the metric,
 * strings 2j + 1 and 2j + 2 the j-th tag's key and value in stored order; `end` is the offset
 * just after the key. Checks everything decodeSeriesKey checks (bounds, MAX_SERIES_KEY_BYTES,
 * strictly increasing tag keys) except UTF-8 validity: decode a string with
 * decodeSeriesKeyText, which checks it. Throws RangeError (the same messages as
 * decodeSeriesKey) on a corrupt key. One instance per caller; not re-entrant. Keeps a reference
 * to the last buffer split until `release`.
 */
const EMPTY_VIEW = new DataView(new ArrayBuffer(0));

export class SeriesKeySplitter {
  /** [offset, byteLength] per string of the last key split; grows to the largest key seen. */
  spans = new Uint32Array(2 * 17);
  count = 0;
  end = 0;
  /**
   * True when the last key's tag section (tag count, then every key and value) is byte for byte
   * that of the key split just before it from the same buffer — the tags are the same, and
   * their spans are the previous ones moved. Series are mostly defined next to their siblings
   * (a host's fields share its tags), so this is common; the bytes then need neither parsing
   * nor a look-up, only one comparison. Bench: bench/catalog.bench.ts "Engine.open 1M".
   */
  tagsRepeat = false;
  /** Where the last key's tag section is: buffer (undefined after a failed split), offset, bytes. */
  private tagsBuf: Uint8Array | undefined;
  private tagsAt = 0;
  private tagsBytes = 0;
  /** DataView over `tagsBuf`, to compare tag sections four bytes at a time. */
  private view: DataView<ArrayBufferLike> = EMPTY_VIEW;

  /** Drops the reference to the last buffer split (the next key is never a repeat). */
  release(): void {
    this.tagsBuf = undefined;
    this.view = EMPTY_VIEW;
  }

  split(buf: Uint8Array, pos: number, limit: number): void {
    const end = Math.min(limit, pos + MAX_SERIES_KEY_BYTES);
    at = pos;
    let n = readLength(buf, end, limit);
    if (n > end - at) throw truncated(at, end, limit);
    let spans = this.spans;
    spans[0] = at;
    spans[1] = n;
    at += n;
    const tagsAt = at;
    const repeatBytes = this.tagsBytes;
    // The same bytes parse to the same tags, so a match needs no checks beyond the bounds.
    if (buf === this.tagsBuf && tagsAt + repeatBytes <= end && sameBytes(this.view, this.tagsAt, tagsAt, repeatBytes)) {
      const delta = tagsAt - this.tagsAt;
      const to = 2 * this.count;
      for (let i = 2; i < to; i += 2) spans[i] = spans[i]! + delta;
      this.tagsAt = tagsAt;
      this.end = tagsAt + repeatBytes;
      this.tagsRepeat = true;
      return;
    }
    this.tagsBuf = undefined;
    this.tagsRepeat = false;
    const tags = readLength(buf, end, limit);
    if (tags * 2 > end - at) throw truncated(at, end, limit);
    const count = 1 + 2 * tags;
    if (2 * count > spans.length) {
      spans = new Uint32Array(2 * count);
      spans[0] = tagsAt - n;
      spans[1] = n;
      this.spans = spans;
    }
    let prevAt = -1;
    let prevLen = 0;
    for (let i = 1; i < count; i += 2) {
      const lenAt = at;
      n = readLength(buf, end, limit);
      if (n > end - at) throw truncated(at, end, limit);
      if (prevAt >= 0 && compareBytes(buf, prevAt, prevLen, at, n) >= 0) {
        throw corrupt('tag keys not strictly increasing (unsorted or duplicate)', lenAt);
      }
      prevAt = at;
      prevLen = n;
      spans[2 * i] = at;
      spans[2 * i + 1] = n;
      at += n;
      n = readLength(buf, end, limit);
      if (n > end - at) throw truncated(at, end, limit);
      spans[2 * i + 2] = at;
      spans[2 * i + 3] = n;
      at += n;
    }
    this.count = count;
    this.end = at;
    if (buf.buffer !== this.view.buffer || buf.byteOffset !== this.view.byteOffset || buf.byteLength !== this.view.byteLength) {
      this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    }
    this.tagsBuf = buf;
    this.tagsAt = tagsAt;
    this.tagsBytes = at - tagsAt;
  }
}

/**
 * Whether view bytes [a, a + n) equal [b, b + n); four at a time, ~3× faster than a byte loop on
 * a 100-byte tag section (bench/catalog.bench.ts "Engine.open 1M").
 */
function sameBytes(view: DataView, a: number, b: number, n: number): boolean {
  let i = 0;
  for (; i + 4 <= n; i += 4) if (view.getUint32(a + i) !== view.getUint32(b + i)) return false;
  for (; i < n; i++) if (view.getUint8(a + i) !== view.getUint8(b + i)) return false;
  return true;
}

/**
 * Offset just after `count` v1 binary keys starting at buf[pos], each checked for structure
 * (bounds, MAX_SERIES_KEY_BYTES) but not for tag order or UTF-8 — for skipping over a series
 * dictionary whose keys are checked when they are used. Throws RangeError if a key runs past
 * `limit`.
 */
export function seriesKeysEnd(buf: Uint8Array, pos: number, count: number, limit: number): number {
  at = pos;
  for (let k = 0; k < count; k++) {
    const end = Math.min(limit, at + MAX_SERIES_KEY_BYTES);
    let n = readLength(buf, end, limit);
    if (n > end - at) throw truncated(at, end, limit);
    at += n;
    const tags = readLength(buf, end, limit);
    if (tags * 2 > end - at) throw truncated(at, end, limit);
    for (let i = 0; i < 2 * tags; i++) {
      n = readLength(buf, end, limit);
      if (n > end - at) throw truncated(at, end, limit);
      at += n;
    }
  }
  return at;
}

/** The string stored in buf[from, from + n): UTF-8 without BOM stripping; RangeError if invalid. */
export function decodeSeriesKeyText(buf: Uint8Array, from: number, n: number): string {
  return n === 0 ? '' : decodeUtf8(buf, from, n);
}

/**
 * Stores a tag as an own enumerable data property. `__proto__` is the one key a plain
 * assignment would not store (it would try to set the prototype), so it goes through
 * defineProperty; every other key uses the fast keyed store.
 */
export function setTag(tags: Record<string, string>, k: string, v: string): void {
  if (k === '__proto__') Object.defineProperty(tags, k, { value: v, enumerable: true, writable: true, configurable: true });
  else tags[k] = v;
}

function decodeUtf8(buf: Uint8Array, from: number, n: number): string {
  try {
    return textDecoder.decode(buf.subarray(from, from + n));
  } catch {
    throw corrupt('invalid UTF-8', from);
  }
}
