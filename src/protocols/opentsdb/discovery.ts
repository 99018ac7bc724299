// OpenTSDB's discovery endpoints (protocols.md §2.5) as pure functions: /api/suggest request
// parsing (SuggestRpc), the /api/version, /api/aggregators and /api/config/filters bodies
// (RpcManager, HttpJsonSerializer), and the answers of both API generations — /api/… ("v1": JSON,
// errors in the {"error":{…}} envelope, jsonp) and the legacy unversioned paths (/suggest,
// /version, /aggregators: errors as an HTML page or {"err":…}). Catalog reads live in
// src/query/listings.ts; /api/search/lookup in lookup.ts. Pure: no I/O, no engine, no transport.
import { JsonSyntaxError, JsonTokenizer } from '../json/tokenizer.js';
import { JsonValueBuilder } from '../json/value.js';
import { OPENTSDB_AGGREGATOR_NAMES } from './aggregator-names.js';
import { METHOD_NOT_ALLOWED_MESSAGE, methodNotAllowedDetails, openTsdbErrorBody } from './envelope.js';
import { JavaStringMap, escapeJsonLikeOpenTsdb, jacksonString, javaHashMapOrder, javaTrim, parseJavaInt } from './java-compat.js';
import { openTsdbVersionLines } from './telnet-commands.js';

/** Where Strata's discovery endpoints differ from OpenTSDB 2.4 (keep docs/api/opentsdb.md in step). */
export const OPENTSDB_DISCOVERY_DECISIONS = [
  'Names come from Strata\'s catalog (every series ever written through any protocol, deleted ones included, as OpenTSDB\'s UID table keeps names); suggest lists them in UTF-16 order (OpenTSDB: UTF-8 byte order — they differ only between characters above U+FFFF and U+E000–U+FFFF).',
  'The reserved tag key strata:rollup and its values are never listed: suggest (tagk and tagv) and lookup skip them, and lookup never returns rollup or pre-aggregate series (OpenTSDB keeps those in separate tables).',
  '/api/search/lookup always answers from the catalog, as if tsd.core.meta.enable_realtime_ts were on (OpenTSDB\'s default has an empty tsdb-meta table and finds nothing); useMeta / use_meta is read and ignored.',
  'Lookup results are sorted by series (metric, then tags); OpenTSDB returns them in UID order. A "tsuid" is the upper-case hex of the UTF-8 canonical series key (metric{k=v,…}), not 3-byte UIDs; it is unique per series and stable across restarts.',
  'Tags objects in lookup results follow java.util.HashMap order with the tag keys inserted in sorted order (OpenTSDB inserts them in UID order, which only matters when two keys share a bucket).',
  'A POST body that does not bind (JSON syntax, wrong types) is 400 "Unable to parse the given JSON" with Strata\'s own details text; OpenTSDB answers suggest the same way with Jackson\'s exception text, and answers lookup with 500 and Jackson\'s exception text.',
  'A lookup tag pair with both sides wildcards ("*=*") matches every series (OpenTSDB fails with a NullPointerException).',
  '/api/version reports Strata\'s package version in "version"; short_revision and full_revision are empty, timestamp "0", repo_status "UNKNOWN", and user, host, repo and branch empty. The telnet version command and the legacy /version text render the same record in OpenTSDB\'s two lines (BuildData.revisionString and buildString), so every version answer names Strata\'s version and none claims an OpenTSDB build.',
  'Other /api/search types (tsmeta, tsmeta_summary, tsuids, uidmeta, annotation) answer 400 "Searching is not enabled", as OpenTSDB without a search plugin; an unknown type is 400 "Invalid search query type supplied".',
  'The legacy HTML error page HTML-escapes the reason (OpenTSDB inserts it raw, so "<code>type</code>" is markup there and user input is reflected unescaped).',
  'An empty jsonp parameter is ignored (OpenTSDB fails with 500 "Missing callback name"). The /api/v2… and later paths are not served (404), and paths are matched case-sensitively without a trailing slash.',
  'GET /api/v1/version answers KairosDB\'s {"version": "KairosDB 1.3.0-1"}: both APIs claim the path on the shared port and KairosDB clients need it; OpenTSDB clients use /api/version (every other /api/v1/… OpenTSDB path is served).',
] as const;

