// OpenTSDB 2.4 `/api/query` requests: the GET query string (QueryRpc.parseQuery, m= sub-queries)
// and the POST JSON body (Jackson binding of TSQuery/TSSubQuery/RateOptions/TagVFilter, with its
// coercions), then TSQuery/TSSubQuery.validateAndSetQuery — in OpenTSDB's order and words.
// Produces a validated OpenTsdbQuery (TSUIDs decoded by query-tsuid.ts); never reads the engine
// (unknown metrics, tags and series are the executor's business). Pure. protocols.md §2.4;
// behaviour and divergences: docs/api/opentsdb-query.md.
import { JsonSyntaxError, type JsonTokenizer } from '../json/tokenizer.js';
import { parseJsonChunks } from '../json/value.js';
import { OPENTSDB_AGGREGATORS } from './datapoint.js';
import { javaSplit, parseJavaInt, parseJavaLong } from './java-compat.js';
import { appendTagFilters, buildTagFilter, parseMetricAndFilters, splitKeepingEmpty, type TagFilter } from './query-filter.js';
import {
  OpenTsdbQueryError,
  badQuery,
  calendarUnitOf,
  isOpenTsdbZoneId,
  parseOpenTsdbDuration,
  parseOpenTsdbTime,
  type CalendarUnit,
} from './query-time.js';
import { resolveTsuids, type TsuidSelection } from './query-tsuid.js';

export { OpenTsdbQueryError } from './query-time.js';

export type FillPolicy = 'none' | 'zero' | 'nan' | 'null';
const FILL_POLICIES: readonly FillPolicy[] = ['none', 'zero', 'nan', 'null'];

/** TsdbQuery.ROLLUP_USAGE. */
export type RollupUsage = 'ROLLUP_RAW' | 'ROLLUP_NOFALLBACK' | 'ROLLUP_FALLBACK' | 'ROLLUP_FALLBACK_RAW';
const ROLLUP_USAGES: readonly RollupUsage[] = ['ROLLUP_RAW', 'ROLLUP_NOFALLBACK', 'ROLLUP_FALLBACK', 'ROLLUP_FALLBACK_RAW'];

/** A parsed DownsamplingSpecification. */
export interface DownsampleSpec {
  /** Interval in ms; 0 for "all". */
  readonly intervalMs: number;
  /** "<n>all": one point per series over the whole query range. */
  readonly runAll: boolean;
  /** Calendar-aligned buckets ("c" suffix or the query's useCalendar). */
  readonly useCalendar: boolean;
  /** For calendar buckets: how many `calendarUnit`s a bucket spans. */
  readonly calendarInterval: number;
  readonly calendarUnit: CalendarUnit;
  /** The downsampling aggregator's name (an OpenTSDB aggregator, never "none"). */
  readonly aggregator: string;
  readonly fill: FillPolicy;
}

/** RateOptions; `counterMax` and `resetValue` are Java longs. */
export interface RateOptions {
  readonly counter: boolean;
  readonly counterMax: bigint;
  readonly resetValue: bigint;
  readonly dropResets: boolean;
}

export const DEFAULT_COUNTER_MAX = 9223372036854775807n;

export interface SubQuery {
  readonly aggregator: string;
  /** As given; '' when none (a TSUID sub-query needs none). */
  readonly metric: string;
  /** Given TSUIDs, as written (echoed by showQuery). */
  readonly tsuids: readonly string[];
  /**
   * What the TSUIDs name when there are any (then they alone choose the series, as in OpenTSDB:
   * metric, filters and explicitTags are not used); null for a metric sub-query.
   */
  readonly tsuidSelection: TsuidSelection | null;
  /** The downsample text as given, null when none. */
  readonly downsample: string | null;
  readonly downsampleSpec: DownsampleSpec | null;
  readonly rate: boolean;
  /** As given; null when the request had none (the executor uses defaults). */
  readonly rateOptions: RateOptions | null;
  readonly filters: readonly TagFilter[];
  readonly explicitTags: boolean;
  readonly percentiles: readonly number[] | null;
  readonly rollupUsage: RollupUsage | null;
  readonly preAggregate: boolean;
  /** Position among the (deduplicated) sub-queries. */
  readonly index: number;
}

