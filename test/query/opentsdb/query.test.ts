// OpenTSDB /api/query end to end against a real Engine: interpolation per aggregator, integer vs
// double results, downsampling with fill policies, rate with counter options, filters, group-by,
// explicitTags, rollups and pre-aggregates, output shapes (arrays, ms, jsonp, showQuery) and limits.
import { describe, expect, it } from 'vitest';
import type { TestPoint } from '../../helpers/batches.js';
import { BASE_MS, BASE_S, NOW_MS, at, dpsOf, engineWith, get, json, onlyDps, post } from './helpers.js';

/** Two integer series whose points interleave: a at 0 s and 20 s, b at 10 s and 30 s. */
const interleaved: TestPoint[] = [
  { metric: 'm', tags: { host: 'a', dc: 'x' }, t: at(0), value: 10n },
  { metric: 'm', tags: { host: 'a', dc: 'x' }, t: at(20), value: 30n },
  { metric: 'm', tags: { host: 'b', dc: 'x' }, t: at(10), value: 100n },
  { metric: 'm', tags: { host: 'b', dc: 'x' }, t: at(30), value: 300n },
];

const range = `start=${at(0)}&end=${at(60)}`;

describe('aggregation across series', () => {
  const engine = engineWith(interleaved);

  it('sum interpolates linearly, only between a series’ first and last points', () => {
    const answer = get(engine, `${range}&m=sum:m`);
    expect(answer.status).toBe(200);
    expect(answer.contentType).toBe('application/json; charset=UTF-8');
    // 0 s: only a (b has not started); 10 s: a lerped to 20 + 100; 20 s: 30 + b lerped to 200; 30 s: only b.
    expect(answer.body).toBe(
      `[{"metric":"m","tags":{"dc":"x"},"aggregateTags":["host"],"dps":{"${BASE_S}":10,"${BASE_S + 10}":120,"${BASE_S + 20}":230,"${BASE_S + 30}":300}}]`,
    );
  });

  it('zimsum, mimmin, mimmax and pfsum substitute zero, max, min and the previous value instead', () => {
    expect(onlyDps(get(engine, `${range}&m=zimsum:m`))).toEqual(dpsOf([[0, 10], [10, 100], [20, 30], [30, 300]]));
    expect(onlyDps(get(engine, `${range}&m=mimmin:m`))).toEqual(dpsOf([[0, 10], [10, 100], [20, 30], [30, 300]]));
    // mimmax: the missing series counts as Long.MIN_VALUE, so max is the present one.
    expect(onlyDps(get(engine, `${range}&m=mimmax:m`))).toEqual(dpsOf([[0, 10], [10, 100], [20, 30], [30, 300]]));
    expect(onlyDps(get(engine, `${range}&m=pfsum:m`))).toEqual(dpsOf([[0, 10], [10, 110], [20, 130], [30, 300]]));
  });

  it('min, max, avg (integer division), count, dev, diff, first, last, median, mult and squareSum', () => {
    expect(onlyDps(get(engine, `${range}&m=min:m`))).toEqual(dpsOf([[0, 10], [10, 20], [20, 30], [30, 300]]));
    expect(onlyDps(get(engine, `${range}&m=max:m`))).toEqual(dpsOf([[0, 10], [10, 100], [20, 200], [30, 300]]));
    expect(onlyDps(get(engine, `${range}&m=avg:m`))).toEqual(dpsOf([[0, 10], [10, 60], [20, 115], [30, 300]]));
    // count uses zero-if-missing interpolation: every live series counts.
    expect(onlyDps(get(engine, `${range}&m=count:m`))).toEqual(dpsOf([[0, 1], [10, 2], [20, 2], [30, 1]]));
    // dev divides by the count (OpenTSDB's Welford loop leaves n one past it): the population deviation.
    expect(onlyDps(get(engine, `${range}&m=dev:m`))).toEqual(dpsOf([[0, 0], [10, 40], [20, 85], [30, 0]]));
    expect(onlyDps(get(engine, `${range}&m=first:m`))).toEqual(dpsOf([[0, 10], [10, 0], [20, 30], [30, 300]]));
    expect(onlyDps(get(engine, `${range}&m=last:m`))).toEqual(dpsOf([[0, 10], [10, 100], [20, 0], [30, 300]]));
    expect(onlyDps(get(engine, `${range}&m=diff:m`))).toEqual(dpsOf([[0, 0], [10, 80], [20, 170], [30, 0]]));
    expect(onlyDps(get(engine, `${range}&m=median:m`))).toEqual(dpsOf([[0, 10], [10, 100], [20, 200], [30, 300]]));
    expect(onlyDps(get(engine, `${range}&m=mult:m`))).toEqual(dpsOf([[0, 10], [10, 2000], [20, 6000], [30, 300]]));
    expect(onlyDps(get(engine, `${range}&m=squareSum:m`))).toEqual(dpsOf([[0, 100], [10, 10000], [20, 900], [30, 90000]]));
    expect(onlyDps(get(engine, `${range}&m=p50:m`))).toEqual(dpsOf([[0, 10], [10, 60], [20, 115], [30, 300]]));
  });

  it('prints integers while every involved value is an integer, doubles once any is', () => {
    const mixed = engineWith([
      { metric: 'm', tags: { host: 'a' }, t: at(0), value: 1n },
      { metric: 'm', tags: { host: 'b' }, t: at(0), value: 2n },
      { metric: 'm', tags: { host: 'a' }, t: at(10), value: 3n },
      { metric: 'm', tags: { host: 'b' }, t: at(10), value: 2.5 },
    ]);
    // At 0 s the next value of b is already a double, so the result is a double.
    expect(get(mixed, `${range}&m=avg:m`).body).toContain(`"dps":{"${BASE_S}":1.5,"${BASE_S + 10}":2.75}`);
    const ints = engineWith([
      { metric: 'm', tags: { host: 'a' }, t: at(0), value: 1n },
      { metric: 'm', tags: { host: 'b' }, t: at(0), value: 2n },
    ]);
    expect(get(ints, `${range}&m=avg:m`).body).toContain(`"dps":{"${BASE_S}":1}`);
    expect(get(ints, `${range}&m=sum:m`).body).toContain(`"dps":{"${BASE_S}":3}`);
  });

  it('keeps 64-bit integers exact', () => {
    const big = engineWith([
      { metric: 'm', tags: { host: 'a' }, t: at(0), value: 9007199254740993n },
      { metric: 'm', tags: { host: 'b' }, t: at(0), value: 1n },
    ]);
    expect(get(big, `${range}&m=sum:m`).body).toContain(`"dps":{"${BASE_S}":9007199254740994}`);
    expect(get(big, `${range}&m=max:m`).body).toContain(`"dps":{"${BASE_S}":9007199254740993}`);
  });

  it('"none" emits every series on its own with all its tags', () => {
    expect(json(get(engine, `${range}&m=none:m`))).toEqual([
      { metric: 'm', tags: { host: 'a', dc: 'x' }, aggregateTags: [], dps: dpsOf([[0, 10], [20, 30]]) },
      { metric: 'm', tags: { host: 'b', dc: 'x' }, aggregateTags: [], dps: dpsOf([[10, 100], [30, 300]]) },
    ]);
  });

  it('prints doubles in Java’s Double.toString form', () => {
    const doubles = engineWith([
      { metric: 'd', tags: { h: 'a' }, t: at(0), value: 1.0 },
      { metric: 'd', tags: { h: 'a' }, t: at(1), value: 12345678.5 },
      { metric: 'd', tags: { h: 'a' }, t: at(2), value: 0.0001 },
    ]);
    expect(get(doubles, `${range}&m=sum:d`).body).toContain(`{"${BASE_S}":1.0,"${BASE_S + 1}":1.23456785E7,"${BASE_S + 2}":1.0E-4}`);
  });
});

