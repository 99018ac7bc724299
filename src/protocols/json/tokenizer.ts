// Incremental, allocation-free JSON tokenizer over UTF-8 bytes (RFC 8259, accepts and rejects
// exactly what `JSON.parse` of the decoded text does). Pull API over the current chunk; keeps
// number literals (integer vs `.`/`e`/`E`, exact int64 as bigint). Never builds the document:
// memory is the largest single token plus one byte per nesting level. Pure: no I/O, no engine.
//
// Contract (who owns what):
// - `feed(chunk, last)` lends the chunk to the tokenizer until `next()` returns NEED_MORE (or the
//   document ends). The caller must not modify it before then. A token cut by a chunk boundary is
//   copied into the tokenizer's own carry buffer (the only copy it makes), so the caller may reuse
//   a chunk once NEED_MORE comes back.
// - `next()` returns one token code. The token's data (raw byte range, number value, flags) stays
//   valid until the next call of `next()`, `feed()` or `reset()`: read it, or copy it, before that.
// - Structure (commas, colons, nesting, trailing garbage) is checked here: a consumer sees only
//   well-formed token sequences, and a JsonSyntaxError (with line/column) for anything else.
// - Position: `line` is 1-based; columns are 1-based and count bytes (UTF-8), not characters.

/** Token codes returned by `next()`. */
export const NEED_MORE = 0;
/** The document is complete (after its value, only whitespace, then the end of input). */
export const END = 1;
export const BEGIN_OBJECT = 2;
export const END_OBJECT = 3;
export const BEGIN_ARRAY = 4;
export const END_ARRAY = 5;
/** An object member name; read it like a STRING. */
export const KEY = 6;
export const STRING = 7;
export const NUMBER = 8;
export const TRUE = 9;
export const FALSE = 10;
export const NULL = 11;

const TOKEN_NAMES = ['NEED_MORE', 'END', 'BEGIN_OBJECT', 'END_OBJECT', 'BEGIN_ARRAY', 'END_ARRAY', 'KEY', 'STRING', 'NUMBER', 'TRUE', 'FALSE', 'NULL'];

/** Name of a token code, for messages ("BEGIN_OBJECT", "NUMBER", …). */
export function tokenName(token: number): string {
  return TOKEN_NAMES[token] ?? `TOKEN_${token}`;
}

/** What went wrong, for consumers that translate syntax errors into a protocol's own wording. */
export type JsonSyntaxReason =
  | 'unexpected-character' // where a value was expected
  | 'expected-colon'
  | 'expected-comma-or-object-end'
  | 'expected-comma-or-array-end'
  | 'expected-key'
  | 'unterminated-string' // end of input inside a string
  | 'control-character' // raw U+0000..U+001F inside a string
  | 'invalid-escape'
  | 'invalid-number'
  | 'invalid-literal'
  | 'unexpected-end' // end of input where more was required (also: empty input)
  | 'trailing-characters' // non-whitespace after the document
  | 'too-deep';

/** A syntax error with its position. `offset` is the absolute byte offset in the whole input. */
export class JsonSyntaxError extends Error {
  readonly reason: JsonSyntaxReason;
  readonly offset: number;
  readonly line: number;
  readonly column: number;
  /** The text before " at line …": the description alone. */
  readonly detail: string;

  constructor(reason: JsonSyntaxReason, detail: string, offset: number, line: number, column: number) {
    super(`${detail} at line ${line} column ${column}`);
    this.name = 'JsonSyntaxError';
    this.reason = reason;
    this.detail = detail;
    this.offset = offset;
    this.line = line;
    this.column = column;
  }
}

export interface JsonTokenizerOptions {
  /**
   * Deepest nesting accepted (JsonSyntaxError 'too-deep' beyond). Default 10,000. The one place
   * this tokenizer can reject what JSON.parse accepts; raise it if you need more.
   */
  readonly maxDepth?: number;
}

// Parser states: what may come next.
const ST_DOC = 0; // a value (start of the document)
const ST_DOC_END = 1; // only whitespace
const ST_ARR_FIRST = 2; // a value or ']'
const ST_ARR_VALUE = 3; // a value (after ',')
const ST_ARR_NEXT = 4; // ',' or ']'
const ST_OBJ_FIRST = 5; // a key or '}'
const ST_OBJ_KEY = 6; // a key (after ',')
const ST_OBJ_COLON = 7; // ':'
const ST_OBJ_VALUE = 8; // a value (after ':')
const ST_OBJ_NEXT = 9; // ',' or '}'
const ST_DONE = 10; // END returned

const IN_ARRAY = 1;
const IN_OBJECT = 2;

// Pending (cut) token kinds.
const PENDING_NONE = 0;
const PENDING_STRING = 1;
const PENDING_ATOM = 2; // number or literal

/** Byte classes inside a string: 0 plain ASCII, 1 '"', 2 '\', 3 control, 4 non-ASCII. */
const STRING_CLASS = new Uint8Array(256);
for (let b = 0; b < 0x20; b++) STRING_CLASS[b] = 3;
STRING_CLASS[0x22] = 1;
STRING_CLASS[0x5c] = 2;
for (let b = 0x80; b < 0x100; b++) STRING_CLASS[b] = 4;

/** Escape letters after '\' (besides 'u'): the character each stands for. */
const ESCAPE_CHAR = new Int32Array(256).fill(-1);
ESCAPE_CHAR[0x22] = 0x22;
ESCAPE_CHAR[0x5c] = 0x5c;
ESCAPE_CHAR[0x2f] = 0x2f;
ESCAPE_CHAR[0x62] = 0x08;
ESCAPE_CHAR[0x66] = 0x0c;
ESCAPE_CHAR[0x6e] = 0x0a;
ESCAPE_CHAR[0x72] = 0x0d;
ESCAPE_CHAR[0x74] = 0x09;

