// --opentsdb-max-tags over real sockets: a server started with a limit of 2 applies it to
// /api/put, /api/rollup and the line port's put and rollup, and every refusal states the
// configured number in OpenTSDB's words; KairosDB's putm keeps no limit.
import * as net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request, startServer, type RunningServer } from '../helpers/server.js';

let server: RunningServer;
beforeAll(async () => {
  server = await startServer({ args: ['--opentsdb-max-tags', '2'] });
});
afterAll(async () => {
  expect(await server.stop()).toBe(0);
});

const post = (path: string, body: unknown) =>
  request(server.http, { method: 'POST', path, body: JSON.stringify(body), headers: { 'Content-Type': 'application/json' } });

/** Sends `text` on one line-port connection, then `version` as a marker; resolves with the replies before the marker. */
function lineSession(text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let got = '';
    const s = net.connect(server.telnet, '127.0.0.1', () => s.write(`${text}version\n`));
    s.on('data', (d: Buffer) => {
      got += d.toString();
      const marker = got.indexOf('net.opentsdb.tools');
      if (marker >= 0 && got.endsWith('\n') && got.slice(marker).split('\n').length > 2) {
        s.end();
        resolve(got.slice(0, marker));
      }
    });
    s.on('error', reject);
  });
}

async function seriesOf(metric: string): Promise<string[]> {
  const res = await request(server.http, { method: 'GET', path: `/api/search/lookup?m=${metric}&limit=0` });
  if (res.status === 404) return [];
  const body = res.json() as { results: { tags: Record<string, string> }[] };
  return body.results.map((r) => JSON.stringify(r.tags)).sort();
}

describe('--opentsdb-max-tags 2', () => {
  it('/api/put: two tags are stored, three are refused with the configured maximum', async () => {
    const res = await post('/api/put?details', [
      { metric: 'mt.put', timestamp: 1364410924, value: 1, tags: { host: 'a', dc: 'x' } },
      { metric: 'mt.put', timestamp: 1364410924, value: 2, tags: { host: 'b', dc: 'x', rack: 'r1' } },
    ]);
    expect(res.status).toBe(400);
    expect(res.json()).toEqual({
      success: 1,
      failed: 1,
      errors: [
        {
          datapoint: { metric: 'mt.put', timestamp: 1364410924, value: '2', tags: { rack: 'r1', host: 'b', dc: 'x' } },
          error: 'Too many tags: 3 maximum allowed: 2, tags: {rack=r1, host=b, dc=x}',
        },
      ],
    });
    expect(await seriesOf('mt.put')).toEqual(['{"host":"a","dc":"x"}']);
  });

  it('/api/rollup: _aggregate counts against the limit', async () => {
    const res = await post('/api/rollup?details', [
      { metric: 'mt.rollup', timestamp: 1364410924, value: 1, tags: { host: 'a', dc: 'x' }, interval: '1h', aggregator: 'sum' },
      { metric: 'mt.rollup', timestamp: 1364410924, value: 1, tags: { host: 'a', dc: 'x' }, groupByAggregator: 'max' },
    ]);
    expect(res.status).toBe(400);
    expect(res.json()).toMatchObject({
      success: 1,
      failed: 1,
      errors: [{ error: 'Too many tags: 3 maximum allowed: 2, tags: {_aggregate=MAX, host=a, dc=x}' }],
    });
  });

  it('line port: put and rollup refuse a third tag with the configured maximum; putm has no limit', async () => {
    const replies = await lineSession(
      [
        'put mt.line 1364410924 1 host=a dc=x',
        'put mt.line 1364410924 2 host=b dc=x rack=r1',
        'rollup 1h-sum mt.line 1364410924 3 host=c dc=x rack=r1',
        'putm mt.kairos 1364410924000 4 a=1 b=2 c=3 d=4',
        '',
      ].join('\n'),
    );
    expect(replies).toBe(
      [
        'put: illegal argument: Too many tags: 3 maximum allowed: 2, tags: {rack=r1, host=b, dc=x}',
        'rollup: illegal argument: Too many tags: 3 maximum allowed: 2, tags: {rack=r1, host=c, dc=x}',
        '',
      ].join('\n'),
    );
    expect(await seriesOf('mt.line')).toEqual(['{"host":"a","dc":"x"}']);
    expect(await seriesOf('mt.kairos')).toEqual(['{"a":"1","b":"2","c":"3","d":"4"}']);
  });

  it('a limit below 1 stops the server at start with a clear message', async () => {
    await expect(startServer({ args: ['--opentsdb-max-tags', '0'] })).rejects.toThrow(/opentsdb-max-tags must be at least 1/);
  });
});
