// OneNET firmware on the wire (protocols.md §4.4, §5): raw sockets replaying what device firmware
// sends byte for byte — HTTP/1.0, `api-key:KEY` without a space, no or a wrong Content-Type, stray
// CRLFs after the body, `Connection: close` — against the firmware port (--onenet-port) and the
// HTTP port, checking the exact response bytes and that the server closes the connection. Also
// pins what uWebSockets.js does with firmware HTTP on the HTTP port itself (why the firmware port
// exists), and the configured time zone on a second server.
import * as net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CredentialStore } from '../../src/auth/index.js';
import { request, startServer, type RunningServer } from '../helpers/server.js';
import { tempDir } from '../helpers/tmp.js';

let server: RunningServer;
let key = '';
let readKey = '';

beforeAll(async () => {
  const dataDir = tempDir();
  const store = CredentialStore.open(dataDir, { log: () => undefined });
  key = store.createProduct('fw').secret;
  store.createDevice('fw', '123');
  store.createDevice('fw', '124');
  readKey = store.createOneNetKey('fw', { permissions: ['read'] }).secret;
  server = await startServer({ dataDir, args: ['--onenet-port', '0'] });
});
afterAll(async () => {
  expect(await server.stop()).toBe(0);
});

/** Writes `bytes` on a new connection; resolves with what came back and whether the server closed first. */
function exchange(port: number, bytes: string | Buffer, waitMs = 1500): Promise<{ text: string; closedByServer: boolean }> {
  return new Promise((resolve) => {
    let text = '';
    let settled = false;
    const s = net.connect(port, '127.0.0.1', () => s.write(bytes));
    const finish = (closedByServer: boolean): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      s.destroy();
      resolve({ text, closedByServer });
    };
    s.on('data', (d) => (text += d.toString('latin1')));
    s.on('end', () => finish(true));
    s.on('error', () => finish(true));
    const timer = setTimeout(() => finish(false), waitMs);
  });
}

/** The response with its Date header removed (the only varying part). */
const withoutDate = (text: string) => text.replace(/\r\nDate: [^\r]*/i, '');

async function stored(metric: string): Promise<unknown[][]> {
  const res = await request(server.http, { method: 'POST', path: '/api/v1/datapoints/query', body: JSON.stringify({ start_absolute: 0, metrics: [{ name: metric, tags: { device_id: ['123'] } }] }) });
  return (res.json() as { queries: { results: { values: unknown[][] }[] }[] }).queries[0]!.results[0]!.values;
}

const FIRMWARE_BODY = ',;fw.temperature,2015-03-22 22:31:12,22.5;102;fw.pm2.5,89;10';
const firmwareRequest = (apiKey: string, body = FIRMWARE_BODY, version = '1.0', extra = '') =>
  `POST /devices/123/datapoints?type=5 HTTP/${version}\r\napi-key:${apiKey}\r\nHost:api.heclouds.com\r\n${extra}Content-Length:${Buffer.byteLength(body)}\r\n\r\n${body}\r\n\r\n`;
const SUCCESS_RESPONSE = 'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nuWebSockets: 20\r\nContent-Length: 26\r\nConnection: close\r\n\r\n{"errno":0,"error":"succ"}';

