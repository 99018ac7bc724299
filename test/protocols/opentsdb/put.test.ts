// /api/put body decoder (protocols.md §2.2, §7): per-point checks and messages in OpenTSDB 2.4's
// order, Jackson's binding (coercions, body-level failures), the echo of failed points, values and
// timestamps, all-or-nothing staging, and chunk-split invariance.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { OpenTsdbPutDecoder, OPENTSDB_PUT_DECISIONS, PointMessage, BodyMessage } from '../../../src/protocols/opentsdb/put.js';
import { collect, decode, enc, onlyError, splitAt, type StoredPoint } from './helpers.js';

const TAGS = '"tags":{"host":"web01"}';

/** A one-point body with the given members (JSON text, without braces). */
function one(members: string): string {
  return `{${members}}`;
}

describe('per-point checks, in OpenTSDB order and words', () => {
  it('accepts a valid point and stores it as int64 at second resolution', () => {
    const r = decode(one(`"metric":"sys.cpu.nice","timestamp":1346846400,"value":18,${TAGS}`));
    expect(r.result).toEqual({ bodyError: null, total: 1, accepted: 1, failed: 0, errors: [], acceptedEchoes: [] });
    expect(r.points).toEqual([{ series: 'sys.cpu.nice{host=web01}', t: 1346846400000, kind: 'i', value: 18n }]);
  });

  it('Metric name was empty (absent, null, "")', () => {
    for (const m of ['', '"metric":null,', '"metric":"",']) {
      expect(onlyError(decode(one(`${m}"timestamp":1,"value":1,${TAGS}`)))).toBe(PointMessage.MetricEmpty);
    }
    expect(PointMessage.MetricEmpty).toBe('Metric name was empty');
  });

  it('Invalid timestamp (absent, 0, negative, null, "", "null", truncated to 0, NaN)', () => {
    for (const ts of ['', '"timestamp":0,', '"timestamp":-5,', '"timestamp":null,', '"timestamp":"",', '"timestamp":" null ",', '"timestamp":0.9,', '"timestamp":-0.5,', '"timestamp":NaN,']) {
      expect(onlyError(decode(one(`"metric":"m",${ts}"value":1,${TAGS}`))), ts).toBe('Invalid timestamp');
    }
  });

  it('Empty value (absent, null, "")', () => {
    for (const v of ['', '"value":null,', '"value":"",']) {
      expect(onlyError(decode(one(`"metric":"m","timestamp":1,${v}${TAGS}`))), v).toBe('Empty value');
    }
  });

  it('Missing tags (absent, null, {})', () => {
    for (const t of ['', ',"tags":null', ',"tags":{}']) {
      expect(onlyError(decode(one(`"metric":"m","timestamp":1,"value":1${t}`))), t).toBe('Missing tags');
    }
  });

  it('checks in order: metric, timestamp, value, tags', () => {
    expect(onlyError(decode('{}'))).toBe('Metric name was empty');
    expect(onlyError(decode('{"metric":"m"}'))).toBe('Invalid timestamp');
    expect(onlyError(decode('{"metric":"m","timestamp":1}'))).toBe('Empty value');
    expect(onlyError(decode('{"metric":"m","timestamp":1,"value":"x"}'))).toBe('Missing tags');
  });

  it('Unable to parse value to a number (text, non-numeric literals, too long, two points)', () => {
    for (const v of ['"abc"', '"test"', 'NaN', '-Infinity', '+INF', '"Infinity"', '12345678901234567890', '"00000000000000000001"', '"1.2.3"', 'true', '"1,5"', '" 12"']) {
      expect(onlyError(decode(one(`"metric":"m","timestamp":1,"value":${v},${TAGS}`))), v).toBe('Unable to parse value to a number');
    }
  });

  it('value is NaN or Infinite', () => {
    expect(onlyError(decode(one(`"metric":"sys.cpu","timestamp":1346846400,"value":1e999,${TAGS}`)))).toBe(
      'value is NaN or Infinite: Infinity for metric=sys.cpu timestamp=1346846400',
    );
    expect(onlyError(decode(one(`"metric":"m","timestamp":1346846400123,"value":"-2e400",${TAGS}`)))).toBe(
      'value is NaN or Infinite: -Infinity for metric=m timestamp=1346846400123',
    );
  });

  it('bad timestamp: milliseconds above 9999999999999, with the value encoding and tags', () => {
    expect(onlyError(decode(one(`"metric":"sys.cpu","timestamp":10000000000000,"value":42,"tags":{"host":"web01","dc":"lga"}`)))).toBe(
      'bad timestamp=10000000000000 when trying to add value=[42]/0 to metric=sys.cpu, tags={host=web01, dc=lga}',
    );
    expect(onlyError(decode(one(`"metric":"m","timestamp":99999999999999999,"value":1.5,${TAGS}`)))).toBe(
      'bad timestamp=99999999999999999 when trying to add value=[63, -64, 0, 0]/11 to metric=m, tags={host=web01}',
    );
    expect(onlyError(decode(one(`"metric":"m","timestamp":9223372036854775807,"value":0.1,${TAGS}`)))).toBe(
      'bad timestamp=9223372036854775807 when trying to add value=[63, -71, -103, -103, -103, -103, -103, -102]/15 to metric=m, tags={host=web01}',
    );
  });

  it('Too many tags (default 8, configurable), counted after duplicate keys collapse', () => {
    const nine = Array.from({ length: 9 }, (_, i) => `"k${i}":"v"`).join(',');
    expect(onlyError(decode(one(`"metric":"m","timestamp":1,"value":1,"tags":{${nine}}`)))).toBe(
      'Too many tags: 9 maximum allowed: 8, tags: {k0=v, k1=v, k2=v, k3=v, k4=v, k5=v, k6=v, k7=v, k8=v}',
    );
    expect(decode(one(`"metric":"m","timestamp":1,"value":1,"tags":{${nine},"k0":"w"}`), { maxTags: 9 }).result.accepted).toBe(1);
    expect(onlyError(decode(one(`"metric":"m","timestamp":1,"value":1,"tags":{"a":"1","b":"2"}`), { maxTags: 1 }))).toBe(
      'Too many tags: 2 maximum allowed: 1, tags: {a=1, b=2}',
    );
  });

  it('illegal characters in metric, tag names and values; null and empty tag parts', () => {
    expect(onlyError(decode(one(`"metric":"Abin76+-","timestamp":123456,"value":6.7,"tags":{"test":"test"}`)))).toBe(
      'Invalid metric name ("Abin76+-"): illegal character: +',
    );
    expect(onlyError(decode(one(`"metric":"m","timestamp":1,"value":1,"tags":{"host":"web#1"}`)))).toBe('Invalid tag value ("web#1"): illegal character: #');
    expect(onlyError(decode(one(`"metric":"m","timestamp":1,"value":1,"tags":{"ho st":"a"}`)))).toBe('Invalid tag name ("ho st"): illegal character:  ');
    expect(onlyError(decode(one(`"metric":"m","timestamp":1,"value":1,"tags":{"host":null}`)))).toBe('Invalid tag value: null');
    expect(onlyError(decode(one(`"metric":"m","timestamp":1,"value":1,"tags":{"":"x"}`)))).toBe('Invalid tag name: empty string');
    expect(onlyError(decode(one(`"metric":"m","timestamp":1,"value":1,"tags":{"host":""}`)))).toBe('Invalid tag value: empty string');
    // Unicode letters are allowed; allowSpecialChars widens the set.
    expect(decode(one(`"metric":"température","timestamp":1,"value":1,"tags":{"ville":"Zürich"}`)).result.accepted).toBe(1);
    expect(decode(one(`"metric":"a:b","timestamp":1,"value":1,${TAGS}`), { allowSpecialChars: ':' }).result.accepted).toBe(1);
  });

  it('tags are checked in java.util.HashMap order (the first invalid one in that order is reported)', () => {
    // java.util.HashMap puts "host" (bucket 8) before "dc" (bucket 15), whatever the body's order.
    const r = decode(one(`"metric":"m","timestamp":1,"value":1,"tags":{"dc":"a#","host":"b#"}`));
    expect(onlyError(r)).toBe('Invalid tag value ("b#"): illegal character: #');
  });

  it('refuses the reserved rollup tag key, even when ":" is allowed', () => {
    for (const allow of ['', ':']) {
      expect(onlyError(decode(one(`"metric":"m","timestamp":1,"value":1,"tags":{"strata:rollup":"1h:sum"}`), { allowSpecialChars: allow }))).toBe(
        'Invalid tag name ("strata:rollup"): illegal character: :',
      );
    }
  });

  it('a null array element is a failed point: "Unexpected exception", datapoint null', () => {
    const r = decode(`[null,{"metric":"m","timestamp":1,"value":1,${TAGS}}]`);
    expect(r.result).toMatchObject({ total: 2, accepted: 1, failed: 1, errors: [{ datapoint: 'null', error: 'Unexpected exception' }] });
  });
});

