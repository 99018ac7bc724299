// Every successful lookup confirms the stored hash with crypto.timingSafeEqual (the map lookup
// only finds the candidate), for CAVE tokens, OneNET keys and the admin token alike.
import * as fs from 'node:fs';
import { describe, expect, it, vi } from 'vitest';
import { CredentialStore } from '../../src/auth/index.js';
import { tempDir } from '../helpers/tmp.js';

const calls = vi.hoisted(() => ({ count: 0 }));
vi.mock('node:crypto', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:crypto')>();
  return {
    ...actual,
    timingSafeEqual: (a: NodeJS.ArrayBufferView, b: NodeJS.ArrayBufferView): boolean => {
      calls.count++;
      return actual.timingSafeEqual(a, b);
    },
  };
});

describe('secret comparison', () => {
  it('goes through crypto.timingSafeEqual for every kind of secret', () => {
    const store = CredentialStore.open(tempDir(), { log: () => undefined });
    const cave = store.createOrg('gilt');
    const key = store.createProduct('lamp');
    store.ensureAdminToken();
    const adminToken = fs.readFileSync(store.adminTokenPath, 'utf8').trim();
    calls.count = 0;
    expect(store.authenticateCaveToken(cave.secret)).toBeDefined();
    expect(calls.count).toBe(1);
    expect(store.authenticateOneNetKey(key.secret)).toBeDefined();
    expect(calls.count).toBe(2);
    expect(store.authenticateAdminToken(adminToken)).toBe(true);
    expect(store.authenticateAdminToken(`${adminToken.slice(0, -1)}#`)).toBe(false);
    expect(calls.count).toBe(4);
    // A token of one kind is not a key of the other: the lookup misses before any comparison.
    expect(store.authenticateOneNetKey(cave.secret)).toBeUndefined();
    expect(calls.count).toBe(4);
  });
});