/** Hex digit values, −1 for anything else. */
const HEX = new Int8Array(256).fill(-1);
for (let d = 0; d < 10; d++) HEX[0x30 + d] = d;
for (let d = 0; d < 6; d++) {
  HEX[0x41 + d] = 10 + d;
  HEX[0x61 + d] = 10 + d;
}

/** Bytes that can continue a number or literal: where a cut atom may go on in the next chunk. */
const ATOM = new Uint8Array(256);
for (const c of '0123456789+-.eEabcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ') ATOM[c.charCodeAt(0)] = 1;

/** Exact powers of ten up to 10^22 (the Clinger fast path). */
const POW10 = new Float64Array(23);
for (let i = 0, p = 1; i < 23; i++, p *= 10) POW10[i] = p;

const EMPTY = new Uint8Array(0);

// Buffer's native slice decoders work on any Uint8Array (not only Buffers) and are the fastest
// way from bytes to a string in Node; utf8Slice replaces invalid sequences with U+FFFD exactly as
// Buffer#toString('utf8') does, so string values equal JSON.parse(buffer.toString()).
const latin1Slice = (Buffer.prototype as unknown as { latin1Slice(this: Uint8Array, s: number, e: number): string }).latin1Slice;
const utf8Slice = (Buffer.prototype as unknown as { utf8Slice(this: Uint8Array, s: number, e: number): string }).utf8Slice;

/** TypedArray#indexOf even on a Buffer (whose own indexOf is a slower wrapper). */
export const typedIndexOf = Uint8Array.prototype.indexOf;

/** buf[start, end) as Latin-1 (one char per byte; ASCII as is). */
export function latin1String(buf: Uint8Array, start: number, end: number): string {
  return latin1Slice.call(buf, start, end);
}

/** buf[start, end) as UTF-8, invalid sequences replaced by U+FFFD (as Buffer#toString). */
export function utf8String(buf: Uint8Array, start: number, end: number): string {
  return utf8Slice.call(buf, start, end);
}

// Short ASCII strings repeat (metric names, tag keys and values, field names): a direct-mapped
// cache keyed by their bytes returns the same string object without allocating. Purely a speed-up;
// shared by every tokenizer of the thread. Bench: bench/json.bench.ts.
const STRING_CACHE_SLOTS = 4096;
const STRING_CACHE_MAX_BYTES = 32;
const stringCache: string[] = new Array<string>(STRING_CACHE_SLOTS).fill('');

/** The string of ASCII bytes buf[start, end), from the cache when short. */
export function asciiString(buf: Uint8Array, start: number, end: number): string {
  const n = end - start;
  if (n === 0) return '';
  if (n > STRING_CACHE_MAX_BYTES) return latin1Slice.call(buf, start, end);
  let h = 0x811c9dc5 ^ n;
  for (let i = start; i < end; i++) h = Math.imul(h ^ buf[i]!, 0x01000193);
  const slot = (h ^ (h >>> 15)) & (STRING_CACHE_SLOTS - 1);
  const s = stringCache[slot]!;
  if (s.length === n) {
    let i = 0;
    while (i < n && s.charCodeAt(i) === buf[start + i]) i++;
    if (i === n) return s;
  }
  const fresh = latin1Slice.call(buf, start, end);
  stringCache[slot] = fresh;
  return fresh;
}

/**
 * Decodes the raw content of a JSON string (between the quotes, escapes still in) to the string
 * JSON.parse would produce: escapes resolved (a lone `\uD800` stays a lone surrogate, as in
 * JSON.parse), raw UTF-8 decoded with U+FFFD for invalid sequences. The range must already have
 * been validated by the tokenizer.
 */
export function decodeJsonString(buf: Uint8Array, start: number, end: number): string {
  let out = '';
  let run = start;
  let ascii = true;
  let i = start;
  while (i < end) {
    const c = buf[i]!;
    if (c !== 0x5c) {
      if (c >= 0x80) ascii = false;
      i++;
      continue;
    }
    if (i > run) out += ascii ? latin1Slice.call(buf, run, i) : utf8Slice.call(buf, run, i);
    ascii = true;
    const e = buf[i + 1]!;
    if (e === 0x75) {
      out += String.fromCharCode((HEX[buf[i + 2]!]! << 12) | (HEX[buf[i + 3]!]! << 8) | (HEX[buf[i + 4]!]! << 4) | HEX[buf[i + 5]!]!);
      i += 6;
    } else {
      out += String.fromCharCode(ESCAPE_CHAR[e]!);
      i += 2;
    }
    run = i;
  }
  if (end > run) out += ascii ? latin1Slice.call(buf, run, end) : utf8Slice.call(buf, run, end);
  return out;
}

/**
 * The tokenizer. One instance reads one document at a time; `reset()` prepares it for the next.
 * Typical loop:
 *
 *   tok.feed(chunk, isLast);
 *   for (let t = tok.next(); t !== NEED_MORE && t !== END; t = tok.next()) { ... }
 *
 * Token data (valid until the next call): for KEY/STRING `buf[tokenStart, tokenEnd)` is the raw
 * content between the quotes, with `escaped`/`ascii` flags and `stringValue()` to decode it; for
 * NUMBER the same range holds the literal, `isInteger` says whether it had no `.`/`e`/`E`,
 * `numberValue` is the value JSON.parse gives, `safeInteger` says that value is an exact integer
 * (|v| ≤ 2^53 − 1), and `bigintValue()` is exact for any integer literal.
 */
