// `npm run build:binary`: builds the single executable (docs/operations.md, "The binary";
// docs/decisions/0016-single-executable.md). Packs the compiled server (dist/src, dist/engine), the
// package.json and the production node_modules, pruned to this platform, into one gzipped archive;
// makes the transpiled src/binary/bootstrap.ts the SEA main script with the archive as an asset;
// and injects that blob into a copy of the Node binary running this script (postject). Needs a
// finished `tsc` build and `npm ci`; runs at build time only and is not part of the archive.
import { execFileSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as zlib from 'node:zlib';
import ts from 'typescript';
import { ARCHIVE_ASSET, ARCHIVE_ID_ASSET, ENTRY_FILE, type ArchiveFile } from './bootstrap.js';

/** The fuse Node's SEA support looks for (Node's single-executable documentation); postject flips it. */
const SEA_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';
/** The resource name Node reads the SEA blob from. */
const SEA_RESOURCE = 'NODE_SEA_BLOB';

/** Written into the archive as ENTRY_FILE: a CommonJS file on disk may `import()` the ESM server. */
const ENTRY_SOURCE = `'use strict';
// Written by src/binary/build.ts: the single executable's bootstrap requires this file once the
// archive is unpacked; it loads the server's ESM entry (the SEA main script cannot import()).
const path = require('node:path');
const { pathToFileURL } = require('node:url');
import(pathToFileURL(path.join(__dirname, 'dist', 'src', 'main.js')).href).catch((err) => {
  process.stderr.write(JSON.stringify({ time: new Date().toISOString(), level: 'error', event: 'binary.failed', message: (err && err.stack) || String(err) }) + '\\n');
  process.exit(1);
});
`;

export interface BinaryBuild {
  /** The executable written. */
  readonly file: string;
  readonly fileBytes: number;
  /** Cache directory name the binary unpacks into (`<version>-<hash>`). */
  readonly archiveId: string;
  readonly archiveFiles: number;
  /** Before and after gzip. */
  readonly archiveBytes: number;
  readonly archiveGzipBytes: number;
}

interface PackedFile extends ArchiveFile {
  readonly data: Buffer;
}

/** The directory holding the package.json named "strata", walking up from this module (src/binary or dist/src/binary). */
export function findProjectDir(from = path.dirname(fileURLToPath(import.meta.url))): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    try {
      const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: unknown };
      if (pkg.name === 'strata') return dir;
    } catch {
      // No package.json here: look one level up.
    }
    if (path.dirname(dir) === dir) throw new Error(`no package.json named "strata" above ${from}`);
  }
}

