// Timestamp codec (engine/codec/timestamps.ts, docs/format/codecs.md §Timestamps): round trips of
// both encodings over slices, extremes and unsorted input; truncation and bad input fail loudly.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ByteReader, ByteWriter } from '../../../engine/codec/bytes.js';
import { TimestampEncoding, decodeTimestamps, encodeTimestamps } from '../../../engine/codec/timestamps.js';

const LIMIT = 2 ** 50 - 1; // largest |t| the codec accepts

function roundTrip(ts: Float64Array, start: number, end: number, encoding?: TimestampEncoding): { bytes: Uint8Array; out: Float64Array } {
  const w = new ByteWriter(16);
  if (encoding === undefined) encodeTimestamps(w, ts, start, end);
  else encodeTimestamps(w, ts, start, end, encoding);
  const bytes = w.bytes().slice();
  const r = new ByteReader(bytes);
  const out = new Float64Array(end - start + 2).fill(-7);
  decodeTimestamps(r, end - start, out, 1);
  expect(r.pos).toBe(bytes.length);
  expect(out[0]).toBe(-7);
  expect(out[out.length - 1]).toBe(-7);
  return { bytes, out: out.subarray(1, out.length - 1) };
}

const timestamp = fc.integer({ min: -LIMIT, max: LIMIT });
const nearby = fc.integer({ min: 1_600_000_000_000, max: 1_600_000_100_000 });

describe('timestamps', () => {
  for (const [name, encoding] of [
    ['default (DeltaOfDelta)', undefined],
    ['DeltaOfDelta', TimestampEncoding.DeltaOfDelta],
    ['Raw', TimestampEncoding.Raw],
  ] as const) {
    describe(name, () => {
      it('round-trips any slice of any integers with |t| < 2^50, in any order', () => {
        fc.assert(
          fc.property(fc.array(fc.oneof(timestamp, nearby, fc.constantFrom(0, -1, LIMIT, -LIMIT)), { maxLength: 60 }), fc.nat(), fc.nat(), (list, a, b) => {
            const ts = Float64Array.from(list);
            const start = list.length === 0 ? 0 : a % (list.length + 1);
            const end = start + (list.length === 0 ? 0 : b % (list.length - start + 1));
            const { bytes, out } = roundTrip(ts, start, end, encoding);
            expect(bytes[0]).toBe(encoding ?? TimestampEncoding.DeltaOfDelta);
            expect(Array.from(out)).toEqual(Array.from(ts.subarray(start, end)));
          }),
        );
      });

      it('handles the empty slice, one value, 0, negatives and unsorted values', () => {
        const ts = new Float64Array([5, 0, -1, -LIMIT, LIMIT, 3, 3, 2, -1_000_000_000_000]);
        expect(roundTrip(ts, 4, 4, encoding).bytes).toHaveLength(1);
        expect(Array.from(roundTrip(ts, 3, 4, encoding).out)).toEqual([-LIMIT]);
        expect(Array.from(roundTrip(ts, 0, ts.length, encoding).out)).toEqual(Array.from(ts));
        expect(Array.from(roundTrip(ts, 2, 7, encoding).out)).toEqual([-1, -LIMIT, LIMIT, 3, 3]);
      });

      it('throws on every truncation instead of reading past the column', () => {
        const ts = new Float64Array([1_700_000_000_000, 1_700_000_010_000, 1_700_000_020_000, 1_699_000_000_000, -5]);
        const { bytes } = roundTrip(ts, 0, ts.length, encoding);
        for (let cut = 0; cut < bytes.length; cut++) {
          const backing = new Uint8Array(bytes.length + 8).fill(0x81); // garbage after the cut
          backing.set(bytes);
          expect(() => decodeTimestamps(new ByteReader(backing, 0, cut), ts.length, new Float64Array(ts.length), 0)).toThrow(RangeError);
        }
      });
    });
  }

  it('delta-of-delta costs one byte per point on a regular 10 s series', () => {
    const n = 5_000;
    const ts = new Float64Array(n);
    for (let i = 0; i < n; i++) ts[i] = 1_700_000_000_000 + i * 10_000;
    const { bytes } = roundTrip(ts, 0, n);
    // encoding byte + first value (zig-zag 3.4e12 ≈ 2^41.6: 6 bytes) + first delta (3 bytes) + one zero byte per point
    expect(bytes.length).toBe(1 + 6 + 3 + (n - 2));
  });

  it('decodes two columns back to back, leaving the reader between them', () => {
    const w = new ByteWriter();
    encodeTimestamps(w, new Float64Array([10, 20, 30]), 0, 3);
    encodeTimestamps(w, new Float64Array([7, -7]), 0, 2, TimestampEncoding.Raw);
    const r = new ByteReader(w.bytes());
    const a = new Float64Array(3);
    const b = new Float64Array(2);
    decodeTimestamps(r, 3, a, 0);
    decodeTimestamps(r, 2, b, 0);
    expect([...a, ...b]).toEqual([10, 20, 30, 7, -7]);
    expect(r.remaining).toBe(0);
  });

  it('refuses timestamps it cannot store exactly, writing nothing', () => {
    for (const bad of [0.5, NaN, Infinity, 2 ** 50, -(2 ** 50), 2 ** 53]) {
      for (const encoding of [TimestampEncoding.Raw, TimestampEncoding.DeltaOfDelta]) {
        const w = new ByteWriter();
        expect(() => encodeTimestamps(w, new Float64Array([1, bad]), 0, 2, encoding)).toThrow(RangeError);
        expect(w.length).toBe(0);
      }
    }
  });

  it('rejects bad slices, short outputs, unknown encodings and over-long varints', () => {
    const ts = new Float64Array([1, 2, 3]);
    expect(() => encodeTimestamps(new ByteWriter(), ts, 2, 1)).toThrow(RangeError);
    expect(() => encodeTimestamps(new ByteWriter(), ts, 0, 4)).toThrow(RangeError);
    expect(() => encodeTimestamps(new ByteWriter(), ts, 0, 3, 9 as TimestampEncoding)).toThrow(RangeError);
    const { bytes } = roundTrip(ts, 0, 3);
    expect(() => decodeTimestamps(new ByteReader(bytes), 3, new Float64Array(3), 1)).toThrow(RangeError);
    expect(() => decodeTimestamps(new ByteReader(new Uint8Array([2, 0])), 1, new Float64Array(1), 0)).toThrow(/unknown timestamp encoding/);
    const long = new Uint8Array([1, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01]);
    expect(() => decodeTimestamps(new ByteReader(long), 1, new Float64Array(1), 0)).toThrow(/longer than 8 bytes/);
  });
});
