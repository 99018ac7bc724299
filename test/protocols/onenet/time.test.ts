// OneNET times: `at` with `T` or a space, fractions, zones, the configured offset, every range
// check; the `±HH:MM` option; printing in the zone with and without milliseconds.
import { describe, expect, it } from 'vitest';
import { formatOneNetTime, parseOneNetTime, parseZoneOffset } from '../../../src/protocols/onenet/time.js';

const CST = 480;

describe('parseZoneOffset', () => {
  it('reads ±HH:MM within ±14:00', () => {
    expect(parseZoneOffset('+08:00')).toBe(480);
    expect(parseZoneOffset('-05:30')).toBe(-330);
    expect(parseZoneOffset('+00:00')).toBe(0);
    expect(parseZoneOffset('+14:00')).toBe(840);
    expect(parseZoneOffset('-14:00')).toBe(-840);
  });
  it('refuses anything else', () => {
    for (const bad of ['+8', '08:00', '+08', '+0800', '+14:01', '+15:00', '+08:60', 'Z', '', ' +08:00', '+08:00 ']) expect(parseZoneOffset(bad)).toBeUndefined();
  });
});

describe('parseOneNetTime', () => {
  it('reads T or space separated times in the configured zone', () => {
    const utc = Date.UTC(2015, 2, 22, 14, 31, 12);
    expect(parseOneNetTime('2015-03-22T22:31:12', CST)).toBe(utc);
    expect(parseOneNetTime('2015-03-22 22:31:12', CST)).toBe(utc);
    expect(parseOneNetTime('2015-03-22T22:31:12', 0)).toBe(utc + 8 * 3_600_000);
    expect(parseOneNetTime('2015-03-22T22:31:12', -330)).toBe(Date.UTC(2015, 2, 23, 4, 1, 12));
  });
  it('keeps milliseconds of a fraction (truncating finer digits)', () => {
    const utc = Date.UTC(2019, 4, 15, 10, 41, 10);
    expect(parseOneNetTime('2019-05-15 18:41:10.568', CST)).toBe(utc + 568);
    expect(parseOneNetTime('2019-05-15 18:41:10.5', CST)).toBe(utc + 500);
    expect(parseOneNetTime('2019-05-15 18:41:10.123456789', CST)).toBe(utc + 123);
  });
  it('a zone in the text wins over the configured one', () => {
    const utc = Date.UTC(2015, 2, 22, 22, 31, 12);
    expect(parseOneNetTime('2015-03-22T22:31:12Z', CST)).toBe(utc);
    expect(parseOneNetTime('2015-03-22T22:31:12+00:00', CST)).toBe(utc);
    expect(parseOneNetTime('2015-03-22T22:31:12-0100', CST)).toBe(utc + 3_600_000);
  });
  it('refuses malformed and out-of-range times', () => {
    for (const bad of [
      '',
      '2015-03-22',
      '2015-03-22T22:31',
      '2015-3-22T22:31:12',
      '2015-03-22X22:31:12',
      '2015-03-22  22:31:12',
      '2015-13-01T00:00:00',
      '2015-00-01T00:00:00',
      '2015-02-29T00:00:00',
      '2015-04-31T00:00:00',
      '2015-03-22T24:00:00',
      '2015-03-22T23:60:00',
      '2015-03-22T23:59:60',
      '2015-03-22T22:31:12+15:00',
      '2015-03-22T22:31:12 ',
      '1427034672',
    ]) {
      expect(parseOneNetTime(bad, CST), bad).toBeUndefined();
    }
    expect(parseOneNetTime('2016-02-29T00:00:00', CST)).toBe(Date.UTC(2016, 1, 28, 16));
  });
  it('keeps two-digit years as written and refuses times beyond the engine range', () => {
    expect(parseOneNetTime('0099-01-01T00:00:00', 0)).toBe(new Date('0099-01-01T00:00:00Z').getTime());
    expect(parseOneNetTime('9999-12-31T23:59:59', 0)).toBe(Date.UTC(9999, 11, 31, 23, 59, 59));
  });
});

describe('formatOneNetTime', () => {
  it('prints YYYY-MM-DD hh:mm:ss.mmm in the zone, or without milliseconds', () => {
    const ms = Date.UTC(2019, 4, 15, 10, 41, 10, 568);
    expect(formatOneNetTime(ms, CST)).toBe('2019-05-15 18:41:10.568');
    expect(formatOneNetTime(ms, CST, false)).toBe('2019-05-15 18:41:10');
    expect(formatOneNetTime(ms, -330)).toBe('2019-05-15 05:11:10.568');
    expect(formatOneNetTime(0, 0)).toBe('1970-01-01 00:00:00.000');
  });
  it('is the inverse of parseOneNetTime', () => {
    for (const text of ['2015-03-22 22:31:12.000', '2000-02-29 00:00:00.001', '1969-12-31 23:59:59.999']) {
      expect(formatOneNetTime(parseOneNetTime(text, CST)!, CST)).toBe(text);
    }
  });
});
