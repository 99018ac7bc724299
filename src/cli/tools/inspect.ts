// `strata inspect`: what a data directory holds, shard by shard and segment by segment (sequence,
// kind, size, blocks, points, series, time range, bytes per point, sealed or active), with totals;
// `--verify` reads every block and checks its checksum and payload. Damage is reported with its
// shard, file and offset, and makes the exit status 1.
//
// Read-only by construction, so it is safe while the server runs and never changes the evidence:
//  * It does not use ShardWriter.open: that claims `<shard>/LOCK` (refused while the server holds
//    the shard) and runs recovery, which deletes `*.tmp`, quarantines, zeroes torn tails and seals
//    segments (docs/format/segment.md §Recovery) — repairs that belong to the shard's writer.
//  * It does not use Engine.open either: that creates `<data>/shards` when missing and, as the
//    owner, may cut a torn tail off `tombstones.log`.
//  * It opens every segment file with flags 'r' through the engine's own read path (openSegment:
//    trailer + footer, or the block walk; decodeBlock for --verify), the code every reader uses,
//    and takes no lock. A segment the server retires meanwhile (compaction) is skipped as gone; an
//    append in progress at the end of the active segment shows as a torn tail (a warning, not
//    damage), exactly as a reader would hold it back.
import * as path from 'node:path';
import {
  FOOTER_MAGIC,
  NodeFileSystem,
  SEGMENT_HEADER_BYTES,
  SHARDS_DIR,
  SegmentKind,
  TRAILER_BYTES,
  canonicalSeriesKey,
  decodeBlock,
  decodeBlockHeader,
  decodeFooterHeader,
  decodeSegmentHeader,
  decodeTrailer,
  fileSource,
  openSegment,
  parseSegmentFileName,
  processIsAlive,
  verifyBlock,
  type FileSystem,
} from '../../../engine/index.js';
import { ToolError, isoTime, writeText, type Tool, type ToolCall, type ToolContext } from './common.js';

/** A checksum or structure failure: where it is and what failed. */
export interface Damage {
  readonly shard: number;
  readonly file: string;
  readonly offset: number;
  readonly problem: string;
}

export interface SegmentReport {
  readonly shard: number;
  readonly file: string;
  readonly sequence: number;
  readonly kind: 'ingest' | 'compacted' | 'unknown';
  /**
   * sealed: footer + trailer; active: the newest unsealed ingest segment (appends go there);
   * unsealed: an older unsealed ingest segment (its writer seals it when it opens the shard);
   * unreadable: the header does not check out.
   */
  readonly state: 'sealed' | 'active' | 'unsealed' | 'unreadable';
  readonly fileBytes: number;
  readonly blocks: number;
  readonly points: number;
  readonly series: number;
  /** Bytes of the blocks (headers + compressed payloads), what bytesPerPoint divides. */
  readonly blockBytes: number;
  readonly bytesPerPoint: number | null;
  readonly minTimestampMs: number | null;
  readonly maxTimestampMs: number | null;
  readonly compaction?: { readonly compactionId: number; readonly outputIndex: number; readonly outputCount: number; readonly sourceSequences: readonly number[] };
}

export interface ShardReport {
  readonly shard: number;
  /** Who holds `<shard>/LOCK`: a live pid, or none (free, stale or absent). */
  readonly writerPid: number | null;
  readonly segments: SegmentReport[];
  /** Files in `<shard>/quarantine/` (evidence kept by recovery). */
  readonly quarantined: number;
  /** `*.tmp` files (creations or compaction outputs not finished; the writer deletes them). */
  readonly tmpFiles: number;
}

export interface InspectReport {
  readonly dataDir: string;
  readonly verified: boolean;
  readonly shards: ShardReport[];
  readonly totals: {
    readonly shards: number;
    readonly segments: number;
    readonly fileBytes: number;
    readonly blocks: number;
    readonly points: number;
    /** Distinct series (metric + tags) over every segment. */
    readonly series: number;
    readonly blockBytes: number;
    readonly bytesPerPoint: number | null;
    readonly minTimestampMs: number | null;
    readonly maxTimestampMs: number | null;
    /** Blocks whose payload was decoded and checksummed (every block with --verify). */
    readonly blocksVerified: number;
  };
  readonly damage: Damage[];
  /** Not damage: a torn tail (an append cut short or in progress), stray bytes after the end. */
  readonly warnings: string[];
}

