// KairosDB ingest decoding: the streaming decoder (tokenizer + validation + columnar batches)
// against JSON.parse of the same bytes (Buffer → string + JSON.parse, which builds objects and
// validates nothing), points/s on one core. Bodies carry 5,000 points over 10,000 TSBS-devops-like
// series (cpu.usage_* × 8 tags, 10 s apart, 2-decimal values), generated before timing (fixed
// seed), in three shapes: KairosDB's datapoints form (one object per series, what the Java client
// sends), the single-point form in host order, and the single-point form shuffled (no two
// neighbouring objects share tags: the worst case for the decoder's caches). One decoder is reused
// across bodies; a second task makes a new decoder per body, as the worker does per request (the
// series and tags caches are per thread, so both start warm). Same-run baseline, alternated every
// round.
import { Bench } from 'tinybench';
import type { WriteBatch } from '../engine/index.js';
import { KairosDatapointsDecoder } from '../src/protocols/kairosdb/ingest.js';
import { devopsBatch, seededRandom } from '../test/helpers/batches.js';
import { kairosDbBody, sliceBatches } from './data.js';
import { fmt, fmtSpread, isEntry, ratios, runRounds, spread, writeResults } from './report.js';

const BATCH_POINTS = 5_000;
const HOSTS = 1_000; // × 10 cpu fields = 10,000 series
const TIMESTAMPS = 4; // 40,000 points = 8 bodies per shape, cycled
const ROUNDS = 3;

/** The single-point form: one {name, timestamp, value, tags} object per point, in `order`. */
function singlePointBody(b: WriteBatch, order: readonly number[]): string {
  return JSON.stringify(
    order.map((i) => {
      const s = b.series[b.seriesIndex[i]!]!;
      return { name: s.metric, timestamp: b.timestampsMs[i]!, value: b.floats[i]!, tags: s.tags };
    }),
  );
}

function shuffled(n: number, rnd: () => number): number[] {
  const order = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  return order;
}

export async function main(): Promise<Record<string, unknown>> {
  const all = devopsBatch(HOSTS, TIMESTAMPS, Date.UTC(2024, 0, 1), 10_000);
  const batches = sliceBatches(all, BATCH_POINTS);
  const rnd = seededRandom(7);
  const shapes = {
    datapoints: batches.map((b) => Buffer.from(kairosDbBody(b))),
    single: batches.map((b) => Buffer.from(singlePointBody(b, Array.from({ length: b.length }, (_, i) => i)))),
    shuffled: batches.map((b) => Buffer.from(singlePointBody(b, shuffled(b.length, rnd)))),
  };

  let sink = 0;
  const decoder = new KairosDatapointsDecoder((batch) => {
    sink += batch.length;
  });
  const decode = (body: Uint8Array): void => {
    decoder.write(body);
    const r = decoder.end();
    if (r.errors.length > 0 || r.points !== BATCH_POINTS) throw new Error(`bench body rejected: ${r.errors[0] ?? r.points}`);
    sink += r.points;
  };
  const parse = (body: Buffer): void => {
    sink += (JSON.parse(body.toString('utf8')) as unknown[]).length;
  };

  const names = (shape: string): { decoder: string; parse: string } => ({
    decoder: `decoder: ${shape}`,
    parse: `baseline: JSON.parse ${shape}`,
  });
  const perRequest = 'decoder, new per body: datapoints';
  const rounds = await runRounds(() => {
    const bench = new Bench({ time: 1_000, warmupTime: 200 });
    for (const [shape, bodies] of Object.entries(shapes)) {
      let next = 0;
      const n = names(shape);
      bench.add(n.decoder, () => decode(bodies[next++ % bodies.length]!));
      bench.add(n.parse, () => parse(bodies[next++ % bodies.length]!));
    }
    let next = 0;
    bench.add(perRequest, () => {
      const fresh = new KairosDatapointsDecoder((batch) => {
        sink += batch.length;
      });
      fresh.write(shapes.datapoints[next++ % shapes.datapoints.length]!);
      sink += fresh.end().points;
    });
    return bench;
  }, ROUNDS);

  const results: Record<string, unknown> = {};
  const table: Record<string, string>[] = [];
  for (const [shape, bodies] of Object.entries(shapes)) {
    const n = names(shape);
    const bytesPerBody = bodies.reduce((s, b) => s + b.length, 0) / bodies.length;
    const dec = rounds.get(n.decoder)!.map((ops) => ops * BATCH_POINTS);
    const jp = rounds.get(n.parse)!.map((ops) => ops * BATCH_POINTS);
    const ratio = spread(ratios(dec, jp));
    table.push(
      { task: n.decoder, 'points/s': fmtSpread(spread(dec)), 'MB/s': fmt((spread(dec).median / BATCH_POINTS) * bytesPerBody / 1e6), 'vs JSON.parse': fmtSpread(ratio) },
      { task: n.parse, 'points/s': fmtSpread(spread(jp)), 'MB/s': fmt((spread(jp).median / BATCH_POINTS) * bytesPerBody / 1e6), 'vs JSON.parse': '1' },
    );
    results[shape] = { bytesPerBody, decoderPointsPerSec: spread(dec), jsonParsePointsPerSec: spread(jp), decoderOverJsonParse: ratio };
  }
  const fresh = rounds.get(perRequest)!.map((ops) => ops * BATCH_POINTS);
  const freshRatio = spread(ratios(fresh, rounds.get(names('datapoints').parse)!.map((ops) => ops * BATCH_POINTS)));
  table.push({ task: perRequest, 'points/s': fmtSpread(spread(fresh)), 'MB/s': '', 'vs JSON.parse': fmtSpread(freshRatio) });
  results.datapointsNewDecoderPerBody = { decoderPointsPerSec: spread(fresh), decoderOverJsonParse: freshRatio };
  console.table(table);
  console.log(`(sink ${sink > 0})`);
  writeResults('json', results);
  return results;
}

if (isEntry(import.meta.url)) await main();
