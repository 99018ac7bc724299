// OpenTSDB /api/search (protocols.md §2.5): request parsing as SearchRpc does it (the `m` query
// string through Tags.parseWithMetric, or a SearchQuery JSON body), the LOOKUP answer as Jackson
// writes SearchQuery, and Strata's tsuid (a series' identity in OpenTSDB's hex form). Which
// series match is decided in src/query/listings.ts. Pure: no I/O, no engine reads, no transport.
import { canonicalSeriesKey, type SeriesKey } from '../../../engine/index.js';
import {
  QueryParams,
  badRequest,
  isRequestError,
  jacksonBoolean,
  jacksonInt,
  jacksonText,
  jacksonTokenName,
  jsonAnswer,
  readJsonBody,
  type DiscoveryRequest,
  type OpenTsdbAnswer,
  type OpenTsdbRequestError,
} from './discovery.js';
import { JavaStringMap, jacksonString, parseJavaInt, splitString } from './java-compat.js';

/** SearchQuery's default limit (lookups return at most this many series unless told otherwise). */
export const DEFAULT_LOOKUP_LIMIT = 25;

/** SearchQuery.SearchType, as /api/search/<type> names it (case-insensitive). */
export type SearchType = 'TSMETA' | 'TSMETA_SUMMARY' | 'TSUIDS' | 'UIDMETA' | 'ANNOTATION' | 'LOOKUP';

const SEARCH_TYPES: readonly SearchType[] = ['TSMETA', 'TSMETA_SUMMARY', 'TSUIDS', 'UIDMETA', 'ANNOTATION', 'LOOKUP'];

/** One tag pair of a lookup; either side may be null ("=v", "k=") or "*" (a wildcard). */
export interface LookupPair {
  readonly key: string | null;
  readonly value: string | null;
}

/** A lookup as SearchQuery holds it (echoed in the answer). */
export interface LookupQuery {
  /** Null when absent; null, "" and "*" match every metric. */
  readonly metric: string | null;
  /** Null when a JSON body had no "tags" (then not echoed). */
  readonly tags: readonly LookupPair[] | null;
  /** At most this many series; ≤ 0: no limit. */
  readonly limit: number;
  /** Echoed; ignored for lookups. */
  readonly startIndex: number;
  /** Echoed when given in a JSON body; ignored for lookups. */
  readonly query: string | null;
}

/** SearchQuery.parseSearchType: the type of /api/search/<type>, or the 400 OpenTSDB answers. */
export function parseSearchType(type: string): SearchType | OpenTsdbRequestError {
  const t = type.toUpperCase();
  const found = SEARCH_TYPES.find((s) => s === t);
  if (found !== undefined && type.length > 0) return found;
  return badRequest('Invalid search query type supplied', type.length === 0 ? 'Type provided was null or empty' : `Unknown type: ${type}`);
}

/** SearchRpc's check of the method: GET and POST only, else 400 "Unsupported method: X". */
export function searchMethodError(method: string): OpenTsdbRequestError | undefined {
  return method === 'GET' || method === 'POST' ? undefined : badRequest(`Unsupported method: ${method}`);
}

/**
 * /api/search/lookup: a non-empty body is a SearchQuery JSON object ({metric, tags:[{key,value}],
 * limit, startIndex, useMeta, …}); otherwise the query string's `m=metric{k=v,…}` and `limit`.
 * Then processLookup's check that a metric or a tag was given.
 */
export function parseLookupRequest(request: DiscoveryRequest): LookupQuery | OpenTsdbRequestError {
  const query = request.body.length > 0 ? bindSearchQuery(request.body) : lookupFromQueryString(new QueryParams(request.query));
  if (isRequestError(query)) return query;
  if (query.metric === null && (query.tags === null || query.tags.length < 1)) return badRequest('Missing metric and tags. Please supply at least one value.');
  return query;
}

/**
 * Any other /api/search type: its query string (or body) is read as OpenTSDB reads it, then the
 * answer is OpenTSDB's without a search plugin, 400 "Searching is not enabled".
 */
export function parseOtherSearchRequest(request: DiscoveryRequest): OpenTsdbRequestError {
  if (request.body.length > 0) {
    const bound = bindSearchQuery(request.body);
    if (isRequestError(bound)) return bound;
  } else {
    const params = new QueryParams(request.query);
    const q = params.required('query');
    if (isRequestError(q)) return q;
    for (const name of ['limit', 'start_index']) {
      if (params.has(name) && parseJavaInt(params.last(name) ?? '') === undefined) return badRequest(`Unable to convert '${name}' to a valid number`);
    }
  }
  return badRequest('Searching is not enabled', 'Searching has not been enabled on this TSD');
}

