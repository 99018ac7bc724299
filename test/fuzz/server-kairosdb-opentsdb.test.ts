// Server-level fuzz slice, KairosDB, OpenTSDB and the line port: mutated bodies (the generators of
// test/fuzz/targets.ts) sent to the real built server over HTTP and the line port. For every
// request: no 5xx (but OpenTSDB's deliberate 500s, docs/guarantees.md §3), an answer in the
// protocol's own envelope — for ingest, exactly the answer the pure decoder gives in-process —
// and afterwards the server still answers good requests.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KairosDatapointsDecoder } from '../../src/protocols/kairosdb/ingest.js';
import { OpenTsdbPutDecoder } from '../../src/protocols/opentsdb/put.js';
import { queryStringOutputFlags } from '../../src/protocols/opentsdb/query.js';
import { parsePutFlags, renderPutResponse } from '../../src/protocols/opentsdb/response.js';
import { OpenTsdbRollupDecoder } from '../../src/protocols/opentsdb/rollup.js';
import { request, startServer, type HttpResult, type RunningServer } from '../helpers/server.js';
import { PER_ENDPOINT, inputs, json, lineExchange, pathSafe, pool, post } from './server-helpers.js';

// ------------------------------------------------------------------------------ KairosDB, OpenTSDB, line port

