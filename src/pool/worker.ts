// Worker entry: the one place where transport-free decoders, the thread pool and the storage
// engine meet (architecture: routes → pool → worker → decoders → engine). At start it claims the
// lowest free shard (serialised across threads by a shared mutex), recovers it, and opens a
// read-side Engine over the whole data directory for queries. Each task decodes one request
// body (or one telnet burst) and appends it to this worker's shard before answering.
import { BroadcastChannel, workerData } from 'node:worker_threads';
import * as zlib from 'node:zlib';
import { Engine, EngineError, EngineErrorCode, ShardWriter, shardDirectory, type WriteBatch } from '../../engine/index.js';
import { ServiceError, ServiceErrorCode } from '../errors.js';
import { log } from '../log.js';
import type {
  CavePublishTask,
  CaveReadTask,
  ControlMessage,
  IngestGroupReply,
  IngestGroupTask,
  KairosCatalogTask,
  KairosIngestTask,
  KairosQueryTask,
  OpenTsdbDiscoveryTask,
  OpenTsdbPutTask,
  TelnetTask,
  WorkerData,
  WorkerFailure,
  WorkerReply,
  WorkerResult,
  WorkerTask,
} from './messages.js';
import { BatchBuilder, sharedSeriesCache } from '../protocols/batch-builder.js';
import { KairosDatapointsDecoder } from '../protocols/kairosdb/ingest.js';
import type { TelnetDecoder } from '../protocols/kairosdb/telnet.js';
import { OpenTsdbPutDecoder } from '../protocols/opentsdb/put.js';
import { OpenTsdbRollupDecoder } from '../protocols/opentsdb/rollup.js';
import { parsePutFlags, renderPutResponse } from '../protocols/opentsdb/response.js';
import { createLinePortDecoder } from '../protocols/opentsdb/telnet-commands.js';
import { PACKAGE_VERSION } from '../package-version.js';
import { badRequest, errorAnswer, isRequestError, parseSuggestRequest, strataBuildInfo, suggestAnswer, type DiscoveryRequest, type OpenTsdbAnswer } from '../protocols/opentsdb/discovery.js';
import { lookupAnswer, parseLookupRequest, parseOtherSearchRequest, parseSearchType } from '../protocols/opentsdb/lookup.js';
import { parseKairosQueryText } from '../protocols/kairosdb/query.js';
import {
  kairosMetricNames,
  kairosTagNames,
  kairosTagValues,
  runKairosDelete,
  runKairosMetricDelete,
  runKairosQuery,
  runKairosTagsQuery,
} from '../query/kairosdb.js';
import { lookupSeries, suggestNames } from '../query/listings.js';
import { runOpenTsdbQuery } from '../query/opentsdb/index.js';
import { runOneNetTask } from './onenet.js';
import { warmUp } from './warm-up.js';
import { answerFor } from './body-return.js';
import { CavePublishDecoder } from '../protocols/cave/publish.js';
import { isCaveRequestError, parseCaveMetricsRequest } from '../protocols/cave/query.js';
import { caveMetricNames, runCaveMetricsQuery } from '../query/cave.js';

const config = workerData as WorkerData;
const locks = new Int32Array(config.locks);
const MUTEX = 0;

/** Runs `fn` holding the process-wide mutex (tombstone appends, shard claims). */
function exclusive<T>(fn: () => T): T {
  while (Atomics.compareExchange(locks, MUTEX, 0, 1) !== 0) Atomics.wait(locks, MUTEX, 1, 50);
  try {
    return fn();
  } finally {
    Atomics.store(locks, MUTEX, 0);
    Atomics.notify(locks, MUTEX, 1);
  }
}

/** msync durations since the last stats message (a burst past the bound is sampled by its start). */
const syncSeconds: number[] = [];
const MAX_SYNCS_PER_STATS = 1000;

function claimShard(): { writer: ShardWriter; shardId: number } {
  return exclusive(() => {
    for (let shardId = 0; ; shardId++) {
      try {
        const writer = ShardWriter.open({
          dir: shardDirectory(config.dataDir, shardId),
          shardId,
          syncPolicy: config.sync,
          syncIntervalMs: config.syncIntervalMs,
          segmentBytes: config.segmentBytes,
          log,
          onSync: (seconds) => {
            if (syncSeconds.length < MAX_SYNCS_PER_STATS) syncSeconds.push(seconds);
          },
        });
        return { writer, shardId };
      } catch (err) {
        if (err instanceof EngineError && err.code === EngineErrorCode.ShardBusy) continue;
        throw err;
      }
    }
  });
}

