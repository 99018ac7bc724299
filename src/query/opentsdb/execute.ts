// Runs one validated OpenTSDB sub-query against the engine as TsdbQuery/SpanGroup do: name
// resolution errors, series selection by filters or by TSUIDs (raw series, or a rollup /
// pre-aggregate through the reserved ROLLUP_TAG_KEY), rollupUsage fallbacks, the padded scan,
// group-by, and the per-group pipeline (pipeline.ts). Returns result groups; the encoder prints
// them. Never writes.
import type { Engine, SeriesId, SeriesKey, SeriesPoints } from '../../../engine/index.js';
import { ValueKind } from '../../../engine/index.js';
import { AGGREGATE_TAG_KEY, PREAGGREGATE_TAG_VALUE, ROLLUP_TAG_KEY, parseRollupTagValue, rollupTagValue } from '../../protocols/opentsdb/datapoint.js';
import { seriesTsuid } from '../../protocols/opentsdb/lookup.js';
import { isReservedTagKey } from '../../protocols/reserved-tags.js';
import type { DownsampleSpec, OpenTsdbQuery, RateOptions, SubQuery } from '../../protocols/opentsdb/query.js';
import { DEFAULT_COUNTER_MAX } from '../../protocols/opentsdb/query.js';
import { badQuery, parseOpenTsdbDuration } from '../../protocols/opentsdb/query-time.js';
import { Points } from '../points.js';
import { openTsdbAggregator } from './aggregators.js';
import { aggregateAcrossSeries, bucketize, downsample, fillBuckets, rate, type QueryBounds } from './pipeline.js';

/** One element of the response array. */
export interface ResultGroup {
  readonly metric: string;
  /** Tags whose value no two series of the group disagree on, in first-seen order. */
  readonly tags: ReadonlyMap<string, string>;
  /** Tag keys with differing values across the group's series, sorted. */
  readonly aggregateTags: readonly string[];
  /** Aggregated points over the scan range; the encoder keeps [startMs, endMs]. */
  readonly points: Points;
  /** The sub-query as requested (echoed by showQuery). */
  readonly sub: SubQuery;
  /** The TSUIDs of the group's series, sorted; filled only when the query asks (showTSUIDs). */
  readonly tsuids: readonly string[];
}

export interface ExecuteContext {
  readonly engine: Engine;
  readonly query: OpenTsdbQuery;
  readonly maxPoints: number;
  /** Tag keys known to the catalog (OpenTSDB's tagk UID table). */
  readonly tagKeys: ReadonlySet<string>;
}

const SECOND_MS = 1000;
const HOUR_S = 3600;
/** tsd.query.filter.expansion_limit: literal_or values resolved (and checked) up to this many. */
const FILTER_EXPANSION_LIMIT = 4096;
/** The default rollup usage when the query names none or an unknown one. */
const DEFAULT_ROLLUP_USAGE = 'ROLLUP_NOFALLBACK';

/**
 * The scan range OpenTSDB reads (TsdbQuery.getScanStartTimeSeconds / getScanEndTimeSeconds):
 * whole hours, widened to the downsampling interval, in ms, end exclusive. (OpenTSDB always adds a
 * second to a millisecond end time before aligning, and so does this.)
 */
export function scanBounds(startMs: number, endMs: number, spec: DownsampleSpec | null): QueryBounds {
  const interval = spec !== null && !spec.runAll ? spec.intervalMs : 0;
  const startS = Math.floor(startMs / SECOND_MS);
  const alignedS = interval > 0 ? startS - Math.trunc(((SECOND_MS * startS) % interval) / SECOND_MS) : startS;
  const scanStartS = Math.max(0, alignedS - (alignedS % HOUR_S));
  const endS = Math.floor(endMs / SECOND_MS) + 1;
  let scanEndS: number;
  if (interval > 0) {
    const offset = (SECOND_MS * endS) % interval;
    const aligned = endS + Math.trunc((interval - offset) / SECOND_MS);
    const spanOffset = aligned % HOUR_S;
    scanEndS = spanOffset === 0 ? aligned : aligned + (HOUR_S - spanOffset);
  } else {
    scanEndS = endS + (HOUR_S - (endS % HOUR_S));
  }
  return { scanStartMs: scanStartS * SECOND_MS, scanEndMs: scanEndS * SECOND_MS, queryStartMs: startMs, queryEndMs: endMs };
}

