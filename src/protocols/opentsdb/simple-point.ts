// The fast path of /api/put decoding: most bodies are arrays of plain points,
// {"metric":"m","timestamp":1704067200,"value":41.5,"tags":{"host":"a",…}}, and the same metric
// and tags bytes come back point after point, request after request. For such a point the full
// path (tokenizer → Jackson-faithful binding → per-point checks → series interning) costs ~4 µs;
// reading it straight from the bytes and finding its series by its raw metric + tags bytes costs
// well under 1 µs. bench/opentsdb.bench.ts measures both; docs/benchmarks.md "OpenTSDB ingest".
//
// Soundness: the fast path never decides anything the full path would decide differently.
// - scanSimplePoint accepts only a narrow, unambiguous shape: exactly the four members metric,
//   timestamp, value and tags, once each, in any order; strings without escapes or control
//   characters; a timestamp of 1–13 digits; a JSON number value; a non-empty tags object of
//   string values; blanks but no line feeds. Anything else returns −1 and the full path reads the
//   point (error texts, Jackson coercions and line/column positions stay exactly as before).
// - SimplePointSeriesMemo maps metric + tags bytes to a series only after the full path accepted
//   a point with exactly those bytes and selected that series: equal bytes bind to equal strings,
//   so every name check would pass again and select the same series. The per-point checks that
//   depend on the timestamp and the value are re-done by the caller on every point.
// Pure: no I/O.
import { grownInt32 } from '../batch-builder.js';
import { exactDecimal } from '../json/exact-decimal.js';

/** Where the parts of a simple point lie in the buffer; filled by scanSimplePoint. */
export class SimplePoint {
  metricStart = 0;
  metricEnd = 0;
  /** The tags object, braces included. */
  tagsStart = 0;
  tagsEnd = 0;
  /** The memo's id of the tags object, −1 if it does not know it (or no memo was given). */
  tagsId = -1;
  /** The timestamp: a positive integer literal of at most 13 digits (seconds or milliseconds). */
  timestamp = 0;
  valueStart = 0;
  valueEnd = 0;
  /** The value literal has no '.', 'e' or 'E' (OpenTSDB stores it as a long). */
  valueIsInteger = false;
  /**
   * The value when it could be computed exactly from the digits (integers of ≤ 15 digits;
   * decimals of ≤ 15 significant digits and a power of ten ≤ 22); NaN otherwise (then the
   * caller converts the literal's text).
   */
  value = Number.NaN;
}

const K_METRIC = 1;
const K_TIMESTAMP = 2;
const K_VALUE = 4;
const K_TAGS = 8;
const K_ALL = 15;

/** Exact powers of ten (Clinger's fast path: m / 10^k is correctly rounded for m < 2^53, k ≤ 22). */
const POW10 = new Float64Array(23);
for (let i = 0, p = 1; i < 23; i++, p *= 10) POW10[i] = p;

function skipBlanks(buf: Uint8Array, pos: number, limit: number): number {
  let c: number;
  while (pos < limit && ((c = buf[pos]!) === 0x20 || c === 0x09 || c === 0x0d)) pos++;
  return pos;
}

/** Index of the closing quote of a string whose content starts at `pos`; −1 on an escape, a control byte or the buffer's end. */
function plainStringEnd(buf: Uint8Array, pos: number, limit: number): number {
  for (; pos < limit; pos++) {
    const c = buf[pos]!;
    if (c === 0x22) return pos;
    if (c === 0x5c || c < 0x20) return -1;
  }
  return -1;
}

// Word-at-a-time scanning. A byte loop over a Uint8Array costs ~1.1–1.3 ns per byte in V8 (bounds
// check, load, compare: counting the quotes of a harness body ran at 0.77 GB/s, summing its
// int32 words at 3.5 GB/s), and a simple point is ~230 bytes. So the runs the scanner only steps
// over — the member keys, a metric's characters, digits — are read four bytes at a time through
// a DataView (little-endian int32) and tested with the classic SWAR byte tests, exact for "is
// there such a byte in the word" (no false positives, no misses):
//   a byte equal to 0:     (x − 0x01010101) & ~x & 0x80808080 ≠ 0
//   a byte below n ≤ 128:  (x − n·0x01010101) & ~x & 0x80808080 ≠ 0
// The byte loop then finishes the word that holds the byte of interest, so every result is the
// byte loop's. Scanning the harness' points: −23 % time; the decoder as a whole, with the
// eight-byte compares of ByteStrings.equals: 1.20–1.24 × faster (same-process A/B of the two
// builds; bench/opentsdb.bench.ts "decoder (simple points)": 3.06 → 3.87 × JSON.parse;
// docs/benchmarks.md "OpenTSDB ingest").

