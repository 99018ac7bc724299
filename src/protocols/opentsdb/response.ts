// The /api/put and /api/rollup answer (protocols.md §2.2 response matrix) as OpenTSDB 2.4's
// PutDataPointRpc.processDataPoint builds it: query-string flags, 204 / 200 / 400 bodies with
// java.util.HashMap key order, sync write outcomes and sync_timeout. Pure; no transport, no timers.
import type { OpenTsdbDecodeResult } from './body.js';
import { openTsdbErrorBody } from './envelope.js';
import { jacksonString, javaHashMapOrder, parseJavaInt } from './java-compat.js';

export const ResponseMessage = {
  PointErrors: 'One or more data points had errors',
  SeeDetails: 'Please see the TSD logs or append "details" to the put request',
  WriteTimedOut: 'Write timedout',
  StorageException: 'Storage exception: ',
} as const;

/** The query-string switches of a put request. */
export interface OpenTsdbPutFlags {
  /** `summary` present (any value). */
  readonly summary: boolean;
  /** `details` present (any value); implies the summary fields. */
  readonly details: boolean;
  /** `sync` present (any value): answer once the writes are acknowledged. */
  readonly sync: boolean;
  /** `sync_timeout` in milliseconds; 0 when absent or not positive (no timeout). */
  readonly syncTimeoutMs: number;
  /**
   * `sync_timeout` is present but not an int: OpenTSDB fails with a NumberFormatException (500,
   * this message) — after the body-level checks, and before storing anything.
   */
  readonly syncTimeoutError: string | null;
  /** `jsonp` callback name (last value) when non-empty: bodies are wrapped as `cb(…)`. */
  readonly jsonp: string | null;
}

/**
 * Reads the flags as Netty's QueryStringDecoder + HttpQuery do: presence decides, the last value
 * of a repeated parameter wins, `sync_timeout` goes through Integer.parseInt.
 */
export function parsePutFlags(query: URLSearchParams): OpenTsdbPutFlags {
  const timeouts = query.getAll('sync_timeout');
  let syncTimeoutMs = 0;
  let syncTimeoutError: string | null = null;
  if (timeouts.length > 0) {
    const raw = timeouts[timeouts.length - 1]!;
    const v = parseJavaInt(raw);
    if (v === undefined) syncTimeoutError = `For input string: "${raw}"`;
    else syncTimeoutMs = Math.max(0, v);
  }
  const jsonps = query.getAll('jsonp');
  const jsonp = jsonps.length > 0 && jsonps[jsonps.length - 1]!.length > 0 ? jsonps[jsonps.length - 1]! : null;
  return { summary: query.has('summary'), details: query.has('details'), sync: query.has('sync'), syncTimeoutMs, syncTimeoutError, jsonp };
}

/**
 * What became of the accepted points' writes; only read with `sync`. Counts refer to accepted
 * points in body order: the first `accepted − failed − timedOut` were written, then `failed`
 * failed (with `message`), then `timedOut` were not acknowledged within sync_timeout.
 */
export interface OpenTsdbWriteOutcome {
  readonly failed: number;
  readonly timedOut: number;
  /** The storage error's message ("Storage exception: <message>" in details entries). */
  readonly message: string;
}

/** Status and body to send; `body` '' means no body (204). Content-Type is application/json; charset=UTF-8. */
export interface OpenTsdbHttpResponse {
  readonly status: number;
  readonly body: string;
}

/**
 * The answer to a decoded put/rollup body, cell by cell of OpenTSDB's matrix:
 * - body error → its envelope; invalid sync_timeout → 500 envelope;
 * - neither summary nor details: 204 when nothing failed, else 400 "One or more data points had
 *   errors" (storage failures count with sync);
 * - summary/details: `{"success":S,"failed":F}` (+ `"errors":[…]` with details, + `"timeouts":0`
 *   when sync_timeout > 0), 400 when a point failed its checks, else 200 — storage failures alone
 *   keep 200;
 * - sync with sync_timeout elapsed (writes.timedOut > 0): 400, "The put call has timedout …" or the
 *   summary with `"timeouts":T`.
 * Without `sync`, `writes` is ignored (OpenTSDB answers before the writes complete).
 */
