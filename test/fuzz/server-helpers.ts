// Shared by the server-level fuzz slices (server-*.test.ts): inputs from the fuzz generators,
// a small request pool, and raw line-port and request-line helpers.
import * as net from 'node:net';
import { request, type HttpResult } from '../helpers/server.js';
import { Rng, hashString } from './rng.js';
import { targetByName, type FuzzInput } from './targets.js';

export const SEED = Number(process.env['FUZZ_SEED'] ?? 1);
/** Requests per endpoint (a few hundred in all per protocol). */
export const PER_ENDPOINT = Number(process.env['FUZZ_SERVER_INPUTS'] ?? 250);
export const TENANTS = PER_ENDPOINT;

export function inputs(target: string, n: number, salt = 0): FuzzInput[] {
  const t = targetByName(target);
  const stream = hashString(`server:${target}:${salt}`);
  return Array.from({ length: n }, (_, i) => t.generate(new Rng(SEED, stream, i)));
}

/** Runs `f` over `items` with at most `width` in flight. */
export async function pool<T>(items: readonly T[], width: number, f: (item: T, i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) {
        const i = next++;
        await f(items[i]!, i);
      }
    }),
  );
}

export const post = (port: number, path: string, body: Uint8Array, headers: Record<string, string> = {}): Promise<HttpResult> =>
  request(port, { method: 'POST', path, body: Buffer.from(body), headers });

export function json(res: HttpResult, what: string): unknown {
  try {
    return res.json();
  } catch {
    throw new Error(`${what}: ${res.status} body is not JSON: ${res.text().slice(0, 300)}`);
  }
}

/** A query string as a client would put it on the request line: bytes outside '!'..'~' (and '#') %-escaped, stray '%'s kept. */
export function pathSafe(bytes: Uint8Array): string {
  let out = '';
  for (const b of bytes) out += b > 0x20 && b < 0x7f && b !== 0x23 ? String.fromCharCode(b) : `%${b.toString(16).padStart(2, '0').toUpperCase()}`;
  return out;
}

/** Writes `bytes` to the line port and reads until `until` appears (or the port closes); 10 s at most. */
export function lineExchange(port: number, bytes: Buffer, until: string): Promise<{ text: string; closed: boolean }> {
  return new Promise((resolve, reject) => {
    let text = '';
    let settled = false;
    const s = net.connect(port, '127.0.0.1', () => s.write(bytes));
    const finish = (closed: boolean): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      s.destroy();
      resolve({ text, closed });
    };
    const timer = setTimeout(() => {
      settled = true;
      s.destroy();
      reject(new Error(`line port: no answer containing ${until} within 10 s; got ${JSON.stringify(text.slice(-300))}`));
    }, 10_000);
    s.on('data', (d: Buffer) => {
      text += d.toString('utf8');
      const at = text.indexOf(until);
      if (at >= 0 && text.indexOf('\n', at) >= 0) finish(false);
    });
    s.on('close', () => finish(true));
    s.on('error', () => finish(true));
  });
}