/** Checks the names OpenTSDB resolves to UIDs first: the metric, each filter's tag key, literal values. */
export function resolveNames(ctx: ExecuteContext, sub: SubQuery): void {
  const catalog = ctx.engine.catalog;
  if (catalog.metricNames(sub.metric, 1)[0] !== sub.metric) throw badQuery(`No such name for 'metrics': '${sub.metric}'`);
  for (const f of sub.filters) {
    if (!ctx.tagKeys.has(f.tagk)) throw badQuery(`No such name for 'tagk': '${f.tagk}'`);
    if (f.type === 'literal_or' && f.literals !== undefined && f.literals.size <= FILTER_EXPANSION_LIMIT) {
      const known = new Set(catalog.tagValues(f.tagk));
      for (const v of f.literals) if (!known.has(v)) throw badQuery(`No such name for 'tagv': '${v}'`);
    }
  }
}

/** Runs one sub-query; [] when nothing matched. Throws OpenTsdbQueryError / TooManyPointsError. */
export function executeSubQuery(ctx: ExecuteContext, requested: SubQuery): ResultGroup[] {
  const selection = requested.tsuidSelection;
  let sub = requested;
  if (selection === null) {
    resolveNames(ctx, sub);
  } else {
    // TSUIDs take precedence (TsdbQuery.configureFromQuery): they alone name the series, whose
    // metric is the one they share; no names to resolve, no filters, no group-by. TSUIDs that
    // name no stored series match nothing, as OpenTSDB's row key filter does.
    if (selection.metric === null) return [];
    sub = { ...requested, metric: selection.metric, filters: [], explicitTags: false };
  }
  // Percentile queries read histogram data points, which Strata does not store (as a metric
  // without histograms in OpenTSDB: no results).
  if (sub.percentiles !== null && sub.percentiles.length > 0) return [];
  const preAggregate =
    sub.preAggregate || sub.filters.some((f) => f.type === 'literal_or' && f.tagk === AGGREGATE_TAG_KEY && f.filter !== 'RAW');
  const sources = sourcesToTry(ctx, sub);
  for (let i = 0; i < sources.length; i++) {
    const groups = runOnSource(ctx, sub, sources[i]!, preAggregate, requested);
    if (groups.length > 0 || i === sources.length - 1) return groups;
  }
  return [];
}

/** Where a sub-query reads: raw series, or the rollups of one interval. */
type Source = { readonly kind: 'raw' } | { readonly kind: 'rollup'; readonly interval: string };

const RAW: Source = { kind: 'raw' };

/**
 * The sources to try, best first (TsdbQuery.transformDownSamplerToRollupQuery and
 * FallbackRollupOnEmptyResult): with a downsampler and a rollupUsage other than ROLLUP_RAW, the
 * stored rollup intervals whose rollups have the downsampler's function (avg: sum and count) and
 * that divide the downsampling interval, largest first. ROLLUP_NOFALLBACK (default) reads the best
 * one only; ROLLUP_FALLBACK then the others and finally raw data; ROLLUP_FALLBACK_RAW then raw.
 * Without a matching rollup the raw data is read.
 */
function sourcesToTry(ctx: ExecuteContext, sub: SubQuery): Source[] {
  const spec = sub.downsampleSpec;
  const usage = sub.rollupUsage ?? DEFAULT_ROLLUP_USAGE;
  if (spec === null || spec.runAll || spec.intervalMs <= 0 || usage === 'ROLLUP_RAW') return [RAW];
  const needed = rollupFunctions(spec.aggregator);
  const byInterval = new Map<string, Set<string>>();
  for (const value of ctx.engine.catalog.tagValues(ROLLUP_TAG_KEY, sub.metric)) {
    const parsed = parseRollupTagValue(value);
    if (parsed === undefined) continue;
    let aggs = byInterval.get(parsed.interval);
    if (aggs === undefined) byInterval.set(parsed.interval, (aggs = new Set()));
    aggs.add(parsed.aggregator);
  }
  const candidates: { interval: string; ms: number }[] = [];
  for (const [interval, aggs] of byInterval) {
    if (!needed.every((a) => aggs.has(a))) continue;
    let ms: number;
    try {
      ms = parseOpenTsdbDuration(interval);
    } catch {
      continue;
    }
    if (ms <= spec.intervalMs && spec.intervalMs % ms === 0) candidates.push({ interval, ms });
  }
  candidates.sort((a, b) => b.ms - a.ms || (a.interval < b.interval ? -1 : 1));
  const rollups: Source[] = candidates.map((c) => ({ kind: 'rollup', interval: c.interval }));
  if (rollups.length === 0) return [RAW];
  switch (usage) {
    case 'ROLLUP_FALLBACK':
      return [...rollups, RAW];
    case 'ROLLUP_FALLBACK_RAW':
      return [rollups[0]!, RAW];
    default:
      return [rollups[0]!];
  }
}

