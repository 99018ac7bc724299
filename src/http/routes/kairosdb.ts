// KairosDB REST routes (protocols.md §1): headers and CORS, body hand-off to the pool, and the
// KairosDB envelope out. Decoding, queries and storage happen in the workers; this file only
// routes, and maps service error codes through src/protocols/kairosdb/envelope.ts.
import type { HttpRequest, HttpResponse, TemplatedApp } from 'uWebSockets.js';
import { ServiceError, ServiceErrorCode } from '../../errors.js';
import { KAIROS_STATUS_BY_CODE, kairosErrorBody } from '../../protocols/kairosdb/envelope.js';
import type { BodyEncoding, WorkerResult, WorkerTask } from '../../pool/messages.js';
import { bodyRoute, contentEncoding, runTask, type BodyRouteProtocol } from '../body-route.js';
import { HttpExchange, readHead, type ResponseOut } from '../request.js';
import type { ServerContext } from '../server.js';

export const KAIROS_VERSION = 'KairosDB 1.3.0-1';
const JSON_TYPE = 'application/json; charset=UTF-8';

/** Headers every KairosDB response carries (MetricsResource). */
const COMMON_HEADERS: readonly (readonly [string, string])[] = [
  ['Access-Control-Allow-Origin', '*'],
  ['Pragma', 'no-cache'],
  ['Cache-Control', 'no-cache'],
  ['Expires', '0'],
  ['Content-Type', JSON_TYPE],
];

function out(status: number, body: string | ArrayBuffer, gzipped = false): ResponseOut {
  return { status, headers: gzipped ? [...COMMON_HEADERS, ['Content-Encoding', 'gzip']] : COMMON_HEADERS, body };
}

export function kairosError(err: unknown): ResponseOut {
  if (err instanceof ServiceError) {
    const headers: (readonly [string, string])[] = [...COMMON_HEADERS];
    if (err.code === ServiceErrorCode.Busy || err.code === ServiceErrorCode.ShuttingDown) headers.push(['Retry-After', '1']);
    return { status: KAIROS_STATUS_BY_CODE[err.code], headers, body: kairosErrorBody(err.messages) };
  }
  return { status: 500, headers: COMMON_HEADERS, body: kairosErrorBody([(err as Error)?.message ?? String(err)]) };
}

function resultToResponse(result: WorkerResult | undefined): ResponseOut {
  if (!result) return kairosError(new ServiceError(ServiceErrorCode.Internal, 'worker returned nothing'));
  if (!result.ok) return kairosError(new ServiceError(result.code, result.messages));
  if ('replies' in result) return kairosError(new ServiceError(ServiceErrorCode.Internal, 'unexpected telnet reply'));
  return out(result.status, result.body, result.gzipped);
}

/** KairosDB inflates on Content-Encoding gzip (1.3.0+) and on the legacy Content-Type application/gzip. */
export function kairosBodyEncoding(headers: ReadonlyMap<string, string>): BodyEncoding {
  const encoding = contentEncoding(headers);
  if (encoding !== 'identity') return encoding;
  return (headers.get('content-type') ?? '').toLowerCase().startsWith('application/gzip') ? 'gzip' : 'identity';
}

function acceptsGzip(headers: ReadonlyMap<string, string>): boolean {
  return /(^|,)\s*(x-)?gzip\s*(;\s*q=(?!0(\.0*)?\s*(,|$))[\d.]+)?\s*(,|$)/i.test(headers.get('accept-encoding') ?? '');
}

/** Worker results and failures in KairosDB's envelope. */
const KAIROS_ANSWERS: Pick<BodyRouteProtocol, 'reply' | 'error'> = { reply: (_x, result) => resultToResponse(result), error: (_x, err) => kairosError(err) };

/** A body route with KairosDB's envelope; `makeTask` builds the worker task. */
function kairosBodyRoute(ctx: ServerContext, makeTask: BodyRouteProtocol['task']) {
  return bodyRoute(ctx, { task: makeTask, ...KAIROS_ANSWERS });
}

/** Runs a task whose input is already in hand (listings, metric delete, GET ?query=) and answers. */
function simpleTask(ctx: ServerContext, x: HttpExchange, task: WorkerTask, transfer?: ArrayBuffer): Promise<void> {
  return runTask(ctx, x, task, KAIROS_ANSWERS, transfer);
}

