// The crash loop (docs/guarantees.md §1): starts the real built server (dist/src/main.js) on one
// data directory, drives mixed ingest over real sockets — KairosDB POST /api/v1/datapoints,
// OpenTSDB POST /api/put (plain and ?details), line-port put/putm — plus admin-API credential
// writes, SIGKILLs it at random moments (some chosen while a compaction is writing or committing,
// some while a credential write is in flight), restarts it on the same directory and checks
// through the query APIs and the credential store that nothing acknowledged was lost and nothing
// unacknowledged is half-visible in a way the protocol forbids. Runs under vitest
// (crash-loop.test.ts, short) and from dist (crash-loop-cli.ts, long). Imports nothing of vitest.
//
// What "acknowledged" means here, per path:
// - HTTP ingest: the response arrived with a 2xx status (204, or 200 for ?details with failed 0).
// - Line port: put/putm have no answer; a line is acknowledged once a later `version` on the same
//   connection was answered with no error line before it (the server answers a connection's lines
//   in order, after the burst holding them was appended: src/telnet/listener.ts).
// - Credentials: the admin API answered 201 with the secret.
//
// Half-visible (what must never be seen, acknowledged or not), checked after every restart:
// 1. a point that was never sent, or a sent point under another series, at another timestamp or
//    with any other value than the exact one sent (torn, corrupted or misattributed data);
// 2. a series twice (two lookup entries or two query results for one metric + tag set), or two
//    points of one series at one timestamp (every point sent has a unique series+timestamp);
// 3. a gap: the visible points of an unacknowledged HTTP request must be a prefix of its points in
//    body order (KairosDB and OpenTSDB do not make a request atomic; Strata appends a body in
//    order, all-or-nothing per append, and a body under 65,536 points is one append), and the
//    visible lines of a line-port connection must be a prefix of the lines it sent;
// 4. a point that was visible after one restart and is gone after a later one (a recovery that
//    keeps data must keep it for good);
// 5. a credential change half applied: the store must open, every acknowledged org/token must
//    authenticate with its secret, and an unacknowledged org exists either not at all or with its
//    one default token, an unacknowledged token either not at all or once with its scopes.
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ADMIN_TOKEN_FILE, CredentialStore } from '../../src/auth/index.js';
import { seededRandom } from '../helpers/batches.js';
import { listeningPorts } from '../helpers/listening.js';

const here = path.dirname(fileURLToPath(import.meta.url));
/** dist/src/main.js, whether this file runs from test/reliability (vitest) or dist/test/reliability. */
const MAIN_JS = here.includes(`${path.sep}dist${path.sep}`) ? path.resolve(here, '../../src/main.js') : path.resolve(here, '../../dist/src/main.js');

/** Timestamp of point number 0; point n is at T0_MS + n, so (series, timestamp) is unique per point. */
const T0_MS = 1_600_000_000_000;
/** Series per channel (tag s=0..SERIES_PER_CHANNEL-1). */
const SERIES_PER_CHANNEL = 8;
/** Ingest channels: the metric each writes and how. */
const CHANNELS = ['crash.kairos', 'crash.otsdb', 'crash.put', 'crash.putm'] as const;
const KAIROS = 0;
const OTSDB = 1;
const PUT = 2;
const PUTM = 3;
/** Segment header bytes [6, 8): kind, 1 = compaction output (docs/format/segment.md). */
const SEGMENT_KIND_OFFSET = 6;
const SEGMENT_KIND_COMPACTED = 1;

export interface CrashLoopOptions {
  /** SIGKILLs to survive (the server is started kills + 1 times). */
  readonly kills: number;
  readonly seed?: number;
  /** Worker threads (shards). Default 2. */
  readonly threads?: number;
  /** Small segments roll often, so compactions come quickly. Default 32 KiB. */
  readonly segmentBytes?: number;
  /** The workers' compaction check period (--compact-check-ms). Default 100 ms. */
  readonly compactCheckMs?: number;
  readonly sync?: 'interval' | 'always' | 'never';
  /** Concurrent HTTP ingest clients. Default 3. */
  readonly httpClients?: number;
  /** Concurrent line-port connections. Default 2. */
  readonly lineConnections?: number;
  /** Up-time before a random kill: uniform in [minUpMs, maxUpMs]. Defaults 150, 900. */
  readonly minUpMs?: number;
  readonly maxUpMs?: number;
  /** Points per series run in a request, and lines per line-port chunk: 1..maxPointsPerRun. Default 30. */
  readonly maxPointsPerRun?: number;
  /** Pause of each client between requests (0..pauseMs ms). Default 2. */
  readonly pauseMs?: number;
  /** Verify everything every this many restarts (else only what the last two lives wrote). Default 1. */
  readonly fullVerifyEvery?: number;
  /** Data directory; default a fresh one under the OS temp dir (removed on success unless keep). */
  readonly dataDir?: string;
  readonly keep?: boolean;
  readonly log?: (line: string) => void;
}

