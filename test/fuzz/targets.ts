// The fuzz targets: one per decoder, each a generator of mutated inputs and a check of the
// properties every input must keep, run in-process against the pure decoders (src/protocols).
// Shared by the vitest slices (test/fuzz/*.test.ts) and the long run (fuzz-cli.ts).
//
// Properties, for every input:
// - the decoder throws nothing but its documented error type (ServiceError BadRequest for CAVE,
//   OneNET and the KairosDB query; OpenTsdbQueryError for the OpenTSDB query; nothing at all for
//   the streaming decoders, which report errors in their result);
// - every rejection maps, through the protocol's envelope.ts, to a 4xx answer (OneNET: HTTP 200
//   with errno 6, its 4xx-style answer);
// - every batch a decoder hands to its sink is one the engine stores (integer timestamps within
//   ±2^50 ms, known value kinds, series keys that are well-formed UTF-16 and fit the catalog), so
//   an accepted input never turns into a 5xx at append time;
// - whole-request-rejecting decoders (CAVE, OneNET) hand nothing to the sink when they reject;
// - chunking is invisible: a body fed in random chunks to a long-lived (reused) decoder gives the
//   same points and answer as the whole body fed to a younger one; the OpenTSDB fast path (simple
//   points) gives what the full path gives; the line port gives the same points and replies
//   whatever the burst boundaries.
// Time is checked by the runner (run.ts).
import { ValueKind, type WriteBatch } from '../../engine/index.js';
import { MAX_SERIES_KEY_BYTES, encodedSeriesKeyBytes } from '../../engine/catalog/series-key.js';
import { ServiceError, ServiceErrorCode } from '../../src/errors.js';
import { CAVE_STATUS_BY_CODE, caveServiceError } from '../../src/protocols/cave/envelope.js';
import { CavePublishDecoder } from '../../src/protocols/cave/publish.js';
import { isCaveRequestError, parseCaveMetricsRequest } from '../../src/protocols/cave/query.js';
import { KAIROS_STATUS_BY_CODE, kairosErrorBody } from '../../src/protocols/kairosdb/envelope.js';
import { KairosDatapointsDecoder } from '../../src/protocols/kairosdb/ingest.js';
import { parseKairosQueryText } from '../../src/protocols/kairosdb/query.js';
import { datapointsBatch, decodeDatapoints, parseUploadType } from '../../src/protocols/onenet/datapoints.js';
import { ONENET_ERRNO_BY_CODE, OneNetErrno, serviceErrorBody } from '../../src/protocols/onenet/envelope.js';
import { parseDatapointsQuery } from '../../src/protocols/onenet/query.js';
import type { OpenTsdbDecodeResult } from '../../src/protocols/opentsdb/body.js';
import { strataBuildInfo } from '../../src/protocols/opentsdb/discovery.js';
import { OPENTSDB_STATUS_BY_CODE } from '../../src/protocols/opentsdb/envelope.js';
import { OpenTsdbPutDecoder } from '../../src/protocols/opentsdb/put.js';
import { OpenTsdbQueryError, parseOpenTsdbQuery } from '../../src/protocols/opentsdb/query.js';
import { parsePutFlags, renderPutResponse } from '../../src/protocols/opentsdb/response.js';
import { OpenTsdbRollupDecoder } from '../../src/protocols/opentsdb/rollup.js';
import { createLinePortDecoder } from '../../src/protocols/opentsdb/telnet-commands.js';
import type { TelnetDecoder } from '../../src/protocols/kairosdb/telnet.js';
import * as C from './corpus.js';
import { mutateJsonSeed, mutateText, randomCuts, splitAt } from './mutate.js';
import type { Rng } from './rng.js';

/** A fuzz input: the bytes, where to cut them into chunks/bursts, and a side parameter (query string). */
export interface FuzzInput {
  readonly bytes: Uint8Array;
  readonly cuts: readonly number[];
  readonly param: string;
}

export interface FuzzTarget {
  readonly name: string;
  /** What the decoder is, for reports. */
  readonly what: string;
  generate(rng: Rng): FuzzInput;
  /**
   * Throws FuzzViolation (or anything else) when a property fails; otherwise says what the decoder
   * made of the input (the slices check that both acceptance and rejection are exercised).
   */
  check(input: FuzzInput): Outcome;
}

