// The per-group pipeline of an OpenTSDB 2.4 query, ported from its iterators: Downsampler /
// FillingDownsampler (per series), RateSpan (per series, after downsampling) and
// AggregationIterator (across the series of a group, with lerp / zero / max / min / previous
// interpolation). Works on query/points.ts Points; pure; every quirk kept is named in a comment.
import type { DownsampleSpec, RateOptions } from '../../protocols/opentsdb/query.js';
import { calendarAdd, previousCalendarInterval } from '../../protocols/opentsdb/query-time.js';
import { PointKind, Points } from '../points.js';
import { fromBig, longToDouble, openTsdbAggregator, toBig, type JavaLong, type OpenTsdbAggregator } from './aggregators.js';

const MAX_SAFE = Number.MAX_SAFE_INTEGER;
const LONG_MAX = 9223372036854775807n;
const LONG_MIN = -9223372036854775808n;

/** Raised when a stage would produce more points than the caller allows. */
export class TooManyPointsError extends Error {
  constructor(readonly maxPoints: number) {
    super(`more than ${maxPoints} data points`);
    this.name = 'TooManyPointsError';
  }
}

/**
 * Time bounds of one sub-query, epoch ms. The scan range is OpenTSDB's padded HBase scan
 * (TsdbQuery.getScanStart/EndTimeSeconds: whole hours, widened by one downsampling interval);
 * iterators run over it and the serializer keeps only [queryStartMs, queryEndMs].
 */
export interface QueryBounds {
  readonly scanStartMs: number;
  /** Exclusive. */
  readonly scanEndMs: number;
  readonly queryStartMs: number;
  readonly queryEndMs: number;
}

/** A point's value as a Java long (Long points only). */
export function longAt(p: Points, i: number): JavaLong {
  return p.big?.get(i) ?? p.num[i]!;
}

function pushLong(out: Points, t: number, v: JavaLong): void {
  if (typeof v === 'bigint') out.pushLong(t, v);
  else out.pushLongNumber(t, v);
}

// ------------------------------------------------------------------------------------------------
// Downsampling

/**
 * Downsampler + FillingDownsampler over one series (time-ordered). Values are always doubles.
 * Fixed intervals: buckets start at multiples of the interval since the epoch; the first bucket is
 * the first whole one at or after the scan start (Downsampler.seek rounds up); with a fill policy
 * every bucket from align(scanStart) to before align(scanEnd) is emitted, empty ones as NaN (nan,
 * null) or 0 (zero). "all": one point at the query start over [queryStart, queryEnd). Calendar
 * buckets follow DateTime.previousInterval in `zone`.
 */
export function downsample(src: Points, spec: DownsampleSpec, bounds: QueryBounds, zone: string | undefined, maxPoints: number): Points {
  if (spec.runAll) return downsampleAll(src, openTsdbAggregator(spec.aggregator)!, bounds);
  return fillBuckets(bucketize(src, spec, bounds, zone), spec, bounds, zone, maxPoints);
}

/** The non-empty buckets of `src` (Downsampler without fill), each the aggregator over its values. */
export function bucketize(src: Points, spec: DownsampleSpec, bounds: QueryBounds, zone: string | undefined): Points {
  const fn = openTsdbAggregator(spec.aggregator)!;
  return spec.useCalendar ? calendarBuckets(src, spec, bounds, zone, fn) : fixedBuckets(src, spec.intervalMs, bounds, fn);
}

/** FillingDownsampler: every bucket of the scan range, empty ones filled per `spec.fill` ("none": as is). */
export function fillBuckets(buckets: Points, spec: DownsampleSpec, bounds: QueryBounds, zone: string | undefined, maxPoints: number): Points {
  if (spec.fill === 'none' || spec.runAll) return buckets;
  const fillValue = spec.fill === 'zero' ? 0 : NaN;
  const out = new Points(Math.max(16, buckets.length));
  let b = 0;
  const emit = (expected: number): void => {
    while (b < buckets.length && buckets.ts[b]! < expected) b++; // "Skip any leading data outside the query bounds"
    if (b < buckets.length && buckets.ts[b] === expected) out.pushDouble(expected, buckets.num[b++]!);
    else out.pushDouble(expected, fillValue);
    if (out.length > maxPoints) throw new TooManyPointsError(maxPoints);
  };
  if (spec.useCalendar) {
    for (let t = previousCalendarInterval(bounds.scanStartMs, spec.calendarInterval, spec.calendarUnit, zone); t < bounds.scanEndMs; ) {
      emit(t);
      t = calendarAdd(t, spec.calendarUnit, spec.calendarInterval, zone);
    }
  } else {
    const interval = spec.intervalMs;
    const first = align(bounds.scanStartMs, interval);
    const last = align(bounds.scanEndMs, interval);
    if ((last - first) / interval > maxPoints) throw new TooManyPointsError(maxPoints);
    for (let t = first; t < last; t += interval) emit(t);
  }
  return out;
}

