// KairosDB POST /api/v1/datapoints decoder: every message of protocols.md §1.2, the value typing
// rules (§7 for literals), partial acceptance, syntax errors, and the same result whatever the
// chunk split.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ValueKind, canonicalSeriesKey, type WriteBatch } from '../../../engine/index.js';
import { BatchBuilder, SeriesCache } from '../../../src/protocols/batch-builder.js';
import { INVALID_START_MESSAGE, KairosDatapointsDecoder, NO_CONTENT_MESSAGE } from '../../../src/protocols/kairosdb/ingest.js';

const enc = new TextEncoder();

type Value = number | bigint | string;
interface Stored {
  series: string;
  ttl: number;
  t: number;
  /** 'd' double, 'l' long, 's' string */
  kind: 'd' | 'l' | 's';
  value: Value;
}

interface Decoded {
  points: Stored[];
  errors: string[];
  count: number;
  batches: number;
}

function sinkInto(points: Stored[], counter: { batches: number }): (b: WriteBatch) => void {
  return (b) => {
    counter.batches++;
    for (let i = 0; i < b.length; i++) {
      const s = b.seriesIndex[i]!;
      const k = b.kinds[i]!;
      points.push({
        series: canonicalSeriesKey(b.series[s]!),
        ttl: b.ttlSeconds?.[s] ?? 0,
        t: b.timestampsMs[i]!,
        kind: k === ValueKind.Float64 ? 'd' : k === ValueKind.Int64 ? 'l' : 's',
        value: k === ValueKind.Float64 ? b.floats[i]! : k === ValueKind.Int64 ? b.ints[i]! : b.texts[i]!,
      });
    }
  };
}

function decodeChunks(chunks: readonly Uint8Array[], options: { maxPointsPerBatch?: number } = {}): Decoded {
  const points: Stored[] = [];
  const counter = { batches: 0 };
  const decoder = new KairosDatapointsDecoder(sinkInto(points, counter), options);
  for (const c of chunks) decoder.write(c);
  const { points: count, errors } = decoder.end();
  return { points, errors, count, batches: counter.batches };
}

function decode(body: string | Uint8Array, options: { maxPointsPerBatch?: number } = {}): Decoded {
  return decodeChunks([typeof body === 'string' ? enc.encode(body) : body], options);
}

