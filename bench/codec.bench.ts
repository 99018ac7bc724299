// Column codec throughput and size (engine/codec/*): encode/decode of 5,000-value columns —
// timestamps at a 10 s interval, floats 'fast' and 'dense' on 2-decimal gauges and on
// full-precision random walks, ints, strings — in values/s and bytes/value. The devops gauges
// (steps of up to ±2.00, as bench/compaction.bench.ts) and a float byte counter are encoded both
// with the v1 codecs (DecimalScaled varints) and the latest (DecimalPacked), so the two decimal
// encodings are compared on the same column in the same run. Same-run baseline:
// a memcpy (Float64Array.prototype.set) of a 5,000-value column; every row is also reported as a
// ratio to it (median and range over rounds, each round running every task once). An allocating
// copy (slice) is shown for reference; it pays allocation and GC, so it swings more. Fixed seed;
// all data is generated and encoded before timing.
import { Bench } from 'tinybench';
import { ByteReader, ByteWriter } from '../engine/codec/bytes.js';
import type { CodecsVersion } from '../engine/codec/codecs-version.js';
import { decodeFloats, encodeFloats, type FloatEncodingMode } from '../engine/codec/floats.js';
import { decodeInts, encodeInts } from '../engine/codec/ints.js';
import { decodeStrings, encodeStrings } from '../engine/codec/strings.js';
import { decodeTimestamps, encodeTimestamps } from '../engine/codec/timestamps.js';
import { fmtSpread, isEntry, ratios, runRounds, spread, writeResults, type Spread } from './report.js';

const COLUMN_VALUES = 5_000;
const SEED = 0x5eed;
const BASELINE = 'baseline: Float64Array set (memcpy)';
const ROUNDS = 3;

/** mulberry32: tiny, fast, good enough for bench data; fixed seed so every run sees the same data. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Columns {
  timestampsMs: Float64Array;
  gauges: Float64Array;
  /** Devops gauges: 2 decimals, uniform steps of up to ±2.00, clamped to 0..100. */
  devops: Float64Array;
  /** A byte counter kept as a float: integer steps of up to 2^34 (wide DecimalPacked fields). */
  byteCounter: Float64Array;
  walk: Float64Array;
  counters: BigInt64Array;
  texts: string[];
  textIndices: Uint32Array;
}

function makeColumns(n: number): Columns {
  const rand = mulberry32(SEED);
  const rand2 = mulberry32(SEED + 1);
  const timestampsMs = new Float64Array(n);
  const gauges = new Float64Array(n);
  const devops = new Float64Array(n);
  const byteCounter = new Float64Array(n);
  const walk = new Float64Array(n);
  const counters = new BigInt64Array(n);
  let hundredths = 5_000;
  let devopsHundredths = 5_000;
  let bytesSent = 1e12;
  let level = 100;
  let counter = 1_000_000_000_000n;
  for (let i = 0; i < n; i++) {
    timestampsMs[i] = 1_700_000_000_000 + i * 10_000;
    // Devops gauge: 2 decimals, random walk clamped to 0..100.
    hundredths = Math.min(10_000, Math.max(0, hundredths + Math.round((rand() - 0.5) * 100)));
    gauges[i] = hundredths / 100;
    // Own generator, so the columns above stay what they were before these two were added.
    devopsHundredths = Math.min(10_000, Math.max(0, devopsHundredths + Math.round((rand2() - 0.5) * 400)));
    devops[i] = devopsHundredths / 100;
    bytesSent += Math.floor(rand2() * 2 ** 34);
    byteCounter[i] = bytesSent;
    // Full-precision random walk (every mantissa bit in use).
    level += (rand() - 0.5) * 2;
    walk[i] = level;
    // Monotonic counter (e.g. bytes sent) with irregular increments.
    counter += BigInt(Math.floor(rand() * 5_000));
    counters[i] = counter;
  }
  const texts = Array.from({ length: 100 }, (_, i) => `host-${i.toString().padStart(4, '0')}.dc1.example.com`);
  const textIndices = Uint32Array.from({ length: n }, () => Math.floor(rand() * texts.length));
  return { timestampsMs, gauges, devops, byteCounter, walk, counters, texts, textIndices };
}

