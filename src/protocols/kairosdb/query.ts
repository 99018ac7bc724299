// KairosDB query documents (POST|GET /api/v1/datapoints/query, /query/tags, /datapoints/delete):
// parses and validates the JSON into a plain-data model, with KairosDB 1.3's exact validation
// messages (QueryParser + bean validation, protocols.md §1.3). Pure: never touches the engine;
// the model is structured-clonable so it can cross to a worker thread.
import { ServiceError, ServiceErrorCode } from '../../errors.js';
import {
  TIME_UNITS,
  availableZoneIds,
  isValidZoneId,
  relativeTimeMs,
  timeUnitFrom,
  type TimeUnit,
  type ZoneId,
} from '../../query/time.js';

export type { TimeUnit, ZoneId } from '../../query/time.js';

/**
 * Bounds used for "no end" and for metric deletes (KairosDB: Long.MIN_VALUE / Long.MAX_VALUE).
 * The largest doubles inside the signed 64-bit range, so the engine's tombstone codec keeps them.
 */
export const MIN_TIMESTAMP_MS = -(2 ** 63);
export const MAX_TIMESTAMP_MS = 2 ** 63 - 2 ** 10;

/** A count of time units, e.g. sampling {value: 1, unit: 'MINUTES'}. value ≥ 1. */
export interface Duration {
  readonly value: number;
  readonly unit: TimeUnit;
}

/** A whole query: every metric query carries its own resolved time range. */
export interface KairosQuery {
  /** Wall clock the relative times were resolved against (ms). */
  readonly nowMs: number;
  /** `cache_time` in seconds; validated, not used (Strata has no query cache). */
  readonly cacheTimeSeconds: number;
  /** `time_zone`, handed to time-zone-aware aggregators; undefined = UTC. */
  readonly timeZone: ZoneId | undefined;
  readonly metrics: readonly KairosMetricQuery[];
}

export interface KairosMetricQuery {
  readonly name: string;
  /** Present only when the request gave one; echoed in each result. */
  readonly alias?: string;
  /** Tag filter: key → allowed values (sorted, unique, non-empty). Keys absent = no filter. */
  readonly tags: Readonly<Record<string, readonly string[]>>;
  readonly excludeTags: boolean;
  /** Points per group before aggregation; 0 = no limit (negative also means no limit). */
  readonly limit: number;
  readonly order: 'asc' | 'desc';
  /** Inclusive range, ms. endMs is MAX_TIMESTAMP_MS when the query gave no end. */
  readonly startMs: number;
  readonly endMs: number;
  /** Group-bys in request order (KairosDB applies tag grouping first, then the others in order). */
  readonly groupBy: readonly GroupBySpec[];
  readonly aggregators: readonly AggregatorSpec[];
}

export type GroupBySpec =
  | { readonly kind: 'tag'; readonly tags: readonly string[] }
  | { readonly kind: 'time'; readonly rangeSize: Duration; readonly groupCount: number; readonly startMs: number }
  | { readonly kind: 'value'; readonly rangeSize: number }
  | { readonly kind: 'bin'; readonly bins: readonly number[] };

/** Settings shared by KairosDB's range aggregators (RangeAggregator). */
export interface RangeSettings {
  readonly sampling: Duration;
  readonly alignSampling: boolean;
  readonly alignStartTime: boolean;
  readonly alignEndTime: boolean;
  /** Anchor of the sampling ranges (default: the query start). */
  readonly startMs: number;
  /** End used by `gaps` to know when to stop emitting empty ranges (capped at now when run). */
  readonly endMs: number;
  readonly timeZone: ZoneId | undefined;
}

export const RANGE_AGGREGATORS = ['avg', 'count', 'dev', 'first', 'gaps', 'last', 'least_squares', 'max', 'min', 'sum'] as const;
export type RangeAggregatorName = (typeof RANGE_AGGREGATORS)[number];
export type FilterOp = 'LTE' | 'LT' | 'GTE' | 'GT' | 'EQUAL';
export type TrimMode = 'FIRST' | 'LAST' | 'BOTH';

