// Where Strata's /api/query differs from OpenTSDB 2.4 or picks among its choices. Each entry is
// listed word for word in docs/api/opentsdb-query.md (a test keeps them in step). Data only.

/** Every place where Strata's /api/query differs from OpenTSDB 2.4 or makes a choice OpenTSDB leaves open. */
export const OPENTSDB_QUERY_DECISIONS = [
  // Requests.
  'Deletes are never performed: DELETE, and a POST body with "delete": true, answer 400 "Bad request" with details "Deleting data is not enabled (tsd.http.query.allow_delete=false)" — OpenTSDB\'s answer to DELETE with its default configuration (OpenTSDB 2.4 does delete on a POST with "delete": true; Strata refuses).',
  'Methods other than GET, POST and DELETE get 405 "Method not allowed" with details "The HTTP method [X] is not permitted for this endpoint".',
  'A POST body without "queries" (or with "queries": null) is 400 "Missing queries" (OpenTSDB: 500 from a NullPointerException).',
  'Jackson binding failures (wrong JSON types, JSON syntax errors, invalid filters in "filters" or "tags") are 400 "Unable to parse the given JSON" with Strata\'s own description as details, not Jackson\'s exception text.',
  'POST accepts "ms" as well as "msResolution" (OpenTSDB\'s JSON binding knows only "msResolution"; "ms" is its query-string name).',
  'Validation errors carry no "details" (OpenTSDB puts TSQuery.toString() there); the envelope never has "trace".',
  'GET syntax errors that escape OpenTSDB\'s parser as IllegalArgumentException (for example "Missing \'}\' at the end of: …", "When parsing tag \'x\': invalid tag: x", "Metric cannot be null or empty") are 400 here; OpenTSDB answers them with 500. An empty ":"-part of m= stays a 500 "String index out of range: 0", as in OpenTSDB.',
  'The end time may equal the start time (OpenTSDB 2.4.1 / master: "End time [e] must be greater than or equal to the start time [s]"; 2.3 and 2.4.0 required end > start).',
  'Absolute dates without "timezone" are read in UTC (OpenTSDB uses the JVM\'s default zone). With "timezone" they are read in that IANA zone; bare offsets such as "+05:30" are not zone ids, as in Java. Parsing is lenient like SimpleDateFormat (fields roll over; text after the pattern is ignored).',
  'Timestamps are always milliseconds inside the engine; OpenTSDB treats query times below 2^32 ms (before February 1970) as seconds in places. Such times are not supported by OpenTSDB either.',
  'A TSUID is the upper-case hex of the UTF-8 canonical series key (metric{k=v,…}, keys sorted, \\ { } , = escaped with a backslash), as /api/search/lookup prints it, not 3-byte UIDs; hex digits are case-insensitive. A TSUID sub-query reads exactly the named series (rollups and pre-aggregates of them too, as for a metric); metric, tags, filters and explicitTags given beside "tsuids" are ignored and there is no group-by. TSUIDs that are hex but name no stored series match nothing (200, as OpenTSDB answers a TSUID without data).',
  'Malformed TSUIDs are 400 with the messages of OpenTSDB\'s hex conversion: "UID was empty", "contains illegal character for hexBinary: <tsuid>", and "hexBinary needs to be even-length: <tsuid>" (OpenTSDB pads an odd-length tag part with a leading 0 instead, and answers TSUIDs shorter than 6 characters with 500 "String index out of range: 6"). They are checked before the metrics are compared.',
  'TSUIDs of different metrics in one sub-query are 400 "One or more TSUIDs did not share the same metric [A] [B]", A and B the hex of the two metric names; OpenTSDB answers 500 (the IllegalArgumentException escapes its query handler).',
  '"percentiles" sub-queries read histograms, which Strata does not store: they return no results, as OpenTSDB does for a metric without histogram data. show-histogram-buckets is ignored.',
  'showTSUIDs / show_tsuids add "tsuids" (the sorted TSUIDs of the group\'s series, for metric and TSUID sub-queries alike; a rollup\'s TSUID is its raw series\' one, as in OpenTSDB). showStats / show_stats and showSummary / show_summary are accepted and ignored: no "stats" or trailing "statsSummary" object is written. Annotations are not stored, so "annotations" and "globalAnnotations" never appear (OpenTSDB omits them too when there are none).',
  'Duplicate sub-queries are dropped as OpenTSDB\'s LinkedHashSet does (same aggregator, metric, downsample, rate, rate options, filters ignoring group-by, explicitTags, percentiles, rollupUsage, preAggregate).',
  // Names and selection.
  'Name checks follow OpenTSDB\'s UID lookups: an unknown metric is 400 "No such name for \'metrics\': \'m\'", an unknown filter tag key "No such name for \'tagk\': \'k\'", and a literal_or value "No such name for \'tagv\': \'v\'". A metric or key is known when some stored series has it; a tag value is checked among the values of that tag key only (OpenTSDB\'s tag value UIDs are global, so there a value known under another key resolves and simply matches nothing).',
  'Every filtered tag key must be present on a series, for the not_ filters too (OpenTSDB\'s row key regex requires each filtered key). Filters on the same key are ANDed, as documented (OpenTSDB\'s row key regex actually ORs the values of two literal_or filters on one key).',
  'The wildcard filter reproduces OpenTSDB\'s matching (anchored only at a side without \'*\', components searched with a cursor that advances by component length), but iwildcard and the "*" shortcuts also lower-case the value, as documented (OpenTSDB lower-cases only the pattern).',
  'regexp filters use JavaScript regular expressions (unicode mode) with find semantics; Java-only syntax (possessive quantifiers, \\p{javaLowerCase}, …) is refused with the JavaScript error message.',
  'String and JSON values (KairosDB text points) are skipped: OpenTSDB series are numeric.',
  'When "tags" and "filters" are both given, the one that comes later in the body wins (what Jackson\'s setter order does in OpenTSDB, where the documentation calls it indeterminate).',
  // Aggregation.
  'Series within a group are aggregated in tag-set order and groups are returned sorted by their group-by values; OpenTSDB orders both by UID bytes (creation order). Only first, last, diff and mult depend on the series order.',
  '"aggregateTags" are sorted by name (OpenTSDB: hash order of UIDs). "tags" keep Java\'s HashMap order, as in OpenTSDB.',
  'A series whose first (filled) downsampling bucket precedes the scan start is kept with its later buckets; OpenTSDB drops the whole series ("No DP in range", issue #1216).',
  'Non-finite aggregation results are printed as "Infinity" / "-Infinity" strings; OpenTSDB fails the query ("Got Infinity").',
  'Without msResolution, timestamps are divided by 1000 and points in the same second all appear (duplicate "dps" keys, as OpenTSDB 2.4 writes them; 2.0 downsampled them to one per second).',
  'Calendar downsampling ("c" suffix or "useCalendar") uses the "timezone" of the query (UTC by default) and weeks starting on Sunday; with a fill policy, filled buckets follow the calendar too (OpenTSDB fills on fixed-length epoch buckets there). Intervals of three weeks or more are anchored at the Sunday on or before January 1st.',
  'The ep…r3 / ep…r7 percentile aggregators use their estimation only on integer data; on doubles they use commons-math\'s default, exactly as OpenTSDB 2.4 does.',
  // Rollups.
  'Rollups: with a downsampler and rollupUsage other than ROLLUP_RAW, Strata reads stored rollups ("strata:rollup" = "<interval>:<function>") of the downsampling function (avg: sum and count, divided per bucket; count is summed) whose interval divides the downsampling interval, the largest first. ROLLUP_NOFALLBACK (the default, also for unknown values) reads only the best interval; ROLLUP_FALLBACK tries the next intervals and then raw data when one has no data; ROLLUP_FALLBACK_RAW falls back to raw data. Without such a rollup, raw data is read. There is no rollup configuration: any interval that was written is available.',
  'Pre-aggregates are read instead of raw data when "preAggregate" (m=…:pre-agg:…) is set or a literal_or filter on "_aggregate" is not "RAW", as OpenTSDB routes to its pre-aggregate table; rollups of raw data are those without "_aggregate".',
  'The reserved tag "strata:rollup" never appears in "tags" or "aggregateTags" and cannot be filtered on (it is not a known tag key).',
  // Limits.
  'A query that would produce or print more than maxResultPoints points (default 20,000,000) is 413 "Sorry, you have attempted to fetch more than our limit of N data points. Please try filtering using more tags or decrease your time range." (OpenTSDB\'s tsd.query.limits.data_points message; OpenTSDB has no limit by default).',
] as const;
