// Shared parts of the hostile-client tests (test/reliability/hostile-*.test.ts) and of their long
// version (hostile-cli.ts): the well-behaved client that keeps writing one small point at a time
// while an attack runs and reports its latency, raw-socket sessions that record what the server
// sent and when it closed, and bombs. Imports nothing from vitest, so the CLI can use it too.
import * as http from 'node:http';
import * as net from 'node:net';
import * as zlib from 'node:zlib';
import { processIsAlive } from '../../engine/index.js';

/** The bound every well-behaved request must be answered within, whatever the attack. */
export const ANSWER_BOUND_MS = 5000;

export interface LatencyReport {
  /** Requests answered with the expected status. */
  readonly answered: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  /** One line per request that was not answered as expected within ANSWER_BOUND_MS. */
  readonly failures: readonly string[];
  /** Timestamps (ms) of the points whose request was answered 204: they must be stored. */
  readonly storedTimestamps: readonly number[];
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

export function formatLatency(r: LatencyReport): string {
  return `${r.answered} answered, p50 ${r.p50Ms} ms, p99 ${r.p99Ms} ms, max ${r.maxMs} ms, ${r.failures.length} failures`;
}

/** One HTTP request on a fresh connection; rejects when no complete answer came within `timeoutMs`. */
export function httpRequest(
  port: number,
  options: { method?: string; path: string; headers?: Record<string, string | number>; body?: string | Buffer; timeoutMs?: number },
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method: options.method ?? 'GET', path: options.path, headers: { ...(options.headers ?? {}) }, agent: false }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (d: Buffer) => parts.push(d));
      res.on('end', () => {
        clearTimeout(timer);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts) });
      });
      res.on('error', reject);
    });
    const timer = setTimeout(() => {
      req.destroy(new Error(`no answer within ${options.timeoutMs ?? ANSWER_BOUND_MS} ms`));
    }, options.timeoutMs ?? ANSWER_BOUND_MS);
    req.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    if (options.body !== undefined) req.setHeader('Content-Length', Buffer.byteLength(options.body));
    req.end(options.body);
  });
}

/** A client that repeats one timed exchange until stopped and reports its latencies and failures. */
abstract class TimedClient {
  protected readonly latencies: number[] = [];
  protected readonly failures: string[] = [];
  protected readonly stored: number[] = [];
  protected running = false;
  private loop: Promise<void> | undefined;

  start(): this {
    this.running = true;
    this.loop = this.run();
    return this;
  }

  async stop(): Promise<LatencyReport> {
    this.running = false;
    await this.loop;
    const sorted = [...this.latencies].sort((a, b) => a - b);
    return { answered: sorted.length, p50Ms: percentile(sorted, 50), p99Ms: percentile(sorted, 99), maxMs: sorted.at(-1) ?? 0, failures: this.failures, storedTimestamps: this.stored };
  }

  protected abstract run(): Promise<void>;
}

/**
 * A well-behaved KairosDB client: one point per request (metric `metric`, timestamps counting up
 * from `firstTimestamp`), each on a fresh connection, `pauseMs` apart, until stopped. Every
 * request must be answered 204 within ANSWER_BOUND_MS; anything else is a failure.
 */
export class WellBehavedClient extends TimedClient {
  private next: number;

  constructor(
    private readonly httpPort: number,
    readonly metric = 'hostile.good',
    firstTimestamp = 1_600_000_000_000,
    private readonly pauseMs = 20,
  ) {
    super();
    this.next = firstTimestamp;
  }

  protected async run(): Promise<void> {
    while (this.running) {
      const timestamp = this.next++;
      const body = JSON.stringify([{ name: this.metric, timestamp, value: 1, tags: { client: 'good' } }]);
      const started = performance.now();
      try {
        const res = await httpRequest(this.httpPort, { method: 'POST', path: '/api/v1/datapoints', body, headers: { 'Content-Type': 'application/json' } });
        const ms = Math.round(performance.now() - started);
        if (res.status === 204 && ms <= ANSWER_BOUND_MS) {
          this.latencies.push(ms);
          this.stored.push(timestamp);
        } else this.failures.push(`status ${res.status} after ${ms} ms: ${res.body.toString('utf8').slice(0, 200)}`);
      } catch (err) {
        this.failures.push(`${(err as Error).message} after ${Math.round(performance.now() - started)} ms`);
      }
      if (this.pauseMs > 0) await sleep(this.pauseMs);
    }
  }
}

