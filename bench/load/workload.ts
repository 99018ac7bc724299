// The load generator's workload: TSBS devops "cpu-only"-like points, fully determined by the
// seed, cut into request bodies before any timing. `hosts × 10` series (cpu.usage_user …
// cpu.usage_guest_nice) with 8 host tags as TSBS draws them (hostname, region, datacenter, rack,
// os, arch, team, service), values a clamped normal random walk in [0, 100] printed at full
// float64 precision (TSBS's incompressible low bits) or rounded to `precision` decimals, points
// `intervalS` apart, time-major (every series at t0, then every series at t1, …). The points do not
// depend on the batch size or the format, so runs at different batch sizes send the same data.
import { seededRandom } from '../../test/helpers/batches.js';

export type LoadFormat = 'kairosdb' | 'opentsdb';

export const CPU_FIELDS = [
  'usage_user',
  'usage_system',
  'usage_idle',
  'usage_nice',
  'usage_iowait',
  'usage_irq',
  'usage_softirq',
  'usage_steal',
  'usage_guest',
  'usage_guest_nice',
] as const;

const REGIONS: readonly (readonly [string, readonly string[]])[] = [
  ['us-east-1', ['us-east-1a', 'us-east-1b', 'us-east-1c', 'us-east-1e']],
  ['us-west-1', ['us-west-1a', 'us-west-1b']],
  ['us-west-2', ['us-west-2a', 'us-west-2b', 'us-west-2c']],
  ['eu-west-1', ['eu-west-1a', 'eu-west-1b', 'eu-west-1c']],
  ['eu-central-1', ['eu-central-1a', 'eu-central-1b']],
  ['ap-southeast-1', ['ap-southeast-1a', 'ap-southeast-1b']],
  ['ap-southeast-2', ['ap-southeast-2a', 'ap-southeast-2b']],
  ['ap-northeast-1', ['ap-northeast-1a', 'ap-northeast-1c']],
  ['sa-east-1', ['sa-east-1a', 'sa-east-1b', 'sa-east-1c']],
];
const OSES = ['Ubuntu16.10', 'Ubuntu16.04LTS', 'Ubuntu15.10'] as const;
const ARCHES = ['x64', 'x86'] as const;
const TEAMS = ['SF', 'NYC', 'LON', 'CHI'] as const;

export interface WorkloadOptions {
  readonly format: LoadFormat;
  /** Series = hosts × 10 cpu fields. */
  readonly hosts: number;
  /** Total points wanted; rounded up to a whole number of timestamps (every series at each). */
  readonly points: number;
  /** Points per request body (the last body may hold fewer). */
  readonly batch: number;
  readonly seed: number;
  /** First timestamp, ms since the epoch (default 2024-01-01T00:00:00Z). */
  readonly startMs?: number;
  /** Seconds between a series' points (default 10). */
  readonly intervalS?: number;
  /** Decimal places of the values; undefined = full float64 precision (TSBS). */
  readonly precision?: number | undefined;
  /** Metric name prefix (default "cpu" → cpu.usage_user …). */
  readonly metricPrefix?: string;
}

export interface SeriesDef {
  readonly metric: string;
  readonly tags: Readonly<Record<string, string>>;
}

export interface Workload {
  readonly format: LoadFormat;
  readonly series: readonly SeriesDef[];
  readonly metrics: readonly string[];
  readonly timestamps: number;
  readonly startMs: number;
  /** Timestamp of the last point, ms. */
  readonly endMs: number;
  /** Total points over all bodies. */
  readonly points: number;
  /** Uncompressed JSON bodies, in send order. */
  readonly bodies: readonly Buffer[];
  /** Points carried by each body. */
  readonly pointsPerBody: Uint32Array;
}

/** The 8 TSBS host tags of host `h`, drawn from `rnd` (called in a fixed order per host). */
function hostTags(h: number, rnd: () => number): Record<string, string> {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const [region, dcs] = pick(REGIONS);
  return {
    hostname: `host_${h}`,
    region,
    datacenter: pick(dcs),
    rack: String(Math.floor(rnd() * 100)),
    os: pick(OSES),
    arch: pick(ARCHES),
    team: pick(TEAMS),
    service: String(Math.floor(rnd() * 20)),
  };
}

export function seriesOf(hosts: number, seed: number, metricPrefix = 'cpu'): SeriesDef[] {
  const rnd = seededRandom(seed ^ 0x5eed7a65);
  const out: SeriesDef[] = [];
  for (let h = 0; h < hosts; h++) {
    const tags = hostTags(h, rnd);
    for (const f of CPU_FIELDS) out.push({ metric: `${metricPrefix}.${f}`, tags });
  }
  return out;
}