const { writer, shardId } = claimShard();
try {
  // The first request should not pay for the segment's preallocation.
  writer.prepareActiveSegment();
} catch (err) {
  log({ level: 'warn', event: 'shard.prepare-failed', shardId, message: (err as Error).message });
}
const engine = Engine.open({ dataDir: config.dataDir, owner: shardId === 0, exclusive, log });
const control = new BroadcastChannel(config.controlChannel);
control.onmessage = (event: unknown) => {
  const message = (event as { data: ControlMessage }).data;
  if (message.type !== 'shutdown') return;
  clearInterval(compactTimer);
  clearInterval(statsTimer);
  try {
    writer.close();
    engine.close();
  } catch (err) {
    log({ level: 'error', event: 'worker.close-failed', shardId, message: (err as Error).message });
  }
  // The channel stays open: closing it right after posting can drop the message; the thread
  // ends with pool.destroy() anyway.
  control.postMessage({ type: 'closed', shardId } satisfies ControlMessage);
};

/**
 * Background compaction: between tasks, once this shard has COMPACT_AFTER_SEALED sealed ingest
 * segments, rewrite them into time-partitioned, series-sorted segments (deletes and expired
 * points dropped). Runs on this worker's thread, so it never races the shard's own appends.
 */
const COMPACT_CHECK_MS = 30_000;
const COMPACT_AFTER_SEALED = 4;
/** Compactions finished since the last stats message. */
let compactions = 0;
const compactTimer = setInterval(() => {
  if (writer.sealedIngestSegmentCount() < COMPACT_AFTER_SEALED) return;
  try {
    engine.refresh();
    const result = writer.compact({ tombstones: engine.tombstones });
    compactions++;
    log({ event: 'shard.compacted', shardId, pointsIn: result.pointsIn, pointsOut: result.pointsOut, bytesIn: result.bytesIn, bytesOut: result.bytesOut });
  } catch (err) {
    log({ level: 'error', event: 'shard.compaction-failed', shardId, message: (err as Error).message });
  }
}, config.compactCheckMs || COMPACT_CHECK_MS);
compactTimer.unref();

/** The shard's figures for GET /metrics, every second on the control channel (StatsMessage). */
const STATS_INTERVAL_MS = 1000;
const statsTimer = setInterval(() => {
  control.postMessage({
    type: 'stats',
    shardId,
    series: writer.seriesCount,
    compactionPendingSegments: writer.sealedIngestSegmentCount(),
    compactions,
    syncSeconds: syncSeconds.splice(0),
  } satisfies ControlMessage);
  compactions = 0;
}, STATS_INTERVAL_MS);
statsTimer.unref();

/**
 * Appends one decoded batch — or, while an ingest group runs, adds it to the group's batch (see
 * ingestGroup). The msync is awaited (settleDurable) when the policy or the request asks for it.
 */
const pendingDurable: Promise<void>[] = [];
function append(batch: WriteBatch, sync: boolean): void {
  if (grouping) groupBuilder.addBatch(batch);
  else appendNow(batch, sync);
}

/** The shard appends go to: this worker's, or the scratch shard while it warms up (warm-up.ts). */
let appendTarget: ShardWriter = writer;

function appendNow(batch: WriteBatch, sync: boolean): void {
  const receipt = appendTarget.append(batch, { sync });
  if (receipt.durable) pendingDurable.push(receipt.durable);
}

async function settleDurable(): Promise<void> {
  if (pendingDurable.length === 0) return;
  const all = pendingDurable.splice(0);
  await Promise.all(all);
}

/**
 * Feeds the body, inflated as a stream when encoded, to `write` chunk by chunk. Inflated bytes are
 * capped at `maxInflatedBytes` (gzip bombs): past it the stream is destroyed and BodyTooLarge
 * thrown. A corrupt stream throws BadEncoding.
 */
