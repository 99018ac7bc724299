// Streaming decoder of OpenTSDB /api/put and /api/rollup bodies (protocols.md §2.2, §2.3, §7):
// bytes in, batches out through a BatchBuilder, per-point results for the response matrix. It
// reproduces OpenTSDB 2.4's two-step behaviour — Jackson binds the whole body first (any syntax or
// type error rejects the request and stores nothing), then each point is checked and stored on its
// own — while reading the body once, in chunks: points are staged until the body is known to be
// good. Pure: no sockets, threads or engine writer; never imports src/http, src/pool or src/telnet.
import type { WriteBatch } from '../../../engine/index.js';
import { BatchBuilder, type BatchBuilderOptions, type BatchSink } from '../batch-builder.js';
import {
  BEGIN_ARRAY,
  BEGIN_OBJECT,
  END,
  END_ARRAY,
  END_OBJECT,
  FALSE,
  JsonSyntaxError,
  JsonTokenizer,
  KEY,
  latin1String,
  NEED_MORE,
  NULL,
  NUMBER,
  STRING,
  TRUE,
} from '../json/tokenizer.js';
import {
  OpenTsdbPointWriter,
  PointMessage,
  SECOND_LIMIT,
  echoIncomingPoint,
  emptyIncomingPoint,
  type IncomingPoint,
  type OpenTsdbPointOptions,
  type ParsedValue,
} from './datapoint.js';
import { JavaStringMap, fitsInFloat, javaTrim, parseJavaLong } from './java-compat.js';
import { SimplePoint, SimplePointSeriesMemo, scanSimplePoint } from './simple-point.js';

/** Request-level error texts (the error envelope's `message`). */
export const BodyMessage = {
  MissingContent: 'Missing request content',
  NotObjectOrArray: 'The JSON must start as an object or an array',
  Unparsable: 'Unable to parse the given JSON',
  NoDatapoints: 'No datapoints found in content',
} as const;

/** The body cannot be used at all: answer with this error; nothing was stored. */
export interface OpenTsdbBodyError {
  readonly status: number;
  readonly message: string;
  /** '' when OpenTSDB sends no `details`. */
  readonly details: string;
}

/** One entry of the `errors` array of a details response. */
export interface OpenTsdbPointError {
  /** The point as OpenTSDB echoes it (JSON text), or "null" for a null array element. */
  readonly datapoint: string;
  readonly error: string;
}

/**
 * What a body came to. Plain data (structured-clone safe), for renderPutResponse. With a
 * `bodyError` everything else is empty and nothing reached the sink.
 */
export interface OpenTsdbDecodeResult {
  readonly bodyError: OpenTsdbBodyError | null;
  /** Data points in the body: array elements (null ones included), or 1 for a single object. */
  readonly total: number;
  /** Points that passed every check (and reached the sink, unless `discardPoints`). */
  readonly accepted: number;
  /** Points that failed their checks, in body order (`total − accepted`). */
  readonly failed: number;
  /** The failed points' details entries, in body order; empty unless `details`. */
  readonly errors: readonly OpenTsdbPointError[];
  /** Echo of each accepted point, in body order; empty unless `echoAccepted`. */
  readonly acceptedEchoes: readonly string[];
}

/** Per-request switches, from the query string (see parsePutFlags). */
export interface OpenTsdbRequestOptions {
  /** Build the details entries (`?details`). Default true. */
  readonly details?: boolean;
  /** Keep every accepted point's echo, for storage-failure entries (`?details&sync`). Default false. */
  readonly echoAccepted?: boolean;
  /**
   * Check everything but hand nothing to the sink: OpenTSDB answers such a request with an error
   * whatever its points (an invalid sync_timeout). Default false.
   */
  readonly discardPoints?: boolean;
}