/** Standard normal deviates (Box–Muller) from a uniform source, two per pair of draws. */
function normalSource(rnd: () => number): () => number {
  let spare = NaN;
  return () => {
    if (!Number.isNaN(spare)) {
      const s = spare;
      spare = NaN;
      return s;
    }
    const u = 1 - rnd(); // (0, 1]
    const v = rnd();
    const r = Math.sqrt(-2 * Math.log(u));
    spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  };
}

/**
 * Generates every point and cuts the bodies. KairosDB: `[{"name","tags","datapoints":[[ms,v],…]},…]`,
 * one object per series present in the body (several points when a body spans a series more than
 * once), series in first-use order. OpenTSDB `/api/put`: `[{"metric","timestamp"(s),"value","tags"},…]`,
 * one object per point.
 */
export function buildWorkload(o: WorkloadOptions): Workload {
  if (!(o.hosts >= 1 && o.batch >= 1 && o.points >= 1)) throw new Error('hosts, batch and points must be ≥ 1');
  const startMs = o.startMs ?? Date.UTC(2024, 0, 1);
  const intervalMs = (o.intervalS ?? 10) * 1000;
  if (o.format === 'opentsdb' && intervalMs % 1000 !== 0) throw new Error('opentsdb timestamps are whole seconds: --interval must be an integer');
  const series = seriesOf(o.hosts, o.seed, o.metricPrefix);
  const nSeries = series.length;
  const timestamps = Math.ceil(o.points / nSeries);
  const total = timestamps * nSeries;

  // Per-series JSON fragments, built once.
  const tagsJson = series.map((s) => JSON.stringify(s.tags));
  const kairosHead = series.map((s, i) => `{"name":${JSON.stringify(s.metric)},"tags":${tagsJson[i]!},"datapoints":[`);
  const tsdbHead = series.map((s) => `{"metric":${JSON.stringify(s.metric)},"timestamp":`);
  const tsdbTail = tagsJson.map((t) => `,"tags":${t}}`);

  const rnd = seededRandom(o.seed);
  const normal = normalSource(rnd);
  const level = new Float64Array(nSeries);
  for (let s = 0; s < nSeries; s++) level[s] = rnd() * 100;
  const scale = o.precision === undefined ? 0 : 10 ** o.precision;
  const format = (v: number): string => (scale === 0 ? String(v) : String(Math.round(v * scale) / scale));

  const bodies: Buffer[] = [];
  const pointsPerBody: number[] = [];
  // KairosDB grouping state: slot of each series in the current body, or -1.
  const slot = new Int32Array(nSeries).fill(-1);
  let used: number[] = []; // series in first-use order
  let groups: string[][] = []; // "[ms,v]" strings per used series
  let parts: string[] = []; // OpenTSDB objects
  let inBody = 0;
  const flush = (): void => {
    if (inBody === 0) return;
    let text: string;
    if (o.format === 'kairosdb') {
      const objs = new Array<string>(used.length);
      for (let k = 0; k < used.length; k++) {
        const s = used[k]!;
        objs[k] = `${kairosHead[s]!}${groups[k]!.join(',')}]}`;
        slot[s] = -1;
      }
      text = `[${objs.join(',')}]`;
      used = [];
      groups = [];
    } else {
      text = `[${parts.join(',')}]`;
      parts = [];
    }
    bodies.push(Buffer.from(text, 'utf8'));
    pointsPerBody.push(inBody);
    inBody = 0;
  };

  for (let k = 0; k < timestamps; k++) {
    const ms = startMs + k * intervalMs;
    const msText = String(ms);
    const secText = String(ms / 1000);
    for (let s = 0; s < nSeries; s++) {
      const v = Math.min(100, Math.max(0, level[s]! + normal()));
      level[s] = v;
      if (o.format === 'kairosdb') {
        let g = slot[s]!;
        if (g < 0) {
          g = used.length;
          slot[s] = g;
          used.push(s);
          groups.push([]);
        }
        groups[g]!.push(`[${msText},${format(v)}]`);
      } else {
        parts.push(`${tsdbHead[s]!}${secText},"value":${format(v)}${tsdbTail[s]!}`);
      }
      if (++inBody === o.batch) flush();
    }
  }
  flush();
  return {
    format: o.format,
    series,
    metrics: CPU_FIELDS.map((f) => `${o.metricPrefix ?? 'cpu'}.${f}`),
    timestamps,
    startMs,
    endMs: startMs + (timestamps - 1) * intervalMs,
    points: total,
    bodies,
    pointsPerBody: Uint32Array.from(pointsPerBody),
  };
}
