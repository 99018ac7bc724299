// One OpenTSDB data point of /api/put, /api/rollup or the telnet `rollup` command: checked in
// OpenTSDB 2.4's order and words (IncomingDataPoint/RollUpDataPoint.validate, TSDB.addPoint,
// TSDB.addAggregatePoint, IncomingDataPoints.checkMetricAndTags), echoed as Jackson writes it, and
// stored through a BatchBuilder — rollups and pre-aggregates under their own series identity
// (ROLLUP_TAG_KEY, below). Pure: no I/O, no engine writer; never imports src/http, pool or telnet.
import { MAX_DECODED_SERIES_KEY_BYTES, seriesKeyFits, seriesStringsFit } from '../series-key-limit.js';
import type { BatchBuilder } from '../batch-builder.js';
import { ROLLUP_TAG_KEY } from '../reserved-tags.js';
import { OPENTSDB_AGGREGATOR_NAMES } from './aggregator-names.js';
import {
  JavaNumberFormatError,
  JavaStringMap,
  fitsInFloat,
  jacksonString,
  javaByteArrayToString,
  javaNonFiniteToString,
  looksLikeInteger,
  openTsdbValueEncoding,
  parseJavaDouble,
  parseTagsLong,
  validateOpenTsdbString,
} from './java-compat.js';

/** OpenTSDB's pre-aggregate tag (tsd.rollups.agg_tag_key): visible, upper-cased group-by function. */
export const AGGREGATE_TAG_KEY = '_aggregate';
/** What OpenTSDB calls a rollup of raw data internally (tsd.rollups.raw_agg_tag_value); never stored as a tag (tsd.rollups.tag_raw=false). */
export const RAW_AGGREGATE_TAG_VALUE = 'RAW';

// ROLLUP_TAG_KEY (src/protocols/reserved-tags.ts) keeps rollups and pre-aggregates apart from raw
// series (protocols.md §7: interval and aggregator are part of the identity). Its value is
// `<interval>:<aggregator>` for a rollup (interval as written, e.g. "1h"; temporal aggregator
// lower-cased, as OpenTSDB's rollup qualifier prefix), or PREAGGREGATE_TAG_VALUE for a pre-aggregate
// without interval. Raw series never carry it, so /api/query selects raw data by its absence and a
// rollup by its exact value; a group-by (pre-aggregated) series also carries AGGREGATE_TAG_KEY. The
// ':' cannot appear in an OpenTSDB name (Tags.validateString), and the put paths refuse the key even
// when allowSpecialChars admits ':'.
export { ROLLUP_TAG_KEY };
/** ROLLUP_TAG_KEY value of a pre-aggregate written without an interval (OpenTSDB's pre-agg table). */
export const PREAGGREGATE_TAG_VALUE = 'preagg';

/** ROLLUP_TAG_KEY value of a rollup: `<interval>:<aggregator lower-cased>`. */
export function rollupTagValue(interval: string, aggregator: string): string {
  return `${interval}:${aggregator.toLowerCase()}`;
}

/** Inverse of rollupTagValue (undefined for PREAGGREGATE_TAG_VALUE or anything else). */
export function parseRollupTagValue(value: string): { interval: string; aggregator: string } | undefined {
  const colon = value.indexOf(':');
  if (colon <= 0) return undefined;
  return { interval: value.slice(0, colon), aggregator: value.slice(colon + 1) };
}

/** OpenTSDB 2.4's aggregator names (Aggregators.set()), as the map keys them (note "squareSum"). */
export const OPENTSDB_AGGREGATORS: ReadonlySet<string> = new Set(OPENTSDB_AGGREGATOR_NAMES);

/** Per-point error texts of /api/put and /api/rollup (the `error` of a details entry). */
/** Strata's own check (series-key-limit.ts): OpenTSDB has no such bound; the engine has. */
const SERIES_KEY_TOO_LONG = `Metric name and tags together exceed ${MAX_DECODED_SERIES_KEY_BYTES} bytes`;

export const PointMessage = {
  MetricEmpty: 'Metric name was empty',
  InvalidTimestamp: 'Invalid timestamp',
  EmptyValue: 'Empty value',
  MissingTags: 'Missing tags',
  MissingInterval: 'Missing interval',
  MissingAggregator: 'Missing aggregator',
  NotANumber: 'Unable to parse value to a number',
  /** Any other exception (a `null` array element; an unknown rollup interval over HTTP). */
  Unexpected: 'Unexpected exception',
} as const;