export type AggregatorSpec =
  | { readonly name: RangeAggregatorName; readonly range: RangeSettings }
  | { readonly name: 'percentile'; readonly range: RangeSettings; readonly percentile: number }
  | { readonly name: 'diff' }
  | { readonly name: 'div'; readonly divisor: number }
  | { readonly name: 'filter'; readonly op: FilterOp; readonly threshold: number }
  | { readonly name: 'rate' | 'sampler'; readonly sampling: Duration; readonly timeZone: ZoneId | undefined }
  | {
      readonly name: 'save_as';
      readonly metricName: string;
      readonly tags: Readonly<Record<string, string>>;
      readonly ttlSeconds: number;
      readonly addSavedFrom: boolean;
      /** Tag keys of the metric's tag group-by: kept on saved series when single-valued. */
      readonly tagsToKeep: readonly string[];
    }
  | { readonly name: 'scale'; readonly factor: number }
  | { readonly name: 'sma'; readonly size: number }
  | { readonly name: 'trim'; readonly trim: TrimMode | undefined };

export type AggregatorName = AggregatorSpec['name'];

// ---------------------------------------------------------------------------------------------
// Entry points

/**
 * Parses a query document given as text, as KairosDB's GET ?query= / POST body. `undefined`
 * (no ?query=) answers KairosDB's "query json must not be null or empty". Throws ServiceError
 * (BadRequest) with KairosDB's messages; see parseKairosQuery.
 */
export function parseKairosQueryText(text: string | undefined, nowMs: number): KairosQuery {
  if (text === undefined) throw bad('query json must not be null or empty');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    // KairosDB answers Gson's MalformedJsonException text here; the wording differs (docs/api/kairosdb.md).
    throw bad(`com.google.gson.stream.MalformedJsonException: ${(err as Error).message}`);
  }
  if (nestingDepth(text) > MAX_QUERY_DEPTH) throw bad(`query json is nested deeper than ${MAX_QUERY_DEPTH} levels`);
  return parseKairosQuery(json, nowMs);
}

/**
 * Deepest array/object nesting a query document may have. JSON.parse copes with any depth, but
 * printing such a value in a message (JSON.stringify) or walking it recurses and overflows the
 * stack, which was a 500 (found by fuzzing). No real query nests beyond a handful of levels.
 */
const MAX_QUERY_DEPTH = 512;

/** The deepest array/object nesting of JSON text (brackets inside strings do not count). */
function nestingDepth(text: string): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) max = depth;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return max;
}

/**
 * Validates a parsed query document (JSON.parse output) and resolves relative times against
 * `nowMs`. Throws ServiceError(BadRequest) whose messages are exactly KairosDB's for the same
 * input: the first failing check wins, as in KairosDB (bean validation of the top-level fields
 * may list several). The result is plain data.
 */
export function parseKairosQuery(json: unknown, nowMs: number): KairosQuery {
  if (!isObject(json)) throw bad(`java.lang.IllegalStateException: Not a JSON Object: ${jsonText(json)}`);
  const top = parseTopLevel(json);

  const plugins = json['plugins'];
  if (plugins !== undefined && plugins !== null) parsePlugins('', asArray(plugins));

  const metricsJson = json['metrics'];
  if (metricsJson === undefined || metricsJson === null) throw bad('query.metric[] must have a size of at least 1');
  const metricsArray = asArray(metricsJson);
  const metrics: KairosMetricQuery[] = [];
  for (let i = 0; i < metricsArray.length; i++) {
    metrics.push(parseMetric(metricsArray[i], `query.metric[${i}]`, top, nowMs));
  }
  return { nowMs, cacheTimeSeconds: top.cacheTime, timeZone: top.timeZone, metrics };
}

// ---------------------------------------------------------------------------------------------
// Top level (KairosDB's Query bean, read by Gson then bean-validated)

interface TopLevel {
  startAbsolute: number | undefined;
  endAbsolute: number | undefined;
  startRelative: { value: number; unit: TimeUnit | undefined } | undefined;
  endRelative: { value: number; unit: TimeUnit | undefined } | undefined;
  cacheTime: number;
  timeZone: ZoneId | undefined;
}

