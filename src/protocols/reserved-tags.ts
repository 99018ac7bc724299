// Tag keys Strata reserves for its own use in stored series identities (protocols.md §7, "Series
// identity"). Every protocol refuses them on ingest and every listing hides them. Pure constants;
// imports nothing.

/**
 * Marks OpenTSDB rollups and pre-aggregates (see the value format in opentsdb/datapoint.ts).
 * Never a user's tag: the put paths refuse it, KairosDB ingest refuses it, and suggest, lookup,
 * tagnames and tagvalues never show it.
 */
export const ROLLUP_TAG_KEY = 'strata:rollup';

/** Whether `key` is a tag key only Strata may write. */
export function isReservedTagKey(key: string): boolean {
  return key === ROLLUP_TAG_KEY;
}