/**
 * A data point as OpenTSDB's Jackson binding leaves it: strings as given (numbers as their
 * literal), the timestamp a Java long (0 when absent), tags a HashMap (null when absent).
 */
export interface IncomingPoint {
  metric: string | null;
  /** Java long: a number when it is a safe integer, else a bigint. */
  timestamp: number | bigint;
  value: string | null;
  /** `value` already converted (what parseOpenTsdbValue(value) returns), or null to convert the text. */
  parsedValue: ParsedValue | null;
  tags: JavaStringMap | null;
  tsuid: string | null;
  interval: string | null;
  aggregator: string | null;
  groupByAggregator: string | null;
}

export function emptyIncomingPoint(): IncomingPoint {
  return { metric: null, timestamp: 0, value: null, parsedValue: null, tags: null, tsuid: null, interval: null, aggregator: null, groupByAggregator: null };
}

/**
 * The point as OpenTSDB echoes it in a details entry: Jackson's bean order (metric, timestamp,
 * value, tags, tsuid, then RollUpDataPoint's interval, aggregator, groupByAggregator), null fields
 * left out, tags in java.util.HashMap order. `rollup` adds the RollUpDataPoint fields.
 */
export function echoIncomingPoint(p: IncomingPoint, rollup: boolean): string {
  let out = '{';
  if (p.metric !== null) out += `"metric":${jacksonString(p.metric)},`;
  out += `"timestamp":${p.timestamp}`;
  if (p.value !== null) out += `,"value":${jacksonString(p.value)}`;
  if (p.tags !== null) out += `,"tags":${p.tags.toJson()}`;
  if (p.tsuid !== null) out += `,"tsuid":${jacksonString(p.tsuid)}`;
  if (rollup) {
    if (p.interval !== null) out += `,"interval":${jacksonString(p.interval)}`;
    if (p.aggregator !== null) out += `,"aggregator":${jacksonString(p.aggregator)}`;
    if (p.groupByAggregator !== null) out += `,"groupByAggregator":${jacksonString(p.groupByAggregator)}`;
  }
  return `${out}}`;
}

/** A value as OpenTSDB converts its text: a long, or a double stored as float when exact. */
export type ParsedValue =
  | { readonly kind: 'long'; readonly value: number | bigint }
  | { readonly kind: 'float' | 'double'; readonly value: number };

/**
 * PutDataPointRpc's conversion: no '.', 'e' or 'E' → Tags.parseLong, else Double.parseDouble
 * (a float when it fits exactly). Throws JavaNumberFormatError with Java's message.
 */
export function parseOpenTsdbValue(text: string): ParsedValue {
  if (looksLikeInteger(text)) return { kind: 'long', value: parseTagsLong(text) };
  const d = parseJavaDouble(text);
  return { kind: fitsInFloat(d) ? 'float' : 'double', value: d };
}

/** What TSDB.addAggregatePoint did with a point. */
export type AggregateOutcome =
  | { readonly kind: 'stored' }
  /** IllegalArgumentException: the message. */
  | { readonly kind: 'illegal'; readonly message: string }
  /** NoSuchRollupForIntervalException (HTTP: "Unexpected exception"; telnet: "No such rollup: …"). */
  | { readonly kind: 'no-such-rollup'; readonly message: string }
  /** Failed inside the write callback (telnet: "HBase error: …"); nothing stored. */
  | { readonly kind: 'write-error'; readonly message: string };

export interface OpenTsdbPointOptions {
  /**
   * tsd.storage.max_tags: tags per point, `_aggregate` included (the reserved rollup tag is not
   * counted). An integer ≥ 1 (the server's --opentsdb-max-tags); default 8.
   */
  readonly maxTags?: number;
  /** tsd.core.tag.allow_specialchars: extra characters allowed in metric and tag names. Default none. */
  readonly allowSpecialChars?: string;
  /**
   * Rollup intervals accepted (OpenTSDB's rollup config), matched exactly. Default: any
   * `<positive integer><unit>` with unit ms, s, m, h, d, w, n or y.
   */
  readonly rollupIntervals?: readonly string[];
  /** tsd.rollups.block_derived: refuse avg/dev rollups and pre-aggregates. Default true. */
  readonly blockDerivedRollups?: boolean;
}

/** OpenTSDB's default tsd.storage.max_tags. */
export const DEFAULT_MAX_TAGS = 8;

