// Differential tests of the incremental JSON tokenizer against JSON.parse: same accept/reject
// decision and same values for generated documents, hand-made edge cases and mutations, fed in
// every (small documents) or random (larger ones) chunk split.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../helpers/batches.js';
import {
  BEGIN_OBJECT,
  END,
  JsonSyntaxError,
  JsonTokenizer,
  KEY,
  NEED_MORE,
  NULL,
  NUMBER,
  STRING,
  decodeJsonString,
} from '../../../src/protocols/json/tokenizer.js';
import { parseJsonChunks, type NumberReviver } from '../../../src/protocols/json/value.js';

const enc = new TextEncoder();

type Outcome = { ok: true; value: unknown } | { ok: false };

function reference(bytes: Uint8Array): Outcome {
  try {
    return { ok: true, value: JSON.parse(Buffer.from(bytes).toString('utf8')) };
  } catch {
    return { ok: false };
  }
}

/** Checks every number token against its literal while building the value. */
const problems: string[] = [];
const checkedNumber: NumberReviver = (tok) => {
  const text = tok.numberText();
  const integer = !/[.eE]/.test(text);
  if (tok.isInteger !== integer) problems.push(`isInteger of ${text}`);
  if (!Object.is(tok.numberValue, Number(text))) problems.push(`value of ${text}: ${tok.numberValue}`);
  if (integer) {
    if (tok.bigintValue() !== BigInt(text)) problems.push(`bigint of ${text}`);
    if (tok.safeInteger !== Math.abs(Number(text)) <= Number.MAX_SAFE_INTEGER) problems.push(`safeInteger of ${text}`);
  } else if (tok.safeInteger) problems.push(`safeInteger on decimal ${text}`);
  return tok.numberValue;
};

function ours(chunks: readonly Uint8Array[]): Outcome {
  try {
    return { ok: true, value: parseJsonChunks(chunks, checkedNumber) };
  } catch (err) {
    if (err instanceof JsonSyntaxError) return { ok: false };
    throw err;
  }
}

function splitAt(bytes: Uint8Array, points: readonly number[]): Uint8Array[] {
  const sorted = [...points].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let prev = 0;
  for (const p of sorted) {
    out.push(bytes.subarray(prev, p));
    prev = p;
  }
  out.push(bytes.subarray(prev));
  return out;
}

/** Same decision and value as JSON.parse for the whole input and for every split given. */
function expectSameAsJsonParse(bytes: Uint8Array, splits: readonly (readonly number[])[]): void {
  const ref = reference(bytes);
  for (const points of [[], ...splits]) {
    problems.length = 0;
    const got = ours(splitAt(bytes, points));
    const label = `${JSON.stringify(Buffer.from(bytes).toString('utf8'))} split at [${points.join(',')}]`;
    expect(got.ok, label).toBe(ref.ok);
    if (ref.ok && got.ok) expect(got.value, label).toStrictEqual(ref.value);
    expect(problems, label).toEqual([]);
  }
}

/** Every single split point and a sample of two-point splits (small documents). */
function allSplits(n: number): number[][] {
  const out: number[][] = [];
  for (let i = 0; i <= n; i++) out.push([i]);
  for (let i = 0; i <= n; i += 3) for (let j = i; j <= n; j += 2) out.push([i, j]);
  return out;
}

function randomSplits(n: number, rnd: () => number, count: number): number[][] {
  const out: number[][] = [];
  for (let k = 0; k < count; k++) {
    const pts: number[] = [];
    const m = 1 + Math.floor(rnd() * 6);
    for (let i = 0; i < m; i++) pts.push(Math.floor(rnd() * (n + 1)));
    out.push(pts);
  }
  // One byte per chunk.
  out.push(Array.from({ length: n }, (_, i) => i));
  return out;
}

const NUMBER_CASES = [
  '0', '-0', '1', '-1', '1.0', '-1.0', '1e5', '1E5', '1e+5', '1E-5', '0.1', '0.000001', '0e0', '-0.0e-0', '0.5e1',
  '123456789012345', '1234567890123456', '9007199254740991', '9007199254740992', '9007199254740993', '-9007199254740993',
  '9223372036854775807', '-9223372036854775808', '9223372036854775808', '123456789012345678901234567890',
  '1.7976931348623157e308', '1e309', '-1e309', '5e-324', '2e-324', '2.2250738585072014e-308', '1234567890123456789e-5',
  '0.1e22', '1e22', '1e23', '1e-22', '1e-23', '3.141592653589793238462643383279', '100000000000000000000000e-10',
  '1e100000000000', '1e-100000000000', '12.34', '99.99', '0.30000000000000004',
  // invalid
  '01', '-01', '00', '-', '+1', '.5', '1.', '1.e5', '1e', '1e+', '1e-', '0x10', 'NaN', 'Infinity', '-Infinity', '1_000',
  '--1', '1.5.5', '1e5e5', '1ee5', '- 1', '1 2', '٣',
];

