// OpenTSDB /api/put and /api/rollup over real sockets: the response matrix, per-point
// acceptance, gzip, the 405, and points read back (through the KairosDB query API until
// OpenTSDB's /api/query lands).
import * as zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request, startServer, type RunningServer } from '../helpers/server.js';

let server: RunningServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  expect(await server.stop()).toBe(0);
});

const put = (path: string, body: string | Buffer, headers: Record<string, string> = {}) =>
  request(server.http, { method: 'POST', path, body, headers: { 'Content-Type': 'application/json', ...headers } });

async function stored(metric: string): Promise<unknown[][]> {
  const res = await request(server.http, { method: 'POST', path: '/api/v1/datapoints/query', body: JSON.stringify({ start_absolute: 0, metrics: [{ name: metric }] }) });
  return (res.json() as { queries: { results: { values: unknown[][] }[] }[] }).queries[0]!.results[0]!.values;
}

describe('OpenTSDB /api/put', () => {
  it('stores a single point and an array, seconds and milliseconds, and answers 204', async () => {
    expect((await put('/api/put', '{"metric":"ot.a","timestamp":1364410924,"value":42,"tags":{"host":"a"}}')).status).toBe(204);
    const arr = await put('/api/put', '[{"metric":"ot.a","timestamp":1364410925000,"value":"1.5","tags":{"host":"a"}}]');
    expect(arr.status).toBe(204);
    expect(await stored('ot.a')).toEqual([[1364410924000, 42], [1364410925000, 1.5]]);
  });

  it('keeps good points, reports bad ones with summary and details', async () => {
    const body = '[{"metric":"ot.b","timestamp":1364410924,"value":1,"tags":{"host":"a"}},{"metric":"ot.b","timestamp":1364410924,"value":1,"tags":{}}]';
    const plain = await put('/api/put', body);
    expect(plain.status).toBe(400);
    const summary = await put('/api/put?summary', body);
    expect(summary.status).toBe(400);
    expect(summary.json()).toEqual({ success: 1, failed: 1 });
    const details = await put('/api/put?details', body);
    const d = details.json() as { success: number; failed: number; errors: { datapoint: unknown; error: string }[] };
    expect(d.failed).toBe(1);
    expect(d.errors[0]!.error).toMatch(/tag/i);
    expect(await stored('ot.b')).toEqual([[1364410924000, 1]]);
    const ok = await put('/api/put?summary&sync', '{"metric":"ot.c","timestamp":1364410924,"value":7,"tags":{"host":"a"}}');
    expect(ok.status).toBe(200);
    expect(ok.json()).toEqual({ success: 1, failed: 0 });
  });

  it('accepts gzip, refuses other methods with 405 in its envelope', async () => {
    const gz = zlib.gzipSync('{"metric":"ot.gz","timestamp":1364410924,"value":3,"tags":{"host":"a"}}');
    expect((await put('/api/put', gz, { 'Content-Encoding': 'gzip' })).status).toBe(204);
    expect(await stored('ot.gz')).toEqual([[1364410924000, 3]]);
    const get = await request(server.http, { path: '/api/put' });
    expect(get.status).toBe(405);
    expect(get.json()).toMatchObject({ error: { code: 405 } });
  });

  it('stores rollups as their own series', async () => {
    const res = await put('/api/rollup', '{"metric":"ot.r","timestamp":1364410924,"value":9,"tags":{"host":"a"},"interval":"1h","aggregator":"SUM"}');
    expect(res.status).toBe(204);
    const tags = await request(server.http, { method: 'POST', path: '/api/v1/datapoints/query/tags', body: JSON.stringify({ start_absolute: 0, metrics: [{ name: 'ot.r' }] }) });
    expect(JSON.stringify(tags.json())).toContain('1h:sum');
  });
});
