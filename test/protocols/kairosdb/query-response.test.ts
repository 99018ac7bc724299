// KairosDB response encoding: org.json number and string formatting, the result shapes of
// /datapoints/query, /query/tags and the name listings (protocols.md §1.3–§1.5).
import { describe, expect, it } from 'vitest';
import {
  encodeKairosNames,
  encodeKairosQueryResponse,
  encodeKairosTagsResponse,
  javaDoubleToString,
  javaQuote,
  jsonDoubleText,
} from '../../../src/protocols/kairosdb/query-response.js';
import { ServiceError } from '../../../src/errors.js';
import { Points } from '../../../src/query/points.js';

describe('Java number formatting', () => {
  it('prints doubles as Double.toString', () => {
    const cases: [number, string][] = [
      [0, '0.0'],
      [-0, '-0.0'],
      [1, '1.0'],
      [1.5, '1.5'],
      [100, '100.0'],
      [0.001, '0.001'],
      [0.0001, '1.0E-4'],
      [9_999_999, '9999999.0'],
      [10_000_000, '1.0E7'],
      [12_345_678.9, '1.23456789E7'],
      [-2.5e-7, '-2.5E-7'],
      [1e21, '1.0E21'],
      [Number.NaN, 'NaN'],
    ];
    for (const [v, text] of cases) expect(javaDoubleToString(v), String(v)).toBe(text);
  });

  it('strips trailing zeros as org.json does, keeping exponents', () => {
    const cases: [number, string][] = [
      [12, '12'],
      [0.5, '0.5'],
      [-0, '-0'],
      [0, '0'],
      [1e7, '1.0E7'],
      [123.456, '123.456'],
      [3e-5, '3.0E-5'],
    ];
    for (const [v, text] of cases) expect(jsonDoubleText(v), String(v)).toBe(text);
  });

  it('quotes strings like JSONObject.quote', () => {
    expect(javaQuote('plain')).toBe('"plain"');
    expect(javaQuote('')).toBe('""');
    expect(javaQuote('a"b\\c')).toBe('"a\\"b\\\\c"');
    expect(javaQuote('</script>/x')).toBe('"<\\/script>/x"');
    expect(javaQuote('\n\t\r\b\f\u0001')).toBe('"\\n\\t\\r\\b\\f\\u0001"');
    expect(javaQuote('\u0085\u2028€é日本')).toBe('"\\u0085\\u2028\\u20ac' + 'é日本"');
  });
});

function points(build: (p: Points) => void): Points {
  const p = new Points();
  build(p);
  return p;
}

describe('encodeKairosQueryResponse', () => {
  it('writes the documented shape with group_by, tags, alias, and every value kind', () => {
    const text = encodeKairosQueryResponse([
      {
        sampleSize: 5,
        groups: [
          {
            name: 'm',
            alias: 'A',
            groupBy: [
              { name: 'time', rangeSize: { value: 2, unit: 'MILLISECONDS' }, groupCount: 2, groupNumber: 0 },
              { name: 'tag', tags: ['host'], group: [['host', 'server1']] },
              { name: 'type', type: 'number' },
            ],
            tags: [['host', ['server1']], ['z', ['a', 'b']]],
            points: points((p) => {
              p.pushDouble(1, 1.5);
              p.pushLong(2, 9007199254740993n);
              p.pushLongNumber(3, -7);
              p.pushText(4, 2, 'x"y');
              p.pushText(5, 3, '{"a":1}');
              p.pushNull(6);
              p.pushDouble(7, 20);
            }),
          },
        ],
      },
      { sampleSize: 0, groups: [{ name: 'empty', groupBy: [], tags: [], points: new Points() }] },
      { sampleSize: 0, groups: [{ name: 'e', groupBy: [{ name: 'value', rangeSize: 5, groupNumber: 0 }, { name: 'bin', bins: [10, 2.5], binNumber: 1 }], tags: undefined, points: new Points() }] },
    ]);
    expect(text).toBe(
      '{"queries":[' +
        '{"sample_size":5,"results":[{"name":"m","alias":"A","group_by":[' +
        '{"name":"time","range_size":{"value":2,"unit":"MILLISECONDS"},"group_count":2,"group":{"group_number":0}},' +
        '{"name":"tag","tags":["host"],"group":{"host":"server1"}},{"name":"type","type":"number"}],' +
        '"tags":{"host":["server1"],"z":["a","b"]},' +
        '"values":[[1,1.5],[2,9007199254740993],[3,-7],[4,"x\\"y"],[5,{"a":1}],[6,null],[7,20.0]]}]},' +
        '{"sample_size":0,"results":[{"name":"empty","tags":{},"values":[]}]},' +
        '{"sample_size":0,"results":[{"name":"e","group_by":[{"name":"value","range_size":5,"group":{"group_number":0}},' +
        '{"name":"bin","bins":[10,2.5],"group":{"bin_number":1}}],"values":[]}]}]}',
    );
    expect(() => JSON.parse(text)).not.toThrow();
  });

  it('fails like KairosDB on NaN and Infinity', () => {
    const group = { name: 'm', groupBy: [], tags: [], points: points((p) => p.pushDouble(1, Number.NaN)) };
    expect(() => encodeKairosQueryResponse([{ sampleSize: 1, groups: [group] }])).toThrow(ServiceError);
    expect(() => encodeKairosQueryResponse([{ sampleSize: 1, groups: [group] }])).toThrow(/^NaN or Infinity:NaN/);
  });

  it('writes many values in chunks without losing any', () => {
    const p = points((q) => {
      for (let i = 0; i < 5000; i++) q.pushLongNumber(i, i * 2);
    });
    const parsed = JSON.parse(encodeKairosQueryResponse([{ sampleSize: 5000, groups: [{ name: 'm', groupBy: [], tags: [], points: p }] }])) as {
      queries: { results: { values: number[][] }[] }[];
    };
    const values = parsed.queries[0]!.results[0]!.values;
    expect(values).toHaveLength(5000);
    expect(values[4999]).toEqual([4999, 9998]);
  });
});

describe('tags and names', () => {
  it('answers /query/tags in the real shape', () => {
    expect(encodeKairosTagsResponse([{ name: 'abc_123', tags: [['dc', ['awsuse']], ['host', ['server1']]] }, { name: 'none', tags: [] }])).toBe(
      '{"queries":[{"results":[{"name":"abc_123","tags":{"dc":["awsuse"],"host":["server1"]},"values":[]}]},' +
        '{"results":[{"name":"none","tags":{},"values":[]}]}]}',
    );
  });

  it('answers listings as {"results":[...]}', () => {
    expect(encodeKairosNames(['cpu', 'memory'])).toBe('{"results":["cpu","memory"]}');
    expect(encodeKairosNames([])).toBe('{"results":[]}');
  });
});