export class JsonTokenizer {
  /** Bytes the current token's range points into (the fed chunk, or the carry buffer). */
  buf: Uint8Array = EMPTY;
  tokenStart = 0;
  tokenEnd = 0;
  /** STRING/KEY: the raw content has at least one backslash escape. */
  escaped = false;
  /** STRING/KEY: every raw byte is < 0x80 (with `!escaped`: the bytes are the string). */
  ascii = true;
  /** NUMBER: the literal has no fraction and no exponent. */
  isInteger = false;
  /** NUMBER: the value as JSON.parse reads it (correctly rounded). */
  numberValue = 0;
  /** NUMBER: integer literal whose value fits exactly in a double (|v| ≤ 2^53 − 1). */
  safeInteger = false;
  /** NULL: produced for an omitted array element (see `lenientArrays`), not a `null` literal. */
  elided = false;
  /**
   * Gson-style leniency for arrays: an omitted element (`[1,]`, `[,2]`, `[1,,2]`) is read as a
   * NULL token with `elided` set, instead of a syntax error. May be toggled between tokens; off
   * by default (strict RFC 8259).
   */
  lenientArrays = false;
  /**
   * Jackson's ALLOW_NON_NUMERIC_NUMBERS (OpenTSDB turns it on): `NaN`, `Infinity`, `+Infinity`,
   * `-Infinity`, `+INF` and `-INF` are read as NUMBER tokens — not integers, `numberValue` NaN or
   * ±Infinity, `numberText()` the literal as written. May be toggled between tokens; off by default.
   */
  nonNumericNumbers = false;

  private readonly maxDepth: number;
  private pos = 0;
  private limit = 0;
  /** Absolute offset of buf[0]. */
  private base = 0;
  private input: Uint8Array = EMPTY;
  private inputBase = 0;
  private last = false;
  private state = ST_DOC;
  private stack = new Uint8Array(64);
  private depth = 0;
  private line = 1;
  /** Absolute offset of the first byte of the current line. */
  private lineStart = 0;
  /** Absolute offset of the current token's first byte. */
  private tokenOffset = 0;
  // Carry: a token cut by a chunk boundary, gathered until complete, then read from here.
  private carry = new Uint8Array(256);
  private carryLength = 0;
  private carryOffset = 0;
  private pending = PENDING_NONE;
  /** PENDING_STRING: the next input byte is escaped (the carry ends in an unpaired backslash). */
  private carryEscape = false;
  private inCarry = false;
  /** Where reading resumes in `input` once the carry is used up. */
  private resumeAt = 0;
  private failure: JsonSyntaxError | undefined;
  /** DataView over `viewOf` (the buffer last used by skipVerbatimObject). */
  private view: DataView = new DataView(new ArrayBuffer(0));
  private viewOf: Uint8Array = EMPTY;

  constructor(options: JsonTokenizerOptions = {}) {
    this.maxDepth = options.maxDepth ?? 10_000;
  }

  /** Forgets the current document; the next `feed` starts a new one at offset 0, line 1. */
  reset(): void {
    this.buf = EMPTY;
    this.input = EMPTY;
    this.pos = this.limit = this.base = this.inputBase = 0;
    this.last = false;
    this.state = ST_DOC;
    this.depth = 0;
    this.line = 1;
    this.lineStart = 0;
    this.tokenOffset = 0;
    this.carryLength = 0;
    this.pending = PENDING_NONE;
    this.carryEscape = false;
    this.inCarry = false;
    this.elided = false;
    this.lenientArrays = false;
    this.nonNumericNumbers = false;
    this.failure = undefined;
    if (this.carry.length > 64 * 1024) this.carry = new Uint8Array(256);
  }

  /**
   * Hands the next chunk over (see the file comment for ownership). `last` says no input follows
   * it (an empty chunk with `last` ends the input). Call it first, then again only after `next()`
   * returned NEED_MORE.
   */
  feed(chunk: Uint8Array, last = false): void {
    if (this.failure !== undefined) return;
    if (this.last) throw new Error('JsonTokenizer.feed after the last chunk');
    if (this.inCarry || this.pos < this.limit) throw new Error('JsonTokenizer.feed before the current chunk was consumed (next() must return NEED_MORE first)');
    this.inputBase += this.input.length;
    this.input = chunk;
    this.last = last;
    if (this.pending === PENDING_NONE) {
      this.buf = chunk;
      this.pos = 0;
      this.limit = chunk.length;
      this.base = this.inputBase;
      return;
    }
    // Complete the cut token from the start of this chunk.
    const n = chunk.length;
    let i = 0;
    let found = false;
    if (this.pending === PENDING_STRING) {
      let esc = this.carryEscape;
      for (; i < n; i++) {
        if (esc) {
          esc = false;
          continue;
        }
        const c = chunk[i]!;
        if (c === 0x5c) esc = true;
        else if (c === 0x22) {
          i++;
          found = true;
          break;
        }
      }
      this.carryEscape = esc;
    } else {
      while (i < n && ATOM[chunk[i]!] === 1) i++;
      found = i < n;
    }
    this.appendCarry(chunk, 0, i);
    if (found || last) {
      this.pending = PENDING_NONE;
      this.inCarry = true;
      this.resumeAt = i;
      this.buf = this.carry;
      this.pos = 0;
      this.limit = this.carryLength;
      this.base = this.carryOffset;
    } else {
      // Still cut: everything went to the carry.
      this.buf = chunk;
      this.pos = this.limit = n;
      this.base = this.inputBase;
    }
  }

