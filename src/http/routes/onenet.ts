// OneNET routes (protocols.md §4): `POST|GET /devices/{id}/datapoints`, `GET /devices/{id}/datastreams`,
// `POST /bindata`, `GET /bindata/{index}`. The api-key is checked against the device here, on the
// main thread, before a body is read or a task queued (src/protocols/onenet/auth.ts): a refused
// request reads nothing and writes nothing. Every answer is HTTP 200 in OneNET's {errno,error}
// envelope (src/protocols/onenet/envelope.ts). No decoding or formatting here.
import type { HttpRequest, HttpResponse, TemplatedApp } from 'uWebSockets.js';
import type { OneNetPermission } from '../../auth/index.js';
import { ServiceError, ServiceErrorCode } from '../../errors.js';
import type { OneNetTask, WorkerResult } from '../../pool/messages.js';
import { API_KEY_HEADER, grantCovers, presentedKey } from '../../protocols/onenet/auth.js';
import { indexReadings } from '../../protocols/onenet/bindata.js';
import { MAX_DATASTREAM_ID_CHARS } from '../../protocols/onenet/datapoints.js';
import { AUTH_FAILED_BODY, ONENET_CONTENT_TYPE, ONENET_STATUS, errorBody, OneNetErrno, parameterRequiredBody, serviceErrorBody } from '../../protocols/onenet/envelope.js';
import { contentEncoding, runTask } from '../body-route.js';
import { HttpExchange, readHead, receiveBody, type ResponseOut } from '../request.js';
import type { ServerContext } from '../server.js';

const JSON_TYPE: readonly [string, string] = ['Content-Type', ONENET_CONTENT_TYPE];
const EMPTY_BODY = new ArrayBuffer(0);

function envelope(body: string): ResponseOut {
  return { status: ONENET_STATUS, headers: [JSON_TYPE], body };
}

function failure(err: unknown): ResponseOut {
  const service = err instanceof ServiceError ? err : new ServiceError(ServiceErrorCode.Internal, (err as Error)?.message ?? String(err));
  const out = envelope(serviceErrorBody(service));
  if (service.code === ServiceErrorCode.Busy || service.code === ServiceErrorCode.ShuttingDown) return { ...out, headers: [JSON_TYPE, ['Retry-After', '1']] };
  return out;
}

function reply(result: WorkerResult, binary = false): ResponseOut {
  if ('replies' in result) return failure(new ServiceError(ServiceErrorCode.Internal, 'unexpected worker reply'));
  if (!result.ok) return failure(new ServiceError(result.code, result.messages));
  return { status: ONENET_STATUS, headers: [binary ? ['Content-Type', 'application/octet-stream'] : JSON_TYPE], body: result.body };
}

/** Whether every byte is JSON whitespace (an empty body in all but name). */
function blank(body: ArrayBuffer, length: number): boolean {
  const view = new Uint8Array(body, 0, length);
  for (const b of view) if (b !== 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0d) return false;
  return true;
}

/** A path parameter percent-decoded (kept as is when malformed). */
function decoded(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}

