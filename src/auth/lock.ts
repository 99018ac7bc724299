// The writers' lock of the credential store: a file created with O_EXCL that names its holder
// (`pid host`). Held only for one read-check-append, so a writer waits milliseconds. Readers never
// take it. A lock whose holder is dead (same host, no such pid) is removed; see decision 0010 for
// the one race this leaves. Never holds the lock across an await: every caller is synchronous.
import * as os from 'node:os';
import { processIsAlive, type FileSystem } from '../../engine/index.js';
import { CredentialError, CredentialErrorCode, credentialIoError } from './errors.js';

/** How long an unreadable (empty) lock may stay so before it counts as left by a crash. */
const EMPTY_LOCK_STALE_MS = 1000;
const RETRY_MS = 10;

function sleepMs(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}


interface Holder {
  readonly pid: number;
  readonly host: string;
}

export class LockFile {
  private readonly me: string;

  constructor(
    private readonly fsys: FileSystem,
    readonly filePath: string,
    private readonly waitMs: number,
    private readonly onStale: (holder: string) => void,
  ) {
    this.me = `${process.pid} ${os.hostname()}\n`;
  }

  /** Takes the lock, waiting up to `waitMs`; throws CredentialError(Locked) past that. */
  acquire(): void {
    const deadline = Date.now() + this.waitMs;
    let emptySince: number | undefined;
    for (;;) {
      if (this.tryCreate()) return;
      const raw = this.readHolder();
      const holder = raw === undefined ? undefined : parseHolder(raw);
      const now = Date.now();
      if (raw !== undefined && holder === undefined) emptySince ??= now;
      else emptySince = undefined;
      const stale =
        (holder !== undefined && holder.host === os.hostname() && (holder.pid === process.pid || !processIsAlive(holder.pid))) ||
        (emptySince !== undefined && now - emptySince >= EMPTY_LOCK_STALE_MS);
      if (stale) {
        this.onStale(raw?.trim() || '(empty)');
        this.unlinkQuietly();
        emptySince = undefined;
        continue;
      }
      if (now >= deadline) {
        throw new CredentialError(
          CredentialErrorCode.Locked,
          `the credential store is locked by ${raw?.trim() || 'another process'} (${this.filePath}); ` +
            'try again, or remove that file if no strata process is running',
        );
      }
      sleepMs(RETRY_MS);
    }
  }

  release(): void {
    this.unlinkQuietly();
  }

  private tryCreate(): boolean {
    let fd: number;
    try {
      fd = this.fsys.open(this.filePath, 'wx');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw credentialIoError(err, `creating the lock ${this.filePath}`);
    }
    try {
      this.fsys.pwrite(fd, Buffer.from(this.me), 0);
    } catch (err) {
      this.fsys.close(fd);
      this.unlinkQuietly();
      throw credentialIoError(err, `writing the lock ${this.filePath}`);
    }
    this.fsys.close(fd);
    // Someone who judged an older lock stale may have removed ours in between: check it is ours.
    return this.readHolder() === this.me;
  }

  /** The lock file's text, or undefined if there is no lock file (or it cannot be read). */
  private readHolder(): string | undefined {
    let fd: number;
    try {
      fd = this.fsys.open(this.filePath, 'r');
    } catch {
      return undefined;
    }
    try {
      const buf = Buffer.alloc(Math.min(this.fsys.sizeOf(fd), 4096));
      const n = this.fsys.pread(fd, buf, 0);
      return buf.subarray(0, n).toString('utf8');
    } catch {
      return undefined;
    } finally {
      this.fsys.close(fd);
    }
  }

  private unlinkQuietly(): void {
    try {
      this.fsys.unlink(this.filePath);
    } catch {
      // Already gone; a later writer removes a stale one.
    }
  }
}

function parseHolder(text: string): Holder | undefined {
  const m = /^(\d+) (\S+)\n$/.exec(text);
  return m ? { pid: Number(m[1]), host: m[2]! } : undefined;
}