async function forEachBodyChunk(task: KairosIngestTask | KairosQueryTask | OpenTsdbPutTask | OpenTsdbDiscoveryTask | CavePublishTask, write: (chunk: Uint8Array) => void): Promise<void> {
  const body = new Uint8Array(task.body, task.bodyOffset ?? 0, task.bodyBytes);
  if (task.encoding === 'identity') {
    if (body.length > task.maxInflatedBytes) throw tooLarge(task.maxInflatedBytes);
    write(body);
    return;
  }
  if (body.length <= SYNC_INFLATE_MAX_ENCODED_BYTES) {
    const whole = inflateSmall(body, task.encoding, task.maxInflatedBytes);
    if (whole !== undefined) {
      write(plainBytes(whole));
      return;
    }
    // It inflates past what one call may hold (a bomb, most likely): stream it in pieces instead.
  }
  const stream =
    task.encoding === 'gzip'
      ? zlib.createGunzip({ chunkSize: 64 * 1024 })
      : isZlibHeader(body)
        ? zlib.createInflate({ chunkSize: 64 * 1024 })
        : zlib.createInflateRaw({ chunkSize: 64 * 1024 });
  let total = 0;
  await new Promise<void>((resolve, reject) => {
    let failed = false;
    const fail = (err: unknown): void => {
      if (failed) return;
      failed = true;
      stream.destroy();
      reject(err);
    };
    stream.on('data', (chunk: Buffer) => {
      if (failed) return;
      total += chunk.length;
      if (total > task.maxInflatedBytes) return fail(tooLarge(task.maxInflatedBytes));
      try {
        write(plainBytes(chunk));
      } catch (err) {
        fail(err);
      }
    });
    stream.on('error', (err) => fail(new ServiceError(ServiceErrorCode.BadEncoding, task.encoding === 'gzip' ? 'Not in GZIP format' : `Invalid deflate stream: ${err.message}`)));
    stream.on('end', () => {
      if (!failed) resolve();
    });
    stream.end(body);
  });
}

/**
 * Feeds the (inflated) body to a reused, chunk-fed decoder and returns its result. A failed body
 * or append resets the decoder, so nothing of this request leaks into the next one.
 */
async function decodeBody<R>(
  task: KairosIngestTask | OpenTsdbPutTask,
  decoder: { write(chunk: Uint8Array): void; end(): R; reset(): void },
): Promise<R> {
  try {
    await forEachBodyChunk(task, (chunk) => decoder.write(chunk));
    return decoder.end();
  } catch (err) {
    decoder.reset();
    throw err;
  }
}

/**
 * Encoded bodies up to this size are inflated in one synchronous call: setting up a zlib stream
 * costs more than inflating a small body (gzip at batch 50 ran at a third of the plain rate with
 * a stream per request; bench/peers.ts), and for a 5,000-point body (~80 KiB of gzip) one call
 * takes ~1.0 ms against ~1.6 ms streamed in 64 KiB pieces. The inflated body is held whole, at
 * most maxInflatedBytes (zlib stops there). Larger bodies stream, so memory stays at one piece.
 */
const SYNC_INFLATE_MAX_ENCODED_BYTES = 1024 * 1024;

/**
 * The most one synchronous inflate may produce. zlib's one-call API collects its output and then
 * concatenates it (about twice this at the peak), and nothing in the in-flight budget counts
 * inflated bytes: with the cap at maxInflatedBytes (256 MB by default then; 64 MiB now) a 260 KB gzip bomb took
 * ~600 MB of RSS per worker (test/reliability/hostile-bodies.test.ts). Bodies that inflate past
 * it take the stream path (one 64 KiB piece at a time); ordinary bodies inflate 5-20x, far below.
 */
const SYNC_INFLATE_MAX_INFLATED_BYTES = 32 * 1024 * 1024;

/**
 * The whole inflated body, capped like the stream path: zlib stops at `maxOutputLength` (a bomb
 * never allocates more than the cap + 1 byte), which is reported as BodyTooLarge; a corrupt
 * stream is BadEncoding with the stream path's message. Undefined when the body inflates past
 * SYNC_INFLATE_MAX_INFLATED_BYTES but maxInflatedBytes allows more (the caller streams it).
 */
