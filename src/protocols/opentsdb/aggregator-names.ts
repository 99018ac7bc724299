// The aggregator names OpenTSDB 2.4 knows (Aggregators.set(), protocols.md §2.4), in one place:
// /api/aggregators lists them, /api/rollup checks group-by functions against them, and the
// /api/query engine resolves its `aggregator` and downsample functions among them. Pure data.

/**
 * Every OpenTSDB 2.4 aggregator name, spelled as OpenTSDB's map keys it (case matters:
 * "squareSum"), in the order of the 2.4 documentation. Distinct.
 */
export const OPENTSDB_AGGREGATOR_NAMES = [
  'sum',
  'min',
  'max',
  'avg',
  'none',
  'median',
  'mult',
  'dev',
  'diff',
  'count',
  'zimsum',
  'mimmin',
  'mimmax',
  'first',
  'last',
  'pfsum',
  'squareSum',
  'p50',
  'p75',
  'p90',
  'p95',
  'p99',
  'p999',
  'ep50r3',
  'ep75r3',
  'ep90r3',
  'ep95r3',
  'ep99r3',
  'ep999r3',
  'ep50r7',
  'ep75r7',
  'ep90r7',
  'ep95r7',
  'ep99r7',
  'ep999r7',
] as const;

/** One of OPENTSDB_AGGREGATOR_NAMES. */
export type OpenTsdbAggregatorName = (typeof OPENTSDB_AGGREGATOR_NAMES)[number];
