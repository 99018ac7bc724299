// KairosDB over real sockets against the real server: every endpoint of protocols.md §1 at least
// once, round trips with value kinds intact, the gzip/deflate/chunked paths, and the way
// Grafana's KairosDB data source drives a server.
import * as net from 'node:net';
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

const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
  request(server.http, { method: 'POST', path, body: typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body), headers: { 'Content-Type': 'application/json', ...headers } });

async function query(metric: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  const res = await post('/api/v1/datapoints/query', { start_absolute: 0, metrics: [metric], ...extra });
  expect(res.status, res.text()).toBe(200);
  return res.json() as { queries: { sample_size: number; results: { name: string; tags: Record<string, string[]>; values: unknown[][]; group_by?: unknown[] }[] }[] };
}

describe('KairosDB HTTP API', () => {
  it('answers version, health and CORS exactly', async () => {
    const v = await request(server.http, { path: '/api/v1/version' });
    expect(v.status).toBe(200);
    expect(v.text()).toBe('{"version": "KairosDB 1.3.0-1"}\n');
    expect(v.headers['access-control-allow-origin']).toBe('*');
    expect(v.headers['content-type']).toBe('application/json; charset=UTF-8');
    expect(v.headers['cache-control']).toBe('no-cache');
    expect((await request(server.http, { path: '/api/v1/health/check', headers: { Accept: 'text/plain' } })).status).toBe(204);
    const status = await request(server.http, { path: '/api/v1/health/status' });
    expect(status.json()).toEqual(['JVM-Thread-Deadlock: OK', 'Datastore-Query: OK']);
    const pre = await request(server.http, { method: 'OPTIONS', path: '/api/v1/datapoints', headers: { 'Access-Control-Request-Headers': 'content-type,x-a' } });
    expect(pre.status).toBe(200);
    expect(pre.headers['access-control-allow-headers']).toBe('content-type,x-a');
    expect(pre.headers['access-control-max-age']).toBe('86400');
  });

  it('stores both point forms and reads back longs, doubles and strings as written', async () => {
    // Raw text: JSON.stringify would round 2^53 + 1 and print 1.0 as 1 before the server saw them.
    const res = await post(
      '/api/v1/datapoints',
      '[{"name":"rt.kinds","tags":{"host":"a"},"datapoints":[[1000,9007199254740993],[2000,1.0],[3000,1],[4000,"up"]]},' +
        '{"name":"rt.kinds","tags":{"host":"b"},"timestamp":5000,"value":-0.25}]',
    );
    expect(res.status, res.text()).toBe(204);
    expect(res.body.length).toBe(0);
    const text = (await post('/api/v1/datapoints/query', { start_absolute: 0, metrics: [{ name: 'rt.kinds', tags: { host: 'a' } }] })).text();
    // Exact literal of the 64-bit integer, and 1.0 kept distinct from 1.
    expect(text).toContain('[1000,9007199254740993]');
    expect(text).toMatch(/\[2000,1\.0\]/);
    expect(text).toContain('[3000,1]');
    expect(text).toContain('[4000,"up"]');
    const both = await query({ name: 'rt.kinds' });
    expect(both.queries[0]!.sample_size).toBe(5);
  });

  it('accepts gzip by Content-Encoding and by application/gzip, deflate, and chunked bodies', async () => {
    const body = (m: string) => JSON.stringify([{ name: m, tags: { t: '1' }, datapoints: [[1, 1], [2, 2]] }]);
    expect((await post('/api/v1/datapoints', zlib.gzipSync(body('gz.ce')), { 'Content-Encoding': 'gzip' })).status).toBe(204);
    expect((await post('/api/v1/datapoints', zlib.gzipSync(body('gz.ct')), { 'Content-Type': 'application/gzip' })).status).toBe(204);
    expect((await post('/api/v1/datapoints', zlib.deflateSync(body('gz.df')), { 'Content-Encoding': 'deflate' })).status).toBe(204);
    const chunked = await request(server.http, { method: 'POST', path: '/api/v1/datapoints', body: body('gz.ch'), chunked: true });
    expect(chunked.status).toBe(204);
    for (const m of ['gz.ce', 'gz.ct', 'gz.df', 'gz.ch']) expect((await query({ name: m })).queries[0]!.sample_size).toBe(2);
    const bad = await post('/api/v1/datapoints', 'not gzip at all', { 'Content-Type': 'application/gzip' });
    expect(bad.status).toBe(400);
    expect(bad.json()).toEqual({ errors: ['Not in GZIP format'] });
  });

  it('gzips responses when asked', async () => {
    const res = await request(server.http, { path: '/api/v1/metricnames', headers: { 'Accept-Encoding': 'gzip' } });
    expect(res.headers['content-encoding']).toBe('gzip');
    expect(JSON.parse(zlib.gunzipSync(res.body).toString())).toHaveProperty('results');
  });

  it('stores valid metric objects and lists every error (partial acceptance)', async () => {
    const res = await post('/api/v1/datapoints', [
      { name: 'pa.good', tags: { h: 'x' }, timestamp: 1, value: 1 },
      { name: '', tags: { h: 'x' }, timestamp: 1, value: 1 },
      { name: 'pa.notags', tags: {}, timestamp: 1, value: 1 },
    ]);
    expect(res.status).toBe(400);
    expect(res.json()).toEqual({
      errors: ['metric[1].name may not be empty.', 'metric[2](name=pa.notags).tags count must be greater than or equal to 1.'],
    });
    expect((await query({ name: 'pa.good' })).queries[0]!.sample_size).toBe(1);
    const empty = await post('/api/v1/datapoints', '');
    expect(empty.status).toBe(400);
    expect(empty.json()).toEqual({ errors: ['Invalid json. No content due to end of input.'] });
  });

  it('serves query/tags in the real shape, metricnames with prefix, tagnames and tagvalues', async () => {
    await post('/api/v1/datapoints', [
      { name: 'meta.cpu', tags: { host: 'server1', dc: 'awsuse' }, timestamp: 10, value: 1 },
      { name: 'meta.cpu', tags: { host: 'server2', dc: 'awsuse' }, timestamp: 10, value: 2 },
    ]);
    const tags = await post('/api/v1/datapoints/query/tags', { cache_time: 0, start_absolute: 0, metrics: [{ name: 'meta.cpu', tags: {} }] });
    expect(tags.json()).toEqual({ queries: [{ results: [{ name: 'meta.cpu', tags: { dc: ['awsuse'], host: ['server1', 'server2'] }, values: [] }] }] });
    const names = (await request(server.http, { path: '/api/v1/metricnames?prefix=meta.' })).json() as { results: string[] };
    expect(names.results).toEqual(['meta.cpu']);
    expect(((await request(server.http, { path: '/api/v1/tagnames' })).json() as { results: string[] }).results).toContain('dc');
    expect(((await request(server.http, { path: '/api/v1/tagvalues?name=host' })).json() as { results: string[] }).results).toEqual(expect.arrayContaining(['server1', 'server2']));
  });

  it('answers an empty match with the 1.3.0 placeholder', async () => {
    const r = await query({ name: 'no.such.metric' });
    expect(r).toEqual({ queries: [{ sample_size: 0, results: [{ name: 'no.such.metric', tags: {}, values: [] }] }] });
  });

  it('deletes by query and whole metrics', async () => {
    await post('/api/v1/datapoints', [{ name: 'del.q', tags: { h: 'a' }, datapoints: [[1, 1], [2, 2], [3, 3]] }, { name: 'del.m', tags: { h: 'a' }, datapoints: [[1, 1]] }]);
    const d = await post('/api/v1/datapoints/delete', { start_absolute: 2, end_absolute: 2, metrics: [{ name: 'del.q' }] });
    expect(d.status).toBe(204);
    expect((await query({ name: 'del.q' })).queries[0]!.results[0]!.values).toEqual([[1, 1], [3, 3]]);
    expect((await request(server.http, { method: 'DELETE', path: '/api/v1/metric/del.m' })).status).toBe(204);
    expect((await query({ name: 'del.m' })).queries[0]!.sample_size).toBe(0);
  });

  it('takes GET queries in ?query=', async () => {
    await post('/api/v1/datapoints', [{ name: 'get.q', tags: { h: 'a' }, datapoints: [[1, 5]] }]);
    const q = encodeURIComponent(JSON.stringify({ start_absolute: 0, metrics: [{ name: 'get.q' }] }));
    const res = await request(server.http, { path: `/api/v1/datapoints/query?query=${q}` });
    expect(res.status).toBe(200);
    expect((res.json() as { queries: { results: { values: unknown }[] }[] }).queries[0]!.results[0]!.values).toEqual([[1, 5]]);
  });

  it('drives like Grafana: metricnames → query/tags → query with group_by and sampling', async () => {
    const t0 = 1_700_000_000_000;
    const pts = (v: number) => Array.from({ length: 6 }, (_, i) => [t0 + i * 10_000, v + i]);
    await post('/api/v1/datapoints', [
      { name: 'graf.load', tags: { host: 'h1', dc: 'x' }, datapoints: pts(0) },
      { name: 'graf.load', tags: { host: 'h2', dc: 'x' }, datapoints: pts(100) },
    ]);
    const names = (await request(server.http, { path: '/api/v1/metricnames' })).json() as { results: string[] };
    expect(names.results).toContain('graf.load');
    const tags = (await post('/api/v1/datapoints/query/tags', { cache_time: 0, metrics: [{ name: 'graf.load', tags: {} }], start_absolute: 0 })).json() as {
      queries: { results: { tags: Record<string, string[]> }[] }[];
    };
    expect(Object.keys(tags.queries[0]!.results[0]!.tags).sort()).toEqual(['dc', 'host']);
    const res = await post('/api/v1/datapoints/query', {
      start_absolute: t0,
      end_absolute: t0 + 60_000,
      cache_time: 0,
      metrics: [
        {
          name: 'graf.load',
          limit: 0,
          tags: { dc: ['x'] },
          group_by: [{ name: 'tag', tags: ['host'] }],
          aggregators: [{ name: 'avg', align_sampling: true, sampling: { value: '30', unit: 'seconds' } }],
        },
      ],
    });
    expect(res.status, res.text()).toBe(200);
    const body = res.json() as { queries: { results: { name: string; group_by: { name: string; group?: Record<string, string> }[]; tags: Record<string, string[]>; values: number[][] }[] }[] };
    const results = body.queries[0]!.results;
    expect(results.map((r) => r.tags['host'])).toEqual([['h1'], ['h2']]);
    for (const r of results) {
      expect(r.name).toBe('graf.load');
      expect(r.group_by).toContainEqual({ name: 'type', type: 'number' });
      expect(r.group_by.find((g) => g.name === 'tag')).toMatchObject({ tags: ['host'], group: { host: r.tags['host']![0] } });
      expect(r.values.length).toBeGreaterThan(0);
    }
  });
});

