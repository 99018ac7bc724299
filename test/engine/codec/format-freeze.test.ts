// Format freeze for the column codecs (docs/format/codecs.md): the encoding byte values and the
// exact bytes of the doc's worked examples. If this fails, the on-disk format changed: bump the
// version in docs/format/codecs.md and keep a reader for the old bytes.
import { describe, expect, it } from 'vitest';
import { ByteReader, ByteWriter } from '../../../engine/codec/bytes.js';
import { FloatEncoding, decodeFloats, encodeFloats } from '../../../engine/codec/floats.js';
import { IntEncoding, decodeInts, encodeInts } from '../../../engine/codec/ints.js';
import { StringEncoding, decodeStrings, encodeStrings } from '../../../engine/codec/strings.js';
import { TimestampEncoding, decodeTimestamps, encodeTimestamps } from '../../../engine/codec/timestamps.js';

function hex(write: (w: ByteWriter) => void): string {
  const w = new ByteWriter(16);
  write(w);
  return Buffer.from(w.bytes()).toString('hex');
}

function reader(hexBytes: string): ByteReader {
  return new ByteReader(Uint8Array.from(Buffer.from(hexBytes, 'hex')));
}

describe('codec format freeze (docs/format/codecs.md)', () => {
  it('pins the encoding byte values', () => {
    expect(TimestampEncoding).toEqual({ Raw: 0, DeltaOfDelta: 1 });
    expect(FloatEncoding).toEqual({ Raw: 0, Gorilla: 1, DecimalScaled: 2, DecimalPacked: 3 });
    expect(IntEncoding).toEqual({ Raw: 0, DeltaZigzag: 1 });
    expect(StringEncoding).toEqual({ Dictionary: 0 });
  });

  it('timestamps: the worked examples', () => {
    const ts = new Float64Array([1000, 2000, 3000, 3500]);
    expect(hex((w) => encodeTimestamps(w, ts, 0, 4))).toBe('01d00fd00f00e707');
    expect(hex((w) => encodeTimestamps(w, new Float64Array([-2, 1]), 0, 2, TimestampEncoding.Raw))).toBe('00feffffffffffffff0100000000000000');
    const out = new Float64Array(4);
    decodeTimestamps(reader('01d00fd00f00e707'), 4, out, 0);
    expect(Array.from(out)).toEqual([1000, 2000, 3000, 3500]);
  });

  it('floats: the worked examples', () => {
    expect(hex((w) => encodeFloats(w, new Float64Array([1.5, -0]), 0, 2, 'fast'))).toBe('00000000000000f83f0000000000000080');
    const a = 0.1 + 0.2; // 0x3FD3333333333334
    const gorilla = '01133fd33333333333347f800000000f00000001c0';
    expect(hex((w) => encodeFloats(w, new Float64Array([a, a, 0.3, a]), 0, 4, 'dense'))).toBe(gorilla);
    const decimal = '020201ac02960100';
    expect(hex((w) => encodeFloats(w, new Float64Array([1.5, 2.25, 3]), 0, 3, 'dense'))).toBe(decimal);
    const g = new Float64Array(4);
    decodeFloats(reader(gorilla), 4, g, 0);
    expect(Array.from(g)).toEqual([a, a, 0.3, a]);
    const d = new Float64Array(3);
    decodeFloats(reader(decimal), 3, d, 0);
    expect(Array.from(d)).toEqual([1.5, 2.25, 3]);
    // The same column with the v1 codecs: DecimalPacked would be no smaller, and ties keep v1's bytes.
    expect(hex((w) => encodeFloats(w, new Float64Array([1.5, 2.25, 3]), 0, 3, 'dense', 1))).toBe(decimal);
  });

  it('floats DecimalPacked: the worked example (codecs version 2)', () => {
    const values = [0.5, 1.2, 0.9, 2, 1.1, 1.5, 0.3, 0.8, 1.6];
    const packed = '0301000a05aed888ae82';
    expect(hex((w) => encodeFloats(w, Float64Array.from(values), 0, values.length, 'dense', 2))).toBe(packed);
    // A writer held to codecs version 1 writes DecimalScaled, the 12 bytes the doc compares with.
    expect(hex((w) => encodeFloats(w, Float64Array.from(values), 0, values.length, 'dense', 1))).toBe('0201000a0e05161108170a10');
    const out = new Float64Array(values.length);
    const r = reader(packed);
    decodeFloats(r, values.length, out, 0);
    expect(r.remaining).toBe(0);
    expect(Array.from(out)).toEqual(values);
  });

  it('ints: the worked examples', () => {
    const values = new BigInt64Array([-1n, 1n, -(2n ** 63n), 2n ** 63n - 1n]);
    expect(hex((w) => encodeInts(w, values, 0, 4, 'dense'))).toBe('010104feffffffffffffffff0101');
    expect(hex((w) => encodeInts(w, values, 0, 1, 'fast'))).toBe('00ffffffffffffffff');
    const out = new BigInt64Array(4);
    decodeInts(reader('010104feffffffffffffffff0101'), 4, out, 0);
    expect(Array.from(out)).toEqual(Array.from(values));
  });

  it('strings: the worked example', () => {
    expect(hex((w) => encodeStrings(w, ['a', 'b', ''], [0, 1, 0, 2], 0, 4))).toBe('0003016101620000010002');
    const out: (string | undefined)[] = [];
    decodeStrings(reader('0003016101620000010002'), 4, out, 0);
    expect(out).toEqual(['a', 'b', 'a', '']);
  });
});
