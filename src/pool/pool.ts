// The worker pool as the main thread sees it: starts N piscina workers (each claims and recovers
// one shard before it reports ready), hands them tasks with their body buffers transferred (and
// puts the bodies workers hand back on the main thread's free-list), bounds the task queue, and
// shuts them down in order (drain → close writers with a final msync → destroy). The only file
// that knows piscina on the main thread.
import * as v8 from 'node:v8';
import { BroadcastChannel } from 'node:worker_threads';
import { Piscina, transferableSymbol, valueSymbol } from 'piscina';
import { ServiceError, ServiceErrorCode } from '../errors.js';
import { IngestCoalescer, type CoalescerLimits } from './coalescer.js';
import { bodyBuffers } from './body-buffers.js';
import type { ControlMessage, IngestGroupReply, PingTask, StatsMessage, WorkerAnswer, WorkerData, WorkerResult, WorkerTask } from './messages.js';

export interface PoolOptions {
  readonly threads: number;
  readonly maxQueuedTasks: number;
  readonly workerData: Omit<WorkerData, 'locks' | 'controlChannel'>;
  /** How long to wait for workers to claim shards (recovery of big shards takes a while). */
  readonly startTimeoutMs?: number;
  /** Grouping of small ingest requests (src/pool/coalescer.ts); default: off. */
  readonly coalescing?: CoalescerLimits;
  /** Told of every task's result (the server's metrics count stored points from it). */
  readonly onResult?: (task: WorkerTask, result: WorkerResult) => void;
  /** Told of every worker's stats message (each second; the server's metrics). */
  readonly onStats?: (stats: StatsMessage) => void;
}

let channelCounter = 0;

/**
 * Old-generation headroom for the worker isolates, set before they are created (V8 reads it at
 * isolate creation; the flag is process-wide, the main isolate already exists). A worker's heap
 * stays small (~12 MB) but its young generation is large next to V8's initial old-generation
 * limit (~36 MB), so V8 kept starting a full mark-compact every ~150 ms under ingest — most of
 * them freeing nothing (12.6 → 12.2 MB): ~11 % of the server's CPU in concurrent marking on the
 * harness workload. With 128 MB of initial old space a worker runs one in the same 2 M points,
 * server CPU per point −11 %, points/s +14 % (median of 6 interleaved fresh-server runs;
 * decision 0017, docs/benchmarks.md "The first requests of a fresh server"); peak RSS +15 MiB.
 * The limit still grows and shrinks with the heap afterwards; nothing caps the heap lower than
 * before. Setting the flag again (a second pool in one process) changes nothing.
 */
const WORKER_INITIAL_OLD_SPACE_MB = 128;
function configureWorkerHeaps(): void {
  v8.setFlagsFromString(`--initial-old-space-size=${WORKER_INITIAL_OLD_SPACE_MB}`);
}

/** A task whose body buffer piscina should transfer (Piscina.move protocol). */
class MovableTask {
  constructor(
    private readonly task: WorkerTask,
    private readonly transfer: ArrayBuffer,
  ) {}

  get [transferableSymbol](): readonly ArrayBuffer[] {
    return [this.transfer];
  }

  get [valueSymbol](): WorkerTask {
    return this.task;
  }
}

export class WorkerPool {
  private readonly piscina: Piscina;
  private readonly control: BroadcastChannel;
  private readonly readyShards = new Set<number>();
  private readonly closedShards = new Set<number>();
  private readonly waiters: (() => void)[] = [];
  private stopping = false;
  /** Tasks handed to piscina and not yet settled (queued or running). */
  private activeTasks = 0;
  private readonly coalescer: IngestCoalescer;
  private flushScheduled = false;
  private readonly flushIfFree = (): void => {
    this.flushScheduled = false;
    if (this.activeTasks < this.options.threads) this.coalescer.flush();
  };

  private constructor(private readonly options: PoolOptions) {
    const controlChannel = `strata-control-${process.pid}-${++channelCounter}`;
    this.control = new BroadcastChannel(controlChannel);
    this.control.onmessage = (event: unknown) => this.onControl((event as { data: ControlMessage }).data);
    const data: WorkerData = {
      ...options.workerData,
      locks: new SharedArrayBuffer(4 * Int32Array.BYTES_PER_ELEMENT),
      controlChannel,
    };
    configureWorkerHeaps();
    this.piscina = new Piscina({
      filename: new URL('./worker.js', import.meta.url).href,
      minThreads: options.threads,
      maxThreads: options.threads,
      idleTimeout: Number.POSITIVE_INFINITY,
      maxQueue: options.maxQueuedTasks,
      concurrentTasksPerWorker: 1,
      // 'async' (Atomics.waitAsync), not piscina's default 'sync': an idle worker blocked in
      // Atomics.wait runs no timers and gets no messages, so the writer's periodic msync, the
      // compaction timer and the shutdown broadcast would all wait for the next task.
      atomics: 'async',
      workerData: data,
    });
    this.coalescer = new IngestCoalescer(options.coalescing ?? { maxPartBytes: 0, maxGroupBytes: 0, maxGroupParts: 0 }, (task, transfer) =>
      this.dispatch(task, transfer),
    );
  }

