// The admin API's error envelope, `{"error":{"code":"STRATA_AUTH_…","message":"…"}}`, and the one
// table mapping every code — the credential store's and the few the API adds — to an HTTP status
// (docs/decisions/0011-admin-api.md). Pure: no I/O. Messages never carry a secret.
import { CredentialError, CredentialErrorCode } from '../auth/index.js';
import { ServiceError, ServiceErrorCode } from '../errors.js';

/** Codes the admin API adds to the store's: failures of the request itself, not of a change. */
export const AdminErrorCode = {
  /** No `Authorization: Bearer <admin token>`, or not the current admin token. */
  Unauthorized: 'STRATA_AUTH_UNAUTHORIZED',
  /** The path exists, the method does not. */
  MethodNotAllowed: 'STRATA_AUTH_METHOD_NOT_ALLOWED',
  /** The body is over ADMIN_MAX_BODY_BYTES. */
  BodyTooLarge: 'STRATA_AUTH_BODY_TOO_LARGE',
  /** The in-flight byte budget is spent (ingest is saturating the server); retry later. */
  Busy: 'STRATA_AUTH_BUSY',
  /** A bug or a lost writer thread; the message is safe to show. */
  Internal: 'STRATA_AUTH_INTERNAL',
} as const;
export type AdminErrorCode = (typeof AdminErrorCode)[keyof typeof AdminErrorCode];

export type AdminCode = CredentialErrorCode | AdminErrorCode;

/** Every code's status: the only place the admin API decides one. */
export const ADMIN_STATUS: { readonly [C in AdminCode]: number } = {
  [CredentialErrorCode.Invalid]: 400,
  [CredentialErrorCode.Refused]: 400,
  [CredentialErrorCode.NotFound]: 404,
  [CredentialErrorCode.Conflict]: 409,
  // Fails closed: the store answers nothing until `strata auth repair`; not the client's fault.
  [CredentialErrorCode.Corruption]: 503,
  [CredentialErrorCode.Locked]: 503,
  [CredentialErrorCode.NoSpace]: 507,
  [CredentialErrorCode.Io]: 500,
  [AdminErrorCode.Unauthorized]: 401,
  [AdminErrorCode.MethodNotAllowed]: 405,
  [AdminErrorCode.BodyTooLarge]: 413,
  [AdminErrorCode.Busy]: 503,
  [AdminErrorCode.Internal]: 500,
};

/** An admin API failure as a value: a code from ADMIN_STATUS and a message for the client. */
export class AdminError extends Error {
  readonly code: AdminCode;

  constructor(code: AdminCode, message: string) {
    super(message);
    this.name = 'AdminError';
    this.code = code;
  }
}

export interface AdminErrorAnswer {
  readonly status: number;
  readonly body: string;
  /** Extra headers the status calls for (WWW-Authenticate on 401, Retry-After on 503). */
  readonly headers: readonly (readonly [string, string])[];
}

/** The realm named in the 401 challenge. */
export const ADMIN_REALM = 'strata-admin';

/** Any error thrown while serving an admin request, as a code and a client-safe message. */
export function toAdminError(err: unknown): AdminError {
  if (err instanceof AdminError) return err;
  if (err instanceof CredentialError) return new AdminError(err.code, err.message);
  if (err instanceof ServiceError) {
    if (err.code === ServiceErrorCode.BodyTooLarge) return new AdminError(AdminErrorCode.BodyTooLarge, err.message);
    if (err.code === ServiceErrorCode.Busy) return new AdminError(AdminErrorCode.Busy, err.message);
  }
  return new AdminError(AdminErrorCode.Internal, 'internal error; see the server log');
}

/** Status, headers and JSON body for an error. */
export function adminErrorAnswer(err: unknown): AdminErrorAnswer {
  const e = toAdminError(err);
  const status = ADMIN_STATUS[e.code];
  const headers: (readonly [string, string])[] = [];
  if (status === 401) headers.push(['WWW-Authenticate', `Bearer realm="${ADMIN_REALM}"`]);
  if (e.code === CredentialErrorCode.Locked || e.code === AdminErrorCode.Busy) headers.push(['Retry-After', '1']);
  return { status, headers, body: JSON.stringify({ error: { code: e.code, message: e.message } }) };
}