export interface CrashLoopReport {
  readonly seed: number;
  readonly dataDir: string;
  readonly kills: number;
  /** Kills that left a compaction output being written (.seg.tmp of a compacted segment). */
  readonly killsWhileCompactionWriting: number;
  /** Kills after which recovery committed or rolled back a compaction (between its commit steps). */
  readonly killsWhileCompactionCommitting: number;
  /** Kills with an admin credential write sent and not answered. */
  readonly killsWhileCredentialWrite: number;
  readonly compactionsFinished: number;
  readonly requestsAcknowledged: number;
  readonly requestsUnacknowledged: number;
  readonly pointsSent: number;
  readonly pointsAcknowledged: number;
  /** Acknowledged points not read back: must be 0. */
  readonly pointsLost: number;
  /** Sent, not acknowledged, visible after the restart (allowed). */
  readonly pointsUnacknowledgedVisible: number;
  readonly credentialsAcknowledged: number;
  readonly credentialsUnacknowledged: number;
  /** Unacknowledged credential writes found whole after the restart (the rest: not at all). */
  readonly credentialsUnacknowledgedPresent: number;
  /** Every broken rule, in words; empty when the run passed. */
  readonly violations: readonly string[];
  readonly elapsedMs: number;
}


/** The exact value sent for point n: integers, quarter fractions, negatives and 3-decimal values. */
export function valueOf(n: number): number {
  switch (n & 3) {
    case 0:
      return n;
    case 1:
      return n + 0.25;
    case 2:
      return -(n * 1.5);
    default:
      return n / 1000;
  }
}

/** A sequence of points written by one HTTP request or one line-port connection, in send order. */
interface Owner {
  readonly kind: 'http' | 'line';
  readonly label: string;
  /** [first point, count] ranges in send order (one per request; one per chunk on a connection). */
  readonly ranges: [number, number][];
  /** Points of the owner acknowledged, counted in send order from the first. */
  acked: number;
  /** The line port answered an error line: which lines were refused is not known. */
  errored: boolean;
}

/** Every point sent: its channel, series, owner; whether acknowledged; whether ever seen. */
class PointLog {
  count = 0;
  channel: Uint8Array<ArrayBuffer> = new Uint8Array(1 << 16);
  series: Uint8Array<ArrayBuffer> = new Uint8Array(1 << 16);
  owner: Int32Array<ArrayBuffer> = new Int32Array(1 << 16);
  acked: Uint8Array<ArrayBuffer> = new Uint8Array(1 << 16);
  seen: Uint8Array<ArrayBuffer> = new Uint8Array(1 << 16);

  allocate(channel: number, series: number, owner: number): number {
    if (this.count === this.channel.length) this.grow();
    const n = this.count++;
    this.channel[n] = channel;
    this.series[n] = series;
    this.owner[n] = owner;
    return n;
  }

  private grow(): void {
    const size = this.channel.length * 2;
    const grow8 = (a: Uint8Array): Uint8Array<ArrayBuffer> => {
      const b = new Uint8Array(size);
      b.set(a);
      return b;
    };
    this.channel = grow8(this.channel);
    this.series = grow8(this.series);
    this.acked = grow8(this.acked);
    this.seen = grow8(this.seen);
    const owner = new Int32Array(size);
    owner.set(this.owner);
    this.owner = owner;
  }
}

interface Credential {
  readonly kind: 'org' | 'token';
  readonly org: string;
  readonly scopes: string[];
  readonly description: string;
  acked: boolean;
  secret?: string;
}

interface HttpAnswer {
  readonly status: number;
  readonly body: string;
}

function httpRequest(port: number, method: string, urlPath: string, body: string | undefined, headers: Record<string, string> = {}): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path: urlPath, headers, agent: false }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (d: Buffer) => parts.push(d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(parts).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    if (body !== undefined) {
      req.setHeader('Content-Type', 'application/json');
      req.setHeader('Content-Length', Buffer.byteLength(body));
      req.write(body);
    }
    req.end();
  });
}

