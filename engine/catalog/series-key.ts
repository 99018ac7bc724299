// Series identity (docs/format/series-key.md): the canonical string used as the in-memory key
// and the binary form stored in blocks and footers. Both sort tags by key in UTF-16 code-unit
// order (JavaScript's default sort), so equal tag sets give equal bytes whatever their order.
import type { ByteReader, ByteWriter } from '../codec/bytes.js';
import type { SeriesKey } from '../types.js';

/** Largest encoded series key, bytes. encodeSeriesKey throws RangeError above it. */
export const MAX_SERIES_KEY_BYTES = 65_536;
/** Most tags one series may carry (engine limit; protocols apply their own, smaller ones). */
export const MAX_TAGS_PER_SERIES = 1_024;

const NEEDS_ESCAPE = /[\\{}=,]/;
const ESCAPE_ALL = /[\\{}=,]/g;

function escape(s: string): string {
  // Most names have none of these characters: one test, no replace, no allocation.
  return NEEDS_ESCAPE.test(s) ? s.replace(ESCAPE_ALL, '\\$&') : s;
}

/** Sorted tag keys of a tag set (UTF-16 code-unit order). */
export function sortedTagKeys(tags: Readonly<Record<string, string>>): string[] {
  const keys = Object.keys(tags);
  if (keys.length > 1) keys.sort();
  return keys;
}

/**
 * `metric{k1=v1,k2=v2}` with tags sorted by key and `\ { } = ,` backslash-escaped in every part,
 * so two keys give the same string exactly when they are the same series.
 */
export function canonicalSeriesKey(key: SeriesKey): string {
  const keys = sortedTagKeys(key.tags);
  let out = `${escape(key.metric)}{`;
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i]!;
    if (i > 0) out += ',';
    out += `${escape(k)}=${escape(key.tags[k]!)}`;
  }
  return `${out}}`;
}

/**
 * Binary form: metric (varuint length + UTF-8), varuint tag count, then each tag's key and value
 * (each varuint length + UTF-8), keys strictly increasing. Throws RangeError over the limits.
 */
export function encodeSeriesKey(w: ByteWriter, key: SeriesKey): void {
  const start = w.length;
  const keys = sortedTagKeys(key.tags);
  if (keys.length > MAX_TAGS_PER_SERIES) throw new RangeError(`series has ${keys.length} tags, limit ${MAX_TAGS_PER_SERIES}`);
  w.string(key.metric);
  w.varuint(keys.length);
  for (const k of keys) {
    w.string(k);
    w.string(key.tags[k]!);
  }
  if (w.length - start > MAX_SERIES_KEY_BYTES) {
    throw new RangeError(`series key of ${w.length - start} bytes exceeds ${MAX_SERIES_KEY_BYTES}`);
  }
}

/** Reads one binary series key; rejects unsorted or duplicate tag keys and oversized keys. */
export function decodeSeriesKey(r: ByteReader): SeriesKey {
  const start = r.pos;
  const metric = r.string();
  const n = r.varuint();
  if (n > MAX_TAGS_PER_SERIES) throw new RangeError(`series key claims ${n} tags`);
  const tags: Record<string, string> = {};
  let prev: string | undefined;
  for (let i = 0; i < n; i++) {
    const k = r.string();
    if (prev !== undefined && !(prev < k)) throw new RangeError(`tag keys not strictly sorted at "${k}"`);
    tags[k] = r.string();
    prev = k;
  }
  if (r.pos - start > MAX_SERIES_KEY_BYTES) throw new RangeError('series key exceeds the size limit');
  return { metric, tags };
}
