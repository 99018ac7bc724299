// Helpers for compaction tests: a comparable picture of what reads return (every series, value
// kinds kept apart, -0 and NaN kept), and what the segment files of a shard physically hold.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { NodeFileSystem, ValueKind, canonicalSeriesKey, type Engine, type SeriesMatcher } from '../../engine/index.js';
import { fileSource, openSegment } from '../../engine/segment/segment-file.js';
import { SegmentKind, parseSegmentFileName } from '../../engine/segment/format.js';

/** One point as text: `t=kind:value`, exact for every kind (float bits via -0/NaN spelling). */
function pointText(t: number, kind: number, f: number, i: bigint, text: string | undefined): string {
  switch (kind) {
    case ValueKind.Float64:
      return `${t}=f:${Object.is(f, -0) ? '-0' : String(f)}`;
    case ValueKind.Int64:
      return `${t}=i:${i}`;
    case ValueKind.String:
      return `${t}=s:${JSON.stringify(text)}`;
    default:
      return `${t}=j:${text}`;
  }
}

/** What a scan returns, keyed by canonical series key: each series' points as text, in order. */
export function readView(engine: Engine, matcher: SeriesMatcher, startMs: number, endMs: number): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const s of engine.scan(engine.select(matcher), startMs, endMs)) {
    const pts: string[] = [];
    for (let k = 0; k < s.length; k++) {
      pts.push(pointText(s.timestampsMs[k]!, s.kinds[k]!, s.floats[k]!, s.ints.length > 0 ? s.ints[k]! : 0n, s.texts.length > 0 ? s.texts[k] : undefined));
    }
    out[canonicalSeriesKey(s.key)] = pts;
  }
  return out;
}

export const WHOLE_RANGE: readonly [number, number] = [-(2 ** 50) + 1, 2 ** 50 - 1];

/** Number of points in one view. */
export function viewPoints(view: Record<string, string[]>): number {
  return Object.values(view).reduce((n, pts) => n + pts.length, 0);
}

/** Names of the shard directory's `*.seg` files, sorted; `tmp` lists `*.tmp` files. */
export function shardFiles(dir: string): { segments: string[]; tmp: string[] } {
  const names = fs.readdirSync(dir).sort();
  return { segments: names.filter((n) => parseSegmentFileName(n) !== undefined), tmp: names.filter((n) => n.endsWith('.tmp')) };
}

/** Points and bytes physically stored in a shard's segments (footer or block walk), by segment kind. */
export function storedPoints(dir: string): { points: number; bytes: number; compactedPoints: number; compactedBytes: number } {
  const fsys = new NodeFileSystem();
  let points = 0;
  let bytes = 0;
  let compactedPoints = 0;
  let compactedBytes = 0;
  for (const name of shardFiles(dir).segments) {
    const filePath = path.join(dir, name);
    const fd = fsys.open(filePath, 'r');
    try {
      const size = fsys.sizeOf(fd);
      const opened = openSegment(filePath, fileSource(fsys, fd, size));
      if (!opened.ok) continue;
      points += opened.index.pointCount;
      bytes += size;
      if (opened.index.header.kind === SegmentKind.Compacted) {
        compactedPoints += opened.index.pointCount;
        compactedBytes += size;
      }
    } finally {
      fsys.close(fd);
    }
  }
  return { points, bytes, compactedPoints, compactedBytes };
}
