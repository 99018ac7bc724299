// CAVE over real sockets against the built server (protocols.md §3, §7): publishing to
// organisations, teams and the Host shortcut; every refusal (404, 401, 403, 400, 413) in CAVE's
// order and shape; and the issue's key rule — nobody writes to or reads from a tenant they hold
// no credential for — checked by reading back through KairosDB, which sees every series: each
// cross-tenant attempt (another org's token, another team's token, a team token on its org, a
// revoked token, a publish-only token reading, a wrong Basic password, no auth) is refused AND
// leaves nothing behind. Round trip: publish, then read aggregates computed by hand.
import { execFileSync } from 'node:child_process';
import * as zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CredentialStore } from '../../src/auth/index.js';
import { MAIN_JS, rawExchange, request, startServer, type HttpResult, type RunningServer } from '../helpers/server.js';
import { tempDir } from '../helpers/tmp.js';

const T = 1413540000; // 2014-10-17T10:00:00Z, seconds
const quiet = { log: () => undefined };

interface Tokens {
  alphaPub: string; // alpha's default token: publish only
  alphaRW: string;
  alphaRead: string; // read only
  xPub: string; // team alpha/x default: publish only
  xRW: string;
  yRW: string; // team alpha/y
  yRevoked: string;
  betaRW: string;
}

let server: RunningServer;
let tok: Tokens;

beforeAll(async () => {
  const dataDir = tempDir();
  const store = CredentialStore.open(dataDir, quiet);
  const alphaPub = store.createOrg('alpha').secret;
  const alphaRW = store.createCaveToken('alpha', { scopes: ['publish', 'read'] }).secret;
  const alphaRead = store.createCaveToken('alpha', { scopes: ['read'] }).secret;
  const xPub = store.createTeam('alpha', 'x').secret;
  const xRW = store.createCaveToken('alpha', { team: 'x', scopes: ['publish', 'read'] }).secret;
  store.createTeam('alpha', 'y');
  const yRW = store.createCaveToken('alpha', { team: 'y', scopes: ['publish', 'read'] }).secret;
  const revoked = store.createCaveToken('alpha', { team: 'y', scopes: ['publish', 'read'] });
  store.revokeCaveToken('alpha', revoked.id, { team: 'y' });
  const betaRW = store.createOrg('beta', { scopes: ['publish', 'read'] }).secret;
  tok = { alphaPub, alphaRW, alphaRead, xPub, xRW, yRW, yRevoked: revoked.secret, betaRW };
  server = await startServer({ dataDir });
});
afterAll(async () => {
  expect(await server.stop()).toBe(0);
});

const bearer = (token: string): Record<string, string> => ({ Authorization: `Bearer ${token}` });
const basic = (user: string): Record<string, string> => ({ Authorization: `Basic ${Buffer.from(user).toString('base64')}` });
const JSON_TYPE = { 'Content-Type': 'application/json' };

function metricsBody(name: string, points: readonly (readonly [number, number])[] = [[T, 1]], tags: Record<string, string> = { host: 'a' }): string {
  return JSON.stringify({ metrics: points.map(([timestamp, value]) => ({ name, timestamp, value, tags })) });
}

function post(path: string, body: string | Buffer, headers: Record<string, string>): Promise<HttpResult> {
  return request(server.http, { method: 'POST', path, body, headers: { ...JSON_TYPE, ...headers } });
}

function get(path: string, headers: Record<string, string> = {}): Promise<HttpResult> {
  return request(server.http, { path, headers });
}

/**
 * Every stored series of `metric` as KairosDB sees it (the operator's view: all tenants), grouped
 * by CAVE-account: account → [[t ms, value], …]. `{}` when nothing was ever stored.
 */
async function stored(metric: string): Promise<Record<string, unknown[][]>> {
  const body = JSON.stringify({ start_absolute: 0, metrics: [{ name: metric, group_by: [{ name: 'tag', tags: ['CAVE-account'] }] }] });
  const res = await request(server.http, { method: 'POST', path: '/api/v1/datapoints/query', body });
  expect(res.status).toBe(200);
  const results = (res.json() as { queries: { results: { tags: Record<string, string[]>; values: unknown[][] }[] }[] }).queries[0]!.results;
  const out: Record<string, unknown[][]> = {};
  for (const r of results) if (r.values.length > 0) out[(r.tags['CAVE-account'] ?? ['(none)']).join(',')] = r.values;
  return out;
}

