// The credential commands as a user runs them: `node dist/src/main.js cave …` (built by `npm
// test`'s tsc step) against a temporary data directory; exit codes, stdout/stderr, files on disk.
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ADMIN_TOKEN_FILE, CredentialStore } from '../../src/auth/index.js';
import { logPathOf } from '../helpers/credentials.js';
import { MAIN_JS } from '../helpers/server.js';
import { tempDir } from '../helpers/tmp.js';

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** The environment less any STRATA_* setting of the machine, plus `extra`. */
function cleanEnv(extra: Record<string, string> = {}): Record<string, string | undefined> {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('STRATA_')));
  return { ...env, ...extra };
}

function strata(args: readonly string[], options: { env?: Record<string, string>; cwd?: string } = {}): Run {
  const r = spawnSync(process.execPath, [MAIN_JS, ...args], { encoding: 'utf8', cwd: options.cwd ?? process.cwd(), env: cleanEnv(options.env) });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function strataAsync(args: readonly string[]): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [MAIN_JS, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: cleanEnv() });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('strata cave', () => {
  it('creates, lists and revokes organizations, teams and tokens, printing each secret once', () => {
    const data = tempDir();
    const d = ['--data-dir', data];
    const org = strata(['cave', 'org', 'create', 'gilt', ...d]);
    expect(org.code).toBe(0);
    expect(org.stdout).toMatch(/^[A-Za-z0-9]{56}\n$/);
    expect(org.stderr).toContain('generated the admin token');
    expect(org.stderr).toContain('Created organization gilt with token 1 (publish)');
    const orgToken = org.stdout.trim();

    const team = strata(['cave', 'team', 'create', 'gilt', 'ops', ...d]);
    expect(team.code).toBe(0);
    expect(team.stderr).not.toContain('admin token'); // generated once only
    const created = strata(['cave', 'token', 'create', 'gilt', '--team', 'ops', '--scope', 'publish,read', '--description', 'ci', '--json', ...d]);
    expect(created.code).toBe(0);
    const json = JSON.parse(created.stdout) as { id: number; org: string; team: string; scopes: string[]; secret: string };
    expect(json).toMatchObject({ id: 3, org: 'gilt', team: 'ops', scopes: ['publish', 'read'], description: 'ci' });

    const list = strata(['cave', 'token', 'list', 'gilt', '--team', 'ops', ...d]);
    expect(list.code).toBe(0);
    expect(list.stdout.split('\n')[0]).toMatch(/^ID\s+SCOPES\s+CREATED\s+DESCRIPTION$/);
    expect(list.stdout).toMatch(/\n2\s+publish\s+\S+\s+default\n3\s+publish,read\s+\S+\s+ci\n$/);
    const lists = [
      list.stdout,
      strata(['cave', 'token', 'list', 'gilt', ...d]).stdout,
      strata(['cave', 'org', 'list', ...d]).stdout,
      strata(['cave', 'team', 'list', 'gilt', '--json', ...d]).stdout,
    ].join('');
    for (const secret of [orgToken, team.stdout.trim(), json.secret]) expect(lists).not.toContain(secret);
    expect(JSON.parse(strata(['cave', 'team', 'list', 'gilt', '--json', ...d]).stdout)).toMatchObject([{ org: 'gilt', name: 'ops', tokens: 2 }]);

    const revoke = strata(['cave', 'token', 'revoke', 'gilt', '2', '--team', 'ops', ...d]);
    expect(revoke).toMatchObject({ code: 0, stdout: '' });
    expect(revoke.stderr).toContain('Revoked token 2 of team ops of organization gilt.');
    const store = CredentialStore.open(data, { log: () => undefined });
    expect(store.authenticateCaveToken(team.stdout.trim())).toBeUndefined();
    expect(store.authenticateCaveToken(json.secret)?.scopes).toEqual(new Set(['publish', 'read']));
    expect(store.authenticateCaveToken(orgToken)?.org).toBe('gilt');

    const bytes = fs.readFileSync(logPathOf(data));
    for (const secret of [orgToken, team.stdout.trim(), json.secret]) expect(bytes.includes(Buffer.from(secret))).toBe(false);
  });

  it('writes the admin token only to <data>/admin-token, mode 0600', () => {
    const data = tempDir();
    expect(strata(['cave', 'org', 'create', 'gilt', '--data-dir', data]).code).toBe(0);
    const file = path.join(data, ADMIN_TOKEN_FILE);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    const token = fs.readFileSync(file, 'utf8').trim();
    expect(CredentialStore.open(data, { log: () => undefined }).authenticateAdminToken(token)).toBe(true);
    expect(fs.readFileSync(logPathOf(data)).includes(Buffer.from(token))).toBe(false);
    const rotated = strata(['auth', 'rotate-admin-token', '--data-dir', data]);
    expect(rotated).toMatchObject({ code: 0, stdout: '' });
    expect(fs.readFileSync(file, 'utf8').trim()).not.toBe(token);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
  });

  it("refuses with CAVE's messages and exit 1: limits, last token, duplicates, unknown names", () => {
    const data = tempDir();
    const d = ['--data-dir', data];
    strata(['cave', 'org', 'create', 'gilt', ...d]);
    strata(['cave', 'token', 'create', 'gilt', '--scope', 'read', ...d]);
    strata(['cave', 'token', 'create', 'gilt', '--scope', 'read', ...d]);
    const cases: [string[], string][] = [
      [['cave', 'token', 'create', 'gilt', '--scope', 'read'], 'strata: Too many tokens for organization.\n'],
      [['cave', 'org', 'create', 'gilt'], "strata: Organization 'gilt' already exists.\n"],
      [['cave', 'org', 'create', 'a.b'], "strata: Invalid organization name a.b. Use 1 to 63 letters, digits, '-' or '_'.\n"],
      [['cave', 'team', 'list', 'nope'], "strata: Organization 'nope' not found.\n"],
      [['cave', 'token', 'revoke', 'gilt', '42'], "strata: Token 42 not found for organization 'gilt'.\n"],
      [['cave', 'token', 'create', 'gilt', '--scope', 'write'], 'strata: Invalid scope "write": use publish, read or a comma-separated list of them.\n'],
    ];
    for (const [args, stderr] of cases) expect(strata([...args, ...d]), args.join(' ')).toEqual({ code: 1, stdout: '', stderr });
    strata(['cave', 'token', 'revoke', 'gilt', '2', ...d]);
    strata(['cave', 'token', 'revoke', 'gilt', '3', ...d]);
    expect(strata(['cave', 'token', 'revoke', 'gilt', '1', ...d])).toMatchObject({ code: 1, stderr: 'strata: Cannot delete the last organization token.\n' });
    strata(['cave', 'team', 'create', 'gilt', 'ops', ...d]);
    expect(strata(['cave', 'org', 'delete', 'gilt', ...d]).stderr).toBe('strata: Cannot delete account with teams attached. Delete teams first.\n');
    expect(strata(['cave', 'team', 'delete', 'gilt', 'ops', ...d]).code).toBe(0);
    expect(strata(['cave', 'org', 'delete', 'gilt', ...d]).code).toBe(0);
    expect(strata(['cave', 'org', 'list', ...d]).stdout).toBe('NAME  TEAMS  TOKENS  CREATED\n');
  });

  it('answers bad usage with exit 2 and the usage line, and --help with exit 0', () => {
    const data = tempDir();
    const missing = strata(['cave', 'token', 'create', 'gilt', '--data-dir', data]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('--scope SCOPES is required');
    expect(missing.stderr).toContain('Usage: strata cave token create <org> --scope SCOPES');
    expect(strata(['cave', 'token', 'revoke', 'gilt', 'abc', '--data-dir', data]).stderr).toContain('<token-id> must be a positive integer');
    expect(strata(['cave', 'org', 'create', '--data-dir', data]).code).toBe(2);
    expect(strata(['cave', 'org', 'create', 'a', 'b', '--data-dir', data]).code).toBe(2);
    expect(strata(['cave', 'org', 'create', 'a', '--bogus', '--data-dir', data]).code).toBe(2);
    const unknown = strata(['cave', 'frobnicate']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown command "cave frobnicate"');
    expect(strata(['cave'])).toMatchObject({ code: 2, stdout: '' });

    const help = strata(['cave', '--help']);
    expect(help.code).toBe(0);
    for (const words of ['cave org create <org>', 'cave team list <org>', 'cave token revoke <org> <token-id>']) expect(help.stdout).toContain(words);
    const one = strata(['onenet', 'key', 'create', '--help']);
    expect(one.code).toBe(0);
    expect(one.stdout).toContain('Usage: strata onenet key create <product> --perm PERMS [--device ID]');
    expect(one.stdout).toContain('--data-dir DIR');
    expect(strata(['--help']).stdout).toContain('strata cave|onenet|auth <command>');
    expect(strata(['serve', '--help'])).toMatchObject({ code: 0, stdout: expect.stringContaining('Usage: strata [serve] [options]') });
    expect(fs.readdirSync(data)).toEqual([]); // nothing was created by refused or help calls
  });

  it('resolves the data directory as the server does: flag, environment, config file, default ./data', () => {
    const cwd = tempDir();
    const fromEnv = path.join(cwd, 'env-data');
    expect(strata(['cave', 'org', 'create', 'a'], { cwd, env: { STRATA_DATA_DIR: 'env-data' } }).code).toBe(0);
    expect(fs.existsSync(logPathOf(fromEnv))).toBe(true);
    fs.writeFileSync(path.join(cwd, 'strata.json'), JSON.stringify({ dataDir: 'cfg-data' }));
    expect(strata(['cave', 'org', 'create', 'b', '--config', 'strata.json'], { cwd }).code).toBe(0);
    expect(fs.existsSync(logPathOf(path.join(cwd, 'cfg-data')))).toBe(true);
    expect(strata(['cave', 'org', 'create', 'c'], { cwd }).code).toBe(0);
    expect(fs.existsSync(logPathOf(path.join(cwd, 'data')))).toBe(true);
    expect(strata(['cave', 'org', 'list', '--json'], { cwd, env: { STRATA_DATA_DIR: 'env-data' } }).stdout).toMatch(/^\[\{"name":"a"/);
    const bad = strata(['cave', 'org', 'list', '--config', 'missing.json'], { cwd });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('cannot read config file missing.json');
  });

  it('reports a damaged store with exit 1 and repairs it with `auth repair`', () => {
    const data = tempDir();
    strata(['cave', 'org', 'create', 'gilt', '--data-dir', data]);
    const t = strata(['cave', 'token', 'create', 'gilt', '--scope', 'read', '--data-dir', data]).stdout.trim();
    const file = logPathOf(data);
    const bytes = fs.readFileSync(file);
    bytes[bytes.length - 3]! ^= 0x10;
    fs.writeFileSync(file, bytes);
    const list = strata(['cave', 'org', 'list', '--data-dir', data]);
    expect(list.code).toBe(1);
    expect(list.stderr).toMatch(/^strata: credential store .*credentials\.log is damaged at offset \d+: record payload checksum mismatch\n$/);
    const repair = strata(['auth', 'repair', '--data-dir', data]);
    expect(repair.code).toBe(0);
    expect(repair.stderr).toMatch(/Cut \d+ bytes; kept 2 records/);
    expect(strata(['cave', 'token', 'list', 'gilt', '--data-dir', data]).stdout.trim().split('\n')).toHaveLength(2);
    expect(CredentialStore.open(data, { log: () => undefined }).authenticateCaveToken(t)).toBeUndefined();
  });
});

describe('strata onenet', () => {
  it('creates a product (printing its master key once), devices, and device keys', () => {
    const data = tempDir();
    const d = ['--data-dir', data];
    const product = strata(['onenet', 'product', 'create', 'lamp', ...d]);
    expect(product.code).toBe(0);
    expect(product.stdout).toMatch(/^[A-Za-z0-9]{28}\n$/);
    expect(product.stderr).toContain('Created product lamp with master key 1');
    expect(strata(['onenet', 'device', 'create', 'lamp', '1001', '--title', 'desk lamp', ...d]).code).toBe(0);
    const key = strata(['onenet', 'key', 'create', 'lamp', '--device', '1001', '--perm', 'write', ...d]);
    expect(key.code).toBe(0);
    const list = strata(['onenet', 'key', 'list', 'lamp', ...d]);
    expect(list.stdout).toMatch(/^ID\s+KIND\s+DEVICE\s+PERMS\s+CREATED\s+DESCRIPTION\n1\s+master\s+\*\s+read,write\s+\S+\s+master\n2\s+device\s+1001\s+write\s+\S+\s*\n$/);
    expect(list.stdout).not.toContain(product.stdout.trim());
    expect(list.stdout).not.toContain(key.stdout.trim());
    expect(JSON.parse(strata(['onenet', 'device', 'list', 'lamp', '--json', ...d]).stdout)).toMatchObject([{ id: '1001', product: 'lamp', title: 'desk lamp' }]);
    expect(JSON.parse(strata(['onenet', 'product', 'list', '--json', ...d]).stdout)).toMatchObject([{ name: 'lamp', devices: 1, keys: 2 }]);

    const store = CredentialStore.open(data, { log: () => undefined });
    expect(store.authenticateOneNetKey(key.stdout.trim())).toMatchObject({ product: 'lamp', device: '1001', permissions: new Set(['write']) });
    expect(strata(['onenet', 'key', 'revoke', 'lamp', '2', ...d]).code).toBe(0);
    store.reload();
    expect(store.authenticateOneNetKey(key.stdout.trim())).toBeUndefined();
    expect(strata(['onenet', 'key', 'create', 'lamp', '--device', '999', '--perm', 'read', ...d])).toMatchObject({
      code: 1,
      stdout: '',
      stderr: "strata: Device '999' not found in product 'lamp'.\n",
    });
    expect(strata(['onenet', 'key', 'revoke', 'lamp', '7', ...d]).stderr).toBe("strata: Key 7 not found in product 'lamp'.\n");
  });

  it('several processes changing the store at once all land, in one valid log', async () => {
    const data = tempDir();
    expect(strata(['onenet', 'product', 'create', 'p', '--data-dir', data]).code).toBe(0);
    const runs = await Promise.all(Array.from({ length: 8 }, (_, i) => strataAsync(['onenet', 'device', 'create', 'p', `d${i}`, '--data-dir', data])));
    for (const r of runs) expect(r, r.stderr).toMatchObject({ code: 0 });
    const keys = await Promise.all(Array.from({ length: 4 }, () => strataAsync(['onenet', 'key', 'create', 'p', '--perm', 'read', '--data-dir', data])));
    const store = CredentialStore.open(data, { log: () => undefined });
    expect(store.listDevices('p').map((dev) => dev.id).sort()).toEqual(['d0', 'd1', 'd2', 'd3', 'd4', 'd5', 'd6', 'd7']);
    for (const k of keys) expect(store.authenticateOneNetKey(k.stdout.trim())?.product).toBe('p');
    expect(new Set(store.listOneNetKeys('p').map((k) => k.id)).size).toBe(5);
    expect(fs.existsSync(path.join(data, 'auth', 'credentials.lock'))).toBe(false);
  });
});