export function registerOneNetRoutes(app: TemplatedApp, ctx: ServerContext): void {
  const creds = ctx.credentials;
  /** Whether the request's api-key covers `permission` on the device `deviceId`. */
  const authorized = (x: HttpExchange, deviceId: string, permission: OneNetPermission): boolean => {
    const grant = creds.authenticateOneNetKey(presentedKey(x.head.headers.get(API_KEY_HEADER)));
    return grantCovers(grant, deviceId, creds.device(deviceId)?.product, permission);
  };

  /**
   * Reads the body (auth already passed), refuses a missing one with errno 3 (an empty body, or for
   * datapoints one of whitespace only: binary data may be whitespace), runs the task.
   */
  const withBody = (x: HttpExchange, maxBodyBytes: number, binary: boolean, task: (body: ArrayBuffer, length: number) => OneNetTask): void => {
    receiveBody(x, { maxBodyBytes, budget: ctx.budget }).then(
      async (body) => {
        try {
          if (body.length === 0 || (!binary && blank(body.buffer, body.length))) x.respond(envelope(parameterRequiredBody('body')));
          else x.respond(reply(await ctx.pool.run(task(body.buffer, body.length), body.buffer)));
        } catch (err) {
          x.respond(failure(err));
        } finally {
          ctx.budget.release(body.reservedBytes);
        }
      },
      (err: unknown) => {
        if (err !== undefined) x.respond(failure(err)); // undefined: the client went away
      },
    );
  };

  const bodyless = (kind: OneNetTask['kind'], x: HttpExchange, deviceId: string, extra: Partial<OneNetTask> = {}, binary = false): void => {
    const task: OneNetTask = { kind, deviceId, query: x.head.query, body: EMPTY_BODY, bodyBytes: 0, encoding: 'identity', maxInflatedBytes: 0, ...extra };
    void runTask(ctx, x, task, { reply: (_x, result) => reply(result, binary), error: (_x, err) => failure(err) });
  };

  app.post('/devices/:id/datapoints', (res: HttpResponse, req: HttpRequest) => {
    const deviceId = decoded(req.getParameter(0) ?? '');
    const x = new HttpExchange(res, readHead(req));
    if (!authorized(x, deviceId, 'write')) return x.respond(envelope(AUTH_FAILED_BODY));
    withBody(x, ctx.config.maxBodyBytes, false, (body, length) => ({
      kind: 'onenet.upload',
      deviceId,
      query: x.head.query,
      body,
      bodyBytes: length,
      encoding: contentEncoding(x.head.headers),
      maxInflatedBytes: ctx.config.maxInflatedBytes,
    }));
  });
  app.get('/devices/:id/datapoints', (res, req) => {
    const deviceId = decoded(req.getParameter(0) ?? '');
    const x = new HttpExchange(res, readHead(req));
    if (!authorized(x, deviceId, 'read')) return x.respond(envelope(AUTH_FAILED_BODY));
    bodyless('onenet.datapoints', x, deviceId);
  });
  app.get('/devices/:id/datastreams', (res, req) => {
    const deviceId = decoded(req.getParameter(0) ?? '');
    const x = new HttpExchange(res, readHead(req));
    if (!authorized(x, deviceId, 'read')) return x.respond(envelope(AUTH_FAILED_BODY));
    bodyless('onenet.datastreams', x, deviceId);
  });

  // Binary data: allotted times only grow within this process, so two uploads never share an
  // index here; the worker moves on past a millisecond already taken (e.g. after a clock step back).
  let lastBinaryMs = 0;
  app.post('/bindata', (res, req) => {
    const x = new HttpExchange(res, readHead(req));
    const params = new URLSearchParams(x.head.query);
    const deviceId = params.get('device_id') ?? '';
    const datastreamId = params.get('datastream_id') ?? '';
    if (deviceId === '') return x.respond(envelope(parameterRequiredBody('device_id')));
    if (!authorized(x, deviceId, 'write')) return x.respond(envelope(AUTH_FAILED_BODY));
    if (datastreamId === '') return x.respond(envelope(parameterRequiredBody('datastream_id')));
    if (datastreamId.length > MAX_DATASTREAM_ID_CHARS) {
      return x.respond(envelope(errorBody(OneNetErrno.InvalidParameter, `invalid parameter: datastream_id longer than ${MAX_DATASTREAM_ID_CHARS} characters`)));
    }
    const atMs = Math.max(Date.now(), lastBinaryMs + 1);
    lastBinaryMs = atMs;
    withBody(x, ctx.config.onenetMaxBinaryBytes, true, (body, length) => ({
      kind: 'onenet.bindata',
      deviceId,
      datastreamId,
      desc: params.get('desc') ?? '',
      atMs,
      query: x.head.query,
      body,
      bodyBytes: length,
      encoding: 'identity', // the bytes are the payload, whatever they are
      maxInflatedBytes: ctx.config.onenetMaxBinaryBytes,
    }));
  });
  app.get('/bindata/:index', (res, req) => {
    const index = decoded(req.getParameter(0) ?? '');
    const x = new HttpExchange(res, readHead(req));
    const grant = creds.authenticateOneNetKey(presentedKey(x.head.headers.get(API_KEY_HEADER)));
    const candidates = indexReadings(index).filter((r) => grantCovers(grant, r.deviceId, creds.device(r.deviceId)?.product, 'read'));
    if (candidates.length === 0) return x.respond(envelope(AUTH_FAILED_BODY));
    bodyless('onenet.bindata-read', x, candidates[0]!.deviceId, { candidates }, true);
  });

  // Other methods and unknown sub-resources: OneNET's envelope rather than another protocol's 404.
  const unsupported = (res: HttpResponse, req: HttpRequest): void => {
    const x = new HttpExchange(res, readHead(req));
    x.respond(envelope(errorBody(OneNetErrno.InvalidParameter, `invalid parameter: ${x.head.method} ${x.head.url} is not supported`)));
  };
  for (const path of ['/devices/:id/datapoints', '/devices/:id/datastreams', '/devices/*', '/bindata', '/bindata/*']) app.any(path, unsupported);
}
