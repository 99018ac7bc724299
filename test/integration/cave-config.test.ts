// CAVE under non-default configuration, against the built server: `--cave-max-body-bytes`
// (wire and inflated size, 413) and `--sync always` (202 only once the points are msynced; read
// back right after).
import * as zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CredentialStore } from '../../src/auth/index.js';
import { request, startServer, type RunningServer } from '../helpers/server.js';
import { tempDir } from '../helpers/tmp.js';

let server: RunningServer;
let token: string;

beforeAll(async () => {
  const dataDir = tempDir();
  token = CredentialStore.open(dataDir, { log: () => undefined }).createOrg('acme', { scopes: ['publish', 'read'] }).secret;
  server = await startServer({ dataDir, args: ['--sync', 'always', '--cave-max-body-bytes', '1024'] });
});
afterAll(async () => {
  expect(await server.stop()).toBe(0);
});

const publish = (body: string | Buffer, headers: Record<string, string> = {}) =>
  request(server.http, { method: 'POST', path: '/organizations/acme/metrics', body, headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}`, ...headers } });

function body(name: string, count: number): string {
  return JSON.stringify({ metrics: Array.from({ length: count }, (_, i) => ({ name, timestamp: 1413540000 + i, value: i, tags: { host: 'a' } })) });
}

describe('CAVE configuration', () => {
  it('--cave-max-body-bytes bounds the body on the wire and after gzip', async () => {
    const small = body('cfg.size', 5);
    expect(small.length).toBeLessThan(1024);
    expect((await publish(small)).status).toBe(202);
    const large = body('cfg.size', 30);
    expect(large.length).toBeGreaterThan(1024);
    const res = await publish(large);
    expect(res.status).toBe(413);
    expect(res.text()).toBe('');
    const gz = zlib.gzipSync(large);
    expect(gz.length).toBeLessThan(1024);
    expect((await publish(gz, { 'Content-Encoding': 'gzip' })).status).toBe(413);
    const read = await request(server.http, {
      path: '/organizations/acme/metrics?metric=cfg.size&aggregator=count&period=60&start=2014-10-17T00:00:00.000Z',
      headers: { Authorization: `Bearer ${token}` },
    });
    expect(read.text()).toBe('{"metrics":[{"time":"2014-10-17T10:00:00Z","value":5.0}]}');
  });

  it('--sync always: publishing waits for the msync and answers 202; the points read back', async () => {
    expect((await publish(body('cfg.sync', 3))).status).toBe(202);
    const read = await request(server.http, {
      path: '/organizations/acme/metrics?metric=cfg.sync&aggregator=sum&period=60&start=2014-10-17T00:00:00.000Z',
      headers: { Authorization: `Bearer ${token}` },
    });
    expect(read.text()).toBe('{"metrics":[{"time":"2014-10-17T10:00:00Z","value":3.0}]}');
  });
});