describe('downsampling', () => {
  const engine = engineWith([
    { metric: 'm', tags: { host: 'a' }, t: at(0), value: 1n },
    { metric: 'm', tags: { host: 'a' }, t: at(30), value: 3n },
    { metric: 'm', tags: { host: 'a' }, t: at(150), value: 10n },
    { metric: 'm', tags: { host: 'b' }, t: at(70), value: 100n },
  ]);
  const q = `start=${at(0)}&end=${at(179)}`;

  it('downsamples each series before aggregating; downsampled values are doubles', () => {
    // a: [0,60) avg 2, [120,180) 10; b: [60,120) 100. sum lerps the missing buckets.
    const body = get(engine, `${q}&m=sum:1m-avg:m`).body;
    expect(body).toContain(`"dps":{"${BASE_S}":2.0,"${BASE_S + 60}":106.0,"${BASE_S + 120}":10.0}`);
  });

  it('fills empty buckets with zero, NaN or null', () => {
    expect(get(engine, `${q}&m=sum:1m-sum-zero:m{host=a}`).body).toContain(`"dps":{"${BASE_S}":4.0,"${BASE_S + 60}":0.0,"${BASE_S + 120}":10.0}`);
    expect(get(engine, `${q}&m=sum:1m-sum-nan:m{host=a}`).body).toContain(`"dps":{"${BASE_S}":4.0,"${BASE_S + 60}":"NaN","${BASE_S + 120}":10.0}`);
    expect(get(engine, `${q}&m=sum:1m-sum-null:m{host=a}`).body).toContain(`"dps":{"${BASE_S}":4.0,"${BASE_S + 60}":null,"${BASE_S + 120}":10.0}`);
    expect(get(engine, `${q}&m=sum:1m-sum-null:m{host=a}&arrays`).body).toContain(
      `"dps":[[${BASE_S},4.0],[${BASE_S + 60},null],[${BASE_S + 120},10.0]]`,
    );
  });

  it('NaN-filled buckets are skipped by the cross-series aggregator', () => {
    // b has no data in [0,60) and [120,180): its NaN fills do not count.
    expect(get(engine, `${q}&m=sum:1m-sum-nan:m`).body).toContain(`"dps":{"${BASE_S}":4.0,"${BASE_S + 60}":100.0,"${BASE_S + 120}":10.0}`);
  });

  it('"0all-<agg>" makes one point per series at the query start', () => {
    expect(get(engine, `${q}&m=sum:0all-sum:m`).body).toContain(`"dps":{"${BASE_S}":114.0}`);
    expect(get(engine, `${q}&m=max:0all-count:m`).body).toContain(`"dps":{"${BASE_S}":3.0}`);
  });

  it('keeps only buckets inside the query range, and whole buckets at its edges', () => {
    // start at 20 s: the [0,60) bucket starts before it and is not printed.
    expect(get(engine, `start=${at(20)}&end=${at(179)}&m=sum:1m-sum:m{host=a}`).body).toContain(`"dps":{"${BASE_S + 120}":10.0}`);
    // end at 121 s: the [120,180) bucket is printed with all its points.
    expect(get(engine, `start=${at(0)}&end=${at(121)}&m=sum:1m-sum:m{host=a}`).body).toContain(`"dps":{"${BASE_S}":4.0,"${BASE_S + 120}":10.0}`);
  });

  it('calendar buckets ("c" suffix, useCalendar) align on the calendar of the query’s timezone', () => {
    const days = engineWith([
      { metric: 'c', tags: { h: 'a' }, t: Date.UTC(2023, 10, 14, 12), value: 1n },
      { metric: 'c', tags: { h: 'a' }, t: Date.UTC(2023, 10, 14, 23), value: 2n },
    ]);
    const start = Date.UTC(2023, 10, 14);
    const end = Date.UTC(2023, 10, 15, 12);
    expect(onlyDps(get(days, `start=${start}&end=${end}&m=sum:1dc-sum:c`))).toEqual({ [String(start / 1000)]: 3 });
    // In Asia/Tokyo (UTC+9) the second point is already on the 15th.
    const tokyo = post(days, { start, end, timezone: 'Asia/Tokyo', queries: [{ aggregator: 'sum', metric: 'c', downsample: '1d-sum' }], useCalendar: true });
    expect(onlyDps(tokyo)).toEqual({ [String((start + 15 * 3_600_000) / 1000)]: 2 });
  });
});

