// The Java, Jackson and OpenTSDB helper semantics OpenTSDB's answers are made of, re-implemented:
// String.hashCode and java.util.HashMap iteration order (tags are echoed and printed in it),
// AbstractMap.toString, Tags.parseLong / looksLikeInteger / fitsInFloat / validateString,
// Double.parseDouble, Internal.vleEncodeLong, Arrays.toString(byte[]), Jackson's and
// HttpQuery.escapeJson's string escaping. Pure functions; no I/O, no engine, no transport.

/** A java.lang.NumberFormatException: `message` is Java's text. */
export class JavaNumberFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'JavaNumberFormatError';
  }
}

/** Java's String.hashCode over UTF-16 code units (int32). */
export function javaStringHash(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (Math.imul(h, 31) + s.charCodeAt(i)) | 0;
  return h;
}

/**
 * Table size of a java.util.HashMap after `size` distinct puts, created with the default capacity
 * (16) or with `new HashMap(initialCapacity)` (Java 8: tableSizeFor, load factor 0.75, doubling on
 * each put past the threshold).
 */
function hashMapCapacity(size: number, initialCapacity?: number): number {
  let cap = 16;
  let threshold = 12;
  if (initialCapacity !== undefined) {
    cap = 1;
    while (cap < initialCapacity) cap *= 2;
    threshold = Math.floor(cap * 0.75);
  }
  for (let n = 1; n <= size; n++) {
    if (n <= threshold) continue;
    const old = cap;
    cap *= 2;
    threshold = old >= 16 ? threshold * 2 : Math.floor(cap * 0.75);
  }
  return cap;
}

/**
 * Iteration order of a java.util.HashMap<String, …> after put()s of distinct `keys` in array
 * order: the indices of `keys`, in the order entrySet() yields them. Buckets are walked in index
 * order, each in insertion order (resizes keep the relative order of a bucket). `initialCapacity`
 * is the constructor argument (default: the no-argument constructor). Treeified bins (8+ keys
 * colliding in one bucket of a 64+ table) are not modelled.
 */
export function javaHashMapOrder(keys: readonly string[], initialCapacity?: number): number[] {
  const n = keys.length;
  const order: number[] = [];
  if (n === 0) return order;
  if (n === 1) return [0];
  const mask = hashMapCapacity(n, initialCapacity) - 1;
  const bucket = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const h = javaStringHash(keys[i]!);
    bucket[i] = (h ^ (h >>> 16)) & mask;
    order.push(i);
  }
  // Array#sort is stable: equal buckets keep insertion order.
  order.sort((a, b) => bucket[a]! - bucket[b]!);
  return order;
}

/**
 * A java.util.HashMap<String, String> as OpenTSDB builds tag maps: put() replaces a value in place,
 * iteration follows Java's order (javaHashMapOrder). Values may be null (JSON `null` tag values).
 * Insertion order is kept in `keys`/`values`; `size` counts distinct keys.
 */
export class JavaStringMap {
  /** Keys in first-insertion order (distinct). */
  readonly keys: string[] = [];
  /** Values, parallel to `keys`. */
  readonly values: (string | null)[] = [];

  get size(): number {
    return this.keys.length;
  }

  clear(): void {
    this.keys.length = 0;
    this.values.length = 0;
  }

  /** HashMap.get: the value, or null when absent (or mapped to null). */
  get(key: string): string | null {
    const i = this.keys.indexOf(key);
    return i < 0 ? null : this.values[i]!;
  }

  has(key: string): boolean {
    return this.keys.indexOf(key) >= 0;
  }

  /** HashMap.put: replaces the value of an existing key in place, else appends. */
  put(key: string, value: string | null): void {
    const i = this.keys.indexOf(key);
    if (i >= 0) this.values[i] = value;
    else {
      this.keys.push(key);
      this.values.push(value);
    }
  }

  /** Indices into keys/values in Java's iteration order (of a map built with `new HashMap(initialCapacity)`, default capacity if omitted). */
  javaOrder(initialCapacity?: number): number[] {
    return javaHashMapOrder(this.keys, initialCapacity);
  }

