// Float codec (engine/codec/floats.ts, docs/format/codecs.md §Floats): bit-exact round trips of
// Raw, Gorilla, DecimalScaled and DecimalPacked (compared as bytes, so NaN payloads and -0
// count), which encoding 'dense' picks under each codecs version, its size on devops gauges,
// DecimalPacked's bytes against a reference written from the doc, and loud failure on truncated
// or corrupt columns.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ByteReader, ByteWriter } from '../../../engine/codec/bytes.js';
import type { CodecsVersion } from '../../../engine/codec/codecs-version.js';
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

function encode(values: Float64Array, mode: FloatEncodingMode, start = 0, end = values.length, codecs: CodecsVersion = 2): Uint8Array {
  const w = new ByteWriter(16);
  encodeFloats(w, values, start, end, mode, codecs);
  return w.bytes().slice();
}

/** Encodes the slice between two marker bytes, decodes into a guarded output, checks bit-exactness. */
function roundTrip(
  values: Float64Array,
  mode: FloatEncodingMode,
  start = 0,
  end = values.length,
  codecs: CodecsVersion = 2,
): { encoding: number; payloadBytes: number } {
  const w = new ByteWriter(16);
  w.u8(0xee);
  encodeFloats(w, values, start, end, mode, codecs);
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

// ---- DecimalPacked reference, written from docs/format/codecs.md §DecimalPacked alone ----------

const zigzag = (w: bigint): bigint => (w >= 0n ? 2n * w : -2n * w - 1n);
const unzigzag = (z: bigint): bigint => (z % 2n === 0n ? z / 2n : -(z + 1n) / 2n);
const bitLength = (z: bigint): number => (z === 0n ? 0 : z.toString(2).length);
const varintBytes = (w: bigint): number[] => {
  const out: number[] = [];
  let z = zigzag(w);
  while (z >= 0x80n) {
    out.push(Number(z & 0x7fn) | 0x80);
    z >>= 7n;
  }
  out.push(Number(z));
  return out;
};

/** wₖ of DecimalScaled's coding 0 (delta) or 1 (delta-of-delta). */
function wsOf(ms: readonly bigint[], coding: number): bigint[] {
  return ms.map((m, k) => {
    if (k === 0) return m;
    const d = m - ms[k - 1]!;
    return coding === 1 && k >= 2 ? d - (ms[k - 1]! - ms[k - 2]!) : d;
  });
}

/**
 * A whole DecimalPacked column (encoding byte included). `minWidth` may widen a group beyond
 * what its fields need (a reader must accept that); the writer rule is the needed width.
 */
function referencePack(e: number, coding: number, ms: readonly bigint[], minWidth = 0): Uint8Array {
  const ws = wsOf(ms, coding);
  const head = Math.min(ms.length, coding === 1 ? 2 : 1);
  const out: number[] = [FloatEncoding.DecimalPacked, e, coding];
  for (let k = 0; k < head; k++) out.push(...varintBytes(ws[k]!));
  for (let from = head; from < ms.length; from += 128) {
    const zs = ws.slice(from, from + 128).map(zigzag);
    const width = Math.max(minWidth, ...zs.map(bitLength));
    out.push(width);
    const bytes = new Array<number>(Math.ceil((zs.length * width) / 8)).fill(0);
    zs.forEach((z, i) => {
      for (let j = 0; j < width; j++) if ((z >> BigInt(j)) & 1n) bytes[(i * width + j) >>> 3]! |= 1 << ((i * width + j) & 7);
    });
    out.push(...bytes);
  }
  return Uint8Array.from(out);
}

/** Payload bytes (after the encoding byte) of DecimalScaled and DecimalPacked in a given coding. */
function referenceSizes(ms: readonly bigint[], coding: number): { scaled: number; packed: number } {
  const ws = wsOf(ms, coding);
  return { scaled: 2 + ws.reduce((n, w) => n + varintBytes(w).length, 0), packed: referencePack(0, coding, ms).length - 1 };
}

/** Reads the column with the documented layout: exponent, coding, widths, mₖ, and zero padding. */
function referenceUnpack(col: Uint8Array, count: number): { e: number; coding: number; widths: number[]; ms: bigint[] } {
  expect(col[0]).toBe(FloatEncoding.DecimalPacked);
  const e = col[1]!;
  const coding = col[2]!;
  let pos = 3;
  const ws: bigint[] = [];
  const head = Math.min(count, coding === 1 ? 2 : 1);
  for (let k = 0; k < head; k++) {
    let z = 0n;
    for (let shift = 0n; ; shift += 7n) {
      const b = col[pos++]!;
      z |= BigInt(b & 0x7f) << shift;
      if (b < 0x80) break;
    }
    ws.push(unzigzag(z));
  }
  const widths: number[] = [];
  while (ws.length < count) {
    const width = col[pos++]!;
    widths.push(width);
    const g = Math.min(128, count - ws.length);
    const bytes = col.subarray(pos, pos + Math.ceil((g * width) / 8));
    pos += bytes.length;
    for (let i = 0; i < g; i++) {
      let z = 0n;
      for (let j = 0; j < width; j++) z |= BigInt((bytes[(i * width + j) >>> 3]! >>> ((i * width + j) & 7)) & 1) << BigInt(j);
      ws.push(unzigzag(z));
    }
    for (let bit = g * width; bit < bytes.length * 8; bit++) expect((bytes[bit >>> 3]! >>> (bit & 7)) & 1).toBe(0);
  }
  expect(pos).toBe(col.length);
  const ms: bigint[] = [];
  let d = 0n;
  ws.forEach((w, k) => {
    d = coding === 1 && k >= 2 ? d + w : w;
    ms.push(k === 0 ? w : ms[k - 1]! + d);
  });
  return { e, coding, widths, ms };
}

const POW10 = [1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15];
const LIMIT = 2n ** 50n;

/**
 * Scaled integers |m| ≤ 2^50 in runs: walks with steps below 2^bits, ramps, constants — so
 * columns cross group boundaries, mix field widths and hit width 0.
 */
const scaledColumn = fc
  .array(
    fc.record({
      kind: fc.constantFrom('walk', 'ramp', 'flat'),
      bits: fc.integer({ min: 0, max: 51 }),
      length: fc.integer({ min: 1, max: 200 }),
      seed: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
    }),
    { maxLength: 5 },
  )
  .map((runs) => {
    const ms: bigint[] = [];
    let m = 0n;
    for (const { kind, bits, length, seed } of runs) {
      let x = seed;
      const span = 2n ** BigInt(bits);
      const step = (x % (2n * span)) - span;
      for (let i = 0; i < length; i++) {
        if (kind === 'walk') {
          x = (x * 6364136223846793005n + 1442695040888963407n) % 2n ** 64n;
          m += (x % (2n * span)) - span;
        } else if (kind === 'ramp') m += step;
        if (m > LIMIT) m = LIMIT - (m - LIMIT) % LIMIT;
        if (m < -LIMIT) m = -LIMIT + (-LIMIT - m) % LIMIT;
        ms.push(m);
      }
    }
    return ms;
  });

describe('floats', () => {
  it('round-trips any slice of any doubles bit-exactly in both modes and both codecs versions', () => {
    fc.assert(
      fc.property(fc.array(anyDouble, { maxLength: 80 }), fc.nat(), fc.nat(), (list, a, b) => {
        const values = Float64Array.from(list);
        const start = a % (list.length + 1);
        const end = start + (b % (list.length - start + 1));
        roundTrip(values, 'fast', start, end);
        for (const codecs of [1, 2] as const) roundTrip(values, 'dense', start, end, codecs);
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

  it('codecs version 1 picks DecimalScaled for short decimals, with the delta or delta-of-delta integer coding', () => {
    // Constant step of 0.73: each delta costs 2 bytes, each delta-of-delta (0) one byte.
    const ramp = Float64Array.from({ length: 100 }, (_, i) => (1000 + 73 * i) / 100);
    const rampBytes = encode(ramp, 'dense', 0, ramp.length, 1);
    expect(rampBytes.subarray(0, 3)).toEqual(new Uint8Array([FloatEncoding.DecimalScaled, 2, 1]));
    roundTrip(ramp, 'dense', 0, ramp.length, 1);
    const walk = gauge(1_000, 7);
    const walkBytes = encode(walk, 'dense', 0, walk.length, 1);
    expect(walkBytes.subarray(0, 3)).toEqual(new Uint8Array([FloatEncoding.DecimalScaled, 2, 0]));
    roundTrip(walk, 'dense', 0, walk.length, 1);
    // Smallest exponent: integers use e = 0, a value needing 15 digits forces e = 15.
    expect(encode(Float64Array.from([3, -4, 1e15, 0]), 'dense', 0, 4, 1).subarray(0, 2)).toEqual(new Uint8Array([FloatEncoding.DecimalScaled, 0]));
    const fine = Float64Array.from({ length: 40 }, (_, k) => (k % 2 === 0 ? k : -k) / 1e15); // 1e-15 steps
    expect(encode(fine, 'dense', 0, fine.length, 1).subarray(0, 2)).toEqual(new Uint8Array([FloatEncoding.DecimalScaled, 15]));
    roundTrip(fine, 'dense', 0, fine.length, 1);
  });

  it('codecs version 2 picks DecimalPacked where its fields are smaller, with the same exponent', () => {
    // The ramp: delta-of-delta fields are all 0, so after the head the column is one width byte.
    const ramp = Float64Array.from({ length: 100 }, (_, i) => (1000 + 73 * i) / 100);
    const rampBytes = encode(ramp, 'dense');
    expect([...rampBytes]).toEqual([FloatEncoding.DecimalPacked, 2, 1, 0xd0, 0x0f, 0x92, 0x01, 0]);
    roundTrip(ramp, 'dense');
    // A ±0.50 gauge: 7-bit delta fields instead of 1-byte varints.
    const walk = gauge(1_000, 7);
    const walkBytes = encode(walk, 'dense');
    expect(walkBytes.subarray(0, 3)).toEqual(new Uint8Array([FloatEncoding.DecimalPacked, 2, 0]));
    expect(walkBytes.length).toBeLessThan(0.9 * encode(walk, 'dense', 0, walk.length, 1).length);
    roundTrip(walk, 'dense');
    const fine = Float64Array.from({ length: 40 }, (_, k) => (k % 2 === 0 ? k : -k) / 1e15);
    expect(encode(fine, 'dense').subarray(0, 2)).toEqual(new Uint8Array([FloatEncoding.DecimalPacked, 15]));
    roundTrip(fine, 'dense');
    // A single value never gains from fields: DecimalScaled (ties keep v1's bytes).
    expect(encode(Float64Array.of(1.5), 'dense')).toEqual(encode(Float64Array.of(1.5), 'dense', 0, 1, 1));
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
          let smallest = -1;
          for (let e = 0; e <= 15 && smallest < 0; e++) if (values.every((v) => fits(v, e))) smallest = e;
          for (const codecs of [1, 2] as const) {
            const bytes = encode(values, 'dense', 0, values.length, codecs);
            if (bytes[0] === FloatEncoding.DecimalScaled || bytes[0] === FloatEncoding.DecimalPacked) expect(bytes[1]).toBe(smallest);
            else expect(smallest === -1 || bytes[0] === FloatEncoding.Raw || bytes[0] === FloatEncoding.Gorilla).toBe(true);
            if (codecs === 1) expect(bytes[0]).not.toBe(FloatEncoding.DecimalPacked);
            roundTrip(values, 'dense', 0, values.length, codecs);
          }
        },
      ),
      { numRuns: 500 },
    );
  });

  it('never uses DecimalScaled or DecimalPacked for -0, NaN, infinities or integers beyond 2^50', () => {
    for (const odd of [-0, NaN, Infinity, -Infinity, 2 ** 50 + 2, 5e-324]) {
      // Long enough that DecimalPacked would win if the odd value did not rule decimals out.
      const values = Float64Array.from({ length: 300 }, (_, i) => (i === 150 ? odd : 1.5 + (i % 7)));
      for (const codecs of [1, 2] as const) {
        const encoding = encode(values, 'dense', 0, values.length, codecs)[0];
        expect(encoding === FloatEncoding.DecimalScaled || encoding === FloatEncoding.DecimalPacked).toBe(false);
        roundTrip(values, 'dense', 0, values.length, codecs);
      }
    }
  });

  it('dense mode stores 2-decimal devops gauges in under 2 bytes per value with codecs version 1', () => {
    for (const seed of [1, 2, 3]) {
      const values = gauge(5_000, seed);
      const { encoding, payloadBytes } = roundTrip(values, 'dense', 0, values.length, 1);
      expect(encoding).toBe(FloatEncoding.DecimalScaled);
      expect(payloadBytes / values.length).toBeLessThan(2);
    }
  });

  it('dense mode stores devops gauges stepping by up to ±2.00 in 9-bit fields with codecs version 2', () => {
    for (const seed of [1, 2, 3]) {
      const rand = mulberry32(seed);
      const values = new Float64Array(8_640);
      let m = 5_000;
      for (let i = 0; i < values.length; i++) {
        m = Math.min(10_000, Math.max(0, m + Math.round((rand() - 0.5) * 400)));
        values[i] = m / 100;
      }
      const v1 = roundTrip(values, 'dense', 0, values.length, 1);
      const v2 = roundTrip(values, 'dense', 0, values.length, 2);
      expect([v1.encoding, v2.encoding]).toEqual([FloatEncoding.DecimalScaled, FloatEncoding.DecimalPacked]);
      // 9 bits a field and a width byte per 128 fields: 1.133 bytes/value; varints ~1.67.
      expect(v2.payloadBytes / values.length).toBeLessThan(1.14);
      expect(v1.payloadBytes / values.length).toBeGreaterThan(1.6);
    }
  });

  it('DecimalPacked: the writer follows the doc byte for byte and never loses to codecs version 1', () => {
    fc.assert(
      fc.property(scaledColumn, fc.integer({ min: 0, max: 6 }), (ms, e) => {
        const values = Float64Array.from(ms, (m) => Number(m) / POW10[e]!);
        const v1 = encode(values, 'dense', 0, values.length, 1);
        const v2 = encode(values, 'dense', 0, values.length, 2);
        expect(v2.length).toBeLessThanOrEqual(v1.length);
        if (values.length > 0) roundTrip(values, 'dense', 0, values.length, 2);
        if (v2[0] !== FloatEncoding.DecimalPacked && v2[0] !== FloatEncoding.DecimalScaled) return;
        // The writer's own exponent (the smallest that fits) and its integers.
        const we = v2[1]!;
        const wms = Array.from(values, (v) => BigInt(Math.round(v * POW10[we]!)));
        const delta = referenceSizes(wms, 0);
        const dod = referenceSizes(wms, 1);
        const packed = Math.min(delta.packed, dod.packed);
        const scaled = Math.min(delta.scaled, dod.scaled);
        if (v2[0] === FloatEncoding.DecimalPacked) {
          expect(packed).toBeLessThan(scaled);
          expect([...v2]).toEqual([...referencePack(we, dod.packed < delta.packed ? 1 : 0, wms)]);
          expect(referenceUnpack(v2, values.length).ms).toEqual(wms);
        } else {
          expect(scaled).toBeLessThanOrEqual(packed);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('DecimalPacked: the reader takes every width 0…54, both codings, widened groups, anywhere in a buffer', () => {
    // ±2^50 alternating: delta fields of 53 bits, delta-of-delta fields of 54 (2^52 → zig-zag 2^53).
    const alternating = Array.from({ length: 140 }, (_, k) => (k % 2 ? -LIMIT : LIMIT));
    fc.assert(
      fc.property(
        scaledColumn,
        fc.integer({ min: 0, max: 54 }),
        fc.constantFrom(0, 1),
        fc.integer({ min: 0, max: 15 }),
        fc.boolean(),
        (walk, minWidth, coding, e, atEnd) => {
          for (const ms of [walk, alternating]) {
            if (ms.length === 0) continue;
            const col = referencePack(e, coding, ms, minWidth);
            if (ms === alternating) expect(Math.max(...referenceUnpack(referencePack(e, coding, ms), ms.length).widths)).toBe(coding === 1 ? 54 : 53);
            // The column alone at the end of its buffer, or followed by other bytes.
            const buf = new Uint8Array(col.length + (atEnd ? 0 : 9)).fill(0xa5);
            buf.set(col);
            const r = new ByteReader(buf, 0, col.length);
            const out = new Float64Array(ms.length);
            decodeFloats(r, ms.length, out, 0);
            expect(r.pos).toBe(col.length);
            expect(bytesOf(out)).toEqual(bytesOf(Float64Array.from(ms, (m) => Number(m) / POW10[e]!)));
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it('DecimalPacked: arbitrary doubles (NaN payloads, -0, infinities, subnormals) fall back to an exact encoding', () => {
    const fits = (v: number, e: number): boolean => {
      const m = Math.round(v * POW10[e]!);
      return Number.isFinite(v) && !Object.is(v, -0) && Math.abs(m) <= 2 ** 50 && m / POW10[e]! === v;
    };
    fc.assert(
      fc.property(fc.array(anyDouble, { minLength: 1, maxLength: 300 }), fc.integer({ min: 0, max: 299 }), (list, at) => {
        // Mostly a decimal walk (where DecimalPacked would win), with the arbitrary doubles in it.
        const values = Float64Array.from({ length: 300 }, (_, i) => (i % 3 === 0 ? list[(i + at) % list.length]! : (i * 37) / 100));
        const { encoding } = roundTrip(values, 'dense');
        const exponent = encoding === FloatEncoding.DecimalPacked || encoding === FloatEncoding.DecimalScaled ? encode(values, 'dense')[1]! : -1;
        if (exponent >= 0) expect(Array.from(values).every((v) => fits(v, exponent))).toBe(true);
        else expect(POW10.some((_, e) => Array.from(values).every((v) => fits(v, e))) && encoding === FloatEncoding.DecimalPacked).toBe(false);
      }),
      { numRuns: 300 },
    );
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
    const columns: [number, Float64Array, CodecsVersion][] = [
      [FloatEncoding.Raw, Float64Array.from([1.5, NaN, -0]), 2],
      [FloatEncoding.Gorilla, Float64Array.from([a, a, 0.3, a, a]), 2],
      [FloatEncoding.DecimalScaled, gauge(50, 9), 1],
      // Several groups (the last one short), fields of 7 bits; delta-of-delta with width-0 groups;
      // fields wider than 32 bits.
      [FloatEncoding.DecimalPacked, gauge(300, 9), 2],
      [FloatEncoding.DecimalPacked, Float64Array.from({ length: 300 }, (_, i) => (i < 280 ? 10 * i : 3 * i) + 0.25), 2],
      [FloatEncoding.DecimalPacked, Float64Array.from({ length: 40 }, (_, i) => (i % 2 ? 1 : -1) * 2 ** 49 + i), 2],
    ];
    for (const [expected, values, codecs] of columns) {
      const bytes = encode(values, expected === FloatEncoding.Raw ? 'fast' : 'dense', 0, values.length, codecs);
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
    expect(() => decode([4])).toThrow(/unknown float encoding/);
    expect(() => decode([0xff])).toThrow(/unknown float encoding/);
    expect(() => decode([FloatEncoding.DecimalScaled, 16, 0, 0])).toThrow(/exponent/);
    expect(() => decode([FloatEncoding.DecimalScaled, 2, 2, 0])).toThrow(/coding/);
    expect(() => decode([FloatEncoding.DecimalPacked, 16, 0, 0])).toThrow(/exponent/);
    expect(() => decode([FloatEncoding.DecimalPacked, 2, 2, 0])).toThrow(/coding/);
    // A group wider than 54 bits.
    expect(() => decode([FloatEncoding.DecimalPacked, 0, 0, 0, 55, 0, 0, 0, 0, 0, 0, 0], 2)).toThrow(/width 55/);
    // m₀ = 2^50, then a step of +1 (zig-zag 2 in a 2-bit field): 2^50 + 1 is out of range.
    expect(() => decode([FloatEncoding.DecimalPacked, 0, 0, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x04, 2, 0b10], 2)).toThrow(/out of range/);
    // A head above 2^50 on its own.
    expect(() => decode([FloatEncoding.DecimalPacked, 0, 0, 0x82, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x04], 1)).toThrow(/out of range/);
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
