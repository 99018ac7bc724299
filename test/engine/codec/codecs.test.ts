import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ByteReader, ByteWriter } from '../../../engine/codec/bytes.js';
import { FloatEncoding, decodeFloats, encodeFloats, type FloatEncodingMode } from '../../../engine/codec/floats.js';
import { IntEncoding, decodeInts, encodeInts } from '../../../engine/codec/ints.js';
import { StringEncoding, decodeStrings, encodeStrings } from '../../../engine/codec/strings.js';
import { TimestampEncoding, decodeTimestamps, encodeTimestamps } from '../../../engine/codec/timestamps.js';
import { seededRandom } from '../../helpers/batches.js';

function bytesOf(a: Float64Array | BigInt64Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

function roundTripFloats(values: Float64Array, mode: FloatEncodingMode, start = 0, end = values.length): { out: Float64Array; bytes: number; encoding: number } {
  const w = new ByteWriter(16);
  w.u8(0xee); // something before the column
  encodeFloats(w, values, start, end, mode);
  w.u8(0xdd); // and after: the decoder must consume exactly its bytes
  const r = new ByteReader(w.bytes(), 1);
  const out = new Float64Array(end - start);
  const encoding = w.bytes()[1]!;
  decodeFloats(r, end - start, out, 0);
  expect(r.u8()).toBe(0xdd);
  return { out, bytes: w.length - 2, encoding };
}

const SPECIAL_FLOATS = [0, -0, 1, -1, Number.MIN_VALUE, -Number.MIN_VALUE, Number.MAX_VALUE, Infinity, -Infinity, NaN, 2.2250738585072014e-308, 0.1, 1e21, 123.45];

describe('float codec', () => {
  it('round-trips every float64 bit pattern in every mode', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ noDefaultInfinity: false, noNaN: false }), { maxLength: 200 }), (arr) => {
        const values = Float64Array.from(arr);
        for (const mode of ['fast', 'dense'] as const) {
          expect(bytesOf(roundTripFloats(values, mode).out)).toEqual(bytesOf(values));
        }
      }),
      { numRuns: 300 },
    );
  });

  it('keeps NaN payloads, -0, infinities and subnormals bit-exact', () => {
    const values = Float64Array.from([...SPECIAL_FLOATS, ...SPECIAL_FLOATS.reverse()]);
    new DataView(values.buffer).setUint32(9 * 8, 0xdeadbeef, true); // a NaN with a payload
    for (const mode of ['fast', 'dense'] as const) expect(bytesOf(roundTripFloats(values, mode).out)).toEqual(bytesOf(values));
  });

  it('encodes a slice that does not start at 0', () => {
    const values = Float64Array.from([9, 8, 1.5, 2.5, 3.5, 7]);
    expect(Array.from(roundTripFloats(values, 'dense', 2, 5).out)).toEqual([1.5, 2.5, 3.5]);
    expect(Array.from(roundTripFloats(values, 'fast', 2, 5).out)).toEqual([1.5, 2.5, 3.5]);
  });

  it('is dense on 2-decimal devops gauges (< 1.1 bytes/value) and picks decimal scaling, bit-packed', () => {
    const rnd = seededRandom(11);
    const values = new Float64Array(8640);
    let v = 50;
    for (let i = 0; i < values.length; i++) {
      v = Math.min(100, Math.max(0, v + (rnd() - 0.5) * 2));
      values[i] = Math.round(v * 100) / 100;
    }
    const { bytes, encoding } = roundTripFloats(values, 'dense');
    expect(encoding).toBe(FloatEncoding.DecimalPacked);
    expect(bytes / values.length).toBeLessThan(1.1);
  });

  it('picks Gorilla for repeated full-precision values', () => {
    const values = new Float64Array(1000).fill(Math.PI);
    const { bytes, encoding } = roundTripFloats(values, 'dense');
    expect(encoding).toBe(FloatEncoding.Gorilla);
    expect(bytes).toBeLessThan(200);
  });

  it('throws instead of reading past the end of a truncated column', () => {
    const values = Float64Array.from([1.25, 2.5, 3.75, Math.PI, Math.E]);
    for (const mode of ['fast', 'dense'] as const) {
      const w = new ByteWriter();
      encodeFloats(w, values, 0, values.length, mode);
      const cut = w.bytes().slice(0, w.length - 1);
      expect(() => decodeFloats(new ByteReader(cut), values.length, new Float64Array(5), 0)).toThrow(RangeError);
    }
  });
});

describe('int codec', () => {
  const EXTREMES = [0n, 1n, -1n, -(2n ** 63n), 2n ** 63n - 1n, 9007199254740993n, -9007199254740993n, 2n ** 53n, 42n];

  it('round-trips the full signed 64-bit range in both modes', () => {
    fc.assert(
      fc.property(fc.array(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), { maxLength: 100 }), (arr) => {
        const values = BigInt64Array.from([...arr, ...EXTREMES]);
        for (const mode of ['fast', 'dense'] as const) {
          const w = new ByteWriter(16);
          encodeInts(w, values, 0, values.length, mode);
          const out = new BigInt64Array(values.length);
          const r = new ByteReader(w.bytes());
          decodeInts(r, values.length, out, 0);
          expect(r.remaining).toBe(0);
          expect(Array.from(out)).toEqual(Array.from(values));
        }
      }),
      { numRuns: 200 },
    );
  });

  it('stores small deltas in one byte when dense', () => {
    const values = BigInt64Array.from({ length: 1000 }, (_, i) => 1_700_000_000n + BigInt(i));
    const w = new ByteWriter();
    encodeInts(w, values, 0, values.length, 'dense');
    expect(w.length).toBeLessThan(1010);
  });
});

