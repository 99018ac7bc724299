// The fs facade: every file operation of the engine goes through a `FileSystem`, so tests can
// inject short writes, ENOSPC, EIO and fsync/msync failures (FaultyFileSystem) the way QuestDB's
// FilesFacade does. Synchronous on purpose: a shard has one writer thread and its appends must be
// in the mapping before `append` returns. Never imported by src/ at run time except through engine/.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { mapShared, syncMapped } from './mmap.js';

export interface FileSystem {
  /** Opens with Node flags ('r', 'r+', 'wx', …); returns a file descriptor. */
  open(filePath: string, flags: string): number;
  close(fd: number): void;
  /** Reads up to dest.length bytes at `position`; returns bytes read (short at end of file). */
  pread(fd: number, dest: Uint8Array, position: number): number;
  /** Writes all of `src` at `position` or throws (a short write is retried until done or error). */
  pwrite(fd: number, src: Uint8Array, position: number): void;
  fsync(fd: number): void;
  ftruncate(fd: number, lengthBytes: number): void;
  sizeOf(fd: number): number;
  rename(from: string, to: string): void;
  unlink(filePath: string): void;
  readdir(dirPath: string): string[];
  mkdirp(dirPath: string): void;
  exists(filePath: string): boolean;
  /** fsyncs a directory so renames and creations in it are durable. */
  fsyncDir(dirPath: string): void;
  /** Maps the first `lengthBytes` of `fd` shared read-write (see io/mmap.ts). */
  map(fd: number, lengthBytes: number): Buffer;
  /** msync of a byte range of a mapping; blocks until durable. */
  msync(mapping: Buffer, offsetBytes: number, lengthBytes: number): void;
}

/** The real thing: node:fs plus the mmap binding. */
export class NodeFileSystem implements FileSystem {
  open(filePath: string, flags: string): number {
    return fs.openSync(filePath, flags);
  }
  close(fd: number): void {
    fs.closeSync(fd);
  }
  pread(fd: number, dest: Uint8Array, position: number): number {
    let done = 0;
    while (done < dest.length) {
      const n = fs.readSync(fd, dest, done, dest.length - done, position + done);
      if (n === 0) break;
      done += n;
    }
    return done;
  }
  pwrite(fd: number, src: Uint8Array, position: number): void {
    let done = 0;
    while (done < src.length) {
      done += fs.writeSync(fd, src, done, src.length - done, position + done);
    }
  }
  fsync(fd: number): void {
    fs.fsyncSync(fd);
  }
  ftruncate(fd: number, lengthBytes: number): void {
    fs.ftruncateSync(fd, lengthBytes);
  }
  sizeOf(fd: number): number {
    return fs.fstatSync(fd).size;
  }
  rename(from: string, to: string): void {
    fs.renameSync(from, to);
  }
  unlink(filePath: string): void {
    fs.unlinkSync(filePath);
  }
  readdir(dirPath: string): string[] {
    return fs.readdirSync(dirPath);
  }
  mkdirp(dirPath: string): void {
    fs.mkdirSync(dirPath, { recursive: true });
  }
  exists(filePath: string): boolean {
    return fs.existsSync(filePath);
  }
  fsyncDir(dirPath: string): void {
    const fd = fs.openSync(dirPath, 'r');
    try {
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  }
  map(fd: number, lengthBytes: number): Buffer {
    return mapShared(fd, lengthBytes);
  }
  msync(mapping: Buffer, offsetBytes: number, lengthBytes: number): void {
    syncMapped(mapping, offsetBytes, lengthBytes);
  }
}

export type FaultOp = 'open' | 'pwrite' | 'fsync' | 'msync' | 'pread' | 'rename' | 'unlink' | 'ftruncate' | 'map';

/** One injected fault: which operation, on which paths, how it fails, and how many times. */
export interface FaultRule {
  readonly op: FaultOp;
  /** Only paths containing this substring (for msync: the mapped file's path). */
  readonly pathIncludes?: string;
  /** errno code to throw, e.g. 'ENOSPC', 'EIO'. */
  readonly errno?: string;
  /** pwrite only: write this many bytes of the request, then fail with `errno` (a torn write). */
  readonly shortWriteBytes?: number;
  /** How many matching calls fail; Infinity until `clear()`. Default 1. */
  times?: number;
  /** How many matching calls succeed before the first failure (fail the n-th op on a file). Default 0. */
  skip?: number;
}

function systemError(code: string, op: string, filePath: string): NodeJS.ErrnoException {
  const err: NodeJS.ErrnoException = new Error(`${code}: injected fault, ${op} '${filePath}'`);
  err.code = code;
  err.syscall = op;
  err.path = filePath;
  return err;
}

/**
 * A FileSystem that delegates to another and fails the calls that match its rules. Tracks which
 * path each fd and mapping belongs to so rules can name files. For tests and fault drills only.
 */
export class FaultyFileSystem implements FileSystem {
  private readonly rules: FaultRule[] = [];
  private readonly fdPaths = new Map<number, string>();
  private readonly mappingPaths = new WeakMap<Buffer, string>();
  /** Count of faults actually raised, per op, for test assertions and reports. */
  readonly injected = new Map<FaultOp, number>();
  /**
   * Called before every checked operation, before the rules; may throw to make the operation
   * fail without happening (crash drills number the operations this way).
   */
  observe: ((op: FaultOp, filePath: string) => void) | undefined;