describe('OneNET firmware port (--onenet-port)', () => {
  it('replays a firmware upload byte for byte: HTTP/1.0, api-key:KEY, no Content-Type, stray CRLFs; answers 200 + envelope and closes', async () => {
    const { text, closedByServer } = await exchange(server.onenet!, firmwareRequest(key));
    expect(withoutDate(text)).toBe(SUCCESS_RESPONSE);
    expect(closedByServer).toBe(true);
    expect(await stored('fw.temperature')).toEqual([[Date.UTC(2015, 2, 22, 14, 31, 12), 22.5]]);
    expect((await stored('fw.pm2.5')).map((p) => p[1])).toEqual([89]);
    expect((await stored('1')).map((p) => p[1])).toEqual([102]);
    expect((await stored('3')).map((p) => p[1])).toEqual([10]);
  });

  it('refuses a wrong key with errno 1 and closes, storing nothing', async () => {
    const { text, closedByServer } = await exchange(server.onenet!, firmwareRequest('WRONGKEY', ',;fw.refused,1'));
    expect(withoutDate(text)).toBe('HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nuWebSockets: 20\r\nContent-Length: 33\r\nConnection: close\r\n\r\n{"errno":1,"error":"auth failed"}');
    expect(closedByServer).toBe(true);
    const read = await request(server.http, { method: 'POST', path: '/api/v1/datapoints/query', body: JSON.stringify({ start_absolute: 0, metrics: [{ name: 'fw.refused' }] }) });
    expect((read.json() as { queries: { results: { values: unknown[] }[] }[] }).queries[0]!.results[0]!.values).toEqual([]);
  });

  it('HTTP/1.1 keep-alive: stray CRLFs between pipelined requests, both answered in order on one connection', async () => {
    const body1 = '{"fw.keep":1}';
    const body2 = '{"fw.keep2":2}';
    const bytes =
      `POST /devices/123/datapoints?type=3 HTTP/1.1\r\napi-key:${key}\r\nHost:api.heclouds.com\r\nContent-Length:${body1.length}\r\n\r\n${body1}\r\n\r\n` +
      `POST /devices/123/datapoints?type=3 HTTP/1.1\r\napi-key: ${key}\r\nHost:api.heclouds.com\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length:${body2.length}\r\n\r\n${body2}`;
    const { text, closedByServer } = await exchange(server.onenet!, bytes, 800);
    expect(closedByServer).toBe(false);
    expect(text.match(/\{"errno":0,"error":"succ"\}/g)).toHaveLength(2);
    expect(text).not.toContain('Connection: close');
    expect((await stored('fw.keep')).map((p) => p[1])).toEqual([1]);
    expect((await stored('fw.keep2')).map((p) => p[1])).toEqual([2]);
  });

  it('HTTP/1.1 with Connection: close, HTTP/1.0 without Host, bare LF line ends: answered and closed', async () => {
    for (const bytes of [
      firmwareRequest(key, ',;fw.close,1', '1.1', 'Connection: close\r\n'),
      `POST /devices/123/datapoints?type=5 HTTP/1.0\r\napi-key:${key}\r\nContent-Length:12\r\n\r\n,;fw.close,2`,
      `POST /devices/123/datapoints?type=5 HTTP/1.0\napi-key:${key}\nContent-Length:12\n\n,;fw.close,3\n`,
    ]) {
      const { text, closedByServer } = await exchange(server.onenet!, bytes);
      expect(withoutDate(text)).toBe(SUCCESS_RESPONSE);
      expect(closedByServer).toBe(true);
      await new Promise((r) => setTimeout(r, 2)); // distinct server times: the three points do not replace each other
    }
    expect((await stored('fw.close')).map((p) => p[1])).toEqual([1, 2, 3]);
  });

  it('serves reads (HTTP/1.0 GET) and binary uploads through the firmware port too', async () => {
    const { text } = await exchange(server.onenet!, `GET /devices/123/datapoints?datastream_id=fw.temperature HTTP/1.0\r\napi-key:${readKey}\r\n\r\n`);
    expect(text.endsWith('{"errno":0,"data":{"count":1,"datastreams":[{"id":"fw.temperature","datapoints":[{"at":"2015-03-22 22:31:12.000","value":22.5}]}]},"error":"succ"}')).toBe(true);
    const bin = await exchange(server.onenet!, Buffer.from(`POST /bindata?device_id=124&datastream_id=img HTTP/1.0\r\napi-key:${key}\r\nContent-Length:4\r\n\r\n\x00\x01\x02\xff\r\n`, 'latin1'));
    const index = /"index":"([^"]+)"/.exec(bin.text)![1]!;
    const back = await exchange(server.onenet!, `GET /bindata/${index} HTTP/1.0\r\napi-key:${readKey}\r\n\r\n`);
    expect(back.text.endsWith('\r\n\r\n\x00\x01\x02\xff')).toBe(true);
  });

  it('answers bytes that are not HTTP with 400 + errno 6 and closes', async () => {
    const { text, closedByServer } = await exchange(server.onenet!, 'hello there\r\nno:thing\r\n\r\n');
    expect(text).toBe('HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nContent-Length: 63\r\nConnection: close\r\n\r\n{"errno":6,"error":"invalid parameter: malformed request line"}');
    expect(closedByServer).toBe(true);
  });
});

describe('OneNET firmware on the HTTP port (uWebSockets.js)', () => {
  it('HTTP/1.1 firmware works: api-key:KEY without a space, no Content-Type, stray CRLFs, Connection: close honoured', async () => {
    const { text, closedByServer } = await exchange(server.http, firmwareRequest(key, ',;fw.http,5', '1.1', 'Connection: close\r\n'));
    expect(withoutDate(text)).toBe('HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nuWebSockets: 20\r\nContent-Length: 26\r\n\r\n{"errno":0,"error":"succ"}');
    expect(closedByServer).toBe(true);
    expect((await stored('fw.http')).map((p) => p[1])).toEqual([5]);
  });

  it('pins the limitation the firmware port exists for: uWS answers nothing to an HTTP/1.0 request line', async () => {
    const { text } = await exchange(server.http, firmwareRequest(key, ',;fw.http10,1'), 400);
    expect(text).toBe('');
  });
});

describe('OneNET time zone (--onenet-time-zone)', () => {
  it('reads `at` without a zone, and prints read times, in the configured zone; a zone in `at` wins', async () => {
    const dataDir = tempDir();
    const store = CredentialStore.open(dataDir, { log: () => undefined });
    const master = store.createProduct('tz').secret;
    store.createDevice('tz', 'd');
    const other = await startServer({ dataDir, args: ['--onenet-time-zone=-05:30'] });
    try {
      const body = '{"datastreams":[{"id":"tz","datapoints":[{"at":"2015-03-22T22:31:12","value":1},{"at":"2015-03-23T00:00:00Z","value":2}]}]}';
      const up = await request(other.http, { method: 'POST', path: '/devices/d/datapoints', body, headers: { 'api-key': master } });
      expect(up.text()).toBe('{"errno":0,"error":"succ"}');
      const q = await request(other.http, { method: 'POST', path: '/api/v1/datapoints/query', body: JSON.stringify({ start_absolute: 0, metrics: [{ name: 'tz' }] }) });
      expect((q.json() as { queries: { results: { values: unknown[][] }[] }[] }).queries[0]!.results[0]!.values).toEqual([
        [Date.UTC(2015, 2, 23, 4, 1, 12), 1],
        [Date.UTC(2015, 2, 23, 0, 0, 0), 2],
      ].sort((a, b) => (a[0] as number) - (b[0] as number)));
      const read = await request(other.http, { path: '/devices/d/datapoints?datastream_id=tz&start=2015-03-22T00:00:00', headers: { 'api-key': master } });
      expect(read.text()).toContain('{"at":"2015-03-22 18:30:00.000","value":2},{"at":"2015-03-22 22:31:12.000","value":1}');
    } finally {
      expect(await other.stop()).toBe(0);
    }
  });

  it('refuses a malformed zone at start', async () => {
    await expect(startServer({ args: ['--onenet-time-zone', '+8'] })).rejects.toThrow(/onenet-time-zone must be an offset/);
  });
});
