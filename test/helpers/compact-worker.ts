// Child process of the SIGKILL test (test/engine/compact/crash.test.ts), run compiled from dist/:
// compacts a shard, announcing each disk-changing file operation on stdout ("step <op> <file>")
// and waiting for a byte on stdin before doing it, so the parent can kill it exactly there.
// argv: <shardDir> <nowMs> <partitionMs> <tombstones as JSON>
import * as fs from 'node:fs';
import * as path from 'node:path';
import { NodeFileSystem, ShardWriter, type Tombstone } from '../../engine/index.js';

const [shardDir, nowText, partitionText, tombstonesJson] = process.argv.slice(2);
const pause = new Int32Array(new SharedArrayBuffer(4));
let armed = false;

/** Announces a step and blocks until the parent says go (one byte) or closes stdin. */
function announce(op: string, target: string): void {
  if (!armed) return;
  fs.writeSync(1, `step ${op} ${target}\n`);
  const go = new Uint8Array(1);
  for (;;) {
    try {
      if (fs.readSync(0, go, 0, 1, null) === 0) armed = false; // stdin closed: run freely
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err;
      Atomics.wait(pause, 0, 0, 1);
    }
  }
}

class AnnouncingFileSystem extends NodeFileSystem {
  override pwrite(fd: number, src: Uint8Array, position: number): void {
    announce('pwrite', `fd ${fd}`);
    super.pwrite(fd, src, position);
  }
  override fsync(fd: number): void {
    announce('fsync', `fd ${fd}`);
    super.fsync(fd);
  }
  override fsyncDir(dirPath: string): void {
    announce('fsyncDir', path.basename(dirPath));
    super.fsyncDir(dirPath);
  }
  override rename(from: string, to: string): void {
    announce('rename', path.basename(from));
    super.rename(from, to);
  }
  override unlink(filePath: string): void {
    announce('unlink', path.basename(filePath));
    super.unlink(filePath);
  }
}

const nowMs = Number(nowText);
const writer = ShardWriter.open({ dir: shardDir!, shardId: 0, segmentBytes: 4096, syncPolicy: 'never', nowMs: () => nowMs, fs: new AnnouncingFileSystem() });
armed = true;
writer.compact({ tombstones: JSON.parse(tombstonesJson!) as Tombstone[], partitionMs: Number(partitionText) });
armed = false;
writer.close();
