// Bytes per point after compaction on devops-style data: 100 series (10 hosts × 10 cpu fields),
// one day at 10 s (8,640 points per series), 2-decimal gauges; written as 5,000-point appends,
// sealed, then compacted into one day partition. Baseline in the same run: the ingest segments'
// bytes per point before compaction, and 16 bytes/point (raw timestamp + float64).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { compactShard } from '../engine/compact/compaction.js';
import { ShardWriter, shardDirectory } from '../engine/index.js';
import { parseSegmentFileName } from '../engine/segment/format.js';
import { devopsBatch } from '../test/helpers/batches.js';
import { writeResults } from './report.js';

const DAY_MS = 86_400_000;
const START_MS = Date.UTC(2024, 0, 1);

function segmentBytes(dir: string): number {
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.seg'))
    .reduce((n, f) => n + fs.statSync(path.join(dir, f)).size, 0);
}

export async function main(): Promise<Record<string, number>> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-bench-compact-'));
  const dir = shardDirectory(dataDir, 0);
  const writer = ShardWriter.open({ dir, shardId: 0, syncPolicy: 'never' });
  const all = devopsBatch(10, DAY_MS / 10_000, START_MS, 10_000, 5);
  for (let from = 0; from < all.length; from += 5_000) {
    const to = Math.min(all.length, from + 5_000);
    writer.append({ ...all, length: to - from, seriesIndex: all.seriesIndex.subarray(from, to), timestampsMs: all.timestampsMs.subarray(from, to), kinds: all.kinds.subarray(from, to), floats: all.floats.subarray(from, to) });
  }
  writer.roll();
  writer.close();
  const ingestBytes = segmentBytes(dir);
  const nextSequence = Math.max(...fs.readdirSync(dir).map((f) => parseSegmentFileName(f) ?? 0)) + 1;
  const t0 = performance.now();
  const result = compactShard({ shardDir: dir, shardId: 0, tombstones: [], firstOutputSequence: nextSequence });
  const seconds = (performance.now() - t0) / 1000;
  const compactedBytes = segmentBytes(dir);
  fs.rmSync(dataDir, { recursive: true, force: true });

  const points = all.length;
  const results = {
    points,
    ingestBytesPerPoint: ingestBytes / points,
    compactedBytesPerPoint: compactedBytes / points,
    rawBytesPerPoint: 16,
    compactionPointsPerSec: result.pointsIn / seconds,
  };
  console.table([
    { stage: 'raw (i64 timestamp + f64 value)', 'bytes/point': 16 },
    { stage: 'ingest segments (sealed)', 'bytes/point': results.ingestBytesPerPoint.toFixed(3) },
    { stage: 'after compaction', 'bytes/point': results.compactedBytesPerPoint.toFixed(3) },
  ]);
  console.log(`compaction: ${Math.round(results.compactionPointsPerSec).toLocaleString('en-US')} points/s; ${points} points in, ${result.pointsOut} out`);
  writeResults('compaction', results);
  return results;
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
