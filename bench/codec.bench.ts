// Column codec throughput and size (engine/codec/*): encode/decode of 5,000-value columns —
// timestamps at a 10 s interval, floats 'fast' and 'dense' on 2-decimal gauges and on
// full-precision random walks, ints, strings — in values/s and bytes/value. Same-run baseline:
// Float64Array.prototype.slice of a 5,000-value column (an allocating copy); every row is also
// reported as a ratio to it, and a non-allocating `set` copy shows the memcpy floor. Fixed seed; all data is generated and encoded before timing.
import { Bench } from 'tinybench';
import { ByteReader, ByteWriter } from '../engine/codec/bytes.js';
import { decodeFloats, encodeFloats, type FloatEncodingMode } from '../engine/codec/floats.js';
import { decodeInts, encodeInts } from '../engine/codec/ints.js';
import { decodeStrings, encodeStrings } from '../engine/codec/strings.js';
import { decodeTimestamps, encodeTimestamps } from '../engine/codec/timestamps.js';
import { opsPerSecond, writeResults } from './report.js';

const COLUMN_VALUES = 5_000;
const SEED = 0x5eed;
const BASELINE = 'baseline: Float64Array slice (copy)';

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
  walk: Float64Array;
  counters: BigInt64Array;
  texts: string[];
  textIndices: Uint32Array;
}

function makeColumns(n: number): Columns {
  const rand = mulberry32(SEED);
  const timestampsMs = new Float64Array(n);
  const gauges = new Float64Array(n);
  const walk = new Float64Array(n);
  const counters = new BigInt64Array(n);
  let hundredths = 5_000;
  let level = 100;
  let counter = 1_000_000_000_000n;
  for (let i = 0; i < n; i++) {
    timestampsMs[i] = 1_700_000_000_000 + i * 10_000;
    // Devops gauge: 2 decimals, random walk clamped to 0..100.
    hundredths = Math.min(10_000, Math.max(0, hundredths + Math.round((rand() - 0.5) * 100)));
    gauges[i] = hundredths / 100;
    // Full-precision random walk (every mantissa bit in use).
    level += (rand() - 0.5) * 2;
    walk[i] = level;
    // Monotonic counter (e.g. bytes sent) with irregular increments.
    counter += BigInt(Math.floor(rand() * 5_000));
    counters[i] = counter;
  }
  const texts = Array.from({ length: 100 }, (_, i) => `host-${i.toString().padStart(4, '0')}.dc1.example.com`);
  const textIndices = Uint32Array.from({ length: n }, () => Math.floor(rand() * texts.length));
  return { timestampsMs, gauges, walk, counters, texts, textIndices };
}

interface Row {
  task: string;
  valuesPerSec: number;
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
  const floatBytes = (values: Float64Array, mode: FloatEncodingMode): Uint8Array => encoded((wr) => encodeFloats(wr, values, 0, n, mode));
  const bytes = {
    timestamps: encoded((wr) => encodeTimestamps(wr, cols.timestampsMs, 0, n)),
    gaugesFast: floatBytes(cols.gauges, 'fast'),
    gaugesDense: floatBytes(cols.gauges, 'dense'),
    walkFast: floatBytes(cols.walk, 'fast'),
    walkDense: floatBytes(cols.walk, 'dense'),
    intsFast: encoded((wr) => encodeInts(wr, cols.counters, 0, n, 'fast')),
    intsDense: encoded((wr) => encodeInts(wr, cols.counters, 0, n, 'dense')),
    strings: encoded((wr) => encodeStrings(wr, cols.texts, cols.textIndices, 0, n)),
  };
  const outF = new Float64Array(n);
  const outI = new BigInt64Array(n);
  const outS: (string | undefined)[] = new Array<string | undefined>(n);
  const sizes = new Map<string, number>();

  const bench = new Bench({ time: 400, warmupTime: 100 });
  const enc = (name: string, size: Uint8Array, write: () => void): void => {
    sizes.set(name, size.length);
    bench.add(name, () => {
      w.reset();
      write();
      sink += w.length;
    });
  };
  const dec = (name: string, size: Uint8Array, read: (r: ByteReader) => void): void => {
    sizes.set(name, size.length);
    bench.add(name, () => {
      const r = new ByteReader(size);
      read(r);
      sink += r.pos;
    });
  };

  bench.add(BASELINE, () => {
    sink += cols.gauges.slice().length;
  });
  // The memcpy floor without slice's allocation (slice also pays GC, which makes it noisier).
  bench.add('reference: Float64Array set (memcpy)', () => {
    outF.set(cols.gauges);
    sink += outF.length;
  });
  enc('timestamps encode (delta-of-delta, 10 s)', bytes.timestamps, () => encodeTimestamps(w, cols.timestampsMs, 0, n));
  dec('timestamps decode', bytes.timestamps, (r) => decodeTimestamps(r, n, outF, 0));
  enc('floats encode fast (gauges 2-dec)', bytes.gaugesFast, () => encodeFloats(w, cols.gauges, 0, n, 'fast'));
  dec('floats decode fast (gauges 2-dec)', bytes.gaugesFast, (r) => decodeFloats(r, n, outF, 0));
  enc('floats encode dense (gauges 2-dec)', bytes.gaugesDense, () => encodeFloats(w, cols.gauges, 0, n, 'dense'));
  dec('floats decode dense (gauges 2-dec)', bytes.gaugesDense, (r) => decodeFloats(r, n, outF, 0));
  enc('floats encode fast (full-precision walk)', bytes.walkFast, () => encodeFloats(w, cols.walk, 0, n, 'fast'));
  enc('floats encode dense (full-precision walk)', bytes.walkDense, () => encodeFloats(w, cols.walk, 0, n, 'dense'));
  dec('floats decode dense (full-precision walk)', bytes.walkDense, (r) => decodeFloats(r, n, outF, 0));
  enc('ints encode fast (counter)', bytes.intsFast, () => encodeInts(w, cols.counters, 0, n, 'fast'));
  enc('ints encode dense (counter)', bytes.intsDense, () => encodeInts(w, cols.counters, 0, n, 'dense'));
  dec('ints decode dense (counter)', bytes.intsDense, (r) => decodeInts(r, n, outI, 0));
  enc('strings encode (100 distinct)', bytes.strings, () => encodeStrings(w, cols.texts, cols.textIndices, 0, n));
  dec('strings decode (100 distinct)', bytes.strings, (r) => decodeStrings(r, n, outS, 0));

  await bench.run();

  const baselinePerSec = opsPerSecond(bench, BASELINE) * n;
  const rows: Row[] = bench.tasks.map((t) => {
    const size = sizes.get(t.name);
    return { task: t.name, valuesPerSec: opsPerSecond(bench, t.name) * n, bytesPerValue: size === undefined ? undefined : (size - 1) / n };
  });
  console.table(
    rows.map((row) => ({
      task: row.task,
      'values/s': Math.round(row.valuesPerSec).toLocaleString('en-US'),
      'ns/value': (1e9 / row.valuesPerSec).toFixed(2),
      'bytes/value': row.bytesPerValue === undefined ? '8 (copy)' : row.bytesPerValue.toFixed(3),
      'copy time ×': (baselinePerSec / row.valuesPerSec).toFixed(1),
    })),
  );
  console.log(`bytes/value excludes the 1-byte encoding header; 'copy time ×' = this row's time per value / the baseline's (sink ${sink > 0})`);
  writeResults('codec', { columnValues: n, baselineValuesPerSec: baselinePerSec, rows });
  return rows;
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
