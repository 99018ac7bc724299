// Runs KairosDB queries against the engine: series selection, grouping, limit, the aggregator
// pipeline and the response text; plus /query/tags, the name listings and delete planning.
// Runs where an Engine lives (a worker thread); never writes points itself — save_as output goes
// to the sink the caller provides.
import { ValueKind, type Engine, type SeriesId, type SeriesKey, type SeriesMatcher, type SeriesSelector, type WriteBatch } from '../../engine/index.js';
import { ServiceError, ServiceErrorCode } from '../errors.js';
import {
  MAX_TIMESTAMP_MS,
  MIN_TIMESTAMP_MS,
  type AggregatorSpec,
  type KairosMetricQuery,
  type KairosQuery,
} from '../protocols/kairosdb/query.js';
import { encodeKairosNames, encodeKairosQueryResponse, encodeKairosTagsResponse } from '../protocols/kairosdb/query-response.js';
import { ROLLUP_TAG_KEY, isReservedTagKey } from '../protocols/reserved-tags.js';
import { aggregate, aggregatedGroupType, canAggregate, type SaveAsCollector, type SaveAsGroup } from './aggregators.js';
import { applyGroupBys, groupByTypeAndTag, splitByType, tagTable, type WorkGroup } from './group-by.js';
import { visibleTagKeys, visibleTagValues } from './listings.js';
import { PointKind, Points } from './points.js';
import type { MetricResult, ResultGroup, TagTable, TagsResult } from './result.js';

/** Default bound on the points one query may return (KairosDB has none and runs out of heap). */
export const DEFAULT_MAX_RESULT_POINTS = 20_000_000;

/** Appends save_as output (a WriteBatch) with the caller's writer. */
export type SaveAsSink = (batch: WriteBatch) => void;

export interface KairosRunOptions {
  /**
   * Receives what save_as aggregators produce, one WriteBatch per metric query that has any,
   * before the response is built; the caller appends it with its ShardWriter. Required when a
   * query uses save_as (otherwise the query fails with an Internal error).
   */
  readonly saveAs?: SaveAsSink;
  /** Bound on points per aggregator output and per response. Default DEFAULT_MAX_RESULT_POINTS. */
  readonly maxResultPoints?: number;
}

/**
 * Runs every metric query of `query` and returns the response JSON text (protocols.md §1.3).
 * `options` may be just the save_as sink.
 * Throws ServiceError(Internal) where KairosDB fails a query with a 500 (rate over equal
 * timestamps, NaN results, percentile outside [0, 1], too many points); engine errors propagate.
 */
export function runKairosQuery(engine: Engine, query: KairosQuery, options: KairosRunOptions | SaveAsSink = {}): string {
  if (typeof options === 'function') options = { saveAs: options };
  const results = query.metrics.map((metric) => executeKairosMetric(engine, metric, query.nowMs, options));
  return encodeKairosQueryResponse(results);
}

/** One metric query → its result model (exported for tests and benches). */
export function executeKairosMetric(engine: Engine, metric: KairosMetricQuery, nowMs: number, options: KairosRunOptions = {}): MetricResult {
  const maxPoints = options.maxResultPoints ?? DEFAULT_MAX_RESULT_POINTS;
  const series = engine.scan(selectSeries(engine, metric), metric.startMs, metric.endMs);
  let sampleSize = 0;
  for (const s of series) sampleSize += s.length;

  const tagGroupBy = metric.groupBy.find((g) => g.kind === 'tag');
  const others = metric.groupBy.filter((g) => g.kind !== 'tag');
  let groups: WorkGroup[];
  if (series.length === 0) {
    // KairosDB 1.3's empty-match placeholder: name, no group_by, no tags, no values.
    groups = [{ name: metric.name, tags: new Map(), groupBy: [], points: new Points(1), type: 'number' }];
  } else {
    groups = groupByTypeAndTag(splitByType(series), tagGroupBy?.tags, metric.order);
  }
  groups = applyGroupBys(groups, others);

  const collector = metric.aggregators.some((a) => a.name === 'save_as') ? new SaveAsBatchCollector() : undefined;
  const out: ResultGroup[] = [];
  let total = 0;
  for (const group of groups) {
    let points = group.points;
    if (metric.limit > 0 && points.length > metric.limit) points = limited(points, metric.limit);
    let type = group.type;
    const saveAsGroup: SaveAsGroup = { name: group.name, tags: group.tags };
    for (const spec of metric.aggregators) {
      if (!canAggregate(spec, type)) continue;
      points = aggregate(spec, points, { nowMs, maxPoints, saveAs: collector, group: saveAsGroup });
      type = aggregatedGroupType(spec, type);
    }
    total += points.length;
    if (total > maxPoints) throw tooMany(maxPoints);
    const tags: TagTable | undefined = metric.excludeTags ? undefined : tagTable(withoutReservedKeys(group.tags));
    const base = { name: group.name, groupBy: group.groupBy, tags, points };
    out.push(metric.alias === undefined ? base : { ...base, alias: metric.alias });
  }
  if (collector !== undefined && collector.length > 0) {
    if (options.saveAs === undefined) throw new ServiceError(ServiceErrorCode.Internal, 'save_as needs a write path; none was given');
    options.saveAs(collector.toBatch());
  }
  return { sampleSize, groups: out };
}

