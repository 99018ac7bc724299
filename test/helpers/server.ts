// Starts the real server (dist/src/main.js, built by `npm test`'s tsc step) as a child process on
// ephemeral ports with a temporary data directory, and talks to it over real sockets.
import { spawn, type ChildProcess } from 'node:child_process';
import * as http from 'node:http';
import * as net from 'node:net';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { listeningPorts } from './listening.js';
import { tempDir } from './tmp.js';

const here = path.dirname(fileURLToPath(import.meta.url));
/** dist/src/main.js, whether this file runs from test/helpers (vitest) or dist/test/helpers. */
export const MAIN_JS = here.includes(`${path.sep}dist${path.sep}`)
  ? path.resolve(here, '../../src/main.js')
  : path.resolve(here, '../../dist/src/main.js');

export interface RunningServer {
  readonly http: number;
  readonly telnet: number;
  /** The OneNET firmware port, when started with --onenet-port. */
  readonly onenet?: number;
  readonly dataDir: string;
  readonly child: ChildProcess;
  /** Everything the server wrote to stderr so far (JSON log lines). */
  stderr(): string;
  /** SIGTERM and wait for exit; resolves with the exit code. */
  stop(): Promise<number | null>;
  /** SIGKILL and wait for exit. */
  kill(): Promise<void>;
}

export async function startServer(options: { dataDir?: string; args?: readonly string[]; env?: Record<string, string> } = {}): Promise<RunningServer> {
  const dataDir = options.dataDir ?? tempDir();
  const child = spawn(
    process.execPath,
    // No self-reporting (strata.* series every minute) unless a test asks: tests count the series they wrote.
    // No warm-up either (it only makes the first requests faster and costs each start ~1 s of
    // CPU per worker); test/integration/warm-up.test.ts runs it.
    [MAIN_JS, '--http-port', '0', '--telnet-port', '0', '--host', '127.0.0.1', '--data-dir', dataDir, '--threads', '2', '--self-report-interval-ms', '0', '--warm-up-points', '0', ...(options.args ?? [])],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...options.env } },
  );
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const ports = await listeningPorts(child, exited, () => err);
  return {
    ...ports,
    dataDir,
    child,
    stderr: () => err,
    async stop() {
      child.kill('SIGTERM');
      return exited;
    },
    async kill() {
      child.kill('SIGKILL');
      await exited;
    },
  };
}

export interface HttpResult {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: Buffer;
  text(): string;
  json(): unknown;
}

/** One HTTP request over a fresh connection (no keep-alive reuse between tests). */
export function request(
  port: number,
  options: { method?: string; path: string; headers?: Record<string, string | number>; body?: string | Buffer; chunked?: boolean },
): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { ...(options.headers ?? {}) };
    const req = http.request({ host: '127.0.0.1', port, method: options.method ?? 'GET', path: options.path, headers, agent: false }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (d: Buffer) => parts.push(d));
      res.on('end', () => {
        const body = Buffer.concat(parts);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, text: () => body.toString('utf8'), json: () => JSON.parse(body.toString('utf8')) });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    if (options.body !== undefined) {
      if (options.chunked) {
        // Two writes without a Content-Length: Node sends Transfer-Encoding: chunked.
        const b = Buffer.from(options.body);
        req.write(b.subarray(0, b.length >> 1));
        req.write(b.subarray(b.length >> 1));
      } else {
        req.setHeader('Content-Length', Buffer.byteLength(options.body));
        req.write(options.body);
      }
    }
    req.end();
  });
}

/** Sends raw bytes on a new connection and collects what comes back until close or `waitMs`. */
export function rawExchange(port: number, bytes: string | Buffer, waitMs = 500): Promise<string> {
  return new Promise((resolve) => {
    let got = '';
    const s = net.connect(port, '127.0.0.1', () => s.write(bytes));
    s.on('data', (d) => (got += d.toString()));
    const done = (): void => {
      s.destroy();
      resolve(got);
    };
    s.on('close', done);
    s.on('error', done);
    setTimeout(done, waitMs);
  });
}