function lookupFromQueryString(params: QueryParams): LookupQuery | OpenTsdbRequestError {
  const m = params.required('m');
  if (isRequestError(m)) return m;
  const tags: LookupPair[] = [];
  let metric: string | null;
  try {
    metric = parseWithMetric(m, tags);
  } catch (err) {
    if (err instanceof TagSyntaxError) return badRequest('Unable to parse query', err.message);
    throw err;
  }
  let limit = DEFAULT_LOOKUP_LIMIT;
  if (params.has('limit')) {
    const v = parseJavaInt(params.last('limit') ?? '');
    if (v === undefined) return badRequest("Unable to convert 'limit' to a valid number");
    limit = v;
  }
  return { metric, tags, limit, startIndex: 0, query: null };
}

class TagSyntaxError extends Error {}

/**
 * Tags.parseWithMetric (the List<Pair> form, 2.1+): "metric", "metric{k=v,…}" or "{k=v,…}"
 * (metric null). Pairs go to `tags`; throws TagSyntaxError with OpenTSDB's message.
 */
export function parseWithMetric(text: string, tags: LookupPair[]): string | null {
  const curly = text.indexOf('{');
  if (curly < 0) {
    if (text.length === 0) throw new TagSyntaxError('Metric string was empty');
    return text;
  }
  const len = text.length;
  if (text.charCodeAt(len - 1) !== 0x7d) throw new TagSyntaxError(`Missing '}' at the end of: ${text}`);
  if (curly === len - 2) {
    if (text.charCodeAt(0) === 0x7b) throw new TagSyntaxError(`Missing metric and tags: ${text}`);
    return text.slice(0, len - 2);
  }
  for (const tag of splitString(text.slice(curly + 1, len - 1), ',')) {
    try {
      parseLookupTag(tags, tag);
    } catch (err) {
      if (err instanceof TagSyntaxError) throw new TagSyntaxError(`When parsing tag '${tag}': ${err.message}`);
      throw err;
    }
  }
  return text.charCodeAt(0) === 0x7b ? null : text.slice(0, curly);
}

/** Tags.parse(List<Pair>, tag): "k=v", "=v" (key null) or "k=" (value null). */
function parseLookupTag(tags: LookupPair[], tag: string): void {
  if (tag.length < 2) throw new TagSyntaxError('Missing tag pair');
  if (tag.charCodeAt(0) === 0x3d) {
    tags.push({ key: null, value: tag.slice(1) });
    return;
  }
  if (tag.charCodeAt(tag.length - 1) === 0x3d) {
    tags.push({ key: tag.slice(0, -1), value: null });
    return;
  }
  const kv = splitString(tag, '=');
  if (kv.length !== 2 || kv[0]!.length === 0 || kv[1]!.length === 0) throw new TagSyntaxError(`invalid tag: ${tag}`);
  tags.push({ key: kv[0]!, value: kv[1]! });
}

const UNPARSABLE = 'Unable to parse the given JSON';

/** A body bound to SearchQuery (unknown properties ignored, as its @JsonIgnoreProperties says). */
function bindSearchQuery(body: Uint8Array): LookupQuery | OpenTsdbRequestError {
  const root = readJsonBody(body);
  if (isRequestError(root)) return root;
  const mismatch = (what: string, v: unknown, chain: string): OpenTsdbRequestError =>
    badRequest(UNPARSABLE, `Cannot deserialize instance of \`${what}\` out of ${jacksonTokenName(v)} token (through reference chain: ${chain})`);
  if (typeof root !== 'object' || root === null || Array.isArray(root) || !isPlainObject(root)) {
    return mismatch('net.opentsdb.search.SearchQuery', root, 'net.opentsdb.search.SearchQuery');
  }
  const chain = (field: string): string => `net.opentsdb.search.SearchQuery["${field}"]`;
  const fields = root as Record<string, unknown>;
  let metric: string | null = null;
  let query: string | null = null;
  let tags: LookupPair[] | null = null;
  let limit = DEFAULT_LOOKUP_LIMIT;
  let startIndex = 0;
  for (const [name, v] of Object.entries(fields)) {
    switch (name) {
      case 'metric':
      case 'query': {
        const text = jacksonText(v);
        if (text === undefined) return mismatch('java.lang.String', v, chain(name));
        if (name === 'metric') metric = text;
        else query = text;
        break;
      }
      case 'limit':
      case 'startIndex': {
        const n = jacksonInt(v);
        if (n === undefined) return badRequest(UNPARSABLE, `Cannot deserialize value of type \`int\` from ${jacksonTokenName(v)} (through reference chain: ${chain(name)})`);
        if (name === 'limit') limit = n;
        else startIndex = n;
        break;
      }
      case 'useMeta':
        if (jacksonBoolean(v) === undefined) return badRequest(UNPARSABLE, `Cannot deserialize value of type \`boolean\` from ${jacksonTokenName(v)} (through reference chain: ${chain(name)})`);
        break;
      case 'tags': {
        if (v === null) {
          tags = null;
          break;
        }
        if (!Array.isArray(v)) return mismatch('java.util.ArrayList', v, chain('tags'));
        tags = [];
        for (let i = 0; i < v.length; i++) {
          const element: unknown = v[i];
          if (typeof element !== 'object' || element === null || Array.isArray(element) || !isPlainObject(element)) {
            return mismatch('net.opentsdb.utils.Pair', element, `${chain('tags')}->java.util.ArrayList[${i}]`);
          }
          let key: string | null = null;
          let value: string | null = null;
          for (const [side, sv] of Object.entries(element as Record<string, unknown>)) {
            if (side !== 'key' && side !== 'value') continue;
            const text = jacksonText(sv);
            if (text === undefined) return mismatch('java.lang.String', sv, `${chain('tags')}->java.util.ArrayList[${i}]->net.opentsdb.utils.Pair["${side}"]`);
            if (side === 'key') key = text;
            else value = text;
          }
          tags.push({ key, value });
        }
        break;
      }
      default:
        break;
    }
  }
  return { metric, tags, limit, startIndex, query };
}

