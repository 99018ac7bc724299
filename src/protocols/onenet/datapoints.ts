// OneNET upload decoders, `POST /devices/{id}/datapoints[?type=N]` (protocols.md §4.2): type 1 (full
// JSON, the default), 3 (simple JSON, server time), 4 (simple JSON with times) and 5 (delimited
// text). All or nothing: a request is decoded and validated whole into points, and only then
// turned into ONE WriteBatch (one append, so it lands whole or not at all). Stored as metric =
// datastream id, tag `device_id` = the device (§7 "Tenants"). Pure: bytes in, batch out.
import { ValueKind, type SeriesKey, type WriteBatch } from '../../../engine/index.js';
import { ServiceError, ServiceErrorCode } from '../../errors.js';
import { JsonSyntaxError } from '../json/tokenizer.js';
import { BINDATA_TAG, BINDATA_TAG_VALUE } from './bindata.js';
import { parseOneNetTime } from './time.js';
import { NumberLiteral, isJsonObject, parseLiteralJson, storedValueOf, type LiteralJson, type StoredValue } from './value.js';

/** The tag that scopes every OneNET series to its device (protocols.md §7). */
export const DEVICE_TAG = 'device_id';
/** Upload types served over HTTP (2, 6 and 7 are EDP/MQTT framings, §4.2). */
export const UPLOAD_TYPES: readonly number[] = [1, 3, 4, 5];
/** Longest datastream id accepted, characters (OneNET documents none; this keeps series keys small). */
export const MAX_DATASTREAM_ID_CHARS = 1024;
/** JSON nesting accepted in a value (the tokenizer's bound, lowered: values are small documents). */
const MAX_JSON_DEPTH = 512;

/** One decoded point. */
export interface OneNetPoint {
  readonly stream: string;
  readonly timestampMs: number;
  readonly value: StoredValue;
  /** A `POST /bindata` payload: stored in the stream's payload series (tag BINDATA_TAG), not in the stream. */
  readonly binaryPayload?: boolean;
}

export interface DatapointsOptions {
  /** Minutes east of UTC in which an `at` without a zone is read (--onenet-time-zone). */
  readonly offsetMinutes: number;
  /** Server time, ms: the time of every point uploaded without one. */
  readonly nowMs: number;
}

function invalid(message: string): never {
  throw new ServiceError(ServiceErrorCode.BadRequest, message);
}

/**
 * The upload type of a URL query string: 1 when `type` is absent or empty, else 1, 3, 4 or 5.
 * Throws BadRequest for anything else.
 */
export function parseUploadType(query: string): number {
  const raw = new URLSearchParams(query).get('type');
  if (raw === null || raw === '') return 1;
  const type = /^\d{1,2}$/.test(raw) ? Number(raw) : NaN;
  if (!UPLOAD_TYPES.includes(type)) invalid(`type ${JSON.stringify(raw)} is not supported over HTTP (use 1, 3, 4 or 5)`);
  return type;
}

function checkStreamId(id: unknown, where: string): string {
  if (typeof id !== 'string' || id.length === 0) invalid(`${where}: a datastream id must be a non-empty string`);
  if (id.length > MAX_DATASTREAM_ID_CHARS) invalid(`${where}: datastream id longer than ${MAX_DATASTREAM_ID_CHARS} characters`);
  if (/\p{Surrogate}/u.test(id)) invalid(`${where}: datastream id holds a lone UTF-16 surrogate`);
  return id;
}

function timeOf(text: LiteralJson | undefined, where: string, options: DatapointsOptions): number {
  if (text === undefined || text === null) return options.nowMs;
  if (typeof text !== 'string') invalid(`${where}: a time must be a string such as "2015-03-22T22:31:12"`);
  const ms = parseOneNetTime(text, options.offsetMinutes);
  if (ms === undefined) invalid(`${where}: ${JSON.stringify(text)} is not a time (YYYY-MM-DDThh:mm:ss)`);
  return ms;
}

