// Sends pre-built requests over `concurrency` keep-alive `node:net` connections, one request in
// flight per connection. Closed loop (default): each connection sends its next request as soon as
// the previous response ends; latency = write to response end. Open loop (`ratePointsPerS`): request
// i is due at start + (points before it) / rate; a due request goes out on the first free
// connection, and its latency is measured from the time it was due, so waiting for a connection
// counts (coordinated omission corrected). Requests are never retried.
import * as net from 'node:net';
import { ResponseParser, type ParsedResponse } from './http.js';

export interface LoadPlan {
  readonly host: string;
  readonly port: number;
  readonly requests: readonly Buffer[];
  readonly pointsPerRequest: Uint32Array;
  readonly concurrency: number;
  /** Open-loop offered load in points/s; undefined = closed loop. */
  readonly ratePointsPerS?: number | undefined;
}

export interface LoadOutcome {
  /** First send to last response, ms. */
  readonly wallMs: number;
  /** Points in 2xx responses. */
  readonly okPoints: number;
  readonly okRequests: number;
  /** Non-2xx responses by status. */
  readonly statusCounts: Record<string, number>;
  /** Requests that got no response (connection error or close). */
  readonly transportErrors: number;
  /** First few non-2xx bodies / transport error messages, for the report. */
  readonly errorSamples: readonly string[];
  /** Latency of every answered request, ms, in completion order (NaN for transport errors). */
  readonly latenciesMs: Float64Array;
  /** Bytes written. */
  readonly bytesSent: number;
  /** Connections opened (concurrency + reconnects). */
  readonly connections: number;
}

interface Conn {
  socket: net.Socket;
  parser: ResponseParser;
  current: number; // request index in flight, -1 when idle
  startedAt: number; // latency origin of the current request
  ready: boolean;
}

