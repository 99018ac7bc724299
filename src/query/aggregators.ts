// KairosDB's aggregators over one group's points: the range aggregators (sampling ranges with
// align_sampling / align_start_time / align_end_time, time zones, exhaustive `gaps`) and the
// point-wise ones, with KairosDB 1.3's arithmetic, output types and quirks (see each function).
// Each takes a Points and returns a new one; inputs are never modified. Pure except `save_as`,
// which hands points to the collector in the context.
import { ServiceError, ServiceErrorCode } from '../errors.js';
import type { AggregatorSpec, FilterOp, RangeSettings, TrimMode } from '../protocols/kairosdb/query.js';
import { javaDoubleToString } from '../protocols/kairosdb/query-response.js';
import { PointKind, Points } from './points.js';
import { RangeClock, alignRangeBoundary, samplingDurationMs, type TimeUnit, type ZoneId } from './time.js';

/** KairosDB's data point group types (DataPoint.GROUP_NUMBER, StringDataPointFactory group "text"). */
export type GroupType = 'number' | 'text' | 'json';

/** Where save_as puts what it saves. */
export interface SaveAsCollector {
  add(spec: Extract<AggregatorSpec, { name: 'save_as' }>, group: SaveAsGroup, points: Points): void;
}

/** What save_as needs to know about the group it saves. */
export interface SaveAsGroup {
  readonly name: string;
  /** The group's tags: key → values (single-valued keys of the tag group-by are kept). */
  readonly tags: ReadonlyMap<string, ReadonlySet<string>>;
}

export interface AggregationContext {
  /** Wall clock of the query, for `gaps` (KairosDB caps the end of exhaustive ranges at now). */
  readonly nowMs: number;
  /** Bound on points one aggregator may produce (gaps over an open range can be unbounded). */
  readonly maxPoints: number;
  readonly saveAs: SaveAsCollector | undefined;
  readonly group: SaveAsGroup;
}

/** Whether KairosDB's aggregator accepts a group of this type (Aggregator.canAggregate). */
export function canAggregate(spec: AggregatorSpec, type: GroupType): boolean {
  switch (spec.name) {
    case 'count':
    case 'first':
    case 'gaps':
    case 'save_as':
    case 'trim':
      return true;
    default:
      return type === 'number';
  }
}

/** The group type after the aggregator (Aggregator.getAggregatedGroupType). */
export function aggregatedGroupType(spec: AggregatorSpec, type: GroupType): GroupType {
  switch (spec.name) {
    case 'gaps':
    case 'save_as':
    case 'trim':
      return type;
    default:
      return 'number';
  }
}

/** Runs one aggregator over `points`. Throws ServiceError(Internal) where KairosDB fails the query. */
export function aggregate(spec: AggregatorSpec, points: Points, ctx: AggregationContext): Points {
  switch (spec.name) {
    case 'avg':
      return rangeAggregate(spec.range, points, ctx, avgRange);
    case 'count':
      return rangeAggregate(spec.range, points, ctx, countRange);
    case 'dev':
      return rangeAggregate(spec.range, points, ctx, devRange);
    case 'first':
      return rangeAggregate(spec.range, points, ctx, firstRange);
    case 'gaps':
      return gapsAggregate(spec.range, points, ctx);
    case 'last':
      return rangeAggregate(spec.range, points, ctx, (p, from, to, t, out) => lastRange(p, from, to, t, out, spec.range));
    case 'least_squares':
      return rangeAggregate(spec.range, points, ctx, leastSquaresRange);
    case 'max':
      return rangeAggregate(spec.range, points, ctx, maxRange);
    case 'min':
      return rangeAggregate(spec.range, points, ctx, minRange);
    case 'sum':
      return rangeAggregate(spec.range, points, ctx, sumRange);
    case 'percentile':
      return rangeAggregate(spec.range, points, ctx, (p, from, to, t, out) => percentileRange(p, from, to, t, out, spec.percentile));
    case 'diff':
      return diff(points);
    case 'div':
      return mapDoubles(points, (v) => v / spec.divisor);
    case 'scale':
      return mapDoubles(points, (v) => v * spec.factor);
    case 'filter':
      return filter(points, spec.op, spec.threshold);
    case 'rate':
      return rate(points, spec.sampling.unit, spec.sampling.value, spec.timeZone);
    case 'sampler':
      return sampler(points, spec.sampling.unit, spec.sampling.value, spec.timeZone);
    case 'sma':
      return sma(points, spec.size);
    case 'trim':
      return trim(points, spec.trim);
    case 'save_as':
      if (ctx.saveAs === undefined) throw new ServiceError(ServiceErrorCode.Internal, 'save_as is not available on this query path');
      ctx.saveAs.add(spec, ctx.group, points);
      return points;
  }
}

