// KairosDB `POST /api/v1/datapoints` body decoder (protocols.md §1.2, §7): bytes in, columnar
// batches out through a BatchBuilder, streaming — each metric object is validated and its points
// added before the next one is read — with KairosDB's messages and partial acceptance. Pure: no
// sockets, threads or engine writer; never imports src/http, src/pool or src/telnet.
//
// Where KairosDB (Gson + DataPointsParser) crashes, has a bug or leaves a choice, the call made
// here is listed in KAIROS_INGEST_DECISIONS below (to be kept in step with docs/api/kairosdb.md).
import type { WriteBatch } from '../../../engine/index.js';
import { BatchBuilder, MAX_ABS_TIMESTAMP_MS, type BatchBuilderOptions, type SeriesCache } from '../batch-builder.js';
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
  NEED_MORE,
  NULL,
  NUMBER,
  STRING,
  TRUE,
  latin1String,
} from '../json/tokenizer.js';
import { ROLLUP_TAG_KEY } from '../reserved-tags.js';
import { MAX_DECODED_SERIES_KEY_BYTES, seriesKeyFits } from '../series-key-limit.js';

export const NO_CONTENT_MESSAGE = 'Invalid json. No content due to end of input.';
export const INVALID_START_MESSAGE = 'Invalid start of json.';

/** The calls this decoder makes where KairosDB's behaviour is a bug, a crash or undefined. */
export const KAIROS_INGEST_DECISIONS = [
  'Numbers follow protocols.md §7: an integer literal is a long (int64, exact beyond 2^53), a literal with `.`, `e` or `E` is a double (KairosDB stores 1e5 as a long). Numeric strings keep KairosDB\'s rule: `"123"` is a long, `"1.5"` a double.',
  'An integer (literal or numeric string) outside the int64 range is a per-point error "<ctx>.value is out of range for a long." (Gson would silently wrap it).',
  'Timestamps must satisfy |t| < 2^50 ms (the engine\'s range): otherwise "<ctx>.timestamp is out of range." for that point only.',
  'A datapoint timestamp that is not a number or a numeric string (true, "abc", {}) is a per-point error "<ctx>.datapoints[i].timestamp is not a valid long." (KairosDB answers 500 and stops).',
  'A value that cannot be converted to an explicit type (type "long" with "abc") is a per-point error "<ctx>.value is not a valid long." (KairosDB answers 500 and stops).',
  'A `null` element of the top-level array is skipped with "metric[N] may not be null."; a `null` datapoint with "<ctx>.datapoints[i].timestamp cannot be null or empty." (KairosDB: NullPointerException, 500).',
  'skip_validate skips the name/tag/value-presence checks, but a point is never stored without a name ("metric[N].name may not be null.") or without a timestamp.',
  'A negative ttl is a validation error "<ctx>.ttl must be greater than or equal to 0." (KairosDB passes it to Cassandra).',
  'A metric whose name and tags together exceed 64,512 UTF-8 bytes (the engine\'s series-key bound, less room for Strata\'s own tags) is a validation error "metric[N] name and tags together exceed 64512 bytes." (KairosDB has no bound).',
  'Parsing is strict RFC 8259 (what JSON.parse accepts), except Gson\'s lenient omitted array elements (`[2,]`, `[,2]`) inside metric objects, which read as null. Gson\'s other lenient forms (comments, single quotes, unquoted strings, NaN) and raw control characters in strings are syntax errors.',
  'Syntax and Gson type errors stop the body (objects before are kept) with a Gson-like message "<exception>: <what> at line L column C path P"; columns count bytes.',
  'An end of input between metric objects (`[`, `[{…},`) gives "Invalid json. No content due to end of input." once (KairosDB adds it twice).',
  'Anything after the top-level array or object is ignored, as KairosDB does.',
  'The tag key strata:rollup (Strata\'s rollup identity) is refused, skip_validate or not: "<ctx>.tag[N].name \'strata:rollup\' is reserved for rollups." (KairosDB accepts any tag name).',
] as const;

export interface KairosDatapointsDecoderOptions extends BatchBuilderOptions {
  /** Deepest JSON nesting accepted. Default 10,000. */
  readonly maxDepth?: number;
}

export interface KairosIngestResult {
  /** Points handed to the sink for this body. */
  readonly points: number;
  /** KairosDB error messages in order; empty → 204, otherwise 400 `{"errors":[…]}`. */
  readonly errors: string[];
}

// Decoder states.
const S_START = 0;
const S_TOP = 1; // in the top-level array: a metric object or ']'
const S_MEMBER = 2; // in a metric object: a key or '}'
const S_FIELD = 3; // the value of `field`
const S_TAGS = 4; // in "tags": a key or '}'
const S_TAG_VALUE = 5;
const S_DATAPOINTS = 6; // in "datapoints": '[' (a datapoint), null, or ']'
const S_DATAPOINT = 7; // in one datapoint: element `element` or ']'
const S_SKIP = 8; // skipping a nested value, then back to `skipReturn`
const S_ARRAY_VALUE = 9; // a value that opened with '[': empty or not?
const S_AFTER = 10; // top-level value done: the rest is ignored
const S_FAILED = 11; // stopped by a syntax or type error

// Metric object fields.
const F_UNKNOWN = 0;
const F_NAME = 1;
const F_TIMESTAMP = 2;
const F_TIME = 3;
const F_VALUE = 4;
const F_TAGS = 5;
const F_DATAPOINTS = 6;
const F_TYPE = 7;
const F_TTL = 8;
const F_SKIP_VALIDATE = 9;
const FIELD_NAMES = ['', 'name', 'timestamp', 'time', 'value', 'tags', 'datapoints', 'type', 'ttl', 'skip_validate'];

// Raw value kinds (what the JSON said), decided into long/double/string at commit.
const V_ABSENT = 0;
const V_NULL = 1;
const V_INT = 2; // safe integer in num
const V_BIGINT = 3; // integer literal beyond 2^53: bigint in ref
const V_FLOAT = 4; // literal with . e E: num; literal bytes in the literal arena
const V_STRING = 5; // string in ref
const V_TRUE = 6;
const V_FALSE = 7;
const V_EMPTY_ARRAY = 8;
const V_ARRAY = 9;
const V_OBJECT = 10;

// Datapoint shapes and timestamp states.
const DP_OK = 0;
const DP_EMPTY = 1; // []
const DP_ONE = 2; // [ts]
const DP_NULL = 3; // null
const TS_OK = 0;
const TS_NULL = 1;
const TS_BAD = 2;
const TS_RANGE = 3;

// Where a value that opened with '[' (or is being skipped) belongs.
const T_VALUE = 0; // header "value"
const T_DP_ELEMENT = 1; // element of a datapoint
const T_NONE = 2; // ignored (unknown field, extra element)

