// Who may touch a device: master and product keys on their product's devices, device keys on their
// device only, each with the permission the method needs; everything else refused alike.
import { describe, expect, it } from 'vitest';
import type { CredentialId, OneNetGrant } from '../../../src/auth/index.js';
import { grantCovers, presentedKey } from '../../../src/protocols/onenet/auth.js';

const grant = (product: string, permissions: ('read' | 'write')[], device?: string, master = false): OneNetGrant => ({
  keyId: 1 as CredentialId,
  product,
  ...(device !== undefined ? { device } : {}),
  permissions: new Set(permissions),
  master,
});

describe('grantCovers', () => {
  const master = grant('A', ['read', 'write'], undefined, true);
  it('lets a master or product key use every device of its product, per permission', () => {
    expect(grantCovers(master, 'd1', 'A', 'write')).toBe(true);
    expect(grantCovers(master, 'd2', 'A', 'read')).toBe(true);
    expect(grantCovers(grant('A', ['read']), 'd2', 'A', 'read')).toBe(true);
    expect(grantCovers(grant('A', ['read']), 'd2', 'A', 'write')).toBe(false);
    expect(grantCovers(grant('A', ['write']), 'd2', 'A', 'read')).toBe(false);
  });
  it('lets a device key use its device only', () => {
    const key = grant('A', ['read', 'write'], 'd1');
    expect(grantCovers(key, 'd1', 'A', 'write')).toBe(true);
    expect(grantCovers(key, 'd2', 'A', 'write')).toBe(false);
    expect(grantCovers(key, 'd2', 'A', 'read')).toBe(false);
  });
  it('refuses other products, unknown devices and missing grants', () => {
    expect(grantCovers(master, 'b1', 'B', 'read')).toBe(false);
    expect(grantCovers(master, 'nosuch', undefined, 'read')).toBe(false);
    expect(grantCovers(undefined, 'd1', 'A', 'read')).toBe(false);
  });
});

describe('presentedKey', () => {
  it('trims what surrounds the key (api-key:KEY and api-key:  KEY  alike)', () => {
    expect(presentedKey('KEY')).toBe('KEY');
    expect(presentedKey('  KEY \t')).toBe('KEY');
    expect(presentedKey(undefined)).toBe('');
  });
});