export interface OpenTsdbDecoderOptions extends BatchBuilderOptions, OpenTsdbPointOptions {
  /** Deepest JSON nesting accepted. Default 10,000. */
  readonly maxDepth?: number;
  /**
   * Read simple /api/put points straight from the bytes (simple-point.ts). Default true; false
   * sends every point through the full path (tests compare the two; benches measure the gain).
   */
  readonly simplePoints?: boolean;
}

// Decoder states.
const S_START = 0; // before the first byte > 0x20
const S_ROOT = 1; // the first token: '{' or '['
const S_ELEMENT = 2; // in the top-level array: a point object, null or ']'
const S_MEMBER = 3; // in a point object: a key or '}'
const S_FIELD = 4; // the value of `field`
const S_TAG_KEY = 5; // in "tags": a key or '}'
const S_TAG_VALUE = 6; // the value of tag `tagKey`
const S_SKIP = 7; // inside an ignored nested value
const S_DONE = 8; // the root value is complete: the rest is ignored (as Jackson does)
const S_FAILED = 9; // body error

// Point fields.
const F_UNKNOWN = 0;
const F_METRIC = 1;
const F_TIMESTAMP = 2;
const F_VALUE = 3;
const F_TAGS = 4;
const F_TSUID = 5;
const F_INTERVAL = 6;
const F_AGGREGATOR = 7;
const F_GROUP_BY = 8;
const FIELD_NAMES = ['', 'metric', 'timestamp', 'value', 'tags', 'tsuid', 'interval', 'aggregator', 'groupByAggregator'];

const EMPTY_CHUNK = new Uint8Array(0);
const MIN_LONG_D = -9223372036854775808;
const MAX_LONG_D = 9223372036854775807;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

const JACKSON_PARSE = 'com.fasterxml.jackson.core.JsonParseException';
const JACKSON_EOF = 'com.fasterxml.jackson.core.io.JsonEOFException';
const JACKSON_MISMATCH = 'com.fasterxml.jackson.databind.exc.MismatchedInputException';
const JACKSON_FORMAT = 'com.fasterxml.jackson.databind.exc.InvalidFormatException';

/** Jackson's token names, for "out of X token". */
function jacksonToken(t: number, tok: JsonTokenizer): string {
  switch (t) {
    case BEGIN_OBJECT:
      return 'START_OBJECT';
    case BEGIN_ARRAY:
      return 'START_ARRAY';
    case STRING:
      return 'VALUE_STRING';
    case NUMBER:
      return tok.isInteger ? 'VALUE_NUMBER_INT' : 'VALUE_NUMBER_FLOAT';
    case TRUE:
      return 'VALUE_TRUE';
    case FALSE:
      return 'VALUE_FALSE';
    default:
      return 'VALUE_NULL';
  }
}

/** Jackson's description of a character in parse errors (ParserMinimalBase._getCharDesc), in parentheses. */
function jacksonChar(code: number): string {
  if (code < 0x20) return `((CTRL-CHAR, code ${code}))`;
  return `('${String.fromCharCode(code)}' (code ${code}))`;
}

/** The offending byte of a tokenizer error, if its detail names one. */
function offendingByte(detail: string): number | undefined {
  // The last character the detail quotes is the one found ("Expected ',' or ']' … but found '{'").
  let found: number | undefined;
  for (const m of detail.matchAll(/'(.)'|byte 0x([0-9a-f]{2})/g)) found = m[1] !== undefined ? m[1].charCodeAt(0) : Number.parseInt(m[2]!, 16);
  return found;
}

/**
 * Decodes one body at a time: `begin()` (optional), `write()` any number of chunks (any split),
 * then `end()`, which returns the result and resets. Good points reach the sink during `end()`
 * (only once the whole body has bound, as in OpenTSDB), in batches of at most
 * `maxPointsPerBatch`; a batch handed to the sink is reused once it returns. A chunk is only read
 * during the write() that passes it. If the sink throws, the error propagates out of end() and
 * the decoder must be reset() before reuse.
 */
