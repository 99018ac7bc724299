// Credential-store errors as values with stable codes (docs/decisions/0010-credential-store.md).
// The CLI prints `message` and exits 1; the admin HTTP API maps each code to a status in one
// table. Messages that CAVE has its own words for use those words, so that table can pass them on.

export const CredentialErrorCode = {
  /** A name, scope, permission or description breaks the rules (CAVE: 400). */
  Invalid: 'STRATA_AUTH_INVALID',
  /** No such organisation, team, token, product, device or key (CAVE: 404). */
  NotFound: 'STRATA_AUTH_NOT_FOUND',
  /** The organisation, team, product or device already exists (CAVE: 409). */
  Conflict: 'STRATA_AUTH_CONFLICT',
  /** A CAVE rule refuses it: too many tokens, the last token, an organisation with teams (CAVE: 400). */
  Refused: 'STRATA_AUTH_REFUSED',
  /** Another process holds the store's lock for longer than the wait allows; nothing was written. */
  Locked: 'STRATA_AUTH_LOCKED',
  /** Bytes of the store fail a magic, checksum, bounds or replay check; carries file and offset. */
  Corruption: 'STRATA_AUTH_CORRUPTION',
  /** ENOSPC/EDQUOT while writing; the store still ends at its last whole record. */
  NoSpace: 'STRATA_AUTH_NO_SPACE',
  /** Any other I/O failure; the store still ends at its last whole record. */
  Io: 'STRATA_AUTH_IO',
} as const;
export type CredentialErrorCode = (typeof CredentialErrorCode)[keyof typeof CredentialErrorCode];

export class CredentialError extends Error {
  readonly code: CredentialErrorCode;

  constructor(code: CredentialErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CredentialError';
    this.code = code;
  }
}

/** Bytes of the credential log that must not be trusted, at a known place. */
export class CredentialCorruptionError extends CredentialError {
  readonly file: string;
  readonly offset: number;

  constructor(file: string, offset: number, reason: string) {
    super(CredentialErrorCode.Corruption, `credential store ${file} is damaged at offset ${offset}: ${reason}`);
    this.name = 'CredentialCorruptionError';
    this.file = file;
    this.offset = offset;
  }
}

/** Maps a Node system error from the fs facade to a CredentialError (NoSpace or Io). */
export function credentialIoError(err: unknown, what: string): CredentialError {
  if (err instanceof CredentialError) return err;
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOSPC' || code === 'EDQUOT') {
    return new CredentialError(CredentialErrorCode.NoSpace, `${what}: no space left on device; nothing was changed`, { cause: err });
  }
  const message = err instanceof Error ? err.message : String(err);
  return new CredentialError(CredentialErrorCode.Io, `${what}: ${message}; nothing was changed`, { cause: err });
}
