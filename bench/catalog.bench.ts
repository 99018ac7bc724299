// Series catalog: start-up rebuild (decodeSeriesKey + Catalog.resolve over 100 k and 1 M encoded
// TSBS-devops keys in one buffer, as segment footers hold them), heap bytes per series, hot-path
// resolve of existing series, select latency, canonicalSeriesKey. Same-run baselines: a plain
// Map<string, number> over canonical strings, a linear scan, regex escaping. Data built first.
import { Bench } from 'tinybench';
import { Catalog } from '../engine/catalog/catalog.js';
import { canonicalSeriesKey, decodeSeriesKey, encodeSeriesKey } from '../engine/catalog/series-key.js';
import { ByteReader, ByteWriter } from '../engine/codec/bytes.js';
import type { SeriesKey, Tags } from '../engine/types.js';
import { opsPerSecond, writeResults } from './report.js';

const FIELDS = ['usage_user', 'usage_system', 'usage_idle', 'usage_nice', 'usage_iowait', 'usage_irq', 'usage_softirq', 'usage_steal', 'usage_guest', 'usage_guest_nice'];
const REGIONS = ['us-east-1', 'us-west-1', 'us-west-2', 'eu-west-1', 'eu-central-1', 'ap-southeast-1', 'ap-southeast-2', 'ap-northeast-1', 'sa-east-1'];
const OSES = ['Ubuntu16.10', 'Ubuntu16.04LTS', 'Ubuntu15.10'];
const ARCHES = ['x64', 'x86'];
const TEAMS = ['SF', 'NYC', 'LON', 'CHI'];
const SELECT_QUERY = { metric: 'cpu.usage_user', tags: { region: ['eu-west-1'], team: ['LON'] } } as const;
const HOT_BATCH = 10_000;
const FRESH_BATCH = 1_000;

/** mulberry32: tiny fixed-seed PRNG so every run builds the same keys. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** TSBS-devops-like keys: per host, its 10 cpu fields back to back (as ingest creates them). */
function devopsKeys(series: number, seed = 42): SeriesKey[] {
  const rand = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const keys: SeriesKey[] = [];
  for (let host = 0; keys.length < series; host++) {
    const region = pick(REGIONS);
    const tags: Tags = {
      hostname: `host_${host}`,
      region,
      datacenter: `${region}${'abc'[Math.floor(rand() * 3)]}`,
      rack: String(Math.floor(rand() * 100)),
      os: pick(OSES),
      arch: pick(ARCHES),
      team: pick(TEAMS),
      service: String(Math.floor(rand() * 20)),
    };
    for (const field of FIELDS) {
      if (keys.length === series) break;
      keys.push({ metric: `cpu.${field}`, tags });
    }
  }
  return keys;
}

function encodeAll(keys: readonly SeriesKey[]): Uint8Array {
  const w = new ByteWriter(keys.length * 160);
  for (const key of keys) encodeSeriesKey(w, key);
  return w.bytes();
}

function rebuild(buf: Uint8Array, n: number): Catalog {
  const catalog = new Catalog();
  const r = new ByteReader(buf);
  for (let i = 0; i < n; i++) catalog.resolve(decodeSeriesKey(r));
  return catalog;
}

/** The naive catalog the real one is compared with: canonical string map + key objects. */
interface NaiveCatalog {
  readonly ids: Map<string, number>;
  readonly keys: SeriesKey[];
}

function naiveRebuild(buf: Uint8Array, n: number): NaiveCatalog {
  const ids = new Map<string, number>();
  const keys: SeriesKey[] = [];
  const r = new ByteReader(buf);
  for (let i = 0; i < n; i++) {
    const key = decodeSeriesKey(r);
    const c = canonicalSeriesKey(key);
    if (!ids.has(c)) {
      ids.set(c, keys.length);
      keys.push(key);
    }
  }
  return { ids, keys };
}

function naiveSelect(keys: readonly SeriesKey[]): number {
  let hits = 0;
  for (let id = 0; id < keys.length; id++) {
    const k = keys[id]!;
    if (k.metric === SELECT_QUERY.metric && k.tags.region === 'eu-west-1' && k.tags.team === 'LON') hits++;
  }
  return hits;
}

/** canonicalSeriesKey as it would be written without the no-escape fast path. */
function regexCanonical(key: SeriesKey): string {
  const esc = (s: string): string => s.replace(/[\\{},=]/g, '\\$&');
  const keys = Object.keys(key.tags).sort();
  return `${esc(key.metric)}{${keys.map((k) => `${esc(k)}=${esc(key.tags[k]!)}`).join(',')}}`;
}