/** What became of an input: stored whole, refused whole, or (per-point protocols) partly stored. */
export type Outcome = 'accepted' | 'rejected' | 'partial';

/** A broken property. */
export class FuzzViolation extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FuzzViolation';
  }
}

function fail(message: string): never {
  throw new FuzzViolation(message);
}

const NOW_MS = 1_704_067_200_000;
const MAX_ABS_TIMESTAMP_MS = 2 ** 50;
const KNOWN_KINDS = new Set<number>([ValueKind.Float64, ValueKind.Int64, ValueKind.String, ValueKind.Json]);

interface WellFormed {
  isWellFormed(): boolean;
}
const wellFormed = (s: string): boolean => (s as unknown as WellFormed).isWellFormed();

/** One stored point as comparable text. */
function pointText(b: WriteBatch, i: number): string {
  const s = b.series[b.seriesIndex[i]!]!;
  const keys = Object.keys(s.tags).sort();
  const k = b.kinds[i]!;
  const v = k === ValueKind.Float64 ? (Object.is(b.floats[i], -0) ? '-0' : String(b.floats[i])) : k === ValueKind.Int64 ? `${b.ints[i]}n` : JSON.stringify(b.texts[i]);
  const ttl = b.ttlSeconds !== undefined ? `ttl=${b.ttlSeconds[b.seriesIndex[i]!]}` : '';
  return `${JSON.stringify(s.metric)}${JSON.stringify(keys.map((x) => [x, s.tags[x]]))}@${b.timestampsMs[i]}:${k}=${v}${ttl}`;
}

/** The engine's append-time checks (writer validateBatch, series-key encoding), as properties. */
export function checkBatch(b: WriteBatch): void {
  const n = b.length;
  if (b.seriesIndex.length < n || b.timestampsMs.length < n || b.kinds.length < n || b.floats.length < n) fail('batch columns shorter than batch.length');
  const seen = new Set<number>();
  for (let i = 0; i < n; i++) {
    const t = b.timestampsMs[i]!;
    if (!Number.isInteger(t) || Math.abs(t) >= MAX_ABS_TIMESTAMP_MS) fail(`point ${i}: timestamp ${t} not an integer within ±2^50`);
    const si = b.seriesIndex[i]!;
    if (si >= b.series.length) fail(`point ${i}: series index out of range`);
    const k = b.kinds[i]!;
    if (!KNOWN_KINDS.has(k)) fail(`point ${i}: unknown kind ${k}`);
    if ((k === ValueKind.String || k === ValueKind.Json) && typeof b.texts[i] !== 'string') fail(`point ${i}: text missing`);
    if (k === ValueKind.Int64 && b.ints.length <= i) fail(`point ${i}: int missing`);
    seen.add(si);
  }
  for (const si of seen) {
    const s = b.series[si]!;
    if (!wellFormed(s.metric)) fail(`series metric ${JSON.stringify(s.metric)} has a lone surrogate (the catalog throws RangeError → 5xx)`);
    for (const [k, v] of Object.entries(s.tags)) if (!wellFormed(k) || !wellFormed(v)) fail(`series tag ${JSON.stringify(k)}=${JSON.stringify(v)} has a lone surrogate`);
    const bytes = encodedSeriesKeyBytes(s);
    if (bytes > MAX_SERIES_KEY_BYTES) fail(`series key of ${bytes} bytes exceeds the catalog's ${MAX_SERIES_KEY_BYTES} (RangeError → 5xx)`);
  }
}

/** A sink that checks and records every batch as point texts. */
function recorder(): { points: string[]; sink: (b: WriteBatch) => void } {
  const points: string[] = [];
  return {
    points,
    sink: (b) => {
      checkBatch(b);
      for (let i = 0; i < b.length; i++) points.push(pointText(b, i));
    },
  };
}

function sameList(what: string, a: readonly string[], b: readonly string[]): void {
  if (a.length !== b.length) fail(`${what}: ${a.length} vs ${b.length} entries`);
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) fail(`${what}: entry ${i} differs:\n  ${a[i]}\n  ${b[i]}`);
}

