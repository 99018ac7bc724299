// CAVE REST routes (protocols.md §3): publishing (`POST …/metrics`), reads (`GET …/metrics`,
// `GET …/metric-names`) for an organisation, a team, or the tenant named by the Host header, and
// `/_internal_/healthcheck` and `/_internal_/version`. Owns the order of CAVE's checks and
// authenticates every request on the main thread before any body is read: a request is refused
// unless it holds a token for the tenant it names (decision: nobody writes to or reads from a
// tenant without a credential for it). Bodies and reads run in workers; answers are shaped by
// src/protocols/cave/envelope.ts. No decoding here.
import type { HttpRequest, HttpResponse, TemplatedApp } from 'uWebSockets.js';
import { ServiceError, ServiceErrorCode } from '../../errors.js';
import { PACKAGE_VERSION } from '../../package-version.js';
import type { CavePublishTask, CaveReadTask, WorkerResult } from '../../pool/messages.js';
import { caveAccount, caveTokenFrom, grantAllows, type CaveTenant } from '../../protocols/cave/auth.js';
import {
  CAVE_NOT_JSON_MESSAGE,
  caveEmpty,
  caveForbidden,
  caveJson,
  caveNotFound,
  caveServiceError,
  caveText,
  caveUnauthorized,
  type CaveAnswer,
} from '../../protocols/cave/envelope.js';
import { parseCaveHost } from '../../protocols/cave/host.js';
import { contentEncoding, runTask } from '../body-route.js';
import { HttpExchange, readHead, receiveBody } from '../request.js';
import type { ServerContext } from '../server.js';
import type { ServerMetrics } from '../../metrics.js';

type Handler = (res: HttpResponse, req: HttpRequest) => void;
type ReadKind = CaveReadTask['kind'];

/** Play's parse.json accepts these media types (parameters such as charset ignored, case-insensitive). */
function isJsonContentType(value: string | undefined): boolean {
  const media = (value ?? '').split(';')[0]!.trim().toLowerCase();
  return media === 'application/json' || media === 'text/json';
}

function tenantExists(ctx: ServerContext, tenant: CaveTenant): boolean {
  return tenant.team === undefined ? ctx.credentials.hasOrg(tenant.org) : ctx.credentials.hasTeam(tenant.org, tenant.team);
}

function errorAnswer(err: unknown): CaveAnswer {
  return caveServiceError(err instanceof ServiceError ? err : new ServiceError(ServiceErrorCode.Internal, (err as Error)?.message ?? String(err)));
}

/** A worker's reply to a CAVE task: 202 empty, 200 JSON, 400 text; failures through the envelope. */
function workerAnswer(result: WorkerResult): CaveAnswer {
  if ('replies' in result) return errorAnswer(new ServiceError(ServiceErrorCode.Internal, 'unexpected worker reply'));
  if (!result.ok) return errorAnswer(new ServiceError(result.code, result.messages));
  const body = typeof result.body === 'string' ? result.body : Buffer.from(result.body).toString('utf8');
  if (result.status === 200) return caveJson(200, body);
  if (result.status === 400) return caveText(400, body);
  return caveEmpty(result.status);
}

/**
 * Publishing, in CAVE's order: unknown organisation/team → 404 (even without credentials); no
 * token → 401; a token that is unknown, revoked, of another tenant or without `publish` → 403;
 * then the body: not JSON by Content-Type → 400, over `caveMaxBodyBytes` → 413, then the
 * worker's checks (400) and append (202, empty). The body is read only after the token passed.
 */
function publish(ctx: ServerContext, x: HttpExchange, tenant: CaveTenant): void {
  if (!tenantExists(ctx, tenant)) return x.respond(caveNotFound());
  const token = caveTokenFrom(x.head.headers.get('authorization'));
  if (token === undefined) return x.respond(caveUnauthorized());
  const grant = ctx.credentials.authenticateCaveToken(token);
  if (grant === undefined || !grantAllows(grant, tenant, 'publish')) return x.respond(caveForbidden());
  if (!isJsonContentType(x.head.headers.get('content-type'))) return x.respond(caveText(400, CAVE_NOT_JSON_MESSAGE));

  const limit = ctx.config.caveMaxBodyBytes;
  receiveBody(x, { maxBodyBytes: limit, budget: ctx.budget }).then(
    async (body) => {
      try {
        const task: CavePublishTask = {
          kind: 'cave.publish',
          body: body.buffer,
          bodyBytes: body.length,
          encoding: contentEncoding(x.head.headers),
          maxInflatedBytes: limit,
          account: caveAccount(tenant),
          syncAlways: ctx.config.sync === 'always',
        };
        x.respond(workerAnswer(await ctx.pool.run(task, body.buffer)));
      } catch (err) {
        x.respond(errorAnswer(err));
      } finally {
        ctx.budget.release(body.reservedBytes);
      }
    },
    (err: unknown) => {
      if (err !== undefined) x.respond(errorAnswer(err)); // undefined: the client aborted
    },
  );
}

/**
 * Reads, in CAVE's order for reads: no token → 401; an unknown or revoked token → 403; unknown
 * organisation/team → 404; a token of another tenant or without `read` → 403. Then the worker
 * answers for the tenant's `CAVE-account` only.
 */
