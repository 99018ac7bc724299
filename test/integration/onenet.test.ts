// OneNET over real sockets against the real server (protocols.md §4): every upload type, every
// JSON value kind round-tripping exactly, the time zone, the read endpoints (limit, sort, cursor,
// latest points, datastreams), binary data, the {errno,error} envelope for each failure, and
// tenant isolation — each cross-tenant attempt is refused with errno 1 AND leaves nothing behind
// (checked through KairosDB's query, which sees every series). Credentials are made with the
// store directly; the running server picks changes up within a second.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CredentialStore } from '../../src/auth/index.js';
import { request, startServer, type HttpResult, type RunningServer } from '../helpers/server.js';
import { tempDir } from '../helpers/tmp.js';

let server: RunningServer;
let store: CredentialStore;
const keys: Record<string, string> = {};
const SUCC = '{"errno":0,"error":"succ"}';
const AUTH_FAILED = '{"errno":1,"error":"auth failed"}';

beforeAll(async () => {
  const dataDir = tempDir();
  store = CredentialStore.open(dataDir, { log: () => undefined });
  keys['masterA'] = store.createProduct('prodA').secret;
  keys['masterB'] = store.createProduct('prodB').secret;
  for (const d of ['a1', 'a2', 'a_1700000000000_x']) store.createDevice('prodA', d);
  store.createDevice('prodB', 'b1');
  keys['a1rw'] = store.createOneNetKey('prodA', { device: 'a1', permissions: ['read', 'write'] }).secret;
  keys['a1read'] = store.createOneNetKey('prodA', { device: 'a1', permissions: ['read'] }).secret;
  keys['a1write'] = store.createOneNetKey('prodA', { device: 'a1', permissions: ['write'] }).secret;
  keys['prodAread'] = store.createOneNetKey('prodA', { permissions: ['read'] }).secret;
  const revoked = store.createOneNetKey('prodA', { device: 'a1', permissions: ['read', 'write'] });
  keys['revoked'] = revoked.secret;
  store.revokeOneNetKey('prodA', revoked.id);
  server = await startServer({ dataDir });
});
afterAll(async () => {
  expect(await server.stop()).toBe(0);
});

const post = (path: string, body: string | Buffer, key: string | undefined, headers: Record<string, string> = {}): Promise<HttpResult> =>
  request(server.http, { method: 'POST', path, body, headers: { ...(key !== undefined ? { 'api-key': key } : {}), ...headers } });
const get = (path: string, key: string | undefined): Promise<HttpResult> => request(server.http, { path, headers: key !== undefined ? { 'api-key': key } : {} });
const upload = (device: string, body: string, type?: number, key = keys['masterA']!) =>
  post(`/devices/${device}/datapoints${type !== undefined ? `?type=${type}` : ''}`, body, key);

/** Every stored point of `metric` per device_id (all series, any tags), through KairosDB's query. */
async function stored(metric: string): Promise<Record<string, unknown[][]>> {
  const res = await request(server.http, {
    method: 'POST',
    path: '/api/v1/datapoints/query',
    body: JSON.stringify({ start_absolute: 0, end_absolute: 2 ** 49, metrics: [{ name: metric, group_by: [{ name: 'tag', tags: ['device_id'] }] }] }),
  });
  expect(res.status).toBe(200);
  const out: Record<string, unknown[][]> = {};
  for (const r of (res.json() as { queries: { results: { tags: Record<string, string[]>; values: unknown[][] }[] }[] }).queries[0]!.results) {
    if (r.values.length > 0) out[(r.tags['device_id'] ?? []).join(',')] = r.values;
  }
  return out;
}

/** `2015-03-22T22:31:12` read at +08:00. */
const cst = (y: number, mo: number, d: number, h: number, mi: number, s: number, ms = 0) => Date.UTC(y, mo - 1, d, h - 8, mi, s, ms);

function data(res: HttpResult): { count: number; cursor?: string; datastreams: { id: string; datapoints: { at: string; value: unknown }[] }[] } {
  expect(res.status).toBe(200);
  const body = res.json() as { errno: number; data: never };
  expect(body.errno).toBe(0);
  return body.data;
}

