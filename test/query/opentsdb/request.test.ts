// /api/query requests: methods, GET m= parsing, POST binding, OpenTSDB's time grammar, downsample
// specifications, filter construction and the exact error envelopes.
import { describe, expect, it } from 'vitest';
import { parseDownsample, parseOpenTsdbQuery, parseRateOptionsText } from '../../../src/protocols/opentsdb/query.js';
import { parseMetricAndFilters, type TagFilter } from '../../../src/protocols/opentsdb/query-filter.js';
import { OpenTsdbQueryError, parseOpenTsdbDuration, parseOpenTsdbTime, previousCalendarInterval } from '../../../src/protocols/opentsdb/query-time.js';
import { runOpenTsdbQuery } from '../../../src/query/opentsdb/index.js';
import { NOW_MS, at, engineWith, get, post } from './helpers.js';

const engine = engineWith([
  { metric: 'sys.cpu', tags: { host: 'web01', dc: 'lga' }, t: at(0), value: 1n },
  { metric: 'sys.cpu', tags: { host: 'web02', dc: 'lga' }, t: at(0), value: 2n },
]);

function error(status: number, message: string, details?: string): string {
  return `{"error":{"code":${status},"message":${JSON.stringify(message)}${details === undefined ? '' : `,"details":${JSON.stringify(details)}`}}}`;
}

function expectError(answer: { status: number; body: string }, status: number, message: string, details?: string): void {
  expect(answer.status).toBe(status);
  expect(answer.body).toBe(error(status, message, details));
}

function timeError(text: string, timezone: string | null = null): string {
  try {
    parseOpenTsdbTime(text, timezone, NOW_MS);
  } catch (err) {
    if (err instanceof OpenTsdbQueryError) return err.message;
    throw err;
  }
  throw new Error(`${text} parsed`);
}

describe('methods', () => {
  it('answers 405 for other methods and refuses deletes as OpenTSDB’s default does', () => {
    expectError(runOpenTsdbQuery(engine, { method: 'PUT', queryString: '', body: '' }, { nowMs: NOW_MS }), 405, 'Method not allowed', 'The HTTP method [PUT] is not permitted for this endpoint');
    const details = 'Deleting data is not enabled (tsd.http.query.allow_delete=false)';
    expectError(runOpenTsdbQuery(engine, { method: 'DELETE', queryString: `start=${at(0)}&m=sum:sys.cpu`, body: '' }, { nowMs: NOW_MS }), 400, 'Bad request', details);
    expectError(post(engine, { start: at(0), delete: true, queries: [{ aggregator: 'sum', metric: 'sys.cpu' }] }), 400, 'Bad request', details);
    expect(runOpenTsdbQuery(engine, { method: 'get', queryString: `start=${at(0)}&m=sum:sys.cpu`, body: '' }, { nowMs: NOW_MS }).status).toBe(200);
  });
});