  /**
   * While a cut number or literal is read from the carry: the byte of the input that ended it, or
   * −1 at the end of input (and outside the carry). A token that stops short at the carry's end is
   * an error about that byte, with the same message as when the token was not cut (found by
   * fuzzing: the message used to depend on where the chunks were cut).
   */
  private get afterCarry(): number {
    return this.inCarry && this.resumeAt < this.input.length ? this.input[this.resumeAt]! : -1;
  }

  /** Line (1-based) of the current token, or of the error position after a JsonSyntaxError. */
  get tokenLine(): number {
    return this.line;
  }

  /** Column (1-based, in bytes) of the current token's first byte. */
  get tokenColumn(): number {
    return this.tokenOffset - this.lineStart + 1;
  }

  /** Absolute byte offset of the current token's first byte. */
  get tokenByteOffset(): number {
    return this.tokenOffset;
  }

  /** Current nesting depth (0 at top level; 1 inside the outermost array/object, …). */
  get nesting(): number {
    return this.depth;
  }

  /** The error that stopped this document, if any. */
  get syntaxError(): JsonSyntaxError | undefined {
    return this.failure;
  }

  /** Reads the next token. Throws JsonSyntaxError on malformed input (and on every call after). */
  next(): number {
    if (this.pending !== PENDING_NONE) return NEED_MORE;
    if (this.failure !== undefined) throw this.failure;
    for (;;) {
      const buf = this.buf;
      const limit = this.limit;
      let pos = this.pos;
      let c = 0;
      while (pos < limit) {
        c = buf[pos]!;
        if (c > 0x20) break;
        if (c === 0x20 || c === 0x09 || c === 0x0d) pos++;
        else if (c === 0x0a) {
          pos++;
          this.line++;
          this.lineStart = this.base + pos;
        } else break;
      }
      if (pos >= limit) {
        if (this.inCarry) {
          this.inCarry = false;
          this.buf = this.input;
          this.pos = this.resumeAt;
          this.limit = this.input.length;
          this.base = this.inputBase;
          continue;
        }
        this.pos = pos;
        if (!this.last) return NEED_MORE;
        return this.atEnd(pos);
      }
      this.tokenOffset = this.base + pos;
      switch (this.state) {
        case ST_DOC:
        case ST_ARR_VALUE:
        case ST_OBJ_VALUE:
          return this.value(c, pos);
        case ST_ARR_FIRST:
          if (c === 0x5d) {
            this.depth--;
            this.afterValue(pos + 1);
            return END_ARRAY;
          }
          return this.value(c, pos);
        case ST_ARR_NEXT:
          if (c === 0x2c) {
            this.pos = pos + 1;
            this.state = ST_ARR_VALUE;
            continue;
          }
          if (c === 0x5d) {
            this.depth--;
            this.afterValue(pos + 1);
            return END_ARRAY;
          }
          throw this.error('expected-comma-or-array-end', `Expected ',' or ']' after an array element but found ${describe(c)}`, pos);
        case ST_OBJ_FIRST:
          if (c === 0x7d) {
            this.depth--;
            this.afterValue(pos + 1);
            return END_OBJECT;
          }
          return this.key(c, pos);
        case ST_OBJ_KEY:
          return this.key(c, pos);
        case ST_OBJ_COLON:
          if (c === 0x3a) {
            this.pos = pos + 1;
            this.state = ST_OBJ_VALUE;
            continue;
          }
          throw this.error('expected-colon', `Expected ':' after an object key but found ${describe(c)}`, pos);
        case ST_OBJ_NEXT:
          if (c === 0x2c) {
            this.pos = pos + 1;
            this.state = ST_OBJ_KEY;
            continue;
          }
          if (c === 0x7d) {
            this.depth--;
            this.afterValue(pos + 1);
            return END_OBJECT;
          }
          throw this.error('expected-comma-or-object-end', `Expected ',' or '}' after an object member but found ${describe(c)}`, pos);
        case ST_DOC_END:
          throw this.error('trailing-characters', `Unexpected ${describe(c)} after the end of the document`, pos);
        default:
          return END;
      }
    }
  }

  /**
   * Fast-path hook for consumers that can read a whole array element themselves (the OpenTSDB
   * put decoder's simple points): when the tokenizer is between two elements of an array, no
   * token is cut across chunks and the next element starts with '{' in the current buffer,
   * consumes the blanks (space, tab, CR) and the ',' before it and returns the element's index
   * in `buf`; else -1 (nothing consumed but blanks and that ','). The element may be cut by the
   * end of the buffer (`bufferLimit`): the consumer checks. Then either `skipElement(end)` or
   * `next()` as usual.
   */
  arrayElementStart(): number {
    if (this.pending !== PENDING_NONE || this.failure !== undefined || this.inCarry) return -1;
    let st = this.state;
    if (st !== ST_ARR_VALUE && st !== ST_ARR_FIRST && st !== ST_ARR_NEXT) return -1;
    // The element is an object holding an object (`tags`): two more levels.
    if (this.depth + 2 > this.maxDepth) return -1;
    const buf = this.buf;
    const limit = this.limit;
    let pos = this.pos;
    for (;;) {
      let c = 0;
      while (pos < limit && ((c = buf[pos]!) === 0x20 || c === 0x09 || c === 0x0d)) pos++;
      if (pos >= limit) break;
      if (st === ST_ARR_NEXT) {
        if (c !== 0x2c) break;
        pos++;
        st = ST_ARR_VALUE;
        continue;
      }
      this.pos = pos;
      this.state = st;
      return c === 0x7b ? pos : -1;
    }
    this.pos = pos;
    this.state = st;
    return -1;
  }