/** Points stored for `metric` (KairosDB query over all time, no aggregation). */
export async function countPoints(httpPort: number, metric: string): Promise<number> {
  const body = JSON.stringify({ start_absolute: 0, metrics: [{ name: metric }] });
  const res = await httpRequest(httpPort, { method: 'POST', path: '/api/v1/datapoints/query', body, timeoutMs: 30_000 });
  if (res.status !== 200) throw new Error(`query for ${metric} answered ${res.status}: ${res.body.toString('utf8')}`);
  const parsed = JSON.parse(res.body.toString('utf8')) as { queries: { results: { values: unknown[] }[] }[] };
  return parsed.queries[0]!.results.reduce((n, r) => n + r.values.length, 0);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** True while the process `pid` exists (signal 0 probes without signalling). */
export function processAlive(pid: number | undefined): boolean {
  return pid !== undefined && processIsAlive(pid);
}

/** A raw connection that records what the server sent and when (ms after connecting) it closed. */
export class RawSession {
  readonly socket: net.Socket;
  readonly connected: Promise<void>;
  readonly closed: Promise<void>;
  received = Buffer.alloc(0);
  /** ms from connect to the server's FIN or reset; undefined while open. */
  closedAfterMs: number | undefined;
  /** True when we closed it ourselves (destroy). */
  closedByUs = false;
  private readonly openedAt = performance.now();

  constructor(port: number) {
    this.socket = net.connect(port, '127.0.0.1');
    this.socket.setNoDelay(true);
    this.connected = new Promise((resolve) => this.socket.once('connect', () => resolve()));
    this.socket.on('data', (d: Buffer) => (this.received = Buffer.concat([this.received, d])));
    this.socket.on('error', () => undefined);
    this.closed = new Promise((resolve) =>
      this.socket.once('close', () => {
        if (!this.closedByUs) this.closedAfterMs = Math.round(performance.now() - this.openedAt);
        resolve();
      }),
    );
  }

  get text(): string {
    return this.received.toString('latin1');
  }

  /** Writes unless the connection is gone; false if it was. */
  write(data: string | Buffer): boolean {
    if (this.socket.destroyed || !this.socket.writable) return false;
    this.socket.write(data);
    return true;
  }

  destroy(): void {
    if (!this.socket.destroyed) {
      this.closedByUs = this.closedAfterMs === undefined;
      this.socket.destroy();
    }
  }

  /** Resolves once `predicate(text)` holds or the connection closed or `timeoutMs` passed. */
  async waitFor(predicate: (text: string) => boolean, timeoutMs: number): Promise<boolean> {
    const deadline = performance.now() + timeoutMs;
    while (!predicate(this.text)) {
      if (this.socket.destroyed || performance.now() > deadline) return predicate(this.text);
      await sleep(10);
    }
    return true;
  }
}

/** The HTTP answers in `raw` (status and body), in order; bodies read by Content-Length. */
export function parseResponses(raw: Buffer): { status: number; headers: Map<string, string>; body: string }[] {
  const out: { status: number; headers: Map<string, string>; body: string }[] = [];
  let at = 0;
  while (at < raw.length) {
    const headEnd = raw.indexOf('\r\n\r\n', at);
    if (headEnd < 0) break;
    const lines = raw.subarray(at, headEnd).toString('latin1').split('\r\n');
    const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(lines[0] ?? '')?.[1] ?? 0);
    const headers = new Map<string, string>();
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(':');
      headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
    }
    const length = Number(headers.get('content-length') ?? 0);
    const bodyStart = headEnd + 4;
    out.push({ status, headers, body: raw.subarray(bodyStart, bodyStart + length).toString('utf8') });
    at = bodyStart + length;
  }
  return out;
}

export type Encoding = 'gzip' | 'deflate' | 'deflate-raw';

/** `bytes` compressed as the encoding (deflate-raw: a raw stream sent as `Content-Encoding: deflate`). */
export function encode(bytes: Buffer, encoding: Encoding): Buffer {
  const options = { level: 9 };
  return encoding === 'gzip' ? zlib.gzipSync(bytes, options) : encoding === 'deflate' ? zlib.deflateSync(bytes, options) : zlib.deflateRawSync(bytes, options);
}

/** The Content-Encoding header value for an encoding. */
export function contentEncodingOf(encoding: Encoding): string {
  return encoding === 'gzip' ? 'gzip' : 'deflate';
}

/**
 * A document of `inflatedBytes` that starts like a valid body of the protocol and goes on with
 * valid, repeated items — so a server that decodes while it inflates finds nothing wrong before the
 * inflated limit — made of `unit` repeated (it compresses ~1000:1).
 */
export function repeatedDocument(prefix: string, unit: string, inflatedBytes: number): Buffer {
  const count = Math.ceil(inflatedBytes / unit.length);
  return Buffer.from(prefix + unit.repeat(count));
}

/** The first line of the line port's answer to `version` (OpenTSDB's). */
export const VERSION_LINE = /^net\.opentsdb\.tools \S+ built at revision/m;

/**
 * A well-behaved line-port client on one connection: every `pauseMs` it writes one `put` line
 * (metric `metric`, seconds counting up from `firstSecond`) and a `version` line, and times the
 * round trip to the version answer (two lines). Any reply other than the version's two lines, or
 * a round trip over ANSWER_BOUND_MS, is a failure; every put before an answered version is stored.
 */
export class WellBehavedLineClient extends TimedClient {
  private next: number;

  constructor(
    private readonly linePort: number,
    readonly metric = 'hostile.line.good',
    firstSecond = 1_600_000_000,
    private readonly pauseMs = 20,
  ) {
    super();
    this.next = firstSecond;
  }

  protected async run(): Promise<void> {
    const s = new RawSession(this.linePort);
    await s.connected;
    let seen = 0;
    while (this.running) {
      const second = this.next++;
      const started = performance.now();
      s.write(`put ${this.metric} ${second} 1 client=good\nversion\n`);
      const ok = await s.waitFor((t) => t.split('\n').length - 1 >= seen + 2, ANSWER_BOUND_MS);
      const ms = Math.round(performance.now() - started);
      const lines = s.text.split('\n').slice(seen, seen + 2);
      seen += 2;
      if (!ok) {
        this.failures.push(`no version answer within ${ANSWER_BOUND_MS} ms (connection ${s.socket.destroyed ? 'closed' : 'open'})`);
        break;
      }
      if (!VERSION_LINE.test(lines[0] ?? '') || !(lines[1] ?? '').startsWith('Built on ')) this.failures.push(`unexpected reply ${JSON.stringify(lines)}`);
      else {
        this.latencies.push(ms);
        this.stored.push(second * 1000);
      }
      if (this.pauseMs > 0) await sleep(this.pauseMs);
    }
    s.destroy();
  }
}

/** `bytes` of deterministic pseudo-random bytes (xorshift32 from `seed`). */
export function garbage(bytes: number, seed: number): Buffer {
  const out = Buffer.alloc(bytes);
  let x = seed | 1;
  for (let i = 0; i < bytes; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}
