// `strata import`: streams a KairosDB import JSON file or OpenTSDB import lines (plain or gzip,
// from a file or stdin) through the decoders the server uses — KairosDatapointsDecoder for
// KairosDB, OpenTSDB's put command path (putCommand with an OpenTsdbPointWriter, what the line
// port runs for `put`) for lines — into a ShardWriter on a shard it claims as a worker does.
// Reports progress on stderr and a summary with the first rejected lines.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import * as zlib from 'node:zlib';
import { EngineError, EngineErrorCode, SHARDS_DIR, ShardWriter, shardDirectory, type EngineEvent, type WriteBatch } from '../../../engine/index.js';
import { BatchBuilder } from '../../protocols/batch-builder.js';
import { KairosDatapointsDecoder } from '../../protocols/kairosdb/ingest.js';
import { OpenTsdbPointWriter } from '../../protocols/opentsdb/datapoint.js';
import { putCommand } from '../../protocols/opentsdb/telnet-commands.js';
import { ToolError, UsageError, type Tool, type ToolCall, type ToolContext } from './common.js';

export type ImportFormat = 'kairosdb' | 'opentsdb';

/** Rejections listed in the summary; the rest are only counted. */
const ERRORS_SHOWN = 5;
/** An OpenTSDB line longer than this is rejected without being held whole (a file without "\n"). */
const MAX_LINE_BYTES = 1 << 20;
const PROGRESS_INTERVAL_MS = 1000;
const LF = 0x0a;

/**
 * The input's bytes, gunzipped when it starts with the gzip magic (1f 8b), as they are otherwise.
 * Concatenated gzip members are read as one stream, as gzip(1) does.
 */
async function* inputBytes(input: Readable): AsyncGenerator<Uint8Array> {
  const it = input[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const head: Buffer[] = [];
  let headBytes = 0;
  while (headBytes < 2) {
    const r = await it.next();
    if (r.done) break;
    head.push(r.value);
    headBytes += r.value.length;
  }
  async function* all(): AsyncGenerator<Buffer> {
    yield* head;
    for (;;) {
      const r = await it.next();
      if (r.done) return;
      yield r.value;
    }
  }
  const first = Buffer.concat(head);
  if (first.length >= 2 && first[0] === 0x1f && first[1] === 0x8b) {
    const gunzip = zlib.createGunzip();
    const source = Readable.from(all());
    source.on('error', (err) => gunzip.destroy(err));
    source.pipe(gunzip);
    try {
      yield* gunzip as AsyncIterable<Buffer>;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code?.startsWith('Z_')) throw new ToolError(`the input is not valid gzip: ${(err as Error).message}`);
      throw err;
    }
    return;
  }
  yield* all();
}

/** Claims the lowest free existing shard (or shard 0 of a new directory), as src/pool/worker.ts does. */
function claimShard(dataDir: string, segmentBytes: number, log: (e: EngineEvent) => void): { writer: ShardWriter; shardId: number } {
  const shardsDir = path.join(dataDir, SHARDS_DIR);
  const existing = fs.existsSync(shardsDir)
    ? fs
        .readdirSync(shardsDir)
        .filter((n) => /^\d+$/.test(n))
        .map(Number)
        .sort((a, b) => a - b)
    : [];
  const candidates = existing.length > 0 ? existing : [0];
  const busy: string[] = [];
  for (const shardId of candidates) {
    try {
      return { writer: ShardWriter.open({ dir: shardDirectory(dataDir, shardId), shardId, segmentBytes, log }), shardId };
    } catch (err) {
      if (err instanceof EngineError && err.code === EngineErrorCode.ShardBusy) {
        busy.push(err.message);
        continue;
      }
      throw err;
    }
  }
  throw new ToolError(
    `every shard of ${dataDir} is held by a running writer (${busy.join('; ')}). Stop the server first, ` +
      'or send the data to the running server instead (KairosDB POST /api/v1/datapoints, OpenTSDB POST /api/put or the line port).',
  );
}

/** Decodes one format chunk by chunk into `sink`; `finish` returns points stored and rejections. */
interface Importer {
  write(chunk: Uint8Array): void;
  finish(): { points: number; rejected: number; errors: string[] };
}

function kairosImporter(sink: (batch: WriteBatch) => void): Importer {
  const decoder = new KairosDatapointsDecoder(sink);
  return {
    write: (chunk) => decoder.write(chunk),
    finish() {
      const r = decoder.end();
      return { points: r.points, rejected: r.errors.length, errors: r.errors.slice(0, ERRORS_SHOWN) };
    },
  };
}

