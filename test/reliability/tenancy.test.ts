// Tenancy as a generated matrix over the real server (guarantee 6, docs/guarantees.md): every
// credential against every tenant, every operation, every route that names the tenant, for CAVE
// and OneNET — including the other protocol's secrets and the admin token — plus malformed auth
// headers. The expected answer of each combination comes from the rules as protocols.md and
// docs/security.md state them (written out below, not taken from src/), and after the matrix the
// operator's view (KairosDB /api/v1/metricnames and queries) must hold exactly what the allowed
// combinations wrote: every refused write used a metric name of its own, and none may exist.
// Allowed reads must return the tenant's own data and nothing else. test/integration/cave.test.ts
// and onenet.test.ts pin single cases (statuses, bodies, order of refusals); this file covers
// the cross product. Credentials are made, revoked and deleted through the admin API.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN_FILE } from '../../src/auth/index.js';
import { rawExchange, request, startServer, type HttpResult, type RunningServer } from '../helpers/server.js';

let server: RunningServer;
let adminToken: string;

const T = 1413540000; // 2014-10-17T10:00:00Z, seconds
const AUTH_FAILED = '{"errno":1,"error":"auth failed"}';
const DOMAIN = 'cave.test';

/** Runs `fn` over `items`, `width` at a time, in order of start. */
async function inParallel<T>(items: readonly T[], width: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

async function admin(method: string, apiPath: string, body?: unknown): Promise<HttpResult> {
  return request(server.http, {
    method,
    path: `/admin/v1${apiPath}`,
    headers: { Authorization: `Bearer ${adminToken}` },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

async function created(r: Promise<HttpResult>): Promise<{ id: number; secret: string }> {
  const res = await r;
  expect(res.status, res.text()).toBe(201);
  return res.json() as { id: number; secret: string };
}

// ------------------------------------------------------------------------------------- CAVE

type Scope = 'publish' | 'read';
interface CaveTenant {
  readonly org: string;
  readonly team?: string;
}
/** A CAVE credential and what the rules say it is. `holder` undefined: not a CAVE token at all. */
interface CaveCredential {
  readonly name: string;
  readonly secret: string;
  readonly holder?: CaveTenant;
  readonly scopes: readonly Scope[];
  /** Revoked, or its team/organisation deleted. */
  readonly dead: boolean;
}

const CAVE_TENANTS: readonly CaveTenant[] = [{ org: 'alpha' }, { org: 'beta' }, { org: 'alpha', team: 'x' }, { org: 'alpha', team: 'y' }, { org: 'beta', team: 'x' }];
const tenantName = (t: CaveTenant): string => (t.team === undefined ? t.org : `${t.team}.${t.org}`);

/**
 * protocols.md §3.1 and §7, docs/security.md: a live token with the scope; the organisation
 * endpoints take the organisation's own tokens only; a team endpoint takes that team's tokens or
 * its organisation's.
 */
function caveAllowed(c: CaveCredential, tenant: CaveTenant, scope: Scope): boolean {
  if (c.dead || c.holder === undefined || !c.scopes.includes(scope) || c.holder.org !== tenant.org) return false;
  if (tenant.team === undefined) return c.holder.team === undefined;
  return c.holder.team === undefined || c.holder.team === tenant.team;
}

const caveCreds: CaveCredential[] = [];
/** Seed value per tenant: what an allowed read must find, and nothing of another tenant. */
const seedValue = new Map<string, number>();

// ------------------------------------------------------------------------------------- OneNET

type Permission = 'read' | 'write';
interface OneNetCredential {
  readonly name: string;
  readonly secret: string;
  readonly product?: string;
  readonly device?: string;
  readonly permissions: readonly Permission[];
  readonly dead: boolean;
}
const DEVICE_PRODUCT: Readonly<Record<string, string | undefined>> = { a1: 'pa', a2: 'pa', b1: 'pb', c1: 'pc', ghost: undefined };
const DEVICES = Object.keys(DEVICE_PRODUCT);

/** docs/security.md "OneNET API keys and tenancy": same product, not bound to another device, the permission. */
function oneNetAllowed(k: OneNetCredential, device: string, permission: Permission): boolean {
  const product = DEVICE_PRODUCT[device];
  if (k.dead || k.product === undefined || product === undefined || k.product !== product) return false;
  if (k.device !== undefined && k.device !== device) return false;
  return k.permissions.includes(permission);
}

const oneNetCreds: OneNetCredential[] = [];
/** The bindata index seeded per device. */
const binIndex = new Map<string, string>();

/** Every metric name an allowed write created (plus seeds): the operator's view must equal this. */
const expectedNames = new Set<string>();
/** Streams written per OneNET device (seeds and allowed uploads). */
const streamsOf = new Map<string, Set<string>>(DEVICES.map((d) => [d, new Set<string>()]));
/** CAVE metrics published per tenant (its metric-names answer). */
const caveNamesOf = new Map<string, Set<string>>(CAVE_TENANTS.map((t) => [tenantName(t), new Set<string>()]));
/** CAVE-account each allowed CAVE publish must carry. */
const caveAccountOf = new Map<string, string>();
const counts = { cave: 0, onenet: 0, firmware: 0, malformed: 0, admin: 0, allowed: 0, refused: 0 };

beforeAll(async () => {
  server = await startServer({ args: ['--onenet-port', '0'] });
  adminToken = fs.readFileSync(path.join(server.dataDir, ADMIN_TOKEN_FILE), 'utf8').trim();

  // CAVE: per organisation and team a publish-only default token, a read-only one, a read+write
  // one, and a revoked read+write one (CAVE allows 3 live tokens per holder).
  const holders: CaveTenant[] = [...CAVE_TENANTS, { org: 'alpha', team: 'w' }, { org: 'gamma' }];
  for (const h of holders) {
    const base = h.team === undefined ? '/cave/orgs' : `/cave/orgs/${h.org}/teams`;
    const tokens = h.team === undefined ? `/cave/orgs/${h.org}/tokens` : `/cave/orgs/${h.org}/teams/${h.team}/tokens`;
    const name = tenantName(h);
    const def = await created(admin('POST', base, { name: h.team ?? h.org, scopes: ['publish'] }));
    const read = await created(admin('POST', tokens, { scopes: ['read'] }));
    const gone = await created(admin('POST', tokens, { scopes: ['publish', 'read'] }));
    expect((await admin('DELETE', `${tokens}/${gone.id}`)).status).toBe(204);
    const rw = await created(admin('POST', tokens, { scopes: ['publish', 'read'] }));
    caveCreds.push(
      { name: `${name}:P`, secret: def.secret, holder: h, scopes: ['publish'], dead: false },
      { name: `${name}:R`, secret: read.secret, holder: h, scopes: ['read'], dead: false },
      { name: `${name}:PR`, secret: rw.secret, holder: h, scopes: ['publish', 'read'], dead: false },
      { name: `${name}:revoked`, secret: gone.secret, holder: h, scopes: ['publish', 'read'], dead: true },
    );
  }
  // A deleted team and a deleted organisation: all their tokens are dead.
  expect((await admin('DELETE', '/cave/orgs/alpha/teams/w')).status).toBe(204);
  expect((await admin('DELETE', '/cave/orgs/gamma')).status).toBe(204);
  for (const c of caveCreds.splice(0)) {
    const h = c.holder!;
    caveCreds.push((h.team === 'w' || h.org === 'gamma') && !c.dead ? { ...c, name: `${c.name}(deleted)`, dead: true } : c);
  }

  // OneNET: products pa (a1, a2), pb (b1), pc (c1, its master key revoked).
  const master: Record<string, string> = {};
  const masterId: Record<string, number> = {};
  for (const p of ['pa', 'pb', 'pc']) {
    const m = await created(admin('POST', '/onenet/products', { name: p }));
    master[p] = m.secret;
    masterId[p] = m.id;
    oneNetCreds.push({ name: `${p}:master`, secret: m.secret, product: p, permissions: ['read', 'write'], dead: p === 'pc' });
    for (const [d, prod] of Object.entries(DEVICE_PRODUCT)) if (prod === p) await created(admin('POST', `/onenet/products/${p}/devices`, { id: d }));
  }
  const key = async (name: string, product: string, permissions: Permission[], device?: string, revoke = false): Promise<void> => {
    const k = await created(admin('POST', `/onenet/products/${product}/keys`, { permissions, ...(device ? { device } : {}) }));
    if (revoke) expect((await admin('DELETE', `/onenet/products/${product}/keys/${k.id}`)).status).toBe(204);
    oneNetCreds.push({ name, secret: k.secret, product, ...(device ? { device } : {}), permissions, dead: revoke });
  };
  await key('pa:R', 'pa', ['read']);
  await key('pa:W', 'pa', ['write']);
  await key('a1:R', 'pa', ['read'], 'a1');
  await key('a1:W', 'pa', ['write'], 'a1');
  await key('a1:RW', 'pa', ['read', 'write'], 'a1');
  await key('a2:RW', 'pa', ['read', 'write'], 'a2');
  await key('a1:RW:revoked', 'pa', ['read', 'write'], 'a1', true);
  await key('b1:RW', 'pb', ['read', 'write'], 'b1');
  await key('pb:R', 'pb', ['read']);
  await key('c1:RW', 'pc', ['read', 'write'], 'c1');
  expect((await admin('DELETE', `/onenet/products/pc/keys/${masterId['pc']}`)).status).toBe(204);

  // Secrets of the other kinds, presented where they do not belong.
  const alphaRW = caveCreds.find((c) => c.name === 'alpha:PR')!;
  oneNetCreds.push(
    { name: 'CAVE token alpha:PR', secret: alphaRW.secret, permissions: [], dead: false },
    { name: 'admin token', secret: adminToken, permissions: [], dead: false },
  );
  caveCreds.push(
    { name: 'OneNET master pa', secret: master['pa']!, scopes: [], dead: false },
    { name: 'OneNET key a1:RW', secret: oneNetCreds.find((k) => k.name === 'a1:RW')!.secret, scopes: [], dead: false },
    { name: 'admin token', secret: adminToken, scopes: [], dead: false },
  );

  // Seeds: one point per CAVE tenant (a value of its own), one stream and one binary per device.
  let v = 100;
  for (const t of CAVE_TENANTS) {
    const owner = caveCreds.find((c) => !c.dead && c.holder && tenantName(c.holder) === tenantName(t) && c.scopes.includes('publish'))!;
    const value = ++v;
    seedValue.set(tenantName(t), value);
    const res = await publish(t, 'seed', owner.secret, 'path', value);
    expect(res.status).toBe(202);
    caveNamesOf.get(tenantName(t))!.add('seed');
  }
  expectedNames.add('seed');
  for (const d of DEVICES) {
    const product = DEVICE_PRODUCT[d];
    if (product === undefined) continue;
    const m = master[product]!;
    const k = product === 'pc' ? oneNetCreds.find((c) => c.name === 'c1:RW')!.secret : m;
    const up = await request(server.http, { method: 'POST', path: `/devices/${d}/datapoints?type=3`, body: `{"seed_${d}":${++v}}`, headers: { 'api-key': k } });
    expect(up.text()).toBe('{"errno":0,"error":"succ"}');
    const bin = await request(server.http, { method: 'POST', path: `/bindata?device_id=${d}&datastream_id=bin_${d}`, body: Buffer.from([1, 2, 3]), headers: { 'api-key': k } });
    const answer = bin.json() as { errno: number; data: { index: string } };
    expect(answer.errno).toBe(0);
    binIndex.set(d, answer.data.index);
    for (const s of [`seed_${d}`, `bin_${d}`]) {
      streamsOf.get(d)!.add(s);
      expectedNames.add(s);
    }
  }
}, 30_000);

afterAll(async () => {
  expect(await server.stop()).toBe(0);
});

function publish(tenant: CaveTenant, metric: string, secret: string | undefined, via: 'path' | 'host', value = 1, authorization?: string): Promise<HttpResult> {
  const body = JSON.stringify({ metrics: [{ name: metric, timestamp: T, value, tags: { host: 'h' } }] });
  const auth = authorization ?? (secret === undefined ? undefined : `Bearer ${secret}`);
  const headers: Record<string, string> = { 'Content-Type': 'application/json', ...(auth !== undefined ? { Authorization: auth } : {}) };
  if (via === 'host') return request(server.http, { method: 'POST', path: '/metrics', body, headers: { ...headers, Host: `${tenantName(tenant)}.${DOMAIN}` } });
  const prefix = tenant.team === undefined ? `/organizations/${tenant.org}` : `/organizations/${tenant.org}/teams/${tenant.team}`;
  return request(server.http, { method: 'POST', path: `${prefix}/metrics`, body, headers });
}

function caveRead(tenant: CaveTenant, what: 'metrics' | 'metric-names', secret: string, via: 'path' | 'host', authorization?: string): Promise<HttpResult> {
  const query = what === 'metrics' ? '?metric=seed&aggregator=max&period=1&start=2014-10-17T00:00:00.000Z' : '';
  const headers: Record<string, string> = { Authorization: authorization ?? `Bearer ${secret}` };
  if (via === 'host') return request(server.http, { path: `/${what}${query}`, headers: { ...headers, Host: `${tenantName(tenant)}.${DOMAIN}` } });
  const prefix = tenant.team === undefined ? `/organizations/${tenant.org}` : `/organizations/${tenant.org}/teams/${tenant.team}`;
  return request(server.http, { path: `${prefix}/${what}${query}`, headers });
}

let metricSeq = 0;

describe('CAVE: every token against every tenant, route and operation', () => {
  it('publishes only where the rules allow (202), else 403 empty; the allowed land under the target tenant only', async () => {
    const cases = caveCreds.flatMap((c) => CAVE_TENANTS.flatMap((t) => (['path', 'host'] as const).map((via) => ({ c, t, via }))));
    await inParallel(cases, 6, async ({ c, t, via }) => {
      const metric = `cave.m${++metricSeq}`;
      const res = await publish(t, metric, c.secret, via);
      const allowed = caveAllowed(c, t, 'publish');
      const what = `${c.name} publishing to ${tenantName(t)} via ${via}`;
      counts.cave++;
      if (allowed) {
        counts.allowed++;
        expect(res.status, what).toBe(202);
        expectedNames.add(metric);
        caveNamesOf.get(tenantName(t))!.add(metric);
        caveAccountOf.set(metric, tenantName(t));
      } else {
        counts.refused++;
        expect(res.status, what).toBe(403);
        expect(res.text(), what).toBe('');
      }
    });
  });

  it('reads (metrics, metric-names) only where the rules allow, and then only the tenant own data; else 403 empty', async () => {
    const cases = caveCreds.flatMap((c) => CAVE_TENANTS.flatMap((t) => (['path', 'host'] as const).flatMap((via) => (['metrics', 'metric-names'] as const).map((what) => ({ c, t, via, what })))));
    await inParallel(cases, 6, async ({ c, t, via, what }) => {
      const res = await caveRead(t, what, c.secret, via);
      const label = `${c.name} reading ${what} of ${tenantName(t)} via ${via}`;
      counts.cave++;
      if (!caveAllowed(c, t, 'read')) {
        counts.refused++;
        expect(res.status, label).toBe(403);
        expect(res.text(), label).toBe('');
        return;
      }
      counts.allowed++;
      expect(res.status, label).toBe(200);
      if (what === 'metrics') {
        expect(res.text(), label).toBe(`{"metrics":[{"time":"2014-10-17T10:00:00Z","value":${seedValue.get(tenantName(t))}.0}]}`);
      } else {
        const names = (res.json() as { name: string }[]).map((n) => n.name).sort();
        expect(names, label).toEqual([...caveNamesOf.get(tenantName(t))!].sort());
      }
    });
  });

  it('malformed or foreign Authorization headers: 401 with the challenge, or 403; only CAVE getToken forms of a valid token pass', async () => {
    const tok = caveCreds.find((c) => c.name === 'alpha:PR')!.secret;
    const b64 = (s: string): string => Buffer.from(s).toString('base64');
    const flip = (s: string): string => s.slice(0, -1) + (s.endsWith('a') ? 'b' : 'a');
    // [header value or undefined, expected status]; 202/200 means accepted.
    const variants: [string, string | undefined, number][] = [
      ['no header', undefined, 401],
      ['Digest scheme', `Digest ${tok}`, 401],
      ['lower-case scheme', `bearer ${tok}`, 401],
      ['upper-case scheme', `BEARER ${tok}`, 401],
      ['Token scheme', `Token ${tok}`, 401],
      ['bare token', tok, 401],
      ['empty value', '', 401],
      ['Bearer alone', 'Bearer', 403],
      ['Bearer and a space', 'Bearer ', 403],
      ['two spaces', `Bearer  ${tok}`, 403],
      ['one character changed', `Bearer ${flip(tok)}`, 403],
      ['one character more', `Bearer ${tok}x`, 403],
      ['one character less', `Bearer ${tok.slice(0, -1)}`, 403],
      ['case swapped', `Bearer ${tok.replace(/[a-z]/g, (ch) => ch.toUpperCase())}`, 403],
      ['twice', `Bearer ${tok}${tok}`, 403],
      ['a list of two', `Bearer ${tok}, Bearer ${tok}`, 403],
      ['600 characters', `Bearer ${tok}${'a'.repeat(544)}`, 403],
      ['Basic with a password', `Basic ${b64(`${tok}:secret`)}`, 403],
      ['Basic, not base64', 'Basic !!!!', 403],
      ['Basic, empty', 'Basic ', 403],
      ['Basic token:', `Basic ${b64(`${tok}:`)}`, 0],
      ['Basic :token', `Basic ${b64(`:${tok}`)}`, 0],
      ['Basic token (no colon)', `Basic ${b64(tok)}`, 0],
      ['Bearer token', `Bearer ${tok}`, 0],
    ];
    for (const [what, header, status] of variants) {
      for (const tenant of [{ org: 'alpha' }, { org: 'beta' }] as CaveTenant[]) {
        counts.malformed += 2;
        const metric = `cave.bad${++metricSeq}`;
        const auth = header === undefined ? {} : { Authorization: header };
        const body = JSON.stringify({ metrics: [{ name: metric, timestamp: T, value: 1, tags: {} }] });
        const pub = await request(server.http, { method: 'POST', path: `/organizations/${tenant.org}/metrics`, body, headers: { 'Content-Type': 'application/json', ...auth } });
        const read = await request(server.http, { path: `/organizations/${tenant.org}/metric-names`, headers: auth });
        // The valid forms carry alpha's token: beta refuses them (403).
        const want = status === 0 ? (tenant.org === 'alpha' ? 0 : 403) : status;
        if (want === 0) {
          expect(pub.status, what).toBe(202);
          expect(read.status, what).toBe(200);
          expectedNames.add(metric);
          caveNamesOf.get('alpha')!.add(metric);
          caveAccountOf.set(metric, 'alpha');
          continue;
        }
        for (const res of [pub, read]) {
          expect(res.status, `${what} on ${tenant.org}`).toBe(want);
          expect(res.text()).toBe('');
          if (want === 401) expect(res.headers['www-authenticate']).toBe('Basic realm="Restricted"');
        }
      }
    }
  });
});

describe('CAVE tenant names spelled differently', () => {
  it('a percent-encoded name is the same tenant (same rules); another case, a dot or a slash is not', async () => {
    const alphaPR = caveCreds.find((c) => c.name === 'alpha:PR')!.secret;
    const xPR = caveCreds.find((c) => c.name === 'x.alpha:PR')!.secret;
    // [path after /organizations/, token, tenant it lands in or the refusal status]
    const spellings: [string, string, string | number][] = [
      ['%61lpha', alphaPR, 'alpha'],
      ['alpha/teams/%78', xPR, 'x.alpha'],
      ['%62eta', alphaPR, 403],
      ['ALPHA', alphaPR, 404],
      ['alpha%2Fteams%2Fx', xPR, 404],
      ['x.alpha', xPR, 404],
      ['alpha/teams/x.alpha', xPR, 404],
      ['beta/teams/x', xPR, 403], // the same team name in another organisation
      ['alpha%20', alphaPR, 404],
    ];
    for (const [where, token, outcome] of spellings) {
      counts.malformed++;
      const metric = `cave.sp${++metricSeq}`;
      const body = JSON.stringify({ metrics: [{ name: metric, timestamp: T, value: 1, tags: {} }] });
      const res = await request(server.http, { method: 'POST', path: `/organizations/${where}/metrics`, body, headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` } });
      if (typeof outcome === 'number') {
        expect(res.status, where).toBe(outcome);
        continue;
      }
      expect(res.status, where).toBe(202);
      expectedNames.add(metric);
      caveNamesOf.get(outcome)!.add(metric);
      caveAccountOf.set(metric, outcome);
    }
  });
});

describe('OneNET: every key against every device and operation', () => {
  it('writes (datapoints of type 1, 3, 5; bindata) only where the rules allow, else errno 1 in HTTP 200', async () => {
    const cases = oneNetCreds.flatMap((k) => DEVICES.flatMap((d) => ([1, 3, 5, 'bin'] as const).map((type) => ({ k, d, type }))));
    await inParallel(cases, 6, async ({ k, d, type }) => {
      const stream = `on_m${++metricSeq}`;
      const headers = { 'api-key': k.secret };
      const res =
        type === 'bin'
          ? await request(server.http, { method: 'POST', path: `/bindata?device_id=${d}&datastream_id=${stream}`, body: Buffer.from([9, 9]), headers })
          : await request(server.http, {
              method: 'POST',
              path: `/devices/${d}/datapoints?type=${type}`,
              body: type === 1 ? `{"datastreams":[{"id":"${stream}","datapoints":[{"value":1}]}]}` : type === 3 ? `{"${stream}":1}` : `,;${stream},1`,
              headers,
            });
      const label = `${k.name} writing ${type} to ${d}`;
      counts.onenet++;
      expect(res.status, label).toBe(200);
      if (oneNetAllowed(k, d, 'write')) {
        counts.allowed++;
        expect((res.json() as { errno: number }).errno, label).toBe(0);
        expectedNames.add(stream);
        streamsOf.get(d)!.add(stream);
      } else {
        counts.refused++;
        expect(res.text(), label).toBe(AUTH_FAILED);
      }
    });
  });

  it('reads (datapoints, datastreams, bindata) only where the rules allow, and then only the device own streams', async () => {
    const cases = oneNetCreds.flatMap((k) => DEVICES.flatMap((d) => (['datapoints', 'datastreams', 'bindata'] as const).map((what) => ({ k, d, what }))));
    await inParallel(cases, 6, async ({ k, d, what }) => {
      const index = binIndex.get(d) ?? `${d}_1600000000000_bin_${d}`;
      const res = await request(server.http, { path: what === 'bindata' ? `/bindata/${index}` : `/devices/${d}/${what}`, headers: { 'api-key': k.secret } });
      const label = `${k.name} reading ${what} of ${d}`;
      counts.onenet++;
      expect(res.status, label).toBe(200);
      if (!oneNetAllowed(k, d, 'read')) {
        counts.refused++;
        expect(res.text(), label).toBe(AUTH_FAILED);
        return;
      }
      counts.allowed++;
      if (what === 'bindata') {
        expect([...res.body], label).toEqual([1, 2, 3]);
        return;
      }
      const body = res.json() as { errno: number; data: { datastreams?: { id: string }[] } | { id: string }[] };
      expect(body.errno, label).toBe(0);
      const list = Array.isArray(body.data) ? body.data : body.data.datastreams!;
      const ids = list.map((s) => s.id);
      // Only this device's streams (written before this step); at least its seed.
      expect(ids, label).toContain(`seed_${d}`);
      for (const id of ids) expect(streamsOf.get(d)!.has(id), `${label}: ${id}`).toBe(true);
    });
  });

  it('malformed api-key headers are refused alike; surrounding blanks are not part of the key', async () => {
    const key = oneNetCreds.find((k) => k.name === 'a1:RW')!.secret;
    const variants: [string, Record<string, string>, boolean][] = [
      ['no header', {}, false],
      ['empty', { 'api-key': '' }, false],
      ['Bearer prefix', { 'api-key': `Bearer ${key}` }, false],
      ['one character changed', { 'api-key': key.slice(0, -1) + (key.endsWith('a') ? 'b' : 'a') }, false],
      ['one character more', { 'api-key': `${key}x` }, false],
      ['one character less', { 'api-key': key.slice(0, -1) }, false],
      ['case swapped', { 'api-key': key.replace(/[a-zA-Z]/g, (ch) => (ch === ch.toLowerCase() ? ch.toUpperCase() : ch.toLowerCase())) }, false],
      ['600 characters', { 'api-key': key + 'a'.repeat(572) }, false],
      ['in Authorization instead', { Authorization: `Bearer ${key}` }, false],
      ['under another header name', { apikey: key }, false],
      ['two keys in one value', { 'api-key': `${key},${key}` }, false],
      ['surrounding blanks', { 'api-key': `  ${key}\t` }, true],
      ['the key', { 'api-key': key }, true],
    ];
    for (const [what, headers, ok] of variants) {
      counts.malformed += 2;
      const stream = `on_bad${++metricSeq}`;
      const up = await request(server.http, { method: 'POST', path: `/devices/a1/datapoints?type=3&api-key=${key}`, body: `{"${stream}":1}`, headers });
      const read = await request(server.http, { path: '/devices/a1/datastreams', headers });
      if (ok) {
        expect(up.text(), what).toBe('{"errno":0,"error":"succ"}');
        expect((read.json() as { errno: number }).errno, what).toBe(0);
        expectedNames.add(stream);
        streamsOf.get('a1')!.add(stream);
      } else {
        expect(up.text(), what).toBe(AUTH_FAILED);
        expect(read.text(), what).toBe(AUTH_FAILED);
      }
    }
  });
});

describe('OneNET device ids spelled differently', () => {
  it('a percent-encoded id is the same device (same rules); other spellings are unknown devices', async () => {
    const a1Key = oneNetCreds.find((k) => k.name === 'a1:RW')!.secret;
    const masterA = oneNetCreds.find((k) => k.name === 'pa:master')!.secret;
    // [path segment, key, the device it must land in, or undefined for a refusal]
    const spellings: [string, string, string | undefined][] = [
      ['%61%31', a1Key, 'a1'],
      ['a%31', masterA, 'a1'],
      ['%62%31', masterA, undefined], // b1, another product's device
      ['%62%31', a1Key, undefined],
      ['A1', a1Key, undefined],
      ['a1%20', a1Key, undefined],
      ['a1%00', a1Key, undefined],
      ['a2%2F..%2Fa1', a1Key, undefined],
      ['a1%2F..%2Fa2', a1Key, undefined],
      ['..%2Fb1', masterA, undefined],
    ];
    for (const [segment, key, device] of spellings) {
      counts.malformed++;
      const stream = `on_sp${++metricSeq}`;
      const res = await request(server.http, { method: 'POST', path: `/devices/${segment}/datapoints?type=3`, body: `{"${stream}":1}`, headers: { 'api-key': key } });
      if (device === undefined) {
        expect(res.text(), segment).toBe(AUTH_FAILED);
        continue;
      }
      expect(res.text(), segment).toBe('{"errno":0,"error":"succ"}');
      expectedNames.add(stream);
      streamsOf.get(device)!.add(stream);
      const read = await request(server.http, { path: `/devices/${device}/datapoints?datastream_id=${stream}`, headers: { 'api-key': key } });
      expect((read.json() as { data: { datastreams: { id: string }[] } }).data.datastreams.map((d) => d.id), segment).toEqual([stream]);
    }
  });
});

describe('OneNET firmware port (--onenet-port): the same rules for raw HTTP/1.0 requests', () => {
  it('every key against every device, upload (type 5) and datastreams read, `api-key:KEY` without a space', async () => {
    const cases = oneNetCreds.flatMap((k) => DEVICES.flatMap((d) => (['write', 'read'] as const).map((op) => ({ k, d, op }))));
    await inParallel(cases, 6, async ({ k, d, op }) => {
      const stream = `fw_m${++metricSeq}`;
      const body = `,;${stream},1`;
      const head =
        op === 'write'
          ? `POST /devices/${d}/datapoints?type=5 HTTP/1.0\r\napi-key:${k.secret}\r\nHost:api.heclouds.com\r\nContent-Length:${body.length}\r\n\r\n${body}`
          : `GET /devices/${d}/datastreams HTTP/1.0\r\napi-key:${k.secret}\r\nHost:api.heclouds.com\r\n\r\n`;
      const answer = await rawExchange(server.onenet!, head, 3000);
      const label = `${k.name} ${op} ${d} on the firmware port`;
      counts.firmware++;
      expect(answer, label).toMatch(/^HTTP\/1\.1 200 /);
      const text = answer.slice(answer.indexOf('\r\n\r\n') + 4);
      if (!oneNetAllowed(k, d, op)) {
        counts.refused++;
        expect(text, label).toBe(AUTH_FAILED);
        return;
      }
      counts.allowed++;
      expect((JSON.parse(text) as { errno: number }).errno, label).toBe(0);
      if (op === 'write') {
        expectedNames.add(stream);
        streamsOf.get(d)!.add(stream);
      }
    });
  });
});

describe('the admin API takes no tenant secret', () => {
  it('every CAVE token and OneNET key is refused with 401', async () => {
    for (const c of [...caveCreds, ...oneNetCreds]) {
      if (c.secret === adminToken) continue;
      counts.admin++;
      const res = await request(server.http, { path: '/admin/v1/cave/orgs', headers: { Authorization: `Bearer ${c.secret}` } });
      expect(res.status, c.name).toBe(401);
    }
  });
});

describe('nothing written by a refused request', () => {
  it('the operator view (KairosDB) holds exactly the allowed writes, each under its own tenant', async () => {
    const names = (await request(server.http, { path: '/api/v1/metricnames' })).json() as { results: string[] };
    expect(names.results.sort()).toEqual([...expectedNames].sort());
    // Every allowed CAVE publish is stored under the tenant it targeted, and nowhere else.
    const caveMetrics = [...caveAccountOf.keys()];
    const res = await request(server.http, {
      method: 'POST',
      path: '/api/v1/datapoints/query',
      body: JSON.stringify({ start_absolute: 0, metrics: caveMetrics.map((name) => ({ name, group_by: [{ name: 'tag', tags: ['CAVE-account'] }] })) }),
    });
    expect(res.status).toBe(200);
    const queries = (res.json() as { queries: { results: { name: string; tags: Record<string, string[]> }[] }[] }).queries;
    queries.forEach((q, i) => {
      expect(q.results.map((r) => r.tags['CAVE-account']), caveMetrics[i]).toEqual([[caveAccountOf.get(caveMetrics[i]!)]]);
    });
    console.log(
      `tenancy: ${counts.cave} CAVE, ${counts.onenet} OneNET and ${counts.firmware} OneNET firmware-port combinations, ${counts.malformed} malformed-header requests, ${counts.admin} tenant secrets on the admin API; ` +
        `${counts.allowed} allowed, ${counts.refused} refused, 0 writes leaked`,
    );
  });
});
