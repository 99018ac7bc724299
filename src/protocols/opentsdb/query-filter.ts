// OpenTSDB 2.4's tag value filters (net.opentsdb.query.filter.*): literal_or, iliteral_or,
// not_literal_or, not_iliteral_or, wildcard, iwildcard, regexp — construction with OpenTSDB's
// messages, matching, the `tags` map / URI shortcuts (TagVFilter.getFilter, mapToFilters) and the
// m= metric parser (Tags.parseWithMetricAndFilters). Pure; no engine. protocols.md §2.4.
import { javaSplit } from './java-compat.js';
import { badQuery } from './query-time.js';

export const FILTER_TYPES = ['literal_or', 'iliteral_or', 'not_literal_or', 'not_iliteral_or', 'wildcard', 'iwildcard', 'regexp'] as const;
export type FilterType = (typeof FILTER_TYPES)[number];

/**
 * One tag filter. `match` sees the series' value of `tagk` (undefined when the series lacks the
 * key; every filter then fails — OpenTSDB's row-key regex requires each filtered key, including
 * for the not_ filters whose own match() would accept a missing key).
 */
export interface TagFilter {
  readonly type: FilterType;
  readonly tagk: string;
  readonly filter: string;
  /** Mutable: a later group-by duplicate turns it on (TagVFilter.mapToFilters). */
  groupBy: boolean;
  readonly caseInsensitive: boolean;
  /** literal_or / not_literal_or values (lower-cased when case-insensitive). */
  readonly literals?: ReadonlySet<string>;
  /** Identity for equals(): type + key + parsed configuration. */
  readonly identity: string;
  match(value: string | undefined): boolean;
}

/**
 * TagVFilter.Builder.build (JSON `filters[]`): `type` is looked up exactly (lower-case names).
 * Throws badQuery with OpenTSDB's messages.
 */
export function buildTagFilter(type: string | null, tagk: string | null, filter: string | null, groupBy: boolean): TagFilter {
  if (type === null || type.length === 0) throw badQuery('The filter type cannot be null or empty');
  if (tagk === null || tagk.length === 0) throw badQuery('The tagk cannot be null or empty');
  if (!(FILTER_TYPES as readonly string[]).includes(type)) throw badQuery(`Could not find a tag value filter of the type: ${type}`);
  const f = construct(type as FilterType, tagk, filter, type === 'iliteral_or' || type === 'not_iliteral_or' || type === 'iwildcard');
  f.groupBy = groupBy;
  return f;
}

function construct(type: FilterType, tagk: string, filter: string | null, caseInsensitive: boolean): TagFilter {
  switch (type) {
    case 'literal_or':
    case 'iliteral_or':
      return literalOr(type, tagk, filter, caseInsensitive, false);
    case 'not_literal_or':
    case 'not_iliteral_or':
      return literalOr(type, tagk, filter, caseInsensitive, true);
    case 'wildcard':
    case 'iwildcard':
      return wildcard(type, tagk, filter, caseInsensitive);
    case 'regexp':
      return regexp(tagk, filter);
  }
}

function literalOr(type: FilterType, tagk: string, filter: string | null, caseInsensitive: boolean, negate: boolean): TagFilter {
  if (negate ? filter === null || filter.length < 2 : filter === null || filter.length === 0) throw badQuery('Filter cannot be null or empty');
  if (!negate && filter === '|') throw badQuery('Filter must contain more than just a pipe');
  const parts = javaSplit(filter!, '|');
  const literals = new Set(caseInsensitive ? parts.map((p) => p.toLowerCase()) : parts);
  const identity = `${negate ? 'not' : 'lit'}|${caseInsensitive}|${tagk}|${[...literals].sort().join('\u0000')}`;
  return {
    type,
    tagk,
    filter: filter!,
    groupBy: false,
    caseInsensitive,
    literals,
    identity,
    match(value) {
      if (value === undefined) return false;
      const hit = literals.has(caseInsensitive ? value.toLowerCase() : value);
      return negate ? !hit : hit;
    },
  };
}

/**
 * TagVWildcardFilter: leading/trailing '*' runs are stripped; a value must end with the last
 * component when only a leading '*' was given, start with the first when only a trailing one, and
 * contain the components with OpenTSDB's cursor (it advances by each component's length, not to
 * where the component was found) — so "web*01" also matches "xweb01y", as in OpenTSDB.
 * Case-insensitive filters lower-case the value too (OpenTSDB lower-cases only the pattern: a bug).
 */
function wildcard(type: FilterType, tagk: string, filter: string | null, caseInsensitive: boolean): TagFilter {
  if (filter === null || filter.length < 1) throw badQuery('Filter cannot be null or empty');
  let actual = caseInsensitive ? filter.toLowerCase() : filter;
  if (!actual.includes('*')) throw badQuery('Filter must contain an asterisk');
  const leadingStar = actual.charAt(0) === '*'; // OpenTSDB's "has_postfix"
  if (leadingStar) while (actual.charAt(0) === '*' && actual.length >= 2) actual = actual.slice(1);
  const trailingStar = actual.charAt(actual.length - 1) === '*'; // OpenTSDB's "has_prefix"
  if (trailingStar) while (actual.charAt(actual.length - 1) === '*' && actual.length >= 2) actual = actual.slice(0, -1);
  const components = actual.indexOf('*') > 0 ? actual.split('*') : [actual];
  const matchAll = components.length === 1 && components[0] === '*';
  return {
    type,
    tagk,
    filter,
    groupBy: false,
    caseInsensitive,
    identity: `wild|${caseInsensitive}|${tagk}|${components.join('\u0000')}`,
    match(raw) {
      if (raw === undefined) return false;
      if (matchAll) return true;
      const value = caseInsensitive ? raw.toLowerCase() : raw;
      if (leadingStar && !trailingStar && !value.endsWith(components[components.length - 1]!)) return false;
      if (trailingStar && !leadingStar && !value.startsWith(components[0]!)) return false;
      let idx = 0;
      for (const c of components) {
        if (value.indexOf(c, idx) < 0) return false;
        idx += c.length;
      }
      return true;
    },
  };
}