describe('validation messages', () => {
  it('GET', () => {
    expectError(get(engine, 'm=sum:sys.cpu'), 400, 'Missing parameter <code>start</code>');
    expectError(get(engine, `start=${at(0)}`), 400, 'Missing sub queries');
    expectError(get(engine, `start=${at(0)}&m=sum`), 400, 'Invalid parameter m=sum (not enough :-separated parts)');
    expectError(get(engine, `start=${at(0)}&m=a:b:c:d:e:f`), 400, 'Invalid parameter m=a:b:c:d:e:f (too many :-separated parts)');
    expectError(get(engine, `start=${at(0)}&m=sum::sys.cpu`), 500, 'String index out of range: 0');
    expectError(get(engine, `start=${at(0)}&m=:sys.cpu`), 400, 'Missing the aggregation function');
    expectError(get(engine, `start=${at(0)}&m=foo:sys.cpu`), 400, 'No such aggregation function: foo');
    expectError(get(engine, `start=${at(0)}&m=sum:sys.cpu{host`), 400, "Missing '}' at the end of: sys.cpu{host");
    expectError(get(engine, `start=${at(0)}&m=sum:sys.cpu{host}`), 400, "When parsing tag 'host': invalid tag: host");
    expectError(get(engine, `start=${at(0)}&m=sum:sys.cpu{}{host=nope(x)}`), 400, "When parsing filter 'host=nope(x)': Could not find a tag value filter of the type: nope");
    expectError(get(engine, `start=${at(0)}&m=sum:rate{:sys.cpu`), 400, 'Invalid rate options specification: rate{');
    expectError(get(engine, `start=${at(0)}&m=sum:rate{counter,abc}:sys.cpu`), 400, "Max value of counter was not a number, received 'abc'");
    // An OpenTSDB-style 3-byte-UID TSUID is hex but names no Strata series: nothing matches.
    expect(get(engine, `start=${at(0)}&tsuid=sum:000001000001000001`)).toMatchObject({ status: 200, body: '[]' });
  });

  it('POST', () => {
    expectError(post(engine, ''), 400, 'Missing message content', 'Supply valid JSON formatted data in the body of your request');
    expect(post(engine, '{"start":').body).toMatch(/^\{"error":\{"code":400,"message":"Unable to parse the given JSON","details":".+"\}\}$/);
    expectError(post(engine, { queries: [] }), 400, 'Missing start time');
    expectError(post(engine, { start: at(0) }), 400, 'Missing queries');
    expectError(post(engine, { start: at(0), queries: [] }), 400, 'Missing queries');
    expectError(post(engine, { start: at(0), queries: [{ metric: 'sys.cpu' }] }), 400, 'Missing the aggregation function');
    expectError(post(engine, { start: at(0), queries: [{ aggregator: 'x', metric: 'sys.cpu' }] }), 400, 'No such aggregation function: x');
    expectError(post(engine, { start: at(0), queries: [{ aggregator: 'sum' }] }), 400, 'Missing the metric or tsuids, provide at least one');
    expectError(post(engine, { start: at(60), end: at(0), queries: [{ aggregator: 'sum', metric: 'sys.cpu' }] }), 400, `End time [${at(0)}] must be greater than or equal to the start time [${at(60)}]`);
    expectError(
      post(engine, { start: at(0), queries: [{ aggregator: 'sum', metric: 'sys.cpu', filters: [{ type: 'foo', tagk: 'host', filter: 'x' }] }] }),
      400,
      'Unable to parse the given JSON',
      'Could not find a tag value filter of the type: foo',
    );
    expectError(post(engine, { start: at(0), queries: [{ aggregator: 'sum', metric: 'sys.cpu', downsample: '1m-foo' }] }), 400, 'No such downsampling function: foo');
    expectError(
      post(engine, { start: '2023/11/14 22:00', timezone: 'Nowhere/Land', queries: [{ aggregator: 'sum', metric: 'sys.cpu' }] }),
      400,
      'Invalid timezone name: Nowhere/Land',
    );
    expectError(
      post(engine, { start: at(0), timezone: 'Nowhere/Land', queries: [{ aggregator: 'sum', metric: 'sys.cpu', downsample: '1m-sum' }] }),
      400,
      'The timezone specification could not be found',
    );
  });

  it('unknown names, as OpenTSDB’s UID lookups', () => {
    expectError(post(engine, { start: at(0), queries: [{ aggregator: 'sum', metric: 'nope' }] }), 400, "No such name for 'metrics': 'nope'");
    expectError(get(engine, `start=${at(0)}&m=sum:sys.cpu{colo=*}`), 400, "No such name for 'tagk': 'colo'");
    expectError(get(engine, `start=${at(0)}&m=sum:sys.cpu{host=web99}`), 400, "No such name for 'tagv': 'web99'");
    // The reserved rollup tag is not a tag key clients can see.
    expectError(
      post(engine, { start: at(0), queries: [{ aggregator: 'sum', metric: 'sys.cpu', filters: [{ type: 'wildcard', tagk: 'strata:rollup', filter: '*' }] }] }),
      400,
      "No such name for 'tagk': 'strata:rollup'",
    );
    expect(get(engine, `start=${at(0)}&m=sum:sys.cpu{host=WEB99*}`).body).toBe('[]');
  });

  it('jsonp wraps errors', () => {
    expect(get(engine, 'jsonp=fn&m=sum:sys.cpu').body).toBe(`fn(${error(400, 'Missing parameter <code>start</code>')})`);
  });
});