/** A validated /api/query request. Times are epoch milliseconds. */
export interface OpenTsdbQuery {
  readonly start: string;
  readonly end: string | null;
  readonly startMs: number;
  readonly endMs: number;
  readonly timezone: string | null;
  readonly useCalendar: boolean;
  readonly msResolution: boolean;
  readonly showQuery: boolean;
  readonly showTsuids: boolean;
  readonly noAnnotations: boolean;
  readonly globalAnnotations: boolean;
  readonly showSummary: boolean;
  readonly showStats: boolean;
  readonly delete: boolean;
  readonly queries: readonly SubQuery[];
  /** Query-string `arrays`: dps as [[ts, v], …]. */
  readonly arrays: boolean;
  /** Query-string `jsonp` (last value, when non-empty). */
  readonly jsonp: string | null;
}

/** What the serializer needs before the request is known to be valid: arrays and jsonp. */
export function queryStringOutputFlags(queryString: string): { arrays: boolean; jsonp: string | null } {
  const qs = new URLSearchParams(queryString);
  return { arrays: qs.has('arrays'), jsonp: lastNonEmpty(qs, 'jsonp') };
}

function lastNonEmpty(qs: URLSearchParams, name: string): string | null {
  const all = qs.getAll(name);
  const v = all.length > 0 ? all[all.length - 1]! : null;
  return v !== null && v.length > 0 ? v : null;
}

// ------------------------------------------------------------------------------------------------
// Unvalidated request (what Jackson or the query string parser produced)

interface RawSubQuery {
  aggregator: string | null;
  metric: string | null;
  tsuids: string[];
  downsample: string | null;
  rate: boolean;
  rateOptions: RateOptions | null;
  filters: TagFilter[];
  explicitTags: boolean;
  percentiles: number[] | null;
  rollupUsage: RollupUsage | null;
  preAggregate: boolean;
}

interface RawQuery {
  start: string | null;
  end: string | null;
  timezone: string | null;
  useCalendar: boolean;
  msResolution: boolean;
  showQuery: boolean;
  showTsuids: boolean;
  noAnnotations: boolean;
  globalAnnotations: boolean;
  showSummary: boolean;
  showStats: boolean;
  delete: boolean;
  queries: RawSubQuery[] | null;
}

function emptySubQuery(): RawSubQuery {
  return {
    aggregator: null,
    metric: null,
    tsuids: [],
    downsample: null,
    rate: false,
    rateOptions: null,
    filters: [],
    explicitTags: false,
    percentiles: null,
    rollupUsage: null,
    preAggregate: false,
  };
}

function emptyQuery(): RawQuery {
  return {
    start: null,
    end: null,
    timezone: null,
    useCalendar: false,
    msResolution: false,
    showQuery: false,
    showTsuids: false,
    noAnnotations: false,
    globalAnnotations: false,
    showSummary: false,
    showStats: false,
    delete: false,
    queries: null,
  };
}

/**
 * Parses and validates a GET (`queryString` only) or POST (`body`) request. `nowMs` is "now" for
 * relative times and a missing end. Throws OpenTsdbQueryError with OpenTSDB's status and words.
 */
export function parseOpenTsdbQuery(method: 'GET' | 'POST', queryString: string, body: string, nowMs: number): OpenTsdbQuery {
  const raw = method === 'GET' ? parseGet(new URLSearchParams(queryString)) : parsePostBody(body);
  raw.queries = raw.queries === null ? null : dedupe(raw.queries);
  return validate(raw, nowMs, queryStringOutputFlags(queryString));
}

// ------------------------------------------------------------------------------------------------
// GET

function parseGet(qs: URLSearchParams): RawQuery {
  const q = emptyQuery();
  const start = lastNonEmpty(qs, 'start');
  if (start === null) throw badQuery('Missing parameter <code>start</code>');
  q.start = start;
  const ends = qs.getAll('end');
  q.end = ends.length > 0 ? ends[ends.length - 1]! : null;
  q.noAnnotations = qs.has('no_annotations');
  q.globalAnnotations = qs.has('global_annotations');
  q.showTsuids = qs.has('show_tsuids');
  q.msResolution = qs.has('ms');
  q.showQuery = qs.has('show_query');
  q.showStats = qs.has('show_stats');
  q.showSummary = qs.has('show_summary');
  const subs: RawSubQuery[] = [];
  for (const t of qs.getAll('tsuid')) subs.push(parseTsuidSubQuery(t));
  for (const m of qs.getAll('m')) subs.push(parseMSubQuery(m));
  if (subs.length === 0) throw badQuery('Missing sub queries');
  q.queries = subs;
  return q;
}

