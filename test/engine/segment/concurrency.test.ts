// N worker threads append at once, each to its own shard, with no lock; a reader scanning while
// they write sees only whole batches; afterwards every point reads back.
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { Engine } from '../../../engine/index.js';
import { tempDir } from '../../helpers/tmp.js';

const WORKER = path.resolve('dist/test/helpers/append-worker.js');

describe('concurrent shard writers', () => {
  it('four threads append concurrently and every point reads back', async () => {
    const dataDir = tempDir();
    const threads = 4;
    const batches = 60;
    const pointsPerBatch = 500;
    const seriesCount = 50;
    const engine = Engine.open({ dataDir });
    const runs = Array.from({ length: threads }, (_, shardId) =>
      new Promise<{ points: number; newSeries: number }>((resolve, reject) => {
        const w = new Worker(WORKER, { workerData: { dataDir, shardId, batches, pointsPerBatch, seriesCount } });
        w.once('message', resolve);
        w.once('error', reject);
      }),
    );
    // Scan while they write: every count seen must be a whole number of batches per shard.
    let done = false;
    const all = Promise.all(runs).finally(() => (done = true));
    let midScans = 0;
    while (!done) {
      const seen = engine.scan(engine.select({ metric: 'conc' }), 0, 1e12);
      const perShard = new Array<number>(threads).fill(0);
      for (const s of seen) for (const t of s.timestampsMs) perShard[t % 16]!++;
      for (const count of perShard) expect(count % pointsPerBatch).toBe(0);
      midScans++;
      await new Promise((r) => setTimeout(r, 5));
    }
    const results = await all;
    expect(midScans).toBeGreaterThan(0);
    expect(results.map((r) => r.points)).toEqual(new Array(threads).fill(batches * pointsPerBatch));
    expect(results.map((r) => r.newSeries)).toEqual(new Array(threads).fill(seriesCount));

    const fresh = Engine.open({ dataDir, owner: false });
    const series = fresh.scan(fresh.select({ metric: 'conc' }), 0, 1e12);
    expect(series.length).toBe(seriesCount);
    let total = 0;
    for (const s of series) {
      total += s.length;
      for (let i = 0; i < s.length; i++) expect(s.floats[i]).toBe(s.timestampsMs[i]);
    }
    expect(total).toBe(threads * batches * pointsPerBatch);
  });
});