  /** AbstractMap.toString: `{k1=v1, k2=v2}` in Java's order, null printed as "null". */
  toString(): string {
    if (this.keys.length === 0) return '{}';
    const parts: string[] = [];
    for (const i of this.javaOrder()) parts.push(`${this.keys[i]!}=${this.values[i] ?? 'null'}`);
    return `{${parts.join(', ')}}`;
  }

  /** Jackson's serialization of the map: `{"k":"v",…}` in Java's order (see javaOrder), null values as null. */
  toJson(initialCapacity?: number): string {
    let out = '{';
    let first = true;
    for (const i of this.javaOrder(initialCapacity)) {
      if (!first) out += ',';
      first = false;
      const v = this.values[i]!;
      out += `${jacksonString(this.keys[i]!)}:${v === null ? 'null' : jacksonString(v)}`;
    }
    return `${out}}`;
  }
}

/**
 * Java's String.split(regex) for a one-character literal separator (limit 0): trailing empty
 * strings are removed; a string without the separator is returned whole.
 */
export function javaSplit(s: string, separator: string): string[] {
  const parts = s.split(separator);
  let n = parts.length;
  while (n > 0 && parts[n - 1] === '') n--;
  // "".split(x) is [""] in Java (no match: the input itself).
  if (s.length === 0) return [''];
  return parts.slice(0, n);
}

/**
 * OpenTSDB's Tags.splitString: splits on every `separator` character and keeps every part, empty
 * ones included ("a=b=" → ["a", "b", ""]; "" → [""]), unlike String.split.
 */
export function splitString(s: string, separator: string): string[] {
  return s.split(separator);
}

/** Java's String.trim: removes code units ≤ U+0020 at both ends. */
export function javaTrim(s: string): string {
  let start = 0;
  let end = s.length;
  while (start < end && s.charCodeAt(start) <= 0x20) start++;
  while (end > start && s.charCodeAt(end - 1) <= 0x20) end--;
  return start === 0 && end === s.length ? s : s.slice(start, end);
}

// ------------------------------------------------------------------ numbers

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** Tags.looksLikeInteger: no '.', 'e' or 'E' anywhere. */
export function looksLikeInteger(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x2e || c === 0x65 || c === 0x45) return false;
  }
  return true;
}

/**
 * Tags.parseLong: optional sign, at most 19 digits (20 with a sign), ASCII digits, no overflow.
 * Returns a number when the value is a safe integer, else a bigint. Throws JavaNumberFormatError
 * with OpenTSDB's messages.
 */
export function parseTagsLong(s: string): number | bigint {
  const n = s.length;
  if (n === 0) throw new JavaNumberFormatError('Empty string');
  let i = 0;
  const c0 = s.charCodeAt(0);
  if (c0 < 0x30 && (c0 === 0x2b || c0 === 0x2d)) {
    if (n === 1) throw new JavaNumberFormatError(`Just a sign, no value: ${s}`);
    if (n > 20) throw new JavaNumberFormatError(`Value too long: ${s}`);
    i = 1;
  } else if (n > 19) throw new JavaNumberFormatError(`Value too long: ${s}`);
  let v = 0;
  for (let k = i; k < n; k++) {
    const c = s.charCodeAt(k);
    if (c < 0x30 || c > 0x39) throw new JavaNumberFormatError(`Invalid character '${s[k]!}' in ${s}`);
    v = v * 10 + (c - 0x30);
  }
  const negative = c0 === 0x2d;
  if (v <= Number.MAX_SAFE_INTEGER) return negative ? -v || 0 : v;
  const big = BigInt(s);
  if (big < INT64_MIN || big > INT64_MAX) throw new JavaNumberFormatError(`Overflow in ${s}`);
  return big;
}

/**
 * Long.parseLong (as Jackson's NumberInput.parseLong uses it): optional sign, ASCII digits, int64.
 * Returns undefined when Java would throw. (Java also takes non-ASCII decimal digits; Strata
 * does not.)
 */
export function parseJavaLong(s: string): number | bigint | undefined {
  if (!/^[+-]?[0-9]+$/.test(s)) return undefined;
  const big = BigInt(s);
  if (big < INT64_MIN || big > INT64_MAX) return undefined;
  return big >= -BigInt(Number.MAX_SAFE_INTEGER) && big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) || 0 : big;
}

