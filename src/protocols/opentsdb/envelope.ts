// OpenTSDB's error envelope: the one place that maps service error codes to OpenTSDB statuses and
// writes `{"error":{"code":N,"message":"…","details":"…"}}` as HttpSerializer.formatErrorV1 does
// (protocols.md §2.1; no `trace`: Strata never sends a stack). Pure; no transport.
import { ServiceErrorCode, type ServiceError } from '../../errors.js';
import { escapeJsonLikeOpenTsdb } from './java-compat.js';

/** HTTP status OpenTSDB answers for each service error code. */
export const OPENTSDB_STATUS_BY_CODE: Readonly<Record<ServiceErrorCode, number>> = {
  [ServiceErrorCode.BadRequest]: 400,
  // OpenTSDB closes the connection on an over-long body (Netty's TooLongFrameException); Strata answers.
  [ServiceErrorCode.BodyTooLarge]: 413,
  [ServiceErrorCode.BadEncoding]: 400,
  [ServiceErrorCode.Busy]: 503,
  [ServiceErrorCode.NotFound]: 404,
  [ServiceErrorCode.MethodNotAllowed]: 405,
  [ServiceErrorCode.ShuttingDown]: 503,
  [ServiceErrorCode.Internal]: 500,
};

/** OpenTSDB's 405 for a method an endpoint does not serve (RpcUtil / PutDataPointRpc). */
export const METHOD_NOT_ALLOWED_MESSAGE = 'Method not allowed';

/** The 405 `details`: `The HTTP method [GET] is not permitted for this endpoint`. */
export function methodNotAllowedDetails(method: string): string {
  return `The HTTP method [${method.toUpperCase()}] is not permitted for this endpoint`;
}

/**
 * `{"error":{"code":…,"message":"…"[,"details":"…"]}}` byte for byte as OpenTSDB writes it: keys
 * in that order, no spaces, `details` only when non-empty, strings escaped as HttpQuery.escapeJson
 * does. With `jsonp` (the `jsonp` query parameter, when non-empty) the body is `cb(…)`.
 */
export function openTsdbErrorBody(status: number, message: string, details = '', jsonp: string | null = null): string {
  let out = `{"error":{"code":${status},"message":"${escapeJsonLikeOpenTsdb(message)}"`;
  if (details.length > 0) out += `,"details":"${escapeJsonLikeOpenTsdb(details)}"`;
  out += '}}';
  return jsonp !== null && jsonp.length > 0 ? `${jsonp}(${out})` : out;
}

/**
 * A ServiceError in OpenTSDB's envelope: the status from OPENTSDB_STATUS_BY_CODE, the first
 * message as `message`, any further ones joined by "; " as `details`.
 */
export function openTsdbServiceError(err: ServiceError, jsonp: string | null = null): { status: number; body: string } {
  const status = OPENTSDB_STATUS_BY_CODE[err.code];
  const [first = '', ...rest] = err.messages;
  return { status, body: openTsdbErrorBody(status, first, rest.join('; '), jsonp) };
}
