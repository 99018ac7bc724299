// OneNET datapoint values (protocols.md §4.2, §7 "Number literals"): any JSON value, kept as
// uploaded. An integer literal within int64 is an Int64 point, any other number literal a Float64
// point (an integer literal beyond int64 is kept as its JSON text), a string a String point, and
// an object, array, boolean or null a Json point holding its JSON text with every number literal
// as written. Reading back prints each kind as the same JSON. Pure: no I/O.
import { ValueKind } from '../../../engine/index.js';
import { JsonTokenizer, type JsonTokenizerOptions } from '../json/tokenizer.js';
import { parseJsonChunks } from '../json/value.js';

/** A JSON number as written: its literal text, and whether it has no fraction and no exponent. */
export class NumberLiteral {
  constructor(
    readonly text: string,
    readonly isInteger: boolean,
  ) {}
}

/** A parsed JSON document whose numbers are NumberLiteral instances. */
export type LiteralJson = null | boolean | string | NumberLiteral | LiteralJson[] | { [key: string]: LiteralJson };

/** Parses `bytes` as one JSON document keeping number literals; throws JsonSyntaxError. */
export function parseLiteralJson(bytes: Uint8Array, options: JsonTokenizerOptions = {}): LiteralJson {
  return parseJsonChunks([bytes], (tok: JsonTokenizer) => new NumberLiteral(tok.numberText(), tok.isInteger), options) as LiteralJson;
}

export function isJsonObject(v: LiteralJson | undefined): v is { [key: string]: LiteralJson } {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof NumberLiteral);
}

/** JSON text of a LiteralJson value, number literals exactly as written, no spaces. */
export function stringifyLiteralJson(v: LiteralJson): string {
  if (v instanceof NumberLiteral) return v.text;
  if (v === null || typeof v !== 'object') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(stringifyLiteralJson).join(',')}]`;
  return `{${Object.keys(v)
    .map((k) => `${JSON.stringify(k)}:${stringifyLiteralJson(v[k]!)}`)
    .join(',')}}`;
}

/** One point's value as the engine stores it: `float` for Float64, `int` for Int64, `text` for String and Json. */
export type StoredValue =
  | { readonly kind: typeof ValueKind.Float64; readonly float: number }
  | { readonly kind: typeof ValueKind.Int64; readonly int: bigint }
  | { readonly kind: typeof ValueKind.String | typeof ValueKind.Json; readonly text: string };

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** How an uploaded value is stored (see the file header). */
export function storedValueOf(v: LiteralJson): StoredValue {
  if (v instanceof NumberLiteral) {
    if (v.isInteger) {
      const n = BigInt(v.text);
      if (n >= INT64_MIN && n <= INT64_MAX) return { kind: ValueKind.Int64, int: n };
      return { kind: ValueKind.Json, text: v.text };
    }
    const f = Number(v.text);
    // A literal past the double range (1e400) would become Infinity, which JSON cannot print: keep its text.
    return Number.isFinite(f) ? { kind: ValueKind.Float64, float: f } : { kind: ValueKind.Json, text: v.text };
  }
  if (typeof v === 'string') return { kind: ValueKind.String, text: v };
  return { kind: ValueKind.Json, text: stringifyLiteralJson(v) };
}

/** A double as a JSON literal that reads back as a double: `22.5`, `1.0`, `-0.0`, `1e+21`. */
export function formatDouble(f: number): string {
  if (!Number.isFinite(f)) return 'null'; // only other protocols can store NaN/Infinity; JSON has no literal for them
  if (Object.is(f, -0)) return '-0.0';
  const s = String(f);
  return /[.eE]/.test(s) ? s : `${s}.0`;
}

/** The JSON text of a stored value: the inverse of storedValueOf. */
export function valueJson(kind: number, float: number, int: bigint, text: string | undefined): string {
  switch (kind) {
    case ValueKind.Float64:
      return formatDouble(float);
    case ValueKind.Int64:
      return int.toString();
    case ValueKind.String:
      return JSON.stringify(text ?? '');
    default:
      return text ?? 'null';
  }
}