describe('GET m= parsing', () => {
  it('reads every optional part', () => {
    const q = parseOpenTsdbQuery(
      'GET',
      `start=1h-ago&end=now&ms&show_query&no_annotations&m=${encodeURIComponent('p99:rate{counter,100,5}:5m-avg-zero:explicit_tags:sys.cpu{host=*}{dc=lga}')}&m=sum:rollup_fallback:pre-agg:sys.cpu`,
      '',
      NOW_MS,
    );
    expect(q.startMs).toBe(NOW_MS - 3_600_000);
    expect(q.endMs).toBe(NOW_MS);
    expect(q.msResolution).toBe(true);
    expect(q.showQuery).toBe(true);
    expect(q.noAnnotations).toBe(true);
    const sub = q.queries[0]!;
    expect(sub.aggregator).toBe('p99');
    expect(sub.metric).toBe('sys.cpu');
    expect(sub.rate).toBe(true);
    expect(sub.rateOptions).toEqual({ counter: true, counterMax: 100n, resetValue: 5n, dropResets: false });
    expect(sub.downsampleSpec).toMatchObject({ intervalMs: 300_000, aggregator: 'avg', fill: 'zero', useCalendar: false, runAll: false });
    expect(sub.explicitTags).toBe(true);
    expect(q.queries[1]).toMatchObject({ rollupUsage: 'ROLLUP_FALLBACK', preAggregate: true, index: 1 });
    expect(sub.filters.map((f) => [f.type, f.tagk, f.filter, f.groupBy])).toEqual([
      ['literal_or', 'dc', 'lga', false],
      ['wildcard', 'host', '*', true],
    ]);
  });

  it('parses rate options like QueryRpc', () => {
    expect(parseRateOptionsText('rate')).toEqual({ counter: false, counterMax: 9223372036854775807n, resetValue: 0n, dropResets: false });
    expect(parseRateOptionsText('rate{counter,,1000}')).toEqual({ counter: true, counterMax: 9223372036854775807n, resetValue: 1000n, dropResets: false });
    expect(parseRateOptionsText('rate{dropcounter}')).toMatchObject({ counter: true, dropResets: true });
  });

  it('turns group-by tags into filters like Tags.parseWithMetricAndFilters', () => {
    const filters: TagFilter[] = [];
    expect(parseMetricAndFilters('m{a=x|y,b=*,c=v*}{d=regexp(^z),a=x|y}', filters)).toBe('m');
    expect(filters.map((f) => [f.type, f.tagk, f.groupBy, f.caseInsensitive])).toEqual([
      ['regexp', 'd', false, false],
      ['literal_or', 'a', true, false], // equal to the group-by one: turned on, not added twice
      ['wildcard', 'b', true, true],
      ['wildcard', 'c', true, true],
    ]);
    expect(parseMetricAndFilters('m{}', [])).toBe('m');
  });
});

describe('POST binding', () => {
  it('coerces like Jackson: numbers to strings, "true" to booleans; ignores unknown fields', () => {
    const q = parseOpenTsdbQuery(
      'POST',
      'arrays&jsonp=cb',
      JSON.stringify({ start: at(0) / 1000, end: String(at(60)), msResolution: 'true', whatever: 1, queries: [{ aggregator: 'sum', metric: 'sys.cpu', rate: 'true', tags: { host: 'web01' } }] }),
      NOW_MS,
    );
    expect(q.startMs).toBe(at(0));
    expect(q.endMs).toBe(at(60));
    expect(q.msResolution).toBe(true);
    expect(q.arrays).toBe(true);
    expect(q.jsonp).toBe('cb');
    expect(q.queries[0]!.rate).toBe(true);
    expect(q.queries[0]!.filters[0]).toMatchObject({ type: 'literal_or', tagk: 'host', groupBy: true });
  });
});

describe('time strings (DateTime.parseDateTimeString)', () => {
  it('accepts OpenTSDB’s forms', () => {
    expect(parseOpenTsdbTime('now', null, NOW_MS)).toBe(NOW_MS);
    expect(parseOpenTsdbTime('NOW', null, NOW_MS)).toBe(NOW_MS);
    for (const [text, ms] of [
      ['90ms-ago', 90],
      ['5s-ago', 5000],
      ['2m-ago', 120_000],
      ['1h-ago', 3_600_000],
      ['1d-ago', 86_400_000],
      ['1w-ago', 604_800_000],
      ['1n-ago', 2_592_000_000],
      ['1y-ago', 31_536_000_000],
      ['1H-AGO', 3_600_000],
      ['5hours-ago', 5000], // only the last character is the unit
    ] as const) {
      expect(parseOpenTsdbTime(text, null, NOW_MS)).toBe(NOW_MS - ms);
    }
    expect(parseOpenTsdbTime('1700000000123ms', null, NOW_MS)).toBe(1_700_000_000_123);
    expect(parseOpenTsdbTime('1700000000', null, NOW_MS)).toBe(1_700_000_000_000);
    expect(parseOpenTsdbTime('1700000000123', null, NOW_MS)).toBe(1_700_000_000_123);
    expect(parseOpenTsdbTime('1700000000.5', null, NOW_MS)).toBe(17_000_000_005); // OpenTSDB's quirk: the dot is dropped
    expect(parseOpenTsdbTime('1700000000.500', null, NOW_MS)).toBe(1_700_000_000_500);
    expect(parseOpenTsdbTime('2023/11/14', null, NOW_MS)).toBe(Date.UTC(2023, 10, 14));
    expect(parseOpenTsdbTime('2023/11/14-12:30', null, NOW_MS)).toBe(Date.UTC(2023, 10, 14, 12, 30));
    expect(parseOpenTsdbTime('2023/11/14 12:30', null, NOW_MS)).toBe(Date.UTC(2023, 10, 14, 12, 30));
    expect(parseOpenTsdbTime('2023/11/14-12:30:15', null, NOW_MS)).toBe(Date.UTC(2023, 10, 14, 12, 30, 15));
    expect(parseOpenTsdbTime('2023/11/14 12:30:15', 'Asia/Tokyo', NOW_MS)).toBe(Date.UTC(2023, 10, 14, 3, 30, 15));
    expect(parseOpenTsdbTime('2023/13/01', null, NOW_MS)).toBe(Date.UTC(2024, 0, 1)); // lenient
  });

  it('refuses the rest with OpenTSDB’s messages', () => {
    expect(timeError('-5')).toBe('Invalid time: -5. Negative timestamps are not supported.');
    expect(timeError('abc')).toBe("Invalid time: abc. Invalid character 'a' in abc");
    expect(timeError('2023-11-14')).toBe("Invalid time: 2023-11-14. Invalid character '-' in 2023-11-14");
    expect(timeError('1700000000.5000')).toBe(
      'Invalid time: 1700000000.5000. Millisecond timestamps must be in the format <seconds>.<ms> where the milliseconds are limited to 3 digits',
    );
    expect(timeError('2023/11/1')).toBe('Invalid absolute date: 2023/11/1');
    expect(timeError('12:30')).toBe('Invalid absolute date: 12:30');
    expect(timeError('2023-11-14T12:30:00')).toBe('Invalid date: 2023-11-14T12:30:00. Unparseable date: "2023-11-14T12:30:00"');
    expect(timeError('1x-ago')).toBe('Invalid duration (suffix): 1x');
    expect(timeError('h-ago')).toBe('Invalid duration (number): h');
    expect(timeError('10-ago')).toBe('Invalid duration, must have an integer and unit: 10');
    expect(timeError('0s-ago')).toBe('Zero or negative duration: 0s');
    expect(timeError('-ago')).toBe('String index out of range: 0');
    expect(timeError('99999999999999999999ms')).toBe('Value too long: 99999999999999999999');
  });

  it('parses durations in milliseconds', () => {
    expect(parseOpenTsdbDuration('250ms')).toBe(250);
    expect(parseOpenTsdbDuration('15s')).toBe(15_000);
    expect(() => parseOpenTsdbDuration('9999999999999999y')).toThrow('Duration must be < Long.MAX_VALUE ms: 9999999999999999y');
  });
});