/**
 * OpenTSDB import lines (`metric timestamp value tagk=tagv …`, what `tsdb import` reads): each is
 * given to putCommand as the line port's `put` would be, words split on spaces and tabs. Blank
 * lines are skipped.
 */
function openTsdbImporter(sink: (batch: WriteBatch) => void, maxTags: number): Importer {
  const builder = new BatchBuilder(sink);
  const writer = new OpenTsdbPointWriter(builder, { maxTags });
  const utf8 = new TextDecoder();
  let pending: Uint8Array = new Uint8Array(0);
  let lineNo = 0;
  let points = 0;
  let rejected = 0;
  let overlong = false;
  const errors: string[] = [];
  const reject = (text: string): void => {
    rejected++;
    if (errors.length < ERRORS_SHOWN) errors.push(`line ${lineNo}: ${text}`);
  };
  const line = (bytes: Uint8Array): void => {
    lineNo++;
    let text = utf8.decode(bytes);
    if (text.endsWith('\r')) text = text.slice(0, -1);
    const words = text.split(/[ \t]+/).filter((w) => w !== '');
    if (words.length === 0) return;
    const reply = putCommand(['put', ...words], writer);
    if (reply === null) points++;
    else reject(reply);
  };
  return {
    write(chunk) {
      let start = 0;
      for (;;) {
        const nl = chunk.indexOf(LF, start);
        if (nl < 0) break;
        if (overlong) {
          lineNo++;
          reject(`line longer than ${MAX_LINE_BYTES} bytes`);
          overlong = false;
        } else if (pending.length > 0) {
          const whole = new Uint8Array(pending.length + nl - start);
          whole.set(pending);
          whole.set(chunk.subarray(start, nl), pending.length);
          pending = new Uint8Array(0);
          line(whole);
        } else line(chunk.subarray(start, nl));
        start = nl + 1;
      }
      if (start < chunk.length && !overlong) {
        const rest = chunk.subarray(start);
        if (pending.length + rest.length > MAX_LINE_BYTES) {
          overlong = true;
          pending = new Uint8Array(0);
        } else {
          const next = new Uint8Array(pending.length + rest.length);
          next.set(pending);
          next.set(rest, pending.length);
          pending = next;
        }
      }
    },
    finish() {
      if (overlong) {
        lineNo++;
        reject(`line longer than ${MAX_LINE_BYTES} bytes`);
      } else if (pending.length > 0) line(pending);
      builder.flush();
      return { points, rejected, errors };
    },
  };
}

/** The format of a plain input from its first non-blank byte: '[' or '{' is KairosDB JSON. */
function guessFormat(first: Uint8Array): ImportFormat {
  for (const b of first) {
    if (b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0d) continue;
    return b === 0x5b || b === 0x7b ? 'kairosdb' : 'opentsdb';
  }
  return 'opentsdb';
}

export interface ImportSummary {
  readonly format: ImportFormat;
  readonly shardId: number;
  readonly points: number;
  readonly rejected: number;
  readonly errors: readonly string[];
  readonly seconds: number;
}

export interface ImportRequest {
  readonly dataDir: string;
  readonly input: Readable;
  readonly format: ImportFormat | undefined;
  readonly segmentBytes: number;
  readonly maxTags: number;
  /** Called once a second with the points appended so far and the rate since the start. */
  readonly progress?: (points: number, pointsPerSecond: number) => void;
  readonly note: (text: string) => void;
}

export async function importPoints(req: ImportRequest): Promise<ImportSummary> {
  const startedMs = Date.now();
  const log = (e: EngineEvent): void => {
    if (e.level !== 'info') req.note(`strata: ${e.event}${typeof e['message'] === 'string' ? `: ${e['message']}` : ''}`);
  };
  const { writer, shardId } = claimShard(req.dataDir, req.segmentBytes, log);
  let appended = 0;
  const sink = (batch: WriteBatch): void => {
    appended += writer.append(batch).points;
  };
  // A timer, not the chunk loop, so a stalled input (a pipe waiting on its producer) still shows
  // where the import stands.
  const progress = req.progress;
  const timer = progress ? setInterval(() => progress(appended, appended / ((Date.now() - startedMs) / 1000)), PROGRESS_INTERVAL_MS) : undefined;
  timer?.unref();
  try {
    let importer: Importer | undefined;
    let format = req.format;
    for await (const chunk of inputBytes(req.input)) {
      if (importer === undefined) {
        format ??= guessFormat(chunk);
        importer = format === 'kairosdb' ? kairosImporter(sink) : openTsdbImporter(sink, req.maxTags);
      }
      importer.write(chunk);
    }
    format ??= 'opentsdb';
    importer ??= format === 'kairosdb' ? kairosImporter(sink) : openTsdbImporter(sink, req.maxTags);
    const result = importer.finish();
    return { format, shardId, ...result, seconds: (Date.now() - startedMs) / 1000 };
  } finally {
    clearInterval(timer);
    writer.close();
  }
}

