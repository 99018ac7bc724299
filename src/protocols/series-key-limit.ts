// The engine's bound on a series key (MAX_SERIES_KEY_BYTES, engine/catalog/series-key.ts), for
// the decoders whose names and tags are otherwise unbounded (KairosDB ingest, OpenTSDB put and
// rollup). A longer key makes the catalog throw RangeError at append time, which failed the whole
// request with a 500 (found by fuzzing); these decoders refuse such a series themselves, with
// their protocol's per-metric or per-point error. Pure.
import { MAX_SERIES_KEY_BYTES } from '../../engine/catalog/series-key.js';

/**
 * Longest key a decoder lets through: the engine's bound less room for the tags Strata adds after
 * the decoder's check (`strata:rollup`, `CAVE-account`, `device_id`).
 */
export const MAX_DECODED_SERIES_KEY_BYTES = MAX_SERIES_KEY_BYTES - 1024;

/**
 * Whether a series whose strings (metric, tag keys and values) hold `utf8Bytes` UTF-8 bytes in all
 * (`strings` of them) fits: the bytes plus a length prefix per string (at most 3 bytes below
 * 2^21) and the tag count.
 */
export function seriesKeyFits(utf8Bytes: number, strings: number): boolean {
  return utf8Bytes + 3 * strings + 3 <= MAX_DECODED_SERIES_KEY_BYTES;
}

/** seriesKeyFits for JS strings: UTF-16 units are counted first (≤ 3 UTF-8 bytes each), then exactly if needed. */
export function seriesStringsFit(strings: readonly string[]): boolean {
  let units = 0;
  for (const s of strings) units += s.length;
  if (seriesKeyFits(3 * units, strings.length)) return true;
  let bytes = 0;
  for (const s of strings) bytes += Buffer.byteLength(s, 'utf8');
  return seriesKeyFits(bytes, strings.length);
}
