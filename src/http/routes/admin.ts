// The admin HTTP API, `/admin/v1/…` on the main HTTP port (docs/security.md, decision 0011): CAVE
// organisations, teams and tokens, OneNET products, devices and keys — what `strata cave|onenet`
// does — as JSON, for the holder of the admin token. Checks, in order: the store is readable
// (503 while damaged: it fails closed), `Authorization: Bearer <admin token>` (401), the path (404),
// the method (405). Listings are answered from the main thread's store; changes run on the writer
// thread (src/admin/writer.ts). A new secret is in its creation response only; nothing here logs one.
import type { HttpRequest, HttpResponse, TemplatedApp } from 'uWebSockets.js';
import { CredentialErrorCode } from '../../auth/index.js';
import type { AdminChange } from '../../admin/changes.js';
import { AdminError, AdminErrorCode, adminErrorAnswer } from '../../admin/envelope.js';
import { ADMIN_MAX_BODY_BYTES, parseBody, parseId, type FieldSpec, type Fields } from '../../admin/requests.js';
import { CredentialWriter } from '../../admin/writer.js';
import { log } from '../../log.js';
import { HttpExchange, readHead, receiveBody, type ResponseOut } from '../request.js';
import type { ServerContext } from '../server.js';

export const ADMIN_PREFIX = '/admin/v1';

const JSON_HEADERS: readonly (readonly [string, string])[] = [
  ['Content-Type', 'application/json; charset=UTF-8'],
  // Creation responses carry secrets: no cache may keep any admin answer.
  ['Cache-Control', 'no-store'],
];

/** A path of the API: literal segments and `:name` parameters, with what each method does. */
interface AdminRoute {
  readonly pattern: readonly string[];
  /** A listing, from the main thread's store (throws CredentialError NotFound for an unknown owner). */
  readonly get?: (params: Params) => unknown;
  /** A creation: the body's fields, and the change they make. Answered 201 with the created thing. */
  readonly post?: { readonly body: FieldSpec; readonly change: (params: Params, fields: Fields) => AdminChange };
  /** A delete or revoke. Answered 204. */
  readonly delete?: (params: Params) => AdminChange;
}
type Params = Readonly<Record<string, string>>;

function str(fields: Fields, key: string): string {
  return fields[key] as string;
}
function optionalStr(fields: Fields, key: string): { [k: string]: string } {
  const v = fields[key];
  return typeof v === 'string' ? { [key]: v } : {};
}
function strings(fields: Fields, key: string): readonly string[] {
  return fields[key] as readonly string[];
}

function adminRoutes(ctx: ServerContext): readonly AdminRoute[] {
  const store = ctx.credentials;
  const team = (p: Params): { team?: string } => (p['team'] !== undefined ? { team: p['team'] } : {});
  const tokenRoutes = (base: readonly string[]): AdminRoute[] => [
    {
      pattern: [...base, 'tokens'],
      get: (p) => store.listCaveTokens(p['org']!, p['team']),
      post: {
        body: { scopes: 'strings', description: 'string?' },
        change: (p, f) => ({ op: 'cave.token.create', org: p['org']!, ...team(p), scopes: strings(f, 'scopes'), ...optionalStr(f, 'description') }),
      },
    },
    {
      pattern: [...base, 'tokens', ':id'],
      delete: (p) => ({ op: 'cave.token.revoke', org: p['org']!, ...team(p), id: parseId(p['id']!, 'token') }),
    },
  ];
  return [
    {
      pattern: ['cave', 'orgs'],
      get: () => store.listOrgs(),
      post: {
        body: { name: 'string', scopes: 'strings?' },
        change: (_p, f) => ({ op: 'org.create', org: str(f, 'name'), ...(f['scopes'] !== undefined ? { scopes: strings(f, 'scopes') } : {}) }),
      },
    },
    { pattern: ['cave', 'orgs', ':org'], delete: (p) => ({ op: 'org.delete', org: p['org']! }) },
    {
      pattern: ['cave', 'orgs', ':org', 'teams'],
      get: (p) => store.listTeams(p['org']!),
      post: {
        body: { name: 'string', scopes: 'strings?' },
        change: (p, f) => ({
          op: 'team.create',
          org: p['org']!,
          team: str(f, 'name'),
          ...(f['scopes'] !== undefined ? { scopes: strings(f, 'scopes') } : {}),
        }),
      },
    },
    { pattern: ['cave', 'orgs', ':org', 'teams', ':team'], delete: (p) => ({ op: 'team.delete', org: p['org']!, team: p['team']! }) },
    ...tokenRoutes(['cave', 'orgs', ':org']),
    ...tokenRoutes(['cave', 'orgs', ':org', 'teams', ':team']),
    {
      pattern: ['onenet', 'products'],
      get: () => store.listProducts(),
      post: { body: { name: 'string' }, change: (_p, f) => ({ op: 'onenet.product.create', product: str(f, 'name') }) },
    },
    {
      pattern: ['onenet', 'products', ':product', 'devices'],
      get: (p) => store.listDevices(p['product']!),
      post: {
        body: { id: 'string', title: 'string?' },
        change: (p, f) => ({ op: 'onenet.device.create', product: p['product']!, device: str(f, 'id'), ...optionalStr(f, 'title') }),
      },
    },
    {
      pattern: ['onenet', 'products', ':product', 'keys'],
      get: (p) => store.listOneNetKeys(p['product']!),
      post: {
        body: { permissions: 'strings', device: 'string?', description: 'string?' },
        change: (p, f) => ({
          op: 'onenet.key.create',
          product: p['product']!,
          permissions: strings(f, 'permissions'),
          ...optionalStr(f, 'device'),
          ...optionalStr(f, 'description'),
        }),
      },
    },
    {
      pattern: ['onenet', 'products', ':product', 'keys', ':id'],
      delete: (p) => ({ op: 'onenet.key.revoke', product: p['product']!, id: parseId(p['id']!, 'key') }),
    },
  ];
}

