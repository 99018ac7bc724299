// The credential store: CAVE and OneNET models and their rules, secrets hashed on disk, every
// change durable and visible to a fresh open, and other processes' changes picked up by reload.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  ADMIN_TOKEN_FILE,
  AUTH_DIR,
  CredentialErrorCode,
  CredentialStore,
  type CredentialStoreOptions,
} from '../../src/auth/index.js';
import { logPathOf, reopenedAnswers, storeAnswers } from '../helpers/credentials.js';
import { tempDir } from '../helpers/tmp.js';

const quiet: CredentialStoreOptions = { log: () => undefined };

/** A store on a fresh directory whose every change is checked against a fresh open of the files. */
function checkedStore(options: CredentialStoreOptions = {}): { dir: string; store: CredentialStore; secrets: string[]; step: <T>(fn: () => T) => T } {
  const dir = tempDir();
  const store = CredentialStore.open(dir, { ...quiet, ...options });
  const secrets: string[] = [];
  const step = <T>(fn: () => T): T => {
    let result: T;
    try {
      result = fn();
    } finally {
      expect(reopenedAnswers(dir, secrets)).toEqual(storeAnswers(store, secrets));
    }
    const secret = (result as { secret?: unknown } | undefined)?.secret;
    if (typeof secret === 'string') secrets.push(secret);
    return result;
  };
  return { dir, store, secrets, step };
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return (err as { code?: string }).code;
  }
  return undefined;
}

function messageOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error('expected a throw');
}