function expectServiceError(err: unknown, where: string): ServiceError {
  if (!(err instanceof ServiceError)) fail(`${where} threw ${(err as Error)?.name ?? typeof err}: ${(err as Error)?.stack ?? String(err)}`);
  if (err.code !== ServiceErrorCode.BadRequest) fail(`${where} threw ServiceError ${err.code} (not BadRequest): ${err.message}`);
  if (err.messages.length === 0 || err.messages.some((m) => typeof m !== 'string' || m.length === 0)) fail(`${where}: a rejection without a message`);
  return err;
}

const jsonInput =
  (seeds: readonly unknown[], dictionary: readonly string[], params: readonly string[] = ['']) =>
  (rng: Rng): FuzzInput => {
    const bytes = mutateJsonSeed(seeds, rng, { dictionary });
    return { bytes, cuts: randomCuts(rng, bytes.length), param: rng.pick(params) };
  };

const textInput =
  (seeds: readonly string[], dictionary: readonly string[], separators: readonly string[], params: readonly string[] = ['']) =>
  (rng: Rng): FuzzInput => {
    const bytes = mutateText(rng.pick(seeds), rng, dictionary, separators);
    return { bytes, cuts: randomCuts(rng, bytes.length), param: rng.pick(params) };
  };

/**
 * A decoder for the reference side of a comparison, replaced by a new one every 64 inputs: the
 * other side is one decoder for the whole run, so the two have different histories (a state leak
 * between bodies shows as a difference), while building a decoder per input (its batch columns,
 * its caches) would cost more than decoding.
 */
function refreshed<D>(make: () => D): () => D {
  let decoder = make();
  let uses = 0;
  return () => {
    if (++uses % 64 === 0) decoder = make();
    return decoder;
  };
}

const utf8 = new TextDecoder();
const asText = (b: Uint8Array): string => utf8.decode(b);

// ------------------------------------------------------------------------------ KairosDB ingest

function kairosIngest(): FuzzTarget {
  const reused = recorder();
  const longLived = new KairosDatapointsDecoder(reused.sink);
  const fresh = recorder();
  const whole = refreshed(() => new KairosDatapointsDecoder(fresh.sink));
  return {
    name: 'kairosdb-ingest',
    what: 'KairosDB POST /api/v1/datapoints (KairosDatapointsDecoder)',
    generate: jsonInput(C.KAIROS_INGEST_SEEDS, C.KAIROS_INGEST_DICTIONARY),
    check(input) {
      fresh.points.length = 0;
      const decoder = whole();
      let a: ReturnType<typeof decoder.end>;
      try {
        decoder.write(input.bytes);
        a = decoder.end();
      } catch (err) {
        decoder.reset();
        throw err;
      }
      if (a.points !== fresh.points.length) fail(`result.points ${a.points} but ${fresh.points.length} reached the sink`);
      for (const m of a.errors) if (typeof m !== 'string' || m.length === 0) fail('an empty error message');
      if (a.errors.length > 0) {
        const status = KAIROS_STATUS_BY_CODE[ServiceErrorCode.BadRequest];
        if (status < 400 || status >= 500) fail(`rejection status ${status}`);
        const body = JSON.parse(kairosErrorBody(a.errors)) as { errors: string[] };
        sameList('error envelope', body.errors, a.errors);
      }
      reused.points.length = 0;
      try {
        for (const c of splitAt(input.bytes, input.cuts)) longLived.write(c);
        const b = longLived.end();
        sameList('chunked (long-lived decoder) vs whole (younger decoder): points', reused.points, fresh.points);
        sameList('chunked (long-lived decoder) vs whole (younger decoder): errors', b.errors, a.errors);
      } catch (err) {
        longLived.reset();
        throw err;
      }
      return a.errors.length === 0 ? 'accepted' : a.points > 0 ? 'partial' : 'rejected';
    },
  };
}

// ------------------------------------------------------------------------------ OpenTSDB put / rollup

