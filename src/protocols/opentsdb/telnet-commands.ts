// OpenTSDB line-protocol commands added to the telnet decoder (protocols.md §2.6): OpenTSDB's own
// `put` (PutDataPointRpc, replacing the decoder's built-in KairosDB form; `putm`/`puts` stay
// KairosDB's) and `rollup` (RollupDataPointRpc), both with PutDataPointRpc's error replies
// ("put: illegal argument: …"). Pure: words in, points through the line's BatchBuilder and reply
// text out.
import type { BatchBuilder } from '../batch-builder.js';
import type { TelnetDecoder, TelnetLine } from '../kairosdb/telnet.js';
import { OpenTsdbPointWriter, parseOpenTsdbValue, type OpenTsdbPointOptions, type ParsedValue } from './datapoint.js';
import { JavaNumberFormatError, JavaStringMap, javaSplit, parseTagsLong } from './java-compat.js';

/**
 * What OpenTSDB 2.4 answers to `version` (two lines; the decoder adds the last "\n"). tcollector
 * only needs an answer; pass it as TelnetDecoderOptions.versionReply when the line port speaks
 * OpenTSDB.
 */
export const OPENTSDB_VERSION_REPLY = 'net.opentsdb.tools 2.4.0 built at revision 0f681b7 (MINT)\nBuilt on 2019/09/02 19:57:16 +0000 by strata@localhost:/strata';

/**
 * Where the line port's OpenTSDB commands differ from KairosDB's telnet (which shares the port) or
 * from OpenTSDB itself. Keep docs/api/opentsdb.md and docs/api/kairosdb.md in step.
 */
export const OPENTSDB_TELNET_DECISIONS = [
  'The line port\'s put is OpenTSDB\'s own (PutDataPointRpc), not KairosDB\'s: a line without tags is an error ("put: illegal argument: not enough arguments (need least 4, got 3)") where KairosDB stores it with add=tag; each tag must be exactly k=v ("put: illegal argument: invalid tag: host", so KairosDB\'s a=b=c is refused); at most 8 tags ("Too many tags: …"); metric and tag names follow OpenTSDB\'s character rules ("Invalid metric name (…): illegal character: …"); values follow Java\'s number grammar ("1.5f" is accepted); kairos_opt.ttl is an ordinary tag. putm and puts keep KairosDB\'s rules (add=tag, kairos_opt.ttl).',
  'The limit of 8 tags per put line is OpenTSDB\'s default tsd.storage.max_tags; no server option changes it yet.',
  'version answers OpenTSDB\'s two lines ("net.opentsdb.tools 2.4.0 built at revision … (MINT)" and "Built on … by …"), which tcollector reads as its keepalive; KairosDB answers one line "KairosDB <version>".',
] as const;

/**
 * Registers OpenTSDB's commands on a telnet decoder: `put <metric> <timestamp> <value> <tagk=tagv>
 * […]` (replacing the decoder's built-in put) and `rollup <interval>-<agg>[:<groupby>] <metric>
 * <timestamp> <value> <tagk=tagv> […]` or `rollup <groupby> …`. Stored points count in
 * TelnetDecodeResult.points; errors are replied as OpenTSDB does. Options are the /api/put and
 * /api/rollup ones (maxTags, allowSpecialChars, rollup intervals).
 */
export function registerOpenTsdbTelnetCommands(decoder: TelnetDecoder, options: OpenTsdbPointOptions = {}): void {
  const writers = new WeakMap<BatchBuilder, OpenTsdbPointWriter>();
  const command = (run: (words: readonly string[], writer: OpenTsdbPointWriter) => string | null) => (line: TelnetLine) => {
    let writer = writers.get(line.builder);
    if (writer === undefined) {
      writer = new OpenTsdbPointWriter(line.builder, options);
      writers.set(line.builder, writer);
    }
    const reply = run(line.words, writer);
    if (reply === null) line.addedPoints(1);
    else line.reply(reply);
  };
  decoder.register('put', command(putCommand));
  decoder.register('rollup', command(rollupCommand));
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
