// OpenTSDB line-protocol commands added to the telnet decoder (protocols.md §2.6): OpenTSDB's own
// `put` (PutDataPointRpc, replacing the decoder's built-in KairosDB form; `putm`/`puts` stay
// KairosDB's) and `rollup` (RollupDataPointRpc), both with PutDataPointRpc's error replies
// ("put: illegal argument: …"), the `version` lines, and the line port's decoder as a whole
// (createLinePortDecoder). Pure: words in, points through the line's BatchBuilder and reply text
// out.
import type { WriteBatch } from '../../../engine/index.js';
import type { BatchBuilder } from '../batch-builder.js';
import { TelnetDecoder, type TelnetLine } from '../kairosdb/telnet.js';
import { OpenTsdbPointWriter, checkMaxTags, parseOpenTsdbValue, type OpenTsdbPointOptions, type ParsedValue } from './datapoint.js';
import type { OpenTsdbBuildInfo } from './discovery.js';
import { latin1String } from '../json/tokenizer.js';
import { JavaNumberFormatError, JavaStringMap, javaSplit, parseTagsLong } from './java-compat.js';

/**
 * The two lines OpenTSDB's `version` command (and the legacy /version text) renders from its build
 * record (BuildData.revisionString and buildString), without the final "\n":
 * `net.opentsdb.tools <version> built at revision <short_revision> (<repo_status>)` and
 * `Built on <yyyy/MM/dd HH:mm:ss +0000 of timestamp> by <user>@<host>:<repo>`. Strata passes the
 * same record /api/version lists (strataBuildInfo), so all three answers agree.
 */
export function openTsdbVersionLines(build: OpenTsdbBuildInfo): string {
  const seconds = Number(build.timestamp);
  const date = new Date((Number.isFinite(seconds) ? seconds : 0) * 1000).toISOString();
  const builtOn = `${date.slice(0, 10).replaceAll('-', '/')} ${date.slice(11, 19)} +0000`;
  return `net.opentsdb.tools ${build.version} built at revision ${build.short_revision} (${build.repo_status})\nBuilt on ${builtOn} by ${build.user}@${build.host}:${build.repo}`;
}

export interface LinePortOptions extends OpenTsdbPointOptions {
  /** What `version` reports (the record /api/version lists). */
  readonly build: OpenTsdbBuildInfo;
}

/**
 * The line port's decoder: KairosDB's putm and puts, OpenTSDB's put and rollup (with `options`'
 * limits), and `version` answering openTsdbVersionLines(options.build); help and exit. The worker
 * decodes bursts with it; the listener refuses bursts it cannot queue with another one
 * (TelnetDecoder.refuse), so both answer every command alike.
 */
export function createLinePortDecoder(target: BatchBuilder | ((batch: WriteBatch) => void), options: LinePortOptions): TelnetDecoder {
  const decoder = new TelnetDecoder(target, { versionReply: openTsdbVersionLines(options.build) });
  registerOpenTsdbTelnetCommands(decoder, options);
  return decoder;
}

/**
 * Where the line port's OpenTSDB commands differ from KairosDB's telnet (which shares the port) or
 * from OpenTSDB itself. Keep docs/api/opentsdb.md and docs/api/kairosdb.md in step.
 */
export const OPENTSDB_TELNET_DECISIONS = [
  'The line port\'s put is OpenTSDB\'s own (PutDataPointRpc), not KairosDB\'s: a line without tags is an error ("put: illegal argument: not enough arguments (need least 4, got 3)") where KairosDB stores it with add=tag; each tag must be exactly k=v ("put: illegal argument: invalid tag: host", so KairosDB\'s a=b=c is refused); at most 8 tags by default ("Too many tags: …"); metric and tag names follow OpenTSDB\'s character rules ("Invalid metric name (…): illegal character: …"); values follow Java\'s number grammar ("1.5f" is accepted); kairos_opt.ttl is an ordinary tag. putm and puts keep KairosDB\'s rules (add=tag, kairos_opt.ttl).',
  'The tag limit (OpenTSDB\'s tsd.storage.max_tags, default 8) is the server option --opentsdb-max-tags (openTsdbMaxTags, at least 1); it applies alike to put and rollup lines, /api/put and /api/rollup, and "Too many tags: N maximum allowed: M, tags: {…}" states the configured M.',
  'version answers OpenTSDB\'s two lines, rendered from the record /api/version lists ("net.opentsdb.tools <Strata\'s version> built at revision  (UNKNOWN)" and "Built on 1970/01/01 00:00:00 +0000 by @:"), which tcollector reads as its keepalive; KairosDB answers one line "KairosDB <version>".',
  'Under load the line port pushes back before it refuses: it stops reading a connection (TCP backpressure) while the connection holds a full burst (256 KiB), while the port\'s connections together hold half of --max-inflight-bytes, or while 1 MiB of replies waits for the client to read it, and connections get a worker in arrival order (at most one burst per worker thread at a time, so HTTP requests still find room). A connection that could not hand its bytes over for 500 ms (--line-throttle-ms) has everything it holds refused — nothing of it is stored — and each put, rollup, putm and puts line in it is answered "<command>: Please throttle writes: Too many bytes in flight; retry later" (or "…: Too many requests queued; retry later"); version, help, exit and unknown commands in it are answered as usual. OpenTSDB never stops reading and answers the throttle line for each point its HBase client refuses.',
  'A burst a worker fails (a storage or internal error) is answered with one line "error: <message>"; its lines may be partly stored.',
  'A client may half-close (FIN) after its last line, as nc -q1 does: every complete line is still processed and answered before the port closes its side; an unterminated last line is dropped.',
] as const;