/**
 * Tags objects repeat byte for byte across metric objects (one host's metrics, one agent's
 * request, the same hosts request after request). A cache of recent tags objects — their raw
 * bytes and the string ids read from them; 4,096 entries, two-way set associative by a hash of
 * their first bytes — lets the decoder skip re-tokenizing and re-interning a repeat: the tokenizer
 * checks the bytes verbatim (skipVerbatimObject). It turns itself off for a while when it keeps
 * evicting without reuse. Bench: bench/json.bench.ts (single and shuffled shapes).
 */
const TAGS_CACHE_SLOTS = 4096;
const TAGS_CACHE_MAX_BYTES = 2048;
const TAGS_HASH_BYTES = 48;

interface TagsCacheEntry {
  /** Bumped on every refill: a decoder that read this entry checks it before trusting `tagSet`. */
  version: number;
  bytes: Uint8Array;
  view: DataView; // over bytes
  length: number; // 0 = empty entry
  newlines: number;
  lastNewline: number;
  count: number;
  keys: Int32Array;
  values: Int32Array;
  tagSet: number; // builder tag set id, −1 until resolved
  valid: boolean; // no empty key, empty or null value: KairosDB's tag checks pass
}

/**
 * The tags cache of all KairosDB decoders on one SeriesCache (the ids in it are that cache's), so
 * a decoder made per request starts warm. Decoders of interleaved requests may refill an entry
 * another one is using: they copy what they need and check `version` before using `tagSet`.
 */
class TagsCache {
  /** Two-way set associative: set s holds slots 2s and 2s + 1. */
  readonly entries: (TagsCacheEntry | null)[] = new Array<TagsCacheEntry | null>(TAGS_CACHE_SLOTS).fill(null);
  /** Per set: the way (0/1) used last; a miss replaces the other one. */
  readonly recent = new Uint8Array(TAGS_CACHE_SLOTS / 2);
  generation = 0;
  lastSlot = -1; // slot of the last tags object read or reused
  credit = 0; // +1 per reuse, −1 per eviction; far below 0 turns the cache off for a while
  off = 0; // tags objects left to read without the cache
}

const tagsCaches = new WeakMap<SeriesCache, TagsCache>();

function tagsCacheOf(cache: SeriesCache): TagsCache {
  let t = tagsCaches.get(cache);
  if (t === undefined) {
    t = new TagsCache();
    tagsCaches.set(cache, t);
  }
  return t;
}

const EMPTY_CHUNK = new Uint8Array(0);
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

const LONG_STRING = /^[+-]?[0-9]+$/;
const DOUBLE_STRING = /^[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$/;

const ascii = (s: string): Uint8Array => new TextEncoder().encode(s);
const K_NAME = ascii('name');
const K_TIME = ascii('time');
const K_TAGS = ascii('tags');
const K_TYPE = ascii('type');
const K_VALUE = ascii('value');
const K_TTL = ascii('ttl');
const K_TIMESTAMP = ascii('timestamp');
const K_DATAPOINTS = ascii('datapoints');
const K_SKIP_VALIDATE = ascii('skip_validate');

/**
 * KairosDB's Util.isNumber: an optional sign or leading '.', then digits and at most one '.',
 * not ending in '.'. (ASCII digits only; KairosDB also takes other Unicode digits.)
 */
function isKairosNumber(s: string): boolean {
  const n = s.length;
  if (n === 0) return false;
  let i = 0;
  let dots = 0;
  let digits = 0;
  const first = s.charCodeAt(0);
  if (first === 0x2b || first === 0x2d) i = 1;
  for (; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x2e) {
      if (++dots > 1) return false;
    } else if (c >= 0x30 && c <= 0x39) digits++;
    else return false;
  }
  return digits > 0 && s.charCodeAt(n - 1) !== 0x2e;
}

/** Gson's name of the token it would have peeked, for "Expected X but was Y". */
function gsonTokenName(t: number): string {
  switch (t) {
    case BEGIN_ARRAY:
      return 'BEGIN_ARRAY';
    case BEGIN_OBJECT:
      return 'BEGIN_OBJECT';
    case STRING:
      return 'STRING';
    case NUMBER:
      return 'NUMBER';
    case TRUE:
    case FALSE:
      return 'BOOLEAN';
    case NULL:
      return 'NULL';
    default:
      return 'END_DOCUMENT';
  }
}

/** Gson's wording for each tokenizer syntax error. */
const GSON_SYNTAX_PHRASES: Record<string, string> = {
  'unexpected-character': 'Expected value',
  'expected-colon': "Expected ':'",
  'expected-comma-or-object-end': 'Unterminated object',
  'expected-comma-or-array-end': 'Unterminated array',
  'expected-key': 'Expected name',
  'unterminated-string': 'Unterminated string',
  'invalid-escape': 'Invalid escape sequence',
};

/** Where a value token's resulting point value goes: the decided kind and its payload. */
const K_LONG = 1;
const K_DOUBLE = 2;
const K_STRING = 3;

/**
 * Streaming decoder of one request body at a time. `write(chunk)` any number of times (chunks may
 * split anything, even a UTF-8 character), then `end()`; `reset()` before reusing it for the next
 * body (end() does it). Points go to the builder's sink synchronously from write()/end(), in
 * batches of at most `maxPointsPerBatch`; the batch handed to the sink is reused once the sink
 * returns. A chunk is only read during the write() call that passes it. If the sink throws, the
 * error propagates out of write()/end() and the decoder must be reset() before reuse.
 */
export class KairosDatapointsDecoder {
  private readonly builder: BatchBuilder;
  private readonly tok: JsonTokenizer;
  private errors: string[] = [];
  private points = 0;
  private state = S_START;
  private topArray = false;
  private metricIndex = 0;
  private field = F_UNKNOWN;
  private unknownKey = '';
  private skipDepth = 0;
  private skipReturn = S_MEMBER;
  private arrayTarget = T_NONE;
  private readonly memo = new Int32Array(64).fill(-1);

  // Header of the metric object being read.
  private nameSet = false;
  private nameId = -1;
  private tsSet = false;
  private tsValue = 0;
  private tsRange = false;
  private timeSet = false;
  private timeValue = 0;
  private timeRange = false;
  private valueKind = V_ABSENT;
  private valueNum = 0;
  private valueRef: string | bigint | undefined = undefined;
  private valueLitStart = 0;
  private valueLitLength = 0;
  private tagCount = 0;
  private tagKeys = new Int32Array(16);
  private tagValues = new Int32Array(16); // −1 = null
  private tagKey = -1; // key whose value comes next
  private readonly tagsCache: TagsCache;
  private tagsSlot = -1; // cache slot of the current tags object (being read, or hit)
  private tagsKnownValid = false; // the current tags come from a cache entry whose tags pass
  private tagsVersion = 0; // version of the cache entry the current tags were read from or into
  private tagsLine = 0; // tokenizer line at the current tags object's '{'
  private bodyOpen = false;
  private tagsStart = -1; // absolute offset just after the current tags object's '{'
  private type: string | undefined = undefined;
  private ttl = 0;
  private skipValidate = false;
  private contextNamed = false;
  private seriesSelected = false;