/** Scan window when looking for whole blocks after the place a walk stopped. */
const SCAN_CHUNK_BYTES = 1 << 20;


function lockOwner(fsys: FileSystem, shardDir: string): number | null {
  const lockPath = path.join(shardDir, 'LOCK');
  if (!fsys.exists(lockPath)) return null;
  let text: string;
  try {
    const fd = fsys.open(lockPath, 'r');
    try {
      const buf = new Uint8Array(64);
      text = new TextDecoder().decode(buf.subarray(0, fsys.pread(fd, buf, 0)));
    } finally {
      fsys.close(fd);
    }
  } catch {
    return null;
  }
  const pid = Number(text.split(' ')[0]);
  return Number.isInteger(pid) && pid > 0 && processIsAlive(pid) ? pid : null;
}

/**
 * The first 8-aligned offset at or after `from` where a whole, checksummed block starts, as
 * recovery searches (docs/format/segment.md §Recovery): it tells damage in place (good blocks
 * follow) from a torn tail (nothing follows).
 */
function findWholeBlockAfter(source: { read(offset: number, length: number): Uint8Array; readonly size: number }, from: number): number | undefined {
  const magic = [0x53, 0x54, 0x42, 0x4b]; // "STBK"
  for (let base = from + 8; base + 72 <= source.size; base += SCAN_CHUNK_BYTES) {
    const chunk = source.read(base, Math.min(SCAN_CHUNK_BYTES, source.size - base));
    for (let i = 0; i + 4 <= chunk.length; i += 8) {
      if (chunk[i] !== magic[0] || chunk[i + 1] !== magic[1] || chunk[i + 2] !== magic[2] || chunk[i + 3] !== magic[3]) continue;
      const at = base + i;
      const header = decodeBlockHeader(source.read(at, 72), source.size - at);
      if (typeof header === 'string') continue;
      if (verifyBlock(source.read(at, header.blockBytes), header)) return at;
    }
  }
  return undefined;
}

/** The little-endian u32 at the start of `bytes` (0 when shorter). */
function u32At(bytes: Uint8Array): number {
  return bytes.length < 4 ? 0 : new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0, true);
}

/** First offset at or after `from` holding a non-zero byte, or undefined. */
function firstNonZero(source: { read(offset: number, length: number): Uint8Array; readonly size: number }, from: number): number | undefined {
  for (let base = from; base < source.size; base += SCAN_CHUNK_BYTES) {
    const chunk = source.read(base, Math.min(SCAN_CHUNK_BYTES, source.size - base));
    for (let i = 0; i < chunk.length; i++) if (chunk[i] !== 0) return base + i;
  }
  return undefined;
}

interface SegmentFindings {
  readonly report: SegmentReport;
  readonly seriesKeys: readonly string[];
  readonly blocksVerified: number;
}

