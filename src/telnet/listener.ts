// The line-protocol port (default 4242): telnet `put`/`putm`/`puts`/`rollup`/`version` lines, and
// HTTP on the same port, told apart by the first byte as OpenTSDB does (an upper-case letter starts
// an HTTP method; every line command is lower case). HTTP connections are relayed byte for byte to
// the HTTP port on loopback, so one set of routes serves both ports. Line bytes are coalesced per
// connection for a few ms into one worker task; replies are written back in order.
//
// Backpressure (docs/api/opentsdb.md, "Backpressure on the line port"): every byte read is
// reserved in the shared in-flight budget before it is buffered, and a connection stops reading
// (TCP backpressure) while the budget refuses it, while it holds a full burst, or while its
// replies wait for the client. A burst the server cannot take — the budget or the worker queue
// stays full for --line-throttle-ms (default THROTTLE_AFTER_MS) — is refused whole: nothing of
// it is stored, and its point-storing lines are answered OpenTSDB's "put: Please throttle
// writes: <reason>" (the line port decoder's `refuse`, run here on the main thread; other
// commands such as `version` are still answered). Never parses a line itself.
import * as net from 'node:net';
import { ServiceError, ServiceErrorCode } from '../errors.js';
import { log } from '../log.js';
import { PACKAGE_VERSION } from '../package-version.js';
import type { InflightBudget } from '../pool/budget.js';
import type { TelnetReply } from '../pool/messages.js';
import type { WorkerPool } from '../pool/pool.js';
import { DEFAULT_MAX_LINE_BYTES, type TelnetDecoder } from '../protocols/kairosdb/telnet.js';
import { strataBuildInfo } from '../protocols/opentsdb/discovery.js';
import { createLinePortDecoder } from '../protocols/opentsdb/telnet-commands.js';