export class OpenTsdbBodyDecoder {
  private readonly sink: BatchSink;
  private readonly builder: BatchBuilder;
  private readonly writer: OpenTsdbPointWriter;
  private readonly tok: JsonTokenizer;
  private readonly rollup: boolean;
  private readonly simplePoints: boolean;
  private readonly className: string;

  // Request options.
  private details = true;
  private echoAccepted = false;

  // Staging: batches the builder filled before the body was known to be good (copies).
  private staged: WriteBatch[] = [];
  private committing = false;
  private bodyOpen = false;

  // Body state.
  private state = S_START;
  private topArray = false;
  private index = 0; // point index in the array
  private total = 0;
  private accepted = 0;
  private errors: OpenTsdbPointError[] = [];
  private echoes: string[] = [];
  private bodyError: OpenTsdbBodyError | null = null;
  private skipDepth = 0;
  private skipReturn = S_MEMBER;

  // The point being read.
  private readonly point: IncomingPoint = emptyIncomingPoint();
  private readonly tags = new JavaStringMap();
  private field = F_UNKNOWN;
  private tagKey = '';

  // The simple-point fast path (simple-point.ts): on for /api/put bodies whose accepted points
  // need no echo and are stored.
  private fastPath = false;
  private readonly simple = new SimplePoint();
  private readonly seriesMemo = new SimplePointSeriesMemo();
  /** Element index whose metric + tags bytes (in pendingBytes) the memo learns if the full path accepts it; −1 none. */
  private pendingIndex = -1;
  private pendingBytes = new Uint8Array(512);
  private pendingMetricBytes = 0;
  private pendingTagsBytes = 0;

  protected constructor(sink: BatchSink, options: OpenTsdbDecoderOptions, rollup: boolean) {
    this.sink = sink;
    this.rollup = rollup;
    this.simplePoints = !rollup && (options.simplePoints ?? true);
    this.className = rollup ? 'net.opentsdb.rollup.RollUpDataPoint' : 'net.opentsdb.core.IncomingDataPoint';
    this.builder = new BatchBuilder((batch) => this.onBatch(batch), options);
    this.writer = new OpenTsdbPointWriter(this.builder, options);
    this.tok = new JsonTokenizer(options.maxDepth !== undefined ? { maxDepth: options.maxDepth } : {});
  }

  /** Sets this body's request options (before its first write). end()/reset() restore the defaults. */
  begin(options: OpenTsdbRequestOptions = {}): void {
    this.details = options.details ?? true;
    this.echoAccepted = options.echoAccepted ?? false;
    this.writer.storing = !(options.discardPoints ?? false);
  }

  /** Decodes the next chunk of the body. */
  write(chunk: Uint8Array): void {
    if (this.state >= S_DONE) return;
    if (!this.bodyOpen) {
      this.bodyOpen = true;
      this.builder.cache.openBody(this);
      this.fastPath = this.simplePoints && !this.echoAccepted && this.writer.storing;
      if (this.seriesMemo.generation !== this.builder.generation) {
        // The series cache forgot its entries: so must the memo.
        this.seriesMemo.clear();
        this.seriesMemo.generation = this.builder.generation;
      }
    }
    if (this.state === S_START) {
      // Java's trim(): bytes ≤ 0x20 before the first character are not part of the document.
      let i = 0;
      while (i < chunk.length && chunk[i]! <= 0x20) i++;
      if (i === chunk.length) return;
      const c = chunk[i]!;
      if (c !== 0x7b && c !== 0x5b) {
        this.failBody(400, BodyMessage.NotObjectOrArray, '');
        return;
      }
      this.state = S_ROOT;
      this.tok.nonNumericNumbers = true;
      chunk = chunk.subarray(i);
    }
    this.tok.feed(chunk, false);
    this.run();
  }

