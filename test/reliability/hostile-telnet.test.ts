// Hostile clients on the line port (telnet put/version, 4242-style), over raw sockets, while a
// well-behaved HTTP client and a well-behaved line client (put + version every 20 ms) must be
// answered within 5 s throughout: 2,000 idle connections (kept open: no idle timeout), lines of
// 1 MB and of 16 MB, binary garbage (with and without line ends, and starting with an upper-case
// letter, which the port relays to HTTP), a client that floods garbage lines and never reads the
// error replies, and an unterminated line at FIN.
import * as fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../helpers/server.js';
import {
  ANSWER_BOUND_MS,
  countPoints,
  formatLatency,
  garbage,
  processAlive,
  RawSession,
  sleep,
  VERSION_LINE,
  WellBehavedClient,
  WellBehavedLineClient,
} from './hostile-harness.js';

const LINE_TOO_LONG = 'error: line too long (more than 1024 bytes)';

let server: RunningServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  expect(processAlive(server.child.pid)).toBe(true);
  expect(await server.stop()).toBe(0);
});

const rssBytes = (key: 'VmRSS' | 'VmHWM'): number => Number(new RegExp(`${key}:\\s+(\\d+) kB`).exec(fs.readFileSync(`/proc/${server.child.pid}/status`, 'utf8'))![1]) * 1024;

/** Writes `data` in `pieceBytes` pieces, waiting for 'drain' (the server may push back). */
async function writeAll(s: RawSession, data: Buffer, pieceBytes = 256 * 1024): Promise<void> {
  for (let at = 0; at < data.length; at += pieceBytes) {
    if (s.socket.destroyed) return;
    if (!s.socket.write(data.subarray(at, at + pieceBytes))) await new Promise((r) => s.socket.once('drain', r));
  }
}

/** Lines received so far that are not the version answer. */
const hasVersion = (t: string): boolean => VERSION_LINE.test(t) && /\nBuilt on [^\n]*\n/.test(t);