  /** End (exclusive) of the current buffer's valid bytes; see arrayElementStart. */
  get bufferLimit(): number {
    return this.limit;
  }

  /**
   * The consumer read the array element buf[arrayElementStart(), end) itself. It must be one
   * complete, well-formed JSON value holding no line feed (line numbers are not tracked through
   * it). The tokenizer continues after it as if it had returned its tokens.
   */
  skipElement(start: number, end: number): void {
    this.tokenOffset = this.base + start;
    this.afterValue(end);
  }

  private atEnd(pos: number): number {
    if (this.state === ST_DOC_END || this.state === ST_DONE) {
      this.state = ST_DONE;
      return END;
    }
    this.tokenOffset = this.base + pos;
    throw this.error('unexpected-end', this.state === ST_DOC && this.inputBase + this.input.length === 0 ? 'Unexpected end of input (empty document)' : 'Unexpected end of input', pos);
  }

  /**
   * Sets the state after a complete value ending before `pos`; a ',' right after it is taken at
   * once (saves a round of next() per member).
   */
  private afterValue(pos: number): void {
    const d = this.depth;
    if (d === 0) {
      this.state = ST_DOC_END;
      this.pos = pos;
      return;
    }
    const inArray = this.stack[d - 1] === IN_ARRAY;
    if (pos < this.limit && this.buf[pos] === 0x2c) {
      this.state = inArray ? ST_ARR_VALUE : ST_OBJ_KEY;
      this.pos = pos + 1;
    } else {
      this.state = inArray ? ST_ARR_NEXT : ST_OBJ_NEXT;
      this.pos = pos;
    }
  }

  private push(kind: number, pos: number): void {
    const d = this.depth;
    if (d >= this.maxDepth) throw this.error('too-deep', `Nesting deeper than ${this.maxDepth} levels`, pos);
    if (d === this.stack.length) {
      const grown = new Uint8Array(d * 2);
      grown.set(this.stack);
      this.stack = grown;
    }
    this.stack[d] = kind;
    this.depth = d + 1;
  }