describe('OneNET upload: POST /devices/{id}/datapoints', () => {
  it('type=1 (default): several streams and points, `at` read at +08:00, answered {"errno":0,"error":"succ"} with HTTP 200', async () => {
    const body = JSON.stringify({
      datastreams: [
        { id: 't1.temp', datapoints: [{ at: '2015-03-22T22:31:12', value: 22 }, { at: '2015-03-22 22:31:13.250', value: 22.5 }] },
        { id: 't1.hum', datapoints: [{ at: '2015-03-22T22:31:12', value: '95.2%' }] },
      ],
    });
    const res = await upload('a1', body);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/json');
    expect(res.text()).toBe(SUCC);
    expect(await stored('t1.temp')).toEqual({ a1: [[cst(2015, 3, 22, 22, 31, 12), 22], [cst(2015, 3, 22, 22, 31, 13, 250), 22.5]] });
    expect(await stored('t1.hum')).toEqual({ a1: [[cst(2015, 3, 22, 22, 31, 12), '95.2%']] });
    expect((await upload('a1', body, 1)).text()).toBe(SUCC);
  });

  it('every JSON value kind comes back exactly as uploaded (int vs double, > 2^53, strings, objects, arrays, booleans, null)', async () => {
    const values = [
      '1',
      '1.0',
      '-0.5',
      '1e3',
      '9007199254740993',
      '-9223372036854775808',
      '123456789012345678901234567890',
      '"text"',
      '""',
      '"12"',
      '{"lat":31.20,"lon":[121,1.0e2],"ok":true,"n":null,"s":"é\\u0001"}',
      '[1,2.5,"x",[],{}]',
      'true',
      'false',
      'null',
    ];
    const points = values.map((v, i) => `{"at":"2020-01-01T00:00:${String(i).padStart(2, '0')}","value":${v}}`);
    expect((await upload('a1', `{"datastreams":[{"id":"kinds","datapoints":[${points.join(',')}]}]}`)).text()).toBe(SUCC);
    const res = await get('/devices/a1/datapoints?datastream_id=kinds&start=2020-01-01T00:00:00&end=2020-01-01T00:01:00', keys['a1read']);
    const expected = values.map((v, i) => `{"at":"2020-01-01 00:00:${String(i).padStart(2, '0')}.000","value":${v === '1e3' ? '1000.0' : v === '{"lat":31.20,"lon":[121,1.0e2],"ok":true,"n":null,"s":"é\\u0001"}' ? '{"lat":31.20,"lon":[121,1.0e2],"ok":true,"n":null,"s":"é\\u0001"}' : v}}`);
    expect(res.text()).toBe(`{"errno":0,"data":{"count":${values.length},"datastreams":[{"id":"kinds","datapoints":[${expected.join(',')}]}]},"error":"succ"}`);
  });

  it('a point without `at` gets the server time; the same time again replaces the value', async () => {
    const before = Date.now();
    expect((await upload('a1', '{"datastreams":[{"id":"now","datapoints":[{"value":7}]}]}')).text()).toBe(SUCC);
    const after = Date.now();
    const [[t, v]] = (await stored('now'))['a1'] as [[number, number]];
    expect(v).toBe(7);
    expect(t).toBeGreaterThanOrEqual(before);
    expect(t).toBeLessThanOrEqual(after);
    expect((await upload('a1', '{"datastreams":[{"id":"dup","datapoints":[{"at":"2016-01-01T00:00:00","value":1}]}]}')).text()).toBe(SUCC);
    expect((await upload('a1', '{"datastreams":[{"id":"dup","datapoints":[{"at":"2016-01-01T00:00:00","value":"second"}]}]}')).text()).toBe(SUCC);
    expect(await stored('dup')).toEqual({ a1: [[cst(2016, 1, 1, 0, 0, 0), 'second']] });
  });

  it('type=3: one point per key at server time', async () => {
    const before = Date.now();
    expect((await upload('a1', '{"t3.temperature":22.5,"t3.humidity":"95.2%"}', 3)).text()).toBe(SUCC);
    const temp = (await stored('t3.temperature'))['a1']!;
    expect(temp.map((p) => p[1])).toEqual([22.5]);
    expect(temp[0]![0] as number).toBeGreaterThanOrEqual(before);
    expect((await stored('t3.humidity'))['a1']!.map((p) => p[1])).toEqual(['95.2%']);
  });

  it('type=4: several times per stream', async () => {
    expect((await upload('a1', '{"t4.temperature":{"2015-03-22T22:31:12":22.5,"2015-03-22 22:31:14":23}}', 4)).text()).toBe(SUCC);
    expect(await stored('t4.temperature')).toEqual({ a1: [[cst(2015, 3, 22, 22, 31, 12), 22.5], [cst(2015, 3, 22, 22, 31, 14), 23]] });
  });

  it('type=5: separators from the first two characters, id,time,value / id,value / value, trailing separators ignored', async () => {
    const before = Date.now();
    expect((await upload('a2', ',;t5.temperature,2015-03-22 22:31:12,22.5;102;t5.pm2.5,89;10;', 5)).text()).toBe(SUCC);
    expect(await stored('t5.temperature')).toEqual({ a2: [[cst(2015, 3, 22, 22, 31, 12), 22.5]] });
    expect((await stored('t5.pm2.5'))['a2']!.map((p) => p[1])).toEqual([89]);
    const one = (await stored('1'))['a2']!;
    expect(one.map((p) => p[1])).toEqual([102]);
    expect(one[0]![0] as number).toBeGreaterThanOrEqual(before);
    expect((await stored('3'))['a2']!.map((p) => p[1])).toEqual([10]);
    expect((await upload('a2', '#@t5b.temperature#2015-03-22T22:31:12#22.5@t5b.state#on@t5b.n#1.0', 5)).text()).toBe(SUCC);
    expect(await stored('t5b.temperature')).toEqual({ a2: [[cst(2015, 3, 22, 22, 31, 12), 22.5]] });
    expect((await stored('t5b.state'))['a2']!.map((p) => p[1])).toEqual(['on']);
    const read = await get('/devices/a2/datapoints?datastream_id=t5b.n', keys['masterA']);
    expect(data(read).datastreams[0]!.datapoints[0]!.value).toBe(1);
    expect(read.text()).toContain('"value":1.0}');
  });

  it('never routes by Content-Type: form-urlencoded, text/plain, none', async () => {
    for (const [i, type] of ['application/x-www-form-urlencoded', 'text/plain', 'application/octet-stream'].entries()) {
      const res = await post('/devices/a1/datapoints', `{"datastreams":[{"id":"ctype","datapoints":[{"at":"2017-01-01T00:00:0${i}","value":${i}}]}]}`, keys['a1write'], { 'Content-Type': type });
      expect(res.text()).toBe(SUCC);
    }
    expect((await stored('ctype'))['a1']!.map((p) => p[1])).toEqual([0, 1, 2]);
  });

  it('is all or nothing: one bad point refuses the whole request with errno 6 and stores nothing', async () => {
    const res = await upload('a1', '{"datastreams":[{"id":"aon.good","datapoints":[{"value":1}]},{"id":"aon.bad","datapoints":[{"at":"2015-13-01T00:00:00","value":1}]}]}');
    expect(res.status).toBe(200);
    expect(res.json()).toEqual({ errno: 6, error: 'invalid parameter: datastreams[1].datapoints[0].at: "2015-13-01T00:00:00" is not a time (YYYY-MM-DDThh:mm:ss)' });
    expect(await stored('aon.good')).toEqual({});
    expect(await stored('aon.bad')).toEqual({});
  });

  it('answers malformed bodies in the envelope: errno 3 for a missing body, 6 with the reason otherwise', async () => {
    const cases: [string, number | undefined, string][] = [
      ['', undefined, '{"errno":3,"error":"parameter required: body"}'],
      ['  \r\n', 5, '{"errno":3,"error":"parameter required: body"}'],
      ['{"datastreams":[', undefined, 'invalid parameter: body is not valid JSON'],
      ['{"datastreams":[]}', undefined, '"datastreams\\" must be a non-empty array'],
      ['{"datastreams":[{"id":"","datapoints":[{"value":1}]}]}', undefined, 'datastreams[0].id: a datastream id must be a non-empty string'],
      ['{"datastreams":[{"id":"x","datapoints":[{"at":"2015-03-22T22:31:12"}]}]}', undefined, 'datastreams[0].datapoints[0].value is required'],
      ['{"datastreams":[{"id":"x","datapoints":[{"at":1427034672,"value":1}]}]}', undefined, 'a time must be a string'],
      ['[1]', 3, 'type=3 body must be a non-empty JSON object'],
      ['{"x":5}', 4, '\\"x\\" must be a non-empty object'],
      ['{"x":{"yesterday":5}}', 4, '\\"yesterday\\" is not a time'],
      [',,a,1', 5, 'type=5 separators must differ'],
      [',;a,2015-02-30 00:00:00,1', 5, 'is not a time'],
      [',;,1', 5, 'a datastream id must be a non-empty string'],
      ['{"a":1}', 2, 'type \\"2\\" is not supported over HTTP'],
      ['{"a":1}', 9, 'type \\"9\\" is not supported over HTTP'],
    ];
    for (const [body, type, message] of cases) {
      const res = await upload('a1', body, type);
      expect(res.status).toBe(200);
      if (message.startsWith('{')) expect(res.text()).toBe(message);
      else {
        expect(res.text()).toContain('{"errno":6,"error":"invalid parameter: ');
        expect(res.text()).toContain(message);
      }
    }
  });
});

