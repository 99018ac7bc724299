// String column codec (docs/format/codecs.md §Strings): a dictionary of the distinct strings in
// first-use order, then one varuint dictionary index per value. Used for string values and for
// JSON text. Owns one column's bytes only; never stores the value count (the block header does).
import type { ByteReader, ByteWriter } from './bytes.js';

/** Encoding byte values (docs/format/codecs.md §Encoding bytes); frozen on-disk values. */
export const StringEncoding = { Dictionary: 0 } as const;
export type StringEncoding = (typeof StringEncoding)[keyof typeof StringEncoding];

/**
 * Appends values[indices[i]] for i in [start, end) as one column: encoding byte, varuint
 * distinct count, each distinct string (varuint UTF-8 byte length + bytes), then a varuint index
 * per value. Throws TypeError, before writing anything, if a referenced value is not a string
 * (undefined, or an index outside `values`). Strings must be well-formed UTF-16: a lone
 * surrogate is stored as U+FFFD (UTF-8 cannot hold it).
 */
export function encodeStrings(
  w: ByteWriter,
  values: readonly (string | undefined)[],
  indices: Uint32Array | readonly number[],
  start: number,
  end: number,
): void {
  if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end < start || end > indices.length) {
    throw new RangeError(`slice [${start}, ${end}) is not within 0..${indices.length}`);
  }
  const ids = new Map<string, number>();
  const distinct: string[] = [];
  const valueIds = new Uint32Array(end - start);
  for (let i = start; i < end; i++) {
    const index = indices[i]!;
    const s = values[index];
    if (typeof s !== 'string') throw new TypeError(`string column value at index ${index} (slot ${i}) is not a string`);
    let id = ids.get(s);
    if (id === undefined) {
      id = distinct.length;
      ids.set(s, id);
      distinct.push(s);
    }
    valueIds[i - start] = id;
  }
  w.u8(StringEncoding.Dictionary);
  w.varuint(distinct.length);
  for (const s of distinct) w.string(s);
  for (let k = 0; k < valueIds.length; k++) w.varuint(valueIds[k]!);
}

/**
 * Reads one column of `count` strings written by encodeStrings into out[outStart, outStart +
 * count) (growing `out` as arrays do) and leaves `r` just past it. Throws RangeError on an
 * unknown encoding, a truncated column, a dictionary larger than `count` or an index outside it,
 * and TypeError on invalid UTF-8; `out` may then be partly written.
 */
export function decodeStrings(r: ByteReader, count: number, out: (string | undefined)[], outStart: number): void {
  if (!Number.isInteger(count) || !Number.isInteger(outStart) || count < 0 || outStart < 0) {
    throw new RangeError(`cannot decode ${count} values from slot ${outStart}`);
  }
  const encoding = r.u8();
  if (encoding !== StringEncoding.Dictionary) throw new RangeError(`unknown string encoding ${encoding}`);
  const distinctCount = r.varuint();
  // Each entry costs at least one byte, and an encoder never writes unused entries: both bounds
  // stop a corrupt count from allocating before the reads fail.
  if (distinctCount > count || distinctCount > r.remaining) {
    throw new RangeError(`string dictionary of ${distinctCount} entries for ${count} values and ${r.remaining} bytes`);
  }
  const dict: string[] = [];
  for (let k = 0; k < distinctCount; k++) dict.push(r.string());
  for (let i = 0; i < count; i++) {
    const id = r.varuint();
    if (id >= distinctCount) throw new RangeError(`string index ${id} outside a dictionary of ${distinctCount}`);
    out[outStart + i] = dict[id];
  }
}
