// The line protocol of the telnet port (protocols.md §1.6 as overridden by §7, errors as §2.6):
// KairosDB `put` / `putm` / `puts` and `version`, plus OpenTSDB's `help` and `exit`; a command
// table open to more (OpenTSDB's `rollup`, and OpenTSDB's own `put` in place of the built-in one:
// src/protocols/opentsdb/telnet-commands.ts). Bytes in, points through a BatchBuilder and reply
// text out. Pure: no sockets, threads or engine writer; imports nothing from http/, pool/, telnet/.
import type { WriteBatch } from '../../../engine/index.js';
import { BatchBuilder, MAX_ABS_TIMESTAMP_MS, type BatchBuilderOptions } from '../batch-builder.js';
import { latin1String, typedIndexOf, utf8String } from '../json/tokenizer.js';
import { ROLLUP_TAG_KEY } from '../reserved-tags.js';

/** Longest line accepted, in bytes, without its "\n" or "\r\n" (KairosDB `max_command_size`). */
export const DEFAULT_MAX_LINE_BYTES = 1024;
/** What `version` answers by default (one line). */
export const DEFAULT_VERSION_REPLY = 'KairosDB 1.3.0-1';

/** The calls this decoder makes where KairosDB and OpenTSDB differ or say nothing. */
export const TELNET_DECISIONS = [
  'put: timestamps follow OpenTSDB — a positive integer, a "." removed ("1364410924.250" is ms), seconds unless a bit above bit 31 is set, milliseconds at most 9999999999999 — instead of KairosDB\'s "< 3,000,000,000 is seconds".',
  'putm and puts: milliseconds, any integer with |t| < 2^50 (negative and 0 included, as KairosDB).',
  'Values follow protocols.md §7: a literal with ".", "e" or "E" is a double, otherwise a 64-bit integer (KairosDB rejects 1e5); NaN and infinities are refused.',
  'Errors are written back as OpenTSDB does ("<cmd>: illegal argument: …", "<cmd>: invalid value: …", "unknown command: …"), with KairosDB\'s own messages where KairosDB defines one; KairosDB itself only logs them.',
  'A repeated tag key with another value is an error ("duplicate tag: …", OpenTSDB); with the same value it is ignored.',
  'Bytes are UTF-8 (KairosDB reads ISO-8859-1, mangling non-ASCII names).',
  'Blank lines are ignored. A line longer than the limit is dropped with "error: line too long (more than N bytes)" and the connection stays open.',
  'A word starting with \'"\' runs to the next \'"\' (spaces included); the quotes are not part of it.',
  'The tag key strata:rollup (Strata\'s rollup identity) is refused: by putm and puts with "tag[N].name \'strata:rollup\' is reserved for rollups.", by the line port\'s OpenTSDB put as /api/put refuses it.',
] as const;

export interface TelnetDecoderOptions extends BatchBuilderOptions {
  /** Default 1,024 (DEFAULT_MAX_LINE_BYTES). */
  readonly maxLineBytes?: number;
  /** Text `version` answers (a "\n" is added). Default DEFAULT_VERSION_REPLY. */
  readonly versionReply?: string;
}

export interface TelnetDecodeResult {
  /** Text to write back, in line order ("" when nothing is to be said). */
  readonly replies: string;
  /**
   * The unconsumed end of the input (after its last "\n"): prepend it to the next burst. A
   * subarray of the input: copy it before the input's memory is reused. Never longer than
   * maxLineBytes + 1 (an over-long line keeps only its first bytes, so it is still known to be too
   * long when its end arrives).
   */
  readonly tail: Uint8Array;
  /** Points added by this burst. */
  readonly points: number;
  /** `exit` was seen: close the connection after writing `replies` (later lines were ignored). */
  readonly close: boolean;
}

/**
 * What a command handler gets for one line. Valid only during the handler call (the decoder
 * reuses it for the next line).
 */
