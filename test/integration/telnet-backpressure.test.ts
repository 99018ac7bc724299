// The line port under a flood, over real sockets: a server with one worker, a one-task queue, a
// small in-flight budget and a 20 ms throttle delay is flooded with put lines on more connections
// than it can serve in turn within that delay. It pushes back (TCP backpressure), serves connections in
// order, and refuses what waited too long with OpenTSDB's throttle line: every put line is
// either stored or answered "put: Please throttle writes: …" (never both, never neither); its
// memory stays bounded; and a well-behaved HTTP client is answered throughout.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request, startServer, type RunningServer } from '../helpers/server.js';

const CONNECTIONS = 200;
const LINES_PER_CONNECTION = 16_000;
const BASE_TS = 1_500_000_000;
const THROTTLE_SOURCE = String.raw`^put: Please throttle writes: (Too many bytes in flight; retry later|Too many requests queued; retry later)$`;

let server: RunningServer;
beforeAll(async () => {
  // A short throttle delay: 200 connections served in turn by one worker wait longer than that on
  // any machine, so part of the flood is refused (with the default 500 ms a fast machine keeps up).
  server = await startServer({ args: ['--threads', '1', '--max-inflight-bytes', String(16 * 1024 * 1024), '--max-queued-tasks', '1', '--line-throttle-ms', '20'] });
});
afterAll(async () => {
  expect(await server.stop()).toBe(0);
});

function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}

/**
 * The flooding clients, in a process of their own (so this process stays free to time the HTTP
 * client): each connection writes its put lines as fast as the server takes them (waiting for
 * 'drain'), half-closes, and reads every reply until the server closes. Prints, per connection,
 * [lines sent, replies, replies that are not a throttle line].
 */
const FLOOD_SCRIPT = `
const net = require('node:net');
const [port, conns, lines, base] = process.argv.slice(1).map(Number);
const throttle = new RegExp(${JSON.stringify(THROTTLE_SOURCE)});
const results = [];
let done = 0;
for (let c = 0; c < conns; c++) {
  let sent = 0, replies = 0, other = 0, partial = '';
  const s = net.connect(port, '127.0.0.1');
  const more = () => {
    while (sent < lines) {
      let chunk = '';
      for (let i = 0; i < 2000 && sent < lines; i++, sent++) chunk += 'put flood ' + (base + sent) + ' ' + sent + ' conn=c' + c + '\\n';
      if (!s.write(chunk)) return void s.once('drain', more);
    }
    s.end();
  };
  s.on('connect', more);
  s.on('data', (d) => {
    const parts = (partial + d.toString()).split('\\n');
    partial = parts.pop();
    for (const p of parts) { replies++; if (!throttle.test(p)) other++; }
  });
  s.on('error', (e) => { console.error(e); process.exit(1); });
  s.on('close', () => { results[c] = [sent, replies, other]; if (++done === conns) process.stdout.write(JSON.stringify(results)); });
}
`;

function flood(): Promise<[number, number, number][]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', FLOOD_SCRIPT, String(server.telnet), String(CONNECTIONS), String(LINES_PER_CONNECTION), String(BASE_TS)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out) as [number, number, number][]) : reject(new Error(`flood exited with ${code}`))));
  });
}

/** Points stored per `conn` tag value of metric "flood" (OpenTSDB /api/query, one count per series). */
async function storedPerConnection(): Promise<Map<string, number>> {
  const res = await request(server.http, { path: `/api/query?start=${BASE_TS - 1}&m=sum:0all-count:flood%7Bconn=*%7D` });
  expect(res.status).toBe(200);
  const counts = new Map<string, number>();
  for (const series of res.json() as { tags: { conn: string }; dps: Record<string, number> }[]) counts.set(series.tags.conn, Object.values(series.dps)[0]!);
  return counts;
}

async function storedCount(metric: string): Promise<number> {
  const res = await request(server.http, {
    method: 'POST',
    path: '/api/v1/datapoints/query',
    body: JSON.stringify({ start_absolute: 0, metrics: [{ name: metric, aggregators: [{ name: 'count', sampling: { value: 1000, unit: 'years' } }] }] }),
  });
  expect(res.status).toBe(200);
  return (res.json() as { queries: { sample_size: number }[] }).queries[0]!.sample_size;
}

