// A model of a disk under power loss for engine-level tests (docs/guarantees.md §2). The engine
// does all its file work through the FileSystem facade (engine/io/fs.ts); a SimulatedDisk hands
// out facades ("processes") that do the real operations on a real directory — which plays the
// page cache: what every process sees, and what a SIGKILL leaves — and record what a power loss
// would keep:
// - file data: the bytes an fsync(fd) saw (the whole file, its size) and the ranges an msync
//   wrote (from the mapping, at the moment of the msync); nothing else is promised;
// - directory entries (creations by open, renames, unlinks): durable once the directory they
//   touch is fsynced.
// `powerLoss` builds a new directory holding what survives: the durable bytes of each file, plus
// each page written since its last sync with probability ½ (the kernel may have written it back
// on its own), the durable or the current size (½ each), and the directory operations that were
// fsynced plus a random prefix of the rest (a journal commits them in order). Directories
// themselves (mkdirp) are taken as durable. The real fsync/msync calls are left out: the real
// directory is only the page cache here, and the model records what they would make durable. A process can be killed: every later call through
// it throws, so a group commit scheduled before the kill never syncs.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { NodeFileSystem, type FileSystem } from '../../engine/index.js';

const PAGE_BYTES = 4096;

interface FileState {
  /** Bytes a power loss keeps for sure (their length is the durable size). */
  durable: Uint8Array;
  /** The file's current name, undefined once unlinked (or replaced by a rename). */
  livePath: string | undefined;
}

type DirOp =
  | { readonly kind: 'create'; readonly path: string; readonly id: number; durable: boolean }
  | { readonly kind: 'rename'; readonly from: string; readonly to: string; durable: boolean }
  | { readonly kind: 'unlink'; readonly path: string; durable: boolean };

export class SimulatedDisk {
  private readonly files = new Map<number, FileState>();
  /** Names at the disk's creation (every file then counts as durable). */
  private readonly initial = new Map<string, number>();
  private readonly live = new Map<string, number>();
  private readonly ops: DirOp[] = [];
  private nextId = 1;
  /** Completed msyncs and fsyncs of `.seg` files (not `.seg.tmp`): what the periodic policy does. */
  segmentSyncs = 0;
  /** Calls made through every process so far. */
  opCount = 0;
  /** When set, called before every call with the running count; may cut the power there. */
  beforeOp: ((count: number) => void) | undefined;
  readonly base = new NodeFileSystem();