export function runLoad(plan: LoadPlan): Promise<LoadOutcome> {
  const n = plan.requests.length;
  const latencies = new Float64Array(n).fill(NaN);
  const statusCounts: Record<string, number> = {};
  const errorSamples: string[] = [];
  const openLoop = plan.ratePointsPerS !== undefined;
  // Due time of each request, ms after start (open loop only).
  const due = new Float64Array(n);
  if (openLoop) {
    let before = 0;
    for (let i = 0; i < n; i++) {
      due[i] = (before / plan.ratePointsPerS!) * 1000;
      before += plan.pointsPerRequest[i]!;
    }
  }

  let nextIndex = 0;
  let done = 0;
  let okPoints = 0;
  let okRequests = 0;
  let transportErrors = 0;
  let bytesSent = 0;
  let connections = 0;
  let connectFailures = 0;
  let t0 = 0;
  let tEnd = 0;
  let timer: NodeJS.Timeout | undefined;
  let finished = false;
  const conns: Conn[] = [];

  return new Promise((resolve) => {
    const sample = (s: string): void => {
      if (errorSamples.length < 5) errorSamples.push(s.slice(0, 500));
    };
    const complete = (): void => {
      done++;
      if (done === n) finish();
    };
    const finish = (): void => {
      if (finished) return;
      finished = true;
      tEnd = performance.now();
      if (timer !== undefined) clearTimeout(timer);
      for (const c of conns) c.socket.destroy();
      resolve({
        wallMs: tEnd - t0,
        okPoints,
        okRequests,
        statusCounts,
        transportErrors,
        errorSamples,
        latenciesMs: latencies,
        bytesSent,
        connections,
      });
    };

    const send = (c: Conn, i: number, origin: number): void => {
      c.current = i;
      c.startedAt = origin;
      const req = plan.requests[i]!;
      bytesSent += req.length;
      c.socket.write(req);
    };

    /** Gives an idle connection its next request, if one is due. */
    const feed = (c: Conn): void => {
      if (finished || !c.ready || c.current >= 0 || nextIndex >= n) return;
      if (!openLoop) {
        send(c, nextIndex++, performance.now());
        return;
      }
      const now = performance.now();
      if (t0 + due[nextIndex]! <= now) {
        const i = nextIndex++;
        send(c, i, t0 + due[i]!);
      }
    };

    /** Open loop: sends everything due, then sleeps until the next due time. */
    const dispatch = (): void => {
      timer = undefined;
      if (finished) return;
      for (const c of conns) {
        if (nextIndex >= n) break;
        feed(c);
      }
      if (nextIndex < n && timer === undefined) {
        const wait = t0 + due[nextIndex]! - performance.now();
        // When behind, the next response's feed() sends; a timer then would only spin.
        if (wait > 0) timer = setTimeout(dispatch, Math.max(0, wait - 0.5));
        else if (conns.some((c) => c.ready && c.current < 0)) timer = setTimeout(dispatch, 0);
      }
    };

    const onResponse = (c: Conn, r: ParsedResponse): void => {
      const i = c.current;
      if (i < 0) {
        sample(`unsolicited response ${r.status}`);
        return;
      }
      const now = performance.now();
      latencies[i] = now - c.startedAt;
      c.current = -1;
      if (r.status >= 200 && r.status < 300) {
        okRequests++;
        okPoints += plan.pointsPerRequest[i]!;
      } else {
        statusCounts[r.status] = (statusCounts[r.status] ?? 0) + 1;
        sample(`HTTP ${r.status}: ${r.body.toString('utf8')}`);
      }
      complete();
      if (r.close) {
        reconnect(c);
        return;
      }
      feed(c);
      if (openLoop && timer === undefined) dispatch();
    };

    const open = (c: Conn): void => {
      connections++;
      c.ready = false;
      c.parser.reset();
      const socket = net.connect({ host: plan.host, port: plan.port, noDelay: true });
      c.socket = socket;
      socket.on('connect', () => {
        c.ready = true;
        connectFailures = 0;
        if (t0 === 0) return; // the first round of connects is awaited before the clock starts
        feed(c);
        if (openLoop && timer === undefined) dispatch();
      });
      socket.on('data', (chunk: Buffer) => {
        if (c.socket !== socket) return;
        try {
          c.parser.push(chunk);
        } catch (err) {
          sample(`parse error: ${(err as Error).message}`);
          fail(c, socket);
        }
      });
      socket.on('end', () => {
        if (c.socket === socket) c.parser.end();
      });
      socket.on('error', (err) => {
        sample(`socket error: ${err.message}`);
      });
      socket.on('close', () => fail(c, socket));
    };

    /** The connection went away: its request (if any) failed; open a new one unless done. */
    const fail = (c: Conn, socket: net.Socket): void => {
      if (c.socket !== socket) return; // an old socket of this slot
      socket.destroy();
      const wasReady = c.ready;
      c.ready = false;
      if (c.current >= 0) {
        transportErrors++;
        sample(`request ${c.current}: connection closed before the response`);
        c.current = -1;
        complete();
      }
      if (finished || t0 === 0) return;
      if (!wasReady && ++connectFailures > 3 * plan.concurrency) {
        // The server is gone: every request not yet answered fails.
        sample(`giving up after ${connectFailures} failed connects`);
        transportErrors += n - done;
        finish();
        return;
      }
      if (nextIndex < n) open(c);
    };

    const reconnect = (c: Conn): void => {
      const old = c.socket;
      c.socket = undefined as unknown as net.Socket; // detach so fail() ignores the old socket
      old.destroy();
      if (!finished && nextIndex < n) open(c);
    };

    if (n === 0) {
      t0 = performance.now();
      finish();
      return;
    }
    for (let k = 0; k < plan.concurrency; k++) {
      const c: Conn = {
        socket: undefined as unknown as net.Socket,
        parser: undefined as unknown as ResponseParser,
        current: -1,
        startedAt: 0,
        ready: false,
      };
      c.parser = new ResponseParser((r) => onResponse(c, r));
      conns.push(c);
      open(c);
    }
    // Start the clock once every connection is up (or failed), so connects are not timed.
    const waitConnected = (): void => {
      if (conns.every((c) => c.ready || c.socket.destroyed)) {
        t0 = performance.now();
        if (openLoop) dispatch();
        else for (const c of conns) feed(c);
        if (conns.every((c) => !c.ready)) {
          sample(`cannot connect to ${plan.host}:${plan.port}`);
          transportErrors += n;
          finish();
        }
        return;
      }
      setTimeout(waitConnected, 1);
    };
    waitConnected();
  });
}

/** Nearest-rank percentile of ascending `sorted`, q in (0, 1]. */
export function percentile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.max(1, Math.ceil(q * sorted.length));
  return sorted[Math.min(sorted.length, rank) - 1]!;
}

export interface LatencySummary {
  readonly count: number;
  readonly meanMs: number;
  readonly p50Ms: number;
  readonly p90Ms: number;
  readonly p99Ms: number;
  readonly p999Ms: number;
  readonly maxMs: number;
}

export function summarizeLatency(latencies: Float64Array): LatencySummary {
  const answered = latencies.filter((x) => !Number.isNaN(x)).sort();
  let sum = 0;
  for (const x of answered) sum += x;
  return {
    count: answered.length,
    meanMs: answered.length > 0 ? sum / answered.length : NaN,
    p50Ms: percentile(answered, 0.5),
    p90Ms: percentile(answered, 0.9),
    p99Ms: percentile(answered, 0.99),
    p999Ms: percentile(answered, 0.999),
    maxMs: answered.length > 0 ? answered[answered.length - 1]! : NaN,
  };
}