/** Inspects one segment file; undefined when it vanished (retired by a compaction meanwhile). */
function inspectSegment(
  fsys: FileSystem,
  shard: number,
  dataDir: string,
  filePath: string,
  sequence: number,
  newest: boolean,
  verify: boolean,
  damage: Damage[],
  warnings: string[],
): SegmentFindings | undefined {
  const file = path.relative(dataDir, filePath);
  let fd: number;
  try {
    fd = fsys.open(filePath, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  try {
    const size = fsys.sizeOf(fd);
    const source = fileSource(fsys, fd, size);
    const hurt = (offset: number, problem: string): void => void damage.push({ shard, file, offset, problem });
    const header = decodeSegmentHeader(source.read(0, SEGMENT_HEADER_BYTES));
    const empty = { blocks: 0, points: 0, series: 0, blockBytes: 0, bytesPerPoint: null, minTimestampMs: null, maxTimestampMs: null };
    if (typeof header === 'string') {
      hurt(0, `segment header: ${header} (the writer moves this file to quarantine when it opens the shard)`);
      return { report: { shard, file, sequence, kind: 'unknown', state: 'unreadable', fileBytes: size, ...empty }, seriesKeys: [], blocksVerified: 0 };
    }
    const kind = header.kind === SegmentKind.Compacted ? 'compacted' : 'ingest';
    // Without --verify, keys stay binary and walked blocks are decoded up to their runs (as the
    // server's readers do); with it, every walked block is decoded whole.
    const opened = openSegment(filePath, source, verify ? {} : { encodedKeys: true });
    if (!opened.ok) {
      hurt(0, `segment header: ${opened.reason}`);
      return { report: { shard, file, sequence, kind, state: 'unreadable', fileBytes: size, ...empty }, seriesKeys: [], blocksVerified: 0 };
    }
    const index = opened.index;
    let blocksVerified = 0;

    const trailer = size >= SEGMENT_HEADER_BYTES + TRAILER_BYTES ? decodeTrailer(source.read(size - TRAILER_BYTES, TRAILER_BYTES)) : undefined;
    const trailerFits = trailer !== undefined && trailer.footerOffset + trailer.footerBytes + TRAILER_BYTES === size;
    if (!index.sealed) {
      const stop = opened.stop!;
      let sealedButBroken = false;
      if (trailerFits) {
        const footer = decodeFooterHeader(source.read(trailer.footerOffset, trailer.footerBytes), trailer.footerBytes);
        hurt(trailer.footerOffset, `footer: ${typeof footer === 'string' ? footer : 'payload does not decode'} (blocks were walked instead)`);
      } else if (kind === 'compacted' || size !== header.capacityBytes) {
        // Sealing cuts an ingest segment below its preallocated capacity and compaction outputs
        // are sealed before they appear: a trailer that fails here is damage, not a segment in use.
        hurt(Math.max(0, size - TRAILER_BYTES), 'trailer does not check out: the segment was sealed, its footer is not reachable');
        sealedButBroken = true;
      }
      if (stop.reason !== 'end of blocks' || stop.droppedIncompleteBlocks > 0) {
        // Where a footer starts, the walk stops with "bad block magic": the end of the blocks of a
        // sealed segment, or of one whose seal was cut short before the file was cut (recovery
        // treats that as a torn tail and seals again).
        const atFooter = u32At(source.read(stop.offset, 4)) === FOOTER_MAGIC;
        if (sealedButBroken && !atFooter) hurt(stop.offset, `block: ${stop.reason}`);
        else if (atFooter && !trailerFits && !sealedButBroken) {
          warnings.push(`${file}: a footer at offset ${stop.offset} but no trailer at the end: a seal cut short (or in progress); the writer seals the segment again when it opens the shard`);
        } else if (!atFooter) {
          const later = findWholeBlockAfter(source, stop.offset);
          if (later !== undefined) hurt(stop.offset, `block: ${stop.reason} (whole blocks follow at offset ${later}: damaged in place)`);
          else {
            warnings.push(`${file}: torn tail at offset ${stop.offset}: ${stop.reason}${stop.droppedIncompleteBlocks > 0 ? ` (${stop.droppedIncompleteBlocks} block(s) of an unfinished batch held back)` : ''} — an append cut short, or one in progress; the writer zeroes it when it opens the shard`);
          }
        }
      } else if (verify && kind === 'ingest') {
        const stray = firstNonZero(source, stop.offset);
        if (stray !== undefined && !(newest && stray === stop.offset)) warnings.push(`${file}: non-zero bytes at offset ${stray} after the last block (${stop.offset}); the writer copies the file to quarantine and zeroes them`);
      }
    }

    if (verify) {
      if (index.sealed) {
        // Blocks found through a footer are checked when read: read each one whole.
        for (const entry of index.blocks) {
          const bytes = source.read(entry.offset, entry.blockBytes);
          try {
            const block = decodeBlock(bytes, bytes.length);
            if (block.header.pointCount !== entry.pointCount || block.header.sequence !== entry.sequence) {
              hurt(entry.offset, 'block: its header disagrees with the footer entry');
            }
          } catch (err) {
            hurt(entry.offset, `block: ${(err as Error).message}`);
          }
        }
      }
      // Walked blocks were decoded whole by the walk itself.
      blocksVerified = index.blocks.length;
    }

    let keys: string[] = [];
    try {
      keys = index.seriesKeys.map(canonicalSeriesKey);
    } catch (err) {
      hurt(index.sealed ? index.endOffset : SEGMENT_HEADER_BYTES, `series definitions: ${(err as Error).message}`);
    }
    const blockBytes = index.blocks.reduce((sum, b) => sum + b.blockBytes, 0);
    const state = index.sealed ? 'sealed' : kind === 'ingest' && newest ? 'active' : 'unsealed';
    const report: SegmentReport = {
      shard,
      file,
      sequence,
      kind,
      state,
      fileBytes: size,
      blocks: index.blocks.length,
      points: index.pointCount,
      series: index.seriesCount,
      blockBytes,
      bytesPerPoint: index.pointCount > 0 ? blockBytes / index.pointCount : null,
      minTimestampMs: index.pointCount > 0 ? index.minTimestampMs : null,
      maxTimestampMs: index.pointCount > 0 ? index.maxTimestampMs : null,
      ...(index.compaction ? { compaction: index.compaction } : {}),
    };
    return { report, seriesKeys: keys, blocksVerified };
  } finally {
    fsys.close(fd);
  }
}

/** Inspects every shard of `dataDir` (read-only; see the file header). */
export function inspectDataDir(dataDir: string, verify: boolean, fsys: FileSystem = new NodeFileSystem()): InspectReport {
  const shardsDir = path.join(dataDir, SHARDS_DIR);
  if (!fsys.exists(shardsDir)) throw new ToolError(`no data directory at ${dataDir} (${shardsDir} does not exist)`);
  const damage: Damage[] = [];
  const warnings: string[] = [];
  const shards: ShardReport[] = [];
  const series = new Set<string>();
  let blocksVerified = 0;
  const ids = fsys.readdir(shardsDir).filter((n) => /^\d+$/.test(n)).map(Number).sort((a, b) => a - b);
  for (const shard of ids) {
    const dir = path.join(shardsDir, String(shard));
    const names = fsys.readdir(dir);
    const sequences = names.map(parseSegmentFileName).filter((s): s is number => s !== undefined).sort((a, b) => a - b);
    const byName = new Map(names.map((n) => [parseSegmentFileName(n), n] as const));
    let newestIngest = -1;
    const segments: SegmentReport[] = [];
    const findings: SegmentFindings[] = [];
    for (let i = sequences.length - 1; i >= 0; i--) {
      const seq = sequences[i]!;
      const f = inspectSegment(fsys, shard, dataDir, path.join(dir, byName.get(seq)!), seq, newestIngest < 0, verify, damage, warnings);
      if (f === undefined) continue;
      if (f.report.kind === 'ingest' && newestIngest < 0) newestIngest = seq;
      findings.unshift(f);
    }
    for (const f of findings) {
      segments.push(f.report);
      for (const k of f.seriesKeys) series.add(k);
      blocksVerified += f.blocksVerified;
    }
    const quarantineDir = path.join(dir, 'quarantine');
    shards.push({
      shard,
      writerPid: lockOwner(fsys, dir),
      segments,
      quarantined: fsys.exists(quarantineDir) ? fsys.readdir(quarantineDir).length : 0,
      tmpFiles: names.filter((n) => n.endsWith('.tmp')).length,
    });
  }
  damage.sort((a, b) => a.shard - b.shard || (a.file < b.file ? -1 : a.file > b.file ? 1 : a.offset - b.offset));
  const all = shards.flatMap((s) => s.segments);
  const points = all.reduce((n, s) => n + s.points, 0);
  const blockBytes = all.reduce((n, s) => n + s.blockBytes, 0);
  const mins = all.map((s) => s.minTimestampMs).filter((t): t is number => t !== null);
  const maxs = all.map((s) => s.maxTimestampMs).filter((t): t is number => t !== null);
  return {
    dataDir,
    verified: verify,
    shards,
    totals: {
      shards: shards.length,
      segments: all.length,
      fileBytes: all.reduce((n, s) => n + s.fileBytes, 0),
      blocks: all.reduce((n, s) => n + s.blocks, 0),
      points,
      series: series.size,
      blockBytes,
      bytesPerPoint: points > 0 ? blockBytes / points : null,
      minTimestampMs: mins.length > 0 ? Math.min(...mins) : null,
      maxTimestampMs: maxs.length > 0 ? Math.max(...maxs) : null,
      blocksVerified,
    },
    damage,
    warnings,
  };
}

function table(rows: readonly (readonly string[])[], indent: string): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => indent + r.map((v, i) => (i === r.length - 1 ? v : v.padEnd(widths[i]!))).join('  ')).join('\n');
}

