// The credential store as the real server holds it across its life: the admin token file made
// on first start (mode 0600) and reused on restart, a rotation by the CLI taking effect within the
// 1 s watch, and a damaged log that leaves KairosDB serving, fails the admin API closed (503), and
// comes back after `strata auth repair` without a restart.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ADMIN_TOKEN_FILE, CredentialStore } from '../../src/auth/index.js';
import { logPathOf } from '../helpers/credentials.js';
import { MAIN_JS, request, startServer, type HttpResult } from '../helpers/server.js';
import { tempDir } from '../helpers/tmp.js';

function strata(args: readonly string[]): { code: number | null; stdout: string; stderr: string } {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('STRATA_')));
  const r = spawnSync(process.execPath, [MAIN_JS, ...args], { encoding: 'utf8', env });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function listOrgs(port: number, token: string): Promise<HttpResult> {
  return request(port, { path: '/admin/v1/cave/orgs', headers: { Authorization: `Bearer ${token}` } });
}

function readToken(dataDir: string): string {
  return fs.readFileSync(path.join(dataDir, ADMIN_TOKEN_FILE), 'utf8').trim();
}

describe('the admin token across starts', () => {
  it('is created on first start with mode 0600, reused unchanged on restart, and replaced by rotate-admin-token within the watch interval', async () => {
    const dataDir = tempDir();
    const tokenFile = path.join(dataDir, ADMIN_TOKEN_FILE);
    const first = await startServer({ dataDir });
    expect(fs.statSync(tokenFile).mode & 0o777).toBe(0o600);
    const token = readToken(dataDir);
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(first.stderr()).toContain('"event":"auth.admin-token-created"');
    expect(first.stderr()).not.toContain(token);
    expect((await listOrgs(first.http, token)).status).toBe(200);
    expect(await first.stop()).toBe(0);

    const bytesBefore = fs.readFileSync(tokenFile);
    const logBefore = fs.statSync(logPathOf(dataDir)).size;
    const second = await startServer({ dataDir });
    try {
      expect(fs.readFileSync(tokenFile).equals(bytesBefore)).toBe(true);
      expect(fs.statSync(tokenFile).mode & 0o777).toBe(0o600);
      expect(fs.statSync(logPathOf(dataDir)).size).toBe(logBefore); // the same hash: nothing appended
      expect(second.stderr()).not.toContain('auth.admin-token-created');
      expect((await listOrgs(second.http, token)).status).toBe(200);

      const rotate = strata(['auth', 'rotate-admin-token', '--data-dir', dataDir]);
      expect(rotate.code).toBe(0);
      expect(rotate.stdout).toBe(''); // the new token is only in the file
      const rotated = readToken(dataDir);
      expect(rotated).not.toBe(token);
      expect(fs.statSync(tokenFile).mode & 0o777).toBe(0o600);
      const changedAt = Date.now();
      await expect.poll(async () => (await listOrgs(second.http, token)).status, { timeout: 3000, interval: 50 }).toBe(401);
      expect(Date.now() - changedAt).toBeLessThan(2500);
      expect((await listOrgs(second.http, rotated)).status).toBe(200);
      expect(second.stderr()).not.toContain(rotated);
    } finally {
      await second.stop();
    }
  });
});

