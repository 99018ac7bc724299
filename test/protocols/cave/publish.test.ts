// The CAVE publish decoder: every 400 text (invalid JSON, Play's error list for missing paths and
// wrong types, the sanity rule, Strata's range/reserved-tag checks), all-or-nothing, the
// timestamp adjustment, and CAVE-account always set by the server (a publisher cannot choose it).
import { describe, expect, it } from 'vitest';
import type { WriteBatch } from '../../../engine/index.js';
import { ValueKind } from '../../../engine/index.js';
import { ServiceError, ServiceErrorCode } from '../../../src/errors.js';
import {
  CAVE_INSANE_METRIC_MESSAGE,
  CavePublishDecoder,
  adjustedTimestampSeconds,
  parseCavePublishBody,
  playErrorList,
} from '../../../src/protocols/cave/publish.js';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const missing = (path: string): string => `(${path},List(ValidationError(error.path.missing,WrappedArray())))`;
const expected = (path: string, what: string): string => `(${path},List(ValidationError(error.expected.${what},WrappedArray())))`;

function errorOf(body: string | Uint8Array): string {
  try {
    parseCavePublishBody(typeof body === 'string' ? enc(body) : body);
  } catch (err) {
    expect(err).toBeInstanceOf(ServiceError);
    expect((err as ServiceError).code).toBe(ServiceErrorCode.BadRequest);
    return (err as ServiceError).messages[0]!;
  }
  throw new Error('expected a refusal');
}

interface Stored {
  metric: string;
  tags: Record<string, string>;
  t: number;
  value: number;
}

/** A decoder whose sink records what it would append. */
function recording(): { decoder: CavePublishDecoder; stored: Stored[] } {
  const stored: Stored[] = [];
  const sink = (b: WriteBatch): void => {
    for (let i = 0; i < b.length; i++) {
      expect(b.kinds[i]).toBe(ValueKind.Float64);
      const key = b.series[b.seriesIndex[i]!]!;
      stored.push({ metric: key.metric, tags: { ...key.tags }, t: b.timestampsMs[i]!, value: b.floats[i]! });
    }
  };
  return { decoder: new CavePublishDecoder(sink), stored };
}

const metric = (over: Record<string, unknown> = {}): Record<string, unknown> => ({ name: 'cpu', timestamp: 1413540000, value: 1.5, tags: { host: 'a' }, ...over });
const body = (...metrics: unknown[]): string => JSON.stringify({ metrics });

describe('CAVE publish: JSON and shape errors', () => {
  it('not JSON, not UTF-8, empty', () => {
    expect(errorOf('{"metrics":[')).toBe('Bad Request: Invalid Json');
    expect(errorOf('')).toBe('Bad Request: Invalid Json');
    expect(errorOf(new Uint8Array([0x7b, 0xff, 0x7d]))).toBe('Bad Request: Invalid Json');
  });

  it('a top-level array, or no metrics key (the spec example, byte for byte)', () => {
    expect(errorOf('[]')).toBe('Cannot parse metrics: List((/metrics,List(ValidationError(error.path.missing,WrappedArray()))))');
    expect(errorOf('{}')).toBe(`Cannot parse metrics: List(${missing('/metrics')})`);
    expect(errorOf('null')).toBe(`Cannot parse metrics: List(${missing('/metrics')})`);
    expect(errorOf('{"metric":[]}')).toBe(`Cannot parse metrics: List(${missing('/metrics')})`);
  });

  it('metrics not an array', () => {
    expect(errorOf('{"metrics":{}}')).toBe(`Cannot parse metrics: List(${expected('/metrics', 'jsarray')})`);
    expect(errorOf('{"metrics":null}')).toBe(`Cannot parse metrics: List(${expected('/metrics', 'jsarray')})`);
  });

  it('each missing field, at its index', () => {
    for (const field of ['name', 'timestamp', 'value', 'tags']) {
      const m = metric();
      delete m[field];
      expect(errorOf(body(metric(), m))).toBe(`Cannot parse metrics: List(${missing(`/metrics(1)/${field}`)})`);
    }
  });

  it('each wrong type', () => {
    expect(errorOf(body(metric({ name: 5 })))).toBe(`Cannot parse metrics: List(${expected('/metrics(0)/name', 'jsstring')})`);
    expect(errorOf(body(metric({ name: null })))).toBe(`Cannot parse metrics: List(${expected('/metrics(0)/name', 'jsstring')})`);
    expect(errorOf(body(metric({ timestamp: '1413540000' })))).toBe(`Cannot parse metrics: List(${expected('/metrics(0)/timestamp', 'jsnumber')})`);
    expect(errorOf(body(metric({ value: '1.5' })))).toBe(`Cannot parse metrics: List(${expected('/metrics(0)/value', 'jsnumber')})`);
    expect(errorOf(body(metric({ value: true })))).toBe(`Cannot parse metrics: List(${expected('/metrics(0)/value', 'jsnumber')})`);
    expect(errorOf(body(metric({ tags: [] })))).toBe(`Cannot parse metrics: List(${expected('/metrics(0)/tags', 'jsobject')})`);
    expect(errorOf(body(metric({ tags: { host: 1 } })))).toBe(`Cannot parse metrics: List(${expected('/metrics(0)/tags/host', 'jsstring')})`);
  });

  it('lists every failure of every metric; a non-object metric misses all four fields', () => {
    expect(errorOf(body(metric({ name: 1, value: 'x' }), 7))).toBe(
      `Cannot parse metrics: List(${[
        expected('/metrics(0)/name', 'jsstring'),
        expected('/metrics(0)/value', 'jsnumber'),
        missing('/metrics(1)/name'),
        missing('/metrics(1)/timestamp'),
        missing('/metrics(1)/value'),
        missing('/metrics(1)/tags'),
      ].join(', ')})`,
    );
  });

  it('playErrorList prints several keys of one path as Play does', () => {
    expect(playErrorList([{ path: '/a', keys: ['x', 'y'] }])).toBe('List((/a,List(ValidationError(x,WrappedArray()), ValidationError(y,WrappedArray()))))');
  });
});

