// Series catalog. The required figures: rebuild time and heap bytes per series of an actual
// Engine.open over a data directory of 100 k and of 1 M TSBS-devops series (target: 1 M series
// in ≤ 2 s), the directory written by real ShardWriters (2 shards, 5,000-series appends, one
// point per series) and opened twice: as the writers leave it at shutdown (full segments sealed,
// the active one not, so its blocks are walked) and with every segment sealed (footers only).
// Same-run baselines: a naive rebuild (decode + canonical string + Map) of the same keys from one
// buffer, reading the segment files' bytes, and the naive catalog's heap. Then the components
// (in memory: Catalog.resolveEncodedKeys, what open runs, and decode + Catalog.resolve) and the
// hot paths: resolve of existing series, select, canonicalSeriesKey, against a Map, a linear
// scan and regex escaping. Data is built first: the keys as one encoded buffer, which is all the
// process holds while Engine.open is timed (an array of a million key objects would make every
// full GC during the open mark it, a cost of the harness, not of the open).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Bench } from 'tinybench';
import { Catalog } from '../engine/catalog/catalog.js';
import { canonicalSeriesKey, decodeSeriesKey, encodeSeriesKey } from '../engine/catalog/series-key.js';
import { ByteReader, ByteWriter } from '../engine/codec/bytes.js';
import { Engine, ShardWriter, shardDirectory } from '../engine/index.js';
import type { SeriesKey, Tags } from '../engine/types.js';
import { fmt, fmtSpread, isEntry, periodMs, ratios, runRounds, spread, writeResults, type Spread } from './report.js';

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