describe('a damaged credential log', () => {
  it('leaves the server up and KairosDB ingesting, answers 503 on the admin API, and recovers after `strata auth repair` without a restart', async () => {
    const dataDir = tempDir();
    const first = await startServer({ dataDir });
    const token = readToken(dataDir);
    const sizeWithAdminOnly = fs.statSync(logPathOf(dataDir)).size;
    const org = await request(first.http, {
      method: 'POST',
      path: '/admin/v1/cave/orgs',
      headers: { Authorization: `Bearer ${token}` },
      body: JSON.stringify({ name: 'gilt' }),
    });
    expect(org.status).toBe(201);
    await first.stop();

    // Flip one byte inside the organization's record (its payload): damage, not a torn tail.
    const file = logPathOf(dataDir);
    const bytes = fs.readFileSync(file);
    expect(bytes.length).toBeGreaterThan(sizeWithAdminOnly + 20);
    bytes[sizeWithAdminOnly + 20]! ^= 0x01;
    fs.writeFileSync(file, bytes);

    const server = await startServer({ dataDir });
    try {
      expect(server.stderr()).toMatch(/"event":"auth.open-failed".*damaged at offset/);
      const ingest = await request(server.http, {
        method: 'POST',
        path: '/api/v1/datapoints',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify([{ name: 'still.up', datapoints: [[1_700_000_000_000, 1]], tags: { host: 'a' } }]),
      });
      expect(ingest.status).toBe(204);

      for (const r of [
        await listOrgs(server.http, token),
        await listOrgs(server.http, 'not-the-token'),
        await request(server.http, { method: 'POST', path: '/admin/v1/onenet/products', headers: { Authorization: `Bearer ${token}` }, body: '{"name":"p"}' }),
      ]) {
        expect(r.status).toBe(503);
        const e = (r.json() as { error: { code: string; message: string } }).error;
        expect(e.code).toBe('STRATA_AUTH_CORRUPTION');
        expect(e.message).toMatch(/strata auth repair/);
        expect(e.message).not.toContain(dataDir); // file names are for the log, not for clients
      }

      const repair = strata(['auth', 'repair', '--data-dir', dataDir]);
      expect(repair.code).toBe(0);
      expect(repair.stderr).toMatch(/kept 1 records/);
      await expect.poll(async () => (await listOrgs(server.http, token)).status, { timeout: 3000, interval: 50 }).toBe(200);
      expect((await listOrgs(server.http, token)).json()).toEqual([]); // the cut record's organization is gone
      const again = await request(server.http, {
        method: 'POST',
        path: '/admin/v1/cave/orgs',
        headers: { Authorization: `Bearer ${token}` },
        body: JSON.stringify({ name: 'gilt' }),
      });
      expect(again.status).toBe(201);
    } finally {
      await server.stop();
    }
  });
});

describe('a server killed while the admin API writes', () => {
  it('keeps every token whose creation was acknowledged (201), and restarts on the store', async () => {
    const dataDir = tempDir();
    let server = await startServer({ dataDir });
    const token = readToken(dataDir);
    const auth = { Authorization: `Bearer ${token}` };
    const acked: { org: string; secret: string }[] = [];
    let stop = false;
    /** Four clients creating organisations back to back until the kill. */
    const client = async (c: number): Promise<void> => {
      for (let i = 0; !stop; i++) {
        const org = `k${c}-${i}`;
        try {
          const r = await request(server.http, { method: 'POST', path: '/admin/v1/cave/orgs', headers: auth, body: JSON.stringify({ name: org }) });
          if (r.status === 201) acked.push({ org, secret: (r.json() as { secret: string }).secret });
          else throw new Error(`unexpected ${r.status} ${r.text()}`);
        } catch (err) {
          if (!stop) throw err;
        }
      }
    };
    const clients = [0, 1, 2, 3].map((c) => client(c));
    await expect.poll(() => acked.length, { timeout: 10_000, interval: 5 }).toBeGreaterThan(20);
    await new Promise((r) => setTimeout(r, Math.floor(Math.random() * 40)));
    stop = true;
    await server.kill();
    await Promise.all(clients);
    const ackedAtKill = [...acked];

    server = await startServer({ dataDir });
    try {
      const orgs = (await listOrgs(server.http, token)).json() as { name: string }[];
      const names = new Set(orgs.map((o) => o.name));
      for (const a of ackedAtKill) expect(names.has(a.org)).toBe(true);
      const store = CredentialStore.open(dataDir, { log: () => undefined });
      for (const a of ackedAtKill) expect(store.authenticateCaveToken(a.secret)?.org).toBe(a.org);
      // An organisation created after the restart lands after the last whole record.
      const more = await request(server.http, { method: 'POST', path: '/admin/v1/cave/orgs', headers: auth, body: '{"name":"after"}' });
      expect(more.status).toBe(201);
      expect(CredentialStore.open(dataDir, { log: () => undefined }).listOrgs().length).toBe(names.size + 1);
    } finally {
      await server.stop();
    }
  });
});