function checkPutResult(r: OpenTsdbDecodeResult, points: readonly string[], details: boolean): void {
  if (r.bodyError !== null) {
    if (points.length > 0 || r.accepted !== 0) fail(`body error ${JSON.stringify(r.bodyError)} but ${points.length} points stored`);
    if (!(r.bodyError.status >= 400 && r.bodyError.status < 500)) fail(`body error status ${r.bodyError.status}`);
    if (r.bodyError.message.length === 0) fail('body error without a message');
  } else {
    if (r.accepted + r.failed !== r.total) fail(`accepted ${r.accepted} + failed ${r.failed} != total ${r.total}`);
    if (points.length !== r.accepted) fail(`accepted ${r.accepted} but ${points.length} points stored`);
    if (details && r.errors.length !== r.failed) fail(`failed ${r.failed} but ${r.errors.length} details entries`);
  }
}

function checkPutAnswer(r: OpenTsdbDecodeResult, query: string): void {
  const flags = parsePutFlags(new URLSearchParams(query));
  const res = renderPutResponse(r, flags);
  const status = res.body === '' ? 204 : res.status;
  const rejected = r.bodyError !== null || r.failed > 0;
  // The one deliberate 5xx: an invalid sync_timeout is OpenTSDB's NumberFormatException, 500,
  // after the body checks (docs/api/opentsdb.md); it is a query-string error, not the body's.
  const syncTimeout500 = r.bodyError === null && flags.syncTimeoutError !== null;
  if (syncTimeout500 && status !== 500) fail(`an invalid sync_timeout answered ${status}`);
  if (rejected && !syncTimeout500 && !(status >= 400 && status < 500)) fail(`a rejected body answered ${status}`);
  if (!rejected && flags.syncTimeoutError === null && !(status === 200 || status === 204)) fail(`an accepted body answered ${status}`);
  if (res.body !== '') {
    const json = flags.jsonp !== null ? res.body.slice(flags.jsonp.length + 1, -1) : res.body;
    let parsed: unknown;
    try {
      parsed = JSON.parse(json);
    } catch {
      fail(`answer body is not JSON: ${res.body.slice(0, 200)}`);
    }
    const o = parsed as { error?: { code: number }; success?: number; failed?: number };
    if (o.error !== undefined ? o.error.code !== res.status : typeof o.success !== 'number' || typeof o.failed !== 'number') fail(`answer not in OpenTSDB's envelope: ${res.body.slice(0, 200)}`);
  }
  if (OPENTSDB_STATUS_BY_CODE[ServiceErrorCode.BadRequest] !== 400) fail('BadRequest is not 400');
}

function openTsdbPut(rollup: boolean): FuzzTarget {
  const reused = recorder();
  const make = (sink: (b: WriteBatch) => void, simplePoints: boolean): OpenTsdbPutDecoder | OpenTsdbRollupDecoder =>
    rollup ? new OpenTsdbRollupDecoder(sink, { maxPointsPerBatch: 64 }) : new OpenTsdbPutDecoder(sink, { simplePoints, maxPointsPerBatch: 64 });
  const longLived = make(reused.sink, true);
  const fresh = recorder();
  const fullPath = refreshed(() => make(fresh.sink, false));
  return {
    name: rollup ? 'opentsdb-rollup' : 'opentsdb-put',
    what: rollup
      ? 'OpenTSDB POST /api/rollup (OpenTsdbRollupDecoder)'
      : 'OpenTSDB POST /api/put (OpenTsdbPutDecoder; fast path, chunked, reused vs full path, whole, fresh)',
    generate: jsonInput(rollup ? C.OPENTSDB_ROLLUP_SEEDS : C.OPENTSDB_PUT_SEEDS, C.OPENTSDB_PUT_DICTIONARY, C.OPENTSDB_PUT_QUERIES),
    check(input) {
      const details = new URLSearchParams(input.param).has('details');
      fresh.points.length = 0;
      const full = fullPath();
      let a: OpenTsdbDecodeResult;
      try {
        full.begin({ details });
        full.write(input.bytes);
        a = full.end();
      } catch (err) {
        full.reset();
        throw err;
      }
      checkPutResult(a, fresh.points, details);
      checkPutAnswer(a, input.param);
      reused.points.length = 0;
      try {
        longLived.begin({ details });
        for (const c of splitAt(input.bytes, input.cuts)) longLived.write(c);
        const b = longLived.end();
        const label = rollup ? 'chunked (long-lived) vs whole (younger decoder)' : 'fast path chunked (long-lived, warm memo) vs full path whole (younger decoder)';
        sameList(`${label}: points`, reused.points, fresh.points);
        if (JSON.stringify(b) !== JSON.stringify(a)) fail(`${label}: results differ:\n  ${JSON.stringify(b).slice(0, 600)}\n  ${JSON.stringify(a).slice(0, 600)}`);
      } catch (err) {
        longLived.reset();
        throw err;
      }
      return a.bodyError !== null ? 'rejected' : a.failed === 0 ? 'accepted' : a.accepted > 0 ? 'partial' : 'rejected';
    },
  };
}

