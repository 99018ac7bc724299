// The server's own metrics in Prometheus text format (`GET /metrics`; prom-client, decision
// 0015): requests and their latency per API, points stored per API, the worker queue, body
// bytes in flight, segments and bytes on disk, plus prom-client's process metrics. Counted on
// the main thread only: every HTTP answer passes HttpExchange.respond, every worker result passes
// WorkerPool (its `onResult` hook), so no worker needs to report anything.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** The API family of a request path, as the `api` label. */
export function apiOfPath(url: string): string {
  if (/^\/api\/v1\/(datapoints|metricnames|tagnames|tagvalues|metric\/|health|version)/.test(url)) return 'kairosdb';
  if (url.startsWith('/api/') || url === '/api' || url === '/suggest' || url === '/version') return 'opentsdb';
  if (url.startsWith('/organizations/') || url === '/metric-names') return 'cave';
  if (url.startsWith('/devices/') || url === '/bindata') return 'onenet';
  if (url.startsWith('/admin/')) return 'admin';
  if (url === '/metrics') return 'metrics';
  return 'other';
}

/** The API family of a worker task kind (`kairos.ingest` → kairosdb, `telnet` → telnet). */
export function apiOfTask(kind: string): string {
  const dot = kind.indexOf('.');
  const family = dot < 0 ? kind : kind.slice(0, dot);
  return family === 'kairos' ? 'kairosdb' : family;
}

export interface MetricsSources {
  /** Tasks waiting for a worker, and tasks handed to the workers and not settled. */
  readonly queuedTasks: () => number;
  /** Request body bytes reserved against the in-flight budget, and the budget. */
  readonly inflightBytes: () => number;
  readonly inflightLimitBytes: number;
  /** The data directory (segments are counted from its `shards/<id>/*.seg` files at scrape time). */
  readonly dataDir: string;
}

/** Latency buckets (seconds): 0.5 ms … 10 s, for requests from a 1-point put to a 5,000-point gzip body. */
const LATENCY_BUCKETS_S = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** msync takes microseconds on tmpfs, milliseconds on SSDs, up to seconds on a busy disk. */
const SYNC_BUCKETS_S = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5];

export class ServerMetrics {
  readonly registry = new Registry();
  private readonly requests: Counter<'api' | 'status'>;
  private readonly latency: Histogram<'api'>;
  private readonly points: Counter<'api'>;
  private readonly rejected: Counter<'api'>;
  private readonly series: Gauge<'shard'>;
  private readonly compactionPending: Gauge<'shard'>;
  private readonly compactions: Counter<'shard'>;
  private readonly syncs: Histogram;