/** Integer.parseInt (radix 10, ASCII digits): undefined where Java throws. */
export function parseJavaInt(s: string): number | undefined {
  if (!/^[+-]?[0-9]+$/.test(s)) return undefined;
  const v = Number(s);
  return v >= -2147483648 && v <= 2147483647 ? v || 0 : undefined;
}

const DECIMAL = /^[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?[fFdD]?$/;
const HEX_FLOAT = /^([+-]?)0[xX]([0-9a-fA-F]*)(?:\.([0-9a-fA-F]*))?[pP]([+-]?[0-9]+)[fFdD]?$/;

/**
 * Double.parseDouble: Java's grammar after trim() — sign, "NaN", "Infinity", decimal with an
 * optional f/F/d/D suffix, hexadecimal floating point. Throws JavaNumberFormatError with Java's
 * message ("empty String", `For input string: "…"`).
 */
export function parseJavaDouble(input: string): number {
  const s = javaTrim(input);
  if (s.length === 0) throw new JavaNumberFormatError('empty String');
  if (DECIMAL.test(s)) {
    const last = s.charCodeAt(s.length - 1) | 0x20;
    return Number(last === 0x66 || last === 0x64 ? s.slice(0, -1) : s);
  }
  const body = s.charCodeAt(0) === 0x2b || s.charCodeAt(0) === 0x2d ? s.slice(1) : s;
  if (body === 'NaN') return Number.NaN;
  if (body === 'Infinity') return s.charCodeAt(0) === 0x2d ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY;
  const hex = HEX_FLOAT.exec(s);
  if (hex !== null && (hex[2]!.length > 0 || (hex[3] ?? '').length > 0)) {
    const int = hex[2]!;
    const frac = hex[3] ?? '';
    const mantissa = BigInt(`0x${int}${frac}` === '0x' ? '0x0' : `0x${int}${frac}`);
    const exponent = Number(hex[4]!) - 4 * frac.length;
    const v = Number(mantissa) * 2 ** exponent;
    return hex[1] === '-' ? -v : v;
  }
  // FloatingDecimal reads the first run of digits and points after the sign and stops at a second point.
  const run = /^[0-9.]*/.exec(body)![0];
  if (run.indexOf('.') !== run.lastIndexOf('.')) throw new JavaNumberFormatError('multiple points');
  throw new JavaNumberFormatError(`For input string: "${s}"`);
}

/** Tags.fitsInFloat for an already parsed double: (float) d == d. */
export function fitsInFloat(d: number): boolean {
  return Math.fround(d) === d;
}

/** Float.toString / Double.toString for the values OpenTSDB prints in "value is NaN or Infinite". */
export function javaNonFiniteToString(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  return v > 0 ? 'Infinity' : '-Infinity';
}

/** A value as OpenTSDB's TSDB.addPoint encodes it: its bytes and flags (for "bad timestamp=" messages). */
export function openTsdbValueEncoding(value: number | bigint, kind: 'long' | 'float' | 'double'): { bytes: number[]; flags: number } {
  if (kind === 'long') {
    // Internal.vleEncodeLong: the shortest of 1, 2, 4 or 8 big-endian bytes; flags = length − 1.
    const v = BigInt(value);
    const width = v >= -128n && v <= 127n ? 1 : v >= -32768n && v <= 32767n ? 2 : v >= -2147483648n && v <= 2147483647n ? 4 : 8;
    return { bytes: bigEndianSigned(v, width), flags: width - 1 };
  }
  const view = new DataView(new ArrayBuffer(8));
  if (kind === 'float') {
    view.setFloat32(0, Number(value));
    return { bytes: [0, 1, 2, 3].map((i) => view.getInt8(i)), flags: 0x8 | 0x3 };
  }
  view.setFloat64(0, Number(value));
  return { bytes: [0, 1, 2, 3, 4, 5, 6, 7].map((i) => view.getInt8(i)), flags: 0x8 | 0x7 };
}

function bigEndianSigned(v: bigint, width: number): number[] {
  const out: number[] = [];
  for (let i = width - 1; i >= 0; i--) out.push(Number(BigInt.asIntN(8, v >> BigInt(8 * i))));
  return out;
}

/** Arrays.toString(byte[]): `[1, -2, 3]`. */
export function javaByteArrayToString(bytes: readonly number[]): string {
  return `[${bytes.join(', ')}]`;
}

// ------------------------------------------------------------------ names

const LETTER = /^\p{L}$/u;
const ASCII_NAME = new Uint8Array(128);
for (let c = 0x30; c <= 0x39; c++) ASCII_NAME[c] = 1;
for (let c = 0x41; c <= 0x5a; c++) ASCII_NAME[c] = 1;
for (let c = 0x61; c <= 0x7a; c++) ASCII_NAME[c] = 1;
for (const c of '-_./') ASCII_NAME[c.charCodeAt(0)] = 1;

/** Character.isLetter(char) on one UTF-16 code unit (surrogates are never letters). */
export function javaIsLetter(unit: number): boolean {
  if (unit < 0x80) return (unit >= 0x41 && unit <= 0x5a) || (unit >= 0x61 && unit <= 0x7a);
  if (unit >= 0xd800 && unit <= 0xdfff) return false;
  return LETTER.test(String.fromCharCode(unit));
}

/**
 * Tags.validateString: null, empty, or a code unit outside a-z A-Z 0-9 - _ . / Unicode letters and
 * `allowSpecialChars` (tsd.core.tag.allow_specialchars) gives OpenTSDB's message; valid → undefined.
 * `what` is "metric name", "tag name" or "tag value".
 */
export function validateOpenTsdbString(what: string, s: string | null, allowSpecialChars: string): string | undefined {
  if (s === null) return `Invalid ${what}: null`;
  if (s.length === 0) return `Invalid ${what}: empty string`;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80 ? ASCII_NAME[c] === 1 : javaIsLetter(c)) continue;
    if (allowSpecialChars.length > 0 && allowSpecialChars.indexOf(s[i]!) >= 0) continue;
    return `Invalid ${what} ("${s}"): illegal character: ${s[i]!}`;
  }
  return undefined;
}

