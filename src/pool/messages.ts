// The messages that cross between the main thread and the workers, declared once and imported by
// both sides. Bodies cross as transferred ArrayBuffers (Piscina.move), never as object graphs.
// Plain data only: everything here must survive structured cloning.
import type { ServiceErrorCode } from '../errors.js';

/** How a request body is encoded on the wire (Content-Encoding, or KairosDB's application/gzip). */
export type BodyEncoding = 'identity' | 'gzip' | 'deflate';

interface BodyTask {
  /** The request body exactly as received; the worker owns it after transfer. */
  readonly body: ArrayBuffer;
  /** Bytes of `body` that are the request body (the buffer may be larger: bytes past them are stale, a recycled buffer's earlier body; never read them). */
  readonly bodyBytes: number;
  /** Where the request body starts in `body` (default 0; non-zero for parts of an ingest group). */
  readonly bodyOffset?: number;
  readonly encoding: BodyEncoding;
  /** Inflated bodies larger than this fail with BodyTooLarge. */
  readonly maxInflatedBytes: number;
}

/** KairosDB `POST /api/v1/datapoints`. */
export interface KairosIngestTask extends BodyTask {
  readonly kind: 'kairos.ingest';
  /** msync before answering (in addition to the server's sync policy). */
  readonly sync: boolean;
  /** The server's own metrics, reported into its store (src/self-report.ts): not counted as client points. */
  readonly internal?: boolean;
}

/** KairosDB query-shaped requests: the body (or ?query=) is a KairosDB query document. */
export interface KairosQueryTask extends BodyTask {
  readonly kind: 'kairos.query' | 'kairos.query-tags' | 'kairos.delete';
  /** Gzip the response body (client sent Accept-Encoding: gzip). */
  readonly gzipResponse: boolean;
}

/** KairosDB listings and metric delete: no body. */
export interface KairosCatalogTask {
  readonly kind: 'kairos.metricnames' | 'kairos.tagnames' | 'kairos.tagvalues' | 'kairos.delete-metric';
  /** prefix for metricnames, tag name for tagvalues, metric for delete-metric. */
  readonly argument: string | undefined;
  readonly gzipResponse: boolean;
}

/** OpenTSDB `POST /api/put` or `/api/rollup`: the body plus the URL query (summary, details, sync…). */
export interface OpenTsdbPutTask extends BodyTask {
  readonly kind: 'opentsdb.put' | 'opentsdb.rollup';
  readonly query: string;
  /** The server's policy asks for an msync before every answer (--sync always). */
  readonly syncAlways: boolean;
}

/**
 * OpenTSDB reads: `/api/query` (protocols.md §2.4), and the discovery reads of §2.5,
 * `/api/suggest` and `/api/search/<type>` (lookup; the other types answer "Searching is not
 * enabled"); GET (empty body) or POST. The worker parses,
 * reads the catalog and answers with OpenTSDB's body and status.
 */
export interface OpenTsdbDiscoveryTask extends BodyTask {
  readonly kind: 'opentsdb.suggest' | 'opentsdb.search' | 'opentsdb.query';
  /** `opentsdb.search`: the <type> path segment as sent (e.g. "lookup"). */
  readonly searchType?: string;
  /** Upper-case HTTP method. */
  readonly method: string;
  /** 1 for /api/… (and /api/v1/…), 0 for the deprecated unversioned path (/suggest). */
  readonly apiVersion: 0 | 1;
  /** The raw URL query string. */
  readonly query: string;
}

/** A burst of line-protocol bytes from one connection (possibly ending mid-line). */
export interface TelnetTask {
  readonly kind: 'telnet';
  readonly body: ArrayBuffer;
  readonly bodyBytes: number;
}

/**
 * Small ingest requests that arrived while every worker was busy, run as one task (src/pool/
 * coalescer.ts): the bodies lie back to back in `body` (each part's bodyOffset/bodyBytes), the
 * parts are decoded in order as if each were its own task, and their points are appended
 * together — one block per group instead of one per request. Each part gets its own answer.
 */
export interface IngestGroupTask {
  readonly kind: 'ingest.group';
  readonly body: ArrayBuffer;
  /** Each part's `body` is this task's `body`. */
  readonly parts: readonly CoalescibleTask[];
}

/** Ingest tasks that may be grouped: their answers depend only on their own body and flags. */
export type CoalescibleTask = KairosIngestTask | OpenTsdbPutTask;

/** Makes piscina start a worker; answered once the worker's shard is claimed. */
export interface PingTask {
  readonly kind: 'ping';
}

/**
 * OneNET (protocols.md §4), after the route authenticated the api-key for `deviceId` on the main
 * thread: `onenet.upload` (body + `?type=`), `onenet.bindata` (raw body stored at `atMs`),
 * `onenet.datapoints` / `onenet.datastreams` (reads, `query` = the URL query string) and
 * `onenet.bindata-read` (`candidates`: the authorised readings of one index). Run by src/pool/onenet.ts.
 */
export interface OneNetTask extends BodyTask {
  readonly kind: 'onenet.upload' | 'onenet.bindata' | 'onenet.datapoints' | 'onenet.datastreams' | 'onenet.bindata-read';
  readonly deviceId: string;
  readonly query: string;
  /** onenet.bindata: the datastream, the description and the time the main thread allotted (ms). */
  readonly datastreamId?: string;
  readonly desc?: string;
  readonly atMs?: number;
  readonly candidates?: readonly { readonly deviceId: string; readonly datastreamId: string; readonly atMs: number }[];
}