// ------------------------------------------------------------------------------ CAVE

function cavePublish(): FuzzTarget {
  const rec = recorder();
  const decoder = new CavePublishDecoder(rec.sink);
  return {
    name: 'cave-publish',
    what: 'CAVE POST /organizations/{org}/metrics (CavePublishDecoder, all-or-nothing)',
    generate: jsonInput(C.CAVE_SEEDS, C.CAVE_DICTIONARY),
    check(input) {
      rec.points.length = 0;
      let n: number;
      try {
        n = decoder.decode(input.bytes, 'team.org');
      } catch (err) {
        const e = expectServiceError(err, 'CavePublishDecoder.decode');
        if (rec.points.length > 0) fail(`rejected whole (${e.message}) but ${rec.points.length} points reached the sink`);
        const answer = caveServiceError(e);
        if (answer.status !== 400 || CAVE_STATUS_BY_CODE[e.code] !== 400 || answer.body.length === 0) fail(`rejection answered ${answer.status} ${JSON.stringify(answer.body)}`);
        return 'rejected';
      }
      if (n !== rec.points.length) fail(`decode returned ${n} but ${rec.points.length} points reached the sink`);
      for (const p of rec.points) if (!p.includes('["CAVE-account","team.org"]')) fail(`a point without its account tag: ${p}`);
      return 'accepted';
    },
  };
}

// ------------------------------------------------------------------------------ OneNET

function oneNet(type: 1 | 3 | 4 | 5): FuzzTarget {
  const generate =
    type === 5
      ? textInput(C.ONENET_TYPE5_SEEDS, C.ONENET_DICTIONARY, [',', ';', '#', '@', ' ', ':'])
      : jsonInput(type === 1 ? C.ONENET_TYPE1_SEEDS : type === 3 ? C.ONENET_TYPE3_SEEDS : C.ONENET_TYPE4_SEEDS, C.ONENET_DICTIONARY);
  return {
    name: `onenet-type${type}`,
    what: `OneNET POST /devices/{id}/datapoints?type=${type} (decodeDatapoints, all-or-nothing)`,
    generate,
    check(input) {
      let points: ReturnType<typeof decodeDatapoints>;
      try {
        points = decodeDatapoints(input.bytes, type, { offsetMinutes: 480, nowMs: NOW_MS });
      } catch (err) {
        const e = expectServiceError(err, 'decodeDatapoints');
        const body = JSON.parse(serviceErrorBody(e)) as { errno: number; error: string };
        if (body.errno !== OneNetErrno.InvalidParameter || ONENET_ERRNO_BY_CODE[e.code] !== OneNetErrno.InvalidParameter) fail(`rejection answered errno ${body.errno}`);
        return 'rejected'; // nothing was returned, so nothing can reach a batch
      }
      if (points.length === 0) fail('accepted with no points');
      checkBatch(datapointsBatch('dev-1', points));
      return 'accepted';
    },
  };
}

// ------------------------------------------------------------------------------ telnet / line port

