// OpenTSDB TSUID queries over real sockets: TSUIDs taken from /api/search/lookup and from
// showTSUIDs answer /api/query (GET tsuid= and POST "tsuids") with hand-computed sums, none,
// downsampling, rates and counter rates, rollups read through a TSUID, and OpenTSDB's messages for
// malformed TSUIDs and TSUIDs of two metrics.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request, startServer, type RunningServer } from '../helpers/server.js';

let server: RunningServer;

/** An hour boundary (seconds), 2023-11-14T22:00:00Z. */
const T0 = 1_699_999_200;
const RANGE = `start=${T0}&end=${T0 + 3600}`;

interface Result {
  metric: string;
  tags: Record<string, string>;
  aggregateTags: string[];
  tsuids?: string[];
  query?: Record<string, unknown>;
  dps: Record<string, number>;
}

const hex = (text: string): string => Buffer.from(text, 'utf8').toString('hex').toUpperCase();
/** `{ "<T0+s>": v, … }` from [s, v] pairs. */
const dps = (...pairs: [number, number][]): Record<string, number> => Object.fromEntries(pairs.map(([s, v]) => [String(T0 + s), v]));

const getQuery = (query: string) => request(server.http, { path: `/api/query?${query}` });
const postQuery = (body: unknown, path = '/api/query') => request(server.http, { method: 'POST', path, body: JSON.stringify(body) });

async function ok(res: Awaited<ReturnType<typeof getQuery>>): Promise<Result[]> {
  expect(res.status, res.text()).toBe(200);
  return res.json() as Result[];
}

/** TSUIDs by host, as /api/search/lookup reports them. */
const tsuid: Record<string, string> = {};

beforeAll(async () => {
  server = await startServer();
  const points: unknown[] = [];
  for (let k = 0; k < 4; k++) {
    const t = T0 + 10 * k;
    points.push({ metric: 'tq.cpu', timestamp: t, value: k + 1, tags: { host: 'a', dc: 'lga' } });
    points.push({ metric: 'tq.cpu', timestamp: t, value: 10 * (k + 1), tags: { host: 'b', dc: 'lga' } });
    points.push({ metric: 'tq.cpu', timestamp: t, value: 100 * (k + 1), tags: { host: 'c', dc: 'nyc' } });
  }
  // A counter that wraps at 100 between its second and third point.
  for (const [k, v] of [90, 100, 5, 25].entries()) points.push({ metric: 'tq.ctr', timestamp: T0 + 10 * k, value: v, tags: { host: 'a' } });
  points.push({ metric: 'tq.mem', timestamp: T0, value: 7, tags: { host: 'a' } });
  const put = await request(server.http, { method: 'POST', path: '/api/put', body: JSON.stringify(points) });
  expect(put.status).toBe(204);
  // A 1m sum rollup of host a: a TSUID query with a 1m-sum downsample reads it.
  const rollup = await request(server.http, {
    method: 'POST',
    path: '/api/rollup',
    body: JSON.stringify({ metric: 'tq.cpu', timestamp: T0, value: 999, tags: { host: 'a', dc: 'lga' }, interval: '1m', aggregator: 'SUM' }),
  });
  expect(rollup.status).toBe(204);

  const lookup = await request(server.http, { path: `/api/search/lookup?m=${encodeURIComponent('tq.cpu{host=*}')}` });
  expect(lookup.status).toBe(200);
  for (const r of (lookup.json() as { results: { tsuid: string; tags: Record<string, string> }[] }).results) tsuid[r.tags.host!] = r.tsuid;
});

afterAll(async () => {
  expect(await server.stop()).toBe(0);
});

describe('TSUIDs from /api/search/lookup', () => {
  it('are the hex of the canonical series key, one per series (the rollup hides behind host a)', () => {
    expect(tsuid).toEqual({ a: hex('tq.cpu{dc=lga,host=a}'), b: hex('tq.cpu{dc=lga,host=b}'), c: hex('tq.cpu{dc=nyc,host=c}') });
  });

  it('round-trip: each TSUID queries exactly its series, and showTSUIDs prints it back', async () => {
    for (const [host, id] of Object.entries(tsuid)) {
      const [only, ...rest] = await ok(await getQuery(`${RANGE}&show_tsuids&tsuid=sum:${id}`));
      expect(rest).toEqual([]);
      expect(only!.tags.host).toBe(host);
      expect(only!.tsuids).toEqual([id]);
    }
  });
});