/** 'metr', 'tags', 'time', 'stam', 'valu' as little-endian int32 words; 'ic"', 'p"', 'e"' as the low bytes of one. */
const W_METR = 0x7274656d;
const W_TAGS = 0x73676174;
const W_TIME = 0x656d6974;
const W_STAM = 0x6d617473;
const W_VALU = 0x756c6176;
const W3_IC_QUOTE = 0x226369;
const W2_P_QUOTE = 0x2270;
const W2_E_QUOTE = 0x2265;

/** Whether a byte of the word is '"', '\\' or a control byte (< 0x20): where a plain string may end. */
function wordEndsString(w: number): boolean {
  const q = w ^ 0x22222222;
  const b = w ^ 0x5c5c5c5c;
  return ((((q - 0x01010101) & ~q) | ((b - 0x01010101) & ~b) | ((w - 0x20202020) & ~w)) & 0x80808080) !== 0;
}

/** plainStringEnd, skipping whole words that hold no quote, backslash or control byte. */
function plainStringEndByWords(buf: Uint8Array, view: DataView<ArrayBufferLike>, pos: number, limit: number): number {
  while (pos + 4 <= limit && !wordEndsString(view.getInt32(pos, true))) pos += 4;
  return plainStringEnd(buf, pos, limit);
}

/** Whether all four bytes of the word are ASCII digits. */
function isFourDigits(w: number): boolean {
  return (w & 0xf0f0f0f0) === 0x30303030 && ((w + 0x06060606) & 0xf0f0f0f0) === 0x30303030;
}

/** The number four ASCII digits spell (the first in the low byte), 0–9999. */
function fourDigitsValue(w: number): number {
  const d = w - 0x30303030; // each byte 0–9
  // Bytes 0 and 2 become the two-digit numbers d0·10 + d1 and d2·10 + d3 (each ≤ 99: no carry).
  const pairs = (d * 10 + (d >>> 8)) & 0x00ff00ff;
  return (pairs & 0xff) * 100 + (pairs >>> 16);
}

/**
 * The member whose key string opens at buf[quote] ('"'), read as words, with its closing quote at
 * `quote + 1 + name length`; 0 when the bytes are not exactly one of the four keys or lie too
 * close to `limit` (the caller then reads the key byte by byte).
 */
function wordKeyMember(buf: Uint8Array, view: DataView<ArrayBufferLike>, quote: number, limit: number): number {
  if (quote + 12 > limit) return 0;
  const w = view.getInt32(quote + 1, true);
  if (w === W_METR) return (view.getInt32(quote + 5, true) & 0xffffff) === W3_IC_QUOTE ? K_METRIC : 0;
  if (w === W_TAGS) return buf[quote + 5] === 0x22 ? K_TAGS : 0;
  if (w === W_TIME) return view.getInt32(quote + 5, true) === W_STAM && view.getUint16(quote + 9, true) === W2_P_QUOTE ? K_TIMESTAMP : 0;
  if (w === W_VALU) return view.getUint16(quote + 5, true) === W2_E_QUOTE ? K_VALUE : 0;
  return 0;
}

/** Length of each member's key name. */
function keyLength(member: number): number {
  return member === K_METRIC ? 6 : member === K_TAGS ? 4 : member === K_TIMESTAMP ? 9 : 5;
}