function expectEmpty(res: HttpResult, status: number): void {
  expect(res.status).toBe(status);
  expect(res.text()).toBe('');
}

function expect401(res: HttpResult): void {
  expectEmpty(res, 401);
  expect(res.headers['www-authenticate']).toBe('Basic realm="Restricted"');
}

function expectText(res: HttpResult, status: number, text: string): void {
  expect(res.status).toBe(status);
  expect(res.headers['content-type']).toBe('text/plain; charset=utf-8');
  expect(res.text()).toBe(text);
}

describe('CAVE publishing', () => {
  it('organisation endpoint: 202 empty, stored with CAVE-account=org, timestamps in seconds (ms and ns adjusted)', async () => {
    const body = JSON.stringify({
      metrics: [
        { name: 'pub.org', timestamp: T, value: 1.5, tags: { host: 'a' } },
        { name: 'pub.org', timestamp: (T + 60) * 1000, value: 2, tags: { host: 'a' } },
        { name: 'pub.org', timestamp: (T + 120) * 1e9, value: -3, tags: { host: 'a' } },
      ],
    });
    const res = await post('/organizations/alpha/metrics', body, bearer(tok.alphaPub));
    expectEmpty(res, 202);
    expect(await stored('pub.org')).toEqual({ alpha: [[T * 1000, 1.5], [(T + 60) * 1000, 2], [(T + 120) * 1000, -3]] });
  });

  it('team endpoint: the team token and its organisation token both publish, as team.org', async () => {
    expectEmpty(await post('/organizations/alpha/teams/x/metrics', metricsBody('pub.team', [[T, 1]]), bearer(tok.xPub)), 202);
    expectEmpty(await post('/organizations/alpha/teams/x/metrics', metricsBody('pub.team', [[T + 1, 2]]), bearer(tok.alphaPub)), 202);
    expect(await stored('pub.team')).toEqual({ 'x.alpha': [[T * 1000, 1], [(T + 1) * 1000, 2]] });
  });

  it('a publisher cannot choose its CAVE-account: the server always overwrites it', async () => {
    const body = metricsBody('pub.spoof', [[T, 7]], { host: 'a', 'CAVE-account': 'beta' });
    expectEmpty(await post('/organizations/alpha/metrics', body, bearer(tok.alphaPub)), 202);
    const teamSpoof = metricsBody('pub.spoof', [[T + 1, 8]], { 'CAVE-account': 'alpha' });
    expectEmpty(await post('/organizations/alpha/teams/x/metrics', teamSpoof, bearer(tok.xPub)), 202);
    expect(await stored('pub.spoof')).toEqual({ alpha: [[T * 1000, 7]], 'x.alpha': [[(T + 1) * 1000, 8]] });
    // beta sees nothing of it.
    const read = await get('/organizations/beta/metrics?metric=pub.spoof&aggregator=sum&period=60&start=2014-10-17T00:00:00.000Z', bearer(tok.betaRW));
    expectText(read, 400, 'Unable to fetch metric data: the metric does not exist.');
  });

  it('Host shortcut: org.domain.tld and team.org.domain.tld (port stripped), Basic token:', async () => {
    expectEmpty(await post('/metrics', metricsBody('pub.host', [[T, 1]]), { Host: 'alpha.cave.test', ...basic(`${tok.alphaPub}:`) }), 202);
    expectEmpty(await post('/metrics', metricsBody('pub.host', [[T, 2]]), { Host: 'x.alpha.cave.test:8080', ...bearer(tok.xPub) }), 202);
    expect(await stored('pub.host')).toEqual({ alpha: [[T * 1000, 1]], 'x.alpha': [[T * 1000, 2]] });
  });

  it('Host shortcut refusals: no Host, other shapes, IP literals (CAVE texts); unknown org behind a good Host → 404', async () => {
    // No Host at all: uWebSockets.js drops the request before routing (docs/api/cave.md); an empty
    // Host reaches CAVE's parser, which reads it as CAVE does.
    const noHost = await rawExchange(server.http, `POST /metrics HTTP/1.1\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}`);
    expect(noHost).toBe('');
    const emptyHost = await rawExchange(server.http, `POST /metrics HTTP/1.1\r\nHost:\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}`);
    expect(emptyHost).toMatch(/^HTTP\/1\.1 400 /);
    expect(emptyHost.endsWith('\r\n\r\nInvalid hostname format ')).toBe(true);
    const body = metricsBody('pub.badhost');
    expectText(await post('/metrics', body, { Host: 'localhost:8080', ...bearer(tok.alphaPub) }), 400, 'Invalid hostname format localhost:8080');
    expectText(await post('/metrics', body, { Host: 'a.b.c.d.e', ...bearer(tok.alphaPub) }), 400, 'Invalid hostname format a.b.c.d.e');
    expectText(await post('/metrics', body, bearer(tok.alphaPub)), 400, `Invalid hostname format 127.0.0.1:${server.http}`);
    expectEmpty(await post('/metrics', body, { Host: 'nope.cave.test', ...bearer(tok.alphaPub) }), 404);
    expect(await stored('pub.badhost')).toEqual({});
  });

  it('an empty list is accepted', async () => {
    expectEmpty(await post('/organizations/alpha/metrics', '{"metrics":[]}', bearer(tok.alphaPub)), 202);
  });

  it('unknown organisation or team: 404 empty, before any auth', async () => {
    const body = metricsBody('pub.404');
    expectEmpty(await post('/organizations/nope/metrics', body, {}), 404);
    expectEmpty(await post('/organizations/nope/metrics', body, bearer(tok.alphaPub)), 404);
    expectEmpty(await post('/organizations/alpha/teams/nope/metrics', body, {}), 404);
    expectEmpty(await post('/organizations/beta/teams/x/metrics', body, bearer(tok.xPub)), 404);
    expect(await stored('pub.404')).toEqual({});
  });

  it('no or unsupported credentials: 401 with the Basic challenge, nothing stored', async () => {
    const body = metricsBody('pub.401');
    expect401(await post('/organizations/alpha/metrics', body, {}));
    expect401(await post('/organizations/alpha/metrics', body, { Authorization: `Digest ${tok.alphaPub}` }));
    expect401(await post('/organizations/alpha/metrics', body, { Authorization: `bearer ${tok.alphaPub}` }));
    expect401(await post('/organizations/alpha/teams/x/metrics', body, { Authorization: `Token ${tok.xPub}` }));
    expect(await stored('pub.401')).toEqual({});
  });

  it('cross-tenant and bad tokens: 403 empty, nothing stored', async () => {
    const attempts: [string, Record<string, string>][] = [
      ['/organizations/beta/metrics', bearer(tok.alphaPub)], // org A's token on org B
      ['/organizations/alpha/metrics', bearer(tok.betaRW)], // org B's token on org A
      ['/organizations/alpha/teams/y/metrics', bearer(tok.xPub)], // team x's token on team y
      ['/organizations/alpha/teams/x/metrics', bearer(tok.yRW)], // team y's token on team x
      ['/organizations/alpha/metrics', bearer(tok.xPub)], // a team token on its org endpoint
      ['/organizations/alpha/metrics', bearer(tok.xRW)],
      ['/organizations/alpha/teams/y/metrics', bearer(tok.yRevoked)], // revoked
      ['/organizations/alpha/metrics', bearer(tok.alphaRead)], // read-only token
      ['/organizations/alpha/metrics', basic(`${tok.alphaPub}:password`)], // Basic with a password
      ['/organizations/alpha/metrics', bearer('x'.repeat(56))], // unknown token
      ['/organizations/alpha/metrics', { Authorization: 'Bearer ' }], // empty token
    ];
    for (const [path, headers] of attempts) {
      const res = await post(path, metricsBody('pub.403'), headers);
      expect(res.status, `${path} ${JSON.stringify(headers)}`).toBe(403);
      expect(res.text()).toBe('');
    }
    // Host shortcut, same rules.
    expectEmpty(await post('/metrics', metricsBody('pub.403'), { Host: 'beta.cave.test', ...bearer(tok.alphaPub) }), 403);
    expectEmpty(await post('/metrics', metricsBody('pub.403'), { Host: 'y.alpha.cave.test', ...bearer(tok.xPub) }), 403);
    expect(await stored('pub.403')).toEqual({});
  });

  it('Content-Type must be JSON (checked after auth)', async () => {
    const body = metricsBody('pub.type');
    const withType = (type: string | undefined) =>
      request(server.http, { method: 'POST', path: '/organizations/alpha/metrics', body, headers: { ...bearer(tok.alphaPub), ...(type ? { 'Content-Type': type } : {}) } });
    expectText(await withType(undefined), 400, 'Bad Request: Expecting text/json or application/json body');
    expectText(await withType('text/plain'), 400, 'Bad Request: Expecting text/json or application/json body');
    expectText(await withType('application/x-www-form-urlencoded'), 400, 'Bad Request: Expecting text/json or application/json body');
    expect(await stored('pub.type')).toEqual({});
    expect((await withType('text/json; charset=utf-8')).status).toBe(202);
    expect((await withType('Application/JSON')).status).toBe(202);
    // A wrong Content-Type without credentials is still a 401.
    expect401(await request(server.http, { method: 'POST', path: '/organizations/alpha/metrics', body, headers: { 'Content-Type': 'text/plain' } }));
  });

  it('body errors: CAVE texts, all-or-nothing', async () => {
    const send = (body: string) => post('/organizations/alpha/metrics', body, bearer(tok.alphaPub));
    expectText(await send('{"metrics":['), 400, 'Bad Request: Invalid Json');
    expectText(await send('[]'), 400, 'Cannot parse metrics: List((/metrics,List(ValidationError(error.path.missing,WrappedArray()))))');
    const good = { name: 'pub.bad', timestamp: T, value: 1, tags: {} };
    expectText(
      await send(JSON.stringify({ metrics: [good, { ...good, value: 'x' }] })),
      400,
      'Cannot parse metrics: List((/metrics(1)/value,List(ValidationError(error.expected.jsnumber,WrappedArray()))))',
    );
    expectText(
      await send(JSON.stringify({ metrics: [good, { ...good, name: 'n'.repeat(128) }] })),
      400,
      'Metric has too many tags or too long name, or too long tag name/value.',
    );
    expectText(await send(JSON.stringify({ metrics: [good, { ...good, tags: { 'strata:rollup': 'x' } }] })), 400, "Metric tag 'strata:rollup' is reserved.");
    expect(await stored('pub.bad')).toEqual({});
  });

  it('413 past 100 KB (Content-Length and chunked), nothing stored', async () => {
    const many = Array.from({ length: 2000 }, (_, i) => [T + i, i] as const);
    const big = metricsBody('pub.big', many);
    expect(big.length).toBeGreaterThan(102400);
    expectEmpty(await post('/organizations/alpha/metrics', big, bearer(tok.alphaPub)), 413);
    const chunked = await request(server.http, { method: 'POST', path: '/organizations/alpha/metrics', body: big, chunked: true, headers: { ...JSON_TYPE, ...bearer(tok.alphaPub) } });
    expectEmpty(chunked, 413);
    expect(await stored('pub.big')).toEqual({});
    // Just under the limit is fine.
    const fits = metricsBody('pub.big', many.slice(0, 1000));
    expect(fits.length).toBeLessThan(102400);
    expectEmpty(await post('/organizations/alpha/metrics', fits, bearer(tok.alphaPub)), 202);
    expect((await stored('pub.big'))['alpha']).toHaveLength(1000);
  });

  it('gzip bodies are inflated (Content-Encoding)', async () => {
    const gz = zlib.gzipSync(metricsBody('pub.gzip', [[T, 4]]));
    expectEmpty(await post('/organizations/alpha/metrics', gz, { ...bearer(tok.alphaPub), 'Content-Encoding': 'gzip' }), 202);
    expect(await stored('pub.gzip')).toEqual({ alpha: [[T * 1000, 4]] });
  });

  it('other methods on CAVE paths: 404 empty', async () => {
    expectEmpty(await request(server.http, { method: 'PUT', path: '/organizations/alpha/metrics', body: '{}', headers: bearer(tok.alphaRW) }), 404);
    expectEmpty(await request(server.http, { method: 'DELETE', path: '/metrics', headers: { Host: 'alpha.cave.test', ...bearer(tok.alphaRW) } }), 404);
    expectEmpty(await request(server.http, { method: 'POST', path: '/metric-names', body: '{}', headers: { Host: 'alpha.cave.test', ...bearer(tok.alphaRW) } }), 404);
  });
});

