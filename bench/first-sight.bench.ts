// The first sight of a series: OpenTSDB /api/put bodies whose every point names a series the
// worker has never seen, decoded (full path: tokenizer, OpenTSDB's checks, series interning) and
// appended to a shard (series key encoded into the segment, catalog entry) — what a fresh server
// pays for each new series in each worker, and what a deployment pays when hosts come and go.
// Same-run baselines: the same decoder and writer on bodies of series they already know (the
// steady state), and JSON.parse of the same bytes. 1,000 new series per body (100 TSBS-like
// hosts × 10 cpu fields, 8 tags; full-precision values), every body's hosts unique: all bodies
// are generated before timing and each timed iteration takes a body never decoded before.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Bench } from 'tinybench';
import { ShardWriter } from '../engine/index.js';
import { OpenTsdbPutDecoder } from '../src/protocols/opentsdb/put.js';
import { devopsBatch, seededRandom } from '../test/helpers/batches.js';
import { openTsdbBody } from './opentsdb.bench.js';
import { fmt, fmtSpread, isEntry, ratios, runRounds, spread, writeResults } from './report.js';

const SERIES_PER_BODY = 1_000; // 100 hosts × 10 fields
const ITERATIONS = 40; // timed bodies per task and round (plus WARMUP_ITERATIONS)
const WARMUP_ITERATIONS = 5;
const ROUNDS = 3;

const T = {
  fresh: 'decode + append: 1,000 new series × 1 point',
  known: 'decode + append: 1,000 known series × 1 point',
  parse: 'baseline: JSON.parse of the same body',
} as const;

export async function main(): Promise<Record<string, unknown>> {
  const base = devopsBatch(SERIES_PER_BODY / 10, 1, Date.UTC(2024, 0, 1), 10_000);
  const rnd = seededRandom(5);
  const template = openTsdbBody(base, (i) => base.floats[i]! + rnd() / 100);
  // Every body needed by every round, each with hosts of its own ("host_3" → "b17h_3").
  const freshBodies = Array.from({ length: ROUNDS * (ITERATIONS + WARMUP_ITERATIONS) * 2 }, (_, k) => Buffer.from(template.replaceAll('"host_', `"b${k}h_`)));
  const knownBody = Buffer.from(template);

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-bench-first-sight-'));
  const writer = ShardWriter.open({ dir, shardId: 0, syncPolicy: 'never', segmentBytes: 256 * 1024 * 1024 });
  let sink = 0;
  const decoder = new OpenTsdbPutDecoder((batch) => {
    writer.append(batch, { sync: false });
    sink += batch.length;
  });
  const put = (body: Uint8Array): void => {
    decoder.begin({ details: false });
    decoder.write(body);
    const r = decoder.end();
    if (r.bodyError !== null || r.accepted !== SERIES_PER_BODY) throw new Error(`bench body rejected: ${JSON.stringify(r.bodyError ?? r.errors[0])}`);
  };
  put(knownBody);
  let nextFresh = 0;

  try {
    const rounds = await runRounds(() => {
      const bench = new Bench({ time: 0, iterations: ITERATIONS, warmupTime: 0, warmupIterations: WARMUP_ITERATIONS });
      bench.add(T.fresh, () => put(freshBodies[nextFresh++]!));
      bench.add(T.known, () => put(knownBody));
      bench.add(T.parse, () => {
        sink += (JSON.parse(knownBody.toString('utf8')) as unknown[]).length;
      });
      return bench;
    }, ROUNDS);

    const perS = (task: string): number[] => rounds.get(task)!.map((ops) => ops * SERIES_PER_BODY);
    const parse = perS(T.parse);
    const table = [T.fresh, T.known, T.parse].map((task) => ({
      task,
      'points/s': fmtSpread(spread(perS(task))),
      'µs/point': fmt(1e6 / spread(perS(task)).median),
      'vs JSON.parse': fmtSpread(spread(ratios(perS(task), parse))),
    }));
    console.table(table);
    console.log(`(sink ${sink > 0})`);
    const results = {
      newSeriesPerSec: spread(perS(T.fresh)),
      knownSeriesPointsPerSec: spread(perS(T.known)),
      jsonParsePointsPerSec: spread(parse),
      newOverJsonParse: spread(ratios(perS(T.fresh), parse)),
      newOverKnown: spread(ratios(perS(T.fresh), perS(T.known))),
    };
    writeResults('first-sight', results);
    return results;
  } finally {
    writer.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (isEntry(import.meta.url)) await main();
