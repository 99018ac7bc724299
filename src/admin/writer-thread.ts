// Entry of the admin API's writer thread (src/admin/writer.ts starts it): performs credential
// changes one at a time on its own CredentialStore of the server's data directory, so the lock
// wait (up to 5 s) and the fsync of every change never block the main thread's event loop
// (docs/decisions/0011-admin-api.md). Replies with the change's result or its error code; never logs a secret.
import { parentPort, workerData } from 'node:worker_threads';
import { CredentialError, CredentialStore } from '../auth/index.js';
import { log } from '../log.js';
import { applyChange, type AdminChange } from './changes.js';
import type { WriterReply, WriterRequest } from './writer.js';

const { dataDir } = workerData as { dataDir: string };
let store: CredentialStore | undefined;

function answer(request: WriterRequest): WriterReply {
  try {
    // A failed open is reported by the main thread's store already; every change re-reads the
    // whole log under the lock anyway, so damage found now or later fails the change.
    store ??= CredentialStore.openFailingClosed(dataDir, {
      log: (e) => {
        if (e.event !== 'auth.open-failed') log(e);
      },
    });
    return { id: request.id, ok: true, value: applyChange(store, request.change) };
  } catch (err) {
    if (err instanceof CredentialError) return { id: request.id, ok: false, code: err.code, message: err.message };
    log({ level: 'error', event: 'admin.change-failed', op: request.change.op, message: (err as Error)?.stack ?? String(err) });
    return { id: request.id, ok: false, code: undefined, message: 'internal error; see the server log' };
  }
}

parentPort!.on('message', (request: { id: number; change: AdminChange }) => {
  parentPort!.postMessage(answer(request));
});