describe('CAVE reads', () => {
  const day = 'start=2014-10-17T00:00:00.000Z&end=2014-10-18T00:00:00.000Z';

  beforeAll(async () => {
    // Bucket [10:00, 10:05): 1, 2, 3, 3, 6 (host a and b); bucket [10:05, 10:10): 10; in the team: 100.
    const points: [number, number, string][] = [
      [T, 1, 'a'], [T + 60, 2, 'b'], [T + 120, 3, 'a'], [T + 180, 3, 'b'], [T + 240, 6, 'a'], [T + 360, 10, 'a'],
    ];
    const body = JSON.stringify({ metrics: points.map(([timestamp, value, host]) => ({ name: 'rd.cpu', timestamp, value, tags: { host } })) });
    expectEmpty(await post('/organizations/alpha/metrics', body, bearer(tok.alphaPub)), 202);
    expectEmpty(await post('/organizations/alpha/teams/x/metrics', metricsBody('rd.cpu', [[T, 100]]), bearer(tok.xPub)), 202);
    expectEmpty(await post('/organizations/beta/metrics', metricsBody('rd.beta', [[T, 5]], { zone: 'z' }), bearer(tok.betaRW)), 202);
  });

  const read = (path: string, token: string) => get(path, bearer(token));

  it('round trip: aggregates per 5-minute bucket, computed by hand', async () => {
    const q = (aggregator: string, extra = '') => read(`/organizations/alpha/metrics?metric=rd.cpu&aggregator=${aggregator}&period=5&${day}${extra}`, tok.alphaRW);
    const expected: Record<string, [string, string]> = {
      sum: ['15.0', '10.0'], // 1+2+3+3+6
      count: ['5.0', '1.0'],
      min: ['1.0', '10.0'],
      max: ['6.0', '10.0'],
      mean: ['3.0', '10.0'],
      median: ['3.0', '10.0'], // sorted 1,2,3,3,6 → index floor(2.5+.5)−1 = 2
      mode: ['3.0', '10.0'],
      p90: ['6.0', '10.0'], // index floor(4.5+.5)−1 = 4
      stddev: [String(Math.sqrt(14 / 5)), '0.0'], // deviations from 3: 4+1+0+0+9 = 14, /5
    };
    for (const [aggregator, [first, second]] of Object.entries(expected)) {
      const res = await q(aggregator);
      expect(res.status, aggregator).toBe(200);
      expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
      expect(res.text(), aggregator).toBe(`{"metrics":[{"time":"2014-10-17T10:00:00Z","value":${first}},{"time":"2014-10-17T10:05:00Z","value":${second}}]}`);
    }
    expect((await q('sum', '&tags=host:b')).text()).toBe('{"metrics":[{"time":"2014-10-17T10:00:00Z","value":5.0}]}');
    expect((await q('sum', '&limit=1')).text()).toBe('{"metrics":[{"time":"2014-10-17T10:05:00Z","value":10.0}]}');
    expect((await q('sum', '&tags=host:nope')).text()).toBe('{"metrics":[]}');
  });

  it('team and organisation data stay apart; org tokens read their teams, Host shortcut too', async () => {
    const team = await read(`/organizations/alpha/teams/x/metrics?metric=rd.cpu&aggregator=sum&period=60&${day}`, tok.xRW);
    expect(team.text()).toBe('{"metrics":[{"time":"2014-10-17T10:00:00Z","value":100.0}]}');
    const byOrgToken = await read(`/organizations/alpha/teams/x/metrics?metric=rd.cpu&aggregator=sum&period=60&${day}`, tok.alphaRW);
    expect(byOrgToken.text()).toBe(team.text());
    const org = await read(`/organizations/alpha/metrics?metric=rd.cpu&aggregator=sum&period=60&${day}`, tok.alphaRead);
    expect(org.text()).toBe('{"metrics":[{"time":"2014-10-17T10:00:00Z","value":25.0}]}');
    const shortcut = await get(`/metrics?metric=rd.cpu&aggregator=sum&period=60&${day}`, { Host: 'x.alpha.cave.test', ...basic(`${tok.xRW}:`) });
    expect(shortcut.text()).toBe(team.text());
  });

  it('a CAVE-account tag filter cannot read another tenant', async () => {
    const res = await read(`/organizations/alpha/metrics?metric=rd.cpu&aggregator=sum&period=60&${day}&tags=CAVE-account:x.alpha`, tok.alphaRW);
    expect(res.text()).toBe('{"metrics":[{"time":"2014-10-17T10:00:00Z","value":25.0}]}');
    const beta = await read(`/organizations/alpha/metrics?metric=rd.beta&aggregator=sum&period=60&${day}&tags=CAVE-account:beta`, tok.alphaRW);
    expectText(beta, 400, 'Unable to fetch metric data: the metric does not exist.');
  });

  it('metric-names: per tenant, CAVE tags hidden; org, team and Host shortcut', async () => {
    const org = await read('/organizations/alpha/metric-names', tok.alphaRW);
    expect(org.status).toBe(200);
    const names = org.json() as { name: string; tags: string[] }[];
    expect(names.find((m) => m.name === 'rd.cpu')).toEqual({ name: 'rd.cpu', tags: ['host'] });
    expect(names.some((m) => m.name === 'rd.beta')).toBe(false);
    expect(names.some((m) => m.name === 'pub.team')).toBe(false); // a team's metric
    const team = (await read('/organizations/alpha/teams/x/metric-names', tok.xRW)).json() as { name: string }[];
    expect(team.map((m) => m.name)).toContain('pub.team');
    expect(team.map((m) => m.name)).not.toContain('pub.org');
    expect((await read('/organizations/beta/metric-names', tok.betaRW)).text()).toBe('[{"name":"rd.beta","tags":["zone"]}]');
    expect((await get('/metric-names', { Host: 'beta.cave.test', ...bearer(tok.betaRW) })).text()).toBe('[{"name":"rd.beta","tags":["zone"]}]');
  });

  it('order of refusals: 401, then 403 for an unknown token, then 404, then 403', async () => {
    const path = (org: string, team?: string) => `/organizations/${org}${team ? `/teams/${team}` : ''}/metrics?metric=rd.cpu&aggregator=sum&period=5`;
    expect401(await get(path('alpha')));
    expect401(await get(path('nope'))); // 401 before 404 on reads
    expect401(await get(path('alpha'), { Authorization: `Digest ${tok.alphaRW}` }));
    expectEmpty(await read(path('nope'), 'x'.repeat(56)), 403); // unknown token: 403 before the org lookup
    expectEmpty(await read(path('nope'), tok.alphaRW), 404);
    expectEmpty(await read(path('alpha', 'nope'), tok.alphaRW), 404);
    expectEmpty(await read('/organizations/nope/metric-names', tok.alphaRW), 404);
  });

  it('cross-tenant and under-scoped reads: 403 empty', async () => {
    const path = (org: string, team?: string) => `/organizations/${org}${team ? `/teams/${team}` : ''}/metrics?metric=rd.cpu&aggregator=sum&period=5`;
    const attempts: [string, Record<string, string>][] = [
      [path('alpha'), bearer(tok.alphaPub)], // publish-only token
      [path('alpha', 'x'), bearer(tok.xPub)], // publish-only team token
      [path('beta'), bearer(tok.alphaRW)], // org A on org B
      [path('alpha'), bearer(tok.betaRW)], // org B on org A
      [path('alpha', 'y'), bearer(tok.xRW)], // team x on team y
      [path('alpha'), bearer(tok.xRW)], // team token on its org endpoint
      [path('alpha', 'y'), bearer(tok.yRevoked)], // revoked
      [path('alpha'), basic(`${tok.alphaRW}:password`)], // Basic with a password
      ['/organizations/alpha/metric-names', bearer(tok.alphaPub)],
      ['/organizations/beta/metric-names', bearer(tok.alphaRW)],
      ['/organizations/alpha/teams/y/metric-names', bearer(tok.xRW)],
    ];
    for (const [p, headers] of attempts) {
      const res = await get(p, headers);
      expect(res.status, `${p} ${JSON.stringify(headers)}`).toBe(403);
      expect(res.text()).toBe('');
    }
    expectEmpty(await get('/metrics?metric=rd.cpu&aggregator=sum&period=5', { Host: 'beta.cave.test', ...bearer(tok.alphaRW) }), 403);
  });

  it("parameter errors: CAVE's 400 texts", async () => {
    const q = async (query: string) => (await read(`/organizations/alpha/metrics?${query}`, tok.alphaRW)).text();
    expect(await q('aggregator=sum&period=5')).toBe("Required parameter 'metric' is missing.");
    expect(await q('metric=rd.cpu&period=5')).toBe("Required parameter 'aggregator' is missing.");
    expect(await q('metric=rd.cpu&aggregator=collate&period=5')).toBe("Parameter 'aggregator' has invalid value 'collate'.");
    expect(await q('metric=rd.cpu&aggregator=sum')).toBe("Required parameter 'period' is missing.");
    expect(await q('metric=rd.cpu&aggregator=sum&period=boom')).toBe("Parameter 'period' has invalid value 'boom'.");
    expect(await q('metric=rd.cpu&aggregator=sum&period=5&start=2014-10-17T10:00:00Z')).toBe('Invalid format: "2014-10-17T10:00:00Z" is malformed at "Z"');
    expect(await q('metric=nope&aggregator=sum&period=5')).toBe('Unable to fetch metric data: the metric does not exist.');
    const res = await read('/organizations/alpha/metrics?metric=nope&aggregator=sum&period=5', tok.alphaRW);
    expectText(res, 400, 'Unable to fetch metric data: the metric does not exist.');
  });
});