describe('OneNET tenants: nobody reads or writes a device without a key for it', () => {
  const refusedUploads: [string, string, string | undefined][] = [
    ['no api-key', 'a1', undefined],
    ['an unknown key', 'a1', 'x'.repeat(28)],
    ['a revoked key', 'a1', 'revoked'],
    ["a device key on another device of the product", 'a2', 'a1rw'],
    ["product A's master key on product B's device", 'b1', 'masterA'],
    ["product B's master key on product A's device", 'a1', 'masterB'],
    ['a read-only device key', 'a1', 'a1read'],
    ['a read-only product key', 'a2', 'prodAread'],
    ['the master key on an unknown device', 'nosuch', 'masterA'],
  ];
  for (const [what, device, keyName] of refusedUploads) {
    it(`refuses an upload with ${what}: errno 1, nothing written`, async () => {
      const metric = `cross.${what.replace(/\W+/g, '_')}`;
      const key = keyName === undefined ? undefined : (keys[keyName] ?? keyName);
      for (const [type, body] of [
        [1, `{"datastreams":[{"id":"${metric}","datapoints":[{"value":1}]}]}`],
        [3, `{"${metric}":1}`],
        [5, `,;${metric},1`],
      ] as const) {
        const res = await post(`/devices/${device}/datapoints?type=${type}`, body, key);
        expect(res.status).toBe(200);
        expect(res.text()).toBe(AUTH_FAILED);
      }
      const bin = await post(`/bindata?device_id=${device}&datastream_id=${metric}`, Buffer.from([1, 2, 3]), key);
      expect(bin.text()).toBe(AUTH_FAILED);
      expect(await stored(metric)).toEqual({});
    });
  }

  it('refuses reads with a write-only key, a key of another device or product, a revoked key, and for an unknown device', async () => {
    expect((await upload('a1', '{"datastreams":[{"id":"secret","datapoints":[{"value":42}]}]}')).text()).toBe(SUCC);
    const attempts: [string, string | undefined][] = [
      ['a1', keys['a1write']],
      ['a1', keys['masterB']],
      ['a1', keys['revoked']],
      ['a1', undefined],
      ['b1', keys['a1rw']],
      ['b1', keys['masterA']],
      ['nosuch', keys['masterA']],
    ];
    for (const [device, key] of attempts) {
      for (const path of [`/devices/${device}/datapoints`, `/devices/${device}/datapoints?datastream_id=secret&limit=10`, `/devices/${device}/datastreams`]) {
        const res = await get(path, key);
        expect(res.status).toBe(200);
        expect(res.text()).toBe(AUTH_FAILED);
      }
    }
    // The rightful keys do read it: the device key, the product read key, the master key.
    for (const key of [keys['a1read'], keys['prodAread'], keys['masterA'], keys['a1rw']]) {
      expect(data(await get('/devices/a1/datapoints?datastream_id=secret', key)).datastreams[0]!.datapoints[0]!.value).toBe(42);
    }
  });

  it('reads only the device own series: other devices and KairosDB series with extra tags stay out', async () => {
    expect((await upload('a2', '{"datastreams":[{"id":"shared","datapoints":[{"at":"2018-01-01T00:00:00","value":2}]}]}')).text()).toBe(SUCC);
    expect((await upload('a1', '{"datastreams":[{"id":"shared","datapoints":[{"at":"2018-01-01T00:00:00","value":1}]}]}')).text()).toBe(SUCC);
    const kairos = await request(server.http, {
      method: 'POST',
      path: '/api/v1/datapoints',
      body: JSON.stringify([{ name: 'shared', timestamp: cst(2018, 1, 1, 0, 0, 1), value: 99, tags: { device_id: 'a1', host: 'x' } }]),
    });
    expect(kairos.status).toBe(204);
    const read = data(await get('/devices/a1/datapoints?datastream_id=shared&start=2017-12-31T00:00:00', keys['a1read']));
    expect(read.datastreams).toEqual([{ id: 'shared', datapoints: [{ at: '2018-01-01 00:00:00.000', value: 1 }] }]);
  });

  it('a key created while the server runs works within about a second', async () => {
    store.createDevice('prodB', 'b2');
    const key = store.createOneNetKey('prodB', { device: 'b2', permissions: ['write'] }).secret;
    let text = '';
    for (let i = 0; i < 40 && text !== SUCC; i++) {
      text = (await upload('b2', '{"late":1}', 3, key)).text();
      if (text !== SUCC) await new Promise((r) => setTimeout(r, 100));
    }
    expect(text).toBe(SUCC);
    expect((await stored('late'))['b2']!.map((p) => p[1])).toEqual([1]);
  });
});

