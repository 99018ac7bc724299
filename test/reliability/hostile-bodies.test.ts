// Hostile bodies against the real server, over real sockets, while a well-behaved KairosDB client
// keeps writing one point at a time and must be answered 204 within 5 s throughout: gzip and
// deflate bombs (zlib-wrapped and raw) on KairosDB ingest and query, OpenTSDB put, CAVE publish
// and OneNET upload; bodies over the wire limit with and without Content-Length (chunked). Each
// refusal is checked in its protocol's envelope. (Aborted uploads: hostile-uploads.test.ts.)
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CredentialStore } from '../../src/auth/index.js';
import { startServer, type RunningServer } from '../helpers/server.js';
import { tempDir } from '../helpers/tmp.js';
import { expectKairosTooLarge, expectServed, header, type SeenAnswer } from './hostile-expect.js';
import { contentEncodingOf, countPoints, encode, httpRequest, parseResponses, processAlive, RawSession, repeatedDocument, sleep, WellBehavedClient, type Encoding } from './hostile-harness.js';

const MAX_BODY_BYTES = 1024 * 1024;
const MAX_INFLATED_BYTES = 8 * 1024 * 1024;
/** What each bomb inflates to: twice the inflated limit. */
const BOMB_BYTES = 2 * MAX_INFLATED_BYTES;
const CAVE_MAX_BODY_BYTES = 102400;
const ENCODINGS: readonly Encoding[] = ['gzip', 'deflate', 'deflate-raw'];

let server: RunningServer;
let caveToken: string;
let oneNetKey: string;

beforeAll(async () => {
  const dataDir = tempDir();
  const store = CredentialStore.open(dataDir, { log: () => undefined });
  caveToken = store.createOrg('hostile').secret;
  oneNetKey = store.createProduct('hostile-product').secret;
  store.createDevice('hostile-product', 'hostile-device');
  server = await startServer({ dataDir, args: ['--max-body-bytes', String(MAX_BODY_BYTES), '--max-inflated-bytes', String(MAX_INFLATED_BYTES)] });
});
afterAll(async () => {
  expect(processAlive(server.child.pid)).toBe(true);
  expect(await server.stop()).toBe(0);
});


interface Target {
  readonly name: string;
  readonly path: string;
  readonly headers: Record<string, string>;
  /** A valid document of about `bytes` (its points go to `metric`). */
  document(bytes: number): Buffer;
  /** Points of this target's documents stored so far. */
  readonly metric?: string;
  expectTooLarge(res: SeenAnswer, message: RegExp, encoding?: Encoding): void;
}



const TARGETS: readonly Target[] = [
  {
    name: 'KairosDB ingest',
    path: '/api/v1/datapoints',
    headers: {},
    metric: 'hostile.bomb.kairos',
    document: (bytes) => repeatedDocument('[', '{"name":"hostile.bomb.kairos","timestamp":1,"value":1,"tags":{"h":"a"}},', bytes),
    expectTooLarge: expectKairosTooLarge,
  },
  {
    name: 'KairosDB query',
    path: '/api/v1/datapoints/query',
    headers: {},
    document: (bytes) => repeatedDocument('{"start_absolute":0,"metrics":[', '{"name":"hostile.good"},', bytes),
    expectTooLarge: expectKairosTooLarge,
  },
  {
    name: 'OpenTSDB put',
    path: '/api/put',
    headers: {},
    metric: 'hostile.bomb.opentsdb',
    document: (bytes) => repeatedDocument('[', '{"metric":"hostile.bomb.opentsdb","timestamp":1,"value":1,"tags":{"h":"a"}},', bytes),
    expectTooLarge: (res, message) => {
      expect(res.status).toBe(413);
      expect(header(res.headers, 'content-type')).toMatch(/^application\/json/);
      const parsed = JSON.parse(res.body) as { error: { code: number; message: string } };
      expect(parsed.error.code).toBe(413);
      expect(parsed.error.message).toMatch(message);
    },
  },
  {
    name: 'CAVE publish',
    path: '/organizations/hostile/metrics',
    headers: { 'Content-Type': 'application/json' },
    metric: 'hostile.bomb.cave',
    document: (bytes) => repeatedDocument('{"metrics":[', '{"name":"hostile.bomb.cave","timestamp":1413540000,"value":1,"tags":{"h":"a"}},', bytes),
    // Play's EntityTooLarge: 413 with an empty body (docs/api/cave.md).
    expectTooLarge: (res) => {
      expect(res.status).toBe(413);
      expect(res.body).toBe('');
    },
  },
];

/** OneNET upload (bombs only: its wire limit is the shared --max-body-bytes, tested above for the others). */
const ONENET: Target = {
  name: 'OneNET upload',
  path: '/devices/hostile-device/datapoints',
  headers: {},
  metric: 'hostile.bomb.onenet',
  document: (bytes) => repeatedDocument('{"datastreams":[{"id":"hostile.bomb.onenet","datapoints":[', '{"at":"2015-03-22T22:31:12","value":1},', bytes),
  // OneNET answers HTTP 200 and decides by errno (protocols.md §4.1); raw deflate is not inflated there.
  expectTooLarge: (res, _message, encoding) => {
    expect(res.status).toBe(200);
    const expected = encoding === 'deflate-raw' ? 'invalid parameter: body is not valid deflate data' : `invalid parameter: decompressed body exceeds ${MAX_INFLATED_BYTES} bytes`;
    expect(JSON.parse(res.body)).toEqual({ errno: 6, error: expected });
  },
};