interface Row {
  task: string;
  valuesPerSec: Spread;
  /** This row's time per value ÷ the baseline's, per round. */
  memcpyTimes: Spread;
  bytesPerValue: number | undefined;
}

export async function main(): Promise<Row[]> {
  const n = COLUMN_VALUES;
  const cols = makeColumns(n);
  const w = new ByteWriter(1 << 20);
  let sink = 0;

  const encoded = (write: (wr: ByteWriter) => void): Uint8Array => {
    w.reset();
    write(w);
    return w.bytes().slice();
  };
  const floatBytes = (values: Float64Array, mode: FloatEncodingMode, codecs?: CodecsVersion): Uint8Array =>
    encoded((wr) => encodeFloats(wr, values, 0, n, mode, codecs));
  const bytes = {
    timestamps: encoded((wr) => encodeTimestamps(wr, cols.timestampsMs, 0, n)),
    gaugesFast: floatBytes(cols.gauges, 'fast'),
    gaugesDense: floatBytes(cols.gauges, 'dense'),
    devopsV1: floatBytes(cols.devops, 'dense', 1),
    devopsPacked: floatBytes(cols.devops, 'dense', 2),
    counterV1: floatBytes(cols.byteCounter, 'dense', 1),
    counterPacked: floatBytes(cols.byteCounter, 'dense', 2),
    walkFast: floatBytes(cols.walk, 'fast'),
    walkDense: floatBytes(cols.walk, 'dense'),
    intsFast: encoded((wr) => encodeInts(wr, cols.counters, 0, n, 'fast')),
    intsDense: encoded((wr) => encodeInts(wr, cols.counters, 0, n, 'dense')),
    strings: encoded((wr) => encodeStrings(wr, cols.texts, cols.textIndices, 0, n)),
  };
  const encodingOf: [Uint8Array, number][] = [
    [bytes.devopsV1, 2],
    [bytes.devopsPacked, 3],
    [bytes.counterV1, 2],
    [bytes.counterPacked, 3],
  ];
  for (const [b, want] of encodingOf) if (b[0] !== want) throw new Error(`expected float encoding ${want}, got ${b[0]}`);
  const outF = new Float64Array(n);
  const outI = new BigInt64Array(n);
  const outS: (string | undefined)[] = new Array<string | undefined>(n);
  const sizes = new Map<string, number>();

  const tasks: [string, () => void][] = [];
  const enc = (name: string, size: Uint8Array, write: () => void): void => {
    sizes.set(name, size.length);
    tasks.push([
      name,
      () => {
        w.reset();
        write();
        sink += w.length;
      },
    ]);
  };
  const dec = (name: string, size: Uint8Array, read: (r: ByteReader) => void): void => {
    sizes.set(name, size.length);
    tasks.push([
      name,
      () => {
        const r = new ByteReader(size);
        read(r);
        sink += r.pos;
      },
    ]);
  };

  tasks.push([
    BASELINE,
    () => {
      outF.set(cols.gauges);
      sink += outF.length;
    },
  ]);
  tasks.push([
    'reference: Float64Array slice (allocating copy)',
    () => {
      sink += cols.gauges.slice().length;
    },
  ]);
  enc('timestamps encode (delta-of-delta, 10 s)', bytes.timestamps, () => encodeTimestamps(w, cols.timestampsMs, 0, n));
  dec('timestamps decode', bytes.timestamps, (r) => decodeTimestamps(r, n, outF, 0));
  enc('floats encode fast (gauges 2-dec)', bytes.gaugesFast, () => encodeFloats(w, cols.gauges, 0, n, 'fast'));
  dec('floats decode fast (gauges 2-dec)', bytes.gaugesFast, (r) => decodeFloats(r, n, outF, 0));
  enc('floats encode dense (gauges 2-dec)', bytes.gaugesDense, () => encodeFloats(w, cols.gauges, 0, n, 'dense'));
  dec('floats decode dense (gauges 2-dec)', bytes.gaugesDense, (r) => decodeFloats(r, n, outF, 0));
  enc('floats encode dense codecs v1 (devops ±2.00: DecimalScaled)', bytes.devopsV1, () => encodeFloats(w, cols.devops, 0, n, 'dense', 1));
  dec('floats decode DecimalScaled (devops ±2.00)', bytes.devopsV1, (r) => decodeFloats(r, n, outF, 0));
  enc('floats encode dense (devops ±2.00: DecimalPacked)', bytes.devopsPacked, () => encodeFloats(w, cols.devops, 0, n, 'dense', 2));
  dec('floats decode DecimalPacked (devops ±2.00)', bytes.devopsPacked, (r) => decodeFloats(r, n, outF, 0));
  enc('floats encode dense codecs v1 (float byte counter: DecimalScaled)', bytes.counterV1, () => encodeFloats(w, cols.byteCounter, 0, n, 'dense', 1));
  dec('floats decode DecimalScaled (float byte counter)', bytes.counterV1, (r) => decodeFloats(r, n, outF, 0));
  enc('floats encode dense (float byte counter: DecimalPacked, wide)', bytes.counterPacked, () => encodeFloats(w, cols.byteCounter, 0, n, 'dense', 2));
  dec('floats decode DecimalPacked (float byte counter, wide)', bytes.counterPacked, (r) => decodeFloats(r, n, outF, 0));
  enc('floats encode fast (full-precision walk)', bytes.walkFast, () => encodeFloats(w, cols.walk, 0, n, 'fast'));
  enc('floats encode dense (full-precision walk)', bytes.walkDense, () => encodeFloats(w, cols.walk, 0, n, 'dense'));
  dec('floats decode dense (full-precision walk)', bytes.walkDense, (r) => decodeFloats(r, n, outF, 0));
  enc('ints encode fast (counter)', bytes.intsFast, () => encodeInts(w, cols.counters, 0, n, 'fast'));
  enc('ints encode dense (counter)', bytes.intsDense, () => encodeInts(w, cols.counters, 0, n, 'dense'));
  dec('ints decode dense (counter)', bytes.intsDense, (r) => decodeInts(r, n, outI, 0));
  enc('strings encode (100 distinct)', bytes.strings, () => encodeStrings(w, cols.texts, cols.textIndices, 0, n));
  dec('strings decode (100 distinct)', bytes.strings, (r) => decodeStrings(r, n, outS, 0));

  const build = (): Bench => {
    const bench = new Bench({ time: 300, warmupTime: 100 });
    for (const [name, fn] of tasks) bench.add(name, fn);
    return bench;
  };
  const ops = await runRounds(build, ROUNDS);
  const valuesPerSec = (name: string): number[] => ops.get(name)!.map((o) => o * n);
  const baseline = valuesPerSec(BASELINE);
  const rows: Row[] = tasks.map(([name]) => {
    const size = sizes.get(name);
    return {
      task: name,
      valuesPerSec: spread(valuesPerSec(name)),
      memcpyTimes: spread(ratios(baseline, valuesPerSec(name))),
      bytesPerValue: size === undefined ? undefined : (size - 1) / n,
    };
  });
  console.table(
    rows.map((row) => ({
      task: row.task,
      'values/s': fmtSpread(row.valuesPerSec),
      'ns/value': (1e9 / row.valuesPerSec.median).toFixed(2),
      'bytes/value': row.bytesPerValue === undefined ? '8 (copy)' : row.bytesPerValue.toFixed(3),
      'memcpy time ×': fmtSpread(row.memcpyTimes),
    })),
  );
  console.log(
    `median of ${ROUNDS} rounds (min–max); bytes/value excludes the 1-byte encoding header; 'memcpy time ×' = this row's time per value ÷ the memcpy's in the same round (sink ${sink > 0})`,
  );
  writeResults('codec', { columnValues: n, rounds: ROUNDS, baselineValuesPerSec: spread(baseline), rows });
  return rows;
}

if (isEntry(import.meta.url)) await main();
