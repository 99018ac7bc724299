// The data tools beside the real server (spawned, real sockets): inspect and export read while it
// runs and get in its way nowhere; import is refused while it holds every shard.
import { describe, expect, it } from 'vitest';
import { request, startServer } from '../helpers/server.js';
import { strata } from './tools-helpers.js';

describe('the tools beside a running server', () => {
  it('inspect and export read while the server writes; import is refused while the server holds every shard', async () => {
    const server = await startServer({ args: ['--segment-bytes', '65536'] });
    try {
      const body = JSON.stringify([{ name: 'live.m', tags: { host: 'a' }, datapoints: [[1700000000000, 1], [1700000001000, 2]] }]);
      const headers = { 'content-type': 'application/json' };
      expect((await request(server.http, { method: 'POST', path: '/api/v1/datapoints', headers, body })).status).toBe(204);

      const inspected = strata(['inspect', '--data-dir', server.dataDir, '--verify', '--json']);
      expect(inspected.code, inspected.stdout).toBe(0);
      const report = JSON.parse(inspected.stdout) as { shards: { writerPid: number | null }[]; totals: { points: number }; damage: unknown[] };
      expect(report.shards.map((s) => s.writerPid)).toEqual([server.child.pid, server.child.pid]);
      expect(report.totals.points).toBe(2);
      expect(report.damage).toEqual([]);

      const exported = strata(['export', '--data-dir', server.dataDir, '--metric', 'live.m']);
      expect(exported.code).toBe(0);
      expect(JSON.parse(exported.stdout)).toEqual([{ name: 'live.m', tags: { host: 'a' }, datapoints: [[1700000000000, 1], [1700000001000, 2]] }]);

      const refused = strata(['import', '--data-dir', server.dataDir, '-'], 'live.m 1700000002 3 host=a\n');
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain(`strata: every shard of ${server.dataDir} is held by a running writer`);
      expect(refused.stderr).toContain(`owned by process ${server.child.pid}`);
      expect(refused.stderr).toContain('Stop the server first');

      // The server keeps serving, and still sees only its own points.
      expect((await request(server.http, { method: 'POST', path: '/api/v1/datapoints', headers, body })).status).toBe(204);
      const query = await request(server.http, {
        method: 'POST',
        path: '/api/v1/datapoints/query',
        headers,
        body: JSON.stringify({ start_absolute: 0, metrics: [{ name: 'live.m' }] }),
      });
      expect(query.status).toBe(200);
      expect(query.text()).toContain('"sample_size":2');
    } finally {
      expect(await server.stop()).toBe(0);
    }
  });
});