function colonParts(text: string): string[] {
  const parts = splitKeepingEmpty(text, ':');
  if (parts.length < 2 || parts.length > 5) {
    throw badQuery(`Invalid parameter m=${text} (${parts.length < 2 ? 'not enough' : 'too many'} :-separated parts)`);
  }
  return parts;
}

/** QueryRpc.parseMTypeSubQuery: agg:[rate[{…}]:][ds:][percentiles[…]:][rollup_…:][pre-agg:][explicit_tags:]metric{…}{…}. */
function parseMSubQuery(text: string): RawSubQuery {
  if (text.length === 0) throw badQuery('The query string was empty');
  const parts = colonParts(text);
  const sub = emptySubQuery();
  sub.aggregator = parts[0]!;
  sub.metric = parseMetricAndFilters(parts[parts.length - 1]!, sub.filters);
  for (let x = 1; x < parts.length - 1; x++) {
    const part = parts[x]!;
    const lower = part.toLowerCase();
    if (rateOrDownsample(sub, part)) continue;
    if (lower === 'pre-agg') {
      sub.preAggregate = true;
    } else if (lower.startsWith('rollup_')) {
      sub.rollupUsage = parseRollupUsage(part);
    } else if (lower.startsWith('percentiles')) {
      sub.percentiles = parsePercentilesText(part);
    } else if (lower.startsWith('explicit_tags')) {
      sub.explicitTags = true;
    }
    // Anything else (show-histogram-buckets, typos) is ignored, as in OpenTSDB.
  }
  return sub;
}

/** QueryRpc.parseTsuidTypeSubQuery: agg:[rate:][ds:]tsuid[,tsuid…]. */
function parseTsuidSubQuery(text: string): RawSubQuery {
  if (text.length === 0) throw badQuery('The tsuid query string was empty');
  const parts = colonParts(text);
  const sub = emptySubQuery();
  sub.aggregator = parts[0]!;
  // String.split(","): trailing empty TSUIDs are dropped (",," is no TSUID at all).
  sub.tsuids = javaSplit(parts[parts.length - 1]!, ',');
  for (let x = 1; x < parts.length - 1; x++) rateOrDownsample(sub, parts[x]!);
  return sub;
}

/** The rate and downsample parts both sub-query forms share; false when `part` is neither. */
function rateOrDownsample(sub: RawSubQuery, part: string): boolean {
  if (part.toLowerCase().startsWith('rate')) {
    sub.rate = true;
    if (part.includes('{')) sub.rateOptions = parseRateOptionsText(part);
    return true;
  }
  // Character.isDigit(charAt(0)) on an empty part: Java's StringIndexOutOfBoundsException.
  if (part.length === 0) throw new OpenTsdbQueryError(500, 'String index out of range: 0');
  if (part.charCodeAt(0) >= 0x30 && part.charCodeAt(0) <= 0x39) {
    sub.downsample = part;
    return true;
  }
  return false;
}

/** QueryRpc.parseRateOptions for "rate{counter[,max[,reset]]}" (also "dropcounter"). */
export function parseRateOptionsText(spec: string): RateOptions {
  if (spec.length === 4) return { counter: false, counterMax: DEFAULT_COUNTER_MAX, resetValue: 0n, dropResets: false };
  if (spec.length < 6) throw badQuery(`Invalid rate options specification: ${spec}`);
  const parts = splitKeepingEmpty(spec.slice(5, spec.length - 1), ',');
  if (parts.length < 1 || parts.length > 3) {
    throw badQuery(
      `Incorrect number of values in rate options specification, must be counter[,counter max value,reset value], recieved: ${parts.length} parts`,
    );
  }
  const counter = parts[0]!.endsWith('counter');
  let counterMax = DEFAULT_COUNTER_MAX;
  if (parts.length >= 2 && parts[1]!.length > 0) {
    const v = parseJavaLong(parts[1]!);
    if (v === undefined) throw badQuery(`Max value of counter was not a number, received '${parts[1]!}'`);
    counterMax = BigInt(v);
  }
  let resetValue = 0n;
  if (parts.length >= 3 && parts[2]!.length > 0) {
    const v = parseJavaLong(parts[2]!);
    if (v === undefined) throw badQuery(`Reset value of counter was not a number, received '${parts[2]!}'`);
    resetValue = BigInt(v);
  }
  return { counter, counterMax, resetValue, dropResets: parts[0] === 'dropcounter' };
}