/** Every regular file below `dir` (following symbolic links), as '/'-separated paths relative to `dir`; `skipDir` prunes by relative path. */
function walk(dir: string, skipDir: (rel: string) => boolean, rel = ''): string[] {
  const out: string[] = [];
  for (const entry of fs.readdirSync(path.join(dir, rel), { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const child = rel === '' ? entry.name : `${rel}/${entry.name}`;
    const st = fs.statSync(path.join(dir, child));
    if (st.isDirectory()) {
      if (!skipDir(child)) out.push(...walk(dir, skipDir, child));
    } else if (st.isFile()) {
      out.push(child);
    }
  }
  return out;
}

/**
 * The production packages as installed: every package-lock.json entry not marked dev that exists
 * under node_modules (optional packages for other platforms are absent). Each entry is one
 * package folder; its nested node_modules are entries of their own.
 */
function productionPackageDirs(projectDir: string): string[] {
  const lock = JSON.parse(fs.readFileSync(path.join(projectDir, 'package-lock.json'), 'utf8')) as { packages?: Record<string, { dev?: boolean; link?: boolean }> };
  if (!lock.packages) throw new Error('package-lock.json has no "packages" (lockfile version 2 or later is needed)');
  const dirs: string[] = [];
  for (const [key, entry] of Object.entries(lock.packages)) {
    if (key === '' || entry.dev === true) continue;
    if (entry.link === true) throw new Error(`${key} is a linked package; the binary needs installed ones (npm ci)`);
    if (fs.existsSync(path.join(projectDir, key, 'package.json'))) dirs.push(key);
  }
  return dirs.sort();
}

/**
 * Files of a package that can never be loaded at run time: type declarations, source maps,
 * Markdown; and uWebSockets.js's addons for every platform and Node ABI but this one (the package
 * ships them all: 113 MB, of which one ~6 MB file is used).
 */
function isUnused(packageDir: string, rel: string): boolean {
  if (/\.d\.[cm]?ts$|\.map$|\.md$|\.markdown$/i.test(rel)) return true;
  if (packageDir === 'node_modules/uWebSockets.js') {
    if (rel.endsWith('.node')) return rel !== `binaries/uws_${process.platform}_${process.arch}_${process.versions.modules}.node`;
    if (rel.startsWith('src/fallback/')) return true; // TypeScript sources of dist/, which is what runs
  }
  return false;
}

/** Everything the server needs at run time, relative to the unpacked root. */
export function collectFiles(projectDir: string): PackedFile[] {
  const files: PackedFile[] = [];
  const add = (rel: string): void => {
    const abs = path.join(projectDir, ...rel.split('/'));
    const st = fs.statSync(abs);
    files.push({ path: rel, bytes: st.size, mode: st.mode & 0o111 ? 0o755 : 0o644, data: fs.readFileSync(abs) });
  };
  add('package.json'); // "type": "module" for dist/, and the version src/package-version.ts reads
  for (const top of ['dist/src', 'dist/engine']) {
    for (const rel of walk(path.join(projectDir, top), (d) => d === 'binary')) {
      if (rel.endsWith('.js')) add(`${top}/${rel}`);
    }
  }
  if (!files.some((f) => f.path === 'dist/src/main.js')) throw new Error(`${path.join(projectDir, 'dist/src/main.js')} is missing: run tsc -p tsconfig.json first`);
  const uws = `node_modules/uWebSockets.js/binaries/uws_${process.platform}_${process.arch}_${process.versions.modules}.node`;
  for (const pkg of productionPackageDirs(projectDir)) {
    for (const rel of walk(path.join(projectDir, pkg), (d) => d === 'node_modules' || d.endsWith('/node_modules'))) {
      if (!isUnused(pkg, rel)) add(`${pkg}/${rel}`);
    }
  }
  if (!files.some((f) => f.path === uws)) throw new Error(`${uws} is missing: uWebSockets.js has no addon for this platform and Node version`);
  files.push({ path: ENTRY_FILE, bytes: Buffer.byteLength(ENTRY_SOURCE), mode: 0o644, data: Buffer.from(ENTRY_SOURCE) });
  return files;
}

/** The archive format is described at ARCHIVE_ASSET in src/binary/bootstrap.ts. */
function packArchive(files: readonly PackedFile[]): Buffer {
  const header = Buffer.from(JSON.stringify({ files: files.map(({ path: p, bytes, mode }) => ({ path: p, bytes, mode })) }), 'utf8');
  const length = Buffer.alloc(4);
  length.writeUInt32LE(header.length, 0);
  return Buffer.concat([length, header, ...files.map((f) => f.data)]);
}

/** src/binary/bootstrap.ts as a CommonJS script that runs itself with `node:sea`. */
function bootstrapScript(projectDir: string): string {
  const source = fs.readFileSync(path.join(projectDir, 'src', 'binary', 'bootstrap.ts'), 'utf8');
  const out = ts.transpileModule(source, {
    fileName: 'bootstrap.ts',
    reportDiagnostics: true,
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true, verbatimModuleSyntax: false },
  });
  if (out.diagnostics && out.diagnostics.length > 0) {
    throw new Error(`bootstrap.ts: ${out.diagnostics.map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n')).join('; ')}`);
  }
  return `${out.outputText}\nexports.runFromSea(require('node:sea'));\n`;
}

/**
 * Builds the executable at `outputFile` (default `<project>/dist/strata`), replacing it
 * atomically. Synchronous; takes a few seconds (gzip of ~30 MB, postject rewriting a ~100 MB copy
 * of Node). Throws with the tool's output when a step fails; leaves no partial file behind.
 */
export function buildBinary(options: { projectDir?: string; outputFile?: string } = {}): BinaryBuild {
  const projectDir = options.projectDir ?? findProjectDir();
  const outputFile = path.resolve(options.outputFile ?? path.join(projectDir, 'dist', 'strata'));
  const version = (JSON.parse(fs.readFileSync(path.join(projectDir, 'package.json'), 'utf8')) as { version: string }).version;
  const files = collectFiles(projectDir);
  const archive = packArchive(files);
  const gzipped = zlib.gzipSync(archive, { level: 6 });
  const archiveId = `${version}-${crypto.createHash('sha256').update(gzipped).digest('hex').slice(0, 16)}`;

  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-binary-build-'));
  const partialOutput = `${outputFile}.partial-${process.pid}`;
  try {
    fs.writeFileSync(path.join(work, 'bootstrap.cjs'), bootstrapScript(projectDir));
    fs.writeFileSync(path.join(work, ARCHIVE_ASSET), gzipped);
    fs.writeFileSync(path.join(work, ARCHIVE_ID_ASSET), archiveId);
    const seaConfig = {
      main: path.join(work, 'bootstrap.cjs'),
      output: path.join(work, 'sea.blob'),
      disableExperimentalSEAWarning: true,
      useSnapshot: false,
      useCodeCache: false,
      assets: { [ARCHIVE_ASSET]: path.join(work, ARCHIVE_ASSET), [ARCHIVE_ID_ASSET]: path.join(work, ARCHIVE_ID_ASSET) },
    };
    fs.writeFileSync(path.join(work, 'sea-config.json'), JSON.stringify(seaConfig));
    run(process.execPath, ['--experimental-sea-config', path.join(work, 'sea-config.json')], work);

    fs.mkdirSync(path.dirname(outputFile), { recursive: true });
    fs.copyFileSync(process.execPath, partialOutput);
    fs.chmodSync(partialOutput, 0o755);
    const postject = createRequire(import.meta.url).resolve('postject/dist/cli.js');
    run(process.execPath, [postject, partialOutput, SEA_RESOURCE, seaConfig.output, '--sentinel-fuse', SEA_FUSE], work);
    fs.renameSync(partialOutput, outputFile);
  } finally {
    fs.rmSync(partialOutput, { force: true });
    fs.rmSync(work, { recursive: true, force: true });
  }
  return { file: outputFile, fileBytes: fs.statSync(outputFile).size, archiveId, archiveFiles: files.length, archiveBytes: archive.length, archiveGzipBytes: gzipped.length };
}

/** Runs a build tool; its output (postject prints harmless ELF warnings) is shown only if it fails. */
function run(file: string, args: readonly string[], cwd: string): void {
  try {
    execFileSync(file, args, { cwd, stdio: 'pipe', maxBuffer: 64 * 1024 * 1024 });
  } catch (err) {
    const e = err as { stdout?: Buffer; stderr?: Buffer; message: string };
    throw new Error(`${path.basename(args[0] ?? file)} failed: ${e.message}\n${e.stdout?.toString() ?? ''}${e.stderr?.toString() ?? ''}`);
  }
}

const mib = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  const args = process.argv.slice(2);
  const at = args.indexOf('--output');
  if ((at >= 0 && args[at + 1] === undefined) || args.some((a, i) => a !== '--output' && i !== at + 1)) {
    process.stderr.write('usage: node dist/src/binary/build.js [--output FILE]\n');
    process.exit(2);
  }
  const started = Date.now();
  const built = buildBinary(at >= 0 ? { outputFile: args[at + 1]! } : {});
  process.stdout.write(
    `${path.relative(process.cwd(), built.file) || built.file}: ${mib(built.fileBytes)} (Node ${process.version} for ${process.platform}-${process.arch}` +
      ` + ${built.archiveFiles} files, ${mib(built.archiveBytes)} gzipped to ${mib(built.archiveGzipBytes)}), unpacks into <cache>/strata/${built.archiveId}; ${Date.now() - started} ms\n`,
  );
}