// ---------------------------------------------------------------------------------------------
// Range aggregators (KairosDB RangeAggregator)

/**
 * Aggregates points [from, to) of one range into `out`. `returnTime` is the range start with
 * align_start_time, the range end with align_end_time, else the first point's timestamp.
 */
type RangeFn = (points: Points, from: number, to: number, returnTime: number, out: Points) => void;

function clockOf(range: RangeSettings): RangeClock {
  const { unit, value } = range.sampling;
  const anchor = range.alignSampling ? alignRangeBoundary(unit, range.timeZone, range.startMs) : range.startMs;
  return new RangeClock(unit, value, range.timeZone, anchor);
}

/**
 * KairosDB's RangeDataPointAggregator: walks the points in their given order; a range starts at
 * the current point and takes every following point with a timestamp before the range end. (With
 * `order: desc` this makes one range of everything after the first point, as KairosDB does.)
 */
function rangeAggregate(range: RangeSettings, points: Points, ctx: AggregationContext, fn: RangeFn): Points {
  const out = new Points(Math.min(points.length, 1024));
  const clock = clockOf(range);
  const ts = points.ts;
  const n = points.length;
  let i = 0;
  while (i < n) {
    const t = ts[i]!;
    const k = clock.periods(t);
    const endRange = clock.startOf(k + 1);
    let returnTime = t;
    if (range.alignStartTime) returnTime = clock.startOf(k);
    else if (range.alignEndTime) returnTime = endRange;
    let j = i + 1;
    while (j < n && ts[j]! < endRange) j++;
    fn(points, i, j, returnTime, out);
    i = j;
    if (out.length > ctx.maxPoints) throw tooManyPoints(ctx);
  }
  return out;
}

/**
 * KairosDB's DataGapsMarkingAggregator (an exhaustive range aggregator): walks every range from
 * the query start through the range holding the end (end inclusive, capped at now) and past the
 * last point, copying points through and putting a null point in each empty range.
 */
function gapsAggregate(range: RangeSettings, points: Points, ctx: AggregationContext): Points {
  const out = new Points(Math.min(points.length + 16, 1024));
  const clock = clockOf(range);
  const queryEnd = Math.min(range.endMs, ctx.nowMs);
  const ts = points.ts;
  const n = points.length;
  let next = range.startMs;
  let i = 0;
  while (i < n || next <= queryEnd) {
    const k = clock.periods(next);
    const startRange = clock.startOf(k);
    const endRange = clock.startOf(k + 1);
    next = endRange;
    let j = i;
    while (j < n && ts[j]! < endRange) j++;
    let dataPointTime = i < n ? ts[i]! : Number.MAX_VALUE;
    if (range.alignStartTime || endRange <= dataPointTime) dataPointTime = startRange;
    if (j > i) for (let p = i; p < j; p++) out.pushFrom(points, p);
    else out.pushNull(dataPointTime);
    i = j;
    if (out.length > ctx.maxPoints) throw tooManyPoints(ctx);
  }
  return out;
}

function tooManyPoints(ctx: AggregationContext): ServiceError {
  return new ServiceError(ServiceErrorCode.Internal, `query result exceeds ${ctx.maxPoints} data points`);
}

/** KairosDB's "isDouble": every number (long or double); not strings, JSON or null points. */
function isNumeric(kind: number): boolean {
  return kind === PointKind.Double || kind === PointKind.Long;
}

const avgRange: RangeFn = (p, from, to, t, out) => {
  let sum = 0;
  let count = 0;
  for (let i = from; i < to; i++) {
    if (isNumeric(p.kind[i]!)) {
      sum += p.num[i]!;
      count++;
    }
  }
  out.pushDouble(t, sum / count);
};

const countRange: RangeFn = (_p, from, to, t, out) => {
  out.pushLongNumber(t, to - from);
};

/** Welford-style running deviation exactly as KairosDB's StdAggregator (NaN for one point → 0). */
const devRange: RangeFn = (p, from, to, t, out) => {
  let count = 0;
  let average = 0;
  let pwrSumAvg = 0;
  let stdDev = 0;
  for (let i = from; i < to; i++) {
    count++;
    const v = p.num[i]!;
    average += (v - average) / count;
    pwrSumAvg += (v * v - pwrSumAvg) / count;
    stdDev = Math.sqrt((pwrSumAvg * count - count * average * average) / (count - 1));
  }
  out.pushDouble(t, Number.isNaN(stdDev) ? 0 : stdDev);
};