function parseTopLevel(json: Record<string, unknown>): TopLevel {
  const top: TopLevel = {
    startAbsolute: undefined,
    endAbsolute: undefined,
    startRelative: undefined,
    endRelative: undefined,
    cacheTime: 0,
    timeZone: undefined,
  };
  for (const key of Object.keys(json)) {
    const value = json[key];
    if (value === null) continue;
    switch (key) {
      case 'start_absolute':
        top.startAbsolute = gsonLong(value, `$.${key}`);
        break;
      case 'end_absolute':
        top.endAbsolute = gsonLong(value, `$.${key}`);
        break;
      case 'cache_time':
        top.cacheTime = gsonInt(value, `$.${key}`);
        break;
      case 'start_relative':
        top.startRelative = gsonRelative(value, `$.${key}`, 'query');
        break;
      case 'end_relative':
        top.endRelative = gsonRelative(value, `$.${key}`, 'query');
        break;
      case 'time_zone':
        top.timeZone = parseZone(value, 'query');
        break;
      default:
        break;
    }
  }
  const violations: string[] = [];
  if (top.cacheTime < 0) violations.push('cache_time must be greater than or equal to 0');
  for (const [name, rel] of [['start_relative', top.startRelative], ['end_relative', top.endRelative]] as const) {
    if (rel === undefined) continue;
    if (rel.value < 1) violations.push(`${name}.value must be greater than or equal to 1`);
    if (rel.unit === undefined) violations.push(`${name}.unit may not be null`);
  }
  if (violations.length > 0) throw bad(violations);
  return top;
}

function startTimeOf(top: TopLevel, nowMs: number): number | undefined {
  if (top.startAbsolute !== undefined) return top.startAbsolute;
  if (top.startRelative !== undefined) return relativeTimeMs(top.startRelative.value, top.startRelative.unit!, nowMs);
  return undefined;
}

/** KairosDB's getEndTime: -1 means "not given", and so does any end below -1 (a quirk kept). */
function endTimeOf(top: TopLevel, nowMs: number): number {
  if (top.endAbsolute !== undefined) return top.endAbsolute;
  if (top.endRelative !== undefined) return relativeTimeMs(top.endRelative.value, top.endRelative.unit!, nowMs);
  return -1;
}

// ---------------------------------------------------------------------------------------------
// One metric

function parseMetric(element: unknown, context: string, top: TopLevel, nowMs: number): KairosMetricQuery {
  if (!isObject(element)) throw bad(`java.lang.IllegalStateException: Not a JSON Object: ${jsonText(element)}`);

  // MetricDeserializer: name, exclude_tags, tags, limit.
  const nameJson = element['name'];
  const name = nameJson === undefined || nameJson === null ? undefined : javaString(nameJson);
  const excludeJson = element['exclude_tags'];
  const excludeTags = excludeJson === undefined || excludeJson === null ? false : javaBoolean(excludeJson);
  const tags = parseTags(element['tags'], context);
  const limitJson = element['limit'];
  const limit = limitJson === undefined || limitJson === null ? 0 : javaInt(limitJson);

  if (name === undefined) throw bad(`${context}.name may not be null`);
  if (name === '') throw bad(`${context}.name may not be empty`);

  const startMs = startTimeOf(top, nowMs);
  if (startMs === undefined) throw bad(`${context}.start_time relative or absolute time must be set`);
  const end = endTimeOf(top, nowMs);
  const endMs = end > -1 ? end : MAX_TIMESTAMP_MS;
  if (endMs < startMs) throw bad(`${context}.end_time must be greater than the start time`);

  const groupBy: GroupBySpec[] = [];
  const groupByJson = element['group_by'];
  if (groupByJson !== undefined && groupByJson !== null) {
    const list = asArray(groupByJson);
    for (let j = 0; j < list.length; j++) groupBy.push(parseGroupBy(list[j], context, j, startMs));
  }

  const aggregators: AggregatorSpec[] = [];
  const aggregatorsJson = element['aggregators'];
  if (aggregatorsJson !== undefined && aggregatorsJson !== null) {
    const list = asArray(aggregatorsJson);
    const tagsToKeep = groupBy.flatMap((g) => (g.kind === 'tag' ? g.tags : []));
    const defaults: RangeDefaults = { startMs, endMs, timeZone: top.timeZone, tagsToKeep };
    for (let j = 0; j < list.length; j++) aggregators.push(parseAggregator(list[j], context, j, defaults));
  }

  const pluginsJson = element['plugins'];
  if (pluginsJson !== undefined && pluginsJson !== null) parsePlugins(context, asArray(pluginsJson));

  let order: 'asc' | 'desc' = 'asc';
  const orderJson = element['order'];
  if (orderJson !== undefined && orderJson !== null) {
    const text = javaString(orderJson).toLowerCase();
    if (text !== 'asc' && text !== 'desc') throw bad(`${context}.order must be either 'asc' or 'desc'`);
    order = text;
  }

  const aliasJson = element['alias'];
  const base = { name, tags, excludeTags, limit, order, startMs, endMs, groupBy, aggregators };
  return aliasJson === undefined || aliasJson === null ? base : { ...base, alias: javaString(aliasJson) };
}