export interface TelnetLine {
  /** The line's words (the command first), UTF-8; built on first use. */
  readonly words: readonly string[];
  /** The burst the line is in; word w is bytes[wordStart(w), wordEnd(w)) (quotes excluded). */
  readonly bytes: Uint8Array;
  readonly wordCount: number;
  wordStart(w: number): number;
  wordEnd(w: number): number;
  /** Where points go (select a series, add points). */
  readonly builder: BatchBuilder;
  /** Appends one reply line ("\n" added). */
  reply(text: string): void;
  /** Counts points added to the builder, for TelnetDecodeResult.points. */
  addedPoints(count: number): void;
  /** Closes the connection after this burst's replies; later lines are not read. */
  close(): void;
}

export type TelnetCommandHandler = (line: TelnetLine) => void;

export interface TelnetCommandOptions {
  /**
   * The command stores points (default true): when a burst is refused (TelnetDecoder.refuse) it
   * is answered "<name>: <problem>" instead of running. Commands that only reply (version, help,
   * exit) pass false so they are still answered in a refused burst.
   */
  readonly storesPoints?: boolean;
}

const CR = 0x0d;
const LF = 0x0a;
const SPACE = 0x20;
const EQUALS = 0x3d;
const QUOTE = 0x22;
const DOT = 0x2e;

const C_PUT = 1;
const C_PUTM = 2;
const C_PUTS = 3;
/** Built-in command names by code (index 0 unused). */
const BUILT_IN = ['', 'put', 'putm', 'puts'] as const;

