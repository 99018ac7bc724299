// OpenTSDB over real sockets: /api/put and /api/rollup (the response matrix, per-point acceptance,
// gzip, the 405), /api/query as Grafana and opentsdb.js call it, the
// discovery endpoints with every message (suggest, version, aggregators, config/filters, search
// lookup, /api/v1 and legacy paths), Grafana's and tcollector's flows, the line port's OpenTSDB
// put, and the reserved rollup tag hidden from and refused by KairosDB.
import { readFileSync } from 'node:fs';
import * as net from 'node:net';
import * as zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OPENTSDB_AGGREGATOR_NAMES } from '../../src/protocols/opentsdb/aggregator-names.js';
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
    // KairosDB leaves rollups out unless selected explicitly, and never shows the reserved tag …
    expect(tags.json()).toEqual({ queries: [{ results: [{ name: 'ot.r', tags: {}, values: [] }] }] });
    const selected = { start_absolute: 0, metrics: [{ name: 'ot.r', tags: { 'strata:rollup': ['1h:sum'] } }] };
    expect((await request(server.http, { method: 'POST', path: '/api/v1/datapoints/query/tags', body: JSON.stringify(selected) })).json()).toEqual({
      queries: [{ results: [{ name: 'ot.r', tags: { host: ['a'] }, values: [] }] }],
    });
    // … and the rollup is its own series: raw queries do not see it, a 1h-sum downsample reads it.
    expect((await get('/api/query?start=1364400000&m=sum:ot.r')).json()).toEqual([]);
    expect((await get('/api/query?start=1364400000&m=sum:1h-sum:ot.r')).json()).toMatchObject([{ metric: 'ot.r', dps: { '1364410800': 9 } }]);
  });
});

/** Writes through /api/put (and one rollup) the series the discovery tests read. */
async function seedDiscovery(): Promise<void> {
  const body = JSON.stringify([
    { metric: 'disc.cpu.user', timestamp: 1364410924, value: 1, tags: { host: 'web01', dc: 'lga' } },
    { metric: 'disc.cpu.user', timestamp: 1364410924, value: 2, tags: { host: 'web02', dc: 'lga' } },
    { metric: 'disc.cpu.sys', timestamp: 1364410924, value: 3, tags: { host: 'web01', dc: 'phx' } },
    { metric: 'disc.mem', timestamp: 1364410924, value: 4, tags: { host: 'web03' } },
  ]);
  expect((await put('/api/put', body)).status).toBe(204);
  const rollup = await put('/api/rollup', '{"metric":"disc.cpu.user","timestamp":1364410924,"value":9,"tags":{"host":"web01"},"interval":"1h","aggregator":"SUM"}');
  expect(rollup.status).toBe(204);
}

const get = (path: string, port = server.http) => request(port, { path });

describe('OpenTSDB /api/query', () => {
  beforeAll(async () => {
    const points = [];
    for (const host of ['q01', 'q02']) {
      for (let k = 0; k < 6; k++) points.push({ metric: 'oq.cpu', timestamp: 1700000000 + 10 * k, value: host === 'q01' ? k : 10 * k, tags: { host, dc: 'eu' } });
    }
    expect((await put('/api/put', JSON.stringify(points))).status).toBe(204);
  });

  it("answers Grafana's POST: sum across hosts, tags and aggregateTags, dps in seconds", async () => {
    const res = await request(server.http, {
      method: 'POST',
      path: '/api/query',
      body: JSON.stringify({ start: 1700000000000, end: 1700000050000, queries: [{ aggregator: 'sum', metric: 'oq.cpu' }], msResolution: false, globalAnnotations: true }),
    });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/application\/json/);
    expect(res.json()).toEqual([
      { metric: 'oq.cpu', tags: { dc: 'eu' }, aggregateTags: ['host'], dps: { '1700000000': 0, '1700000010': 11, '1700000020': 22, '1700000030': 33, '1700000040': 44, '1700000050': 55 } },
    ]);
  });

  it("answers opentsdb.js's GET with m=, group by host, downsample, arrays and ms", async () => {
    const res = await request(server.http, { path: '/api/v1/query?ms=true&arrays=true&start=1700000000&end=1700000050&m=avg:20s-max:oq.cpu%7Bhost=*%7D' });
    expect(res.status).toBe(200);
    const groups = res.json() as { tags: Record<string, string>; dps: [number, number][] }[];
    expect(groups.map((g) => g.tags.host)).toEqual(['q01', 'q02']);
    expect(groups[1]!.dps).toEqual([
      [1700000000000, 10],
      [1700000020000, 30],
      [1700000040000, 50],
    ]);
  });

  it("answers OpenTSDB's errors in its envelope", async () => {
    const missing = await request(server.http, { method: 'POST', path: '/api/query', body: JSON.stringify({ queries: [{ aggregator: 'sum', metric: 'oq.cpu' }] }) });
    expect(missing.status).toBe(400);
    expect(missing.json()).toMatchObject({ error: { code: 400, message: 'Missing start time' } });
    const unknown = await request(server.http, { path: '/api/query?start=1h-ago&m=sum:no.such.metric' });
    expect(unknown.status).toBe(400);
    expect((unknown.json() as { error: { message: string } }).error.message).toContain("No such name for 'metrics': 'no.such.metric'");
    const badAgg = await request(server.http, { path: '/api/query?start=1h-ago&m=bogus:oq.cpu' });
    expect((badAgg.json() as { error: { message: string } }).error.message).toContain('No such aggregation function');
  });
});