  /** Starts the workers and resolves once every one has claimed and recovered its shard. */
  static async start(options: PoolOptions): Promise<WorkerPool> {
    const pool = new WorkerPool(options);
    const timeoutMs = options.startTimeoutMs ?? 120_000;
    const deadline = Date.now() + timeoutMs;
    // piscina loads workers lazily on first use; a no-op task per thread makes each one start.
    await Promise.all(Array.from({ length: options.threads }, () => pool.piscina.run({ kind: 'ping' } satisfies PingTask).catch(() => undefined)));
    while (pool.readyShards.size < options.threads) {
      if (Date.now() > deadline) {
        await pool.piscina.destroy();
        throw new Error(`workers did not become ready within ${timeoutMs} ms (${pool.readyShards.size}/${options.threads})`);
      }
      await pool.changed(deadline - Date.now());
    }
    return pool;
  }

  get shards(): readonly number[] {
    return [...this.readyShards].sort((a, b) => a - b);
  }

  /** Tasks waiting for a worker. */
  get queuedTasks(): number {
    return this.piscina.queueSize;
  }

  /**
   * Runs `task` on some worker, transferring `transfer` (the body buffer: the caller must not
   * touch it afterwards). Rejects with ServiceError Busy when the queue is full and ShuttingDown
   * once shutdown began; other rejections are worker bugs and surface as Internal.
   */
  async run(task: WorkerTask, transfer?: ArrayBuffer): Promise<WorkerResult> {
    if (this.stopping) throw new ServiceError(ServiceErrorCode.ShuttingDown, 'Server is shutting down');
    // A small ingest request joins the pending group, which goes to a worker at the end of this
    // event-loop turn if one is free (so the requests uWS delivered in one poll travel together),
    // else as soon as one frees up (so a busy pool gathers bigger groups).
    const onResult = this.options.onResult;
    if (this.coalescer.accepts(task)) {
      const answer = this.coalescer.add(task);
      if (onResult) void answer.then((result) => onResult(task, result), () => undefined);
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(this.flushIfFree);
      }
      return answer;
    }
    if (this.piscina.queueSize >= this.options.maxQueuedTasks) {
      throw new ServiceError(ServiceErrorCode.Busy, 'Too many requests queued; retry later');
    }
    const result = (await this.dispatch(task, transfer)) as WorkerResult;
    onResult?.(task, result);
    return result;
  }

  /** Hands a task to piscina (also the coalescer's groups, which were accepted before any shutdown). */
  private async dispatch(task: WorkerTask, transfer?: ArrayBuffer): Promise<WorkerResult | IngestGroupReply | undefined> {
    this.activeTasks++;
    try {
      // The task travels as a movable envelope: piscina transfers `transfer` (the body buffer)
      // instead of copying it, and the worker receives the plain task object.
      const answer = (await this.piscina.run(transfer ? Piscina.move(new MovableTask(task, transfer)) : task)) as WorkerAnswer;
      // The worker hands an ingest body back once done with it (src/pool/body-return.ts); it came
      // in the answer's transfer list, so the worker's copy is detached and this ArrayBuffer is
      // reachable only through `answer`, which goes no further than here: the free-list is its
      // one owner (src/pool/body-buffers.ts).
      if (answer.returnedBody !== undefined) bodyBuffers.give(answer.returnedBody);
      return answer.result;
    } catch (err) {
      if (err instanceof ServiceError) throw err;
      const message = (err as Error).message ?? String(err);
      if (/queue is at limit/i.test(message)) throw new ServiceError(ServiceErrorCode.Busy, 'Too many requests queued; retry later');
      throw new ServiceError(ServiceErrorCode.Internal, message, { cause: err });
    } finally {
      this.activeTasks--;
      // A worker is free: the waiting group goes now.
      if (this.activeTasks < this.options.threads) this.coalescer.flush();
      if (this.activeTasks === 0) for (const w of this.waiters.splice(0)) w();
    }
  }

  /**
   * Stops taking tasks, waits for queued and running ones, asks every worker to close its shard
   * (final msync, LOCK released) and ends the threads.
   */
  async close(timeoutMs = 30_000): Promise<void> {
    this.stopping = true;
    const deadline = Date.now() + timeoutMs;
    while (this.activeTasks > 0 && Date.now() < deadline) await this.changed(deadline - Date.now());
    this.control.postMessage({ type: 'shutdown' } satisfies ControlMessage);
    while (this.closedShards.size < this.readyShards.size && Date.now() < deadline) {
      await this.changed(deadline - Date.now());
    }
    this.control.close();
    await this.piscina.destroy();
  }

  private onControl(message: ControlMessage): void {
    if (message.type === 'stats') {
      this.options.onStats?.(message);
      return;
    }
    if (message.type === 'ready') this.readyShards.add(message.shardId);
    else if (message.type === 'closed') this.closedShards.add(message.shardId);
    for (const w of this.waiters.splice(0)) w();
  }

  private changed(timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, Math.max(1, timeoutMs));
      this.waiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}
