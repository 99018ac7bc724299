// KairosDB's error envelope: the one place that maps service error codes to KairosDB statuses and
// bodies (protocols.md §1.1: `{"errors":["..."]}` for 400 and 500). Pure; no transport.
import { ServiceErrorCode } from '../../errors.js';

/** HTTP status KairosDB answers for each service error code. */
export const KAIROS_STATUS_BY_CODE: Readonly<Record<ServiceErrorCode, number>> = {
  [ServiceErrorCode.BadRequest]: 400,
  [ServiceErrorCode.BodyTooLarge]: 413,
  // Real KairosDB answers 400 on the application/gzip path and 500 on the Content-Encoding path
  // for the same bad stream; Strata answers 400 on both (docs/api/kairosdb.md, "Differences").
  [ServiceErrorCode.BadEncoding]: 400,
  [ServiceErrorCode.Busy]: 503,
  [ServiceErrorCode.NotFound]: 404,
  [ServiceErrorCode.MethodNotAllowed]: 405,
  [ServiceErrorCode.ShuttingDown]: 503,
  [ServiceErrorCode.Internal]: 500,
};

/** `{"errors":[...]}` exactly as KairosDB writes it (no spaces). */
export function kairosErrorBody(messages: readonly string[]): string {
  return JSON.stringify({ errors: messages });
}
