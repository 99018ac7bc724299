// /api/rollup (protocols.md §2.3, §7): the three field combinations, OpenTSDB 2.4's checks and
// messages in order, the `_aggregate` tag, seconds-only timestamps, the stored series identity
// (ROLLUP_TAG_KEY) and chunk-split invariance.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  AGGREGATE_TAG_KEY,
  PREAGGREGATE_TAG_VALUE,
  ROLLUP_TAG_KEY,
  parseRollupTagValue,
  rollupTagValue,
} from '../../../src/protocols/opentsdb/rollup.js';
import { parsePutFlags, renderPutResponse } from '../../../src/protocols/opentsdb/response.js';
import { decode, enc, onlyError, splitAt } from './helpers.js';

const BASE = '"metric":"sys.cpu.nice","timestamp":1346846400,"value":18,"tags":{"host":"web01","dc":"lga"}';

function rollup(members: string, options: Parameters<typeof decode>[1] = {}): ReturnType<typeof decode> {
  return decode(`{${members}}`, { ...options, rollup: true });
}

describe('identity of stored rollups and pre-aggregates', () => {
  it('exports the reserved tag and its value format', () => {
    expect(ROLLUP_TAG_KEY).toBe('strata:rollup');
    expect(AGGREGATE_TAG_KEY).toBe('_aggregate');
    expect(rollupTagValue('1h', 'SUM')).toBe('1h:sum');
    expect(parseRollupTagValue('1h:sum')).toEqual({ interval: '1h', aggregator: 'sum' });
    expect(parseRollupTagValue(PREAGGREGATE_TAG_VALUE)).toBeUndefined();
  });

  it('interval + aggregator: a rollup, aggregator name case-insensitive', () => {
    const a = rollup(`${BASE},"interval":"1h","aggregator":"SUM"`);
    const b = rollup(`${BASE},"interval":"1h","aggregator":"sum"`);
    expect(a.points).toEqual([{ series: 'sys.cpu.nice{dc=lga,host=web01,strata:rollup=1h:sum}', t: 1346846400000, kind: 'i', value: 18n }]);
    expect(b.points).toEqual(a.points);
  });

  it('groupByAggregator only: a pre-aggregate with the upper-cased _aggregate tag', () => {
    expect(rollup(`${BASE},"groupByAggregator":"sum"`).points).toEqual([
      { series: 'sys.cpu.nice{_aggregate=SUM,dc=lga,host=web01,strata:rollup=preagg}', t: 1346846400000, kind: 'i', value: 18n },
    ]);
    // An aggregator without interval is ignored for a pre-aggregate.
    expect(rollup(`${BASE},"groupByAggregator":"Max","aggregator":"whatever"`).points[0]!.series).toBe(
      'sys.cpu.nice{_aggregate=MAX,dc=lga,host=web01,strata:rollup=preagg}',
    );
  });

  it('all three: a rolled-up pre-aggregate', () => {
    expect(rollup(`${BASE},"interval":"1h","aggregator":"max","groupByAggregator":"Sum"`).points[0]!.series).toBe(
      'sys.cpu.nice{_aggregate=SUM,dc=lga,host=web01,strata:rollup=1h:max}',
    );
  });

  it('a matching _aggregate tag (any case) is kept, upper-cased', () => {
    expect(rollup(`"metric":"m","timestamp":1,"value":1.5,"tags":{"host":"a","_aggregate":"sum"},"groupByAggregator":"SUM"`).points).toEqual([
      { series: 'm{_aggregate=SUM,host=a,strata:rollup=preagg}', t: 1000, kind: 'f', value: 1.5 },
    ]);
  });

  it('rollups never share a series with raw points of the same metric and tags', () => {
    const raw = decode(`{${BASE}}`).points[0]!.series;
    const r = rollup(`${BASE},"interval":"1h","aggregator":"sum"`).points[0]!.series;
    expect(raw).toBe('sys.cpu.nice{dc=lga,host=web01}');
    expect(r).not.toBe(raw);
  });
});

