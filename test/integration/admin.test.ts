// The admin HTTP API (/admin/v1/…) against the real server over real sockets: the admin token
// guard, every CAVE and OneNET resource the CLI manages, the status table (400/401/404/405/409/413),
// secrets shown once and never listed or logged, and changes that the store on disk really holds.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN_FILE, CredentialStore } from '../../src/auth/index.js';
import { request, startServer, type HttpResult, type RunningServer } from '../helpers/server.js';

let server: RunningServer;
let adminToken: string;
/** Every secret the API handed out; none may ever show up in the server's log. */
const secrets: string[] = [];

beforeAll(async () => {
  server = await startServer();
  adminToken = fs.readFileSync(path.join(server.dataDir, ADMIN_TOKEN_FILE), 'utf8').trim();
});
afterAll(async () => {
  await server.stop();
});

/** `token` null: no Authorization header. */
async function admin(method: string, apiPath: string, body?: unknown, token: string | null = adminToken): Promise<HttpResult> {
  return request(server.http, {
    method,
    path: `/admin/v1${apiPath}`,
    headers: token === null ? {} : { Authorization: `Bearer ${token}` },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
}

/** The JSON error body, checked for the envelope's shape. */
function errorOf(r: HttpResult): { code: string; message: string } {
  expect(r.headers['content-type']).toBe('application/json; charset=UTF-8');
  const body = r.json() as { error: { code: string; message: string } };
  expect(Object.keys(body)).toEqual(['error']);
  expect(typeof body.error.message).toBe('string');
  return body.error;
}

function created<T extends { secret?: string }>(r: HttpResult): T {
  expect(r.status).toBe(201);
  expect(r.headers['cache-control']).toBe('no-store');
  const value = r.json() as T;
  if (value.secret !== undefined) secrets.push(value.secret);
  return value;
}

/** What a fresh open of the data directory (a restart) would answer for a secret. */
function onDisk(): CredentialStore {
  return CredentialStore.open(server.dataDir, { log: () => undefined });
}

describe('the admin token guard', () => {
  it('answers 401 with a Bearer challenge without a token, with a wrong one, and with another scheme', async () => {
    const wrong = 'x'.repeat(43);
    for (const r of [
      await admin('GET', '/cave/orgs', undefined, null),
      await admin('GET', '/cave/orgs', undefined, wrong),
      await admin('POST', '/cave/orgs', { name: 'sneaky' }, wrong),
      await admin('GET', '/no/such/thing', undefined, null),
      await request(server.http, { path: '/admin/v1/cave/orgs', headers: { Authorization: `Basic ${Buffer.from(`${adminToken}:`).toString('base64')}` } }),
    ]) {
      expect(r.status).toBe(401);
      expect(r.headers['www-authenticate']).toBe('Bearer realm="strata-admin"');
      expect(errorOf(r).code).toBe('STRATA_AUTH_UNAUTHORIZED');
    }
    expect(onDisk().listOrgs().map((o) => o.name)).not.toContain('sneaky');
  });

  it('accepts the token from <data>/admin-token, with the scheme in any case', async () => {
    expect((await admin('GET', '/cave/orgs')).status).toBe(200);
    const r = await request(server.http, { path: '/admin/v1/onenet/products', headers: { Authorization: `bearer ${adminToken}` } });
    expect(r.status).toBe(200);
    expect(r.json()).toEqual([]);
  });
});

describe('CAVE organizations, teams and tokens', () => {
  it('creates an organization and returns its default token once; listings never show a secret or a hash', async () => {
    const t = created<{ id: number; org: string; scopes: string[]; description: string; createdMs: number; secret: string }>(
      await admin('POST', '/cave/orgs', { name: 'gilt', scopes: ['publish', 'read'] }),
    );
    expect(t).toMatchObject({ org: 'gilt', scopes: ['publish', 'read'], description: 'default' });
    expect(t.secret).toMatch(/^[A-Za-z0-9]{56}$/);
    expect(Math.abs(t.createdMs - Date.now())).toBeLessThan(60_000);
    expect(onDisk().authenticateCaveToken(t.secret)).toMatchObject({ org: 'gilt', tokenId: t.id });

    const orgs = await admin('GET', '/cave/orgs');
    expect(orgs.status).toBe(200);
    expect(orgs.json()).toEqual([{ name: 'gilt', createdMs: t.createdMs, teams: 0, tokens: 1 }]);
    const tokens = await admin('GET', '/cave/orgs/gilt/tokens');
    expect(tokens.json()).toEqual([{ id: t.id, org: 'gilt', scopes: ['publish', 'read'], description: 'default', createdMs: t.createdMs }]);
    for (const text of [orgs.text(), tokens.text()]) {
      expect(text).not.toContain(t.secret);
      expect(text).not.toMatch(/secret|sha256|hash|[0-9a-f]{64}/i);
    }
  });

  it('creates, lists and revokes organization and team tokens, and deletes teams and organizations', async () => {
    const org = created<{ id: number; secret: string }>(await admin('POST', '/cave/orgs', { name: 'acme' }));
    const read = created<{ id: number; scopes: string[]; description: string; secret: string }>(
      await admin('POST', '/cave/orgs/acme/tokens', { scopes: ['read'], description: 'grafana' }),
    );
    expect(read).toMatchObject({ scopes: ['read'], description: 'grafana' });
    const team = created<{ id: number; team: string; scopes: string[]; secret: string }>(await admin('POST', '/cave/orgs/acme/teams', { name: 'ops' }));
    expect(team).toMatchObject({ org: 'acme', team: 'ops', scopes: ['publish'] });
    const teamToken = created<{ id: number; secret: string }>(await admin('POST', '/cave/orgs/acme/teams/ops/tokens', { scopes: ['publish', 'read'] }));
    expect((await admin('GET', '/cave/orgs/acme/teams')).json()).toMatchObject([{ org: 'acme', name: 'ops', tokens: 2 }]);
    expect((await admin('GET', '/cave/orgs/acme/teams/ops/tokens')).json()).toMatchObject([{ id: team.id }, { id: teamToken.id, scopes: ['publish', 'read'] }]);
    expect((await admin('GET', '/cave/orgs/acme/tokens')).json()).toMatchObject([{ id: org.id }, { id: read.id }]);
    expect(onDisk().authenticateCaveToken(teamToken.secret)).toMatchObject({ org: 'acme', team: 'ops' });

    // A revoke is scoped to its owner: the team's token is not the organization's.
    expect(errorOf(await admin('DELETE', `/cave/orgs/acme/tokens/${teamToken.id}`)).code).toBe('STRATA_AUTH_NOT_FOUND');
    const revoked = await admin('DELETE', `/cave/orgs/acme/tokens/${read.id}`);
    expect(revoked.status).toBe(204);
    expect(revoked.body.length).toBe(0);
    expect(onDisk().authenticateCaveToken(read.secret)).toBeUndefined();
    expect((await admin('DELETE', `/cave/orgs/acme/tokens/${read.id}`)).status).toBe(400); // now the last one: CAVE's check first

    expect(errorOf(await admin('DELETE', '/cave/orgs/acme')).message).toBe('Cannot delete account with teams attached. Delete teams first.');
    expect((await admin('DELETE', '/cave/orgs/acme/teams/ops')).status).toBe(204);
    expect(onDisk().authenticateCaveToken(teamToken.secret)).toBeUndefined();
    expect((await admin('DELETE', '/cave/orgs/acme')).status).toBe(204);
    expect(onDisk().authenticateCaveToken(org.secret)).toBeUndefined();
    expect((await admin('GET', '/cave/orgs')).json()).toMatchObject([{ name: 'gilt' }]);
  });

  it("answers the store's refusals with 400, 404 and 409 and CAVE's messages", async () => {
    created(await admin('POST', '/cave/orgs', { name: 'limits' }));
    created(await admin('POST', '/cave/orgs/limits/tokens', { scopes: ['read'] }));
    created(await admin('POST', '/cave/orgs/limits/tokens', { scopes: ['read'] }));
    const cases: [HttpResult, number, string, RegExp][] = [
      [await admin('POST', '/cave/orgs/limits/tokens', { scopes: ['read'] }), 400, 'STRATA_AUTH_REFUSED', /^Too many tokens for organization\.$/],
      [await admin('POST', '/cave/orgs', { name: 'limits' }), 409, 'STRATA_AUTH_CONFLICT', /^Organization 'limits' already exists\.$/],
      [await admin('POST', '/cave/orgs', { name: 'a.b' }), 400, 'STRATA_AUTH_INVALID', /^Invalid organization name a\.b/],
      [await admin('POST', '/cave/orgs/limits/tokens', { scopes: ['admin'] }), 400, 'STRATA_AUTH_INVALID', /^Invalid scope "admin"/],
      [await admin('POST', '/cave/orgs/limits/tokens', { scopes: ['read'], description: 'x'.repeat(257) }), 400, 'STRATA_AUTH_INVALID', /longer than 256/],
      [await admin('GET', '/cave/orgs/nobody/tokens'), 404, 'STRATA_AUTH_NOT_FOUND', /^Organization 'nobody' not found\.$/],
      [await admin('GET', '/cave/orgs/limits/teams/none/tokens'), 404, 'STRATA_AUTH_NOT_FOUND', /^Team 'none' not found/],
      [await admin('DELETE', '/cave/orgs/limits/tokens/999999'), 404, 'STRATA_AUTH_NOT_FOUND', /^Token 999999 not found/],
      [await admin('DELETE', '/cave/orgs/limits/tokens/abc'), 400, 'STRATA_AUTH_INVALID', /token id must be a positive integer/],
      [await admin('GET', '/cave/nothing'), 404, 'STRATA_AUTH_NOT_FOUND', /^No admin API resource at \/admin\/v1\/cave\/nothing\.$/],
    ];
    for (const [r, status, code, message] of cases) {
      expect(r.status).toBe(status);
      const e = errorOf(r);
      expect(e.code).toBe(code);
      expect(e.message).toMatch(message);
    }
    expect((await admin('GET', '/cave/orgs/limits/tokens')).json()).toHaveLength(3);
  });

  it('checks request bodies: JSON object, known fields of the right kind, size limit; and methods (405 + Allow)', async () => {
    const cases: [HttpResult, number, string, RegExp][] = [
      [await admin('POST', '/cave/orgs', '{"name":'), 400, 'STRATA_AUTH_INVALID', /^The request body is not valid JSON/],
      [await admin('POST', '/cave/orgs', '["gilt"]'), 400, 'STRATA_AUTH_INVALID', /^The request body must be a JSON object\.$/],
      [await admin('POST', '/cave/orgs', ''), 400, 'STRATA_AUTH_INVALID', /^Field 'name' is missing\.$/],
      [await admin('POST', '/cave/orgs', { name: 'x', scope: ['read'] }), 400, 'STRATA_AUTH_INVALID', /^Unknown field 'scope' \(expected 'name', 'scopes'\)\.$/],
      [await admin('POST', '/cave/orgs', { name: 7 }), 400, 'STRATA_AUTH_INVALID', /^Field 'name' must be a string\.$/],
      [await admin('POST', '/cave/orgs', { name: 'x', scopes: 'read' }), 400, 'STRATA_AUTH_INVALID', /^Field 'scopes' must be an array of strings\.$/],
      [await admin('POST', '/cave/orgs', { name: 'x'.repeat(70 * 1024) }), 413, 'STRATA_AUTH_BODY_TOO_LARGE', /exceeds the limit of 65536 bytes/],
    ];
    for (const [r, status, code, message] of cases) {
      expect(r.status).toBe(status);
      const e = errorOf(r);
      expect(e.code).toBe(code);
      expect(e.message).toMatch(message);
    }
    const put = await admin('PUT', '/cave/orgs', { name: 'x' });
    expect(put.status).toBe(405);
    expect(put.headers['allow']).toBe('GET, POST');
    expect(errorOf(put).code).toBe('STRATA_AUTH_METHOD_NOT_ALLOWED');
    expect((await admin('GET', '/cave/orgs/gilt')).headers['allow']).toBe('DELETE');
    expect((await admin('GET', '/cave/orgs')).json()).not.toContainEqual(expect.objectContaining({ name: 'x' }));
  });

  it('serializes concurrent changes: every one lands with a distinct id', async () => {
    const names = Array.from({ length: 8 }, (_, i) => `par${i}`);
    const results = await Promise.all(names.map((name) => admin('POST', '/cave/orgs', { name })));
    const tokens = results.map((r) => created<{ id: number; org: string; secret: string }>(r));
    expect(new Set(tokens.map((t) => t.id)).size).toBe(names.length);
    const store = onDisk();
    for (const t of tokens) expect(store.authenticateCaveToken(t.secret)?.org).toBe(t.org);
  });
});

describe('OneNET products, devices and keys', () => {
  it('creates a product with its master key once, devices, and device keys; lists them without secrets; revokes', async () => {
    const master = created<{ id: number; product: string; master: boolean; permissions: string[]; secret: string }>(
      await admin('POST', '/onenet/products', { name: 'lamp' }),
    );
    expect(master).toMatchObject({ product: 'lamp', master: true, permissions: ['read', 'write'], description: 'master' });
    expect(master.secret).toMatch(/^[A-Za-z0-9]{28}$/);
    const device = created(await admin('POST', '/onenet/products/lamp/devices', { id: 'dev-1', title: 'Hall lamp' }));
    expect(device).toMatchObject({ id: 'dev-1', product: 'lamp', title: 'Hall lamp' });
    created(await admin('POST', '/onenet/products/lamp/devices', { id: 'dev-2' }));
    const key = created<{ id: number; device: string; permissions: string[]; secret: string }>(
      await admin('POST', '/onenet/products/lamp/keys', { permissions: ['write'], device: 'dev-1', description: 'firmware' }),
    );
    expect(key).toMatchObject({ device: 'dev-1', permissions: ['write'], master: false, description: 'firmware' });
    expect(onDisk().authenticateOneNetKey(key.secret)).toMatchObject({ product: 'lamp', device: 'dev-1', master: false });

    expect((await admin('GET', '/onenet/products')).json()).toMatchObject([{ name: 'lamp', devices: 2, keys: 2 }]);
    expect((await admin('GET', '/onenet/products/lamp/devices')).json()).toMatchObject([{ id: 'dev-1', title: 'Hall lamp' }, { id: 'dev-2', title: 'dev-2' }]);
    const keys = await admin('GET', '/onenet/products/lamp/keys');
    expect(keys.json()).toMatchObject([{ id: master.id, master: true }, { id: key.id, device: 'dev-1' }]);
    expect(keys.text()).not.toMatch(/secret|sha256|hash/i);

    const cases: [HttpResult, number, string][] = [
      [await admin('POST', '/onenet/products', { name: 'lamp' }), 409, 'STRATA_AUTH_CONFLICT'],
      [await admin('POST', '/onenet/products/lamp/devices', { id: 'dev-1' }), 409, 'STRATA_AUTH_CONFLICT'],
      [await admin('POST', '/onenet/products/none/devices', { id: 'dev-9' }), 404, 'STRATA_AUTH_NOT_FOUND'],
      [await admin('POST', '/onenet/products/lamp/keys', { permissions: ['read'], device: 'dev-9' }), 404, 'STRATA_AUTH_NOT_FOUND'],
      [await admin('POST', '/onenet/products/lamp/keys', { permissions: ['delete'] }), 400, 'STRATA_AUTH_INVALID'],
      [await admin('POST', '/onenet/products/lamp/keys', { device: 'dev-1' }), 400, 'STRATA_AUTH_INVALID'],
      [await admin('DELETE', '/onenet/products/lamp/keys/999999'), 404, 'STRATA_AUTH_NOT_FOUND'],
    ];
    for (const [r, status, code] of cases) {
      expect(r.status).toBe(status);
      expect(errorOf(r).code).toBe(code);
    }

    expect((await admin('DELETE', `/onenet/products/lamp/keys/${master.id}`)).status).toBe(204);
    expect(onDisk().authenticateOneNetKey(master.secret)).toBeUndefined();
    expect(onDisk().authenticateOneNetKey(key.secret)).toBeDefined();
  });
});

describe('changes off the main thread', () => {
  it('answers 503 STRATA_AUTH_LOCKED after the lock wait, while listings and ingest keep answering at once', async () => {
    // A lock held by a live process on this host (this test process) is never judged stale.
    const lock = path.join(server.dataDir, 'auth', 'credentials.lock');
    fs.writeFileSync(lock, `${process.pid} ${os.hostname()}\n`);
    try {
      const started = Date.now();
      const blocked = admin('POST', '/onenet/products', { name: 'waiting' });
      await new Promise((r) => setTimeout(r, 200));
      const t0 = Date.now();
      expect((await admin('GET', '/cave/orgs')).status).toBe(200);
      const ingest = await request(server.http, {
        method: 'POST',
        path: '/api/v1/datapoints',
        body: JSON.stringify([{ name: 'during.lock', datapoints: [[1_700_000_000_000, 1]], tags: { host: 'a' } }]),
      });
      expect(ingest.status).toBe(204);
      expect(Date.now() - t0).toBeLessThan(1000); // the writer thread waits, not the event loop
      const r = await blocked;
      expect(Date.now() - started).toBeGreaterThanOrEqual(4500);
      expect(r.status).toBe(503);
      expect(r.headers['retry-after']).toBe('1');
      expect(errorOf(r).code).toBe('STRATA_AUTH_LOCKED');
    } finally {
      fs.rmSync(lock, { force: true });
    }
    created(await admin('POST', '/onenet/products', { name: 'waiting' }));
  });
});

describe('secrets', () => {
  it('never appear in the server log, nor does the admin token; every change is logged without them', async () => {
    expect(secrets.length).toBeGreaterThan(15);
    await expect.poll(() => server.stderr().split('\n').filter((l) => l.includes('"event":"admin.change"')).length).toBeGreaterThan(15);
    const log = server.stderr();
    for (const s of [...secrets, adminToken]) expect(log).not.toContain(s);
    expect(log).toContain('"event":"admin.change","op":"onenet.key.create","product":"lamp","permissions":["write"],"device":"dev-1","description":"firmware","created"');
  });
});