function splitAt(bytes: Uint8Array, points: readonly number[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  let prev = 0;
  for (const p of [...points].sort((a, b) => a - b)) {
    out.push(bytes.subarray(prev, p));
    prev = p;
  }
  out.push(bytes.subarray(prev));
  return out;
}

const M = (name: string, extra: string): string => `{"name":"${name}",${extra},"tags":{"foo":"bar"}}`;
const ERR = (s: string): string[] => [s];

describe('KairosDB ingest: messages of protocols.md §1.2', () => {
  it('empty body and bodies that are neither object nor array', () => {
    expect(decode('').errors).toEqual([NO_CONTENT_MESSAGE]);
    expect(decode(' \n\t ').errors).toEqual([NO_CONTENT_MESSAGE]);
    expect(NO_CONTENT_MESSAGE).toBe('Invalid json. No content due to end of input.');
    for (const body of ['"abc"', '123', 'null', 'true', '"x" garbage']) {
      expect(decode(body).errors, body).toEqual([INVALID_START_MESSAGE]);
    }
    expect(INVALID_START_MESSAGE).toBe('Invalid start of json.');
    expect(decode('[]')).toMatchObject({ errors: [], count: 0 });
  });

  it('metric name: null, empty, any characters', () => {
    const r = decode('[{"name": "metric1", "timestamp": 1234, "value": 456, "datapoints": [[1,2]], "tags":{"foo":"bar"}}, {"datapoints": [[1,2]], "tags":{"foo":"bar"}}]');
    expect(r.errors).toEqual(['metric[1].name may not be null.']);
    expect(r.count).toBe(2);
    expect(decode('[{"name": "", "tags":{"foo":"bar"}, "datapoints": [[1,2]]}]').errors).toEqual(ERR('metric[0].name may not be empty.'));
    expect(decode('[{"name": null, "tags":{"foo":"bar"}, "datapoints": [[1,2]]}]').errors).toEqual(ERR('metric[0].name may not be null.'));
    const ok = decode('[{"name": "bad:你好name =x", "tags":{"bad:name":"va=l:ue 日本"}, "datapoints": [[1,2]]}]');
    expect(ok.errors).toEqual([]);
    expect(ok.points).toEqual([{ series: 'bad:你好name \\=x{bad:name=va\\=l:ue 日本}', ttl: 0, t: 1, kind: 'l', value: 2n }]);
  });

  it('timestamp and value presence', () => {
    expect(decode('[{"name": "metric1", "timestamp": 1234, "tags": {"foo":"bar"}}]').errors).toEqual(ERR('metric[0](name=metric1).value may not be null.'));
    expect(decode('[{"name": "metric1", "value": 1234, "tags":{"foo":"bar"}}]').errors).toEqual(ERR('metric[0](name=metric1).timestamp may not be null.'));
    // null value without a timestamp: nothing stored, nothing said.
    expect(decode('{"name":"m","value":null,"tags":{"foo":"bar"}}')).toMatchObject({ errors: [], count: 0 });
    expect(decode(M('m', '"timestamp":1,"value":null')).errors).toEqual(ERR('metric[0](name=m).value may not be empty.'));
    expect(decode(M('m', '"timestamp":1,"value":[]')).errors).toEqual(ERR('metric[0](name=m).value may not be an empty array.'));
    expect(decode(M('m', '"timestamp":0,"value":1')).points).toEqual([{ series: 'm{foo=bar}', ttl: 0, t: 0, kind: 'l', value: 1n }]);
    expect(decode(M('m', '"timestamp":-1,"value":1')).points[0]!.t).toBe(-1);
    // time wins over timestamp; a null time falls back to timestamp.
    expect(decode(M('m', '"timestamp":5,"time":7,"value":1')).points[0]!.t).toBe(7);
    expect(decode(M('m', '"time":null,"timestamp":5,"value":1')).points[0]!.t).toBe(5);
  });

  it('tags: count, empty name by ordinal, empty or null value by key', () => {
    expect(decode('[{"name": "metricName", "timestamp": 12345, "value": 456, "datapoints": [[1,2]]}]').errors).toEqual(
      ERR('metric[0](name=metricName).tags count must be greater than or equal to 1.'),
    );
    expect(decode('{"name":"m","timestamp":1,"value":1,"tags":null}').errors).toEqual(ERR('metric[0](name=m).tags count must be greater than or equal to 1.'));
    const emptyName = decode('[{"name": "metricName", "tags":{"":"bar"}, "datapoints": [[1,2]]}]');
    expect(emptyName.errors).toEqual(ERR('metric[0](name=metricName).tag[0].name may not be empty.'));
    expect(emptyName.count).toBe(0);
    expect(decode('[{"name": "metricName", "tags":{"foo":""}, "datapoints": [[1,2]]}]').errors).toEqual(ERR('metric[0](name=metricName).tag[foo].value may not be empty.'));
    expect(decode('[{"name": "m", "tags":{"a":"1","foo":null}, "datapoints": [[1,2]]}]').errors).toEqual(ERR('metric[0](name=m).tag[foo].value may not be null.'));
    expect(decode('[{"name": "m", "tags":{"a":"1","":""}, "datapoints": [[1,2]]}]').errors).toEqual([
      'metric[0](name=m).tag[1].name may not be empty.',
      'metric[0](name=m).tag[1].value may not be empty.',
    ]);
    // Tag values that are numbers or booleans are read as their text (Gson's nextString).
    expect(decode('{"name":"m","timestamp":1,"value":1,"tags":{"port":8080,"on":true,"r":1.50}}').points[0]!.series).toBe('m{on=true,port=8080,r=1.50}');
  });

  it('several failures of one metric are all listed, in KairosDB order', () => {
    const r = decode('[{"name": "metricName", "timestamp": 456, "value":"", "tags":{"name":""}}]');
    expect(r.errors).toEqual(['metric[0](name=metricName).value may not be empty.', 'metric[0](name=metricName).tag[name].value may not be empty.']);
    expect(decode('[{}]').errors).toEqual(['metric[0].name may not be null.', 'metric[0].tags count must be greater than or equal to 1.']);
  });

  it('datapoints: empty, missing value or timestamp (Gson omitted elements), and the index drift', () => {
    const dp = (dps: string): string[] => decode(`[{"name": "metric1", "tags":{"foo":"bar"}, "datapoints": ${dps}}]`).errors;
    expect(dp('[[]]')).toEqual(ERR('metric[0](name=metric1).datapoints[0].timestamp cannot be null or empty.'));
    expect(dp('[[2,]]')).toEqual(ERR('metric[0](name=metric1).datapoints[0].value may not be empty.'));
    expect(dp('[[,2]]')).toEqual(ERR('metric[0](name=metric1).datapoints[0].timestamp may not be null.'));
    expect(dp('[[2]]')).toEqual(ERR('metric[0](name=metric1).datapoints[0].value cannot be null or empty.'));
    expect(dp('[[2, null]]')).toEqual(ERR('metric[0](name=metric1).datapoints[0].value may not be empty.'));
    expect(dp('[[2, []]]')).toEqual(ERR('metric[0](name=metric1).datapoints[0].value may not be an empty array.'));
    expect(dp('[[2, [1]]]')).toEqual(ERR('metric[0](name=metric1) value is an invalid type'));
    expect(dp('[[2, {"a":1}]]')).toEqual(ERR('metric[0](name=metric1) value is an invalid type'));
    expect(dp('[null]')).toEqual(ERR('metric[0](name=metric1).datapoints[0].timestamp cannot be null or empty.'));
    // The index only advances on stored points.
    expect(dp('[[1,2],[],[3,4],[5],[6,""]]')).toEqual([
      'metric[0](name=metric1).datapoints[1].timestamp cannot be null or empty.',
      'metric[0](name=metric1).datapoints[2].value cannot be null or empty.',
      'metric[0](name=metric1).datapoints[2].value may not be empty.',
    ]);
    expect(decode('[{"name":"m","tags":{"foo":"bar"},"datapoints":[[0,2],[-1,3]]}]').points.map((p) => p.t)).toEqual([0, -1]);
  });

  it('value typing: §7 literals, KairosDB numeric strings, strings, invalid types', () => {
    const one = (value: string, extra = ''): Decoded => decode(`{"name":"m","timestamp":1,"value":${value},"tags":{"foo":"bar"}${extra}}`);
    const kv = (value: string, extra = ''): [string, Value] => {
      const r = one(value, extra);
      expect(r.errors, value).toEqual([]);
      return [r.points[0]!.kind, r.points[0]!.value];
    };
    expect(kv('1')).toEqual(['l', 1n]);
    expect(kv('1.0')).toEqual(['d', 1]);
    expect(kv('1e5')).toEqual(['d', 100000]); // §7: e → double (KairosDB: long)
    expect(kv('-0')).toEqual(['l', 0n]);
    expect(kv('9007199254740993')).toEqual(['l', 9007199254740993n]);
    expect(kv('9223372036854775807')).toEqual(['l', 9223372036854775807n]);
    expect(kv('-9223372036854775808')).toEqual(['l', -9223372036854775808n]);
    expect(kv('12.34')).toEqual(['d', 12.34]);
    expect(kv('"123"')).toEqual(['l', 123n]);
    expect(kv('"-12345678901234567"')).toEqual(['l', -12345678901234567n]);
    expect(kv('"0.000000"')).toEqual(['d', 0]);
    expect(kv('"123.3"')).toEqual(['d', 123.3]);
    expect(kv('".5"')).toEqual(['d', 0.5]);
    expect(kv('"+5"')).toEqual(['l', 5n]);
    expect(kv('"1e5"')).toEqual(['s', '1e5']);
    expect(kv('"1."')).toEqual(['s', '1.']);
    expect(kv('"The Value"')).toEqual(['s', 'The Value']);
    expect(kv('true')).toEqual(['s', 'true']);
    expect(kv('false')).toEqual(['s', 'false']);
    expect(one('9223372036854775808').errors).toEqual(ERR('metric[0](name=m).value is out of range for a long.'));
    expect(one('"99999999999999999999"').errors).toEqual(ERR('metric[0](name=m).value is out of range for a long.'));
    expect(one('{"a":1}').errors).toEqual(ERR('metric[0](name=m) value is an invalid type'));
    expect(one('[1,2]').errors).toEqual(ERR('metric[0](name=m) value is an invalid type'));
    expect(one('""').errors).toEqual(ERR('metric[0](name=m).value may not be empty.'));
  });

  it('explicit type: long/double/string, unregistered types, empty strings allowed only for string', () => {
    const one = (value: string, type: string): Decoded => decode(`{"name":"m","timestamp":1,"value":${value},"type":${JSON.stringify(type)},"tags":{"foo":"bar"}}`);
    const kv = (value: string, type: string): [string, Value] => {
      const r = one(value, type);
      expect(r.errors, `${value} as ${type}`).toEqual([]);
      return [r.points[0]!.kind, r.points[0]!.value];
    };
    expect(kv('""', 'string')).toEqual(['s', '']);
    expect(kv('1.50', 'string')).toEqual(['s', '1.50']);
    expect(kv('1', 'string')).toEqual(['s', '1']);
    expect(kv('-0', 'string')).toEqual(['s', '-0']);
    expect(kv('9007199254740993', 'string')).toEqual(['s', '9007199254740993']);
    expect(kv('true', 'string')).toEqual(['s', 'true']);
    expect(kv('5', 'double')).toEqual(['d', 5]);
    expect(kv('"2.5"', 'double')).toEqual(['d', 2.5]);
    expect(kv('1.9', 'long')).toEqual(['l', 1n]);
    expect(kv('-1.9', 'long')).toEqual(['l', -1n]);
    expect(kv('"42"', 'long')).toEqual(['l', 42n]);
    expect(one('"abc"', 'long').errors).toEqual(ERR('metric[0](name=m).value is not a valid long.'));
    expect(one('"abc"', 'double').errors).toEqual(ERR('metric[0](name=m).value is not a valid double.'));
    expect(one('true', 'double').errors).toEqual(ERR('metric[0](name=m).value is not a valid double.'));
    expect(one('{"a":1}', 'string').errors).toEqual(ERR('metric[0](name=m) value is an invalid type'));
    expect(one('1', 'complex-number').errors).toEqual(ERR("Unregistered data point type 'complex-number'"));
    expect(one('""', 'long').errors).toEqual(ERR('metric[0](name=m).value may not be empty.'));
    // Per-datapoint type (third element) overrides the metric's.
    const dps = decode('{"name":"m","type":"double","tags":{"foo":"bar"},"datapoints":[[1,2],[2,"x","string"],[3,4,"long"],[4,5,"complex"]]}');
    expect(dps.errors).toEqual(["Unregistered data point type 'complex'"]);
    expect(dps.points.map((p) => [p.kind, p.value])).toEqual([
      ['d', 2],
      ['s', 'x'],
      ['l', 4n],
    ]);
    expect(decode('{"name":"m","tags":{"foo":"bar"},"datapoints":[[1,""]]}').errors).toEqual(ERR('metric[0](name=m).datapoints[0].value may not be empty.'));
    expect(decode('{"name":"m","tags":{"foo":"bar"},"datapoints":[[1,"","string"]]}').points[0]!.value).toBe('');
  });

  it('both point forms in one object: the single point, then the datapoints', () => {
    const r = decode('[{"name": "metric1", "time": 1234, "value": 4321, "datapoints": [[456, 654]], "tags":{"foo":"bar"}}]');
    expect(r.errors).toEqual([]);
    expect(r.points.map((p) => [p.t, p.value])).toEqual([
      [1234, 4321n],
      [456, 654n],
    ]);
    const just = decode('{"name": "metric1", "timestamp": 1234, "value": 4321, "tags":{"foo":"bar"}}');
    expect(just.points).toEqual([{ series: 'metric1{foo=bar}', ttl: 0, t: 1234, kind: 'l', value: 4321n }]);
  });

  it('the KairosDB fixture documents (multiple metrics, types)', () => {
    const multiple = `[
      {"name": "archive_file_tracked", "datapoints": [[1349109376, 123], [1349109377, 13.2], [1349109378, 23.1]], "tags": {"host": "server1"}},
      {"name": "archive_file_search", "timestamp": 1349109378, "value": 321, "tags": {"host": "server2", "customer": "Acme"}}
    ]`;
    const r = decode(multiple);
    expect(r.errors).toEqual([]);
    expect(r.points.map((p) => `${p.series} ${p.t} ${p.kind}:${p.value}`)).toEqual([
      'archive_file_tracked{host=server1} 1349109376 l:123',
      'archive_file_tracked{host=server1} 1349109377 d:13.2',
      'archive_file_tracked{host=server1} 1349109378 d:23.1',
      'archive_file_search{customer=Acme,host=server2} 1349109378 l:321',
    ]);
  });

  it('ttl and skip_validate', () => {
    const ttl = decode('[{"name":"m","ttl":60,"timestamp":1,"value":1,"tags":{"foo":"bar"}},{"name":"n","timestamp":1,"value":1,"tags":{"foo":"bar"}}]');
    expect(ttl.points.map((p) => [p.series, p.ttl])).toEqual([
      ['m{foo=bar}', 60],
      ['n{foo=bar}', 0],
    ]);
    expect(decode(M('m', '"ttl":-5,"timestamp":1,"value":1')).errors).toEqual(ERR('metric[0](name=m).ttl must be greater than or equal to 0.'));
    expect(decode(M('m', '"ttl":"30","timestamp":1,"value":1')).points[0]!.ttl).toBe(30);
    // skip_validate: no name/tag checks; the context has no name.
    const skipped = decode('[{"name":"","skip_validate":true,"timestamp":1,"value":1},{"name":"m","skip_validate":"TRUE","tags":{"":""},"timestamp":2,"value":""}]');
    expect(skipped.errors).toEqual([]);
    expect(skipped.points.map((p) => [p.series, p.value])).toEqual([
      ['{}', 1n],
      ['m{=}', ''],
    ]);
    expect(decode('{"skip_validate":true,"timestamp":1,"value":1}').errors).toEqual(ERR('metric[0].name may not be null.'));
    expect(decode('{"name":"m","skip_validate":true,"timestamp":1,"value":null}').errors).toEqual(ERR('metric[0] value is an invalid type'));
    expect(decode('{"name":"m","skip_validate":true,"datapoints":[[null,1]]}').errors).toEqual(ERR('metric[0].datapoints[0].timestamp may not be null.'));
  });

  it("refuses Strata's reserved tag key strata:rollup, skip_validate or not, and keeps the other objects", () => {
    const body =
      '[{"name":"a","tags":{"host":"x","strata:rollup":"1h:sum"},"timestamp":1,"value":1},' +
      '{"name":"b","tags":{"host":"x"},"timestamp":2,"value":2},' +
      '{"name":"c","skip_validate":true,"tags":{"strata:rollup":"preagg"},"timestamp":3,"value":3},' +
      '{"name":"d","tags":{"strata:rollupx":"v","strata:rollu":"v"},"timestamp":4,"value":4}]';
    const r = decode(body);
    expect(r.errors).toEqual([
      "metric[0](name=a).tag[1].name 'strata:rollup' is reserved for rollups.",
      "metric[2].tag[0].name 'strata:rollup' is reserved for rollups.",
    ]);
    expect(r.points.map((p) => p.series)).toEqual(['b{host=x}', 'd{strata:rollu=v,strata:rollupx=v}']);
    // The same tags object again (served from the tags cache) is still refused.
    expect(decode(`[${'{"name":"a","tags":{"strata:rollup":"x"},"timestamp":1,"value":1},'.repeat(3).slice(0, -1)}]`).errors).toHaveLength(3);
  });

  it('timestamps: Gson longs in the header, getAsLong in datapoints, the engine range', () => {
    expect(decode(M('m', '"timestamp":"1234","value":1')).points[0]!.t).toBe(1234);
    expect(decode(M('m', '"timestamp":1.0e3,"value":1')).points[0]!.t).toBe(1000);
    expect(decode(M('m', '"timestamp":1125899906842624,"value":1')).errors).toEqual(ERR('metric[0](name=m).timestamp is out of range.'));
    const dp = (dps: string): Decoded => decode(`{"name":"m","tags":{"foo":"bar"},"datapoints":${dps}}`);
    expect(dp('[["123",1],[1.9,2],[-1.9,3]]').points.map((p) => p.t)).toEqual([123, 1, -1]);
    expect(dp('[["abc",1]]').errors).toEqual(ERR('metric[0](name=m).datapoints[0].timestamp is not a valid long.'));
    expect(dp('[[true,1]]').errors).toEqual(ERR('metric[0](name=m).datapoints[0].timestamp is not a valid long.'));
    expect(dp('[[{},1]]').errors).toEqual(ERR('metric[0](name=m).datapoints[0].timestamp is not a valid long.'));
    expect(dp('[[1e300,1]]').errors).toEqual(ERR('metric[0](name=m).datapoints[0].timestamp is out of range.'));
  });

  it('partial acceptance: valid metrics are stored, every message is listed in order', () => {
    const r = decode(`[
      {"name":"a","timestamp":1,"value":1,"tags":{"h":"x"}},
      {"name":"","timestamp":1,"value":1,"tags":{"h":"x"}},
      {"name":"b","tags":{"h":"x"},"datapoints":[[1,1],[2],[3,3]]},
      {"name":"c","timestamp":1,"value":1,"type":"nope","tags":{"h":"x"}},
      {"name":"d","timestamp":1,"value":1}
    ]`);
    expect(r.errors).toEqual([
      'metric[1].name may not be empty.',
      'metric[2](name=b).datapoints[1].value cannot be null or empty.',
      "Unregistered data point type 'nope'",
      'metric[4](name=d).tags count must be greater than or equal to 1.',
    ]);
    expect(r.points.map((p) => `${p.series}@${p.t}`)).toEqual(['a{h=x}@1', 'b{h=x}@1', 'b{h=x}@3']);
    expect(r.count).toBe(3);
  });
});

describe('KairosDB ingest: syntax and type errors stop the body, earlier metrics stay', () => {
  it('malformed JSON inside a metric (Gson-like message with line, column and path)', () => {
    const r = decode('[{"name": "metric1", "timestamp": 1234, "value": 1, "tags":{"a":"b"}}, {"name": "metric2", "timestamp": 1234, "value": }]');
    expect(r.count).toBe(1);
    expect(r.errors).toEqual(['com.google.gson.stream.MalformedJsonException: Expected value at line 1 column 120 path $[1].value']);
    const multi = decode('[\n  {"name": "m",\n   "tags": {"a" "b"}}]');
    expect(multi.errors).toEqual(["com.google.gson.stream.MalformedJsonException: Expected ':' at line 3 column 17 path $[0].tags.a"]);
  });

  it('end of input inside a metric vs between metrics', () => {
    const inside = decode('[{"name":"a","timestamp":1,"value":1,"tags":{"h":"x"}},{"name":"b","tags":{"h":');
    expect(inside.count).toBe(1);
    expect(inside.errors).toEqual(['java.io.EOFException: End of input at line 1 column 80 path $[1].tags.h']);
    for (const body of ['[', '[{"name":"a","timestamp":1,"value":1,"tags":{"h":"x"}},', '[{"name":"a","timestamp":1,"value":1,"tags":{"h":"x"}}']) {
      const between = decode(body);
      expect(between.errors, body).toEqual([NO_CONTENT_MESSAGE]);
      expect(between.count, body).toBe(body.length > 1 ? 1 : 0);
    }
    expect(decode('{"name":"a"').errors).toEqual(['java.io.EOFException: End of input at line 1 column 12 path $']);
  });

  it('values of the wrong JSON type for their field (Gson exceptions)', () => {
    const cases: [string, string][] = [
      ['[{"name":{"a":1}}]', 'java.lang.IllegalStateException: Expected a string but was BEGIN_OBJECT at line 1 column 10 path $[0].name'],
      ['[{"timestamp":1.5}]', 'java.lang.NumberFormatException: Expected a long but was 1.5 at line 1 column 15 path $[0].timestamp'],
      ['[{"timestamp":"x"}]', 'java.lang.NumberFormatException: Expected a long but was "x" at line 1 column 15 path $[0].timestamp'],
      ['[{"time":true}]', 'java.lang.IllegalStateException: Expected a long but was BOOLEAN at line 1 column 10 path $[0].time'],
      ['[{"ttl":1e10}]', 'java.lang.NumberFormatException: Expected an int but was 1e10 at line 1 column 9 path $[0].ttl'],
      ['[{"tags":[]}]', 'java.lang.IllegalStateException: Expected BEGIN_OBJECT but was BEGIN_ARRAY at line 1 column 10 path $[0].tags'],
      ['[{"tags":{"a":[1]}}]', 'java.lang.IllegalStateException: Expected a string but was BEGIN_ARRAY at line 1 column 15 path $[0].tags.a'],
      ['[{"datapoints":{}}]', 'java.lang.IllegalStateException: Expected BEGIN_ARRAY but was BEGIN_OBJECT at line 1 column 16 path $[0].datapoints'],
      ['[{"datapoints":[[1,2],3]}]', 'java.lang.IllegalStateException: Expected BEGIN_ARRAY but was NUMBER at line 1 column 23 path $[0].datapoints[1]'],
      ['[{"skip_validate":1}]', 'java.lang.IllegalStateException: Expected a boolean but was NUMBER at line 1 column 19 path $[0].skip_validate'],
      ['[{"type":[]}]', 'java.lang.IllegalStateException: Expected a string but was BEGIN_ARRAY at line 1 column 10 path $[0].type'],
      ['[1]', 'java.lang.IllegalStateException: Expected BEGIN_OBJECT but was NUMBER at line 1 column 2 path $[0]'],
      ['[{"tags":{"host":"a","host":"b"}}]', 'duplicate key: host'],
    ];
    for (const [body, message] of cases) expect(decode(body).errors, body).toEqual([message]);
    // A null earlier value makes a repeated tag key legal (Gson's map adapter).
    expect(decode('{"name":"m","timestamp":1,"value":1,"tags":{"host":null,"host":"b"}}').points[0]!.series).toBe('m{host=b}');
  });

  it('a null top-level element is skipped with a message; trailing bytes after the body are ignored', () => {
    const r = decode('[null,{"name":"a","timestamp":1,"value":1,"tags":{"h":"x"}}] trailing { garbage');
    expect(r.errors).toEqual(['metric[0] may not be null.']);
    expect(r.points.map((p) => p.series)).toEqual(['a{h=x}']);
    expect(decode('{"name":"a","timestamp":1,"value":1,"tags":{"h":"x"}} {"name":"b"}').points).toHaveLength(1);
  });

  it('strict JSON except omitted array elements inside metric objects', () => {
    expect(decode('[{"name":"a","timestamp":1,"value":1,"tags":{"h":"x"}},]').errors[0]).toMatch(/^com\.google\.gson\.stream\.MalformedJsonException: Expected value at line 1 column 56 path \$\[1\]/);
    expect(decode("[{'name':'a'}]").errors[0]).toMatch(/MalformedJsonException: Expected name/);
    expect(decode('[{"name":"a","value":01}]').errors[0]).toMatch(/MalformedJsonException: Unterminated object/);
    expect(decode('[{"name":"a\tb"}]').errors[0]).toMatch(/Bad control character/);
  });
});

describe('KairosDB ingest: keys, escapes, unknown fields, batches', () => {
  it('escaped keys and values, unknown fields skipped whatever their shape', () => {
    const r = decode('{"n\\u0061me":"m\\u00e9","unknown":{"a":[1,{"b":[]}]},"x":[[],{}],"tags":{"h\\"":"\\ud83d\\ude00"},"timestamp":1,"value":1}');
    expect(r.errors).toEqual([]);
    expect(r.points[0]!.series).toBe('mé{h"=😀}');
  });

  it('a name or tag with a lone surrogate is stored as U+FFFD', () => {
    expect(decode('{"name":"a\\ud800","timestamp":1,"value":1,"tags":{"h":"x"}}').points[0]!.series).toBe('a\ufffd{h=x}');
  });

  it('large bodies go out in several batches with the same points', () => {
    const dps = Array.from({ length: 2500 }, (_, i) => `[${i},${i}.5]`).join(',');
    const body = `[{"name":"m","tags":{"h":"x"},"datapoints":[${dps}]},{"name":"n","tags":{"h":"x"},"timestamp":1,"value":"s"}]`;
    const small = decode(body, { maxPointsPerBatch: 1000 });
    const big = decode(body);
    expect(small.batches).toBe(3);
    expect(big.batches).toBe(1);
    expect(small.points).toEqual(big.points);
    expect(small.count).toBe(2501);
  });

  it('is reusable: end() resets it, caches stay correct across bodies (and a shared BatchBuilder)', () => {
    const points: Stored[] = [];
    const counter = { batches: 0 };
    const builder = new BatchBuilder(sinkInto(points, counter), { maxCachedSeries: 3 });
    const decoder = new KairosDatapointsDecoder(builder);
    const body = (hosts: string[]): Uint8Array =>
      enc.encode(JSON.stringify(hosts.map((h, i) => ({ name: 'cpu', timestamp: i, value: i, tags: { host: h, dc: 'x' } }))));
    for (const hosts of [['a', 'b', 'a', 'a'], ['c', 'd', 'e', 'f', 'c'], ['a', 'a', 'g']]) {
      points.length = 0;
      decoder.write(body(hosts));
      expect(decoder.end().errors).toEqual([]);
      expect(points.map((p) => p.series)).toEqual(hosts.map((h) => `cpu{dc=x,host=${h}}`));
    }
    expect(builder.generation).toBeGreaterThan(0);
  });

  it('decoders made per request share the thread cache; interleaved requests stay correct', () => {
    const body = (name: string, hosts: string[]): Uint8Array =>
      enc.encode(JSON.stringify(hosts.map((h, i) => ({ name, timestamp: i, value: i + 0.5, tags: { host: h, dc: 'x', rack: String(i % 3) } }))));
    const a = body('a', ['h1', 'h2', 'h1', 'h3', 'h1', 'h2']);
    const b = body('b', ['h2', 'h1', 'h9', 'h2', 'h1']);
    const alone = [decode(a), decode(b)];
    const pa: Stored[] = [];
    const pb: Stored[] = [];
    const counter = { batches: 0 };
    const da = new KairosDatapointsDecoder(sinkInto(pa, counter));
    const db = new KairosDatapointsDecoder(sinkInto(pb, counter));
    for (let at = 0; at < Math.max(a.length, b.length); at += 7) {
      da.write(a.subarray(at, at + 7));
      db.write(b.subarray(at, at + 7));
    }
    expect([da.end().errors, db.end().errors]).toEqual([[], []]);
    expect([pa, pb]).toEqual([alone[0]!.points, alone[1]!.points]);
  });

  it('the shared cache is not trimmed while another request holds ids', () => {
    const cache = new SeriesCache({ maxCachedSeries: 1 });
    const pa: Stored[] = [];
    const pb: Stored[] = [];
    const counter = { batches: 0 };
    const da = new KairosDatapointsDecoder(new BatchBuilder(sinkInto(pa, counter), { cache }));
    const db = new KairosDatapointsDecoder(new BatchBuilder(sinkInto(pb, counter), { cache }));
    const first = enc.encode('[{"name":"a","tags":{"host":"x"},"timestamp":1,"value":1},{"name":"a","tags":{"host":"y"},');
    da.write(first); // a's body is open and holds ids
    db.write(enc.encode('[{"name":"b","tags":{"host":"z"},"timestamp":1,"value":1},{"name":"c","tags":{"host":"z"},"timestamp":1,"value":1}]'));
    expect(db.end().errors).toEqual([]);
    expect(cache.generation).toBe(0); // over its limit, but a's body is open
    da.write(enc.encode('"timestamp":2,"value":2}]'));
    expect(da.end().errors).toEqual([]);
    expect(pa.map((p) => p.series)).toEqual(['a{host=x}', 'a{host=y}']);
    expect(pb.map((p) => p.series)).toEqual(['b{host=z}', 'c{host=z}']);
    // Closed now: the next end() trims, and decoding goes on with fresh ids.
    db.write(enc.encode('{"name":"d","tags":{"host":"x"},"timestamp":3,"value":3}'));
    expect(db.end().errors).toEqual([]);
    expect(cache.generation).toBe(1);
    da.write(enc.encode('{"name":"a","tags":{"host":"y"},"timestamp":4,"value":4}'));
    da.end();
    expect(pa.map((p) => p.series)).toEqual(['a{host=x}', 'a{host=y}', 'a{host=y}']);
  });

  it('many distinct tags objects (evictions, the cache switching itself off and on) keep every series right', () => {
    const hosts = Array.from({ length: 12_000 }, (_, i) => (i * 7919) % 6000);
    const body = JSON.stringify(hosts.map((h, i) => ({ name: `m${i % 3}`, timestamp: i, value: i, tags: { host: `h${h}`, dc: `d${h % 5}` } })));
    const r = decode(body);
    expect(r.errors).toEqual([]);
    expect(r.points.map((p) => p.series)).toEqual(hosts.map((h, i) => `m${i % 3}{dc=d${h % 5},host=h${h}}`));
  });

  it('repeated tags objects (the verbatim cache) give the same series and positions as fresh ones', () => {
    const tags = '{\n  "host": "a",\n  "dc": "x"\n}';
    const objects = Array.from({ length: 5 }, (_, i) => `{"name":"m${i % 2}","timestamp":${i},"value":${i},"tags":${i === 3 ? '{"host":"b","dc":"x"}' : tags}}`);
    const body = `[${objects.join(',\n')},\n{"name":"z","tags":${tags},"value": ]`;
    const r = decode(body);
    expect(r.points.map((p) => p.series)).toEqual(['m0{dc=x,host=a}', 'm1{dc=x,host=a}', 'm0{dc=x,host=a}', 'm1{dc=x,host=b}', 'm0{dc=x,host=a}']);
    // The error after skipped, multi-line tags objects still has the right line and column.
    const lines = body.split('\n');
    const line = lines.findIndex((l) => l.includes('"value": ]')) + 1;
    const column = lines[line - 1]!.indexOf(']') + 1;
    expect(r.errors).toEqual([`com.google.gson.stream.MalformedJsonException: Expected value at line ${line} column ${column} path $[5].value`]);
  });
});

describe('KairosDB ingest: the result does not depend on how the body is split', () => {
  const metricArb = fc.record(
    {
      name: fc.oneof(fc.constantFrom('cpu', 'mem', '', 'bad:你好'), fc.string({ maxLength: 4 })),
      tags: fc.oneof(fc.dictionary(fc.constantFrom('host', 'dc', '', 'é'), fc.constantFrom('a', 'b', '', 'x y')), fc.constant(null)),
      timestamp: fc.oneof(fc.integer({ min: -5, max: 2_000_000_000_000 }), fc.constant(null)),
      value: fc.oneof(fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.constantFrom('123', '1.5', 'text', '', null, true), fc.constant([])),
      datapoints: fc.array(fc.oneof(fc.tuple(fc.integer({ min: 0, max: 1e12 }), fc.oneof(fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.string({ maxLength: 3 }))), fc.constant([])), { maxLength: 4 }),
      type: fc.constantFrom('long', 'double', 'string', 'bogus'),
      ttl: fc.integer({ min: -1, max: 100 }),
    },
    { requiredKeys: ['name'] },
  );

  function serialize(metrics: unknown[], pretty: boolean): string {
    return JSON.stringify(metrics, null, pretty ? 1 : undefined);
  }

  it('generated bodies: whole, every split of small ones, random splits of large ones', () => {
    fc.assert(
      fc.property(fc.array(metricArb, { maxLength: 6 }), fc.boolean(), fc.nat(), fc.integer(), (metrics, pretty, cut, seed) => {
        let bytes = enc.encode(serialize(metrics, pretty));
        if (cut % 4 === 0) bytes = bytes.subarray(0, cut % (bytes.length + 1)); // truncated bodies too
        const whole = decode(bytes);
        let s = seed >>> 0;
        const rnd = (): number => {
          s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
          return s / 4294967296;
        };
        const splits: number[][] = [];
        if (bytes.length <= 120) for (let i = 0; i <= bytes.length; i++) splits.push([i]);
        for (let k = 0; k < 6; k++) splits.push(Array.from({ length: 1 + Math.floor(rnd() * 8) }, () => Math.floor(rnd() * (bytes.length + 1))));
        for (const points of splits) {
          const got = decodeChunks(splitAt(bytes, points));
          expect(got.errors).toEqual(whole.errors);
          expect(got.points).toEqual(whole.points);
          expect(got.count).toBe(whole.count);
        }
      }),
      { numRuns: 120 },
    );
  });

  it('one byte per chunk gives the same as one chunk (repeated tags, errors, big numbers)', () => {
    const body = `[${Array.from({ length: 30 }, (_, i) => `{"name":"m${i % 3}","timestamp":${1700000000000 + i},"value":${i % 2 ? i + 0.25 : 9007199254740993},"tags":{"host":"h${i % 4}","dc":"x"}}`).join(',')},{"name":"bad","tags":{}},{"x":]`;
    const bytes = enc.encode(body);
    const whole = decode(bytes);
    const bytewise = decodeChunks(Array.from(bytes, (b) => Uint8Array.of(b)));
    expect(bytewise).toEqual(whole);
    expect(whole.count).toBe(30);
    expect(whole.errors).toHaveLength(2);
  });
});
