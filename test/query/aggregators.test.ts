// The aggregators on hand-built point lists, with the expectations of KairosDB's own aggregator
// tests (RangeAggregatorTest, SamplerAggregatorTest, DataGapsMarkingAggregatorTest, …).
import { describe, expect, it } from 'vitest';
import { ServiceError } from '../../src/errors.js';
import type { AggregatorSpec, RangeSettings } from '../../src/protocols/kairosdb/query.js';
import { aggregate, type AggregationContext } from '../../src/query/aggregators.js';
import { PointKind, Points } from '../../src/query/points.js';

const utc = (y: number, mo: number, d: number, h = 0, mi = 0) => Date.UTC(y, mo - 1, d, h, mi);

const ctx: AggregationContext = { nowMs: Date.UTC(2030, 0, 1), maxPoints: 1_000_000, saveAs: undefined, group: { name: 'g', tags: new Map() } };

function longs(pairs: readonly (readonly [number, number])[]): Points {
  const p = new Points();
  for (const [t, v] of pairs) p.pushLongNumber(t, v);
  return p;
}

function rows(p: Points): [number, number | string | null][] {
  const out: [number, number | string | null][] = [];
  for (let i = 0; i < p.length; i++) {
    const k = p.kind[i];
    out.push([p.ts[i]!, k === PointKind.Null ? null : k === PointKind.Text ? p.text![i]! : p.num[i]!]);
  }
  return out;
}

function range(over: Partial<RangeSettings> = {}): RangeSettings {
  return {
    sampling: { value: 1, unit: 'MILLISECONDS' },
    alignSampling: false,
    alignStartTime: false,
    alignEndTime: false,
    startMs: 0,
    endMs: Number.MAX_SAFE_INTEGER,
    timeZone: undefined,
    ...over,
  };
}

function run(spec: AggregatorSpec, p: Points): [number, number | string | null][] {
  return rows(aggregate(spec, p, ctx));
}

function daily(from: number, to: number, stepDays: number): Points {
  const p = new Points();
  for (let t = from; t < to; t += stepDays * 86_400_000) p.pushLongNumber(t, 1);
  return p;
}