describe('Jackson binding: coercions', () => {
  it('numbers and booleans bind to string fields as their literal', () => {
    const r = decode(one(`"metric":7.0,"timestamp":1,"value":1.50,"tags":{"a":1,"b":true,"c":-0}`));
    expect(r.points).toEqual([{ series: '7.0{a=1,b=true,c=-0}', t: 1000, kind: 'f', value: 1.5 }]);
  });

  it('timestamps: decimals truncate, numeric strings parse (trimmed), exponents work', () => {
    const r = decode(
      `[{"metric":"m","timestamp":1234567.7,"value":1,${TAGS}},{"metric":"m","timestamp":" 1234567 ","value":2,${TAGS}},` +
        `{"metric":"m","timestamp":"+42","value":3,${TAGS}},{"metric":"m","timestamp":1.5e9,"value":4,${TAGS}}]`,
    );
    expect(r.points.map((p) => p.t)).toEqual([1234567000, 1234567000, 42000, 1500000000000]);
  });

  it('unknown fields of any shape are ignored; duplicate fields: the last wins; tsuid is kept for the echo', () => {
    const r = decode(
      one(`"extra":{"a":[1,{"b":2}]},"metric":"old","metric":"m","tsuid":"000001","timestamp":1,"value":1,"more":[[]],"tags":{"x":"1"},"tags":{"host":"a","host":"b"}`),
    );
    expect(r.points.map((p) => p.series)).toEqual(['m{host=b}']);
  });

  it('rollup fields are unknown to /api/put', () => {
    expect(decode(one(`"metric":"m","timestamp":1,"value":1,${TAGS},"interval":{},"aggregator":[1]`)).result.accepted).toBe(1);
  });
});