describe('KairosDB, OpenTSDB and the line port: mutated requests against the real server', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startServer();
  });
  afterAll(async () => {
    expect(await server.stop()).toBe(0);
  });

  it('KairosDB ingest: 204 or 400 {"errors":[…]}, exactly the in-process decoder\'s messages', async () => {
    const decoder = new KairosDatapointsDecoder(() => undefined);
    await pool(inputs('kairosdb-ingest', PER_ENDPOINT), 6, async (input) => {
      decoder.write(input.bytes);
      const expected = decoder.end().errors;
      const res = await post(server.http, '/api/v1/datapoints', input.bytes);
      if (expected.length === 0) expect(res.status, res.text()).toBe(204);
      else {
        expect(res.status).toBe(400);
        expect(json(res, 'kairos ingest')).toEqual({ errors: expected });
      }
    });
  });

  it('KairosDB query and query/tags: 200 {"queries":[…]} or 400 {"errors":[…]}', async () => {
    await pool(inputs('kairosdb-query', PER_ENDPOINT), 6, async (input) => {
      for (const path of ['/api/v1/datapoints/query', '/api/v1/datapoints/query/tags']) {
        const res = await post(server.http, path, input.bytes);
        expect([200, 400], `${path}: ${res.text().slice(0, 300)}`).toContain(res.status);
        const body = json(res, path) as { queries?: unknown[]; errors?: string[] };
        if (res.status === 200) expect(Array.isArray(body.queries)).toBe(true);
        else expect(body.errors!.length).toBeGreaterThan(0);
      }
    });
  });

  for (const kind of ['put', 'rollup'] as const) {
    it(`OpenTSDB /api/${kind}: the in-process decoder's status and body (no 5xx but an invalid sync_timeout's)`, async () => {
      const decoder = kind === 'put' ? new OpenTsdbPutDecoder(() => undefined) : new OpenTsdbRollupDecoder(() => undefined);
      await pool(inputs(kind === 'put' ? 'opentsdb-put' : 'opentsdb-rollup', PER_ENDPOINT), 6, async (input) => {
        const flags = parsePutFlags(new URLSearchParams(input.param));
        decoder.begin({ details: flags.details });
        decoder.write(input.bytes);
        const expected = renderPutResponse(decoder.end(), flags);
        const res = await post(server.http, `/api/${kind}${input.param === '' ? '' : `?${input.param}`}`, input.bytes);
        expect({ status: res.status, body: res.text() }).toEqual({ status: expected.body === '' ? 204 : expected.status, body: expected.body });
        if (res.status >= 500) expect(flags.syncTimeoutError).not.toBeNull();
      });
    });
  }

  it('OpenTSDB /api/query, POST JSON and GET query strings: 200 array or the error envelope', async () => {
    const check = (res: HttpResult, queryString: string): void => {
      // With a jsonp parameter every answer is wrapped as cb(…), as OpenTSDB does.
      const { jsonp } = queryStringOutputFlags(queryString);
      if (jsonp !== null) {
        expect(res.text().startsWith(`${jsonp}(`) && res.text().endsWith(')'), res.text().slice(0, 300)).toBe(true);
      }
      const text = jsonp !== null ? res.text().slice(jsonp.length + 1, -1) : res.text();
      let body: { error?: { code: number; message: string } };
      try {
        body = JSON.parse(text) as typeof body;
      } catch {
        throw new Error(`opentsdb query: ${res.status} body is not JSON: ${res.text().slice(0, 300)}`);
      }
      if (res.status === 200) expect(Array.isArray(body)).toBe(true);
      else {
        expect(body.error!.code).toBe(res.status);
        // OpenTSDB's StringIndexOutOfBoundsException for an empty part of m= is kept on purpose.
        if (res.status >= 500) expect(body.error!.message).toBe('String index out of range: 0');
        else expect(res.status).toBeGreaterThanOrEqual(400);
      }
    };
    await pool(inputs('opentsdb-query-post', PER_ENDPOINT), 6, async (input) => check(await post(server.http, `/api/query${input.param === '' ? '' : `?${input.param}`}`, input.bytes), input.param));
    await pool(inputs('opentsdb-query-get', PER_ENDPOINT), 6, async (input) => {
      const queryString = pathSafe(input.bytes);
      check(await request(server.http, { path: `/api/query?${queryString}` }), queryString);
    });
  });

  it('line port: every burst is answered in OpenTSDB\'s line forms and the connection still takes commands', async () => {
    const forms = [
      /^(put|putm|puts|rollup): /,
      /^unknown command: .*\. {2}Try `help'\.$/s,
      /^net\.opentsdb\.tools .* built at revision .*$/s,
      /^Built on .* by .*$/s,
      /^available commands: /,
      /^error: line too long \(more than 1024 bytes\)$/,
    ];
    await pool(inputs('telnet-line-port', PER_ENDPOINT), 6, async (input, i) => {
      const marker = `fuzz-marker-${i}`;
      // A first byte A-Z would make the port relay the connection to HTTP (OpenTSDB's sniff); a
      // leading blank line keeps every input on the line protocol this slice is about.
      const first = input.bytes[0] ?? 0;
      const lead = first >= 0x41 && first <= 0x5a ? '\n' : '';
      const sent = Buffer.concat([Buffer.from(lead), input.bytes, Buffer.from(`\n${marker}\n`)]);
      const { text, closed } = await lineExchange(server.telnet, sent, marker);
      const what = `input ${i}: ${JSON.stringify(sent.toString('latin1').slice(0, 400))} → ${JSON.stringify(text.slice(0, 400))}`;
      const lines = text.split('\n').slice(0, -1);
      for (const line of lines) expect(forms.some((re) => re.test(line)), `${JSON.stringify(line)} in ${what}`).toBe(true);
      // Either the marker was answered (the connection still reads commands) or the burst said exit.
      if (!text.includes(`unknown command: ${marker}.`)) {
        expect(closed, what).toBe(true);
        expect(/(^|[\r\n\t ])exit([\r\n\t ]|$)/.test(sent.toString('latin1')), what).toBe(true);
      }
    });
  });

  it('still answers good requests on every endpoint afterwards', async () => {
    const t = 1_704_067_200;
    expect((await request(server.http, { method: 'POST', path: '/api/v1/datapoints', body: JSON.stringify([{ name: 'after.fuzz', timestamp: t * 1000, value: 1, tags: { h: 'a' } }]) })).status).toBe(204);
    expect((await request(server.http, { method: 'POST', path: '/api/put', body: JSON.stringify({ metric: 'after.fuzz', timestamp: t + 1, value: 2, tags: { h: 'a' } }) })).status).toBe(204);
    const q = await request(server.http, { method: 'POST', path: '/api/query', body: JSON.stringify({ start: t, end: t + 10, queries: [{ aggregator: 'sum', metric: 'after.fuzz' }] }) });
    expect(q.status).toBe(200);
    expect(q.json()).toEqual([{ metric: 'after.fuzz', tags: { h: 'a' }, aggregateTags: [], dps: { [t]: 1, [t + 1]: 2 } }]);
    const { text } = await lineExchange(server.telnet, Buffer.from('version\n'), 'Built on');
    expect(text).toMatch(/^net\.opentsdb\.tools /);
  });
});