// ------------------------------------------------------------------ JSON text

const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;
const HEX_UPPER = '0123456789ABCDEF';

/**
 * A JSON string literal as Jackson's generator writes it: `"` and `\` escaped, \b \t \n \f \r
 * short, other control characters as \u00XX (upper-case hex), everything else as is. A lone
 * surrogate (which Jackson refuses to write) is written as a \uXXXX escape.
 */
export function jacksonString(s: string): string {
  if (!NEEDS_ESCAPE.test(s)) return `"${s}"`;
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x22) out += '\\"';
    else if (c === 0x5c) out += '\\\\';
    else if (c < 0x20) out += shortEscape(c) ?? `\\u00${HEX_UPPER[c >> 4]!}${HEX_UPPER[c & 15]!}`;
    else if (c >= 0xd800 && c <= 0xdfff) {
      const next = s.charCodeAt(i + 1);
      if (c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
        out += s[i]! + s[i + 1]!;
        i++;
      } else out += `\\u${c.toString(16).toUpperCase()}`;
    } else out += s[i]!;
  }
  return `${out}"`;
}

function shortEscape(c: number): string | undefined {
  switch (c) {
    case 0x08:
      return '\\b';
    case 0x09:
      return '\\t';
    case 0x0a:
      return '\\n';
    case 0x0c:
      return '\\f';
    case 0x0d:
      return '\\r';
    default:
      return undefined;
  }
}

/**
 * The content of a JSON string as OpenTSDB's HttpQuery.escapeJson writes error messages (no
 * quotes added): `"` `\` and \b \f \n \r \t escaped, other control characters as \u00xx. Two
 * deviations, both to keep the output valid JSON: U+0010–U+001F get a correct escape (Java writes
 * "\u000" + two hex digits, or U+001F raw), and a lone surrogate becomes '?' (as Java's UTF-8
 * encoder writes it) rather than an unpaired code unit.
 */
export function escapeJsonLikeOpenTsdb(s: string): string {
  if (!NEEDS_ESCAPE.test(s)) return s;
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x22) out += '\\"';
    else if (c === 0x5c) out += '\\\\';
    else if (c < 0x20) out += shortEscape(c) ?? `\\u00${c.toString(16).padStart(2, '0')}`;
    else if (c >= 0xd800 && c <= 0xdfff) {
      const next = s.charCodeAt(i + 1);
      if (c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
        out += s[i]! + s[i + 1]!;
        i++;
      } else out += '?';
    } else out += s[i]!;
  }
  return out;
}
