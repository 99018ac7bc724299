// The ingest-throughput guard (`npm run bench:guard`, run by `npm test`): a quick pass (well under
// a minute) over each hot stage of ingest — tokenize, decode per protocol, append — each timed
// against JSON.parse of the same bytes in the same round. A stage fails when its ratio to that
// baseline falls more than the margin below the ratio recorded in bench/baseline.json. Ratios, not
// times: a loaded machine slows a stage and its baseline together (both run in every round, one
// after the other), so the guard catches code that got slower, not a busy box.
//
//   node dist/bench/guard.js            check against bench/baseline.json (exit 1 on a regression)
//   node dist/bench/guard.js --record   measure and write bench/baseline.json (after an intended change)
//
// The figure per stage is the best of its rounds' ratios: outside load can only lower a round's
// ratio by hitting the stage harder than its baseline, so the best round is the closest to the
// unloaded figure, while a real regression lowers every round. For the same reason a stage below
// its floor is measured again before the guard fails, and --record keeps the lowest of three
// measurements. Full suites with medians and
// ranges are in bench/*.bench.ts (docs/benchmarks.md).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Bench } from 'tinybench';
import { ShardWriter, type WriteBatch } from '../engine/index.js';
import { END, JsonTokenizer, NEED_MORE } from '../src/protocols/json/tokenizer.js';
import { KairosDatapointsDecoder } from '../src/protocols/kairosdb/ingest.js';
import { OpenTsdbPutDecoder } from '../src/protocols/opentsdb/put.js';
import { devopsBatch, seededRandom } from '../test/helpers/batches.js';
import { kairosDbBody, sliceBatches } from './data.js';
import { openTsdbBody } from './opentsdb.bench.js';
import { fmt, machine, runRounds } from './report.js';

const BATCH_POINTS = 5_000;
const ROUNDS = 5;
const TASK_MS = 150;
/** A stage fails below (1 − margin) × its recorded ratio, unless baseline.json sets its own margin. */
const DEFAULT_MARGIN = 0.35;
/** --record keeps each stage's lowest figure over this many measurements. */
const RECORD_PASSES = 3;
/** A check measures up to this many times while some stage is below its floor. */
const CHECK_PASSES = 3;

const here = path.dirname(fileURLToPath(import.meta.url));
/** bench/baseline.json in the source tree, whether this runs from bench/ or dist/bench/. */
const BASELINE_FILE = here.includes(`${path.sep}dist${path.sep}`) ? path.resolve(here, '../../bench/baseline.json') : path.resolve(here, 'baseline.json');

interface Stage {
  readonly name: string;
  /** One operation: processes one body (or batch) of BATCH_POINTS points. */
  readonly run: (i: number) => number;
  /** JSON.parse of the same bytes, the in-run baseline. */
  readonly baseline: (i: number) => number;
}

interface BaselineFile {
  readonly note: string;
  readonly recordedAt: string;
  readonly machine: Record<string, unknown>;
  readonly margin: number;
  readonly stages: Record<string, { readonly ratio: number; readonly margin?: number }>;
}

