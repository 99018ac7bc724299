// exactDecimal (src/protocols/json/exact-decimal.ts) must give exactly what Number(text) gives, or
// NaN — never another double. Checked on random 16–19-digit decimals (the TSBS shape and every
// other), on ties and near-ties, and through the OpenTSDB fast path's number scanner.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { exactDecimal } from '../../../src/protocols/json/exact-decimal.js';
import { SimplePoint, scanSimplePoint } from '../../../src/protocols/opentsdb/simple-point.js';

/** exactDecimal of a digit string with `fractionDigits` of them after the point. */
function viaExact(digits: string, fractionDigits: number): number {
  const hi = Number(digits.slice(0, 15));
  const rest = digits.slice(15);
  return exactDecimal(hi, rest === '' ? 0 : Number(rest), rest.length, fractionDigits);
}

function literal(digits: string, fractionDigits: number): string {
  if (fractionDigits >= digits.length) return `0.${digits.padStart(fractionDigits, '0')}`;
  return `${digits.slice(0, digits.length - fractionDigits)}.${digits.slice(digits.length - fractionDigits)}`;
}

const sigDigits = fc.integer({ min: 16, max: 19 }).chain((n) =>
  fc.tuple(fc.integer({ min: 1, max: 9 }), fc.array(fc.integer({ min: 0, max: 9 }), { minLength: n - 1, maxLength: n - 1 })).map(([first, rest]) => `${first}${rest.join('')}`),
);

describe('exactDecimal', () => {
  it('equals Number(text) whenever it answers, on random 16–19-digit decimals', () => {
    let answered = 0;
    let runs = 0;
    fc.assert(
      fc.property(sigDigits, fc.integer({ min: 1, max: 22 }), (digits, fractionDigits) => {
        runs++;
        const got = viaExact(digits, fractionDigits);
        if (Number.isNaN(got)) return;
        answered++;
        expect(got).toBe(Number(literal(digits, fractionDigits)));
      }),
      { numRuns: 100_000 },
    );
    // It must also be useful: most values are answered without the string.
    expect(answered / runs).toBeGreaterThan(0.9);
  });

  it('refuses ties and answers their neighbours right', () => {
    // 2^53 + 1 = 9007199254740993 lies halfway between two doubles.
    for (const [digits, k] of [
      ['9007199254740993', 1],
      ['9007199254740993', 10],
      ['90071992547409930', 2],
      ['9007199254740995', 1],
      ['1000000000000000000', 1], // 10^17 exactly: a power of two's neighbourhood is refused or right
      ['4503599627370497', 1],
      ['1234567890123456789', 22],
    ] as const) {
      const got = viaExact(digits, k);
      if (!Number.isNaN(got)) expect(got, `${digits}e-${k}`).toBe(Number(literal(digits, k)));
    }
    expect(viaExact('90071992547409930', 1)).toBeNaN(); // exactly halfway: left to Number()
  });

  it('refuses what it does not handle', () => {
    expect(exactDecimal(1, 2, 5, 3)).toBeNaN(); // more than 4 low digits
    expect(exactDecimal(1, 2, 1, 0)).toBeNaN();
    expect(exactDecimal(1, 2, 1, 23)).toBeNaN();
    expect(exactDecimal(0, 0, 1, 3)).toBeNaN();
  });

  it('gives the OpenTSDB scanner the same values as Number(text)', () => {
    const p = new SimplePoint();
    fc.assert(
      fc.property(sigDigits, fc.integer({ min: 1, max: 22 }), fc.boolean(), fc.integer({ min: -5, max: 5 }), (digits, k, negative, exp) => {
        const text = `${negative ? '-' : ''}${literal(digits, k)}${exp === 0 ? '' : `e${exp}`}`;
        const body = new TextEncoder().encode(`{"metric":"m","timestamp":1,"value":${text},"tags":{"a":"b"}}]`);
        expect(scanSimplePoint(body, 0, body.length, p)).toBeGreaterThan(0);
        if (!Number.isNaN(p.value)) expect(p.value, text).toBe(Number(text));
      }),
      { numRuns: 20_000 },
    );
  });
});
