// OpenTSDB's discovery endpoints as pure functions (protocols.md §2.5): suggest request parsing
// and messages in SuggestRpc's order, both API generations' answers and errors, and the exact
// /api/version, /api/aggregators and /api/config/filters bodies (orders checked against a JVM,
// fixtures/java-golden.json; texts from OpenTSDB 2.4's sources).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { OPENTSDB_AGGREGATOR_NAMES } from '../../../src/protocols/opentsdb/aggregator-names.js';
import { OPENTSDB_AGGREGATORS } from '../../../src/protocols/opentsdb/datapoint.js';
import {
  DEFAULT_SUGGEST_MAX,
  OPENTSDB_FILTERS,
  encodeAggregators,
  encodeFilterConfig,
  encodeVersion,
  errorAnswer,
  jacksonBoolean,
  jacksonInt,
  jsonAnswer,
  legacyContentType,
  legacyVersionAnswer,
  methodNotAllowed,
  parseSuggestRequest,
  readJsonBody,
  strataBuildInfo,
  suggestAnswer,
  JsonNumberText,
  type DiscoveryRequest,
} from '../../../src/protocols/opentsdb/discovery.js';

const golden = JSON.parse(readFileSync(new URL('./fixtures/java-golden.json', import.meta.url), 'utf8')) as {
  aggregatorOrder: string[];
  filterOrder: string[];
  filterMetaOrder: string[];
  versionOrder: string[];
};

const enc = new TextEncoder();
const get = (query: string, apiVersion: 0 | 1 = 1): DiscoveryRequest => ({ method: 'GET', apiVersion, query, body: new Uint8Array(0) });
const post = (body: string, query = '', apiVersion: 0 | 1 = 1): DiscoveryRequest => ({ method: 'POST', apiVersion, query, body: enc.encode(body) });

describe('suggest requests (SuggestRpc)', () => {
  it('reads type, q and max from the query string; max defaults to 25', () => {
    expect(parseSuggestRequest(get('type=metrics&q=sys&max=10'))).toEqual({ type: 'metrics', q: 'sys', max: 10 });
    expect(parseSuggestRequest(get('type=tagk'))).toEqual({ type: 'tagk', q: '', max: DEFAULT_SUGGEST_MAX });
    expect(parseSuggestRequest(get('type=TAGV&q=web&max='))).toEqual({ type: 'tagv', q: 'web', max: 25 });
    expect(parseSuggestRequest(get('type=Metric&max=0'))).toEqual({ type: 'metrics', q: '', max: 25 });
    expect(parseSuggestRequest(get('type=metrics&max=-3'))).toEqual({ type: 'metrics', q: '', max: 25 });
    expect(parseSuggestRequest(get('type=metrics&q=a+b%2Fc&q=last&max=1000'))).toEqual({ type: 'metrics', q: 'last', max: 1000 });
  });

  it('reads a v1 POST body (values bound as strings); the legacy path reads the query string even on POST', () => {
    expect(parseSuggestRequest(post('{"type":"metrics","q":"sys","max":10}'))).toEqual({ type: 'metrics', q: 'sys', max: 10 });
    expect(parseSuggestRequest(post('{"type":"tagv","max":"5","extra":[1]}'))).toMatchObject({ message: 'Unable to parse the given JSON' });
    expect(parseSuggestRequest(post('{"type":"tagv","max":"5"} trailing'))).toEqual({ type: 'tagv', q: '', max: 5 });
    expect(parseSuggestRequest(post('{"type":"tagk","q":null}'))).toEqual({ type: 'tagk', q: '', max: 25 });
    expect(parseSuggestRequest(post('{"ignored":1}', 'type=metrics', 0))).toEqual({ type: 'metrics', q: '', max: 25 });
    // A body shaped like an error is just a body.
    expect(parseSuggestRequest(post('{"status":1,"message":"m","details":"d","type":"tagk"}'))).toEqual({ type: 'tagk', q: '', max: 25 });
  });

  it("answers OpenTSDB's messages, in its order", () => {
    expect(parseSuggestRequest(get(''))).toEqual({ status: 400, message: 'Missing parameter <code>type</code>', details: '' });
    expect(parseSuggestRequest(get('type='))).toEqual({ status: 400, message: 'Missing parameter <code>type</code>', details: '' });
    expect(parseSuggestRequest(post('{"q":"x"}'))).toEqual({ status: 400, message: "Missing 'type' parameter", details: '' });
    expect(parseSuggestRequest(post('{"type":""}'))).toEqual({ status: 400, message: "Missing 'type' parameter", details: '' });
    expect(parseSuggestRequest(get('type=x'))).toEqual({ status: 400, message: "Invalid 'type' parameter:x", details: 'Invalid type requested: x' });
    expect(parseSuggestRequest(get('type=metrics&max=abc'))).toEqual({ status: 400, message: "Unable to parse 'max' as a number", details: '' });
    expect(parseSuggestRequest(get('type=x&max=1.5'))).toMatchObject({ message: "Unable to parse 'max' as a number" });
    expect(parseSuggestRequest(post('{"type":"metrics","max":10.5}'))).toMatchObject({ message: "Unable to parse 'max' as a number" });
    expect(parseSuggestRequest(post(''))).toEqual({ status: 400, message: 'Missing message content', details: 'Supply valid JSON formatted data in the body of your request' });
    expect(parseSuggestRequest(post('{"type":'))).toMatchObject({ status: 400, message: 'Unable to parse the given JSON' });
    expect(parseSuggestRequest(post('["metrics"]'))).toEqual({
      status: 400,
      message: 'Unable to parse the given JSON',
      details: 'Cannot deserialize instance of `java.util.HashMap` out of START_ARRAY token',
    });
  });

  it('answers a JSON array of names, jsonp-wrapped on /api/… only', () => {
    expect(suggestAnswer(['a', 'b"c'], get('type=metrics'))).toEqual({ status: 200, body: '["a","b\\"c"]' });
    expect(suggestAnswer(['a'], get('type=metrics&jsonp=cb'))).toEqual({ status: 200, body: 'cb(["a"])' });
    expect(suggestAnswer(['a'], get('type=metrics&jsonp='))).toEqual({ status: 200, body: '["a"]' });
    expect(suggestAnswer([], get('type=metrics&jsonp=cb', 0))).toEqual({ status: 200, body: '[]' });
  });
});