  /** Takes `root` (a real directory) as the disk: everything in it now is durable. */
  constructor(readonly root: string) {
    fs.mkdirSync(root, { recursive: true });
    const walk = (dir: string): void => {
      for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
        const p = path.join(dir, entry.name);
        if (entry.isDirectory()) walk(p);
        else {
          const id = this.nextId++;
          this.files.set(id, { durable: new Uint8Array(fs.readFileSync(p)), livePath: p });
          this.initial.set(p, id);
          this.live.set(p, id);
        }
      }
    };
    walk(root);
  }

  /** A FileSystem for one process using this disk. */
  process(): ProcessFileSystem {
    return new ProcessFileSystem(this);
  }

  // ------------------------------------------------------------------ called by processes

  tick(): void {
    this.opCount++;
    this.beforeOp?.(this.opCount);
  }

  opened(filePath: string, flags: string): number {
    let id = this.live.get(filePath);
    if (id === undefined) {
      if (!/[wxa]/.test(flags)) throw new Error(`power-loss model: ${filePath} opened with ${flags} but unknown`);
      id = this.nextId++;
      this.files.set(id, { durable: new Uint8Array(0), livePath: filePath });
      this.live.set(filePath, id);
      this.ops.push({ kind: 'create', path: filePath, id, durable: false });
    }
    return id;
  }

  renamed(from: string, to: string): void {
    const id = this.live.get(from);
    if (id === undefined) return;
    const replaced = this.live.get(to);
    if (replaced !== undefined) this.files.get(replaced)!.livePath = undefined;
    this.live.delete(from);
    this.live.set(to, id);
    this.files.get(id)!.livePath = to;
    this.ops.push({ kind: 'rename', from, to, durable: false });
  }

  unlinked(filePath: string): void {
    const id = this.live.get(filePath);
    if (id === undefined) return;
    this.live.delete(filePath);
    this.files.get(id)!.livePath = undefined;
    this.ops.push({ kind: 'unlink', path: filePath, durable: false });
  }

  dirSynced(dirPath: string): void {
    const inDir = (p: string): boolean => path.dirname(p) === dirPath;
    for (const op of this.ops) {
      if (op.durable) continue;
      if (op.kind === 'rename' ? inDir(op.from) || inDir(op.to) : inDir(op.path)) op.durable = true;
    }
  }

  /** fsync: the whole file as it is now (size included) becomes durable. */
  fileSynced(id: number, fd: number): void {
    const state = this.files.get(id)!;
    // Through /proc: the fd may be write-only ('w' opens), and the file may have no name.
    state.durable = new Uint8Array(fs.readFileSync(`/proc/self/fd/${fd}`));
    if (state.livePath?.endsWith('.seg')) this.segmentSyncs++;
  }

  /** msync of [offset, offset + length) of a mapping of file `id`: those bytes become durable. */
  rangeSynced(id: number, mapping: Buffer, offsetBytes: number, lengthBytes: number): void {
    const state = this.files.get(id)!;
    const start = offsetBytes - (offsetBytes % PAGE_BYTES);
    const end = Math.min(mapping.length, offsetBytes + lengthBytes);
    if (end <= start) return;
    if (state.durable.length < end) {
      const grown = new Uint8Array(end);
      grown.set(state.durable);
      state.durable = grown;
    }
    state.durable.set(mapping.subarray(start, end), start);
    if (state.livePath?.endsWith('.seg')) this.segmentSyncs++;
  }

  // ------------------------------------------------------------------ power loss

  /**
   * Writes what a power loss at this moment could leave into `target` (a new directory), with the
   * choices left to chance drawn from `rng`. Paths keep their place relative to the root.
   */
  powerLoss(target: string, rng: () => number): void {
    // Directory entries: the fsynced operations, plus a prefix of the others in order.
    const pending = this.ops.filter((op) => !op.durable);
    const keepPending = Math.floor(rng() * (pending.length + 1));
    const applied = new Set<DirOp>([...this.ops.filter((op) => op.durable), ...pending.slice(0, keepPending)]);
    const names = new Map(this.initial);
    for (const op of this.ops) {
      if (!applied.has(op)) continue;
      if (op.kind === 'create') {
        if (!names.has(op.path)) names.set(op.path, op.id);
      } else if (op.kind === 'rename') {
        const id = names.get(op.from);
        if (id === undefined) continue;
        names.delete(op.from);
        names.set(op.to, id);
      } else names.delete(op.path);
    }
    // Directories as they are now.
    const mkdirs = (dir: string): void => {
      for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
        if (!entry.isDirectory()) continue;
        fs.mkdirSync(path.join(target, path.relative(this.root, path.join(dir, entry.name))), { recursive: true });
        mkdirs(path.join(dir, entry.name));
      }
    };
    fs.mkdirSync(target, { recursive: true });
    mkdirs(this.root);
    for (const [name, id] of names) {
      const state = this.files.get(id)!;
      const current = state.livePath !== undefined && fs.existsSync(state.livePath) ? new Uint8Array(fs.readFileSync(state.livePath)) : undefined;
      let bytes = state.durable;
      if (current) {
        const size = current.length === bytes.length || rng() < 0.5 ? bytes.length : current.length;
        const out = new Uint8Array(size);
        out.set(bytes.subarray(0, size));
        // Pages written since the last sync: each reached the disk or not.
        for (let at = 0; at < size; at += PAGE_BYTES) {
          const end = Math.min(size, at + PAGE_BYTES);
          if (at >= current.length) break;
          const page = current.subarray(at, Math.min(end, current.length));
          const same = page.every((b, i) => b === out[at + i]);
          if (!same && rng() < 0.5) out.set(page, at);
        }
        bytes = out;
      }
      const out = path.join(target, path.relative(this.root, name));
      fs.mkdirSync(path.dirname(out), { recursive: true });
      fs.writeFileSync(out, bytes);
    }
  }
}