  private value(c: number, pos: number): number {
    switch (c) {
      case 0x22: {
        const end = this.scanString(pos);
        if (end < 0) return NEED_MORE;
        this.afterValue(end);
        return STRING;
      }
      case 0x7b:
        this.push(IN_OBJECT, pos);
        this.pos = pos + 1;
        this.state = ST_OBJ_FIRST;
        return BEGIN_OBJECT;
      case 0x5b:
        this.push(IN_ARRAY, pos);
        this.pos = pos + 1;
        this.state = ST_ARR_FIRST;
        return BEGIN_ARRAY;
      case 0x74:
        return this.literal(pos, 0x727565, 4, TRUE);
      case 0x66:
        return this.literal(pos, 0x616c7365, 5, FALSE);
      case 0x6e:
        return this.literal(pos, 0x756c6c, 4, NULL);
      case 0x2c:
      case 0x5d:
        if (this.lenientArrays && (this.state === ST_ARR_FIRST || this.state === ST_ARR_VALUE) && (c === 0x2c || this.state === ST_ARR_VALUE)) {
          // Omitted element: a null; the ',' or ']' is read as if it followed one.
          this.elided = true;
          this.afterValue(pos);
          return NULL;
        }
        break;
      case 0x4e:
      case 0x49:
      case 0x2b:
        if (this.nonNumericNumbers) return this.nonNumeric(pos);
        break;
      default:
        if (c === 0x2d && this.nonNumericNumbers && (pos + 1 >= this.limit ? this.afterCarry < 0 : this.buf[pos + 1] === 0x49)) return this.nonNumeric(pos);
        if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
          const end = this.scanNumber(pos);
          if (end < 0) return NEED_MORE;
          this.afterValue(end);
          return NUMBER;
        }
    }
    throw this.error('unexpected-character', `Unexpected ${describe(c)} where a value was expected`, pos);
  }

  private key(c: number, pos: number): number {
    if (c !== 0x22) throw this.error('expected-key', `Expected a double-quoted key but found ${describe(c)}`, pos);
    const end = this.scanString(pos);
    if (end < 0) return NEED_MORE;
    if (end < this.limit && this.buf[end] === 0x3a) {
      this.pos = end + 1;
      this.state = ST_OBJ_VALUE;
    } else {
      this.pos = end;
      this.state = ST_OBJ_COLON;
    }
    return KEY;
  }

  /** `packed` holds the literal's bytes after its first letter, big-endian ('rue', 'alse', 'ull'). */
  private literal(pos: number, packed: number, length: number, token: number): number {
    const buf = this.buf;
    const limit = this.limit;
    const hard = this.inCarry || this.last;
    for (let i = 1; i < length; i++) {
      if (pos + i >= limit) {
        if (hard) throw this.error('invalid-literal', this.afterCarry < 0 ? 'Unexpected end of input inside a literal' : `Unexpected ${describe(this.afterCarry)} in a literal`, pos + i);
        this.cut(PENDING_ATOM, pos);
        return NEED_MORE;
      }
      const expected = (packed >>> (8 * (length - 1 - i))) & 0xff;
      if (buf[pos + i] !== expected) throw this.error('invalid-literal', `Unexpected ${describe(buf[pos + i]!)} in a literal`, pos + i);
    }
    this.elided = false;
    this.afterValue(pos + length);
    return token;
  }

  /**
   * `nonNumericNumbers`: one of Jackson's non-numeric literals starting at `pos` (its first byte is
   * 'N', 'I', '+' or '-'), as a NUMBER token; a literal cut by the chunk end waits in the carry.
   */
  private nonNumeric(pos: number): number {
    const buf = this.buf;
    const limit = this.limit;
    const hard = this.inCarry || this.last;
    const c = buf[pos]!;
    let text: string;
    let value: number;
    if (c === 0x4e) {
      text = 'NaN';
      value = Number.NaN;
    } else if (c === 0x49) {
      text = 'Infinity';
      value = Number.POSITIVE_INFINITY;
    } else {
      // '+' or '-': "INF" or "Infinity" follows; the third byte tells which.
      // Decided by the second byte alone when it is there (so the message does not depend on where
      // a chunk ends, nor on whether a third byte follows).
      if (pos + 1 < limit && buf[pos + 1] !== 0x49) throw this.error('invalid-number', `No digit after a sign (found ${describe(buf[pos + 1]!)})`, pos + 1);
      if (pos + 2 >= limit) {
        if (hard && this.afterCarry >= 0) {
          // The carry ends where the input goes on: the error is about the byte that ended it.
          if (pos + 1 >= limit) throw this.error('invalid-number', `No digit after a sign (found ${describe(this.afterCarry)})`, pos + 1);
          throw this.error('invalid-literal', `Unexpected ${describe(this.afterCarry)} in a literal`, pos + 2);
        }
        if (hard) throw this.error('invalid-number', 'Unexpected end of input in a number', limit);
        this.cut(PENDING_ATOM, pos);
        return NEED_MORE;
      }
      if (buf[pos + 1] !== 0x49) throw this.error('invalid-number', `No digit after a sign (found ${describe(buf[pos + 1]!)})`, pos + 1);
      const long = buf[pos + 2] === 0x6e;
      text = `${c === 0x2d ? '-' : '+'}${long ? 'Infinity' : 'INF'}`;
      value = c === 0x2d ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY;
    }
    const n = text.length;
    for (let i = 1; i < n; i++) {
      if (pos + i >= limit) {
        if (hard) throw this.error('invalid-literal', this.afterCarry < 0 ? 'Unexpected end of input inside a literal' : `Unexpected ${describe(this.afterCarry)} in a literal`, pos + i);
        this.cut(PENDING_ATOM, pos);
        return NEED_MORE;
      }
      if (buf[pos + i] !== text.charCodeAt(i)) throw this.error('invalid-literal', `Unexpected ${describe(buf[pos + i]!)} in a literal`, pos + i);
    }
    this.tokenStart = pos;
    this.tokenEnd = pos + n;
    this.isInteger = false;
    this.safeInteger = false;
    this.numberValue = value;
    this.elided = false;
    this.afterValue(pos + n);
    return NUMBER;
  }

  /**
   * Scans a string starting at its opening quote. Returns the position after the closing quote,
   * or −1 when the chunk ends first (the token went to the carry).
   */
  private scanString(pos: number): number {
    const buf = this.buf;
    const limit = this.limit;
    const start = pos + 1;
    let p = start;
    let escaped = false;
    let ascii = true;
    for (;;) {
      // Plain ASCII runs: 0x20..0x7f except '"' and '\' (comparisons beat a table lookup).
      let c = 0;
      while (p < limit && (c = buf[p]!) >= 0x20 && c < 0x80 && c !== 0x22 && c !== 0x5c) p++;
      if (p >= limit) break;
      const cls = STRING_CLASS[c]!;
      if (cls === 1) {
        this.tokenStart = start;
        this.tokenEnd = p;
        this.escaped = escaped;
        this.ascii = ascii;
        return p + 1;
      }
      if (cls === 4) {
        ascii = false;
        p++;
        continue;
      }
      if (cls === 3) throw this.error('control-character', `Bad control character ${describe(buf[p]!)} in a string`, p);
      // Backslash.
      escaped = true;
      if (p + 1 >= limit) break;
      const e = buf[p + 1]!;
      if (e === 0x75) {
        for (let k = 2; k < 6; k++) {
          if (p + k >= limit) {
            p = limit;
            break;
          }
          if (HEX[buf[p + k]!]! < 0) throw this.error('invalid-escape', `Bad Unicode escape: ${describe(buf[p + k]!)} is not a hex digit`, p + k);
        }
        if (p >= limit) break;
        p += 6;
      } else if (ESCAPE_CHAR[e]! >= 0) {
        p += 2;
      } else {
        throw this.error('invalid-escape', `Bad escape sequence '\\${e >= 0x20 && e < 0x7f ? String.fromCharCode(e) : describe(e)}' in a string`, p + 1);
      }
    }
    if (this.inCarry || this.last) throw this.error('unterminated-string', 'Unterminated string', limit);
    return this.cut(PENDING_STRING, pos);
  }

  /**
   * Scans a number literal (strict JSON grammar) and computes its value: exact integers and
   * simple decimals by the Clinger fast path (≤ 15 digits, |exponent| ≤ 22, one rounding),
   * anything else through Number() of the literal, which rounds correctly like JSON.parse.
   * Returns the position after it, or −1 when the chunk ends first (the literal might go on).
   */
  private scanNumber(pos: number): number {
    const buf = this.buf;
    const limit = this.limit;
    const hard = this.inCarry || this.last;
    let p = pos;
    let negative = false;
    if (buf[p] === 0x2d) {
      negative = true;
      p++;
      if (p >= limit) return hard ? this.badNumber(this.afterCarry < 0 ? 'Unexpected end of input after a minus sign' : `No digit after a minus sign (found ${describe(this.afterCarry)})`, p) : this.cut(PENDING_ATOM, pos);
    }
    let c = buf[p]!;
    let v = 0;
    let digits = 0;
    if (c === 0x30) {
      p++;
    } else if (c >= 0x31 && c <= 0x39) {
      v = c - 0x30;
      digits = 1;
      p++;
      while (p < limit && (c = buf[p]!) >= 0x30 && c <= 0x39) {
        v = v * 10 + (c - 0x30);
        digits++;
        p++;
      }
    } else {
      return this.badNumber(`No digit after a minus sign (found ${describe(c)})`, p);
    }
    let isInteger = true;
    let exponent = 0;
    if (p < limit && buf[p] === 0x2e) {
      isInteger = false;
      p++;
      if (p >= limit) return hard ? this.badNumber(this.afterCarry < 0 ? 'Unexpected end of input after a decimal point' : `No digit after a decimal point (found ${describe(this.afterCarry)})`, p) : this.cut(PENDING_ATOM, pos);
      c = buf[p]!;
      if (c < 0x30 || c > 0x39) return this.badNumber(`No digit after a decimal point (found ${describe(c)})`, p);
      do {
        v = v * 10 + (c - 0x30);
        digits++;
        exponent--;
        p++;
      } while (p < limit && (c = buf[p]!) >= 0x30 && c <= 0x39);
    }
    if (p < limit && (buf[p]! | 0x20) === 0x65) {
      isInteger = false;
      p++;
      if (p >= limit) return hard ? this.badNumber(this.afterCarry < 0 ? 'Unexpected end of input in an exponent' : `No digit in an exponent (found ${describe(this.afterCarry)})`, p) : this.cut(PENDING_ATOM, pos);
      c = buf[p]!;
      let expNegative = false;
      if (c === 0x2b || c === 0x2d) {
        expNegative = c === 0x2d;
        p++;
        if (p >= limit) return hard ? this.badNumber(this.afterCarry < 0 ? 'Unexpected end of input in an exponent' : `No digit in an exponent (found ${describe(this.afterCarry)})`, p) : this.cut(PENDING_ATOM, pos);
        c = buf[p]!;
      }
      if (c < 0x30 || c > 0x39) return this.badNumber(`No digit in an exponent (found ${describe(c)})`, p);
      let e = 0;
      do {
        if (e < 100_000_000) e = e * 10 + (c - 0x30);
        p++;
      } while (p < limit && (c = buf[p]!) >= 0x30 && c <= 0x39);
      exponent += expNegative ? -e : e;
    }
    if (p >= limit && !hard) return this.cut(PENDING_ATOM, pos);
    this.tokenStart = pos;
    this.tokenEnd = p;
    this.isInteger = isInteger;
    if (digits <= 15 && exponent >= -22 && exponent <= 22) {
      // v < 10^15 < 2^53 is exact, so is 10^|exponent|: one correctly rounded operation.
      if (exponent < 0) v /= POW10[-exponent]!;
      else if (exponent > 0) v *= POW10[exponent]!;
      this.numberValue = negative ? -v : v;
      this.safeInteger = isInteger;
    } else {
      const value = Number(latin1Slice.call(buf, pos, p));
      this.numberValue = value;
      this.safeInteger = isInteger && Math.abs(value) <= Number.MAX_SAFE_INTEGER;
    }
    return p;
  }

  private badNumber(detail: string, at: number): never {
    throw this.error('invalid-number', detail, at);
  }

  /** Moves the token that starts at `from` into the carry; the chunk is used up. Returns −1. */
  private cut(kind: number, from: number): number {
    this.carryLength = 0;
    this.appendCarry(this.buf, from, this.limit);
    this.carryOffset = this.base + from;
    this.pending = kind;
    this.carryEscape = false;
    if (kind === PENDING_STRING) {
      // Does the cut fall right after an unpaired backslash? Count the run of backslashes at the end.
      let k = 0;
      for (let i = this.limit - 1; i > from && this.buf[i] === 0x5c; i--) k++;
      this.carryEscape = (k & 1) === 1;
    }
    this.pos = this.limit;
    return -1;
  }

  private appendCarry(src: Uint8Array, from: number, to: number): void {
    const n = to - from;
    if (n <= 0) return;
    const need = this.carryLength + n;
    if (need > this.carry.length) {
      const grown = new Uint8Array(Math.max(need, this.carry.length * 2));
      grown.set(this.carry.subarray(0, this.carryLength));
      this.carry = grown;
    }
    this.carry.set(src.subarray(from, to), this.carryLength);
    this.carryLength = need;
  }

  /** Builds the error and stops the document: every later `next()` throws it again. */
  private error(reason: JsonSyntaxReason, detail: string, pos: number): JsonSyntaxError {
    const offset = this.base + pos;
    const err = new JsonSyntaxError(reason, detail, offset, this.line, offset - this.lineStart + 1);
    this.failure = err;
    this.pending = PENDING_NONE;
    this.inCarry = false;
    this.pos = this.limit = 0;
    return err;
  }

  // ------------------------------------------------------------------ verbatim spans

  /**
   * Absolute offset where the next token's search starts (just after the last token and any ','
   * or ':' taken with it). With `tokenByteOffset` of a later token it delimits raw spans.
   */
  get nextByteOffset(): number {
    return this.base + this.pos;
  }

  /** Absolute offset of the first byte of the current line (see `tokenLine`). */
  get lineStartOffset(): number {
    return this.lineStart;
  }

  /**
   * Copies the input bytes [fromOffset, toOffset) (absolute) into `out` (and its DataView
   * `outView`) at 0 and returns true, if they are all still in the current buffer; false
   * otherwise (a span cut by a chunk boundary).
   */
  copySpan(fromOffset: number, toOffset: number, out: Uint8Array, outView: DataView): boolean {
    const from = fromOffset - this.base;
    const to = toOffset - this.base;
    if (from < 0 || to > this.limit || to - from > out.length) return false;
    const view = this.viewOfBuf();
    const n = to - from;
    let i = 0;
    for (; i + 4 <= n; i += 4) outView.setInt32(i, view.getInt32(from + i, true), true);
    const buf = this.buf;
    for (; i < n; i++) out[i] = buf[from + i]!;
    return true;
  }

  private viewOfBuf(): DataView {
    const buf = this.buf;
    if (this.viewOf !== buf) {
      this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
      this.viewOf = buf;
    }
    return this.view;
  }

  /**
   * Right after a BEGIN_OBJECT token: a hash of the bytes that follow, up to and including the
   * first '}' or `maxBytes` bytes, whichever comes first — a function of the object's own bytes,
   * to pick a cached span for skipVerbatimObject. −1 if the buffer ends first.
   */
  peekObjectHash(maxBytes: number): number {
    const buf = this.buf;
    const pos = this.pos;
    const close = typedIndexOf.call(buf, 0x7d, pos);
    let stop: number;
    if (close >= 0 && close < pos + maxBytes) stop = close + 1;
    else if (pos + maxBytes <= this.limit) stop = pos + maxBytes;
    else return -1;
    const view = this.viewOfBuf();
    let h = 0x811c9dc5 ^ (stop - pos);
    let i = pos;
    for (; i + 4 <= stop; i += 4) h = Math.imul(h ^ view.getInt32(i, true), 0x01000193) ^ (h >>> 15);
    for (; i < stop; i++) h = Math.imul(h ^ buf[i]!, 0x01000193);
    return (h ^ (h >>> 15)) >>> 0;
  }

  /**
   * Right after a BEGIN_OBJECT token: if the input continues with exactly the bytes of `span`
   * [0, length) —
   * the body and closing '}' of an object this tokenizer has already read and accepted — skips
   * it as if END_OBJECT had been returned, and returns true. Otherwise (or when the input does
   * not hold `length` more bytes) nothing changes and it returns false. An object's body is valid
   * or not whatever surrounds it, so the skipped bytes need no second check. `newlines` and
   * `lastNewline` (index in span, −1 if none) keep line numbers right.
   */
  skipVerbatimObject(span: DataView, length: number, newlines: number, lastNewline: number): boolean {
    if (this.state !== ST_OBJ_FIRST) return false;
    const pos = this.pos;
    if (pos + length > this.limit) return false;
    const buf = this.buf;
    const view = this.viewOfBuf();
    // Eight bytes per compare: unaligned DataView reads beat a byte loop and Buffer#compare.
    // Comparing them as doubles is exact here: two different bit patterns compare equal only for
    // +0/−0, which need NUL bytes, and an accepted JSON object body holds none (NaN never
    // compares equal, so it can only cause a miss).
    let i = 0;
    for (; i + 8 <= length; i += 8) if (view.getFloat64(pos + i, true) !== span.getFloat64(i, true)) return false;
    for (; i < length; i++) if (buf[pos + i] !== span.getUint8(i)) return false;
    if (newlines > 0) {
      this.line += newlines;
      this.lineStart = this.base + pos + lastNewline + 1;
    }
    this.tokenOffset = this.base + pos + length - 1;
    this.depth--;
    this.afterValue(pos + length);
    return true;
  }

  // ------------------------------------------------------------------ token data

  /** KEY/STRING: the decoded string (JSON.parse semantics). Short ASCII strings come from a cache. */
  stringValue(): string {
    if (this.escaped) return decodeJsonString(this.buf, this.tokenStart, this.tokenEnd);
    if (this.ascii) return asciiString(this.buf, this.tokenStart, this.tokenEnd);
    return utf8Slice.call(this.buf, this.tokenStart, this.tokenEnd);
  }

  /** KEY/STRING without escapes: whether the raw bytes equal `bytes` (an ASCII name). */
  rawEquals(bytes: Uint8Array): boolean {
    const n = bytes.length;
    if (this.tokenEnd - this.tokenStart !== n) return false;
    const buf = this.buf;
    const s = this.tokenStart;
    for (let i = 0; i < n; i++) if (buf[s + i] !== bytes[i]) return false;
    return true;
  }

  /** NUMBER: the literal exactly as written ("1.50", "-0", "1E+5"). */
  numberText(): string {
    return latin1Slice.call(this.buf, this.tokenStart, this.tokenEnd);
  }

  /** NUMBER with `isInteger`: the exact value, however large. Throws TypeError otherwise. */
  bigintValue(): bigint {
    if (!this.isInteger) throw new TypeError(`${this.numberText()} is not an integer literal`);
    return this.safeInteger ? BigInt(this.numberValue) : BigInt(this.numberText());
  }
}

function describe(c: number): string {
  if (c >= 0x21 && c < 0x7f) return `'${String.fromCharCode(c)}'`;
  return `byte 0x${c.toString(16).padStart(2, '0')}`;
}