describe('answers and errors of both API generations', () => {
  const err = { status: 400, message: 'Missing parameter <code>type</code>', details: '' };

  it('/api/…: the error envelope with its status, jsonp honoured', () => {
    expect(errorAnswer(err, get(''))).toEqual({ status: 400, body: '{"error":{"code":400,"message":"Missing parameter <code>type</code>"}}' });
    expect(errorAnswer({ status: 404, message: 'm', details: 'd' }, get('jsonp=f'))).toEqual({ status: 404, body: 'f({"error":{"code":404,"message":"m","details":"d"}})' });
    expect(methodNotAllowed({ method: 'DELETE', apiVersion: 1, query: '' })).toEqual({
      status: 405,
      body: '{"error":{"code":405,"message":"Method not allowed","details":"The HTTP method [DELETE] is not permitted for this endpoint"}}',
    });
  });

  it('legacy paths: always 400, {"err":…} with ?json, else the HTML page with the reason escaped', () => {
    expect(errorAnswer({ status: 405, message: 'Say "hi"', details: '' }, get('json', 0))).toEqual({ status: 400, body: '{"err":"Say \\"hi\\""}' });
    const page = errorAnswer(err, get('', 0));
    expect(page.status).toBe(400);
    expect(page.body.startsWith('<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 4.01 Transitional//EN"><html><head>')).toBe(true);
    expect(page.body).toContain('<title>Bad Request</title>');
    expect(page.body).toContain("Looks like it's your fault this time");
    expect(page.body).toContain('The reason provided was:<blockquote>Missing parameter &#60;code&#62;type&#60;/code&#62;</blockquote>');
    expect(page.body.endsWith('</table></body></html>')).toBe(true);
  });

  it('legacy Content-Type is sniffed from the body, as HttpQuery.guessMimeTypeFromContents does', () => {
    expect(legacyContentType('<html>')).toBe('text/html; charset=UTF-8');
    expect(legacyContentType('["a"]')).toBe('application/json');
    expect(legacyContentType('{"err":"x"}')).toBe('application/json');
    expect(legacyContentType('net.opentsdb.tools 2.4.0')).toBe('text/plain');
    expect(jsonAnswer('{}', get('jsonp=cb'), 201)).toEqual({ status: 201, body: 'cb({})' });
  });
});

