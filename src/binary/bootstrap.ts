// The single executable's first code (docs/decisions/0016-single-executable.md): unpacks the
// archive embedded in the binary (the compiled server and its production node_modules for this
// platform) once into a per-user cache directory named after the archive, then starts the server
// from there, so worker scripts, piscina and the native addons load from files exactly as in an
// npm install. src/binary/build.ts transpiles this file alone to CommonJS and makes it the SEA
// main script, which may only use Node built-ins: import nothing else here. Never touches the data
// directory; writes only below the cache directory.
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';

/**
 * SEA asset holding the archive:
 *
 *   gzip( headerBytes u32le | header, JSON in UTF-8 | file contents, back to back, in header order )
 *
 * header = { "files": [{ "path": "dist/src/main.js", "bytes": 1234, "mode": 420 }, …] }, paths
 * relative to the unpacked root, '/'-separated, never absolute and never with a '..' segment.
 */
export const ARCHIVE_ASSET = 'strata-archive.gz';
/** SEA asset holding the archive's name, `<version>-<first 16 hex digits of its SHA-256>`: its cache directory. */
export const ARCHIVE_ID_ASSET = 'strata-archive-id';
/** The CommonJS file, at the archive's root, that loads the ESM server (the SEA main script cannot `import()`). */
export const ENTRY_FILE = 'entry.cjs';

export interface ArchiveFile {
  /** Relative, '/'-separated. */
  readonly path: string;
  readonly bytes: number;
  /** Permission bits (0o644, 0o755). */
  readonly mode: number;
}

/** What this file needs of `node:sea`; passed in so the module can be imported where it is not a SEA. */
export interface SeaAssets {
  getAsset(key: string, encoding: string): string;
  getRawAsset(key: string): string | ArrayBuffer;
}

/**
 * Where unpacked archives live, best first: `$XDG_CACHE_HOME/strata` (when absolute), then
 * `~/.cache/strata`, then `<os temp dir>/strata-<uid>` for users without a writable home. The last
 * one is in a shared directory, so it is only used when it is ours alone (checked on use).
 */
export function cacheRootCandidates(env: NodeJS.ProcessEnv, homeDir: string | undefined, tmpDir: string, uid: number): { dir: string; shared: boolean }[] {
  const out: { dir: string; shared: boolean }[] = [];
  const xdg = env['XDG_CACHE_HOME'];
  if (xdg !== undefined && path.isAbsolute(xdg)) out.push({ dir: path.join(xdg, 'strata'), shared: false });
  if (homeDir) out.push({ dir: path.join(homeDir, '.cache', 'strata'), shared: false });
  out.push({ dir: path.join(tmpDir, `strata-${uid}`), shared: true });
  return out;
}

/** Refuses a cache root in a shared directory that someone else could have prepared: it must be our own directory, closed to others. */
function checkPrivate(dir: string, uid: number): void {
  const st = fs.lstatSync(dir);
  if (!st.isDirectory() || (uid >= 0 && st.uid !== uid) || (st.mode & 0o077) !== 0) {
    throw new Error(`refusing cache directory ${dir}: it must be a directory owned by this user with mode 0700 (remove it, or set XDG_CACHE_HOME)`);
  }
}

/**
 * Writes every file of the (gunzipped) archive below `dir`, which must not exist yet.
 * Throws on a malformed archive or a path that would leave `dir`.
 */
export function unpackArchive(archive: Uint8Array, dir: string): number {
  const view = Buffer.from(archive.buffer, archive.byteOffset, archive.byteLength);
  const headerBytes = view.readUInt32LE(0);
  const header = JSON.parse(view.toString('utf8', 4, 4 + headerBytes)) as { files: ArchiveFile[] };
  let offset = 4 + headerBytes;
  const made = new Set<string>();
  fs.mkdirSync(dir, { mode: 0o755 });
  made.add(dir);
  for (const file of header.files) {
    if (path.isAbsolute(file.path) || file.path.split('/').some((part) => part === '..' || part === '')) {
      throw new Error(`archive path ${JSON.stringify(file.path)} is not a plain relative path`);
    }
    const target = path.join(dir, ...file.path.split('/'));
    const parent = path.dirname(target);
    if (!made.has(parent)) {
      fs.mkdirSync(parent, { recursive: true, mode: 0o755 });
      made.add(parent);
    }
    if (offset + file.bytes > view.length) throw new Error(`archive ends inside ${file.path}`);
    fs.writeFileSync(target, view.subarray(offset, offset + file.bytes), { mode: file.mode & 0o755 });
    offset += file.bytes;
  }
  if (offset !== view.length) throw new Error(`archive has ${view.length - offset} bytes after its last file`);
  return header.files.length;
}