describe('KairosDB telnet', () => {
  function telnet(lines: string, waitMs = 300): Promise<string> {
    return new Promise((resolve) => {
      let got = '';
      const s = net.connect(server.telnet, '127.0.0.1', () => s.write(lines));
      s.on('data', (d) => (got += d.toString()));
      setTimeout(() => {
        s.end();
        resolve(got);
      }, waitMs);
    });
  }

  it('stores put/putm/puts lines and answers version', async () => {
    const reply = await telnet('put tn.sec 1364410924 42 host=a\r\nputm tn.ms 1364410924000 1.5 host=a\nputs tn.str 1364410924000 hello host=a\nversion\n');
    // The line port's version is OpenTSDB's (tcollector's keepalive), see docs/api/kairosdb.md.
    expect(reply).toMatch(/^net\.opentsdb\.tools .*\nBuilt on /);
    const sec = await query({ name: 'tn.sec' });
    expect(sec.queries[0]!.results[0]!.values).toEqual([[1364410924000, 42]]);
    expect((await query({ name: 'tn.ms' })).queries[0]!.results[0]!.values).toEqual([[1364410924000, 1.5]]);
    expect((await query({ name: 'tn.str' })).queries[0]!.results[0]!.values).toEqual([[1364410924000, 'hello']]);
  });

  it('answers errors in OpenTSDB form, keeps the connection, and closes on exit', async () => {
    const reply = await new Promise<{ text: string; closed: boolean }>((resolve) => {
      let text = '';
      const s = net.connect(server.telnet, '127.0.0.1', () => s.write('put tn.bad 1364410924 notanumber host=a\nbogus\nput tn.after 1364410924 1 host=a\nexit\n'));
      s.on('data', (d) => (text += d.toString()));
      s.on('close', () => resolve({ text, closed: true }));
      setTimeout(() => resolve({ text, closed: false }), 2000);
    });
    expect(reply.closed).toBe(true);
    expect(reply.text).toMatch(/^put: invalid value: /m);
    expect(reply.text).toMatch(/^unknown command: bogus/m);
    expect((await query({ name: 'tn.after' })).queries[0]!.sample_size).toBe(1);
  });

  it('speaks HTTP on the line port too', async () => {
    const v = await request(server.telnet, { path: '/api/v1/version' });
    expect(v.text()).toBe('{"version": "KairosDB 1.3.0-1"}\n');
  });
});