describe('rate', () => {
  const counter = engineWith([
    { metric: 'c', tags: { h: 'a' }, t: at(0), value: 10n },
    { metric: 'c', tags: { h: 'a' }, t: at(10), value: 20n },
    { metric: 'c', tags: { h: 'a' }, t: at(20), value: 5n },
    { metric: 'c', tags: { h: 'a' }, t: at(30), value: 15n },
  ]);

  it('is per second, at the later point, as doubles; the first point yields no rate', () => {
    expect(onlyDps(get(counter, `${range}&m=sum:rate:c`))).toEqual(dpsOf([[10, 1], [20, -1.5], [30, 1]]));
    expect(get(counter, `${range}&m=sum:rate:c`).body).toContain(`"${BASE_S + 10}":1.0`);
  });

  it('counter: a drop is a roll-over at counterMax; resetValue turns big rates into 0; dropcounter skips', () => {
    expect(onlyDps(get(counter, `${range}&m=sum:rate{counter,30}:c`))).toEqual(dpsOf([[10, 1], [20, 1.5], [30, 1]]));
    expect(onlyDps(get(counter, `${range}&m=sum:rate{counter,30,1}:c`))).toEqual(dpsOf([[10, 1], [20, 0], [30, 1]]));
    expect(onlyDps(get(counter, `${range}&m=sum:rate{dropcounter}:c`))).toEqual(dpsOf([[10, 1], [30, 1]]));
    const viaPost = post(counter, { start: at(0), end: at(60), queries: [{ aggregator: 'sum', metric: 'c', rate: true, rateOptions: { counter: true, counterMax: 30, resetValue: 1 } }] });
    expect(onlyDps(viaPost)).toEqual(dpsOf([[10, 1], [20, 0], [30, 1]]));
    const drop = post(counter, { start: at(0), end: at(60), queries: [{ aggregator: 'sum', metric: 'c', rate: 'true', rateOptions: { counter: true, dropResets: true } }] });
    expect(onlyDps(drop)).toEqual(dpsOf([[10, 1], [30, 1]]));
  });

  it('is computed after downsampling', () => {
    // 20 s max buckets: 20 at 0 s, 15 at 20 s.
    expect(onlyDps(get(counter, `${range}&m=sum:rate:20s-max:c`))).toEqual(dpsOf([[20, -0.25]]));
  });

  it('uses a series’ previous rate, not interpolation, across series', () => {
    const two = engineWith([
      { metric: 'r', tags: { h: 'a' }, t: at(0), value: 0n },
      { metric: 'r', tags: { h: 'a' }, t: at(10), value: 10n },
      { metric: 'r', tags: { h: 'a' }, t: at(20), value: 30n },
      { metric: 'r', tags: { h: 'b' }, t: at(5), value: 0n },
      { metric: 'r', tags: { h: 'b' }, t: at(15), value: 100n },
    ]);
    // a: 1 at 10 s, 2 at 20 s; b: 10 at 15 s (and its time-zero rate, 0, before that); after its
    // last point b no longer contributes.
    expect(onlyDps(get(two, `${range}&m=sum:rate:r`))).toEqual(dpsOf([[10, 1], [15, 11], [20, 2]]));
  });
});