/**
 * `/query/tags`: per metric query, the union of the tags of the series that match its name and
 * tag filter, sorted, as KairosDB's response (values always empty). Series are taken from the
 * catalog whatever the time range (KairosDB is similarly broader than the range; issue #425).
 * Rollup and pre-aggregate series count only when selected explicitly (selectSeries), and
 * Strata's reserved tag keys are never listed, as in tagnames.
 */
export function runKairosTagsQuery(engine: Engine, query: KairosQuery): string {
  const results: TagsResult[] = query.metrics.map((metric) => {
    const tags = new Map<string, Set<string>>();
    for (const id of selectSeries(engine, metric)) {
      const key = engine.catalog.key(id as SeriesId);
      for (const k of Object.keys(key.tags)) {
        if (isReservedTagKey(k)) continue;
        let values = tags.get(k);
        if (values === undefined) tags.set(k, (values = new Set()));
        values.add(key.tags[k]!);
      }
    }
    return { name: metric.name, tags: tagTable(tags) };
  });
  return encodeKairosTagsResponse(results);
}

/**
 * `POST /api/v1/datapoints/delete`: deletes, per metric query, the points of the matching series
 * in [startMs, endMs] (end unset → the end of time). Group-bys and aggregators are ignored, as in
 * KairosDB. Durable when it returns (Engine.delete).
 */
export function runKairosDelete(engine: Engine, query: KairosQuery): void {
  for (const metric of query.metrics) {
    const selector: SeriesSelector = Object.keys(metric.tags).length > 0 ? { metric: metric.name, tags: metric.tags } : { metric: metric.name };
    engine.delete(selector, metric.startMs, metric.endMs);
  }
}

/** `DELETE /api/v1/metric/{name}` (name already URL-decoded): every point of every series of it. */
export function runKairosMetricDelete(engine: Engine, metricName: string): void {
  engine.delete({ metric: metricName }, MIN_TIMESTAMP_MS, MAX_TIMESTAMP_MS);
}

/** `GET /api/v1/metricnames[?prefix=]` → `{"results":[...]}`, sorted, prefix = startsWith. */
export function kairosMetricNames(engine: Engine, prefix?: string): string {
  engine.refresh();
  return encodeKairosNames(engine.catalog.metricNames(prefix ?? ''));
}

/** `GET /api/v1/tagnames` → every tag key, sorted (Strata's reserved keys hidden). */
export function kairosTagNames(engine: Engine): string {
  engine.refresh();
  return encodeKairosNames(visibleTagKeys(engine.catalog));
}

/**
 * `GET /api/v1/tagvalues[?name=k]` → the values of tag `name`, or every tag value of every key
 * when no name is given (KairosDB 1.2's form), sorted and unique; Strata's reserved keys and
 * their values are hidden.
 */
export function kairosTagValues(engine: Engine, name?: string): string {
  engine.refresh();
  return encodeKairosNames(visibleTagValues(engine.catalog, name));
}

// ---------------------------------------------------------------------------------------------

/**
 * The series a metric query reads: those matching its name and tag filter, except OpenTSDB rollups
 * and pre-aggregates (series carrying a reserved tag key): they never mix into raw series
 * (protocols.md §7) unless the tag filter names the reserved key, which selects them explicitly.
 * Metrics without rollups (the common case) cost one catalog lookup.
 */