describe('CAVE organizations, teams and tokens', () => {
  it('creates an organization with a default publish token shaped like CAVE tokens', () => {
    const { store, step } = checkedStore();
    const t = step(() => store.createOrg('gilt'));
    expect(t.secret).toMatch(/^[A-Za-z0-9]{56}$/);
    expect(t).toMatchObject({ org: 'gilt', scopes: ['publish'], description: 'default' });
    expect(store.authenticateCaveToken(t.secret)).toEqual({ tokenId: t.id, org: 'gilt', scopes: new Set(['publish']) });
    expect(store.listOrgs()).toEqual([{ name: 'gilt', createdMs: t.createdMs, teams: 0, tokens: 1 }]);
  });

  it('keeps org and team tokens apart, lists ids without secrets, and revokes', () => {
    const { store, step } = checkedStore();
    const orgDefault = step(() => store.createOrg('gilt', { scopes: ['publish', 'read'] }));
    const teamDefault = step(() => store.createTeam('gilt', 'ops'));
    const reader = step(() => store.createCaveToken('gilt', { team: 'ops', scopes: ['read'], description: 'grafana' }));
    expect(store.authenticateCaveToken(teamDefault.secret)).toEqual({ tokenId: teamDefault.id, org: 'gilt', team: 'ops', scopes: new Set(['publish']) });
    expect(store.authenticateCaveToken(reader.secret)?.scopes).toEqual(new Set(['read']));
    expect(store.authenticateCaveToken(orgDefault.secret)?.team).toBeUndefined();

    const listed = store.listCaveTokens('gilt', 'ops');
    expect(listed.map((t) => t.id)).toEqual([teamDefault.id, reader.id]);
    expect(JSON.stringify(listed)).not.toContain(reader.secret);
    expect(listed[1]).toEqual({ id: reader.id, org: 'gilt', team: 'ops', scopes: ['read'], description: 'grafana', createdMs: reader.createdMs });
    expect(store.listCaveTokens('gilt').map((t) => t.id)).toEqual([orgDefault.id]);
    expect(store.listTeams('gilt')).toEqual([{ org: 'gilt', name: 'ops', createdMs: teamDefault.createdMs, tokens: 2 }]);

    step(() => store.revokeCaveToken('gilt', teamDefault.id, { team: 'ops' }));
    expect(store.authenticateCaveToken(teamDefault.secret)).toBeUndefined();
    expect(store.authenticateCaveToken(reader.secret)).toBeDefined();
    expect(store.authenticateCaveToken('')).toBeUndefined();
    expect(store.authenticateCaveToken('x'.repeat(100_000))).toBeUndefined();
  });

  it("holds CAVE's limits: at most 3 tokens per organization and per team", () => {
    const { store, step } = checkedStore();
    step(() => store.createOrg('gilt'));
    step(() => store.createTeam('gilt', 'ops'));
    for (let i = 0; i < 2; i++) {
      step(() => store.createCaveToken('gilt', { scopes: ['publish'] }));
      step(() => store.createCaveToken('gilt', { team: 'ops', scopes: ['publish'] }));
    }
    expect(messageOf(() => step(() => store.createCaveToken('gilt', { scopes: ['read'] })))).toBe('Too many tokens for organization.');
    expect(messageOf(() => step(() => store.createCaveToken('gilt', { team: 'ops', scopes: ['read'] })))).toBe('Too many tokens for team.');
    expect(codeOf(() => store.createCaveToken('gilt', { scopes: ['read'] }))).toBe(CredentialErrorCode.Refused);
    expect(store.listCaveTokens('gilt')).toHaveLength(3);
  });

  it('never revokes the last token, checking that before the id (as CAVE does)', () => {
    const { store, step } = checkedStore();
    const t = step(() => store.createOrg('gilt'));
    const team = step(() => store.createTeam('gilt', 'ops'));
    expect(messageOf(() => step(() => store.revokeCaveToken('gilt', t.id)))).toBe('Cannot delete the last organization token.');
    expect(messageOf(() => step(() => store.revokeCaveToken('gilt', 999)))).toBe('Cannot delete the last organization token.');
    expect(messageOf(() => step(() => store.revokeCaveToken('gilt', team.id, { team: 'ops' })))).toBe('Cannot delete the last team token.');
    const second = step(() => store.createCaveToken('gilt', { scopes: ['publish'] }));
    step(() => store.revokeCaveToken('gilt', t.id));
    expect(store.authenticateCaveToken(second.secret)).toBeDefined();
    expect(messageOf(() => step(() => store.revokeCaveToken('gilt', second.id)))).toBe('Cannot delete the last organization token.');
  });

  it('scopes revokes to the owner: another organization or team cannot revoke a token by id', () => {
    const { store, step } = checkedStore();
    const a = step(() => store.createOrg('a'));
    step(() => store.createCaveToken('a', { scopes: ['read'] }));
    step(() => store.createOrg('b'));
    step(() => store.createCaveToken('b', { scopes: ['read'] }));
    step(() => store.createTeam('a', 'x'));
    step(() => store.createCaveToken('a', { team: 'x', scopes: ['read'] }));
    expect(messageOf(() => step(() => store.revokeCaveToken('b', a.id)))).toBe(`Token ${a.id} not found for organization 'b'.`);
    expect(codeOf(() => store.revokeCaveToken('a', a.id, { team: 'x' }))).toBe(CredentialErrorCode.NotFound);
    expect(store.authenticateCaveToken(a.secret)).toBeDefined();
  });

  it('refuses bad names, duplicates, unknown owners and an organization that still has teams', () => {
    const { store, step } = checkedStore();
    for (const bad of ['', 'a.b', 'a*', 'a b', 'a/b', 'é', 'x'.repeat(64)]) {
      expect(codeOf(() => store.createOrg(bad)), bad).toBe(CredentialErrorCode.Invalid);
    }
    expect(messageOf(() => store.createOrg('a.b'))).toBe("Invalid organization name a.b. Use 1 to 63 letters, digits, '-' or '_'.");
    step(() => store.createOrg('Gilt-1_x'));
    expect(messageOf(() => step(() => store.createOrg('Gilt-1_x')))).toBe("Organization 'Gilt-1_x' already exists.");
    expect(codeOf(() => store.createTeam('nope', 'ops'))).toBe(CredentialErrorCode.NotFound);
    expect(codeOf(() => store.createTeam('Gilt-1_x', 'o.ps'))).toBe(CredentialErrorCode.Invalid);
    expect(codeOf(() => store.createCaveToken('Gilt-1_x', { scopes: ['write'] }))).toBe(CredentialErrorCode.Invalid);
    expect(codeOf(() => store.createCaveToken('Gilt-1_x', { scopes: [] }))).toBe(CredentialErrorCode.Invalid);
    expect(codeOf(() => store.createCaveToken('Gilt-1_x', { scopes: ['read'], description: 'd'.repeat(257) }))).toBe(CredentialErrorCode.Invalid);
    expect(codeOf(() => store.listTeams('nope'))).toBe(CredentialErrorCode.NotFound);
    expect(codeOf(() => store.listCaveTokens('Gilt-1_x', 'nope'))).toBe(CredentialErrorCode.NotFound);
    step(() => store.createTeam('Gilt-1_x', 'ops'));
    expect(messageOf(() => step(() => store.createTeam('Gilt-1_x', 'ops')))).toBe("Team 'ops' already exists.");
    expect(messageOf(() => step(() => store.deleteOrg('Gilt-1_x')))).toBe('Cannot delete account with teams attached. Delete teams first.');
  });

  it('deleting a team or an organization revokes its tokens; ids are never reused', () => {
    const { store, step } = checkedStore();
    const org = step(() => store.createOrg('gilt'));
    const team = step(() => store.createTeam('gilt', 'ops'));
    step(() => store.deleteTeam('gilt', 'ops'));
    expect(store.authenticateCaveToken(team.secret)).toBeUndefined();
    expect(store.listTeams('gilt')).toEqual([]);
    step(() => store.deleteOrg('gilt'));
    expect(store.authenticateCaveToken(org.secret)).toBeUndefined();
    expect(store.listOrgs()).toEqual([]);
    const again = step(() => store.createOrg('gilt'));
    expect(again.id).toBeGreaterThan(team.id);
    expect(store.authenticateCaveToken(org.secret)).toBeUndefined();
  });

  it('answers hasOrg/hasTeam from the current state, and reopened stores agree', () => {
    const { dir, store, step } = checkedStore();
    expect(store.hasOrg('gilt')).toBe(false);
    step(() => store.createOrg('gilt'));
    step(() => store.createTeam('gilt', 'ops'));
    expect(store.hasOrg('gilt')).toBe(true);
    expect(store.hasOrg('ops')).toBe(false);
    expect(store.hasTeam('gilt', 'ops')).toBe(true);
    expect(store.hasTeam('gilt', 'web')).toBe(false);
    expect(store.hasTeam('ops', 'gilt')).toBe(false);
    const reopened = CredentialStore.open(dir, quiet);
    expect([reopened.hasOrg('gilt'), reopened.hasTeam('gilt', 'ops')]).toEqual([true, true]);
    step(() => store.deleteTeam('gilt', 'ops'));
    expect(store.hasTeam('gilt', 'ops')).toBe(false);
    expect(store.hasOrg('gilt')).toBe(true);
  });
});