describe('TSUID sub-queries', () => {
  it('GET sums two series: tags they share, aggregateTags where they differ, integer sums', async () => {
    const res = await getQuery(`${RANGE}&tsuid=sum:${tsuid.a},${tsuid.b}`);
    expect(await ok(res)).toEqual([{ metric: 'tq.cpu', tags: { dc: 'lga' }, aggregateTags: ['host'], dps: dps([0, 11], [10, 22], [20, 33], [30, 44]) }]);
    // No "tsuids" field unless asked for, as HttpJsonSerializer writes it.
    expect(res.text()).not.toContain('tsuids');
  });

  it('POST is the same, through /api/v1/query too, with the TSUIDs in any case and order', async () => {
    const body = { start: T0, end: T0 + 3600, queries: [{ aggregator: 'sum', tsuids: [tsuid.b!.toLowerCase(), tsuid.a] }] };
    const expected = [{ metric: 'tq.cpu', tags: { dc: 'lga' }, aggregateTags: ['host'], dps: dps([0, 11], [10, 22], [20, 33], [30, 44]) }];
    expect(await ok(await postQuery(body))).toEqual(expected);
    expect(await ok(await postQuery(body, '/api/v1/query'))).toEqual(expected);
  });

  it('none keeps each series apart, in tag order', async () => {
    const results = await ok(await postQuery({ start: T0, end: T0 + 3600, queries: [{ aggregator: 'none', tsuids: [tsuid.c, tsuid.a] }] }));
    expect(results).toEqual([
      { metric: 'tq.cpu', tags: { host: 'a', dc: 'lga' }, aggregateTags: [], dps: dps([0, 1], [10, 2], [20, 3], [30, 4]) },
      { metric: 'tq.cpu', tags: { host: 'c', dc: 'nyc' }, aggregateTags: [], dps: dps([0, 100], [10, 200], [20, 300], [30, 400]) },
    ]);
  });

  it('downsamples each series before summing (doubles, printed as Java does)', async () => {
    // a: 1+2, 3+4 → 3.0, 7.0; b: 30.0, 70.0; sum 33.0, 77.0.
    const res = await getQuery(`${RANGE}&tsuid=sum:20s-sum:${tsuid.a},${tsuid.b}`);
    expect((await ok(res))[0]!.dps).toEqual(dps([0, 33], [20, 77]));
    expect(res.text()).toContain(`"dps":{"${T0}":33.0,"${T0 + 20}":77.0}`);
    const avg = await postQuery({ start: T0, end: T0 + 3600, queries: [{ aggregator: 'max', tsuids: [tsuid.a, tsuid.b], downsample: '0all-avg' }] });
    // 0all: one bucket per series at the query start; a 2.5, b 25.0 → max 25.0.
    expect((await ok(avg))[0]!.dps).toEqual(dps([0, 25]));
  });

  it('rate: per-second rates of each series, summed', async () => {
    // a rises 1 per 10 s (0.1/s), b 10 per 10 s (1.0/s).
    const res = await getQuery(`${RANGE}&tsuid=sum:rate:${tsuid.a},${tsuid.b}`);
    expect((await ok(res))[0]!.dps).toEqual(dps([10, 1.1], [20, 1.1], [30, 1.1]));
  });

  it('counter rates with rateOptions (GET rate{counter,max} and POST rateOptions)', async () => {
    const lookup = await request(server.http, { path: '/api/search/lookup?m=tq.ctr' });
    const id = (lookup.json() as { results: { tsuid: string }[] }).results[0]!.tsuid;
    expect(id).toBe(hex('tq.ctr{host=a}'));
    // 90 → 100: 1.0/s; 100 → 5 wraps at 100: (100 − 100 + 5) / 10 = 0.5/s; 5 → 25: 2.0/s.
    const expected = dps([10, 1], [20, 0.5], [30, 2]);
    expect((await ok(await getQuery(`${RANGE}&tsuid=sum:rate{counter,100}:${id}`)))[0]!.dps).toEqual(expected);
    const post = await postQuery({ start: T0, end: T0 + 3600, queries: [{ aggregator: 'sum', tsuids: [id], rate: true, rateOptions: { counter: true, counterMax: 100 } }] });
    expect((await ok(post))[0]!.dps).toEqual(expected);
    // Without counter the drop is a negative rate: (5 − 100) / 10.
    expect((await ok(await getQuery(`${RANGE}&tsuid=sum:rate:${id}`)))[0]!.dps).toEqual(dps([10, 1], [20, -9.5], [30, 2]));
  });

  it('reads a rollup through the TSUID of its raw series, unless rollupUsage is ROLLUP_RAW', async () => {
    const query = (rollupUsage?: string) => ({ start: T0, end: T0 + 3600, queries: [{ aggregator: 'sum', tsuids: [tsuid.a], downsample: '1m-sum', ...(rollupUsage ? { rollupUsage } : {}) }] });
    expect((await ok(await postQuery(query())))[0]!.dps).toEqual(dps([0, 999]));
    expect((await ok(await postQuery(query('ROLLUP_RAW'))))[0]!.dps).toEqual(dps([0, 10]));
  });

  it('shows the sub-query as given and, with showTSUIDs, the sorted TSUIDs of each group', async () => {
    const res = await postQuery({ start: T0, end: T0 + 3600, showQuery: true, showTSUIDs: true, queries: [{ aggregator: 'sum', tsuids: [tsuid.b, tsuid.a] }] });
    const [only] = await ok(res);
    expect(only!.tsuids).toEqual([tsuid.a, tsuid.b].sort());
    expect(only!.query).toMatchObject({ aggregator: 'sum', metric: null, tsuids: [tsuid.b, tsuid.a] });
    // Field order as HttpJsonSerializer writes it.
    expect(res.text()).toMatch(/^\[\{"metric":"tq\.cpu","tags":\{[^}]*\},"aggregateTags":\["host"\],"query":\{.*\},"tsuids":\["[0-9A-F]+","[0-9A-F]+"\],"dps":\{/);
  });

  it('showTSUIDs on metric sub-queries: the TSUIDs of each group, usable as a TSUID query', async () => {
    const groups = await ok(await getQuery(`${RANGE}&show_tsuids&m=sum:tq.cpu%7Bdc=*%7D`));
    expect(groups.map((g) => [g.tags.dc, g.tsuids])).toEqual([
      ['lga', [tsuid.a, tsuid.b]],
      ['nyc', [tsuid.c]],
    ]);
    const again = await ok(await getQuery(`${RANGE}&tsuid=sum:${groups[0]!.tsuids!.join(',')}`));
    expect(again[0]!.dps).toEqual(groups[0]!.dps);
    // A rollup read for a metric sub-query prints its raw series' TSUID.
    const rolled = await ok(await getQuery(`${RANGE}&show_tsuids&m=sum:1m-sum:tq.cpu%7Bhost=a%7D`));
    expect(rolled).toMatchObject([{ tsuids: [tsuid.a], dps: dps([0, 999]) }]);
  });

  it('TSUIDs naming no stored series match nothing; alongside known ones they are skipped', async () => {
    expect(await ok(await getQuery(`${RANGE}&tsuid=sum:${hex('tq.cpu{host=zz}')}`))).toEqual([]);
    expect(await ok(await getQuery(`${RANGE}&tsuid=sum:000001000001000001`))).toEqual([]);
    const mixed = await ok(await getQuery(`${RANGE}&tsuid=sum:${tsuid.a},${hex('tq.cpu{host=zz}')},000001000001000001`));
    expect(mixed).toEqual([{ metric: 'tq.cpu', tags: { host: 'a', dc: 'lga' }, aggregateTags: [], dps: dps([0, 1], [10, 2], [20, 3], [30, 4]) }]);
  });

  it('mixes TSUID and metric sub-queries in one request (tsuid= first, as OpenTSDB parses them)', async () => {
    const results = await ok(await getQuery(`${RANGE}&m=sum:tq.mem&tsuid=sum:${tsuid.c}`));
    expect(results.map((r) => r.metric)).toEqual(['tq.cpu', 'tq.mem']);
  });
});

describe('TSUID errors, in OpenTSDB’s envelope', () => {
  async function expectError(res: Awaited<ReturnType<typeof getQuery>>, status: number, message: string): Promise<void> {
    expect(res.status).toBe(status);
    expect(res.json()).toEqual({ error: { code: status, message } });
  }

  it('malformed hex', async () => {
    await expectError(await getQuery(`${RANGE}&tsuid=sum:${tsuid.a}0`), 400, `hexBinary needs to be even-length: ${tsuid.a}0`);
    await expectError(await getQuery(`${RANGE}&tsuid=sum:${tsuid.a},XYZW`), 400, 'contains illegal character for hexBinary: XYZW');
    await expectError(await postQuery({ start: T0, queries: [{ aggregator: 'sum', tsuids: [''] }] }), 400, 'UID was empty');
    await expectError(await postQuery({ start: T0, queries: [{ aggregator: 'sum', tsuids: [] }] }), 400, 'Missing the metric or tsuids, provide at least one');
    await expectError(await getQuery(`${RANGE}&tsuid=sum:,`), 400, 'Missing the metric or tsuids, provide at least one');
    await expectError(await getQuery(`${RANGE}&tsuid=`), 400, 'The tsuid query string was empty');
  });

  it('TSUIDs of two metrics', async () => {
    await expectError(
      await getQuery(`${RANGE}&tsuid=sum:${tsuid.a},${hex('tq.mem{host=a}')}`),
      400,
      `One or more TSUIDs did not share the same metric [${hex('tq.cpu')}] [${hex('tq.mem')}]`,
    );
  });

  it('the other sub-query errors still apply, and jsonp wraps them', async () => {
    await expectError(await getQuery(`${RANGE}&tsuid=bogus:${tsuid.a}`), 400, 'No such aggregation function: bogus');
    await expectError(await getQuery(`${RANGE}&tsuid=sum:1m-bogus:${tsuid.a}`), 400, 'No such downsampling function: bogus');
    const wrapped = await getQuery(`${RANGE}&jsonp=cb&tsuid=sum:ABC`);
    expect(wrapped.status).toBe(400);
    expect(wrapped.text()).toBe('cb({"error":{"code":400,"message":"hexBinary needs to be even-length: ABC"}})');
  });
});
