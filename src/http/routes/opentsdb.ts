// OpenTSDB REST routes (protocols.md §2): /api/put and /api/rollup, and the discovery endpoints
// (§2.5) and /api/query (§2.4) — /api/query, /api/suggest and /api/search/<type> run in a worker; /api/version, /api/aggregators and
// /api/config/filters are constant answers built once. Versioned /api/v1/… paths and the legacy
// /suggest, /version and /aggregators are served too (§2.1). Hands bodies and query strings to
// workers, writes back OpenTSDB's answers, and maps service error codes through
// src/protocols/opentsdb/envelope.ts. No decoding or formatting here.
import type { HttpRequest, HttpResponse, TemplatedApp } from 'uWebSockets.js';
import { ServiceError, ServiceErrorCode } from '../../errors.js';
import { PACKAGE_VERSION } from '../../package-version.js';
import {
  OPENTSDB_JSON_TYPE,
  encodeAggregators,
  encodeFilterConfig,
  encodeVersion,
  errorAnswer,
  isGetOrPost,
  jsonAnswer,
  legacyContentType,
  legacyVersionAnswer,
  methodNotAllowed,
  strataBuildInfo,
  type OpenTsdbAnswer,
  type OpenTsdbApiVersion,
} from '../../protocols/opentsdb/discovery.js';
import { openTsdbServiceError } from '../../protocols/opentsdb/envelope.js';
import { searchMethodError } from '../../protocols/opentsdb/lookup.js';
import type { OpenTsdbDiscoveryTask, WorkerResult } from '../../pool/messages.js';
import { bodyRoute, contentEncoding, runTask, type BodyRouteProtocol } from '../body-route.js';
import { HttpExchange, readHead, type ResponseOut } from '../request.js';
import type { ServerContext } from '../server.js';

const JSON_TYPE: readonly [string, string] = ['Content-Type', OPENTSDB_JSON_TYPE];

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

/** An answer with its Content-Type: JSON for /api/…, sniffed from the body for the legacy paths (as OpenTSDB does). */
function answerOut(answer: OpenTsdbAnswer, apiVersion: OpenTsdbApiVersion): ResponseOut {
  const type = apiVersion > 0 ? OPENTSDB_JSON_TYPE : legacyContentType(answer.body);
  return { status: answer.status, headers: [['Content-Type', type]], body: answer.body };
}

const EMPTY_BODY = new ArrayBuffer(0);

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
  /** Other methods: OpenTSDB's 405 in the request's generation. */
  const methodRoute = (apiVersion: OpenTsdbApiVersion) => (res: HttpResponse, req: HttpRequest) => {
    const x = new HttpExchange(res, readHead(req));
    x.respond(answerOut(methodNotAllowed({ method: x.head.method, apiVersion, query: x.head.query }), apiVersion));
  };
  const notAllowed = methodRoute(1);
  for (const path of ['/api/put', '/api/v1/put']) {
    app.post(path, put('opentsdb.put'));
    app.any(path, notAllowed);
  }
  app.post('/api/rollup', put('opentsdb.rollup'));
  app.any('/api/rollup', notAllowed);

  // ---- discovery reads, answered by a worker (GET: no body; POST: the body goes along)
  const discovery = (kind: OpenTsdbDiscoveryTask['kind'], apiVersion: OpenTsdbApiVersion, searchType?: string) => {
    const task = (x: HttpExchange, body: ArrayBuffer, length: number): OpenTsdbDiscoveryTask => ({
      kind,
      ...(searchType !== undefined ? { searchType } : {}),
      method: x.head.method,
      apiVersion,
      query: x.head.query,
      body,
      bodyBytes: length,
      encoding: contentEncoding(x.head.headers),
      maxInflatedBytes: ctx.config.maxInflatedBytes,
    });
    const protocol: BodyRouteProtocol = {
      task,
      reply: (x, result) => {
        if (!result.ok || 'replies' in result || typeof result.body !== 'string') return toResponse(result, jsonpOf(x));
        return answerOut({ status: result.status, body: result.body }, apiVersion);
      },
      error: (x, err) => openTsdbError(err, jsonpOf(x)),
    };
    return protocol;
  };
  const discoveryGet = (protocol: BodyRouteProtocol) => (res: HttpResponse, req: HttpRequest) => {
    const x = new HttpExchange(res, readHead(req));
    void runTask(ctx, x, protocol.task(x, EMPTY_BODY, 0), protocol);
  };

  for (const [path, apiVersion] of [
    ['/api/suggest', 1],
    ['/api/v1/suggest', 1],
    ['/suggest', 0],
  ] as const) {
    const protocol = discovery('opentsdb.suggest', apiVersion);
    app.get(path, discoveryGet(protocol));
    app.post(path, bodyRoute(ctx, protocol));
    app.any(path, methodRoute(apiVersion));
  }

  // /api/query: GET, POST and (refused) DELETE; src/query/opentsdb answers every method itself.
  for (const path of ['/api/query', '/api/v1/query']) {
    const protocol = discovery('opentsdb.query', 1);
    app.post(path, bodyRoute(ctx, protocol));
    app.any(path, discoveryGet(protocol));
  }

  for (const path of ['/api/search/:type', '/api/v1/search/:type']) {
    const searchRoute = (post: boolean) => (res: HttpResponse, req: HttpRequest) => {
      const protocol = discovery('opentsdb.search', 1, pathSegment(req.getParameter(0) ?? ''));
      if (post) bodyRoute(ctx, protocol)(res, req);
      else discoveryGet(protocol)(res, req);
    };
    app.get(path, searchRoute(false));
    app.post(path, searchRoute(true));
    app.any(path, (res, req) => {
      const x = new HttpExchange(res, readHead(req));
      x.respond(answerOut(errorAnswer(searchMethodError(x.head.method)!, { apiVersion: 1, query: x.head.query }), 1));
    });
  }

  // ---- constant answers (GET or POST)
  const buildInfo = strataBuildInfo(PACKAGE_VERSION);
  const constant = (apiVersion: OpenTsdbApiVersion, answer: (x: HttpExchange) => OpenTsdbAnswer) => (res: HttpResponse, req: HttpRequest) => {
    const x = new HttpExchange(res, readHead(req));
    const request = { method: x.head.method, apiVersion, query: x.head.query };
    x.respond(answerOut(isGetOrPost(x.head.method) ? answer(x) : methodNotAllowed(request), apiVersion));
  };
  const json = (apiVersion: OpenTsdbApiVersion, body: string) => constant(apiVersion, (x) => jsonAnswer(body, { apiVersion, query: x.head.query }));
  const versionJson = encodeVersion(buildInfo);
  const aggregatorsJson = encodeAggregators();
  const filtersJson = encodeFilterConfig();
  // /api/v1/version is KairosDB's (registered first); OpenTSDB clients use /api/version.
  app.any('/api/version', json(1, versionJson));
  app.any('/version', constant(0, (x) => legacyVersionAnswer(buildInfo, x.head.query.length > 0 ? `${x.head.url}?${x.head.query}` : x.head.url)));
  for (const [path, apiVersion] of [
    ['/api/aggregators', 1],
    ['/api/v1/aggregators', 1],
    ['/aggregators', 0],
  ] as const) {
    app.any(path, json(apiVersion, aggregatorsJson));
  }
  for (const path of ['/api/config/filters', '/api/v1/config/filters']) app.any(path, json(1, filtersJson));
}

/** A URL path segment as OpenTSDB sees it (percent-decoded; kept as is when malformed). */
function pathSegment(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}