function parseTags(json: unknown, context: string): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  if (json === undefined || json === null) return out;
  if (!isObject(json)) throw bad(`java.lang.IllegalStateException: Not a JSON Object: ${jsonText(json)}`);
  let count = 0;
  for (const key of Object.keys(json)) {
    const tagContext = `${context}.tags[${count}]`;
    if (key === '') throw bad(`${tagContext} name must not be empty`);
    const value = json[key];
    const values = Array.isArray(value) ? value : [value];
    for (const element of values) {
      if (element === null || element === undefined) throw bad(`${tagContext}.${key} value must not be null or empty`);
      const text = javaString(element);
      if (text === '') throw bad(`${tagContext}.${key} value must not be null or empty`);
      const list = (out[key] ??= []);
      if (!list.includes(text)) list.push(text);
    }
    count++;
  }
  for (const key of Object.keys(out)) out[key]!.sort();
  return out;
}

function parsePlugins(context: string, plugins: unknown[]): void {
  for (let i = 0; i < plugins.length; i++) {
    const plugin = plugins[i];
    const nameJson = isObject(plugin) ? plugin['name'] : undefined;
    const name = nameJson === undefined || nameJson === null ? '' : javaString(nameJson);
    const prefix = context === '' ? '' : `${context}.`;
    if (name === '') throw bad(`${prefix}plugins[${i}] must have a name`);
    // Strata registers no query plugins.
    throw bad(`${context}.plugins[${i}].${name} invalid query plugin name`);
  }
}

// ---------------------------------------------------------------------------------------------
// Group-bys and aggregators: KairosDB sets bean properties by name ("align_sampling" →
// setAlignSampling) and rejects names without a setter.

type PropKind =
  | 'long'
  | 'int'
  | 'double'
  | 'boolean'
  | 'duration'
  | 'timeUnit'
  | 'zone'
  | 'string'
  | 'stringMap'
  | 'stringList'
  | 'doubleArray'
  | 'trim'
  | 'filterOp';

interface BeanDef {
  /** Java class KairosDB names in its "no matching setter" message. */
  readonly javaClass: string;
  readonly props: Readonly<Record<string, PropKind>>;
}

const RANGE_PROPS: Record<string, PropKind> = {
  sampling: 'duration',
  align_start_time: 'boolean',
  align_end_time: 'boolean',
  align_sampling: 'boolean',
  start_time: 'long',
  end_time: 'long',
  time_zone: 'zone',
};

const AGGREGATOR = 'org.kairosdb.core.aggregator.';
const AGGREGATOR_BEANS: Readonly<Record<string, BeanDef>> = {
  avg: { javaClass: `${AGGREGATOR}AvgAggregator`, props: RANGE_PROPS },
  count: { javaClass: `${AGGREGATOR}CountAggregator`, props: RANGE_PROPS },
  dev: { javaClass: `${AGGREGATOR}StdAggregator`, props: RANGE_PROPS },
  diff: { javaClass: `${AGGREGATOR}DiffAggregator`, props: {} },
  div: { javaClass: `${AGGREGATOR}DivideAggregator`, props: { divisor: 'double' } },
  filter: { javaClass: `${AGGREGATOR}FilterAggregator`, props: { filter_op: 'filterOp', threshold: 'double' } },
  first: { javaClass: `${AGGREGATOR}FirstAggregator`, props: RANGE_PROPS },
  gaps: { javaClass: `${AGGREGATOR}DataGapsMarkingAggregator`, props: RANGE_PROPS },
  last: { javaClass: `${AGGREGATOR}LastAggregator`, props: RANGE_PROPS },
  least_squares: { javaClass: `${AGGREGATOR}LeastSquaresAggregator`, props: RANGE_PROPS },
  max: { javaClass: `${AGGREGATOR}MaxAggregator`, props: RANGE_PROPS },
  min: { javaClass: `${AGGREGATOR}MinAggregator`, props: RANGE_PROPS },
  percentile: { javaClass: `${AGGREGATOR}PercentileAggregator`, props: { ...RANGE_PROPS, percentile: 'double' } },
  rate: { javaClass: `${AGGREGATOR}RateAggregator`, props: { sampling: 'duration', unit: 'timeUnit', time_zone: 'zone' } },
  sampler: { javaClass: `${AGGREGATOR}SamplerAggregator`, props: { unit: 'timeUnit', time_zone: 'zone' } },
  save_as: {
    javaClass: `${AGGREGATOR}SaveAsAggregator`,
    props: { metric_name: 'string', tags: 'stringMap', ttl: 'int', add_saved_from: 'boolean' },
  },
  scale: { javaClass: `${AGGREGATOR}ScaleAggregator`, props: { factor: 'double' } },
  sma: { javaClass: `${AGGREGATOR}SmaAggregator`, props: { size: 'int' } },
  sum: { javaClass: `${AGGREGATOR}SumAggregator`, props: RANGE_PROPS },
  trim: { javaClass: `${AGGREGATOR}TrimAggregator`, props: { trim: 'trim' } },
};