  // Staged datapoints of the metric object being read.
  private dpCount = 0;
  private dpRawIndex = 0; // Gson's index of the current datapoint (every element counts)
  private element = 0; // index inside the current datapoint
  private dpShape = new Uint8Array(64);
  private dpTsState = new Uint8Array(64);
  private dpTs = new Float64Array(64);
  private dpKind = new Uint8Array(64);
  private dpNum = new Float64Array(64);
  private dpRef: (string | bigint | undefined)[] = [];
  private dpLitStart = new Int32Array(64);
  private dpLitLength = new Int32Array(64);
  private dpType = new Int32Array(64); // −1 none, else index into dpTypes
  private dpTypes: string[] = [];
  private dpHasRef = false;
  /** Literal bytes of float values (for type "string"); header value first, then datapoints. */
  private literals = new Uint8Array(1024);
  private literalsUsed = 0;

  constructor(target: BatchBuilder | ((batch: WriteBatch) => void), options: KairosDatapointsDecoderOptions = {}) {
    this.builder = target instanceof BatchBuilder ? target : new BatchBuilder(target, options);
    this.tok = new JsonTokenizer(options.maxDepth !== undefined ? { maxDepth: options.maxDepth } : {});
    this.tagsCache = tagsCacheOf(this.builder.cache);
  }

  /** Decodes the next chunk of the body. */
  write(chunk: Uint8Array): void {
    if (this.state >= S_AFTER) return;
    if (!this.bodyOpen) this.openBody();
    this.tok.feed(chunk, false);
    this.run();
  }

  /** Ids are held from here to end()/reset(): the shared cache must not be trimmed meanwhile. */
  private openBody(): void {
    this.bodyOpen = true;
    this.builder.cache.openBody(this);
  }

  /** Ends the body: flushes the last batch through the sink, returns the count and the messages, resets. */
  end(): KairosIngestResult {
    if (!this.bodyOpen) this.openBody();
    if (this.state < S_AFTER) {
      this.tok.feed(EMPTY_CHUNK, true);
      this.run();
    }
    this.builder.flush();
    const result = { points: this.points, errors: this.errors };
    this.reset();
    this.builder.trimCaches();
    return result;
  }

  /** Forgets the current body (its unflushed points are dropped). */
  reset(): void {
    this.builder.discard();
    if (this.bodyOpen) {
      this.bodyOpen = false;
      this.builder.cache.closeBody(this);
    }
    this.tok.reset();
    this.errors = [];
    this.points = 0;
    this.state = S_START;
    this.topArray = false;
    this.metricIndex = 0;
    this.startMetric();
  }

  // ------------------------------------------------------------------ token loop

  private run(): void {
    const tok = this.tok;
    try {
      for (;;) {
        const t = tok.next();
        if (t === NEED_MORE) return;
        if (t === END) {
          this.state = S_AFTER;
          return;
        }
        switch (this.state) {
          case S_MEMBER:
            if (t === KEY) {
              this.field = this.fieldOf();
              this.state = S_FIELD;
            } else this.endMetric(); // END_OBJECT
            break;
          case S_FIELD:
            this.fieldValue(t);
            break;
          case S_TAGS:
            if (t === KEY) {
              this.tagKey = this.intern(2 + 2 * (this.tagCount & 15));
              this.state = S_TAG_VALUE;
            } else this.endTags(); // END_OBJECT
            break;
          case S_TAG_VALUE:
            this.tagValue(t);
            break;
          case S_DATAPOINTS:
            this.datapointsElement(t);
            break;
          case S_DATAPOINT:
            if (t === END_ARRAY) this.endDatapoint();
            else this.datapointValue(t);
            break;
          case S_TOP:
            this.topElement(t);
            break;
          case S_START:
            this.start(t);
            if (this.state >= S_AFTER) return;
            break;
          case S_SKIP:
            if (t === BEGIN_OBJECT || t === BEGIN_ARRAY) this.skipDepth++;
            else if ((t === END_OBJECT || t === END_ARRAY) && --this.skipDepth === 0) this.state = this.skipReturn;
            break;
          case S_ARRAY_VALUE:
            this.arrayValue(t);
            break;
          default:
            return;
        }
        if (this.state >= S_AFTER) return;
      }
    } catch (err) {
      if (!(err instanceof JsonSyntaxError)) throw err;
      this.syntaxFailure(err);
    }
  }

  private start(t: number): void {
    if (t === BEGIN_ARRAY) {
      this.topArray = true;
      this.state = S_TOP;
    } else if (t === BEGIN_OBJECT) {
      this.topArray = false;
      this.beginMetric();
    } else {
      this.errors.push(INVALID_START_MESSAGE);
      this.state = S_AFTER;
    }
  }

  private topElement(t: number): void {
    if (t === BEGIN_OBJECT) this.beginMetric();
    else if (t === END_ARRAY) this.state = S_AFTER;
    else if (t === NULL) {
      this.errors.push(`metric[${this.metricIndex}] may not be null.`);
      this.metricIndex++;
    } else this.typeFailure('BEGIN_OBJECT', t, this.metricPath());
  }

  private beginMetric(): void {
    this.startMetric();
    this.tok.lenientArrays = true;
    this.state = S_MEMBER;
  }

  private startMetric(): void {
    this.nameSet = false;
    this.nameId = -1;
    this.tsSet = this.timeSet = false;
    this.tsRange = this.timeRange = false;
    this.valueKind = V_ABSENT;
    this.valueRef = undefined;
    this.tagCount = 0;
    this.tagsSlot = -1;
    this.tagsKnownValid = false;
    this.type = undefined;
    this.ttl = 0;
    this.skipValidate = false;
    this.clearDatapoints();
    this.literalsUsed = 0;
  }

  private clearDatapoints(): void {
    if (this.dpHasRef) {
      this.dpRef.fill(undefined, 0, this.dpCount);
      this.dpHasRef = false;
    }
    this.dpCount = 0;
    this.dpRawIndex = 0;
    if (this.dpTypes.length > 0) this.dpTypes.length = 0;
  }

