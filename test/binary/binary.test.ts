// The single executable (src/binary/, docs/operations.md "The binary"): builds it, copies it alone
// into an empty temporary directory outside the project (no node_modules anywhere above it) and
// runs it there as `./strata` with PATH naming an empty directory, so neither a Node nor a package
// of the machine can stand in for what the file embeds. Checks it serves KairosDB and the OpenTSDB
// line port with the default ./data, that its native addons are mapped from its own cache
// directory, that a second start reuses the unpacked files and finds the data, and that the CLI
// answers exactly as `node dist/src/main.js` does.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { unpackArchive } from '../../src/binary/bootstrap.js';
import { buildBinary, type BinaryBuild } from '../../src/binary/build.js';
import { MAIN_JS, request } from '../helpers/server.js';
import { tempDir } from '../helpers/tmp.js';

let built: BinaryBuild;
/** The empty directory the binary runs in (its cwd), holding only `strata` and what it creates. */
let runDir: string;
/** A minimal environment: no Node on PATH, home and cache inside runDir. */
let env: Record<string, string>;

beforeAll(() => {
  runDir = tempDir('strata-binary-');
  built = buildBinary({ outputFile: path.join(runDir, 'strata') });
  fs.mkdirSync(path.join(runDir, 'empty-bin'));
  env = { PATH: path.join(runDir, 'empty-bin'), HOME: path.join(runDir, 'home'), XDG_CACHE_HOME: path.join(runDir, 'cache') };
}, 60_000);

const cacheDir = (): string => path.join(runDir, 'cache', 'strata', built.archiveId);

interface RunningBinary {
  readonly child: ChildProcess;
  readonly http: number;
  readonly telnet: number;
  stderr(): string;
  stop(): Promise<number | null>;
}

/** `./strata serve …` in runDir; resolves once it printed its listening line. */
function startBinary(): Promise<RunningBinary> {
  const child = spawn('./strata', ['serve', '--http-port', '0', '--telnet-port', '0', '--host', '127.0.0.1', '--threads', '2', '--self-report-interval-ms', '0'], { cwd: runDir, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const nl = out.indexOf('\n');
      if (nl < 0) return;
      const line = JSON.parse(out.slice(0, nl)) as { event: string; http: number; telnet: number };
      if (line.event !== 'listening') reject(new Error(`unexpected first line ${out.slice(0, nl)}`));
      resolve({
        child,
        http: line.http,
        telnet: line.telnet,
        stderr: () => err,
        stop: () => {
          child.kill('SIGTERM');
          return exited;
        },
      });
    });
    void exited.then((code) => reject(new Error(`./strata exited with ${code} before listening:\n${err}`)));
  });
}

/** Runs `./strata …` (or, with `node`, dist/src/main.js) to completion in runDir. */
function runOnce(args: readonly string[], how: 'binary' | 'node' = 'binary', runEnv = env): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const [file, argv] = how === 'binary' ? ['./strata', args] : [process.execPath, [MAIN_JS, ...args]];
    execFile(file, argv, { cwd: runDir, env: runEnv }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : null) : 0, stdout, stderr });
    });
  });
}

/** An OpenTSDB `put` on the line port, then `version`: its reply means the put before it was handled. */
function telnetPut(port: number, line: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let got = '';
    const s = net.connect(port, '127.0.0.1', () => s.write(`${line}\nversion\n`));
    s.on('data', (d) => {
      got += d.toString();
      if (got.includes('Built on')) {
        s.end();
        resolve(got);
      }
    });
    s.on('error', reject);
  });
}

async function stored(port: number, metric: string): Promise<unknown[][]> {
  const res = await request(port, { method: 'POST', path: '/api/v1/datapoints/query', body: JSON.stringify({ start_absolute: 0, metrics: [{ name: metric }] }) });
  expect(res.status).toBe(200);
  return (res.json() as { queries: { results: { values: unknown[][] }[] }[] }).queries[0]!.results[0]!.values;
}