describe('downsample specifications', () => {
  it('parses interval, function, optional fill, "all" and the calendar flag', () => {
    expect(parseDownsample('1h-sum')).toMatchObject({ intervalMs: 3_600_000, aggregator: 'sum', fill: 'none' });
    expect(parseDownsample('500ms-avg-NaN')).toMatchObject({ intervalMs: 500, aggregator: 'avg', fill: 'nan' });
    expect(parseDownsample('0all-max')).toMatchObject({ runAll: true, intervalMs: 0 });
    expect(parseDownsample('1dc-sum')).toMatchObject({ useCalendar: true, calendarInterval: 1, calendarUnit: 'd', intervalMs: 86_400_000 });
    expect(parseDownsample('15m-sum', true)).toMatchObject({ useCalendar: true, calendarInterval: 15, calendarUnit: 'm' });
  });

  it('refuses bad ones with OpenTSDB’s messages', () => {
    const message = (spec: string): string => {
      try {
        parseDownsample(spec);
        return 'parsed';
      } catch (err) {
        return (err as Error).message;
      }
    };
    expect(message('1h')).toBe("Invalid downsampling specifier '1h': must provide at least interval and function");
    expect(message('1h-sum-zero-x')).toBe("Invalid downsampling specifier '1h-sum-zero-x': must consist of interval, function, and optional fill policy");
    expect(message('1h-foo')).toBe('No such downsampling function: foo');
    expect(message('1h-none')).toBe('cannot use the NONE aggregator for downsampling');
    expect(message('1h-sum-foo')).toBe("No such fill policy: 'foo': must be one of: none zero nan null");
    expect(message('1q-sum')).toBe('Invalid duration (suffix): 1q');
  });
});

describe('calendar intervals (DateTime.previousInterval)', () => {
  it('snaps to the calendar in the given zone', () => {
    const t = Date.UTC(2023, 10, 15, 13, 47, 12); // a Wednesday
    expect(previousCalendarInterval(t, 1, 'd', undefined)).toBe(Date.UTC(2023, 10, 15));
    expect(previousCalendarInterval(t, 15, 'm', undefined)).toBe(Date.UTC(2023, 10, 15, 13, 45));
    expect(previousCalendarInterval(t, 1, 'w', undefined)).toBe(Date.UTC(2023, 10, 12)); // Sunday
    expect(previousCalendarInterval(t, 1, 'n', undefined)).toBe(Date.UTC(2023, 10, 1));
    expect(previousCalendarInterval(t, 1, 'y', undefined)).toBe(Date.UTC(2023, 0, 1));
    expect(previousCalendarInterval(t, 1, 'd', 'Asia/Tokyo')).toBe(Date.UTC(2023, 10, 14, 15));
  });
});