describe('OneNET reads: GET /devices/{id}/datapoints and /datastreams', () => {
  beforeAll(async () => {
    // 10 points in r.a (every 2 s from 10:00:00) and 5 in r.b (odd seconds), +08:00.
    const a = Array.from({ length: 10 }, (_, i) => `{"at":"2019-05-15T10:00:${String(2 * i).padStart(2, '0')}","value":${i}}`);
    const b = Array.from({ length: 5 }, (_, i) => `{"at":"2019-05-15T10:00:${String(2 * i + 1).padStart(2, '0')}","value":${100 + i}.5}`);
    const res = await upload('a2', `{"datastreams":[{"id":"r.a","datapoints":[${a.join(',')}]},{"id":"r.b","datapoints":[${b.join(',')}]}]}`);
    expect(res.text()).toBe(SUCC);
  });
  const read = (query: string) => get(`/devices/a2/datapoints?${query}`, keys['prodAread']);

  it('a range in the configured zone, `at` with a space and milliseconds, count as a number', async () => {
    const res = await read('datastream_id=r.a,r.b&start=2019-05-15T10:00:03&end=2019-05-15T10:00:06');
    expect(res.text()).toBe(
      '{"errno":0,"data":{"count":4,"datastreams":[{"id":"r.a","datapoints":[{"at":"2019-05-15 10:00:04.000","value":2},{"at":"2019-05-15 10:00:06.000","value":3}]},' +
        '{"id":"r.b","datapoints":[{"at":"2019-05-15 10:00:03.000","value":101.5},{"at":"2019-05-15 10:00:05.000","value":102.5}]}]},"error":"succ"}',
    );
  });

  it('pages with limit and cursor (ASC and DESC) until no cursor is left, each point exactly once', async () => {
    for (const sort of ['ASC', 'DESC']) {
      const seen: string[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const d = data(await read(`datastream_id=r.a,r.b&start=2019-05-15T00:00:00&limit=4&sort=${sort}${cursor !== undefined ? `&cursor=${cursor}` : ''}`));
        pages++;
        expect(d.count).toBe(d.datastreams.reduce((n, s) => n + s.datapoints.length, 0));
        for (const s of d.datastreams) for (const p of s.datapoints) seen.push(p.at);
        cursor = d.cursor;
      } while (cursor !== undefined && pages < 10);
      expect(pages).toBe(4);
      const seconds = [...Array.from({ length: 10 }, (_, i) => 2 * i), ...Array.from({ length: 5 }, (_, i) => 2 * i + 1)];
      const all = seconds.map((sec) => `2019-05-15 10:00:${String(sec).padStart(2, '0')}.000`).sort();
      expect(seen.sort()).toEqual(all);
    }
    const first = data(await read('datastream_id=r.a,r.b&start=2019-05-15T00:00:00&limit=6&sort=DESC'));
    expect(first.count).toBe(6);
    expect(first.datastreams).toEqual([
      { id: 'r.a', datapoints: [18, 16, 14, 12, 10].map((sec) => ({ at: `2019-05-15 10:00:${sec}.000`, value: sec / 2 })) },
      { id: 'r.b', datapoints: [{ at: '2019-05-15 10:00:09.000', value: 104.5 }] },
    ]);
  });

  it('without parameters: the latest point of every stream; datastream_id narrows it', async () => {
    const all = data(await get('/devices/a2/datapoints', keys['prodAread']));
    const ra = all.datastreams.find((s) => s.id === 'r.a')!;
    expect(ra.datapoints).toEqual([{ at: '2019-05-15 10:00:18.000', value: 9 }]);
    expect(all.datastreams.every((s) => s.datapoints.length === 1)).toBe(true);
    expect(all.count).toBe(all.datastreams.length);
    const one = data(await read('datastream_id=r.b'));
    expect(one).toEqual({ count: 1, datastreams: [{ id: 'r.b', datapoints: [{ at: '2019-05-15 10:00:09.000', value: 104.5 }] }] });
  });

  it('duration counts from start, back from end, or back from now', async () => {
    expect(data(await read('datastream_id=r.a&start=2019-05-15T10:00:00&duration=4')).count).toBe(3);
    expect(data(await read('datastream_id=r.a&end=2019-05-15T10:00:18&duration=2')).count).toBe(2);
    expect(data(await read('datastream_id=r.a&duration=3600')).count).toBe(0);
  });

  it('answers bad parameters with errno 6', async () => {
    for (const [query, message] of [
      ['limit=0', 'limit: \\"0\\" must be an integer in (0, 6000]'],
      ['limit=6001', 'limit: \\"6001\\" must be an integer in (0, 6000]'],
      ['sort=UP', 'sort: \\"UP\\" must be ASC or DESC'],
      ['cursor=nope', 'cursor: \\"nope\\" is not a cursor this server gave'],
      ['start=2019-05-15', 'start: \\"2019-05-15\\" is not a time'],
      ['start=2019-05-15T10:00:00&end=2019-05-15T09:00:00', 'start is after end'],
      ['duration=-1', 'duration'],
    ]) {
      const res = await read(query!);
      expect(res.status).toBe(200);
      expect(res.text()).toContain('{"errno":6,"error":"invalid parameter: ');
      expect(res.text()).toContain(message);
    }
  });

  it('GET /devices/{id}/datastreams: id, create_time, update_at, current_value; datastream_ids filters', async () => {
    const res = await get('/devices/a2/datastreams?datastream_ids=r.a,r.b,none', keys['masterA']);
    expect(res.text()).toBe(
      '{"errno":0,"data":[{"id":"r.a","create_time":"2019-05-15 10:00:00","update_at":"2019-05-15 10:00:18","current_value":9},' +
        '{"id":"r.b","create_time":"2019-05-15 10:00:01","update_at":"2019-05-15 10:00:09","current_value":104.5}],"error":"succ"}',
    );
    const all = (await get('/devices/a2/datastreams', keys['masterA'])).json() as { data: { id: string }[] };
    expect(all.data.map((s) => s.id)).toEqual(expect.arrayContaining(['r.a', 'r.b', 't5.temperature', '1', '3']));
  });

  it('answers other methods and unknown sub-resources in the envelope', async () => {
    const res = await request(server.http, { method: 'DELETE', path: '/devices/a2/datapoints', headers: { 'api-key': keys['masterA']! } });
    expect(res.status).toBe(200);
    expect(res.json()).toEqual({ errno: 6, error: 'invalid parameter: DELETE /devices/a2/datapoints is not supported' });
  });
});