describe('checks and messages, in OpenTSDB order', () => {
  it('the /api/put checks come first', () => {
    expect(onlyError(rollup('"interval":"1h","aggregator":"sum"'))).toBe('Metric name was empty');
    expect(onlyError(rollup('"metric":"m","timestamp":1,"value":1'))).toBe('Missing tags');
  });

  it('Missing interval / Missing aggregator without groupByAggregator', () => {
    expect(onlyError(rollup(BASE))).toBe('Missing interval');
    expect(onlyError(rollup(`${BASE},"aggregator":"sum"`))).toBe('Missing interval');
    expect(onlyError(rollup(`${BASE},"interval":"","aggregator":"sum","groupByAggregator":""`))).toBe('Missing interval');
    expect(onlyError(rollup(`${BASE},"interval":"1h"`))).toBe('Missing aggregator');
    expect(onlyError(rollup(`${BASE},"interval":"1h","aggregator":null`))).toBe('Missing aggregator');
  });

  it('value conversion, then TSDB.addAggregatePoint', () => {
    expect(onlyError(rollup(`"metric":"m","timestamp":1,"value":"abc","tags":{"host":"a"},"interval":"1h","aggregator":"sum"`))).toBe(
      'Unable to parse value to a number',
    );
    expect(onlyError(rollup(`"metric":"m","timestamp":1,"value":1e999,"tags":{"host":"a"},"interval":"1h","aggregator":"sum"`))).toBe(
      'value is NaN or Infinite: Infinity for metric=m timestamp=1',
    );
  });

  it('an empty groupByAggregator with interval + aggregator', () => {
    expect(onlyError(rollup(`"metric":"m","timestamp":1,"value":1,"tags":{"host":"a"},"interval":"1h","aggregator":"sum","groupByAggregator":""`))).toBe(
      'Cannot write a group by data point without specifying the aggregation function. Metric=m tags={host=a}',
    );
  });

  it('timestamps are seconds only', () => {
    expect(onlyError(rollup(`"metric":"m","timestamp":1346846400000,"value":18,"tags":{"host":"a"},"interval":"1h","aggregator":"sum"`))).toBe(
      'bad timestamp=1346846400000 when trying to add value=[18]/0 to metric=m, tags={host=a}',
    );
    expect(rollup(`"metric":"m","timestamp":4294967295,"value":1,"tags":{"host":"a"},"interval":"1h","aggregator":"sum"`).points[0]!.t).toBe(4294967295000);
    expect(onlyError(rollup(`"metric":"m","timestamp":4294967296,"value":1,"tags":{"host":"a"},"groupByAggregator":"sum"`))).toMatch(/^bad timestamp=4294967296 /);
  });

  it('_aggregate tag that does not match the group-by function', () => {
    expect(onlyError(rollup(`"metric":"m","timestamp":1,"value":1,"tags":{"host":"a","_aggregate":"max"},"groupByAggregator":"sum"`))).toBe(
      'Given tag value for _aggregate of max did not match the group by aggregator of sum for m {_aggregate=max, host=a}',
    );
    expect(onlyError(rollup(`"metric":"m","timestamp":1,"value":1,"tags":{"host":"a","_aggregate":"SUM"},"interval":"1h","aggregator":"sum"`))).toBe(
      'Given tag value for _aggregate of SUM did not match the group by aggregator of null for m {_aggregate=SUM, host=a}',
    );
  });

  it('unknown group-by function (OpenTSDB looks it up lower-cased, so "squareSum" never matches); the echo carries the added tag', () => {
    const r = rollup(`"metric":"m","timestamp":1,"value":1,"tags":{"host":"a"},"groupByAggregator":"foo"`);
    expect(r.result.errors).toEqual([
      {
        datapoint: '{"metric":"m","timestamp":1,"value":"1","tags":{"_aggregate":"FOO","host":"a"},"groupByAggregator":"foo"}',
        error: 'Invalid group by aggregator foo with metric m {_aggregate=FOO, host=a}',
      },
    ]);
    expect(onlyError(rollup(`"metric":"m","timestamp":1,"value":1,"tags":{"host":"a"},"groupByAggregator":"squareSum"`))).toMatch(/^Invalid group by aggregator squareSum /);
    expect(rollup(`"metric":"m","timestamp":1,"value":1,"tags":{"host":"a"},"groupByAggregator":"P99"`).result.accepted).toBe(1);
  });

  it('derived aggregations (avg, dev) are refused unless blockDerivedRollups is false', () => {
    expect(onlyError(rollup(`"metric":"m","timestamp":1,"value":1,"tags":{"host":"a"},"groupByAggregator":"avg"`))).toBe(
      'Derived group by aggregations are not allowed avg with metric m {_aggregate=AVG, host=a}',
    );
    expect(onlyError(rollup(`"metric":"m","timestamp":1,"value":1,"tags":{"host":"a"},"interval":"1h","aggregator":"Dev"`))).toBe(
      'Derived rollup aggregations are not allowed DEV with metric m {host=a}',
    );
    expect(rollup(`"metric":"m","timestamp":1,"value":1,"tags":{"host":"a"},"interval":"1h","aggregator":"avg"`, { blockDerivedRollups: false }).points[0]!.series).toBe(
      'm{host=a,strata:rollup=1h:avg}',
    );
  });

  it('the _aggregate tag counts against maxTags; names are validated', () => {
    const eight = Array.from({ length: 8 }, (_, i) => `"k${i}":"v"`).join(',');
    expect(onlyError(rollup(`"metric":"m","timestamp":1,"value":1,"tags":{${eight}},"groupByAggregator":"sum"`))).toMatch(/^Too many tags: 9 maximum allowed: 8, tags: \{/);
    expect(onlyError(rollup(`"metric":"m m","timestamp":1,"value":1,"tags":{"host":"a"},"interval":"1h","aggregator":"sum"`))).toBe(
      'Invalid metric name ("m m"): illegal character:  ',
    );
  });

  it('an interval without rollup configured is "Unexpected exception" over HTTP', () => {
    expect(onlyError(rollup(`"metric":"m","timestamp":1,"value":1,"tags":{"host":"a"},"interval":"1x","aggregator":"sum"`))).toBe('Unexpected exception');
    expect(onlyError(rollup(`"metric":"m","timestamp":1,"value":1,"tags":{"host":"a"},"interval":"0h","aggregator":"sum"`))).toBe('Unexpected exception');
    const only1m = { rollupIntervals: ['1m'] };
    expect(onlyError(rollup(`"metric":"m","timestamp":1,"value":1,"tags":{"host":"a"},"interval":"1h","aggregator":"sum"`, only1m))).toBe('Unexpected exception');
    expect(rollup(`"metric":"m","timestamp":1,"value":1,"tags":{"host":"a"},"interval":"1m","aggregator":"sum"`, only1m).result.accepted).toBe(1);
  });

  it('interval + group-by without aggregator: "Aggregator cannot be null or empty"', () => {
    expect(onlyError(rollup(`"metric":"m","timestamp":1,"value":1,"tags":{"host":"a"},"interval":"1h","groupByAggregator":"sum"`))).toBe(
      'Aggregator cannot be null or empty',
    );
  });

  it('echoes RollUpDataPoint fields after the IncomingDataPoint ones', () => {
    const r = rollup(`"groupByAggregator":"sum","aggregator":"max","interval":"1h","tags":{"host":"a"},"value":1,"timestamp":1346846400000,"metric":"m"`);
    expect(r.result.errors[0]!.datapoint).toBe('{"metric":"m","timestamp":1346846400000,"value":"1","tags":{"host":"a"},"interval":"1h","aggregator":"max","groupByAggregator":"sum"}');
  });

  it('binding errors name RollUpDataPoint', () => {
    expect(rollup('"interval":{}').result.bodyError?.details).toMatch(/reference chain: net\.opentsdb\.rollup\.RollUpDataPoint\["interval"\]\)$/);
  });

  it('renders with the /api/put matrix', () => {
    const { result } = decode(`[{${BASE}},{${BASE},"interval":"1h","aggregator":"sum"}]`, { rollup: true });
    expect(renderPutResponse(result, parsePutFlags(new URLSearchParams('summary')))).toEqual({ status: 400, body: '{"success":1,"failed":1}' });
  });
});

