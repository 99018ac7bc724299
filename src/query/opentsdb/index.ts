// OpenTSDB 2.4 `/api/query` as a pure function of (engine, request): method dispatch, request
// parsing and validation (protocols/opentsdb/query.ts), execution (execute.ts) and the JSON
// answer or OpenTSDB's error envelope. No HTTP, no worker pool: the route calls this where an
// Engine lives. Behaviour and every divergence from OpenTSDB: docs/api/opentsdb-query.md.
import type { Engine } from '../../../engine/index.js';
import { METHOD_NOT_ALLOWED_MESSAGE, methodNotAllowedDetails, openTsdbErrorBody } from '../../protocols/opentsdb/envelope.js';
import { isReservedTagKey } from '../../protocols/reserved-tags.js';
import { OpenTsdbQueryError, parseOpenTsdbQuery, queryStringOutputFlags } from '../../protocols/opentsdb/query.js';
import { DEFAULT_MAX_RESULT_POINTS } from '../kairosdb.js';
import { encodeQueryResponse } from './encode.js';
import { executeSubQuery, type ExecuteContext, type ResultGroup } from './execute.js';
import { TooManyPointsError } from './pipeline.js';

export { OPENTSDB_QUERY_DECISIONS } from './decisions.js';

export interface OpenTsdbQueryRequest {
  readonly method: string;
  /** raw query string without '?' */
  readonly queryString: string;
  /** request body text, '' when none */
  readonly body: string;
}

export interface OpenTsdbHttpAnswer {
  readonly status: number;
  readonly body: string;
  readonly contentType: string;
}

/** Every answer's Content-Type (OpenTSDB's JSON serializer, also for errors and jsonp). */
export const OPENTSDB_QUERY_CONTENT_TYPE = 'application/json; charset=UTF-8';

/** OpenTSDB's answer to DELETE (and here also to `"delete": true`) with tsd.http.query.allow_delete=false. */
export const DELETE_NOT_ALLOWED = { message: 'Bad request', details: 'Deleting data is not enabled (tsd.http.query.allow_delete=false)' } as const;

/**
 * Answers one /api/query request. GET reads the query string, POST the JSON body (the query
 * string still gives `arrays` and `jsonp`); DELETE and a body with `"delete": true` get 400 (deletes
 * are not allowed, as with OpenTSDB's default); other methods 405. `nowMs` is "now" for relative
 * times and a missing end. `maxResultPoints` (default DEFAULT_MAX_RESULT_POINTS) bounds the points
 * a query may produce or print: beyond it, 413. Engine errors (CorruptionError, EngineError)
 * propagate to the caller.
 */
export function runOpenTsdbQuery(engine: Engine, request: OpenTsdbQueryRequest, options: { readonly nowMs: number; readonly maxResultPoints?: number }): OpenTsdbHttpAnswer {
  const method = request.method.toUpperCase();
  const { jsonp } = queryStringOutputFlags(request.queryString);
  const maxPoints = options.maxResultPoints ?? DEFAULT_MAX_RESULT_POINTS;
  try {
    if (method === 'DELETE') throw new OpenTsdbQueryError(400, DELETE_NOT_ALLOWED.message, DELETE_NOT_ALLOWED.details);
    if (method !== 'GET' && method !== 'POST') throw new OpenTsdbQueryError(405, METHOD_NOT_ALLOWED_MESSAGE, methodNotAllowedDetails(method));
    const query = parseOpenTsdbQuery(method, request.queryString, request.body, options.nowMs);
    if (query.delete) throw new OpenTsdbQueryError(400, DELETE_NOT_ALLOWED.message, DELETE_NOT_ALLOWED.details);
    engine.refresh();
    const tagKeys = new Set(engine.catalog.tagKeys().filter((k) => !isReservedTagKey(k)));
    const ctx: ExecuteContext = { engine, query, maxPoints, tagKeys };
    const groups: ResultGroup[] = [];
    for (const sub of query.queries) groups.push(...executeSubQuery(ctx, sub));
    let printed = 0;
    const body = encodeQueryResponse(query, groups, () => {
      if (++printed > maxPoints) throw new TooManyPointsError(maxPoints);
    });
    return { status: 200, body, contentType: OPENTSDB_QUERY_CONTENT_TYPE };
  } catch (err) {
    if (err instanceof TooManyPointsError) return errorAnswer(413, tooManyPointsMessage(err.maxPoints), '', jsonp);
    if (err instanceof OpenTsdbQueryError) return errorAnswer(err.status, err.message, err.details, jsonp);
    throw err;
  }
}

/** OpenTSDB's data point limit message (tsd.query.limits.data_points). */
export function tooManyPointsMessage(maxPoints: number): string {
  return `Sorry, you have attempted to fetch more than our limit of ${maxPoints} data points. Please try filtering using more tags or decrease your time range.`;
}

function errorAnswer(status: number, message: string, details: string, jsonp: string | null): OpenTsdbHttpAnswer {
  return { status, body: openTsdbErrorBody(status, message, details, jsonp), contentType: OPENTSDB_QUERY_CONTENT_TYPE };
}