function inflateSmall(body: Uint8Array, encoding: 'gzip' | 'deflate', maxInflatedBytes: number): Uint8Array | undefined {
  const capBytes = Math.min(maxInflatedBytes, SYNC_INFLATE_MAX_INFLATED_BYTES);
  const options = { maxOutputLength: capBytes + 1, chunkSize: inflateChunkBytes(body, encoding, capBytes) };
  let out: Buffer;
  try {
    out = encoding === 'gzip' ? zlib.gunzipSync(body, options) : isZlibHeader(body) ? zlib.inflateSync(body, options) : zlib.inflateRawSync(body, options);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
      if (capBytes < maxInflatedBytes) return undefined;
      throw tooLarge(maxInflatedBytes);
    }
    throw new ServiceError(ServiceErrorCode.BadEncoding, encoding === 'gzip' ? 'Not in GZIP format' : `Invalid deflate stream: ${(err as Error).message}`);
  }
  if (out.length > capBytes) {
    if (capBytes < maxInflatedBytes) return undefined;
    throw tooLarge(maxInflatedBytes);
  }
  return out;
}

/**
 * The same bytes as a plain Uint8Array (no copy). zlib hands out Buffers, and a Buffer has another
 * map than the Uint8Array over a transferred body: decoders that met both ran polymorphic code on
 * every body, plain or gzip (and the warm-up sends both). One map keeps the hot loops monomorphic:
 * the OpenTSDB decoder ran 2–9 % faster on the peers bodies than one that had also met Buffers
 * (three same-machine runs of 15 rounds each).
 */
function plainBytes(b: Uint8Array): Uint8Array {
  return b.constructor === Uint8Array ? b : new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

/**
 * Output chunk for a one-call inflate: the whole body in one piece when its size can be told.
 * zlib's default 16 KiB pieces made a 5,000-point body (1.16 MB) 71 inflate calls, 71 buffers and
 * a concatenation: inflating ran at 0.77–0.95 GB/s against 1.05–1.6 GB/s in one piece (peers
 * workload bodies, `zlib.gunzipSync` alone). A gzip member ends with its size mod 2^32 (ISIZE),
 * which the sender controls, so the chunk is also held to 32 × the encoded bytes (text rarely
 * deflates further; a larger body just takes more pieces) and 4 MiB: never more memory than the
 * inflate would take anyway.
 */
function inflateChunkBytes(body: Uint8Array, encoding: 'gzip' | 'deflate', capBytes: number): number {
  const n = body.length;
  const claimed = encoding === 'gzip' && n >= 18 ? (body[n - 4]! | (body[n - 3]! << 8) | (body[n - 2]! << 16) | (body[n - 1]! << 24)) >>> 0 : 4 * n;
  return Math.max(16 * 1024, Math.min(claimed + 1, 32 * n, capBytes + 1, 4 * 1024 * 1024));
}

/** RFC 1950 header check: HTTP "deflate" is meant to be zlib-wrapped, but some clients send raw. */
function isZlibHeader(b: Uint8Array): boolean {
  return b.length >= 2 && (b[0]! & 0x0f) === 8 && ((b[0]! << 8) | b[1]!) % 31 === 0;
}

function tooLarge(limit: number): ServiceError {
  return new ServiceError(ServiceErrorCode.BodyTooLarge, `Decompressed request body exceeds the limit of ${limit} bytes`);
}

/** The whole (inflated) body; small request documents only (queries, discovery requests). */
async function bodyBytes(task: KairosQueryTask | OpenTsdbDiscoveryTask | CavePublishTask): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  await forEachBodyChunk(task, (c) => parts.push(Uint8Array.from(c)));
  return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
}

async function bodyText(task: KairosQueryTask | OpenTsdbDiscoveryTask): Promise<string> {
  return Buffer.from(await bodyBytes(task)).toString('utf8');
}

function reply(status: number, body: string, gzip: boolean): WorkerResult {
  if (gzip && body.length > 0) {
    const gz = zlib.gzipSync(body);
    const out = gz.buffer.slice(gz.byteOffset, gz.byteOffset + gz.byteLength);
    return { ok: true, status, body: out as ArrayBuffer, gzipped: true };
  }
  return { ok: true, status, body, gzipped: false };
}

/**
 * One decoder per worker, reused across requests: a fresh decoder and batch builder per request
 * allocate their point columns each time, which dominated small requests (GC was over a third
 * of worker time at 10-point batches; bench/load, docs/benchmarks.md). Safe because a worker runs
 * one task at a time (concurrentTasksPerWorker 1).
 */
let ingestSync = false;
const kairosDecoder = new KairosDatapointsDecoder((batch) => append(batch, ingestSync));

