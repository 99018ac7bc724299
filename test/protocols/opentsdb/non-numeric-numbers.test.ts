// JsonTokenizer.nonNumericNumbers (Jackson's ALLOW_NON_NUMERIC_NUMBERS, which OpenTSDB enables):
// the opt-in hook added to src/protocols/json/tokenizer.ts for the OpenTSDB decoders.
import { describe, expect, it } from 'vitest';
import { END, JsonSyntaxError, JsonTokenizer, NEED_MORE, NUMBER } from '../../../src/protocols/json/tokenizer.js';

const enc = new TextEncoder();

/** Reads `[…]` given as chunks; returns [literal, value] of each NUMBER. */
function numbers(chunks: readonly string[], on = true): [string, number][] {
  const tok = new JsonTokenizer();
  tok.nonNumericNumbers = on;
  const out: [string, number][] = [];
  for (let i = 0; i < chunks.length; i++) {
    tok.feed(enc.encode(chunks[i]!), i === chunks.length - 1);
    for (let t = tok.next(); t !== NEED_MORE && t !== END; t = tok.next()) {
      if (t === NUMBER) {
        expect(tok.isInteger).toBe(Number.isInteger(tok.numberValue) && !/[.eE]/.test(tok.numberText()) && Number.isFinite(tok.numberValue));
        out.push([tok.numberText(), tok.numberValue]);
      }
    }
  }
  return out;
}

describe('nonNumericNumbers', () => {
  const all: [string, number][] = [
    ['NaN', Number.NaN],
    ['Infinity', Number.POSITIVE_INFINITY],
    ['+Infinity', Number.POSITIVE_INFINITY],
    ['-Infinity', Number.NEGATIVE_INFINITY],
    ['+INF', Number.POSITIVE_INFINITY],
    ['-INF', Number.NEGATIVE_INFINITY],
    ['-5', -5],
    ['1.5', 1.5],
  ];
  const text = `[${all.map((a) => a[0]).join(',')}]`;

  it('reads the six literals as non-integer NUMBER tokens, numbers unchanged', () => {
    expect(numbers([text])).toEqual(all);
  });

  it('any chunk split gives the same tokens', () => {
    for (let cut = 1; cut < text.length; cut++) expect(numbers([text.slice(0, cut), text.slice(cut)]), `cut ${cut}`).toEqual(all);
    expect(numbers(Array.from(text))).toEqual(all);
  });

  it('is off by default and after reset(); malformed literals are syntax errors', () => {
    expect(() => numbers(['[NaN]'], false)).toThrow(JsonSyntaxError);
    const tok = new JsonTokenizer();
    tok.nonNumericNumbers = true;
    tok.reset();
    expect(tok.nonNumericNumbers).toBe(false);
    for (const bad of ['[Nan]', '[Inf]', '[+5]', '[+Inx]', '[-I]', '[+]', '[NaN']) expect(() => numbers([bad]), bad).toThrow(JsonSyntaxError);
  });
});