  /**
   * Ends the body: returns the result, hands the good points to the sink (unless the body failed
   * or points are discarded) and resets for the next body.
   */
  end(): OpenTsdbDecodeResult {
    if (this.state === S_START) {
      // Strata answers a blank body like an empty one (OpenTSDB: 500 "String index out of range: 0").
      this.failBody(400, BodyMessage.MissingContent, '');
    } else if (this.state < S_DONE) {
      this.tok.feed(EMPTY_CHUNK, true);
      this.run();
      // The tokenizer reports the end of input inside the document as a syntax error.
    }
    if (this.bodyError === null && this.total === 0) this.failBody(400, BodyMessage.NoDatapoints, '');
    let result: OpenTsdbDecodeResult;
    if (this.bodyError !== null) {
      result = { bodyError: this.bodyError, total: 0, accepted: 0, failed: 0, errors: [], acceptedEchoes: [] };
      this.reset();
    } else {
      result = {
        bodyError: null,
        total: this.total,
        accepted: this.accepted,
        failed: this.total - this.accepted,
        errors: this.errors,
        acceptedEchoes: this.echoes,
      };
      try {
        this.committing = true;
        for (const batch of this.staged) this.sink(batch);
        this.staged = [];
        this.builder.flush();
      } finally {
        this.reset();
      }
    }
    this.builder.trimCaches();
    return result;
  }

  /** Forgets the current body (nothing of it reaches the sink) and restores the default request options. */
  reset(): void {
    this.builder.discard();
    this.staged = [];
    this.committing = false;
    if (this.bodyOpen) {
      this.bodyOpen = false;
      this.builder.cache.closeBody(this);
    }
    this.tok.reset();
    this.state = S_START;
    this.topArray = false;
    this.index = 0;
    this.total = 0;
    this.accepted = 0;
    this.errors = [];
    this.echoes = [];
    this.bodyError = null;
    this.pendingIndex = -1;
    this.begin();
  }

  private onBatch(batch: WriteBatch): void {
    if (this.committing) this.sink(batch);
    else this.staged.push(copyBatch(batch));
  }

  // ------------------------------------------------------------------ token loop

  private run(): void {
    const tok = this.tok;
    try {
      for (;;) {
        if (this.state === S_ELEMENT && this.fastPath && this.simplePoint()) continue;
        const t = tok.next();
        if (t === NEED_MORE) return;
        if (t === END) {
          this.state = S_DONE;
          return;
        }
        switch (this.state) {
          case S_MEMBER:
            if (t === KEY) {
              this.field = this.fieldOf(tok.stringValue());
              this.state = S_FIELD;
            } else this.endPoint();
            break;
          case S_FIELD:
            this.fieldValue(t);
            break;
          case S_TAG_KEY:
            if (t === KEY) {
              this.tagKey = tok.stringValue();
              this.state = S_TAG_VALUE;
            } else this.state = S_MEMBER;
            break;
          case S_TAG_VALUE:
            this.tagValue(t);
            break;
          case S_ELEMENT:
            this.element(t);
            break;
          case S_SKIP:
            if (t === BEGIN_OBJECT || t === BEGIN_ARRAY) this.skipDepth++;
            else if ((t === END_OBJECT || t === END_ARRAY) && --this.skipDepth === 0) this.state = this.skipReturn;
            break;
          case S_ROOT:
            if (t === BEGIN_ARRAY) {
              this.topArray = true;
              this.state = S_ELEMENT;
            } else this.beginPoint(); // BEGIN_OBJECT: checked in write()
            break;
          default:
            return;
        }
        if (this.state >= S_DONE) return;
      }
    } catch (err) {
      if (!(err instanceof JsonSyntaxError)) throw err;
      this.syntaxFailure(err);
    }
  }