async function kairosIngest(task: KairosIngestTask): Promise<WorkerResult> {
  ingestSync = task.sync;
  const { points, errors } = await decodeBody(task, kairosDecoder);
  await settleDurable();
  if (errors.length > 0) return { ok: false, code: ServiceErrorCode.BadRequest, messages: errors, points };
  return { ok: true, status: 204, body: '', gzipped: false, points };
}

async function kairosQuery(task: KairosQueryTask): Promise<WorkerResult> {
  const text = await bodyText(task);
  const query = parseKairosQueryText(text.trim() === '' ? undefined : text, Date.now());
  switch (task.kind) {
    case 'kairos.query':
      return reply(200, runKairosQuery(engine, query, (batch) => append(batch, false)), task.gzipResponse);
    case 'kairos.query-tags':
      return reply(200, runKairosTagsQuery(engine, query), task.gzipResponse);
    case 'kairos.delete':
      runKairosDelete(engine, query);
      return reply(204, '', false);
  }
}

function kairosCatalog(task: KairosCatalogTask): WorkerResult {
  switch (task.kind) {
    case 'kairos.metricnames':
      return reply(200, kairosMetricNames(engine, task.argument), task.gzipResponse);
    case 'kairos.tagnames':
      return reply(200, kairosTagNames(engine), task.gzipResponse);
    case 'kairos.tagvalues':
      return reply(200, kairosTagValues(engine, task.argument), task.gzipResponse);
    case 'kairos.delete-metric':
      runKairosMetricDelete(engine, task.argument ?? '');
      return reply(204, '', false);
  }
}

/** One decoder of each OpenTSDB kind per worker, reused like kairosDecoder. */
let openTsdbSync = false;
const openTsdbPutDecoder = new OpenTsdbPutDecoder((batch) => append(batch, openTsdbSync), { maxTags: config.openTsdbMaxTags });
const openTsdbRollupDecoder = new OpenTsdbRollupDecoder((batch) => append(batch, openTsdbSync), { maxTags: config.openTsdbMaxTags });

/**
 * OpenTSDB put/rollup: per-point acceptance, then OpenTSDB's response matrix. With `?sync` (or
 * --sync always) the answer waits for the msync, bounded by `sync_timeout` when given.
 */
async function openTsdbPut(task: OpenTsdbPutTask): Promise<WorkerResult> {
  const flags = parsePutFlags(new URLSearchParams(task.query));
  const decoder = task.kind === 'opentsdb.put' ? openTsdbPutDecoder : openTsdbRollupDecoder;
  openTsdbSync = flags.sync || task.syncAlways;
  decoder.begin({ details: flags.details, echoAccepted: flags.details && flags.sync, discardPoints: flags.syncTimeoutError !== null });
  const result = await decodeBody(task, decoder);
  let writes: { failed: number; timedOut: number; message: string } | undefined;
  if (flags.sync) {
    const durable = Promise.all(pendingDurable.splice(0)).then(() => 'ok' as const);
    const outcome = await (flags.syncTimeoutMs > 0
      ? Promise.race([durable, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), flags.syncTimeoutMs))])
      : durable
    ).catch((err: unknown) => err as Error);
    if (outcome === 'timeout') writes = { failed: 0, timedOut: result.accepted, message: '' };
    else if (outcome instanceof Error) writes = { failed: result.accepted, timedOut: 0, message: outcome.message };
    else writes = { failed: 0, timedOut: 0, message: '' };
  } else {
    await settleDurable();
  }
  const response = renderPutResponse(result, flags, writes);
  return { ok: true, status: response.body === '' ? 204 : response.status, body: response.body, gzipped: false, points: result.accepted, rejectedPoints: result.failed };
}

/**
 * OpenTSDB /api/suggest and /api/search/<type>: parse the request (protocols/opentsdb), read the
 * catalog (query/listings), answer with OpenTSDB's status and body in the request's generation.
 * The route sets the Content-Type.
 */
async function openTsdbDiscovery(task: OpenTsdbDiscoveryTask): Promise<WorkerResult> {
  const request: DiscoveryRequest = { method: task.method, apiVersion: task.apiVersion, query: task.query, body: await bodyBytes(task) };
  const answer = task.kind === 'opentsdb.suggest' ? suggest(request) : search(request, task.searchType ?? '');
  return reply(answer.status, answer.body, false);
}

