// String codec (engine/codec/strings.ts, docs/format/codecs.md §Strings): dictionary round trips
// over index slices (unicode, empty strings, JSON text), TypeError on missing values, RangeError
// on truncated or corrupt columns.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ByteReader, ByteWriter } from '../../../engine/codec/bytes.js';
import { StringEncoding, decodeStrings, encodeStrings } from '../../../engine/codec/strings.js';

function encode(values: readonly (string | undefined)[], indices: Uint32Array | readonly number[], start = 0, end = indices.length): Uint8Array {
  const w = new ByteWriter(16);
  encodeStrings(w, values, indices, start, end);
  return w.bytes().slice();
}

function roundTrip(values: readonly (string | undefined)[], indices: Uint32Array | readonly number[], start = 0, end = indices.length): Uint8Array {
  const w = new ByteWriter(16);
  w.u8(0xee);
  encodeStrings(w, values, indices, start, end);
  w.u8(0xdd);
  const bytes = w.bytes().slice();
  const r = new ByteReader(bytes, 1);
  const out: (string | undefined)[] = ['keep'];
  decodeStrings(r, end - start, out, 1);
  expect(r.u8()).toBe(0xdd);
  expect(out[0]).toBe('keep');
  const expected = Array.from(indices).slice(start, end).map((i) => values[i]);
  expect(out.slice(1)).toEqual(expected);
  return bytes.subarray(1, bytes.length - 1);
}

const UNICODE = ['', 'a', 'é', 'ß', '日本語', '😀', 'a\u0000b', '\u{10FFFF}', 'cpu.user', '{"k":[1,2,{"x":"ÿ"}]}', 'x'.repeat(300)];

describe('strings', () => {
  it('round-trips any index slice over any well-formed strings', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.string({ unit: 'binary' }), fc.constantFrom(...UNICODE)), { minLength: 1, maxLength: 20 }),
        fc.array(fc.nat(), { maxLength: 60 }),
        fc.nat(),
        fc.nat(),
        fc.boolean(),
        (values, picks, a, b, typed) => {
          const list = picks.map((p) => p % values.length);
          const indices = typed ? Uint32Array.from(list) : list;
          const start = a % (list.length + 1);
          const end = start + (b % (list.length - start + 1));
          roundTrip(values, indices, start, end);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('handles unicode, the empty string, the empty slice and one value', () => {
    const idx = UNICODE.map((_, i) => i);
    roundTrip(UNICODE, idx);
    roundTrip(UNICODE, [0]);
    roundTrip(UNICODE, [5, 5, 5]);
    expect(roundTrip(UNICODE, idx, 4, 4)).toEqual(new Uint8Array([StringEncoding.Dictionary, 0]));
  });

  it('stores each distinct string once, in first-use order, then one index per value', () => {
    expect(Array.from(encode(['a', 'b', ''], [0, 1, 0, 2]))).toEqual([0x00, 0x03, 0x01, 0x61, 0x01, 0x62, 0x00, 0x00, 0x01, 0x00, 0x02]);
    const repeated = encode(['host-1', 'host-2'], Array.from({ length: 1000 }, (_, i) => i % 2));
    expect(repeated.length).toBe(1 + 1 + 7 + 7 + 1000);
  });

  it('throws TypeError for undefined or out-of-range values, writing nothing', () => {
    const w = new ByteWriter();
    expect(() => encodeStrings(w, ['a', undefined], [0, 1], 0, 2)).toThrow(TypeError);
    expect(() => encodeStrings(w, ['a'], [0, 3], 0, 2)).toThrow(TypeError);
    expect(w.length).toBe(0);
    encodeStrings(w, ['a', undefined], [0, 1], 0, 1); // the undefined one is outside the slice
    expect(() => encodeStrings(w, ['a'], [0], 0, 2)).toThrow(RangeError);
  });

  it('stores a lone surrogate as U+FFFD (UTF-8 cannot hold it)', () => {
    const out: (string | undefined)[] = [];
    decodeStrings(new ByteReader(encode(['a\ud800b'], [0])), 1, out, 0);
    expect(out).toEqual(['a\ufffdb']);
  });

  it('throws on every truncation and on corrupt dictionaries or indices', () => {
    const bytes = encode(UNICODE, [3, 1, 4, 1, 5, 9, 2, 6]);
    for (let cut = 0; cut < bytes.length; cut++) {
      const backing = new Uint8Array(bytes.length + 16).fill(0x01);
      backing.set(bytes);
      expect(() => decodeStrings(new ByteReader(backing, 0, cut), 8, [], 0)).toThrow(RangeError);
    }
    const decode = (b: number[], count: number): void => decodeStrings(new ByteReader(Uint8Array.from(b)), count, [], 0);
    expect(() => decode([1, 0], 0)).toThrow(/unknown string encoding/);
    expect(() => decode([0, 1, 1, 0x61, 1], 1)).toThrow(/outside a dictionary/);
    expect(() => decode([0, 2, 1, 0x61, 1, 0x62, 0], 1)).toThrow(/dictionary of 2 entries/); // more entries than values
    expect(() => decode([0, 0xff, 0xff, 0x03], 100_000)).toThrow(RangeError); // count larger than the bytes
    expect(() => decode([0, 1, 1, 0xff, 0], 1)).toThrow(TypeError); // invalid UTF-8
  });
});