const SECOND_MASK = 0xffffffff00000000n;
const MAX_MS_TIMESTAMP = 9_999_999_999_999;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const DOUBLE_TEXT = /^[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$/;

class LineError extends Error {
  constructor(
    readonly kind: 'illegal argument' | 'invalid value',
    message: string,
  ) {
    super(message);
  }
}

/**
 * OpenTSDB's Tags.parseLong on a word: optional sign, at most 19 digits, no overflow. Returns a
 * number when the value is a safe integer, else a bigint. Throws LineError('invalid value') with
 * OpenTSDB's messages.
 */
function parseLong(buf: Uint8Array, start: number, end: number): number | bigint {
  const n = end - start;
  if (n === 0) throw new LineError('invalid value', 'Empty string');
  let i = start;
  const c0 = buf[i]!;
  if (c0 === 0x2b || c0 === 0x2d) {
    if (n === 1) throw new LineError('invalid value', `Just a sign, no value: ${text(buf, start, end)}`);
    if (n > 20) throw new LineError('invalid value', `Value too long: ${text(buf, start, end)}`);
    i++;
  } else if (n > 19) throw new LineError('invalid value', `Value too long: ${text(buf, start, end)}`);
  let v = 0;
  for (let k = i; k < end; k++) {
    const c = buf[k]!;
    if (c < 0x30 || c > 0x39) throw new LineError('invalid value', `Invalid character '${String.fromCharCode(c)}' in ${text(buf, start, end)}`);
    v = v * 10 + (c - 0x30);
  }
  const negative = c0 === 0x2d;
  if (v <= Number.MAX_SAFE_INTEGER) return negative ? -v : v;
  const big = BigInt(latin1String(buf, start, end));
  if (big < INT64_MIN || big > INT64_MAX) throw new LineError('invalid value', `Overflow in ${text(buf, start, end)}`);
  return big;
}

function text(buf: Uint8Array, start: number, end: number): string {
  return utf8String(buf, start, end);
}

function isAscii(buf: Uint8Array, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (buf[i]! >= 0x80) return false;
  return true;
}

/**
 * Decodes bursts of the line protocol. Stateless between calls apart from caches: the caller
 * keeps each connection's tail and prepends it, so one decoder serves every connection of a
 * worker. Each `decode` flushes its points through the builder's sink before it returns.
 */
export class TelnetDecoder {
  private readonly builder: BatchBuilder;
  private readonly maxLineBytes: number;
  private readonly versionReply: string;
  private readonly commands = new Map<string, TelnetCommandHandler>();
  /** By built-in command code: a registered handler replaces the built-in form. */
  private readonly replaced = [false, false, false, false];
  /** Registered commands that store points (answered with the refusal in refuse mode). */
  private readonly storing = new Set<string>();
  /** Set while `refuse` runs: the problem every point-storing line is answered with. */
  private refusal: string | undefined;
  // Word boundaries of the current line.
  private wordStart = new Int32Array(64);
  private wordEnd = new Int32Array(64);
  private wordCount = 0;
  // Per-burst state.
  private replies = '';
  private points = 0;
  private closing = false;
  private tagKeys = new Int32Array(16);
  private tagValues = new Int32Array(16);
  /** The one TelnetLine handed to handlers, re-pointed at each line. */
  private readonly view = new LineView(this);

  constructor(target: BatchBuilder | ((batch: WriteBatch) => void), options: TelnetDecoderOptions = {}) {
    this.builder = target instanceof BatchBuilder ? target : new BatchBuilder(target, options);
    this.maxLineBytes = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
    this.versionReply = options.versionReply ?? DEFAULT_VERSION_REPLY;
    const replyOnly = { storesPoints: false };
    this.register('version', (line) => line.reply(this.versionReply), replyOnly);
    this.register('exit', (line) => line.close(), replyOnly);
    this.register('help', (line) => line.reply(`available commands: ${[...this.commandNames()].join(' ')} `), replyOnly);
  }

  /**
   * Adds (or replaces) a command; names are matched exactly (case-sensitive, as OpenTSDB and
   * KairosDB do). Registering `put`, `putm` or `puts` replaces that built-in (the OpenTSDB line
   * port registers OpenTSDB's own `put`); the other two keep their built-in form.
   */
  register(name: string, handler: TelnetCommandHandler, options: TelnetCommandOptions = {}): void {
    this.commands.set(name, handler);
    if (options.storesPoints ?? true) this.storing.add(name);
    else this.storing.delete(name);
    const code = BUILT_IN.indexOf(name as (typeof BUILT_IN)[number]);
    if (code > 0) this.replaced[code] = true;
  }

  private *commandNames(): Iterable<string> {
    yield* BUILT_IN.slice(1);
    for (const name of this.commands.keys()) if (BUILT_IN.indexOf(name as (typeof BUILT_IN)[number]) < 0) yield name;
  }

  /** Decodes the complete lines of `input`; see TelnetDecodeResult for the tail and replies. */
  decode(input: Uint8Array): TelnetDecodeResult {
    this.refusal = undefined;
    return this.run(input);
  }

  /**
   * Answers the complete lines of `input` without storing anything (the server could not take the
   * burst): every line of a point-storing command — put, putm, puts and commands registered with
   * storesPoints — is answered "<command>: <problem>" without being parsed further (OpenTSDB's
   * "put: Please throttle writes: …" when `problem` is "Please throttle writes: …"); every other
   * line is answered as `decode` would (version, help, exit, unknown commands, over-long lines).
   * TelnetDecodeResult.points is 0; the tail is as for `decode`. The builder is never touched, so
   * a decoder used only for refusals may be given a sink that throws.
   */
  refuse(input: Uint8Array, problem: string): TelnetDecodeResult {
    this.refusal = problem;
    try {
      return this.run(input);
    } finally {
      this.refusal = undefined;
    }
  }

  private run(input: Uint8Array): TelnetDecodeResult {
    this.replies = '';
    this.points = 0;
    this.closing = false;
    const n = input.length;
    let start = 0;
    try {
      while (start < n && !this.closing) {
        const nl = typedIndexOf.call(input, LF, start);
        if (nl < 0) break;
        let end = nl;
        if (end > start && input[end - 1] === CR) end--;
        if (end - start > this.maxLineBytes) this.reply(`error: line too long (more than ${this.maxLineBytes} bytes)`);
        else this.line(input, start, end);
        start = nl + 1;
      }
      this.builder.flush();
      this.builder.trimCaches();
    } catch (err) {
      this.builder.discard();
      throw err;
    }
    let tail = this.closing ? input.subarray(n) : input.subarray(start);
    // An unterminated line already over the limit: keep only enough of it to know that later.
    if (tail.length > this.maxLineBytes + 1) tail = tail.subarray(0, this.maxLineBytes + 1);
    return { replies: this.replies, tail, points: this.points, close: this.closing };
  }

  private reply(line: string): void {
    this.replies += `${line}\n`;
  }

  // For LineView (the current line); not for callers.
  /** @internal */
  get lineBuilder(): BatchBuilder {
    return this.builder;
  }
  /** @internal */
  get lineWordCount(): number {
    return this.wordCount;
  }
  /** @internal */
  lineWordStart(w: number): number {
    return this.wordStart[w]!;
  }
  /** @internal */
  lineWordEnd(w: number): number {
    return this.wordEnd[w]!;
  }
  /** @internal */
  lineReply(line: string): void {
    this.reply(line);
  }
  /** @internal */
  lineAddedPoints(count: number): void {
    this.points += count;
  }
  /** @internal */
  lineClose(): void {
    this.closing = true;
  }

  /** Splits buf[start, end) into words (separators: bytes ≤ 0x20; '"' quotes a word). */
  private split(buf: Uint8Array, start: number, end: number): void {
    let count = 0;
    let i = start;
    while (i < end) {
      while (i < end && buf[i]! <= SPACE) i++;
      if (i >= end) break;
      let ws: number;
      let we: number;
      if (buf[i] === QUOTE) {
        ws = i + 1;
        let j = ws;
        while (j < end && buf[j] !== QUOTE) j++;
        we = j;
        i = j < end ? j + 1 : end;
      } else {
        ws = i;
        while (i < end && buf[i]! > SPACE) i++;
        we = i;
      }
      if (count === this.wordStart.length) {
        this.wordStart = grow(this.wordStart);
        this.wordEnd = grow(this.wordEnd);
      }
      this.wordStart[count] = ws;
      this.wordEnd[count] = we;
      count++;
    }
    this.wordCount = count;
  }

  private line(buf: Uint8Array, start: number, end: number): void {
    this.split(buf, start, end);
    if (this.wordCount === 0) return;
    const cs = this.wordStart[0]!;
    const cl = this.wordEnd[0]! - cs;
    let command = 0;
    if (buf[cs] === 0x70 && buf[cs + 1] === 0x75 && buf[cs + 2] === 0x74) {
      if (cl === 3) command = C_PUT;
      else if (cl === 4) command = buf[cs + 3] === 0x6d ? C_PUTM : buf[cs + 3] === 0x73 ? C_PUTS : 0;
    }
    if (command !== 0 && !this.replaced[command]) {
      if (this.refusal !== undefined) {
        this.reply(`${BUILT_IN[command]}: ${this.refusal}`);
        return;
      }
      try {
        this.put(buf, command);
      } catch (err) {
        if (!(err instanceof LineError)) throw err;
        this.reply(`${text(buf, cs, cs + cl)}: ${err.kind}: ${err.message}`);
      }
      return;
    }
    // A replaced built-in (the line port's OpenTSDB put) is named without making a string.
    const name = command !== 0 ? BUILT_IN[command]! : text(buf, cs, cs + cl);
    const handler = this.commands.get(name);
    if (handler === undefined) {
      this.reply(`unknown command: ${name}.  Try \`help'.`);
      return;
    }
    if (this.refusal !== undefined && this.storing.has(name)) {
      this.reply(`${name}: ${this.refusal}`);
      return;
    }
    this.view.reset(buf);
    handler(this.view);
  }

  /** put / putm / puts <metric> <timestamp> <value> [k=v …] */
  private put(buf: Uint8Array, command: number): void {
    const ws = this.wordStart;
    const we = this.wordEnd;
    const count = this.wordCount;
    if (count < 4) throw new LineError('illegal argument', `not enough arguments (need least 3, got ${count - 1})`);
    const strings = this.builder.strings;
    // Metric.
    const ms = ws[1]!;
    const me = we[1]!;
    if (me === ms) throw new LineError('illegal argument', 'metricName may not be empty.');
    const metric = isAscii(buf, ms, me) ? strings.internBytes(buf, ms, me) : strings.internString(text(buf, ms, me));
    // Timestamp.
    const timestampMs = command === C_PUT ? this.putTimestamp(buf, ws[2]!, we[2]!) : this.msTimestamp(buf, ws[2]!, we[2]!);
    // Value.
    const vs = ws[3]!;
    const ve = we[3]!;
    let kind = 0; // 0 long, 1 double, 2 string
    let value: number | bigint = 0;
    let stringValue = '';
    if (command === C_PUTS) {
      kind = 2;
      stringValue = text(buf, vs, ve);
    } else {
      let decimal = false;
      for (let i = vs; i < ve; i++) {
        const c = buf[i]!;
        if (c === DOT || c === 0x65 || c === 0x45) {
          decimal = true;
          break;
        }
      }
      if (decimal) {
        const t = latin1String(buf, vs, ve);
        if (!DOUBLE_TEXT.test(t)) throw new LineError('invalid value', `For input string: "${text(buf, vs, ve)}"`);
        const v = Number(t);
        if (!Number.isFinite(v)) {
          throw new LineError('illegal argument', `value is NaN or Infinite: ${v} for metric=${strings.string(metric)} timestamp=${timestampMs}`);
        }
        kind = 1;
        value = v;
      } else value = parseLong(buf, vs, ve);
    }
    // Tags.
    let tagCount = 0;
    let ttl = 0;
    for (let w = 4; w < count; w++) {
      const s = ws[w]!;
      const e = we[w]!;
      // Java's String.split("="): key = before the first '=', value = up to the next '=', and
      // fewer than two non-trailing parts is a format error.
      let eq = s;
      while (eq < e && buf[eq] !== EQUALS) eq++;
      let vEnd = eq + 1;
      while (vEnd < e && buf[vEnd] !== EQUALS) vEnd++;
      let rest = eq + 1;
      while (rest < e && buf[rest] === EQUALS) rest++;
      if (eq >= e || rest >= e) throw new LineError('illegal argument', `tag[${tagCount}] must be in the format 'name=value'.`);
      if (eq === s) throw new LineError('illegal argument', `tag[${tagCount}].name may not be empty.`);
      if (vEnd === eq + 1) throw new LineError('illegal argument', `tag[${tagCount}].value may not be empty.`);
      if (eq - s === ROLLUP_TAG_KEY.length && latin1String(buf, s, eq) === ROLLUP_TAG_KEY) {
        throw new LineError('illegal argument', `tag[${tagCount}].name '${ROLLUP_TAG_KEY}' is reserved for rollups.`);
      }
      if (eq - s === 14 && latin1String(buf, s, eq) === 'kairos_opt.ttl') {
        const t = latin1String(buf, eq + 1, vEnd);
        if (!/^[+-]?[0-9]+$/.test(t) || Number(t) > 2147483647 || Number(t) < -2147483648) {
          throw new LineError('illegal argument', 'tag[kairos_opt.ttl] must be a number');
        }
        if (Number(t) < 0) throw new LineError('illegal argument', 'tag[kairos_opt.ttl] must be greater than or equal to 0.');
        ttl = Number(t);
        continue;
      }
      const key = isAscii(buf, s, eq) ? strings.internBytes(buf, s, eq) : strings.internString(text(buf, s, eq));
      const val = isAscii(buf, eq + 1, vEnd) ? strings.internBytes(buf, eq + 1, vEnd) : strings.internString(text(buf, eq + 1, vEnd));
      let duplicate = false;
      for (let k = 0; k < tagCount; k++) {
        if (this.tagKeys[k] === key) {
          if (this.tagValues[k] !== val) {
            throw new LineError('illegal argument', `duplicate tag: ${text(buf, s, e)}, tags=${this.tagsText(tagCount)}`);
          }
          duplicate = true;
          break;
        }
      }
      if (duplicate) continue;
      if (tagCount === this.tagKeys.length) {
        this.tagKeys = grow(this.tagKeys);
        this.tagValues = grow(this.tagValues);
      }
      this.tagKeys[tagCount] = key;
      this.tagValues[tagCount] = val;
      tagCount++;
    }
    const b = this.builder;
    b.beginSeries(metric);
    if (tagCount === 0) b.addTag(strings.internString('add'), strings.internString('tag'));
    for (let k = 0; k < tagCount; k++) b.addTag(this.tagKeys[k]!, this.tagValues[k]!);
    b.endSeries(ttl);
    if (kind === 2) b.addString(timestampMs, stringValue);
    else if (kind === 1) b.addFloat(timestampMs, value as number);
    else if (typeof value === 'number') b.addInt(timestampMs, value);
    else b.addBigInt(timestampMs, value);
    this.points++;
  }

  private tagsText(count: number): string {
    const strings = this.builder.strings;
    const parts: string[] = [];
    for (let k = 0; k < count; k++) parts.push(`${strings.string(this.tagKeys[k]!)}=${strings.string(this.tagValues[k]!)}`);
    return `{${parts.join(', ')}}`;
  }

  /** `put`: OpenTSDB's rule — positive; a '.' removed; seconds unless a bit above 31 is set. */
  private putTimestamp(buf: Uint8Array, start: number, end: number): number {
    let raw: number | bigint;
    let hasDot = false;
    for (let i = start; i < end; i++) if (buf[i] === DOT) hasDot = true;
    if (hasDot) {
      const digits = latin1String(buf, start, end).replaceAll('.', '');
      const bytes = Buffer.from(digits, 'latin1');
      raw = parseLong(bytes, 0, bytes.length);
    } else raw = parseLong(buf, start, end);
    const big = BigInt(raw);
    if (big <= 0n) throw new LineError('illegal argument', `invalid timestamp: ${big}`);
    if ((big & SECOND_MASK) !== 0n) {
      if (big > BigInt(MAX_MS_TIMESTAMP)) throw new LineError('illegal argument', `bad timestamp=${big}`);
      return Number(big);
    }
    return Number(big) * 1000;
  }

  /** `putm` / `puts`: milliseconds, |t| < 2^50. */
  private msTimestamp(buf: Uint8Array, start: number, end: number): number {
    const raw = parseLong(buf, start, end);
    if (typeof raw !== 'number' || !(Math.abs(raw) < MAX_ABS_TIMESTAMP_MS)) throw new LineError('illegal argument', `bad timestamp=${raw}`);
    return raw;
  }
}

/**
 * TelnetLine over the decoder's current line. Words are made into strings only when a handler
 * asks (a handler working on bytes — OpenTSDB's put fast path — never pays for them), and one
 * object serves every line, so dispatching a line allocates nothing.
 */
class LineView implements TelnetLine {
  bytes: Uint8Array = new Uint8Array(0);
  private cachedWords: string[] | undefined;

  constructor(private readonly decoder: TelnetDecoder) {}

  reset(bytes: Uint8Array): void {
    this.bytes = bytes;
    this.cachedWords = undefined;
  }

  get builder(): BatchBuilder {
    return this.decoder.lineBuilder;
  }

  get wordCount(): number {
    return this.decoder.lineWordCount;
  }

  wordStart(w: number): number {
    return this.decoder.lineWordStart(w);
  }

  wordEnd(w: number): number {
    return this.decoder.lineWordEnd(w);
  }

  get words(): readonly string[] {
    if (this.cachedWords === undefined) {
      const words: string[] = [];
      for (let w = 0; w < this.wordCount; w++) words.push(text(this.bytes, this.wordStart(w), this.wordEnd(w)));
      this.cachedWords = words;
    }
    return this.cachedWords;
  }

  reply(line: string): void {
    this.decoder.lineReply(line);
  }

  addedPoints(count: number): void {
    this.decoder.lineAddedPoints(count);
  }

  close(): void {
    this.decoder.lineClose();
  }
}

function grow(a: Int32Array): Int32Array<ArrayBuffer> {
  const next = new Int32Array(a.length * 2);
  next.set(a);
  return next;
}