/** The member a key names (its bytes buf[start, end)), 0 for any other key. */
function memberOf(buf: Uint8Array, start: number, end: number): number {
  switch (end - start) {
    case 6: // metric
      return buf[start] === 0x6d && buf[start + 1] === 0x65 && buf[start + 2] === 0x74 && buf[start + 3] === 0x72 && buf[start + 4] === 0x69 && buf[start + 5] === 0x63
        ? K_METRIC
        : 0;
    case 9: // timestamp
      return buf[start] === 0x74 &&
        buf[start + 1] === 0x69 &&
        buf[start + 2] === 0x6d &&
        buf[start + 3] === 0x65 &&
        buf[start + 4] === 0x73 &&
        buf[start + 5] === 0x74 &&
        buf[start + 6] === 0x61 &&
        buf[start + 7] === 0x6d &&
        buf[start + 8] === 0x70
        ? K_TIMESTAMP
        : 0;
    case 5: // value
      return buf[start] === 0x76 && buf[start + 1] === 0x61 && buf[start + 2] === 0x6c && buf[start + 3] === 0x75 && buf[start + 4] === 0x65 ? K_VALUE : 0;
    case 4: // tags
      return buf[start] === 0x74 && buf[start + 1] === 0x61 && buf[start + 2] === 0x67 && buf[start + 3] === 0x73 ? K_TAGS : 0;
    default:
      return 0;
  }
}

/**
 * End of the JSON number literal at `pos` (RFC 8259 grammar), −1 if there is none or it may go
 * on past the buffer. Sets valueStart/End, valueIsInteger and value.
 */
function scanNumber(buf: Uint8Array, view: DataView<ArrayBufferLike>, pos: number, limit: number, out: SimplePoint): number {
  const start = pos;
  const negative = buf[pos] === 0x2d;
  if (negative) pos++;
  if (pos >= limit) return -1;
  let c = buf[pos]!;
  // Significant digits: the first 15 in `hi` (exact), the next 4 in `lo`; more make `digits` > 19.
  let hi = 0;
  let lo = 0;
  let digits = 0;
  if (c === 0x30) {
    pos++;
  } else if (c >= 0x31 && c <= 0x39) {
    while (pos < limit && (c = buf[pos]!) >= 0x30 && c <= 0x39) {
      if (digits < 15) hi = hi * 10 + (c - 0x30);
      else if (digits < 19) lo = lo * 10 + (c - 0x30);
      digits++;
      pos++;
    }
  } else return -1;
  let scale = 0; // value = (significant digits) · 10^scale
  let integer = true;
  if (pos < limit && buf[pos] === 0x2e) {
    integer = false;
    pos++;
    const first = pos;
    // Four digits at a time while all four are significant and go to `hi` (a full-precision
    // double prints 15–17 significant digits, most of them here).
    for (let w: number; digits > 0 && digits <= 11 && pos + 4 <= limit && isFourDigits((w = view.getInt32(pos, true))); pos += 4) {
      hi = hi * 10_000 + fourDigitsValue(w);
      digits += 4;
      scale -= 4;
    }
    while (pos < limit && (c = buf[pos]!) >= 0x30 && c <= 0x39) {
      if (digits > 0 || c !== 0x30) {
        if (digits < 15) hi = hi * 10 + (c - 0x30);
        else if (digits < 19) lo = lo * 10 + (c - 0x30);
        digits++;
      }
      scale--;
      pos++;
    }
    if (pos === first) return -1;
  }
  if (pos < limit && ((c = buf[pos]!) === 0x65 || c === 0x45)) {
    integer = false;
    pos++;
    let expNegative = false;
    if (pos < limit && ((c = buf[pos]!) === 0x2b || c === 0x2d)) {
      expNegative = c === 0x2d;
      pos++;
    }
    const first = pos;
    let exponent = 0;
    while (pos < limit && (c = buf[pos]!) >= 0x30 && c <= 0x39) {
      if (exponent < 10_000) exponent = exponent * 10 + (c - 0x30);
      pos++;
    }
    if (pos === first) return -1;
    scale += expNegative ? -exponent : exponent;
  }
  if (pos >= limit) return -1; // the literal may go on in the next chunk
  out.valueStart = start;
  out.valueEnd = pos;
  out.valueIsInteger = integer;
  let value = Number.NaN;
  if (digits <= 15) {
    // Clinger's exact case: the mantissa and 10^|scale| are exact doubles, one rounding.
    if (scale === 0) value = hi;
    else if (scale < 0 && scale >= -22) value = hi / POW10[-scale]!;
    else if (scale > 0 && scale <= 22 && !integer) value = hi * POW10[scale]!;
  } else if (digits <= 19 && !integer) {
    // 16–19 significant digits, all kept: exactDecimal proves the rounding or says NaN.
    value = exactDecimal(hi, lo, digits - 15, -scale);
  }
  if (negative) value = -value;
  out.value = value;
  return pos;
}

