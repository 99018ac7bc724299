// CAVE reads over the engine (protocols.md §3.3, §7 "Tenants"): the metric-names listing and
// `GET …/metrics` aggregated into `period`-minute buckets with CAVE's (InfluxDB 0.8's)
// aggregators. Every read is scoped to one `CAVE-account` value — a tenant sees only series that
// carry its own account tag, whatever tags the request names. Runs where an Engine lives (a
// worker thread); reads only.
import { ValueKind, type Engine, type SeriesId, type SeriesKey } from '../../engine/index.js';
import { CAVE_ACCOUNT_TAG, CAVE_CLUSTER_TAG } from '../protocols/cave/auth.js';
import {
  CAVE_UNKNOWN_METRIC_MESSAGE,
  encodeCaveMetricNames,
  encodeCaveMetrics,
  type CaveAggregator,
  type CaveMetricsRequest,
  type CavePoint,
} from '../protocols/cave/query.js';
import { isReservedTagKey } from '../protocols/reserved-tags.js';

/** Where a read without `start` begins, ms (the engine stores |t| < 2^50). */
const MIN_TIME_MS = -(2 ** 50);

/** Tag keys a CAVE client never sees: the server's own and Strata's reserved ones. */
function isHiddenTagKey(key: string): boolean {
  return key === CAVE_ACCOUNT_TAG || key === CAVE_CLUSTER_TAG || isReservedTagKey(key);
}

function hasReservedTag(key: SeriesKey): boolean {
  return Object.keys(key.tags).some(isReservedTagKey);
}

/**
 * `GET …/metric-names` for `account`: each metric name with the union of its series' tag keys
 * (CAVE's own tags hidden), both sorted; `[]` when the account has no series.
 */
export function caveMetricNames(engine: Engine, account: string): string {
  const tagsByMetric = new Map<string, Set<string>>();
  for (const id of engine.select({ tags: { [CAVE_ACCOUNT_TAG]: [account] } })) {
    const key = engine.catalog.key(id as SeriesId);
    if (hasReservedTag(key)) continue;
    let tags = tagsByMetric.get(key.metric);
    if (tags === undefined) tagsByMetric.set(key.metric, (tags = new Set()));
    for (const k of Object.keys(key.tags)) if (!isHiddenTagKey(k)) tags.add(k);
  }
  const names = [...tagsByMetric.keys()].sort();
  return encodeCaveMetricNames(names.map((name) => ({ name, tags: [...tagsByMetric.get(name)!].sort() })));
}

/** A read's answer: 200 and the JSON body, or 400 and CAVE's text. */
export interface CaveReadAnswer {
  readonly status: 200 | 400;
  readonly body: string;
}

/**
 * `GET …/metrics` for `account`. 400 `Unable to fetch metric data: the metric does not exist.`
 * when the account has no series of that metric (InfluxDB's "Couldn't find series"). Otherwise
 * every point of the account's series of that metric whose tags include every `tags` pair is
 * pooled (a `CAVE-account` pair in the request is ignored: the account is the endpoint's),
 * restricted to start < t < end at whole seconds (InfluxDB's `time > 'yyyy-MM-dd HH:mm:ss'`;
 * no end → now, no start → the beginning), grouped into `period`-minute buckets aligned to the
 * epoch, and aggregated; empty buckets are left out. The `limit` most recent buckets are answered,
 * oldest first. Only numeric points count (CAVE stores doubles; an int64 written through another
 * protocol counts as its double, strings and JSON are skipped).
 */
