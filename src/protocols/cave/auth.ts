// CAVE tenants and credentials on the wire (protocols.md §3.1, §7 "Tenants", "Credentials"):
// the token a request presents (CAVE's getToken rules, byte for byte), the tenant a request
// names (organisation, or team of an organisation), the `CAVE-account` tag value that scopes a
// tenant's series, and whether a token's grant covers a tenant for publishing or reading.
// Pure: no I/O, no credential store (the route looks grants up and passes them in).
import type { CaveGrant, CaveScope } from '../../auth/index.js';

/** Tag CAVE adds to every published metric: `org`, or `team.org` for a team. Always set by the server. */
export const CAVE_ACCOUNT_TAG = 'CAVE-account';
/** Tag CAVE adds when a cluster is configured; Strata has none and drops it from published metrics. */
export const CAVE_CLUSTER_TAG = 'CAVE-cluster';

/** The organisation, or one team of it, that a request publishes to or reads from. */
export interface CaveTenant {
  readonly org: string;
  /** Set for the team endpoints (and a 4-label Host). */
  readonly team?: string;
}

/**
 * The `CAVE-account` value of a tenant: CAVE's database name (`Metric.createDbName`), `org` or
 * `team.org`. Unambiguous because names never contain a dot (NAME_PATTERN, decision 0010).
 */
export function caveAccount(tenant: CaveTenant): string {
  return tenant.team === undefined ? tenant.org : `${tenant.team}.${tenant.org}`;
}

/**
 * The token an `Authorization` header carries, as CAVE's getToken reads it: a value starting with
 * `Bearer` yields the value with its first `Bearer ` removed; one starting with `Basic` yields the
 * base64-decoded rest (first `Basic ` removed, decoded leniently) with its first `:` removed — so
 * `token:` and `:token` give `token`, and `token:password` gives `tokenpassword`, which matches
 * nothing. The scheme is case-sensitive; any other value (or none) is no token (→ 401). An empty
 * result ("Bearer ") is a token that matches nothing (→ 403), as in CAVE.
 */
export function caveTokenFrom(authorization: string | undefined): string | undefined {
  if (authorization === undefined) return undefined;
  if (authorization.startsWith('Bearer')) return removeFirst(authorization, 'Bearer ');
  if (authorization.startsWith('Basic')) {
    const decoded = Buffer.from(removeFirst(authorization, 'Basic '), 'base64').toString('utf8');
    return removeFirst(decoded, ':');
  }
  return undefined;
}

function removeFirst(s: string, part: string): string {
  const at = s.indexOf(part);
  return at < 0 ? s : s.slice(0, at) + s.slice(at + part.length);
}

/**
 * Whether `grant` may `scope` (publish or read) `tenant`. The organisation endpoints take the
 * organisation's own tokens only; a team endpoint takes that team's tokens or its organisation's
 * (CAVE: `organization.tokens ++ team.tokens`). A token of another organisation, of another team,
 * or a team token on the organisation endpoint never passes, whatever its scopes.
 */
export function grantAllows(grant: CaveGrant, tenant: CaveTenant, scope: CaveScope): boolean {
  if (!grant.scopes.has(scope) || grant.org !== tenant.org) return false;
  if (tenant.team === undefined) return grant.team === undefined;
  return grant.team === undefined || grant.team === tenant.team;
}