const STRING_CASES = [
  '""', '"a"', '"\\""', '"\\\\"', '"\\/"', '"\\b\\f\\n\\r\\t"', '"\\u0000"', '"\\u00e9"', '"\\u00E9"', '"\\uD83D\\uDE00"',
  '"\\ud800"', '"\\udc00"', '"\\ud800\\u0041"', '"\\ud800x"', '"x\\udfff"', '"é"', '"😀"', '"日本語"', '"\u007f"',
  '"\u2028\u2029"', '"a\\u0022b"',
  // invalid
  '"\\x"', '"\\u12"', '"\\u12g4"', '"\\U0041"', '"\t"', '"\n"', '"\u0000"', '"\u001f"', '"abc', '"\\', '"\\"', "'a'",
  '"a"b"',
];

const STRUCTURE_CASES = [
  '[]', '{}', '[[]]', '[{}]', '{"a":[]}', ' \t\n\r[ 1 , 2 ]\r\n\t ', '{"a":1,"a":2}', '{"__proto__":1}', '{"":""}',
  '[1,[2,[3,[4,[5]]]]]', 'true', 'false', 'null', '"s"', '12',
  // invalid
  '', ' ', '[', ']', '[1,]', '[,1]', '[1 2]', '{"a":1,}', '{"a" 1}', '{a:1}', '{"a":1 "b":2}', '{,}', '[1]]', '[] x',
  '1 2', 'tru', 'truee', 'nul', 'fals', 'True', '\u00a0[]', '\ufeff[]', '\u000b[]', '\f[]', '{"a":}', '{"a"}', '[}', '{]',
];

describe('JsonTokenizer vs JSON.parse', () => {
  it('numbers: same values, integer literals exact as bigint, in every split', () => {
    for (const c of NUMBER_CASES) {
      for (const doc of [c, `[${c}]`, `{"n":${c}}`, ` ${c} `]) {
        const bytes = enc.encode(doc);
        expectSameAsJsonParse(bytes, allSplits(bytes.length));
      }
    }
  });

  it('strings and escapes, lone surrogates included, in every split', () => {
    for (const c of STRING_CASES) {
      for (const doc of [c, `[${c},${c}]`, `{${c}:${c}}`]) {
        const bytes = enc.encode(doc);
        expectSameAsJsonParse(bytes, allSplits(bytes.length));
      }
    }
  });

  it('structure and whitespace, in every split', () => {
    for (const doc of STRUCTURE_CASES) {
      const bytes = enc.encode(doc);
      expectSameAsJsonParse(bytes, allSplits(bytes.length));
    }
  });

  it('invalid UTF-8 inside strings decodes like Buffer#toString; outside strings it is rejected', () => {
    const docs = [
      [0x22, 0xff, 0x22],
      [0x22, 0x61, 0xc3, 0x22],
      [0x22, 0xe2, 0x82, 0x22],
      [0x22, 0xed, 0xa0, 0x80, 0x22],
      [0x22, 0xf0, 0x9f, 0x98, 0x22],
      [0x22, 0xe2, 0x82, 0x5c, 0x6e, 0x22],
      [0x5b, 0xff, 0x5d],
      [0xc3, 0xa9],
    ];
    for (const d of docs) {
      const bytes = Uint8Array.from(d);
      expectSameAsJsonParse(bytes, allSplits(bytes.length));
    }
  });

  it('fc.json() documents in random splits', () => {
    fc.assert(
      fc.property(fc.json({ maxDepth: 4 }), fc.integer(), (doc, seed) => {
        const bytes = enc.encode(doc);
        expectSameAsJsonParse(bytes, bytes.length <= 48 ? allSplits(bytes.length) : randomSplits(bytes.length, seededRandom(seed), 8));
      }),
      { numRuns: 250 },
    );
  });

  it('fc.jsonValue() values (pretty-printed too) in random splits', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 5 }), fc.boolean(), fc.integer(), (value, pretty, seed) => {
        const bytes = enc.encode(JSON.stringify(value, null, pretty ? 2 : undefined));
        expectSameAsJsonParse(bytes, randomSplits(bytes.length, seededRandom(seed), 6));
      }),
      { numRuns: 250 },
    );
  });

  it('mutated and truncated documents get the same decision', () => {
    const alphabet = [...'{}[],:"\\ \t\n0123456789-+.eEtruefalsn', '\u0000', 'é', '\ud83d'];
    fc.assert(
      fc.property(
        fc.json({ maxDepth: 3 }),
        fc.array(fc.tuple(fc.nat(), fc.constantFrom('insert', 'delete', 'replace'), fc.constantFrom(...alphabet)), { maxLength: 3 }),
        fc.nat(),
        fc.integer(),
        (doc, edits, cut, seed) => {
          let text = doc;
          for (const [at, op, ch] of edits) {
            const i = text.length === 0 ? 0 : at % (text.length + 1);
            if (op === 'insert') text = text.slice(0, i) + ch + text.slice(i);
            else if (op === 'delete') text = text.slice(0, i) + text.slice(i + 1);
            else text = text.slice(0, i) + ch + text.slice(i + 1);
          }
          let bytes = enc.encode(text);
          if (cut % 3 === 0) bytes = bytes.subarray(0, cut % (bytes.length + 1));
          expectSameAsJsonParse(bytes, bytes.length <= 40 ? allSplits(bytes.length) : randomSplits(bytes.length, seededRandom(seed), 5));
        },
      ),
      { numRuns: 400 },
    );
  });

  it('large documents in many chunks (strings and numbers longer than a chunk)', () => {
    const rnd = seededRandom(42);
    const long = 'x'.repeat(5000) + '\\n\\u00e9' + 'y'.repeat(3000);
    const doc = `{"long":"${long}","n":${'9'.repeat(400)}.5e-3,"arr":[${Array.from({ length: 500 }, (_, i) => i * 1.25).join(',')}]}`;
    const bytes = enc.encode(doc);
    expectSameAsJsonParse(bytes, randomSplits(bytes.length, rnd, 10));
  });
});