function queryParam(query: string, name: string): string | undefined {
  const v = new URLSearchParams(query).get(name);
  return v === null ? undefined : v;
}

export function registerKairosRoutes(app: TemplatedApp, ctx: ServerContext): void {
  const base = '/api/v1';
  const maxInflatedBytes = ctx.config.maxInflatedBytes;

  app.options(`${base}/*`, (res, req) => {
    const x = new HttpExchange(res, readHead(req));
    const requested = x.head.headers.get('access-control-request-headers');
    const headers: (readonly [string, string])[] = [
      ['Access-Control-Allow-Origin', '*'],
      ['Access-Control-Allow-Methods', 'GET, POST, DELETE, OPTIONS'],
      ['Access-Control-Max-Age', '86400'],
    ];
    if (requested !== undefined) headers.push(['Access-Control-Allow-Headers', requested]);
    x.respond({ status: 200, headers });
  });

  app.post(
    `${base}/datapoints`,
    kairosBodyRoute(ctx, (x, body, length) => ({
      kind: 'kairos.ingest',
      body,
      bodyBytes: length,
      encoding: kairosBodyEncoding(x.head.headers),
      maxInflatedBytes,
      sync: ctx.config.sync === 'always',
    })),
  );

  const queryTask =
    (kind: 'kairos.query' | 'kairos.query-tags' | 'kairos.delete') =>
    (x: HttpExchange, body: ArrayBuffer, length: number): WorkerTask => ({
      kind,
      body,
      bodyBytes: length,
      encoding: kairosBodyEncoding(x.head.headers),
      maxInflatedBytes,
      gzipResponse: acceptsGzip(x.head.headers),
    });
  app.post(`${base}/datapoints/query`, kairosBodyRoute(ctx, queryTask('kairos.query')));
  app.post(`${base}/datapoints/query/tags`, kairosBodyRoute(ctx, queryTask('kairos.query-tags')));
  app.post(`${base}/datapoints/delete`, kairosBodyRoute(ctx, queryTask('kairos.delete')));
  app.get(`${base}/datapoints/query`, (res, req) => {
    const x = new HttpExchange(res, readHead(req));
    const bytes = new TextEncoder().encode(queryParam(x.head.query, 'query') ?? '');
    const body = bytes.buffer as ArrayBuffer;
    const task: WorkerTask = { kind: 'kairos.query', body, bodyBytes: bytes.length, encoding: 'identity', maxInflatedBytes, gzipResponse: acceptsGzip(x.head.headers) };
    void simpleTask(ctx, x, task, body);
  });

  const catalogRoute = (kind: 'kairos.metricnames' | 'kairos.tagnames' | 'kairos.tagvalues', param?: string) =>
    (res: HttpResponse, req: HttpRequest) => {
      const x = new HttpExchange(res, readHead(req));
      void simpleTask(ctx, x, { kind, argument: param ? queryParam(x.head.query, param) : undefined, gzipResponse: acceptsGzip(x.head.headers) });
    };
  app.get(`${base}/metricnames`, catalogRoute('kairos.metricnames', 'prefix'));
  app.get(`${base}/tagnames`, catalogRoute('kairos.tagnames'));
  app.get(`${base}/tagvalues`, catalogRoute('kairos.tagvalues', 'name'));

  app.del(`${base}/metric/:name`, (res, req) => {
    const name = decodeURIComponent(req.getParameter(0) ?? '');
    const x = new HttpExchange(res, readHead(req));
    void simpleTask(ctx, x, { kind: 'kairos.delete-metric', argument: name, gzipResponse: false });
  });

  app.get(`${base}/datapoints/index`, (res, req) => {
    new HttpExchange(res, readHead(req)).respond(out(204, ''));
  });
  app.get(`${base}/health/status`, (res, req) => {
    const x = new HttpExchange(res, readHead(req));
    x.respond(out(200, JSON.stringify(['JVM-Thread-Deadlock: OK', `Datastore-Query: ${ctx.healthy() ? 'OK' : 'FAIL'}`])));
  });
  app.get(`${base}/health/check`, (res, req) => {
    const x = new HttpExchange(res, readHead(req));
    x.respond(out(ctx.healthy() ? 204 : 500, ''));
  });
  app.get(`${base}/version`, (res, req) => {
    const x = new HttpExchange(res, readHead(req));
    x.respond(out(200, `{"version": "${KAIROS_VERSION}"}\n`));
  });
}