/** The route and parameters of `url` (a path under ADMIN_PREFIX; one trailing slash is ignored). */
function matchRoute(routes: readonly AdminRoute[], url: string): { route: AdminRoute; params: Params } | undefined {
  if (url !== ADMIN_PREFIX && !url.startsWith(`${ADMIN_PREFIX}/`)) return undefined;
  const segments = url.slice(ADMIN_PREFIX.length + 1).split('/');
  if (segments.length > 1 && segments[segments.length - 1] === '') segments.pop();
  for (const route of routes) {
    if (route.pattern.length !== segments.length) continue;
    const params: Record<string, string> = {};
    const ok = route.pattern.every((part, i) => {
      const seg = segments[i]!;
      if (part.startsWith(':')) {
        params[part.slice(1)] = seg;
        return seg !== '';
      }
      return part === seg;
    });
    if (ok) return { route, params };
  }
  return undefined;
}

/** The Bearer credential of an Authorization header (scheme case-insensitive, RFC 7235), or undefined. */
function bearerToken(header: string | undefined): string | undefined {
  const m = header === undefined ? null : /^bearer +(\S+) *$/i.exec(header);
  return m ? m[1] : undefined;
}

function json(status: number, value: unknown): ResponseOut {
  return { status, headers: JSON_HEADERS, body: status === 204 ? '' : JSON.stringify(value) };
}

function errorOut(err: unknown): ResponseOut {
  const a = adminErrorAnswer(err);
  return { status: a.status, headers: [...JSON_HEADERS, ...a.headers], body: a.body };
}

export function registerAdminRoutes(app: TemplatedApp, ctx: ServerContext): void {
  const routes = adminRoutes(ctx);
  const writer = new CredentialWriter(ctx.credentials.dataDir);

  /** Runs a change on the writer thread, then reads it back into the main thread's store. */
  const change = async (x: HttpExchange, c: AdminChange, status: 201 | 204): Promise<void> => {
    try {
      const value = await writer.run(c);
      try {
        ctx.credentials.reload(); // read-your-writes: the next listing and lookup see it now
      } catch {
        // Damage found here is the watch's to report; the change itself was acknowledged.
      }
      // An audit line: names, ids, scopes, descriptions — never the secret `value` carries.
      const created = typeof value === 'object' && value !== null ? { created: (value as { id?: unknown }).id } : {};
      log({ event: 'admin.change', ...c, ...created });
      x.respond(json(status, value));
    } catch (err) {
      x.respond(errorOut(err));
    }
  };

  const handle = (res: HttpResponse, req: HttpRequest): void => {
    const x = new HttpExchange(res, readHead(req));
    try {
      // Damaged store first: it cannot tell the admin token either, and a 401 would mislead.
      try {
        ctx.credentials.reload();
      } catch (err) {
        // The store's own message names files and offsets: that is for the server log, not for a
        // client that has not authenticated yet.
        const code = (err as { code?: unknown }).code === CredentialErrorCode.Corruption ? CredentialErrorCode.Corruption : CredentialErrorCode.Io;
        throw new AdminError(
          code,
          code === CredentialErrorCode.Corruption
            ? 'The credential store is damaged; admin requests are refused until it is repaired (strata auth repair; see the server log).'
            : 'The credential store cannot be read; see the server log.',
        );
      }
      const token = bearerToken(x.head.headers.get('authorization'));
      if (token === undefined) throw new AdminError(AdminErrorCode.Unauthorized, 'Send the admin token (<data>/admin-token) as Authorization: Bearer <token>.');
      if (!ctx.credentials.authenticateAdminToken(token)) throw new AdminError(AdminErrorCode.Unauthorized, 'The admin token is not valid.');
      const found = matchRoute(routes, x.head.url);
      if (!found) throw new AdminError(CredentialErrorCode.NotFound, `No admin API resource at ${x.head.url}.`);
      const { route, params } = found;
      const method = x.head.method;
      if (method === 'GET' && route.get) {
        x.respond(json(200, route.get(params)));
      } else if (method === 'DELETE' && route.delete) {
        void change(x, route.delete(params), 204);
      } else if (method === 'POST' && route.post) {
        const post = route.post;
        receiveBody(x, { maxBodyBytes: ADMIN_MAX_BODY_BYTES, budget: ctx.budget }).then(
          (body) => {
            let c: AdminChange;
            try {
              c = post.change(params, parseBody(new Uint8Array(body.buffer, 0, body.length), post.body));
            } catch (err) {
              x.respond(errorOut(err));
              return;
            } finally {
              ctx.budget.release(body.reservedBytes);
            }
            void change(x, c, 201);
          },
          (err: unknown) => {
            if (err !== undefined) x.respond(errorOut(err)); // undefined: the client went away
          },
        );
      } else {
        const allow = [route.get && 'GET', route.post && 'POST', route.delete && 'DELETE'].filter(Boolean).join(', ');
        const out = errorOut(new AdminError(AdminErrorCode.MethodNotAllowed, `${method} is not allowed on ${x.head.url}; use ${allow}.`));
        x.respond({ ...out, headers: [...(out.headers ?? []), ['Allow', allow]] });
      }
    } catch (err) {
      x.respond(errorOut(err));
    }
  };
  app.any(ADMIN_PREFIX, handle);
  app.any(`${ADMIN_PREFIX}/*`, handle);
}
