// The uWebSockets.js rules, in one place (style.md habit 5): register onAborted first, read
// everything needed from the HttpRequest before returning (it dies with the callback), copy each
// body chunk once into a buffer sized up front, cork every write, and never touch a response
// after it was aborted or ended. Routes only see `HttpExchange`.
import type { HttpRequest, HttpResponse } from 'uWebSockets.js';
import { ServiceError, ServiceErrorCode } from '../errors.js';
import type { InflightBudget } from '../pool/budget.js';
import { bodyBuffers } from '../pool/body-buffers.js';

/** Headers a route may need, read while the HttpRequest is still valid. */
export interface RequestHead {
  readonly method: string;
  readonly url: string;
  readonly query: string;
  /** Lower-case header name → value (last one wins). */
  readonly headers: ReadonlyMap<string, string>;
}

export interface ResponseOut {
  readonly status: number;
  readonly headers?: readonly (readonly [string, string])[];
  /** Omitted or empty: no body. */
  readonly body?: string | ArrayBuffer | Uint8Array;
}

const STATUS_TEXT: Readonly<Record<number, string>> = {
  200: '200 OK',
  201: '201 Created',
  202: '202 Accepted',
  204: '204 No Content',
  400: '400 Bad Request',
  401: '401 Unauthorized',
  403: '403 Forbidden',
  404: '404 Not Found',
  405: '405 Method Not Allowed',
  406: '406 Not Acceptable',
  409: '409 Conflict',
  411: '411 Length Required',
  413: '413 Payload Too Large',
  415: '415 Unsupported Media Type',
  500: '500 Internal Server Error',
  503: '503 Service Unavailable',
  507: '507 Insufficient Storage',
};

export function statusLine(status: number): string {
  return STATUS_TEXT[status] ?? `${status} Status`;
}

export function readHead(req: HttpRequest): RequestHead {
  const headers = new Map<string, string>();
  req.forEach((k, v) => headers.set(k, v));
  return { method: req.getCaseSensitiveMethod().toUpperCase(), url: req.getUrl(), query: req.getQuery() ?? '', headers };
}

/** Told of every answer written (the server's metrics, src/metrics.ts): path, status, seconds since the head. */
export type ResponseObserver = (path: string, status: number, seconds: number) => void;
let responseObserver: ResponseObserver | undefined;

/** Installs the one observer of answers (main thread; the server's metrics). */
export function observeResponses(observer: ResponseObserver | undefined): void {
  responseObserver = observer;
}

/**
 * One HTTP exchange: a uWS response plus the state that keeps its use safe. Create it first thing
 * in a route handler (it registers onAborted); after `aborted` or `ended`, every write is a no-op.
 */
export class HttpExchange {
  aborted = false;
  ended = false;
  private onAbort: (() => void) | undefined;
  /** performance.now() when the exchange began (the head was read). */
  private readonly startedAtMs = performance.now();

  constructor(
    readonly res: HttpResponse,
    readonly head: RequestHead,
  ) {
    res.onAborted(() => {
      this.aborted = true;
      const f = this.onAbort;
      this.onAbort = undefined;
      f?.();
    });
  }

  get done(): boolean {
    return this.aborted || this.ended;
  }

  /** Called once if the client goes away before the response was written. */
  whenAborted(f: () => void): void {
    this.onAbort = f;
  }

  /** Writes status, headers and body in one corked burst; a no-op once done. */
  respond(out: ResponseOut): void {
    if (this.done) return;
    this.ended = true;
    this.onAbort = undefined;
    const res = this.res;
    res.cork(() => {
      res.writeStatus(statusLine(out.status));
      if (out.headers) for (const [k, v] of out.headers) res.writeHeader(k, v);
      const body = out.body;
      const empty = body === undefined || (typeof body === 'string' ? body.length === 0 : body.byteLength === 0);
      if (out.status === 204 || out.status === 304) res.endWithoutBody();
      else res.end(empty ? '' : body);
    });
    responseObserver?.(this.head.url, out.status, (performance.now() - this.startedAtMs) / 1000);
  }

  /** Closes the connection without a response (used only when a reply is impossible). */
  close(): void {
    if (this.done) return;
    this.ended = true;
    this.res.close();
  }
}

export interface BodyLimits {
  readonly maxBodyBytes: number;
  readonly budget: InflightBudget;
}

/**
 * A received body: bytes [0, `length`) of `buffer` are the body (the buffer may be larger and hold
 * stale bytes past `length`, which no reader may look at); `reservedBytes` must be released.
 */
export interface ReceivedBody {
  readonly buffer: ArrayBuffer;
  readonly length: number;
  readonly reservedBytes: number;
}

/**
 * A body reserves this much before its bytes arrive; past it, it grows by doubling as bytes
 * arrive, never on the declared Content-Length alone: a client that sends a head declaring 64 MB
 * and then stalls holds 16 KiB of the in-flight budget, not 64 MB, until uWS's idle timeout
 * closes it (a handful of such clients used to fill the budget and turn every other request into
 * a 503; test/reliability/hostile-connections.test.ts). No buffer is taken until the first bytes
 * arrive, so such a client holds no memory at all.
 */