describe('OneNET products, devices and API keys', () => {
  it('creates a product with a master key, devices, and device keys with permissions', () => {
    const { store, step } = checkedStore();
    const master = step(() => store.createProduct('lamp'));
    expect(master.secret).toMatch(/^[A-Za-z0-9]{28}$/);
    expect(store.authenticateOneNetKey(master.secret)).toEqual({ keyId: master.id, product: 'lamp', permissions: new Set(['read', 'write']), master: true });
    expect(store.authenticateCaveToken(master.secret)).toBeUndefined();

    const device = step(() => store.createDevice('lamp', '1001', { title: 'desk lamp' }));
    expect(device).toMatchObject({ id: '1001', product: 'lamp', title: 'desk lamp' });
    expect(step(() => store.createDevice('lamp', '1002')).title).toBe('1002');
    const key = step(() => store.createOneNetKey('lamp', { device: '1001', permissions: ['write'], description: 'firmware' }));
    expect(store.authenticateOneNetKey(key.secret)).toEqual({ keyId: key.id, product: 'lamp', device: '1001', permissions: new Set(['write']), master: false });
    const wide = step(() => store.createOneNetKey('lamp', { permissions: ['read'] }));
    expect(store.authenticateOneNetKey(wide.secret)?.device).toBeUndefined();

    expect(store.listOneNetKeys('lamp').map((k) => [k.id, k.master, k.device, k.permissions])).toEqual([
      [master.id, true, undefined, ['read', 'write']],
      [key.id, false, '1001', ['write']],
      [wide.id, false, undefined, ['read']],
    ]);
    expect(JSON.stringify(store.listOneNetKeys('lamp'))).not.toContain(key.secret);
    expect(store.listProducts()).toEqual([{ name: 'lamp', createdMs: master.createdMs, devices: 2, keys: 3 }]);
    expect(store.device('1001')?.product).toBe('lamp');

    step(() => store.revokeOneNetKey('lamp', key.id));
    expect(store.authenticateOneNetKey(key.secret)).toBeUndefined();
    step(() => store.revokeOneNetKey('lamp', master.id));
    expect(store.authenticateOneNetKey(master.secret)).toBeUndefined();
  });

  it('keeps device ids unique across products and keys inside their product', () => {
    const { store, step } = checkedStore();
    step(() => store.createProduct('a'));
    const b = step(() => store.createProduct('b'));
    step(() => store.createDevice('a', 'd1'));
    expect(messageOf(() => step(() => store.createDevice('b', 'd1')))).toBe("Device 'd1' already exists.");
    expect(messageOf(() => step(() => store.createOneNetKey('b', { device: 'd1', permissions: ['read'] })))).toBe("Device 'd1' not found in product 'b'.");
    expect(messageOf(() => step(() => store.revokeOneNetKey('a', b.id)))).toBe(`Key ${b.id} not found in product 'a'.`);
    expect(messageOf(() => step(() => store.createProduct('a')))).toBe("Product 'a' already exists.");
    expect(codeOf(() => store.createOneNetKey('a', { permissions: ['post'] }))).toBe(CredentialErrorCode.Invalid);
    expect(codeOf(() => store.createDevice('nope', 'd2'))).toBe(CredentialErrorCode.NotFound);
    expect(codeOf(() => store.listDevices('nope'))).toBe(CredentialErrorCode.NotFound);
  });
});

