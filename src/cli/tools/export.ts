// `strata export`: the points of the series of one metric (optionally narrowed by tags and a time
// range) as KairosDB import JSON or OpenTSDB import lines, to stdout or a file, values exactly as
// stored. Reads through Engine (the same scan the queries use: last write wins, TTL and
// tombstones applied) opened as a non-owner, so it changes nothing and may run beside the server.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Writable } from 'node:stream';
import { Engine, SHARDS_DIR, ValueKind, type SeriesId, type SeriesPoints, type Tags } from '../../../engine/index.js';
import { ToolError, UsageError, parseTimeArg, writeText, type Tool, type ToolCall, type ToolContext } from './common.js';

export type ExportFormat = 'kairosdb' | 'opentsdb';

/**
 * Points held in memory per scan, roughly: the number of series scanned together adapts to the
 * points per series seen so far (from FIRST_SCAN_SERIES up to MAX_SCAN_SERIES). Scanning series
 * together decodes each shared block once instead of once per series; the budget keeps a metric of
 * long series from being held whole. One series is always read whole (narrow with --start/--end).
 */
const SCAN_POINT_BUDGET = 2_000_000;
const FIRST_SCAN_SERIES = 16;
const MAX_SCAN_SERIES = 256;
/** Largest timestamp OpenTSDB reads as seconds (PutDataPointRpc); above it, milliseconds. */
const OPENTSDB_SECOND_LIMIT = 0xffffffff;
/** Largest millisecond timestamp OpenTSDB's put accepts. */
const OPENTSDB_MAX_MS = 9_999_999_999_999;

/**
 * A float64 as a JSON / OpenTSDB number literal that reads back as the same double and as a
 * double, never as an integer: the shortest round-trip form, with ".0" added when it has no
 * '.', 'e' or 'E' (so 2.0 stays a double, protocols.md §7) and -0 as "-0.0". Precondition: finite.
 */
export function floatLiteral(v: number): string {
  if (Object.is(v, -0)) return '-0.0';
  const s = String(v);
  return /[.eE]/.test(s) ? s : `${s}.0`;
}

/**
 * An OpenTSDB import timestamp for `ms`: whole seconds as seconds, otherwise milliseconds.
 * Undefined when OpenTSDB cannot carry it: t ≤ 0, milliseconds it would read as seconds (before
 * 1970-02-19T17:02:47.296Z), or beyond its largest millisecond timestamp.
 */
export function openTsdbTimestamp(ms: number): string | undefined {
  if (ms <= 0) return undefined;
  if (ms % 1000 === 0 && ms / 1000 <= OPENTSDB_SECOND_LIMIT) return String(ms / 1000);
  if (ms > OPENTSDB_SECOND_LIMIT && ms <= OPENTSDB_MAX_MS) return String(ms);
  return undefined;
}

function sortedTags(tags: Tags): [string, string][] {
  return Object.keys(tags)
    .sort()
    .map((k) => [k, tags[k]!]);
}

/** Counts of what the chosen format could not carry (reported on stderr). */
interface Skipped {
  nonFinite: number;
  text: number;
  timestamps: number;
}

/** Output is handed to the stream in pieces of about this many characters. */
const WRITE_CHUNK_CHARS = 1 << 20;

/**
 * Collects output text and hands it to the stream in pieces (a series of millions of points is
 * never one string). `add` returns a promise only when a piece was written and must be awaited.
 */
class TextOut {
  private pending = '';
  constructor(private readonly out: Writable) {}

  add(text: string): Promise<void> | undefined {
    this.pending += text;
    return this.pending.length >= WRITE_CHUNK_CHARS ? this.flush() : undefined;
  }

  async flush(): Promise<void> {
    if (this.pending === '') return;
    const text = this.pending;
    this.pending = '';
    await writeText(this.out, text);
  }
}

/**
 * One series as a KairosDB import metric object, after `separator`. Strings carry type "string"
 * so "123" stays text. Returns the points written.
 */
