// Builders of WriteBatch values for tests and benches: plain points in, columns out.
import { ValueKind, type SeriesKey, type WriteBatch } from '../../engine/index.js';

/** One point as a test writes it; `value` picks the kind: number → float64, bigint → int64, string → string, {json} → JSON. */
export interface TestPoint {
  readonly metric: string;
  readonly tags?: Record<string, string>;
  readonly t: number;
  readonly value: number | bigint | string | { readonly json: string };
  readonly ttlSeconds?: number;
}

export function batchOf(points: readonly TestPoint[]): WriteBatch {
  const n = points.length;
  const series: SeriesKey[] = [];
  const seriesByKey = new Map<string, number>();
  const ttl: number[] = [];
  const seriesIndex = new Uint32Array(n);
  const timestampsMs = new Float64Array(n);
  const kinds = new Uint8Array(n);
  const floats = new Float64Array(n);
  const ints = new BigInt64Array(n);
  const texts: (string | undefined)[] = new Array(n);
  points.forEach((p, i) => {
    const tags = p.tags ?? {};
    const id = JSON.stringify([p.metric, Object.entries(tags).sort()]);
    let s = seriesByKey.get(id);
    if (s === undefined) {
      s = series.length;
      seriesByKey.set(id, s);
      series.push({ metric: p.metric, tags });
      ttl.push(p.ttlSeconds ?? 0);
    }
    seriesIndex[i] = s;
    timestampsMs[i] = p.t;
    const v = p.value;
    if (typeof v === 'number') {
      kinds[i] = ValueKind.Float64;
      floats[i] = v;
    } else if (typeof v === 'bigint') {
      kinds[i] = ValueKind.Int64;
      ints[i] = v;
    } else if (typeof v === 'string') {
      kinds[i] = ValueKind.String;
      texts[i] = v;
    } else {
      kinds[i] = ValueKind.Json;
      texts[i] = v.json;
    }
  });
  const batch: WriteBatch = { length: n, series, seriesIndex, timestampsMs, kinds, floats, ints, texts };
  return ttl.some((x) => x > 0) ? { ...batch, ttlSeconds: Uint32Array.from(ttl) } : batch;
}

/** A scanned series flattened back to [t, value] pairs in the TestPoint value convention. */
export function pointsOf(s: {
  length: number;
  timestampsMs: Float64Array;
  kinds: Uint8Array;
  floats: Float64Array;
  ints: BigInt64Array;
  texts: readonly (string | undefined)[];
}): [number, TestPoint['value']][] {
  const out: [number, TestPoint['value']][] = [];
  for (let i = 0; i < s.length; i++) {
    const k = s.kinds[i];
    const v =
      k === ValueKind.Float64 ? s.floats[i]! : k === ValueKind.Int64 ? s.ints[i]! : k === ValueKind.String ? s.texts[i]! : { json: s.texts[i]! };
    out.push([s.timestampsMs[i]!, v]);
  }
  return out;
}

/** Deterministic PRNG (mulberry32) so generated data is the same every run. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Devops-style batch: `hosts × 10` cpu series, one point per series per timestamp, values a
 * 2-decimal random walk in [0, 100], `intervalMs` apart starting at `startMs`.
 */
export function devopsBatch(hosts: number, timestamps: number, startMs: number, intervalMs: number, seed = 1): WriteBatch {
  const fields = ['usage_user', 'usage_system', 'usage_idle', 'usage_nice', 'usage_iowait', 'usage_irq', 'usage_softirq', 'usage_steal', 'usage_guest', 'usage_guest_nice'];
  const rnd = seededRandom(seed);
  const series: SeriesKey[] = [];
  for (let h = 0; h < hosts; h++) {
    for (const f of fields) {
      series.push({
        metric: `cpu.${f}`,
        tags: { hostname: `host_${h}`, region: `region_${h % 7}`, datacenter: `dc_${h % 13}`, rack: String(h % 97), os: 'Ubuntu16.04LTS', arch: h % 2 ? 'x64' : 'x86', team: ['SF', 'NYC', 'LON', 'CHI'][h % 4]!, service: String(h % 19) },
      });
    }
  }
  const n = series.length * timestamps;
  const seriesIndex = new Uint32Array(n);
  const timestampsMs = new Float64Array(n);
  const floats = new Float64Array(n);
  const level = series.map(() => rnd() * 100);
  let i = 0;
  for (let k = 0; k < timestamps; k++) {
    for (let s = 0; s < series.length; s++) {
      level[s] = Math.min(100, Math.max(0, level[s]! + (rnd() - 0.5) * 4));
      seriesIndex[i] = s;
      timestampsMs[i] = startMs + k * intervalMs;
      floats[i] = Math.round(level[s]! * 100) / 100;
      i++;
    }
  }
  return { length: n, series, seriesIndex, timestampsMs, kinds: new Uint8Array(n), floats, ints: new BigInt64Array(0), texts: [] };
}