describe('filters, group-by and explicit tags', () => {
  const engine = engineWith([
    { metric: 'f', tags: { host: 'web01', dc: 'lga' }, t: at(0), value: 1n },
    { metric: 'f', tags: { host: 'web02', dc: 'lga' }, t: at(0), value: 2n },
    { metric: 'f', tags: { host: 'WEB03', dc: 'sjc' }, t: at(0), value: 4n },
    { metric: 'f', tags: { host: 'db01', dc: 'sjc', role: 'db' }, t: at(0), value: 8n },
    { metric: 'f', tags: { dc: 'sjc' }, t: at(0), value: 16n },
  ]);
  const sum = (m: string): unknown => onlyDps(get(engine, `${range}&m=sum:${encodeURIComponent(m)}`))[String(BASE_S)];

  it('applies each filter type with OpenTSDB’s semantics', () => {
    expect(sum('f')).toBe(31);
    expect(sum('f{}{host=web01|web02}')).toBe(3);
    expect(sum('f{}{host=literal_or(web01|db01)}')).toBe(9);
    expect(sum('f{}{host=iliteral_or(web03)}')).toBe(4);
    // not_ filters still need the key: the series without host is out.
    expect(sum('f{}{host=not_literal_or(web01)}')).toBe(14);
    expect(sum('f{}{host=not_iliteral_or(WEB01|web03)}')).toBe(10);
    expect(sum('f{}{host=wildcard(web*)}')).toBe(3);
    expect(sum('f{}{host=iwildcard(web*)}')).toBe(7);
    expect(sum('f{}{host=wildcard(*01)}')).toBe(9);
    expect(sum('f{}{host=regexp(^web0[12]$)}')).toBe(3);
    expect(sum('f{}{host=regexp(0)}')).toBe(15);
    // Two filters on one key are ANDed.
    expect(sum('f{}{host=wildcard(web*),host=literal_or(web02|db01)}')).toBe(2);
    // The shortcut "web*" is a case-insensitive wildcard.
    expect(sum('f{}{host=web*}')).toBe(7);
    // In the first braces the same filters group by host.
    expect((json(get(engine, `${range}&m=sum:f{host=web01|web02}`)) as unknown[]).length).toBe(2);
  });

  it('groups by the keys of group-by filters; tags are the agreed values, aggregateTags the rest', () => {
    expect(json(get(engine, `${range}&m=sum:f{dc=*}`))).toEqual([
      { metric: 'f', tags: { dc: 'lga' }, aggregateTags: ['host'], dps: dpsOf([[0, 3]]) },
      // host differs between two sjc series; role is only on one of them and stays a tag.
      { metric: 'f', tags: { dc: 'sjc', role: 'db' }, aggregateTags: ['host'], dps: dpsOf([[0, 28]]) },
    ]);
    const viaFilters = post(engine, {
      start: at(0),
      end: at(60),
      queries: [{ aggregator: 'sum', metric: 'f', filters: [{ type: 'wildcard', tagk: 'host', filter: 'web*', groupBy: true }] }],
    });
    expect((json(viaFilters) as { tags: unknown }[]).map((r) => r.tags)).toEqual([
      { host: 'web01', dc: 'lga' },
      { host: 'web02', dc: 'lga' },
    ]);
  });

  it('explicitTags keeps only series whose tag keys are exactly the filtered ones', () => {
    expect(sum('explicit_tags:f{dc=*}')).toBe(16);
    expect(get(engine, `${range}&m=sum:explicit_tags:f{}{host=*}`).body).toBe('[]');
    expect(json(get(engine, `${range}&m=sum:explicit_tags:f{}{dc=literal_or(sjc)}`))).toEqual([
      { metric: 'f', tags: { dc: 'sjc' }, aggregateTags: [], dps: dpsOf([[0, 16]]) },
    ]);
    const both = post(engine, { start: at(0), end: at(60), queries: [{ aggregator: 'sum', metric: 'f', explicitTags: true, tags: { dc: 'lga', host: '*' } }] });
    expect((json(both) as unknown[]).length).toBe(2);
  });

  it('the later of "tags" and "filters" in a body wins', () => {
    const tagsLast = `{"start":${at(0)},"end":${at(60)},"queries":[{"aggregator":"sum","metric":"f","filters":[{"type":"literal_or","tagk":"host","filter":"web01"}],"tags":{"dc":"sjc"}}]}`;
    expect(onlyDps(post(engine, tagsLast))[String(BASE_S)]).toBe(28);
    const filtersLast = `{"start":${at(0)},"end":${at(60)},"queries":[{"aggregator":"sum","metric":"f","tags":{"dc":"sjc"},"filters":[{"type":"literal_or","tagk":"host","filter":"web01"}]}]}`;
    expect(onlyDps(post(engine, filtersLast))[String(BASE_S)]).toBe(1);
  });
});