/** The rollup aggregators a downsampling function reads: avg needs sum and count. */
function rollupFunctions(aggregator: string): string[] {
  const lower = aggregator.toLowerCase();
  return lower === 'avg' ? ['sum', 'count'] : [lower];
}

interface SelectedSeries {
  readonly key: SeriesKey;
  /** Tags without Strata's reserved keys (ROLLUP_TAG_KEY), as printed. */
  readonly tags: Readonly<Record<string, string>>;
  /** The rollup function for rollup series, '' for raw ones. */
  readonly rollupFunction: string;
  readonly identity: string;
}

/** `sub` is what selects and aggregates (for TSUIDs: their metric, no filters); `requested` is echoed. */
function runOnSource(ctx: ExecuteContext, sub: SubQuery, source: Source, preAggregate: boolean, requested: SubQuery): ResultGroup[] {
  const spec = sub.downsampleSpec;
  const bounds = scanBounds(ctx.query.startMs, ctx.query.endMs, spec);
  const selected = selectSeries(ctx, sub, source, preAggregate);
  if (selected.size === 0) return [];
  const scanned = ctx.engine.scan([...selected.keys()] as SeriesId[], bounds.scanStartMs, bounds.scanEndMs - 1);
  const spans: { series: SelectedSeries; points: Points }[] = [];
  for (const s of scanned) {
    const points = numericPoints(s);
    if (points.length > 0) spans.push({ series: selected.get(s.id)!, points });
  }
  if (spans.length === 0) return [];
  spans.sort((a, b) => (a.series.identity < b.series.identity ? -1 : a.series.identity > b.series.identity ? 1 : 0));

  // Rollups: counts are summed, both when downsampling and across series (OpenTSDB turns a count
  // group-by into sum on rollup data).
  const isRollup = source.kind === 'rollup';
  let aggregatorName = sub.aggregator;
  let dsSpec = spec;
  if (isRollup && spec !== null) {
    if (aggregatorName === 'count') aggregatorName = 'sum';
    if (spec.aggregator === 'count') dsSpec = { ...spec, aggregator: 'sum' };
  }
  const aggregator = openTsdbAggregator(aggregatorName)!;
  const rateOptions: RateOptions = sub.rateOptions ?? { counter: false, counterMax: DEFAULT_COUNTER_MAX, resetValue: 0n, dropResets: false };
  const zone = ctx.query.timezone ?? undefined;

  const streamOf = (points: Points, ds: DownsampleSpec | null): Points => {
    let p = ds === null ? points : downsample(points, ds, bounds, zone, ctx.maxPoints);
    if (sub.rate) p = rate(p, rateOptions);
    return p;
  };

  const out: ResultGroup[] = [];
  for (const group of groupSpans(sub, spans)) {
    const streams: Points[] = [];
    if (isRollup && dsSpec !== null && dsSpec.aggregator === 'avg') {
      // avg over rollups: Σ sums / Σ counts per bucket, paired by tag set.
      const byTags = new Map<string, { sum?: Points; count?: Points }>();
      for (const span of group) {
        const id = tagIdentity(span.series.tags);
        let pair = byTags.get(id);
        if (pair === undefined) byTags.set(id, (pair = {}));
        if (span.series.rollupFunction === 'sum') pair.sum = span.points;
        else pair.count = span.points;
      }
      for (const pair of byTags.values()) {
        if (pair.sum === undefined || pair.count === undefined) continue;
        let p = averageBuckets(pair.sum, pair.count, dsSpec, bounds, zone);
        p = fillBuckets(p, dsSpec, bounds, zone, ctx.maxPoints);
        if (sub.rate) p = rate(p, rateOptions);
        streams.push(p);
      }
      if (streams.length === 0) continue;
    } else {
      for (const span of group) streams.push(streamOf(span.points, dsSpec));
    }
    const points = aggregateAcrossSeries(streams, aggregator, sub.rate, bounds.scanStartMs, bounds.scanEndMs, ctx.maxPoints);
    const { tags, aggregateTags } = groupTags(group.map((s) => s.series.tags));
    const tsuids = ctx.query.showTsuids ? groupTsuids(sub.metric, group) : [];
    out.push({ metric: sub.metric, tags, aggregateTags, points, sub: requested, tsuids });
  }
  return out;
}