const GROUP_BY = 'org.kairosdb.core.groupby.';
const GROUP_BY_BEANS: Readonly<Record<string, BeanDef>> = {
  tag: { javaClass: `${GROUP_BY}TagGroupBy`, props: { tags: 'stringList' } },
  time: { javaClass: `${GROUP_BY}TimeGroupBy`, props: { range_size: 'duration', group_count: 'int', start_date: 'long' } },
  value: { javaClass: `${GROUP_BY}ValueGroupBy`, props: { range_size: 'int', start_date: 'long' } },
  bin: { javaClass: `${GROUP_BY}BinGroupBy`, props: { bins: 'doubleArray', start_date: 'long' } },
};

/** Every Java bean has the read-only property `class` (getClass). */
const READ_ONLY_PROPS = new Set(['class']);

type PropValue = number | boolean | string | Duration | ZoneId | Record<string, string> | string[] | number[];

/**
 * KairosDB's deserializeProperties: each property in document order, converted as Gson would,
 * then bean-validated on its own. Returns name → value for the properties given (not `name`).
 */
function readProperties(json: Record<string, unknown>, context: string, name: string, bean: BeanDef): Map<string, PropValue> {
  const out = new Map<string, PropValue>();
  for (const property of Object.keys(json)) {
    if (property === 'name') continue;
    const kind = bean.props[property];
    if (kind === undefined) {
      const target = READ_ONLY_PROPS.has(property) ? bean.javaClass : `class ${bean.javaClass}`;
      throw bad(`Property '${property}' was specified for object '${name}' but no matching setter was found on '${target}'`);
    }
    const value = json[property];
    // A JSON null leaves the default in place (KairosDB fails on it in assorted ways; see docs).
    if (value === null || value === undefined) continue;
    out.set(property, convertProperty(kind, value, context, property));
  }
  return out;
}

function convertProperty(kind: PropKind, value: unknown, context: string, property: string): PropValue {
  switch (kind) {
    case 'long':
      return gsonLong(value, '$');
    case 'int':
      return gsonInt(value, '$');
    case 'double':
      return gsonDouble(value, '$', `${context}.${property}`);
    case 'boolean':
      return gsonBoolean(value, '$');
    case 'string':
      return gsonString(value, '$');
    case 'duration': {
      const d = gsonRelative(value, '$', context);
      const violations: string[] = [];
      if (d.value < 1) violations.push(`${context}.${property}.value must be greater than or equal to 1`);
      if (d.unit === undefined) violations.push(`${context}.${property}.unit may not be null`);
      if (violations.length > 0) throw bad(violations);
      return { value: d.value, unit: d.unit! };
    }
    case 'timeUnit':
      return parseUnit(value, context);
    case 'zone':
      return parseZone(value, context) ?? 'UTC';
    case 'stringMap': {
      if (!isObject(value)) throw gsonExpected('BEGIN_OBJECT', value, '$');
      const map: Record<string, string> = {};
      for (const k of Object.keys(value)) {
        const v = value[k];
        if (v !== null && v !== undefined) map[k] = gsonString(v, `$.${k}`);
      }
      return map;
    }
    case 'stringList': {
      if (!Array.isArray(value)) throw gsonExpected('BEGIN_ARRAY', value, '$');
      return value.filter((v) => v !== null).map((v, i) => gsonString(v, `$[${i}]`));
    }
    case 'doubleArray': {
      if (!Array.isArray(value)) throw gsonExpected('BEGIN_ARRAY', value, '$');
      return value.map((v, i) => gsonDouble(v, `$[${i}]`, `${context}.${property}`));
    }
    case 'trim':
      return parseEnum(value, ['FIRST', 'LAST', 'BOTH'], context);
    case 'filterOp':
      return parseEnum(value, ['LTE', 'LT', 'GTE', 'GT', 'EQUAL'], context);
  }
}

