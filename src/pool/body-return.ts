// Worker side of body-buffer recycling (src/pool/body-buffers.ts): the answer a worker posts back
// through piscina carries the task's result and, when the worker is done with it, the task's body
// ArrayBuffer, transferred (Piscina.move), for the main thread's free-list.
import { move, transferableSymbol, valueSymbol } from 'piscina';
import { RECYCLE_MIN_BYTES } from './body-buffers.js';
import type { IngestGroupReply, WorkerAnswer, WorkerResult, WorkerTask } from './messages.js';

/** An answer whose `returnedBody` piscina transfers instead of copying (the Piscina.move protocol). */
class AnswerWithBody {
  constructor(private readonly answer: WorkerAnswer & { readonly returnedBody: ArrayBuffer }) {}

  get [transferableSymbol](): readonly ArrayBuffer[] {
    return [this.answer.returnedBody];
  }

  get [valueSymbol](): WorkerAnswer {
    return this.answer;
  }
}

/**
 * The body buffer of a finished task that may go back to the main thread, or undefined.
 * Only ingest bodies (KairosDB, OpenTSDB put/rollup, groups of them) come back: their decoders read
 * a chunk only during write() and keep copies of what they need (the JSON tokenizer lets go of the
 * chunk in end()/reset(); batches, the series caches and staged points are copies), and nothing
 * of the task runs after it returned. An encoded body comes back only when every part was answered
 * without a failure: a zlib stream cut short (a bomb, a decoder error mid-stream) is destroyed
 * while its thread-pool work may still be reading the input, and a buffer must not be reused while
 * anything can read it; a stream that ended, or a one-call inflate, has read all of it. Buffers
 * below RECYCLE_MIN_BYTES stay (the main thread would not keep them), as does a detached one.
 */
export function returnableBody(task: WorkerTask, result: WorkerResult | IngestGroupReply | undefined): ArrayBuffer | undefined {
  if (task.kind !== 'kairos.ingest' && task.kind !== 'opentsdb.put' && task.kind !== 'opentsdb.rollup' && task.kind !== 'ingest.group') return undefined;
  const body = task.body;
  if (body.byteLength < RECYCLE_MIN_BYTES) return undefined;
  const parts = task.kind === 'ingest.group' ? task.parts : [task];
  if (parts.every((p) => p.encoding === 'identity')) return body;
  if (result === undefined || !result.ok) return undefined;
  if ('parts' in result && !result.parts.every((a) => a.ok)) return undefined;
  return body;
}

/** What the worker's piscina entry returns for `task`: the result, with the body handed back when it may be. */
export function answerFor(task: WorkerTask, result: WorkerResult | IngestGroupReply | undefined): WorkerAnswer | AnswerWithBody {
  const returnedBody = returnableBody(task, result);
  if (returnedBody === undefined) return { result };
  // Transferring detaches the body (and every view of it) on this thread as the answer is posted.
  return move(new AnswerWithBody({ result, returnedBody })) as AnswerWithBody;
}
