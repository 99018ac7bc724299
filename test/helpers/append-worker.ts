// Worker-thread body for the concurrency test: claims one shard and appends generated batches.
// Runs compiled (dist/test/helpers/append-worker.js) because worker threads load plain JS.
import { parentPort, workerData } from 'node:worker_threads';
import { ShardWriter, shardDirectory } from '../../engine/index.js';
import { batchOf, type TestPoint } from './batches.js';

interface Job {
  readonly dataDir: string;
  readonly shardId: number;
  readonly batches: number;
  readonly pointsPerBatch: number;
  readonly seriesCount: number;
}

const job = workerData as Job;
const writer = ShardWriter.open({ dir: shardDirectory(job.dataDir, job.shardId), shardId: job.shardId, syncPolicy: 'interval', syncIntervalMs: 50, segmentBytes: 1 << 20 });
let points = 0;
let newSeries = 0;
for (let b = 0; b < job.batches; b++) {
  const pts: TestPoint[] = [];
  for (let i = 0; i < job.pointsPerBatch; i++) {
    const n = b * job.pointsPerBatch + i;
    // Every worker writes the same series, each at its own timestamps: t ≡ shardId (mod 16).
    pts.push({ metric: 'conc', tags: { s: String(n % job.seriesCount) }, t: n * 16 + job.shardId, value: n * 16 + job.shardId });
  }
  const receipt = writer.append(batchOf(pts));
  points += receipt.points;
  newSeries += receipt.newSeries.length;
}
writer.close();
parentPort!.postMessage({ points, newSeries });
