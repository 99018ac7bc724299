// Disk faults through the fs facade (FaultyFileSystem): a failed change leaves the store exactly
// as it was — in memory, on disk, and for a fresh open — and the next change succeeds.
import * as fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { FaultyFileSystem, type FaultRule } from '../../engine/index.js';
import { CredentialErrorCode, CredentialStore } from '../../src/auth/index.js';
import { logPathOf, reopenedAnswers, storeAnswers } from '../helpers/credentials.js';
import { tempDir } from '../helpers/tmp.js';

const LOG = 'credentials.log';

describe('disk faults', () => {
  it.each<[string, FaultRule[], string]>([
    ['ENOSPC before any byte', [{ op: 'pwrite', pathIncludes: LOG, errno: 'ENOSPC' }], CredentialErrorCode.NoSpace],
    ['ENOSPC after part of the record', [{ op: 'pwrite', pathIncludes: LOG, errno: 'ENOSPC', shortWriteBytes: 21 }], CredentialErrorCode.NoSpace],
    ['EDQUOT', [{ op: 'pwrite', pathIncludes: LOG, errno: 'EDQUOT', shortWriteBytes: 3 }], CredentialErrorCode.NoSpace],
    ['a failed fsync', [{ op: 'fsync', pathIncludes: LOG, errno: 'EIO' }], CredentialErrorCode.Io],
    [
      'ENOSPC, and the roll-back fails too',
      [
        { op: 'pwrite', pathIncludes: LOG, errno: 'ENOSPC', shortWriteBytes: 40 },
        { op: 'ftruncate', pathIncludes: LOG, errno: 'EIO' },
      ],
      CredentialErrorCode.NoSpace,
    ],
  ])('%s leaves the store consistent', (_name, rules, code) => {
    const dir = tempDir();
    const faulty = new FaultyFileSystem();
    const events: string[] = [];
    const store = CredentialStore.open(dir, { fs: faulty, log: (e) => events.push(e.event) });
    const org = store.createOrg('gilt');
    const product = store.createProduct('lamp');
    const secrets = [org.secret, product.secret];
    const before = storeAnswers(store, secrets);
    const sizeBefore = fs.statSync(logPathOf(dir)).size;

    for (const rule of rules) faulty.inject(rule);
    let error: unknown;
    try {
      store.createCaveToken('gilt', { scopes: ['read'] });
    } catch (err) {
      error = err;
    }
    expect((error as { code?: string }).code).toBe(code);
    expect((error as Error).message).toContain('nothing was changed');
    expect(storeAnswers(store, secrets)).toEqual(before);
    expect(reopenedAnswers(dir, secrets)).toEqual(before);
    const rolledBack = !rules.some((r) => r.op === 'ftruncate');
    if (rolledBack) expect(fs.statSync(logPathOf(dir)).size).toBe(sizeBefore);

    faulty.clear();
    const next = store.createCaveToken('gilt', { scopes: ['read'] });
    expect(CredentialStore.open(dir, { log: () => undefined }).authenticateCaveToken(next.secret)?.org).toBe('gilt');
    expect(events.includes('auth.torn-tail-cut')).toBe(!rolledBack && (rules[0]!.shortWriteBytes ?? 0) > 0);
  });

  it('a full disk while creating the log leaves no store behind, and the next try creates it', () => {
    const dir = tempDir();
    const faulty = new FaultyFileSystem();
    const store = CredentialStore.open(dir, { fs: faulty, log: () => undefined });
    faulty.inject({ op: 'pwrite', pathIncludes: LOG, errno: 'ENOSPC', shortWriteBytes: 10 });
    expect(() => store.createOrg('gilt')).toThrow(/no space left on device/);
    expect(fs.statSync(logPathOf(dir)).size).toBe(0);
    expect(CredentialStore.open(dir).listOrgs()).toEqual([]);
    const t = store.createOrg('gilt');
    expect(CredentialStore.open(dir).authenticateCaveToken(t.secret)?.org).toBe('gilt');
  });
});