function parseJsonBody(body: Uint8Array): LiteralJson {
  try {
    return parseLiteralJson(body, { maxDepth: MAX_JSON_DEPTH });
  } catch (err) {
    if (err instanceof JsonSyntaxError) invalid(`body is not valid JSON: ${err.message}`);
    throw err;
  }
}

/** Type 1: `{"datastreams":[{"id":"temp","datapoints":[{"at":"…","value":…}]}]}`. */
function decodeFull(body: Uint8Array, options: DatapointsOptions): OneNetPoint[] {
  const root = parseJsonBody(body);
  if (!isJsonObject(root)) invalid('body must be a JSON object with "datastreams"');
  const streams = root['datastreams'];
  if (!Array.isArray(streams) || streams.length === 0) invalid('"datastreams" must be a non-empty array');
  const points: OneNetPoint[] = [];
  streams.forEach((s, i) => {
    const where = `datastreams[${i}]`;
    if (!isJsonObject(s)) invalid(`${where} must be an object with "id" and "datapoints"`);
    const stream = checkStreamId(s['id'], `${where}.id`);
    const datapoints = s['datapoints'];
    if (!Array.isArray(datapoints) || datapoints.length === 0) invalid(`${where}.datapoints must be a non-empty array`);
    datapoints.forEach((p, j) => {
      const at = `${where}.datapoints[${j}]`;
      if (!isJsonObject(p)) invalid(`${at} must be an object with "value"`);
      const value = p['value'];
      if (value === undefined) invalid(`${at}.value is required`);
      points.push({ stream, timestampMs: timeOf(p['at'], `${at}.at`, options), value: storedValueOf(value) });
    });
  });
  return points;
}

/** Type 3: `{"temperature":22.5,"humidity":"95.2%"}`, all at server time. */
function decodeSimple(body: Uint8Array, options: DatapointsOptions): OneNetPoint[] {
  const root = parseJsonBody(body);
  if (!isJsonObject(root) || Object.keys(root).length === 0) invalid('type=3 body must be a non-empty JSON object {"stream":value,…}');
  return Object.keys(root).map((k) => ({ stream: checkStreamId(k, JSON.stringify(k)), timestampMs: options.nowMs, value: storedValueOf(root[k]!) }));
}

/** Type 4: `{"temperature":{"2015-03-22T22:31:12":22.5}}`, several times per stream allowed. */
function decodeSimpleTimed(body: Uint8Array, options: DatapointsOptions): OneNetPoint[] {
  const root = parseJsonBody(body);
  if (!isJsonObject(root) || Object.keys(root).length === 0) invalid('type=4 body must be a non-empty JSON object {"stream":{"time":value,…},…}');
  const points: OneNetPoint[] = [];
  for (const k of Object.keys(root)) {
    const stream = checkStreamId(k, JSON.stringify(k));
    const byTime = root[k];
    if (!isJsonObject(byTime) || Object.keys(byTime).length === 0) invalid(`${JSON.stringify(k)} must be a non-empty object {"time":value,…}`);
    for (const t of Object.keys(byTime)) {
      points.push({ stream, timestampMs: timeOf(t, `${JSON.stringify(k)}.${JSON.stringify(t)}`, options), value: storedValueOf(byTime[t]!) });
    }
  }
  return points;
}

const NUMBER_LITERAL = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/;
/** A field part that is meant as a time (and so must be a valid one). */
const TIME_LIKE = /^\d{4}-\d{2}-\d{2}[T ]/;

/** A type 5 value: a number when the whole text is a JSON number literal, else the text as a string. */
export function delimitedValue(text: string): StoredValue {
  if (NUMBER_LITERAL.test(text)) return storedValueOf(new NumberLiteral(text, !/[.eE]/.test(text)));
  return storedValueOf(text);
}

