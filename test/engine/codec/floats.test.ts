// Float codec (engine/codec/floats.ts, docs/format/codecs.md §Floats): bit-exact round trips of
// Raw, Gorilla and DecimalScaled (compared as bytes, so NaN payloads and -0 count), which encoding
// 'dense' picks, its size on devops gauges, and loud failure on truncated or corrupt columns.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ByteReader, ByteWriter } from '../../../engine/codec/bytes.js';
import { FloatEncoding, decodeFloats, encodeFloats, type FloatEncodingMode } from '../../../engine/codec/floats.js';

function bytesOf(a: Float64Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

/** Float64Array from raw 64-bit patterns (hi, lo), so NaN payloads are exact. */
function fromBits(pairs: readonly (readonly [number, number])[]): Float64Array {
  const words = new Uint32Array(pairs.length * 2);
  pairs.forEach(([hi, lo], i) => {
    words[2 * i] = lo;
    words[2 * i + 1] = hi;
  });
  return new Float64Array(words.buffer);
}

function encode(values: Float64Array, mode: FloatEncodingMode, start = 0, end = values.length): Uint8Array {
  const w = new ByteWriter(16);
  encodeFloats(w, values, start, end, mode);
  return w.bytes().slice();
}

/** Encodes the slice between two marker bytes, decodes into a guarded output, checks bit-exactness. */
function roundTrip(values: Float64Array, mode: FloatEncodingMode, start = 0, end = values.length): { encoding: number; payloadBytes: number } {
  const w = new ByteWriter(16);
  w.u8(0xee);
  encodeFloats(w, values, start, end, mode);
  w.u8(0xdd);
  const bytes = w.bytes().slice();
  const r = new ByteReader(bytes, 1);
  const n = end - start;
  const out = new Float64Array(n + 2).fill(-7);
  decodeFloats(r, n, out, 1);
  expect(r.u8()).toBe(0xdd);
  expect(r.remaining).toBe(0);
  expect(out[0]).toBe(-7);
  expect(out[n + 1]).toBe(-7);
  expect(bytesOf(out.subarray(1, n + 1))).toEqual(bytesOf(values.subarray(start, end)));
  return { encoding: bytes[1]!, payloadBytes: bytes.length - 3 };
}

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Devops-like gauge: 2-decimal random walk clamped to 0..100. */
function gauge(n: number, seed: number): Float64Array {
  const rand = mulberry32(seed);
  const out = new Float64Array(n);
  let m = 5_000; // hundredths
  for (let i = 0; i < n; i++) {
    m = Math.min(10_000, Math.max(0, m + Math.round((rand() - 0.5) * 100)));
    out[i] = m / 100;
  }
  return out;
}

const NAN_PAYLOADS: [number, number][] = [
  [0x7ff80000, 0], // canonical quiet NaN
  [0x7ff00000, 1], // signalling NaN, payload 1
  [0xfff80000, 0xdeadbeef], // negative quiet NaN with payload
  [0x7fffffff, 0xffffffff],
  [0xfff00000, 0x00000001],
];
const SPECIALS = [0, -0, 1, -1, 0.1, -2.5, 123.45, Number.MIN_VALUE, -Number.MIN_VALUE, 2.2250738585072014e-308, 2.225073858507201e-308, Number.MAX_VALUE, -Number.MAX_VALUE, Infinity, -Infinity, NaN, 1e15, 2 ** 50, 2 ** 53 + 2, 1e21, Number.EPSILON];

const bitPattern = fc.tuple(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 0xffffffff }));
/** Any double, by value or by raw bits (NaN payloads, subnormals), or a short decimal. */
const anyDouble = fc.oneof(
  fc.double(),
  fc.constantFrom(...SPECIALS),
  bitPattern.map(([hi, lo]) => fromBits([[hi, lo]])[0]!),
  fc.integer({ min: -1_000_000, max: 1_000_000 }).map((m) => m / 100),
);

