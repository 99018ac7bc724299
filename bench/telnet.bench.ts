// The line port's decoder on one core: bursts of OpenTSDB `put` lines and of KairosDB `putm`
// lines through the decoder the workers use (createLinePortDecoder: OpenTSDB's own put, KairosDB's
// built-in putm), and the in-run baseline over the same put bytes: Buffer → string, split('\n'),
// split(' ') per line (finds the words, checks and converts nothing). Bursts: 2,000 lines each
// (about 290 KB, the listener's burst size) over 10,000 TSBS-devops-like series (cpu.usage_* × 8
// host tags, 10 s apart, values with 2 decimals), generated before timing (fixed seed). One
// decoder per command is reused across bursts, as a worker reuses its decoder; its caches are warm
// after the first round of bursts, as in a server past its first connections. The sink counts
// points (no engine): this measures decoding only.
import { Bench } from 'tinybench';
import type { WriteBatch } from '../engine/index.js';
import { strataBuildInfo } from '../src/protocols/opentsdb/discovery.js';
import { createLinePortDecoder } from '../src/protocols/opentsdb/telnet-commands.js';
import { devopsBatch } from '../test/helpers/batches.js';
import { sliceBatches } from './data.js';
import { fmt, fmtSpread, isEntry, ratios, runRounds, spread, writeResults } from './report.js';

const BURST_LINES = 2_000;
const HOSTS = 1_000; // × 10 cpu fields = 10,000 series
const TIMESTAMPS = 4; // 40,000 lines = 20 bursts per command, cycled
const ROUNDS = 3;

const T = {
  put: 'put: OpenTSDB put lines (seconds)',
  putm: 'putm: KairosDB putm lines (ms)',
  split: "baseline: split('\\n') + split(' ') of the put bytes",
} as const;

/** One burst of line-protocol text: `<command> <metric> <timestamp> <value> k=v …` per point. */
export function lineBurst(b: WriteBatch, command: 'put' | 'putm'): Buffer {
  let out = '';
  for (let i = 0; i < b.length; i++) {
    const s = b.series[b.seriesIndex[i]!]!;
    const t = command === 'put' ? b.timestampsMs[i]! / 1000 : b.timestampsMs[i]!;
    out += `${command} ${s.metric} ${t} ${b.floats[i]!}`;
    for (const [k, v] of Object.entries(s.tags)) out += ` ${k}=${v}`;
    out += '\n';
  }
  return Buffer.from(out);
}

export async function main(): Promise<Record<string, unknown>> {
  const batches = sliceBatches(devopsBatch(HOSTS, TIMESTAMPS, Date.UTC(2024, 0, 1), 10_000), BURST_LINES);
  const putBursts = batches.map((b) => lineBurst(b, 'put'));
  const putmBursts = batches.map((b) => lineBurst(b, 'putm'));
  let stored = 0;
  const sink = (batch: WriteBatch): void => {
    stored += batch.length;
  };
  const build = strataBuildInfo('bench');
  const putDecoder = createLinePortDecoder(sink, { build });
  const putmDecoder = createLinePortDecoder(sink, { build });
  // Every line is stored and nothing is answered, or the figures mean nothing.
  for (const [decoder, bursts] of [
    [putDecoder, putBursts],
    [putmDecoder, putmBursts],
  ] as const) {
    for (const burst of bursts) {
      const r = decoder.decode(burst);
      if (r.points !== BURST_LINES || r.replies !== '' || r.tail.length !== 0) throw new Error(`bad burst: ${r.points} points, replies ${r.replies.slice(0, 200)}`);
    }
  }
  let next = 0;
  let words = 0;

  const bench = (): Bench =>
    new Bench({ time: 1_000, warmupTime: 200 })
      .add(T.put, () => {
        putDecoder.decode(putBursts[next++ % putBursts.length]!);
      })
      .add(T.putm, () => {
        putmDecoder.decode(putmBursts[next++ % putmBursts.length]!);
      })
      .add(T.split, () => {
        for (const line of putBursts[next++ % putBursts.length]!.toString('utf8').split('\n')) words += line.split(' ').length;
      });
  const ops = await runRounds(bench, ROUNDS);
  const lines = (name: string): number[] => ops.get(name)!.map((o) => o * BURST_LINES);
  const burstBytes = putBursts.reduce((n, b) => n + b.length, 0) / putBursts.length;
  const figures = {
    put: spread(lines(T.put)),
    putm: spread(lines(T.putm)),
    split: spread(lines(T.split)),
    putOverSplit: spread(ratios(lines(T.put), lines(T.split))),
    putmOverSplit: spread(ratios(lines(T.putm), lines(T.split))),
    putOverPutm: spread(ratios(lines(T.put), lines(T.putm))),
  };
  console.table([
    { task: T.put, 'lines/s': fmtSpread(figures.put), '÷ split baseline': fmtSpread(figures.putOverSplit), '÷ putm': fmtSpread(figures.putOverPutm) },
    { task: T.putm, 'lines/s': fmtSpread(figures.putm), '÷ split baseline': fmtSpread(figures.putmOverSplit), '÷ putm': '' },
    { task: T.split, 'lines/s': fmtSpread(figures.split), '÷ split baseline': '', '÷ putm': '' },
  ]);
  console.log(`median of ${ROUNDS} rounds (min–max); bursts of ${BURST_LINES} lines, ${fmt(burstBytes)} bytes (sink ${stored > 0 && words > 0})`);
  const results = { burstLines: BURST_LINES, burstBytes, rounds: ROUNDS, ...figures };
  writeResults('telnet', results);
  return results;
}

if (isEntry(import.meta.url)) await main();