describe('streaming', () => {
  it('chunk-split invariance (property)', () => {
    const extra = fc.constantFrom(
      ',"interval":"1h","aggregator":"SUM"',
      ',"groupByAggregator":"max"',
      ',"interval":"1h","aggregator":"sum","groupByAggregator":"Min"',
      ',"interval":"1h"',
      ',"groupByAggregator":"avg"',
      '',
    );
    const point = fc.tuple(fc.constantFrom('1346846400', '1346846400000', '"7"'), fc.constantFrom('1', '2.5', 'NaN', '"x"'), extra).map(
      ([ts, v, e]) => `{"metric":"m","timestamp":${ts},"value":${v},"tags":{"host":"a","_aggregate":"MAX"}${e}}`,
    );
    fc.assert(
      fc.property(fc.array(point, { minLength: 1, maxLength: 6 }), fc.array(fc.nat(), { maxLength: 10 }), (points, cuts) => {
        const bytes = enc.encode(`[${points.join(',')}]`);
        const whole = decode(bytes, { rollup: true });
        const split = decode(splitAt(bytes, cuts.map((c) => c % (bytes.length + 1))), { rollup: true });
        expect(split.result).toEqual(whole.result);
        expect(split.points).toEqual(whole.points);
      }),
      { numRuns: 100 },
    );
  });
});