function read(ctx: ServerContext, x: HttpExchange, tenant: CaveTenant, kind: ReadKind): void {
  const token = caveTokenFrom(x.head.headers.get('authorization'));
  if (token === undefined) return x.respond(caveUnauthorized());
  const grant = ctx.credentials.authenticateCaveToken(token);
  if (grant === undefined) return x.respond(caveForbidden());
  if (!tenantExists(ctx, tenant)) return x.respond(caveNotFound());
  if (!grantAllows(grant, tenant, 'read')) return x.respond(caveForbidden());
  const task: CaveReadTask = { kind, account: caveAccount(tenant), query: x.head.query };
  void runTask(ctx, x, task, { reply: (_x, result) => workerAnswer(result), error: (_x, err) => errorAnswer(err) });
}

/**
 * The Host-addressed paths (`/metrics`, `/metric-names`): every method, one dispatcher, so that
 * what a Host-addressed `/metrics` means is decided here only. Today every Host is read as a CAVE
 * tenant (`team.org.domain.tld` / `org.domain.tld`), and anything else — no Host, other shapes,
 * IP literals — gets CAVE's 400. (A later Prometheus `GET /metrics` for non-CAVE hosts plugs in
 * here, before the CAVE 400.)
 */
function hostShortcut(ctx: ServerContext, path: '/metrics' | '/metric-names'): Handler {
  return (res, req) => {
    const x = new HttpExchange(res, readHead(req));
    const method = x.head.method;
    if (path === '/metrics' && method === 'GET' && ctx.metrics && wantsExposition(x.head.headers)) return serveExposition(ctx.metrics, x);
    const servesMethod = method === 'GET' || (path === '/metrics' && method === 'POST');
    if (!servesMethod) return x.respond(caveNotFound());
    const host = parseCaveHost(x.head.headers.get('host'));
    if ('error' in host) return x.respond(caveText(400, host.error));
    if (method === 'POST') return publish(ctx, x, host.tenant);
    return read(ctx, x, host.tenant, path === '/metrics' ? 'cave.metrics' : 'cave.metric-names');
  };
}

/**
 * `GET /metrics` is also Prometheus' scrape path (the server's own metrics, src/metrics.ts). A
 * scrape is told from a CAVE read by its Host — one that names no CAVE tenant (an IP address,
 * `localhost`, a one- or two-label name) — or by an Accept header asking for the exposition
 * format, as Prometheus sends; everything else stays CAVE's.
 */
function wantsExposition(headers: ReadonlyMap<string, string>): boolean {
  const accept = headers.get('accept') ?? '';
  if (/openmetrics-text|text\/plain;\s*version=0\.0\.4/i.test(accept)) return true;
  return 'error' in parseCaveHost(headers.get('host'));
}

function serveExposition(metrics: ServerMetrics, x: HttpExchange): void {
  metrics.exposition().then(
    ({ contentType, body }) => x.respond({ status: 200, headers: [['Content-Type', contentType]], body }),
    (err: unknown) => x.respond({ status: 500, headers: [['Content-Type', 'text/plain; charset=utf-8']], body: `metrics unavailable: ${(err as Error).message}` }),
  );
}

/** A URL path segment as Play passes it to the controller (percent-decoded); undefined when malformed. */
function pathSegment(raw: string | undefined): string | undefined {
  try {
    return decodeURIComponent(raw ?? '');
  } catch {
    return undefined;
  }
}

/** Tenant of `/organizations/:org[/teams/:team]/…` routes, or undefined (→ 404) for a malformed segment. */
function tenantOf(req: HttpRequest, withTeam: boolean): CaveTenant | undefined {
  const org = pathSegment(req.getParameter(0));
  const team = withTeam ? pathSegment(req.getParameter(1)) : undefined;
  if (org === undefined || (withTeam && team === undefined)) return undefined;
  return team === undefined ? { org } : { org, team };
}

export function registerCaveRoutes(app: TemplatedApp, ctx: ServerContext): void {
  const notFound: Handler = (res, req) => new HttpExchange(res, readHead(req)).respond(caveNotFound());
  const withTenant =
    (withTeam: boolean, run: (x: HttpExchange, tenant: CaveTenant) => void): Handler =>
    (res, req) => {
      const tenant = tenantOf(req, withTeam); // before readHead returns: parameters die with req
      const x = new HttpExchange(res, readHead(req));
      if (tenant === undefined) return x.respond(caveNotFound());
      run(x, tenant);
    };

  for (const [prefix, withTeam] of [
    ['/organizations/:org', false],
    ['/organizations/:org/teams/:team', true],
  ] as const) {
    app.post(`${prefix}/metrics`, withTenant(withTeam, (x, tenant) => publish(ctx, x, tenant)));
    app.get(`${prefix}/metrics`, withTenant(withTeam, (x, tenant) => read(ctx, x, tenant, 'cave.metrics')));
    app.any(`${prefix}/metrics`, notFound);
    app.get(`${prefix}/metric-names`, withTenant(withTeam, (x, tenant) => read(ctx, x, tenant, 'cave.metric-names')));
    app.any(`${prefix}/metric-names`, notFound);
  }
  app.any('/metrics', hostShortcut(ctx, '/metrics'));
  app.any('/metric-names', hostShortcut(ctx, '/metric-names'));

  app.get('/_internal_/healthcheck', (res, req) => {
    const x = new HttpExchange(res, readHead(req));
    x.respond(caveText(200, ctx.healthy() && ctx.credentials.healthy ? 'healthy' : 'unhealthy'));
  });
  const version = JSON.stringify({ name: 'strata', version: PACKAGE_VERSION });
  app.get('/_internal_/version', (res, req) => new HttpExchange(res, readHead(req)).respond(caveJson(200, version)));
}
