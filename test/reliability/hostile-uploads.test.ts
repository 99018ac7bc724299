// Uploads that end badly, against the real server over raw sockets, while a well-behaved KairosDB
// client keeps writing one point at a time and must be answered 204 within 5 s throughout:
// 300 uploads aborted mid-body (KairosDB, OpenTSDB, CAVE; Content-Length and chunked) store
// nothing and leak no in-flight budget; and a gzip bomb at the default inflated limit (256 MB)
// is inflated in pieces, so the server's memory grows by far less than the bomb inflates to.
import * as fs from 'node:fs';
import * as zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { CredentialStore } from '../../src/auth/index.js';
import { startServer } from '../helpers/server.js';
import { tempDir } from '../helpers/tmp.js';
import { expectKairosTooLarge, expectServed } from './hostile-expect.js';
import { countPoints, httpRequest, processAlive, RawSession, repeatedDocument, sleep, WellBehavedClient } from './hostile-harness.js';

describe('uploads aborted mid-body', () => {
  it('stores nothing of 300 aborted uploads and leaks no in-flight budget', async () => {
    // A 1 MiB in-flight budget: had each abort leaked even its first 16 KiB, the last good
    // 900 KB upload would be refused 503.
    const dataDir = tempDir();
    const store = CredentialStore.open(dataDir, { log: () => undefined });
    const token = store.createOrg('hostile').secret;
    const s = await startServer({ dataDir, args: ['--max-inflight-bytes', String(1024 * 1024)] });
    try {
      const good = new WellBehavedClient(s.http).start();
      const aborted = [
        { path: '/api/v1/datapoints', headers: '', unit: '{"name":"hostile.aborted","timestamp":1,"value":1,"tags":{"h":"a"}},', prefix: '[' },
        { path: '/api/put', headers: '', unit: '{"metric":"hostile.aborted","timestamp":2,"value":1,"tags":{"h":"a"}},', prefix: '[' },
        {
          path: '/organizations/hostile/metrics',
          headers: `Content-Type: application/json\r\nAuthorization: Bearer ${token}\r\n`,
          unit: '{"name":"hostile.aborted","timestamp":1413540000,"value":1,"tags":{"h":"a"}},',
          prefix: '{"metrics":[',
        },
      ];
      let n = 0;
      for (let wave = 0; wave < 30; wave++) {
        await Promise.all(
          Array.from({ length: 10 }, async () => {
            const a = aborted[n % aborted.length]!;
            const chunked = n % 2 === 1;
            n++;
            // Complete items first: a server that decoded the half body would store them.
            const half = Buffer.from(a.prefix + a.unit.repeat(a.path.startsWith('/org') ? 600 : 2000));
            const declared = a.path.startsWith('/org') ? 100_000 : 900_000;
            const session = new RawSession(s.http);
            await session.connected;
            session.write(`POST ${a.path} HTTP/1.1\r\nHost: x\r\n${a.headers}${chunked ? 'Transfer-Encoding: chunked' : `Content-Length: ${declared}`}\r\n\r\n`);
            session.write(chunked ? Buffer.concat([Buffer.from(`${half.length.toString(16)}\r\n`), half, Buffer.from('\r\n')]) : half);
            await sleep(5);
            session.destroy();
          }),
        );
      }
      await sleep(200);
      const report = await good.stop();
      await expectServed(report, s.http, '300 aborted uploads');
      expect(await countPoints(s.http, 'hostile.aborted')).toBe(0);
      const big = repeatedDocument('[', '{"name":"hostile.after","timestamp":1,"value":1,"tags":{"h":"a"}},', 900_000);
      const after = await httpRequest(s.http, { method: 'POST', path: '/api/v1/datapoints', body: Buffer.concat([big, Buffer.from('{"name":"hostile.after","timestamp":2,"value":2,"tags":{"h":"a"}}]')]) });
      expect(after.status).toBe(204);
      expect(await countPoints(s.http, 'hostile.after')).toBe(2);
      expect(processAlive(s.child.pid)).toBe(true);
    } finally {
      expect(await s.stop()).toBe(0);
    }
  });
});

describe('a bomb past the default inflated limit (64 MiB)', () => {
  it('is inflated in pieces: the server grows by far less than the bomb inflates to', async () => {
    const s = await startServer();
    const vm = (key: string): number => Number(new RegExp(`${key}:\\s+(\\d+) kB`).exec(fs.readFileSync(`/proc/${s.child.pid}/status`, 'utf8'))![1]) * 1024;
    try {
      // 20 gzip members of 16 MiB of blanks each: 320 MiB inflated from ~320 KB; gunzip reads
      // every member. Under 1 MiB encoded, so it starts on the one-call path, which used to
      // inflate up to the (then 256 MB) limit and concatenate (~600 MB of RSS for one bomb).
      const member = zlib.gzipSync(Buffer.alloc(16 * 1024 * 1024, 0x20), { level: 9 });
      const bomb = Buffer.concat([zlib.gzipSync(Buffer.from('[')), ...Array<Buffer>(20).fill(member)]);
      expect(bomb.length).toBeLessThan(1024 * 1024);
      const good = new WellBehavedClient(s.http).start();
      await sleep(300);
      const before = vm('VmRSS');
      const res = await httpRequest(s.http, { method: 'POST', path: '/api/v1/datapoints', body: bomb, headers: { 'Content-Encoding': 'gzip' }, timeoutMs: 30_000 });
      expectKairosTooLarge({ status: res.status, headers: res.headers, body: res.body.toString('utf8') }, /^Decompressed request body exceeds the limit of 67108864 bytes$/);
      const grewBytes = vm('VmHWM') - before;
      console.log(`[hostile] 320 MiB gzip bomb at the default limit: peak RSS +${Math.round(grewBytes / 1048576)} MiB`);
      expect(grewBytes).toBeLessThan(200 * 1024 * 1024);
      await expectServed(await good.stop(), s.http, 'bomb at the default limit');
    } finally {
      expect(await s.stop()).toBe(0);
    }
  });
});
