// Group commit for small ingest requests (issue 6, "small writes"; decision 0014). A small KairosDB
// or OpenTSDB ingest request joins the pending group; the pool sends the group at the end of the
// event-loop turn if a worker is free, else when one frees up. The worker decodes the parts one by
// one exactly as separate tasks (each gets its own answer) and appends their points together, so
// N small requests cost one task hand-off each way and one block instead of N. A request alone in
// its group goes as its own task with its own buffer (no copy); bodies are copied into a shared
// buffer only once a second part joins.
import { ServiceError, ServiceErrorCode } from '../errors.js';
import type { CoalescibleTask, IngestGroupReply, IngestGroupTask, WorkerResult, WorkerTask } from './messages.js';

export interface CoalescerLimits {
  /** Bodies of up to this many bytes (as received, before inflation) may be grouped; 0 = never. */
  readonly maxPartBytes: number;
  /** A group is dispatched at once (even to the queue) when its bodies reach this many bytes… */
  readonly maxGroupBytes: number;
  /** …or this many parts. */
  readonly maxGroupParts: number;
}

/** Runs a task on the pool; rejections are ServiceErrors. */
export type GroupDispatch = (task: WorkerTask, transfer: ArrayBuffer) => Promise<WorkerResult | IngestGroupReply | undefined>;

interface PendingPart {
  readonly task: CoalescibleTask;
  /** Where the body starts in the group buffer; −1 while the part is alone (its own buffer). */
  offset: number;
  readonly resolve: (result: WorkerResult) => void;
  readonly reject: (err: unknown) => void;
}

/** OpenTSDB's `sync` and `sync_timeout` need their own msync outcome per request: never grouped. */
const OPENTSDB_SYNC_PARAM = /(?:^|&)sync(?:_timeout)?(?:[=&]|$)/;

/** First size of a group's buffer; it doubles as parts arrive (a copy of what came before). */
const INITIAL_GROUP_BYTES = 64 * 1024;

export class IngestCoalescer {
  private parts: PendingPart[] = [];
  private buffer = new Uint8Array(0);
  private usedBytes = 0;

  constructor(
    private readonly limits: CoalescerLimits,
    private readonly dispatch: GroupDispatch,
  ) {}

  /** Whether `task` may wait in a group: a small ingest body whose answer needs no msync of its own. */
  accepts(task: WorkerTask): task is CoalescibleTask {
    if (this.limits.maxPartBytes <= 0) return false;
    if (task.kind === 'kairos.ingest') return task.bodyBytes <= this.limits.maxPartBytes;
    if (task.kind === 'opentsdb.put' || task.kind === 'opentsdb.rollup') {
      return task.bodyBytes <= this.limits.maxPartBytes && !OPENTSDB_SYNC_PARAM.test(task.query);
    }
    return false;
  }

  /** Parts are waiting for a worker. */
  get pending(): boolean {
    return this.parts.length > 0;
  }

  /**
   * Adds the task to the pending group and resolves with the part's own answer; the task's body
   * buffer then belongs to the group (as after a transfer). Dispatches the group at once when it
   * is full.
   */
  add(task: CoalescibleTask): Promise<WorkerResult> {
    const answer = new Promise<WorkerResult>((resolve, reject) => this.parts.push({ task, offset: -1, resolve, reject }));
    // Copied only when grouped: the first part joins the buffer when the second arrives.
    const n = this.parts.length;
    if (n === 2) this.parts[0]!.offset = this.copyIn(this.parts[0]!.task);
    if (n >= 2) this.parts[n - 1]!.offset = this.copyIn(task);
    if (this.usedBytes >= this.limits.maxGroupBytes || this.parts.length >= this.limits.maxGroupParts) this.flush();
    return answer;
  }

  /** Appends the task's body to the group buffer; returns where it starts. */
  private copyIn(task: CoalescibleTask): number {
    const bytes = new Uint8Array(task.body, task.bodyOffset ?? 0, task.bodyBytes);
    if (this.usedBytes + bytes.length > this.buffer.length) {
      const grown = new Uint8Array(Math.max(INITIAL_GROUP_BYTES, 2 * this.buffer.length, this.usedBytes + bytes.length));
      grown.set(this.buffer.subarray(0, this.usedBytes));
      this.buffer = grown;
    }
    const offset = this.usedBytes;
    this.buffer.set(bytes, offset);
    this.usedBytes += bytes.length;
    return offset;
  }

  /** Sends the pending parts to the pool as one task (a lone part as its own task). */
  flush(): void {
    const parts = this.parts;
    if (parts.length === 0) return;
    this.parts = [];
    if (parts.length === 1) {
      const only = parts[0]!;
      this.dispatch(only.task, only.task.body).then(
        (result) => only.resolve(result as WorkerResult),
        (err: unknown) => only.reject(err),
      );
      return;
    }
    // The group's buffer moves to the worker as is (transferred, not copied); the next group
    // starts a new one.
    const body = this.buffer.buffer as ArrayBuffer;
    this.buffer = new Uint8Array(0);
    this.usedBytes = 0;
    const tasks = parts.map((p): CoalescibleTask => ({ ...p.task, body, bodyOffset: p.offset }));
    const group: IngestGroupTask = { kind: 'ingest.group', body, parts: tasks };
    this.dispatch(group, body).then(
      (result) => {
        if (result !== undefined && result.ok && 'parts' in result && result.parts.length === parts.length) {
          parts.forEach((p, i) => p.resolve(result.parts[i]!));
        } else if (result !== undefined && !result.ok) {
          for (const p of parts) p.resolve(result); // the whole group failed in the worker
        } else {
          const err = new ServiceError(ServiceErrorCode.Internal, 'worker answered an ingest group without its parts');
          for (const p of parts) p.reject(err);
        }
      },
      (err: unknown) => {
        for (const p of parts) p.reject(err);
      },
    );
  }
}