describe('values (protocols.md §7) and timestamps (seconds vs milliseconds)', () => {
  it('integer text is an exact int64; text with . e E is a float64 (Java grammar)', () => {
    const values = ['9007199254740993', '9223372036854775807', '-9223372036854775808', '"123"', '"+7"', '-0', '1.5', '1E5', '"0x1.8p1"', '"1.5f"', '"2.5d"', '1e39', '" 2.5 "'];
    const body = `[${values.map((v) => `{"metric":"m","timestamp":1,"value":${v},${TAGS}}`).join(',')}]`;
    const r = decode(body);
    expect(r.result.accepted).toBe(values.length);
    expect(r.points.map((p) => [p.kind, p.value])).toEqual([
      ['i', 9007199254740993n],
      ['i', 9223372036854775807n],
      ['i', -9223372036854775808n],
      ['i', 123n],
      ['i', 7n],
      ['i', 0n],
      ['f', 1.5],
      ['f', 100000],
      ['f', 3],
      ['f', 1.5],
      ['f', 2.5],
      ['f', 1e39],
      ['f', 2.5],
    ]);
  });

  it('seconds up to 4294967295, milliseconds above, at most 9999999999999', () => {
    const ts = [1, 4294967295, 4294967296, 1364410924250, 9999999999999];
    const r = decode(`[${ts.map((t) => `{"metric":"m","timestamp":${t},"value":1,${TAGS}}`).join(',')}]`);
    expect(r.points.map((p) => p.t)).toEqual([1000, 4294967295000, 4294967296, 1364410924250, 9999999999999]);
    expect(onlyError(decode(one(`"metric":"m","timestamp":10000000000000,"value":1,${TAGS}`)))).toMatch(/^bad timestamp=10000000000000 /);
  });
});

