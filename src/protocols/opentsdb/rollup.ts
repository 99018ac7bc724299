// OpenTSDB `POST /api/rollup` (protocols.md §2.3, §7): rolled-up and pre-aggregated points, the
// same envelope, flags and response matrix as /api/put (render with response.ts). Each point is
// stored as its own series: see ROLLUP_TAG_KEY in datapoint.ts for how the identity is encoded.
import type { BatchSink } from '../batch-builder.js';
import { OpenTsdbBodyDecoder, type OpenTsdbDecoderOptions } from './body.js';

export {
  AGGREGATE_TAG_KEY,
  OPENTSDB_AGGREGATORS,
  PREAGGREGATE_TAG_VALUE,
  ROLLUP_TAG_KEY,
  parseRollupTagValue,
  rollupTagValue,
} from './datapoint.js';

/**
 * `POST /api/rollup` body decoder. Besides /api/put's fields each object may carry `interval` +
 * `aggregator` (a rollup), `groupByAggregator` (a pre-aggregate), or all three (a rolled-up
 * pre-aggregate); see OpenTsdbPointWriter.rollup / addAggregatePoint for the checks, in
 * OpenTSDB's order. Timestamps are seconds only. Stored series: metric + tags (+ `_aggregate` =
 * the upper-cased group-by function) + ROLLUP_TAG_KEY.
 */
export class OpenTsdbRollupDecoder extends OpenTsdbBodyDecoder {
  constructor(sink: BatchSink, options: OpenTsdbDecoderOptions = {}) {
    super(sink, options, true);
  }
}
