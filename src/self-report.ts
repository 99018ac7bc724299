// Self-reporting, as KairosDB does with its `kairosdb.*` metrics: every interval the server
// stores its own metrics (src/metrics.ts) as `strata.*` series in its own store, tagged with the
// host name, so they can be queried and graphed through any of the query APIs like user data.
// Counters are stored as their running totals (rate them at query time, as KairosDB users do with
// `kairosdb.datastore.write_size`); gauges as their value. Histograms are left to /metrics.
import * as os from 'node:os';
import { log } from './log.js';
import type { ServerMetrics } from './metrics.js';
import type { KairosIngestTask } from './pool/messages.js';
import type { WorkerPool } from './pool/pool.js';

/** prom-client metric families reported, by name prefix; the process_* ones are prom-client's defaults. */
const REPORTED = /^(strata_|process_resident_memory_bytes$|process_cpu_seconds_total$|nodejs_eventloop_lag_p99_seconds$|nodejs_heap_size_used_bytes$)/;

/** `strata_points_stored_total` → `strata.points_stored`; `process_resident_memory_bytes` → `strata.process_resident_memory_bytes`. */
export function reportedName(promName: string): string {
  const base = promName.endsWith('_total') ? promName.slice(0, -'_total'.length) : promName;
  return base.startsWith('strata_') ? `strata.${base.slice('strata_'.length)}` : `strata.${base}`;
}

interface MetricJson {
  readonly name: string;
  readonly type: string;
  readonly values: readonly { readonly value: number; readonly labels: Readonly<Record<string, string | number>> }[];
}

/** The KairosDB ingest body for one report at `timestampMs`: one metric object per sample. */
export function reportBody(metrics: readonly MetricJson[], timestampMs: number, host: string): string {
  const out: { name: string; tags: Record<string, string>; datapoints: [number, number][] }[] = [];
  for (const m of metrics) {
    if (!REPORTED.test(m.name) || m.type === 'histogram' || m.type === 'summary') continue;
    for (const v of m.values) {
      if (!Number.isFinite(v.value)) continue;
      const tags: Record<string, string> = { host };
      for (const [k, value] of Object.entries(v.labels)) tags[k] = String(value);
      out.push({ name: reportedName(m.name), tags, datapoints: [[timestampMs, v.value]] });
    }
  }
  return JSON.stringify(out);
}

export interface SelfReport {
  stop(): void;
}

/** Stores a report every `intervalMs` (0: never); failures are logged, never thrown. */
export function startSelfReport(options: { readonly intervalMs: number; readonly metrics: ServerMetrics; readonly pool: WorkerPool; readonly maxInflatedBytes: number }): SelfReport {
  if (options.intervalMs <= 0) return { stop() {} };
  const host = os.hostname();
  let running = false;
  const timer = setInterval(() => {
    if (running) return; // a slow store: skip a beat rather than pile reports up
    running = true;
    void report()
      .catch((err: unknown) => log({ level: 'warn', event: 'self-report.failed', message: (err as Error).message }))
      .finally(() => {
        running = false;
      });
  }, options.intervalMs);
  timer.unref();

  async function report(): Promise<void> {
    const json = (await options.metrics.registry.getMetricsAsJSON()) as unknown as MetricJson[];
    const bytes = Buffer.from(reportBody(json, Date.now(), host));
    const body = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
    const task: KairosIngestTask = {
      kind: 'kairos.ingest',
      body,
      bodyBytes: body.byteLength,
      encoding: 'identity',
      maxInflatedBytes: options.maxInflatedBytes,
      sync: false,
      internal: true,
    };
    const result = await options.pool.run(task, body);
    if (!result.ok) log({ level: 'warn', event: 'self-report.refused', code: result.code, message: result.messages.join('; ') });
  }

  return {
    stop() {
      clearInterval(timer);
    },
  };
}