function parseGroupBy(element: unknown, context: string, index: number, startMs: number): GroupBySpec {
  if (!isObject(element)) throw bad(`java.lang.IllegalStateException: Not a JSON Object: ${jsonText(element)}`);
  const nameJson = element['name'];
  const name = nameJson === undefined || nameJson === null ? '' : javaString(nameJson);
  if (name === '') throw bad(`${context}.group_by[${index}] must have a name`);
  const groupContext = `${context}.group_by[${index}]`;
  const bean = GROUP_BY_BEANS[name];
  if (bean === undefined) throw bad(`${groupContext}.${name} invalid group_by name`);
  const props = readProperties(element, groupContext, name, bean);
  switch (name) {
    case 'tag': {
      const tags = props.get('tags') as string[] | undefined;
      if (tags === undefined) throw bad(`${groupContext}.tags may not be null`);
      if (tags.length === 0) throw bad(`${groupContext}.tags may not be empty`);
      return { kind: 'tag', tags };
    }
    case 'time': {
      const rangeSize = props.get('range_size') as Duration | undefined;
      const groupCount = (props.get('group_count') as number | undefined) ?? 0;
      const violations: string[] = [];
      if (rangeSize === undefined) violations.push(`${groupContext}.rangeSize may not be null`);
      if (groupCount < 1) violations.push(`${groupContext}.groupCount must be greater than or equal to 1`);
      if (violations.length > 0) throw bad(violations);
      return { kind: 'time', rangeSize: rangeSize!, groupCount, startMs: (props.get('start_date') as number | undefined) ?? startMs };
    }
    case 'value': {
      const rangeSize = (props.get('range_size') as number | undefined) ?? 0;
      if (rangeSize < 1) throw bad(`${groupContext}.rangeSize must be greater than or equal to 1`);
      return { kind: 'value', rangeSize };
    }
    default: {
      const bins = props.get('bins') as number[] | undefined;
      // KairosDB fails later with a NullPointerException (500); Strata rejects it up front.
      if (bins === undefined || bins.length === 0) throw bad(`${groupContext}.bins may not be null`);
      return { kind: 'bin', bins };
    }
  }
}

interface RangeDefaults {
  readonly startMs: number;
  readonly endMs: number;
  readonly timeZone: ZoneId | undefined;
  readonly tagsToKeep: readonly string[];
}

const DEFAULT_SAMPLING: Duration = { value: 1, unit: 'MILLISECONDS' };