/** OpenTSDB /api/query: the whole request goes to src/query/opentsdb; it answers status and body. */
async function openTsdbQuery(task: OpenTsdbDiscoveryTask): Promise<WorkerResult> {
  const answer = runOpenTsdbQuery(engine, { method: task.method, queryString: task.query, body: await bodyText(task) }, { nowMs: Date.now() });
  return reply(answer.status, answer.body, false);
}

function suggest(request: DiscoveryRequest): OpenTsdbAnswer {
  const parsed = parseSuggestRequest(request);
  if (isRequestError(parsed)) return errorAnswer(parsed, request);
  return suggestAnswer(suggestNames(engine, parsed.type, parsed.q, parsed.max), request);
}

function search(request: DiscoveryRequest, type: string): OpenTsdbAnswer {
  const searchType = parseSearchType(type);
  if (isRequestError(searchType)) return errorAnswer(searchType, request);
  if (searchType !== 'LOOKUP') return errorAnswer(parseOtherSearchRequest(request), request);
  const query = parseLookupRequest(request);
  if (isRequestError(query)) return errorAnswer(query, request);
  const startMs = Date.now();
  const outcome = lookupSeries(engine, query);
  if ('unknownName' in outcome) return errorAnswer(badRequest('Unable to resolve one or more UIDs', outcome.unknownName, 404), request);
  return lookupAnswer(query, outcome.series, Date.now() - startMs, request);
}

/** CAVE publish: all-or-nothing decode of the (inflated) body, append, 202 once appended (and msynced with --sync always). */
let caveSync = false;
const caveDecoder = new CavePublishDecoder((batch) => append(batch, caveSync));
async function cavePublish(task: CavePublishTask): Promise<WorkerResult> {
  caveSync = task.syncAlways;
  const points = caveDecoder.decode(await bodyBytes(task), task.account);
  await settleDurable();
  return { ok: true, status: 202, body: '', gzipped: false, points };
}

/** CAVE reads, scoped to the task's account (src/query/cave.ts); 400 texts come back as 400 replies. */
function caveRead(task: CaveReadTask): WorkerResult {
  if (task.kind === 'cave.metric-names') return reply(200, caveMetricNames(engine, task.account), false);
  const request = parseCaveMetricsRequest(task.query);
  if (isCaveRequestError(request)) return reply(400, request.error, false);
  const answer = runCaveMetricsQuery(engine, task.account, request, Date.now());
  return reply(answer.status, answer.body, false);
}

/**
 * Ingest groups (src/pool/coalescer.ts): the parts run through kairosIngest/openTsdbPut exactly as
 * separate tasks, but their decoders' batches are copied into groupBuilder instead of appended,
 * and the group's points are appended together at the end — one block (and one index entry) for
 * many small requests instead of one each (bench/load --batch 10, docs/benchmarks.md). Answers are
 * sent only after that append, so nothing is acknowledged before it is in the mapped segment; if
 * it fails, every part that stored points gets the failure. The builder holds cache entries
 * across parts, so the series cache is kept from trimming (openBody) until the group is appended.
 */
let grouping = false;
let groupSync = false;
let groupError: unknown;
const groupOwner = {};
const groupBuilder = new BatchBuilder((batch) => {
  try {
    appendNow(batch, groupSync);
  } catch (err) {
    groupError ??= err;
  }
});

async function ingestGroup(task: IngestGroupTask): Promise<IngestGroupReply> {
  const answers: (WorkerReply | WorkerFailure)[] = [];
  groupSync = task.parts.some((p) => (p.kind === 'kairos.ingest' ? p.sync : p.syncAlways));
  groupError = undefined;
  groupBuilder.cache.openBody(groupOwner);
  grouping = true;
  try {
    for (const part of task.parts) {
      let answer: WorkerResult;
      try {
        answer = part.kind === 'kairos.ingest' ? await kairosIngest(part) : await openTsdbPut(part);
      } catch (err) {
        answer = failure(err);
      }
      answers.push(answer as WorkerReply | WorkerFailure);
    }
  } finally {
    grouping = false;
    groupBuilder.flush();
    groupBuilder.cache.closeBody(groupOwner);
    groupBuilder.trimCaches();
  }
  try {
    await settleDurable();
  } catch (err) {
    groupError ??= err;
  }
  if (groupError === undefined) return { ok: true, parts: answers };
  const failed = failure(groupError) as WorkerFailure;
  return { ok: true, parts: answers.map((a) => ((a.points ?? 0) > 0 ? failed : a)) };
}