function align(t: number, interval: number): number {
  return t - (t % interval);
}

function fixedBuckets(src: Points, interval: number, bounds: QueryBounds, fn: OpenTsdbAggregator): Points {
  const out = new Points(16);
  const seek = align(bounds.scanStartMs + interval - 1, interval);
  const values: number[] = [];
  let i = 0;
  while (i < src.length && src.ts[i]! < seek) i++;
  while (i < src.length) {
    const bucket = align(src.ts[i]!, interval);
    const end = bucket + interval;
    values.length = 0;
    while (i < src.length && src.ts[i]! < end) values.push(src.num[i++]!);
    out.pushDouble(bucket, fn.runDouble(values));
  }
  return out;
}

function calendarBuckets(src: Points, spec: DownsampleSpec, bounds: QueryBounds, zone: string | undefined, fn: OpenTsdbAggregator): Points {
  const out = new Points(16);
  const { calendarInterval: n, calendarUnit: unit } = spec;
  let seek = previousCalendarInterval(bounds.scanStartMs, n, unit, zone);
  if (bounds.scanStartMs > seek) seek = calendarAdd(seek, unit, n, zone);
  let i = 0;
  while (i < src.length && src.ts[i]! < seek) i++;
  if (i >= src.length) return out;
  let start = previousCalendarInterval(src.ts[i]!, n, unit, zone);
  let end = calendarAdd(start, unit, n, zone);
  const values: number[] = [];
  while (i < src.length) {
    while (src.ts[i]! >= end) {
      start = end;
      end = calendarAdd(end, unit, n, zone);
    }
    values.length = 0;
    while (i < src.length && src.ts[i]! < end) values.push(src.num[i++]!);
    out.pushDouble(start, fn.runDouble(values));
  }
  return out;
}

function downsampleAll(src: Points, fn: OpenTsdbAggregator, bounds: QueryBounds): Points {
  const values: number[] = [];
  for (let i = 0; i < src.length; i++) {
    const t = src.ts[i]!;
    if (t < bounds.scanStartMs || t < bounds.queryStartMs) continue;
    if (t >= bounds.queryEndMs) break; // OpenTSDB's run-all range is end-exclusive
    values.push(src.num[i]!);
  }
  const out = new Points(1);
  if (values.length > 0) out.pushDouble(bounds.queryStartMs, fn.runDouble(values));
  return out;
}

// ------------------------------------------------------------------------------------------------
// Rate

/**
 * RateSpan: per-second rate between successive points, at the later point's time; always doubles.
 * As in OpenTSDB the first rate is taken against (time 0, value 0) — a near-zero value that is
 * never printed but stands in for the series in cross-series aggregation until its second point.
 * Counter options: a negative delta becomes counterMax − previous + current (then 0 when above a
 * positive resetValue), or with dropResets the point is skipped and the next rate starts from it.
 * Integer pairs are subtracted as Java longs.
 */