/** QueryRpc.parsePercentiles: "percentiles[50, 99.9]". */
function parsePercentilesText(spec: string): number[] {
  const open = spec.indexOf('[');
  const close = spec.indexOf(']');
  if (open === -1 || close === -1) throw badQuery(`Malformated percentile query paramater: ${spec}`);
  return splitKeepingEmpty(spec.slice(open + 1, close), ',').map((s) => javaFloat(s.trim()));
}

function javaFloat(s: string): number {
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?[fFdD]?$/.test(s)) throw badQuery(`For input string: "${s}"`);
  return Math.fround(Number(s.replace(/[fFdD]$/, '')));
}

/** ROLLUP_USAGE.parse: case-insensitive; anything unknown is OpenTSDB's default, ROLLUP_NOFALLBACK. */
function parseRollupUsage(text: string): RollupUsage {
  const upper = text.toUpperCase();
  return (ROLLUP_USAGES as readonly string[]).includes(upper) ? (upper as RollupUsage) : 'ROLLUP_NOFALLBACK';
}

// ------------------------------------------------------------------------------------------------
// POST (Jackson binding)

/** A JSON number with its literal kept (Jackson binds a number to a String field as its text). */
class JsonNumber {
  constructor(
    readonly text: string,
    readonly value: number,
    readonly isInteger: boolean,
  ) {}
}

const keepNumber = (tok: JsonTokenizer): JsonNumber => new JsonNumber(tok.numberText(), tok.numberValue, tok.isInteger);

/** Jackson's failures all become this 400 (HttpJsonSerializer.parseQueryV1). */
function unparsable(details: string): OpenTsdbQueryError {
  return badQuery('Unable to parse the given JSON', details);
}

function parsePostBody(body: string): RawQuery {
  if (body.length === 0) throw badQuery('Missing message content', 'Supply valid JSON formatted data in the body of your request');
  let doc: unknown;
  try {
    doc = parseJsonChunks([Buffer.from(body, 'utf8')], keepNumber);
  } catch (err) {
    if (err instanceof JsonSyntaxError) throw unparsable(err.message);
    throw err;
  }
  const obj = asObject(doc, 'TSQuery');
  const q = emptyQuery();
  for (const [key, value] of Object.entries(obj)) {
    switch (key) {
      case 'start':
        q.start = asString(value, key);
        break;
      case 'end':
        q.end = asString(value, key);
        break;
      case 'timezone':
        q.timezone = asString(value, key);
        break;
      case 'useCalendar':
        q.useCalendar = asBoolean(value, key);
        break;
      case 'msResolution':
      case 'ms':
        q.msResolution = asBoolean(value, key);
        break;
      case 'showQuery':
        q.showQuery = asBoolean(value, key);
        break;
      case 'showTSUIDs':
        q.showTsuids = asBoolean(value, key);
        break;
      case 'noAnnotations':
        q.noAnnotations = asBoolean(value, key);
        break;
      case 'globalAnnotations':
        q.globalAnnotations = asBoolean(value, key);
        break;
      case 'showSummary':
        q.showSummary = asBoolean(value, key);
        break;
      case 'showStats':
        q.showStats = asBoolean(value, key);
        break;
      case 'delete':
        q.delete = asBoolean(value, key);
        break;
      case 'queries':
        q.queries = value === null ? null : asArray(value, key).map(bindSubQuery);
        break;
      default:
        break; // @JsonIgnoreProperties(ignoreUnknown = true)
    }
  }
  return q;
}