const authFor = (t: Target): Record<string, string> =>
  t.name.startsWith('CAVE') ? { ...t.headers, Authorization: `Bearer ${caveToken}` } : t.name.startsWith('OneNET') ? { ...t.headers, 'api-key': oneNetKey } : t.headers;

describe('hostile bodies', () => {
  it('refuses gzip and deflate bombs with 413 in each envelope, stores nothing of the all-or-nothing ones, and keeps serving', async () => {
    const bombs = [...TARGETS, ONENET].flatMap((t) => ENCODINGS.map((encoding) => ({ t, encoding, body: encode(t.document(BOMB_BYTES), encoding) })));
    for (const b of bombs) expect(b.body.length).toBeLessThan(BOMB_BYTES / 200); // small encoded, huge decoded
    const good = new WellBehavedClient(server.http).start();
    await sleep(200);
    // All fifteen at once, round after round for at least two seconds.
    const started = performance.now();
    for (let round = 0; round < 2 || performance.now() - started < 2000; round++) {
      const answers = await Promise.all(
        bombs.map(({ t, encoding, body }) =>
          httpRequest(server.http, { method: 'POST', path: t.path, body, headers: { ...authFor(t), 'Content-Encoding': contentEncodingOf(encoding) }, timeoutMs: 30_000 }),
        ),
      );
      answers.forEach((res, i) => {
        const { t, encoding } = bombs[i]!;
        const limit = t.name.startsWith('CAVE') ? CAVE_MAX_BODY_BYTES : MAX_INFLATED_BYTES;
        t.expectTooLarge({ status: res.status, headers: res.headers, body: res.body.toString('utf8') }, new RegExp(`^Decompressed request body exceeds the limit of ${limit} bytes$`), encoding);
      });
    }
    await expectServed(await good.stop(), server.http, 'bombs');
    // OpenTSDB's per-point and CAVE's and OneNET's all-or-nothing uploads store nothing of a body they refuse.
    // KairosDB ingest streams (protocols.md §1.2): objects decoded before the limit are stored, as
    // before a syntax error; this test only requires the 413.
    expect(await countPoints(server.http, 'hostile.bomb.opentsdb')).toBe(0);
    expect(await countPoints(server.http, 'hostile.bomb.cave')).toBe(0);
    expect(await countPoints(server.http, 'hostile.bomb.onenet')).toBe(0);
  });

  it('refuses bodies over the wire limit with 413, with a Content-Length and chunked, and stores nothing of them', async () => {
    const storedBefore = new Map<string, number>();
    for (const t of TARGETS) if (t.metric !== undefined) storedBefore.set(t.metric, await countPoints(server.http, t.metric));
    const good = new WellBehavedClient(server.http, 'hostile.good', 1_700_000_000_000).start();
    const sessions: { t: Target; chunked: boolean; s: RawSession; limit: number; declared: number }[] = [];
    for (const t of TARGETS.filter((x) => x.metric !== undefined)) {
      const limit = t.name.startsWith('CAVE') ? CAVE_MAX_BODY_BYTES : MAX_BODY_BYTES;
      const body = t.document(2 * limit);
      for (const chunked of [false, true]) {
        const s = new RawSession(server.http);
        await s.connected;
        const extra = Object.entries(authFor(t)).map(([k, v]) => `${k}: ${v}\r\n`).join('');
        const framing = chunked ? 'Transfer-Encoding: chunked\r\n' : `Content-Length: ${body.length}\r\n`;
        s.write(`POST ${t.path} HTTP/1.1\r\nHost: x\r\n${extra}${framing}\r\n`);
        // The body in 32 KiB pieces (each its own chunk when chunked), stopping once answered.
        void (async () => {
          for (let at = 0; at < body.length && s.received.length === 0; at += 32 * 1024) {
            const piece = body.subarray(at, at + 32 * 1024);
            if (!s.write(chunked ? Buffer.concat([Buffer.from(`${piece.length.toString(16)}\r\n`), piece, Buffer.from('\r\n')]) : piece)) return;
            await sleep(1);
          }
          if (chunked) s.write('0\r\n\r\n');
        })();
        sessions.push({ t, chunked, s, limit, declared: body.length });
      }
    }
    for (const { t, chunked, s, limit, declared } of sessions) {
      expect(await s.waitFor((text) => parseResponses(Buffer.from(text, 'latin1')).length > 0, 10_000)).toBe(true);
      const [res] = parseResponses(s.received);
      const message = chunked ? `^Request body exceeds the limit of ${limit} bytes$` : `^Request body of ${declared} bytes exceeds the limit of ${limit} bytes$`;
      t.expectTooLarge({ status: res!.status, headers: res!.headers, body: res!.body }, new RegExp(message));
      s.destroy();
    }
    await expectServed(await good.stop(), server.http, 'oversized bodies');
    for (const t of TARGETS) if (t.metric !== undefined) expect(await countPoints(server.http, t.metric)).toBe(storedBefore.get(t.metric));
  });
});