describe('echo of failed points (details entries)', () => {
  it("Jackson's bean order, null fields left out, value as given, tags in HashMap order", () => {
    const r = decode(one(`"value":1.50,"tags":{"dc":"lga","host":"web01"},"tsuid":"0001","timestamp":"12"`));
    expect(r.result.errors).toEqual([{ datapoint: '{"timestamp":12,"value":"1.50","tags":{"host":"web01","dc":"lga"},"tsuid":"0001"}', error: 'Metric name was empty' }]);
  });

  it('matches the OpenTSDB 2.4 captures', () => {
    expect(decode(one(`"timestamp": 123456, "value": 6.7, "tags": {"test": "test"}`)).result.errors[0]!.datapoint).toBe(
      '{"timestamp":123456,"value":"6.7","tags":{"test":"test"}}',
    );
    expect(decode(one(`"metric": "test", "timestamp": "123456", "value": "test", "tags": {"test": "test"}`)).result.errors).toEqual([
      { datapoint: '{"metric":"test","timestamp":123456,"value":"test","tags":{"test":"test"}}', error: 'Unable to parse value to a number' },
    ]);
    expect(decode(one(`"metric":"test","value":6.7,"tags":{"test":"test"}`)).result.errors[0]!.datapoint).toBe(
      '{"metric":"test","timestamp":0,"value":"6.7","tags":{"test":"test"}}',
    );
  });

  it('escapes strings as Jackson does and echoes non-numeric literals as text', () => {
    const r = decode(one(`"metric":"a\\"b\\u0001","timestamp":1,"value":NaN,"tags":{"k":"é"}`));
    expect(r.result.errors[0]!.datapoint).toBe('{"metric":"a\\"b\\u0001","timestamp":1,"value":"NaN","tags":{"k":"é"}}');
  });

  it('details: false keeps only the counts; echoAccepted keeps the echo of stored points', () => {
    const body = `[{"metric":"m","timestamp":1,"value":1,${TAGS}},{"metric":"","timestamp":1,"value":1,${TAGS}}]`;
    expect(decode(body, { request: { details: false } }).result).toMatchObject({ total: 2, accepted: 1, failed: 1, errors: [] });
    expect(decode(body, { request: { echoAccepted: true } }).result.acceptedEchoes).toEqual(['{"metric":"m","timestamp":1,"value":"1","tags":{"host":"web01"}}']);
  });
});