  private fieldOf(): number {
    const tok = this.tok;
    if (!tok.escaped) {
      const buf = tok.buf;
      const s = tok.tokenStart;
      switch (tok.tokenEnd - s) {
        case 3:
          if (tok.rawEquals(K_TTL)) return F_TTL;
          break;
        case 4: {
          const c = buf[s]!;
          if (c === 0x6e) {
            if (tok.rawEquals(K_NAME)) return F_NAME;
          } else if (c === 0x74) {
            const c1 = buf[s + 1];
            if (c1 === 0x61 ? tok.rawEquals(K_TAGS) : false) return F_TAGS;
            if (c1 === 0x69 ? tok.rawEquals(K_TIME) : false) return F_TIME;
            if (c1 === 0x79 ? tok.rawEquals(K_TYPE) : false) return F_TYPE;
          }
          break;
        }
        case 5:
          if (tok.rawEquals(K_VALUE)) return F_VALUE;
          break;
        case 9:
          if (tok.rawEquals(K_TIMESTAMP)) return F_TIMESTAMP;
          break;
        case 10:
          if (tok.rawEquals(K_DATAPOINTS)) return F_DATAPOINTS;
          break;
        case 13:
          if (tok.rawEquals(K_SKIP_VALIDATE)) return F_SKIP_VALIDATE;
          break;
      }
      if (tok.ascii) {
        this.unknownKey = tok.stringValue();
        return F_UNKNOWN;
      }
    }
    const name = tok.stringValue();
    const f = FIELD_NAMES.indexOf(name);
    if (f > 0) return f;
    this.unknownKey = name;
    return F_UNKNOWN;
  }

  /** Interns the current STRING/KEY token (memo slot `at`). */
  private intern(at: number): number {
    const tok = this.tok;
    const strings = this.builder.strings;
    if (!tok.escaped && tok.ascii) return strings.internBytesAt(this.memo, at, tok.buf, tok.tokenStart, tok.tokenEnd);
    return strings.internString(tok.stringValue());
  }

  /** Interns the text of a scalar token as Gson's nextString() gives it (numbers as written, booleans). */
  /**
   * Memo slot for a metric name: names alternate (cpu.usage_user, cpu.usage_system, …), so they get
   * 16 slots picked by length, last and middle byte instead of one.
   */
  private nameMemoSlot(): number {
    const tok = this.tok;
    const n = tok.tokenEnd - tok.tokenStart;
    if (n === 0) return 0;
    const buf = tok.buf;
    return 34 + ((n + buf[tok.tokenEnd - 1]! * 3 + buf[tok.tokenStart + (n >> 1)]!) & 15);
  }

  private internScalar(t: number, at: number): number {
    const tok = this.tok;
    if (t === STRING) return this.intern(at);
    if (t === NUMBER) return this.builder.strings.internBytesAt(this.memo, at, tok.buf, tok.tokenStart, tok.tokenEnd);
    return this.builder.strings.internString(t === TRUE ? 'true' : 'false');
  }

  // ------------------------------------------------------------------ metric fields

  private fieldValue(t: number): void {
    const tok = this.tok;
    this.state = S_MEMBER;
    switch (this.field) {
      case F_NAME:
        if (t === NULL) this.nameSet = false;
        else if (t === BEGIN_ARRAY || t === BEGIN_OBJECT) this.typeFailure('a string', t, this.fieldPath());
        else {
          this.nameSet = true;
          this.nameId = this.internScalar(t, this.nameMemoSlot());
        }
        return;
      case F_TIMESTAMP:
      case F_TIME: {
        let set = false;
        let value = 0;
        if (t !== NULL) {
          value = this.headerLong(t, 'a long');
          if (this.state === S_FAILED) return;
          set = true;
        }
        const range = set && !(Math.abs(value) < MAX_ABS_TIMESTAMP_MS);
        if (this.field === F_TIME) {
          this.timeSet = set;
          this.timeValue = value;
          this.timeRange = range;
        } else {
          this.tsSet = set;
          this.tsValue = value;
          this.tsRange = range;
        }
        return;
      }
      case F_VALUE:
        this.valueRef = undefined;
        this.valueLitLength = 0;
        if (t === BEGIN_ARRAY) {
          this.arrayTarget = T_VALUE;
          this.state = S_ARRAY_VALUE;
        } else if (t === BEGIN_OBJECT) {
          this.valueKind = V_OBJECT;
          this.skip(1, S_MEMBER);
        } else this.valueKind = this.scalarKind(t, true);
        return;
      case F_TAGS:
        this.tagCount = 0;
        this.tagsSlot = -1;
        this.tagsKnownValid = false;
        if (t === BEGIN_OBJECT) this.beginTags();
        else if (t !== NULL) this.typeFailure('BEGIN_OBJECT', t, this.fieldPath());
        return;
      case F_DATAPOINTS:
        this.clearDatapoints();
        if (t === BEGIN_ARRAY) this.state = S_DATAPOINTS;
        else if (t !== NULL) this.typeFailure('BEGIN_ARRAY', t, this.fieldPath());
        return;
      case F_TYPE:
        if (t === NULL) this.type = undefined;
        else if (t === BEGIN_ARRAY || t === BEGIN_OBJECT) this.typeFailure('a string', t, this.fieldPath());
        else this.type = t === STRING ? tok.stringValue() : t === NUMBER ? tok.numberText() : t === TRUE ? 'true' : 'false';
        return;
      case F_TTL:
        if (t !== NULL) {
          const v = this.headerLong(t, 'an int');
          if (this.state === S_FAILED) return;
          if (v < -2147483648 || v > 2147483647) {
            this.numberFailure('an int', this.fieldPath());
            return;
          }
          this.ttl = v;
        }
        return;
      case F_SKIP_VALIDATE:
        if (t === TRUE) this.skipValidate = true;
        else if (t === FALSE) this.skipValidate = false;
        else if (t === STRING) this.skipValidate = tok.stringValue().toLowerCase() === 'true';
        else if (t !== NULL) this.typeFailure('a boolean', t, this.fieldPath());
        return;
      default:
        if (t === BEGIN_ARRAY || t === BEGIN_OBJECT) this.skip(1, S_MEMBER);
    }
  }

  /**
   * Gson's nextLong()/nextInt() on the current token: integer literals, integral doubles and
   * strings holding either. Anything else stops the body with Gson's exception text.
   */
  private headerLong(t: number, expected: string): number {
    const tok = this.tok;
    if (t === NUMBER) {
      if (tok.safeInteger) return tok.numberValue;
      const v = tok.numberValue;
      if (tok.isInteger ? withinInt64(tok.bigintValue()) : Number.isInteger(v) && Math.abs(v) < 2 ** 63) return v;
      this.numberFailure(expected, this.fieldPath());
      return 0;
    }
    if (t === STRING) {
      const s = tok.stringValue();
      if (LONG_STRING.test(s)) {
        const b = BigInt(s);
        if (withinInt64(b)) return Number(b);
      } else if (DOUBLE_STRING.test(s) && Number.isInteger(Number(s))) return Number(s);
      this.numberFailure(expected, this.fieldPath(), JSON.stringify(s));
      return 0;
    }
    this.typeFailure(expected, t, this.fieldPath());
    return 0;
  }