describe('OpenTSDB /api/suggest', () => {
  beforeAll(seedDiscovery);

  it("answers Grafana's health check and type-ahead: sorted names, prefix, max", async () => {
    const health = await get('/api/suggest?type=metrics&q=disc&max=1000');
    expect(health.status).toBe(200);
    expect(health.headers['content-type']).toBe('application/json; charset=UTF-8');
    expect(health.json()).toEqual(['disc.cpu.sys', 'disc.cpu.user', 'disc.mem']);
    expect((await get('/api/suggest?type=metrics&q=disc.cpu&max=1')).json()).toEqual(['disc.cpu.sys']);
    expect((await get('/api/v1/suggest?type=metrics&q=disc.m')).json()).toEqual(['disc.mem']);
  });

  it('lists tag keys and values without the reserved rollup tag', async () => {
    const tagk = (await get('/api/suggest?type=tagk&max=1000')).json() as string[];
    expect(tagk).toEqual(expect.arrayContaining(['dc', 'host']));
    expect(tagk).not.toContain('strata:rollup');
    expect((await get('/api/suggest?type=tagv&q=web')).json()).toEqual(expect.arrayContaining(['web01', 'web02', 'web03']));
    expect((await get('/api/suggest?type=tagv&q=1h')).json()).toEqual([]);
  });

  it('reads a POST body on /api/… and answers jsonp', async () => {
    const res = await request(server.http, { method: 'POST', path: '/api/suggest', body: '{"type":"metrics","q":"disc.cpu","max":10}' });
    expect(res.json()).toEqual(['disc.cpu.sys', 'disc.cpu.user']);
    expect((await get('/api/suggest?type=tagk&q=dc&jsonp=cb')).text()).toBe('cb(["dc"])');
  });

  it("answers OpenTSDB's messages", async () => {
    const cases: [string, string | undefined, number, unknown][] = [
      ['/api/suggest', undefined, 400, { error: { code: 400, message: 'Missing parameter <code>type</code>' } }],
      ['/api/suggest', '{"q":"x"}', 400, { error: { code: 400, message: "Missing 'type' parameter" } }],
      ['/api/suggest?type=x', undefined, 400, { error: { code: 400, message: "Invalid 'type' parameter:x", details: 'Invalid type requested: x' } }],
      ['/api/suggest?type=metrics&max=ten', undefined, 400, { error: { code: 400, message: "Unable to parse 'max' as a number" } }],
      ['/api/suggest', '', 400, { error: { code: 400, message: 'Missing message content', details: 'Supply valid JSON formatted data in the body of your request' } }],
    ];
    for (const [path, body, status, expected] of cases) {
      const res = await request(server.http, body === undefined ? { path } : { method: 'POST', path, body });
      expect(res.status, path).toBe(status);
      expect(res.json(), path).toEqual(expected);
    }
    const del = await request(server.http, { method: 'DELETE', path: '/api/suggest?type=metrics' });
    expect(del.status).toBe(405);
    expect(del.json()).toEqual({ error: { code: 405, message: 'Method not allowed', details: 'The HTTP method [DELETE] is not permitted for this endpoint' } });
  });

  it('serves the legacy /suggest: a plain JSON array, errors as 400 HTML or {"err":…}', async () => {
    const ok = await get('/suggest?type=metrics&q=disc.mem&jsonp=cb');
    expect(ok.headers['content-type']).toBe('application/json');
    expect(ok.text()).toBe('["disc.mem"]');
    const html = await get('/suggest');
    expect(html.status).toBe(400);
    expect(html.headers['content-type']).toBe('text/html; charset=UTF-8');
    expect(html.text()).toContain('The reason provided was:<blockquote>Missing parameter &#60;code&#62;type&#60;/code&#62;</blockquote>');
    const json = await get('/suggest?json&type=nope');
    expect(json.status).toBe(400);
    expect(json.json()).toEqual({ err: "Invalid 'type' parameter:nope" });
  });
});