let telnetDecoder: TelnetDecoder | undefined;
/** With --sync always the replies (a `version` answer is the line port's only acknowledgement) wait for the msync, as HTTP answers do. */
async function telnet(task: TelnetTask): Promise<WorkerResult> {
  if (!telnetDecoder) {
    // The line port speaks OpenTSDB's put, rollup and version alongside KairosDB's putm and puts.
    telnetDecoder = createLinePortDecoder((batch) => append(batch, false), { maxTags: config.openTsdbMaxTags, build: strataBuildInfo(PACKAGE_VERSION) });
  }
  const out = telnetDecoder.decode(new Uint8Array(task.body, 0, task.bodyBytes));
  const tail = out.tail.slice();
  await settleDurable();
  return { ok: true, replies: out.replies, tail: tail.buffer as ArrayBuffer, points: out.points, close: out.close };
}

/** Maps anything thrown by a task to a coded failure; engine faults become Internal (logged). */
function failure(err: unknown): WorkerResult {
  if (err instanceof ServiceError) return { ok: false, code: err.code, messages: err.messages };
  if (err instanceof EngineError) {
    log({ level: 'error', event: 'worker.engine-error', shardId, code: err.code, message: err.message });
    const code = err.code === EngineErrorCode.InvalidBatch ? ServiceErrorCode.BadRequest : ServiceErrorCode.Internal;
    return { ok: false, code, messages: [err.message] };
  }
  log({ level: 'error', event: 'worker.task-failed', shardId, message: (err as Error)?.stack ?? String(err) });
  return { ok: false, code: ServiceErrorCode.Internal, messages: [(err as Error)?.message ?? String(err)] };
}

/** piscina's entry: runs the task and hands its body back with the result when it may (src/pool/body-return.ts). */
export default async function answer(task: WorkerTask): Promise<ReturnType<typeof answerFor>> {
  return answerFor(task, await run(task));
}

async function run(task: WorkerTask): Promise<WorkerResult | IngestGroupReply | undefined> {
  try {
    switch (task.kind) {
      case 'ping':
        return undefined;
      case 'ingest.group':
        return await ingestGroup(task);
      case 'kairos.ingest':
        return await kairosIngest(task);
      case 'opentsdb.put':
      case 'opentsdb.rollup':
        return await openTsdbPut(task);
      case 'kairos.query':
      case 'kairos.query-tags':
      case 'kairos.delete':
        return await kairosQuery(task);
      case 'kairos.metricnames':
      case 'kairos.tagnames':
      case 'kairos.tagvalues':
      case 'kairos.delete-metric':
        return kairosCatalog(task);
      case 'opentsdb.suggest':
      case 'opentsdb.search':
        return await openTsdbDiscovery(task);
      case 'opentsdb.query':
        return await openTsdbQuery(task);
      case 'onenet.upload':
      case 'onenet.bindata':
      case 'onenet.datapoints':
      case 'onenet.datastreams':
      case 'onenet.bindata-read':
        return await runOneNetTask(task, { engine, timeZone: config.onenetTimeZone, append: (batch) => append(batch, false), settle: settleDurable });
      case 'cave.publish':
        return await cavePublish(task);
      case 'cave.metric-names':
      case 'cave.metrics':
        return caveRead(task);
      case 'telnet':
        return await telnet(task);
    }
  } catch (err) {
    // Appends that did land stay in the mapping; their msync outcome no longer decides an answer.
    void Promise.allSettled(pendingDurable.splice(0));
    return failure(err);
  }
}

// Ready once warm: synthetic tasks through run() into a scratch shard compile the ingest path for
// real bodies' shapes before the first client's (src/pool/warm-up.ts, decision 0017). The pool
// waits for every worker's 'ready' before the server listens, so no client task runs meanwhile.
void warmUp({
  points: config.warmUpPoints ?? 0,
  syncPolicy: config.sync,
  syncIntervalMs: config.syncIntervalMs,
  log,
  target: {
    run,
    redirectAppends: (scratch) => {
      appendTarget = scratch ?? writer;
    },
    forgetSeries: () => sharedSeriesCache().forget(),
  },
}).then((warmed) => {
  if (warmed !== undefined) log({ event: 'worker.warmed-up', shardId, points: warmed.points, elapsedMs: Math.round(warmed.elapsedMs) });
  control.postMessage({ type: 'ready', shardId } satisfies ControlMessage);
});