/**
 * HttpJsonSerializer's "tsuids" (SpanGroup.getTSUIDs, sorted): each series' TSUID as lookup prints
 * it, of its metric and visible tags. A rollup's TSUID is its raw series' one, as in OpenTSDB,
 * where rollup rows carry the raw row key; the sum and count rollups behind an avg appear once.
 */
function groupTsuids(metric: string, group: readonly { series: SelectedSeries }[]): string[] {
  return [...new Set(group.map((s) => seriesTsuid({ metric, tags: s.series.tags })))].sort();
}

/**
 * The stored series a TSUID sub-query's keys stand for in `source`: the key itself (raw), the key
 * marked as a pre-aggregate, or its rollups of the wanted functions at the source's interval.
 */
function tsuidCandidates(ctx: ExecuteContext, keys: readonly SeriesKey[], source: Source, preAggregate: boolean, wanted: readonly string[]): SeriesId[] {
  // The value of ROLLUP_TAG_KEY each candidate carries; undefined: none (a raw series).
  const markers: (string | undefined)[] =
    source.kind === 'rollup' ? wanted.map((fn) => rollupTagValue(source.interval, fn)) : [preAggregate ? PREAGGREGATE_TAG_VALUE : undefined];
  const ids: SeriesId[] = [];
  for (const key of keys) {
    for (const marker of markers) {
      const id = ctx.engine.catalog.lookup(marker === undefined ? key : { metric: key.metric, tags: { ...key.tags, [ROLLUP_TAG_KEY]: marker } });
      if (id !== undefined) ids.push(id);
    }
  }
  return ids;
}

/** Candidate series of `source` that every filter accepts (or that the TSUIDs name), by id. */
function selectSeries(ctx: ExecuteContext, sub: SubQuery, source: Source, preAggregate: boolean): Map<number, SelectedSeries> {
  const literalTags: Record<string, string[]> = {};
  for (const f of sub.filters) {
    if (f.type !== 'literal_or' || f.literals === undefined) continue;
    const prev = literalTags[f.tagk];
    literalTags[f.tagk] = prev === undefined ? [...f.literals] : prev.filter((v) => f.literals!.has(v));
  }
  const filterKeys = [...new Set(sub.filters.map((f) => f.tagk))];
  const wanted = source.kind === 'rollup' ? rollupFunctions(sub.downsampleSpec!.aggregator) : [''];
  const ids =
    sub.tsuidSelection !== null
      ? tsuidCandidates(ctx, sub.tsuidSelection.series, source, preAggregate, wanted)
      : ctx.engine.select({ metric: sub.metric, tags: literalTags, tagKeyPresent: filterKeys });
  const out = new Map<number, SelectedSeries>();
  for (const id of ids) {
    const key = ctx.engine.catalog.key(id as SeriesId);
    const rollupFunction = rollupFunctionOf(key, source, preAggregate, wanted);
    if (rollupFunction === undefined) continue;
    if (!sub.filters.every((f) => f.match(key.tags[f.tagk]))) continue;
    const tags: Record<string, string> = {};
    for (const k of Object.keys(key.tags)) if (!isReservedTagKey(k)) tags[k] = key.tags[k]!;
    if (sub.explicitTags) {
      const keys = Object.keys(tags);
      if (keys.length !== filterKeys.length || !filterKeys.every((k) => k in tags)) continue;
    }
    out.set(id, { key, tags, rollupFunction, identity: `${tagIdentity(tags)}\u0001${rollupFunction}` });
  }
  return out;
}

