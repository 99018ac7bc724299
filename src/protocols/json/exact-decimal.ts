// Correctly rounded conversion of a decimal with 16–19 significant digits to a double, without
// building a string — the values TSBS-like clients print (full float64 precision, 17 digits) are
// beyond Clinger's exact case (mantissa < 2^53), and `Number(text)` of a fresh string per value
// was a quarter of the OpenTSDB fast path's time (bench/opentsdb.bench.ts, docs/benchmarks.md).
//
// Method: the decimal is w · 10^-k with w < 10^19 and 0 < k ≤ 22, so 10^k is an exact double.
// w is held exactly as a sum of two doubles; the candidate d = RN(RN(w) / 10^k) is within about one
// ulp of the true quotient; the residual w − d·10^k is computed exactly but for one final rounding
// (Dekker's product, Sterbenz subtraction), and d — or else its neighbour towards the quotient — is
// returned only when the residual proves it the nearest double (strictly less than half an ulp
// away). Everything else — a residual at or past half an ulp, a candidate
// that is a power of two (its lower neighbour is nearer), more than 19 digits, other exponents —
// returns NaN, and the caller converts the literal's text with Number() as before. So the result
// is always exactly Number(text) or NaN. Pure.

const SPLITTER = 134217729; // 2^27 + 1: Veltkamp's split of a double into two 26-bit halves

/** Exact powers of ten 10^0 … 10^22. */
const POW10 = new Float64Array(23);
for (let i = 0, p = 1; i < 23; i++, p *= 10) POW10[i] = p;

/** Half the ulp of a double with biased exponent E: 2^(E − 1076) (a table: `**` was 6 % of the fast path). */
const HALF_ULP_OF_EXPONENT = new Float64Array(2048);
for (let e = 0; e < 2048; e++) HALF_ULP_OF_EXPONENT[e] = 2 ** (e - 1076);

const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);
const HIGH = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? 1 : 0; // word holding sign and exponent

/** The low part of a·b: a·b = RN(a·b) + twoProductError(a, b, RN(a·b)) exactly (no overflow assumed). */
function twoProductError(a: number, b: number, p: number): number {
  let c = SPLITTER * a;
  const ah = c - (c - a);
  const al = a - ah;
  c = SPLITTER * b;
  const bh = c - (c - b);
  const bl = b - bh;
  return ah * bh - p + ah * bl + al * bh + al * bl;
}

/**
 * The double nearest to (hi · 10^loDigits + lo) · 10^-fractionDigits, or NaN when this cannot be
 * proven cheaply (see the file comment). `hi` < 10^15 and `lo` < 10^loDigits are non-negative
 * integers, 0 ≤ loDigits ≤ 4, 1 ≤ fractionDigits ≤ 22; the sign is applied by the caller.
 */
export function exactDecimal(hi: number, lo: number, loDigits: number, fractionDigits: number): number {
  if (loDigits > 4 || fractionDigits < 1 || fractionDigits > 22) return Number.NaN;
  // w = hi·10^loDigits + lo exactly, as wh + wl (wh = RN(w)).
  const scale = POW10[loDigits]!;
  const p = hi * scale;
  const pe = twoProductError(hi, scale, p);
  const s = p + lo;
  const se = lo - (s - p); // exact: |lo| ≤ |p| or p = 0 (Fast2Sum)
  const t = se + pe; // both small integers: exact
  const wh = s + t;
  const wl = t - (wh - s);
  if (wh === 0) return Number.NaN;
  // Candidate d = RN(wh / m): within about one ulp of w / m. If the residual does not prove it
  // nearest, its neighbour towards w / m is the only other candidate; one of the two is proven or
  // the answer is NaN.
  const m = POW10[fractionDigits]!;
  const d = wh / m;
  const r = residual(wh, wl, d, m);
  if (Math.abs(r) < halfUlpTimes(d, m)) return d;
  const next = neighbour(d, r > 0);
  return Math.abs(residual(wh, wl, next, m)) < halfUlpTimes(next, m) ? next : Number.NaN;
}

/**
 * w − d·m for w = wh + wl, rounded once at most (wh − q is exact by Sterbenz, q ≈ wh; adding wl
 * is exact; only subtracting Dekker's low part may round) — so comparing its magnitude with a
 * double bound can never accept a d whose exact residual is at or past the bound.
 */
function residual(wh: number, wl: number, d: number, m: number): number {
  const q = d * m;
  const qe = twoProductError(d, m, q);
  return wh - q + wl - qe;
}

/**
 * m · ulp(d) / 2, or 0 (so nothing is accepted) when d is zero, subnormal, infinite or a power of
 * two (whose lower neighbour is only half an ulp away).
 */
function halfUlpTimes(d: number, m: number): number {
  f64[0] = d;
  const high = u32[HIGH]!;
  const biased = (high >>> 20) & 0x7ff;
  if (biased === 0 || biased === 0x7ff) return 0;
  if ((high & 0xfffff) === 0 && u32[1 - HIGH] === 0) return 0;
  return HALF_ULP_OF_EXPONENT[biased]! * m;
}

/** The next double above (or below) a positive, finite d. */
function neighbour(d: number, up: boolean): number {
  f64[0] = d;
  let low = u32[1 - HIGH]!;
  let high = u32[HIGH]!;
  if (up) {
    low = (low + 1) >>> 0;
    if (low === 0) high++;
  } else {
    if (low === 0) high--;
    low = (low - 1) >>> 0;
  }
  u32[1 - HIGH] = low;
  u32[HIGH] = high;
  return f64[0]!;
}