describe('/api/version', () => {
  it('lists BuildData\'s keys in java.util.HashMap order, all strings', () => {
    const json = encodeVersion(strataBuildInfo('1.2.3'));
    expect(Object.keys(JSON.parse(json) as object)).toEqual(golden.versionOrder);
    expect(json).toBe('{"short_revision":"","repo":"","host":"","version":"1.2.3","full_revision":"","repo_status":"UNKNOWN","user":"","branch":"","timestamp":"0"}');
  });

  it('legacy /version: the telnet lines, or the map when the URI ends in json', () => {
    const info = strataBuildInfo('1.2.3');
    expect(legacyVersionAnswer(info, '/version')).toEqual({ status: 200, body: 'net.opentsdb.tools 1.2.3 built at revision  (UNKNOWN)\nBuilt on 1970/01/01 00:00:00 +0000 by @:\n' });
    expect(legacyVersionAnswer(info, '/version?json')).toEqual({ status: 200, body: encodeVersion(info) });
  });
});

describe('/api/aggregators', () => {
  it('holds exactly the 35 names of OpenTSDB 2.4, shared with the rollup checks', () => {
    expect(new Set(OPENTSDB_AGGREGATOR_NAMES).size).toBe(35);
    expect([...OPENTSDB_AGGREGATORS]).toEqual([...OPENTSDB_AGGREGATOR_NAMES]);
    expect(OPENTSDB_AGGREGATOR_NAMES).toEqual(expect.arrayContaining(['squareSum', 'pfsum', 'diff', 'median', 'none', 'ep999r7', 'p999']));
  });

  it("lists them in the iteration order of OpenTSDB's new HashMap<>(8) (checked on a JVM)", () => {
    expect(JSON.parse(encodeAggregators())).toEqual(golden.aggregatorOrder);
  });
});

