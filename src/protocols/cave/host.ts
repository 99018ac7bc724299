// CAVE's Host shortcut (protocols.md §3.2, `Metric.extractOrg`): `POST /metrics`,
// `GET /metrics` and `GET /metric-names` name their tenant by the Host header,
// `team.org.domain.tld` or `org.domain.tld`. Pure.
import type { CaveTenant } from './auth.js';

export const MISSING_HOST_MESSAGE = 'Hostname must be provided.';

/** The tenant a Host names, or CAVE's 400 text. */
export type CaveHostOutcome = { readonly tenant: CaveTenant } | { readonly error: string };

/**
 * Reads the tenant from a Host header value. A trailing `:port` is removed first (CAVE splits the
 * whole value, so its last label carries the port; the tenant labels come out the same). The
 * rest is split on `.` with trailing empty labels dropped (Java's String.split): 4 labels →
 * team, org; 3 labels → org; anything else → `Invalid hostname format <host>` with the header as
 * sent. An IPv4 literal has 4 labels but is refused with that 400 (CAVE would take `0` of
 * `127.0.0.1` as an organisation), as is an IPv6 literal.
 */
export function parseCaveHost(host: string | undefined): CaveHostOutcome {
  if (host === undefined) return { error: MISSING_HOST_MESSAGE };
  const invalid = { error: `Invalid hostname format ${host}` };
  const name = withoutPort(host);
  if (name === undefined || isIpLiteral(name)) return invalid;
  const labels = name.split('.');
  while (labels.length > 0 && labels[labels.length - 1] === '') labels.pop();
  if (labels.length === 4) return { tenant: { org: labels[1]!, team: labels[0]! } };
  if (labels.length === 3) return { tenant: { org: labels[0]! } };
  return invalid;
}

/** The host without its `:port` (digits only); undefined for an IPv6 literal (`[…]`). */
function withoutPort(host: string): string | undefined {
  if (host.startsWith('[')) return undefined;
  const colon = host.lastIndexOf(':');
  return colon >= 0 && /^\d*$/.test(host.slice(colon + 1)) ? host.slice(0, colon) : host;
}

/** Whether `name` is a dotted IPv4 literal (four decimal labels), which names no tenant. */
export function isIpLiteral(name: string): boolean {
  return /^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}\.?$/.test(name) || name.includes(':');
}