/** How long bytes of one connection are gathered before they go to a worker. */
const COALESCE_MS = 2;
/** A burst is sent at once when it reaches this size; a connection holding this much stops reading. */
const BURST_BYTES = 256 * 1024;
/** How often connections waiting for budget or a worker try again (besides being woken). */
const RETRY_MS = 10;
/** How long a connection may wait for room before what it holds is refused with throttle lines (default of --line-throttle-ms). */
export const THROTTLE_AFTER_MS = 500;
/** A connection stops reading while this many reply bytes wait for the client to read them. */
const MAX_REPLY_BACKLOG_BYTES = 1024 * 1024;
/** The share of the in-flight budget the line port's connections may hold together. */
const LINE_BUDGET_SHARE = 0.5;
/** Why a burst was refused when the in-flight budget had no room (the HTTP routes' 503 text). */
const BUDGET_FULL = 'Too many bytes in flight; retry later';
/** Why a burst was refused when no worker could take it (the pool's 503 text). */
const QUEUE_FULL = 'Too many requests queued; retry later';
const LF = 0x0a;

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
  /** How long a connection may wait for room before its lines are refused (default THROTTLE_AFTER_MS). */
  readonly throttleAfterMs?: number;
}): Promise<LineServer> {
  const connections = new Set<LineConnection>();
  // Answers refused bursts exactly as the workers' decoder answers accepted ones; it never stores.
  const refuser = createLinePortDecoder(
    () => {
      throw new Error('a refused burst stores nothing');
    },
    { build: strataBuildInfo(PACKAGE_VERSION) },
  );
  const throttleLog = new ThrottleLog();
  const gate = new LineGate(options.budget, Math.max(1, options.pool.shards.length));
  // Half-open: a client may send its lines and FIN, then read the replies (nc -q1, scripts).
  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    let sniffed = false;
    socket.once('data', (first: Buffer) => {
      sniffed = true;
      const b = first[0]!;
      if (b >= 0x41 && b <= 0x5a) relayToHttp(socket, first, options.httpPort);
      else {
        const conn = new LineConnection(socket, options.pool, gate, refuser, throttleLog, options.throttleAfterMs ?? THROTTLE_AFTER_MS, () => connections.delete(conn));
        connections.add(conn);
        conn.receive(first);
      }
    });
    socket.once('end', () => {
      // FIN before any byte: nothing to answer.
      if (!sniffed) socket.end();
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

/** Refusals are logged at most once a second for the whole port (a flood refuses many bursts). */
class ThrottleLog {
  private bursts = 0;
  private bytes = 0;
  private lastMs = 0;

  note(bytes: number, reason: string): void {
    this.bursts++;
    this.bytes += bytes;
    const now = Date.now();
    if (now - this.lastMs < 1000) return;
    log({ level: 'warn', event: 'telnet.throttled', bursts: this.bursts, bytes: this.bytes, reason });
    this.bursts = 0;
    this.bytes = 0;
    this.lastMs = now;
  }
}

/**
 * What the line port as a whole may hold, and who is next. Its connections together reserve at
 * most LINE_BUDGET_SHARE of the in-flight budget (a socket read larger than the room left is
 * reserved in part, the rest waits) and run at most one worker task per worker thread, so HTTP
 * requests still find budget and queue room during a flood. Connections that cannot go on wait
 * in FIFO order: only the first waiter takes budget or a task, and a connection that gets data
 * while others wait queues behind them. Waiters are woken when the port releases something, and
 * every RETRY_MS (the budget is also released by HTTP requests, which do not tell the port).
 */
class LineGate {
  private bytes = 0;
  private tasks = 0;
  /** Blocked connections, in the order they blocked. */
  private readonly waiters = new Set<LineConnection>();
  private ticker: NodeJS.Timeout | undefined;
  private wakeScheduled = false;

  constructor(
    private readonly budget: InflightBudget,
    private readonly maxTasks: number,
  ) {}

  /** True when `conn` may take budget or a task now: nobody waits, or it waits first. */
  isNext(conn: LineConnection): boolean {
    if (this.waiters.size === 0) return true;
    return this.waiters.values().next().value === conn;
  }

  /**
   * Reserves as much of `bytes` as the port's share leaves room for (at least 1 byte of share, so
   * a tiny budget still moves); returns how many (0 when the share or the budget is full).
   */
  reserveUpTo(bytes: number): number {
    const share = Math.max(1, Math.floor(this.budget.limitBytes * LINE_BUDGET_SHARE));
    const n = Math.min(bytes, share - this.bytes);
    if (n <= 0 || !this.budget.tryReserve(n)) return 0;
    this.bytes += n;
    return n;
  }

  release(bytes: number): void {
    if (bytes === 0) return;
    this.budget.release(bytes);
    this.bytes -= bytes;
    this.wake();
  }

  tryTask(): boolean {
    if (this.tasks >= this.maxTasks) return false;
    this.tasks++;
    return true;
  }

  endTask(): void {
    this.tasks--;
    this.wake();
  }

  /** Adds `conn` to the waiters (keeping its place if it already waits). */
  wait(conn: LineConnection): void {
    this.waiters.add(conn);
    this.ticker ??= setInterval(() => this.tick(), RETRY_MS);
  }

  leave(conn: LineConnection): void {
    this.waiters.delete(conn);
    if (this.waiters.size === 0 && this.ticker !== undefined) {
      clearInterval(this.ticker);
      this.ticker = undefined;
    }
  }

  private wake(): void {
    if (this.wakeScheduled || this.waiters.size === 0) return;
    this.wakeScheduled = true;
    setImmediate(() => {
      this.wakeScheduled = false;
      this.tick();
    });
  }

  /** Lets every waiter try again in order (the first takes what is free; the others check how long they have waited). */
  private tick(): void {
    for (const conn of [...this.waiters]) conn.pump();
  }
}

/** Bytes assembled for one worker task and not yet accepted by the pool. */
interface Burst {
  /** Transferred to the worker on acceptance (then detached). */
  readonly body: ArrayBuffer;
  readonly length: number;
  /** Budget held for it (its bytes, less the unreserved tail of the previous burst in front). */
  readonly reservedBytes: number;
  /** The unterminated end to keep if the worker fails the burst (as the decoder would return it). */
  readonly fallbackTail: Buffer | undefined;
}

class LineConnection {
  /** The unterminated last line of the previous burst; goes in front of the next one. */
  private tail: Buffer | undefined;
  /** Bytes read, reserved in the budget, not yet in a burst. */
  private reserved: Buffer[] = [];
  private reservedBytes = 0;
  /** Bytes read while the port could not reserve them (reading is paused while there are any). */
  private unreserved: Buffer[] = [];
  /** The burst handed (or to be handed) to the pool. */
  private burst: Burst | undefined;
  private inFlight = false;
  /** Since when this connection has been waiting for room (undefined: not waiting). */
  private blockedSince: number | undefined;
  private coalesceTimer: NodeJS.Timeout | undefined;
  /** The client sent FIN: answer what is complete, then end our side. */
  private ended = false;
  private closed = false;

  constructor(
    private readonly socket: net.Socket,
    private readonly pool: WorkerPool,
    private readonly gate: LineGate,
    private readonly refuser: TelnetDecoder,
    private readonly throttleLog: ThrottleLog,
    private readonly throttleAfterMs: number,
    private readonly onClose: () => void,
  ) {
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    // An unterminated last line at FIN is dropped, as the line-based servers' framers do.
    socket.on('end', () => {
      this.ended = true;
      this.pump();
    });
    socket.on('drain', () => this.updateReading());
    socket.on('close', () => {
      this.dispose();
      this.onClose();
    });
  }

  get busy(): boolean {
    return this.inFlight || this.burst !== undefined || this.reserved.length > 0 || this.unreserved.length > 0;
  }

  receive(chunk: Buffer): void {
    if (this.closed) return;
    this.unreserved.push(chunk);
    if (this.gate.isNext(this)) this.reserveWaiting();
    this.updateReading();
    if (this.inFlight) return; // its completion pumps
    if (this.reservedBytes >= BURST_BYTES || this.unreserved.length > 0) this.pump();
    else this.coalesceTimer ??= setTimeout(() => this.pump(), COALESCE_MS);
  }

  destroy(): void {
    this.socket.destroy();
  }

  /**
   * Moves bytes along: reserve what waits for budget, hand a burst to the pool, or wait in the
   * gate (refusing what this connection holds once it has waited throttleAfterMs); at FIN with
   * nothing left, end our side.
   */
  pump(): void {
    if (this.coalesceTimer !== undefined) {
      clearTimeout(this.coalesceTimer);
      this.coalesceTimer = undefined;
    }
    if (this.closed || this.inFlight) return;
    if (this.gate.isNext(this)) {
      this.reserveWaiting();
      if (this.burst === undefined && this.reservedBytes > 0) this.burst = this.assemble();
      if (this.burst !== undefined && this.gate.tryTask()) {
        this.gate.leave(this);
        this.dispatch(this.burst);
        return;
      }
    }
    if (this.burst !== undefined || this.reservedBytes > 0 || this.unreserved.length > 0) {
      this.blocked(this.unreserved.length > 0 ? BUDGET_FULL : QUEUE_FULL);
      return;
    }
    this.gate.leave(this);
    this.blockedSince = undefined;
    this.updateReading();
    if (this.ended && !this.socket.writableEnded) this.socket.end();
  }

  /** Moves bytes read into the reserved ones, in order, as far as the gate gives budget. */
  private reserveWaiting(): void {
    while (this.unreserved.length > 0) {
      const chunk = this.unreserved[0]!;
      const n = this.gate.reserveUpTo(chunk.length);
      if (n === 0) return;
      if (n === chunk.length) this.unreserved.shift();
      else this.unreserved[0] = chunk.subarray(n);
      this.reserved.push(n === chunk.length ? chunk : chunk.subarray(0, n));
      this.reservedBytes += n;
    }
  }

  /** The tail and the reserved bytes as one transferable burst. */
  private assemble(): Burst {
    const parts = this.tail ? [this.tail, ...this.reserved] : this.reserved;
    let length = 0;
    for (const p of parts) length += p.length;
    const body = new ArrayBuffer(length);
    const view = new Uint8Array(body);
    let at = 0;
    for (const p of parts) {
      view.set(p, at);
      at += p.length;
    }
    const burst: Burst = { body, length, reservedBytes: this.reservedBytes, fallbackTail: unterminatedTail(view) };
    this.tail = undefined;
    this.reserved = [];
    this.reservedBytes = 0;
    return burst;
  }

  /** Runs `burst` on a worker (the caller took a task from the gate). */
  private dispatch(burst: Burst): void {
    this.inFlight = true;
    this.pool.run({ kind: 'telnet', body: burst.body, bodyBytes: burst.length }, burst.body).then(
      (result) => {
        this.inFlight = false;
        this.burst = undefined;
        this.blockedSince = undefined;
        this.gate.release(burst.reservedBytes);
        this.gate.endTask();
        if (result.ok && 'replies' in result) this.answer(result);
        else {
          const messages = result.ok ? ['unexpected reply'] : result.messages;
          log({ level: 'error', event: 'telnet.burst-failed', messages });
          this.failed(burst, messages.join('; '));
        }
        this.pump();
      },
      (err: unknown) => {
        this.inFlight = false;
        this.gate.endTask();
        // Refused before the transfer (the body is intact): wait for room, then throttle.
        const refused = err instanceof ServiceError && (err.code === ServiceErrorCode.Busy || err.code === ServiceErrorCode.ShuttingDown);
        if (!this.closed && refused && burst.body.byteLength === burst.length) {
          if (err.code === ServiceErrorCode.ShuttingDown) this.refuseAll(err.message);
          else this.blocked(err.message);
          return;
        }
        this.burst = undefined;
        this.gate.release(burst.reservedBytes);
        if (this.closed) return;
        log({ level: 'error', event: 'telnet.burst-failed', message: (err as Error).message });
        this.failed(burst, (err as Error).message);
        this.pump();
      },
    );
  }

  private answer(result: TelnetReply): void {
    this.write(result.replies);
    if (result.close) {
      this.socket.end();
      this.dispose();
      return;
    }
    if (result.tail.byteLength > 0) this.tail = Buffer.from(result.tail);
  }

  /** A burst the worker failed (an engine or internal error): its lines may be partly stored. */
  private failed(burst: Burst, message: string): void {
    this.write(`error: ${message}\n`);
    this.tail = burst.fallbackTail;
  }

  /** No room for this connection's bytes: wait in the gate; refuse once it has waited too long. */
  private blocked(reason: string): void {
    const now = Date.now();
    this.blockedSince ??= now;
    if (now - this.blockedSince >= this.throttleAfterMs) {
      this.refuseAll(reason);
      return;
    }
    this.gate.wait(this);
    this.updateReading();
  }

  /**
   * Refuses everything this connection holds, in stream order: nothing of it is stored; its
   * point-storing lines get "<command>: Please throttle writes: <reason>", other commands their
   * usual answer. Reading resumes, so the client learns at once and may slow down.
   */
  private refuseAll(reason: string): void {
    const parts: Buffer[] = [];
    if (this.burst !== undefined) {
      parts.push(Buffer.from(this.burst.body, 0, this.burst.length));
      this.gate.release(this.burst.reservedBytes);
      this.burst = undefined;
    } else if (this.tail !== undefined) parts.push(this.tail);
    parts.push(...this.reserved, ...this.unreserved);
    this.gate.release(this.reservedBytes);
    this.gate.leave(this);
    this.tail = undefined;
    this.reserved = [];
    this.reservedBytes = 0;
    this.unreserved = [];
    this.blockedSince = undefined;
    const bytes = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
    const out = this.refuser.refuse(bytes, `Please throttle writes: ${reason}`);
    this.throttleLog.note(bytes.length, reason);
    this.write(out.replies);
    if (out.close) {
      this.socket.end();
      this.dispose();
      return;
    }
    if (out.tail.length > 0) this.tail = Buffer.from(out.tail);
    this.pump();
  }

  private write(text: string): void {
    if (text.length > 0 && !this.closed && !this.socket.writableEnded) this.socket.write(text);
  }

  /** Reads only while nothing waits for budget, no full burst waits, and the client reads its replies. */
  private updateReading(): void {
    if (this.closed) return;
    const read = this.unreserved.length === 0 && this.reservedBytes < BURST_BYTES && this.socket.writableLength < MAX_REPLY_BACKLOG_BYTES;
    if (read && this.socket.isPaused()) this.socket.resume();
    else if (!read && !this.socket.isPaused()) this.socket.pause();
  }

  /** Stops work on this connection and returns its budget (a burst in a worker returns its own). */
  private dispose(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.coalesceTimer !== undefined) clearTimeout(this.coalesceTimer);
    this.coalesceTimer = undefined;
    this.gate.leave(this);
    this.gate.release(this.reservedBytes);
    if (this.burst !== undefined && !this.inFlight) this.gate.release(this.burst.reservedBytes);
    this.burst = undefined;
    this.reserved = [];
    this.reservedBytes = 0;
    this.unreserved = [];
    this.tail = undefined;
  }
}

/**
 * The bytes after the last "\n" of `burst`, copied, cut to DEFAULT_MAX_LINE_BYTES + 1 as the
 * decoder cuts its tail (an over-long line is still known to be too long when it ends).
 */
function unterminatedTail(burst: Uint8Array): Buffer | undefined {
  const start = burst.lastIndexOf(LF) + 1;
  if (start >= burst.length) return undefined;
  return Buffer.from(burst.subarray(start, Math.min(burst.length, start + DEFAULT_MAX_LINE_BYTES + 1)));
}