const time = (ms: number | null): string => (ms === null ? '-' : isoTime(ms));
const perPoint = (b: number | null): string => (b === null ? '-' : b.toFixed(2));

/** The report as text: a table per shard, totals, then damage and warnings. */
export function formatInspectReport(r: InspectReport): string {
  const out: string[] = [`data directory ${r.dataDir}`];
  for (const s of r.shards) {
    const extra = [s.writerPid !== null ? `writer pid ${s.writerPid} running` : 'no writer running', ...(s.quarantined > 0 ? [`${s.quarantined} file(s) in quarantine/`] : []), ...(s.tmpFiles > 0 ? [`${s.tmpFiles} *.tmp file(s)`] : [])];
    out.push('', `shard ${s.shard} (${extra.join(', ')})`);
    if (s.segments.length === 0) {
      out.push('  no segments');
      continue;
    }
    const rows = [['SEQ', 'KIND', 'STATE', 'BYTES', 'BLOCKS', 'POINTS', 'SERIES', 'FIRST', 'LAST', 'BYTES/POINT']];
    for (const g of s.segments) {
      rows.push([String(g.sequence), g.kind, g.state, String(g.fileBytes), String(g.blocks), String(g.points), String(g.series), time(g.minTimestampMs), time(g.maxTimestampMs), perPoint(g.bytesPerPoint)]);
    }
    out.push(table(rows, '  '));
  }
  const t = r.totals;
  out.push(
    '',
    `total: ${t.shards} shard(s), ${t.segments} segment(s), ${t.fileBytes} bytes, ${t.blocks} block(s), ${t.points} point(s), ${t.series} series, ` +
      `${time(t.minTimestampMs)} .. ${time(t.maxTimestampMs)}, ${perPoint(t.bytesPerPoint)} bytes/point`,
  );
  for (const w of r.warnings) out.push(`warning: ${w}`);
  for (const d of r.damage) out.push(`DAMAGE: shard ${d.shard} ${d.file} offset ${d.offset}: ${d.problem}`);
  if (r.verified) out.push(r.damage.length === 0 ? `verify: ${t.blocksVerified} block(s) read and checksummed, no damage` : `verify: ${t.blocksVerified} block(s) read; ${r.damage.length} damaged place(s)`);
  else if (r.damage.length > 0) out.push(`${r.damage.length} damaged place(s) found without reading every block; run with --verify for a full check`);
  return out.join('\n');
}

export const inspectTool: Tool = {
  name: 'inspect',
  synopsis: '[--data-dir DIR] [--verify] [--json]',
  summary: 'Shows what the data directory holds, per shard and segment; with --verify reads every block and checks its checksum.',
  options: {
    verify: { help: 'read and decode every block, checking its CRC-32C and payload' },
    json: { help: 'print the report as one JSON object' },
  },
  maxPositionals: 0,
  details: [
    'Read-only: takes no lock and repairs nothing, so it may run while the server runs.',
    'Exit status: 0 no damage found, 1 damage found (listed with shard, file and offset) or the',
    'directory cannot be read, 2 bad usage.',
  ].join('\n'),
  async run(call: ToolCall, ctx: ToolContext): Promise<number> {
    const report = inspectDataDir(call.config.dataDir, call.flags['verify'] === true);
    await writeText(ctx.stdout, `${call.flags['json'] ? JSON.stringify(report) : formatInspectReport(report)}\n`);
    return report.damage.length > 0 ? 1 : 0;
  },
};