/**
 * Type 5: `,;temperature,2015-03-22 22:31:12,22.5;102;pm2.5,89;10`. The first two characters are
 * the in-field and the between-field separator (they must differ). A field is `id,time,value`,
 * `id,value` or `value` (then the id is the field's 0-based position). Empty fields (a trailing
 * separator) are skipped but keep their position; CR/LF at the end of the body are ignored. A
 * second part that looks like a time (`YYYY-MM-DD ` or `…T`) must be one; otherwise everything
 * after the id is the value, separators included.
 */
function decodeDelimited(body: Uint8Array, options: DatapointsOptions): OneNetPoint[] {
  const text = Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8').replace(/[\r\n]+$/, '');
  const chars = [...text.slice(0, 4)];
  const inField = chars[0];
  const between = chars[1];
  if (inField === undefined || between === undefined) invalid('type=5 body must start with two separator characters, e.g. ",;"');
  if (inField === between) invalid(`type=5 separators must differ (got ${JSON.stringify(inField + between)})`);
  const fields = text.slice(inField.length + between.length).split(between);
  const points: OneNetPoint[] = [];
  fields.forEach((field, position) => {
    if (field.length === 0) return;
    const parts = field.split(inField);
    const where = `field ${position} ${JSON.stringify(field)}`;
    if (parts.length === 1) {
      points.push({ stream: String(position), timestampMs: options.nowMs, value: delimitedValue(field) });
      return;
    }
    const stream = checkStreamId(parts[0], where);
    if (parts.length >= 3 && TIME_LIKE.test(parts[1]!)) {
      points.push({ stream, timestampMs: timeOf(parts[1], where, options), value: delimitedValue(parts.slice(2).join(inField)) });
    } else {
      points.push({ stream, timestampMs: options.nowMs, value: delimitedValue(parts.slice(1).join(inField)) });
    }
  });
  if (points.length === 0) invalid('type=5 body holds no field');
  return points;
}

/** Decodes and validates a whole upload body of `type` (parseUploadType). Throws BadRequest. */
export function decodeDatapoints(body: Uint8Array, type: number, options: DatapointsOptions): OneNetPoint[] {
  switch (type) {
    case 1:
      return decodeFull(body, options);
    case 3:
      return decodeSimple(body, options);
    case 4:
      return decodeSimpleTimed(body, options);
    case 5:
      return decodeDelimited(body, options);
    default:
      return invalid(`type ${type} is not supported over HTTP`);
  }
}

/**
 * The points of one request as one WriteBatch: series `{metric: stream, tags: {device_id}}` (a
 * binary payload's series also has BINDATA_TAG). Points keep request order, so a later point at
 * the same time replaces an earlier one (last write wins).
 */
export function datapointsBatch(deviceId: string, points: readonly OneNetPoint[]): WriteBatch {
  const n = points.length;
  const series: SeriesKey[] = [];
  const indexOf = new Map<string, number>();
  const seriesIndex = new Uint32Array(n);
  const timestampsMs = new Float64Array(n);
  const kinds = new Uint8Array(n);
  const floats = new Float64Array(n);
  const ints = new BigInt64Array(n);
  const texts: (string | undefined)[] = new Array<string | undefined>(n);
  points.forEach((p, i) => {
    const key = p.binaryPayload === true ? `b${p.stream}` : `s${p.stream}`;
    let s = indexOf.get(key);
    if (s === undefined) {
      s = series.length;
      indexOf.set(key, s);
      const tags: Record<string, string> = p.binaryPayload === true ? { [BINDATA_TAG]: BINDATA_TAG_VALUE, [DEVICE_TAG]: deviceId } : { [DEVICE_TAG]: deviceId };
      series.push({ metric: p.stream, tags });
    }
    seriesIndex[i] = s;
    timestampsMs[i] = p.timestampMs;
    const v = p.value;
    kinds[i] = v.kind;
    if (v.kind === ValueKind.Float64) floats[i] = v.float;
    else if (v.kind === ValueKind.Int64) ints[i] = v.int;
    else texts[i] = v.text;
  });
  return { length: n, series, seriesIndex, timestampsMs, kinds, floats, ints, texts };
}