  /**
   * Reads the next array element straight from the bytes when it is a simple point whose metric
   * and tags bytes the memo knows (simple-point.ts), re-doing the timestamp and value checks of
   * the full path; true if it was stored. Otherwise nothing is consumed (false), and a simple
   * point the memo does not know is noted so that the memo learns it if the full path accepts it.
   */
  private simplePoint(): boolean {
    const tok = this.tok;
    const start = tok.arrayElementStart();
    if (start < 0) return false;
    const buf = tok.buf;
    const p = this.simple;
    const end = scanSimplePoint(buf, start, tok.bufferLimit, p, this.seriesMemo);
    if (end < 0) return false;
    const entry = p.tagsId < 0 ? -1 : this.seriesMemo.lookup(buf, p.metricStart, p.metricEnd, p.tagsId);
    if (entry < 0) {
      this.notePending(buf, p);
      return false;
    }
    let value = p.value;
    if (Number.isNaN(value)) {
      // A long of 16+ digits: the full path converts it exactly (bigint).
      if (p.valueIsInteger) return false;
      value = Number(latin1String(buf, p.valueStart, p.valueEnd));
      // Not finite (1e999): the full path writes the error.
      if (!Number.isFinite(value)) return false;
    }
    // The timestamp is 1 … 9,999,999,999,999 (≤ 13 digits): never an error; seconds up to 2^32 − 1.
    const ts = p.timestamp;
    const timestampMs = ts > SECOND_LIMIT ? ts : ts * 1000;
    const b = this.builder;
    b.selectEntry(entry);
    if (p.valueIsInteger) b.addInt(timestampMs, value || 0);
    else b.addFloat(timestampMs, value);
    tok.skipElement(start, end);
    this.total++;
    this.index++;
    this.accepted++;
    return true;
  }

  private notePending(buf: Uint8Array, p: SimplePoint): void {
    const metricBytes = p.metricEnd - p.metricStart;
    const tagsBytes = p.tagsEnd - p.tagsStart;
    if (metricBytes + tagsBytes > this.pendingBytes.length) this.pendingBytes = new Uint8Array(2 * (metricBytes + tagsBytes));
    this.pendingBytes.set(buf.subarray(p.metricStart, p.metricEnd), 0);
    this.pendingBytes.set(buf.subarray(p.tagsStart, p.tagsEnd), metricBytes);
    this.pendingMetricBytes = metricBytes;
    this.pendingTagsBytes = tagsBytes;
    this.pendingIndex = this.index;
  }

  private element(t: number): void {
    if (t === BEGIN_OBJECT) this.beginPoint();
    else if (t === END_ARRAY) this.state = S_DONE;
    else if (t === NULL) {
      // A null element binds; processing it throws a NullPointerException ("Unexpected exception").
      this.total++;
      if (this.details) this.errors.push({ datapoint: 'null', error: PointMessage.Unexpected });
      this.index++;
    } else this.elementFailure(t);
  }

  private beginPoint(): void {
    const p = this.point;
    p.metric = null;
    p.timestamp = 0;
    p.value = null;
    p.parsedValue = null;
    p.tags = null;
    p.tsuid = null;
    p.interval = null;
    p.aggregator = null;
    p.groupByAggregator = null;
    this.state = S_MEMBER;
  }

  private fieldOf(name: string): number {
    switch (name) {
      case 'metric':
        return F_METRIC;
      case 'timestamp':
        return F_TIMESTAMP;
      case 'value':
        return F_VALUE;
      case 'tags':
        return F_TAGS;
      case 'tsuid':
        return F_TSUID;
      case 'interval':
        return this.rollup ? F_INTERVAL : F_UNKNOWN;
      case 'aggregator':
        return this.rollup ? F_AGGREGATOR : F_UNKNOWN;
      case 'groupByAggregator':
        return this.rollup ? F_GROUP_BY : F_UNKNOWN;
      default:
        return F_UNKNOWN;
    }
  }