describe('OneNET binary data: POST /bindata, GET /bindata/{index}', () => {
  it('stores the bytes durably and serves them back; the stream holds the index', async () => {
    const bytes = randomBytes(50_000);
    const res = await post('/bindata?device_id=a1&datastream_id=pic&desc=testfile', bytes, keys['a1write'], { 'Content-Type': 'image/jpeg' });
    const body = res.json() as { errno: number; error: string; data: { index: string } };
    expect(body).toMatchObject({ errno: 0, error: 'succ' });
    expect(res.text()).toBe(`{"errno":0,"data":{"index":"${body.data.index}"},"error":"succ"}`);
    expect(body.data.index).toMatch(/^a1_\d{13}_pic$/);
    const back = await get(`/bindata/${body.data.index}`, keys['a1read']);
    expect(back.status).toBe(200);
    expect(back.headers['content-type']).toBe('application/octet-stream');
    expect(Buffer.compare(back.body, bytes)).toBe(0);
    const latest = data(await get('/devices/a1/datapoints?datastream_id=pic', keys['a1read']));
    expect(latest.datastreams[0]!.datapoints[0]!.value).toBe(body.data.index);
    // Two uploads in a row get two indexes.
    const second = (await post('/bindata?device_id=a1&datastream_id=pic', Buffer.from('x'), keys['a1write'])).json() as { data: { index: string } };
    expect(second.data.index).not.toBe(body.data.index);
    expect((await get(`/bindata/${second.data.index}`, keys['a1read'])).text()).toBe('x');
    expect(Buffer.compare((await get(`/bindata/${body.data.index}`, keys['a1read'])).body, bytes)).toBe(0);
  });

  it('refuses other tenants reading an index, and a device id holding `_` still resolves', async () => {
    const up = (await post('/bindata?device_id=a_1700000000000_x&datastream_id=y_z', Buffer.from('odd'), keys['masterA'])).json() as { data: { index: string } };
    expect((await get(`/bindata/${up.data.index}`, keys['prodAread'])).text()).toBe('odd');
    for (const key of [keys['a1read'], keys['masterB'], keys['revoked'], undefined]) {
      expect((await get(`/bindata/${up.data.index}`, key)).text()).toBe(AUTH_FAILED);
    }
    expect((await get('/bindata/garbage', keys['masterA'])).text()).toBe(AUTH_FAILED);
    expect((await get(`/bindata/a1_1_nothing`, keys['masterA'])).json()).toEqual({ errno: 6, error: 'invalid parameter: no binary data with this index' });
  });

  it('errno 3 for a missing device_id, datastream_id or body; errno 6 above 800 KB (nothing stored)', async () => {
    expect((await post('/bindata?datastream_id=x', Buffer.from('1'), keys['masterA'])).text()).toBe('{"errno":3,"error":"parameter required: device_id"}');
    expect((await post('/bindata?device_id=a1', Buffer.from('1'), keys['masterA'])).text()).toBe('{"errno":3,"error":"parameter required: datastream_id"}');
    expect((await post('/bindata?device_id=a1&datastream_id=bin.empty', '', keys['masterA'])).text()).toBe('{"errno":3,"error":"parameter required: body"}');
    const blank = (await post('/bindata?device_id=a1&datastream_id=bin.blank', '\r\n', keys['masterA'])).json() as { data: { index: string } };
    expect((await get(`/bindata/${blank.data.index}`, keys['masterA'])).text()).toBe('\r\n');
    const big = await post('/bindata?device_id=a1&datastream_id=bin.big', Buffer.alloc(800 * 1024 + 1), keys['masterA']);
    expect(big.json()).toEqual({ errno: 6, error: 'invalid parameter: Request body of 819201 bytes exceeds the limit of 819200 bytes' });
    const edge = await post('/bindata?device_id=a1&datastream_id=bin.edge', Buffer.alloc(800 * 1024, 7), keys['masterA']);
    expect((edge.json() as { errno: number }).errno).toBe(0);
    const edgeBack = await get(`/bindata/${(edge.json() as { data: { index: string } }).data.index}`, keys['masterA']);
    expect(Buffer.compare(edgeBack.body, Buffer.alloc(800 * 1024, 7))).toBe(0);
    expect(await stored('bin.big')).toEqual({});
    expect(await stored('bin.empty')).toEqual({});
  });
});

describe('OneNET with a damaged credential store', () => {
  it('fails closed: every key is refused (errno 1) and nothing is written', async () => {
    const fs = await import('node:fs');
    const { logPathOf } = await import('../helpers/credentials.js');
    fs.appendFileSync(logPathOf(server.dataDir), Buffer.alloc(64, 0x5a)); // not a record: damage, not a torn tail
    let text = '';
    for (let i = 0; i < 40 && text !== AUTH_FAILED; i++) {
      text = (await upload('a1', '{"damaged":1}', 3)).text();
      if (text !== AUTH_FAILED) await new Promise((r) => setTimeout(r, 100));
    }
    expect(text).toBe(AUTH_FAILED);
    for (const key of [keys['masterA'], keys['a1rw']]) {
      expect((await upload('a1', '{"damaged":2}', 3, key)).text()).toBe(AUTH_FAILED);
      expect((await get('/devices/a1/datapoints', key)).text()).toBe(AUTH_FAILED);
    }
    const points = (await stored('damaged'))['a1'] ?? [];
    // At most the uploads that raced the reload landed; none after the refusal.
    expect(points.every((p) => p[1] === 1)).toBe(true);
  });
});
