// CAVE's answers, in one place (protocols.md §3): how every service error code and every
// refusal looks on the wire. CAVE (Play 2.2) answers errors as plain text or with an empty body;
// this module is the only one that decides status, headers and text. Pure; no transport.
import { ServiceErrorCode, type ServiceError } from '../../errors.js';

/** CAVE's 500 text (AbstractApiController.InternalErrorMessage). */
export const CAVE_INTERNAL_ERROR_MESSAGE = "Oops! We've experienced an internal error. Please try your request again later.";
/** Play's parse.json refusals, through CAVE's Global.onBadRequest ("Bad Request: " + message). */
export const CAVE_NOT_JSON_MESSAGE = 'Bad Request: Expecting text/json or application/json body';
export const CAVE_INVALID_JSON_MESSAGE = 'Bad Request: Invalid Json';

/** Play's `Ok(String)` / `BadRequest(String)` content type. */
export const CAVE_TEXT_TYPE = 'text/plain; charset=utf-8';
/** Play's `Ok(JsValue)` content type. */
export const CAVE_JSON_TYPE = 'application/json; charset=utf-8';

/** A CAVE answer: what the route writes out. */
export interface CaveAnswer {
  readonly status: number;
  readonly headers: readonly (readonly [string, string])[];
  readonly body: string;
}

/** HTTP status for each service error code on the CAVE endpoints. */
export const CAVE_STATUS_BY_CODE: Readonly<Record<ServiceErrorCode, number>> = {
  [ServiceErrorCode.BadRequest]: 400,
  // Play's parse.json answers EntityTooLarge (413, empty) past its limit.
  [ServiceErrorCode.BodyTooLarge]: 413,
  [ServiceErrorCode.BadEncoding]: 400,
  [ServiceErrorCode.Busy]: 503,
  // Play's onHandlerNotFound in CAVE: 404 with an empty body, for unknown paths and methods alike.
  [ServiceErrorCode.NotFound]: 404,
  [ServiceErrorCode.MethodNotAllowed]: 404,
  [ServiceErrorCode.ShuttingDown]: 503,
  [ServiceErrorCode.Internal]: 500,
};

export function caveText(status: number, text: string): CaveAnswer {
  return { status, headers: [['Content-Type', CAVE_TEXT_TYPE]], body: text };
}

export function caveJson(status: number, json: string): CaveAnswer {
  return { status, headers: [['Content-Type', CAVE_JSON_TYPE]], body: json };
}

export function caveEmpty(status: number): CaveAnswer {
  return { status, headers: [], body: '' };
}

/** No token, or an unsupported Authorization scheme. */
export function caveUnauthorized(): CaveAnswer {
  return { status: 401, headers: [['WWW-Authenticate', 'Basic realm="Restricted"']], body: '' };
}

/** A token that is unknown, revoked, of another tenant, or without the needed scope. */
export function caveForbidden(): CaveAnswer {
  return caveEmpty(403);
}

/** Unknown organisation or team, unknown path or method. */
export function caveNotFound(): CaveAnswer {
  return caveEmpty(404);
}

/**
 * A service error as CAVE answers it: 400 with the first message as text (decoders produce
 * CAVE's exact texts), 413 and 404 empty, 503 with `Retry-After: 1` and the message, and 500
 * with CAVE's apology (the real cause is logged by the worker, never sent).
 */
export function caveServiceError(err: ServiceError): CaveAnswer {
  const status = CAVE_STATUS_BY_CODE[err.code];
  switch (err.code) {
    case ServiceErrorCode.BadRequest:
      return caveText(400, err.messages[0] ?? '');
    case ServiceErrorCode.BadEncoding:
      return caveText(400, `Bad Request: ${err.messages[0] ?? ''}`);
    case ServiceErrorCode.BodyTooLarge:
    case ServiceErrorCode.NotFound:
    case ServiceErrorCode.MethodNotAllowed:
      return caveEmpty(status);
    case ServiceErrorCode.Busy:
    case ServiceErrorCode.ShuttingDown:
      return { status, headers: [['Content-Type', CAVE_TEXT_TYPE], ['Retry-After', '1']], body: err.messages[0] ?? '' };
    case ServiceErrorCode.Internal:
      return caveText(500, CAVE_INTERNAL_ERROR_MESSAGE);
  }
}