/**
 * Whether the series belongs to `source` (the rollup function it holds; '' for raw data), or
 * undefined. Raw: no ROLLUP_TAG_KEY (pre-aggregates: "preagg"). Rollups: "<interval>:<function>",
 * and for rollups of raw data no AGGREGATE_TAG_KEY (rolled-up pre-aggregates live apart).
 */
function rollupFunctionOf(key: SeriesKey, source: Source, preAggregate: boolean, wanted: readonly string[]): string | undefined {
  const value = key.tags[ROLLUP_TAG_KEY];
  if (source.kind === 'raw') {
    if (preAggregate) return value === PREAGGREGATE_TAG_VALUE ? '' : undefined;
    return value === undefined ? '' : undefined;
  }
  if (value === undefined) return undefined;
  const parsed = parseRollupTagValue(value);
  if (parsed === undefined || parsed.interval !== source.interval || !wanted.includes(parsed.aggregator)) return undefined;
  if (!preAggregate && key.tags[AGGREGATE_TAG_KEY] !== undefined) return undefined;
  return parsed.aggregator;
}

function tagIdentity(tags: Readonly<Record<string, string>>): string {
  return JSON.stringify(Object.keys(tags).sort().map((k) => [k, tags[k]]));
}

/** The numeric points of a scanned series (OpenTSDB has no string values; those are skipped). */
function numericPoints(s: SeriesPoints): Points {
  const out = new Points(s.length);
  for (let i = 0; i < s.length; i++) {
    const kind = s.kinds[i];
    if (kind === ValueKind.Float64) out.pushDouble(s.timestampsMs[i]!, s.floats[i]!);
    else if (kind === ValueKind.Int64) out.pushLong(s.timestampsMs[i]!, s.ints[i]!);
  }
  return out;
}

/**
 * TsdbQuery's GroupByAndAggregateCB: "none" keeps every series apart; no group-by filter puts
 * everything in one group; otherwise one group per combination of the group-by keys' values.
 * Groups come out sorted by those values (OpenTSDB sorts by tag value UIDs, i.e. creation order).
 */
function groupSpans<T extends { series: SelectedSeries }>(sub: SubQuery, spans: readonly T[]): T[][] {
  if (sub.aggregator === 'none') return spans.map((s) => [s]);
  const groupKeys = [...new Set(sub.filters.filter((f) => f.groupBy).map((f) => f.tagk))].sort();
  if (groupKeys.length === 0) return [[...spans]];
  const groups = new Map<string, T[]>();
  for (const span of spans) {
    const id = JSON.stringify(groupKeys.map((k) => span.series.tags[k] ?? ''));
    let g = groups.get(id);
    if (g === undefined) groups.set(id, (g = []));
    g.push(span);
  }
  return [...groups.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)).map((e) => e[1]);
}

/**
 * SpanGroup.computeTags: a key stays a tag while every series that has it agrees on its value
 * (series lacking it do not count); a key with two values becomes an aggregated tag.
 */
export function groupTags(seriesTags: readonly Readonly<Record<string, string>>[]): { tags: Map<string, string>; aggregateTags: string[] } {
  const tags = new Map<string, string>();
  const discards = new Set<string>();
  for (const t of seriesTags) {
    for (const k of Object.keys(t)) {
      if (discards.has(k)) continue;
      const v = tags.get(k);
      if (v === undefined) tags.set(k, t[k]!);
      else if (v !== t[k]) {
        discards.add(k);
        tags.delete(k);
      }
    }
  }
  return { tags, aggregateTags: [...discards].sort() };
}

/** Per bucket Σ sum / Σ count of a rollup pair (buckets where both have data). */
function averageBuckets(sums: Points, counts: Points, spec: DownsampleSpec, bounds: QueryBounds, zone: string | undefined): Points {
  const sumSpec: DownsampleSpec = { ...spec, aggregator: 'sum', fill: 'none' };
  const s = bucketize(sums, sumSpec, bounds, zone);
  const c = bucketize(counts, sumSpec, bounds, zone);
  const out = new Points(Math.max(1, s.length));
  let j = 0;
  for (let i = 0; i < s.length; i++) {
    while (j < c.length && c.ts[j]! < s.ts[i]!) j++;
    if (j < c.length && c.ts[j] === s.ts[i]) out.pushDouble(s.ts[i]!, s.num[i]! / c.num[j]!);
  }
  return out;
}
