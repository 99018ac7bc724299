// Comparing two catalogs by everything they answer: keys by id, listings, select results.
import type { Catalog, SeriesMatcher } from '../../engine/catalog/catalog.js';
import { canonicalSeriesKey } from '../../engine/catalog/series-key.js';
import type { SeriesId, SeriesKey } from '../../engine/types.js';

/** Every answer a catalog gives about its contents, for comparing two catalogs. */
export function catalogAnswers(c: Catalog): unknown {
  const all: SeriesKey[] = [];
  for (let id = 0; id < c.size; id++) all.push(c.key(id as SeriesId));
  const metrics = c.metricNames();
  const tagKeys = c.tagKeys();
  const matchers: SeriesMatcher[] = [{}, { tagKeyPresent: tagKeys.slice(0, 2) }];
  for (const m of metrics) matchers.push({ metric: m });
  for (const k of tagKeys) {
    const values = c.tagValues(k);
    matchers.push({ tags: { [k]: values.slice(0, 1) } }, { tags: { [k]: values.slice(0, 2) }, excludeTags: { [k]: values.slice(1, 2) } });
    if (metrics[0] !== undefined) matchers.push({ metric: metrics[0], tags: { [k]: values } });
  }
  return {
    size: c.size,
    keys: all.map(canonicalSeriesKey),
    metricNames: metrics,
    tagKeys,
    tagKeysByMetric: metrics.map((m) => c.tagKeys(m)),
    tagValues: tagKeys.map((k) => [c.tagValues(k), metrics.map((m) => c.tagValues(k, m))]),
    select: matchers.map((m) => Array.from(c.select(m))),
  };
}
