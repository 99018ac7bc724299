// Shared by the data tools' tests (tools*.test.ts): running the built CLI or the same entry point
// in-process, the v1 fixture copied, byte flips and directory snapshots, normalised inputs.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { runTool } from '../../src/cli/tools/index.js';
import { MAIN_JS } from '../helpers/server.js';
import { tempDir } from '../helpers/tmp.js';

/** The committed v1 fixture (docs/format/README.md, Golden fixtures); tests work on copies. */
export const FIXTURE_DIR = fileURLToPath(new URL('../fixtures/format-v1/', import.meta.url));

export interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** The environment less any STRATA_* setting of the machine; new segments 64 KiB (light tests). */
export function toolEnv(): Record<string, string | undefined> {
  return { ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('STRATA_'))), STRATA_SEGMENT_BYTES: '65536' };
}

/** Runs the built CLI (`node dist/src/main.js …`); `input` becomes its stdin. */
export function strata(args: readonly string[], input?: string | Buffer): Run {
  const r = spawnSync(process.execPath, [MAIN_JS, ...args], { input: input ?? '', env: toolEnv() });
  return { code: r.status, stdout: r.stdout.toString('utf8'), stderr: r.stderr.toString('utf8') };
}

/**
 * Runs a tool in this process through runTool, the function main.ts calls for `strata <tool>`
 * (same parsing, files, engine and exit codes, without a process start per case). `input` is
 * stdin: a string/Buffer, or a Readable the test feeds.
 */
export async function strataInProcess(args: readonly string[], input: string | Buffer | Readable = ''): Promise<Run> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (d: Buffer) => (out += d.toString('utf8')));
  stderr.on('data', (d: Buffer) => (err += d.toString('utf8')));
  const stdin = input instanceof Readable ? input : Readable.from([Buffer.from(input)]);
  const code = await runTool(args, { env: toolEnv(), cwd: process.cwd(), stdin, stdout, stderr, stderrIsTty: false, readFile: (f) => fs.readFileSync(f, 'utf8') });
  await new Promise((resolve) => setImmediate(resolve));
  return { code, stdout: out, stderr: err };
}

/** Every file under `dir` with its bytes, for "nothing changed" checks. */
export function snapshot(dir: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  const walk = (d: string): void => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.set(path.relative(dir, p), fs.readFileSync(p));
    }
  };
  walk(dir);
  return out;
}

export function copyFixture(): string {
  const dir = path.join(tempDir(), 'data');
  fs.cpSync(FIXTURE_DIR, dir, { recursive: true });
  return dir;
}

/** Inverts one byte of a file in place. */
export function flipByte(file: string, offset: number): void {
  const fd = fs.openSync(file, 'r+');
  const b = Buffer.alloc(1);
  fs.readSync(fd, b, 0, 1, offset);
  b[0] = b[0]! ^ 0xff;
  fs.writeSync(fd, b, 0, 1, offset);
  fs.closeSync(fd);
}

/**
 * Normalised KairosDB input, one metric: exactly what export writes (series by sorted tags, tags
 * sorted, points in time order, floats with '.' or an exponent, strings typed "string").
 */
export const KAIROS_INPUT = [
  '[',
  '{"name":"rt.cpu","tags":{"dc":"eu","host":"a"},"datapoints":[[-1000,7],[0,0.0],[1700000000000,1],[1700000001000,2.5],[1700000002000,-0.0],[1700000003000,9223372036854775807],[1700000004000,-9223372036854775808],[1700000005000,2.0],[1700000006000,1e+300],[1700000007000,0.1]]},',
  '{"name":"rt.cpu","tags":{"host":"b"},"datapoints":[[1700000000123,5e-324],[1700000000500,"123","string"],[1700000000600,"ünï \\"q\\"\\n","string"],[1700000000700,"","string"]]},',
  '{"name":"rt.cpu","tags":{"host":"c"},"datapoints":[[1700000000000,42]]}',
  ']',
  '',
].join('\n');

/** Normalised OpenTSDB import lines, one metric: seconds when whole, ms otherwise; export's order. */
export const OPENTSDB_INPUT = [
  'rt.cpu 1700000000 1 dc=eu host=a',
  'rt.cpu 1700000000250 -2.5 dc=eu host=a',
  'rt.cpu 1700000003 9223372036854775807 dc=eu host=a',
  'rt.cpu 1700000004 2.0 dc=eu host=a',
  'rt.cpu 1700000005 -0.0 dc=eu host=a',
  'rt.cpu 1700000000 0.1 host=b',
  'rt.cpu 1700000000 42 host=c',
  '',
].join('\n');