/**
 * Makes `<root>/<id>` hold the unpacked archive and returns it. Another process starting at the
 * same time is harmless: each unpacks into its own `.partial-…` directory and renames it into
 * place (atomic); the loser of the rename deletes its copy and uses the winner's. A finished
 * directory is never rewritten, except when its entry file is missing (someone deleted part of
 * it): then it is unpacked again. `gunzippedArchive` is called only when unpacking.
 */
export function ensureUnpacked(root: string, id: string, gunzippedArchive: () => Uint8Array): { dir: string; unpackedFiles: number } {
  const dir = path.join(root, id);
  if (fs.existsSync(path.join(dir, ENTRY_FILE))) return { dir, unpackedFiles: 0 };
  const partial = path.join(root, `.partial-${id}-${process.pid}-${crypto.randomBytes(4).toString('hex')}`);
  try {
    const files = unpackArchive(gunzippedArchive(), partial);
    if (fs.existsSync(dir) && !fs.existsSync(path.join(dir, ENTRY_FILE))) fs.rmSync(dir, { recursive: true, force: true });
    try {
      fs.renameSync(partial, dir);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if ((code === 'ENOTEMPTY' || code === 'EEXIST') && fs.existsSync(path.join(dir, ENTRY_FILE))) return { dir, unpackedFiles: 0 };
      throw err;
    }
    return { dir, unpackedFiles: files };
  } finally {
    fs.rmSync(partial, { recursive: true, force: true });
  }
}

/** Errors that mean "this cache root is not usable by us": try the next one. */
const UNUSABLE_ROOT = new Set(['EACCES', 'EPERM', 'EROFS', 'ENOTDIR']);

function logLine(fields: Record<string, unknown>): void {
  process.stderr.write(`${JSON.stringify({ time: new Date().toISOString(), level: 'info', ...fields })}\n`);
}

/**
 * The SEA main script's whole job: find or unpack the archive, then hand over to the server's
 * entry (which reads process.argv itself: in a SEA it is [binary, binary as invoked, ...args], the
 * same shape as [node, main.js, ...args]). Exits 1 with one JSON log line if it cannot.
 */
export function runFromSea(sea: SeaAssets): void {
  try {
    const id = sea.getAsset(ARCHIVE_ID_ASSET, 'utf8');
    const startedMs = Date.now();
    const gunzipped = (): Uint8Array => {
      const raw = sea.getRawAsset(ARCHIVE_ASSET);
      if (typeof raw === 'string') throw new Error('archive asset is not binary');
      return zlib.gunzipSync(new Uint8Array(raw));
    };
    const uid = typeof process.getuid === 'function' ? process.getuid() : -1;
    let homeDir: string | undefined;
    try {
      homeDir = os.homedir();
    } catch {
      homeDir = undefined;
    }
    const tried: string[] = [];
    for (const candidate of cacheRootCandidates(process.env, homeDir, os.tmpdir(), uid)) {
      let unpacked: { dir: string; unpackedFiles: number };
      try {
        fs.mkdirSync(candidate.dir, { recursive: true, mode: 0o700 });
        if (candidate.shared) checkPrivate(candidate.dir, uid);
        unpacked = ensureUnpacked(candidate.dir, id, gunzipped);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === undefined || !UNUSABLE_ROOT.has(code)) throw err;
        tried.push(`${candidate.dir}: ${code}`);
        continue;
      }
      if (unpacked.unpackedFiles > 0) logLine({ event: 'binary.unpacked', dir: unpacked.dir, files: unpacked.unpackedFiles, ms: Date.now() - startedMs });
      createRequire(path.join(unpacked.dir, ENTRY_FILE))(`./${ENTRY_FILE}`);
      return;
    }
    throw new Error(`no usable cache directory (${tried.join('; ')}); set XDG_CACHE_HOME to a writable directory`);
  } catch (err) {
    process.stderr.write(`${JSON.stringify({ time: new Date().toISOString(), level: 'error', event: 'binary.failed', message: (err as Error)?.message ?? String(err) })}\n`);
    process.exit(1);
  }
}