describe('secrets on disk', () => {
  it('stores only SHA-256 hashes: no secret appears in any file of the store', () => {
    const { dir, store, secrets, step } = checkedStore();
    step(() => store.createOrg('gilt'));
    step(() => store.createTeam('gilt', 'ops'));
    step(() => store.createCaveToken('gilt', { team: 'ops', scopes: ['publish', 'read'] }));
    step(() => store.createProduct('lamp'));
    step(() => store.createDevice('lamp', '7'));
    step(() => store.createOneNetKey('lamp', { device: '7', permissions: ['read', 'write'] }));
    store.ensureAdminToken();
    const admin = fs.readFileSync(path.join(dir, ADMIN_TOKEN_FILE), 'utf8').trim();
    const files = fs.readdirSync(path.join(dir, AUTH_DIR)).map((f) => fs.readFileSync(path.join(dir, AUTH_DIR, f)));
    expect(files.length).toBeGreaterThan(0);
    for (const bytes of files) {
      for (const secret of [...secrets, admin]) {
        expect(bytes.includes(Buffer.from(secret))).toBe(false);
        expect(bytes.includes(Buffer.from(secret).toString('base64'))).toBe(false);
        expect(bytes.includes(Buffer.from(secret).toString('hex'))).toBe(false);
      }
    }
    expect(secrets).toHaveLength(5);
  });
});