/**
 * Registers OpenTSDB's commands on a telnet decoder: `put <metric> <timestamp> <value> <tagk=tagv>
 * […]` (replacing the decoder's built-in put) and `rollup <interval>-<agg>[:<groupby>] <metric>
 * <timestamp> <value> <tagk=tagv> […]` or `rollup <groupby> …`. Stored points count in
 * TelnetDecodeResult.points; errors are replied as OpenTSDB does. Options are the /api/put and
 * /api/rollup ones (maxTags, allowSpecialChars, rollup intervals); a maxTags below 1 throws a
 * RangeError here.
 */
export function registerOpenTsdbTelnetCommands(decoder: TelnetDecoder, options: OpenTsdbPointOptions = {}): void {
  if (options.maxTags !== undefined) checkMaxTags(options.maxTags);
  const writers = new WeakMap<BatchBuilder, OpenTsdbPointWriter>();
  const fastPut = new PutFastPath();
  const command = (run: (words: readonly string[], writer: OpenTsdbPointWriter) => string | null, fast?: PutFastPath) => (line: TelnetLine) => {
    let writer = writers.get(line.builder);
    if (writer === undefined) {
      writer = new OpenTsdbPointWriter(line.builder, options);
      writers.set(line.builder, writer);
    }
    if (fast !== undefined && fast.tryStore(line, writer)) {
      line.addedPoints(1);
      return;
    }
    const reply = run(line.words, writer);
    if (reply === null) line.addedPoints(1);
    else line.reply(reply);
  };
  decoder.register('put', command(putCommand, fastPut));
  decoder.register('rollup', command(rollupCommand));
}

/** ASCII bytes Tags.validateString always accepts: a-z A-Z 0-9 - _ . / */
const NAME_BYTE = new Uint8Array(128);
for (let c = 0; c < 128; c++) {
  const ch = String.fromCharCode(c);
  NAME_BYTE[c] = /[a-zA-Z0-9\-_./]/.test(ch) ? 1 : 0;
}
const EQUALS = 0x3d;
const DOT = 0x2e;
const MINUS = 0x2d;
const SECOND_LIMIT = 0xffffffff;
const MAX_MS_TIMESTAMP = 9_999_999_999_999;

function isName(buf: Uint8Array, start: number, end: number): boolean {
  if (end <= start) return false;
  for (let i = start; i < end; i++) {
    const c = buf[i]!;
    if (c >= 128 || NAME_BYTE[c] === 0) return false;
  }
  return true;
}

/**
 * The common OpenTSDB put line, stored straight from the burst's bytes: putCommand made the
 * line's words into strings, split each tag into two more, and looked every one up by string
 * hash in the name-check and interning memos — about half the time of a line (bench/telnet.bench.ts,
 * docs/benchmarks.md "Line protocol"). This path interns names from bytes (as KairosDB's putm
 * does) and takes only lines it can decide alone: an ASCII metric and tags of OpenTSDB's plain
 * name characters, one '=' per tag, no repeated key, no more than maxTags, a positive integer
 * timestamp without '.', and a value that is a plain decimal (digits, one optional '.', optional
 * leading '-', at most 15 digits when integer). Everything else — every error, every unusual
 * form — returns false untouched and goes through putCommand, which answers as OpenTSDB does.
 * Stores exactly what putCommand would store for the lines it takes.
 */
class PutFastPath {
  private keyIds = new Int32Array(16);
  private valueIds = new Int32Array(16);
  /** internBytesAt memos: [0] the metric, [1 + 2t] / [2 + 2t] tag t's key / value (the same names come at the same places line after line). */
  private memo = new Int32Array(34).fill(-1);