export function rate(src: Points, options: RateOptions): Points {
  const out = new Points(Math.max(16, src.length));
  let prevTs = 0;
  let prevIsLong = true;
  let prevLong: JavaLong = 0;
  let prevDouble = 0;
  for (let i = 0; i < src.length; i++) {
    const t = src.ts[i]!;
    if (t <= prevTs) continue; // OpenTSDB throws IllegalStateException; only ts ≤ 0 can get here
    const isLong = src.kind[i] === PointKind.Long;
    const cur: JavaLong = isLong ? longAt(src, i) : 0;
    const curDouble = src.num[i]!;
    const dtSeconds = (t - prevTs) / 1000;
    const bothLong = prevIsLong && isLong;
    let difference = bothLong ? longToDouble(subtractLongs(cur, prevLong)) : curDouble - prevDouble;
    let value: number;
    if (options.counter && difference < 0) {
      if (options.dropResets) {
        prevTs = t;
        prevIsLong = isLong;
        prevLong = cur;
        prevDouble = curDouble;
        continue;
      }
      difference = bothLong
        ? longToDouble(fromBig(options.counterMax - toBig(prevLong) + toBig(cur)))
        : Number(options.counterMax) - prevDouble + curDouble;
      const r = difference / dtSeconds;
      value = options.resetValue > 0n && r > Number(options.resetValue) ? 0 : r;
    } else {
      value = difference / dtSeconds;
    }
    out.pushDouble(t, value);
    prevTs = t;
    prevIsLong = isLong;
    prevLong = cur;
    prevDouble = curDouble;
  }
  return out;
}

function subtractLongs(a: JavaLong, b: JavaLong): JavaLong {
  if (typeof a === 'number' && typeof b === 'number' && Math.abs(a) + Math.abs(b) <= MAX_SAFE) return a - b;
  return fromBig(toBig(a) - toBig(b));
}

// ------------------------------------------------------------------------------------------------
// Aggregation across series (AggregationIterator)

/** "No next point" (OpenTSDB's TIME_MASK). */
const END = Number.POSITIVE_INFINITY;

/**
 * AggregationIterator: walks the union of the series' timestamps within [startMs, endMs]; at each
 * one aggregates every series that has started and not yet ended — the series at that time with
 * its value, the others interpolated between their surrounding points (or zero / max / min /
 * previous per the aggregator; with rate, always their previous rate). A series contributes from
 * its first point through its last, never extrapolated. The result is a long when no current or
 * next value of any series is a double (and not a rate), else a double.
 */