  /**
   * Kind of a scalar value token, keeping what a later type decision needs: the number, the
   * string, or (floats) the literal's bytes. `header` picks the header value's slots, otherwise
   * the current datapoint's.
   */
  private scalarKind(t: number, header: boolean): number {
    const tok = this.tok;
    switch (t) {
      case NUMBER:
        if (tok.isInteger) {
          if (tok.safeInteger) {
            if (header) this.valueNum = tok.numberValue;
            else this.dpNum[this.dpCount] = tok.numberValue;
            return V_INT;
          }
          this.setRef(header, tok.bigintValue());
          return V_BIGINT;
        }
        if (header) {
          this.valueNum = tok.numberValue;
          this.valueLitStart = this.literalsUsed;
          this.valueLitLength = this.copyLiteral();
        } else {
          this.dpNum[this.dpCount] = tok.numberValue;
          this.dpLitStart[this.dpCount] = this.literalsUsed;
          this.dpLitLength[this.dpCount] = this.copyLiteral();
        }
        return V_FLOAT;
      case STRING:
        this.setRef(header, tok.stringValue());
        return V_STRING;
      case TRUE:
        return V_TRUE;
      case FALSE:
        return V_FALSE;
      default:
        return V_NULL;
    }
  }

  private setRef(header: boolean, ref: string | bigint): void {
    if (header) this.valueRef = ref;
    else {
      this.dpRef[this.dpCount] = ref;
      this.dpHasRef = true;
    }
  }

  /** Copies a float literal's bytes to the literal arena; returns its length. */
  private copyLiteral(): number {
    const tok = this.tok;
    const n = tok.tokenEnd - tok.tokenStart;
    if (this.literalsUsed + n > this.literals.length) {
      const grown = new Uint8Array(Math.max(this.literalsUsed + n, this.literals.length * 2));
      grown.set(this.literals.subarray(0, this.literalsUsed));
      this.literals = grown;
    }
    const buf = tok.buf;
    const s = tok.tokenStart;
    const lit = this.literals;
    const o = this.literalsUsed;
    for (let i = 0; i < n; i++) lit[o + i] = buf[s + i]!;
    this.literalsUsed = o + n;
    return n;
  }

  private skip(depth: number, back: number): void {
    this.skipDepth = depth;
    this.skipReturn = back;
    this.state = S_SKIP;
  }

  /** The token after a '[' that opened a value: is the array empty? */
  private arrayValue(t: number): void {
    const target = this.arrayTarget;
    const back = target === T_VALUE ? S_MEMBER : S_DATAPOINT;
    const kind = t === END_ARRAY ? V_EMPTY_ARRAY : V_ARRAY;
    if (target === T_VALUE) this.valueKind = kind;
    else if (target === T_DP_ELEMENT) this.datapointArrayElement(kind);
    if (t === END_ARRAY) this.state = back;
    else if (t === BEGIN_ARRAY || t === BEGIN_OBJECT) this.skip(2, back);
    else this.skip(1, back);
  }

  // ------------------------------------------------------------------ tags

  /** After the '{' of "tags": reuse a cached identical tags object, or read it token by token. */
  private beginTags(): void {
    this.state = S_TAGS;
    const cache = this.tagsCache;
    if (cache.off > 0) {
      // Too few repeats lately: read tags plainly for a while (the cache costs on every miss).
      cache.off--;
      return;
    }
    const tok = this.tok;
    if (this.builder.generation !== cache.generation) {
      for (const entry of cache.entries) if (entry !== null) entry.length = 0;
      cache.generation = this.builder.generation;
    }
    // The previous metric's tags first (the common repeat), then the slot of this object's hash.
    const last = cache.lastSlot;
    if (last >= 0 && this.reuseTags(last)) return;
    const h = tok.peekObjectHash(TAGS_HASH_BYTES);
    if (h < 0) return;
    const set = h & (TAGS_CACHE_SLOTS / 2 - 1);
    const way0 = 2 * set;
    if (way0 !== last && this.reuseTags(way0)) return;
    if (way0 + 1 !== last && this.reuseTags(way0 + 1)) return;
    const slot = way0 + 1 - cache.recent[set]!;
    // A miss on an empty slot is a cold start; a miss that evicts an entry counts against the cache.
    const evicted = cache.entries[slot];
    if (evicted != null && evicted.length > 0 && --cache.credit < -32) {
      cache.credit = 0;
      cache.off = 1024;
    }
    this.tagsSlot = slot;
    this.tagsStart = tok.nextByteOffset;
    this.tagsLine = tok.tokenLine;
  }

  private reuseTags(slot: number): boolean {
    const cache = this.tagsCache;
    const entry = cache.entries[slot] ?? null;
    if (entry === null || entry.length === 0) return false;
    if (!this.tok.skipVerbatimObject(entry.view, entry.length, entry.newlines, entry.lastNewline)) return false;
    const n = entry.count;
    if (n > this.tagKeys.length) {
      this.tagKeys = new Int32Array(entry.keys.length);
      this.tagValues = new Int32Array(entry.keys.length);
    }
    for (let i = 0; i < n; i++) {
      this.tagKeys[i] = entry.keys[i]!;
      this.tagValues[i] = entry.values[i]!;
    }
    this.tagCount = n;
    this.tagsKnownValid = entry.valid;
    this.tagsSlot = cache.lastSlot = slot;
    cache.recent[slot >> 1] = slot & 1;
    this.tagsVersion = entry.version;
    this.state = S_MEMBER;
    if (cache.credit < 16) cache.credit++;
    return true;
  }

  /** Index of the tag whose key is Strata's reserved ROLLUP_TAG_KEY, or -1 (checked by length first: cheap per metric object). */
  private reservedTagIndex(): number {
    const strings = this.builder.strings;
    for (let k = 0; k < this.tagCount; k++) {
      const key = this.tagKeys[k]!;
      if (strings.byteLength(key) === ROLLUP_TAG_KEY.length && strings.string(key) === ROLLUP_TAG_KEY) return k;
    }
    return -1;
  }

  /** Whether KairosDB's per-tag checks pass (no empty key, no empty or null value). */
  private tagsValid(): boolean {
    const strings = this.builder.strings;
    for (let k = 0; k < this.tagCount; k++) {
      const v = this.tagValues[k]!;
      if (strings.byteLength(this.tagKeys[k]!) === 0 || v < 0 || strings.byteLength(v) === 0) return false;
    }
    return true;
  }

