// OneNET read requests (protocols.md §4.3): the parameters of `GET /devices/{id}/datapoints` and
// `GET /devices/{id}/datastreams`, validated into a plan for src/query/onenet.ts, and the cursor
// that continues a page. Pure: no engine, no clock (the caller passes now).
import { ServiceError, ServiceErrorCode } from '../../errors.js';
import { MAX_ABS_TIMESTAMP_MS } from '../batch-builder.js';
import { parseOneNetTime } from './time.js';

export const DEFAULT_LIMIT = 100;
export const MAX_LIMIT = 6000;

/** Where a page stopped: the last point returned, as (time, datastream id). */
export interface ReadPosition {
  readonly timestampMs: number;
  readonly stream: string;
}

export interface DatapointsQuery {
  /** Datastream ids asked for; undefined = every stream of the device. */
  readonly streams: readonly string[] | undefined;
  /**
   * True when no time range, limit, sort or cursor was given: the answer is the latest point of
   * each stream (OneNET's "no parameters" form).
   */
  readonly latestOnly: boolean;
  /** Inclusive range, ms. */
  readonly startMs: number;
  readonly endMs: number;
  readonly limit: number;
  readonly descending: boolean;
  /** Continue after this position (in the sort order). */
  readonly after: ReadPosition | undefined;
}

function invalid(message: string): never {
  throw new ServiceError(ServiceErrorCode.BadRequest, message);
}

/** A comma list with empty items dropped; undefined when absent or empty. */
export function streamList(raw: string | null): string[] | undefined {
  if (raw === null) return undefined;
  const list = raw.split(',').filter((s) => s.length > 0);
  return list.length > 0 ? [...new Set(list)] : undefined;
}

/** `<time ms>_<base64url of the stream id>`: opaque to clients, which pass it back as is. */
export function encodeCursor(p: ReadPosition): string {
  return `${p.timestampMs}_${Buffer.from(p.stream, 'utf8').toString('base64url')}`;
}

export function decodeCursor(text: string): ReadPosition | undefined {
  const m = /^(-?\d{1,16})_([A-Za-z0-9_-]+)$/.exec(text);
  if (!m) return undefined;
  const timestampMs = Number(m[1]);
  const stream = Buffer.from(m[2]!, 'base64url').toString('utf8');
  if (Math.abs(timestampMs) >= MAX_ABS_TIMESTAMP_MS || stream.length === 0 || Buffer.from(stream, 'utf8').toString('base64url') !== m[2]) return undefined;
  return { timestampMs, stream };
}

/**
 * Parses the query string of `GET /devices/{id}/datapoints`. Time range: `start` and `end` (times
 * in the configured zone, `T` or a space), `duration` seconds counted forward from `start`, back
 * from `end`, or back from now when neither is given. Throws BadRequest with the parameter's name.
 */
export function parseDatapointsQuery(query: string, offsetMinutes: number, nowMs: number): DatapointsQuery {
  const params = new URLSearchParams(query);
  const get = (name: string): string | null => {
    const v = params.get(name);
    return v === null || v === '' ? null : v;
  };
  const time = (name: string): number | undefined => {
    const raw = get(name);
    if (raw === null) return undefined;
    const ms = parseOneNetTime(raw, offsetMinutes);
    if (ms === undefined) invalid(`${name}: ${JSON.stringify(raw)} is not a time (YYYY-MM-DDThh:mm:ss)`);
    return ms;
  };
  const start = time('start');
  const end = time('end');
  const durationRaw = get('duration');
  let durationMs: number | undefined;
  if (durationRaw !== null) {
    if (!/^\d{1,12}$/.test(durationRaw)) invalid(`duration: ${JSON.stringify(durationRaw)} is not a number of seconds`);
    durationMs = Number(durationRaw) * 1000;
  }
  const limitRaw = get('limit');
  let limit = DEFAULT_LIMIT;
  if (limitRaw !== null) {
    limit = /^\d{1,9}$/.test(limitRaw) ? Number(limitRaw) : NaN;
    if (!(limit > 0 && limit <= MAX_LIMIT)) invalid(`limit: ${JSON.stringify(limitRaw)} must be an integer in (0, ${MAX_LIMIT}]`);
  }
  const sortRaw = get('sort');
  if (sortRaw !== null && sortRaw.toUpperCase() !== 'ASC' && sortRaw.toUpperCase() !== 'DESC') invalid(`sort: ${JSON.stringify(sortRaw)} must be ASC or DESC`);
  const cursorRaw = get('cursor');
  let after: ReadPosition | undefined;
  if (cursorRaw !== null) {
    after = decodeCursor(cursorRaw);
    if (after === undefined) invalid(`cursor: ${JSON.stringify(cursorRaw)} is not a cursor this server gave`);
  }

  let startMs = -(MAX_ABS_TIMESTAMP_MS - 1);
  let endMs = MAX_ABS_TIMESTAMP_MS - 1;
  if (start !== undefined && end !== undefined) {
    startMs = start;
    endMs = end;
  } else if (start !== undefined) {
    startMs = start;
    if (durationMs !== undefined) endMs = start + durationMs;
  } else if (end !== undefined) {
    endMs = end;
    if (durationMs !== undefined) startMs = end - durationMs;
  } else if (durationMs !== undefined) {
    startMs = nowMs - durationMs;
    endMs = nowMs;
  }
  if (startMs > endMs) invalid('start is after end');
  const latestOnly = start === undefined && end === undefined && durationMs === undefined && limitRaw === null && sortRaw === null && after === undefined;
  return {
    streams: streamList(params.get('datastream_id')),
    latestOnly,
    startMs: Math.max(startMs, -(MAX_ABS_TIMESTAMP_MS - 1)),
    endMs: Math.min(endMs, MAX_ABS_TIMESTAMP_MS - 1),
    limit,
    descending: sortRaw !== null && sortRaw.toUpperCase() === 'DESC',
    after,
  };
}