/** Returns `maxTags` if it is an integer ≥ 1, else throws a RangeError (a configuration mistake). */
export function checkMaxTags(maxTags: number): number {
  if (!Number.isSafeInteger(maxTags) || maxTags < 1) throw new RangeError(`maxTags must be an integer of at least 1, got ${maxTags}`);
  return maxTags;
}

/** Largest timestamp OpenTSDB reads as seconds; above it, milliseconds. */
export const SECOND_LIMIT = 0xffffffff;
const MAX_MS_TIMESTAMP = 9_999_999_999_999;
const INTERVAL = /^[0-9]+(?:ms|s|m|h|d|w|n|y)$/;
const MEMO_LIMIT = 16_384;

/**
 * Checks and stores points into a BatchBuilder. Single-threaded; one per decoder. `storing` false
 * runs every check but hands nothing to the builder (for requests OpenTSDB answers with an error
 * whatever the body).
 */
export class OpenTsdbPointWriter {
  readonly maxTags: number;
  readonly allowSpecialChars: string;
  readonly blockDerived: boolean;
  storing = true;
  private readonly intervals: ReadonlySet<string> | undefined;
  private readonly builder: BatchBuilder;
  /** Names that passed Tags.validateString (for this writer's allowSpecialChars); bounded. */
  private readonly validNames = new Set<string>();
  /** string → interned id, valid for `memoGeneration` of the builder's cache. */
  private readonly memo = new Map<string, number>();
  private memoGeneration: number;

  constructor(builder: BatchBuilder, options: OpenTsdbPointOptions = {}) {
    this.builder = builder;
    this.maxTags = checkMaxTags(options.maxTags ?? DEFAULT_MAX_TAGS);
    this.allowSpecialChars = options.allowSpecialChars ?? '';
    this.blockDerived = options.blockDerivedRollups ?? true;
    this.intervals = options.rollupIntervals === undefined ? undefined : new Set(options.rollupIntervals);
    this.memoGeneration = builder.generation;
  }

  /** /api/put: stores the point, or returns the `error` text of its details entry. */
  put(p: IncomingPoint): string | null {
    const base = this.validate(p);
    if (base !== null) return base;
    const v = convertValue(p);
    if (v === undefined) return PointMessage.NotANumber;
    return this.addPoint(p.metric!, p.timestamp, v, p.tags!);
  }

  /** /api/rollup: stores the point, or returns the `error` text of its details entry. */
  rollup(p: IncomingPoint): string | null {
    const base = this.validate(p);
    if (base !== null) return base;
    const isGroupBy = p.groupByAggregator !== null && p.groupByAggregator.length > 0;
    if ((p.interval === null || p.interval.length === 0) && !isGroupBy) return PointMessage.MissingInterval;
    if ((p.aggregator === null || p.aggregator.length === 0) && !isGroupBy) return PointMessage.MissingAggregator;
    const v = convertValue(p);
    if (v === undefined) return PointMessage.NotANumber;
    const r = this.addAggregatePoint(p.metric!, p.timestamp, v, p.tags!, p.groupByAggregator !== null, p.interval, p.aggregator, p.groupByAggregator);
    switch (r.kind) {
      case 'stored':
        return null;
      case 'no-such-rollup':
        return PointMessage.Unexpected;
      default:
        return r.message;
    }
  }

  /** IncomingDataPoint.validate. */
  private validate(p: IncomingPoint): string | null {
    if (p.metric === null || p.metric.length === 0) return PointMessage.MetricEmpty;
    if (p.timestamp <= 0) return PointMessage.InvalidTimestamp;
    if (p.value === null || p.value.length === 0) return PointMessage.EmptyValue;
    if (p.tags === null || p.tags.size < 1) return PointMessage.MissingTags;
    return null;
  }

  /** TSDB.addPoint: the IllegalArgumentException text, or null once stored. */
  addPoint(metric: string, timestamp: number | bigint, v: ParsedValue, tags: JavaStringMap): string | null {
    if (v.kind !== 'long' && !Number.isFinite(v.value)) return nonFinite(v.value, metric, timestamp);
    // TSDB.checkTimestampAndTags.
    if (timestamp < 0 || (timestamp > SECOND_LIMIT && timestamp > MAX_MS_TIMESTAMP)) return badTimestamp(timestamp, v, metric, tags);
    const problem = this.checkMetricAndTags(metric, tags);
    if (problem !== undefined) return problem;
    if (this.storing) {
      this.selectSeries(metric, tags, undefined);
      this.addValue(timestamp > SECOND_LIMIT ? Number(timestamp) : Number(timestamp) * 1000, v);
    }
    return null;
  }

