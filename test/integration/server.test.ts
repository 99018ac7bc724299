// The server as a process: start-up line, flags, limits (413s, gzip bombs), aborted uploads,
// backpressure (503 + Retry-After, nothing acknowledged lost), SIGTERM and SIGKILL restarts.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { MAIN_JS, rawExchange, request, startServer } from '../helpers/server.js';

function kairosBody(metric: string, points: number, offset = 0): string {
  const datapoints = Array.from({ length: points }, (_, i) => [offset + i, i]);
  return JSON.stringify([{ name: metric, tags: { host: 'h' }, datapoints }]);
}

async function count(port: number, metric: string): Promise<number> {
  const res = await request(port, { method: 'POST', path: '/api/v1/datapoints/query', body: JSON.stringify({ start_absolute: 0, metrics: [{ name: metric }] }) });
  expect(res.status, res.text()).toBe(200);
  return (res.json() as { queries: { sample_size: number }[] }).queries[0]!.sample_size;
}

describe('server process', () => {
  it('--help lists every flag and exits 0', () => {
    const r = spawnSync(process.execPath, [MAIN_JS, '--help'], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    for (const f of ['--http-port', '--telnet-port', '--data-dir', '--threads', '--sync', '--sync-interval-ms', '--max-body-bytes', '--max-inflight-bytes', '--config']) {
      expect(r.stdout).toContain(f);
    }
    const bad = spawnSync(process.execPath, [MAIN_JS, '--sync', 'maybe'], { encoding: 'utf8' });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('sync must be interval, always or never');
  });

  it('keeps acknowledged points across SIGTERM and across SIGKILL', async () => {
    const first = await startServer();
    expect(first.http).toBeGreaterThan(0);
    expect(first.telnet).toBeGreaterThan(0);
    const ok = await request(first.http, { method: 'POST', path: '/api/v1/datapoints', body: kairosBody('restart.term', 1000) });
    expect(ok.status).toBe(204);
    expect(await first.stop()).toBe(0);

    const second = await startServer({ dataDir: first.dataDir });
    expect(await count(second.http, 'restart.term')).toBe(1000);
    const acked = await request(second.http, { method: 'POST', path: '/api/v1/datapoints', body: kairosBody('restart.kill', 777) });
    expect(acked.status).toBe(204);
    await second.kill(); // no sync, no close: the mapping alone must hold the points

    const third = await startServer({ dataDir: first.dataDir });
    expect(await count(third.http, 'restart.kill')).toBe(777);
    expect(await count(third.http, 'restart.term')).toBe(1000);
    expect(await third.stop()).toBe(0);
  });

  it('answers 413 over the wire limit and for a gzip bomb, and stays up', async () => {
    const s = await startServer({ args: ['--max-body-bytes', '10000', '--max-inflated-bytes', '100000'] });
    try {
      const big = await request(s.http, { method: 'POST', path: '/api/v1/datapoints', body: kairosBody('lim.wire', 2000) });
      expect(big.status).toBe(413);
      expect((big.json() as { errors: string[] }).errors[0]).toMatch(/exceeds the limit/);
      const chunked = await request(s.http, { method: 'POST', path: '/api/v1/datapoints', body: kairosBody('lim.wire', 2000), chunked: true });
      expect(chunked.status).toBe(413);
      // 8 MiB of spaces is ~8 KiB of gzip: under the wire limit, far over the inflated one.
      const bomb = zlib.gzipSync(Buffer.alloc(8 * 1024 * 1024, 0x20), { level: 9 });
      expect(bomb.length).toBeLessThan(10000);
      const res = await request(s.http, { method: 'POST', path: '/api/v1/datapoints', body: bomb, headers: { 'Content-Encoding': 'gzip' } });
      expect(res.status).toBe(413);
      expect((res.json() as { errors: string[] }).errors[0]).toMatch(/Decompressed request body exceeds/);
      const fine = await request(s.http, { method: 'POST', path: '/api/v1/datapoints', body: kairosBody('lim.ok', 10) });
      expect(fine.status).toBe(204);
    } finally {
      await s.stop();
    }
  });

  it('inflates bodies up to 1 MiB encoded in one call and larger ones as a stream, with the same limits and errors', async () => {
    // The threshold is SYNC_INFLATE_MAX_ENCODED_BYTES in src/pool/worker.ts.
    const MiB = 1024 * 1024;
    const s = await startServer({ args: ['--max-body-bytes', String(32 * MiB), '--max-inflated-bytes', String(8 * MiB)] });
    try {
      const post = (body: Buffer, encoding: string) => request(s.http, { method: 'POST', path: '/api/v1/datapoints', body, headers: { 'Content-Encoding': encoding } });
      const pointsJson = (name: string, n: number) => JSON.stringify([{ name, tags: { host: 'h' }, datapoints: Array.from({ length: n }, (_, i) => [i, Math.sin(i) * 1e6]) }]);
      // Full-precision values keep the gzip of 150,000 points above 1 MiB.
      const largeJson = pointsJson('inflate.large', 150_000);
      const smallJson = kairosBody('inflate.small', 50);
      for (const [encoding, pack] of [
        ['gzip', zlib.gzipSync],
        ['deflate', zlib.deflateSync],
        ['deflate', zlib.deflateRawSync],
      ] as const) {
        const large = pack(largeJson);
        expect(large.length).toBeGreaterThan(MiB);
        expect((await post(large, encoding)).status).toBe(204);
        const small = pack(smallJson);
        expect(small.length).toBeLessThan(MiB);
        expect((await post(small, encoding)).status).toBe(204);
        // Corrupt either way: 400 in the protocol's envelope.
        for (const body of [large, small]) {
          const broken = Buffer.from(body);
          broken.fill(0xff, broken.length >> 1, (broken.length >> 1) + 64);
          const res = await post(broken, encoding);
          expect(res.status, `${encoding} ${body.length}`).toBe(400);
        }
      }
      expect(await count(s.http, 'inflate.large')).toBe(150_000);
      expect(await count(s.http, 'inflate.small')).toBe(50);
      // Bombs either way: 413, nothing stored.
      const largeBomb = zlib.gzipSync(pointsJson('inflate.bomb', 400_000));
      expect(largeBomb.length).toBeGreaterThan(MiB);
      const smallBomb = zlib.gzipSync(Buffer.alloc(16 * MiB, 0x20), { level: 9 });
      expect(smallBomb.length).toBeLessThan(MiB);
      for (const bomb of [largeBomb, smallBomb]) {
        const res = await post(bomb, 'gzip');
        expect(res.status).toBe(413);
        expect((res.json() as { errors: string[] }).errors[0]).toMatch(/Decompressed request body exceeds/);
      }
      expect(await count(s.http, 'inflate.bomb')).toBe(0);
    } finally {
      await s.stop();
    }
  });

  it('survives uploads aborted mid-body and releases their budget', async () => {
    const s = await startServer({ args: ['--max-inflight-bytes', '300000'] });
    try {
      for (let i = 0; i < 20; i++) {
        await new Promise<void>((resolve) => {
          const sock = net.connect(s.http, '127.0.0.1', () => {
            sock.write('POST /api/v1/datapoints HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n[{"name":"ab');
            setTimeout(() => {
              sock.destroy();
              resolve();
            }, 5);
          });
          sock.on('error', () => resolve());
        });
      }
      // Had the aborted uploads kept their 100 kB reservations, a 300 kB budget would now refuse.
      const ok = await request(s.http, { method: 'POST', path: '/api/v1/datapoints', body: kairosBody('abort.after', 50) });
      expect(ok.status).toBe(204);
      expect(await count(s.http, 'abort.after')).toBe(50);
    } finally {
      expect(await s.stop()).toBe(0);
    }
  });

  it('answers 503 with Retry-After past the in-flight bound and loses nothing it acknowledged', async () => {
    const s = await startServer({ args: ['--threads', '1', '--max-inflight-bytes', '400000', '--max-queued-tasks', '2'] });
    try {
      const bodies = Array.from({ length: 60 }, (_, i) => kairosBody('flood', 3000, i * 3000));
      const results = await Promise.all(bodies.map((body) => request(s.http, { method: 'POST', path: '/api/v1/datapoints', body })));
      const acked = results.filter((r) => r.status === 204).length;
      const busy = results.filter((r) => r.status === 503);
      expect(acked + busy.length).toBe(60);
      expect(busy.length).toBeGreaterThan(0);
      expect(busy[0]!.headers['retry-after']).toBeDefined();
      expect((busy[0]!.json() as { errors: string[] }).errors.length).toBe(1);
      expect(await count(s.http, 'flood')).toBe(acked * 3000);
    } finally {
      expect(await s.stop()).toBe(0);
    }
  });

  it('keeps memory bounded under a flood of large bodies', async () => {
    // 40 concurrent 2.4 MB bodies against an 8 MB budget. Measured: peak RSS +27 MB bounded,
    // +150 MB with an unlimited budget, so the 90 MB bound fails if bodies are buffered unbounded.
    const s = await startServer({ args: ['--threads', '1', '--max-inflight-bytes', String(8 * 1024 * 1024)] });
    const status = (key: string): number => Number(/(\d+)/.exec(fs.readFileSync(`/proc/${s.child.pid}/status`, 'utf8').split('\n').find((l) => l.startsWith(key))!)![1]) * 1024;
    try {
      const before = status('VmRSS:');
      const body = JSON.stringify([{ name: 'big.flood', tags: { host: 'h' }, datapoints: Array.from({ length: 150_000 }, (_, i) => [i, i * 1.5]) }]);
      // Every connection sends its head (with Content-Length) and a first slice before any body
      // is complete, so the 40 uploads overlap however slowly the machine runs.
      const sockets = await Promise.all(
        Array.from({ length: 40 }, () => new Promise<net.Socket>((resolve) => {
          const sock = net.connect(s.http, '127.0.0.1', () => resolve(sock));
        })),
      );
      const replies = sockets.map((sock) => new Promise<string>((resolve) => {
        let got = '';
        sock.on('data', (d) => {
          got += d.toString();
          if (/\r\n\r\n/.test(got)) resolve(got);
        });
        sock.on('close', () => resolve(got));
        sock.on('error', () => resolve(got));
      }));
      for (const sock of sockets) sock.write(`POST /api/v1/datapoints HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}\r\n\r\n${body.slice(0, 1000)}`);
      await new Promise((r) => setTimeout(r, 200));
      for (const sock of sockets) if (!sock.destroyed) sock.write(body.slice(1000));
      const statuses = (await Promise.all(replies)).map((r) => Number(/^HTTP\/1\.1 (\d+)/.exec(r)?.[1] ?? 0));
      for (const sock of sockets) sock.destroy();
      const acked = statuses.filter((st) => st === 204).length;
      expect(statuses.filter((st) => st === 503).length).toBeGreaterThan(0);
      expect(acked + statuses.filter((st) => st === 503).length).toBe(40);
      expect(status('VmHWM:') - before).toBeLessThan(90 * 1024 * 1024);
      expect(await count(s.http, 'big.flood')).toBe(acked > 0 ? 150_000 : 0); // same timestamps: duplicates collapse
    } finally {
      expect(await s.stop()).toBe(0);
    }
  });

  it('answers unknown paths with 404 and does not hang on garbage', async () => {
    const s = await startServer();
    try {
      expect((await request(s.http, { path: '/nope' })).status).toBe(404);
      const reply = await rawExchange(s.http, 'GARBAGE\r\n\r\n', 300);
      expect(reply === '' || reply.startsWith('HTTP/1.1 4')).toBe(true);
      expect((await request(s.http, { path: '/api/v1/version' })).status).toBe(200);
    } finally {
      await s.stop();
    }
  });
});