describe('OpenTSDB /api/version, /api/aggregators, /api/config/filters', () => {
  it('version: an object of strings with the package version; legacy text and json', async () => {
    const v = await get('/api/version');
    expect(v.status).toBe(200);
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(v.json()).toEqual({ version: pkg.version, short_revision: '', full_revision: '', timestamp: '0', repo_status: 'UNKNOWN', user: '', host: '', repo: '', branch: '' });
    expect(Object.keys(v.json() as object)).toEqual(['short_revision', 'repo', 'host', 'version', 'full_revision', 'repo_status', 'user', 'branch', 'timestamp']);
    const legacy = await get('/version');
    expect(legacy.headers['content-type']).toBe('text/plain');
    expect(legacy.text()).toBe(`net.opentsdb.tools ${pkg.version} built at revision  (UNKNOWN)\nBuilt on 1970/01/01 00:00:00 +0000 by @:\n`);
    expect((await get('/version?json')).json()).toEqual(v.json());
    expect((await request(server.http, { method: 'POST', path: '/api/version?jsonp=f' })).text()).toBe(`f(${v.text()})`);
    expect((await request(server.http, { method: 'PUT', path: '/api/version' })).status).toBe(405);
    // /api/v1/version stays KairosDB's.
    expect((await get('/api/v1/version')).text()).toBe('{"version": "KairosDB 1.3.0-1"}\n');
  });

  it("aggregators: the 35 names of OpenTSDB 2.4, on every path", async () => {
    const names = (await get('/api/aggregators')).json() as string[];
    expect([...names].sort()).toEqual([...OPENTSDB_AGGREGATOR_NAMES].sort());
    expect((await get('/api/v1/aggregators')).json()).toEqual(names);
    const legacy = await get('/aggregators');
    expect(legacy.headers['content-type']).toBe('application/json');
    expect(legacy.json()).toEqual(names);
  });

  it('config/filters: the seven built-in filters with examples and description', async () => {
    const res = await get('/api/config/filters');
    expect(res.status).toBe(200);
    const filters = res.json() as Record<string, { examples: string; description: string }>;
    expect(Object.keys(filters).sort()).toEqual(['iliteral_or', 'iwildcard', 'literal_or', 'not_iliteral_or', 'not_literal_or', 'regexp', 'wildcard']);
    expect(filters['wildcard']!.examples).toBe('host=wildcard(web*),  host=wildcard(web*.tsdb.net)  {"type":"wildcard","tagk":"host","filter":"web*.tsdb.net","groupBy":false}');
    expect((await get('/api/v1/config/filters')).text()).toBe(res.text());
    expect((await request(server.http, { method: 'DELETE', path: '/api/config/filters' })).status).toBe(405);
  });
});

