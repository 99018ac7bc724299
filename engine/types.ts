// The engine's data model: value kinds, series identity and the columnar batch that crosses
// from decoders into the writer. Pure types and tiny helpers; no I/O.

/**
 * Kind of one point's value. Persisted as a byte (docs/format/block.md, "kinds column"):
 * the numeric values are part of the on-disk format and never change.
 */
export const ValueKind = {
  Float64: 0,
  Int64: 1,
  String: 2,
  Json: 3,
} as const;
export type ValueKind = (typeof ValueKind)[keyof typeof ValueKind];

/** A tag set: key → value, unordered in memory; identity sorts it (see series-key.ts). */
export type Tags = Readonly<Record<string, string>>;

/** Series identity: metric + the full tag set (protocols.md §7). */
export interface SeriesKey {
  readonly metric: string;
  readonly tags: Tags;
}

/** Engine-wide series id handed out by the catalog; dense, starting at 0, never reused in a process. */
export type SeriesId = number & { readonly __brand: 'SeriesId' };

/**
 * A columnar batch of points, as decoders build it and `ShardWriter.append` consumes it.
 * Every per-point column has `length` entries at index i for point i. Value columns are sparse:
 * `floats[i]` is meaningful only when `kinds[i] === Float64`, `ints[i]` only for Int64, and
 * `texts[i]` only for String (the string) or Json (the JSON text, already validated).
 * The batch is read, not retained: the writer copies what it keeps before `append` returns.
 */
export interface WriteBatch {
  readonly length: number;
  /** Distinct series of the batch; `seriesIndex[i]` points into it. */
  readonly series: readonly SeriesKey[];
  readonly seriesIndex: Uint32Array;
  /** Milliseconds since the Unix epoch; integers, 0 and negative allowed. */
  readonly timestampsMs: Float64Array;
  readonly kinds: Uint8Array;
  readonly floats: Float64Array;
  readonly ints: BigInt64Array;
  readonly texts: readonly (string | undefined)[];
  /** Optional per-series time-to-live in seconds (KairosDB `ttl`), parallel to `series`; 0 = none. */
  readonly ttlSeconds?: Uint32Array;
  /**
   * Optional: the producer's own dense number for each entry of `series` (parallel to it; extra
   * entries are ignored), meaningful within `seriesNumbering`. A producer that numbers its series
   * (a decoder's series cache) promises that within one numbering object a number always names
   * the same metric and tag set; when it renumbers, it starts a new numbering object. The writer
   * then finds its own id for a known series with one array read instead of hashing the key.
   * Both or neither.
   */
  readonly seriesNumbers?: Uint32Array;
  readonly seriesNumbering?: object;
}
