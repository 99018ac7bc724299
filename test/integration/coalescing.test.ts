// Small ingest requests grouped while the workers are busy (src/pool/coalescer.ts): every request
// gets exactly the answer it gets alone, exactly its points are stored, and the grouping really
// happens (far fewer blocks than requests), checked against a server that never groups.
import * as zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { Catalog } from '../../engine/catalog/catalog.js';
import { NodeFileSystem, shardDirectory } from '../../engine/index.js';
import { ShardReader } from '../../engine/segment/reader.js';
import { request, startServer, type RunningServer } from '../helpers/server.js';

interface Req {
  readonly path: string;
  readonly body: string | Buffer;
  readonly headers?: Record<string, string>;
}

/** A mix of KairosDB and OpenTSDB requests, some with bad points, bad JSON or gzip; every point unique. */
function requests(n: number): Req[] {
  const out: Req[] = [];
  for (let i = 0; i < n; i++) {
    const t = 1_700_000_000 + i;
    switch (i % 6) {
      case 0:
        out.push({ path: '/api/put?details', body: JSON.stringify([{ metric: 'grp.tsdb', timestamp: t, value: i, tags: { host: `h${i % 7}` } }]) });
        break;
      case 1: // one good point, one bad value: per-point acceptance
        out.push({
          path: '/api/put?details',
          body: JSON.stringify([
            { metric: 'grp.tsdb', timestamp: t, value: i + 0.5, tags: { host: `h${i % 7}` } },
            { metric: 'grp.tsdb', timestamp: t, value: 'x', tags: { host: 'h0' } },
          ]),
        });
        break;
      case 2: // broken JSON: the whole request is refused, nothing stored
        out.push({ path: i % 12 === 2 ? '/api/put' : '/api/v1/datapoints', body: '[{"metric":"grp.broken","timestamp":1,' });
        break;
      case 3:
        out.push({ path: '/api/v1/datapoints', body: JSON.stringify([{ name: 'grp.kairos', tags: { host: `h${i % 5}` }, datapoints: [[t * 1000, i], [t * 1000 + 1, i + 1]] }]) });
        break;
      case 4: // one valid metric object, one invalid: 400 listing it, the valid one stored
        out.push({
          path: '/api/v1/datapoints',
          body: JSON.stringify([
            { name: 'grp.kairos', tags: { host: `h${i % 5}` }, datapoints: [[t * 1000, i]] },
            { name: '', tags: { host: 'h' }, datapoints: [[t * 1000, 1]] },
          ]),
        });
        break;
      case 5: // gzip
        out.push({
          path: '/api/put?summary',
          body: zlib.gzipSync(JSON.stringify({ metric: 'grp.gzip', timestamp: t, value: i, tags: { host: 'g' } })),
          headers: { 'Content-Encoding': 'gzip' },
        });
        break;
    }
  }
  return out;
}

async function send(server: RunningServer, r: Req): Promise<string> {
  const res = await request(server.http, { method: 'POST', path: r.path, body: r.body, ...(r.headers ? { headers: r.headers } : {}) });
  return `${res.status} ${res.text()}`;
}

async function stored(server: RunningServer, metric: string): Promise<string> {
  const res = await request(server.http, {
    method: 'POST',
    path: '/api/v1/datapoints/query',
    body: JSON.stringify({ start_absolute: 0, metrics: [{ name: metric, group_by: [{ name: 'tag', tags: ['host'] }] }] }),
  });
  expect(res.status, res.text()).toBe(200);
  const q = res.json() as { queries: { results: { tags: unknown; values: unknown }[] }[] };
  return JSON.stringify(q.queries[0]!.results.map((r) => [r.tags, r.values]).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))));
}

/** Blocks in the server's shards (read after it stopped). */
function blockCount(dataDir: string, shards: number): number {
  let blocks = 0;
  for (let shardId = 0; shardId < shards; shardId++) {
    const reader = new ShardReader(new NodeFileSystem(), shardDirectory(dataDir, shardId), shardId, new Catalog());
    reader.refresh();
    for (const view of reader.segments()) blocks += view.index.blocks.length;
  }
  return blocks;
}

describe('coalescing of small ingest requests', () => {
  it('answers and stores each request as if alone, in far fewer blocks', async () => {
    const all = requests(360);
    const storing = all.filter((_, i) => i % 6 !== 2).length;

    // Reference: never grouped, one request at a time.
    const alone = await startServer({ args: ['--threads', '1', '--coalesce-max-body-bytes', '0'] });
    const expected: string[] = [];
    for (const r of all) expected.push(await send(alone, r));
    const expectedData = [await stored(alone, 'grp.tsdb'), await stored(alone, 'grp.kairos'), await stored(alone, 'grp.gzip'), await stored(alone, 'grp.broken')];
    expect(await alone.stop()).toBe(0);
    expect(blockCount(alone.dataDir, 1)).toBe(storing);

    // All at once against one worker: most requests wait while it is busy, so they are grouped.
    const grouped = await startServer({ args: ['--threads', '1'] });
    const answers = await Promise.all(all.map((r) => send(grouped, r)));
    for (let i = 0; i < all.length; i++) expect(answers[i], `request ${i}`).toBe(expected[i]);
    expect([await stored(grouped, 'grp.tsdb'), await stored(grouped, 'grp.kairos'), await stored(grouped, 'grp.gzip'), await stored(grouped, 'grp.broken')]).toEqual(expectedData);
    expect(await grouped.stop()).toBe(0);
    const blocks = blockCount(grouped.dataDir, 1);
    expect(blocks).toBeGreaterThan(0);
    expect(blocks).toBeLessThan(storing / 4);
  });

  it('never groups OpenTSDB requests that ask for their own sync', async () => {
    const server = await startServer({ args: ['--threads', '1'] });
    const body = (i: number): string => JSON.stringify({ metric: 'grp.sync', timestamp: 1_700_000_000 + i, value: i, tags: { host: 'h' } });
    const answers = await Promise.all(
      Array.from({ length: 60 }, (_, i) => request(server.http, { method: 'POST', path: i % 2 ? '/api/put?sync&details' : '/api/put?sync_timeout=5000&details', body: body(i) })),
    );
    for (const a of answers) {
      expect(a.status, a.text()).toBe(200);
      expect(a.json()).toMatchObject({ success: 1, failed: 0, errors: [] });
    }
    expect(await server.stop()).toBe(0);
    expect(blockCount(server.dataDir, 1)).toBe(60);
  });
});