  tryStore(line: TelnetLine, writer: OpenTsdbPointWriter): boolean {
    const count = line.wordCount;
    if (count < 5 || count - 4 > writer.maxTags || writer.allowSpecialChars !== '' || !writer.storing) return false;
    const buf = line.bytes;
    const ms = line.wordStart(1);
    const me = line.wordEnd(1);
    if (!isName(buf, ms, me)) return false;
    const timestampMs = fastTimestampMs(buf, line.wordStart(2), line.wordEnd(2));
    if (timestampMs < 0) return false;
    const vs = line.wordStart(3);
    const ve = line.wordEnd(3);
    const valueShape = decimalShape(buf, vs, ve);
    if (valueShape === NOT_DECIMAL) return false;
    // + 0: "-0" is the integer 0 (Tags.parseLong), not -0.
    const value = valueShape === INTEGER ? Number(latin1String(buf, vs, ve)) + 0 : Number(latin1String(buf, vs, ve));
    if (!Number.isFinite(value)) return false; // "value is NaN or Infinite": putCommand answers it
    for (let w = 4; w < count; w++) {
      const s = line.wordStart(w);
      const e = line.wordEnd(w);
      let eq = s;
      while (eq < e && buf[eq] !== EQUALS) eq++;
      if (!isName(buf, s, eq) || !isName(buf, eq + 1, e)) return false; // also: no '=', '=' first or last, a second '='
    }
    const strings = line.builder.strings;
    const tagCount = count - 4;
    if (tagCount > this.keyIds.length) {
      this.keyIds = new Int32Array(tagCount * 2);
      this.valueIds = new Int32Array(tagCount * 2);
      const memo = new Int32Array(1 + 4 * tagCount).fill(-1);
      memo.set(this.memo);
      this.memo = memo;
    }
    const memo = this.memo;
    for (let t = 0; t < tagCount; t++) {
      const s = line.wordStart(t + 4);
      const e = line.wordEnd(t + 4);
      let eq = s;
      while (buf[eq] !== EQUALS) eq++;
      const key = strings.internBytesAt(memo, 1 + 2 * t, buf, s, eq);
      for (let k = 0; k < t; k++) if (this.keyIds[k] === key) return false; // repeated key: putCommand decides
      this.keyIds[t] = key;
      this.valueIds[t] = strings.internBytesAt(memo, 2 + 2 * t, buf, eq + 1, e);
    }
    const b = line.builder;
    b.beginSeries(strings.internBytesAt(memo, 0, buf, ms, me));
    for (let t = 0; t < tagCount; t++) b.addTag(this.keyIds[t]!, this.valueIds[t]!);
    b.endSeries();
    if (valueShape === INTEGER) b.addInt(timestampMs, value);
    else b.addFloat(timestampMs, value);
    return true;
  }
}

const NOT_DECIMAL = 0;
const INTEGER = 1;
const FRACTION = 2;

/**
 * INTEGER for -?[0-9]{1,15} (a safe integer, exactly what Tags.parseLong gives), FRACTION for
 * -?[0-9]+.[0-9]* or -?.[0-9]+ (Double.parseDouble and Number agree on these), else NOT_DECIMAL.
 */
function decimalShape(buf: Uint8Array, start: number, end: number): number {
  let i = start;
  if (i < end && buf[i] === MINUS) i++;
  let digits = 0;
  let dot = false;
  for (; i < end; i++) {
    const c = buf[i]!;
    if (c >= 0x30 && c <= 0x39) digits++;
    else if (c === DOT && !dot) dot = true;
    else return NOT_DECIMAL;
  }
  if (digits === 0) return NOT_DECIMAL;
  if (dot) return FRACTION;
  return digits <= 15 ? INTEGER : NOT_DECIMAL;
}

/** A put timestamp of 1–13 digits, no sign or '.', > 0, as milliseconds (OpenTSDB's rule); -1 otherwise. */
function fastTimestampMs(buf: Uint8Array, start: number, end: number): number {
  const n = end - start;
  if (n < 1 || n > 13) return -1;
  let v = 0;
  for (let i = start; i < end; i++) {
    const c = buf[i]! - 0x30;
    if (c < 0 || c > 9) return -1;
    v = v * 10 + c;
  }
  if (v <= 0) return -1;
  if (v <= SECOND_LIMIT) return v * 1000;
  return v <= MAX_MS_TIMESTAMP ? v : -1;
}

class IllegalArgument extends Error {}

/**
 * RollupDataPointRpc.importDataPoint + PutDataPointRpc.execute's error handling for one line's
 * words (words[0] is the command). Returns the reply line (without "\n"), or null once stored.
 */
