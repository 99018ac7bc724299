// KairosDB query parsing: the model, and the validation messages of KairosDB's QueryParserTest
// (protocols.md §1.3, acceptance cases K20–K25) plus the property/name errors of QueryParser.
import { describe, expect, it } from 'vitest';
import { ServiceError, ServiceErrorCode } from '../../../src/errors.js';
import { MAX_TIMESTAMP_MS, parseKairosQuery, parseKairosQueryText, type KairosQuery } from '../../../src/protocols/kairosdb/query.js';

const NOW = Date.UTC(2024, 2, 31, 12, 0, 0);
const UNITS = 'MILLISECONDS,SECONDS,MINUTES,HOURS,DAYS,WEEKS,MONTHS,YEARS';

function query(metric: Record<string, unknown>, top: Record<string, unknown> = {}): unknown {
  return { start_absolute: 784041330, end_absolute: 788879730, ...top, metrics: [{ name: 'abc.123', ...metric }] };
}

function messagesOf(json: unknown): readonly string[] {
  try {
    parseKairosQuery(json, NOW);
  } catch (err) {
    expect(err).toBeInstanceOf(ServiceError);
    expect((err as ServiceError).code).toBe(ServiceErrorCode.BadRequest);
    return (err as ServiceError).messages;
  }
  throw new Error('expected a validation error');
}

describe('parseKairosQuery: the model', () => {
  it('reads absolute times, tags as string or list, group-bys and aggregators', () => {
    const q: KairosQuery = parseKairosQuery(
      query({
        tags: { host: ['foo', 'bar', 'foo'], dc: 'east' },
        limit: 10,
        order: 'DESC',
        exclude_tags: true,
        alias: 'x',
        group_by: [{ name: 'tag', tags: ['host'] }, { name: 'time', range_size: { value: '2', unit: 'Hours' }, group_count: '24' }],
        aggregators: [{ name: 'sum', sampling: { value: '1', unit: 'minutes' }, align_sampling: true }, { name: 'div', divisor: '2' }],
      }),
      NOW,
    );
    expect(q.metrics).toHaveLength(1);
    const m = q.metrics[0]!;
    expect(m).toMatchObject({ name: 'abc.123', startMs: 784041330, endMs: 788879730, limit: 10, order: 'desc', excludeTags: true, alias: 'x' });
    expect(m.tags).toEqual({ host: ['bar', 'foo'], dc: ['east'] });
    expect(m.groupBy).toEqual([
      { kind: 'tag', tags: ['host'] },
      { kind: 'time', rangeSize: { value: 2, unit: 'HOURS' }, groupCount: 24, startMs: 784041330 },
    ]);
    expect(m.aggregators[0]).toEqual({
      name: 'sum',
      range: {
        sampling: { value: 1, unit: 'MINUTES' },
        alignSampling: true,
        alignStartTime: false,
        alignEndTime: false,
        startMs: 784041330,
        endMs: 788879730,
        timeZone: undefined,
      },
    });
    expect(m.aggregators[1]).toEqual({ name: 'div', divisor: 2 });
  });

  it('resolves relative times against now, months on the calendar, and defaults the end', () => {
    const q = parseKairosQuery({ start_relative: { value: '1', unit: 'months' }, metrics: [{ name: 'm' }] }, NOW);
    // March 31 minus one month clamps to February 29 (2024 is a leap year), as java.util.Calendar does.
    expect(q.metrics[0]!.startMs).toBe(Date.UTC(2024, 1, 29, 12, 0, 0));
    expect(q.metrics[0]!.endMs).toBe(MAX_TIMESTAMP_MS);
    const h = parseKairosQuery({ start_relative: { value: 2, unit: 'HOURS' }, end_relative: { value: 1, unit: 'hours' }, metrics: [{ name: 'm' }] }, NOW);
    expect(h.metrics[0]).toMatchObject({ startMs: NOW - 7_200_000, endMs: NOW - 3_600_000 });
  });

  it('omits alias when not given, and treats an empty tag list as no filter', () => {
    const q = parseKairosQuery(query({ tags: { host: [] } }), NOW);
    expect('alias' in q.metrics[0]!).toBe(false);
    expect(q.metrics[0]!.tags).toEqual({});
  });

  it('keeps the query time zone for aggregators and lets an aggregator override it', () => {
    const q = parseKairosQuery(
      query({ aggregators: [{ name: 'avg' }, { name: 'max', time_zone: 'Europe/Paris' }, { name: 'rate', unit: 'seconds' }] }, { time_zone: 'Asia/Tokyo' }),
      NOW,
    );
    const [avg, max, rate] = q.metrics[0]!.aggregators;
    expect(avg).toMatchObject({ range: { timeZone: 'Asia/Tokyo', sampling: { value: 1, unit: 'MILLISECONDS' } } });
    expect(max).toMatchObject({ range: { timeZone: 'Europe/Paris' } });
    expect(rate).toEqual({ name: 'rate', sampling: { value: 1, unit: 'SECONDS' }, timeZone: 'Asia/Tokyo' });
  });

  it('passes the tag group-by keys to save_as', () => {
    const q = parseKairosQuery(query({ group_by: [{ name: 'tag', tags: ['host'] }], aggregators: [{ name: 'save_as', metric_name: 'rollup', ttl: 60 }] }), NOW);
    expect(q.metrics[0]!.aggregators[0]).toEqual({ name: 'save_as', metricName: 'rollup', tags: {}, ttlSeconds: 60, addSavedFrom: true, tagsToKeep: ['host'] });
  });

  it('accepts an empty metrics list and answers the text-level errors', () => {
    expect(parseKairosQuery({ metrics: [] }, NOW).metrics).toEqual([]);
    expect(() => parseKairosQueryText(undefined, NOW)).toThrow('query json must not be null or empty');
    expect(() => parseKairosQueryText('{', NOW)).toThrow(ServiceError);
  });
});