export function runCaveMetricsQuery(engine: Engine, account: string, request: CaveMetricsRequest, nowMs: number): CaveReadAnswer {
  const accountOnly = { [CAVE_ACCOUNT_TAG]: [account] };
  const all = engine.select({ metric: request.metric, tags: accountOnly });
  if (all.length === 0) return { status: 400, body: CAVE_UNKNOWN_METRIC_MESSAGE };

  const tags: Record<string, string[]> = {};
  for (const [k, v] of Object.entries(request.tags)) tags[k] = [v];
  tags[CAVE_ACCOUNT_TAG] = [account]; // last: a request can never widen or move its account
  const ids = [...engine.select({ metric: request.metric, tags })].filter((id) => !hasReservedTag(engine.catalog.key(id as SeriesId)));

  const startMs = request.startMs === undefined ? MIN_TIME_MS : wholeSecondMs(request.startMs) + 1;
  const endMs = request.endMs === undefined ? nowMs : wholeSecondMs(request.endMs) - 1;
  const periodMs = request.periodMinutes * 60_000;
  const buckets = new Map<number, number[]>();
  if (ids.length > 0 && startMs <= endMs) {
    for (const series of engine.scan(ids as SeriesId[], startMs, endMs)) {
      for (let i = 0; i < series.length; i++) {
        const kind = series.kinds[i];
        let value: number;
        if (kind === ValueKind.Float64) value = series.floats[i]!;
        else if (kind === ValueKind.Int64) value = Number(series.ints[i]!);
        else continue;
        const bucket = Math.floor(series.timestampsMs[i]! / periodMs) * periodMs;
        const values = buckets.get(bucket);
        if (values === undefined) buckets.set(bucket, [value]);
        else values.push(value);
      }
    }
  }
  const times = [...buckets.keys()].sort((a, b) => a - b).slice(-request.limit);
  const points: CavePoint[] = times.map((timeMs) => ({ timeMs, value: aggregateCave(request.aggregator, buckets.get(timeMs)!) }));
  return { status: 200, body: encodeCaveMetrics(points) };
}

/** The start of the second `ms` falls in (Joda prints times without millis in the query). */
function wholeSecondMs(ms: number): number {
  return Math.floor(ms / 1000) * 1000;
}

/**
 * One bucket's value under a CAVE aggregator, as InfluxDB 0.8 computes it: count; min; max; sum;
 * mean; stddev = the population standard deviation √(E[x²] − E[x]²); median and the
 * percentiles = the sorted value at index ⌊n·p/100 + 0.5⌋ − 1 (0 when that index is below 0);
 * mode = the most frequent value (on a tie, the smallest — InfluxDB's pick depends on Go's map
 * order). `values` is non-empty.
 */
export function aggregateCave(aggregator: CaveAggregator, values: readonly number[]): number {
  const n = values.length;
  switch (aggregator) {
    case 'count':
      return n;
    case 'min':
      return values.reduce((a, b) => (b < a ? b : a));
    case 'max':
      return values.reduce((a, b) => (b > a ? b : a));
    case 'sum':
      return values.reduce((a, b) => a + b, 0);
    case 'mean':
      return values.reduce((a, b) => a + b, 0) / n;
    case 'stddev': {
      // Two passes: the same value as InfluxDB's E[x²] − E[x]² in exact arithmetic, without its
      // cancellation when the values are large and close together.
      const mean = values.reduce((a, b) => a + b, 0) / n;
      return Math.sqrt(values.reduce((a, b) => a + (b - mean) * (b - mean), 0) / n);
    }
    case 'mode': {
      const counts = new Map<number, number>();
      for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
      let best = Number.NaN;
      let bestCount = 0;
      for (const [v, c] of counts) {
        if (c > bestCount || (c === bestCount && v < best)) {
          best = v;
          bestCount = c;
        }
      }
      return best;
    }
    case 'median':
      return percentile(values, 50);
    case 'p90':
      return percentile(values, 90);
    case 'p95':
      return percentile(values, 95);
    case 'p99':
      return percentile(values, 99);
    case 'p999':
      return percentile(values, 99.9);
  }
}

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const index = Math.floor((sorted.length * p) / 100 + 0.5) - 1;
  return index < 0 || index >= sorted.length ? 0 : sorted[index]!;
}
