// The one flow every body-carrying route shares: read the body under the wire limit and the
// in-flight budget, run a worker task with the body transferred, answer, and release the
// reservation only after the answer is written. Protocol routes supply the task and the envelope.
import type { HttpRequest, HttpResponse } from 'uWebSockets.js';
import type { BodyEncoding, WorkerResult, WorkerTask } from '../pool/messages.js';
import { HttpExchange, readHead, receiveBody, type ResponseOut } from './request.js';
import type { ServerContext } from './server.js';

export interface BodyRouteProtocol {
  /** The task for this request; `body` is transferred to the worker with it. */
  task(x: HttpExchange, body: ArrayBuffer, length: number): WorkerTask;
  /** The worker's answer in the protocol's shape. */
  reply(x: HttpExchange, result: WorkerResult): ResponseOut;
  /** Any failure (limits, busy, worker errors) in the protocol's envelope. */
  error(x: HttpExchange, err: unknown): ResponseOut;
}

export function bodyRoute(ctx: ServerContext, protocol: BodyRouteProtocol): (res: HttpResponse, req: HttpRequest) => void {
  return (res, req) => {
    const x = new HttpExchange(res, readHead(req));
    receiveBody(x, { maxBodyBytes: ctx.config.maxBodyBytes, budget: ctx.budget }).then(
      async (body) => {
        try {
          x.respond(protocol.reply(x, await ctx.pool.run(protocol.task(x, body.buffer, body.length), body.buffer)));
        } catch (err) {
          x.respond(protocol.error(x, err));
        } finally {
          ctx.budget.release(body.reservedBytes);
        }
      },
      (err: unknown) => {
        if (err !== undefined) x.respond(protocol.error(x, err)); // undefined: the client aborted
      },
    );
  };
}

/**
 * Runs a task whose input is already in hand (no body to read: listings, GET requests) and answers
 * in the protocol's shape; `transfer` (if any) moves to the worker with the task.
 */
export async function runTask(
  ctx: ServerContext,
  x: HttpExchange,
  task: WorkerTask,
  protocol: Pick<BodyRouteProtocol, 'reply' | 'error'>,
  transfer?: ArrayBuffer,
): Promise<void> {
  try {
    x.respond(protocol.reply(x, await ctx.pool.run(task, transfer)));
  } catch (err) {
    x.respond(protocol.error(x, err));
  }
}

/** The body's Content-Encoding as a worker understands it; anything else is identity. */
export function contentEncoding(headers: ReadonlyMap<string, string>): BodyEncoding {
  const ce = (headers.get('content-encoding') ?? '').trim().toLowerCase();
  return ce === 'gzip' || ce === 'x-gzip' ? 'gzip' : ce === 'deflate' ? 'deflate' : 'identity';
}