function parseAggregator(element: unknown, context: string, index: number, defaults: RangeDefaults): AggregatorSpec {
  if (!isObject(element)) throw bad(`java.lang.IllegalStateException: Not a JSON Object: ${jsonText(element)}`);
  const nameJson = element['name'];
  const name = nameJson === undefined || nameJson === null ? '' : javaString(nameJson);
  if (name === '') throw bad(`${context}.aggregators[${index}] must have a name`);
  const aggContext = `${context}.aggregators[${index}]`;
  const bean = AGGREGATOR_BEANS[name];
  if (bean === undefined) throw bad(`${aggContext}.${name} invalid aggregators name`);
  const props = readProperties(element, aggContext, name, bean);
  const num = (key: string): number | undefined => props.get(key) as number | undefined;
  const bool = (key: string): boolean => (props.get(key) as boolean | undefined) ?? false;
  const zone = (): ZoneId | undefined => (props.get('time_zone') as ZoneId | undefined) ?? defaults.timeZone;

  if ((RANGE_AGGREGATORS as readonly string[]).includes(name) || name === 'percentile') {
    const startMs = num('start_time') ?? defaults.startMs;
    const range: RangeSettings = {
      sampling: (props.get('sampling') as Duration | undefined) ?? DEFAULT_SAMPLING,
      alignSampling: bool('align_sampling'),
      alignStartTime: bool('align_start_time'),
      alignEndTime: bool('align_end_time'),
      startMs,
      endMs: num('end_time') ?? defaults.endMs,
      timeZone: zone(),
    };
    if (name === 'percentile') {
      const percentile = num('percentile') ?? 0;
      if (percentile === 0) throw bad(`${aggContext}.percentile may not be zero`);
      return { name, range, percentile };
    }
    return { name: name as RangeAggregatorName, range };
  }
  switch (name) {
    case 'diff':
      return { name };
    case 'div': {
      const divisor = num('divisor') ?? 0;
      if (divisor === 0) throw bad(`${aggContext}.m_divisor may not be zero`);
      return { name, divisor };
    }
    case 'filter': {
      const op = props.get('filter_op') as FilterOp | undefined;
      // KairosDB fails at run time with a NullPointerException (500); Strata rejects it up front.
      if (op === undefined) throw bad(`${aggContext}.m_filterop may not be null`);
      return { name, op, threshold: num('threshold') ?? 0 };
    }
    case 'rate':
    case 'sampler': {
      const unit = props.get('unit') as TimeUnit | undefined;
      // rate: setUnit and setSampling both replace the sampling; the later one in the document wins.
      let sampling = DEFAULT_SAMPLING;
      for (const key of Object.keys(element)) {
        if (key === 'unit' && unit !== undefined) sampling = { value: 1, unit };
        if (key === 'sampling' && props.has('sampling')) sampling = props.get('sampling') as Duration;
      }
      return { name, sampling, timeZone: zone() };
    }
    case 'save_as': {
      const metricName = props.get('metric_name') as string | undefined;
      // KairosDB fails when writing (500); Strata rejects it up front.
      if (metricName === undefined || metricName === '') throw bad(`${aggContext}.m_metricName may not be null`);
      return {
        name,
        metricName,
        tags: (props.get('tags') as Record<string, string> | undefined) ?? {},
        ttlSeconds: num('ttl') ?? 0,
        addSavedFrom: (props.get('add_saved_from') as boolean | undefined) ?? true,
        tagsToKeep: defaults.tagsToKeep,
      };
    }
    case 'scale':
      return { name, factor: num('factor') ?? 0 };
    case 'sma': {
      const size = num('size') ?? 0;
      // KairosDB fails at run time with an IllegalStateException (500); Strata rejects it up front.
      if (size < 1) throw bad(`${aggContext}.m_size must be greater than or equal to 1`);
      return { name, size };
    }
    default:
      return { name: 'trim', trim: props.get('trim') as TrimMode | undefined };
  }
}

// ---------------------------------------------------------------------------------------------
// Gson-style conversions. Messages follow Gson's JsonTreeReader ("... at path $") and Java's
// number parsing, which is what KairosDB answers with.

