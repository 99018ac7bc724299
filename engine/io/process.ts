// Whether a process id names a live process: the one check behind every lock and scratch
// directory that records its owner's pid (shard LOCKs here; the server's credential store lock,
// `strata inspect` and the warm-up's scratch shards through the engine's index).

/** True if a process with this pid exists (EPERM: it exists but belongs to another user). */
export function processIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