describe('body-level failures (nothing stored)', () => {
  it('Missing request content (empty or blank body)', () => {
    for (const body of ['', ' \r\n\t ']) expect(decode(body).result.bodyError).toEqual({ status: 400, message: 'Missing request content', details: '' });
    expect(decode([]).result.bodyError?.message).toBe(BodyMessage.MissingContent);
  });

  it('The JSON must start as an object or an array', () => {
    for (const body of ['null', '5', '"x"', 'blah', '\ufeff{}']) {
      expect(decode(body).result.bodyError, body).toEqual({ status: 400, message: 'The JSON must start as an object or an array', details: '' });
    }
  });

  it('No datapoints found in content', () => {
    expect(decode(' [ ] ').result.bodyError).toEqual({ status: 400, message: 'No datapoints found in content', details: '' });
  });

  it('leading bytes ≤ 0x20 are trimmed as Java does; content after the root value is ignored', () => {
    const r = decode(`\u0001\u0000 {"metric":"m","timestamp":1,"value":1,${TAGS}} trailing garbage {`);
    expect(r.result.accepted).toBe(1);
    expect(decode(`[{"metric":"m","timestamp":1,"value":1,${TAGS}}]]]`).result.accepted).toBe(1);
  });

  it('type errors: Jackson-like details with line, column and reference chain (OpenTSDB 2.4 captures)', () => {
    expect(decode('{"metric": {"test": "test"}, "timestamp": 123456, "value": 6.7, "tags": {"test": "test"}}').result.bodyError).toEqual({
      status: 400,
      message: 'Unable to parse the given JSON',
      details:
        'com.fasterxml.jackson.databind.exc.MismatchedInputException: Cannot deserialize instance of `java.lang.String` out of START_OBJECT token\n' +
        ' at [Source: UNKNOWN; line: 1, column: 12] (through reference chain: net.opentsdb.core.IncomingDataPoint["metric"])',
    });
    expect(decode('{"metric": "test", "timestamp": "test", "value": 6.7, "tags": {"test": "test"}}').result.bodyError?.details).toBe(
      'com.fasterxml.jackson.databind.exc.InvalidFormatException: Cannot deserialize value of type `long` from String "test": not a valid Long value\n' +
        ' at [Source: UNKNOWN; line: 1, column: 33] (through reference chain: net.opentsdb.core.IncomingDataPoint["timestamp"])',
    );
    expect(decode('{"metric": "test", "timestamp": "123456", "value": "17778888888", "tags": ["test1", "test2"]}').result.bodyError?.details).toBe(
      'com.fasterxml.jackson.databind.exc.MismatchedInputException: Cannot deserialize instance of `java.util.HashMap` out of START_ARRAY token\n' +
        ' at [Source: UNKNOWN; line: 1, column: 75] (through reference chain: net.opentsdb.core.IncomingDataPoint["tags"])',
    );
  });

  it('other binding failures', () => {
    const details = (body: string): string => decode(body).result.bodyError?.details.split('\n')[0] ?? '';
    const chain = (body: string): string => /reference chain: (.*)\)$/.exec(decode(body).result.bodyError?.details ?? '')?.[1] ?? '';
    expect(details('[{"metric":"m"},5]')).toMatch(/no int\/Int-argument constructor\/factory method to deserialize from Number value \(5\)$/);
    expect(details('[{"metric":"m"},1.5]')).toMatch(/no double\/Double-argument .* \(1\.5\)$/);
    expect(details('["x"]')).toMatch(/no String-argument .* from String value \('x'\)$/);
    expect(details('[true]')).toMatch(/no boolean\/Boolean-argument .* \(true\)$/);
    expect(details('[[]]')).toBe('com.fasterxml.jackson.databind.exc.MismatchedInputException: Cannot deserialize instance of `net.opentsdb.core.IncomingDataPoint` out of START_ARRAY token');
    expect(chain('[{"metric":"m"},5]')).toBe('java.util.ArrayList[1]');
    expect(details('{"value":[1]}')).toMatch(/`java.lang.String` out of START_ARRAY token$/);
    expect(details('{"timestamp":true}')).toMatch(/`long` out of VALUE_TRUE token$/);
    expect(details('{"timestamp":[1]}')).toMatch(/`long` out of START_ARRAY token$/);
    expect(details('{"timestamp":1e300}')).toMatch(/JsonParseException: Numeric value \(1e300\) out of range of long/);
    expect(details('{"timestamp":Infinity}')).toMatch(/Numeric value \(Infinity\) out of range of long/);
    expect(details('{"timestamp":9223372036854775808}')).toMatch(/Numeric value \(9223372036854775808\) out of range of long/);
    expect(details('{"tags":"x"}')).toMatch(/`java.util.HashMap` .*no String-argument .* \('x'\)$/);
    expect(details('{"tags":5}')).toMatch(/`java.util.HashMap` out of VALUE_NUMBER_INT token$/);
    expect(details('[{},{"tags":{"host":{}}}]')).toMatch(/`java.lang.String` out of START_OBJECT token$/);
    expect(chain('[{},{"tags":{"host":{}}}]')).toBe('java.util.ArrayList[1]->net.opentsdb.core.IncomingDataPoint["tags"]->java.util.HashMap["host"]');
  });

  it('syntax errors: Jackson-like JsonParseException text', () => {
    const details = (body: string): string => decode(body).result.bodyError?.details ?? '';
    expect(details('{"metric":"m",}')).toBe(
      "com.fasterxml.jackson.core.JsonParseException: Unexpected character ('}' (code 125)): was expecting double-quote to start field name\n at [Source: UNKNOWN; line: 1, column: 15]",
    );
    expect(details('[{"metric":"m"} {}]')).toMatch(/^com.fasterxml.jackson.core.JsonParseException: Unexpected character \('\{' \(code 123\)\): was expecting comma to separate Array entries/);
    expect(details('{"metric" "m"}')).toMatch(/was expecting a colon to separate field name and value/);
    expect(details('{"metric":x}')).toMatch(/Unexpected character \('x' \(code 120\)\): expected a valid value/);
    expect(details('{"metric":"a\nb"}')).toMatch(/Illegal unquoted character \(\(CTRL-CHAR, code 10\)\)/);
    expect(details('{"metric":"m"')).toMatch(/^com.fasterxml.jackson.core.io.JsonEOFException: Unexpected end-of-input/);
    expect(details('{"metric":"m')).toMatch(/was expecting closing quote for a string value/);
    expect(decode('[{"metric":"m"}').result.bodyError?.message).toBe('Unable to parse the given JSON');
  });

  it('a failure anywhere in the body stores nothing, however many batches were filled before it', () => {
    const good = Array.from({ length: 10 }, (_, i) => `{"metric":"m","timestamp":${i + 1},"value":${i},${TAGS}}`).join(',');
    for (const tail of [',{"metric":{}}]', ',5]', ',{"metric":"m"']) {
      const r = decode(`[${good}${tail}`, { maxPointsPerBatch: 3 });
      expect(r.result.bodyError?.message).toBe('Unable to parse the given JSON');
      expect(r.points).toEqual([]);
      expect(r.result).toMatchObject({ total: 0, accepted: 0, errors: [] });
    }
    const ok = decode(`[${good}]`, { maxPointsPerBatch: 3 });
    expect(ok.batches).toEqual([3, 3, 3, 1]);
    expect(ok.points.map((p) => p.value)).toEqual(Array.from({ length: 10 }, (_, i) => BigInt(i)));
  });

  it('discardPoints: every check runs, nothing reaches the sink', () => {
    const r = decode(`[{"metric":"m","timestamp":1,"value":1,${TAGS}},{}]`, { request: { discardPoints: true } });
    expect(r.result).toMatchObject({ total: 2, accepted: 1, failed: 1 });
    expect(r.points).toEqual([]);
  });
});

