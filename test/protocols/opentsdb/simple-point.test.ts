// The /api/put fast path (src/protocols/opentsdb/simple-point.ts): what the scanner takes and
// leaves to the full path, and — the property that matters — that decoding with the fast path
// gives exactly what the full path gives (stored points, counts, details, body errors) for
// bodies mixing simple points with every kind of near-miss, sent twice on one decoder so the
// series memo is warm, cut into chunks anywhere.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SimplePoint, SimplePointSeriesMemo, scanSimplePoint } from '../../../src/protocols/opentsdb/simple-point.js';
import { OpenTsdbPutDecoder } from '../../../src/protocols/opentsdb/put.js';
import { collect, enc, splitAt, type StoredPoint } from './helpers.js';

function scan(text: string): { end: number; p: SimplePoint } {
  const bytes = enc.encode(text);
  const p = new SimplePoint();
  return { end: scanSimplePoint(bytes, 0, bytes.length, p), p };
}

describe('scanSimplePoint', () => {
  it('reads a plain point with its members in any order and blanks between tokens', () => {
    const text = '{"metric":"sys.cpu","timestamp":1704067200,"value":41.5,"tags":{"host":"a","dc":"x"}},';
    const { end, p } = scan(text);
    expect(end).toBe(text.length - 1);
    expect(text.slice(p.metricStart, p.metricEnd)).toBe('sys.cpu');
    expect(text.slice(p.tagsStart, p.tagsEnd)).toBe('{"host":"a","dc":"x"}');
    expect(p.timestamp).toBe(1704067200);
    expect(p.valueIsInteger).toBe(false);
    expect(p.value).toBe(41.5);
    const spaced = '{ "tags" : { "host" : "a" } , "value" : -7 ,\t"timestamp" : 1704067200123 , "metric" : "m" }]';
    const s = scan(spaced);
    expect(s.end).toBe(spaced.length - 1);
    expect(s.p.valueIsInteger).toBe(true);
    expect(s.p.value).toBe(-7);
    expect(s.p.timestamp).toBe(1704067200123);
  });

  it('computes values exactly (Clinger, exactDecimal) or leaves them to a full conversion (NaN)', () => {
    const valueOf = (literal: string): number => scan(`{"metric":"m","timestamp":1,"value":${literal},"tags":{"a":"b"}}]`).p.value;
    expect(valueOf('0.1')).toBe(0.1);
    expect(valueOf('-0.000001234')).toBe(-0.000001234);
    expect(valueOf('1e5')).toBe(1e5);
    expect(valueOf('2.5E-3')).toBe(2.5e-3);
    expect(valueOf('123456789012345')).toBe(123456789012345);
    expect(valueOf('1234567890123456')).toBeNaN(); // a 16-digit long: the full path keeps it exact (bigint)
    expect(valueOf('41.234567890123456')).toBe(41.234567890123456); // 17 digits: proven by exactDecimal
    expect(valueOf('4.1234567890123456789012')).toBeNaN(); // more than 19 digits: Number() of the text
    expect(valueOf('1e23')).toBeNaN();
    expect(Object.is(valueOf('-0.0'), -0)).toBe(true);
  });

  it('leaves everything else to the full path', () => {
    const notSimple = [
      '{"metric":"m","timestamp":1,"value":1,"tags":{}}', // empty tags: the full path's error
      '{"metric":"m","timestamp":1,"value":1}', // missing member
      '{"metric":"m","timestamp":1,"value":1,"tags":{"a":"b"},"tsuid":"x"}', // other member
      '{"metric":"m","metric":"n","timestamp":1,"value":1,"tags":{"a":"b"}}', // repeated member
      '{"metric":"m\\u0041","timestamp":1,"value":1,"tags":{"a":"b"}}', // escape
      '{"metric":"m","timestamp":1,"value":1,"tags":{"a":"b\\n"}}',
      '{"metric":"m","timestamp":"1","value":1,"tags":{"a":"b"}}', // coerced timestamp
      '{"metric":"m","timestamp":0,"value":1,"tags":{"a":"b"}}',
      '{"metric":"m","timestamp":-1,"value":1,"tags":{"a":"b"}}',
      '{"metric":"m","timestamp":1.5,"value":1,"tags":{"a":"b"}}',
      '{"metric":"m","timestamp":1e3,"value":1,"tags":{"a":"b"}}',
      '{"metric":"m","timestamp":12345678901234,"value":1,"tags":{"a":"b"}}', // 14 digits
      '{"metric":"m","timestamp":1,"value":"1","tags":{"a":"b"}}', // string value
      '{"metric":"m","timestamp":1,"value":NaN,"tags":{"a":"b"}}',
      '{"metric":"m","timestamp":1,"value":01,"tags":{"a":"b"}}', // not JSON
      '{"metric":"m","timestamp":1,"value":1.,"tags":{"a":"b"}}',
      '{"metric":"m","timestamp":1,"value":1,"tags":{"a":1}}', // coerced tag value
      '{"metric":"m","timestamp":1,"value":1,"tags":{"a":"b"},}',
      '{"metric":"m",\n"timestamp":1,"value":1,"tags":{"a":"b"}}', // line feed
      '{"metric":null,"timestamp":1,"value":1,"tags":{"a":"b"}}',
    ];
    for (const text of notSimple) expect(scan(`${text}]`).end, text).toBe(-1);
  });

  it('never reads past the limit: a point cut anywhere is not simple', () => {
    const text = '{"metric":"sys.cpu","timestamp":1704067200,"value":41.5,"tags":{"host":"a"}}';
    const bytes = enc.encode(`${text}]`);
    const p = new SimplePoint();
    for (let limit = 0; limit < text.length; limit++) expect(scanSimplePoint(bytes, 0, limit, p)).toBe(-1);
    expect(scanSimplePoint(bytes, 0, text.length, p)).toBe(text.length); // the closing '}' ends it
  });
});