/** The first point itself (its type kept) at the range's return time. */
const firstRange: RangeFn = (p, from, _to, t, out) => {
  out.pushFrom(p, from, t);
};

/** The last number as a double, at its own time unless start/end alignment is on. */
function lastRange(p: Points, from: number, to: number, t: number, out: Points, range: RangeSettings): void {
  for (let i = to - 1; i >= from; i--) {
    if (isNumeric(p.kind[i]!)) {
      out.pushDouble(range.alignStartTime || range.alignEndTime ? t : p.ts[i]!, p.num[i]!);
      return;
    }
  }
}

const maxRange: RangeFn = (p, from, to, t, out) => {
  let max = -Number.MAX_VALUE;
  for (let i = from; i < to; i++) max = javaMax(max, p.num[i]!);
  out.pushDouble(t, max);
};

const minRange: RangeFn = (p, from, to, t, out) => {
  let min = Number.MAX_VALUE;
  for (let i = from; i < to; i++) min = javaMin(min, p.num[i]!);
  out.pushDouble(t, min);
};

function javaMax(a: number, b: number): number {
  return a !== a ? a : a >= b ? (a === 0 && b === 0 && Object.is(a, -0) ? b : a) : b;
}

function javaMin(a: number, b: number): number {
  return a !== a ? a : a <= b ? (a === 0 && b === 0 && Object.is(b, -0) ? b : a) : b;
}

const sumRange: RangeFn = (p, from, to, t, out) => {
  let sum = 0;
  const num = p.num;
  for (let i = from; i < to; i++) sum += num[i]!;
  out.pushDouble(t, sum);
};

/**
 * Least squares (commons-math SimpleRegression with intercept, its incremental sums): one or two
 * points come back unchanged; more give the fitted line at the first and the last timestamp.
 */
const leastSquaresRange: RangeFn = (p, from, to, _t, out) => {
  const count = to - from;
  if (count <= 2) {
    for (let i = from; i < to; i++) out.pushFrom(p, i);
    return;
  }
  let n = 0;
  let xbar = 0;
  let ybar = 0;
  let sumXX = 0;
  let sumXY = 0;
  let sumX = 0;
  let sumY = 0;
  for (let i = from; i < to; i++) {
    const x = p.ts[i]!;
    const y = p.num[i]!;
    if (n === 0) {
      xbar = x;
      ybar = y;
    } else {
      const fact1 = 1 + n;
      const fact2 = n / (1 + n);
      const dx = x - xbar;
      const dy = y - ybar;
      sumXX += dx * dx * fact2;
      sumXY += dx * dy * fact2;
      xbar += dx / fact1;
      ybar += dy / fact1;
    }
    sumX += x;
    sumY += y;
    n++;
  }
  const slope = Math.abs(sumXX) < 10 * Number.MIN_VALUE ? NaN : sumXY / sumXX;
  const intercept = (sumY - slope * sumX) / n;
  const start = p.ts[from]!;
  const stop = p.ts[to - 1]!;
  out.pushDouble(start, intercept + slope * start);
  out.pushDouble(stop, intercept + slope * stop);
};

/**
 * KairosDB's PercentileAggregator: the sorted values, position q·(n+1), linear interpolation
 * between neighbours. (KairosDB samples ranges above 1,028 values with a random reservoir; Strata
 * uses every value.) A percentile outside [0, 1] fails the query as KairosDB does.
 */
function percentileRange(p: Points, from: number, to: number, t: number, out: Points, quantile: number): void {
  const values = new Float64Array(to - from);
  for (let i = from; i < to; i++) values[i - from] = p.num[i]!;
  values.sort();
  if (quantile < 0 || quantile > 1 || Number.isNaN(quantile)) {
    throw new ServiceError(ServiceErrorCode.Internal, `${javaDoubleToString(quantile)} is not in [0..1]`);
  }
  let result: number;
  if (values.length === 0) result = 0;
  else {
    const pos = quantile * (values.length + 1);
    if (pos < 1) result = values[0]!;
    else if (pos >= values.length) result = values[values.length - 1]!;
    else {
      const lower = values[Math.trunc(pos) - 1]!;
      const upper = values[Math.trunc(pos)]!;
      result = lower + (pos - Math.floor(pos)) * (upper - lower);
    }
  }
  out.pushDouble(t, result);
}

// ---------------------------------------------------------------------------------------------
// Point-wise aggregators