describe('parseKairosQuery: KairosDB QueryParserTest messages', () => {
  const cases: [string, unknown, string][] = [
    ['cache_time', query({}, { cache_time: -1 }), 'cache_time must be greater than or equal to 0'],
    ['no start time', { end_absolute: 1, metrics: [{ name: 'abc.123' }] }, 'query.metric[0].start_time relative or absolute time must be set'],
    ['absolute end before start', { start_absolute: 10, end_absolute: 5, metrics: [{ name: 'a' }] }, 'query.metric[0].end_time must be greater than the start time'],
    [
      'relative end before start',
      { start_relative: { value: 1, unit: 'hours' }, end_relative: { value: 2, unit: 'hours' }, metrics: [{ name: 'a' }] },
      'query.metric[0].end_time must be greater than the start time',
    ],
    ['relative start value', { start_relative: { value: 0, unit: 'hours' }, metrics: [{ name: 'a' }] }, 'start_relative.value must be greater than or equal to 1'],
    ['relative end value', { start_absolute: 1, end_relative: { value: 0, unit: 'hours' }, metrics: [{ name: 'a' }] }, 'end_relative.value must be greater than or equal to 1'],
    ['missing metrics', { start_absolute: 1 }, 'query.metric[] must have a size of at least 1'],
    ['empty metric name', query({ name: '' }), 'query.metric[0].name may not be empty'],
    ['missing metric name', { start_absolute: 1, metrics: [{}] }, 'query.metric[0].name may not be null'],
    ['null tag value in array', query({ tags: { host: ['foo', null] } }), 'query.metric[0].tags[0].host value must not be null or empty'],
    ['empty tag name', query({ tags: { '': 'foo' } }), 'query.metric[0].tags[0] name must not be empty'],
    ['empty tag value in array', query({ tags: { host: ['foo', ''] } }), 'query.metric[0].tags[0].host value must not be null or empty'],
    ['null tag value', query({ tags: { host: null } }), 'query.metric[0].tags[0].host value must not be null or empty'],
    ['empty tag value', query({ tags: { host: '' } }), 'query.metric[0].tags[0].host value must not be null or empty'],
    ['aggregator without name', query({ aggregators: [{ sampling: { value: 1, unit: 'minutes' } }] }), 'query.metric[0].aggregators[0] must have a name'],
    ['aggregator empty name', query({ aggregators: [{ name: '' }] }), 'query.metric[0].aggregators[0] must have a name'],
    ['unknown aggregator', query({ aggregators: [{ name: 'bogus' }] }), 'query.metric[0].aggregators[0].bogus invalid aggregators name'],
    [
      'sampling value',
      query({ aggregators: [{ name: 'sum', sampling: { value: 0, unit: 'minutes' } }] }),
      'query.metric[0].aggregators[0].sampling.value must be greater than or equal to 1',
    ],
    ['div without divisor', query({ aggregators: [{ name: 'div' }] }), 'query.metric[0].aggregators[0].m_divisor may not be zero'],
    ['div divisor zero', query({ aggregators: [{ name: 'div', divisor: 0 }] }), 'query.metric[0].aggregators[0].m_divisor may not be zero'],
    ['percentile missing', query({ aggregators: [{ name: 'percentile', sampling: { value: 10, unit: 'minutes' } }] }), 'query.metric[0].aggregators[0].percentile may not be zero'],
    ['percentile zero', query({ aggregators: [{ name: 'percentile', percentile: 0 }] }), 'query.metric[0].aggregators[0].percentile may not be zero'],
    [
      'percentile number format',
      query({ aggregators: [{ name: 'percentile', sampling: { value: 10, unit: 'minutes' }, percentile: '0.7.1' }] }),
      'query.metric[0].aggregators[0].percentile multiple points',
    ],
    [
      'sampling unit',
      query({ aggregators: [{ name: 'sum', sampling: { value: 1, unit: 'bogus' } }] }),
      `query.metric[0].aggregators[0].bogus is not a valid time unit, must be one of ${UNITS}`,
    ],
    ['group_by without name', query({ group_by: [{ tags: ['a'] }] }), 'query.metric[0].group_by[0] must have a name'],
    ['group_by empty name', query({ group_by: [{ name: 'tag', tags: ['a'] }, { name: '' }] }), 'query.metric[0].group_by[1] must have a name'],
    ['unknown group_by', query({ group_by: [{ name: 'bogus' }] }), 'query.metric[0].group_by[0].bogus invalid group_by name'],
    ['tag group_by without tags', query({ group_by: [{ name: 'tag' }] }), 'query.metric[0].group_by[0].tags may not be null'],
    ['tag group_by empty tags', query({ group_by: [{ name: 'tag', tags: [] }] }), 'query.metric[0].group_by[0].tags may not be empty'],
    ['time group_by without range_size', query({ group_by: [{ name: 'time', group_count: 2 }] }), 'query.metric[0].group_by[0].rangeSize may not be null'],
    [
      'time group_by range_size value',
      query({ group_by: [{ name: 'time', range_size: { value: '0', unit: 'minutes' }, group_count: '1' }] }),
      'query.metric[0].group_by[0].range_size.value must be greater than or equal to 1',
    ],
    [
      'time group_by range_size unit',
      query({ group_by: [{ name: 'time', range_size: { value: 1, unit: 'bogus' }, group_count: 1 }] }),
      `query.metric[0].group_by[0].bogus is not a valid time unit, must be one of ${UNITS}`,
    ],
    [
      'time group_by without group_count',
      query({ group_by: [{ name: 'time', range_size: { value: 1, unit: 'minutes' } }] }),
      'query.metric[0].group_by[0].groupCount must be greater than or equal to 1',
    ],
    ['value group_by range_size', query({ group_by: [{ name: 'value', range_size: 0 }] }), 'query.metric[0].group_by[0].rangeSize must be greater than or equal to 1'],
    ['order', query({ order: 'sideways' }), "query.metric[0].order must be either 'asc' or 'desc'"],
    ['relative unit', { start_relative: { value: 1, unit: 'fortnights' }, metrics: [{ name: 'a' }] }, `query.fortnights is not a valid time unit, must be one of ${UNITS}`],
    [
      'trim mode',
      query({ aggregators: [{ name: 'trim', trim: 'middle' }] }),
      "query.metric[0].aggregators[0].middle is not a valid trim type, must be 'first', 'last' or 'both'.",
    ],
    ['metric plugin', query({ plugins: [{ name: 'p' }] }), 'query.metric[0].plugins[0].p invalid query plugin name'],
  ];
  it.each(cases)('%s', (_name, json, message) => {
    expect(messagesOf(json)).toEqual([message]);
  });

  it('names every valid zone after an invalid time_zone', () => {
    const [message] = messagesOf(query({}, { time_zone: 'bogus' }));
    expect(message).toMatch(/^query\.bogus is not a valid time zone, must be one of \[.*UTC.*\]$/);
    expect(message).toContain('Europe/Paris');
    expect(parseKairosQuery(query({}, { time_zone: '' }), NOW).timeZone).toBe('UTC');
  });

  it('rejects a property without a setter with the Java class in the message', () => {
    expect(messagesOf(query({ aggregators: [{ name: 'sum', x: 1 }] }))).toEqual([
      "Property 'x' was specified for object 'sum' but no matching setter was found on 'class org.kairosdb.core.aggregator.SumAggregator'",
    ]);
    expect(messagesOf(query({ aggregators: [{ name: 'dev', foo: true }] }))).toEqual([
      "Property 'foo' was specified for object 'dev' but no matching setter was found on 'class org.kairosdb.core.aggregator.StdAggregator'",
    ]);
    expect(messagesOf(query({ group_by: [{ name: 'value', range_size: 5, tags: ['a'] }] }))).toEqual([
      "Property 'tags' was specified for object 'value' but no matching setter was found on 'class org.kairosdb.core.groupby.ValueGroupBy'",
    ]);
    // A getter-only property names the class without the "class " prefix (Class.getName()).
    expect(messagesOf(query({ aggregators: [{ name: 'sum', class: 'x' }] }))).toEqual([
      "Property 'class' was specified for object 'sum' but no matching setter was found on 'org.kairosdb.core.aggregator.SumAggregator'",
    ]);
  });

  it('reports Gson conversion failures without context, as KairosDB does', () => {
    expect(messagesOf(query({ aggregators: [{ name: 'sum', align_sampling: 1 }] }))).toEqual([
      'java.lang.IllegalStateException: Expected BOOLEAN but was NUMBER at path $',
    ]);
    expect(messagesOf(query({ aggregators: [{ name: 'sum', start_time: 'soon' }] }))).toEqual([
      'java.lang.NumberFormatException: For input string: "soon"',
    ]);
    expect(messagesOf({ start_absolute: true, metrics: [] })).toEqual(['java.lang.IllegalStateException: Expected NUMBER but was BOOLEAN at path $.start_absolute']);
  });

  it('lists every bean violation of the top level together', () => {
    expect(messagesOf({ cache_time: -5, start_relative: { value: 0 }, metrics: [] })).toEqual([
      'cache_time must be greater than or equal to 0',
      'start_relative.value must be greater than or equal to 1',
      'start_relative.unit may not be null',
    ]);
  });

  it('treats an end below -1 as no end (KairosDB quirk)', () => {
    expect(parseKairosQuery({ start_absolute: -100, end_absolute: -5, metrics: [{ name: 'a' }] }, NOW).metrics[0]!.endMs).toBe(MAX_TIMESTAMP_MS);
  });
});
