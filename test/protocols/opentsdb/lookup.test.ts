// /api/search as pure functions (protocols.md §2.5; SearchRpc, Tags.parseWithMetric, SearchQuery):
// request parsing and messages, the other search types, the LOOKUP answer byte for byte, tsuids.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { DiscoveryRequest } from '../../../src/protocols/opentsdb/discovery.js';
import {
  javaFloatOfInteger,
  lookupAnswer,
  parseLookupRequest,
  parseOtherSearchRequest,
  parseSearchType,
  parseTsuid,
  parseWithMetric,
  searchMethodError,
  seriesTsuid,
  type LookupPair,
} from '../../../src/protocols/opentsdb/lookup.js';

const golden = JSON.parse(readFileSync(new URL('./fixtures/java-golden.json', import.meta.url), 'utf8')) as {
  lookupResultOrder: string[];
  floatStrings: { ms: number; text: string }[];
};

const enc = new TextEncoder();
const get = (query: string): DiscoveryRequest => ({ method: 'GET', apiVersion: 1, query, body: new Uint8Array(0) });
const post = (body: string): DiscoveryRequest => ({ method: 'POST', apiVersion: 1, query: '', body: enc.encode(body) });
const m = (text: string): string => `m=${encodeURIComponent(text)}`;

describe('Tags.parseWithMetric (lookup form)', () => {
  const parse = (text: string): { metric: string | null; tags: LookupPair[] } | string => {
    const tags: LookupPair[] = [];
    try {
      return { metric: parseWithMetric(text, tags), tags };
    } catch (err) {
      return (err as Error).message;
    }
  };

  it('metric, tags, wildcards and value- or key-only pairs', () => {
    expect(parse('sys.cpu')).toEqual({ metric: 'sys.cpu', tags: [] });
    expect(parse('sys.cpu{}')).toEqual({ metric: 'sys.cpu', tags: [] });
    expect(parse('sys.cpu{host=*,dc=lga}')).toEqual({ metric: 'sys.cpu', tags: [{ key: 'host', value: '*' }, { key: 'dc', value: 'lga' }] });
    expect(parse('{*=web01}')).toEqual({ metric: null, tags: [{ key: '*', value: 'web01' }] });
    expect(parse('{=web01,host=}')).toEqual({ metric: null, tags: [{ key: null, value: 'web01' }, { key: 'host', value: null }] });
    expect(parse('*{host=a,host=b}')).toEqual({ metric: '*', tags: [{ key: 'host', value: 'a' }, { key: 'host', value: 'b' }] });
  });

  it("OpenTSDB's messages", () => {
    expect(parse('')).toBe('Metric string was empty');
    expect(parse('sys{')).toBe("Missing '}' at the end of: sys{");
    expect(parse('{}')).toBe('Missing metric and tags: {}');
    expect(parse('sys{host}')).toBe("When parsing tag 'host': invalid tag: host");
    expect(parse('sys{a=b=c}')).toBe("When parsing tag 'a=b=c': invalid tag: a=b=c");
    expect(parse('sys{h}')).toBe("When parsing tag 'h': Missing tag pair");
    expect(parse('sys{a=b,}')).toBe("When parsing tag '': Missing tag pair");
  });
});

describe('lookup requests', () => {
  it('GET: m and limit (default 25)', () => {
    expect(parseLookupRequest(get(`${m('sys.cpu{host=*}')}&limit=1000`))).toEqual({ metric: 'sys.cpu', tags: [{ key: 'host', value: '*' }], limit: 1000, startIndex: 0, query: null });
    expect(parseLookupRequest(get(m('sys.cpu')))).toMatchObject({ limit: 25, tags: [] });
  });

  it('POST: a SearchQuery body; tags absent stay absent', () => {
    expect(parseLookupRequest(post('{"metric":"sys.cpu","tags":[{"key":"host","value":"*"}],"limit":"5","useMeta":false,"unknown":{}}'))).toEqual({
      metric: 'sys.cpu',
      tags: [{ key: 'host', value: '*' }],
      limit: 5,
      startIndex: 0,
      query: null,
    });
    expect(parseLookupRequest(post('{"metric":"m","startIndex":3,"query":"q"}'))).toEqual({ metric: 'm', tags: null, limit: 25, startIndex: 3, query: 'q' });
    expect(parseLookupRequest(post('{"tags":[{"value":"web01"}]}'))).toMatchObject({ metric: null, tags: [{ key: null, value: 'web01' }] });
  });

  it("errors, in SearchRpc's words", () => {
    expect(parseLookupRequest(get(''))).toEqual({ status: 400, message: 'Missing parameter <code>m</code>', details: '' });
    expect(parseLookupRequest(get(m('sys{')))).toEqual({ status: 400, message: 'Unable to parse query', details: "Missing '}' at the end of: sys{" });
    expect(parseLookupRequest(get(`${m('sys')}&limit=x`))).toEqual({ status: 400, message: "Unable to convert 'limit' to a valid number", details: '' });
    expect(parseLookupRequest(post('{}'))).toEqual({ status: 400, message: 'Missing metric and tags. Please supply at least one value.', details: '' });
    expect(parseLookupRequest(post('{"tags":[]}'))).toMatchObject({ message: 'Missing metric and tags. Please supply at least one value.' });
    expect(parseLookupRequest(post('{"metric":"m","tags":"host=a"}'))).toMatchObject({ status: 400, message: 'Unable to parse the given JSON' });
    expect(parseLookupRequest(post('{"metric":{}}'))).toMatchObject({ message: 'Unable to parse the given JSON' });
    expect(parseLookupRequest(post('{"metric":"m","limit":true}'))).toMatchObject({ message: 'Unable to parse the given JSON' });
    expect(parseLookupRequest(post('{"metric":"m","tags":[1]}'))).toMatchObject({ message: 'Unable to parse the given JSON' });
    expect(parseLookupRequest(post('{"metric":'))).toMatchObject({ message: 'Unable to parse the given JSON' });
  });

  it('search types, methods and the types without a search plugin', () => {
    expect(parseSearchType('lookup')).toBe('LOOKUP');
    expect(parseSearchType('TSMeta_Summary')).toBe('TSMETA_SUMMARY');
    expect(parseSearchType('nope')).toEqual({ status: 400, message: 'Invalid search query type supplied', details: 'Unknown type: nope' });
    expect(searchMethodError('GET')).toBeUndefined();
    expect(searchMethodError('DELETE')).toEqual({ status: 400, message: 'Unsupported method: DELETE', details: '' });
    expect(parseOtherSearchRequest(get(''))).toMatchObject({ message: 'Missing parameter <code>query</code>' });
    expect(parseOtherSearchRequest(get('query=x&start_index=y'))).toMatchObject({ message: "Unable to convert 'start_index' to a valid number" });
    expect(parseOtherSearchRequest(get('query=name:*'))).toEqual({ status: 400, message: 'Searching is not enabled', details: 'Searching has not been enabled on this TSD' });
    expect(parseOtherSearchRequest(post('{"query":"x"}'))).toMatchObject({ message: 'Searching is not enabled' });
  });
});