describe('range aggregators (RangeAggregatorTest)', () => {
  it('sums by 3 months from an unaligned start', () => {
    const start = utc(2014, 1, 1, 1, 1);
    const out = run({ name: 'sum', range: range({ sampling: { value: 3, unit: 'MONTHS' }, startMs: start }) }, daily(start, utc(2014, 7, 10, 1, 1), 1));
    expect(out).toEqual([
      [start, 90],
      [utc(2014, 4, 1, 1, 1), 91],
      [utc(2014, 7, 1, 1, 1), 9],
    ]);
  });

  it('aligns month ranges to the start or the end of the period', () => {
    const start = utc(2014, 3, 10);
    const points = daily(start, utc(2014, 5, 23), 1);
    const month = { value: 1, unit: 'MONTHS' } as const;
    expect(run({ name: 'sum', range: range({ sampling: month, startMs: start, alignSampling: true, alignStartTime: true }) }, points)).toEqual([
      [utc(2014, 3, 1), 22],
      [utc(2014, 4, 1), 30],
      [utc(2014, 5, 1), 22],
    ]);
    expect(run({ name: 'sum', range: range({ sampling: month, startMs: start, alignSampling: true, alignEndTime: true }) }, points)).toEqual([
      [utc(2014, 4, 1), 22],
      [utc(2014, 5, 1), 30],
      [utc(2014, 6, 1), 22],
    ]);
    expect(run({ name: 'sum', range: range({ sampling: month, startMs: start }) }, points).map((r) => r[1])).toEqual([31, 30, 13]);
  });

  it('aligns week ranges to Mondays', () => {
    const start = utc(2015, 1, 2, 1, 11);
    const points = daily(start, utc(2015, 1, 18, 11, 11), 1);
    expect(run({ name: 'sum', range: range({ sampling: { value: 1, unit: 'WEEKS' }, startMs: start, alignSampling: true, alignStartTime: true }) }, points)).toEqual([
      [utc(2014, 12, 29), 3],
      [utc(2015, 1, 5), 7],
      [utc(2015, 1, 12), 7],
    ]);
  });

  it('counts local months across DST in the aggregator time zone', () => {
    const hours = (from: number, to: number) => {
      const p = new Points();
      for (let t = from; t < to; t += 3_600_000) p.pushLongNumber(t, 1);
      return p;
    };
    const paris = range({ sampling: { value: 1, unit: 'MONTHS' }, alignSampling: true, timeZone: 'Europe/Paris' });
    expect(run({ name: 'sum', range: paris }, hours(utc(2014, 2, 28, 23), utc(2014, 3, 31, 22)))).toEqual([[utc(2014, 2, 28, 23), 743]]);
    expect(run({ name: 'sum', range: paris }, hours(utc(2014, 9, 30, 22), utc(2014, 10, 31, 23)))).toEqual([[utc(2014, 9, 30, 22), 745]]);
  });

  it('counts years over leap years', () => {
    const out = run({ name: 'sum', range: range({ sampling: { value: 1, unit: 'YEARS' }, startMs: utc(2010, 1, 1) }) }, daily(utc(2010, 1, 1), utc(2014, 1, 1), 1));
    expect(out.map((r) => r[1])).toEqual([365, 365, 366, 365]);
  });

  it('keeps duplicate timestamps in one millisecond range', () => {
    const p = longs([[0, 1], [0, 1], [1, 1], [1, 1], [2, 1], [2, 1]]);
    expect(run({ name: 'sum', range: range() }, p)).toEqual([[0, 2], [1, 2], [2, 2]]);
  });

  it('avg, count, min, max, dev, first, last', () => {
    const p = longs([[0, 2], [3, 4], [7, 9], [10, 1], [12, 5]]);
    const r = range({ sampling: { value: 10, unit: 'MILLISECONDS' } });
    expect(run({ name: 'avg', range: r }, p)).toEqual([[0, 5], [10, 3]]);
    expect(run({ name: 'count', range: r }, p)).toEqual([[0, 3], [10, 2]]);
    expect(run({ name: 'min', range: r }, p)).toEqual([[0, 2], [10, 1]]);
    expect(run({ name: 'max', range: r }, p)).toEqual([[0, 9], [10, 5]]);
    expect(run({ name: 'first', range: r }, p)).toEqual([[0, 2], [10, 1]]);
    expect(run({ name: 'last', range: r }, p)).toEqual([[7, 9], [12, 5]]);
    expect(run({ name: 'last', range: { ...r, alignEndTime: true } }, p)).toEqual([[10, 9], [20, 5]]);
    const dev = run({ name: 'dev', range: r }, p);
    expect(dev[0]![1]).toBeCloseTo(Math.sqrt(13), 12);
    expect(run({ name: 'dev', range: r }, longs([[0, 5]]))).toEqual([[0, 0]]);
  });

  it('percentile interpolates between sorted neighbours and fails outside [0, 1]', () => {
    const p = longs([[0, 10], [1, 20], [2, 30], [3, 40]]);
    const r = range({ sampling: { value: 1, unit: 'SECONDS' } });
    expect(run({ name: 'percentile', range: r, percentile: 0.5 }, p)).toEqual([[0, 25]]);
    expect(run({ name: 'percentile', range: r, percentile: 0.1 }, p)).toEqual([[0, 10]]);
    expect(run({ name: 'percentile', range: r, percentile: 0.99 }, p)).toEqual([[0, 40]]);
    expect(() => run({ name: 'percentile', range: r, percentile: 1.5 }, p)).toThrow('1.5 is not in [0..1]');
  });

  it('least_squares returns the fitted line at the first and last time', () => {
    const r = range({ sampling: { value: 1, unit: 'SECONDS' } });
    expect(run({ name: 'least_squares', range: r }, longs([[0, 1], [1, 3], [2, 5], [3, 7]]))).toEqual([[0, 1], [3, 7]]);
    expect(run({ name: 'least_squares', range: r }, longs([[0, 1], [1, 8]]))).toEqual([[0, 1], [1, 8]]);
  });
});