function bindSubQuery(value: unknown): RawSubQuery {
  const sub = emptySubQuery();
  if (value === null) return sub;
  const obj = asObject(value, 'TSSubQuery');
  for (const [key, v] of Object.entries(obj)) {
    switch (key) {
      case 'aggregator':
        sub.aggregator = asString(v, key);
        break;
      case 'metric':
        sub.metric = asString(v, key);
        break;
      case 'tsuids':
        sub.tsuids = v === null ? [] : asArray(v, key).map((t) => asString(t, key) ?? '');
        break;
      case 'downsample':
        sub.downsample = asString(v, key);
        break;
      case 'rate':
        sub.rate = asBoolean(v, key);
        break;
      case 'rateOptions':
        sub.rateOptions = v === null ? null : bindRateOptions(v);
        break;
      case 'tags': {
        // setTags replaces the filter list: whichever of "tags" and "filters" comes last wins.
        sub.filters = [];
        if (v !== null) {
          const entries = Object.entries(asObject(v, key)).map(([k, tv]) => [k, asString(tv, key) ?? ''] as const);
          wrapBinding(() => appendTagFilters(entries, sub.filters, true));
        }
        break;
      }
      case 'filters':
        sub.filters = v === null ? [] : asArray(v, key).map(bindFilter);
        break;
      case 'explicitTags':
        sub.explicitTags = asBoolean(v, key);
        break;
      case 'percentiles':
        sub.percentiles = v === null ? null : asArray(v, key).map((p) => Math.fround(asNumber(p, key)));
        break;
      case 'rollupUsage': {
        const s = asString(v, key);
        sub.rollupUsage = s === null ? null : parseRollupUsage(s);
        break;
      }
      case 'preAggregate':
        sub.preAggregate = asBoolean(v, key);
        break;
      default:
        break;
    }
  }
  return sub;
}

function bindRateOptions(value: unknown): RateOptions {
  const obj = asObject(value, 'RateOptions');
  let counter = false;
  let counterMax = DEFAULT_COUNTER_MAX;
  let resetValue = 0n;
  let dropResets = false;
  for (const [key, v] of Object.entries(obj)) {
    if (key === 'counter') counter = asBoolean(v, key);
    else if (key === 'counterMax') counterMax = asLong(v, key);
    else if (key === 'resetValue') resetValue = asLong(v, key);
    else if (key === 'dropResets') dropResets = asBoolean(v, key);
  }
  return { counter, counterMax, resetValue, dropResets };
}

function bindFilter(value: unknown): TagFilter {
  const obj = asObject(value, 'TagVFilter');
  let type: string | null = null;
  let tagk: string | null = null;
  let filter: string | null = null;
  let groupBy = false;
  for (const [key, v] of Object.entries(obj)) {
    if (key === 'type') type = asString(v, key);
    else if (key === 'tagk') tagk = asString(v, key);
    else if (key === 'filter') filter = asString(v, key);
    else if (key === 'groupBy' || key === 'group_by') groupBy = asBoolean(v, key);
  }
  return wrapBinding(() => buildTagFilter(type, tagk, filter, groupBy));
}

/** An IllegalArgumentException thrown while Jackson builds an object is a parse failure. */
function wrapBinding<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof OpenTsdbQueryError) throw unparsable(err.message);
    throw err;
  }
}

function typeName(v: unknown): string {
  if (Array.isArray(v)) return 'START_ARRAY';
  if (v instanceof JsonNumber) return v.isInteger ? 'VALUE_NUMBER_INT' : 'VALUE_NUMBER_FLOAT';
  if (typeof v === 'object' && v !== null) return 'START_OBJECT';
  if (typeof v === 'string') return 'VALUE_STRING';
  if (typeof v === 'boolean') return v ? 'VALUE_TRUE' : 'VALUE_FALSE';
  return 'VALUE_NULL';
}

function mismatch(target: string, v: unknown, field: string): OpenTsdbQueryError {
  return unparsable(`Cannot deserialize value of type \`${target}\` out of ${typeName(v)} token (field "${field}")`);
}

function asObject(v: unknown, target: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v) || v instanceof JsonNumber) {
    throw unparsable(`Cannot deserialize instance of \`${target}\` out of ${typeName(v)} token`);
  }
  return v as Record<string, unknown>;
}

function asArray(v: unknown, field: string): unknown[] {
  if (!Array.isArray(v)) throw mismatch('java.util.ArrayList', v, field);
  return v;
}

