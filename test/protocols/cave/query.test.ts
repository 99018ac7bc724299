// CAVE read requests and bodies: MetricRequest's parameter rules and texts in CAVE's order,
// Joda's ISO parser and its error texts, Play's double printing and dateTimeNoMillis.
import { describe, expect, it } from 'vitest';
import {
  CAVE_MAX_POINTS,
  encodeCaveMetricNames,
  encodeCaveMetrics,
  jodaNoMillis,
  parseCaveMetricsRequest,
  parseJodaDateTime,
  playDouble,
} from '../../../src/protocols/cave/query.js';

const ok = 'metric=cpu&aggregator=mean&period=5';

describe('parseCaveMetricsRequest', () => {
  it('reads every parameter', () => {
    expect(parseCaveMetricsRequest(`${ok}&tags=host:a,dc:x&start=2014-10-17T10:00:00.000Z&end=2014-10-17T12:00:00.000%2B02:00&limit=10`)).toEqual({
      metric: 'cpu',
      tags: { host: 'a', dc: 'x' },
      aggregator: 'mean',
      periodMinutes: 5,
      startMs: Date.UTC(2014, 9, 17, 10),
      endMs: Date.UTC(2014, 9, 17, 10),
      limit: 10,
    });
  });

  it('limit: default and cap 1440; not an integer or below 1 → default', () => {
    expect(parseCaveMetricsRequest(ok)).toMatchObject({ limit: CAVE_MAX_POINTS });
    expect(CAVE_MAX_POINTS).toBe(1440);
    expect(parseCaveMetricsRequest(`${ok}&limit=5000`)).toMatchObject({ limit: 1440 });
    expect(parseCaveMetricsRequest(`${ok}&limit=abc`)).toMatchObject({ limit: 1440 });
    expect(parseCaveMetricsRequest(`${ok}&limit=0`)).toMatchObject({ limit: 1440 });
  });

  it("CAVE's texts, first failure in CAVE's order", () => {
    expect(parseCaveMetricsRequest('aggregator=mean&period=5')).toEqual({ error: "Required parameter 'metric' is missing." });
    expect(parseCaveMetricsRequest('metric=cpu&period=5')).toEqual({ error: "Required parameter 'aggregator' is missing." });
    expect(parseCaveMetricsRequest('metric=cpu&aggregator=collate&period=5')).toEqual({ error: "Parameter 'aggregator' has invalid value 'collate'." });
    expect(parseCaveMetricsRequest('metric=cpu&aggregator=Mean&period=5')).toEqual({ error: "Parameter 'aggregator' has invalid value 'Mean'." });
    expect(parseCaveMetricsRequest('metric=cpu&aggregator=mean')).toEqual({ error: "Required parameter 'period' is missing." });
    expect(parseCaveMetricsRequest('metric=cpu&aggregator=mean&period=boom')).toEqual({ error: "Parameter 'period' has invalid value 'boom'." });
    expect(parseCaveMetricsRequest('metric=cpu&aggregator=mean&period=0')).toEqual({ error: "Parameter 'period' has invalid value '0'." });
    expect(parseCaveMetricsRequest('period=boom&aggregator=collate')).toEqual({ error: "Required parameter 'metric' is missing." });
    expect(parseCaveMetricsRequest(`${ok}&tags=host`)).toEqual({ error: "Parameter 'tags' has invalid value 'host'." });
    expect(parseCaveMetricsRequest(`${ok}&tags=a:b:c`)).toEqual({ error: "Parameter 'tags' has invalid value 'a:b:c'." });
    expect(parseCaveMetricsRequest(`${ok}&start=boom`)).toEqual({ error: 'Invalid format: "boom"' });
  });

  it('accepts every CAVE aggregator', () => {
    for (const a of ['count', 'min', 'max', 'mean', 'mode', 'median', 'sum', 'stddev', 'p99', 'p999', 'p95', 'p90']) {
      expect(parseCaveMetricsRequest(`metric=m&aggregator=${a}&period=1`)).toMatchObject({ aggregator: a });
    }
  });
});

