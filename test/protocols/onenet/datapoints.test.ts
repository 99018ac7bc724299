// The upload decoders: type 1/3/4/5 as the platform documents them, value kinds, times, every
// validation error with its message, and the one-batch WriteBatch they become.
import { describe, expect, it } from 'vitest';
import { ValueKind } from '../../../engine/index.js';
import { ServiceError, ServiceErrorCode } from '../../../src/errors.js';
import { datapointsBatch, decodeDatapoints, delimitedValue, parseUploadType, type OneNetPoint } from '../../../src/protocols/onenet/datapoints.js';

const NOW = Date.UTC(2020, 0, 1);
const options = { offsetMinutes: 480, nowMs: NOW };
const T = Date.UTC(2015, 2, 22, 14, 31, 12); // 2015-03-22T22:31:12 at +08:00
const bytes = (s: string) => new TextEncoder().encode(s);
const decode = (body: string, type = 1) => decodeDatapoints(bytes(body), type, options);
const f = (float: number) => ({ kind: ValueKind.Float64, float });
const i = (int: bigint) => ({ kind: ValueKind.Int64, int });
const s = (text: string) => ({ kind: ValueKind.String, text });
const j = (text: string) => ({ kind: ValueKind.Json, text });

function failure(fn: () => unknown): ServiceError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ServiceError);
    expect((err as ServiceError).code).toBe(ServiceErrorCode.BadRequest);
    return err as ServiceError;
  }
  throw new Error('expected a failure');
}

describe('parseUploadType', () => {
  it('defaults to 1 and accepts 1, 3, 4, 5', () => {
    expect(parseUploadType('')).toBe(1);
    expect(parseUploadType('type=')).toBe(1);
    for (const t of [1, 3, 4, 5]) expect(parseUploadType(`type=${t}`)).toBe(t);
  });
  it('refuses EDP-only and unknown types', () => {
    for (const t of ['2', '6', '7', '0', 'x', '-1', '01x']) expect(failure(() => parseUploadType(`type=${t}`)).message).toContain('is not supported over HTTP');
  });
});

describe('type 1 (full JSON)', () => {
  it('decodes the documented example and absent times as server time', () => {
    expect(decode('{"datastreams":[{"id":"temperature","datapoints":[{"at":"2015-03-22T22:31:12","value":84},{"value":"x"}]}]}')).toEqual([
      { stream: 'temperature', timestampMs: T, value: i(84n) },
      { stream: 'temperature', timestampMs: NOW, value: s('x') },
    ]);
    expect(decode('{"datastreams":[{"id":"a","datapoints":[{"at":null,"value":1}]}]}')[0]!.timestampMs).toBe(NOW);
  });
  it('keeps every value kind and literal', () => {
    const values = ['1', '1.0', '9223372036854775807', '9223372036854775808', '1e400', '"1"', '{"a":1.50,"b":[true,null]}', '[]', 'false', 'null'];
    const got = decode(`{"datastreams":[{"id":"k","datapoints":[${values.map((v) => `{"value":${v}}`).join(',')}]}]}`).map((p) => p.value);
    expect(got).toEqual([
      i(1n),
      f(1),
      i(9223372036854775807n),
      j('9223372036854775808'),
      j('1e400'),
      s('1'),
      j('{"a":1.50,"b":[true,null]}'),
      j('[]'),
      j('false'),
      j('null'),
    ]);
  });
  it('refuses malformed documents with the place', () => {
    const cases: [string, string][] = [
      ['', 'body is not valid JSON'],
      ['{', 'body is not valid JSON'],
      ['[]', 'body must be a JSON object with "datastreams"'],
      ['{"datastreams":{}}', '"datastreams" must be a non-empty array'],
      ['{"datastreams":[1]}', 'datastreams[0] must be an object'],
      ['{"datastreams":[{"id":1,"datapoints":[{"value":1}]}]}', 'datastreams[0].id: a datastream id must be a non-empty string'],
      [`{"datastreams":[{"id":"${'x'.repeat(1025)}","datapoints":[{"value":1}]}]}`, 'datastream id longer than 1024 characters'],
      ['{"datastreams":[{"id":"\\ud800","datapoints":[{"value":1}]}]}', 'datastream id holds a lone UTF-16 surrogate'],
      ['{"datastreams":[{"id":"a"}]}', 'datastreams[0].datapoints must be a non-empty array'],
      ['{"datastreams":[{"id":"a","datapoints":[5]}]}', 'datastreams[0].datapoints[0] must be an object'],
      ['{"datastreams":[{"id":"a","datapoints":[{"at":"2015-03-22T22:31:12"}]}]}', 'datastreams[0].datapoints[0].value is required'],
      ['{"datastreams":[{"id":"a","datapoints":[{"at":5,"value":1}]}]}', 'a time must be a string'],
      ['{"datastreams":[{"id":"a","datapoints":[{"at":"22:31:12","value":1}]}]}', '"22:31:12" is not a time'],
    ];
    for (const [body, message] of cases) expect(failure(() => decode(body)).message, body).toContain(message);
  });
});

