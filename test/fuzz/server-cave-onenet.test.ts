// Server-level fuzz slice, CAVE and OneNET — the protocols that reject a request whole. Mutated
// bodies (the generators of test/fuzz/targets.ts) go to the real built server, each request to its
// own tenant (a CAVE team, a OneNET device); every answer is the protocol's envelope and the one
// the pure decoder gives in-process, and reading everything back through KairosDB shows exactly
// the points of the accepted requests — nothing at all from a rejected one. Afterwards the server
// still answers good requests.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CredentialStore } from '../../src/auth/index.js';
import { CavePublishDecoder } from '../../src/protocols/cave/publish.js';
import { decodeDatapoints } from '../../src/protocols/onenet/datapoints.js';
import { request, startServer, type RunningServer } from '../helpers/server.js';
import { tempDir } from '../helpers/tmp.js';
import { TENANTS, inputs, json, pool, post } from './server-helpers.js';

// ------------------------------------------------------------------------------ CAVE, OneNET (all-or-nothing)

describe('CAVE and OneNET: mutated requests, each to its own tenant, and what was stored', () => {
  let server: RunningServer;
  const teamTokens: string[] = [];
  let masterKey = '';
  const oneNetTypes = [1, 3, 4, 5] as const;

  beforeAll(async () => {
    const dataDir = tempDir();
    const store = CredentialStore.open(dataDir, { log: () => undefined });
    store.createOrg('fz');
    for (let i = 0; i < TENANTS; i++) teamTokens.push(store.createTeam('fz', `t${i}`).secret);
    masterKey = store.createProduct('fzp').secret;
    for (let i = 0; i < TENANTS; i++) store.createDevice('fzp', `d${i}`);
    server = await startServer({ dataDir });
  });
  afterAll(async () => {
    expect(await server.stop()).toBe(0);
  });

  /** Every stored point, as "<metric>@<t ms>=<value>" lists by the value of `tag` (KairosDB's view of all series). */
  async function storedBy(tag: string): Promise<Map<string, string[]>> {
    const names = (json(await request(server.http, { path: '/api/v1/metricnames' }), 'metricnames') as { results: string[] }).results;
    const out = new Map<string, string[]>();
    if (names.length === 0) return out;
    const body = JSON.stringify({ start_absolute: -(2 ** 50) + 1, end_absolute: 2 ** 50 - 1, metrics: names.map((name) => ({ name, group_by: [{ name: 'tag', tags: [tag] }] })) });
    const res = await request(server.http, { method: 'POST', path: '/api/v1/datapoints/query', body });
    expect(res.status, res.text().slice(0, 300)).toBe(200);
    const queries = (res.json() as { queries: { results: { name: string; tags: Record<string, string[]>; values: [number, unknown][] }[] }[] }).queries;
    for (const q of queries) {
      for (const r of q.results) {
        const owner = r.tags[tag];
        if (r.values.length === 0) continue;
        const key = owner === undefined ? '(none)' : owner.join(',');
        const list = out.get(key) ?? [];
        for (const [t, v] of r.values) list.push(`${r.name}@${t}=${typeof v === 'number' ? v : JSON.stringify(v)}`);
        out.set(key, list);
      }
    }
    return out;
  }

  it('CAVE publish: 202 or 400 text as the decoder decides; only accepted requests\' points are stored', async () => {
    const expected = new Map<string, string[]>();
    const bodies = inputs('cave-publish', TENANTS);
    await pool(bodies, 6, async (input, i) => {
      const account = `t${i}.fz`;
      const keys = new Map<string, string>();
      let accepted = true;
      try {
        new CavePublishDecoder((b) => {
          for (let p = 0; p < b.length; p++) {
            const s = b.series[b.seriesIndex[p]!]!;
            const series = `${s.metric}${JSON.stringify(Object.entries(s.tags).sort())}`;
            keys.set(`${series}@${b.timestampsMs[p]}`, `${s.metric}@${b.timestampsMs[p]}=${b.floats[p]}`); // last write wins
          }
        }).decode(input.bytes, account);
      } catch {
        accepted = false;
      }
      const res = await post(server.http, `/organizations/fz/teams/t${i}/metrics`, input.bytes, { 'Content-Type': 'application/json', Authorization: `Bearer ${teamTokens[i]!}` });
      if (res.status === 413) return; // over CAVE's body limit: refused whole before decoding
      if (accepted) {
        expect(res.status, res.text()).toBe(202);
        expect(res.text()).toBe('');
        if (keys.size > 0) expected.set(account, [...keys.values()]);
      } else {
        expect(res.status).toBe(400);
        expect(res.headers['content-type']).toMatch(/^text\/plain/);
        expect(res.text().length).toBeGreaterThan(0);
      }
    });
    const stored = await storedBy('CAVE-account');
    const normalise = (m: Map<string, string[]>): Record<string, string[]> => Object.fromEntries([...m].map(([k, v]) => [k, v.map((x) => x.replace(/=(-?)0$/, '=0')).sort()]).sort());
    expect(normalise(stored)).toEqual(normalise(expected));
    expect([...expected.keys()].length).toBeGreaterThan(5); // some requests were accepted
  });

  it('OneNET uploads (types 1, 3, 4, 5): errno 0 or 6 as the decoder decides; only accepted requests\' points are stored', async () => {
    const expectedCount = new Map<string, number>();
    const per = Math.floor(TENANTS / oneNetTypes.length);
    const jobs = oneNetTypes.flatMap((type, k) => inputs(`onenet-type${type}`, per).map((input, j) => ({ type, input, device: `d${k * per + j}` })));
    await pool(jobs, 6, async ({ type, input, device }) => {
      let count = -1;
      try {
        const points = decodeDatapoints(input.bytes, type, { offsetMinutes: 480, nowMs: Date.now() });
        count = new Set(points.map((p) => `${p.stream}@${p.timestampMs}`)).size;
      } catch {
        count = -1;
      }
      const res = await post(server.http, `/devices/${device}/datapoints?type=${type}`, input.bytes, { 'api-key': masterKey });
      expect(res.status).toBe(200);
      const body = json(res, 'onenet') as { errno: number; error: string };
      if (count >= 0) {
        expect(body, `type ${type}`).toEqual({ errno: 0, error: 'succ' });
        expectedCount.set(device, count);
      } else {
        // errno 3 when there is no body at all, 6 for a body the decoder refuses.
        expect(input.bytes.length === 0 ? [3, 6] : [6], JSON.stringify(body)).toContain(body.errno);
        expect(body.error.length).toBeGreaterThan(0);
      }
    });
    const stored = await storedBy('device_id');
    stored.delete('(none)'); // CAVE's series (no device_id)
    const counts = Object.fromEntries([...stored].map(([device, points]) => [device, points.length]).sort());
    expect(counts).toEqual(Object.fromEntries([...expectedCount].sort()));
    expect(expectedCount.size).toBeGreaterThan(5);
  });

  it('still answers good CAVE and OneNET requests afterwards', async () => {
    const cave = await request(server.http, {
      method: 'POST',
      path: '/organizations/fz/teams/t0/metrics',
      body: JSON.stringify({ metrics: [{ name: 'after', timestamp: 1_413_540_000, value: 1, tags: {} }] }),
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${teamTokens[0]!}` },
    });
    expect(cave.status).toBe(202);
    const one = await request(server.http, { method: 'POST', path: '/devices/d0/datapoints?type=3', body: '{"after":1}', headers: { 'api-key': masterKey } });
    expect(one.json()).toEqual({ errno: 0, error: 'succ' });
  });
});