describe('gaps (DataGapsMarkingAggregatorTest)', () => {
  it('puts a null in each empty range, end inclusive, and passes points through', () => {
    expect(run({ name: 'gaps', range: range({ startMs: 1, endMs: 5 }) }, longs([[1, 10], [4, 5], [5, 25]]))).toEqual([
      [1, 10],
      [2, null],
      [3, null],
      [4, 5],
      [5, 25],
    ]);
    expect(run({ name: 'gaps', range: range({ startMs: 1, endMs: 7 }) }, longs([[3, 10], [4, 5], [5, 25]]))).toEqual([
      [1, null],
      [2, null],
      [3, 10],
      [4, 5],
      [5, 25],
      [6, null],
      [7, null],
    ]);
    const seconds = range({ startMs: 0, endMs: 3001, alignStartTime: true, sampling: { value: 1, unit: 'SECONDS' } });
    expect(run({ name: 'gaps', range: seconds }, longs([[0, 0], [1000, 1], [2000, 2]]))).toEqual([[0, 0], [1000, 1], [2000, 2], [3000, null]]);
  });

  it('refuses to produce an unbounded number of points', () => {
    const small = { ...ctx, maxPoints: 100 };
    expect(() => aggregate({ name: 'gaps', range: range({ startMs: 0, endMs: 1_000_000 }) }, new Points(), small)).toThrow(ServiceError);
  });
});

describe('point-wise aggregators', () => {
  it('sampler: value per time since the previous point, plus KairosDB’s trailing zero', () => {
    const sampling = { value: 1, unit: 'MILLISECONDS' } as const;
    expect(run({ name: 'sampler', sampling, timeZone: undefined }, longs([[1, 10], [2, 10], [4, 10], [6, 20]]))).toEqual([
      [2, 10],
      [4, 5],
      [6, 10],
      [7, 0],
    ]);
    expect(() => run({ name: 'sampler', sampling, timeZone: undefined }, longs([[1, 10], [1, 15]]))).toThrow(/sampler aggregator cannot compute rate/);
  });

  it('rate: change per sampling unit between successive points', () => {
    const perSecond = { value: 1, unit: 'SECONDS' } as const;
    expect(run({ name: 'rate', sampling: perSecond, timeZone: undefined }, longs([[1000, 10], [2000, 20], [4000, 20], [5000, 50]]))).toEqual([
      [2000, 10],
      [4000, 0],
      [5000, 30],
    ]);
    expect(() => run({ name: 'rate', sampling: perSecond, timeZone: undefined }, longs([[1, 1], [1, 2]]))).toThrow(
      'The rate aggregator cannot compute rate for data points with the same time stamp.  You must precede rate with another aggregator.',
    );
  });

  it('diff, div, scale, filter', () => {
    const p = longs([[1, 5], [2, 8], [3, 2]]);
    expect(run({ name: 'diff' }, p)).toEqual([[2, 3], [3, -6]]);
    expect(run({ name: 'div', divisor: 2 }, p)).toEqual([[1, 2.5], [2, 4], [3, 1]]);
    expect(run({ name: 'scale', factor: -1 }, p)).toEqual([[1, -5], [2, -8], [3, -2]]);
    expect(run({ name: 'filter', op: 'LT', threshold: 5 }, p)).toEqual([[1, 5], [2, 8]]);
    expect(run({ name: 'filter', op: 'GTE', threshold: 5 }, p)).toEqual([[3, 2]]);
    expect(run({ name: 'filter', op: 'EQUAL', threshold: 8 }, p)).toEqual([[1, 5], [3, 2]]);
  });

  it('sma fills its window before emitting', () => {
    expect(run({ name: 'sma', size: 3 }, longs([[1, 3], [2, 6], [3, 9], [4, 12], [5, 0]]))).toEqual([[3, 6], [4, 9], [5, 7]]);
  });

  it('trim drops the first, last or both points', () => {
    const p = longs([[1, 1], [2, 2], [3, 3]]);
    expect(run({ name: 'trim', trim: 'FIRST' }, p)).toEqual([[2, 2], [3, 3]]);
    expect(run({ name: 'trim', trim: 'LAST' }, p)).toEqual([[1, 1], [2, 2]]);
    expect(run({ name: 'trim', trim: 'BOTH' }, p)).toEqual([[2, 2]]);
    expect(run({ name: 'trim', trim: 'BOTH' }, longs([[1, 1]]))).toEqual([]);
    expect(run({ name: 'trim', trim: undefined }, p)).toEqual([[1, 1], [2, 2], [3, 3]]);
  });

  it('keeps exact longs through first', () => {
    const p = new Points();
    p.pushLong(5, 9007199254740993n);
    const out = aggregate({ name: 'first', range: range({ sampling: { value: 1, unit: 'SECONDS' }, alignStartTime: true }) }, p, ctx);
    expect(out.longValue(0)).toBe(9007199254740993n);
    expect(out.ts[0]).toBe(0);
  });
});
