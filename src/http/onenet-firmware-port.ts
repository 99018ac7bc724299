// The OneNET firmware port (--onenet-port, off by default; protocols.md §4.4, §5): a node:net
// listener for device firmware whose HTTP uWebSockets.js refuses. uWS 20.30 answers nothing to an
// `HTTP/1.0` request line, to a request without Host, to bare-LF line ends and to CR/LF bytes
// before a request line (test/integration/onenet-firmware.test.ts pins each), all of which
// OneNET firmware sends. Each request read here is normalised (HTTP/1.1, `name: value` headers,
// Host added when missing, `Connection: close`) and relayed over loopback to the HTTP port —
// one upstream connection per request, so uWS's close marks the end of its answer — and the
// answer is copied back with `Connection: close` added when the client's connection ends after
// it (HTTP/1.0, or `Connection: close`). Bytes after a body (stray CRLFs) are skipped before the
// next request line, or dropped with the connection. One set of routes serves both ports (as the
// line port does, decision 0006). Owns sockets only; never parses a body.
import * as net from 'node:net';
import { log } from '../log.js';

/** Longest request head accepted (request line and headers). */
export const MAX_HEAD_BYTES = 16 * 1024;
const CR = 0x0d;
const LF = 0x0a;

/** A request head read from the firmware's bytes, rewritten for uWS. */
export interface FirmwareHead {
  /** Bytes of the original head, leading CR/LFs and the blank line included. */
  readonly consumedBytes: number;
  /** The head as sent upstream: HTTP/1.1, `Connection: close`, a Host, CRLF line ends. */
  readonly upstreamHead: string;
  /** Body bytes that follow (Content-Length), or 'chunked' (the rest of the connection is this request). */
  readonly body: number | 'chunked';
  /** Whether the client's connection stays open after the answer. */
  readonly keepAlive: boolean;
}

export type HeadParse = FirmwareHead | { readonly incomplete: true } | { readonly error: string };

/**
 * Reads one request head from `buf` (the bytes received and not yet used). Leading CR/LF bytes are
 * skipped (stray line ends after a previous body); lines may end in CRLF or LF; header names may be
 * followed by `:` without a space. Returns `incomplete` until the blank line arrived.
 */
export function parseFirmwareHead(buf: Uint8Array): HeadParse {
  let start = 0;
  while (start < buf.length && (buf[start] === CR || buf[start] === LF)) start++;
  const lines: string[] = [];
  let lineStart = start;
  let end = -1;
  for (let i = start; i < buf.length; i++) {
    if (buf[i] !== LF) continue;
    const lineEnd = i > lineStart && buf[i - 1] === CR ? i - 1 : i;
    if (lineEnd === lineStart) {
      end = i + 1;
      break;
    }
    lines.push(Buffer.from(buf.buffer, buf.byteOffset + lineStart, lineEnd - lineStart).toString('latin1'));
    lineStart = i + 1;
  }
  if (end < 0) return buf.length - start > MAX_HEAD_BYTES ? { error: 'request head too large' } : { incomplete: true };
  if (end - start > MAX_HEAD_BYTES) return { error: 'request head too large' };
  const requestLine = /^([A-Za-z]+) +(\/\S*|https?:\/\/\S+) +HTTP\/1\.([01]) *$/.exec(lines[0] ?? '');
  if (!requestLine) return { error: 'malformed request line' };
  const http11 = requestLine[3] === '1';
  const headers: [string, string][] = [];
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    if (colon <= 0) return { error: `malformed header line ${JSON.stringify(line.slice(0, 64))}` };
    headers.push([line.slice(0, colon).trim(), line.slice(colon + 1).trim()]);
  }
  const named = (name: string): string[] => headers.filter(([k]) => k.toLowerCase() === name).map(([, v]) => v);
  const connection = named('connection').join(',').toLowerCase();
  const keepAlive = http11 ? !/\bclose\b/.test(connection) : /\bkeep-alive\b/.test(connection);
  const chunked = named('transfer-encoding').some((v) => /\bchunked\b/i.test(v));
  const lengths = [...new Set(named('content-length'))];
  if (lengths.length > 1 || (lengths.length === 1 && !/^\d{1,15}$/.test(lengths[0]!))) return { error: 'bad Content-Length' };
  const kept = headers.filter(([k]) => !['connection', 'keep-alive', 'proxy-connection'].includes(k.toLowerCase()));
  if (named('host').length === 0) kept.push(['Host', 'localhost']);
  kept.push(['Connection', 'close']);
  const upstreamHead = `${requestLine[1]!.toUpperCase()} ${requestLine[2]} HTTP/1.1\r\n${kept.map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`;
  return {
    consumedBytes: end,
    upstreamHead,
    body: chunked ? 'chunked' : lengths.length === 1 ? Number(lengths[0]) : 0,
    keepAlive: keepAlive && !chunked,
  };
}

/** The answer to bytes that are not an HTTP request: OneNET's envelope, then the connection closes. */
function badRequestAnswer(reason: string): string {
  const body = JSON.stringify({ errno: 6, error: `invalid parameter: ${reason}` });
  return `HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`;
}

/** Adds `Connection: close` to a response head that has none (the head ends at the first blank line). */
export function withConnectionClose(head: string): string {
  const end = head.indexOf('\r\n\r\n');
  if (end < 0 || /\r\nconnection:/i.test(head.slice(0, end + 2))) return head;
  return `${head.slice(0, end)}\r\nConnection: close${head.slice(end)}`;
}

export interface OneNetFirmwarePort {
  readonly port: number;
  stopListening(): Promise<void>;
  /** Destroys every open connection. */
  closeAll(): void;
}

