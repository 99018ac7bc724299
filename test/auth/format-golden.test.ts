// The golden credential store test/fixtures/credentials-v1/ (docs/format/credentials.md §Golden
// fixture): today's code reads it to exactly the state it was written for; its data set still
// produces it byte for byte; the real store writes the same records for the same calls (apart
// from the random secrets' hashes); and the byte examples in the format document are its bytes.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ADMIN_TOKEN_FILE, AUTH_DIR, CREDENTIAL_LOG_FILE, CredentialStore } from '../../src/auth/index.js';
import { LOG_HEADER_BYTES, RECORD_HEADER_BYTES, scanLog } from '../../src/auth/format.js';
import {
  CREDENTIALS_V1_CALLS,
  CREDENTIALS_V1_OPS,
  CREDENTIALS_V1_SECRETS as S,
  CREDENTIALS_V1_T0_MS as T0,
  buildCredentialsV1Log,
} from '../fixtures/credentials-v1-data.js';
import { logPathOf } from '../helpers/credentials.js';
import { tempDir } from '../helpers/tmp.js';

const FIXTURE = fileURLToPath(new URL('../fixtures/credentials-v1/', import.meta.url));
const FIXTURE_LOG = path.join(FIXTURE, AUTH_DIR, CREDENTIAL_LOG_FILE);
const DOC = fileURLToPath(new URL('../../docs/format/credentials.md', import.meta.url));

/** The fixture copied to a fresh data directory (opening for a change may cut a torn tail). */
function fixtureCopy(): string {
  const dir = tempDir();
  fs.cpSync(FIXTURE, dir, { recursive: true });
  return dir;
}

function hex(bytes: Uint8Array): string {
  return [...bytes].map((b) => b.toString(16).padStart(2, '0').toUpperCase()).join(' ');
}

/** Each record's payload text, with every sha256 value replaced (the real store's secrets are random). */
function maskedPayloads(log: Uint8Array): string[] {
  const scan = scanLog(log, 0);
  expect(scan.tail).toEqual({ kind: 'clean' });
  return scan.records.map((r) => {
    const payloadBytes = Buffer.from(log.buffer, log.byteOffset + r.offset + 4, 4).readUInt32LE(0);
    const payload = Buffer.from(log.buffer, log.byteOffset + r.offset + RECORD_HEADER_BYTES, payloadBytes).toString('utf8');
    return payload.replace(/"sha256":"[0-9a-f]{64}"/g, '"sha256":"…"');
  });
}