/** Jackson String coercion: strings as is, numbers as their literal, booleans as "true"/"false". */
function asString(v: unknown, field: string): string | null {
  if (v === null) return null;
  if (typeof v === 'string') return v;
  if (v instanceof JsonNumber) return v.text;
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  throw mismatch('java.lang.String', v, field);
}

/** Jackson boolean coercion: true/false, "true"/"false" (also capitalised), "" and null as false, integers ≠ 0. */
function asBoolean(v: unknown, field: string): boolean {
  if (typeof v === 'boolean') return v;
  if (v === null) return false;
  if (typeof v === 'string') {
    if (v === 'true' || v === 'True' || v === 'TRUE') return true;
    if (v === 'false' || v === 'False' || v === 'FALSE' || v === '') return false;
  }
  if (v instanceof JsonNumber && v.isInteger) return v.value !== 0;
  throw mismatch('boolean', v, field);
}

function asNumber(v: unknown, field: string): number {
  if (v instanceof JsonNumber) return v.value;
  if (typeof v === 'string') {
    const n = Number(v.trim());
    if (v.trim().length > 0 && Number.isFinite(n)) return n;
  }
  throw mismatch('float', v, field);
}

/** Jackson long coercion: integers exactly, decimals truncated, numeric strings, null as 0. */
function asLong(v: unknown, field: string): bigint {
  if (v === null) return 0n;
  if (v instanceof JsonNumber) {
    if (v.isInteger) return BigInt(v.text);
    if (Number.isFinite(v.value)) return BigInt(Math.trunc(v.value));
  }
  if (typeof v === 'string') {
    const parsed = parseJavaLong(v.trim());
    if (parsed !== undefined) return BigInt(parsed);
  }
  throw mismatch('long', v, field);
}

// ------------------------------------------------------------------------------------------------
// Deduplication and validation

/** Removes sub-queries equal to an earlier one (OpenTSDB collects them in a LinkedHashSet). */
function dedupe(queries: RawSubQuery[]): RawSubQuery[] {
  const seen = new Set<string>();
  const out: RawSubQuery[] = [];
  for (const q of queries) {
    const identity = JSON.stringify([
      q.aggregator,
      q.metric,
      q.tsuids,
      q.downsample,
      q.rate,
      q.rateOptions === null ? null : [q.rateOptions.counter, String(q.rateOptions.counterMax), String(q.rateOptions.resetValue), q.rateOptions.dropResets],
      q.filters.map((f) => f.identity),
      q.explicitTags,
      q.percentiles,
      q.rollupUsage,
      q.preAggregate,
    ]);
    if (seen.has(identity)) continue;
    seen.add(identity);
    out.push(q);
  }
  return out;
}

/** TSQuery.validateAndSetQuery, then each TSSubQuery's, in OpenTSDB's order. */
function validate(q: RawQuery, nowMs: number, output: { arrays: boolean; jsonp: string | null }): OpenTsdbQuery {
  if (q.start === null || q.start.length === 0) throw badQuery('Missing start time');
  const startMs = parseOpenTsdbTime(q.start, q.timezone, nowMs);
  const endMs = q.end !== null && q.end.length > 0 ? parseOpenTsdbTime(q.end, q.timezone, nowMs) : nowMs;
  if (endMs < startMs) throw badQuery(`End time [${endMs}] must be greater than or equal to the start time [${startMs}]`);
  if (q.queries === null || q.queries.length === 0) throw badQuery('Missing queries');
  const queries: SubQuery[] = [];
  for (const raw of q.queries) {
    const sub = validateSubQuery(raw, q.useCalendar, queries.length);
    if (sub.downsampleSpec !== null && q.timezone !== null && q.timezone.length > 0 && !isOpenTsdbZoneId(q.timezone)) {
      throw badQuery('The timezone specification could not be found');
    }
    queries.push(sub);
  }
  // TsdbQuery.configureFromQuery runs after every sub-query validated: then the TSUIDs are read.
  for (let i = 0; i < queries.length; i++) {
    const sub = queries[i]!;
    if (sub.tsuids.length > 0) queries[i] = { ...sub, tsuidSelection: resolveTsuids(sub.tsuids) };
  }
  return {
    start: q.start,
    end: q.end,
    startMs,
    endMs,
    timezone: q.timezone !== null && q.timezone.length > 0 ? q.timezone : null,
    useCalendar: q.useCalendar,
    msResolution: q.msResolution,
    showQuery: q.showQuery,
    showTsuids: q.showTsuids,
    noAnnotations: q.noAnnotations,
    globalAnnotations: q.globalAnnotations,
    showSummary: q.showSummary,
    showStats: q.showStats,
    delete: q.delete,
    queries,
    arrays: output.arrays,
    jsonp: output.jsonp,
  };
}