/** Shared objects the process has mapped whose file name ends in .node: its native addons. */
function mappedAddons(pid: number): string[] {
  const maps = fs.readFileSync(`/proc/${pid}/maps`, 'utf8');
  return [...new Set(maps.split('\n').map((l) => l.slice(l.indexOf('/'))).filter((p) => p.startsWith('/') && p.endsWith('.node')))].sort();
}

describe('the single executable', () => {
  it('serves from an empty directory with no Node on PATH and no node_modules in reach', async () => {
    for (let dir = runDir; ; dir = path.dirname(dir)) {
      expect(fs.existsSync(path.join(dir, 'node_modules')), `node_modules above ${runDir}`).toBe(false);
      if (path.dirname(dir) === dir) break;
    }
    expect(fs.readdirSync(runDir).sort()).toEqual(['empty-bin', 'strata']);

    const server = await startBinary();
    const unpacked = server.stderr().split('\n').filter((l) => l.includes('"binary.unpacked"')).map((l) => JSON.parse(l) as { dir: string; files: number });
    expect(unpacked).toEqual([expect.objectContaining({ dir: cacheDir(), files: built.archiveFiles })]);
    expect(fs.existsSync(path.join(runDir, 'data', 'shards'))).toBe(true);
    if (process.platform === 'linux') {
      expect(fs.readlinkSync(`/proc/${server.child.pid}/exe`)).toBe(path.join(runDir, 'strata'));
      const addons = mappedAddons(server.child.pid!);
      expect(addons.map((a) => path.basename(a))).toEqual(expect.arrayContaining([`uws_linux_${process.arch}_${process.versions.modules}.node`, 'mmap_io.node', expect.stringMatching(/^lz4-napi\..*\.node$/), expect.stringMatching(/^crc32\..*\.node$/)]));
      for (const addon of addons) expect(addon.startsWith(`${cacheDir()}${path.sep}`), addon).toBe(true);
    }

    const put = await request(server.http, { method: 'POST', path: '/api/v1/datapoints', body: JSON.stringify([{ name: 'binary.kairos', datapoints: [[1700000000000, 1.5]], tags: { host: 'a' } }]) });
    expect(put.status).toBe(204);
    expect(await telnetPut(server.telnet, 'put binary.telnet 1700000001 42 host=a')).toMatch(/^net\.opentsdb\.tools /);
    expect(await stored(server.http, 'binary.kairos')).toEqual([[1700000000000, 1.5]]);
    expect(await stored(server.http, 'binary.telnet')).toEqual([[1700000001000, 42]]);
    expect(await server.stop()).toBe(0);
  });

  it('starts again from the unpacked files and finds the data', async () => {
    const before = fs.statSync(path.join(cacheDir(), 'entry.cjs')).mtimeMs;
    const server = await startBinary();
    expect(server.stderr()).not.toContain('binary.unpacked');
    expect(fs.readdirSync(path.join(runDir, 'cache', 'strata'))).toEqual([built.archiveId]);
    expect(fs.statSync(path.join(cacheDir(), 'entry.cjs')).mtimeMs).toBe(before);
    expect(await stored(server.http, 'binary.kairos')).toEqual([[1700000000000, 1.5]]);
    expect(await stored(server.http, 'binary.telnet')).toEqual([[1700000001000, 42]]);
    expect(await server.stop()).toBe(0);
  });

  it('answers the CLI exactly as node dist/src/main.js does', async () => {
    const nodeEnv = { PATH: process.env['PATH'] ?? '', HOME: env['HOME']! };
    for (const args of [['--help'], ['serve', '--no-such-flag'], ['inspect', '--json'], ['serve', '--http-port', '9999', '--print-config']]) {
      const [binary, node] = await Promise.all([runOnce(args), runOnce(args, 'node', nodeEnv)]);
      expect(binary, args.join(' ')).toEqual(node);
    }
    const inspect = JSON.parse((await runOnce(['inspect', '--verify', '--json'])).stdout) as { dataDir: string; totals: { points: number }; damage: unknown[] };
    expect(inspect).toMatchObject({ dataDir: path.join(fs.realpathSync(runDir), 'data'), totals: { points: 2 }, damage: [] });
    expect((await runOnce(['--help'])).stdout).toContain('Usage: strata [serve] [options]');
  });

  it('three first starts at once share one unpacked copy; a damaged copy is unpacked again', async () => {
    const fresh = { ...env, XDG_CACHE_HOME: path.join(runDir, 'cache-race') };
    const runs = await Promise.all([runOnce(['--help'], 'binary', fresh), runOnce(['--help'], 'binary', fresh), runOnce(['--help'], 'binary', fresh)]);
    for (const r of runs) expect(r.code).toBe(0);
    expect(fs.readdirSync(path.join(runDir, 'cache-race', 'strata'))).toEqual([built.archiveId]);
    // A tree that lost its entry file (a partial clean-up by hand) is unpacked again.
    fs.rmSync(path.join(runDir, 'cache-race', 'strata', built.archiveId, 'entry.cjs'));
    const again = await runOnce(['--help'], 'binary', fresh);
    expect(again.code).toBe(0);
    expect(again.stderr).toContain('"binary.unpacked"');
    expect(fs.readdirSync(path.join(runDir, 'cache-race', 'strata'))).toEqual([built.archiveId]);
  });

  it('without a usable home, unpacks into a private directory under TMPDIR and refuses one others could write', async () => {
    const tmp = path.join(runDir, 'tmp');
    fs.mkdirSync(tmp);
    // HOME is a file: ~/.cache cannot be made there (ENOTDIR), so the temp-directory fallback is used.
    const noHome = { PATH: env['PATH']!, HOME: path.join(runDir, 'strata'), TMPDIR: tmp };
    const first = await runOnce(['--help'], 'binary', noHome);
    expect(first.code).toBe(0);
    const root = path.join(tmp, `strata-${process.getuid!()}`);
    expect(fs.statSync(root).mode & 0o777).toBe(0o700);
    expect(fs.readdirSync(root)).toEqual([built.archiveId]);
    fs.chmodSync(root, 0o755);
    const refused = await runOnce(['--help'], 'binary', noHome);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toBe('');
    expect(JSON.parse(refused.stderr)).toMatchObject({ level: 'error', event: 'binary.failed', message: expect.stringContaining(`refusing cache directory ${root}`) });
  });
});

