// Name listings and series lookups over the engine's catalog, as the discovery endpoints need
// them (KairosDB tagnames/tagvalues, OpenTSDB suggest and /api/search/lookup). Strata's reserved
// tag keys (src/protocols/reserved-tags.ts) are hidden here, in one place: they never appear as a
// key, their values never appear as values, and a lookup never returns a series that has one.
// Runs where an Engine lives (a worker thread); reads only.
import type { Catalog, Engine, SeriesId, SeriesKey, SeriesMatcher } from '../../engine/index.js';
import { isReservedTagKey } from '../protocols/reserved-tags.js';
import type { LookupQuery } from '../protocols/opentsdb/lookup.js';
import type { SuggestType } from '../protocols/opentsdb/discovery.js';

/** Every tag key but the reserved ones, in UTF-16 order. */
export function visibleTagKeys(catalog: Catalog): string[] {
  return catalog.tagKeys().filter((k) => !isReservedTagKey(k));
}

/**
 * The values of tag `key` (none for a reserved key), or with no key every value of every visible
 * key, distinct; UTF-16 order. With `prefix`, only values starting with it, at most `max` of them.
 */
export function visibleTagValues(catalog: Catalog, key?: string, prefix = '', max = Infinity): string[] {
  if (key !== undefined) return isReservedTagKey(key) ? [] : withPrefix(catalog.tagValues(key), prefix, max);
  const all = new Set<string>();
  for (const k of visibleTagKeys(catalog)) for (const v of withPrefix(catalog.tagValues(k), prefix, max)) all.add(v);
  return withPrefix([...all].sort(), prefix, max);
}

/** The first `max` names of sorted `names` that start with `prefix` (binary search to the first). */
function withPrefix(names: readonly string[], prefix: string, max: number): string[] {
  let lo = 0;
  let hi = names.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (names[mid]! < prefix) lo = mid + 1;
    else hi = mid;
  }
  const out: string[] = [];
  for (let i = lo; i < names.length && out.length < max && names[i]!.startsWith(prefix); i++) out.push(names[i]!);
  return out;
}

/** OpenTSDB suggest: up to `max` metric names, tag keys or tag values starting with `prefix`, sorted. */
export function suggestNames(engine: Engine, type: SuggestType, prefix: string, max: number): string[] {
  engine.refresh();
  const catalog = engine.catalog;
  switch (type) {
    case 'metrics':
      return catalog.metricNames(prefix, max);
    case 'tagk':
      return withPrefix(visibleTagKeys(catalog), prefix, max);
    case 'tagv':
      return visibleTagValues(catalog, undefined, prefix, max);
  }
}

/** What a lookup found: the matching series (sorted, limited), or the name that does not exist. */
export type LookupOutcome = { readonly series: SeriesKey[] } | { readonly unknownName: string };

/**
 * OpenTSDB's TimeSeriesLookup over the catalog. Every named metric, tag key and tag value must
 * exist (else `unknownName` is NoSuchUniqueName's message, "No such name for 'metrics': 'x'").
 * Matching: the metric (null, "" or "*": any); pairs with the same key are OR'd and a wildcard
 * value ("*" or null) for a key wins over its literals; different keys are AND'd; value-only
 * pairs (key "*" or null) are OR'd together and AND'd with the rest. Series carrying a reserved
 * tag are never returned. Results are sorted by canonical series key and cut at `limit` (> 0).
 */
export function lookupSeries(engine: Engine, query: Pick<LookupQuery, 'metric' | 'tags' | 'limit'>): LookupOutcome {
  engine.refresh();
  const catalog = engine.catalog;
  const metric = query.metric === null || query.metric === '' || query.metric === '*' ? undefined : query.metric;
  if (metric !== undefined && catalog.metricNames(metric, 1)[0] !== metric) return { unknownName: noSuchName('metrics', metric) };

  const keys = new Set(visibleTagKeys(catalog));
  let allValues: Set<string> | undefined;
  const valueExists = (key: string | undefined, value: string): boolean => {
    if (key !== undefined && catalog.select({ tags: { [key]: [value] } }).length > 0) return true;
    allValues ??= new Set(visibleTagValues(catalog));
    return allValues.has(value);
  };
  const literalValues = new Map<string, string[]>();
  const wildcardKeys = new Set<string>();
  const anyOfValues = new Set<string>();
  for (const pair of query.tags ?? []) {
    const key = pair.key === null || pair.key === '*' ? undefined : pair.key;
    const value = pair.value === null || pair.value === '*' ? undefined : pair.value;
    if (key !== undefined && !keys.has(key)) return { unknownName: noSuchName('tagk', key) };
    if (value !== undefined && !valueExists(key, value)) return { unknownName: noSuchName('tagv', value) };
    if (key === undefined) {
      if (value !== undefined) anyOfValues.add(value);
    } else if (value === undefined) wildcardKeys.add(key);
    else {
      const list = literalValues.get(key);
      if (list === undefined) literalValues.set(key, [value]);
      else list.push(value);
    }
  }
  const tags: Record<string, string[]> = {};
  for (const [key, values] of literalValues) if (!wildcardKeys.has(key)) tags[key] = values;
  const matcher: SeriesMatcher = {
    ...(metric !== undefined ? { metric } : {}),
    ...(Object.keys(tags).length > 0 ? { tags } : {}),
    ...(wildcardKeys.size > 0 ? { tagKeyPresent: [...wildcardKeys] } : {}),
  };

  const found: { key: SeriesKey; order: string }[] = [];
  for (const id of engine.select(matcher)) {
    const key = catalog.key(id as SeriesId);
    const tagKeys = Object.keys(key.tags);
    if (tagKeys.some(isReservedTagKey)) continue;
    if (anyOfValues.size > 0 && !tagKeys.some((k) => anyOfValues.has(key.tags[k]!))) continue;
    found.push({ key, order: seriesOrder(key, tagKeys) });
  }
  found.sort((a, b) => (a.order < b.order ? -1 : a.order > b.order ? 1 : 0));
  const limited = query.limit > 0 && found.length > query.limit ? found.slice(0, query.limit) : found;
  return { series: limited.map((f) => f.key) };
}

/** NoSuchUniqueName's message; `kind` is the UID table's kind ("metrics", "tagk", "tagv"). */
function noSuchName(kind: 'metrics' | 'tagk' | 'tagv', name: string): string {
  return `No such name for '${kind}': '${name}'`;
}

/** Sort key of a series: metric, then its tags sorted by key (NUL-separated, so a metric that is a prefix of another sorts first). */
function seriesOrder(key: SeriesKey, tagKeys: string[]): string {
  let out = `${key.metric}\u0000`;
  for (const k of tagKeys.sort()) out += `${k}\u0000${key.tags[k]!}\u0000`;
  return out;
}
