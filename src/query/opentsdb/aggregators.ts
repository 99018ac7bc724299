// OpenTSDB 2.4's aggregation functions (net.opentsdb.core.Aggregators): each has an interpolation
// method for cross-series aggregation and two entry points, runLong over Java longs (exact int64,
// wrapping on overflow as Java does) and runDouble over doubles (skipping NaN where OpenTSDB does).
// Used by the downsampler (runDouble only) and the cross-series aggregation. Pure.

/** Aggregators.Interpolation: what a series contributes at a timestamp where it has no point. */
export type Interpolation = 'lerp' | 'zim' | 'max' | 'min' | 'prev';

/** A Java long as JavaScript holds it: a number when |v| ≤ 2^53, else a bigint. */
export type JavaLong = number | bigint;

export interface OpenTsdbAggregator {
  readonly name: string;
  readonly interpolation: Interpolation;
  /** Aggregates one or more longs (never empty). */
  runLong(values: readonly JavaLong[]): JavaLong;
  /** Aggregates zero or more doubles (downsampling buckets are never empty). */
  runDouble(values: readonly number[]): number;
}

const MAX_SAFE = Number.MAX_SAFE_INTEGER;

/** Normalises a bigint result to the JavaLong convention (wrapped to 64 bits as Java overflows). */
export function fromBig(v: bigint): JavaLong {
  const wrapped = BigInt.asIntN(64, v);
  return wrapped >= -BigInt(MAX_SAFE) && wrapped <= BigInt(MAX_SAFE) ? Number(wrapped) : wrapped;
}

export function toBig(v: JavaLong): bigint {
  return typeof v === 'bigint' ? v : BigInt(v);
}

/** (double) of a Java long: round to nearest, as Java's widening conversion. */
export function longToDouble(v: JavaLong): number {
  return typeof v === 'bigint' ? Number(v) : v;
}

/** Java's (long) cast of a double: truncation, NaN → 0, saturation at the int64 range. */
export function doubleToLong(d: number): JavaLong {
  if (Number.isNaN(d)) return 0;
  if (d >= 9223372036854775807) return 9223372036854775807n;
  if (d <= -9223372036854775808) return -9223372036854775808n;
  const t = Math.trunc(d);
  return Math.abs(t) <= MAX_SAFE ? t || 0 : BigInt(t);
}

/** Whether plain number arithmetic on `values` stays exact: all numbers and Σ|v| ≤ 2^53. */
function smallLongs(values: readonly JavaLong[]): values is readonly number[] {
  let total = 0;
  for (const v of values) {
    if (typeof v !== 'number') return false;
    total += Math.abs(v);
  }
  return total <= MAX_SAFE;
}

function sumLongs(values: readonly JavaLong[]): JavaLong {
  if (smallLongs(values)) {
    let s = 0;
    for (const v of values) s += v;
    return s;
  }
  let s = 0n;
  for (const v of values) s += toBig(v);
  return fromBig(s);
}