/** One process's view of a SimulatedDisk: the real operations, recorded; dead after kill(). */
export class ProcessFileSystem implements FileSystem {
  private dead = false;
  private readonly fdIds = new Map<number, number>();
  private readonly mappingIds = new WeakMap<Buffer, number>();

  constructor(private readonly disk: SimulatedDisk) {}

  /** SIGKILL: this process makes no further call (each throws); its open files are let go. */
  kill(): void {
    this.dead = true;
    for (const fd of this.fdIds.keys()) {
      try {
        this.disk.base.close(fd);
      } catch {
        // already closed
      }
    }
    this.fdIds.clear();
  }

  private enter(): void {
    if (this.dead) throw Object.assign(new Error('EIO: the process is dead (power-loss model)'), { code: 'EIO' });
    this.disk.tick();
    if (this.dead) throw Object.assign(new Error('EIO: the process died in this call (power-loss model)'), { code: 'EIO' });
  }

  open(filePath: string, flags: string): number {
    this.enter();
    const existed = this.disk.base.exists(filePath);
    const fd = this.disk.base.open(filePath, flags);
    const id = existed ? this.disk.opened(filePath, 'r') : this.disk.opened(filePath, flags);
    this.fdIds.set(fd, id);
    return fd;
  }
  close(fd: number): void {
    if (this.dead) return;
    this.fdIds.delete(fd);
    this.disk.base.close(fd);
  }
  pread(fd: number, dest: Uint8Array, position: number): number {
    this.enter();
    return this.disk.base.pread(fd, dest, position);
  }
  pwrite(fd: number, src: Uint8Array, position: number): void {
    this.enter();
    this.disk.base.pwrite(fd, src, position);
  }
  fsync(fd: number): void {
    this.enter();
    this.disk.fileSynced(this.fdIds.get(fd)!, fd);
  }
  ftruncate(fd: number, lengthBytes: number): void {
    this.enter();
    this.disk.base.ftruncate(fd, lengthBytes);
  }
  sizeOf(fd: number): number {
    this.enter();
    return this.disk.base.sizeOf(fd);
  }
  rename(from: string, to: string): void {
    this.enter();
    this.disk.base.rename(from, to);
    this.disk.renamed(from, to);
  }
  unlink(filePath: string): void {
    this.enter();
    this.disk.base.unlink(filePath);
    this.disk.unlinked(filePath);
  }
  readdir(dirPath: string): string[] {
    this.enter();
    return this.disk.base.readdir(dirPath);
  }
  mkdirp(dirPath: string): void {
    this.enter();
    this.disk.base.mkdirp(dirPath);
  }
  exists(filePath: string): boolean {
    this.enter();
    return this.disk.base.exists(filePath);
  }
  fsyncDir(dirPath: string): void {
    this.enter();
    this.disk.dirSynced(dirPath);
  }
  map(fd: number, lengthBytes: number): Buffer {
    this.enter();
    const mapping = this.disk.base.map(fd, lengthBytes);
    this.mappingIds.set(mapping, this.fdIds.get(fd)!);
    return mapping;
  }
  msync(mapping: Buffer, offsetBytes: number, lengthBytes: number): void {
    this.enter();
    this.disk.rangeSynced(this.mappingIds.get(mapping)!, mapping, offsetBytes, lengthBytes);
  }
}