function selectSeries(engine: Engine, metric: KairosMetricQuery): Uint32Array {
  const ids = engine.select(matcherOf(metric));
  if (engine.catalog.tagValues(ROLLUP_TAG_KEY, metric.name).length === 0) return ids;
  if (Object.keys(metric.tags).some(isReservedTagKey)) return ids;
  return ids.filter((id) => !Object.keys(engine.catalog.key(id as SeriesId).tags).some(isReservedTagKey));
}

/** `tags` without Strata's reserved keys (the same map when it has none). */
function withoutReservedKeys(tags: ReadonlyMap<string, ReadonlySet<string>>): ReadonlyMap<string, ReadonlySet<string>> {
  if (![...tags.keys()].some(isReservedTagKey)) return tags;
  return new Map([...tags].filter(([k]) => !isReservedTagKey(k)));
}

function matcherOf(metric: KairosMetricQuery): SeriesMatcher {
  return Object.keys(metric.tags).length > 0 ? { metric: metric.name, tags: metric.tags } : { metric: metric.name };
}

function limited(points: Points, limit: number): Points {
  const out = new Points(limit);
  for (let i = 0; i < limit; i++) out.pushFrom(points, i);
  return out;
}

function tooMany(maxPoints: number): ServiceError {
  return new ServiceError(ServiceErrorCode.Internal, `query result exceeds ${maxPoints} data points`);
}

/**
 * Collects save_as output into one WriteBatch: series = the save_as metric name with its tags,
 * "saved_from" = the source metric (unless add_saved_from is false) and the single-valued tags of
 * the tag group-by; point kinds kept; null points (from gaps) skipped.
 */
class SaveAsBatchCollector implements SaveAsCollector {
  private readonly series: SeriesKey[] = [];
  private readonly seriesIds = new Map<string, number>();
  private readonly ttl: number[] = [];
  private readonly seriesIndex: number[] = [];
  private readonly ts: number[] = [];
  private readonly kinds: number[] = [];
  private readonly floats: number[] = [];
  private readonly ints: bigint[] = [];
  private readonly texts: (string | undefined)[] = [];

  get length(): number {
    return this.ts.length;
  }

  add(spec: Extract<AggregatorSpec, { name: 'save_as' }>, group: SaveAsGroup, points: Points): void {
    const tags: Record<string, string> = { ...spec.tags };
    if (spec.addSavedFrom) tags['saved_from'] = group.name;
    for (const k of spec.tagsToKeep) {
      const values = group.tags.get(k);
      if (values !== undefined && values.size === 1) tags[k] = values.values().next().value!;
    }
    const identity = JSON.stringify([spec.metricName, Object.entries(tags).sort(), spec.ttlSeconds]);
    let s = this.seriesIds.get(identity);
    if (s === undefined) {
      s = this.series.length;
      this.seriesIds.set(identity, s);
      this.series.push({ metric: spec.metricName, tags });
      this.ttl.push(spec.ttlSeconds);
    }
    for (let i = 0; i < points.length; i++) {
      const kind = points.kind[i]!;
      if (kind === PointKind.Null) continue;
      this.seriesIndex.push(s);
      this.ts.push(points.ts[i]!);
      this.floats.push(kind === PointKind.Double ? points.num[i]! : 0);
      this.ints.push(kind === PointKind.Long ? points.longValue(i) : 0n);
      this.texts.push(kind === PointKind.Text || kind === PointKind.Json ? points.text![i] : undefined);
      this.kinds.push(
        kind === PointKind.Double ? ValueKind.Float64 : kind === PointKind.Long ? ValueKind.Int64 : kind === PointKind.Text ? ValueKind.String : ValueKind.Json,
      );
    }
  }

  toBatch(): WriteBatch {
    const batch: WriteBatch = {
      length: this.ts.length,
      series: this.series,
      seriesIndex: Uint32Array.from(this.seriesIndex),
      timestampsMs: Float64Array.from(this.ts),
      kinds: Uint8Array.from(this.kinds),
      floats: Float64Array.from(this.floats),
      ints: BigInt64Array.from(this.ints),
      texts: this.texts,
    };
    return this.ttl.some((t) => t > 0) ? { ...batch, ttlSeconds: Uint32Array.from(this.ttl) } : batch;
  }
}