describe('the archive unpacker', () => {
  const archiveOf = (files: { path: string; data: string }[]): Buffer => {
    const header = Buffer.from(JSON.stringify({ files: files.map((f) => ({ path: f.path, bytes: Buffer.byteLength(f.data), mode: 0o644 })) }));
    const length = Buffer.alloc(4);
    length.writeUInt32LE(header.length);
    return Buffer.concat([length, header, ...files.map((f) => Buffer.from(f.data))]);
  };

  it('writes each file below the target and refuses paths that would leave it or a truncated archive', () => {
    const dir = tempDir('strata-unpack-');
    expect(unpackArchive(archiveOf([{ path: 'a/b.js', data: 'x' }, { path: 'c.txt', data: 'yz' }]), path.join(dir, 'ok'))).toBe(2);
    expect(fs.readFileSync(path.join(dir, 'ok', 'a', 'b.js'), 'utf8')).toBe('x');
    expect(fs.readFileSync(path.join(dir, 'ok', 'c.txt'), 'utf8')).toBe('yz');
    expect(() => unpackArchive(archiveOf([{ path: '../escape.js', data: 'x' }]), path.join(dir, 'up'))).toThrow('not a plain relative path');
    expect(() => unpackArchive(archiveOf([{ path: '/etc/escape', data: 'x' }]), path.join(dir, 'abs'))).toThrow('not a plain relative path');
    expect(() => unpackArchive(archiveOf([{ path: 'a.js', data: 'xyz' }]).subarray(0, -1), path.join(dir, 'short'))).toThrow('archive ends inside a.js');
    expect(fs.existsSync(path.join(dir, 'escape.js'))).toBe(false);
  });
});