/** Content-Type of every /api/… answer (HttpJsonSerializer.responseContentType). */
export const OPENTSDB_JSON_TYPE = 'application/json; charset=UTF-8';

/** 1 for /api/… and /api/v1/…, 0 for the deprecated unversioned paths (/suggest, /version, /aggregators). */
export type OpenTsdbApiVersion = 0 | 1;

/** An HTTP request as a discovery endpoint needs it. */
export interface DiscoveryRequest {
  /** Upper-case HTTP method. */
  readonly method: string;
  readonly apiVersion: OpenTsdbApiVersion;
  /** The raw query string (without '?'). */
  readonly query: string;
  /** The request body (inflated), possibly empty. */
  readonly body: Uint8Array;
}

/**
 * An OpenTSDB BadRequestException: status, message and (possibly empty) details. A class, so that
 * a parsed JSON body can never pass for one (see isRequestError).
 */
export class OpenTsdbRequestError {
  constructor(
    readonly status: number,
    readonly message: string,
    readonly details: string,
  ) {}
}

/** Status and body to send (Content-Type: OPENTSDB_JSON_TYPE for v1, legacyContentType(body) for v0). */
export interface OpenTsdbAnswer {
  readonly status: number;
  readonly body: string;
}

export function badRequest(message: string, details = '', status = 400): OpenTsdbRequestError {
  return new OpenTsdbRequestError(status, message, details);
}

export function isRequestError(x: unknown): x is OpenTsdbRequestError {
  return x instanceof OpenTsdbRequestError;
}

// ------------------------------------------------------------------ query strings

/**
 * A query string read as Netty's QueryStringDecoder and HttpQuery do: `has` is presence (any
 * value), `last` the last value of a repeated parameter (null when absent); '+' is a space.
 */
export class QueryParams {
  private readonly params: URLSearchParams;

  constructor(query: string) {
    this.params = new URLSearchParams(query);
  }

  has(name: string): boolean {
    return this.params.has(name);
  }

  last(name: string): string | null {
    const all = this.params.getAll(name);
    return all.length > 0 ? all[all.length - 1]! : null;
  }

  /** HttpQuery.getRequiredQueryStringParam: the last value, or the "Missing parameter" error when absent or empty. */
  required(name: string): string | OpenTsdbRequestError {
    const v = this.last(name);
    if (v === null || v.length === 0) return badRequest(`Missing parameter <code>${name}</code>`);
    return v;
  }

  /** The jsonp callback for v1 answers: the last non-empty `jsonp` value, else null. */
  jsonp(): string | null {
    const v = this.last('jsonp');
    return v !== null && v.length > 0 ? v : null;
  }
}

// ------------------------------------------------------------------ answers

/** A v1 JSON answer (HttpJsonSerializer.serializeJSON): `cb(json)` when the request has a jsonp callback. */
export function jsonAnswer(json: string, request: Pick<DiscoveryRequest, 'apiVersion' | 'query'>, status = 200): OpenTsdbAnswer {
  const jsonp = request.apiVersion > 0 ? new QueryParams(request.query).jsonp() : null;
  return { status, body: jsonp !== null ? `${jsonp}(${json})` : json };
}

/**
 * An error as HttpQuery.badRequest sends it. v1: its status and the {"error":{…}} envelope (jsonp
 * honoured). v0 (legacy paths): always 400; `{"err":"…"}` when the query has `json`, else
 * OpenTSDB's HTML "Bad Request" page (reason HTML-escaped).
 */