describe('SimplePointSeriesMemo', () => {
  it('finds entries by exact metric and tags bytes, matches known tags objects in place, and forgets them on clear', () => {
    const memo = new SimplePointSeriesMemo(4, 1024);
    const b = enc.encode('cpu{"h":"a"}cpu{"h":"b"},');
    expect(memo.matchTags(b, 3, b.length)).toBe(-1);
    memo.add(b, 0, 3, 3, 12, 7);
    const a = memo.matchTags(b, 3, b.length);
    expect(a).toBeGreaterThanOrEqual(0);
    expect(memo.tagsLength(a)).toBe(9);
    expect(memo.lookup(b, 0, 3, a)).toBe(7);
    expect(memo.matchTags(b, 15, b.length)).toBe(-1); // {"h":"b"} not known
    expect(memo.matchTags(b, 3, 11)).toBe(-1); // cut before its end
    memo.add(b, 12, 15, 15, 24, 9);
    const bId = memo.matchTags(b, 15, b.length);
    expect(memo.lookup(b, 12, 15, bId)).toBe(9);
    expect(memo.lookup(b, 12, 15, a)).toBe(7); // equal metric bytes elsewhere, tags a: cpu{h=a}
    expect(memo.lookup(enc.encode('mem'), 0, 3, a)).toBe(-1);
    // A tags object shorter than the hashed prefix, followed by other bytes, is still found.
    const short = enc.encode('m{"a":"b"},"value":1');
    memo.add(short, 0, 1, 1, 10, 3);
    expect(memo.lookup(short, 0, 1, memo.matchTags(enc.encode('{"a":"b"},"timestamp":5'), 0, 24))).toBe(3);
    for (let e = 0; e < 3; e++) memo.add(enc.encode(`m${e}{"k":"v"}`), 0, 2, 2, 11, e); // passes maxEntries: cleared
    expect(memo.matchTags(b, 3, b.length)).toBe(-1);
    memo.clear();
    expect(memo.size).toBe(0);
  });

  it('does not learn bytes that could read as ±0 or NaN in its eight-byte compares (0x00, 0x7f, 0xff)', () => {
    const memo = new SimplePointSeriesMemo();
    for (const odd of [0x00, 0x7f, 0xff]) {
      const b = enc.encode('cpu{"h":"abcdefgh"}');
      b[10] = odd; // inside the tags object's string
      memo.add(b, 0, 3, 3, b.length, 1);
      const m = enc.encode('c_u{"h":"a"}');
      m[1] = odd; // inside the metric
      memo.add(m, 0, 3, 3, m.length, 2);
    }
    expect(memo.size).toBe(0);
    const plain = enc.encode('cpu{"h":"abcdefgh"}');
    memo.add(plain, 0, 3, 3, plain.length, 1);
    expect(memo.lookup(plain, 0, 3, memo.matchTags(plain, 3, plain.length))).toBe(1);
  });
});

