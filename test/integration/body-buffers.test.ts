// Recycled body buffers (src/pool/body-buffers.ts) against the real server: OpenTSDB and KairosDB
// bodies of many sizes (64 KB – 1.4 MB, plain and gzip), bodies that fail part-way, and uploads
// aborted mid-body, four at a time, so buffers go round main → worker → main many times. Every
// point reads back exactly; no byte of an earlier body is ever seen as part of a later one (a
// truncated body sent into the buffer of a longer one whose tail would complete it is refused,
// and the longer body's points never appear); the in-flight budget returns to zero.
import * as net from 'node:net';
import * as zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bodyCapacityFor } from '../../src/pool/body-buffers.js';
import { request, startServer, type RunningServer } from '../helpers/server.js';

let server: RunningServer;
beforeAll(async () => {
  // A budget a leaked reservation would soon exhaust (the bodies here reach 1.4 MB, four at once).
  server = await startServer({ args: ['--max-inflight-bytes', String(12 * 1024 * 1024)] });
});
afterAll(async () => {
  expect(await server.stop()).toBe(0);
});

const T0 = 1_700_000_000_000;

/** Deterministic values (not too compressible, so gzip bodies stay above the recycling minimum). */
function valueOf(metric: string, t: number): number {
  let h = t ^ metric.length;
  h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d);
  h = Math.imul(h ^ (h >>> 12), 0x297a2d39);
  return ((h ^ (h >>> 15)) >>> 0) % 1_000_000;
}

/** Points of `metric` at T0 + first … T0 + first + n − 1 ms, host tag from a few values. */
function openTsdbBody(metric: string, first: number, n: number): string {
  const parts: string[] = [];
  for (let i = first; i < first + n; i++) parts.push(`{"metric":"${metric}","timestamp":${T0 + i},"value":${valueOf(metric, T0 + i)},"tags":{"host":"h${i % 3}"}}`);
  return `[${parts.join(',')}]`;
}

function kairosBody(metric: string, first: number, n: number): string {
  const byHost: string[][] = [[], [], []];
  for (let i = first; i < first + n; i++) byHost[i % 3]!.push(`[${T0 + i},${valueOf(metric, T0 + i)}]`);
  return `[${byHost.map((dps, h) => `{"name":"${metric}","tags":{"host":"h${h}"},"datapoints":[${dps.join(',')}]}`).join(',')}]`;
}

interface Stored {
  /** metric → timestamps expected to be stored. */
  readonly points: Map<string, number[]>;
}

function expectStored(s: Stored, metric: string, first: number, n: number): void {
  const list = s.points.get(metric) ?? [];
  for (let i = first; i < first + n; i++) list.push(T0 + i);
  s.points.set(metric, list);
}

async function readBack(metric: string): Promise<[number, number][]> {
  const res = await request(server.http, {
    method: 'POST',
    path: '/api/v1/datapoints/query',
    body: JSON.stringify({ start_absolute: 0, metrics: [{ name: metric }] }),
  });
  expect(res.status, res.text().slice(0, 300)).toBe(200);
  const q = res.json() as { queries: { results: { values: [number, number][] }[] }[] };
  return q.queries[0]!.results.flatMap((r) => r.values).sort((a, b) => a[0] - b[0]);
}

/** Sends `head` + the first `sentBytes` of `body` on a raw socket, waits until the server has them, and goes away. */
async function abortedUpload(path: string, body: Buffer, sentBytes: number, extraHeaders = ''): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const s = net.connect(server.http, '127.0.0.1', () => {
      s.write(`POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}\r\n${extraHeaders}\r\n`);
      s.write(body.subarray(0, sentBytes), () => {
        setTimeout(() => {
          s.destroy();
          resolve();
        }, 30);
      });
    });
    s.on('error', reject);
  });
}

async function inflightBytes(): Promise<number> {
  const text = (await request(server.http, { path: '/metrics' })).text();
  const m = /^strata_inflight_body_bytes (\d+)/m.exec(text);
  return m ? Number(m[1]) : Number.NaN;
}