describe('floats', () => {
  it('round-trips any slice of any doubles bit-exactly in both modes', () => {
    fc.assert(
      fc.property(fc.array(anyDouble, { maxLength: 80 }), fc.nat(), fc.nat(), (list, a, b) => {
        const values = Float64Array.from(list);
        const start = a % (list.length + 1);
        const end = start + (b % (list.length - start + 1));
        for (const mode of ['fast', 'dense'] as const) roundTrip(values, mode, start, end);
      }),
      { numRuns: 500 },
    );
  });

  it('keeps NaN payload bits, -0, infinities and subnormals exact in every encoding', () => {
    const specials = Float64Array.from(SPECIALS);
    const nans = fromBits(NAN_PAYLOADS);
    expect(roundTrip(specials, 'fast').encoding).toBe(FloatEncoding.Raw);
    roundTrip(specials, 'dense');
    // Runs of the same NaN/-0 pattern make Gorilla win, so the payload goes through its XOR path.
    const runs = fromBits([...NAN_PAYLOADS, ...NAN_PAYLOADS].flatMap((p) => [p, p, p, p, p, p]));
    expect(roundTrip(runs, 'dense').encoding).toBe(FloatEncoding.Gorilla);
    const mixed = new Float64Array(64);
    for (let i = 0; i < 64; i++) mixed[i] = i % 8 < 4 ? nans[i % 5]! : [-0, Number.MIN_VALUE, -Infinity, 5e-324][i % 4]!;
    for (let i = 0; i < 64; i++) if (i % 16 >= 8) mixed[i] = mixed[i - (i % 16 >= 8 ? 8 : 0)]!;
    roundTrip(mixed, 'dense');
  });

  it('Gorilla round-trips arbitrary bit patterns, including every leading/trailing-zero case', () => {
    // Each pattern is followed by copies and single-bit flips, so Gorilla beats Raw and every
    // window case ('0', '10', '11', leading zeros > 31, 64 meaningful bits) is exercised.
    fc.assert(
      fc.property(
        fc.array(fc.tuple(bitPattern, fc.integer({ min: 0, max: 63 }), fc.integer({ min: 3, max: 12 })), { minLength: 1, maxLength: 30 }),
        (specs) => {
          const pairs: [number, number][] = [];
          for (const [[hi, lo], flip, copies] of specs) {
            pairs.push([hi, lo]);
            const flipped: [number, number] = flip < 32 ? [hi, (lo ^ (1 << flip)) >>> 0] : [(hi ^ (1 << (flip - 32))) >>> 0, lo];
            for (let k = 0; k < copies; k++) pairs.push(k % 3 === 1 ? flipped : [hi, lo]);
          }
          const values = fromBits(pairs);
          const { encoding } = roundTrip(values, 'dense');
          expect(encoding).not.toBe(FloatEncoding.Raw);
        },
      ),
      { numRuns: 300 },
    );
    // XOR with all 64 bits meaningful (lead 0, trail 0): sign and lowest bit both flip.
    const full = fromBits([[0x00000000, 0x00000000], [0x80000000, 0x00000001], [0x80000000, 0x00000001], [0x80000000, 0x00000001], [0x80000000, 0x00000001]]);
    expect(roundTrip(full, 'dense').encoding).toBe(FloatEncoding.Gorilla);
  });

  it('handles the empty slice and one value', () => {
    const values = Float64Array.from([1.25, -0, NaN]);
    for (const mode of ['fast', 'dense'] as const) {
      expect(encode(values, mode, 1, 1)).toEqual(new Uint8Array([FloatEncoding.Raw]));
      roundTrip(values, mode, 0, 1);
      roundTrip(values, mode, 1, 2);
      roundTrip(values, mode, 2, 3);
    }
  });

  it('picks DecimalScaled for short decimals, with the delta or delta-of-delta integer coding', () => {
    // Constant step of 0.73: each delta costs 2 bytes, each delta-of-delta (0) one byte.
    const ramp = Float64Array.from({ length: 100 }, (_, i) => (1000 + 73 * i) / 100);
    const rampBytes = encode(ramp, 'dense');
    expect(rampBytes.subarray(0, 3)).toEqual(new Uint8Array([FloatEncoding.DecimalScaled, 2, 1]));
    roundTrip(ramp, 'dense');
    const walk = gauge(1_000, 7);
    const walkBytes = encode(walk, 'dense');
    expect(walkBytes.subarray(0, 3)).toEqual(new Uint8Array([FloatEncoding.DecimalScaled, 2, 0]));
    roundTrip(walk, 'dense');
    // Smallest exponent: integers use e = 0, a value needing 15 digits forces e = 15.
    expect(encode(Float64Array.from([3, -4, 1e15, 0]), 'dense').subarray(0, 2)).toEqual(new Uint8Array([FloatEncoding.DecimalScaled, 0]));
    const fine = Float64Array.from({ length: 40 }, (_, k) => (k % 2 === 0 ? k : -k) / 1e15); // 1e-15 steps
    expect(encode(fine, 'dense').subarray(0, 2)).toEqual(new Uint8Array([FloatEncoding.DecimalScaled, 15]));
    roundTrip(fine, 'dense');
  });

  it('DecimalScaled uses the smallest exponent at which every value round-trips (brute force agrees)', () => {
    const POW10 = [1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15];
    const fits = (v: number, e: number): boolean => {
      const m = Math.round(v * POW10[e]!);
      return Number.isFinite(v) && !Object.is(v, -0) && Math.abs(m) <= 2 ** 50 && m / POW10[e]! === v;
    };
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: -10_000_000, max: 10_000_000 }), fc.integer({ min: 0, max: 15 })), { minLength: 1, maxLength: 40 }),
        (specs) => {
          const values = Float64Array.from(specs.map(([m, e]) => m / POW10[e]!));
          const bytes = encode(values, 'dense');
          let smallest = -1;
          for (let e = 0; e <= 15 && smallest < 0; e++) if (values.every((v) => fits(v, e))) smallest = e;
          if (bytes[0] === FloatEncoding.DecimalScaled) expect(bytes[1]).toBe(smallest);
          else expect(smallest === -1 || bytes[0] === FloatEncoding.Raw || bytes[0] === FloatEncoding.Gorilla).toBe(true);
          roundTrip(values, 'dense');
        },
      ),
      { numRuns: 500 },
    );
  });

  it('never uses DecimalScaled for -0, NaN, infinities or integers beyond 2^50', () => {
    for (const odd of [-0, NaN, Infinity, -Infinity, 2 ** 50 + 2, 5e-324]) {
      const values = Float64Array.from([1.5, 2.5, odd, 3.5]);
      expect(encode(values, 'dense')[0]).not.toBe(FloatEncoding.DecimalScaled);
      roundTrip(values, 'dense');
    }
  });

  it('dense mode stores 2-decimal devops gauges in under 2 bytes per value', () => {
    for (const seed of [1, 2, 3]) {
      const values = gauge(5_000, seed);
      const { encoding, payloadBytes } = roundTrip(values, 'dense');
      expect(encoding).toBe(FloatEncoding.DecimalScaled);
      expect(payloadBytes / values.length).toBeLessThan(2);
    }
  });

  it('dense mode keeps incompressible data (random bit patterns) Raw', () => {
    const rand = mulberry32(42);
    const noise = new Float64Array(500);
    const words = new Uint32Array(noise.buffer);
    for (let i = 0; i < words.length; i++) words[i] = rand() * 0x1_0000_0000;
    const { encoding, payloadBytes } = roundTrip(noise, 'dense');
    expect(encoding).toBe(FloatEncoding.Raw);
    expect(payloadBytes).toBe(8 * 500);
  });

  it('throws on every truncation of every encoding instead of reading garbage', () => {
    const a = 0.1 + 0.2;
    const columns: [number, Float64Array][] = [
      [FloatEncoding.Raw, Float64Array.from([1.5, NaN, -0])],
      [FloatEncoding.Gorilla, Float64Array.from([a, a, 0.3, a, a])],
      [FloatEncoding.DecimalScaled, gauge(50, 9)],
    ];
    for (const [expected, values] of columns) {
      const bytes = encode(values, expected === FloatEncoding.Raw ? 'fast' : 'dense');
      expect(bytes[0]).toBe(expected);
      for (let cut = 0; cut < bytes.length; cut++) {
        const backing = new Uint8Array(bytes.length + 16).fill(0xff);
        backing.set(bytes);
        expect(() => decodeFloats(new ByteReader(backing, 0, cut), values.length, new Float64Array(values.length), 0)).toThrow(RangeError);
      }
    }
  });

  it('rejects corrupt columns: unknown encoding, bad exponent or coding, inconsistent Gorilla stream', () => {
    const out = new Float64Array(4);
    const decode = (bytes: number[], count = 1): void => decodeFloats(new ByteReader(Uint8Array.from(bytes)), count, out, 0);
    expect(() => decode([3])).toThrow(/unknown float encoding/);
    expect(() => decode([FloatEncoding.DecimalScaled, 16, 0, 0])).toThrow(/exponent/);
    expect(() => decode([FloatEncoding.DecimalScaled, 2, 2, 0])).toThrow(/coding/);
    // Gorilla: '10' (reuse a window) before any window was defined.
    expect(() => decode([FloatEncoding.Gorilla, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0b1000_0000], 2)).toThrow(/window/);
    // Gorilla: lead 31 + length 64 > 64 bits.
    expect(() => decode([FloatEncoding.Gorilla, 11, 0, 0, 0, 0, 0, 0, 0, 0, 0b1111_1111, 0b1111_1100, 0], 2)).toThrow(/exceeds 64/);
    // Gorilla: a declared length longer than the values need.
    expect(() => decode([FloatEncoding.Gorilla, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0])).toThrow(/end after/);
    expect(() => decodeFloats(new ByteReader(encode(Float64Array.from([1, 2]), 'fast')), 2, new Float64Array(2), 1)).toThrow(RangeError);
    expect(() => encodeFloats(new ByteWriter(), new Float64Array(2), 1, 3, 'fast')).toThrow(RangeError);
  });

  it('encodes from a view with a byte offset (subarray of a larger buffer)', () => {
    const backing = gauge(64, 5);
    const view = backing.subarray(7, 50);
    for (const mode of ['fast', 'dense'] as const) roundTrip(view, mode, 3, 40);
    const full = Float64Array.from({ length: 40 }, (_, i) => Math.sin(i));
    roundTrip(full.subarray(5), 'dense', 2, 30);
  });
});
