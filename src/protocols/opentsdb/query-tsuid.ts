// TSUIDs in /api/query sub-queries (`tsuid=` and "tsuids"): Strata's tsuid is the upper-case hex
// of the UTF-8 canonical series key (seriesTsuid in lookup.ts, what /api/search/lookup and
// showTSUIDs print). Decodes a sub-query's TSUIDs to the series keys they name, with OpenTSDB's
// messages for malformed hex and for TSUIDs of different metrics. Pure: never reads the engine
// (whether a named series exists is the executor's business). Divergences: docs/api/opentsdb-query.md.
import { canonicalSeriesKey, type SeriesKey } from '../../../engine/index.js';
import { isReservedTagKey } from '../reserved-tags.js';
import { badQuery } from './query-time.js';

/** What a sub-query's TSUIDs name. */
export interface TsuidSelection {
  /** The metric every named series shares; null when no TSUID is a canonical series key. */
  readonly metric: string | null;
  /**
   * The series keys named, deduplicated, in first-seen order. TSUIDs that are well-formed hex but
   * no canonical series key (or a key with one of Strata's reserved tag keys) name nothing and are
   * left out, as a well-formed OpenTSDB TSUID without data matches no row.
   */
  readonly series: readonly SeriesKey[];
}

// ignoreBOM: a leading U+FEFF is part of the metric name, as in the engine's own decoder.
const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const HEX_RE = /^[0-9A-Fa-f]*$/;

/**
 * The bytes a TSUID spells. Throws OpenTsdbQueryError (400) with the messages OpenTSDB's hex
 * conversion gives (UniqueId.stringToUid, then DatatypeConverter.parseHexBinary): "UID was
 * empty", "hexBinary needs to be even-length: …", "contains illegal character for hexBinary: …".
 */
export function tsuidBytes(tsuid: string): Buffer {
  if (tsuid.length === 0) throw badQuery('UID was empty');
  if (tsuid.length % 2 !== 0) throw badQuery(`hexBinary needs to be even-length: ${tsuid}`);
  if (!HEX_RE.test(tsuid)) throw badQuery(`contains illegal character for hexBinary: ${tsuid}`);
  return Buffer.from(tsuid, 'hex');
}

/**
 * The series key a TSUID names, or undefined when its bytes are not UTF-8 text in canonical
 * series key form (or the key carries a reserved tag key, which no OpenTSDB-visible series has).
 * Throws as tsuidBytes does for malformed hex.
 */
export function seriesKeyOfTsuid(tsuid: string): SeriesKey | undefined {
  const bytes = tsuidBytes(tsuid);
  let text: string;
  try {
    text = UTF8.decode(bytes);
  } catch {
    return undefined;
  }
  const key = parseCanonicalSeriesKey(text);
  if (key === undefined || Object.keys(key.tags).some(isReservedTagKey)) return undefined;
  return key;
}

/**
 * Inverse of canonicalSeriesKey: `metric{k1=v1,k2=v2}` with `\ { } , =` escaped by a backslash.
 * Undefined unless `text` is exactly the canonical string of the key it spells (keys sorted, no
 * duplicate key, every special character escaped), so each series has exactly one TSUID.
 */
export function parseCanonicalSeriesKey(text: string): SeriesKey | undefined {
  let i = 0;
  /** Reads up to an unescaped `stop` character; undefined at the end of text or on a stray special. */
  const component = (stops: string): string | undefined => {
    let out = '';
    while (i < text.length) {
      const c = text[i]!;
      if (c === '\\') {
        if (i + 1 >= text.length) return undefined;
        out += text[i + 1]!;
        i += 2;
        continue;
      }
      if (stops.includes(c)) return out;
      if ('{},='.includes(c)) return undefined;
      out += c;
      i++;
    }
    return undefined;
  };
  const metric = component('{');
  if (metric === undefined) return undefined;
  i++; // '{'
  const tags: Record<string, string> = {};
  if (text[i] === '}') {
    i++;
  } else {
    for (;;) {
      const k = component('=');
      if (k === undefined) return undefined;
      i++; // '='
      const v = component(',}');
      if (v === undefined || Object.prototype.hasOwnProperty.call(tags, k)) return undefined;
      tags[k] = v;
      if (text[i++] === '}') break;
    }
  }
  if (i !== text.length) return undefined;
  const key: SeriesKey = { metric, tags };
  return canonicalSeriesKey(key) === text ? key : undefined;
}

/** The upper-case hex OpenTSDB prints for a metric's part of a TSUID (here: of its escaped name). */
function metricHex(metric: string): string {
  const empty = canonicalSeriesKey({ metric, tags: {} });
  return Buffer.from(empty.slice(0, -2), 'utf8').toString('hex').toUpperCase();
}

/**
 * Decodes a sub-query's TSUIDs (TsdbQuery.configureFromQuery with TSUIDs, then the scanner's
 * row key filter): malformed hex throws (tsuidBytes), and TSUIDs of two metrics throw 400 "One or
 * more TSUIDs did not share the same metric [A] [B]" with the metrics' hex, as OpenTSDB words it.
 */
export function resolveTsuids(tsuids: readonly string[]): TsuidSelection {
  // Every TSUID's hex first, then the metrics (OpenTSDB compares metric prefixes before it decodes
  // any hex; here the metric is only known once a TSUID is decoded).
  const keys = tsuids.map(seriesKeyOfTsuid);
  let metric: string | null = null;
  const series: SeriesKey[] = [];
  const seen = new Set<string>();
  for (const key of keys) {
    if (key === undefined) continue;
    if (metric === null) metric = key.metric;
    else if (key.metric !== metric) {
      throw badQuery(`One or more TSUIDs did not share the same metric [${metricHex(metric)}] [${metricHex(key.metric)}]`);
    }
    const canonical = canonicalSeriesKey(key);
    if (seen.has(canonical)) continue;
    seen.add(canonical);
    series.push(key);
  }
  return { metric, series };
}