describe('the line port under a flood', () => {
  it('throttles, stores every put it did not refuse, stays bounded and keeps answering HTTP', async () => {
    const rssBefore = rssBytes(server.child.pid!);
    let rssMax = rssBefore;
    const sampler = setInterval(() => (rssMax = Math.max(rssMax, rssBytes(server.child.pid!))), 50);

    // A well-behaved HTTP client during the flood: one point every 100 ms, retried on 503.
    const httpLatenciesMs: number[] = [];
    let httpStored = 0;
    let flooding = true;
    const httpClient = (async () => {
      for (let i = 0; flooding; i++) {
        const body = JSON.stringify({ metric: 'flood.http', timestamp: BASE_TS + i, value: i, tags: { host: 'http' } });
        for (let attempt = 0; attempt < 50; attempt++) {
          const started = Date.now();
          const res = await request(server.http, { method: 'POST', path: '/api/put', body, headers: { 'Content-Type': 'application/json' } });
          httpLatenciesMs.push(Date.now() - started);
          if (res.status === 204) {
            httpStored++;
            break;
          }
          expect(res.status).toBe(503);
          await new Promise((r) => setTimeout(r, 20));
        }
        const started = Date.now();
        expect((await request(server.http, { path: '/api/version' })).status).toBe(200);
        httpLatenciesMs.push(Date.now() - started);
        await new Promise((r) => setTimeout(r, 100));
      }
    })();

    const floodStarted = Date.now();
    const results = await flood();
    const floodMs = Date.now() - floodStarted;
    flooding = false;
    await httpClient;
    clearInterval(sampler);

    const stored = await storedPerConnection();
    let throttledTotal = 0;
    let sentTotal = 0;
    for (let c = 0; c < CONNECTIONS; c++) {
      const [sent, replies, notThrottle] = results[c]!;
      // Nothing but throttle lines comes back, one per refused put; the rest is stored.
      expect(notThrottle).toBe(0);
      expect(sent).toBe(LINES_PER_CONNECTION);
      expect((stored.get(`c${c}`) ?? 0) + replies).toBe(sent);
      throttledTotal += replies;
      sentTotal += sent;
    }
    console.log(
      `flood: ${sentTotal} put lines on ${CONNECTIONS} connections in ${floodMs} ms, ${throttledTotal} throttled, ` +
        `server RSS +${((rssMax - rssBefore) / 1048576).toFixed(1)} MiB, ${httpStored} HTTP puts, HTTP max ${Math.max(...httpLatenciesMs)} ms`,
    );
    expect(throttledTotal).toBeGreaterThan(0);
    expect(throttledTotal).toBeLessThan(sentTotal);

    expect(httpStored).toBeGreaterThan(3);
    expect(await storedCount('flood.http')).toBe(httpStored);
    expect(Math.max(...httpLatenciesMs)).toBeLessThan(2000);

    // Bounded: the line port holds at most its share of the in-flight budget plus one socket read
    // and one reply backlog per connection, not the flood's size (about 130 MB of put lines, most of it held in the kernel's socket buffers).
    expect(rssMax - rssBefore).toBeLessThan(400 * 1024 * 1024);
  }, 40_000);

  it('serves a plain session after the flood: lines, FIN, then every reply', async () => {
    // After the flood the server is idle: a plain session works as usual.
    const replies = await new Promise<string>((resolve, reject) => {
      let got = '';
      const s = net.connect(server.telnet, '127.0.0.1', () => s.end('put after.flood 1500000000 1 host=a\nversion\n'));
      s.on('data', (d: Buffer) => (got += d.toString()));
      s.on('error', reject);
      s.on('close', () => resolve(got));
    });
    expect(replies).toMatch(/^net\.opentsdb\.tools \S+ built at revision/);
    expect(await storedCount('after.flood')).toBe(1);
  });
});