/** TagVRegexFilter: Pattern.compile + find(); JavaScript's RegExp dialect (see the docs). */
function regexp(tagk: string, filter: string | null): TagFilter {
  if (filter === null || filter.length < 1) throw badQuery('Filter cannot be null or empty');
  let pattern: RegExp;
  try {
    pattern = new RegExp(filter, 'u');
  } catch (err) {
    throw badQuery((err as Error).message);
  }
  return {
    type: 'regexp',
    tagk,
    filter,
    groupBy: false,
    caseInsensitive: false,
    identity: `regexp|${tagk}|${filter}`,
    match: (value) => value !== undefined && pattern.test(value),
  };
}

/**
 * TagVFilter.getFilter for a `tags` value or a URI tag: "*" → wildcard (case-insensitive, match
 * all), "type(expr)" → that filter (type lower-cased), anything else with '*' → case-insensitive
 * wildcard, otherwise literal_or (so "a|b" is a literal OR). Throws badQuery.
 */
export function tagValueFilter(tagk: string, value: string): TagFilter {
  if (tagk.length === 0) throw badQuery('Tagk cannot be null or empty');
  if (value.length === 0) throw badQuery('Filter cannot be null or empty');
  const paren = value.indexOf('(');
  if (paren > -1 && !(value.length === 1 && value === '*')) {
    const prefix = value.slice(0, paren).toLowerCase();
    if (value.charAt(value.length - 1) !== ')') throw badQuery(`Filter must end with a ')': ${value}`);
    const expr = value.slice(paren + 1, value.length - 1);
    return buildTagFilter(prefix, tagk, expr, false);
  }
  if (value.includes('*')) return construct('wildcard', tagk, value, true);
  return construct('literal_or', tagk, value, false);
}

/**
 * TagVFilter.mapToFilters: converts tag → value entries (in the given order) and appends them. With
 * `groupBy`, each gets group-by on and an equal filter already in the list is not added again (the
 * existing one becomes group-by instead).
 */
export function appendTagFilters(entries: Iterable<readonly [string, string]>, filters: TagFilter[], groupBy: boolean): void {
  for (const [tagk, value] of entries) {
    const filter = tagValueFilter(tagk, value);
    if (!groupBy) {
      filters.push(filter);
      continue;
    }
    filter.groupBy = true;
    const existing = filters.find((f) => f.identity === filter.identity);
    if (existing !== undefined) existing.groupBy = true;
    else filters.push(filter);
  }
}

/** Tags.splitString: splits on every `c`, keeping empty strings. */
export function splitKeepingEmpty(s: string, c: string): string[] {
  return s.split(c);
}

/** Tags.parse for one "k=v" word into `map`; throws with OpenTSDB's message. */
function parseTag(map: Map<string, string>, tag: string): void {
  const kv = splitKeepingEmpty(tag, '=');
  if (kv.length !== 2 || kv[0]!.length <= 0 || kv[1]!.length <= 0) throw new Error(`invalid tag: ${tag}`);
  const existing = map.get(kv[0]!);
  if (existing === kv[1]) return;
  if (existing !== undefined) throw new Error(`duplicate tag: ${tag}, tags={${[...map].map(([k, v]) => `${k}=${v}`).join(', ')}}`);
  map.set(kv[0]!, kv[1]!);
}

/**
 * Tags.parseWithMetricAndFilters: "metric", "metric{k=v,…}" (group-by filters) or
 * "metric{…}{k=filter,…}" (the second braces: filters without group-by, added first). Returns the
 * metric and appends to `filters`. Throws badQuery with OpenTSDB's messages (which in OpenTSDB
 * escape as a 500; the caller decides the status).
 */
export function parseMetricAndFilters(metric: string, filters: TagFilter[]): string {
  if (metric.length === 0) throw badQuery('Metric cannot be null or empty');
  const curly = metric.indexOf('{');
  if (curly < 0) return metric;
  const len = metric.length;
  if (metric.charAt(len - 1) !== '}') throw badQuery(`Missing '}' at the end of: ${metric}`);
  if (curly === len - 2) return metric.slice(0, len - 2);
  const close = metric.indexOf('}');
  const map = new Map<string, string>();
  if (close !== len - 1) {
    const filterBracket = metric.lastIndexOf('{');
    for (const filter of javaSplit(metric.slice(filterBracket + 1, len - 1), ',')) {
      if (filter.length === 0) break;
      map.clear();
      try {
        parseTag(map, filter);
        appendTagFilters(map, filters, false);
      } catch (err) {
        throw badQuery(`When parsing filter '${filter}': ${(err as Error).message}`);
      }
    }
  }
  for (const tag of javaSplit(metric.slice(curly + 1, close), ',')) {
    if (tag.length === 0 && close !== len - 1) break;
    map.clear();
    try {
      parseTag(map, tag);
      appendTagFilters(map, filters, true);
    } catch (err) {
      throw badQuery(`When parsing tag '${tag}': ${(err as Error).message}`);
    }
  }
  return metric.slice(0, curly);
}