  private fieldValue(t: number): void {
    this.state = S_MEMBER;
    const p = this.point;
    switch (this.field) {
      case F_METRIC:
      case F_VALUE:
      case F_TSUID:
      case F_INTERVAL:
      case F_AGGREGATOR:
      case F_GROUP_BY: {
        const text = this.stringProperty(t, false);
        if (text === undefined) return;
        if (this.field === F_METRIC) p.metric = text;
        else if (this.field === F_VALUE) {
          p.value = text;
          p.parsedValue = t === NUMBER && text !== null ? this.numberValue(text) : null;
        }
        else if (this.field === F_TSUID) p.tsuid = text;
        else if (this.field === F_INTERVAL) p.interval = text;
        else if (this.field === F_AGGREGATOR) p.aggregator = text;
        else p.groupByAggregator = text;
        return;
      }
      case F_TIMESTAMP:
        this.timestamp(t);
        return;
      case F_TAGS:
        if (t === BEGIN_OBJECT) {
          this.tags.clear();
          p.tags = this.tags;
          this.state = S_TAG_KEY;
        } else if (t === NULL) p.tags = null;
        else if (t === STRING) {
          this.mappingFailure(
            JACKSON_MISMATCH,
            `Cannot construct instance of \`java.util.HashMap\` (although at least one Creator exists): no String-argument constructor/factory method to deserialize from String value ('${this.tok.stringValue()}')`,
            this.fieldChain(),
          );
        } else this.mappingFailure(JACKSON_MISMATCH, `Cannot deserialize instance of \`java.util.HashMap\` out of ${jacksonToken(t, this.tok)} token`, this.fieldChain());
        return;
      default:
        if (t === BEGIN_OBJECT || t === BEGIN_ARRAY) this.skip(S_MEMBER);
    }
  }

  private tagValue(t: number): void {
    this.state = S_TAG_KEY;
    const text = this.stringProperty(t, true);
    if (text === undefined) return;
    this.tags.put(this.tagKey, text);
  }

  /**
   * Jackson's StringDeserializer: strings as is, numbers as their literal, booleans as
   * "true"/"false", null as null; an object or array fails the body (undefined returned).
   */
  private stringProperty(t: number, inTags: boolean): string | null | undefined {
    const tok = this.tok;
    switch (t) {
      case STRING:
        return tok.stringValue();
      case NUMBER:
        return tok.numberText();
      case TRUE:
        return 'true';
      case FALSE:
        return 'false';
      case NULL:
        return null;
      default:
        this.mappingFailure(
          JACKSON_MISMATCH,
          `Cannot deserialize instance of \`java.lang.String\` out of ${jacksonToken(t, tok)} token`,
          inTags ? `${this.fieldChain()}->java.util.HashMap[${JSON.stringify(this.tagKey)}]` : this.fieldChain(),
        );
        return undefined;
    }
  }

  /**
   * The value of a JSON number literal, as PutDataPointRpc would convert its text, when that is
   * quick to know: safe integers and finite decimals (JSON's grammar is within Java's, and both
   * round correctly). Null sends the text through the full conversion (big integers, NaN and the
   * other non-numeric literals, whose text ends in a letter).
   */
  private numberValue(text: string): ParsedValue | null {
    const tok = this.tok;
    if (tok.isInteger) return tok.safeInteger ? { kind: 'long', value: tok.numberValue || 0 } : null;
    const last = text.charCodeAt(text.length - 1);
    if (last < 0x30 || last > 0x39) return null;
    const d = tok.numberValue;
    return { kind: fitsInFloat(d) ? 'float' : 'double', value: d };
  }