describe('JsonTokenizer tokens', () => {
  function tokens(doc: string, lenient = false): string[] {
    const tok = new JsonTokenizer();
    tok.lenientArrays = lenient;
    tok.feed(enc.encode(doc), true);
    const out: string[] = [];
    for (let t = tok.next(); t !== END; t = tok.next()) {
      if (t === NUMBER) out.push(`N:${tok.numberText()}${tok.isInteger ? 'i' : 'd'}`);
      else if (t === STRING || t === KEY) out.push(`${t === KEY ? 'K' : 'S'}:${tok.stringValue()}`);
      else if (t === NULL) out.push(tok.elided ? 'elided' : 'null');
      else out.push(String(t));
    }
    return out;
  }

  it('keeps 1 and 1.0 apart and reports literal text', () => {
    expect(tokens('[1,1.0,1e0,-0,9007199254740993]')).toEqual(['4', 'N:1i', 'N:1.0d', 'N:1e0d', 'N:-0i', 'N:9007199254740993i', '5']);
    const tok = new JsonTokenizer();
    tok.feed(enc.encode('[9007199254740993,-9223372036854775809,1e2]'), true);
    tok.next();
    expect(tok.next()).toBe(NUMBER);
    expect(tok.bigintValue()).toBe(9007199254740993n);
    expect(tok.safeInteger).toBe(false);
    tok.next();
    expect(tok.bigintValue()).toBe(-9223372036854775809n);
    tok.next();
    expect(() => tok.bigintValue()).toThrow(TypeError);
  });

  it('lenient arrays read omitted elements as elided nulls (Gson), strict mode rejects them', () => {
    expect(tokens('[2,]', true)).toEqual(['4', 'N:2i', 'elided', '5']);
    expect(tokens('[,2]', true)).toEqual(['4', 'elided', 'N:2i', '5']);
    expect(tokens('[,]', true)).toEqual(['4', 'elided', 'elided', '5']);
    expect(tokens('[1,,2]', true)).toEqual(['4', 'N:1i', 'elided', 'N:2i', '5']);
    expect(tokens('[]', true)).toEqual(['4', '5']);
    expect(tokens('[null]', true)).toEqual(['4', 'null', '5']);
    expect(() => tokens('[2,]')).toThrow(JsonSyntaxError);
    expect(() => tokens('{"a":1,}', true)).toThrow(JsonSyntaxError);
  });

  it('reports line and column (bytes) of errors', () => {
    const cases: [string, number, number, string][] = [
      ['{\n  "a": x\n}', 2, 8, 'unexpected-character'],
      ['[1,\n2,\n\n  3 4]', 4, 5, 'expected-comma-or-array-end'],
      ['{"a" 1}', 1, 6, 'expected-colon'],
      ['"abc', 1, 5, 'unterminated-string'],
      ['"a\\qb"', 1, 4, 'invalid-escape'],
      ['[01]', 1, 3, 'expected-comma-or-array-end'],
      ['', 1, 1, 'unexpected-end'],
      ['[1', 1, 3, 'unexpected-end'],
      ['{"a":1}x', 1, 8, 'trailing-characters'],
      ['"\t"', 1, 2, 'control-character'],
      ['{1:2}', 1, 2, 'expected-key'],
    ];
    for (const [doc, line, column, reason] of cases) {
      for (const split of [[], [1], [3]]) {
        const tok = new JsonTokenizer();
        const bytes = enc.encode(doc);
        const chunks = splitAt(bytes, split.filter((p) => p <= bytes.length));
        let err: unknown;
        try {
          chunks.forEach((c, i) => {
            tok.feed(c, i === chunks.length - 1);
            while (tok.next() > END);
          });
        } catch (e) {
          err = e;
        }
        expect(err, doc).toBeInstanceOf(JsonSyntaxError);
        const e = err as JsonSyntaxError;
        expect([e.line, e.column, e.reason], doc).toEqual([line, column, reason]);
        expect(e.message).toContain(`at line ${line} column ${column}`);
        expect(() => tok.next()).toThrow(e);
      }
    }
  });

  it('rejects nesting beyond maxDepth', () => {
    const tok = new JsonTokenizer({ maxDepth: 3 });
    tok.feed(enc.encode('[[[1]]]'), true);
    while (tok.next() !== END);
    const deep = new JsonTokenizer({ maxDepth: 3 });
    deep.feed(enc.encode('[[[[1]]]]'), true);
    expect(() => {
      while (deep.next() !== END);
    }).toThrow(/Nesting deeper than 3/);
  });

  it('holds no more than one token: a chunk is free once NEED_MORE comes back', () => {
    const tok = new JsonTokenizer();
    const chunk = new Uint8Array(8);
    const doc = enc.encode('["abcdefghijklmnop",123456,"xyz"]');
    const seen: string[] = [];
    for (let at = 0; at < doc.length; at += 8) {
      const part = doc.subarray(at, at + 8);
      chunk.fill(0x20);
      chunk.set(part);
      tok.feed(chunk.subarray(0, part.length), at + 8 >= doc.length);
      for (let t = tok.next(); t !== NEED_MORE && t !== END; t = tok.next()) {
        if (t === STRING) seen.push(tok.stringValue());
        if (t === NUMBER) seen.push(tok.numberText());
      }
      chunk.fill(0xff); // the caller reuses its buffer
    }
    expect(seen).toEqual(['abcdefghijklmnop', '123456', 'xyz']);
  });

  it('skipVerbatimObject skips an identical object body and keeps positions right', () => {
    const body = '"a":"b",\n"c":"d"}';
    const span = enc.encode(body);
    const view = new DataView(span.buffer);
    const tok = new JsonTokenizer();
    tok.feed(enc.encode(`[{${body},{"a":"x"}, {${body}, 7 x]`), true);
    tok.next();
    expect(tok.next()).toBe(BEGIN_OBJECT);
    expect(tok.skipVerbatimObject(view, span.length, 1, body.indexOf('\n'))).toBe(true);
    expect(tok.next()).toBe(BEGIN_OBJECT);
    expect(tok.skipVerbatimObject(view, span.length, 1, body.indexOf('\n'))).toBe(false);
    expect(tok.next()).toBe(KEY);
    while (tok.next() !== BEGIN_OBJECT);
    expect(tok.skipVerbatimObject(view, span.length, 1, body.indexOf('\n'))).toBe(true);
    expect(tok.next()).toBe(NUMBER);
    expect(() => tok.next()).toThrow(/line 3 column 13/);
  });

  it('decodeJsonString matches JSON.parse on raw string content', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (s) => {
        const quoted = JSON.stringify(s);
        const raw = enc.encode(quoted.slice(1, -1));
        expect(decodeJsonString(raw, 0, raw.length)).toBe(JSON.parse(Buffer.from(enc.encode(quoted)).toString('utf8')));
      }),
      { numRuns: 100 },
    );
  });
});