describe('parseJodaDateTime', () => {
  it('parses millis and zones', () => {
    expect(parseJodaDateTime('2014-10-17T10:00:00.000Z')).toBe(Date.UTC(2014, 9, 17, 10));
    expect(parseJodaDateTime('2014-10-17T10:00:00.5Z')).toBe(Date.UTC(2014, 9, 17, 10, 0, 0, 500));
    expect(parseJodaDateTime('2014-10-17T10:00:00.123456789-05:30')).toBe(Date.UTC(2014, 9, 17, 15, 30, 0, 123));
    expect(parseJodaDateTime('2014-10-17T10:00:00.000+0200')).toBe(Date.UTC(2014, 9, 17, 8));
  });

  it("Joda's texts", () => {
    expect(parseJodaDateTime('boom')).toEqual({ error: 'Invalid format: "boom"' });
    expect(parseJodaDateTime('2014-10-17T10:00:00Z')).toEqual({ error: 'Invalid format: "2014-10-17T10:00:00Z" is malformed at "Z"' });
    expect(parseJodaDateTime('2014-10-17')).toEqual({ error: 'Invalid format: "2014-10-17" is too short' });
    expect(parseJodaDateTime('2014-10-17T10:00:00.000')).toEqual({ error: 'Invalid format: "2014-10-17T10:00:00.000" is too short' });
    expect(parseJodaDateTime('2014-10-17T10:00:00.000Zjunk')).toEqual({ error: 'Invalid format: "2014-10-17T10:00:00.000Zjunk" is malformed at "junk"' });
    expect(parseJodaDateTime('2014-13-17T10:00:00.000Z')).toEqual({ error: 'Cannot parse "2014-13-17T10:00:00.000Z": Value 13 for monthOfYear must be in the range [1,12]' });
    expect(parseJodaDateTime('2014-02-29T10:00:00.000Z')).toEqual({ error: 'Cannot parse "2014-02-29T10:00:00.000Z": Value 29 for dayOfMonth must be in the range [1,28]' });
    expect(parseJodaDateTime('2014-10-17T24:00:00.000Z')).toEqual({ error: 'Cannot parse "2014-10-17T24:00:00.000Z": Value 24 for hourOfDay must be in the range [0,23]' });
  });
});

describe('response bodies', () => {
  it('playDouble prints as BigDecimal(Double.toString(d))', () => {
    const cases: [number, string][] = [
      [2, '2.0'], [0, '0.0'], [-0, '0.0'], [-1.5, '-1.5'], [0.25, '0.25'], [100, '100.0'], [0.001, '0.001'], [1.5e-4, '0.00015'],
      [1.234e-5, '0.00001234'], [1e-7, '1.0E-7'], [1e7, '1.0E+7'], [1e10, '1.0E+10'], [12345678.9, '12345678.9'],
      [12345678, '12345678'], [1234567.5, '1234567.5'], [1.7976931348623157e308, '1.7976931348623157E+308'],
    ];
    for (const [d, text] of cases) expect(playDouble(d), String(d)).toBe(text);
  });

  it('times without millis, UTC', () => {
    expect(jodaNoMillis(Date.UTC(2014, 9, 17, 10))).toBe('2014-10-17T10:00:00Z');
    expect(encodeCaveMetrics([{ timeMs: Date.UTC(2014, 9, 17, 10), value: 2 }])).toBe('{"metrics":[{"time":"2014-10-17T10:00:00Z","value":2.0}]}');
    expect(encodeCaveMetrics([])).toBe('{"metrics":[]}');
  });

  it('metric names', () => {
    expect(encodeCaveMetricNames([{ name: 'RabbitMsgReceived', tags: ['host', 'environment'] }])).toBe('[{"name":"RabbitMsgReceived","tags":["host","environment"]}]');
    expect(encodeCaveMetricNames([])).toBe('[]');
    expect(encodeCaveMetricNames([{ name: 'a"b', tags: [] }])).toBe('[{"name":"a\\"b","tags":[]}]');
  });
});