describe('rollups and pre-aggregates', () => {
  const engine = engineWith([
    { metric: 'r', tags: { host: 'a' }, t: at(0), value: 1n },
    { metric: 'r', tags: { host: 'a' }, t: at(1800), value: 2n },
    { metric: 'r', tags: { host: 'a', 'strata:rollup': '1h:sum' }, t: at(0), value: 100n },
    { metric: 'r', tags: { host: 'a', 'strata:rollup': '1h:count' }, t: at(0), value: 4n },
    { metric: 'r', tags: { host: 'a', 'strata:rollup': 'preagg', _aggregate: 'SUM' }, t: at(0), value: 7n },
  ]);
  const q = `start=${at(0)}&end=${at(3599)}`;

  it('raw queries never see rollup series, and the reserved tag is never printed', () => {
    expect(json(get(engine, `${q}&m=sum:r`))).toEqual([{ metric: 'r', tags: { host: 'a' }, aggregateTags: [], dps: dpsOf([[0, 1], [1800, 2]]) }]);
  });

  it('reads a matching rollup for the downsampler, unless ROLLUP_RAW', () => {
    expect(onlyDps(get(engine, `${q}&m=sum:1h-sum:r`))).toEqual(dpsOf([[0, 100]]));
    expect(onlyDps(get(engine, `${q}&m=sum:1h-avg:r`))).toEqual(dpsOf([[0, 25]]));
    expect(onlyDps(get(engine, `${q}&m=count:1h-count:r`))).toEqual(dpsOf([[0, 4]]));
    expect(onlyDps(get(engine, `${q}&m=sum:1h-sum:rollup_raw:r`))).toEqual(dpsOf([[0, 3]]));
    expect(onlyDps(get(engine, `${q}&m=sum:2h-sum:r`))).toEqual(dpsOf([[0, 100]]));
    // No 1h max rollup: raw data.
    expect(onlyDps(get(engine, `${q}&m=sum:1h-max:r`))).toEqual(dpsOf([[0, 2]]));
  });

  it('falls back per rollupUsage when the rollup has no data in range', () => {
    const later = `start=${at(3600)}&end=${at(7199)}`;
    const withRaw = engineWith([
      { metric: 'r', tags: { host: 'a' }, t: at(3600), value: 5n },
      { metric: 'r', tags: { host: 'a', 'strata:rollup': '1h:sum' }, t: at(0), value: 100n },
    ]);
    expect(json(get(withRaw, `${later}&m=sum:1h-sum:r`))).toEqual([]);
    expect(onlyDps(get(withRaw, `${later}&m=sum:1h-sum:rollup_fallback_raw:r`))).toEqual(dpsOf([[3600, 5]]));
    const body = { start: at(3600), end: at(7199), queries: [{ aggregator: 'sum', metric: 'r', downsample: '1h-sum', rollupUsage: 'ROLLUP_FALLBACK' }] };
    expect(onlyDps(post(withRaw, body))).toEqual(dpsOf([[3600, 5]]));
  });

  it('reads pre-aggregates for pre-agg or an _aggregate filter', () => {
    expect(json(get(engine, `${q}&m=sum:pre-agg:r{_aggregate=SUM}`))).toEqual([
      { metric: 'r', tags: { host: 'a', _aggregate: 'SUM' }, aggregateTags: [], dps: dpsOf([[0, 7]]) },
    ]);
  });
});

