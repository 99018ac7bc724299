// The result model of a KairosDB-style query: per metric query, the groups with their group-by
// descriptions, tags and points, in response order. Produced by src/query/kairosdb.ts, encoded
// by src/protocols/kairosdb/query-response.ts. Types only.
import type { Duration } from '../protocols/kairosdb/query.js';
import type { Points } from './points.js';

/** One entry of a result's `group_by` list, in KairosDB's order. */
export type GroupByResult =
  | { readonly name: 'type'; readonly type: string }
  | {
      readonly name: 'tag';
      /** The tag names of the group-by, in request order. */
      readonly tags: readonly string[];
      /** The group's values of those tags that its series have, in request order. */
      readonly group: readonly (readonly [string, string])[];
    }
  | { readonly name: 'time'; readonly rangeSize: Duration; readonly groupCount: number; readonly groupNumber: number }
  | { readonly name: 'value'; readonly rangeSize: number; readonly groupNumber: number }
  | { readonly name: 'bin'; readonly bins: readonly number[]; readonly binNumber: number };

/** Tag key → values; keys and values sorted (UTF-16 order, as Java's TreeMultimap). */
export type TagTable = readonly (readonly [string, readonly string[]])[];

export interface ResultGroup {
  readonly name: string;
  readonly alias?: string;
  /** Empty for the empty-match placeholder; otherwise ends with the `type` entry. */
  readonly groupBy: readonly GroupByResult[];
  /** Undefined when the query set exclude_tags. */
  readonly tags: TagTable | undefined;
  readonly points: Points;
}

export interface MetricResult {
  /** Raw points read for the metric query, before limit and aggregation. */
  readonly sampleSize: number;
  readonly groups: readonly ResultGroup[];
}

/** One entry of a /query/tags response. */
export interface TagsResult {
  readonly name: string;
  readonly tags: TagTable;
}