function compareLongs(a: JavaLong, b: JavaLong): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  const x = toBig(a);
  const y = toBig(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

// ------------------------------------------------------------------------------------------------
// runDouble implementations (2.4: NaN-aware where OpenTSDB is)

/** Σ f(v) over the non-NaN values and how many there were (sum, avg and squareSum skip NaNs). */
function foldNonNaN(values: readonly number[], f: (v: number) => number): { total: number; n: number } {
  let total = 0;
  let n = 0;
  for (const v of values) {
    if (!Number.isNaN(v)) {
      total += f(v);
      n++;
    }
  }
  return { total, n };
}

const identity = (v: number): number => v;

function sumDouble(values: readonly number[]): number {
  const { total, n } = foldNonNaN(values, identity);
  return n === 0 ? NaN : total;
}

function minDouble(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  let min = Number.isNaN(values[0]!) ? Infinity : values[0]!;
  for (let i = 1; i < values.length; i++) {
    const v = values[i]!;
    if (!Number.isNaN(v) && v < min) min = v;
  }
  return min === Infinity ? NaN : min;
}

function maxDouble(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  let max = Number.isNaN(values[0]!) ? -Infinity : values[0]!;
  for (let i = 1; i < values.length; i++) {
    const v = values[i]!;
    if (!Number.isNaN(v) && v > max) max = v;
  }
  return max === -Infinity ? NaN : max;
}

function avgDouble(values: readonly number[]): number {
  const { total, n } = foldNonNaN(values, identity);
  return n === 0 ? NaN : total / n;
}

/** Java's Double.compareTo order: -0.0 < 0.0, NaN last. */
function compareDoubles(a: number, b: number): number {
  if (a < b) return -1;
  if (a > b) return 1;
  if (a === 0 && b === 0) return Object.is(a, -0) === Object.is(b, -0) ? 0 : Object.is(a, -0) ? -1 : 1;
  return 0;
}

/** The upper median: element size/2 of the sorted non-NaN values. */
function medianDouble(values: readonly number[]): number {
  const kept = values.filter((v) => !Number.isNaN(v)).sort(compareDoubles);
  return kept.length === 0 ? NaN : kept[kept.length >> 1]!;
}

/** Welford, as Aggregators.StdDev.runDouble: NaNs skipped, one value → 0. */
function devDouble(values: readonly number[]): number {
  let i = 0;
  let oldMean = NaN;
  while (i < values.length && Number.isNaN(oldMean)) oldMean = values[i++]!;
  if (Number.isNaN(oldMean)) return NaN;
  if (i >= values.length) return 0;
  let n = 2;
  let m2 = 0;
  for (; i < values.length; i++) {
    const x = values[i]!;
    if (Number.isNaN(x)) continue;
    const newMean = oldMean + (x - oldMean) / n;
    m2 += (x - oldMean) * (x - newMean);
    oldMean = newMean;
    n++;
  }
  return n === 2 ? 0 : Math.sqrt(m2 / (n - 1));
}

function devLong(values: readonly JavaLong[]): JavaLong {
  let oldMean = longToDouble(values[0]!);
  if (values.length === 1) return 0;
  let n = 2;
  let m2 = 0;
  for (let i = 1; i < values.length; i++) {
    const x = longToDouble(values[i]!);
    const newMean = oldMean + (x - oldMean) / n;
    m2 += (x - oldMean) * (x - newMean);
    oldMean = newMean;
    n++;
  }
  return doubleToLong(Math.sqrt(m2 / (n - 1)));
}

/** Aggregators.Diff.runDouble: last value minus the first non-NaN one; a single value → 0. */
function diffDouble(values: readonly number[]): number {
  let i = 0;
  let first = NaN;
  while (i < values.length && Number.isNaN(first)) first = values[i++]!;
  if (Number.isNaN(first)) return NaN;
  if (i >= values.length) return 0;
  return values[values.length - 1]! - first;
}

function countDouble(values: readonly number[]): number {
  let n = 0;
  for (const v of values) if (!Number.isNaN(v)) n++;
  return n;
}

function squareSumDouble(values: readonly number[]): number {
  const { total, n } = foldNonNaN(values, (v) => v * v);
  return n === 0 ? NaN : total;
}

function multDouble(values: readonly number[]): number {
  let result = values.length === 0 ? NaN : values[0]!;
  for (let i = 1; i < values.length; i++) result *= values[i]!;
  return result;
}

// ------------------------------------------------------------------------------------------------
// Percentiles (commons-math3 Percentile)

type Estimation = 'legacy' | 'r3' | 'r7';

/** Math.rint: round half to even. */
function rint(x: number): number {
  const r = Math.round(x);
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * Percentile.evaluate: `p` in (0, 100]; `sorted` ascending. LEGACY: position p·(n+1); R-3:
 * rint(n·p) (0 at or below 0.5/n); R-7: 1 + (n−1)·p; then linear between neighbours.
 */
function percentileOf(sorted: readonly number[], p: number, estimation: Estimation): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  if (n === 1) return sorted[0]!;
  const q = p / 100;
  let pos: number;
  if (estimation === 'r3') pos = q <= 0.5 / n ? 0 : rint(n * q);
  else if (estimation === 'r7') pos = q === 1 ? n : 1 + (n - 1) * q;
  else pos = q === 0 ? 0 : q === 1 ? n : q * (n + 1);
  if (pos < 1) return sorted[0]!;
  if (pos >= n) return sorted[n - 1]!;
  const fpos = Math.floor(pos);
  const lower = sorted[fpos - 1]!;
  const upper = sorted[fpos]!;
  return lower + (pos - fpos) * (upper - lower);
}

/**
 * OpenTSDB's PercentileAgg: runLong uses the estimation type (ep…r3 / ep…r7) and truncates; runDouble
 * always uses commons-math's default (LEGACY) estimation, skipping NaNs — as OpenTSDB 2.4 does.
 */
function percentile(name: string, p: number, estimation: Estimation): OpenTsdbAggregator {
  return {
    name,
    interpolation: 'lerp',
    runLong: (values) => doubleToLong(percentileOf(values.map(longToDouble).sort((a, b) => a - b), p, estimation)),
    runDouble: (values) => percentileOf(values.filter((v) => !Number.isNaN(v)).sort(compareDoubles), p, 'legacy'),
  };
}

// ------------------------------------------------------------------------------------------------
// The table

function simple(name: string, interpolation: Interpolation, runLong: OpenTsdbAggregator['runLong'], runDouble: OpenTsdbAggregator['runDouble']): OpenTsdbAggregator {
  return { name, interpolation, runLong, runDouble };
}

const minLong = (values: readonly JavaLong[]): JavaLong => values.reduce((m, v) => (compareLongs(v, m) < 0 ? v : m));
const maxLong = (values: readonly JavaLong[]): JavaLong => values.reduce((m, v) => (compareLongs(v, m) > 0 ? v : m));

function avgLong(values: readonly JavaLong[]): JavaLong {
  const s = sumLongs(values);
  if (typeof s === 'number') return (s - (s % values.length)) / values.length || 0;
  return fromBig(s / BigInt(values.length));
}

function multLong(values: readonly JavaLong[]): JavaLong {
  let r = toBig(values[0]!);
  for (let i = 1; i < values.length; i++) r = BigInt.asIntN(64, r * toBig(values[i]!));
  return fromBig(r);
}

function squareSumLong(values: readonly JavaLong[]): JavaLong {
  let r = 0n;
  for (const v of values) r = BigInt.asIntN(64, r + toBig(v) * toBig(v));
  return fromBig(r);
}

function diffLong(values: readonly JavaLong[]): JavaLong {
  if (values.length === 1) return 0;
  return fromBig(toBig(values[values.length - 1]!) - toBig(values[0]!));
}

function medianLong(values: readonly JavaLong[]): JavaLong {
  return [...values].sort(compareLongs)[values.length >> 1]!;
}

function noneLong(values: readonly JavaLong[]): JavaLong {
  if (values.length > 1) throw new Error('More than one value in aggregator');
  return values[0]!;
}

function noneDouble(values: readonly number[]): number {
  if (values.length > 1) throw new Error('More than one value in aggregator');
  return values[0]!;
}

const first = <T>(values: readonly T[]): T => values[0]!;
const last = <T>(values: readonly T[]): T => values[values.length - 1]!;

const TABLE: readonly OpenTsdbAggregator[] = [
  simple('sum', 'lerp', sumLongs, sumDouble),
  simple('zimsum', 'zim', sumLongs, sumDouble),
  simple('pfsum', 'prev', sumLongs, sumDouble),
  simple('min', 'lerp', minLong, minDouble),
  simple('mimmin', 'max', minLong, minDouble),
  simple('max', 'lerp', maxLong, maxDouble),
  simple('mimmax', 'min', maxLong, maxDouble),
  simple('avg', 'lerp', avgLong, avgDouble),
  simple('median', 'lerp', medianLong, medianDouble),
  simple('none', 'zim', noneLong, noneDouble),
  simple('mult', 'lerp', multLong, multDouble),
  simple('dev', 'lerp', devLong, devDouble),
  simple('diff', 'lerp', diffLong, diffDouble),
  simple('count', 'zim', (values) => values.length, countDouble),
  simple('squareSum', 'zim', squareSumLong, squareSumDouble),
  simple('first', 'zim', first, first),
  simple('last', 'zim', last, last),
  percentile('p50', 50, 'legacy'),
  percentile('p75', 75, 'legacy'),
  percentile('p90', 90, 'legacy'),
  percentile('p95', 95, 'legacy'),
  percentile('p99', 99, 'legacy'),
  percentile('p999', 99.9, 'legacy'),
  percentile('ep50r3', 50, 'r3'),
  percentile('ep75r3', 75, 'r3'),
  percentile('ep90r3', 90, 'r3'),
  percentile('ep95r3', 95, 'r3'),
  percentile('ep99r3', 99, 'r3'),
  percentile('ep999r3', 99.9, 'r3'),
  percentile('ep50r7', 50, 'r7'),
  percentile('ep75r7', 75, 'r7'),
  percentile('ep90r7', 90, 'r7'),
  percentile('ep95r7', 95, 'r7'),
  percentile('ep99r7', 99, 'r7'),
  percentile('ep999r7', 99.9, 'r7'),
];

const BY_NAME = new Map(TABLE.map((a) => [a.name, a]));

/** The aggregator OpenTSDB registers under `name` (exact case), or undefined. */
export function openTsdbAggregator(name: string): OpenTsdbAggregator | undefined {
  return BY_NAME.get(name);
}