export function errorAnswer(err: Pick<OpenTsdbRequestError, 'status' | 'message' | 'details'>, request: Pick<DiscoveryRequest, 'apiVersion' | 'query'>): OpenTsdbAnswer {
  const params = new QueryParams(request.query);
  if (request.apiVersion > 0) return { status: err.status, body: openTsdbErrorBody(err.status, err.message, err.details, params.jsonp()) };
  if (params.has('json')) return { status: 400, body: `{"err":"${escapeJsonLikeOpenTsdb(err.message)}"}` };
  return {
    status: 400,
    body: makePage(
      'Bad Request',
      "Looks like it's your fault this time",
      '<blockquote><h1>Bad Request</h1>Sorry but your request was rejected as being invalid.<br/><br/>' +
        `The reason provided was:<blockquote>${escapeHtml(err.message)}</blockquote></blockquote>`,
    ),
  };
}

/** The 405 of an endpoint that serves only GET and POST (RpcUtil.allowedMethods), in the request's generation. */
export function methodNotAllowed(request: Pick<DiscoveryRequest, 'apiVersion' | 'query' | 'method'>): OpenTsdbAnswer {
  return errorAnswer(badRequest(METHOD_NOT_ALLOWED_MESSAGE, methodNotAllowedDetails(request.method), 405), request);
}

/** Whether an endpoint that serves GET and POST serves `method`. */
export function isGetOrPost(method: string): boolean {
  return method === 'GET' || method === 'POST';
}

/** HttpQuery.guessMimeTypeFromContents, for legacy (v0) answers: by the body's first byte. */
export function legacyContentType(body: string): string {
  const c = body.charCodeAt(0);
  if (c === 0x3c) return 'text/html; charset=UTF-8';
  if (c === 0x7b || c === 0x5b) return 'application/json';
  return 'text/plain';
}

