// Service errors as values with stable codes (docs/errors.md). Decoders, the pool and the
// transport raise or return these; each protocol maps a code to its own envelope and status in
// exactly one place (src/protocols/<protocol>/envelope.ts). Never carries a stack to a client.

export const ServiceErrorCode = {
  /** The body or query breaks the protocol's rules (syntax, validation); messages say where. */
  BadRequest: 'STRATA_BAD_REQUEST',
  /** The body is over the wire-size or the decompressed-size limit. */
  BodyTooLarge: 'STRATA_BODY_TOO_LARGE',
  /** A gzip/deflate body is not a valid stream of that encoding. */
  BadEncoding: 'STRATA_BAD_ENCODING',
  /** Bytes in flight or queued tasks are at their bound; retry later. */
  Busy: 'STRATA_BUSY',
  /** No such route or resource. */
  NotFound: 'STRATA_NOT_FOUND',
  /** The route exists but not for this method. */
  MethodNotAllowed: 'STRATA_METHOD_NOT_ALLOWED',
  /** The server is shutting down and takes no new work. */
  ShuttingDown: 'STRATA_SHUTTING_DOWN',
  /** Anything else (storage failure, a bug); the message is safe to show. */
  Internal: 'STRATA_INTERNAL',
} as const;
export type ServiceErrorCode = (typeof ServiceErrorCode)[keyof typeof ServiceErrorCode];

export class ServiceError extends Error {
  readonly code: ServiceErrorCode;
  /** One or more client-facing messages, in the order the protocol should list them. */
  readonly messages: readonly string[];

  constructor(code: ServiceErrorCode, messages: string | readonly string[], options?: { cause?: unknown }) {
    const list = typeof messages === 'string' ? [messages] : messages;
    super(list.join('; '), options);
    this.name = 'ServiceError';
    this.code = code;
    this.messages = list;
  }
}
