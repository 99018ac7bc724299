// CAVE metric publishing (protocols.md §3.2): decodes `{"metrics":[{name,timestamp,value,tags}]}`
// with CAVE's checks and exact 400 texts (Play JSON's error list, the sanity rule), then builds
// one WriteBatch run for the tenant: metric = name, tags = the publisher's tags with
// `CAVE-account` always set by the server to the tenant's account (a publisher can never write
// into another tenant), value = double, timestamp adjusted as CAVE does and stored in ms.
// All-or-nothing: nothing reaches the sink unless every metric passes. Pure: the sink appends.
import { ServiceError, ServiceErrorCode } from '../../errors.js';
import { BatchBuilder, MAX_ABS_TIMESTAMP_MS, type BatchSink } from '../batch-builder.js';
import { isReservedTagKey } from '../reserved-tags.js';
import { CAVE_ACCOUNT_TAG, CAVE_CLUSTER_TAG } from './auth.js';
import { CAVE_INVALID_JSON_MESSAGE } from './envelope.js';

/** Sanity limits (Metric.isSane): name and every tag key/value shorter than this, in UTF-16 units. */
export const CAVE_MAX_STRING_CHARS = 128;
/** Sanity limit: tags per metric, as sent (before the server adds `CAVE-account`). */
export const CAVE_MAX_TAGS = 10;
/** CAVE's adjustedTimestamp bound: larger timestamps are divided by 1000 until they are not. */
export const CAVE_MAX_SECONDS = 95_617_584_000;

export const CAVE_INSANE_METRIC_MESSAGE = 'Metric has too many tags or too long name, or too long tag name/value.';
export const CAVE_TIMESTAMP_RANGE_MESSAGE = 'Metric timestamp is out of range.';
export const CAVE_VALUE_RANGE_MESSAGE = 'Metric value is out of range.';

/** One metric that passed every check; `tags` as sent, in document order. */
export interface CaveMetric {
  readonly name: string;
  /** The adjusted timestamp, in ms (CAVE's seconds × 1000). */
  readonly timestampMs: number;
  readonly value: number;
  readonly tags: readonly (readonly [string, string])[];
}

/** One entry of Play's JsError list: a JsPath and its ValidationError keys. */
interface PlayError {
  readonly path: string;
  readonly keys: readonly string[];
}

const PATH_MISSING = 'error.path.missing';
const EXPECTED_STRING = 'error.expected.jsstring';
const EXPECTED_NUMBER = 'error.expected.jsnumber';
const EXPECTED_OBJECT = 'error.expected.jsobject';
const EXPECTED_ARRAY = 'error.expected.jsarray';

/**
 * The text of a Play 2.2 JsError list, as CAVE prints `error.errors`:
 * `List((/metrics(0)/name,List(ValidationError(error.path.missing,WrappedArray()))), …)`.
 */