  /**
   * TSDB.addAggregatePoint (2.4) with Strata's rollup configuration: every interval accepted by
   * `rollupIntervals` is configured. `tags` is modified as OpenTSDB does (the `_aggregate` tag).
   */
  addAggregatePoint(
    metric: string,
    timestamp: number | bigint,
    v: ParsedValue,
    tags: JavaStringMap,
    isGroupBy: boolean,
    interval: string | null,
    rollupAggregator: string | null,
    groupByAggregator: string | null,
  ): AggregateOutcome {
    if (v.kind !== 'long' && !Number.isFinite(v.value)) return illegal(nonFinite(v.value, metric, timestamp));
    if (isGroupBy && (groupByAggregator === null || groupByAggregator.length === 0)) {
      return illegal(`Cannot write a group by data point without specifying the aggregation function. Metric=${metric} tags=${tags.toString()}`);
    }
    // Rollups are seconds only.
    if (timestamp < 0 || timestamp > SECOND_LIMIT) return illegal(badTimestamp(timestamp, v, metric, tags));
    let aggTag = tags.get(AGGREGATE_TAG_KEY);
    if (aggTag === null) {
      if (!isGroupBy) aggTag = RAW_AGGREGATE_TAG_VALUE;
      else {
        aggTag = groupByAggregator!.toUpperCase();
        tags.put(AGGREGATE_TAG_KEY, aggTag);
      }
    } else {
      if (groupByAggregator === null || aggTag.toLowerCase() !== groupByAggregator.toLowerCase()) {
        return illegal(
          `Given tag value for ${AGGREGATE_TAG_KEY} of ${aggTag} did not match the group by aggregator of ${groupByAggregator ?? 'null'} for ${metric} ${tags.toString()}`,
        );
      }
      aggTag = groupByAggregator.toUpperCase();
      tags.put(AGGREGATE_TAG_KEY, aggTag);
    }
    if (isGroupBy) {
      if (!OPENTSDB_AGGREGATORS.has(groupByAggregator!.toLowerCase())) {
        return illegal(`Invalid group by aggregator ${groupByAggregator!} with metric ${metric} ${tags.toString()}`);
      }
      if (this.blockDerived && (aggTag === 'AVG' || aggTag === 'DEV')) {
        return illegal(`Derived group by aggregations are not allowed ${groupByAggregator!} with metric ${metric} ${tags.toString()}`);
      }
    }
    const problem = this.checkMetricAndTags(metric, tags);
    if (problem !== undefined) return illegal(problem);
    const hasInterval = interval !== null && interval.length > 0;
    if (hasInterval && !this.knownInterval(interval)) return { kind: 'no-such-rollup', message: `No rollups configured for the interval: ${interval}` };
    const rollupAgg = rollupAggregator?.toUpperCase() ?? null;
    if (rollupAgg !== null && this.blockDerived && (rollupAgg === 'AVG' || rollupAgg === 'DEV')) {
      return illegal(`Derived rollup aggregations are not allowed ${rollupAgg} with metric ${metric} ${tags.toString()}`);
    }
    if (hasInterval && (rollupAggregator === null || rollupAggregator.length === 0)) return illegal('Aggregator cannot be null or empty');
    if (!hasInterval && !isGroupBy) return { kind: 'write-error', message: 'Interval cannot be null for a non-group by point' };
    const rollupTag = hasInterval ? rollupTagValue(interval, rollupAggregator!) : PREAGGREGATE_TAG_VALUE;
    // The rollup tag's value holds the (unchecked) aggregator name: it counts towards the bound.
    if (!this.seriesFits(metric, tags, rollupTag)) return illegal(SERIES_KEY_TOO_LONG);
    if (this.storing) {
      this.selectSeries(metric, tags, rollupTag);
      this.addValue(Number(timestamp) * 1000, v);
    }
    return { kind: 'stored' };
  }

  /** IncomingDataPoints.checkMetricAndTags, plus Strata's reserved tag key. */
  checkMetricAndTags(metric: string, tags: JavaStringMap): string | undefined {
    if (tags.size <= 0) return `Need at least one tag (metric=${metric}, tags=${tags.toString()})`;
    if (tags.size > this.maxTags) return `Too many tags: ${tags.size} maximum allowed: ${this.maxTags}, tags: ${tags.toString()}`;
    const m = this.checkName('metric name', metric);
    if (m !== undefined) return m;
    // OpenTSDB reports the first bad tag in HashMap order; all good is the common case, so look in
    // insertion order first and only order the tags when one is bad.
    const n = tags.size;
    let i = 0;
    while (i < n && this.tagProblem(tags, i) === undefined) i++;
    if (i === n) return this.seriesFits(metric, tags) ? undefined : SERIES_KEY_TOO_LONG;
    for (const j of tags.javaOrder()) {
      const problem = this.tagProblem(tags, j);
      if (problem !== undefined) return problem;
    }
    return undefined;
  }