function stages(): { stages: Stage[]; cleanup: () => void } {
  const all = devopsBatch(1_000, 2, Date.UTC(2024, 0, 1), 10_000);
  const batches = sliceBatches(all, BATCH_POINTS);
  const rnd = seededRandom(3);
  const kairosBodies = batches.map((b) => Buffer.from(kairosDbBody(b)));
  const openTsdbBodies = batches.map((b) => Buffer.from(openTsdbBody(b, (i) => b.floats[i]! + rnd() / 100)));
  const parse = (bodies: readonly Buffer[]) => (i: number): number => (JSON.parse(bodies[i % bodies.length]!.toString('utf8')) as unknown[]).length;

  const tok = new JsonTokenizer();
  const tokenize = (i: number): number => {
    tok.reset();
    tok.feed(kairosBodies[i % kairosBodies.length]!, true);
    let n = 0;
    for (let t = tok.next(); t !== END && t !== NEED_MORE; t = tok.next()) n++;
    return n;
  };

  const kairos = new KairosDatapointsDecoder(() => undefined);
  const decodeKairos = (i: number): number => {
    kairos.write(kairosBodies[i % kairosBodies.length]!);
    return kairos.end().points;
  };

  const openTsdb = (simplePoints: boolean) => {
    const decoder = new OpenTsdbPutDecoder(() => undefined, { simplePoints });
    return (i: number): number => {
      decoder.begin({ details: false });
      decoder.write(openTsdbBodies[i % openTsdbBodies.length]!);
      return decoder.end().accepted;
    };
  };

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-bench-guard-'));
  const writer = ShardWriter.open({ dir, shardId: 0, syncPolicy: 'never', segmentBytes: 64 * 1024 * 1024 });
  for (const b of batches) writer.append(b); // every series known: steady state
  const append = (i: number): number => writer.append(batches[i % batches.length] as WriteBatch).points;

  return {
    stages: [
      { name: 'tokenize KairosDB body', run: tokenize, baseline: parse(kairosBodies) },
      { name: 'decode KairosDB body', run: decodeKairos, baseline: parse(kairosBodies) },
      { name: 'decode OpenTSDB body (simple points)', run: openTsdb(true), baseline: parse(openTsdbBodies) },
      { name: 'decode OpenTSDB body (full path)', run: openTsdb(false), baseline: parse(openTsdbBodies) },
      { name: 'append 5,000-point batch', run: append, baseline: parse(kairosBodies) },
    ],
    cleanup: () => {
      writer.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Best per-round ratio of each stage to its baseline. */
async function measure(): Promise<Map<string, number>> {
  const { stages: list, cleanup } = stages();
  let sink = 0;
  try {
    const rounds = await runRounds(() => {
      const bench = new Bench({ time: TASK_MS, warmupTime: 50 });
      for (const s of list) {
        let i = 0;
        let j = 0;
        bench.add(s.name, () => {
          sink += s.run(i++);
        });
        bench.add(`${s.name} / baseline`, () => {
          sink += s.baseline(j++);
        });
      }
      return bench;
    }, ROUNDS);
    const out = new Map<string, number>();
    for (const s of list) {
      const subject = rounds.get(s.name)!;
      const base = rounds.get(`${s.name} / baseline`)!;
      out.set(s.name, Math.max(...subject.map((x, r) => x / base[r]!)));
    }
    if (sink === 0) throw new Error('no work was done');
    return out;
  } finally {
    cleanup();
  }
}

/** Per stage, the lowest of `passes` measurements (a conservative figure to record). */
async function measureLowest(passes: number): Promise<Map<string, number>> {
  const lowest = await measure();
  for (let p = 1; p < passes; p++) for (const [name, ratio] of await measure()) lowest.set(name, Math.min(lowest.get(name)!, ratio));
  return lowest;
}

export async function main(argv: readonly string[]): Promise<number> {
  const record = argv.includes('--record');
  const t0 = performance.now();
  let measured = record ? await measureLowest(RECORD_PASSES) : await measure();
  if (record) {
    const seconds = (performance.now() - t0) / 1000;
    const file: BaselineFile = {
      note: 'Best-of-rounds ratio of each ingest stage to JSON.parse of the same bytes, same round (bench/guard.ts). Re-record with `node dist/bench/guard.js --record` after an intended change, and say why in the commit.',
      recordedAt: new Date().toISOString(),
      machine: machine(),
      margin: DEFAULT_MARGIN,
      stages: Object.fromEntries([...measured].map(([name, ratio]) => [name, { ratio: Number(ratio.toFixed(3)) }])),
    };
    fs.writeFileSync(BASELINE_FILE, `${JSON.stringify(file, null, 2)}\n`);
    for (const [name, ratio] of measured) console.log(`${name}: ${fmt(ratio)} × JSON.parse (recorded)`);
    console.log(`bench guard: recorded ${BASELINE_FILE} in ${seconds.toFixed(0)} s`);
    return 0;
  }
  const baseline = JSON.parse(fs.readFileSync(BASELINE_FILE, 'utf8')) as BaselineFile;
  const floorOf = (name: string): number => {
    const recorded = baseline.stages[name];
    return recorded === undefined ? Infinity : recorded.ratio * (1 - (recorded.margin ?? baseline.margin));
  };
  // A stage below its floor is measured again (up to CHECK_PASSES in all) and keeps its best
  // figure: a burst of outside load passes, a regression stays.
  for (let pass = 1; pass < CHECK_PASSES && [...measured].some(([name, ratio]) => ratio < floorOf(name)); pass++) {
    const again = await measure();
    measured = new Map([...measured].map(([name, ratio]) => [name, Math.max(ratio, again.get(name)!)]));
  }
  const seconds = (performance.now() - t0) / 1000;
  let failed = 0;
  for (const [name, ratio] of measured) {
    const recorded = baseline.stages[name];
    if (recorded === undefined) {
      console.log(`${name}: ${fmt(ratio)} × JSON.parse — not in ${path.basename(BASELINE_FILE)} (record it)`);
      failed++;
      continue;
    }
    const floor = floorOf(name);
    const ok = ratio >= floor;
    if (!ok) failed++;
    console.log(`${ok ? 'ok  ' : 'FAIL'} ${name}: ${fmt(ratio)} × JSON.parse (recorded ${fmt(recorded.ratio)}, floor ${fmt(floor)})`);
  }
  for (const name of Object.keys(baseline.stages)) {
    if (!measured.has(name)) {
      console.log(`FAIL ${name}: recorded but no longer measured (remove it from ${path.basename(BASELINE_FILE)} on purpose)`);
      failed++;
    }
  }
  console.log(`bench guard: ${failed === 0 ? 'ok' : `${failed} stage(s) below their floor`} in ${seconds.toFixed(0)} s (load average ${os.loadavg()[0]!.toFixed(1)})`);
  return failed === 0 ? 0 : 1;
}

if (process.argv[1] !== undefined && import.meta.url === `file://${path.resolve(process.argv[1])}`) process.exitCode = await main(process.argv.slice(2));