  /** The '}' of "tags": remember the object's bytes and ids in its cache slot. */
  private endTags(): void {
    this.state = S_MEMBER;
    const slot = this.tagsSlot;
    if (slot < 0) return;
    const tok = this.tok;
    const length = tok.tokenByteOffset + 1 - this.tagsStart;
    const cache = this.tagsCache;
    let entry = cache.entries[slot] ?? null;
    if (length > TAGS_CACHE_MAX_BYTES) {
      if (entry !== null) entry.length = 0;
      this.tagsSlot = -1;
      return;
    }
    if (entry === null) {
      const bytes = new Uint8Array(256);
      entry = { version: 0, bytes, view: new DataView(bytes.buffer), length: 0, newlines: 0, lastNewline: -1, count: 0, keys: new Int32Array(16), values: new Int32Array(16), tagSet: -1, valid: false };
      cache.entries[slot] = entry;
    }
    if (entry.bytes.length < length) {
      entry.bytes = new Uint8Array(Math.max(length, entry.bytes.length * 2));
      entry.view = new DataView(entry.bytes.buffer);
    }
    if (!tok.copySpan(this.tagsStart, this.tagsStart + length, entry.bytes, entry.view)) {
      entry.length = 0;
      this.tagsSlot = -1;
      return;
    }
    // Newlines only occur in whitespace, which the tokenizer counts: no need to scan the span.
    const newlines = tok.tokenLine - this.tagsLine;
    const lastNewline = newlines > 0 ? tok.lineStartOffset - 1 - this.tagsStart : -1;
    const n = this.tagCount;
    if (entry.keys.length < n) {
      entry.keys = new Int32Array(this.tagKeys.length);
      entry.values = new Int32Array(this.tagKeys.length);
    }
    entry.keys.set(this.tagKeys.subarray(0, n));
    entry.values.set(this.tagValues.subarray(0, n));
    entry.count = n;
    entry.length = length;
    entry.newlines = newlines;
    entry.lastNewline = lastNewline;
    entry.tagSet = -1;
    entry.valid = this.tagsValid();
    entry.version++;
    this.tagsVersion = entry.version;
    cache.lastSlot = slot;
    cache.recent[slot >> 1] = slot & 1;
  }

  private tagValue(t: number): void {
    this.state = S_TAGS;
    let valueId = -1;
    if (t === BEGIN_ARRAY || t === BEGIN_OBJECT) {
      this.typeFailure('a string', t, this.tagPath(this.tagKey));
      return;
    }
    const slot = this.tagCount & 15;
    if (t !== NULL) valueId = this.internScalar(t, 3 + 2 * slot);
    const key = this.tagKey;
    // Gson's map adapter: a repeated key whose earlier value was not null is a syntax error.
    for (let i = 0; i < this.tagCount; i++) {
      if (this.tagKeys[i] === key) {
        if (this.tagValues[i]! >= 0) {
          this.fail(`duplicate key: ${this.builder.strings.string(key)}`);
          return;
        }
        this.tagValues[i] = valueId;
        return;
      }
    }
    const n = this.tagCount;
    if (n === this.tagKeys.length) {
      this.tagKeys = growInt32(this.tagKeys);
      this.tagValues = growInt32(this.tagValues);
    }
    this.tagKeys[n] = key;
    this.tagValues[n] = valueId;
    this.tagCount = n + 1;
  }

  // ------------------------------------------------------------------ datapoints

  private datapointsElement(t: number): void {
    if (t === END_ARRAY) {
      this.state = S_MEMBER;
      return;
    }
    if (t !== BEGIN_ARRAY && t !== NULL) {
      this.typeFailure('BEGIN_ARRAY', t, this.datapointPath());
      return;
    }
    const i = this.dpCount;
    if (i === this.dpShape.length) this.growDatapoints();
    this.dpTsState[i] = TS_NULL;
    this.dpKind[i] = V_ABSENT;
    this.dpType[i] = -1;
    if (t === NULL) {
      this.dpShape[i] = DP_NULL;
      this.dpCount = i + 1;
      this.dpRawIndex++;
      return;
    }
    this.element = 0;
    this.state = S_DATAPOINT;
  }

  private endDatapoint(): void {
    const i = this.dpCount;
    const e = this.element;
    this.dpShape[i] = e === 0 ? DP_EMPTY : e === 1 ? DP_ONE : DP_OK;
    this.dpCount = i + 1;
    this.dpRawIndex++;
    this.state = S_DATAPOINTS;
  }

  /** An element of the current datapoint: timestamp, value, type, then ignored extras. */
  private datapointValue(t: number): void {
    const i = this.dpCount;
    const e = this.element;
    const tok = this.tok;
    if (t === BEGIN_ARRAY || t === BEGIN_OBJECT) {
      if (e === 1 && t === BEGIN_ARRAY) {
        this.arrayTarget = T_DP_ELEMENT;
        this.state = S_ARRAY_VALUE;
        return;
      }
      this.datapointArrayElement(t === BEGIN_OBJECT ? V_OBJECT : V_ARRAY);
      this.skip(1, S_DATAPOINT);
      return;
    }
    if (e === 0) {
      this.dpTsState[i] = this.datapointTimestamp(t, i);
    } else if (e === 1) {
      this.dpKind[i] = this.scalarKind(t, false);
    } else if (e === 2 && t !== NULL) {
      this.dpTypes.push(t === STRING ? tok.stringValue() : t === NUMBER ? tok.numberText() : t === TRUE ? 'true' : 'false');
      this.dpType[i] = this.dpTypes.length - 1;
    }
    this.element = e + 1;
  }

  /** A datapoint element that is an array or object (`kind`): bad timestamp, value kind, bad type. */
  private datapointArrayElement(kind: number): void {
    const i = this.dpCount;
    const e = this.element;
    if (e === 0) this.dpTsState[i] = TS_BAD;
    else if (e === 1) this.dpKind[i] = kind;
    else if (e === 2) {
      this.dpTypes.push(kind === V_OBJECT ? '{}' : '[]');
      this.dpType[i] = this.dpTypes.length - 1;
    }
    this.element = e + 1;
  }

  /** JsonElement.getAsLong() of a datapoint timestamp: numbers truncate, strings parse as longs. */
  private datapointTimestamp(t: number, i: number): number {
    const tok = this.tok;
    let v: number;
    if (t === NUMBER) {
      if (tok.safeInteger) v = tok.numberValue;
      else v = Math.trunc(tok.numberValue);
    } else if (t === STRING) {
      const s = tok.stringValue();
      if (!LONG_STRING.test(s)) return TS_BAD;
      v = Number(s);
    } else if (t === NULL) return TS_NULL;
    else return TS_BAD;
    if (!(Math.abs(v) < MAX_ABS_TIMESTAMP_MS)) return TS_RANGE;
    this.dpTs[i] = v;
    return TS_OK;
  }

  private growDatapoints(): void {
    const n = this.dpShape.length * 2;
    this.dpShape = growTo(this.dpShape, new Uint8Array(n));
    this.dpTsState = growTo(this.dpTsState, new Uint8Array(n));
    this.dpTs = growTo(this.dpTs, new Float64Array(n));
    this.dpKind = growTo(this.dpKind, new Uint8Array(n));
    this.dpNum = growTo(this.dpNum, new Float64Array(n));
    this.dpLitStart = growTo(this.dpLitStart, new Int32Array(n));
    this.dpLitLength = growTo(this.dpLitLength, new Int32Array(n));
    this.dpType = growTo(this.dpType, new Int32Array(n));
  }

  // ------------------------------------------------------------------ validation and commit

  /** KairosDB's context string of the current metric: `metric[N]`, with `(name=X)` once validated. */
  private context(): string {
    const base = `metric[${this.metricIndex - 1}]`;
    return this.contextNamed ? `${base}(name=${this.builder.strings.string(this.nameId)})` : base;
  }