describe('recycled body buffers', () => {
  it('stores every point of many bodies of varying sizes exactly, with failing, gzip and aborted bodies in between', async () => {
    const s: Stored = { points: new Map() };
    const jobs: (() => Promise<void>)[] = [];
    let next = 0;
    // Sizes from ~70 KB to ~1.4 MB (OpenTSDB ~85 B/point, KairosDB ~25 B/point), in a shuffled order.
    const sizes = [900, 16_000, 2_400, 11_000, 5_000, 15_500, 1_200, 8_000, 13_000, 3_500, 16_500, 6_000];
    for (let round = 0; round < 3; round++) {
      for (const [k, n] of sizes.entries()) {
        const first = next;
        next += n + 7;
        switch ((k + round) % 6) {
          case 0: // OpenTSDB, plain
          case 3:
            jobs.push(async () => {
              const res = await request(server.http, { method: 'POST', path: '/api/put?details', body: openTsdbBody('bb.tsdb', first, n) });
              expect(res.status, res.text().slice(0, 200)).toBe(200);
              expect(res.json()).toEqual({ success: n, failed: 0, errors: [] });
              expectStored(s, 'bb.tsdb', first, n);
            });
            break;
          case 1: // KairosDB, plain, 3× the points for a similar size
            jobs.push(async () => {
              const res = await request(server.http, { method: 'POST', path: '/api/v1/datapoints', body: kairosBody('bb.kairos', first, 3 * n) });
              expect(res.status, res.text().slice(0, 200)).toBe(204);
              expectStored(s, 'bb.kairos', first, 3 * n);
            });
            next += 2 * n;
            break;
          case 2: // gzip, both protocols
            jobs.push(async () => {
              const tsdb = k % 2 === 0;
              const body = zlib.gzipSync(tsdb ? openTsdbBody('bb.gzip', first, n) : kairosBody('bb.gzip', first, n));
              const res = await request(server.http, { method: 'POST', path: tsdb ? '/api/put' : '/api/v1/datapoints', body, headers: { 'Content-Encoding': 'gzip' } });
              expect(res.status, res.text().slice(0, 200)).toBe(204);
              expectStored(s, 'bb.gzip', first, n);
            });
            break;
          case 4: // a body that fails part-way (syntax error in the middle): nothing stored
            jobs.push(async () => {
              const tsdb = k % 2 === 0;
              const good = tsdb ? openTsdbBody('bb.failed', first, n) : kairosBody('bb.failed', first, n);
              const mid = good.indexOf('}', good.length >> 3);
              const bad = `${good.slice(0, mid)}]${good.slice(mid + 1)}`;
              const res = await request(server.http, { method: 'POST', path: tsdb ? '/api/put' : '/api/v1/datapoints', body: bad });
              expect(res.status, res.text().slice(0, 200)).toBe(400);
              // …and a corrupt gzip body of the same size class.
              const gz = zlib.gzipSync(good);
              gz.fill(0x55, gz.length >> 1, (gz.length >> 1) + 64);
              const res2 = await request(server.http, { method: 'POST', path: tsdb ? '/api/put' : '/api/v1/datapoints', body: gz, headers: { 'Content-Encoding': 'gzip' } });
              expect(res2.status, res2.text().slice(0, 200)).toBe(400);
            });
            break;
          case 5: // uploads abandoned part-way (after a quarter: their buffers were taken whole)
            jobs.push(async () => {
              await abortedUpload('/api/put', Buffer.from(openTsdbBody('bb.aborted', first, n)), Math.floor(openTsdbBody('bb.aborted', first, n).length * 0.6));
              await abortedUpload('/api/v1/datapoints', Buffer.from(kairosBody('bb.aborted', first, n)), 20_000);
            });
            break;
        }
      }
    }
    // Four at a time, in order.
    for (let i = 0; i < jobs.length; i += 4) await Promise.all(jobs.slice(i, i + 4).map((j) => j()));

    for (const [metric, ts] of s.points) {
      const got = await readBack(metric);
      const want = ts.sort((a, b) => a - b).map((t): [number, number] => [t, valueOf(metric, t)]);
      expect(got.length, metric).toBe(want.length);
      expect(got, metric).toEqual(want);
    }
    expect(await readBack('bb.failed')).toEqual([]);
    expect(await readBack('bb.aborted')).toEqual([]);
    // Every reservation was released (aborts are noticed when the socket closes).
    for (let i = 0; i < 50 && (await inflightBytes()) !== 0; i++) await new Promise((r) => setTimeout(r, 100));
    expect(await inflightBytes()).toBe(0);
  });

  it('never lets a later, shorter body see the tail of an earlier one in its buffer', async () => {
    // Points of equal length, so a prefix of one document ends where a point of the other begins.
    const ts = (i: number): number => T0 + 5_000_000 + i;
    const point = (metric: string, i: number): string => `{"metric":"${metric}","timestamp":${ts(i)},"value":${100_000 + i},"tags":{"host":"h"}}`;
    const n = 9_000; // ~0.8 MB of OpenTSDB, ~0.2 MB of KairosDB
    const kept = n - 150;
    for (const [round, protocol] of (['opentsdb', 'kairosdb', 'opentsdb'] as const).entries()) {
      const leaked = `bb.leak${round}`;
      const short = `bb.shrt${round}`;
      let long: string;
      let prefix: string;
      if (protocol === 'opentsdb') {
        // The long body is refused whole (its first point is broken), so none of its points exist…
        const points = Array.from({ length: n }, (_, i) => point(leaked, i));
        points[0] = points[0]!.replace(/}}$/, '}]');
        long = `[${points.join(',')}]`;
        // …and the short body is the first points' worth of another metric, cut after a comma: read
        // on into the long body's bytes it would be a valid document of n points.
        prefix = `[${Array.from({ length: kept }, (_, i) => point(short, i)).join(',')},`;
      } else {
        // A syntax error in the long body's first datapoint; the short body, read on, would be one
        // valid metric object of n datapoints.
        const dps = Array.from({ length: n }, (_, i) => `[${ts(i)},${100_000 + i}]`);
        long = `[{"name":"${leaked}","tags":{"host":"h"},"datapoints":[${dps.join(',')}]}]`.replace('"datapoints":[[', '"datapoints":[{');
        prefix = `[{"name":"${short}","tags":{"host":"h"},"datapoints":[${dps.slice(0, kept).join(',')},`;
      }
      expect(Buffer.byteLength(prefix)).toBeLessThan(Buffer.byteLength(long));
      // The short body would land in the long one's recycled buffer (same capacity class)…
      expect(bodyCapacityFor(prefix.length)).toBe(bodyCapacityFor(long.length));
      // …and, read on past its length, would parse.
      expect(() => JSON.parse(prefix + long.slice(prefix.length))).not.toThrow();
      const path = protocol === 'opentsdb' ? '/api/put?details' : '/api/v1/datapoints';
      for (let repeat = 0; repeat < 3; repeat++) {
        const first = await request(server.http, { method: 'POST', path, body: long });
        expect(first.status, first.text().slice(0, 200)).toBe(400);
        const second = await request(server.http, { method: 'POST', path, body: prefix });
        expect(second.status, second.text().slice(0, 200)).toBe(400);
      }
      expect(await readBack(leaked)).toEqual([]);
      expect(await readBack(short)).toEqual([]);
    }
    // A valid short body after a long one stores exactly its own points.
    const longOk = openTsdbBody('bb.after', 10_000_000, 12_000);
    const shortOk = openTsdbBody('bb.after', 20_000_000, 11_000);
    expect((await request(server.http, { method: 'POST', path: '/api/put', body: longOk })).status).toBe(204);
    const res = await request(server.http, { method: 'POST', path: '/api/put?details', body: shortOk });
    expect(res.json()).toEqual({ success: 11_000, failed: 0, errors: [] });
    expect((await readBack('bb.after')).length).toBe(23_000);
  });
});