export function renderPutResponse(result: OpenTsdbDecodeResult, flags: OpenTsdbPutFlags, writes?: OpenTsdbWriteOutcome): OpenTsdbHttpResponse {
  const jsonp = flags.jsonp;
  if (result.bodyError !== null) {
    const e = result.bodyError;
    return { status: e.status, body: openTsdbErrorBody(e.status, e.message, e.details, jsonp) };
  }
  if (flags.syncTimeoutError !== null) return { status: 500, body: openTsdbErrorBody(500, flags.syncTimeoutError, '', jsonp) };
  const failures = result.failed;
  const w = flags.sync && writes !== undefined ? writes : { failed: 0, timedOut: 0, message: '' };
  const timedOut = flags.syncTimeoutMs > 0 ? w.timedOut : 0;
  const failedWrites = Math.min(w.failed, result.accepted);
  const good = Math.max(0, result.accepted - failedWrites - timedOut);
  const wantsBody = flags.summary || flags.details;

  if (timedOut > 0) {
    if (!wantsBody) {
      return {
        status: 400,
        body: openTsdbErrorBody(
          400,
          `The put call has timedout with ${good} successful writes, ${failedWrites} failed writes and ${timedOut} timed out writes.`,
          ResponseMessage.SeeDetails,
          jsonp,
        ),
      };
    }
    const fields: [string, string][] = [
      ['success', String(good)],
      ['failed', String(failures + failedWrites)],
      ['timeouts', String(timedOut)],
    ];
    if (flags.details) fields.push(['errors', errorsJson(result, good, failedWrites, timedOut, w.message)]);
    return { status: 400, body: wrap(hashMapJson(fields), jsonp) };
  }

  if (!wantsBody) {
    if (failures + failedWrites > 0) return { status: 400, body: openTsdbErrorBody(400, ResponseMessage.PointErrors, ResponseMessage.SeeDetails, jsonp) };
    return { status: 204, body: '' };
  }
  const fields: [string, string][] = [];
  if (flags.syncTimeoutMs > 0) fields.push(['timeouts', '0']);
  fields.push(['success', String(result.accepted - failedWrites)], ['failed', String(failures + failedWrites)]);
  if (flags.details) fields.push(['errors', errorsJson(result, good, failedWrites, 0, w.message)]);
  return { status: failures > 0 ? 400 : 200, body: wrap(hashMapJson(fields), jsonp) };
}

/** The `errors` array: check failures in body order, then storage failures, then timeouts. */
function errorsJson(result: OpenTsdbDecodeResult, good: number, failedWrites: number, timedOut: number, message: string): string {
  const parts: string[] = [];
  for (const e of result.errors) parts.push(detailEntry(e.datapoint, e.error));
  const echoes = result.acceptedEchoes;
  if (echoes.length > 0) {
    for (let i = good; i < good + failedWrites && i < echoes.length; i++) parts.push(detailEntry(echoes[i]!, ResponseMessage.StorageException + message));
    for (let i = good + failedWrites; i < good + failedWrites + timedOut && i < echoes.length; i++) parts.push(detailEntry(echoes[i]!, ResponseMessage.WriteTimedOut));
  }
  return `[${parts.join(',')}]`;
}

/** One details entry: a HashMap {error, datapoint}, which Java iterates datapoint first. */
function detailEntry(datapoint: string, error: string): string {
  return hashMapJson([
    ['error', jacksonString(error)],
    ['datapoint', datapoint],
  ]);
}

/** A java.util.HashMap<String, Object> serialized by Jackson: entries (already JSON values) in Java's order. */
function hashMapJson(fields: readonly [string, string][]): string {
  const order = javaHashMapOrder(fields.map((f) => f[0]));
  return `{${order.map((i) => `${jacksonString(fields[i]![0])}:${fields[i]![1]}`).join(',')}}`;
}

function wrap(json: string, jsonp: string | null): string {
  return jsonp !== null ? `${jsonp}(${json})` : json;
}