  /** Selects the metric's series in the builder, once, before its first point. */
  private selectSeries(): void {
    if (this.seriesSelected) return;
    this.seriesSelected = true;
    const b = this.builder;
    let entry = this.tagsSlot >= 0 ? (this.tagsCache.entries[this.tagsSlot] ?? null) : null;
    if (entry !== null && entry.version !== this.tagsVersion) entry = null; // refilled by another decoder
    let tagSet = entry !== null ? entry.tagSet : -1;
    if (tagSet < 0) {
      b.beginTags();
      for (let k = 0; k < this.tagCount; k++) b.addTag(this.tagKeys[k]!, this.tagValues[k]!);
      tagSet = b.endTags();
      if (entry !== null) entry.tagSet = tagSet;
    }
    b.selectById(this.nameId, tagSet, this.ttl);
  }

  /** The metric's series key fits the engine's bound (UTF-8 lengths of the interned strings). */
  private seriesKeyFits(): boolean {
    const strings = this.builder.strings;
    let bytes = strings.byteLength(this.nameId);
    for (let k = 0; k < this.tagCount; k++) {
      bytes += strings.byteLength(this.tagKeys[k]!);
      if (this.tagValues[k]! >= 0) bytes += strings.byteLength(this.tagValues[k]!);
    }
    return seriesKeyFits(bytes, 1 + 2 * this.tagCount);
  }

  /** End of a metric object: validate as DataPointsParser.validateAndAddDataPoints, then store. */
  private endMetric(): void {
    const n = this.metricIndex;
    this.metricIndex = n + 1;
    this.tok.lenientArrays = false;
    this.state = this.topArray ? S_TOP : S_AFTER;
    this.seriesSelected = false;
    const errors = this.errors;
    const before = errors.length;
    const strings = this.builder.strings;
    const validate = !this.skipValidate;
    this.contextNamed = false;
    const hasTimestamp = this.timeSet || this.tsSet;
    if (validate) {
      if (!this.nameSet) errors.push(`metric[${n}].name may not be null.`);
      else if (strings.byteLength(this.nameId) === 0) errors.push(`metric[${n}].name may not be empty.`);
      else this.contextNamed = true;
      if (hasTimestamp) {
        const problem = emptiness(this.valueKind, this.valueRef, this.type);
        if (problem !== undefined) errors.push(`${this.context()}.value ${problem}`);
      } else if (this.valueKind !== V_ABSENT && this.valueKind !== V_NULL) errors.push(`${this.context()}.timestamp may not be null.`);
      if (this.tagCount === 0) errors.push(`${this.context()}.tags count must be greater than or equal to 1.`);
      else if (!this.tagsKnownValid) {
        for (let k = 0; k < this.tagCount; k++) {
          const key = this.tagKeys[k]!;
          const keyEmpty = strings.byteLength(key) === 0;
          if (keyEmpty) errors.push(`${this.context()}.tag[${k}].name may not be empty.`);
          const value = this.tagValues[k]!;
          if (value >= 0 && strings.byteLength(value) > 0) continue;
          const tag = keyEmpty ? String(k) : strings.string(key);
          errors.push(`${this.context()}.tag[${tag}].value ${value < 0 ? 'may not be null.' : 'may not be empty.'}`);
        }
      }
    } else if (!this.nameSet) errors.push(`metric[${n}].name may not be null.`);
    const reserved = this.reservedTagIndex();
    if (reserved >= 0) errors.push(`${this.context()}.tag[${reserved}].name '${ROLLUP_TAG_KEY}' is reserved for rollups.`);
    if (this.ttl < 0) errors.push(`${this.context()}.ttl must be greater than or equal to 0.`);
    // Strata's bound (series-key-limit.ts); the name is left out of this message, it may be huge.
    if (errors.length === before && this.nameSet && !this.seriesKeyFits()) errors.push(`metric[${n}] name and tags together exceed ${MAX_DECODED_SERIES_KEY_BYTES} bytes.`);
    if (errors.length > before) return;

    // The single point (time wins over timestamp). With skip_validate, null or [] values reach
    // findType, as in KairosDB, and are "an invalid type".
    if (hasTimestamp && this.valueKind !== V_ABSENT) {
      if (this.timeSet ? this.timeRange : this.tsRange) errors.push(`${this.context()}.timestamp is out of range.`);
      else this.store(this.timeSet ? this.timeValue : this.tsValue, this.valueKind, this.valueNum, this.valueRef, this.valueLitStart, this.valueLitLength, this.type, -1);
    }

    // The datapoints; KairosDB's index i advances only on stored points.
    let i = 0;
    for (let d = 0; d < this.dpCount; d++) {
      const shape = this.dpShape[d]!;
      if (shape === DP_EMPTY || shape === DP_NULL) {
        errors.push(`${this.context()}.datapoints[${i}].timestamp cannot be null or empty.`);
        continue;
      }
      if (shape === DP_ONE) {
        errors.push(`${this.context()}.datapoints[${i}].value cannot be null or empty.`);
        continue;
      }
      const tsState = this.dpTsState[d]!;
      if (tsState !== TS_OK) {
        const problem = tsState === TS_NULL ? 'may not be null.' : tsState === TS_BAD ? 'is not a valid long.' : 'is out of range.';
        errors.push(`${this.context()}.datapoints[${i}].timestamp ${problem}`);
        continue;
      }
      const typeIndex = this.dpType[d]!;
      const type = typeIndex >= 0 ? this.dpTypes[typeIndex] : this.type;
      const kind = this.dpKind[d]!;
      const ref = this.dpRef[d];
      const problem = emptiness(kind, ref, type);
      if (problem !== undefined) {
        errors.push(`${this.context()}.datapoints[${i}].value ${problem}`);
        continue;
      }
      if (this.store(this.dpTs[d]!, kind, this.dpNum[d]!, ref, this.dpLitStart[d]!, this.dpLitLength[d]!, type, i)) i++;
    }
  }