/** Differences of successive points, at the later point's time (n points → n − 1). */
function diff(points: Points): Points {
  const out = new Points(points.length);
  for (let i = 1; i < points.length; i++) out.pushDouble(points.ts[i]!, points.num[i]! - points.num[i - 1]!);
  return out;
}

function mapDoubles(points: Points, f: (v: number) => number): Points {
  const out = new Points(points.length);
  for (let i = 0; i < points.length; i++) out.pushDouble(points.ts[i]!, f(points.num[i]!));
  return out;
}

/** Java's Double.compareTo: -0.0 < 0.0, NaN above everything and equal to itself. */
function compareDoubles(a: number, b: number): number {
  if (a < b) return -1;
  if (a > b) return 1;
  const aNaN = Number.isNaN(a);
  const bNaN = Number.isNaN(b);
  if (aNaN || bNaN) return aNaN === bNaN ? 0 : aNaN ? 1 : -1;
  const aNeg = Object.is(a, -0);
  const bNeg = Object.is(b, -0);
  return aNeg === bNeg ? 0 : aNeg ? -1 : 1;
}

/** Drops the points that match `op threshold` (KairosDB's filter removes matches). */
function filter(points: Points, op: FilterOp, threshold: number): Points {
  const out = new Points(points.length);
  for (let i = 0; i < points.length; i++) {
    const c = compareDoubles(points.num[i]!, threshold);
    let drop: boolean;
    switch (op) {
      case 'LTE':
        drop = c <= 0;
        break;
      case 'LT':
        drop = c < 0;
        break;
      case 'GTE':
        drop = c >= 0;
        break;
      case 'GT':
        drop = c > 0;
        break;
      default:
        drop = c === 0;
        break;
    }
    if (!drop) out.pushFrom(points, i);
  }
  return out;
}

/**
 * Rate of change per sampling duration, at the later point's time (n points → n − 1). Two
 * points at one timestamp fail the query with KairosDB's message.
 */
function rate(points: Points, unit: TimeUnit, value: number, zone: ZoneId | undefined): Points {
  const out = new Points(points.length);
  for (let i = 1; i < points.length; i++) {
    const y0 = points.ts[i - 1]!;
    const y1 = points.ts[i]!;
    if (y1 === y0) {
      throw new ServiceError(
        ServiceErrorCode.Internal,
        'The rate aggregator cannot compute rate for data points with the same time stamp.  You must precede rate with another aggregator.',
      );
    }
    const x0 = points.num[i - 1]!;
    const x1 = points.num[i]!;
    out.pushDouble(y1, ((x1 - x0) / (y1 - y0)) * samplingDurationMs(unit, value, zone, y0));
  }
  return out;
}

/**
 * KairosDB's SamplerAggregator: each point's value divided by the time since the previous point,
 * per sampling duration, at the later time; then, as KairosDB does, one trailing 0 at the last
 * point's time + 1 ms.
 */
function sampler(points: Points, unit: TimeUnit, value: number, zone: ZoneId | undefined): Points {
  const out = new Points(points.length);
  for (let i = 0; i < points.length; i++) {
    const y0 = points.ts[i]!;
    let x1 = 0;
    let y1 = y0 + 1;
    if (i + 1 < points.length) {
      x1 = points.num[i + 1]!;
      y1 = points.ts[i + 1]!;
      if (y1 === y0) {
        throw new ServiceError(
          ServiceErrorCode.Internal,
          'The sampler aggregator cannot compute rate for data points with the same time stamp.  You must precede sampler with another aggregator.',
        );
      }
    }
    out.pushDouble(y1, (x1 / (y1 - y0)) * samplingDurationMs(unit, value, zone, y0));
  }
  return out;
}

/** Simple moving average over `size` points; the first size − 1 points only fill the window. */
function sma(points: Points, size: number): Points {
  const out = new Points(points.length);
  const window: number[] = [];
  let i = 0;
  for (; i < size - 1 && i < points.length; i++) window.push(points.num[i]!);
  for (; i < points.length; i++) {
    window.push(points.num[i]!);
    if (window.length > size) window.shift();
    let sum = 0;
    for (const v of window) sum += v;
    out.pushDouble(points.ts[i]!, sum / window.length);
  }
  return out;
}

/** Drops the first, the last or both points; without a mode, passes everything (as KairosDB). */
function trim(points: Points, mode: TrimMode | undefined): Points {
  const from = mode === 'FIRST' || mode === 'BOTH' ? 1 : 0;
  const to = mode === 'LAST' || mode === 'BOTH' ? points.length - 1 : points.length;
  const out = new Points(Math.max(1, to - from));
  for (let i = from; i < to; i++) out.pushFrom(points, i);
  return out;
}
