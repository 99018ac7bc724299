// The server's warm-up (src/pool/warm-up.ts) against the real server: each worker reports it,
// and nothing of it reaches the data directory or any query API — a client sees an empty store.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request, startServer, type RunningServer } from '../helpers/server.js';

/** Every regular file under dir, recursively. */
function filesUnder(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true, recursive: true }).filter((e) => e.isFile()).map((e) => path.join(e.parentPath, e.name));
}

describe('warm-up', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startServer({ args: ['--warm-up-points', '8000'] });
  });
  afterAll(async () => {
    await server.stop();
  });

  it('runs in every worker before the server listens', async () => {
    // Worker threads' stderr reaches the process' stderr asynchronously: the lines may come after
    // the listening line (they were written before it).
    const warmedLines = (): string[] => server.stderr().split('\n').filter((l) => l.includes('"worker.warmed-up"'));
    for (let waitedMs = 0; warmedLines().length < 2 && waitedMs < 10_000; waitedMs += 50) await new Promise((r) => setTimeout(r, 50));
    const warmed = warmedLines().map((l) => JSON.parse(l) as { shardId: number; points: number });
    expect(warmed.map((w) => w.shardId).sort()).toEqual([0, 1]);
    expect(warmed.every((w) => w.points === 8000)).toBe(true);
    // Its scratch shards are gone (this server's pid names them).
    const leftovers = fs.readdirSync(os.tmpdir()).filter((n) => n.startsWith(`strata-warm-up-${server.child.pid}-`));
    expect(leftovers).toEqual([]);
  });

  it('leaves no series in the store or on disk', async () => {
    expect((await request(server.http, { path: '/api/v1/metricnames' })).json()).toEqual({ results: [] });
    expect((await request(server.http, { path: '/api/suggest?type=metrics&max=10' })).json()).toEqual([]);
    for (const file of filesUnder(server.dataDir)) expect(fs.readFileSync(file).includes('warm_up'), file).toBe(false);
  });

  it('serves normally afterwards', async () => {
    const put = await request(server.http, { method: 'POST', path: '/api/put', body: JSON.stringify([{ metric: 'after.warm', timestamp: 1_700_000_000, value: 1.5, tags: { host: 'a' } }]) });
    expect(put.status).toBe(204);
    const q = await request(server.http, { path: '/api/query?start=1699999999&end=1700000001&m=none:after.warm' });
    expect(q.json()).toMatchObject([{ metric: 'after.warm', tags: { host: 'a' }, dps: { '1700000000': 1.5 } }]);
  });
});
