// Secrets never leave where they belong (guarantee 6, docs/guarantees.md; docs/security.md "What
// is never logged"): the real server runs with stdout and stderr captured; CAVE tokens, OneNET
// keys and admin tokens are made through the admin API and through the CLI (against the running
// server's data directory), used rightly and wrongly (near misses, the wrong protocol, the admin
// API, the query string), revoked, and the admin token rotated. Then no secret — nor any near
// miss a client presented — appears in anything the server printed, in the CLI's stderr, or in
// any file under the data directory except <data>/admin-token (mode 0600, holding only the
// current admin token).
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ADMIN_TOKEN_FILE } from '../../src/auth/index.js';
import { MAIN_JS, request, startServer, type HttpResult } from '../helpers/server.js';
import { tempDir } from '../helpers/tmp.js';

/** Every file under `dir` (relative path → bytes). */
function filesUnder(dir: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  const walk = (d: string): void => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) out.set(path.relative(dir, p), fs.readFileSync(p));
    }
  };
  walk(dir);
  return out;
}

describe('secrets', () => {
  it('never reach the server output, the CLI stderr, or any data file but the 0600 admin-token file', async () => {
    const dataDir = tempDir();
    // Small segments: every data file is searched for every secret below.
    const server = await startServer({ dataDir, args: ['--segment-bytes', String(1 << 20)] });
    let stdout = '';
    server.child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    const adminFile = path.join(dataDir, ADMIN_TOKEN_FILE);
    let adminToken = fs.readFileSync(adminFile, 'utf8').trim();
    /** Real secrets; `presented` adds what clients sent that is not one (near misses). */
    const secrets: string[] = [adminToken];
    const presented: string[] = [];
    let cliStderr = '';

    const admin = async (method: string, apiPath: string, body?: unknown, token = adminToken): Promise<HttpResult> =>
      request(server.http, { method, path: `/admin/v1${apiPath}`, headers: { Authorization: `Bearer ${token}` }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
    const made = async (r: Promise<HttpResult>): Promise<{ id: number; secret: string }> => {
      const res = await r;
      expect(res.status, res.text()).toBe(201);
      const v = res.json() as { id: number; secret: string };
      secrets.push(v.secret);
      return v;
    };
    const cli = (...args: string[]): string => {
      const r = spawnSync(process.execPath, [MAIN_JS, ...args, '--data-dir', dataDir], { encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      cliStderr += r.stderr;
      return r.stdout.trim();
    };

    // Through the admin API.
    const org = await made(admin('POST', '/cave/orgs', { name: 'acme', scopes: ['publish', 'read'] }));
    const team = await made(admin('POST', '/cave/orgs/acme/teams', { name: 'ops' }));
    const orgRead = await made(admin('POST', '/cave/orgs/acme/tokens', { scopes: ['read'], description: 'grafana' }));
    const master = await made(admin('POST', '/onenet/products', { name: 'lamp' }));
    expect((await admin('POST', '/onenet/products/lamp/devices', { id: 'dev1' })).status).toBe(201);
    const devKey = await made(admin('POST', '/onenet/products/lamp/keys', { permissions: ['write'], device: 'dev1', description: 'firmware' }));
    // Through the CLI, on the running server's data directory.
    const cliOrg = cli('cave', 'org', 'create', 'globex', '--scope', 'publish,read');
    const cliTeamTok = cli('cave', 'team', 'create', 'globex', 'dev');
    const cliTok = cli('cave', 'token', 'create', 'globex', '--scope', 'publish', '--description', 'ci');
    const cliMaster = cli('onenet', 'product', 'create', 'meter');
    cli('onenet', 'device', 'create', 'meter', 'm1');
    const cliKey = cli('onenet', 'key', 'create', 'meter', '--perm', 'read,write', '--device', 'm1');
    secrets.push(cliOrg, cliTeamTok, cliTok, cliMaster, cliKey);
    for (const s of [cliOrg, cliTeamTok, cliTok]) expect(s).toMatch(/^[A-Za-z0-9]{56}$/);
    for (const s of [cliMaster, cliKey]) expect(s).toMatch(/^[A-Za-z0-9]{28}$/);

    // Use them: rightly (CLI changes reach the server within ~1 s), and wrongly.
    const cavePublish = (orgName: string, token: string, teamName?: string): Promise<HttpResult> =>
      request(server.http, {
        method: 'POST',
        path: `/organizations/${orgName}${teamName ? `/teams/${teamName}` : ''}/metrics`,
        body: JSON.stringify({ metrics: [{ name: 's.m', timestamp: 1413540000, value: 1, tags: {} }] }),
        headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
      });
    const oneNetUpload = (device: string, key: string, query = ''): Promise<HttpResult> =>
      request(server.http, { method: 'POST', path: `/devices/${device}/datapoints?type=3${query}`, body: '{"s":1}', headers: { 'api-key': key } });
    await expect.poll(async () => (await cavePublish('globex', cliTok)).status, { timeout: 5000, interval: 100 }).toBe(202);
    await expect.poll(async () => (await oneNetUpload('m1', cliKey)).text(), { timeout: 5000, interval: 100 }).toBe('{"errno":0,"error":"succ"}');
    expect((await cavePublish('acme', org.secret)).status).toBe(202);
    expect((await cavePublish('acme', team.secret, 'ops')).status).toBe(202);
    expect((await request(server.http, { path: '/organizations/acme/metric-names', headers: { Authorization: `Bearer ${orgRead.secret}` } })).status).toBe(200);
    expect((await oneNetUpload('dev1', devKey.secret)).text()).toBe('{"errno":0,"error":"succ"}');
    expect((await oneNetUpload('dev1', master.secret)).text()).toBe('{"errno":0,"error":"succ"}');

    const nearMiss = (s: string): string => s.slice(0, -1) + (s.endsWith('Q') ? 'R' : 'Q');
    for (const s of [...secrets]) {
      const miss = nearMiss(s);
      presented.push(miss);
      expect((await cavePublish('acme', miss)).status).toBe(403);
      expect((await cavePublish('acme', s, 'nope')).status).toBe(404);
      expect((await oneNetUpload('dev1', miss)).text()).toBe('{"errno":1,"error":"auth failed"}');
      expect((await oneNetUpload('m1', s, `&api-key=${s}`)).text()).toMatch(/"errno":[01]/); // the key in the URL too
      expect((await admin('GET', '/cave/orgs', undefined, miss)).status).toBe(401);
      if (s !== adminToken) expect((await admin('GET', '/cave/orgs', undefined, s)).status).toBe(401);
      // The secret as a Basic password, and as a user name with a password: refused.
      expect((await request(server.http, { path: '/organizations/acme/metric-names', headers: { Authorization: `Basic ${Buffer.from(`${s}:pw`).toString('base64')}` } })).status).toBe(403);
    }
    // Secrets in bodies the server refuses: logged nowhere either.
    expect((await admin('POST', '/cave/orgs', { name: 'x', secret: org.secret })).status).toBe(400);
    expect((await request(server.http, { method: 'POST', path: '/api/v1/datapoints', body: `[{"name":"${org.secret}"` })).status).toBe(400);

    // Revoke through both paths; rotate the admin token with the CLI.
    expect((await admin('DELETE', `/cave/orgs/acme/tokens/${orgRead.id}`)).status).toBe(204);
    expect((await admin('DELETE', `/onenet/products/lamp/keys/${devKey.id}`)).status).toBe(204);
    cli('cave', 'token', 'revoke', 'globex', String((JSON.parse(cli('cave', 'token', 'list', 'globex', '--json')) as { id: number }[]).at(-1)!.id));
    cli('auth', 'rotate-admin-token');
    const rotated = fs.readFileSync(adminFile, 'utf8').trim();
    expect(rotated).not.toBe(adminToken);
    secrets.push(rotated);
    await expect.poll(async () => (await admin('GET', '/cave/orgs', undefined, rotated)).status, { timeout: 5000, interval: 100 }).toBe(200);
    expect((await admin('GET', '/cave/orgs', undefined, adminToken)).status).toBe(401);
    adminToken = rotated;

    expect(await server.stop()).toBe(0);

    // Where secrets may not be.
    const printed = `${stdout}\n${server.stderr()}`;
    expect(server.stderr()).toContain('"event":"admin.change"'); // the log is there, and checked
    const files = filesUnder(dataDir);
    expect([...files.keys()].sort()).toContain(path.join('auth', 'credentials.log'));
    let checks = 0;
    for (const s of [...secrets, ...presented]) {
      // Whole, and in 20-character pieces every 10 characters: any 30 characters of it printed
      // (a truncated or partly masked secret) contain one of them.
      const starts = new Set([...Array.from({ length: Math.ceil((s.length - 19) / 10) }, (_, i) => i * 10), s.length - 20]);
      const pieces = [s, ...[...starts].map((i) => s.slice(i, i + 20))];
      for (const piece of pieces) {
        expect(printed.includes(piece), `server output holds ${piece}`).toBe(false);
        expect(cliStderr.includes(piece), `CLI stderr holds ${piece}`).toBe(false);
        for (const [name, bytes] of files) {
          if (name === ADMIN_TOKEN_FILE) continue;
          expect(bytes.includes(piece), `${name} holds ${piece}`).toBe(false);
          checks++;
        }
      }
    }
    // The admin-token file: 0600, the current token only.
    expect(fs.statSync(adminFile).mode & 0o777).toBe(0o600);
    expect(fs.readFileSync(adminFile, 'utf8').trim()).toBe(rotated);
    console.log(`secrets: ${secrets.length} secrets and ${presented.length} near misses, ${files.size} data files and the server/CLI output checked (${checks} file checks), 0 found`);
  }, 30_000);
});