describe('the LOOKUP answer', () => {
  const series = [
    { metric: 'sys.cpu', tags: { host: 'web01', dc: 'lga' } },
    { metric: 'sys.cpu', tags: { host: 'web02', dc: 'lga' } },
  ];

  it('is SearchQuery as Jackson writes it, results {tsuid, metric, tags} in a JVM\'s order', () => {
    const query = { metric: 'sys.cpu', tags: [{ key: 'host', value: '*' }], limit: 1000, startIndex: 0, query: null };
    const answer = lookupAnswer(query, series, 12, get(''));
    expect(answer.status).toBe(200);
    expect(answer.body).toBe(
      '{"type":"LOOKUP","metric":"sys.cpu","tags":[{"key":"host","value":"*"}],"limit":1000,"time":12.0,"results":[' +
        `{"tsuid":"${seriesTsuid(series[0]!)}","metric":"sys.cpu","tags":{"host":"web01","dc":"lga"}},` +
        `{"tsuid":"${seriesTsuid(series[1]!)}","metric":"sys.cpu","tags":{"host":"web02","dc":"lga"}}` +
        '],"startIndex":0,"totalResults":2}',
    );
    const parsed = JSON.parse(answer.body) as { results: Record<string, unknown>[] };
    expect(Object.keys(parsed.results[0]!)).toEqual(golden.lookupResultOrder);
  });

  it('leaves out a null metric and absent tags, echoes query, writes null sides, wraps jsonp', () => {
    const body = lookupAnswer({ metric: null, tags: [{ key: null, value: 'web01' }], limit: 25, startIndex: 0, query: null }, [], 0, get('jsonp=cb')).body;
    expect(body).toBe('cb({"type":"LOOKUP","tags":[{"key":null,"value":"web01"}],"limit":25,"time":0.0,"results":[],"startIndex":0,"totalResults":0})');
    expect(lookupAnswer({ metric: 'm', tags: null, limit: 25, startIndex: 4, query: 'q' }, [], 1, get('')).body).toBe(
      '{"type":"LOOKUP","query":"q","metric":"m","limit":25,"time":1.0,"results":[],"startIndex":4,"totalResults":0}',
    );
  });

  it('writes time as Java\'s Float.toString', () => {
    for (const g of golden.floatStrings) expect(javaFloatOfInteger(g.ms), String(g.ms)).toBe(g.text);
  });

  it('tsuids: upper-case hex of the canonical key, reversible, distinct per series', () => {
    const t = seriesTsuid({ metric: 'm', tags: { b: '2', a: '1' } });
    expect(t).toBe(Buffer.from('m{a=1,b=2}').toString('hex').toUpperCase());
    expect(parseTsuid(t)).toBe('m{a=1,b=2}');
    expect(parseTsuid(t.toLowerCase())).toBe('m{a=1,b=2}');
    expect(seriesTsuid({ metric: '温度', tags: { 城市: '北京' } })).not.toBe(seriesTsuid({ metric: '温度', tags: { 城市: '上海' } }));
    expect(parseTsuid('0000150000070010D0')).toBeUndefined();
    expect(parseTsuid('XYZ')).toBeUndefined();
    expect(parseTsuid('')).toBeUndefined();
  });
});