describe('output', () => {
  const engine = engineWith(interleaved);

  it('answers [] when nothing matched', () => {
    expect(get(engine, `start=${at(3700)}&end=${at(3800)}&m=sum:m{host=a}`).body).toBe('[]');
  });

  it('prints a group with no points in range as an empty dps (its data lies in the scanned hour)', () => {
    expect(get(engine, `start=${at(40)}&end=${at(50)}&m=sum:m`).body).toBe('[{"metric":"m","tags":{"dc":"x"},"aggregateTags":["host"],"dps":{}}]');
  });

  it('uses milliseconds with ms / msResolution and [[ts, v]] with arrays', () => {
    expect(get(engine, `${range}&m=sum:m{host=a}&ms&arrays`).body).toContain(`"dps":[[${BASE_MS},10],[${at(20)},30]]`);
    expect(post(engine, { start: at(0), end: at(60), msResolution: true, queries: [{ aggregator: 'sum', metric: 'm', tags: { host: 'a' } }] }).body).toContain(
      `"dps":{"${BASE_MS}":10,"${at(20)}":30}`,
    );
  });

  it('prints every point of a second without msResolution, as OpenTSDB 2.4 does', () => {
    const subSecond = engineWith([
      { metric: 's', tags: { h: 'a' }, t: BASE_MS + 100, value: 1n },
      { metric: 's', tags: { h: 'a' }, t: BASE_MS + 600, value: 2n },
    ]);
    expect(get(subSecond, `${range}&m=sum:s`).body).toContain(`"dps":{"${BASE_S}":1,"${BASE_S}":2}`);
  });

  it('wraps the answer with jsonp', () => {
    expect(get(engine, `${range}&m=sum:m{host=a}&jsonp=cb`).body).toMatch(/^cb\(\[\{"metric":"m".*\]\)$/);
    expect(post(engine, { start: at(0), queries: [] }, 'jsonp=cb').body).toBe('cb({"error":{"code":400,"message":"Missing queries"}})');
  });

  it('echoes the sub-query with showQuery / show_query', () => {
    const answer = post(engine, { start: at(0), end: at(60), showQuery: true, queries: [{ aggregator: 'sum', metric: 'm', rate: true, filters: [{ type: 'literal_or', tagk: 'host', filter: 'a', groupBy: true }] }] });
    expect(answer.body).toContain(
      '"query":{"aggregator":"sum","metric":"m","tsuids":null,"downsample":null,"rate":true,"explicitTags":false,' +
        '"filters":[{"tagk":"host","filter":"a","group_by":true,"type":"literal_or"}],"rateOptions":null,"tags":{"host":"literal_or(a)"}}',
    );
  });

  it('answers sub-queries in order, dropping duplicates', () => {
    const answer = get(engine, `${range}&m=sum:m{host=a}&m=sum:m{host=b}&m=sum:m{host=a}`);
    expect((json(answer) as { tags: { host: string } }[]).map((r) => r.tags.host)).toEqual(['a', 'b']);
  });

  it('returns 413 beyond maxResultPoints', () => {
    const answer = get(engine, `${range}&m=sum:m`, 3);
    expect(answer.status).toBe(413);
    expect(answer.body).toBe(
      '{"error":{"code":413,"message":"Sorry, you have attempted to fetch more than our limit of 3 data points. Please try filtering using more tags or decrease your time range."}}',
    );
    expect(get(engine, `start=${at(0)}&end=${at(86_400 * 30)}&m=sum:1s-sum-zero:m`, 1000).status).toBe(413);
  });

  it('relative times count back from nowMs', () => {
    expect(onlyDps(get(engine, 'start=2h-ago&end=1h-ago&m=sum:m{host=b}'))).toEqual(dpsOf([[10, 100], [30, 300]]));
    expect(NOW_MS - 2 * 3_600_000).toBe(BASE_MS);
  });
});
