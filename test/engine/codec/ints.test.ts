// Int64 codec (engine/codec/ints.ts, docs/format/codecs.md §Ints): exact round trips over the
// full signed 64-bit range in both modes (wrapping deltas, 10-byte varints), sizes, and loud
// failure on truncated or over-long varints.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ByteReader, ByteWriter } from '../../../engine/codec/bytes.js';
import type { FloatEncodingMode } from '../../../engine/codec/floats.js';
import { IntEncoding, decodeInts, encodeInts } from '../../../engine/codec/ints.js';

const MIN = -(2n ** 63n);
const MAX = 2n ** 63n - 1n;
const EXTREMES = [MIN, MAX, MIN + 1n, MAX - 1n, 0n, -1n, 1n, 9007199254740993n, -9007199254740993n, 2n ** 53n, 2n ** 32n, -(2n ** 32n), 2n ** 31n - 1n, -(2n ** 31n)];

function encode(values: BigInt64Array, mode: FloatEncodingMode, start = 0, end = values.length): Uint8Array {
  const w = new ByteWriter(16);
  encodeInts(w, values, start, end, mode);
  return w.bytes().slice();
}

function roundTrip(values: BigInt64Array, mode: FloatEncodingMode, start = 0, end = values.length): { encoding: number; payloadBytes: number } {
  const w = new ByteWriter(16);
  w.u8(0xee);
  encodeInts(w, values, start, end, mode);
  w.u8(0xdd);
  const bytes = w.bytes().slice();
  const r = new ByteReader(bytes, 1);
  const n = end - start;
  const out = new BigInt64Array(n + 2).fill(-7n);
  decodeInts(r, n, out, 1);
  expect(r.u8()).toBe(0xdd);
  expect(out[0]).toBe(-7n);
  expect(out[n + 1]).toBe(-7n);
  expect(Array.from(out.subarray(1, n + 1))).toEqual(Array.from(values.subarray(start, end)));
  return { encoding: bytes[1]!, payloadBytes: bytes.length - 3 };
}

const int64 = fc.oneof(fc.bigInt({ min: MIN, max: MAX }), fc.constantFrom(...EXTREMES), fc.bigInt({ min: -1000n, max: 1000n }));

describe('ints', () => {
  it('round-trips any slice of any int64 values in both modes', () => {
    fc.assert(
      fc.property(fc.array(int64, { maxLength: 80 }), fc.nat(), fc.nat(), (list, a, b) => {
        const values = BigInt64Array.from(list);
        const start = a % (list.length + 1);
        const end = start + (b % (list.length - start + 1));
        expect(roundTrip(values, 'fast', start, end).encoding).toBe(IntEncoding.Raw);
        roundTrip(values, 'dense', start, end);
      }),
      { numRuns: 500 },
    );
  });

  it('DeltaZigzag round-trips sequences whose deltas wrap around 2^64', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(int64, fc.integer({ min: 4, max: 20 })), { minLength: 1, maxLength: 20 }), (runs) => {
        // Runs of ≥ 4 near-equal values (≤ 10 + 3 bytes per run vs ≥ 32 raw) keep DeltaZigzag
        // smaller than Raw, so it is the encoding under test while run boundaries wrap freely.
        const list: bigint[] = [];
        for (const [v, copies] of runs) for (let k = 0; k < copies; k++) list.push(BigInt.asIntN(64, v + BigInt(k % 3)));
        const values = BigInt64Array.from([...list, ...list, ...list]);
        const { encoding } = roundTrip(values, 'dense');
        expect(encoding).toBe(IntEncoding.DeltaZigzag);
      }),
      { numRuns: 300 },
    );
  });

  it('handles extremes, the empty slice and one value', () => {
    const values = BigInt64Array.from(EXTREMES);
    for (const mode of ['fast', 'dense'] as const) {
      roundTrip(values, mode);
      expect(encode(values, mode, 3, 3)).toEqual(new Uint8Array([IntEncoding.Raw]));
      for (let i = 0; i < values.length; i++) roundTrip(values, mode, i, i + 1);
    }
    // MIN → MAX is a delta of -1 (mod 2^64); MAX → MIN is +1.
    const swing = BigInt64Array.from([MIN, MAX, MIN, MAX, MIN]);
    const bytes = encode(swing, 'dense');
    expect(bytes[0]).toBe(IntEncoding.DeltaZigzag);
    expect(Array.from(bytes.subarray(11))).toEqual([0x01, 0x02, 0x01, 0x02]);
    roundTrip(swing, 'dense');
  });

  it('stores counters in about one byte per value and falls back to Raw when varints would be larger', () => {
    const counter = BigInt64Array.from({ length: 1000 }, (_, i) => 1_000_000_000_000n + BigInt(i * 7));
    const small = roundTrip(counter, 'dense');
    expect(small.encoding).toBe(IntEncoding.DeltaZigzag);
    expect(small.payloadBytes).toBe(6 + 999); // zig-zag 2e12 ≈ 2^40.9: 6 bytes, then 14 per delta: 1 byte
    // Random 64-bit patterns (an LCG over the words; note MIN/MAX alternations would wrap to tiny deltas).
    const wild = new BigInt64Array(100);
    const words = new Uint32Array(wild.buffer);
    let x = 12345;
    for (let i = 0; i < words.length; i++) words[i] = x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    const big = roundTrip(wild, 'dense');
    expect(big.encoding).toBe(IntEncoding.Raw);
    expect(big.payloadBytes).toBe(800);
  });

  it('throws on every truncation instead of reading garbage', () => {
    const values = BigInt64Array.from([5n, MIN, MAX, -3n, 9007199254740993n]);
    for (const mode of ['fast', 'dense'] as const) {
      const bytes = encode(values, mode);
      for (let cut = 0; cut < bytes.length; cut++) {
        const backing = new Uint8Array(bytes.length + 16).fill(0x80);
        backing.set(bytes);
        expect(() => decodeInts(new ByteReader(backing, 0, cut), values.length, new BigInt64Array(values.length), 0)).toThrow(RangeError);
      }
    }
  });

  it('rejects varints over 10 bytes or 64 bits, unknown encodings, bad slices and short outputs', () => {
    const out = new BigInt64Array(2);
    const decode = (bytes: number[]): void => decodeInts(new ByteReader(Uint8Array.from(bytes)), 1, out, 0);
    expect(() => decode([IntEncoding.DeltaZigzag, ...new Array<number>(9).fill(0x80), 0x81, 0x01])).toThrow(/longer than 10 bytes/);
    expect(() => decode([IntEncoding.DeltaZigzag, ...new Array<number>(9).fill(0xff), 0x02])).toThrow(/exceeds 64 bits/);
    decode([IntEncoding.DeltaZigzag, ...new Array<number>(9).fill(0xff), 0x01]); // 2^64 - 1 is fine: -2^63
    expect(out[0]).toBe(MIN);
    expect(() => decode([2])).toThrow(/unknown int encoding/);
    expect(() => encodeInts(new ByteWriter(), new BigInt64Array(2), 0, 3, 'dense')).toThrow(RangeError);
    expect(() => decodeInts(new ByteReader(encode(new BigInt64Array(2), 'fast')), 2, out, 1)).toThrow(RangeError);
  });

  it('encodes from a view with a byte offset', () => {
    const backing = BigInt64Array.from({ length: 50 }, (_, i) => BigInt(i * i) - 300n);
    const view = backing.subarray(9, 45);
    for (const mode of ['fast', 'dense'] as const) roundTrip(view, mode, 4, 30);
  });
});
