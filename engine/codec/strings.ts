// String column codec (docs/format/codecs.md §Strings): a dictionary of distinct strings, then
// one varuint index per value. Used for string values and for JSON text.
import type { ByteReader, ByteWriter } from './bytes.js';

export const StringEncoding = { Dictionary: 0 } as const;

/**
 * Appends values[indices[i]] for i in [start, end): encoding byte, varuint distinct count, the
 * distinct strings in first-use order (varuint byte length + UTF-8), then a varuint index each.
 * Throws TypeError if a referenced value is not a string.
 */
export function encodeStrings(
  w: ByteWriter,
  values: readonly (string | undefined)[],
  indices: Uint32Array | readonly number[],
  start: number,
  end: number,
): void {
  const dict = new Map<string, number>();
  const order: string[] = [];
  const ids = new Uint32Array(end - start);
  for (let i = start; i < end; i++) {
    const v = values[indices[i]!];
    if (typeof v !== 'string') throw new TypeError(`string column value ${indices[i]} is not a string`);
    let id = dict.get(v);
    if (id === undefined) {
      id = order.length;
      dict.set(v, id);
      order.push(v);
    }
    ids[i - start] = id;
  }
  w.u8(StringEncoding.Dictionary);
  w.varuint(order.length);
  for (const s of order) w.string(s);
  for (const id of ids) w.varuint(id);
}

export function decodeStrings(r: ByteReader, count: number, out: (string | undefined)[], outStart: number): void {
  const encoding = r.u8();
  if (encoding !== StringEncoding.Dictionary) throw new RangeError(`unknown string encoding ${encoding}`);
  const n = r.varuint();
  if (n > r.remaining) throw new RangeError(`dictionary of ${n} strings cannot fit in ${r.remaining} bytes`);
  const dict: string[] = [];
  for (let i = 0; i < n; i++) dict.push(r.string());
  for (let i = 0; i < count; i++) {
    const id = r.varuint();
    if (id >= n) throw new RangeError(`string index ${id} outside a dictionary of ${n}`);
    out[outStart + i] = dict[id];
  }
}