describe('type 3 and type 4 (simple JSON)', () => {
  it('type 3: one point per key at server time', () => {
    expect(decode('{"temperature":22.5,"humidity":"95.2%"}', 3)).toEqual([
      { stream: 'temperature', timestampMs: NOW, value: f(22.5) },
      { stream: 'humidity', timestampMs: NOW, value: s('95.2%') },
    ]);
    expect(failure(() => decode('{}', 3)).message).toContain('type=3 body must be a non-empty JSON object');
    expect(failure(() => decode('[1]', 3)).message).toContain('type=3 body must be a non-empty JSON object');
  });
  it('type 4: several times per stream', () => {
    expect(decode('{"temperature":{"2015-03-22T22:31:12":22.5,"2015-03-22 22:31:13":{"x":1}}}', 4)).toEqual([
      { stream: 'temperature', timestampMs: T, value: f(22.5) },
      { stream: 'temperature', timestampMs: T + 1000, value: j('{"x":1}') },
    ]);
    expect(failure(() => decode('{"t":22.5}', 4)).message).toContain('"t" must be a non-empty object');
    expect(failure(() => decode('{"t":{"now":1}}', 4)).message).toContain('"now" is not a time');
  });
});

describe('type 5 (delimited text)', () => {
  const example: OneNetPoint[] = [
    { stream: 'temperature', timestampMs: T, value: f(22.5) },
    { stream: '1', timestampMs: NOW, value: i(102n) },
    { stream: 'pm2.5', timestampMs: NOW, value: i(89n) },
    { stream: '3', timestampMs: NOW, value: i(10n) },
  ];
  it('decodes both documented examples', () => {
    expect(decode(',;temperature,2015-03-22 22:31:12,22.5;102;pm2.5,89;10', 5)).toEqual(example);
    expect(decode('#@temperature#2015-03-22 22:31:12#22.5@102@pm2.5#89@10', 5)).toEqual(example);
  });
  it('ignores empty fields (trailing separators) but counts their positions, and trailing CR/LF', () => {
    expect(decode(',;a,1;;5;\r\n', 5)).toEqual([
      { stream: 'a', timestampMs: NOW, value: i(1n) },
      { stream: '2', timestampMs: NOW, value: i(5n) },
    ]);
    expect(decode(',;Active,0;', 5)).toEqual([{ stream: 'Active', timestampMs: NOW, value: i(0n) }]);
  });
  it('reads times with T, and keeps a value holding the in-field separator', () => {
    expect(decode(',;t,2015-03-22T22:31:12,1.5', 5)).toEqual([{ stream: 't', timestampMs: T, value: f(1.5) }]);
    expect(decode(',;msg,hello, world', 5)).toEqual([{ stream: 'msg', timestampMs: NOW, value: s('hello, world') }]);
    expect(decode(',;msg,2015-03-22 22:31:12,a,b', 5)).toEqual([{ stream: 'msg', timestampMs: T, value: s('a,b') }]);
  });
  it('values: a whole JSON number literal is a number, anything else a string', () => {
    expect(delimitedValue('22')).toEqual(i(22n));
    expect(delimitedValue('-0.5')).toEqual(f(-0.5));
    expect(delimitedValue('1e3')).toEqual(f(1000));
    expect(delimitedValue('1.0')).toEqual(f(1));
    for (const text of ['95.2%', '01', '+1', '.5', '1.', 'true', 'null', '{"a":1}', ' 1', 'NaN', '0x10']) expect(delimitedValue(text)).toEqual(s(text));
  });
  it('refuses bodies without separators, equal separators, bad times, empty ids', () => {
    expect(failure(() => decode(',', 5)).message).toContain('must start with two separator characters');
    expect(failure(() => decode(';;a;1', 5)).message).toContain('separators must differ');
    expect(failure(() => decode(',;a,2015-02-30 10:00:00,1', 5)).message).toContain('is not a time');
    expect(failure(() => decode(',;,1', 5)).message).toContain('a datastream id must be a non-empty string');
    expect(failure(() => decode(',;;;', 5)).message).toContain('type=5 body holds no field');
  });
  it('takes separators as characters, not bytes', () => {
    expect(decode('，；温度，25；湿度，60', 5)).toEqual([
      { stream: '温度', timestampMs: NOW, value: i(25n) },
      { stream: '湿度', timestampMs: NOW, value: i(60n) },
    ]);
  });
});

describe('datapointsBatch', () => {
  it('builds one batch: one series per stream with the device_id tag, columns by kind', () => {
    const points = decode('{"datastreams":[{"id":"a","datapoints":[{"at":"2015-03-22T22:31:12","value":1},{"value":"x"}]},{"id":"b","datapoints":[{"value":2.5}]}]}');
    const batch = datapointsBatch('dev1', points);
    expect(batch.length).toBe(3);
    expect(batch.series).toEqual([
      { metric: 'a', tags: { device_id: 'dev1' } },
      { metric: 'b', tags: { device_id: 'dev1' } },
    ]);
    expect([...batch.seriesIndex]).toEqual([0, 0, 1]);
    expect([...batch.timestampsMs]).toEqual([T, NOW, NOW]);
    expect([...batch.kinds]).toEqual([ValueKind.Int64, ValueKind.String, ValueKind.Float64]);
    expect(batch.ints[0]).toBe(1n);
    expect(batch.texts[1]).toBe('x');
    expect(batch.floats[2]).toBe(2.5);
  });
  it('puts binary payload points in their own series', () => {
    const batch = datapointsBatch('d', [
      { stream: 'bin', timestampMs: 1, value: s('d_1_bin') },
      { stream: 'bin', timestampMs: 1, value: j('{}'), binaryPayload: true },
    ]);
    expect(batch.series).toEqual([
      { metric: 'bin', tags: { device_id: 'd' } },
      { metric: 'bin', tags: { onenet_bindata: 'payload', device_id: 'd' } },
    ]);
  });
});
