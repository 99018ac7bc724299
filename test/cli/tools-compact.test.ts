// `strata compact`: every shard's points end up in compacted segments, exactly the same points
// read back (deleted ones gone), and a shard held by a running server is left alone (exit 1).
import { describe, expect, it } from 'vitest';
import { request, startServer } from '../helpers/server.js';
import { tempDir } from '../helpers/tmp.js';
import { strataInProcess } from './tools-helpers.js';

interface Report {
  shards: { shard: number; segments: { kind: string; state: string; points: number }[] }[];
}

function kairosBody(metric: string, series: number, points: number): string {
  return JSON.stringify(
    Array.from({ length: series }, (_, s) => ({
      name: metric,
      tags: { host: `h${s}` },
      datapoints: Array.from({ length: points }, (_, i) => [1_700_000_000_000 + i * 10_000, s * 1000 + i + (i % 2 ? 0.5 : 0)]),
    })),
  );
}

describe('strata compact', () => {
  it('compacts every shard: the same points read back, now in compacted segments', async () => {
    const dir = tempDir();
    // Two imports: two runs of ingest segments (64 KiB segments, so several roll).
    expect((await strataInProcess(['import', '--data-dir', dir, '-'], kairosBody('c.m', 20, 500))).code).toBe(0);
    expect((await strataInProcess(['import', '--data-dir', dir, '-'], kairosBody('c.n', 5, 300))).code).toBe(0);
    const before = await strataInProcess(['export', '--data-dir', dir, '--metric', 'c.m']);
    const beforeN = await strataInProcess(['export', '--data-dir', dir, '--metric', 'c.n']);
    expect(before.code).toBe(0);

    const run = await strataInProcess(['compact', '--data-dir', dir, '--json']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/^shard 0: \d+ segments → \d+, 11500 → 11500 points, /m);
    const results = JSON.parse(run.stdout) as { shardId: number; result: { pointsIn: number; pointsOut: number } }[];
    expect(results.reduce((n, r) => n + r.result.pointsOut, 0)).toBe(20 * 500 + 5 * 300);

    expect((await strataInProcess(['export', '--data-dir', dir, '--metric', 'c.m'])).stdout).toBe(before.stdout);
    expect((await strataInProcess(['export', '--data-dir', dir, '--metric', 'c.n'])).stdout).toBe(beforeN.stdout);
    const report = JSON.parse((await strataInProcess(['inspect', '--data-dir', dir, '--json'])).stdout) as Report;
    const segments = report.shards.flatMap((s) => s.segments).filter((s) => s.points > 0);
    expect(segments.length).toBeGreaterThan(0);
    for (const s of segments) expect(s).toMatchObject({ kind: 'compacted', state: 'sealed' });
    // Again: nothing new, the same points.
    expect((await strataInProcess(['compact', '--data-dir', dir])).code).toBe(0);
    expect((await strataInProcess(['export', '--data-dir', dir, '--metric', 'c.m'])).stdout).toBe(before.stdout);
  });

  it('drops deleted points, and leaves shards a running server holds alone (exit 1)', async () => {
    const server = await startServer({ args: ['--threads', '1'] });
    try {
      const body = kairosBody('d.m', 3, 50);
      expect((await request(server.http, { method: 'POST', path: '/api/v1/datapoints', body })).status).toBe(204);
      const del = JSON.stringify({ start_absolute: 0, metrics: [{ name: 'd.m', tags: { host: ['h1'] } }] });
      expect((await request(server.http, { method: 'POST', path: '/api/v1/datapoints/delete', body: del })).status).toBe(204);
      const held = await strataInProcess(['compact', '--data-dir', server.dataDir]);
      expect(held.code).toBe(1);
      expect(held.stderr).toContain('held by a running writer');
    } finally {
      expect(await server.stop()).toBe(0);
    }
    const run = await strataInProcess(['compact', '--data-dir', server.dataDir, '--json']);
    expect(run.code, run.stderr).toBe(0);
    const results = JSON.parse(run.stdout) as { result: { pointsIn: number; pointsOut: number } }[];
    expect(results.reduce((n, r) => n + r.result.pointsIn, 0)).toBe(150);
    expect(results.reduce((n, r) => n + r.result.pointsOut, 0)).toBe(100); // h1's 50 deleted
    const exported = (await strataInProcess(['export', '--data-dir', server.dataDir, '--metric', 'd.m'])).stdout;
    expect(exported).toContain('"h0"');
    expect(exported).not.toContain('"h1"');
  });
});