  /** The series key fits the engine (series-key-limit.ts); the UTF-16 count settles it unless names are huge. */
  private seriesFits(metric: string, tags: JavaStringMap, rollupTag = ''): boolean {
    const n = tags.size;
    let units = metric.length + rollupTag.length;
    for (let k = 0; k < n; k++) units += tags.keys[k]!.length + (tags.values[k]?.length ?? 0);
    if (seriesKeyFits(3 * units, 1 + 2 * n)) return true;
    return seriesStringsFit([metric, rollupTag, ...tags.keys.slice(0, n), ...tags.values.slice(0, n).map((v) => v ?? '')]);
  }

  private tagProblem(tags: JavaStringMap, i: number): string | undefined {
    const key = tags.keys[i]!;
    if (key === ROLLUP_TAG_KEY) return `Invalid tag name ("${key}"): illegal character: :`;
    return this.checkName('tag name', key) ?? this.checkName('tag value', tags.values[i]!);
  }

  /** validateOpenTsdbString, remembering names that pass (the same few names repeat point after point). */
  private checkName(what: string, s: string | null): string | undefined {
    if (s !== null && this.validNames.has(s)) return undefined;
    const problem = validateOpenTsdbString(what, s, this.allowSpecialChars);
    if (problem === undefined && s !== null) {
      if (this.validNames.size >= MEMO_LIMIT) this.validNames.clear();
      this.validNames.add(s);
    }
    return problem;
  }

  private knownInterval(interval: string): boolean {
    if (this.intervals !== undefined) return this.intervals.has(interval);
    return INTERVAL.test(interval) && !/^0+[a-z]/.test(interval);
  }

  private id(s: string): number {
    const strings = this.builder.strings;
    if (this.memoGeneration !== this.builder.generation || this.memo.size > MEMO_LIMIT) {
      this.memo.clear();
      this.memoGeneration = this.builder.generation;
    }
    let id = this.memo.get(s);
    if (id === undefined) {
      id = strings.internString(s);
      this.memo.set(s, id);
    }
    return id;
  }

  /** Selects metric + tags (values all non-null once checked) + the reserved rollup tag, if any. */
  private selectSeries(metric: string, tags: JavaStringMap, rollupTag: string | undefined): void {
    const b = this.builder;
    b.beginSeries(this.id(metric));
    const n = tags.size;
    for (let i = 0; i < n; i++) b.addTag(this.id(tags.keys[i]!), this.id(tags.values[i]!));
    if (rollupTag !== undefined) b.addTag(this.id(ROLLUP_TAG_KEY), this.id(rollupTag));
    b.endSeries();
  }

  private addValue(timestampMs: number, v: ParsedValue): void {
    const b = this.builder;
    if (v.kind !== 'long') b.addFloat(timestampMs, v.value);
    else if (typeof v.value === 'number') b.addInt(timestampMs, v.value);
    else b.addBigInt(timestampMs, v.value);
  }
}

/** The point's value converted (undefined where Java throws a NumberFormatException). */
function convertValue(p: IncomingPoint): ParsedValue | undefined {
  if (p.parsedValue !== null) return p.parsedValue;
  try {
    return parseOpenTsdbValue(p.value!);
  } catch (err) {
    if (err instanceof JavaNumberFormatError) return undefined;
    throw err;
  }
}

function illegal(message: string): AggregateOutcome {
  return { kind: 'illegal', message };
}

function nonFinite(value: number, metric: string, timestamp: number | bigint): string {
  return `value is NaN or Infinite: ${javaNonFiniteToString(value)} for metric=${metric} timestamp=${timestamp}`;
}

/** TSDB's "bad timestamp" IllegalArgumentException, value bytes and flags included. */
function badTimestamp(timestamp: number | bigint, v: ParsedValue, metric: string, tags: JavaStringMap): string {
  const { bytes, flags } = openTsdbValueEncoding(v.value, v.kind);
  return `${timestamp < 0 ? 'negative ' : 'bad'} timestamp=${timestamp} when trying to add value=${javaByteArrayToString(bytes)}/${flags} to metric=${metric}, tags=${tags.toString()}`;
}