const gc = (globalThis as { gc?: () => void }).gc;

/** Heap plus ArrayBuffer bytes (typed arrays live outside the JS heap) after a full GC. */
function liveBytes(): number {
  gc?.();
  gc?.();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

function latencyMs(bench: Bench, name: string): number {
  const result = bench.getTask(name)?.result as { latency?: { mean: number } } | undefined;
  return result?.latency?.mean ?? 0;
}

export async function main(): Promise<Record<string, number>> {
  const N_SMALL = 100_000;
  const N_LARGE = 1_000_000;
  const keysLarge = devopsKeys(N_LARGE);
  const bufLarge = encodeAll(keysLarge);
  const bufSmall = bufLarge; // the first 100 k keys of the same buffer
  const canonicalLarge = keysLarge.map(canonicalSeriesKey);
  let sink = 0;

  // --- rebuild -------------------------------------------------------------------------------
  const rebuildBench = new Bench({ time: 0, iterations: 3, warmupIterations: 1, warmupTime: 0 });
  rebuildBench
    .add('rebuild 100k: decode + resolve', () => {
      sink += rebuild(bufSmall, N_SMALL).size;
    })
    .add('rebuild 1M: decode + resolve', () => {
      sink += rebuild(bufLarge, N_LARGE).size;
    })
    .add('baseline: decode only 1M', () => {
      const r = new ByteReader(bufLarge);
      for (let i = 0; i < N_LARGE; i++) sink += decodeSeriesKey(r).metric.length;
    })
    .add('baseline: Map<string,number> insert 1M canonical strings', () => {
      const m = new Map<string, number>();
      for (let i = 0; i < N_LARGE; i++) m.set(canonicalLarge[i]!, i);
      sink += m.size;
    })
    .add('baseline: naive catalog rebuild 1M (decode + canonical + Map)', () => {
      sink += naiveRebuild(bufLarge, N_LARGE).keys.length;
    });
  await rebuildBench.run();
  const rebuild100kS = latencyMs(rebuildBench, 'rebuild 100k: decode + resolve') / 1000;
  const rebuild1MS = latencyMs(rebuildBench, 'rebuild 1M: decode + resolve') / 1000;
  const decode1MS = latencyMs(rebuildBench, 'baseline: decode only 1M') / 1000;
  const mapInsert1MS = latencyMs(rebuildBench, 'baseline: Map<string,number> insert 1M canonical strings') / 1000;
  const naive1MS = latencyMs(rebuildBench, 'baseline: naive catalog rebuild 1M (decode + canonical + Map)') / 1000;

  // --- memory --------------------------------------------------------------------------------
  const before = liveBytes();
  const catalog = rebuild(bufLarge, N_LARGE);
  const heapPerSeries = (liveBytes() - before) / N_LARGE;
  const estimatePerSeries = catalog.memoryStats().approxBytes / N_LARGE;
  const beforeNaive = liveBytes();
  const naive = naiveRebuild(bufLarge, N_LARGE);
  const naiveHeapPerSeries = (liveBytes() - beforeNaive) / N_LARGE;

  // --- hot path, select, canonical -------------------------------------------------------------
  // Keys of existing series, decoded afresh so they share no string objects with the catalog.
  const hotKeys: SeriesKey[] = [];
  {
    const r = new ByteReader(bufLarge);
    const stride = Math.floor(N_LARGE / HOT_BATCH);
    for (let i = 0; i < N_LARGE; i++) {
      const key = decodeSeriesKey(r);
      if (i % stride === 0 && hotKeys.length < HOT_BATCH) hotKeys.push(key);
    }
  }
  // The same keys as a JSON body: parsing it per iteration yields fresh, never-hashed strings, as
  // a protocol decoder would hand over.
  const freshJson = JSON.stringify(hotKeys.slice(0, FRESH_BATCH));

  const hot = new Bench({ time: 1_500, warmupTime: 300 });
  hot
    .add('resolve existing series (10k keys)', () => {
      for (let i = 0; i < HOT_BATCH; i++) sink += catalog.resolve(hotKeys[i]!);
    })
    .add('baseline: canonicalSeriesKey + Map.get (10k keys)', () => {
      for (let i = 0; i < HOT_BATCH; i++) sink += naive.ids.get(canonicalSeriesKey(hotKeys[i]!))!;
    })
    .add('JSON.parse 1k keys + resolve (fresh strings)', () => {
      const keys = JSON.parse(freshJson) as SeriesKey[];
      for (let i = 0; i < keys.length; i++) sink += catalog.resolve(keys[i]!);
    })
    .add('JSON.parse 1k keys + canonical + Map.get (fresh strings)', () => {
      const keys = JSON.parse(freshJson) as SeriesKey[];
      for (let i = 0; i < keys.length; i++) sink += naive.ids.get(canonicalSeriesKey(keys[i]!))!;
    })
    .add('baseline: JSON.parse 1k keys', () => {
      sink += (JSON.parse(freshJson) as SeriesKey[]).length;
    })
    .add('select metric + 2 tags (1M series)', () => {
      sink += catalog.select(SELECT_QUERY).length;
    })
    .add('baseline: linear scan select (1M series)', () => {
      sink += naiveSelect(naive.keys);
    })
    .add('canonicalSeriesKey (10k keys, 8 tags)', () => {
      for (let i = 0; i < HOT_BATCH; i++) sink += canonicalSeriesKey(hotKeys[i]!).length;
    })
    .add('baseline: regex-escaping canonical (10k keys)', () => {
      for (let i = 0; i < HOT_BATCH; i++) sink += regexCanonical(hotKeys[i]!).length;
    });
  await hot.run();

  const resolvePerS = opsPerSecond(hot, 'resolve existing series (10k keys)') * HOT_BATCH;
  const mapGetPerS = opsPerSecond(hot, 'baseline: canonicalSeriesKey + Map.get (10k keys)') * HOT_BATCH;
  const parseMs = latencyMs(hot, 'baseline: JSON.parse 1k keys');
  const freshResolvePerS = FRESH_BATCH / ((latencyMs(hot, 'JSON.parse 1k keys + resolve (fresh strings)') - parseMs) / 1000);
  const freshMapGetPerS = FRESH_BATCH / ((latencyMs(hot, 'JSON.parse 1k keys + canonical + Map.get (fresh strings)') - parseMs) / 1000);
  const selectMs = latencyMs(hot, 'select metric + 2 tags (1M series)');
  const scanMs = latencyMs(hot, 'baseline: linear scan select (1M series)');
  const canonicalPerS = opsPerSecond(hot, 'canonicalSeriesKey (10k keys, 8 tags)') * HOT_BATCH;
  const regexPerS = opsPerSecond(hot, 'baseline: regex-escaping canonical (10k keys)') * HOT_BATCH;

  const results = {
    rebuild100kSeconds: rebuild100kS,
    rebuild1MSeconds: rebuild1MS,
    decodeOnly1MSeconds: decode1MS,
    mapInsert1MSeconds: mapInsert1MS,
    naiveRebuild1MSeconds: naive1MS,
    rebuildOverNaive: rebuild1MS / naive1MS,
    rebuildOverMapInsert: rebuild1MS / mapInsert1MS,
    heapBytesPerSeries: heapPerSeries,
    estimateBytesPerSeries: estimatePerSeries,
    naiveHeapBytesPerSeries: naiveHeapPerSeries,
    heapOverNaive: heapPerSeries / naiveHeapPerSeries,
    gcExposed: gc === undefined ? 0 : 1,
    resolveExistingPerSec: resolvePerS,
    canonicalMapGetPerSec: mapGetPerS,
    resolveOverMapGet: resolvePerS / mapGetPerS,
    freshStringsResolvePerSec: freshResolvePerS,
    freshStringsCanonicalMapGetPerSec: freshMapGetPerS,
    freshResolveOverMapGet: freshResolvePerS / freshMapGetPerS,
    select2TagMs: selectMs,
    select2TagHits: catalog.select(SELECT_QUERY).length,
    linearScanMs: scanMs,
    scanOverSelect: scanMs / selectMs,
    canonicalKeysPerSec: canonicalPerS,
    regexCanonicalKeysPerSec: regexPerS,
    canonicalOverRegex: canonicalPerS / regexPerS,
  };
  const fmt = (v: number): string => (Math.abs(v) >= 1000 ? Math.round(v).toLocaleString('en-US') : v.toPrecision(4));
  console.table(Object.entries(results).map(([metric, value]) => ({ metric, value: fmt(value) })));
  if (gc === undefined) console.log('global.gc not exposed (run with --expose-gc): heap figures are noisy, see estimateBytesPerSeries');
  console.log(`rebuild 1M: ${rebuild1MS.toFixed(2)} s (target ≤ 2 s); sink ${sink > 0}`);
  writeResults('catalog', results);
  return results;
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
