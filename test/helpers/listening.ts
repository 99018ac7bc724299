// The server's readiness as a spawner sees it: the first stdout line,
// {"event":"listening","http":…,"telnet":…[,"onenet":…]}. One reader for every place that spawns
// dist/src/main.js (the vitest helper, the load generator's spawnServer, the crash loop). No
// vitest import: CLI scripts use it too.
import type { ChildProcess } from 'node:child_process';

export interface ListeningPorts {
  readonly http: number;
  readonly telnet: number;
  /** The OneNET firmware port, when started with --onenet-port. */
  readonly onenet?: number;
}

/**
 * Resolves with the ports of the child's listening line; rejects if the first line is anything
 * else, or if the child exits first (with `stderr()` in the message). Stdout keeps flowing after
 * the line (nothing else is read from it).
 */
export function listeningPorts(child: ChildProcess, exited: Promise<unknown>, stderr: () => string): Promise<ListeningPorts> {
  return new Promise((resolve, reject) => {
    let out = '';
    const onData = (d: Buffer): void => {
      out += d.toString();
      const nl = out.indexOf('\n');
      if (nl < 0) return;
      child.stdout!.off('data', onData);
      child.stdout!.resume();
      try {
        const line = JSON.parse(out.slice(0, nl)) as { event?: string; http?: number; telnet?: number; onenet?: number };
        if (line.event !== 'listening' || typeof line.http !== 'number' || typeof line.telnet !== 'number') throw new Error(`unexpected first line ${out.slice(0, nl)}`);
        resolve({ http: line.http, telnet: line.telnet, ...(typeof line.onenet === 'number' ? { onenet: line.onenet } : {}) });
      } catch (e) {
        reject(e as Error);
      }
    };
    child.stdout!.on('data', onData);
    void exited.then((code) => reject(new Error(`server exited${typeof code === 'number' ? ` with ${code}` : ''} before listening:\n${stderr()}`)));
  });
}
