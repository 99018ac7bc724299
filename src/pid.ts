// Whether a process id names a live process: the one check behind every lock and scratch
// directory that records its owner's pid (credential store lock, shard locks seen by the tools,
// the warm-up's scratch shards).

/** True if a process with this pid exists (EPERM: it exists but belongs to another user). */
export function processIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