  /** Jackson's primitive-long binding of "timestamp". */
  private timestamp(t: number): void {
    const tok = this.tok;
    const p = this.point;
    switch (t) {
      case NUMBER: {
        if (tok.isInteger) {
          if (tok.safeInteger) p.timestamp = tok.numberValue || 0;
          else {
            const v = tok.bigintValue();
            if (v < INT64_MIN || v > INT64_MAX) {
              this.mappingFailure(JACKSON_PARSE, `Numeric value (${tok.numberText()}) out of range of long (-9223372036854775808 - 9223372036854775807)`, this.fieldChain());
              return;
            }
            p.timestamp = v;
          }
          return;
        }
        // ACCEPT_FLOAT_AS_INT: truncated toward zero; NaN is 0; beyond the long range fails.
        const d = tok.numberValue;
        if (Number.isNaN(d)) {
          p.timestamp = 0;
          return;
        }
        if (d < MIN_LONG_D || d > MAX_LONG_D) {
          this.mappingFailure(JACKSON_PARSE, `Numeric value (${tok.numberText()}) out of range of long (-9223372036854775808 - 9223372036854775807)`, this.fieldChain());
          return;
        }
        const truncated = Math.trunc(d) || 0;
        p.timestamp = Number.isSafeInteger(truncated) ? truncated : clampLong(BigInt(truncated));
        return;
      }
      case STRING: {
        const text = javaTrim(tok.stringValue());
        if (text.length === 0 || text === 'null') {
          p.timestamp = 0;
          return;
        }
        const v = parseJavaLong(text);
        if (v === undefined) {
          this.mappingFailure(JACKSON_FORMAT, `Cannot deserialize value of type \`long\` from String ${JSON.stringify(text)}: not a valid Long value`, this.fieldChain());
          return;
        }
        p.timestamp = v;
        return;
      }
      case NULL:
        p.timestamp = 0;
        return;
      default:
        this.mappingFailure(JACKSON_MISMATCH, `Cannot deserialize instance of \`long\` out of ${jacksonToken(t, tok)} token`, this.fieldChain());
    }
  }

  private skip(back: number): void {
    this.skipDepth = 1;
    this.skipReturn = back;
    this.state = S_SKIP;
  }

  /** '}' of a point object: the object is bound; check and store it. */
  private endPoint(): void {
    const index = this.index;
    this.total++;
    this.index++;
    this.state = this.topArray ? S_ELEMENT : S_DONE;
    const p = this.point;
    const error = this.rollup ? this.writer.rollup(p) : this.writer.put(p);
    const learn = this.pendingIndex === index;
    this.pendingIndex = -1;
    if (error === null) {
      if (learn) {
        // Accepted and its series selected: later points with these bytes take the fast path.
        const m = this.pendingMetricBytes;
        this.seriesMemo.add(this.pendingBytes, 0, m, m, m + this.pendingTagsBytes, this.builder.selectedEntry);
      }
      this.accepted++;
      if (this.echoAccepted) this.echoes.push(echoIncomingPoint(p, this.rollup));
    } else if (this.details) this.errors.push({ datapoint: echoIncomingPoint(p, this.rollup), error });
  }

  // ------------------------------------------------------------------ body failures

  private failBody(status: number, message: string, details: string): void {
    this.bodyError = { status, message, details };
    this.state = S_FAILED;
    this.tok.nonNumericNumbers = false;
  }

  private location(): string {
    return `\n at [Source: UNKNOWN; line: ${this.tok.tokenLine}, column: ${this.tok.tokenColumn}]`;
  }

  /** Jackson's reference chain to the current field. */
  private fieldChain(): string {
    const root = this.topArray ? `java.util.ArrayList[${this.index}]->` : '';
    const name = this.field === F_UNKNOWN ? '' : FIELD_NAMES[this.field]!;
    return `${root}${this.className}[${JSON.stringify(name)}]`;
  }

  /** A JsonMappingException: the body fails with "Unable to parse the given JSON". */
  private mappingFailure(exception: string, message: string, chain: string): void {
    this.failBody(400, BodyMessage.Unparsable, `${exception}: ${message}${this.location()} (through reference chain: ${chain})`);
  }

