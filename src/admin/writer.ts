// The main thread's side of the admin API's writer thread (writer-thread.ts): sends one credential
// change at a time and resolves with its result. The thread starts on the first change and is
// started again after it dies (its pending changes fail with Internal: the client may retry; the
// store's log says whether the change landed). Unref'd: it never keeps the process alive.
import { Worker } from 'node:worker_threads';
import type { CredentialErrorCode } from '../auth/index.js';
import type { AdminChange } from './changes.js';
import { AdminError, AdminErrorCode } from './envelope.js';

export interface WriterRequest {
  readonly id: number;
  readonly change: AdminChange;
}
/** `code` undefined: not a CredentialError (a bug); the thread logged it. */
export type WriterReply =
  | { readonly id: number; readonly ok: true; readonly value: unknown }
  | { readonly id: number; readonly ok: false; readonly code: CredentialErrorCode | undefined; readonly message: string };

interface Pending {
  resolve(value: unknown): void;
  reject(err: AdminError): void;
}

export class CredentialWriter {
  private worker: Worker | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();

  constructor(private readonly dataDir: string) {}

  /** Performs `change` off the main thread. Rejects with AdminError carrying the store's code. */
  run(change: AdminChange): Promise<unknown> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.thread().postMessage({ id, change } satisfies WriterRequest);
    });
  }

  /** Stops the thread; pending changes fail. */
  async close(): Promise<void> {
    const w = this.worker;
    this.worker = undefined;
    if (w) await w.terminate();
  }

  private thread(): Worker {
    if (this.worker) return this.worker;
    const w = new Worker(new URL('./writer-thread.js', import.meta.url), { workerData: { dataDir: this.dataDir } });
    w.unref();
    w.on('message', (reply: WriterReply) => {
      const p = this.pending.get(reply.id);
      if (!p) return;
      this.pending.delete(reply.id);
      if (reply.ok) p.resolve(reply.value);
      else p.reject(new AdminError(reply.code ?? AdminErrorCode.Internal, reply.message));
    });
    const lost = (why: string): void => {
      if (this.worker === w) this.worker = undefined;
      for (const p of this.pending.values()) p.reject(new AdminError(AdminErrorCode.Internal, `the credential writer thread ${why}; check the list before retrying`));
      this.pending.clear();
    };
    w.on('error', (err) => lost(`failed (${err.message})`));
    w.on('exit', (code) => lost(`exited (${code})`));
    this.worker = w;
    return w;
  }
}