/** End (after '}') of a non-empty object of string members at `pos` ('{'); −1 otherwise. */
function plainTagsEnd(buf: Uint8Array, pos: number, limit: number): number {
  let i = skipBlanks(buf, pos + 1, limit);
  for (;;) {
    if (i >= limit || buf[i] !== 0x22) return -1;
    let end = plainStringEnd(buf, i + 1, limit);
    if (end < 0) return -1;
    i = skipBlanks(buf, end + 1, limit);
    if (i >= limit || buf[i] !== 0x3a) return -1;
    i = skipBlanks(buf, i + 1, limit);
    if (i >= limit || buf[i] !== 0x22) return -1;
    end = plainStringEnd(buf, i + 1, limit);
    if (end < 0) return -1;
    i = skipBlanks(buf, end + 1, limit);
    if (i >= limit) return -1;
    const c = buf[i]!;
    if (c === 0x7d) return i + 1;
    if (c !== 0x2c) return -1;
    i = skipBlanks(buf, i + 1, limit);
  }
}

/**
 * Reads the simple point whose '{' is at buf[start] (see the file comment for the shape) and
 * returns the index after its '}', filling `out`; −1 if the point is not simple or not wholly in
 * buf[start, limit). Reads nothing past `limit`. With a memo, a tags object it knows is matched
 * in place instead of scanned (and its id set in `out.tagsId`).
 */
export function scanSimplePoint(buf: Uint8Array, start: number, limit: number, out: SimplePoint, memo?: SimplePointSeriesMemo): number {
  const view = (memo?.views ?? scratchViews).of(buf);
  let pos = start + 1;
  let seen = 0;
  for (;;) {
    pos = skipBlanks(buf, pos, limit);
    if (pos >= limit || buf[pos] !== 0x22) return -1;
    let member = wordKeyMember(buf, view, pos, limit);
    let keyEnd: number;
    if (member !== 0) keyEnd = pos + 1 + keyLength(member);
    else {
      keyEnd = plainStringEnd(buf, pos + 1, limit);
      if (keyEnd < 0) return -1;
      member = memberOf(buf, pos + 1, keyEnd);
    }
    if (member === 0 || (seen & member) !== 0) return -1;
    seen |= member;
    pos = skipBlanks(buf, keyEnd + 1, limit);
    if (pos >= limit || buf[pos] !== 0x3a) return -1;
    pos = skipBlanks(buf, pos + 1, limit);
    if (pos >= limit) return -1;
    switch (member) {
      case K_METRIC: {
        if (buf[pos] !== 0x22) return -1;
        const end = plainStringEndByWords(buf, view, pos + 1, limit);
        if (end < 0) return -1;
        out.metricStart = pos + 1;
        out.metricEnd = end;
        pos = end + 1;
        break;
      }
      case K_TIMESTAMP: {
        let c = buf[pos]!;
        if (c < 0x31 || c > 0x39) return -1; // 0, negative, string, … : the full path
        let v = 0;
        const first = pos;
        for (let w: number; pos + 4 <= limit && isFourDigits((w = view.getInt32(pos, true))); pos += 4) v = v * 10_000 + fourDigitsValue(w);
        while (pos < limit && (c = buf[pos]!) >= 0x30 && c <= 0x39) {
          v = v * 10 + (c - 0x30);
          pos++;
        }
        if (pos - first > 13 || pos >= limit || c === 0x2e || c === 0x65 || c === 0x45) return -1;
        out.timestamp = v;
        break;
      }
      case K_VALUE: {
        const c = buf[pos]!;
        if (c !== 0x2d && (c < 0x30 || c > 0x39)) return -1;
        pos = scanNumber(buf, view, pos, limit, out);
        if (pos < 0) return -1;
        break;
      }
      default: {
        if (buf[pos] !== 0x7b) return -1;
        // A tags object the memo knows ends where the remembered one does: no scan needed.
        const known = memo === undefined ? -1 : memo.matchTags(buf, pos, limit);
        const end = known >= 0 ? pos + memo!.tagsLength(known) : plainTagsEnd(buf, pos, limit);
        if (end < 0) return -1;
        out.tagsId = known;
        out.tagsStart = pos;
        out.tagsEnd = end;
        pos = end;
      }
    }
    pos = skipBlanks(buf, pos, limit);
    if (pos >= limit) return -1;
    const c = buf[pos]!;
    if (c === 0x2c) pos++;
    else if (c === 0x7d && seen === K_ALL) return pos + 1;
    else return -1;
  }
}

