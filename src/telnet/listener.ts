// The line-protocol port (default 4242): telnet `put`/`putm`/`puts`/`version` lines, and HTTP on
// the same port, told apart by the first byte as OpenTSDB does (an upper-case letter starts an
// HTTP method; every line command is lower case). HTTP connections are relayed byte for byte to
// the HTTP port on loopback, so one set of routes serves both ports. Line bytes are coalesced per
// connection for a few ms into one worker task; replies are written back in order. Never parses
// a line itself.
import * as net from 'node:net';
import type { InflightBudget } from '../pool/budget.js';
import type { WorkerPool } from '../pool/pool.js';
import { log } from '../log.js';

/** How long bytes of one connection are gathered before they go to a worker. */
const COALESCE_MS = 2;
/** A burst is sent at once when it reaches this size, and reading pauses while one is in flight. */
const BURST_BYTES = 256 * 1024;

export interface LineServer {
  readonly port: number;
  /** Stops accepting; open connections keep draining. */
  stopListening(): Promise<void>;
  /** Waits (up to timeoutMs) for in-flight bursts, then destroys every connection. */
  closeAll(timeoutMs: number): Promise<void>;
}

export function startLineServer(options: {
  readonly host: string;
  readonly port: number;
  readonly httpPort: number;
  readonly pool: WorkerPool;
  readonly budget: InflightBudget;
}): Promise<LineServer> {
  const connections = new Set<LineConnection>();
  const server = net.createServer((socket) => {
    socket.once('data', (first: Buffer) => {
      const b = first[0]!;
      if (b >= 0x41 && b <= 0x5a) relayToHttp(socket, first, options.httpPort);
      else {
        const conn = new LineConnection(socket, options.pool, options.budget, () => connections.delete(conn));
        connections.add(conn);
        conn.receive(first);
      }
    });
    socket.on('error', () => socket.destroy());
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      const address = server.address() as net.AddressInfo;
      resolve({
        port: address.port,
        stopListening: () => new Promise((done) => server.close(() => done())),
        async closeAll(timeoutMs: number) {
          const deadline = Date.now() + timeoutMs;
          while ([...connections].some((c) => c.busy) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
          for (const c of connections) c.destroy();
        },
      });
    });
  });
}

function relayToHttp(socket: net.Socket, first: Buffer, httpPort: number): void {
  const upstream = net.connect(httpPort, '127.0.0.1');
  upstream.write(first);
  socket.pipe(upstream);
  upstream.pipe(socket);
  const end = (): void => {
    socket.destroy();
    upstream.destroy();
  };
  upstream.on('error', end);
  socket.on('error', end);
  upstream.on('close', end);
  socket.on('close', end);
}

class LineConnection {
  /** The unterminated last line of the previous burst; goes in front of the next one. */
  private tail: Buffer | undefined;
  /** Bytes received and not yet sent to a worker. */
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private timer: NodeJS.Timeout | undefined;
  private inFlight = false;
  private closed = false;

  constructor(
    private readonly socket: net.Socket,
    private readonly pool: WorkerPool,
    private readonly budget: InflightBudget,
    private readonly onClose: () => void,
  ) {
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    // An unterminated last line at close is dropped, as the line-based servers' framers do.
    socket.on('end', () => this.flush());
    socket.on('close', () => {
      this.closed = true;
      if (this.timer) clearTimeout(this.timer);
      this.onClose();
    });
  }

  get busy(): boolean {
    return this.inFlight || this.pendingBytes > 0;
  }

  receive(chunk: Buffer): void {
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    if (this.pendingBytes >= BURST_BYTES) {
      if (this.inFlight) this.socket.pause(); // TCP backpressure instead of unbounded buffering
      else this.flush();
    } else if (!this.timer && !this.inFlight) {
      this.timer = setTimeout(() => this.flush(), COALESCE_MS);
    }
  }

  destroy(): void {
    this.socket.destroy();
  }

  private flush(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.inFlight || this.pendingBytes === 0) return;
    const parts = this.tail ? [this.tail, ...this.pending] : this.pending;
    const bytes = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
    const reserved = bytes.length;
    if (!this.budget.tryReserve(reserved)) {
      // Busy: keep the bytes and stop reading until a later retry finds room.
      this.socket.pause();
      this.timer = setTimeout(() => this.flush(), 50);
      return;
    }
    this.tail = undefined;
    this.pending = [];
    this.pendingBytes = 0;
    const body = new ArrayBuffer(bytes.length);
    new Uint8Array(body).set(bytes);
    this.inFlight = true;
    this.pool
      .run({ kind: 'telnet', body, bodyBytes: bytes.length }, body)
      .then(
        (result) => {
          if (!result.ok || !('replies' in result)) {
            log({ level: 'error', event: 'telnet.burst-failed', messages: result.ok ? ['unexpected reply'] : result.messages });
            return;
          }
          if (result.replies.length > 0 && !this.closed) this.socket.write(result.replies);
          if (result.close) {
            this.socket.end();
            this.closed = true;
            return;
          }
          if (result.tail.byteLength > 0) this.tail = Buffer.from(result.tail);
        },
        (err: unknown) => log({ level: 'error', event: 'telnet.burst-failed', message: (err as Error).message }),
      )
      .finally(() => {
        this.budget.release(reserved);
        this.inFlight = false;
        if (this.closed) return;
        this.socket.resume();
        if (this.pendingBytes > 0) this.flush();
      });
  }
}