export const importTool: Tool = {
  name: 'import',
  synopsis: '[FILE|-] [--format kairosdb|opentsdb] [--progress] [--data-dir DIR]',
  summary: 'Imports KairosDB import JSON or OpenTSDB import lines (plain or gzip) into the data directory.',
  options: {
    format: { value: 'FORMAT', help: 'kairosdb (JSON) or opentsdb (lines); default: from the first byte ([ or { is JSON)' },
    progress: { help: 'print a progress line every second even when stderr is not a terminal' },
    'segment-bytes': { value: 'N', help: 'preallocated size of a new segment file (as the server option)' },
    'opentsdb-max-tags': { value: 'N', help: 'tags allowed per OpenTSDB point (as the server option; default 8)' },
  },
  maxPositionals: 1,
  details: [
    'FILE is read whole; "-" or no FILE reads stdin. Gzip is recognised by its magic bytes.',
    'The same decoders as the server: KairosDB POST /api/v1/datapoints for JSON, the line port\'s',
    'OpenTSDB put for lines (metric timestamp value tagk=tagv …, timestamps in s or ms).',
    'Writes through one shard of the directory: the lowest one no running process holds; refused',
    'when the server holds them all.',
    'Exit status: 0 everything imported, 1 some points or lines rejected (the rest is stored) or the',
    'import failed, 2 bad usage.',
  ].join('\n'),
  async run(call: ToolCall, ctx: ToolContext): Promise<number> {
    const format = call.options['format'];
    if (format !== undefined && format !== 'kairosdb' && format !== 'opentsdb') throw new UsageError(`--format must be kairosdb or opentsdb, got ${JSON.stringify(format)}`);
    const file = call.positionals[0] ?? '-';
    let input: Readable;
    if (file === '-') input = ctx.stdin;
    else {
      const filePath = path.resolve(ctx.cwd, file);
      // Opened now so that a missing file is reported before a shard is claimed.
      const fd = fs.openSync(filePath, 'r');
      input = fs.createReadStream(filePath, { fd, highWaterMark: 1 << 20 });
    }
    const showProgress = ctx.stderrIsTty || call.flags['progress'] === true;
    let progressShown = false;
    const summary = await importPoints({
      dataDir: call.config.dataDir,
      input,
      format,
      segmentBytes: call.config.segmentBytes,
      maxTags: call.config.openTsdbMaxTags,
      note: (text) => ctx.stderr.write(`${text}\n`),
      ...(showProgress
        ? {
            progress: (points: number, rate: number) => {
              const text = `strata: ${points} points imported, ${Math.round(rate)} points/s`;
              ctx.stderr.write(ctx.stderrIsTty ? `\r${text}\x1b[K` : `${text}\n`);
              progressShown = ctx.stderrIsTty;
            },
          }
        : {}),
    });
    if (progressShown) ctx.stderr.write('\r\x1b[K');
    const rate = summary.seconds > 0 ? Math.round(summary.points / summary.seconds) : summary.points;
    const lines = [
      `strata: imported ${summary.points} point(s) (${summary.format}) into shard ${summary.shardId} of ${call.config.dataDir} in ${summary.seconds.toFixed(2)} s (${rate} points/s)`,
    ];
    if (summary.rejected > 0) {
      lines.push(`strata: rejected ${summary.rejected} ${summary.format === 'kairosdb' ? 'point(s) or metric object(s)' : 'line(s)'}; the first:`);
      for (const e of summary.errors) lines.push(`  ${e}`);
    }
    ctx.stderr.write(`${lines.join('\n')}\n`);
    return summary.rejected > 0 ? 1 : 0;
  },
};