async function writeKairosSeries(o: TextOut, separator: string, s: SeriesPoints, skipped: Skipped): Promise<number> {
  const tags = sortedTags(s.key.tags)
    .map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`)
    .join(',');
  await o.add(`${separator}{"name":${JSON.stringify(s.key.metric)},"tags":{${tags}},"datapoints":[`);
  let written = 0;
  for (let i = 0; i < s.length; i++) {
    const t = s.timestampsMs[i]!;
    let point: string;
    switch (s.kinds[i]) {
      case ValueKind.Float64: {
        const v = s.floats[i]!;
        if (!Number.isFinite(v)) {
          skipped.nonFinite++;
          continue;
        }
        point = `[${t},${floatLiteral(v)}]`;
        break;
      }
      case ValueKind.Int64:
        point = `[${t},${s.ints[i]!.toString()}]`;
        break;
      case ValueKind.String:
        point = `[${t},${JSON.stringify(s.texts[i] ?? '')},"string"]`;
        break;
      default:
        // JSON values (CAVE, OneNET) as their JSON text, as the KairosDB query API shows them.
        point = `[${t},${s.texts[i] ?? 'null'}]`;
        break;
    }
    const wait = o.add(written > 0 ? `,${point}` : point);
    if (wait) await wait;
    written++;
  }
  await o.add(']}');
  return written;
}

/** One series as OpenTSDB import lines: `metric timestamp value k=v …`, numbers only. Returns the points written. */
async function writeOpenTsdbSeries(o: TextOut, s: SeriesPoints, skipped: Skipped): Promise<number> {
  const tags = sortedTags(s.key.tags)
    .map(([k, v]) => ` ${k}=${v}`)
    .join('');
  let written = 0;
  for (let i = 0; i < s.length; i++) {
    const kind = s.kinds[i]!;
    if (kind === ValueKind.String || kind === ValueKind.Json) {
      skipped.text++;
      continue;
    }
    if (kind === ValueKind.Float64 && !Number.isFinite(s.floats[i]!)) {
      skipped.nonFinite++;
      continue;
    }
    const ts = openTsdbTimestamp(s.timestampsMs[i]!);
    if (ts === undefined) {
      skipped.timestamps++;
      continue;
    }
    const wait = o.add(`${s.key.metric} ${ts} ${kind === ValueKind.Int64 ? s.ints[i]!.toString() : floatLiteral(s.floats[i]!)}${tags}\n`);
    if (wait) await wait;
    written++;
  }
  return written;
}

/** Parses `--tag k=v` arguments; a key given twice matches either value (as KairosDB queries). */
export function parseTagArgs(args: readonly string[]): Record<string, string[]> {
  const tags: Record<string, string[]> = {};
  for (const arg of args) {
    const eq = arg.indexOf('=');
    if (eq <= 0) throw new UsageError(`--tag must be KEY=VALUE, got ${JSON.stringify(arg)}`);
    (tags[arg.slice(0, eq)] ??= []).push(arg.slice(eq + 1));
  }
  return tags;
}

export interface ExportRequest {
  readonly dataDir: string;
  readonly metric: string;
  readonly tags: Readonly<Record<string, readonly string[]>>;
  readonly startMs: number;
  readonly endMs: number;
  readonly format: ExportFormat;
}

export interface ExportSummary {
  readonly series: number;
  readonly points: number;
  readonly skipped: Skipped;
}

/** Writes the selected points to `out` in series order (metric, then sorted tags). */
export async function exportPoints(req: ExportRequest, out: Writable): Promise<ExportSummary> {
  if (!fs.existsSync(path.join(req.dataDir, SHARDS_DIR))) throw new ToolError(`no data directory at ${req.dataDir} (${path.join(req.dataDir, SHARDS_DIR)} does not exist)`);
  // owner: false — never repairs tombstones.log; Engine.open creates nothing here (shards/ exists).
  const engine = Engine.open({ dataDir: req.dataDir, owner: false });
  const skipped: Skipped = { nonFinite: 0, text: 0, timestamps: 0 };
  let series = 0;
  let points = 0;
  try {
    const ids = [...engine.select({ metric: req.metric, tags: req.tags })];
    const keyText = (id: number): string => {
      const key = engine.catalog.key(id as SeriesId);
      return JSON.stringify([key.metric, sortedTags(key.tags)]);
    };
    const sortKeys = new Map(ids.map((id) => [id, keyText(id)] as const));
    ids.sort((a, b) => (sortKeys.get(a)! < sortKeys.get(b)! ? -1 : sortKeys.get(a)! > sortKeys.get(b)! ? 1 : 0));
    const o = new TextOut(out);
    if (req.format === 'kairosdb') await o.add('[');
    let perScan = FIRST_SCAN_SERIES;
    let seenSeries = 0;
    let seenPoints = 0;
    for (let from = 0; from < ids.length; ) {
      const chunk = ids.slice(from, from + perScan);
      from += chunk.length;
      const scanned = new Map(engine.scan(Uint32Array.from(chunk), req.startMs, req.endMs).map((s) => [s.id as number, s] as const));
      for (const id of chunk) {
        const s = scanned.get(id);
        if (s === undefined) continue;
        points += req.format === 'kairosdb' ? await writeKairosSeries(o, series > 0 ? ',\n' : '\n', s, skipped) : await writeOpenTsdbSeries(o, s, skipped);
        series++;
      }
      seenSeries += chunk.length;
      for (const s of scanned.values()) seenPoints += s.length;
      perScan = Math.max(1, Math.min(MAX_SCAN_SERIES, Math.floor(SCAN_POINT_BUDGET / Math.max(1, seenPoints / seenSeries))));
    }
    if (req.format === 'kairosdb') await o.add(series > 0 ? '\n]\n' : ']\n');
    await o.flush();
  } finally {
    engine.close();
  }
  return { series, points, skipped };
}

export const exportTool: Tool = {
  name: 'export',
  synopsis: '--metric NAME [--tag KEY=VALUE …] [--start TIME] [--end TIME] [--format kairosdb|opentsdb] [--out FILE] [--data-dir DIR]',
  summary: "Writes the points of a metric's series as KairosDB import JSON (default) or OpenTSDB import lines.",
  options: {
    metric: { value: 'NAME', help: 'the metric (required)' },
    tag: { value: 'KEY=VALUE', help: 'only series with this tag; repeat for more tags (the same key twice: either value)', multiple: true },
    start: { value: 'TIME', help: 'first timestamp, inclusive: ms since the epoch or ISO 8601 (default: the beginning)' },
    end: { value: 'TIME', help: 'last timestamp, inclusive (default: the end)' },
    format: { value: 'FORMAT', help: 'kairosdb (JSON, default) or opentsdb (lines)' },
    out: { value: 'FILE', help: 'write to FILE instead of stdout' },
  },
  maxPositionals: 0,
  details: [
    'kairosdb: [{"name":…,"tags":{…},"datapoints":[[ms,value],…]},…] — int64 values as integers,',
    'floats always with a "." or exponent, strings as [ms,"text","string"], JSON values as their JSON.',
    'opentsdb: "metric timestamp value k=v …" lines; seconds when whole, else milliseconds. String and',
    'JSON values, NaN/Infinity and timestamps OpenTSDB cannot read are left out and counted on stderr.',
    'Reads like a query (last write wins, TTL and deletes applied); safe while the server runs.',
    'Exit status: 0 done, 1 failed, 2 bad usage.',
  ].join('\n'),
  async run(call: ToolCall, ctx: ToolContext): Promise<number> {
    const metric = call.options['metric'];
    if (metric === undefined || metric === '') throw new UsageError('--metric NAME is required');
    const format = call.options['format'] ?? 'kairosdb';
    if (format !== 'kairosdb' && format !== 'opentsdb') throw new UsageError(`--format must be kairosdb or opentsdb, got ${JSON.stringify(format)}`);
    const startMs = call.options['start'] !== undefined ? parseTimeArg('start', call.options['start']) : -(2 ** 53);
    const endMs = call.options['end'] !== undefined ? parseTimeArg('end', call.options['end']) : 2 ** 53;
    if (endMs < startMs) throw new UsageError('--end is before --start');
    const tags = parseTagArgs(call.lists['tag'] ?? []);
    const file = call.options['out'];
    const dataDir = call.config.dataDir;
    if (!fs.existsSync(path.join(dataDir, SHARDS_DIR))) throw new ToolError(`no data directory at ${dataDir} (${path.join(dataDir, SHARDS_DIR)} does not exist)`);
    let out: Writable = ctx.stdout;
    let fileError: Error | undefined;
    if (file !== undefined) {
      const filePath = path.resolve(ctx.cwd, file);
      // Opened now, so that a path that cannot be written is reported before anything is read.
      out = fs.createWriteStream(filePath, { fd: fs.openSync(filePath, 'w') });
      out.on('error', (err) => (fileError ??= err));
    }
    let summary: ExportSummary;
    try {
      summary = await exportPoints({ dataDir, metric, tags, startMs, endMs, format }, out);
    } finally {
      if (file !== undefined) await new Promise<void>((resolve) => out.end(() => resolve()));
    }
    if (fileError !== undefined) throw fileError;
    const s = summary.skipped;
    const left = [
      ...(s.text > 0 ? [`${s.text} string/JSON point(s) (OpenTSDB lines carry numbers only)`] : []),
      ...(s.nonFinite > 0 ? [`${s.nonFinite} NaN/Infinity point(s) (neither format can carry them)`] : []),
      ...(s.timestamps > 0 ? [`${s.timestamps} point(s) with timestamps OpenTSDB cannot read (≤ 0, or milliseconds before 1970-02-19T17:02:47.296Z)`] : []),
    ];
    ctx.stderr.write(`strata: exported ${summary.points} point(s) of ${summary.series} series${file !== undefined ? ` to ${file}` : ''}${left.length > 0 ? `; left out ${left.join(', ')}` : ''}\n`);
    return 0;
  },
};
