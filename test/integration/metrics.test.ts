// GET /metrics: the server's own metrics in Prometheus text format after a known workload, and
// the CAVE Host shortcut left to CAVE.
import * as os from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reportBody, reportedName } from '../../src/self-report.js';
import { request, startServer, type RunningServer } from '../helpers/server.js';

/** The value of one sample line (`name{labels} value`), or undefined. */
function sample(text: string, name: string, labels = ''): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels} `));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

describe('GET /metrics', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startServer();
  });
  afterAll(async () => {
    await server.stop();
  });

  it('counts requests, latency and stored points per API, and shows the queue, budget and segments', async () => {
    const kairos = JSON.stringify([{ name: 'm.k', tags: { h: 'a' }, datapoints: [[1_700_000_000_000, 1], [1_700_000_001_000, 2], [1_700_000_002_000, 3]] }]);
    expect((await request(server.http, { method: 'POST', path: '/api/v1/datapoints', body: kairos })).status).toBe(204);
    const tsdb = JSON.stringify([
      { metric: 'm.o', timestamp: 1_700_000_000, value: 1, tags: { h: 'a' } },
      { metric: 'm.o', timestamp: 1_700_000_001, value: 'x', tags: { h: 'a' } },
    ]);
    expect((await request(server.http, { method: 'POST', path: '/api/put?details', body: tsdb })).status).toBe(400);
    expect((await request(server.http, { method: 'POST', path: '/api/put', body: '[' })).status).toBe(400);

    const res = await request(server.http, { path: '/metrics', headers: { host: `127.0.0.1:${server.http}` } });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = res.text();
    expect(sample(text, 'strata_points_stored_total', '{api="kairosdb"}')).toBe(3);
    expect(sample(text, 'strata_points_stored_total', '{api="opentsdb"}')).toBe(1);
    expect(sample(text, 'strata_http_requests_total', '{api="kairosdb",status="204"}')).toBe(1);
    expect(sample(text, 'strata_http_requests_total', '{api="opentsdb",status="400"}')).toBe(2);
    expect(sample(text, 'strata_http_request_duration_seconds_count', '{api="opentsdb"}')).toBe(2);
    expect(sample(text, 'strata_worker_queue_tasks')).toBe(0);
    expect(sample(text, 'strata_inflight_body_bytes')).toBe(0);
    expect(sample(text, 'strata_inflight_body_limit_bytes')).toBeGreaterThan(0);
    expect(sample(text, 'strata_shards')).toBe(2);
    expect(sample(text, 'strata_segments', '{shard="0"}')).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'process_resident_memory_bytes')).toBeGreaterThan(0);
    // Every line is a comment or `name{labels} number` (Prometheus' text format 0.0.4).
    for (const line of text.split('\n')) if (line !== '' && !line.startsWith('#')) expect(line).toMatch(/^[a-z_:][a-z0-9_:]*(\{[^}]*\})? -?[0-9.e+-]+|NaN|\+Inf$/i);

    // Rejections are logged at most once per API per window, with no body.
    const rejected = server
      .stderr()
      .split('\n')
      .filter((l) => l.includes('"input.rejected"'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(rejected).toEqual([expect.objectContaining({ level: 'warn', api: 'opentsdb', status: 400, path: '/api/put' })]);
    // The scrape itself is counted on the next one.
    const again = (await request(server.http, { path: '/metrics', headers: { host: 'localhost' } })).text();
    expect(sample(again, 'strata_http_requests_total', '{api="metrics",status="200"}')).toBe(1);
  });

  it("shows each shard's series, compaction backlog and msyncs from the workers' stats, and points refused one by one", async () => {
    // After the first test's workload: series m.k and m.o (one shard each or both in one), one
    // OpenTSDB point refused ("x") while its neighbour was stored.
    const series = (text: string): number => [0, 1].reduce((n, shard) => n + (sample(text, 'strata_series', `{shard="${shard}"}`) ?? 0), 0);
    let text = '';
    // Workers send their stats every second; msyncs of appended bytes come with --sync interval (1 s).
    for (let waitedMs = 0; waitedMs < 10_000; waitedMs += 100) {
      text = (await request(server.http, { path: '/metrics', headers: { host: 'localhost' } })).text();
      if (series(text) === 2 && (sample(text, 'strata_sync_duration_seconds_count') ?? 0) > 0) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(series(text)).toBe(2);
    expect(sample(text, 'strata_points_rejected_total', '{api="opentsdb"}')).toBe(1);
    expect(sample(text, 'strata_points_rejected_total', '{api="kairosdb"}')).toBeUndefined();
    for (const shard of ['0', '1']) {
      expect(sample(text, 'strata_compaction_pending_segments', `{shard="${shard}"}`)).toBe(0);
      expect(sample(text, 'strata_compactions_total', `{shard="${shard}"}`)).toBe(0);
    }
    expect(sample(text, 'strata_sync_duration_seconds_count')).toBeGreaterThan(0);
    expect(sample(text, 'strata_sync_duration_seconds_sum')).toBeGreaterThan(0);
  });

  it('leaves GET /metrics with a CAVE tenant Host to CAVE, unless Prometheus asks for its format', async () => {
    const cave = await request(server.http, { path: '/metrics', headers: { host: 'gilt.cave.example.com' } });
    expect(cave.status).toBe(401); // CAVE: the tenant's read needs a token
    const scrape = await request(server.http, {
      path: '/metrics',
      headers: { host: 'gilt.cave.example.com', accept: 'application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5,*/*;q=0.1' },
    });
    expect(scrape.status).toBe(200);
    expect(scrape.text()).toContain('strata_http_requests_total');
  });
});

describe('self-reporting (strata.* series, as KairosDB reports kairosdb.*)', () => {
  it('names and shapes the report from the metrics', () => {
    expect(reportedName('strata_points_stored_total')).toBe('strata.points_stored');
    expect(reportedName('process_resident_memory_bytes')).toBe('strata.process_resident_memory_bytes');
    const body = JSON.parse(
      reportBody(
        [
          { name: 'strata_points_stored_total', type: 'counter', values: [{ value: 7, labels: { api: 'opentsdb' } }] },
          { name: 'strata_http_request_duration_seconds', type: 'histogram', values: [{ value: 1, labels: {} }] },
          { name: 'nodejs_gc_duration_seconds', type: 'gauge', values: [{ value: 1, labels: {} }] },
          { name: 'strata_worker_queue_tasks', type: 'gauge', values: [{ value: Number.NaN, labels: {} }] },
        ],
        1_000,
        'h1',
      ),
    ) as unknown;
    expect(body).toEqual([{ name: 'strata.points_stored', tags: { host: 'h1', api: 'opentsdb' }, datapoints: [[1_000, 7]] }]);
  });

  it('stores the server\'s metrics in its own store every interval, without counting them as client points', async () => {
    const server = await startServer({ args: ['--self-report-interval-ms', '200'] });
    try {
      const put = JSON.stringify({ metric: 'm.self', timestamp: 1_700_000_000, value: 5, tags: { h: 'a' } });
      expect((await request(server.http, { method: 'POST', path: '/api/put', body: put })).status).toBe(204);
      const query = JSON.stringify({ start_relative: { value: 1, unit: 'hours' }, metrics: [{ name: 'strata.points_stored', tags: { api: ['opentsdb'] } }] });
      let values: [number, number][] = [];
      for (let i = 0; i < 50 && values.length < 2; i++) {
        await new Promise((r) => setTimeout(r, 100));
        const res = await request(server.http, { method: 'POST', path: '/api/v1/datapoints/query', body: query });
        expect(res.status).toBe(200);
        const results = (res.json() as { queries: { results: { values: [number, number][]; tags: Record<string, string[]> }[] }[] }).queries[0]!.results;
        values = results[0]?.values ?? [];
        if (values.length > 0) expect(results[0]!.tags['host']).toEqual([os.hostname()]);
      }
      expect(values.length).toBeGreaterThanOrEqual(2);
      // The running total stays 1: the reports themselves are not client points.
      for (const [, v] of values) expect(v).toBe(1);
      const names = (await request(server.http, { path: '/api/v1/metricnames?prefix=strata.' })).json() as { results: string[] };
      expect(names.results).toEqual(expect.arrayContaining(['strata.http_requests', 'strata.inflight_body_bytes', 'strata.process_resident_memory_bytes']));
    } finally {
      await server.stop();
    }
  });
});

describe('GET /metrics: compaction progress', () => {
  it('counts compactions and shows the backlog falling as a shard with small segments compacts', async () => {
    // 32 KiB segments seal after a few appends; the worker checks for 4 sealed ones every 100 ms.
    const server = await startServer({ args: ['--threads', '1', '--segment-bytes', '32768', '--compact-check-ms', '100'] });
    try {
      for (let r = 0; r < 40; r++) {
        const metrics = Array.from({ length: 50 }, (_, s) => ({
          name: `c.m${s}`,
          tags: { h: `h${r}` },
          datapoints: Array.from({ length: 20 }, (_, i) => [1_700_000_000_000 + i * 1000, Math.round(Math.random() * 1e6) / 7]),
        }));
        expect((await request(server.http, { method: 'POST', path: '/api/v1/datapoints', body: JSON.stringify(metrics) })).status).toBe(204);
      }
      let text = '';
      for (let waitedMs = 0; waitedMs < 15_000; waitedMs += 100) {
        text = (await request(server.http, { path: '/metrics', headers: { host: 'localhost' } })).text();
        if ((sample(text, 'strata_compactions_total', '{shard="0"}') ?? 0) >= 1) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(sample(text, 'strata_compactions_total', '{shard="0"}'), text.split('\n').filter((l) => l.startsWith('strata_seg') || l.startsWith('strata_comp')).join('; ')).toBeGreaterThanOrEqual(1);
      expect(sample(text, 'strata_compaction_pending_segments', '{shard="0"}')).toBeLessThan(4);
      expect(sample(text, 'strata_series', '{shard="0"}')).toBe(40 * 50);
      expect(server.stderr()).toContain('"shard.compacted"');
    } finally {
      await server.stop();
    }
  });
});