describe('/api/config/filters', () => {
  // The texts of OpenTSDB 2.4's description() and examples() methods, word for word.
  const expected: Record<string, { examples: string; description: string }> = {
    literal_or: {
      examples: 'host=literal_or(web01),  host=literal_or(web01|web02|web03)  {"type":"literal_or","tagk":"host","filter":"web01|web02|web03","groupBy":false}',
      description:
        'Accepts one or more exact values and matches if the series contains any of them. Multiple values can be included and must be seperated by the | (pipe) character. The filter is case sensitive and will not allow characters that TSDB does not allow at write time.',
    },
    iliteral_or: {
      examples: 'host=iliteral_or(web01),  host=iliteral_or(web01|web02|web03)  {"type":"iliteral_or","tagk":"host","filter":"web01|web02|web03","groupBy":false}',
      description:
        'Accepts one or more exact values and matches if the series contains any of them. Multiple values can be included and must be seperated by the | (pipe) character. The filter is case insensitive and will not allow characters that TSDB does not allow at write time.',
    },
    not_literal_or: {
      examples: 'host=not_literal_or(web01),  host=not_literal_or(web01|web02|web03)  {"type":"not_literal_or","tagk":"host","filter":"web01|web02|web03","groupBy":false}',
      description:
        'Accepts one or more exact values and matches if the series does NOT contain any of them. Multiple values can be included and must be seperated by the | (pipe) character. The filter is case sensitive and will not allow characters that TSDB does not allow at write time.',
    },
    not_iliteral_or: {
      examples: 'host=not_iliteral_or(web01),  host=not_iliteral_or(web01|web02|web03)  {"type":"not_iliteral_or","tagk":"host","filter":"web01|web02|web03","groupBy":false}',
      description:
        'Accepts one or more exact values and matches if the series does NOT contain any of them. Multiple values can be included and must be seperated by the | (pipe) character. The filter is case insensitive and will not allow characters that TSDB does not allow at write time.',
    },
    wildcard: {
      examples: 'host=wildcard(web*),  host=wildcard(web*.tsdb.net)  {"type":"wildcard","tagk":"host","filter":"web*.tsdb.net","groupBy":false}',
      description:
        'Performs pre, post and in-fix glob matching of values. The globs are case sensitive and multiple wildcards can be used. The wildcard character is the * (asterisk). At least one wildcard must be present in the filter value. A wildcard by itself can be used as well to match on any value for the tag key.',
    },
    iwildcard: {
      examples: 'host=iwildcard(web*),  host=iwildcard(web*.tsdb.net)  {"type":"iwildcard","tagk":"host","filter":"web*.tsdb.net","groupBy":false}',
      description:
        'Performs pre, post and in-fix glob matching of values. The globs are case insensitive and multiple wildcards can be used. The wildcard character is the * (asterisk). Case insensitivity is achieved by dropping all values to lower case. At least one wildcard must be present in the filter value. A wildcard by itself can be used as well to match on any value for the tag key.',
    },
    regexp: {
      examples: 'host=regexp(.*)  {"type":"regexp","tagk":"host","filter":".*","groupBy":false}',
      description:
        'Provides full, POSIX compliant regular expression using the built in Java Pattern class. Note that an expression containing curly braces {} will not parse properly in URLs. If the pattern is not a valid regular expression then an exception will be raised.',
    },
  };

  it("holds the seven built-in filters with OpenTSDB's texts", () => {
    expect(OPENTSDB_FILTERS.map((f) => f.type)).toEqual(['literal_or', 'iliteral_or', 'not_literal_or', 'not_iliteral_or', 'regexp', 'wildcard', 'iwildcard']);
    const parsed = JSON.parse(encodeFilterConfig()) as Record<string, Record<string, string>>;
    expect(parsed).toEqual(expected);
  });

  it('orders the outer HashMap(7) and each inner HashMap(1) as a JVM does', () => {
    const parsed = JSON.parse(encodeFilterConfig()) as Record<string, Record<string, string>>;
    expect(Object.keys(parsed)).toEqual(golden.filterOrder);
    for (const meta of Object.values(parsed)) expect(Object.keys(meta)).toEqual(golden.filterMetaOrder);
    expect(encodeFilterConfig().startsWith('{"regexp":{"examples":"host=regexp(.*)  {\\"type\\":\\"regexp\\"')).toBe(true);
  });
});

describe("JSON bodies bound as Jackson binds them", () => {
  it('keeps number literals, ignores content after the value, reports syntax errors', () => {
    expect(readJsonBody(enc.encode('{"a":1.50}'))).toEqual({ a: new JsonNumberText('1.50') });
    expect(readJsonBody(enc.encode('[1] x'))).toEqual([new JsonNumberText('1')]);
    expect(readJsonBody(enc.encode('{"a":NaN}'))).toEqual({ a: new JsonNumberText('NaN') });
    expect(readJsonBody(enc.encode('{'))).toMatchObject({ status: 400, message: 'Unable to parse the given JSON' });
    expect(readJsonBody(new Uint8Array(0))).toMatchObject({ message: 'Missing message content' });
  });

  it('int and boolean coercions', () => {
    expect(jacksonInt(new JsonNumberText('10'))).toBe(10);
    expect(jacksonInt(new JsonNumberText('2.9'))).toBe(2);
    expect(jacksonInt(new JsonNumberText('3000000000'))).toBeUndefined();
    expect(jacksonInt(' 7 ')).toBe(7);
    expect(jacksonInt('')).toBe(0);
    expect(jacksonInt(null)).toBe(0);
    expect(jacksonInt('x')).toBeUndefined();
    expect(jacksonInt(true)).toBeUndefined();
    expect(jacksonBoolean(true)).toBe(true);
    expect(jacksonBoolean('False')).toBe(false);
    expect(jacksonBoolean(new JsonNumberText('0'))).toBe(false);
    expect(jacksonBoolean(new JsonNumberText('2'))).toBe(true);
    expect(jacksonBoolean('yes')).toBeUndefined();
    expect(jacksonBoolean([])).toBeUndefined();
  });
});