export function playErrorList(errors: readonly PlayError[]): string {
  const entry = (e: PlayError): string => `(${e.path},List(${e.keys.map((k) => `ValidationError(${k},WrappedArray())`).join(', ')}))`;
  return `List(${errors.map(entry).join(', ')})`;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Play's Reads for one metric at `/metrics(i)`: every field is looked up and checked, and every
 * failure is listed (Play accumulates them). Fields in the order name, timestamp, value, tags
 * (Play merges them through a hash map, so its order for several failures of one metric varies).
 */
function readMetric(json: unknown, at: string, errors: PlayError[]): { name: string; timestamp: number; value: number; tags: [string, string][] } | undefined {
  const field = (key: string): unknown => (isObject(json) && Object.hasOwn(json, key) ? json[key] : undefined);
  const failed = errors.length;
  const name = field('name');
  const timestamp = field('timestamp');
  const value = field('value');
  const tags = field('tags');
  if (name === undefined) errors.push({ path: `${at}/name`, keys: [PATH_MISSING] });
  else if (typeof name !== 'string') errors.push({ path: `${at}/name`, keys: [EXPECTED_STRING] });
  if (timestamp === undefined) errors.push({ path: `${at}/timestamp`, keys: [PATH_MISSING] });
  else if (typeof timestamp !== 'number') errors.push({ path: `${at}/timestamp`, keys: [EXPECTED_NUMBER] });
  if (value === undefined) errors.push({ path: `${at}/value`, keys: [PATH_MISSING] });
  else if (typeof value !== 'number') errors.push({ path: `${at}/value`, keys: [EXPECTED_NUMBER] });
  const pairs: [string, string][] = [];
  if (tags === undefined) errors.push({ path: `${at}/tags`, keys: [PATH_MISSING] });
  else if (!isObject(tags)) errors.push({ path: `${at}/tags`, keys: [EXPECTED_OBJECT] });
  else {
    for (const key of Object.keys(tags)) {
      const v = tags[key];
      if (typeof v === 'string') pairs.push([key, v]);
      else errors.push({ path: `${at}/tags/${key}`, keys: [EXPECTED_STRING] });
    }
  }
  if (errors.length > failed) return undefined;
  return { name: name as string, timestamp: timestamp as number, value: value as number, tags: pairs };
}

/**
 * CAVE's adjustedTimestamp on Play's `toLong` of the JSON number (fractions truncated): while
 * above 95617584000 (seconds, year 5000), divide by 1000 (ms, µs and ns are tolerated). Seconds.
 */
export function adjustedTimestampSeconds(timestamp: number): number {
  // A literal beyond the double range (1e309) parses as ±Infinity, which division never brings
  // down: returned as is, so the caller's range check refuses it (found by fuzzing; was a hang).
  if (!Number.isFinite(timestamp)) return timestamp;
  let t = Math.trunc(timestamp);
  while (t > CAVE_MAX_SECONDS) t = Math.trunc(t / 1000);
  return t;
}

function isSane(m: { name: string; tags: readonly (readonly [string, string])[] }): boolean {
  if (m.name.length >= CAVE_MAX_STRING_CHARS || m.tags.length > CAVE_MAX_TAGS) return false;
  return m.tags.every(([k, v]) => k.length < CAVE_MAX_STRING_CHARS && v.length < CAVE_MAX_STRING_CHARS);
}

function badRequest(message: string): ServiceError {
  return new ServiceError(ServiceErrorCode.BadRequest, message);
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Parses and checks a publish body (UTF-8 JSON bytes). Throws ServiceError(BadRequest) with
 * CAVE's text: `Bad Request: Invalid Json` (not JSON, or not UTF-8), `Cannot parse metrics: <Play
 * error list>` (wrong shape, every failure listed), the sanity text (any metric too long or with
 * too many tags), then Strata's own checks (a reserved tag key, a timestamp or value the engine
 * cannot store). Returns the metrics in body order; `[]` for `"metrics":[]`.
 */
export function parseCavePublishBody(bytes: Uint8Array): CaveMetric[] {
  let json: unknown;
  try {
    let text = utf8.decode(bytes);
    if (text.charCodeAt(0) === 0xfeff) text = text.slice(1); // Jackson skips a UTF-8 BOM
    json = JSON.parse(text);
  } catch {
    throw badRequest(CAVE_INVALID_JSON_MESSAGE);
  }
  const errors: PlayError[] = [];
  const list = isObject(json) && Object.hasOwn(json, 'metrics') ? json['metrics'] : undefined;
  const read: NonNullable<ReturnType<typeof readMetric>>[] = [];
  if (list === undefined) errors.push({ path: '/metrics', keys: [PATH_MISSING] });
  else if (!Array.isArray(list)) errors.push({ path: '/metrics', keys: [EXPECTED_ARRAY] });
  else {
    list.forEach((item, i) => {
      const m = readMetric(item, `/metrics(${i})`, errors);
      if (m !== undefined) read.push(m);
    });
  }
  if (errors.length > 0) throw badRequest(`Cannot parse metrics: ${playErrorList(errors)}`);
  if (!read.every(isSane)) throw badRequest(CAVE_INSANE_METRIC_MESSAGE);

  return read.map((m) => {
    for (const [k] of m.tags) if (isReservedTagKey(k)) throw badRequest(`Metric tag '${k}' is reserved.`);
    const timestampMs = adjustedTimestampSeconds(m.timestamp) * 1000;
    if (!(Math.abs(timestampMs) < MAX_ABS_TIMESTAMP_MS)) throw badRequest(CAVE_TIMESTAMP_RANGE_MESSAGE);
    if (!Number.isFinite(m.value)) throw badRequest(CAVE_VALUE_RANGE_MESSAGE);
    return { name: m.name, timestampMs, value: m.value, tags: m.tags };
  });
}

/**
 * Hands checked metrics to `sink` as WriteBatches for `account`: each point's series is its name
 * and its tags, minus any `CAVE-cluster` (CAVE's store drops it too), with `CAVE-account` set to
 * `account` — replacing whatever the publisher sent under that key. Returns the points written.
 */
export function writeCaveMetrics(metrics: readonly CaveMetric[], account: string, builder: BatchBuilder): number {
  const strings = builder.strings;
  const accountKey = strings.internString(CAVE_ACCOUNT_TAG);
  const accountValue = strings.internString(account);
  for (const m of metrics) {
    builder.beginSeries(strings.internString(m.name));
    for (const [k, v] of m.tags) {
      if (k === CAVE_ACCOUNT_TAG || k === CAVE_CLUSTER_TAG) continue;
      builder.addTag(strings.internString(k), strings.internString(v));
    }
    builder.addTag(accountKey, accountValue); // last: replaces a publisher's own CAVE-account
    builder.endSeries();
    builder.addFloat(m.timestampMs, m.value);
  }
  builder.flush();
  builder.trimCaches();
  return metrics.length;
}

/**
 * The decoder a worker keeps (one BatchBuilder reused across requests): `decode` parses and
 * checks the whole body first, then writes. A failed check writes nothing.
 */
export class CavePublishDecoder {
  private readonly builder: BatchBuilder;

  constructor(sink: BatchSink) {
    this.builder = new BatchBuilder(sink);
  }

  /** Points written; throws ServiceError(BadRequest) with CAVE's text when any metric fails. */
  decode(bytes: Uint8Array, account: string): number {
    const metrics = parseCavePublishBody(bytes);
    try {
      return writeCaveMetrics(metrics, account, this.builder);
    } catch (err) {
      this.builder.discard();
      throw err;
    }
  }
}