const REPLY_FORMS = [
  /^(put|putm|puts|rollup): /,
  /^unknown command: .*\. {2}Try `help'\.$/s,
  /^net\.opentsdb\.tools .* built at revision .*$/s,
  /^Built on \d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d \+0000 by .*$/s,
  /^available commands: /,
  /^error: line too long \(more than 1024 bytes\)$/,
];

function linePort(): FuzzTarget {
  const options = { build: strataBuildInfo('0.0.0-fuzz') };
  const reused = recorder();
  const longLived = createLinePortDecoder(reused.sink, options);
  const fresh = recorder();
  const younger = refreshed(() => createLinePortDecoder(fresh.sink, options));
  /** Feeds `stream` as the listener does: bursts, the tail carried over; stops at `exit`. */
  const feed = (decoder: TelnetDecoder, bursts: readonly Uint8Array[]): { replies: string; points: number } => {
    let tail: Uint8Array = new Uint8Array(0);
    let replies = '';
    let points = 0;
    for (const burst of bursts) {
      const input = new Uint8Array(tail.length + burst.length);
      input.set(tail, 0);
      input.set(burst, tail.length);
      const out = decoder.decode(input);
      if (out.tail.length > 1025) fail(`tail of ${out.tail.length} bytes (more than maxLineBytes + 1)`);
      tail = out.tail.slice();
      replies += out.replies;
      points += out.points;
      if (out.close) break;
    }
    return { replies, points };
  };
  return {
    name: 'telnet-line-port',
    what: 'Line port (createLinePortDecoder: OpenTSDB put/rollup/version, KairosDB putm/puts)',
    generate(rng) {
      const lines = rng.count(0.6, 8);
      const parts: Uint8Array[] = [];
      for (let i = 0; i < lines; i++) parts.push(mutateText(rng.pick(C.TELNET_SEEDS), rng, C.TELNET_DICTIONARY, C.TELNET_SEPARATORS));
      if (rng.chance(0.05)) parts.push(new TextEncoder().encode(`put m 1 1 ${'k=v '.repeat(rng.range(250, 400))}\n`)); // over-long line
      const bytes = Buffer.concat(parts);
      return { bytes, cuts: randomCuts(rng, bytes.length), param: '' };
    },
    check(input) {
      fresh.points.length = 0;
      const whole = feed(younger(), [input.bytes]);
      if (whole.points !== fresh.points.length) fail(`result.points ${whole.points} but ${fresh.points.length} reached the sink`);
      if (whole.replies !== '' && !whole.replies.endsWith('\n')) fail('a reply without its final newline');
      for (const line of whole.replies.split('\n').slice(0, -1)) if (!REPLY_FORMS.some((re) => re.test(line))) fail(`reply line in no known form: ${JSON.stringify(line)}`);
      reused.points.length = 0;
      const bursts = feed(longLived, splitAt(input.bytes, input.cuts));
      sameList('bursts (long-lived decoder) vs whole (younger decoder): points', reused.points, fresh.points);
      if (bursts.replies !== whole.replies) fail(`replies differ with burst boundaries:\n  ${JSON.stringify(bursts.replies).slice(0, 400)}\n  ${JSON.stringify(whole.replies).slice(0, 400)}`);
      const complaints = whole.replies.split('\n').filter((l) => /^(put|putm|puts|rollup|error): |^unknown command/.test(l)).length;
      return complaints === 0 ? 'accepted' : whole.points > 0 ? 'partial' : 'rejected';
    },
  };
}

// ------------------------------------------------------------------------------ queries

function kairosQuery(): FuzzTarget {
  return {
    name: 'kairosdb-query',
    what: 'KairosDB query JSON (parseKairosQueryText: /datapoints/query, /query/tags, /delete)',
    generate: jsonInput(C.KAIROS_QUERY_SEEDS, C.KAIROS_QUERY_DICTIONARY),
    check(input) {
      try {
        parseKairosQueryText(asText(input.bytes), NOW_MS);
      } catch (err) {
        const e = expectServiceError(err, 'parseKairosQueryText');
        if (KAIROS_STATUS_BY_CODE[e.code] !== 400) fail('BadRequest is not 400');
        return 'rejected';
      }
      return 'accepted';
    },
  };
}

/**
 * OpenTSDB's own 500s that Strata reproduces on purpose (test/query/opentsdb/request.test.ts): an
 * empty part in `m=` (`m=sum::cpu`) is Java's StringIndexOutOfBoundsException.
 */
const DELIBERATE_QUERY_500 = new Set(['String index out of range: 0']);

function openTsdbQueryError(err: unknown, where: string): void {
  if (!(err instanceof OpenTsdbQueryError)) fail(`${where} threw ${(err as Error)?.name ?? typeof err}: ${(err as Error)?.stack ?? String(err)}`);
  const deliberate = err.status === 500 && DELIBERATE_QUERY_500.has(err.message);
  if (!deliberate && !(err.status >= 400 && err.status < 500)) fail(`${where}: status ${err.status} (${err.message})`);
  if (err.message.length === 0) fail(`${where}: an error without a message`);
}

function openTsdbQueryPost(): FuzzTarget {
  return {
    name: 'opentsdb-query-post',
    what: 'OpenTSDB POST /api/query JSON (parseOpenTsdbQuery)',
    generate: jsonInput(C.OPENTSDB_QUERY_SEEDS, C.OPENTSDB_QUERY_DICTIONARY, ['', 'arrays', 'jsonp=cb']),
    check(input) {
      try {
        parseOpenTsdbQuery('POST', input.param, asText(input.bytes), NOW_MS);
      } catch (err) {
        openTsdbQueryError(err, 'parseOpenTsdbQuery(POST)');
        return 'rejected';
      }
      return 'accepted';
    },
  };
}

function openTsdbQueryGet(): FuzzTarget {
  return {
    name: 'opentsdb-query-get',
    what: 'OpenTSDB GET /api/query query string (parseOpenTsdbQuery: m=, tsuid=, start/end)',
    generate: textInput(C.OPENTSDB_GET_SEEDS, C.OPENTSDB_GET_DICTIONARY, C.QUERY_SEPARATORS),
    check(input) {
      try {
        parseOpenTsdbQuery('GET', asText(input.bytes), '', NOW_MS);
      } catch (err) {
        openTsdbQueryError(err, 'parseOpenTsdbQuery(GET)');
        return 'rejected';
      }
      return 'accepted';
    },
  };
}

function readQueries(): FuzzTarget {
  return {
    name: 'read-query-strings',
    what: 'CAVE GET …/metrics, OneNET GET …/datapoints and ?type= query strings',
    generate(rng) {
      const which = rng.int(3);
      const seeds = which === 0 ? C.CAVE_READ_SEEDS : which === 1 ? C.ONENET_READ_SEEDS : ['type=5', 'type=1&x=y', 'type='];
      const dict = which === 0 ? C.CAVE_READ_DICTIONARY : C.ONENET_READ_DICTIONARY;
      const bytes = mutateText(rng.pick(seeds), rng, dict, ['&', '=', ',', ':', '-', 'T', ' ']);
      return { bytes, cuts: [], param: String(which) };
    },
    check(input) {
      const text = asText(input.bytes);
      if (input.param === '0') {
        const r = parseCaveMetricsRequest(text);
        if (isCaveRequestError(r) && (typeof r.error !== 'string' || r.error.length === 0)) fail('CAVE read error without text');
        return isCaveRequestError(r) ? 'rejected' : 'accepted';
      }
      try {
        if (input.param === '1') parseDatapointsQuery(text, 480, NOW_MS);
        else parseUploadType(text);
      } catch (err) {
        expectServiceError(err, input.param === '1' ? 'parseDatapointsQuery' : 'parseUploadType');
        return 'rejected';
      }
      return 'accepted';
    },
  };
}

/** Target factories by name (each call builds fresh decoders: targets keep long-lived ones). */
const FACTORIES: Readonly<Record<string, () => FuzzTarget>> = {
  'kairosdb-ingest': kairosIngest,
  'opentsdb-put': () => openTsdbPut(false),
  'opentsdb-rollup': () => openTsdbPut(true),
  'cave-publish': cavePublish,
  'onenet-type1': () => oneNet(1),
  'onenet-type3': () => oneNet(3),
  'onenet-type4': () => oneNet(4),
  'onenet-type5': () => oneNet(5),
  'telnet-line-port': linePort,
  'kairosdb-query': kairosQuery,
  'opentsdb-query-post': openTsdbQueryPost,
  'opentsdb-query-get': openTsdbQueryGet,
  'read-query-strings': readQueries,
};

export const TARGET_NAMES: readonly string[] = Object.keys(FACTORIES);

/** Every target, fresh. */
export function allTargets(): FuzzTarget[] {
  return TARGET_NAMES.map((n) => FACTORIES[n]!());
}

export function targetByName(name: string): FuzzTarget {
  const make = FACTORIES[name];
  if (make === undefined) throw new Error(`no fuzz target ${name}; known: ${TARGET_NAMES.join(', ')}`);
  return make();
}
