// OpenTSDB /api/put decoding on one core: the decoder with its simple-point fast path
// (src/protocols/opentsdb/simple-point.ts), the same decoder forced down the full path
// (tokenizer → Jackson-faithful binding → per-point checks → series interning), and the in-run
// baseline, JSON.parse of the same bytes (Buffer → string + JSON.parse: builds objects, checks
// nothing). Bodies: 5,000 points each over 10,000 TSBS-devops-like series (cpu.usage_* × 8 host
// tags, 10 s apart, timestamps in seconds), in `../shared/peers`' point form
// {"metric","timestamp","value","tags"}, with values at full float64 precision (as TSBS and the
// peers harness print them) and rounded to 2 decimals. Generated before timing (fixed seed). One
// decoder per mode is reused across bodies, as the worker reuses its decoder; the series memo and
// caches are warm after the first round of bodies, as in a server past its first requests.
import { Bench } from 'tinybench';
import type { WriteBatch } from '../engine/index.js';
import { OpenTsdbPutDecoder } from '../src/protocols/opentsdb/put.js';
import { devopsBatch, seededRandom } from '../test/helpers/batches.js';
import { sliceBatches } from './data.js';
import { fmt, fmtSpread, isEntry, ratios, runRounds, spread, writeResults } from './report.js';

const BATCH_POINTS = 5_000;
const HOSTS = 1_000; // × 10 cpu fields = 10,000 series
const TIMESTAMPS = 4; // 40,000 points = 8 bodies per shape, cycled
const ROUNDS = 3;

/** The peers harness' body: one object per point, metric first, tags last. */
export function openTsdbBody(b: WriteBatch, value: (i: number) => number): string {
  const parts: string[] = [];
  for (let i = 0; i < b.length; i++) {
    const s = b.series[b.seriesIndex[i]!]!;
    parts.push(JSON.stringify({ metric: s.metric, timestamp: b.timestampsMs[i]! / 1000, value: value(i), tags: s.tags }));
  }
  return `[${parts.join(',')}]`;
}

export async function main(): Promise<Record<string, unknown>> {
  const all = devopsBatch(HOSTS, TIMESTAMPS, Date.UTC(2024, 0, 1), 10_000);
  const batches = sliceBatches(all, BATCH_POINTS);
  const rnd = seededRandom(11);
  const shapes = {
    'full precision': batches.map((b) => Buffer.from(openTsdbBody(b, (i) => b.floats[i]! + rnd() / 100))),
    '2 decimals': batches.map((b) => Buffer.from(openTsdbBody(b, (i) => b.floats[i]!))),
  };

  let sink = 0;
  const decoderOf = (simplePoints: boolean): ((body: Uint8Array) => void) => {
    const decoder = new OpenTsdbPutDecoder((batch) => {
      sink += batch.length;
    }, { simplePoints });
    return (body) => {
      decoder.begin({ details: false });
      decoder.write(body);
      const r = decoder.end();
      if (r.bodyError !== null || r.accepted !== BATCH_POINTS) throw new Error(`bench body rejected: ${JSON.stringify(r.bodyError ?? r.errors[0])}`);
      sink += r.accepted;
    };
  };
  const fast = decoderOf(true);
  const full = decoderOf(false);
  const parse = (body: Buffer): void => {
    sink += (JSON.parse(body.toString('utf8')) as unknown[]).length;
  };

  const names = (shape: string) => ({
    fast: `decoder (simple points): ${shape}`,
    full: `decoder (full path): ${shape}`,
    parse: `baseline: JSON.parse ${shape}`,
  });
  const rounds = await runRounds(() => {
    const bench = new Bench({ time: 1_000, warmupTime: 200 });
    for (const [shape, bodies] of Object.entries(shapes)) {
      let next = 0;
      const n = names(shape);
      bench.add(n.fast, () => fast(bodies[next++ % bodies.length]!));
      bench.add(n.full, () => full(bodies[next++ % bodies.length]!));
      bench.add(n.parse, () => parse(bodies[next++ % bodies.length]!));
    }
    return bench;
  }, ROUNDS);

  const results: Record<string, unknown> = {};
  const table: Record<string, string>[] = [];
  for (const [shape, bodies] of Object.entries(shapes)) {
    const n = names(shape);
    const bytesPerPoint = bodies.reduce((s, b) => s + b.length, 0) / bodies.length / BATCH_POINTS;
    const pointsPerS = (task: string): number[] => rounds.get(task)!.map((ops) => ops * BATCH_POINTS);
    const jp = pointsPerS(n.parse);
    const row = (task: string): Record<string, string> => {
      const p = pointsPerS(task);
      return { task, 'points/s': fmtSpread(spread(p)), 'MB/s': fmt((spread(p).median * bytesPerPoint) / 1e6), 'vs JSON.parse': fmtSpread(spread(ratios(p, jp))) };
    };
    table.push(row(n.fast), row(n.full), row(n.parse));
    results[shape] = {
      bytesPerPoint,
      simplePointsPerSec: spread(pointsPerS(n.fast)),
      fullPathPointsPerSec: spread(pointsPerS(n.full)),
      jsonParsePointsPerSec: spread(jp),
      simpleOverJsonParse: spread(ratios(pointsPerS(n.fast), jp)),
      fullOverJsonParse: spread(ratios(pointsPerS(n.full), jp)),
    };
  }
  console.table(table);
  console.log(`(sink ${sink > 0})`);
  writeResults('opentsdb', results);
  return results;
}

if (isEntry(import.meta.url)) await main();