/**
 * DataViews over the last two buffers looked at (one per chunk, not per point): the body's chunk
 * and the decoder's copy of a pending point's bytes alternate while new series are learnt, and
 * one cached view would be rebuilt twice per new series.
 */
export class BufferViews {
  private view: DataView<ArrayBufferLike> = new DataView(new ArrayBuffer(0));
  private viewBuf: Uint8Array | undefined;
  private otherView: DataView<ArrayBufferLike> = new DataView(new ArrayBuffer(0));
  private otherViewBuf: Uint8Array | undefined;

  /** A DataView of exactly `buf`'s bytes. */
  of(buf: Uint8Array): DataView<ArrayBufferLike> {
    if (buf === this.viewBuf) return this.view;
    const view = buf === this.otherViewBuf ? this.otherView : new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    this.otherView = this.view;
    this.otherViewBuf = this.viewBuf;
    this.view = view;
    this.viewBuf = buf;
    return view;
  }
}

/** The views scanSimplePoint uses when it is given no memo (tests, tools). */
const scratchViews = new BufferViews();

/** Bytes of a tags object hashed to find it: enough to tell hosts apart, few enough to be cheap. */
const TAGS_HASH_BYTES = 32;

/**
 * Hash of the first bytes of the tags object at buf[start]: up to TAGS_HASH_BYTES bytes, or
 * through the first '}' if that comes sooner — so it reads only bytes of the object itself (a
 * '}' inside a string at worst ends it early, which is the same for equal bytes). −1 if `limit`
 * comes first (the object is cut).
 */
function tagsPrefixHash(buf: Uint8Array, view: DataView<ArrayBufferLike>, start: number, limit: number): number {
  const max = start + TAGS_HASH_BYTES;
  let h = 0x811c9dc5;
  let i = start;
  // Whole words while none holds a '}' (the zero-byte test on w ^ '}}}}'), then bytes. Where the
  // words end depends only on the bytes (and on `limit` only where the result is −1), so equal
  // bytes hash equally from any buffer.
  while (i + 4 <= max && i + 4 <= limit) {
    const w = view.getInt32(i, true);
    const x = w ^ 0x7d7d7d7d;
    if (((x - 0x01010101) & ~x & 0x80808080) !== 0) break;
    h = Math.imul(h ^ w, 0x01000193);
    i += 4;
  }
  for (; i < max; i++) {
    if (i >= limit) return -1;
    const c = buf[i]!;
    h = Math.imul(h ^ c, 0x01000193);
    if (c === 0x7d) break;
  }
  return (h ^ (h >>> 15)) & 0x7fffffff;
}

function hashMetric(buf: Uint8Array, start: number, end: number, tagsId: number): number {
  let h = Math.imul(0x811c9dc5 ^ tagsId, 0x01000193);
  for (let i = start; i < end; i++) h = Math.imul(h ^ buf[i]!, 0x01000193);
  return h ^ (h >>> 15);
}

/** Whether buf[start, end) holds no 0x00, 0x7f or 0xff byte: no 8 of its bytes read as ±0 or NaN. */
function comparableAsDoubles(buf: Uint8Array, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const c = buf[i]!;
    if (c === 0x00 || c === 0x7f || c === 0xff) return false;
  }
  return true;
}

/** Byte strings by id, found by a caller-computed hash; ids dense from 0. */
class ByteStrings {
  private slots = new Int32Array(1 << 12); // id + 1; open addressing
  hashes = new Int32Array(1024);
  offsets = new Int32Array(1024);
  lengths = new Int32Array(1024);
  arena = new Uint8Array(64 * 1024);
  private arenaView = new DataView(this.arena.buffer);
  used = 0;
  size = 0;

