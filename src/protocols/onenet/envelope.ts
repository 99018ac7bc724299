// OneNET's response envelope (protocols.md §4.1, §7 "OneNET status codes"): the one place that maps
// service error codes to `errno` and writes `{"errno":N,"error":"…"}`. Every answer is HTTP 200;
// clients decide by `errno`. Errno 1 (auth) and 3 (a missing parameter or body) are decided by
// the route before any work is queued; every other failure arrives as a ServiceError. Pure.
import { ServiceErrorCode, type ServiceError } from '../../errors.js';

/** OneNET error numbers (protocols.md §4.1). */
export const OneNetErrno = {
  Ok: 0,
  /** A missing, unknown or revoked api-key, or one that does not cover the device and the method. */
  AuthFailed: 1,
  /** A required parameter or the body is missing. */
  ParameterRequired: 3,
  /** The request is malformed: the message says what is wrong. */
  InvalidParameter: 6,
  /** The server could not do it (storage failure, busy, shutting down). */
  InternalError: 7,
} as const;
export type OneNetErrno = (typeof OneNetErrno)[keyof typeof OneNetErrno];

/** `errno` for each service error code. */
export const ONENET_ERRNO_BY_CODE: Readonly<Record<ServiceErrorCode, OneNetErrno>> = {
  [ServiceErrorCode.BadRequest]: OneNetErrno.InvalidParameter,
  [ServiceErrorCode.BodyTooLarge]: OneNetErrno.InvalidParameter,
  [ServiceErrorCode.BadEncoding]: OneNetErrno.InvalidParameter,
  [ServiceErrorCode.NotFound]: OneNetErrno.InvalidParameter,
  [ServiceErrorCode.MethodNotAllowed]: OneNetErrno.InvalidParameter,
  [ServiceErrorCode.Busy]: OneNetErrno.InternalError,
  [ServiceErrorCode.ShuttingDown]: OneNetErrno.InternalError,
  [ServiceErrorCode.Internal]: OneNetErrno.InternalError,
};

/** The HTTP status of every OneNET answer, success or not. */
export const ONENET_STATUS = 200;
export const ONENET_CONTENT_TYPE = 'application/json';

export const SUCCESS_BODY = '{"errno":0,"error":"succ"}';
export const AUTH_FAILED_BODY = '{"errno":1,"error":"auth failed"}';

/** `{"errno":N,"error":"…"}` with the text escaped as JSON. */
export function errorBody(errno: OneNetErrno, error: string): string {
  return `{"errno":${errno},"error":${JSON.stringify(error)}}`;
}

/** errno 3: `parameter required: <what>` (e.g. `device_id`, `body`). */
export function parameterRequiredBody(what: string): string {
  return errorBody(OneNetErrno.ParameterRequired, `parameter required: ${what}`);
}

/** A success carrying `data` (already JSON text), keys in the platform's order: errno, data, error. */
export function successBodyWithData(dataJson: string): string {
  return `{"errno":0,"data":${dataJson},"error":"succ"}`;
}

/**
 * A ServiceError as OneNET's envelope: errno from ONENET_ERRNO_BY_CODE; errno 6 reads `invalid
 * parameter: <messages>`, errno 7 `service internal error: <messages>`.
 */
export function serviceErrorBody(err: ServiceError): string {
  const errno = ONENET_ERRNO_BY_CODE[err.code];
  const detail = err.messages.join('; ');
  const prefix = errno === OneNetErrno.InvalidParameter ? 'invalid parameter' : 'service internal error';
  return errorBody(errno, detail.length > 0 ? `${prefix}: ${detail}` : prefix);
}