describe('admin token', () => {
  it('is generated once into <data>/admin-token with mode 0600 whatever the umask, and only its hash is stored', () => {
    const dir = tempDir();
    const store = CredentialStore.open(dir, quiet);
    const oldMask = process.umask(0);
    let first;
    try {
      first = store.ensureAdminToken();
    } finally {
      process.umask(oldMask);
    }
    expect(first).toEqual({ created: true, path: path.join(dir, ADMIN_TOKEN_FILE) });
    expect(fs.statSync(first.path).mode & 0o777).toBe(0o600);
    const token = fs.readFileSync(first.path, 'utf8').trim();
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(store.authenticateAdminToken(token)).toBe(true);
    expect(store.authenticateAdminToken(`${token}x`)).toBe(false);
    expect(CredentialStore.open(dir, quiet).authenticateAdminToken(token)).toBe(true);
    expect(fs.readdirSync(dir).sort()).toEqual([ADMIN_TOKEN_FILE, AUTH_DIR]); // no temporary file left

    const size = fs.statSync(logPathOf(dir)).size;
    expect(CredentialStore.open(dir, quiet).ensureAdminToken().created).toBe(false);
    expect(fs.statSync(logPathOf(dir)).size).toBe(size); // nothing appended when nothing changed
  });

  it('rotates, and regenerates when the file is removed', () => {
    const dir = tempDir();
    const store = CredentialStore.open(dir, quiet);
    store.ensureAdminToken();
    const file = path.join(dir, ADMIN_TOKEN_FILE);
    const old = fs.readFileSync(file, 'utf8').trim();
    store.rotateAdminToken();
    const rotated = fs.readFileSync(file, 'utf8').trim();
    expect(rotated).not.toBe(old);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    const reopened = CredentialStore.open(dir, quiet);
    expect([reopened.authenticateAdminToken(old), reopened.authenticateAdminToken(rotated)]).toEqual([false, true]);
    fs.rmSync(file);
    expect(reopened.ensureAdminToken().created).toBe(true);
    expect(reopened.authenticateAdminToken(rotated)).toBe(false);
  });

  it('refuses a hand-written admin token that is too short', () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, ADMIN_TOKEN_FILE), 'admin\n', { mode: 0o600 });
    const store = CredentialStore.open(dir, quiet);
    expect(codeOf(() => store.ensureAdminToken())).toBe(CredentialErrorCode.Invalid);
    expect(store.authenticateAdminToken('admin')).toBe(false);
  });

  it('warns when the file has been made readable by others', () => {
    const dir = tempDir();
    CredentialStore.open(dir, quiet).ensureAdminToken();
    fs.chmodSync(path.join(dir, ADMIN_TOKEN_FILE), 0o644);
    const events: string[] = [];
    CredentialStore.open(dir, { log: (e) => events.push(e.event) }).ensureAdminToken();
    expect(events).toContain('auth.admin-token-exposed');
  });
});

describe('several processes', () => {
  it('a reader picks up changes written by another store on reload, and watch() does it by itself', async () => {
    const dir = tempDir();
    const writer = CredentialStore.open(dir, quiet);
    const reader = CredentialStore.open(dir, quiet);
    const t = writer.createOrg('gilt');
    expect(reader.authenticateCaveToken(t.secret)).toBeUndefined();
    expect(reader.reload()).toBe(true);
    expect(reader.reload()).toBe(false);
    expect(reader.authenticateCaveToken(t.secret)?.org).toBe('gilt');
    const second = reader.createCaveToken('gilt', { scopes: ['read'] }); // the reader writes too, after catching up
    writer.revokeCaveToken('gilt', t.id); // the writer catches up under the lock before checking
    const stop = reader.watch(10);
    try {
      await expect.poll(() => reader.authenticateCaveToken(t.secret), { timeout: 5000 }).toBeUndefined();
    } finally {
      stop();
    }
    expect(writer.authenticateCaveToken(second.secret)?.scopes).toEqual(new Set(['read']));
    expect(storeAnswers(reader, [t.secret, second.secret])).toEqual(storeAnswers(writer, [t.secret, second.secret]));
  });

  it('waits for a live holder of the lock and reports it, and removes a dead holder’s lock', () => {
    const dir = tempDir();
    const store = CredentialStore.open(dir, { ...quiet, lockWaitMs: 100 });
    store.createOrg('gilt');
    const lock = path.join(dir, AUTH_DIR, 'credentials.lock');
    fs.writeFileSync(lock, `${process.ppid} ${os.hostname()}\n`);
    const started = Date.now();
    expect(codeOf(() => store.createTeam('gilt', 'ops'))).toBe(CredentialErrorCode.Locked);
    expect(Date.now() - started).toBeGreaterThanOrEqual(90);
    expect(store.listTeams('gilt')).toEqual([]);

    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    fs.writeFileSync(lock, `${dead.stdout} ${os.hostname()}\n`);
    const events: string[] = [];
    const other = CredentialStore.open(dir, { log: (e) => events.push(e.event), lockWaitMs: 100 });
    other.createTeam('gilt', 'ops');
    expect(events).toEqual(['auth.stale-lock-removed']);
    expect(fs.existsSync(lock)).toBe(false);
  });
});