const FIRST_BODY_BYTES = 16 * 1024;

/**
 * Reads the whole request body. A declared Content-Length over the limit is refused up front;
 * otherwise the body reserves FIRST_BODY_BYTES (or the declared length, if smaller) and grows by
 * doubling up to the declared length (or the limit) — straight to the declared length once a
 * quarter of it has arrived — reserving each growth before it takes the buffer, so each byte is
 * copied once from the uWS chunk plus amortised O(1) times on growth.
 * Buffers come from the main thread's free-list (src/pool/body-buffers.ts): a recycled buffer, or
 * a fresh one, of bodyCapacityFor(size) at most (≤ 12.5 % over the size above, for bodies of
 * 64 KiB and more; exact below), and the reservation is the taken buffer's whole capacity. A
 * buffer the body outgrew, or the buffer of a body that failed or was aborted, goes back to the
 * free-list at once (only this closure held it).
 * Resolves with the body; rejects with ServiceError BodyTooLarge / Busy (the caller answers and
 * the connection may still be receiving — uWS discards the rest when the response ends), or with
 * `undefined` reason when the client aborted (nothing to answer).
 * Must be called synchronously inside the route handler (uWS requires onData to be attached
 * before returning).
 */
export function receiveBody(x: HttpExchange, limits: BodyLimits): Promise<ReceivedBody> {
  return new Promise((resolve, reject) => {
    const declared = x.head.headers.get('content-length');
    const expected = declared !== undefined && /^\d+$/.test(declared) ? Number(declared) : undefined;
    if (expected !== undefined && expected > limits.maxBodyBytes) {
      reject(new ServiceError(ServiceErrorCode.BodyTooLarge, `Request body of ${expected} bytes exceeds the limit of ${limits.maxBodyBytes} bytes`));
      return;
    }
    /** The body never grows past this. */
    const capBytes = expected ?? limits.maxBodyBytes;
    /** Bytes reserved from the budget: the rules' size until a buffer is taken, then its capacity. */
    let reserved = Math.min(capBytes, FIRST_BODY_BYTES);
    if (!limits.budget.tryReserve(reserved)) {
      reject(new ServiceError(ServiceErrorCode.Busy, 'Too many bytes in flight; retry later'));
      return;
    }
    /** Undefined until the first bytes arrive; its capacity equals `reserved` once taken. */
    let buffer: ArrayBuffer | undefined;
    let view = NO_BYTES;
    let length = 0;
    let failed = false;
    /** Releases the reservation and hands the buffer back (nothing else references it). */
    const drop = (): void => {
      failed = true;
      limits.budget.release(reserved);
      if (buffer !== undefined) bodyBuffers.give(buffer);
      buffer = undefined;
      view = NO_BYTES;
    };
    x.whenAborted(() => {
      if (failed) return;
      drop();
      reject(undefined);
    });
    x.res.onData((chunk, isLast) => {
      if (failed) return;
      const n = chunk.byteLength;
      const needed = length + n;
      if (needed > limits.maxBodyBytes) {
        drop();
        reject(new ServiceError(ServiceErrorCode.BodyTooLarge, `Request body exceeds the limit of ${limits.maxBodyBytes} bytes`));
        return;
      }
      if (needed > view.length) {
        // Doubling, except that once a quarter of a declared length has arrived the buffer takes
        // the whole of it: a 1.2 MB batch arriving in 512 KiB reads is then allocated once and
        // copied never (instead of 16 K → 512 K → 1 M → 1.2 M with two copies), while a stalled
        // sender still holds at most four times what it sent (test/reliability/hostile-connections).
        // The first bytes take a buffer of what was reserved up front, if they fit in it.
        const size =
          needed <= reserved ? reserved : expected !== undefined && needed * 4 >= expected ? Math.max(needed, expected) : Math.max(needed, Math.min(reserved * 2, capBytes));
        const next = bodyBuffers.take(size, (capacity) => capacity <= reserved || limits.budget.tryReserve(capacity - reserved));
        if (next === undefined) {
          drop();
          reject(new ServiceError(ServiceErrorCode.Busy, 'Too many bytes in flight; retry later'));
          return;
        }
        if (next.byteLength > reserved) reserved = next.byteLength;
        const nextView = new Uint8Array(next);
        nextView.set(view.subarray(0, length));
        if (buffer !== undefined) bodyBuffers.give(buffer);
        buffer = next;
        view = nextView;
      }
      // The only copy out of uWS's chunk, which is invalid once this callback returns.
      view.set(new Uint8Array(chunk), length);
      length += n;
      if (isLast) {
        failed = true; // done: later callbacks are ignored
        // An empty body never took a buffer; readers need one to look at (and to transfer).
        resolve({ buffer: buffer ?? new ArrayBuffer(1), length, reservedBytes: reserved });
      }
    });
  });
}

const NO_BYTES = new Uint8Array(0);
