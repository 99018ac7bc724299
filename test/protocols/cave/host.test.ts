// CAVE's Host shortcut: team.org.domain.tld / org.domain.tld, the port stripped, CAVE's two 400
// texts for everything else (IP literals included).
import { describe, expect, it } from 'vitest';
import { MISSING_HOST_MESSAGE, isIpLiteral, parseCaveHost } from '../../../src/protocols/cave/host.js';

describe('parseCaveHost', () => {
  it('reads org.domain.tld and team.org.domain.tld', () => {
    expect(parseCaveHost('gilt.cave.example')).toEqual({ tenant: { org: 'gilt' } });
    expect(parseCaveHost('ops.gilt.cave.example')).toEqual({ tenant: { org: 'gilt', team: 'ops' } });
  });

  it('strips a port, and trailing dots as Java split drops trailing empty labels', () => {
    expect(parseCaveHost('gilt.cave.example:9000')).toEqual({ tenant: { org: 'gilt' } });
    expect(parseCaveHost('ops.gilt.cave.example:80')).toEqual({ tenant: { org: 'gilt', team: 'ops' } });
    expect(parseCaveHost('gilt.cave.example.')).toEqual({ tenant: { org: 'gilt' } });
  });

  it('missing Host: CAVE text', () => {
    expect(parseCaveHost(undefined)).toEqual({ error: MISSING_HOST_MESSAGE });
    expect(MISSING_HOST_MESSAGE).toBe('Hostname must be provided.');
  });

  it('other shapes: Invalid hostname format <host as sent>', () => {
    for (const host of ['localhost', 'localhost:8080', 'cave.example', 'a.b.c.d.e', '', 'a.b.c.d.e:1']) {
      expect(parseCaveHost(host)).toEqual({ error: `Invalid hostname format ${host}` });
    }
  });

  it('IP literals name no tenant (CAVE would read org "0" from 127.0.0.1)', () => {
    for (const host of ['127.0.0.1', '127.0.0.1:8080', '10.0.0.1.', '[::1]:8080', '[::1]']) {
      expect(parseCaveHost(host)).toEqual({ error: `Invalid hostname format ${host}` });
    }
    expect(isIpLiteral('127.0.0.1')).toBe(true);
    expect(isIpLiteral('ops.gilt.cave.example')).toBe(false);
    expect(isIpLiteral('1.gilt.cave.example')).toBe(false);
  });
});