describe('CAVE credentials on a running server', () => {
  it('a token created while the server runs works within ~1 s; revoked, it is refused and writes nothing', async () => {
    const store = CredentialStore.open(server.dataDir, quiet);
    const fresh = store.createCaveToken('beta', { scopes: ['publish'] });
    const until = async (status: number): Promise<void> => {
      for (let i = 0; i < 40; i++) {
        const res = await post('/organizations/beta/metrics', metricsBody('live.token', [[T + i, i]]), bearer(fresh.secret));
        if (res.status === status) return;
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error(`never answered ${status}`);
    };
    await until(202);
    store.revokeCaveToken('beta', fresh.id);
    await until(403);
    const before = (await stored('live.token'))['beta']!;
    expectEmpty(await post('/organizations/beta/metrics', metricsBody('live.token', [[T - 1000, 1]]), bearer(fresh.secret)), 403);
    expect((await stored('live.token'))['beta']).toEqual(before);
  });
});

describe('CAVE credentials from the CLI', () => {
  it('an organisation and a team created with `strata cave` on the running server take tokens within ~1 s', async () => {
    const cli = (...args: string[]): string =>
      execFileSync(process.execPath, [MAIN_JS, 'cave', ...args, '--data-dir', server.dataDir], { encoding: 'utf8' }).trim();
    const orgToken = cli('org', 'create', 'gamma', '--scope', 'publish,read');
    const teamToken = cli('team', 'create', 'gamma', 'ops');
    expect(orgToken).toMatch(/^[A-Za-z0-9]{56}$/);
    let status = 0;
    for (let i = 0; i < 40 && status !== 202; i++) {
      if (i > 0) await new Promise((r) => setTimeout(r, 100));
      status = (await post('/organizations/gamma/teams/ops/metrics', metricsBody('cli.team', [[T, 3]]), bearer(teamToken))).status;
    }
    expect(status).toBe(202);
    expect(await stored('cli.team')).toEqual({ 'ops.gamma': [[T * 1000, 3]] });
    const read = await get(`/organizations/gamma/teams/ops/metrics?metric=cli.team&aggregator=max&period=1&start=2014-10-17T00:00:00.000Z`, bearer(orgToken));
    expect(read.text()).toBe('{"metrics":[{"time":"2014-10-17T10:00:00Z","value":3.0}]}');
    // The team's default token only publishes.
    expectEmpty(await get('/organizations/gamma/teams/ops/metric-names', bearer(teamToken)), 403);
  });
});

describe('CAVE internal endpoints', () => {
  it('healthcheck and version', async () => {
    expectText(await get('/_internal_/healthcheck'), 200, 'healthy');
    const version = await get('/_internal_/version');
    expect(version.status).toBe(200);
    expect(version.json()).toMatchObject({ name: 'strata', version: expect.any(String) });
  });
});