function isPlainObject(v: object): boolean {
  return Object.getPrototypeOf(v) === Object.prototype || Object.getPrototypeOf(v) === null;
}

// ------------------------------------------------------------------ answer

/**
 * A series' tsuid: the upper-case hex of the UTF-8 bytes of its canonical key (metric{k=v,…},
 * keys sorted, as canonicalSeriesKey writes it). Unique per series and stable across restarts;
 * parseTsuid reverses it.
 */
export function seriesTsuid(key: SeriesKey): string {
  return Buffer.from(canonicalSeriesKey(key), 'utf8').toString('hex').toUpperCase();
}

/** The canonical series key a tsuid names, or undefined when it is not one of Strata's tsuids. */
export function parseTsuid(tsuid: string): string | undefined {
  if (tsuid.length === 0 || tsuid.length % 2 !== 0 || !/^[0-9A-Fa-f]+$/.test(tsuid)) return undefined;
  const text = Buffer.from(tsuid, 'hex').toString('utf8');
  return text.includes('\ufffd') || !text.endsWith('}') ? undefined : text;
}

/**
 * The LOOKUP answer: SearchQuery as Jackson writes it — type, query (when set), metric (when
 * set), tags (when set), limit, time (a Java float), results, startIndex, totalResults — with each
 * result {tsuid, metric, tags} (the ConcurrentHashMap's order) and its tags a HashMap sized to the
 * tag count. `series` are the matches in answer order, already limited.
 */
export function lookupAnswer(query: LookupQuery, series: readonly SeriesKey[], timeMs: number, request: DiscoveryRequest): OpenTsdbAnswer {
  let out = '{"type":"LOOKUP"';
  if (query.query !== null) out += `,"query":${jacksonString(query.query)}`;
  if (query.metric !== null) out += `,"metric":${jacksonString(query.metric)}`;
  if (query.tags !== null) out += `,"tags":[${query.tags.map((p) => `{"key":${nullableString(p.key)},"value":${nullableString(p.value)}}`).join(',')}]`;
  out += `,"limit":${query.limit},"time":${javaFloatOfInteger(timeMs)},"results":[`;
  for (let i = 0; i < series.length; i++) {
    const s = series[i]!;
    if (i > 0) out += ',';
    const tags = new JavaStringMap();
    for (const k of Object.keys(s.tags).sort()) tags.put(k, s.tags[k]!);
    out += `{"tsuid":"${seriesTsuid(s)}","metric":${jacksonString(s.metric)},"tags":${tags.toJson(tags.size)}}`;
  }
  out += `],"startIndex":${query.startIndex},"totalResults":${series.length}}`;
  return jsonAnswer(out, request);
}

function nullableString(s: string | null): string {
  return s === null ? 'null' : jacksonString(s);
}

/**
 * Float.toString (Java 8's FloatingDecimal) of a non-negative integer, a duration in ms: "12.0"
 * below 10^7, else the float's exact integer digits without trailing zeros, "1.23456792E8".
 */
export function javaFloatOfInteger(n: number): string {
  const f = Math.fround(Math.max(0, Math.round(n)));
  if (f < 1e7) return `${f}.0`;
  const exact = String(f);
  const digits = exact.replace(/0+$/, '');
  return `${digits[0]!}.${digits.length > 1 ? digits.slice(1) : '0'}E${exact.length - 1}`;
}