describe('credentials-v1 golden fixture', () => {
  it('is read by the current code to the state it was written for', () => {
    const dir = fixtureCopy();
    const store = CredentialStore.open(dir, { log: () => undefined });
    expect(store.healthy).toBe(true);
    expect(store.listOrgs()).toEqual([{ name: 'gilt', createdMs: T0 + 1000, teams: 1, tokens: 2 }]);
    expect(store.listTeams('gilt')).toEqual([{ org: 'gilt', name: 'ops', createdMs: T0 + 2000, tokens: 1 }]);
    expect(store.listCaveTokens('gilt')).toEqual([
      { id: 1, org: 'gilt', scopes: ['publish'], description: 'default', createdMs: T0 + 1000 },
      { id: 3, org: 'gilt', scopes: ['publish', 'read'], description: 'grafana', createdMs: T0 + 3000 },
    ]);
    expect(store.listCaveTokens('gilt', 'ops')).toEqual([{ id: 2, org: 'gilt', team: 'ops', scopes: ['publish'], description: 'default', createdMs: T0 + 2000 }]);
    expect(store.listProducts()).toEqual([{ name: 'lamp', createdMs: T0 + 10_000, devices: 1, keys: 3 }]);
    expect(store.listDevices('lamp')).toEqual([{ id: 'dev-1', product: 'lamp', title: 'Hall lamp', createdMs: T0 + 11_000 }]);
    expect(store.listOneNetKeys('lamp')).toEqual([
      { id: 7, product: 'lamp', permissions: ['read', 'write'], master: true, description: 'master', createdMs: T0 + 10_000 },
      { id: 8, product: 'lamp', device: 'dev-1', permissions: ['write'], master: false, description: 'firmware', createdMs: T0 + 12_000 },
      { id: 9, product: 'lamp', permissions: ['read'], master: false, description: 'dashboard', createdMs: T0 + 13_000 },
    ]);

    expect(store.authenticateCaveToken(S.giltDefault)).toEqual({ tokenId: 1, org: 'gilt', scopes: new Set(['publish']) });
    expect(store.authenticateCaveToken(S.opsDefault)).toEqual({ tokenId: 2, org: 'gilt', team: 'ops', scopes: new Set(['publish']) });
    expect(store.authenticateCaveToken(S.giltGrafana)).toEqual({ tokenId: 3, org: 'gilt', scopes: new Set(['publish', 'read']) });
    expect(store.authenticateOneNetKey(S.lampMaster)).toEqual({ keyId: 7, product: 'lamp', permissions: new Set(['read', 'write']), master: true });
    expect(store.authenticateOneNetKey(S.lampFirmware)).toEqual({ keyId: 8, product: 'lamp', device: 'dev-1', permissions: new Set(['write']), master: false });
    expect(store.authenticateOneNetKey(S.lampDashboard)).toEqual({ keyId: 9, product: 'lamp', permissions: new Set(['read']), master: false });
    expect(store.authenticateAdminToken(S.adminCurrent)).toBe(true);
    // Revoked, deleted with their owner, rotated away — or a secret of the other kind.
    for (const gone of [S.giltOld, S.tmpDefault, S.scratchDefault]) expect(store.authenticateCaveToken(gone)).toBeUndefined();
    expect(store.authenticateOneNetKey(S.lampOld)).toBeUndefined();
    expect(store.authenticateAdminToken(S.adminFirst)).toBe(false);
    expect(store.authenticateOneNetKey(S.giltDefault)).toBeUndefined();
    expect(store.authenticateCaveToken(S.lampMaster)).toBeUndefined();
    expect(fs.readFileSync(path.join(FIXTURE, ADMIN_TOKEN_FILE), 'utf8')).toBe(`${S.adminCurrent}\n`);

    // The next change continues the log: id 11, the next sequence number.
    const next = store.createCaveToken('gilt', { scopes: ['read'] });
    expect(next.id).toBe(11);
    expect(scanLog(fs.readFileSync(logPathOf(dir)), 0).records.at(-1)!.txn.seq).toBe(CREDENTIALS_V1_OPS.length + 1);
  });

  it('is reproduced byte for byte by its data set', () => {
    expect(buildCredentialsV1Log().equals(fs.readFileSync(FIXTURE_LOG))).toBe(true);
  });

  it('holds the records the real store writes for the same calls, apart from the hashes of random secrets', () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, ADMIN_TOKEN_FILE), `${S.adminFirst}\n`, { mode: 0o600 });
    let clock = T0;
    const store = CredentialStore.open(dir, { now: () => (clock += 1000) - 1000, log: () => undefined });
    const calls: (() => unknown)[] = [
      () => store.ensureAdminToken(),
      () => store.createOrg('gilt'),
      () => store.createTeam('gilt', 'ops'),
      () => store.createCaveToken('gilt', { scopes: ['publish', 'read'], description: 'grafana' }),
      () => store.createCaveToken('gilt', { scopes: ['read'], description: 'old' }),
      () => store.revokeCaveToken('gilt', 4),
      () => store.createOrg('tmp'),
      () => store.deleteOrg('tmp'),
      () => store.createTeam('gilt', 'scratch', { scopes: ['read'] }),
      () => store.deleteTeam('gilt', 'scratch'),
      () => store.createProduct('lamp'),
      () => store.createDevice('lamp', 'dev-1', { title: 'Hall lamp' }),
      () => store.createOneNetKey('lamp', { permissions: ['write'], device: 'dev-1', description: 'firmware' }),
      () => store.createOneNetKey('lamp', { permissions: ['read'], description: 'dashboard' }),
      () => store.createOneNetKey('lamp', { permissions: ['read', 'write'] }),
      () => store.revokeOneNetKey('lamp', 10),
      () => store.rotateAdminToken(),
    ];
    expect(calls).toHaveLength(CREDENTIALS_V1_CALLS.length);
    for (const call of calls) call();
    const written = fs.readFileSync(logPathOf(dir));
    const fixture = fs.readFileSync(FIXTURE_LOG);
    expect(maskedPayloads(written)).toEqual(maskedPayloads(fixture));
    expect(written.subarray(0, LOG_HEADER_BYTES).equals(fixture.subarray(0, LOG_HEADER_BYTES))).toBe(true);
    // The one hash that is not random: the admin token the "server" adopted from its file.
    const firstEnd = scanLog(fixture, 0).records[1]!.offset;
    expect(written.subarray(0, firstEnd).equals(fixture.subarray(0, firstEnd))).toBe(true);
  });

  it('is what docs/format/credentials.md shows, byte for byte', () => {
    const doc = fs.readFileSync(DOC, 'utf8');
    const bytes = fs.readFileSync(FIXTURE_LOG);
    const first = scanLog(bytes, 0).records[0]!;
    const payloadBytes = bytes.readUInt32LE(first.offset + 4);
    expect(doc).toContain(hex(bytes.subarray(0, LOG_HEADER_BYTES)));
    expect(doc).toContain(hex(bytes.subarray(first.offset, first.offset + RECORD_HEADER_BYTES)));
    expect(doc).toContain(bytes.subarray(first.offset + RECORD_HEADER_BYTES, first.offset + RECORD_HEADER_BYTES + payloadBytes).toString('utf8'));
    expect(doc).toContain(`${payloadBytes} bytes`);
  });
});