  constructor(private readonly base: FileSystem = new NodeFileSystem()) {}

  inject(rule: FaultRule): void {
    this.rules.push({ times: 1, ...rule });
  }

  clear(): void {
    this.rules.length = 0;
  }

  private match(op: FaultOp, filePath: string): FaultRule | undefined {
    this.observe?.(op, filePath);
    for (const rule of this.rules) {
      if (rule.op !== op || (rule.times ?? 1) <= 0) continue;
      if (rule.pathIncludes !== undefined && !filePath.includes(rule.pathIncludes)) continue;
      if ((rule.skip ?? 0) > 0) {
        rule.skip = rule.skip! - 1;
        continue;
      }
      rule.times = (rule.times ?? 1) - 1;
      this.injected.set(op, (this.injected.get(op) ?? 0) + 1);
      return rule;
    }
    return undefined;
  }

  private check(op: FaultOp, filePath: string): void {
    const rule = this.match(op, filePath);
    if (rule) throw systemError(rule.errno ?? 'EIO', op, filePath);
  }

  private pathOf(fd: number): string {
    return this.fdPaths.get(fd) ?? `fd:${fd}`;
  }

  open(filePath: string, flags: string): number {
    this.check('open', filePath);
    const fd = this.base.open(filePath, flags);
    this.fdPaths.set(fd, filePath);
    return fd;
  }
  close(fd: number): void {
    this.fdPaths.delete(fd);
    this.base.close(fd);
  }
  pread(fd: number, dest: Uint8Array, position: number): number {
    this.check('pread', this.pathOf(fd));
    return this.base.pread(fd, dest, position);
  }
  pwrite(fd: number, src: Uint8Array, position: number): void {
    const filePath = this.pathOf(fd);
    const rule = this.match('pwrite', filePath);
    if (rule) {
      const torn = Math.min(rule.shortWriteBytes ?? 0, src.length);
      if (torn > 0) this.base.pwrite(fd, src.subarray(0, torn), position);
      throw systemError(rule.errno ?? 'EIO', 'pwrite', filePath);
    }
    this.base.pwrite(fd, src, position);
  }
  fsync(fd: number): void {
    this.check('fsync', this.pathOf(fd));
    this.base.fsync(fd);
  }
  ftruncate(fd: number, lengthBytes: number): void {
    this.check('ftruncate', this.pathOf(fd));
    this.base.ftruncate(fd, lengthBytes);
  }
  sizeOf(fd: number): number {
    return this.base.sizeOf(fd);
  }
  rename(from: string, to: string): void {
    this.check('rename', from);
    this.base.rename(from, to);
  }
  unlink(filePath: string): void {
    this.check('unlink', filePath);
    this.base.unlink(filePath);
  }
  readdir(dirPath: string): string[] {
    return this.base.readdir(dirPath);
  }
  mkdirp(dirPath: string): void {
    this.base.mkdirp(dirPath);
  }
  exists(filePath: string): boolean {
    return this.base.exists(filePath);
  }
  fsyncDir(dirPath: string): void {
    this.check('fsync', dirPath);
    this.base.fsyncDir(dirPath);
  }
  map(fd: number, lengthBytes: number): Buffer {
    const filePath = this.pathOf(fd);
    this.check('map', filePath);
    const mapping = this.base.map(fd, lengthBytes);
    this.mappingPaths.set(mapping, filePath);
    return mapping;
  }
  msync(mapping: Buffer, offsetBytes: number, lengthBytes: number): void {
    this.check('msync', this.mappingPaths.get(mapping) ?? 'mapping');
    this.base.msync(mapping, offsetBytes, lengthBytes);
  }
}

/**
 * Writes a small file atomically and durably: temp file, fsync, rename over the target, fsync the
 * directory. After a crash the target holds either the old or the new bytes, never a mix.
 */
export function writeFileAtomic(fsys: FileSystem, filePath: string, bytes: Uint8Array): void {
  const tmp = `${filePath}.tmp`;
  const fd = fsys.open(tmp, 'w');
  try {
    fsys.pwrite(fd, bytes, 0);
    fsys.fsync(fd);
  } finally {
    fsys.close(fd);
  }
  fsys.rename(tmp, filePath);
  fsys.fsyncDir(path.dirname(filePath));
}

/** Reads a whole file through the facade. */
export function readWholeFile(fsys: FileSystem, filePath: string): Uint8Array {
  const fd = fsys.open(filePath, 'r');
  try {
    const size = fsys.sizeOf(fd);
    const out = new Uint8Array(size);
    const n = fsys.pread(fd, out, 0);
    return n === size ? out : out.subarray(0, n);
  } finally {
    fsys.close(fd);
  }
}
