// OpenTSDB `POST /api/put` (protocols.md §2.2, §7): the body decoder and the list of calls Strata
// makes where OpenTSDB 2.4 leaves a choice or where Strata differs. Pure: bytes in, batches and
// results out (body.ts does the work; response.ts renders the answer, envelope.ts the errors).
import type { BatchSink } from '../batch-builder.js';
import { OpenTsdbBodyDecoder, type OpenTsdbDecoderOptions } from './body.js';

export { BodyMessage, type OpenTsdbBodyError, type OpenTsdbDecodeResult, type OpenTsdbPointError, type OpenTsdbRequestOptions, type OpenTsdbDecoderOptions } from './body.js';
export { PointMessage } from './datapoint.js';

/** Every place where OpenTSDB 2.4 leaves a choice, behaves oddly, or Strata differs (keep docs/api/opentsdb.md in step). */
export const OPENTSDB_PUT_DECISIONS = [
  // Body and binding.
  'The body is read once, streaming; OpenTSDB binds it whole with Jackson first. The results are the same: any JSON syntax or type error rejects the whole request (400 "Unable to parse the given JSON") and nothing is stored — points are staged until the body has bound.',
  'The `details` of "Unable to parse the given JSON" imitate Jackson 2.9\'s exception text (class, message, line/column, reference chain) but say "[Source: UNKNOWN; …]" instead of quoting up to 500 characters of the body, and columns count bytes, not UTF-16 units.',
  'A body of only whitespace is 400 "Missing request content" (OpenTSDB: 500 "String index out of range: 0").',
  'Bytes are always UTF-8 (OpenTSDB honours a charset in Content-Type).',
  'Jackson\'s non-numeric numbers (NaN, Infinity, +Infinity, -Infinity, +INF, -INF; OpenTSDB enables ALLOW_NON_NUMERIC_NUMBERS) are accepted as values and fail that point alone ("Unable to parse value to a number"), as in OpenTSDB.',
  'Jackson coercions are reproduced: numbers and booleans bind to string fields as their literal text ("value": 1.50 echoes "1.50"); "timestamp" takes integers, decimals (truncated; NaN is 0), numeric strings (trimmed; "" and "null" are 0) and null (0); other shapes reject the body. Numeric strings use ASCII digits only (Java also takes other Unicode digits).',
  'A `null` element of the top-level array counts as a failed point with error "Unexpected exception" and datapoint null (OpenTSDB\'s NullPointerException); `[]` is 400 "No datapoints found in content". Content after the top-level value is ignored, as Jackson does.',
  // Values, timestamps, names.
  'Values follow protocols.md §7 and OpenTSDB: text without ".", "e" or "E" is a Java long via Tags.parseLong (≤ 19 digits, sign allowed, exact int64 beyond 2^53); anything else is Double.parseDouble\'s grammar (f/d suffixes, hexadecimal floats) stored as a float64 — OpenTSDB\'s 4-byte floats are exactly representable, so reading back gives the same value.',
  'Timestamps follow TSDB.checkTimestampAndTags: ≤ 0 is "Invalid timestamp"; ≤ 4294967295 (no bit above 31) is seconds; larger is milliseconds and must be ≤ 9999999999999, else "bad timestamp=… when trying to add value=[bytes]/flags to metric=…, tags={…}" with OpenTSDB\'s value encoding.',
  'Metric and tag names are checked as Tags.validateString (a-z A-Z 0-9 - _ . /, Character.isLetter per UTF-16 unit, plus allowSpecialChars); the letter test uses Node\'s Unicode tables, newer than Java 8\'s.',
  'Unknown metrics, tag keys and tag values are always created (tsd.core.auto_create_metrics=true): "Unknown metric" is never answered.',
  'Tags are echoed and printed (messages such as "Too many tags") in java.util.HashMap iteration order, computed from String.hashCode; treeified bins (more than 24 tags with 8 colliding) are not modelled.',
  `The tag key "strata:rollup" (Strata's rollup identity) is refused on /api/put with "Invalid tag name ("strata:rollup"): illegal character: :", even when allowSpecialChars admits ':'.`,
  'A point whose metric and tags together exceed 64,512 UTF-8 bytes (the engine\'s series-key bound, less room for Strata\'s own tags) fails alone with "Metric name and tags together exceed 64512 bytes" (OpenTSDB has no bound); also on telnet put and rollup lines, which the 1,024-byte line limit keeps far below it.',
  // Response.
  'Response bodies keep Java\'s HashMap key order: {"success":S,"failed":F}, with details {"success":S,"failed":F,"errors":[{"datapoint":{…},"error":"…"}]}, with sync_timeout {"success":S,"timeouts":T,"failed":F,…}.',
  'The error envelope has no "trace" (tsd.http.show_stack_trace=false): Strata never sends a stack. Control characters U+0010–U+001F in messages get a correct \\u00xx escape (OpenTSDB writes a broken one).',
  'An invalid sync_timeout is 500 {"error":{"code":500,"message":"For input string: \\"x\\""}} after the body checks, and nothing is stored, as in OpenTSDB.',
  'sync: storage outcomes come from the route (OpenTsdbWriteOutcome); failed and timed-out writes are attributed to the last accepted points in body order ("Storage exception: …", "Write timedout"). OpenTSDB echoes timed-out writes with the wrong datapoint (it indexes all points by the index among queued ones); Strata echoes the right one.',
  'Without sync the answer never reflects storage failures (OpenTSDB answers before the writes complete).',
  'Staged points of a body larger than maxPointsPerBatch are held as copies until the body ends, so such a body costs about twice its columns in memory (bounded by the route\'s body limit).',
  // /api/rollup and the telnet rollup command.
  'Rollups are always configured (OpenTSDB\'s default tsd.rollups.enable=false refuses them): an interval is accepted when it is in rollupIntervals, or by default when it reads <positive integer><ms|s|m|h|d|w|n|y>; "No rollup or aggregations were configured" is never answered, and rollup-table limits (row spans, "Offset of N was greater than the configured intervals") do not exist.',
  'An unknown rollup interval fails the point with "Unexpected exception" over HTTP (OpenTSDB\'s NoSuchRollupForIntervalException is not an IllegalArgumentException) and "rollup: No such rollup: No rollups configured for the interval: X" on telnet, as in OpenTSDB.',
  'Rollup identity: each rollup or pre-aggregate is stored as metric + tags + the reserved tag "strata:rollup" = "<interval>:<aggregator, lower-cased>" (a rollup) or "preagg" (a pre-aggregate without interval), plus OpenTSDB\'s visible "_aggregate" = the upper-cased group-by function. Raw series never carry "strata:rollup": /api/query selects raw data by its absence and a rollup by its value. "strata:rollup" does not count against maxTags; "_aggregate" does, as in OpenTSDB.',
  'Temporal (rollup) aggregator names are not checked against a list — OpenTSDB 2.4 stores any name — except avg/dev when blockDerivedRollups (tsd.rollups.block_derived, default true); group-by names must be OpenTSDB aggregators, looked up lower-cased (so "squareSum" is refused, as in OpenTSDB).',
  'Rollups of raw data get no "_aggregate=RAW" tag (tsd.rollups.tag_raw=false, OpenTSDB\'s default). A pre-aggregate without interval keeps no temporal aggregator, as OpenTSDB\'s pre-agg table does not.',
  'Telnet "rollup -sum …" (empty interval, no group-by) answers "rollup: HBase error: Interval cannot be null for a non-group by point" and stores nothing, as OpenTSDB\'s failing write callback does.',
  'The line port splits words on runs of bytes ≤ 0x20 (OpenTSDB: single spaces, keeping empty words), so the empty-word errors of OpenTSDB\'s telnet commands ("empty metric name", "empty value", "Missing interval or aggregator") never occur there; putCommand/rollupCommand still produce them for words that are empty.',
] as const;

/**
 * `POST /api/put` body decoder (see OpenTsdbBodyDecoder for the streaming contract). Points are
 * stored as metric + tags, values as int64 (integer text) or float64, timestamps in ms.
 */
export class OpenTsdbPutDecoder extends OpenTsdbBodyDecoder {
  constructor(sink: BatchSink, options: OpenTsdbDecoderOptions = {}) {
    super(sink, options, false);
  }
}