  /** An array element that cannot become a data point. */
  private elementFailure(t: number): void {
    const tok = this.tok;
    const chain = `java.util.ArrayList[${this.index}]`;
    const cls = this.className;
    let message: string;
    switch (t) {
      case STRING:
        message = `Cannot construct instance of \`${cls}\` (although at least one Creator exists): no String-argument constructor/factory method to deserialize from String value ('${tok.stringValue()}')`;
        break;
      case NUMBER:
        message = tok.isInteger
          ? `Cannot construct instance of \`${cls}\` (although at least one Creator exists): no ${tok.safeInteger && Math.abs(tok.numberValue) <= 2147483647 ? 'int/Int' : 'long/Long'}-argument constructor/factory method to deserialize from Number value (${tok.numberText()})`
          : `Cannot construct instance of \`${cls}\` (although at least one Creator exists): no double/Double-argument constructor/factory method to deserialize from Number value (${tok.numberText()})`;
        break;
      case TRUE:
      case FALSE:
        message = `Cannot construct instance of \`${cls}\` (although at least one Creator exists): no boolean/Boolean-argument constructor/factory method to deserialize from boolean value (${t === TRUE})`;
        break;
      default:
        message = `Cannot deserialize instance of \`${cls}\` out of ${jacksonToken(t, tok)} token`;
    }
    this.mappingFailure(JACKSON_MISMATCH, message, chain);
  }

  /** A JSON syntax error: the body fails with a Jackson-like parse message. */
  private syntaxFailure(err: JsonSyntaxError): void {
    const b = offendingByte(err.detail);
    const c = b === undefined ? '' : jacksonChar(b);
    let exception = JACKSON_PARSE;
    let message: string;
    switch (err.reason) {
      case 'unexpected-character':
        message = `Unexpected character ${c}: expected a valid value (number, String, array, object, 'true', 'false' or 'null')`;
        break;
      case 'expected-colon':
        message = `Unexpected character ${c}: was expecting a colon to separate field name and value`;
        break;
      case 'expected-comma-or-object-end':
        message = `Unexpected character ${c}: was expecting comma to separate Object entries`;
        break;
      case 'expected-comma-or-array-end':
        message = `Unexpected character ${c}: was expecting comma to separate Array entries`;
        break;
      case 'expected-key':
        message = `Unexpected character ${c}: was expecting double-quote to start field name`;
        break;
      case 'control-character':
        message = `Illegal unquoted character ${c}: has to be escaped using backslash to be included in string value`;
        break;
      case 'invalid-escape':
        message = `Unrecognized character escape ${c}`;
        break;
      case 'unterminated-string':
        exception = JACKSON_EOF;
        message = 'Unexpected end-of-input: was expecting closing quote for a string value';
        break;
      case 'unexpected-end':
        exception = JACKSON_EOF;
        message = 'Unexpected end-of-input: expected close marker for a JSON Object or Array';
        break;
      default:
        message = err.detail;
    }
    this.failBody(400, BodyMessage.Unparsable, `${exception}: ${message}\n at [Source: UNKNOWN; line: ${err.line}, column: ${err.column}]`);
  }
}

/** Java's (long) narrowing of an integral double: saturates at the long range. */
function clampLong(v: bigint): bigint {
  return v < INT64_MIN ? INT64_MIN : v > INT64_MAX ? INT64_MAX : v;
}

/** A copy of a batch the builder will reuse: its arrays cut to length, series keys shared. */
function copyBatch(b: WriteBatch): WriteBatch {
  const n = b.length;
  const copy: WriteBatch = {
    length: n,
    series: b.series.slice(),
    seriesIndex: b.seriesIndex.slice(0, n),
    timestampsMs: b.timestampsMs.slice(0, n),
    kinds: b.kinds.slice(0, n),
    floats: b.floats.slice(0, n),
    ints: b.ints.slice(0, n),
    texts: b.texts.slice(0, n),
    ...(b.ttlSeconds !== undefined ? { ttlSeconds: b.ttlSeconds.slice(0, b.series.length) } : {}),
    ...(b.seriesNumbers !== undefined && b.seriesNumbering !== undefined
      ? { seriesNumbers: b.seriesNumbers.slice(0, b.series.length), seriesNumbering: b.seriesNumbering }
      : {}),
  };
  return copy;
}