export function aggregateAcrossSeries(streams: readonly Points[], agg: OpenTsdbAggregator, isRate: boolean, startMs: number, endMs: number, maxPoints: number): Points {
  const n = streams.length;
  const tsCur = new Float64Array(n); // 0 = no current point
  const tsNext = new Float64Array(n).fill(END);
  const floatCur = new Uint8Array(n);
  const floatNext = new Uint8Array(n);
  const valCur: (JavaLong | number)[] = new Array(n).fill(0);
  const valNext: (JavaLong | number)[] = new Array(n).fill(0);
  const cursor = new Int32Array(n);
  const live = new Uint8Array(n); // the underlying iterator still has points

  const putNext = (i: number): void => {
    const s = streams[i]!;
    const k = cursor[i]!++;
    tsNext[i] = s.ts[k]!;
    const isFloat = s.kind[k] !== PointKind.Long;
    floatNext[i] = isFloat ? 1 : 0;
    valNext[i] = isFloat ? s.num[k]! : longAt(s, k);
  };
  const endReached = (i: number): void => {
    tsNext[i] = END;
    floatNext[i] = 0;
    live[i] = 0;
  };
  const moveToNext = (i: number): void => {
    tsCur[i] = tsNext[i]!;
    floatCur[i] = floatNext[i]!;
    valCur[i] = valNext[i]!;
    if (live[i] && cursor[i]! < streams[i]!.length) putNext(i);
    else endReached(i);
  };

  for (let i = 0; i < n; i++) {
    const s = streams[i]!;
    // seek(start): Strata skips earlier points; OpenTSDB drops a series whose first point (a
    // filled bucket before the scan start) precedes it.
    while (cursor[i]! < s.length && s.ts[cursor[i]!]! < startMs) cursor[i]!++;
    if (cursor[i]! >= s.length) {
      endReached(i);
      continue;
    }
    live[i] = 1;
    putNext(i);
    if (isRate) {
      // The first (time-zero) rate becomes the current value straight away.
      if (cursor[i]! < s.length) moveToNext(i);
      else endReached(i);
    }
  }

  const out = new Points(16);
  const longs: JavaLong[] = [];
  const doubles: number[] = [];
  let current = 0;
  for (;;) {
    // hasNext
    let any = false;
    for (let i = 0; i < n; i++) {
      if (tsNext[i]! <= endMs) {
        any = true;
        break;
      }
    }
    if (!any) break;
    // next(): expire series whose last point was consumed — OpenTSDB only looks from the previous
    // current index on, which is where such series always are.
    for (let i = current; i < n; i++) {
      if (tsNext[i] === END) {
        tsCur[i] = 0;
        floatCur[i] = 0;
      }
    }
    let minTs = END;
    current = -1;
    let multiple = false;
    for (let i = 0; i < n; i++) {
      const t = tsNext[i]!;
      if (t > endMs) continue;
      if (t < minTs) {
        minTs = t;
        current = i;
        multiple = false;
      } else if (t === minTs) {
        multiple = true;
      }
    }
    moveToNext(current);
    if (multiple) for (let i = current + 1; i < n; i++) if (tsNext[i] === minTs) moveToNext(i);

    // The data point at tsCur[current].
    const x = tsCur[current]!;
    let isInteger = !isRate;
    for (let i = 0; i < n && isInteger; i++) {
      if ((tsCur[i] !== 0 && floatCur[i]) || (tsNext[i] !== END && floatNext[i])) isInteger = false;
    }
    if (isInteger) {
      longs.length = 0;
      for (let pos = 0; pos < n; pos++) if (tsCur[pos] !== 0) longs.push(longValueAt(pos));
      pushLong(out, x, agg.runLong(longs));
    } else {
      doubles.length = 0;
      for (let pos = 0; pos < n; pos++) if (tsCur[pos] !== 0) doubles.push(doubleValueAt(pos));
      out.pushDouble(x, agg.runDouble(doubles));
    }
    if (out.length > maxPoints) throw new TooManyPointsError(maxPoints);
  }
  return out;

  function longValueAt(pos: number): JavaLong {
    const y0 = valCur[pos]! as JavaLong;
    if (pos === current) return y0;
    const x = tsCur[current]!;
    const x0 = tsCur[pos]!;
    if (x === x0) return y0;
    const y1 = valNext[pos]! as JavaLong;
    const x1 = tsNext[pos]!;
    if (x === x1) return y1;
    if (x1 === END) return y0;
    switch (agg.interpolation) {
      case 'lerp':
        return lerpLong(x, x0, y0, x1, y1);
      case 'zim':
        return 0;
      case 'max':
        return LONG_MAX;
      case 'min':
        return LONG_MIN;
      case 'prev':
        return y0;
    }
  }

  function doubleValueAt(pos: number): number {
    const y0 = floatCur[pos] ? (valCur[pos] as number) : longToDouble(valCur[pos]!);
    if (pos === current) return y0;
    if (isRate) return y0; // "No LERP for the rate"
    const x = tsCur[current]!;
    const x0 = tsCur[pos]!;
    if (x === x0) return y0;
    const y1 = floatNext[pos] ? (valNext[pos] as number) : longToDouble(valNext[pos]!);
    const x1 = tsNext[pos]!;
    if (x === x1) return y1;
    if (x1 === END) return y0;
    switch (agg.interpolation) {
      case 'lerp':
        return y0 + ((x - x0) * (y1 - y0)) / (x1 - x0);
      case 'zim':
        return 0;
      case 'max':
        return Number.MAX_VALUE;
      case 'min':
        return Number.MIN_VALUE; // sic: Double.MIN_VALUE, the smallest positive double, as OpenTSDB
      case 'prev':
        return y0;
    }
  }
}

/** y0 + (x − x0)·(y1 − y0) / (x1 − x0) in Java long arithmetic (truncating division, wrapping). */
export function lerpLong(x: number, x0: number, y0: JavaLong, x1: number, y1: JavaLong): JavaLong {
  const dx = x - x0;
  const d = x1 - x0;
  if (typeof y0 === 'number' && typeof y1 === 'number') {
    const dy = y1 - y0;
    const p = dx * dy;
    if (Math.abs(dy) <= MAX_SAFE && Math.abs(p) <= MAX_SAFE) {
      const r = y0 + (p - (p % d)) / d;
      if (Math.abs(r) <= MAX_SAFE) return r || 0;
    }
  }
  const p = BigInt.asIntN(64, BigInt(dx) * BigInt.asIntN(64, toBig(y1) - toBig(y0)));
  return fromBig(toBig(y0) + p / BigInt(d));
}
