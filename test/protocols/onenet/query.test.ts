// Read parameters: the latest-only form, time ranges with duration, limit and sort bounds,
// cursors (round trip and forgeries), each error's message; bindata indexes.
import { describe, expect, it } from 'vitest';
import { ServiceError } from '../../../src/errors.js';
import { encodeBinaryIndex, indexReadings, decodeBinaryPayload, encodeBinaryPayload } from '../../../src/protocols/onenet/bindata.js';
import { decodeCursor, encodeCursor, parseDatapointsQuery } from '../../../src/protocols/onenet/query.js';

const NOW = Date.UTC(2020, 0, 1);
const parse = (q: string) => parseDatapointsQuery(q, 480, NOW);
const T = (text: string) => Date.parse(`${text}+08:00`);

function message(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ServiceError);
    return (err as ServiceError).message;
  }
  throw new Error('expected a failure');
}

describe('parseDatapointsQuery', () => {
  it('no parameters (or only datastream_id): the latest point of each stream', () => {
    expect(parse('')).toMatchObject({ latestOnly: true, streams: undefined, limit: 100, descending: false });
    expect(parse('datastream_id=a,b,,a')).toMatchObject({ latestOnly: true, streams: ['a', 'b'] });
    expect(parse('limit=5').latestOnly).toBe(false);
    expect(parse('sort=DESC')).toMatchObject({ latestOnly: false, descending: true });
  });
  it('time ranges: start/end, start+duration, end+duration, duration alone', () => {
    expect(parse('start=2015-01-10T08:00:35&end=2015-01-10 09:00:00')).toMatchObject({ startMs: T('2015-01-10T08:00:35'), endMs: T('2015-01-10T09:00:00') });
    expect(parse('start=2015-01-10T08:00:35&duration=60')).toMatchObject({ startMs: T('2015-01-10T08:00:35'), endMs: T('2015-01-10T08:01:35') });
    expect(parse('end=2015-01-10T08:00:35&duration=60')).toMatchObject({ startMs: T('2015-01-10T07:59:35'), endMs: T('2015-01-10T08:00:35') });
    expect(parse('duration=60')).toMatchObject({ startMs: NOW - 60_000, endMs: NOW, latestOnly: false });
  });
  it('refuses bad parameters with their names', () => {
    expect(message(() => parse('limit=0'))).toContain('limit: "0" must be an integer in (0, 6000]');
    expect(message(() => parse('limit=6001'))).toContain('limit');
    expect(message(() => parse('limit=1.5'))).toContain('limit');
    expect(parse('limit=6000').limit).toBe(6000);
    expect(message(() => parse('sort=up'))).toContain('sort: "up" must be ASC or DESC');
    expect(parse('sort=asc').descending).toBe(false);
    expect(message(() => parse('start=yesterday'))).toContain('start: "yesterday" is not a time');
    expect(message(() => parse('end=2015-02-30T00:00:00'))).toContain('end:');
    expect(message(() => parse('duration=1h'))).toContain('duration');
    expect(message(() => parse('start=2015-01-10T08:00:35&end=2015-01-10T08:00:34'))).toContain('start is after end');
    expect(message(() => parse('cursor=abc'))).toContain('cursor');
  });
});

describe('cursors', () => {
  it('round-trip and refuse forgeries', () => {
    for (const p of [{ timestampMs: 1498708525203, stream: 'temp' }, { timestampMs: -5, stream: 'a_b,c 温度' }]) expect(decodeCursor(encodeCursor(p))).toEqual(p);
    for (const bad of ['', '1_', '_dGVtcA', 'x_dGVtcA', '1_dGVtcA=', '99999999999999999_dGVtcA']) expect(decodeCursor(bad), bad).toBeUndefined();
  });
});

describe('bindata indexes', () => {
  it('encode like the platform and list every reading of an ambiguous index', () => {
    expect(encodeBinaryIndex({ deviceId: '3491506', atMs: 1475204886914, datastreamId: 'bin' })).toBe('3491506_1475204886914_bin');
    expect(indexReadings('3491506_1475204886914_bin')).toEqual([{ deviceId: '3491506', atMs: 1475204886914, datastreamId: 'bin' }]);
    expect(indexReadings('a_1_b_2_c')).toEqual([
      { deviceId: 'a', atMs: 1, datastreamId: 'b_2_c' },
      { deviceId: 'a_1_b', atMs: 2, datastreamId: 'c' },
    ]);
    for (const bad of ['', 'abc', '_1_x', 'a_x_b', 'a_1_', 'a.b_1_c']) expect(indexReadings(bad), bad).toEqual([]);
  });
  it('payloads carry the bytes exactly', () => {
    const bytes = new Uint8Array([0, 1, 2, 255, 254]);
    expect([...decodeBinaryPayload(encodeBinaryPayload(bytes, 'd'))!]).toEqual([...bytes]);
    expect(decodeBinaryPayload('{"x":1}')).toBeUndefined();
    expect(decodeBinaryPayload('not json')).toBeUndefined();
  });
});