// ---------------------------------------------------------------- equivalence with the full path

// Names of every length 1–9 (the scanner reads strings four bytes at a time: each word alignment),
// and the bytes that end a word run at each position: quote escapes, control bytes, DEL, UTF-8.
const METRICS = [
  '"sys.cpu.user"', '"mem"', '"bad metric"', '""', '"m\\u00e9"', 'null', '"x/y-z_1.0"',
  ...Array.from({ length: 9 }, (_, n) => `"${'abcdefghi'.slice(0, n + 1)}"`),
  '"ab\\"cd"', '"abcd\\nefgh"', '"abc\u0001de"', '"abcde\u001ffgh"', '"a\u007fb"', '"cpu.\u00e9t\u00e9"', '"cpu.usage_user"',
];
const TAG_PAIRS = ['"host":"a"', '"host":"b"', '"dc":"eu"', '"dc" : "us"', '"bad key":"v"', '"k":""', '"k":1', '"strata:rollup":"x"', '"t1":"1"', '"t2":"2"', '"t3":"3"', '"t4":"4"'];
const TIMESTAMPS = [
  '1704067200', '1', '0', '-5', '4294967295', '4294967296', '1704067200123', '9999999999999', '99999999999999', '"1704067200"', '1.9', '1e9', 'null',
  // 1–14 digits (four at a time, then bytes), and a run of digits ended by '.', 'e', 'E' or a letter at each alignment
  ...Array.from({ length: 14 }, (_, n) => '12345678901234'.slice(0, n + 1)), '1234.5', '12345678e1', '123456789E2', '1234x', '17040672001.5',
];
const VALUES = [
  '1', '-0', '0', '41.5', '-3.25e2', '1E-3', '0.1', '123456789012345', '1234567890123456', '9223372036854775808', '41.234567890123456', '"12"', '"x"', 'true', 'null', '1e999', '0.000001234', 'NaN', '-Infinity',
  // full-precision doubles as clients print them (15–17 significant digits), leading zeros after the point, cut runs
  '58.84017160725713', '0.30000000000000004', '99.99999999999999', '100', '1.2345678901234567890', '0.0001234567890123', '12345678.9012345', '1.2345e', '1.2345.6', '3.14159265358979e-5',
  // 16–19 significant digits with the point after each of the first 8 (where the runs of four end relative to digit 15)
  ...Array.from({ length: 8 }, (_, k) => `${'98765432'.slice(0, k + 1)}.${'1234567890123456789'.slice(0, 16 - k)}`),
  ...Array.from({ length: 8 }, (_, k) => `${'12345678'.slice(0, k + 1)}.${'9876543210987654321'.slice(0, 18 - k)}`),
];

const pointText = fc
  .record({
    metric: fc.constantFrom(...METRICS),
    tags: fc.oneof(fc.subarray(TAG_PAIRS, { minLength: 1, maxLength: 10 }), fc.constant([] as string[])),
    timestamp: fc.constantFrom(...TIMESTAMPS),
    value: fc.constantFrom(...VALUES),
    order: fc.constantFrom([0, 1, 2, 3], [3, 2, 1, 0], [1, 0, 3, 2], [0, 3, 1, 2], [0, 1, 2], [0, 1, 2, 3, 4], [0, 0, 1, 2, 3], [5, 1, 2, 3], [0, 1, 6, 3], [0, 7, 2, 3], [0, 1, 2, 8]),
    blank: fc.constantFrom('', ' ', '\t', '\n', '\r\n'),
  })
  .map(({ metric, tags, timestamp, value, order, blank }) => {
    const members = [
      `"metric":${metric}`, `"timestamp":${timestamp}`, `"value":${value}`, `"tags":{${tags.join(',')}}`, '"tsuid":"000001"',
      // keys one byte away from the four the scanner reads as words
      `"metrix":${metric}`, `"valuee":${value}`, `"timestamq":${timestamp}`, `"tag":{${tags.join(',')}}`,
    ];
    return `{${order.map((i) => members[i]!).join(`,${blank}`)}}`;
  });