describe('decoder lifecycle and streaming', () => {
  it('is reusable across bodies; begin() options last for one body', () => {
    const points: StoredPoint[] = [];
    const d = new OpenTsdbPutDecoder(collect(points));
    d.begin({ details: false });
    d.write(enc.encode('{}'));
    expect(d.end().errors).toEqual([]);
    d.write(enc.encode('{}'));
    expect(d.end().errors).toHaveLength(1);
    d.write(enc.encode('{"metric":'));
    d.reset();
    d.write(enc.encode(`{"metric":"m","timestamp":1,"value":1,${TAGS}}`));
    expect(d.end().accepted).toBe(1);
    expect(points).toHaveLength(1);
  });

  const pointArb = fc.record({
    metric: fc.constantFrom('"sys.cpu"', '"bad name"', 'null', '7', '""', '"térm"'),
    timestamp: fc.constantFrom('1', '4294967296', '"12"', '0', '10000000000000', '1.5', 'NaN'),
    value: fc.constantFrom('42', '-1.5e3', '"abc"', 'NaN', '"-Infinity"', '9223372036854775807', '1e999', '""', '+INF'),
    tags: fc.constantFrom('{"host":"web01","dc":"lga"}', '{}', 'null', '{"a":null}', '{"k":"v\\u00e9"}'),
    extra: fc.constantFrom('', ',"x":[1,{"y":null}]', ',"tsuid":"01"'),
  });
  const bodyArb = fc.array(fc.oneof({ weight: 9, arbitrary: pointArb.map((p) => `{"metric":${p.metric},"timestamp":${p.timestamp},"value":${p.value},"tags":${p.tags}${p.extra}}`) }, { weight: 1, arbitrary: fc.constant('null') }), {
    minLength: 1,
    maxLength: 8,
  });

  it('chunk-split invariance: any split gives the same result and points (property)', () => {
    fc.assert(
      fc.property(bodyArb, fc.array(fc.nat(), { maxLength: 12 }), fc.boolean(), (points, cuts, broken) => {
        const text = ` [ ${points.join(' ,\n ')}${broken ? ',{"metric":[' : ' ]'}`;
        const bytes = enc.encode(text);
        const whole = decode(bytes);
        const split = decode(splitAt(bytes, cuts.map((c) => c % (bytes.length + 1))));
        const bytewise = decode(Array.from(bytes, (b) => Uint8Array.of(b)));
        expect(split.result).toEqual(whole.result);
        expect(split.points).toEqual(whole.points);
        expect(bytewise.result).toEqual(whole.result);
        expect(bytewise.points).toEqual(whole.points);
      }),
      { numRuns: 150 },
    );
  });
});

describe('OPENTSDB_PUT_DECISIONS', () => {
  it('is a non-empty list of sentences', () => {
    expect(OPENTSDB_PUT_DECISIONS.length).toBeGreaterThan(10);
    for (const d of OPENTSDB_PUT_DECISIONS) expect(d).toMatch(/\S.*[.)]$/);
  });
});
