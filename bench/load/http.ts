// The load generator's HTTP/1.1 client side, kept cheap because it shares the cores with the
// server: requests are whole pre-built buffers (head + body) written to raw keep-alive sockets,
// and responses go through a minimal incremental parser (status line, Content-Length or chunked
// body, read-until-close otherwise). Nothing here allocates per point.

/** One request's bytes: `POST path HTTP/1.1` head with Content-Length, then the body. */
export function buildRequest(options: {
  path: string;
  host: string;
  body: Uint8Array;
  contentType?: string;
  headers?: readonly (readonly [string, string])[];
}): Buffer {
  let head = `POST ${options.path} HTTP/1.1\r\nHost: ${options.host}\r\nContent-Type: ${options.contentType ?? 'application/json'}\r\nContent-Length: ${options.body.length}\r\n`;
  for (const [k, v] of options.headers ?? []) head += `${k}: ${v}\r\n`;
  head += '\r\n';
  const headLen = Buffer.byteLength(head, 'latin1');
  const out = Buffer.allocUnsafe(headLen + options.body.length);
  out.write(head, 0, 'latin1');
  out.set(options.body, headLen);
  return out;
}

export interface ParsedResponse {
  readonly status: number;
  /** The body, up to `maxBodyBytes` (the rest is skipped). */
  readonly body: Buffer;
  /** The server asked to close the connection (Connection: close, or HTTP/1.0 without keep-alive). */
  readonly close: boolean;
}

const CRLF = Buffer.from('\r\n');
const CRLFCRLF = Buffer.from('\r\n\r\n');

const enum State {
  Head,
  Body,
  ChunkSize,
  ChunkData,
  ChunkDataEnd,
  Trailers,
  UntilClose,
}

/**
 * Incremental HTTP/1.1 response parser for one connection. `push` bytes as they arrive; every
 * complete response is handed to `onResponse` in order. 1xx responses are skipped. A response
 * with neither Content-Length nor chunked coding (and a status that may have a body) ends at
 * `end()` (connection close). Throws on a malformed status line or chunk size.
 */
export class ResponseParser {
  private state = State.Head;
  private pending: Buffer | undefined; // unconsumed bytes of a head / chunk-size line / trailer
  private status = 0;
  private close = false;
  private remaining = 0;
  private body: Buffer[] = [];
  private bodyBytes = 0;

  constructor(
    private readonly onResponse: (r: ParsedResponse) => void,
    private readonly maxBodyBytes = 64 * 1024,
  ) {}

  /** True between the first byte of a response and its end. */
  get inResponse(): boolean {
    return this.state !== State.Head || (this.pending !== undefined && this.pending.length > 0);
  }

  push(chunk: Buffer): void {
    let buf = chunk;
    if (this.pending !== undefined && this.pending.length > 0) {
      buf = Buffer.concat([this.pending, chunk]);
      this.pending = undefined;
    }
    let at = 0;
    while (at < buf.length) {
      switch (this.state) {
        case State.Head: {
          const end = buf.indexOf(CRLFCRLF, at);
          if (end < 0) {
            this.pending = buf.subarray(at);
            return;
          }
          this.parseHead(buf.toString('latin1', at, end));
          at = end + 4;
          break;
        }
        case State.Body: {
          const n = Math.min(this.remaining, buf.length - at);
          this.keep(buf, at, at + n);
          at += n;
          this.remaining -= n;
          if (this.remaining === 0) this.finish();
          break;
        }
        case State.ChunkSize: {
          const end = buf.indexOf(CRLF, at);
          if (end < 0) {
            this.pending = buf.subarray(at);
            return;
          }
          const line = buf.toString('latin1', at, end);
          const size = parseInt(line, 16); // chunk extensions after ';' are ignored by parseInt
          if (!Number.isFinite(size) || size < 0) throw new Error(`bad chunk size line ${JSON.stringify(line)}`);
          at = end + 2;
          if (size === 0) this.state = State.Trailers;
          else {
            this.remaining = size;
            this.state = State.ChunkData;
          }
          break;
        }
        case State.ChunkData: {
          const n = Math.min(this.remaining, buf.length - at);
          this.keep(buf, at, at + n);
          at += n;
          this.remaining -= n;
          if (this.remaining === 0) {
            this.remaining = 2;
            this.state = State.ChunkDataEnd;
          }
          break;
        }
        case State.ChunkDataEnd: {
          // The CRLF after a chunk's data, possibly split across pushes.
          const n = Math.min(this.remaining, buf.length - at);
          at += n;
          this.remaining -= n;
          if (this.remaining === 0) this.state = State.ChunkSize;
          break;
        }
        case State.Trailers: {
          const end = buf.indexOf(CRLF, at);
          if (end < 0) {
            this.pending = buf.subarray(at);
            return;
          }
          const empty = end === at;
          at = end + 2;
          if (empty) this.finish();
          break;
        }
        case State.UntilClose:
          this.keep(buf, at, buf.length);
          at = buf.length;
          break;
      }
    }
  }

  /** The connection closed: completes a read-until-close response; false if a response was cut short. */
  end(): boolean {
    if (this.state === State.UntilClose) {
      this.finish();
      return true;
    }
    return !this.inResponse;
  }

  /** Drops any partial response (after a connection error). */
  reset(): void {
    this.state = State.Head;
    this.pending = undefined;
    this.body = [];
    this.bodyBytes = 0;
  }

  private parseHead(head: string): void {
    const lines = head.split('\r\n');
    const statusLine = lines[0]!;
    const m = /^HTTP\/1\.([01]) (\d{3})/.exec(statusLine);
    if (m === null) throw new Error(`bad status line ${JSON.stringify(statusLine.slice(0, 80))}`);
    const status = Number(m[2]);
    let length = -1;
    let chunked = false;
    let close = m[1] === '0';
    for (let i = 1; i < lines.length; i++) {
      const line = lines[i]!;
      const colon = line.indexOf(':');
      if (colon < 0) continue;
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim().toLowerCase();
      if (name === 'content-length') length = Number(value);
      else if (name === 'transfer-encoding') chunked = value.split(',').some((v) => v.trim() === 'chunked');
      else if (name === 'connection') {
        if (value.includes('close')) close = true;
        else if (value.includes('keep-alive')) close = false;
      }
    }
    if (status >= 100 && status < 200) return; // interim response: the real one follows
    this.status = status;
    this.close = close;
    this.body = [];
    this.bodyBytes = 0;
    if (status === 204 || status === 304) this.finish();
    else if (chunked) this.state = State.ChunkSize;
    else if (length >= 0) {
      if (length === 0) this.finish();
      else {
        this.remaining = length;
        this.state = State.Body;
      }
    } else {
      this.close = true;
      this.state = State.UntilClose;
    }
  }

  private keep(buf: Buffer, from: number, to: number): void {
    const room = this.maxBodyBytes - this.bodyBytes;
    if (room <= 0 || to <= from) return;
    const piece = buf.subarray(from, Math.min(to, from + room));
    // Copy: `buf` may be a socket chunk the caller reuses or a concat we drop.
    this.body.push(Buffer.from(piece));
    this.bodyBytes += piece.length;
  }

  private finish(): void {
    const body = this.body.length === 0 ? EMPTY : this.body.length === 1 ? this.body[0]! : Buffer.concat(this.body);
    const r: ParsedResponse = { status: this.status, body, close: this.close };
    this.state = State.Head;
    this.body = [];
    this.bodyBytes = 0;
    this.onResponse(r);
  }
}

const EMPTY = Buffer.alloc(0);