interface Server {
  readonly child: ChildProcess;
  readonly http: number;
  readonly telnet: number;
  readonly exited: Promise<void>;
  stderr(): string;
}

async function startServer(dataDir: string, args: readonly string[]): Promise<Server> {
  const child = spawn(process.execPath, [MAIN_JS, '--http-port', '0', '--telnet-port', '0', '--host', '127.0.0.1', '--data-dir', dataDir, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const ports = await listeningPorts(child, exited, () => err);
  return { child, http: ports.http, telnet: ports.telnet, exited, stderr: () => err };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Runs the loop; resolves with the figures (violations listed, never thrown). */
export async function runCrashLoop(options: CrashLoopOptions): Promise<CrashLoopReport> {
  const started = Date.now();
  const seed = options.seed ?? (Date.now() % 2 ** 31);
  const rng = seededRandom(seed);
  const rand = (lo: number, hi: number): number => lo + Math.floor(rng() * (hi - lo + 1));
  const say = options.log ?? (() => {});
  const dataDir = options.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'strata-crash-loop-'));
  const minUpMs = options.minUpMs ?? 150;
  const maxUpMs = options.maxUpMs ?? 900;
  const fullVerifyEvery = Math.max(1, options.fullVerifyEvery ?? 1);
  const maxRun = options.maxPointsPerRun ?? 30;
  const pauseMs = options.pauseMs ?? 2;
  const serverArgs = [
    '--threads', String(options.threads ?? 2),
    '--segment-bytes', String(options.segmentBytes ?? 32 * 1024),
    '--compact-check-ms', String(options.compactCheckMs ?? 100),
    '--sync', options.sync ?? 'interval',
  ];

  const points = new PointLog();
  const owners: Owner[] = [];
  const credentials: Credential[] = [];
  const violations: string[] = [];
  const violate = (what: string): void => {
    if (violations.length < 200) violations.push(what);
    say(`VIOLATION ${what}`);
  };
  let requestsAcked = 0;
  let requestsUnacked = 0;
  let killsCompactionWriting = 0;
  let killsCompactionCommitting = 0;
  let killsCredential = 0;
  let compactionsFinished = 0;
  let credentialsPresent = 0;
  let nextOrg = 0;
  let nextToken = 0;
  /** First point of the previous life: windowed verification reads from there on. */
  let windowStart = 0;
  let lifeStart = 0;
  let adminToken = '';
  /** Acknowledged points missing at the last verification (the final one reads everything). */
  let lastLost = 0;
  /** HTTP ingest answers by status. */
  const statuses = new Map<number, number>();

  // ------------------------------------------------------------------ load

  /** Builds one HTTP ingest request: points numbered in body order. */
  function httpBody(channel: number, owner: number): { path: string; body: string; first: number; count: number; details: boolean } {
    const groups = rand(1, 3);
    const first = points.count;
    if (channel === KAIROS) {
      const metrics: unknown[] = [];
      for (let g = 0; g < groups; g++) {
        const s = rand(0, SERIES_PER_CHANNEL - 1);
        const k = rand(1, maxRun);
        if (k === 1 && rng() < 0.5) {
          const n = points.allocate(KAIROS, s, owner);
          metrics.push({ name: CHANNELS[KAIROS], tags: { s: String(s) }, timestamp: T0_MS + n, value: valueOf(n) });
          continue;
        }
        const datapoints: [number, number][] = [];
        for (let i = 0; i < k; i++) {
          const n = points.allocate(KAIROS, s, owner);
          datapoints.push([T0_MS + n, valueOf(n)]);
        }
        metrics.push({ name: CHANNELS[KAIROS], tags: { s: String(s) }, datapoints });
      }
      return { path: '/api/v1/datapoints', body: JSON.stringify(metrics), first, count: points.count - first, details: false };
    }
    const list: unknown[] = [];
    for (let g = 0; g < groups; g++) {
      const s = rand(0, SERIES_PER_CHANNEL - 1);
      const k = rand(1, maxRun);
      for (let i = 0; i < k; i++) {
        const n = points.allocate(OTSDB, s, owner);
        const v = valueOf(n);
        list.push({ metric: CHANNELS[OTSDB], timestamp: T0_MS + n, value: n % 5 === 0 ? String(v) : v, tags: { s: String(s) } });
      }
    }
    const details = rng() < 0.5;
    return { path: details ? '/api/put?details' : '/api/put', body: JSON.stringify(list), first, count: points.count - first, details };
  }

  async function httpClient(server: Server, stop: { now: boolean }): Promise<void> {
    while (!stop.now) {
      const channel = rng() < 0.5 ? KAIROS : OTSDB;
      const ownerId = owners.length;
      const req = httpBody(channel, ownerId);
      const owner: Owner = { kind: 'http', label: `${req.path} #${ownerId}`, ranges: [[req.first, req.count]], acked: 0, errored: false };
      owners.push(owner);
      let ok = false;
      try {
        const answer = await httpRequest(server.http, 'POST', req.path, req.body);
        if (req.details) {
          const parsed = answer.status === 200 ? (JSON.parse(answer.body) as { success: number; failed: number }) : undefined;
          ok = parsed !== undefined && parsed.failed === 0 && parsed.success === req.count;
          if (answer.status === 200 && !ok) violate(`${owner.label}: valid points refused: ${answer.body.slice(0, 200)}`);
        } else {
          ok = answer.status === 204;
        }
        statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
        if (!ok && answer.status !== 503) violate(`${owner.label}: unexpected answer ${answer.status} ${answer.body.slice(0, 200)}`);
      } catch {
        // The server was killed under this request: not acknowledged.
      }
      if (ok) {
        owner.acked = req.count;
        for (let n = req.first; n < req.first + req.count; n++) points.acked[n] = 1;
        requestsAcked++;
      } else requestsUnacked++;
      if (pauseMs > 0) await sleep(rand(0, pauseMs));
    }
  }

  /** One line-port connection: chunks of put/putm lines, each followed by `version`. */
  async function lineClient(server: Server, stop: { now: boolean }): Promise<void> {
    const ownerId = owners.length;
    const owner: Owner = { kind: 'line', label: `line connection #${ownerId}`, ranges: [], acked: 0, errored: false };
    owners.push(owner);
    const socket = net.connect(server.telnet, '127.0.0.1');
    let received = '';
    let versionsAnswered = 0;
    let closed = false;
    let wake: (() => void) | undefined;
    socket.on('data', (d: Buffer) => {
      received += d.toString('utf8');
      let nl: number;
      while ((nl = received.indexOf('\n')) >= 0) {
        const line = received.slice(0, nl);
        received = received.slice(nl + 1);
        if (line.startsWith('net.opentsdb.tools ')) continue;
        if (line.startsWith('Built on ')) versionsAnswered++;
        else if (!owner.errored) {
          owner.errored = true;
          say(`${owner.label}: error line ${JSON.stringify(line)}`);
        }
      }
      wake?.();
    });
    const done = (): void => {
      closed = true;
      wake?.();
    };
    socket.on('error', done);
    socket.on('close', done);
    /** Points per chunk sent so far, for turning answered versions into acknowledged lines. */
    const chunkEnds: number[] = [];
    let sentPoints = 0;
    while (!stop.now && !closed) {
      const first = points.count;
      const k = rand(1, maxRun);
      let text = '';
      for (let i = 0; i < k; i++) {
        const channel = rng() < 0.5 ? PUT : PUTM;
        const s = rand(0, SERIES_PER_CHANNEL - 1);
        const n = points.allocate(channel, s, ownerId);
        text += `${channel === PUT ? 'put' : 'putm'} ${CHANNELS[channel]} ${T0_MS + n} ${valueOf(n)} s=${s}\n`;
      }
      owner.ranges.push([first, k]);
      sentPoints += k;
      chunkEnds.push(sentPoints);
      socket.write(`${text}version\n`);
      const chunk = chunkEnds.length;
      while (versionsAnswered < chunk && !closed) await new Promise<void>((r) => (wake = r));
      wake = undefined;
      if (versionsAnswered >= chunk && !owner.errored) owner.acked = sentPoints;
      if (pauseMs > 0) await sleep(rand(0, pauseMs));
    }
    if (!closed) socket.end();
    // Lines acknowledged in send order: mark them.
    let left = owner.acked;
    for (const [first, count] of owner.ranges) {
      const m = Math.min(left, count);
      for (let n = first; n < first + m; n++) points.acked[n] = 1;
      left -= m;
    }
  }

  /** One admin-API credential write: a new organization (with its default token) or a token in one. */
  async function credentialWrite(server: Server): Promise<void> {
    const withRoom = credentials.filter((c) => c.kind === 'org' && c.acked && credentials.filter((t) => t.org === c.org).length < 3);
    let cred: Credential;
    let urlPath: string;
    let body: unknown;
    if (withRoom.length > 0 && rng() < 0.5) {
      const org = withRoom[rand(0, withRoom.length - 1)]!.org;
      cred = { kind: 'token', org, scopes: rng() < 0.5 ? ['read'] : ['publish', 'read'], description: `crash-token-${nextToken++}`, acked: false };
      urlPath = `/admin/v1/cave/orgs/${org}/tokens`;
      body = { scopes: cred.scopes, description: cred.description };
    } else {
      cred = { kind: 'org', org: `crash-org-${nextOrg++}`, scopes: ['publish', 'read'], description: 'default', acked: false };
      urlPath = '/admin/v1/cave/orgs';
      body = { name: cred.org, scopes: cred.scopes };
    }
    credentials.push(cred);
    try {
      const answer = await httpRequest(server.http, 'POST', urlPath, JSON.stringify(body), { Authorization: `Bearer ${adminToken}` });
      if (answer.status === 201) {
        cred.acked = true;
        cred.secret = (JSON.parse(answer.body) as { secret: string }).secret;
      } else violate(`credential write ${urlPath}: unexpected answer ${answer.status} ${answer.body.slice(0, 200)}`);
    } catch {
      // Killed under it: not acknowledged.
    }
  }

  // ------------------------------------------------------------------ verification

  /** Reads points [from, sent) back; returns how many acknowledged ones are missing. */
  async function verifyPoints(server: Server, from: number): Promise<number> {
    const to = points.count;
    if (to <= from) return 0;
    const visible = new Uint8Array(to - from);
    const startMs = T0_MS + from;
    const endMs = T0_MS + to;
    const note = (channel: number, s: number, t: number, v: unknown, via: string): void => {
      const n = t - T0_MS;
      if (!Number.isInteger(n) || n < from || n >= to) {
        violate(`${via}: point never sent: ${CHANNELS[channel]}{s=${s}} t=${t} v=${String(v)}`);
        return;
      }
      if (points.channel[n] !== channel || points.series[n] !== s) {
        violate(`${via}: point ${n} under the wrong series ${CHANNELS[channel]}{s=${s}} (sent to ${CHANNELS[points.channel[n]!]}{s=${points.series[n]}})`);
        return;
      }
      if (typeof v !== 'number' || v !== valueOf(n)) violate(`${via}: point ${n} reads ${JSON.stringify(v)}, sent ${valueOf(n)}`);
      if (visible[n - from]) violate(`${via}: point ${n} (${CHANNELS[channel]}{s=${s}} t=${t}) read twice`);
      visible[n - from] = 1;
    };

    // KairosDB reads kairos and putm points, one group per series.
    const kairos = await httpRequest(
      server.http,
      'POST',
      '/api/v1/datapoints/query',
      JSON.stringify({
        start_absolute: startMs,
        end_absolute: endMs,
        metrics: [KAIROS, PUTM].map((c) => ({ name: CHANNELS[c], group_by: [{ name: 'tag', tags: ['s'] }] })),
      }),
    );
    if (kairos.status !== 200) throw new Error(`KairosDB query: ${kairos.status} ${kairos.body.slice(0, 300)}`);
    const kq = JSON.parse(kairos.body) as { queries: { results: { name: string; tags: Record<string, string[]>; values: [number, unknown][] }[] }[] };
    for (const q of kq.queries) {
      for (const r of q.results) {
        if (r.values.length === 0) continue;
        const channel = CHANNELS.indexOf(r.name as (typeof CHANNELS)[number]);
        const sTags = r.tags['s'] ?? [];
        if (sTags.length !== 1) {
          violate(`KairosDB: group of ${r.name} with tags ${JSON.stringify(r.tags)}`);
          continue;
        }
        for (const [t, v] of r.values) note(channel, Number(sTags[0]), t, v, 'KairosDB');
      }
    }
    // OpenTSDB reads otsdb and put points; aggregator none keeps every series apart. One query per
    // metric: a metric nothing of which is stored yet fails its whole query (400, "No such name").
    for (const channel of [OTSDB, PUT]) {
      const otsdb = await httpRequest(
        server.http,
        'POST',
        '/api/query',
        JSON.stringify({ start: startMs, end: endMs, msResolution: true, queries: [{ metric: CHANNELS[channel], aggregator: 'none' }] }),
      );
      if (otsdb.status === 400 && otsdb.body.includes('No such name')) continue;
      if (otsdb.status !== 200) throw new Error(`OpenTSDB query: ${otsdb.status} ${otsdb.body.slice(0, 300)}`);
      const results = JSON.parse(otsdb.body) as { metric: string; tags: Record<string, string>; dps: Record<string, unknown> }[];
      const seriesSeen = new Set<string>();
      for (const r of results) {
        const key = `${r.metric}${JSON.stringify(r.tags)}`;
        if (seriesSeen.has(key)) violate(`OpenTSDB: series ${key} returned twice`);
        seriesSeen.add(key);
        if (r.metric !== CHANNELS[channel] || Object.keys(r.tags).join() !== 's') violate(`OpenTSDB: series ${key} was never written`);
        for (const [t, v] of Object.entries(r.dps)) note(channel, Number(r.tags['s']), Number(t), v, 'OpenTSDB');
      }
    }

    let lost = 0;
    let vanished = 0;
    for (let n = from; n < to; n++) {
      const v = visible[n - from]!;
      if (points.acked[n] && !v) {
        if (lost++ < 5) violate(`acknowledged point ${n} (${CHANNELS[points.channel[n]!]}{s=${points.series[n]}} t=${T0_MS + n}, ${owners[points.owner[n]!]!.label}) lost`);
      } else if (points.seen[n] && !v) {
        if (vanished++ < 5) violate(`point ${n} (${CHANNELS[points.channel[n]!]}) was visible after an earlier restart and is gone`);
      }
      if (v) points.seen[n] = 1;
    }
    if (lost > 5) violate(`… ${lost} acknowledged points lost in all`);
    lastLost = lost;
    if (vanished > 5) violate(`… ${vanished} earlier-visible points gone in all`);

    // Prefix rule per owner (only owners wholly inside the window).
    for (const owner of owners) {
      if (owner.ranges.length === 0 || owner.ranges[0]![0] < from) continue;
      let gap = false;
      for (const [first, count] of owner.ranges) {
        for (let n = first; n < first + count; n++) {
          if (!visible[n - from]) gap = true;
          else if (gap && !owner.errored) {
            violate(`${owner.label}: point ${n} visible after an invisible earlier point of the same ${owner.kind === 'http' ? 'request' : 'connection'}`);
            break;
          }
        }
      }
    }
    return lost;
  }

  async function verifySeries(server: Server): Promise<void> {
    for (const metric of CHANNELS) {
      const answer = await httpRequest(server.http, 'POST', '/api/search/lookup', JSON.stringify({ metric, tags: [], limit: 1000 }));
      if (answer.status === 404) continue; // nothing of this metric stored yet
      if (answer.status !== 200) throw new Error(`lookup ${metric}: ${answer.status} ${answer.body.slice(0, 300)}`);
      const results = (JSON.parse(answer.body) as { results: { metric: string; tags: Record<string, string> }[] }).results;
      const keys = results.map((r) => `${r.metric}${JSON.stringify(r.tags)}`);
      if (new Set(keys).size !== keys.length) violate(`lookup ${metric}: a series listed twice: ${keys.join(' ')}`);
      for (const r of results) {
        const s = Number(r.tags['s']);
        if (r.metric !== metric || Object.keys(r.tags).join() !== 's' || !(s >= 0 && s < SERIES_PER_CHANNEL)) violate(`lookup ${metric}: a series never written: ${JSON.stringify(r)}`);
      }
    }
  }

  async function verifyCredentials(server: Server): Promise<void> {
    let store: CredentialStore;
    try {
      store = CredentialStore.open(dataDir, { log: () => undefined });
    } catch (err) {
      violate(`the credential store does not open: ${(err as Error).message}`);
      return;
    }
    const listed = await httpRequest(server.http, 'GET', '/admin/v1/cave/orgs', undefined, { Authorization: `Bearer ${adminToken}` });
    if (listed.status !== 200) violate(`admin API lists no organizations after the restart: ${listed.status} ${listed.body.slice(0, 200)}`);
    const requestedOrgs = new Set(credentials.filter((c) => c.kind === 'org').map((c) => c.org));
    for (const org of store.listOrgs()) {
      if (!requestedOrgs.has(org.name)) violate(`credential store: organization ${org.name} was never requested`);
    }
    credentialsPresent = 0;
    for (const c of credentials) {
      const orgThere = store.hasOrg(c.org);
      const tokens = orgThere ? store.listCaveTokens(c.org) : [];
      const matching = tokens.filter((t) => t.description === c.description && (c.kind === 'token' || t.team === undefined));
      if (c.acked) {
        const grant = store.authenticateCaveToken(c.secret!);
        if (!grant || grant.org !== c.org) violate(`acknowledged ${c.kind} ${c.org}/${c.description}: its secret no longer authenticates`);
        if (matching.length !== 1 || matching[0]!.scopes.join() !== c.scopes.join()) violate(`acknowledged ${c.kind} ${c.org}/${c.description}: listed ${JSON.stringify(matching)}`);
        continue;
      }
      if (c.kind === 'org') {
        if (!orgThere) continue;
        credentialsPresent++;
        if (tokens.length < 1 || tokens[0]!.description !== 'default' || tokens[0]!.scopes.join() !== c.scopes.join()) {
          violate(`unacknowledged organization ${c.org} half there: tokens ${JSON.stringify(tokens)}`);
        }
      } else {
        if (matching.length === 0) continue;
        credentialsPresent++;
        if (matching.length !== 1 || matching[0]!.scopes.join() !== c.scopes.join()) violate(`unacknowledged token ${c.org}/${c.description} half there: ${JSON.stringify(matching)}`);
      }
    }
  }

  async function verify(server: Server, life: number, full: boolean): Promise<void> {
    const at = Date.now();
    await verifyPoints(server, full ? 0 : windowStart);
    await verifySeries(server);
    await verifyCredentials(server);
    say(`life ${life}: verified ${full ? 'all' : `points from ${windowStart}`} (${points.count} sent) in ${Date.now() - at} ms, ${violations.length} violations so far`);
  }

  // ------------------------------------------------------------------ kill moments

  /** Resolves when a compaction output appears in any shard directory (or never). */
  function watchCompaction(): { seen: Promise<void>; close(): void } {
    const watchers: fs.FSWatcher[] = [];
    let fire!: () => void;
    const seen = new Promise<void>((r) => (fire = r));
    const shardsDir = path.join(dataDir, 'shards');
    const isCompactionOutput = (file: string): boolean => {
      try {
        const fd = fs.openSync(file, 'r');
        try {
          const b = Buffer.alloc(8);
          return fs.readSync(fd, b, 0, 8, 0) === 8 && b.readUInt16LE(SEGMENT_KIND_OFFSET) === SEGMENT_KIND_COMPACTED;
        } finally {
          fs.closeSync(fd);
        }
      } catch {
        return false;
      }
    };
    for (const shard of fs.existsSync(shardsDir) ? fs.readdirSync(shardsDir) : []) {
      const dir = path.join(shardsDir, shard);
      try {
        watchers.push(
          fs.watch(dir, (_event, name) => {
            if (name && name.endsWith('.seg.tmp') && isCompactionOutput(path.join(dir, name))) fire();
          }),
        );
      } catch {
        // A shard directory that vanished: nothing to watch.
      }
    }
    return { seen, close: () => watchers.forEach((w) => w.close()) };
  }

  /** After the kill: is a compaction output half written (a compacted .seg.tmp)? */
  function compactionTmpLeft(): boolean {
    const shardsDir = path.join(dataDir, 'shards');
    for (const shard of fs.existsSync(shardsDir) ? fs.readdirSync(shardsDir) : []) {
      const dir = path.join(shardsDir, shard);
      for (const name of fs.readdirSync(dir)) {
        if (!name.endsWith('.seg.tmp')) continue;
        const b = Buffer.alloc(8);
        const fd = fs.openSync(path.join(dir, name), 'r');
        try {
          if (fs.readSync(fd, b, 0, 8, 0) === 8 && b.readUInt16LE(SEGMENT_KIND_OFFSET) === SEGMENT_KIND_COMPACTED) return true;
        } finally {
          fs.closeSync(fd);
        }
      }
    }
    return false;
  }

  // ------------------------------------------------------------------ the loop

  let server = await startServer(dataDir, serverArgs);
  adminToken = fs.readFileSync(path.join(dataDir, ADMIN_TOKEN_FILE), 'utf8').trim();
  let kills = 0;
  try {
    for (let life = 0; ; life++) {
      const full = life % fullVerifyEvery === 0 || life === options.kills;
      await verify(server, life, full);
      if (life === options.kills) break;
      windowStart = lifeStart;
      lifeStart = points.count;

      // Now and then one credential write before the load, so some are acknowledged even when
      // the lives are short (the admin writer thread starts on a process's first change).
      if (life % 5 === 0) await credentialWrite(server);
      const stop = { now: false };
      const clients: Promise<void>[] = [];
      for (let i = 0; i < (options.httpClients ?? 3); i++) clients.push(httpClient(server, stop));
      for (let i = 0; i < (options.lineConnections ?? 2); i++) clients.push(lineClient(server, stop));
      const credentialLoop = (async () => {
        while (!stop.now) {
          await sleep(rand(50, 250));
          if (!stop.now) await credentialWrite(server);
        }
      })();

      const mode = rng();
      let credentialInFlight = false;
      if (mode < 0.3) {
        // While a compaction writes its outputs: kill 0-20 ms after one appears.
        const watch = watchCompaction();
        const outcome = await Promise.race([watch.seen.then(() => 'compaction' as const), sleep(maxUpMs * 2).then(() => 'timeout' as const)]);
        watch.close();
        if (outcome === 'compaction' && rng() < 0.5) await sleep(rand(0, 10));
      } else if (mode < 0.5) {
        // While a credential write is in flight: kill 0-8 ms after sending it.
        await sleep(rand(minUpMs, maxUpMs));
        credentialInFlight = true;
        let answered = false;
        void credentialWrite(server).then(() => (answered = true));
        await sleep(rand(0, 8));
        if (answered) credentialInFlight = false;
      } else {
        await sleep(rand(minUpMs, maxUpMs));
      }
      server.child.kill('SIGKILL');
      await server.exited;
      kills++;
      stop.now = true;
      if (credentialInFlight) killsCredential++;
      await Promise.all([...clients, credentialLoop]);
      if (compactionTmpLeft()) killsCompactionWriting++;
      compactionsFinished += (server.stderr().match(/"event":"shard\.compacted"/g) ?? []).length;
      // This life's recovery finished a compaction the previous kill interrupted between its steps.
      if (/"event":"compaction\.(committed|rolled_back)_at_recovery"/.test(server.stderr())) killsCompactionCommitting++;

      const restartAt = Date.now();
      server = await startServer(dataDir, serverArgs);
      say(`restart took ${Date.now() - restartAt} ms; answers so far ${JSON.stringify([...statuses])}`);
      say(`kill ${kills}: ${mode < 0.3 ? 'compaction' : mode < 0.5 ? 'credential' : 'random'} moment, ${points.count - lifeStart} points sent in that life`);
    }
  } finally {
    server.child.kill('SIGTERM');
    await Promise.race([server.exited, sleep(5000)]);
    server.child.kill('SIGKILL');
    if (/"event":"compaction\.(committed|rolled_back)_at_recovery"/.test(server.stderr())) killsCompactionCommitting++;
  }

  let pointsAcked = 0;
  let unackedVisible = 0;
  for (let n = 0; n < points.count; n++) {
    if (points.acked[n]) pointsAcked++;
    else if (points.seen[n]) unackedVisible++;
  }
  if (violations.length === 0 && !options.keep && options.dataDir === undefined) fs.rmSync(dataDir, { recursive: true, force: true });
  return {
    seed,
    dataDir,
    kills,
    killsWhileCompactionWriting: killsCompactionWriting,
    killsWhileCompactionCommitting: killsCompactionCommitting,
    killsWhileCredentialWrite: killsCredential,
    compactionsFinished,
    requestsAcknowledged: requestsAcked,
    requestsUnacknowledged: requestsUnacked,
    pointsSent: points.count,
    pointsAcknowledged: pointsAcked,
    pointsLost: lastLost,
    pointsUnacknowledgedVisible: unackedVisible,
    credentialsAcknowledged: credentials.filter((c) => c.acked).length,
    credentialsUnacknowledged: credentials.filter((c) => !c.acked).length,
    credentialsUnacknowledgedPresent: credentialsPresent,
    violations,
    elapsedMs: Date.now() - started,
  };
}
