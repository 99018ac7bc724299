// CAVE token extraction (getToken's rules byte for byte), the CAVE-account value of a tenant, and
// which grants cover which tenant for publish and read (protocols.md §3.1, §7).
import { describe, expect, it } from 'vitest';
import type { CaveGrant, CaveScope, CredentialId } from '../../../src/auth/index.js';
import { caveAccount, caveTokenFrom, grantAllows } from '../../../src/protocols/cave/auth.js';

const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');

describe('caveTokenFrom', () => {
  it('reads Bearer and Basic token: as CAVE does', () => {
    expect(caveTokenFrom('Bearer abc123')).toBe('abc123');
    expect(caveTokenFrom(`Basic ${b64('abc123:')}`)).toBe('abc123');
  });

  it('removes only the first ":" of a Basic credential, so a password never matches', () => {
    expect(caveTokenFrom(`Basic ${b64(':abc123')}`)).toBe('abc123');
    expect(caveTokenFrom(`Basic ${b64('abc123:secret')}`)).toBe('abc123secret');
    expect(caveTokenFrom(`Basic ${b64('abc123')}`)).toBe('abc123');
  });

  it('is case-sensitive about the scheme; other schemes and no header are no token', () => {
    expect(caveTokenFrom(undefined)).toBeUndefined();
    expect(caveTokenFrom('bearer abc123')).toBeUndefined();
    expect(caveTokenFrom('BASIC YWJjOg==')).toBeUndefined();
    expect(caveTokenFrom('Digest abc123')).toBeUndefined();
    expect(caveTokenFrom('Token abc123')).toBeUndefined();
    expect(caveTokenFrom('')).toBeUndefined();
  });

  it('an empty or glued Bearer is a token that matches nothing (403, not 401)', () => {
    expect(caveTokenFrom('Bearer ')).toBe('');
    expect(caveTokenFrom('Bearer')).toBe('Bearer');
    expect(caveTokenFrom('Bearerabc')).toBe('Bearerabc');
  });
});

describe('caveAccount', () => {
  it('is org for an organisation and team.org for a team (CAVE database names)', () => {
    expect(caveAccount({ org: 'gilt' })).toBe('gilt');
    expect(caveAccount({ org: 'gilt', team: 'ops' })).toBe('ops.gilt');
  });
});

describe('grantAllows', () => {
  const grant = (org: string, team: string | undefined, scopes: CaveScope[]): CaveGrant => ({
    tokenId: 1 as CredentialId,
    org,
    ...(team !== undefined ? { team } : {}),
    scopes: new Set(scopes),
  });
  const both: CaveScope[] = ['publish', 'read'];

  it('organisation endpoint: only the organisation own tokens', () => {
    expect(grantAllows(grant('a', undefined, both), { org: 'a' }, 'publish')).toBe(true);
    expect(grantAllows(grant('a', undefined, both), { org: 'a' }, 'read')).toBe(true);
    expect(grantAllows(grant('b', undefined, both), { org: 'a' }, 'publish')).toBe(false);
    expect(grantAllows(grant('a', 'x', both), { org: 'a' }, 'publish')).toBe(false);
    expect(grantAllows(grant('a', 'x', both), { org: 'a' }, 'read')).toBe(false);
  });

  it('team endpoint: that team tokens or its organisation tokens', () => {
    expect(grantAllows(grant('a', 'x', both), { org: 'a', team: 'x' }, 'publish')).toBe(true);
    expect(grantAllows(grant('a', undefined, both), { org: 'a', team: 'x' }, 'publish')).toBe(true);
    expect(grantAllows(grant('a', 'y', both), { org: 'a', team: 'x' }, 'publish')).toBe(false);
    expect(grantAllows(grant('b', 'x', both), { org: 'a', team: 'x' }, 'publish')).toBe(false);
    expect(grantAllows(grant('b', undefined, both), { org: 'a', team: 'x' }, 'read')).toBe(false);
  });

  it('needs the scope: publish-only tokens cannot read, read-only tokens cannot publish', () => {
    expect(grantAllows(grant('a', undefined, ['publish']), { org: 'a' }, 'read')).toBe(false);
    expect(grantAllows(grant('a', undefined, ['read']), { org: 'a' }, 'publish')).toBe(false);
    expect(grantAllows(grant('a', 'x', ['publish']), { org: 'a', team: 'x' }, 'read')).toBe(false);
  });
});