describe('CAVE publish: sanity and Strata checks', () => {
  const long = 'x'.repeat(128);
  const ok = 'x'.repeat(127);
  it('name, tag key, tag value must be < 128 chars; at most 10 tags; checked after the shape', () => {
    expect(errorOf(body(metric({ name: long })))).toBe(CAVE_INSANE_METRIC_MESSAGE);
    expect(errorOf(body(metric({ tags: { [long]: 'v' } })))).toBe(CAVE_INSANE_METRIC_MESSAGE);
    expect(errorOf(body(metric({ tags: { k: long } })))).toBe(CAVE_INSANE_METRIC_MESSAGE);
    const eleven = Object.fromEntries(Array.from({ length: 11 }, (_, i) => [`k${i}`, 'v']));
    expect(errorOf(body(metric({ tags: eleven })))).toBe(CAVE_INSANE_METRIC_MESSAGE);
    expect(CAVE_INSANE_METRIC_MESSAGE).toBe('Metric has too many tags or too long name, or too long tag name/value.');
    const ten = Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`k${i}`, ok]));
    expect(parseCavePublishBody(enc(body(metric({ name: ok, tags: ten }))))).toHaveLength(1);
    // Shape errors come first, even when another metric is insane.
    expect(errorOf(body(metric({ name: long }), metric({ value: 'x' })))).toMatch(/^Cannot parse metrics: /);
  });

  it('a user CAVE-account tag counts towards the 10 (CAVE checks before adding its own)', () => {
    const ten = Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`k${i}`, 'v']));
    expect(errorOf(body(metric({ tags: { ...ten, 'CAVE-account': 'other' } })))).toBe(CAVE_INSANE_METRIC_MESSAGE);
  });

  it('refuses the reserved rollup tag, timestamps and values the engine cannot store', () => {
    expect(errorOf(body(metric({ tags: { 'strata:rollup': '1h:sum' } })))).toBe("Metric tag 'strata:rollup' is reserved.");
    expect(errorOf(body(metric({ timestamp: -9e15 })))).toBe('Metric timestamp is out of range.');
    expect(errorOf('{"metrics":[{"name":"a","timestamp":1,"value":1e400,"tags":{}}]}')).toBe('Metric value is out of range.');
  });
});

describe('CAVE publish: stored points', () => {
  it('adjusts timestamps: seconds kept, ms/µs/ns divided by 1000 until ≤ 95617584000, fractions truncated', () => {
    expect(adjustedTimestampSeconds(1413540000)).toBe(1413540000);
    expect(adjustedTimestampSeconds(1413540000123)).toBe(1413540000);
    expect(adjustedTimestampSeconds(1413540000123456)).toBe(1413540000);
    expect(adjustedTimestampSeconds(1413540000123456789)).toBe(1413540000);
    expect(adjustedTimestampSeconds(95617584000)).toBe(95617584000);
    expect(adjustedTimestampSeconds(95617584001)).toBe(95617584);
    expect(adjustedTimestampSeconds(1.9)).toBe(1);
    expect(adjustedTimestampSeconds(-5)).toBe(-5);
  });

  it('stores name, tags and CAVE-account=<account> (overwriting the publisher own), drops CAVE-cluster, value as double, t in ms', () => {
    const { decoder, stored } = recording();
    const n = decoder.decode(
      enc(body(metric({ value: 2, tags: { host: 'a', 'CAVE-account': 'victim', 'CAVE-cluster': 'c1' } }), metric({ name: 'mem', timestamp: 1413540060000, tags: {} }))),
      'ops.gilt',
    );
    expect(n).toBe(2);
    expect(stored).toEqual([
      { metric: 'cpu', tags: { host: 'a', 'CAVE-account': 'ops.gilt' }, t: 1413540000000, value: 2 },
      { metric: 'mem', tags: { 'CAVE-account': 'ops.gilt' }, t: 1413540060000, value: 1.5 },
    ]);
  });

  it('all-or-nothing: one bad metric and nothing reaches the sink; an empty list stores nothing', () => {
    const { decoder, stored } = recording();
    expect(() => decoder.decode(enc(body(metric(), metric(), metric({ name: 'x'.repeat(200) }))), 'gilt')).toThrow(ServiceError);
    expect(() => decoder.decode(enc(body(metric(), metric({ tags: { a: 1 } }))), 'gilt')).toThrow(ServiceError);
    expect(stored).toEqual([]);
    expect(decoder.decode(enc('{"metrics":[]}'), 'gilt')).toBe(0);
    expect(stored).toEqual([]);
    // The decoder stays usable after refusals.
    expect(decoder.decode(enc(body(metric())), 'gilt')).toBe(1);
    expect(stored).toHaveLength(1);
  });

  it('a BOM before the JSON is skipped (Jackson does)', () => {
    expect(parseCavePublishBody(enc(`\uFEFF${body(metric())}`))).toHaveLength(1);
  });
});