/** HttpQuery.makePage: OpenTSDB's small HTML page. */
function makePage(title: string, subtitle: string, body: string): string {
  return (
    '<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 4.01 Transitional//EN"><html><head>' +
    `<meta http-equiv=content-type content="text/html;charset=utf-8"><title>${title}</title>\n` +
    '<style><!--\nbody{font-family:arial,sans-serif;margin-left:2em}A.l:link{color:#6f6f6f}A.u:link{color:green}' +
    '.subg{background-color:#e2f4f7}.fwf{font-family:monospace;white-space:pre-wrap}//--></style></head>\n' +
    '<body text=#000000 bgcolor=#ffffff><table border=0 cellpadding=2 cellspacing=0 width=100%>' +
    '<tr><td rowspan=3 width=1% nowrap><b><font color=#c71a32 size=10>T</font><font color=#00a189 size=10>S</font>' +
    '<font color=#1a65b7 size=10>D</font>&nbsp;&nbsp;</b><td>&nbsp;</td></tr><tr><td class=subg><font color=#507e9b><b>' +
    `${subtitle}</b></td></tr><tr><td>&nbsp;</td></tr></table>${body}` +
    '<table width=100% cellpadding=0 cellspacing=0><tr><td class=subg><img alt="" width=1 height=6></td></tr></table></body></html>'
  );
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

// ------------------------------------------------------------------ version, aggregators, filters

/** BuildData's fields, as /api/version lists them. */
export interface OpenTsdbBuildInfo {
  readonly version: string;
  readonly short_revision: string;
  readonly full_revision: string;
  /** Build time, seconds since the epoch, as text. */
  readonly timestamp: string;
  /** MINT, MODIFIED or UNKNOWN. */
  readonly repo_status: string;
  readonly user: string;
  readonly host: string;
  readonly repo: string;
  readonly branch: string;
}

/** The build info Strata reports: its package version; nothing else is known about the build. */
export function strataBuildInfo(packageVersion: string): OpenTsdbBuildInfo {
  return { version: packageVersion, short_revision: '', full_revision: '', timestamp: '0', repo_status: 'UNKNOWN', user: '', host: '', repo: '', branch: '' };
}

/** The version map as Jackson writes RpcManager.Version's HashMap (Java's iteration order). */
export function encodeVersion(info: OpenTsdbBuildInfo): string {
  const map = new JavaStringMap();
  // RpcManager.Version's put order.
  for (const key of ['version', 'short_revision', 'full_revision', 'timestamp', 'repo_status', 'user', 'host', 'repo', 'branch'] as const) map.put(key, info[key]);
  return map.toJson();
}

/**
 * The legacy `/version` answer: the two lines of the telnet `version` command, or (when the URI
 * ends in "json", e.g. /version?json) the version map.
 */
export function legacyVersionAnswer(info: OpenTsdbBuildInfo, uri: string): OpenTsdbAnswer {
  return { status: 200, body: uri.endsWith('json') ? encodeVersion(info) : `${openTsdbVersionLines(info)}\n` };
}

/**
 * Aggregators.set() as Jackson writes it: a JSON array in the iteration order of OpenTSDB 2.4's
 * `new HashMap<>(8)`. (Insertion order only breaks ties inside a bucket; those ties — sum/p50,
 * pfsum/p75, min/avg/ep75r7, mimmin/p999, ep99r3/ep95r7, ep75r3/ep50r7 — come out the same from
 * OPENTSDB_AGGREGATOR_NAMES' order as from OpenTSDB's static block.)
 */
export function encodeAggregators(): string {
  const names = OPENTSDB_AGGREGATOR_NAMES;
  return `[${javaHashMapOrder(names, 8)
    .map((i) => jacksonString(names[i]!))
    .join(',')}]`;
}

/** One tag value filter as TagVFilter.loadedFilters() describes it (each class's description() and examples()). */
export interface OpenTsdbFilterInfo {
  readonly type: string;
  readonly description: string;
  readonly examples: string;
}

/** OpenTSDB 2.4's built-in filters, in TagVFilter's registration order. */
export const OPENTSDB_FILTERS: readonly OpenTsdbFilterInfo[] = [
  literalOr('literal_or', 'contains', 'sensitive'),
  literalOr('iliteral_or', 'contains', 'insensitive'),
  literalOr('not_literal_or', 'does NOT contain', 'sensitive'),
  literalOr('not_iliteral_or', 'does NOT contain', 'insensitive'),
  {
    type: 'regexp',
    description:
      'Provides full, POSIX compliant regular expression using the built in Java Pattern class. Note that an expression containing curly braces {} will not parse properly in URLs. If the pattern is not a valid regular expression then an exception will be raised.',
    examples: 'host=regexp(.*)  {"type":"regexp","tagk":"host","filter":".*","groupBy":false}',
  },
  wildcard('wildcard', 'The globs are case sensitive and multiple wildcards can be used. The wildcard character is the * (asterisk).'),
  wildcard(
    'iwildcard',
    'The globs are case insensitive and multiple wildcards can be used. The wildcard character is the * (asterisk). Case insensitivity is achieved by dropping all values to lower case.',
  ),
];

function literalOr(type: string, contains: string, sensitivity: string): OpenTsdbFilterInfo {
  return {
    type,
    description: `Accepts one or more exact values and matches if the series ${contains} any of them. Multiple values can be included and must be seperated by the | (pipe) character. The filter is case ${sensitivity} and will not allow characters that TSDB does not allow at write time.`,
    examples: `host=${type}(web01),  host=${type}(web01|web02|web03)  {"type":"${type}","tagk":"host","filter":"web01|web02|web03","groupBy":false}`,
  };
}

function wildcard(type: string, middle: string): OpenTsdbFilterInfo {
  return {
    type,
    description: `Performs pre, post and in-fix glob matching of values. ${middle} At least one wildcard must be present in the filter value. A wildcard by itself can be used as well to match on any value for the tag key.`,
    examples: `host=${type}(web*),  host=${type}(web*.tsdb.net)  {"type":"${type}","tagk":"host","filter":"web*.tsdb.net","groupBy":false}`,
  };
}

/**
 * /api/config/filters: TagVFilter.loadedFilters() as Jackson writes it — a `new HashMap<>(7)` of
 * type → `new HashMap<>(1)` {description, examples}, each in Java's iteration order.
 */
export function encodeFilterConfig(filters: readonly OpenTsdbFilterInfo[] = OPENTSDB_FILTERS): string {
  const innerKeys = ['description', 'examples'] as const;
  const inner = javaHashMapOrder(innerKeys, 1);
  const outer = javaHashMapOrder(
    filters.map((f) => f.type),
    filters.length,
  );
  const entries = outer.map((i) => {
    const f = filters[i]!;
    return `${jacksonString(f.type)}:{${inner.map((k) => `"${innerKeys[k]!}":${jacksonString(f[innerKeys[k]!])}`).join(',')}}`;
  });
  return `{${entries.join(',')}}`;
}

// ------------------------------------------------------------------ suggest

export type SuggestType = 'metrics' | 'tagk' | 'tagv';

/** UniqueId.MAX_SUGGESTIONS: what suggest returns when `max` is absent, empty or not positive. */
export const DEFAULT_SUGGEST_MAX = 25;

export interface SuggestQuery {
  readonly type: SuggestType;
  /** Prefix; "" matches everything. Case-sensitive. */
  readonly q: string;
  /** At most this many names (> 0). */
  readonly max: number;
}

/**
 * SuggestRpc's reading of a request, checks in its order: v1 POST reads the JSON body
 * (`{"type":…,"q":…,"max":…}`, values bound as strings), everything else the query string; then
 * a missing type, an unparsable max, and an unknown type (metric[s], tagk, tagv, any case).
 */
export function parseSuggestRequest(request: DiscoveryRequest): SuggestQuery | OpenTsdbRequestError {
  let type: string | null;
  let q: string;
  let max: string | null;
  if (request.apiVersion > 0 && request.method === 'POST') {
    const map = parseStringMapBody(request.body);
    if (isRequestError(map)) return map;
    type = map.get('type') ?? null;
    if (type === null || type.length === 0) return badRequest("Missing 'type' parameter");
    q = map.get('q') ?? '';
    max = map.get('max') ?? null;
  } else {
    const params = new QueryParams(request.query);
    const t = params.required('type');
    if (isRequestError(t)) return t;
    type = t;
    q = params.has('q') ? (params.last('q') ?? '') : '';
    max = params.last('max');
  }
  let maxResults = 0;
  if (max !== null && max.length > 0) {
    const v = parseJavaInt(max);
    if (v === undefined) return badRequest("Unable to parse 'max' as a number");
    maxResults = v;
  }
  const kind = suggestType(type);
  if (kind === undefined) return badRequest(`Invalid 'type' parameter:${type}`, `Invalid type requested: ${type}`);
  return { type: kind, q, max: maxResults > 0 ? maxResults : DEFAULT_SUGGEST_MAX };
}

/** UniqueId.stringToUniqueIdType. */
function suggestType(type: string): SuggestType | undefined {
  const t = type.toLowerCase();
  if (t === 'metric' || t === 'metrics') return 'metrics';
  if (t === 'tagk' || t === 'tagv') return t;
  return undefined;
}

/** The suggest answer: a JSON array of names (jsonp for v1). */
export function suggestAnswer(names: readonly string[], request: DiscoveryRequest): OpenTsdbAnswer {
  return jsonAnswer(`[${names.map(jacksonString).join(',')}]`, request);
}

// ------------------------------------------------------------------ JSON bodies

/** A JSON number kept as its literal (Jackson binds numbers to String fields as their text). */
export class JsonNumberText {
  constructor(readonly text: string) {}
}

const MISSING_CONTENT = badRequest('Missing message content', 'Supply valid JSON formatted data in the body of your request');
const UNPARSABLE = 'Unable to parse the given JSON';

/**
 * Reads a request body as Jackson's ObjectMapper.readValue does: one JSON value (non-numeric
 * numbers allowed, content after it ignored), numbers as JsonNumberText. An empty body is
 * "Missing message content"; a syntax error "Unable to parse the given JSON".
 */
export function readJsonBody(body: Uint8Array): unknown {
  if (body.length === 0) return MISSING_CONTENT;
  const tok = new JsonTokenizer();
  tok.nonNumericNumbers = true;
  const builder = new JsonValueBuilder(tok, (t: JsonTokenizer) => new JsonNumberText(t.numberText()), true);
  try {
    tok.feed(body, true);
    builder.read();
  } catch (err) {
    if (err instanceof JsonSyntaxError) return badRequest(UNPARSABLE, err.message);
    throw err;
  }
  return builder.value;
}

/** A JSON value bound to a Java String as Jackson does: text, number literal, "true"/"false", or null; containers fail (undefined). */
export function jacksonText(v: unknown): string | null | undefined {
  if (typeof v === 'string') return v;
  if (v instanceof JsonNumberText) return v.text;
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (v === null) return null;
  return undefined;
}

/** Jackson's name of a JSON value's token, for binding messages. */
export function jacksonTokenName(v: unknown): string {
  if (Array.isArray(v)) return 'START_ARRAY';
  if (v instanceof JsonNumberText) return /[.eE]/.test(v.text) ? 'VALUE_NUMBER_FLOAT' : 'VALUE_NUMBER_INT';
  if (typeof v === 'string') return 'VALUE_STRING';
  if (typeof v === 'boolean') return v ? 'VALUE_TRUE' : 'VALUE_FALSE';
  if (v === null) return 'VALUE_NULL';
  return 'START_OBJECT';
}

/** A body bound to HashMap<String, String> (SuggestRpc's parseSuggestV1). */
function parseStringMapBody(body: Uint8Array): Map<string, string | null> | OpenTsdbRequestError {
  const root = readJsonBody(body);
  if (isRequestError(root)) return root;
  if (typeof root !== 'object' || root === null || Array.isArray(root) || root instanceof JsonNumberText) {
    return badRequest(UNPARSABLE, `Cannot deserialize instance of \`java.util.HashMap\` out of ${jacksonTokenName(root)} token`);
  }
  const map = new Map<string, string | null>();
  for (const [k, v] of Object.entries(root)) {
    const text = jacksonText(v);
    if (text === undefined) return badRequest(UNPARSABLE, `Cannot deserialize instance of \`java.lang.String\` out of ${jacksonTokenName(v)} token (through reference chain: java.util.HashMap[${JSON.stringify(k)}])`);
    map.set(k, text);
  }
  return map;
}

/**
 * A JSON value bound to a Java int as Jackson 2.9 does for a primitive: integer literals in
 * range, decimals truncated, numeric strings (trimmed; "" is 0), null as 0. Undefined otherwise.
 */
export function jacksonInt(v: unknown): number | undefined {
  if (v === null) return 0;
  if (v instanceof JsonNumberText) {
    const n = Number(v.text);
    if (!Number.isFinite(n)) return undefined;
    const t = Math.trunc(n);
    return t >= -2147483648 && t <= 2147483647 ? t || 0 : undefined;
  }
  if (typeof v === 'string') {
    const s = javaTrim(v);
    return s.length === 0 ? 0 : parseJavaInt(s);
  }
  return undefined;
}

/** A JSON value bound to a Java boolean primitive: true/false, "true"/"True"/"false"/"False"/"", integers (0 false), null false. */
export function jacksonBoolean(v: unknown): boolean | undefined {
  if (typeof v === 'boolean') return v;
  if (v === null) return false;
  if (v instanceof JsonNumberText) return /^-?\d+$/.test(v.text) ? Number(v.text) !== 0 : undefined;
  if (v === 'true' || v === 'True') return true;
  if (v === 'false' || v === 'False' || v === '') return false;
  return undefined;
}