describe('OpenTSDB /api/search/lookup', () => {
  beforeAll(seedDiscovery);

  interface Lookup {
    type: string;
    metric?: string;
    tags?: { key: string | null; value: string | null }[];
    limit: number;
    time: number;
    results: { tsuid: string; metric: string; tags: Record<string, string> }[];
    startIndex: number;
    totalResults: number;
  }
  const lookup = async (query: string): Promise<Lookup> => {
    const res = await get(`/api/search/lookup?${query}`);
    expect(res.status, query).toBe(200);
    return res.json() as Lookup;
  };

  it("serves Grafana's tag-key and tag-value lookups; rollups never appear", async () => {
    const byKey = await lookup(`m=${encodeURIComponent('disc.cpu.user{host=*}')}&limit=1000`);
    expect(byKey).toMatchObject({ type: 'LOOKUP', metric: 'disc.cpu.user', tags: [{ key: 'host', value: '*' }], limit: 1000, startIndex: 0, totalResults: 2 });
    expect(byKey.results.map((r) => r.tags)).toEqual([
      { host: 'web01', dc: 'lga' },
      { host: 'web02', dc: 'lga' },
    ]);
    for (const r of byKey.results) {
      expect(r.metric).toBe('disc.cpu.user');
      expect(r.tsuid).toMatch(/^[0-9A-F]+$/);
      expect(JSON.stringify(r)).not.toContain('strata:rollup');
    }
    const keys = await lookup('m=disc.cpu.user&limit=1000');
    expect(new Set(keys.results.flatMap((r) => Object.keys(r.tags)))).toEqual(new Set(['host', 'dc']));
    const anyMetric = await lookup(`m=${encodeURIComponent('{*=web01}')}`);
    expect(anyMetric.metric).toBeUndefined();
    expect(anyMetric.results.map((r) => r.metric)).toEqual(['disc.cpu.sys', 'disc.cpu.user']);
  });

  it('takes a POST SearchQuery body and /api/v1 paths', async () => {
    const res = await request(server.http, { method: 'POST', path: '/api/v1/search/lookup', body: '{"metric":"disc.cpu.user","tags":[{"key":"dc","value":"lga"},{"key":"host","value":"web02"}],"limit":10}' });
    expect(res.status).toBe(200);
    expect((res.json() as Lookup).results.map((r) => r.tags['host'])).toEqual(['web02']);
  });

  it("answers OpenTSDB's errors", async () => {
    const cases: [string, number, unknown][] = [
      ['/api/search/lookup', 400, { error: { code: 400, message: 'Missing parameter <code>m</code>' } }],
      [`/api/search/lookup?m=${encodeURIComponent('disc{')}`, 400, { error: { code: 400, message: 'Unable to parse query', details: "Missing '}' at the end of: disc{" } }],
      ['/api/search/lookup?m=disc.mem&limit=x', 400, { error: { code: 400, message: "Unable to convert 'limit' to a valid number" } }],
      ['/api/search/lookup?m=nope', 404, { error: { code: 404, message: 'Unable to resolve one or more UIDs', details: "No such name for 'metrics': 'nope'" } }],
      [`/api/search/lookup?m=${encodeURIComponent('disc.mem{strata:rollup=*}')}`, 404, { error: { code: 404, message: 'Unable to resolve one or more UIDs', details: "No such name for 'tagk': 'strata:rollup'" } }],
      ['/api/search/tsmeta?query=name:*', 400, { error: { code: 400, message: 'Searching is not enabled', details: 'Searching has not been enabled on this TSD' } }],
      ['/api/search/nope', 400, { error: { code: 400, message: 'Invalid search query type supplied', details: 'Unknown type: nope' } }],
    ];
    for (const [path, status, expected] of cases) {
      const res = await get(path);
      expect(res.status, path).toBe(status);
      expect(res.json(), path).toEqual(expected);
    }
    const post = await request(server.http, { method: 'POST', path: '/api/search/lookup', body: '{}' });
    expect(post.json()).toEqual({ error: { code: 400, message: 'Missing metric and tags. Please supply at least one value.' } });
    const del = await request(server.http, { method: 'DELETE', path: '/api/search/lookup?m=disc.mem' });
    expect(del.status).toBe(400);
    expect(del.json()).toEqual({ error: { code: 400, message: 'Unsupported method: DELETE' } });
  });
});