describe('the line port under hostile clients', () => {
  it('answers over-long lines and garbage, never buffers without bound, and keeps serving well-behaved clients', async () => {
    // Every attack's bytes are made before the well-behaved clients start (this process times them).
    const longLine = Buffer.from(`put ${'m'.repeat(1024 * 1024)} 1600000000 1 a=b\nput hostile.line.after 1600000000 1 a=b\nversion\n`);
    const endlessLine = Buffer.concat([Buffer.from('put '), Buffer.alloc(16 * 1024 * 1024, 0x61), Buffer.from('\nput hostile.line.after 1600000001 1 a=b\nversion\n')]);
    const junks = Array.from({ length: 8 }, (_, i) => {
      const junk = garbage(2 * 1024 * 1024, i + 1);
      junk[0] = 0x78; // 'x'
      return Buffer.concat([junk, Buffer.from('\nversion\n')]);
    });
    const flat = garbage(4 * 1024 * 1024, 99).map((b) => (b === 0x0a ? 0x20 : b));
    flat[0] = 0x01;
    const flatLine = Buffer.concat([flat, Buffer.from('\nversion\n')]);
    const deafLines = Buffer.from('\x01\n'.repeat(2 * 1024 * 1024));
    const httpishJunk = Buffer.concat([Buffer.from('G'), garbage(64 * 1024, 7)]);

    // 2,000 idle line-port connections first: the line port has no idle timeout (telnet agents
    // hold connections for days; OpenTSDB closes idle ones only when configured to).
    const idle = await Promise.all(
      Array.from({ length: 2000 }, async () => {
        const s = new RawSession(server.telnet);
        await s.connected;
        return s;
      }),
    );

    const goodHttp = new WellBehavedClient(server.http).start();
    const goodLine = new WellBehavedLineClient(server.telnet).start();
    const rssBefore = rssBytes('VmRSS');

    // A 1 MB put line, then a good one and version on the same connection.
    const long = new RawSession(server.telnet);
    await long.connected;
    await writeAll(long, longLine);
    // 16 MB without a line end, then the end, a good put and version.
    const endless = new RawSession(server.telnet);
    await endless.connected;
    const endlessDone = writeAll(endless, endlessLine);
    // Binary garbage, 2 MB on each of 8 connections (first byte lower case: line protocol), then version.
    const noisy = await Promise.all(
      junks.map(async (junk) => {
        const s = new RawSession(server.telnet);
        await s.connected;
        await writeAll(s, junk);
        return s;
      }),
    );
    // Garbage without a single line end.
    const noLineEnds = new RawSession(server.telnet);
    await noLineEnds.connected;
    await writeAll(noLineEnds, flatLine);
    // A client that sends 4 million one-byte garbage lines and never reads the replies.
    const deaf = new RawSession(server.telnet);
    await deaf.connected;
    deaf.socket.pause();
    const deafWrite = writeAll(deaf, deafLines);
    // Garbage that starts with an upper-case letter is relayed to the HTTP port as a request.
    const httpish = new RawSession(server.telnet);
    await httpish.connected;
    httpish.write(httpishJunk);
    // An unterminated put at FIN is dropped, as line framers do.
    const unterminated = new RawSession(server.telnet);
    await unterminated.connected;
    unterminated.write('put hostile.line.unterminated 1600000000 1 a=b');
    unterminated.socket.end();

    expect(await long.waitFor(hasVersion, 10_000)).toBe(true);
    expect(long.text.split('\n').slice(0, 1)).toEqual([LINE_TOO_LONG]);
    expect(long.socket.destroyed).toBe(false);
    await endlessDone;
    expect(await endless.waitFor(hasVersion, 10_000)).toBe(true);
    expect(endless.text.split('\n')[0]).toBe(LINE_TOO_LONG);
    expect(endless.text.split('\n')[1]).toMatch(VERSION_LINE);
    for (const s of noisy) {
      expect(await s.waitFor(hasVersion, 10_000)).toBe(true);
      const replies = s.text.split('\n').slice(0, -3);
      // Every garbage line is answered (OpenTSDB's unknown command, or the over-long line error).
      for (const r of replies) expect(r).toMatch(/^(unknown command: .*\.  Try `help'\.|error: line too long \(more than 1024 bytes\)|\S+: .+)$/s);
      expect(s.socket.destroyed).toBe(false);
    }
    expect(await noLineEnds.waitFor(hasVersion, 10_000)).toBe(true);
    expect(noLineEnds.text.split('\n')[0]).toBe(LINE_TOO_LONG);
    await Promise.race([httpish.closed, sleep(15_000)]);
    console.log(`[hostile] upper-case garbage on the line port: ${JSON.stringify(httpish.text.split('\r\n')[0])}, closed after ${httpish.closedAfterMs} ms`);
    expect(httpish.closedAfterMs).toBeDefined();
    expect(httpish.text === '' || /^HTTP\/1\.1 400 /.test(httpish.text)).toBe(true);
    await Promise.race([unterminated.closed, sleep(5000)]);
    expect(unterminated.closedAfterMs).toBeDefined();
    expect(unterminated.text).toBe('');

    await sleep(1000); // the deaf client's flood meets backpressure meanwhile
    const grewBytes = rssBytes('VmHWM') - rssBefore;
    const lineReport = await goodLine.stop();
    const httpReport = await goodHttp.stop();
    console.log(`[hostile] line port attacks: peak RSS +${Math.round(grewBytes / 1048576)} MiB; well-behaved line client ${formatLatency(lineReport)}; HTTP client ${formatLatency(httpReport)}`);
    deaf.destroy();
    await deafWrite.catch(() => undefined);
    for (const s of [long, endless, ...noisy, noLineEnds]) s.destroy();
    expect(idle.filter((s) => s.closedAfterMs !== undefined)).toEqual([]);
    for (const s of idle) s.destroy();

    // 16 MB lines and 4 MB of replies nobody reads are not held whole.
    expect(grewBytes).toBeLessThan(150 * 1024 * 1024);
    for (const r of [lineReport, httpReport]) {
      expect(r.failures).toEqual([]);
      expect(r.answered).toBeGreaterThan(0);
      expect(r.maxMs).toBeLessThanOrEqual(ANSWER_BOUND_MS);
    }
    expect(await countPoints(server.http, 'hostile.line.good')).toBe(lineReport.storedTimestamps.length);
    expect(await countPoints(server.http, 'hostile.good')).toBe(httpReport.storedTimestamps.length);
    expect(await countPoints(server.http, 'hostile.line.after')).toBe(2);
    expect(await countPoints(server.http, 'hostile.line.unterminated')).toBe(0);
  });
});