function bad(messages: string | readonly string[]): ServiceError {
  return new ServiceError(ServiceErrorCode.BadRequest, messages);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function asArray(value: unknown): unknown[] {
  if (!Array.isArray(value)) throw bad(`java.lang.IllegalStateException: Not a JSON Array: ${jsonText(value)}`);
  return value;
}

function jsonText(value: unknown): string {
  return value === undefined ? 'null' : JSON.stringify(value);
}

function tokenOf(value: unknown): string {
  if (value === null || value === undefined) return 'NULL';
  if (Array.isArray(value)) return 'BEGIN_ARRAY';
  switch (typeof value) {
    case 'number':
    case 'bigint':
      return 'NUMBER';
    case 'string':
      return 'STRING';
    case 'boolean':
      return 'BOOLEAN';
    default:
      return 'BEGIN_OBJECT';
  }
}

function gsonExpected(expected: string, value: unknown, path: string): ServiceError {
  return bad(`java.lang.IllegalStateException: Expected ${expected} but was ${tokenOf(value)} at path ${path}`);
}

/** Java's number text of a JSON number (integers without ".0"). */
function numberText(value: number): string {
  return Number.isInteger(value) ? BigInt(value).toString() : String(value);
}

/** JsonElement.getAsString: primitives as text; anything else fails like KairosDB (approximately). */
function javaString(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return numberText(value);
  if (typeof value === 'boolean') return String(value);
  throw bad(`java.lang.UnsupportedOperationException: ${Array.isArray(value) ? 'JsonArray' : 'JsonObject'}`);
}

/** JsonElement.getAsBoolean: booleans, else Boolean.parseBoolean of the text. */
function javaBoolean(value: unknown): boolean {
  if (typeof value === 'boolean') return value;
  return javaString(value).toLowerCase() === 'true';
}

/** JsonElement.getAsInt: numbers truncated to a Java int, numeric strings parsed. */
function javaInt(value: unknown): number {
  if (typeof value === 'number') return Math.trunc(value) | 0;
  const text = javaString(value);
  if (!/^[+-]?\d+$/.test(text) || !Number.isSafeInteger(Number(text)) || Number(text) !== (Number(text) | 0)) {
    throw bad(`For input string: "${text}"`);
  }
  return Number(text);
}

function gsonLong(value: unknown, path: string): number {
  if (typeof value === 'number') return Math.trunc(value);
  if (typeof value === 'string') {
    if (/^[+-]?\d+$/.test(value)) return Number(value);
    throw bad(`java.lang.NumberFormatException: For input string: "${value}"`);
  }
  throw gsonExpected('NUMBER', value, path);
}

function gsonInt(value: unknown, path: string): number {
  if (typeof value === 'number') return Math.trunc(value) | 0;
  if (typeof value === 'string') {
    if (/^[+-]?\d+$/.test(value) && Number(value) === (Number(value) | 0)) return Number(value);
    throw bad(`java.lang.NumberFormatException: For input string: "${value}"`);
  }
  throw gsonExpected('NUMBER', value, path);
}

/** Doubles: a bad numeric string is a NumberFormatException KairosDB reports with its context. */
function gsonDouble(value: unknown, path: string, context: string): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'string') {
    const text = value.trim();
    if (text === '') throw bad(`${context} empty String`);
    if (/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?[dDfF]?$/.test(text)) return Number(text.replace(/[dDfF]$/, ''));
    if (/^[+-]?(NaN|Infinity)$/.test(text)) return Number(text);
    if ((text.match(/\./g) ?? []).length > 1 && /^[+-]?[\d.]+$/.test(text)) throw bad(`${context} multiple points`);
    throw bad(`${context} For input string: "${value}"`);
  }
  throw gsonExpected('NUMBER', value, path);
}

function gsonBoolean(value: unknown, path: string): boolean {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'string') return value.toLowerCase() === 'true';
  throw gsonExpected('BOOLEAN', value, path);
}

function gsonString(value: unknown, path: string): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return numberText(value);
  if (typeof value === 'boolean') return String(value);
  throw gsonExpected('STRING', value, path);
}

/** A {value, unit} object (RelativeTime, Sampling, Duration). Unknown fields are ignored. */
function gsonRelative(value: unknown, path: string, unitContext: string): { value: number; unit: TimeUnit | undefined } {
  if (!isObject(value)) throw gsonExpected('BEGIN_OBJECT', value, path);
  let amount = 0;
  let unit: TimeUnit | undefined;
  for (const key of Object.keys(value)) {
    const v = value[key];
    if (v === null || v === undefined) continue;
    if (key === 'value') amount = gsonLong(v, `${path}.value`);
    else if (key === 'unit') unit = parseUnit(v, unitContext);
  }
  return { value: amount, unit };
}

function parseUnit(value: unknown, context: string): TimeUnit {
  const text = typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' ? javaString(value) : jsonText(value);
  const unit = timeUnitFrom(text);
  if (unit === undefined) throw bad(`${context}.${text} is not a valid time unit, must be one of ${TIME_UNITS.join(',')}`);
  return unit;
}

/** KairosDB's DateTimeZoneDeserializer: "" means UTC; unknown ids list every valid one. */
function parseZone(value: unknown, context: string): ZoneId | undefined {
  if (value === null || value === undefined) return undefined;
  const id = typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' ? javaString(value) : jsonText(value);
  if (id === '') return 'UTC';
  if (!isValidZoneId(id)) throw bad(`${context}.${id} is not a valid time zone, must be one of [${availableZoneIds().join(', ')}]`);
  return id;
}

function parseEnum<T extends string>(value: unknown, names: readonly T[], context: string): T {
  const text = javaString(value);
  const found = names.find((n) => n.toLowerCase() === text.toLowerCase());
  if (found !== undefined) return found;
  const quoted = names.map((n) => `'${n.toLowerCase()}'`);
  const list = quoted.length > 1 ? `${quoted.slice(0, -1).join(', ')} or ${quoted[quoted.length - 1]!}` : quoted.join('');
  // KairosDB says "trim type" for every enum it parses this way, filter_op included.
  throw bad(`${context}.${text} is not a valid trim type, must be ${list}.`);
}