  constructor(sources: MetricsSources) {
    const registers = [this.registry];
    this.requests = new Counter({ name: 'strata_http_requests_total', help: 'HTTP requests answered, by API and status code', labelNames: ['api', 'status'], registers });
    this.latency = new Histogram({
      name: 'strata_http_request_duration_seconds',
      help: 'From the request head to the answer written, by API',
      labelNames: ['api'],
      buckets: LATENCY_BUCKETS_S,
      registers,
    });
    this.points = new Counter({ name: 'strata_points_stored_total', help: 'Points stored (acknowledged), by API; telnet = the line port', labelNames: ['api'], registers });
    this.rejected = new Counter({
      name: 'strata_points_rejected_total',
      help: "Points refused one by one while the rest of their request was stored (OpenTSDB's per-point failures), by API; requests refused whole are strata_http_requests_total by status",
      labelNames: ['api'],
      registers,
    });
    // Shard figures the workers send each second (StatsMessage); absent until the first arrives.
    this.series = new Gauge({ name: 'strata_series', help: 'Distinct series per shard (its catalog)', labelNames: ['shard'], registers });
    this.compactionPending = new Gauge({ name: 'strata_compaction_pending_segments', help: 'Sealed ingest segments waiting for compaction, per shard', labelNames: ['shard'], registers });
    this.compactions = new Counter({ name: 'strata_compactions_total', help: 'Compactions finished, per shard', labelNames: ['shard'], registers });
    this.syncs = new Histogram({ name: 'strata_sync_duration_seconds', help: 'msync of appended bytes (the durability step of every --sync policy)', buckets: SYNC_BUCKETS_S, registers });
    new Gauge({ name: 'strata_worker_queue_tasks', help: 'Tasks waiting for a worker', registers, collect() { this.set(sources.queuedTasks()); } });
    new Gauge({ name: 'strata_inflight_body_bytes', help: 'Request body bytes held in flight (503 past strata_inflight_body_limit_bytes)', registers, collect() { this.set(sources.inflightBytes()); } });
    new Gauge({ name: 'strata_inflight_body_limit_bytes', help: 'The in-flight body budget (--max-inflight-bytes)', registers }).set(sources.inflightLimitBytes);
    // The segment scan runs in the first of these three to be collected (prom-client collects in
    // registration order) and sets all three.
    let segmentBytes: Gauge<'shard'> | undefined;
    let shardCount: Gauge | undefined;
    new Gauge({
      name: 'strata_segments',
      help: 'Segment files per shard',
      labelNames: ['shard'],
      registers,
      collect() {
        const shards = listSegments(sources.dataDir);
        this.reset();
        segmentBytes!.reset();
        for (const [shard, files] of shards) {
          this.set({ shard }, files.length);
          segmentBytes!.set({ shard }, files.reduce((n, f) => n + f, 0));
        }
        shardCount!.set(shards.size);
      },
    });
    segmentBytes = new Gauge({ name: 'strata_segment_bytes', help: 'Bytes of segment files per shard (ingest segments are preallocated)', labelNames: ['shard'], registers });
    shardCount = new Gauge({ name: 'strata_shards', help: 'Shards in the data directory', registers });
    collectDefaultMetrics({ register: this.registry });
  }

  /** One HTTP answer: `api` is apiOfPath of the request path, `seconds` from its head to the answer. */
  observeResponse(api: string, status: number, seconds: number): void {
    this.requests.inc({ api, status: String(status) });
    this.latency.observe({ api }, seconds);
  }

  /** A worker result: its stored and refused points (present on ingest answers) count for the task's API. */
  observeResult(task: { readonly kind: string; readonly internal?: boolean }, result: { readonly points?: number; readonly rejectedPoints?: number } | undefined): void {
    if (task.internal === true) return;
    const points = result?.points;
    if (points !== undefined && points > 0) this.points.inc({ api: apiOfTask(task.kind) }, points);
    const rejected = result?.rejectedPoints;
    if (rejected !== undefined && rejected > 0) this.rejected.inc({ api: apiOfTask(task.kind) }, rejected);
  }

  /** A worker's stats message: its shard's series, compaction backlog and progress, msync durations. */
  observeStats(stats: { readonly shardId: number; readonly series: number; readonly compactionPendingSegments: number; readonly compactions: number; readonly syncSeconds: readonly number[] }): void {
    const shard = String(stats.shardId);
    this.series.set({ shard }, stats.series);
    this.compactionPending.set({ shard }, stats.compactionPendingSegments);
    this.compactions.inc({ shard }, stats.compactions); // by 0 too: the series exists from the first message
    for (const seconds of stats.syncSeconds) this.syncs.observe(seconds);
  }

  /** The exposition text and its Content-Type. */
  async exposition(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}

/** shard id → sizes of its `*.seg` files; a directory being rewritten is read as it is. */
function listSegments(dataDir: string): Map<string, number[]> {
  const out = new Map<string, number[]>();
  const shardsDir = path.join(dataDir, 'shards');
  let shards: string[];
  try {
    shards = fs.readdirSync(shardsDir);
  } catch {
    return out;
  }
  for (const shard of shards) {
    const sizes: number[] = [];
    try {
      for (const name of fs.readdirSync(path.join(shardsDir, shard))) {
        if (!name.endsWith('.seg')) continue;
        try {
          sizes.push(fs.statSync(path.join(shardsDir, shard, name)).size);
        } catch {
          /* retired by compaction meanwhile */
        }
      }
    } catch {
      continue;
    }
    out.set(shard, sizes);
  }
  return out;
}