describe('timestamp codec', () => {
  it('round-trips unsorted, negative and zero timestamps in both encodings', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: -(2 ** 49), max: 2 ** 49 }), { maxLength: 200 }), (arr) => {
        const ts = Float64Array.from(arr);
        for (const encoding of [TimestampEncoding.Raw, TimestampEncoding.DeltaOfDelta]) {
          const w = new ByteWriter(16);
          encodeTimestamps(w, ts, 0, ts.length, encoding);
          const out = new Float64Array(ts.length);
          const r = new ByteReader(w.bytes());
          decodeTimestamps(r, ts.length, out, 0);
          expect(r.remaining).toBe(0);
          expect(Array.from(out)).toEqual(Array.from(ts));
        }
      }),
      { numRuns: 300 },
    );
  });

  it('costs one byte per point for a regular series', () => {
    const ts = Float64Array.from({ length: 8640 }, (_, i) => 1_704_067_200_000 + i * 10_000);
    const w = new ByteWriter();
    encodeTimestamps(w, ts, 0, ts.length);
    expect(w.length).toBeLessThan(8640 + 16);
  });
});

describe('string codec', () => {
  it('round-trips strings through the dictionary, including empty and non-ASCII ones', () => {
    const values = ['on', '', 'off', 'on', 'écho 😀', '{"a":1}', 'on'];
    const indices = [6, 0, 1, 2, 3, 4, 5];
    const w = new ByteWriter();
    encodeStrings(w, values, indices, 1, 7);
    const out: (string | undefined)[] = [];
    const r = new ByteReader(w.bytes());
    decodeStrings(r, 6, out, 0);
    expect(r.remaining).toBe(0);
    expect(out).toEqual(['on', '', 'off', 'on', 'écho 😀', '{"a":1}']);
  });

  it('rejects an index outside the dictionary', () => {
    const w = new ByteWriter();
    w.u8(StringEncoding.Dictionary);
    w.varuint(1);
    w.string('x');
    w.varuint(5);
    expect(() => decodeStrings(new ByteReader(w.bytes()), 1, [], 0)).toThrow(RangeError);
  });
});

describe('encoding bytes are part of the format', () => {
  it('never change', () => {
    expect(TimestampEncoding).toEqual({ Raw: 0, DeltaOfDelta: 1 });
    expect(FloatEncoding).toEqual({ Raw: 0, Gorilla: 1, DecimalScaled: 2, DecimalPacked: 3 });
    expect(IntEncoding).toEqual({ Raw: 0, DeltaZigzag: 1 });
    expect(StringEncoding).toEqual({ Dictionary: 0 });
  });
});

describe('primitives', () => {
  it('string writes varuint(UTF-8 length) + UTF-8 for any well-formed string (ASCII fast path included)', () => {
    const utf8 = new TextEncoder();
    const reference = (s: string): number[] => {
      const bytes = utf8.encode(s);
      const w = new ByteWriter(4);
      w.varuint(bytes.length);
      return [...w.bytes(), ...bytes];
    };
    // Lengths around the fast path's 127-unit bound, non-ASCII anywhere (first, last, at 127).
    const ascii = fc.string({ unit: fc.integer({ min: 0, max: 0x7f }).map((c) => String.fromCharCode(c)), maxLength: 300 });
    const any = fc.string({ unit: 'grapheme', maxLength: 200 });
    const mixed = fc.tuple(ascii, any, ascii).map(([a, b, c]) => a + b + c);
    fc.assert(
      fc.property(fc.oneof(ascii, any, mixed), (s) => {
        const w = new ByteWriter(2);
        w.u8(0xaa);
        w.string(s);
        w.u8(0xbb);
        expect([...w.bytes()]).toEqual([0xaa, ...reference(s), 0xbb]);
        const r = new ByteReader(w.bytes());
        r.u8();
        expect(r.string()).toBe(s);
      }),
    );
    for (const s of ['', 'a'.repeat(127), 'a'.repeat(128), `${'a'.repeat(126)}é`, `${'a'.repeat(127)}é`, 'é', '😀x']) {
      const w = new ByteWriter(1);
      w.string(s);
      expect([...w.bytes()]).toEqual(reference(s));
    }
  });

  it('varuint/varint round-trip up to 2^53 / 2^52', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), fc.integer({ min: -(2 ** 52), max: 2 ** 52 }), (u, s) => {
        const w = new ByteWriter(4);
        w.varuint(u);
        w.varint(s);
        w.i64n(s);
        w.string(`x${u}`);
        const r = new ByteReader(w.bytes());
        expect(r.varuint()).toBe(u);
        expect(r.varint()).toBe(s);
        expect(r.i64n()).toBe(s);
        expect(r.string()).toBe(`x${u}`);
      }),
    );
  });
});