export function rollupCommand(words: readonly string[], writer: OpenTsdbPointWriter): string | null {
  const command = words[0] ?? 'rollup';
  try {
    if (words.length < 6) throw new IllegalArgument(`not enough arguments (need least 7, got ${words.length - 1})`);
    const intervalAgg = words[1]!;
    if (intervalAgg.length === 0) throw new IllegalArgument('Missing interval or aggregator');
    // "<interval>-<agg>[:<groupby>]" or "<groupby>".
    let interval: string | null = null;
    let temporal: string | null = null;
    let spatial: string | null = null;
    const parts = javaSplit(intervalAgg, ':');
    const first = parts[0] ?? '';
    const dash = first.indexOf('-');
    if (dash > -1) {
      interval = first.slice(0, dash);
      temporal = first.slice(dash + 1);
    } else if (parts.length === 1) spatial = first;
    if (parts.length > 1) spatial = parts[1]!;

    const metric = words[2]!;
    if (metric.length === 0) throw new IllegalArgument('empty metric name');
    const tsWord = words[3]!;
    const timestamp = parseTagsLong(tsWord.includes('.') ? tsWord.replaceAll('.', '') : tsWord);
    if (timestamp <= 0) throw new IllegalArgument(`invalid timestamp: ${timestamp}`);
    const value = words[4]!;
    if (value.length === 0) throw new IllegalArgument('empty value');
    const tags = new JavaStringMap();
    for (let i = 5; i < words.length; i++) if (words[i]!.length > 0) parseTag(tags, words[i]!);
    if (spatial !== null && temporal === null) temporal = spatial;
    const v: ParsedValue = parseOpenTsdbValue(value);
    const r = writer.addAggregatePoint(metric, timestamp, v, tags, spatial !== null, interval, temporal, spatial);
    switch (r.kind) {
      case 'stored':
        return null;
      case 'illegal':
        return `${command}: illegal argument: ${r.message}`;
      case 'no-such-rollup':
        return `${command}: No such rollup: ${r.message}`;
      default:
        return `${command}: HBase error: ${r.message}`;
    }
  } catch (err) {
    if (err instanceof JavaNumberFormatError) return `${command}: invalid value: ${err.message}`;
    if (err instanceof IllegalArgument) return `${command}: illegal argument: ${err.message}`;
    throw err;
  }
}

/**
 * OpenTSDB's own `put` (PutDataPointRpc.importDataPoint + execute's replies) for one line's words:
 * at least one tag, names checked (Tags.validateString), max tags, HashMap-ordered messages, Java
 * value grammar. Returns the reply line (without "\n"), or null once stored.
 */
export function putCommand(words: readonly string[], writer: OpenTsdbPointWriter): string | null {
  const command = words[0] ?? 'put';
  try {
    if (words.length < 5) throw new IllegalArgument(`not enough arguments (need least 4, got ${words.length - 1})`);
    const metric = words[1]!;
    if (metric.length === 0) throw new IllegalArgument('empty metric name');
    const tsWord = words[2]!;
    const timestamp = parseTagsLong(tsWord.includes('.') ? tsWord.replaceAll('.', '') : tsWord);
    if (timestamp <= 0) throw new IllegalArgument(`invalid timestamp: ${timestamp}`);
    const value = words[3]!;
    if (value.length === 0) throw new IllegalArgument('empty value');
    const tags = new JavaStringMap();
    for (let i = 4; i < words.length; i++) if (words[i]!.length > 0) parseTag(tags, words[i]!);
    const problem = writer.addPoint(metric, timestamp, parseOpenTsdbValue(value), tags);
    return problem === null ? null : `${command}: illegal argument: ${problem}`;
  } catch (err) {
    if (err instanceof JavaNumberFormatError) return `${command}: invalid value: ${err.message}`;
    if (err instanceof IllegalArgument) return `${command}: illegal argument: ${err.message}`;
    throw err;
  }
}

/**
 * Tags.parse (2.4): Tags.splitString(tag, '=') must give exactly two non-empty parts — one '=',
 * not first, not last (found with indexOf: this runs for every tag of every line); a repeated key
 * must repeat its value.
 */
function parseTag(tags: JavaStringMap, tag: string): void {
  const eq = tag.indexOf('=');
  if (eq <= 0 || eq === tag.length - 1 || tag.indexOf('=', eq + 1) >= 0) throw new IllegalArgument(`invalid tag: ${tag}`);
  const key = tag.slice(0, eq);
  const value = tag.slice(eq + 1);
  const existing = tags.get(key);
  if (value === existing) return;
  if (existing !== null) throw new IllegalArgument(`duplicate tag: ${tag}, tags=${tags.toString()}`);
  tags.put(key, value);
}