const element = fc.oneof({ weight: 12, arbitrary: pointText }, { weight: 1, arbitrary: fc.constant('null') }, { weight: 1, arbitrary: fc.constant('"s"') });

interface Outcome {
  readonly result: unknown;
  readonly points: StoredPoint[];
}

/** Decodes each body in turn on one decoder (so later bodies meet a warm memo), cut at `cuts`. */
function decodeAll(bodies: readonly Uint8Array[], cuts: readonly number[], simplePoints: boolean): Outcome[] {
  let points: StoredPoint[] = [];
  const decoder = new OpenTsdbPutDecoder((b) => collect(points)(b), { simplePoints, maxPointsPerBatch: 7 });
  return bodies.map((body) => {
    points = [];
    decoder.begin({ details: true });
    for (const chunk of splitAt(body, cuts)) decoder.write(chunk);
    return { result: decoder.end(), points };
  });
}

describe('the fast path decodes exactly like the full path', () => {
  it('on random bodies of simple points and near-misses, whole or in chunks, memo cold and warm', () => {
    fc.assert(
      fc.property(
        fc.array(element, { minLength: 1, maxLength: 30 }),
        fc.constantFrom('', ' ', '\n'),
        fc.array(fc.nat(4000), { maxLength: 6 }),
        (elements, blank, cuts) => {
          const body = enc.encode(`[${blank}${elements.join(`,${blank}`)}${blank}]`);
          const bodies = [body, body, body];
          const full = decodeAll(bodies, cuts, false);
          const fast = decodeAll(bodies, cuts, true);
          expect(fast).toEqual(full);
        },
      ),
      { numRuns: 400 },
    );
  });

  it('reads no other key as one of the four, even when the metric and tags of the point are remembered', () => {
    // The scanner compares keys as words; the memo would store any point whose metric and tags
    // bytes it knows. So every one-byte change, cut and extension of each key, after a good point
    // with the same bytes, must decode as the full path decodes it.
    const names = ['metric', 'tags', 'timestamp', 'value'];
    const good = '{"metric":"cpu.usage_user","tags":{"hostname":"host_0","rack":"7"},"timestamp":1704067200,"value":58.84017160725713}';
    const variants: string[] = [];
    for (const name of names) {
      const others = new Set<string>([name.slice(0, -1), `${name}x`, `x${name}`, `${name} `]);
      for (let i = 0; i < name.length; i++) for (const c of ['x', name[i]!.toUpperCase(), '"', '\\', '\u0001']) others.add(name.slice(0, i) + c + name.slice(i + 1));
      for (const other of others) variants.push(good.replace(`"${name}":`, `"${other}":`));
    }
    const bodies = variants.map((v) => enc.encode(`[${good},${v}]`));
    expect(decodeAll(bodies, [], true)).toEqual(decodeAll(bodies, [], false));
  });

  it('takes the fast path for repeated simple points (the memo learns from accepted points only)', () => {
    const body = enc.encode(
      `[${Array.from({ length: 50 }, (_, i) => `{"metric":"cpu","timestamp":${1704067200 + i},"value":${i}.5,"tags":{"host":"h${i % 5}"}}`).join(',')},` +
        `{"metric":"bad metric","timestamp":1704067200,"value":1,"tags":{"host":"h0"}}]`,
    );
    const points: StoredPoint[] = [];
    const decoder = new OpenTsdbPutDecoder(collect(points));
    const memo = (decoder as unknown as { seriesMemo: SimplePointSeriesMemo }).seriesMemo;
    decoder.write(body);
    const result = decoder.end();
    expect(result.accepted).toBe(50);
    expect(result.failed).toBe(1);
    expect(memo.size).toBe(5); // h0 … h4 learnt; the refused metric not
    expect(points).toHaveLength(50);
    expect(points[49]).toEqual({ series: 'cpu{host=h4}', t: (1704067200 + 49) * 1000, kind: 'f', value: 49.5 });
  });
});
