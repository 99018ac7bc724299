// OpenTSDB REST routes (protocols.md §2): /api/put and /api/rollup so far. Hands the body and the
// query string to a worker, writes back OpenTSDB's response matrix, and maps service error codes
// through src/protocols/opentsdb/envelope.ts. No decoding here.
import type { HttpRequest, HttpResponse, TemplatedApp } from 'uWebSockets.js';
import { ServiceError, ServiceErrorCode } from '../../errors.js';
import { METHOD_NOT_ALLOWED_MESSAGE, methodNotAllowedDetails, openTsdbErrorBody, openTsdbServiceError } from '../../protocols/opentsdb/envelope.js';
import type { WorkerResult } from '../../pool/messages.js';
import { bodyRoute, contentEncoding } from '../body-route.js';
import { HttpExchange, readHead, type ResponseOut } from '../request.js';
import type { ServerContext } from '../server.js';

const JSON_TYPE: readonly [string, string] = ['Content-Type', 'application/json; charset=UTF-8'];

function openTsdbError(err: unknown, jsonp: string | null): ResponseOut {
  const service = err instanceof ServiceError ? err : new ServiceError(ServiceErrorCode.Internal, (err as Error)?.message ?? String(err));
  const { status, body } = openTsdbServiceError(service, jsonp);
  const headers: (readonly [string, string])[] = [JSON_TYPE];
  if (service.code === ServiceErrorCode.Busy || service.code === ServiceErrorCode.ShuttingDown) headers.push(['Retry-After', '1']);
  return { status, headers, body };
}

function toResponse(result: WorkerResult | undefined, jsonp: string | null): ResponseOut {
  if (!result || ('replies' in result)) return openTsdbError(new ServiceError(ServiceErrorCode.Internal, 'unexpected worker reply'), jsonp);
  if (!result.ok) return openTsdbError(new ServiceError(result.code, result.messages), jsonp);
  return { status: result.status, headers: [JSON_TYPE], body: result.body };
}

export function registerOpenTsdbRoutes(app: TemplatedApp, ctx: ServerContext): void {
  const jsonpOf = (x: HttpExchange): string | null => new URLSearchParams(x.head.query).get('jsonp') || null;
  const put = (kind: 'opentsdb.put' | 'opentsdb.rollup') =>
    bodyRoute(ctx, {
      task: (x, body, length) => ({
        kind,
        body,
        bodyBytes: length,
        encoding: contentEncoding(x.head.headers), // OpenTSDB inflates on Content-Encoding only
        maxInflatedBytes: ctx.config.maxInflatedBytes,
        query: x.head.query,
        syncAlways: ctx.config.sync === 'always',
      }),
      reply: (x, result) => toResponse(result, jsonpOf(x)),
      error: (x, err) => openTsdbError(err, jsonpOf(x)),
    });
  const notAllowed = (res: HttpResponse, req: HttpRequest): void => {
    const x = new HttpExchange(res, readHead(req));
    x.respond({ status: 405, headers: [JSON_TYPE], body: openTsdbErrorBody(405, METHOD_NOT_ALLOWED_MESSAGE, methodNotAllowedDetails(x.head.method)) });
  };
  for (const path of ['/api/put', '/api/v1/put']) {
    app.post(path, put('opentsdb.put'));
    app.any(path, notAllowed);
  }
  app.post('/api/rollup', put('opentsdb.rollup'));
  app.any('/api/rollup', notAllowed);
}