  /**
   * Decides the point's kind (explicit type, else KairosDB's findType with the §7 literal rule),
   * converts and adds it. Returns false, with a message, when it cannot.
   */
  private store(
    ts: number,
    kind: number,
    num: number,
    ref: string | bigint | undefined,
    litStart: number,
    litLength: number,
    type: string | undefined,
    datapoint: number,
  ): boolean {
    let decided: number;
    if (type === undefined) {
      switch (kind) {
        case V_INT:
        case V_BIGINT:
          decided = K_LONG;
          break;
        case V_FLOAT:
          decided = K_DOUBLE;
          break;
        case V_STRING:
          decided = isKairosNumber(ref as string) ? ((ref as string).includes('.') ? K_DOUBLE : K_LONG) : K_STRING;
          break;
        case V_TRUE:
        case V_FALSE:
          decided = K_STRING;
          break;
        default:
          this.errors.push(`${this.context()} value is an invalid type`);
          return false;
      }
    } else if (type === 'long') decided = K_LONG;
    else if (type === 'double') decided = K_DOUBLE;
    else if (type === 'string') decided = K_STRING;
    else {
      this.errors.push(`Unregistered data point type '${type}'`);
      return false;
    }
    this.selectSeries();
    const b = this.builder;
    if (decided === K_DOUBLE) {
      if (kind === V_INT || kind === V_FLOAT) {
        b.addFloat(ts, num);
      } else if (kind === V_BIGINT) {
        b.addFloat(ts, Number(ref as bigint));
      } else if (kind === V_STRING && DOUBLE_STRING.test(ref as string)) {
        b.addFloat(ts, Number(ref));
      } else return this.invalid(datapoint, 'double', kind);
    } else if (decided === K_LONG) {
      if (kind === V_INT) b.addInt(ts, num);
      else if (kind === V_BIGINT) {
        if (!withinInt64(ref as bigint)) return this.outOfRange(datapoint);
        b.addBigInt(ts, ref as bigint);
      } else if (kind === V_FLOAT) {
        // JsonElement.getAsLong() of a decimal: truncated toward zero.
        const v = Math.trunc(num);
        if (Number.isSafeInteger(v)) b.addInt(ts, v);
        else if (Number.isFinite(v) && withinInt64(BigInt(v))) b.addBigInt(ts, BigInt(v));
        else return this.outOfRange(datapoint);
      } else if (kind === V_STRING && LONG_STRING.test(ref as string)) {
        const s = ref as string;
        if (s.length <= 16) b.addInt(ts, Number(s));
        else {
          const v = BigInt(s);
          if (!withinInt64(v)) return this.outOfRange(datapoint);
          if (Number.isSafeInteger(Number(v))) b.addInt(ts, Number(v));
          else b.addBigInt(ts, v);
        }
      } else return this.invalid(datapoint, 'long', kind);
    } else {
      switch (kind) {
        case V_STRING:
          b.addString(ts, ref as string);
          break;
        case V_INT:
          b.addString(ts, Object.is(num, -0) ? '-0' : String(num));
          break;
        case V_BIGINT:
          b.addString(ts, String(ref));
          break;
        case V_FLOAT:
          b.addString(ts, latin1String(this.literals, litStart, litStart + litLength));
          break;
        case V_TRUE:
          b.addString(ts, 'true');
          break;
        case V_FALSE:
          b.addString(ts, 'false');
          break;
        default:
          this.errors.push(`${this.context()} value is an invalid type`);
          return false;
      }
    }
    this.points++;
    return true;
  }

  private invalid(datapoint: number, type: string, kind: number): false {
    if (kind === V_ARRAY || kind === V_OBJECT || kind === V_NULL || kind === V_EMPTY_ARRAY) this.errors.push(`${this.context()} value is an invalid type`);
    else this.errors.push(`${this.context()}${where(datapoint)}.value is not a valid ${type}.`);
    return false;
  }

  private outOfRange(datapoint: number): false {
    this.errors.push(`${this.context()}${where(datapoint)}.value is out of range for a long.`);
    return false;
  }

  // ------------------------------------------------------------------ failures (stop the body)

  private fail(message: string): void {
    this.errors.push(message);
    this.state = S_FAILED;
    this.tok.lenientArrays = false;
  }

  private location(path: string): string {
    return ` at line ${this.tok.tokenLine} column ${this.tok.tokenColumn} path ${path}`;
  }

  /** Gson's IllegalStateException for a value of the wrong JSON type. */
  private typeFailure(expected: string, t: number, path: string): void {
    this.fail(`java.lang.IllegalStateException: Expected ${expected} but was ${gsonTokenName(t)}${this.location(path)}`);
  }

  /** Gson's NumberFormatException for a number that is not a long/int. */
  private numberFailure(expected: string, path: string, text?: string): void {
    this.fail(`java.lang.NumberFormatException: Expected ${expected} but was ${text ?? this.tok.numberText()}${this.location(path)}`);
  }

  private syntaxFailure(err: JsonSyntaxError): void {
    const inMetric = this.state !== S_START && this.state !== S_TOP;
    if (err.reason === 'unexpected-end' && !inMetric) {
      this.fail(NO_CONTENT_MESSAGE);
      return;
    }
    const at = ` at line ${err.line} column ${err.column} path ${this.currentPath()}`;
    if (err.reason === 'unexpected-end') {
      this.fail(`java.io.EOFException: End of input${at}`);
      return;
    }
    this.fail(`com.google.gson.stream.MalformedJsonException: ${GSON_SYNTAX_PHRASES[err.reason] ?? err.detail}${at}`);
  }

  // ------------------------------------------------------------------ Gson-style paths

  private metricPath(): string {
    return this.topArray ? `$[${this.metricIndex}]` : '$';
  }

  private fieldPath(): string {
    return `${this.metricPath()}.${this.field === F_UNKNOWN ? this.unknownKey : FIELD_NAMES[this.field]}`;
  }

  private tagPath(key: number): string {
    return `${this.metricPath()}.tags.${key >= 0 ? this.builder.strings.string(key) : ''}`;
  }

  private datapointPath(): string {
    return `${this.metricPath()}.datapoints[${this.dpRawIndex}]`;
  }

  private currentPath(): string {
    switch (this.state) {
      case S_START:
        return '$';
      case S_TOP:
        return `$[${this.metricIndex}]`;
      case S_TAGS:
      case S_TAG_VALUE:
        return this.tagPath(this.state === S_TAG_VALUE ? this.tagKey : -1);
      case S_DATAPOINTS:
        return this.datapointPath();
      case S_DATAPOINT:
        return `${this.datapointPath()}[${this.element}]`;
      case S_MEMBER:
        return this.metricPath();
      default:
        return this.fieldPath();
    }
  }
}

/** Validator.isNotNullOrEmpty on a value (an empty string passes when the type is "string"). */
function emptiness(kind: number, ref: string | bigint | undefined, type: string | undefined): string | undefined {
  if (kind === V_ABSENT) return 'may not be null.';
  if (kind === V_NULL) return 'may not be empty.';
  if (kind === V_EMPTY_ARRAY) return 'may not be an empty array.';
  if (kind === V_STRING && ref === '' && type !== 'string') return 'may not be empty.';
  return undefined;
}

function withinInt64(v: bigint): boolean {
  return v >= INT64_MIN && v <= INT64_MAX;
}

/** ".datapoints[i]" for a datapoint, "" for the single point (−1). */
function where(datapoint: number): string {
  return datapoint < 0 ? '' : `.datapoints[${datapoint}]`;
}

function growInt32(a: Int32Array): Int32Array<ArrayBuffer> {
  const next = new Int32Array(a.length * 2);
  next.set(a);
  return next;
}

function growTo<T extends Uint8Array | Int32Array | Float64Array>(from: T, to: T): T {
  to.set(from as never);
  return to;
}