function validateSubQuery(raw: RawSubQuery, useCalendar: boolean, index: number): SubQuery {
  if (raw.aggregator === null || raw.aggregator.length === 0) throw badQuery('Missing the aggregation function');
  if (!OPENTSDB_AGGREGATORS.has(raw.aggregator)) throw badQuery(`No such aggregation function: ${raw.aggregator}`);
  if (raw.tsuids.length === 0 && (raw.metric === null || raw.metric.length === 0)) throw badQuery('Missing the metric or tsuids, provide at least one');
  const downsampleSpec = raw.downsample !== null && raw.downsample.length > 0 ? parseDownsample(raw.downsample, useCalendar) : null;
  return {
    aggregator: raw.aggregator,
    metric: raw.metric ?? '',
    tsuids: raw.tsuids,
    tsuidSelection: null,
    downsample: raw.downsample,
    downsampleSpec,
    rate: raw.rate,
    rateOptions: raw.rateOptions,
    filters: raw.filters,
    explicitTags: raw.explicitTags,
    percentiles: raw.percentiles,
    rollupUsage: raw.rollupUsage,
    preAggregate: raw.preAggregate,
    index,
  };
}

/**
 * DownsamplingSpecification(String): "<interval>[c]-<aggregator>[-<fill>]" or "<n>all-<aggregator>…".
 * `useCalendar` (the query's flag) turns on calendar buckets as the "c" suffix does.
 */
export function parseDownsample(spec: string, useCalendar = false): DownsampleSpec {
  const parts = javaSplit(spec, '-');
  if (parts.length < 2) throw badQuery(`Invalid downsampling specifier '${spec}': must provide at least interval and function`);
  if (parts.length > 3) throw badQuery(`Invalid downsampling specifier '${spec}': must consist of interval, function, and optional fill policy`);
  const intervalText = parts[0]!;
  let intervalMs = 0;
  let runAll = false;
  let calendar = false;
  let stringInterval = intervalText;
  if (intervalText.includes('all')) {
    runAll = true;
  } else if (intervalText.endsWith('c')) {
    stringInterval = intervalText.slice(0, -1);
    intervalMs = parseOpenTsdbDuration(stringInterval);
    calendar = true;
  } else {
    intervalMs = parseOpenTsdbDuration(intervalText);
  }
  const aggregator = parts[1]!;
  if (!OPENTSDB_AGGREGATORS.has(aggregator)) throw badQuery(`No such downsampling function: ${aggregator}`);
  if (aggregator === 'none') throw badQuery('cannot use the NONE aggregator for downsampling');
  let fill: FillPolicy = 'none';
  if (parts.length === 3) {
    const found = FILL_POLICIES.find((p) => p === parts[2]!.toLowerCase());
    if (found === undefined) throw badQuery(`No such fill policy: '${parts[2]!}': must be one of: ${FILL_POLICIES.join(' ')}`);
    fill = found;
  }
  calendar = !runAll && (calendar || useCalendar);
  let calendarInterval = 0;
  let calendarUnit: CalendarUnit = 'ms';
  if (calendar) {
    // Downsampler's own reading of the interval for calendars: Integer.parseInt of the digits.
    const unitLength = stringInterval.toLowerCase().includes('ms') ? 2 : 1;
    const digits = stringInterval.slice(0, stringInterval.length - unitLength);
    const n = parseJavaInt(digits);
    if (n === undefined) throw badQuery(`For input string: "${digits}"`);
    calendarInterval = n;
    calendarUnit = calendarUnitOf(stringInterval.slice(stringInterval.length - unitLength));
  }
  return { intervalMs, runAll, useCalendar: calendar, calendarInterval, calendarUnit, aggregator, fill };
}