/** What Engine.open does with the keys of a segment, in memory. */
function rebuildEncoded(buf: Uint8Array, n: number): Catalog {
  const catalog = new Catalog();
  catalog.reserve(n);
  catalog.resolveEncodedKeys(buf, 0, n, new Uint32Array(n), 0);
  return catalog;
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


const SHARDS = 2;
const APPEND_SERIES = 5_000;
const TARGET_REBUILD_1M_SECONDS = 2;
const REBUILD_ROUNDS = 2;

/**
 * Writes the first `n` keys encoded in `buf` (host-major, so a host's 10 series stay together)
 * as one point each into SHARDS shards, hosts alternating between shards, in appends of
 * APPEND_SERIES series, and closes the writers: segments that filled up are sealed, the last one
 * of each shard is not. Decodes the keys as it goes, so no array of all of them is built.
 */
function writeDataDir(dataDir: string, buf: Uint8Array, n: number): void {
  const writers = Array.from({ length: SHARDS }, (_, k) => ShardWriter.open({ dir: shardDirectory(dataDir, k), shardId: k, syncPolicy: 'never' }));
  const pending: SeriesKey[][] = writers.map(() => []);
  const flush = (k: number): void => {
    const series = pending[k]!;
    const n = series.length;
    if (n === 0) return;
    writers[k]!.append({
      length: n,
      series,
      seriesIndex: Uint32Array.from({ length: n }, (_, i) => i),
      timestampsMs: new Float64Array(n).fill(Date.UTC(2024, 0, 1)),
      kinds: new Uint8Array(n),
      floats: new Float64Array(n),
      ints: new BigInt64Array(0),
      texts: [],
    });
    pending[k] = [];
  };
  const r = new ByteReader(buf);
  for (let i = 0; i < n; i++) {
    const key = decodeSeriesKey(r);
    const k = Math.floor(i / FIELDS.length) % SHARDS;
    pending[k]!.push(key);
    if (pending[k]!.length === APPEND_SERIES) flush(k);
  }
  for (let k = 0; k < SHARDS; k++) flush(k);
  for (const w of writers) w.close();
}

/** Reopens each shard's writer and seals its active segment, so every segment has a footer. */
function sealDataDir(dataDir: string): void {
  for (let k = 0; k < SHARDS; k++) {
    const w = ShardWriter.open({ dir: shardDirectory(dataDir, k), shardId: k, syncPolicy: 'never' });
    w.roll();
    w.close();
  }
}

function segmentFiles(dataDir: string): string[] {
  const out: string[] = [];
  for (let k = 0; k < SHARDS; k++) {
    const dir = shardDirectory(dataDir, k);
    for (const f of fs.readdirSync(dir)) if (f.endsWith('.seg')) out.push(path.join(dir, f));
  }
  return out;
}

interface RebuildFigures {
  series: number;
  segmentFiles: number;
  segmentBytes: number;
  openAtShutdownSeconds: Spread;
  openAllSealedSeconds: Spread;
  naiveRebuildSeconds: Spread;
  readFilesSeconds: Spread;
  inMemoryRebuildSeconds: Spread;
  inMemoryDecodeResolveSeconds: Spread;
  openAtShutdownOverNaive: Spread;
  openAllSealedOverNaive: Spread;
  engineHeapBytesPerSeries: number;
  catalogHeapBytesPerSeries: number;
  catalogEstimateBytesPerSeries: number;
  naiveHeapBytesPerSeries: number;
  engineHeapOverNaive: number;
}

/** Engine.open of a fresh data directory of the first `n` keys, twice (see the file header). */
async function measureRebuild(n: number, buf: Uint8Array, sinkRef: { v: number }): Promise<RebuildFigures> {
  const atShutdown = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-bench-catalog-'));
  const allSealed = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-bench-catalog-'));
  writeDataDir(atShutdown, buf, n);
  fs.cpSync(atShutdown, allSealed, { recursive: true });
  sealDataDir(allSealed);
  // Sizes and the read baseline use the sealed files: at shutdown the active segments are still
  // preallocated to their full size, but only their written blocks are read.
  const files = segmentFiles(allSealed);
  const bytes = files.reduce((b, f) => b + fs.statSync(f).size, 0);
  const label = n >= 1_000_000 ? `${n / 1_000_000}M` : `${n / 1_000}k`;
  const T = {
    shutdown: `Engine.open ${label} (as left at shutdown)`,
    sealed: `Engine.open ${label} (all sealed)`,
    naive: `baseline: naive rebuild ${label} (decode + canonical + Map)`,
    read: `baseline: read the sealed segment files (${(bytes / 2 ** 20).toFixed(0)} MiB)`,
    memory: `component: in-memory Catalog.resolveEncodedKeys ${label}`,
    decodeResolve: `component: in-memory decode + Catalog.resolve ${label}`,
  };
  const build = (): Bench =>
    // Seconds per operation at 1 M: two timed runs per round, no warm-up (the 100 k pass warmed up).
    new Bench({ time: 0, iterations: n >= 1_000_000 ? 2 : 5, warmup: n < 1_000_000, warmupIterations: 1, warmupTime: 0 })
      .add(T.shutdown, () => {
        sinkRef.v += Engine.open({ dataDir: atShutdown, owner: false }).catalog.size;
      })
      .add(T.sealed, () => {
        sinkRef.v += Engine.open({ dataDir: allSealed, owner: false }).catalog.size;
      })
      .add(T.naive, () => {
        sinkRef.v += naiveRebuild(buf, n).keys.length;
      })
      .add(T.read, () => {
        for (const f of files) sinkRef.v += fs.readFileSync(f).length;
      })
      .add(T.memory, () => {
        sinkRef.v += rebuildEncoded(buf, n).size;
      })
      .add(T.decodeResolve, () => {
        sinkRef.v += rebuild(buf, n).size;
      });
  const ops = await runRounds(build, REBUILD_ROUNDS);
  const seconds = (name: string): number[] => ops.get(name)!.map((o) => 1 / o);

  // Memory: live bytes held by what is retained, after full GCs.
  // Each structure is measured alone (the previous one dropped first) to bound peak memory.
  const retainedBytes = (make: () => { size: number }): number => {
    const before = liveBytes();
    const kept = make();
    const after = liveBytes();
    if (kept.size !== n) throw new Error(`rebuilt ${kept.size} of ${n} series`);
    sinkRef.v += kept.size;
    return after - before;
  };
  const engineBytes = retainedBytes(() => {
    const engine = Engine.open({ dataDir: atShutdown, owner: false });
    return { size: engine.catalog.size, engine };
  });
  let estimate = 0;
  const catalogBytes = retainedBytes(() => {
    const catalog = rebuildEncoded(buf, n);
    estimate = catalog.memoryStats().approxBytes;
    return catalog;
  });
  const naiveBytes = retainedBytes(() => {
    const naive = naiveRebuild(buf, n);
    return { size: naive.keys.length, naive };
  });
  fs.rmSync(atShutdown, { recursive: true, force: true });
  fs.rmSync(allSealed, { recursive: true, force: true });

  return {
    series: n,
    segmentFiles: files.length,
    segmentBytes: bytes,
    openAtShutdownSeconds: spread(seconds(T.shutdown)),
    openAllSealedSeconds: spread(seconds(T.sealed)),
    naiveRebuildSeconds: spread(seconds(T.naive)),
    readFilesSeconds: spread(seconds(T.read)),
    inMemoryRebuildSeconds: spread(seconds(T.memory)),
    inMemoryDecodeResolveSeconds: spread(seconds(T.decodeResolve)),
    openAtShutdownOverNaive: spread(ratios(seconds(T.shutdown), seconds(T.naive))),
    openAllSealedOverNaive: spread(ratios(seconds(T.sealed), seconds(T.naive))),
    engineHeapBytesPerSeries: engineBytes / n,
    catalogHeapBytesPerSeries: catalogBytes / n,
    catalogEstimateBytesPerSeries: estimate / n,
    naiveHeapBytesPerSeries: naiveBytes / n,
    engineHeapOverNaive: engineBytes / naiveBytes,
  };
}

function printRebuild(f: RebuildFigures): void {
  const n = f.series.toLocaleString('en-US');
  console.log(`\nrebuild of ${n} series (${f.segmentFiles} sealed segment files, ${(f.segmentBytes / 2 ** 20).toFixed(1)} MiB); seconds, median of ${REBUILD_ROUNDS} rounds (min–max)`);
  console.table([
    { task: 'Engine.open, as left at shutdown', seconds: fmtSpread(f.openAtShutdownSeconds), '÷ naive': fmtSpread(f.openAtShutdownOverNaive) },
    { task: 'Engine.open, all sealed', seconds: fmtSpread(f.openAllSealedSeconds), '÷ naive': fmtSpread(f.openAllSealedOverNaive) },
    { task: 'baseline: naive rebuild (decode + canonical + Map)', seconds: fmtSpread(f.naiveRebuildSeconds), '÷ naive': '' },
    { task: 'baseline: read the sealed segment files', seconds: fmtSpread(f.readFilesSeconds), '÷ naive': '' },
    { task: 'component: in-memory Catalog.resolveEncodedKeys', seconds: fmtSpread(f.inMemoryRebuildSeconds), '÷ naive': '' },
    { task: 'component: in-memory decode + Catalog.resolve', seconds: fmtSpread(f.inMemoryDecodeResolveSeconds), '÷ naive': '' },
  ]);
  console.table([
    { heap: 'Engine after open (catalog + segment indexes)', 'bytes/series': fmt(f.engineHeapBytesPerSeries), '÷ naive': fmt(f.engineHeapOverNaive) },
    { heap: 'Catalog alone', 'bytes/series': fmt(f.catalogHeapBytesPerSeries), '÷ naive': fmt(f.catalogHeapBytesPerSeries / f.naiveHeapBytesPerSeries) },
    { heap: 'Catalog.memoryStats estimate', 'bytes/series': fmt(f.catalogEstimateBytesPerSeries), '÷ naive': '' },
    { heap: 'baseline: naive catalog (canonical Map + key objects)', 'bytes/series': fmt(f.naiveHeapBytesPerSeries), '÷ naive': '' },
  ]);
}

export async function main(): Promise<Record<string, unknown>> {
  const N_SMALL = 100_000;
  const N_LARGE = 1_000_000;
  const sinkRef = { v: 0 };
  const bufLarge = encodeAll(devopsKeys(N_LARGE));

  // --- rebuild at Engine.open (the required figures) -------------------------------------------
  const small = await measureRebuild(N_SMALL, bufLarge, sinkRef);
  printRebuild(small);
  const large = await measureRebuild(N_LARGE, bufLarge, sinkRef);
  printRebuild(large);

  // --- hot path, select, canonical (1 M-series catalog) ------------------------------------------
  const catalog = rebuildEncoded(bufLarge, N_LARGE);
  const naive = naiveRebuild(bufLarge, N_LARGE);
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
  let sink = 0;
  const H = {
    resolve: 'resolve existing series (10k keys)',
    mapGet: 'baseline: canonicalSeriesKey + Map.get (10k keys)',
    freshResolve: 'JSON.parse 1k keys + resolve (fresh strings)',
    freshMapGet: 'JSON.parse 1k keys + canonical + Map.get (fresh strings)',
    parse: 'baseline: JSON.parse 1k keys',
    select: 'select metric + 2 tags (1M series)',
    scan: 'baseline: linear scan select (1M series)',
    canonical: 'canonicalSeriesKey (10k keys, 8 tags)',
    regex: 'baseline: regex-escaping canonical (10k keys)',
  };
  const hot = new Bench({ time: 700, warmupTime: 200 });
  hot
    .add(H.resolve, () => {
      for (let i = 0; i < HOT_BATCH; i++) sink += catalog.resolve(hotKeys[i]!);
    })
    .add(H.mapGet, () => {
      for (let i = 0; i < HOT_BATCH; i++) sink += naive.ids.get(canonicalSeriesKey(hotKeys[i]!))!;
    })
    .add(H.freshResolve, () => {
      const keys = JSON.parse(freshJson) as SeriesKey[];
      for (let i = 0; i < keys.length; i++) sink += catalog.resolve(keys[i]!);
    })
    .add(H.freshMapGet, () => {
      const keys = JSON.parse(freshJson) as SeriesKey[];
      for (let i = 0; i < keys.length; i++) sink += naive.ids.get(canonicalSeriesKey(keys[i]!))!;
    })
    .add(H.parse, () => {
      sink += (JSON.parse(freshJson) as SeriesKey[]).length;
    })
    .add(H.select, () => {
      sink += catalog.select(SELECT_QUERY).length;
    })
    .add(H.scan, () => {
      sink += naiveSelect(naive.keys);
    })
    .add(H.canonical, () => {
      for (let i = 0; i < HOT_BATCH; i++) sink += canonicalSeriesKey(hotKeys[i]!).length;
    })
    .add(H.regex, () => {
      for (let i = 0; i < HOT_BATCH; i++) sink += regexCanonical(hotKeys[i]!).length;
    });
  await hot.run();

  const perSec = (name: string, per: number): number => (1000 / periodMs(hot, name)) * per;
  const parseMs = periodMs(hot, H.parse);
  const hotPath = {
    resolveExistingPerSec: perSec(H.resolve, HOT_BATCH),
    canonicalMapGetPerSec: perSec(H.mapGet, HOT_BATCH),
    freshStringsResolvePerSec: FRESH_BATCH / ((periodMs(hot, H.freshResolve) - parseMs) / 1000),
    freshStringsCanonicalMapGetPerSec: FRESH_BATCH / ((periodMs(hot, H.freshMapGet) - parseMs) / 1000),
    select2TagMs: periodMs(hot, H.select),
    select2TagHits: catalog.select(SELECT_QUERY).length,
    linearScanMs: periodMs(hot, H.scan),
    canonicalKeysPerSec: perSec(H.canonical, HOT_BATCH),
    regexCanonicalKeysPerSec: perSec(H.regex, HOT_BATCH),
  };
  const hotRatios = {
    resolveOverMapGet: hotPath.resolveExistingPerSec / hotPath.canonicalMapGetPerSec,
    freshResolveOverMapGet: hotPath.freshStringsResolvePerSec / hotPath.freshStringsCanonicalMapGetPerSec,
    scanOverSelect: hotPath.linearScanMs / hotPath.select2TagMs,
    canonicalOverRegex: hotPath.canonicalKeysPerSec / hotPath.regexCanonicalKeysPerSec,
  };
  console.log('\nhot paths over the 1 M-series catalog (one run)');
  console.table(Object.entries({ ...hotPath, ...hotRatios }).map(([metric, value]) => ({ metric, value: fmt(value) })));

  const met = large.openAtShutdownSeconds.median <= TARGET_REBUILD_1M_SECONDS && large.openAllSealedSeconds.median <= TARGET_REBUILD_1M_SECONDS;
  if (gc === undefined) console.log('global.gc not exposed (run with --expose-gc): heap figures are noisy, see catalogEstimateBytesPerSeries');
  console.log(
    `Engine.open 1M: ${fmtSpread(large.openAtShutdownSeconds)} s as left at shutdown, ${fmtSpread(large.openAllSealedSeconds)} s all sealed ` +
      `(target ≤ ${TARGET_REBUILD_1M_SECONDS} s: ${met ? 'met' : 'NOT met'}); sink ${sink + sinkRef.v > 0}`,
  );
  const results = { targetRebuild1MSeconds: TARGET_REBUILD_1M_SECONDS, targetMet: met, gcExposed: gc !== undefined, rebuild100k: small, rebuild1M: large, hotPath, hotRatios };
  writeResults('catalog', results);
  return results;
}

if (isEntry(import.meta.url)) await main();