/** One firmware connection: requests one after another, each over its own upstream connection. */
class FirmwareConnection {
  private pending: Buffer = Buffer.alloc(0);
  private upstream: net.Socket | undefined;
  /** Body bytes of the current request still to forward ('chunked': everything until the client ends). */
  private bodyLeft: number | 'chunked' = 0;
  private keepAlive = false;
  private responseHead = '';
  private responseHeadDone = false;
  /** The firmware sent FIN: answer what is in progress, then close. */
  private clientEnded = false;

  constructor(
    private readonly client: net.Socket,
    private readonly httpPort: number,
    private readonly httpHost: string,
  ) {
    client.on('data', (chunk: Buffer) => this.onClientData(chunk));
    client.on('error', () => this.destroy());
    client.on('close', () => this.upstream?.destroy());
    client.on('drain', () => this.upstream?.resume());
    client.on('end', () => {
      this.clientEnded = true;
      // Half-closed by the firmware: the answer in progress still goes out; nothing more comes in.
      if (this.upstream === undefined) client.end();
      else if (this.bodyLeft === 'chunked') this.upstream.end();
    });
  }

  destroy(): void {
    this.upstream?.destroy();
    this.client.destroy();
  }

  private onClientData(chunk: Buffer): void {
    if (this.upstream !== undefined && this.bodyLeft !== 0) {
      this.forwardBody(chunk);
      return;
    }
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    if (this.upstream === undefined) this.nextRequest();
    else this.client.pause(); // a pipelined request waits (unread, in TCP) until this answer is done
  }

  /** Forwards body bytes of the current request; what follows the body waits in `pending`. */
  private forwardBody(chunk: Buffer): void {
    const up = this.upstream!;
    if (this.bodyLeft === 'chunked') {
      if (!up.write(chunk)) this.client.pause();
      return;
    }
    const n = Math.min(this.bodyLeft, chunk.length);
    if (n > 0 && !up.write(chunk.subarray(0, n))) this.client.pause();
    this.bodyLeft -= n;
    if (n < chunk.length) this.pending = Buffer.concat([this.pending, chunk.subarray(n)]);
  }

  private nextRequest(): void {
    // Stray CR/LFs alone are not a request: keep waiting (or closing) without answering them.
    let i = 0;
    while (i < this.pending.length && (this.pending[i] === CR || this.pending[i] === LF)) i++;
    if (i === this.pending.length) {
      this.pending = Buffer.alloc(0);
      return;
    }
    const head = parseFirmwareHead(this.pending);
    if ('incomplete' in head) return;
    if ('error' in head) {
      this.client.end(badRequestAnswer(head.error));
      this.pending = Buffer.alloc(0);
      return;
    }
    const rest = this.pending.subarray(head.consumedBytes);
    this.pending = Buffer.alloc(0);
    this.keepAlive = head.keepAlive;
    this.bodyLeft = head.body;
    this.responseHead = '';
    this.responseHeadDone = false;
    const up = net.connect(this.httpPort, this.httpHost);
    this.upstream = up;
    up.setNoDelay(true);
    up.write(head.upstreamHead);
    this.forwardBody(rest);
    up.on('drain', () => this.client.resume());
    up.on('data', (data: Buffer) => this.onUpstreamData(data));
    up.on('error', (err) => {
      log({ level: 'warn', event: 'onenet.firmware-relay-failed', message: err.message });
      if (!this.responseHeadDone && this.responseHead === '') {
        const body = '{"errno":7,"error":"service internal error"}';
        this.client.end(`HTTP/1.1 502 Bad Gateway\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`);
      } else this.client.destroy();
    });
    up.on('close', () => this.onUpstreamClosed(up));
  }

  private onUpstreamData(data: Buffer): void {
    if (this.responseHeadDone) {
      if (!this.client.write(data)) this.upstream?.pause();
      return;
    }
    // Hold the head until it is complete, so `Connection: close` can be added to it.
    this.responseHead += data.toString('latin1');
    const end = this.responseHead.indexOf('\r\n\r\n');
    if (end < 0 && this.responseHead.length < MAX_HEAD_BYTES) return;
    this.responseHeadDone = true;
    const out = this.keepAlive ? this.responseHead : withConnectionClose(this.responseHead);
    if (!this.client.write(Buffer.from(out, 'latin1'))) this.upstream?.pause();
  }

  private onUpstreamClosed(up: net.Socket): void {
    if (this.upstream !== up) return;
    this.upstream = undefined;
    if (!this.responseHeadDone && this.responseHead.length > 0) this.client.write(Buffer.from(this.responseHead, 'latin1'));
    if (!this.keepAlive || this.bodyLeft !== 0 || this.clientEnded) {
      this.client.end();
      return;
    }
    this.client.resume();
    if (this.pending.length > 0) this.nextRequest();
  }
}

export function startOneNetFirmwarePort(options: { readonly host: string; readonly port: number; readonly httpPort: number }): Promise<OneNetFirmwarePort> {
  const connections = new Set<FirmwareConnection>();
  // The HTTP port listens on the same host; a wildcard bind is reached over loopback.
  const httpHost = ['0.0.0.0', '::', ''].includes(options.host) ? '127.0.0.1' : options.host;
  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    socket.setNoDelay(true);
    const c = new FirmwareConnection(socket, options.httpPort, httpHost);
    connections.add(c);
    socket.on('close', () => connections.delete(c));
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve({
        port: (server.address() as net.AddressInfo).port,
        stopListening: () => new Promise((r) => server.close(() => r())),
        closeAll: () => {
          for (const c of connections) c.destroy();
        },
      });
    });
  });
}