  clear(): void {
    this.slots.fill(0);
    this.size = 0;
    this.used = 0;
  }

  /** Slot where the probe for hash `h` starts; then idAt(slot) and slot = nextSlot(slot) until −1. */
  firstSlot(h: number): number {
    return h & (this.slots.length - 1);
  }

  nextSlot(slot: number): number {
    return (slot + 1) & (this.slots.length - 1);
  }

  /** The id in a slot, −1 for an empty one (the probe ends). */
  idAt(slot: number): number {
    return this.slots[slot]! - 1;
  }

  /**
   * Whether buf[start, start + length of id) equals id's bytes (the caller checked it fits).
   * Remembered bytes never hold 0x00, 0x7f or 0xff (SimplePointSeriesMemo.add refuses them).
   */
  equals(id: number, buf: Uint8Array, bufView: DataView<ArrayBufferLike>, start: number): boolean {
    // Eight bytes per step, compared as doubles through DataViews (unaligned reads are fine):
    // half the loads and iterations of int32 words, which were ~3× a byte loop on the ~130 bytes
    // of a tags object; doubles: −10 % decode time again (bench/opentsdb.bench.ts).
    // Exact because two doubles compare equal only if their bits are equal, except +0 = −0 and
    // NaN ≠ NaN: ±0 needs 0x00 bytes and a NaN a top byte of 0x7f or 0xff, and remembered bytes
    // hold none of them, so they are never ±0 or NaN.
    const av = this.arenaView;
    let o = this.offsets[id]!;
    const end = start + this.lengths[id]!;
    let i = start;
    for (; i + 8 <= end; i += 8, o += 8) if (av.getFloat64(o, true) !== bufView.getFloat64(i, true)) return false;
    for (; i + 4 <= end; i += 4, o += 4) if (av.getInt32(o, true) !== bufView.getInt32(i, true)) return false;
    const arena = this.arena;
    for (; i < end; i++, o++) if (arena[o] !== buf[i]) return false;
    return true;
  }


  add(h: number, buf: Uint8Array, start: number, end: number): number {
    const id = this.size;
    const n = end - start;
    if (id === this.hashes.length) {
      const grown = id * 2;
      this.hashes = grownInt32(this.hashes, grown);
      this.offsets = grownInt32(this.offsets, grown);
      this.lengths = grownInt32(this.lengths, grown);
    }
    if ((id + 1) * 2 > this.slots.length) {
      this.slots = new Int32Array(this.slots.length * 2);
      for (let k = 0; k < id; k++) this.place(k, this.hashes[k]!);
    }
    if (this.used + n > this.arena.length) {
      const grown = new Uint8Array(Math.max(this.used + n, this.arena.length * 2));
      grown.set(this.arena.subarray(0, this.used));
      this.arena = grown;
      this.arenaView = new DataView(grown.buffer);
    }
    this.hashes[id] = h;
    this.offsets[id] = this.used;
    this.lengths[id] = n;
    this.arena.set(buf.subarray(start, end), this.used);
    this.used += n;
    this.size = id + 1;
    this.place(id, h);
    return id;
  }

  private place(id: number, h: number): void {
    const slots = this.slots;
    const mask = slots.length - 1;
    let slot = h & mask;
    while (slots[slot] !== 0) slot = (slot + 1) & mask;
    slots[slot] = id + 1;
  }
}

/**
 * The bytes of accepted points → the series entry the full path selected for them
 * (BatchBuilder.selectedEntry), in two tables: tags objects (found by the hash of their first
 * bytes and confirmed by comparing them in place, which also tells where the object ends without
 * scanning it), and metric + tags object → entry. Valid for one series-cache generation: the
 * owner clears it when the generation changes. Bounded: cleared whole past `maxEntries` series
 * or `maxBytes` of remembered bytes.
 */
export class SimplePointSeriesMemo {
  private readonly tags = new ByteStrings();
  private readonly series = new ByteStrings(); // the metric's bytes, keyed with the tags id
  private seriesTags = new Int32Array(1024);
  private seriesEntries = new Int32Array(1024);
  /** The tags object matchTags found last (−1: none): tried first for the next point. */
  private lastTagsId = -1;
  /** The series-cache generation the entries belong to. */
  generation = -1;
  /** DataViews of the buffers looked at (scanSimplePoint uses them too). */
  readonly views = new BufferViews();