/**
 * CAVE `POST …/metrics` (protocols.md §3.2), after the route authenticated a publish token for the
 * tenant on the main thread: the body's metrics are stored with `CAVE-account` = `account`.
 */
export interface CavePublishTask extends BodyTask {
  readonly kind: 'cave.publish';
  /** `org` or `team.org`: the tag value every stored series gets (src/protocols/cave/auth.ts). */
  readonly account: string;
  /** The server's policy asks for an msync before every answer (--sync always). */
  readonly syncAlways: boolean;
}

/** CAVE reads (§3.3) after the route authenticated a read token: scoped to `account`; `query` = the URL query string. */
export interface CaveReadTask {
  readonly kind: 'cave.metric-names' | 'cave.metrics';
  readonly account: string;
  readonly query: string;
}

export type WorkerTask = PingTask | IngestGroupTask | OpenTsdbPutTask | OpenTsdbDiscoveryTask | KairosIngestTask | KairosQueryTask | KairosCatalogTask | TelnetTask | OneNetTask | CavePublishTask | CaveReadTask;

/** A protocol-level answer the route writes out as is (status, content, optional gzip). */
export interface WorkerReply {
  readonly ok: true;
  readonly status: number;
  /** Response body; empty for 204. Already gzipped when `gzipped`. */
  readonly body: ArrayBuffer | string;
  readonly gzipped: boolean;
  /** Points stored by this task (ingest), for metrics and tests. */
  readonly points?: number;
  /** Points refused one by one while others were stored (OpenTSDB's per-point failures), for metrics. */
  readonly rejectedPoints?: number;
}

/**
 * A failure with a service error code; the route maps it to the protocol's envelope. For
 * KairosDB ingest with validation errors, valid metric objects may still have been stored
 * (partial acceptance, protocols.md §1.2) — `points` says how many.
 */
export interface WorkerFailure {
  readonly ok: false;
  readonly code: ServiceErrorCode;
  readonly messages: readonly string[];
  readonly points?: number;
}

/** Reply to a telnet burst: bytes to write back (possibly empty) and the unconsumed tail. */
export interface TelnetReply {
  readonly ok: true;
  readonly replies: string;
  /** Bytes after the last complete line; the listener prepends them to the next burst. */
  readonly tail: ArrayBuffer;
  readonly points: number;
  /** The client asked to end the session (`exit`): write the replies, then close. */
  readonly close: boolean;
}

export type WorkerResult = WorkerReply | WorkerFailure | TelnetReply;

/** Reply to an ingest group: one answer per part, in the parts' order (only the pool sees it). */
export interface IngestGroupReply {
  readonly ok: true;
  readonly parts: readonly (WorkerReply | WorkerFailure)[];
}

/**
 * What a worker's piscina entry answers every task with (only the pool sees it): the result, and
 * the task's body buffer when the worker is done with it, transferred back for the main thread's
 * free-list (src/pool/body-buffers.ts, src/pool/body-return.ts).
 */
export interface WorkerAnswer {
  readonly result: WorkerResult | IngestGroupReply | undefined;
  readonly returnedBody?: ArrayBuffer;
}

/** What main passes to every worker at start (piscina workerData). */
export interface WorkerData {
  readonly dataDir: string;
  readonly sync: 'interval' | 'always' | 'never';
  readonly syncIntervalMs: number;
  /** Period of the worker's compaction check (ServerConfig.compactCheckMs); default 30 s. */
  readonly compactCheckMs?: number;
  readonly segmentBytes: number;
  /** OpenTSDB tags per point on /api/put, /api/rollup and the line port's put/rollup (ServerConfig.openTsdbMaxTags). */
  readonly openTsdbMaxTags: number;
  /** OneNET: the zone (`±HH:MM`) of `at` times without one, and of the times read endpoints print (ServerConfig.onenetTimeZone). */
  readonly onenetTimeZone: string;
  /** Synthetic points to ingest into a scratch shard before reporting ready (ServerConfig.warmUpPoints; src/pool/warm-up.ts). */
  readonly warmUpPoints?: number;
  /** Int32Array over a SharedArrayBuffer: [0] = tombstone-log mutex (0 free, 1 held). */
  readonly locks: SharedArrayBuffer;
  /** BroadcastChannel name on which main announces shutdown and workers confirm close. */
  readonly controlChannel: string;
}

/** Main → workers on the control channel. */
export interface ShutdownMessage {
  readonly type: 'shutdown';
}
/** Worker → main on the control channel, once its writer is closed (synced). */
export interface ClosedMessage {
  readonly type: 'closed';
  readonly shardId: number;
}
/** Worker → main once its shard is claimed and recovered. */
export interface ReadyMessage {
  readonly type: 'ready';
  readonly shardId: number;
}
/**
 * Worker → main on the control channel, every second: the shard's figures for GET /metrics
 * (src/metrics.ts). `series` and `compactionPendingSegments` are current values; `compactions`
 * and `syncSeconds` cover what happened since the previous stats message.
 */
export interface StatsMessage {
  readonly type: 'stats';
  readonly shardId: number;
  /** Distinct series the shard has written (its catalog's size). */
  readonly series: number;
  /** Sealed ingest segments waiting for compaction. */
  readonly compactionPendingSegments: number;
  /** Compactions of the shard that finished since the previous stats message. */
  readonly compactions: number;
  readonly syncSeconds: readonly number[];
}
export type ControlMessage = ShutdownMessage | ClosedMessage | ReadyMessage | StatsMessage;