describe('the line port speaks OpenTSDB', () => {
  beforeAll(seedDiscovery);

  /** Writes `chunks` one after another on one connection and collects the replies until `waitMs` after the last. */
  function session(chunks: readonly string[], waitMs = 400): Promise<string> {
    return new Promise((resolve, reject) => {
      let got = '';
      const s = net.connect(server.telnet, '127.0.0.1', async () => {
        for (const c of chunks) {
          s.write(c);
          await new Promise((r) => setTimeout(r, 100));
        }
        setTimeout(() => {
          s.end();
          resolve(got);
        }, waitMs);
      });
      s.on('data', (d) => (got += d.toString()));
      s.on('error', reject);
    });
  }

  it("tcollector: batches of put lines and the version keepalive, answered each time", async () => {
    const lines = Array.from({ length: 50 }, (_, i) => `put tc.load ${1364410924 + i} ${i}.5 host=web01 cpu=${i % 4}\n`).join('');
    const replies = await session([`${lines}version\n`, 'put tc.load 1364410999 1 host=web01 cpu=0\nversion\n']);
    expect(replies).toMatch(/^net\.opentsdb\.tools \d+\.\d+\.\d+\S* .*\nBuilt on .*\nnet\.opentsdb\.tools \d+\.\d+\.\d+\S* .*\nBuilt on .*\n$/);
    const found = (await get('/api/search/lookup?m=tc.load&limit=0')).json() as { totalResults: number };
    expect(found.totalResults).toBe(4);
    expect(await stored('tc.load')).toHaveLength(51);
  });

  it("answers OpenTSDB's put errors; putm keeps KairosDB's rules", async () => {
    const replies = await session([
      'put tc.bad 1364410924 1\nput tc.bad 1364410924 1 host\nput tc.bad 1364410924 1 host=a host=b\nput tc.bad 1364410924 1 a=1 b=1 c=1 d=1 e=1 f=1 g=1 h=1 i=1\nput tc.bad# 1 1 host=a\nputm tc.kairos 1364410924000 7\nnope\n',
    ]);
    expect(replies).toBe(
      [
        'put: illegal argument: not enough arguments (need least 4, got 3)',
        'put: illegal argument: invalid tag: host',
        'put: illegal argument: duplicate tag: host=b, tags={host=a}',
        'put: illegal argument: Too many tags: 9 maximum allowed: 8, tags: {a=1, b=1, c=1, d=1, e=1, f=1, g=1, h=1, i=1}',
        'put: illegal argument: Invalid metric name ("tc.bad#"): illegal character: #',
        "unknown command: nope.  Try `help'.",
        '',
      ].join('\n'),
    );
    expect((await get('/api/search/lookup?m=tc.kairos')).json()).toMatchObject({ results: [{ tags: { add: 'tag' } }] });
    expect((await get('/api/search/lookup?m=tc.bad')).status).toBe(404);
  });

  it('relays HTTP: discovery endpoints answer on the line port too', async () => {
    expect((await get('/api/suggest?type=metrics&q=disc.mem', server.telnet)).json()).toEqual(['disc.mem']);
    expect((await get('/api/aggregators', server.telnet)).status).toBe(200);
  });
});

describe('KairosDB never exposes or accepts the reserved rollup tag', () => {
  beforeAll(seedDiscovery);

  it('tagnames and tagvalues hide it; ingest refuses it with a clear error', async () => {
    expect(((await get('/api/v1/tagnames')).json() as { results: string[] }).results).not.toContain('strata:rollup');
    expect((await get('/api/v1/tagvalues?name=strata:rollup')).json()).toEqual({ results: [] });
    expect(((await get('/api/v1/tagvalues')).json() as { results: string[] }).results).not.toContain('1h:sum');
    const res = await request(server.http, {
      method: 'POST',
      path: '/api/v1/datapoints',
      body: '[{"name":"kx.ok","tags":{"host":"a"},"timestamp":1,"value":1},{"name":"kx.bad","tags":{"strata:rollup":"1h:sum"},"timestamp":1,"value":1}]',
    });
    expect(res.status).toBe(400);
    expect(res.json()).toEqual({ errors: ["metric[1](name=kx.bad).tag[0].name 'strata:rollup' is reserved for rollups."] });
    expect(await stored('kx.ok')).toEqual([[1, 1]]);
  });
});