  constructor(
    private readonly maxEntries = 262_144,
    private readonly maxBytes = 48 * 1024 * 1024,
  ) {}

  /** Remembered series. */
  get size(): number {
    return this.series.size;
  }

  clear(): void {
    this.tags.clear();
    this.series.clear();
    this.lastTagsId = -1;
  }

  /**
   * Id of the remembered tags object that buf[start, limit) begins with, or −1. Reads only
   * within that object's length (and never past `limit`).
   */
  matchTags(buf: Uint8Array, start: number, limit: number): number {
    if (this.tags.size === 0) return -1;
    const t = this.tags;
    const view = this.views.of(buf);
    // The previous point's tags object first: clients send a host's metrics one after another
    // (TSBS, collectd, tcollector), so most points repeat it; a compare in place skips the hash
    // and the probe. A remembered object is a whole JSON object, so equal bytes are that object.
    const last = this.lastTagsId;
    if (last >= 0 && start + t.lengths[last]! <= limit && t.equals(last, buf, view, start)) return last;
    const h = tagsPrefixHash(buf, view, start, limit);
    if (h < 0) return -1;
    for (let slot = t.firstSlot(h); ; slot = t.nextSlot(slot)) {
      const id = t.idAt(slot);
      if (id < 0) return -1;
      if (t.hashes[id] === h && start + t.lengths[id]! <= limit && t.equals(id, buf, view, start)) {
        this.lastTagsId = id;
        return id;
      }
    }
  }

  /** Byte length of a remembered tags object. */
  tagsLength(id: number): number {
    return this.tags.lengths[id]!;
  }

  /** The series entry of metric bytes buf[metricStart, metricEnd) with tags object `tagsId`, or −1. */
  lookup(buf: Uint8Array, metricStart: number, metricEnd: number, tagsId: number): number {
    const s = this.series;
    const n = metricEnd - metricStart;
    const h = hashMetric(buf, metricStart, metricEnd, tagsId);
    for (let slot = s.firstSlot(h); ; slot = s.nextSlot(slot)) {
      const id = s.idAt(slot);
      if (id < 0) return -1;
      if (s.hashes[id] === h && this.seriesTags[id] === tagsId && s.lengths[id] === n && s.equals(id, buf, this.views.of(buf), metricStart)) return this.seriesEntries[id]!;
    }
  }

  /**
   * Remembers `entry` for these bytes (copied), unless they are remembered already or hold a
   * byte 0x00, 0x7f or 0xff (never in a real name; ByteStrings.equals relies on their absence).
   */
  add(buf: Uint8Array, metricStart: number, metricEnd: number, tagsStart: number, tagsEnd: number, entry: number): void {
    if (!comparableAsDoubles(buf, metricStart, metricEnd) || !comparableAsDoubles(buf, tagsStart, tagsEnd)) return;
    if (this.series.size >= this.maxEntries || this.tags.used + this.series.used + (metricEnd - metricStart) + (tagsEnd - tagsStart) > this.maxBytes) this.clear();
    let tagsId = this.matchTags(buf, tagsStart, tagsEnd);
    if (tagsId < 0 || this.tags.lengths[tagsId] !== tagsEnd - tagsStart) {
      const h = tagsPrefixHash(buf, this.views.of(buf), tagsStart, tagsEnd);
      if (h < 0) return; // cannot happen for a whole object of ≥ 2 bytes ending in '}'
      tagsId = this.tags.add(h, buf, tagsStart, tagsEnd);
    }
    if (this.lookup(buf, metricStart, metricEnd, tagsId) >= 0) return;
    const id = this.series.add(hashMetric(buf, metricStart, metricEnd, tagsId), buf, metricStart, metricEnd);
    if (id === this.seriesTags.length) {
      this.seriesTags = grownInt32(this.seriesTags, id * 2);
      this.seriesEntries = grownInt32(this.seriesEntries, id * 2);
    }
    this.seriesTags[id] = tagsId;
    this.seriesEntries[id] = entry;
  }
}
