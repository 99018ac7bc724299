// The fuzz runner: generates input `index` of a target from (seed, target, index), checks it,
// times it, and on the first failure returns everything needed to replay it (the seed, the
// index, the input) — used by the vitest slices and by fuzz-cli.ts.
import { Rng, hashString } from './rng.js';
import type { FuzzInput, FuzzTarget, Outcome } from './targets.js';

export interface FuzzFailure {
  readonly target: string;
  readonly seed: number;
  readonly index: number;
  readonly message: string;
  readonly input: FuzzInput;
}

export interface FuzzStats {
  readonly target: string;
  readonly inputs: number;
  readonly bytes: number;
  readonly elapsedMs: number;
  /** The slowest single input (generation excluded). */
  readonly slowestMs: number;
  /** Inputs by what the decoder made of them. */
  readonly outcomes: Readonly<Record<Outcome, number>>;
  readonly failure: FuzzFailure | null;
}

/** Input `index` of `target` under `seed` (deterministic). */
export function inputAt(target: FuzzTarget, seed: number, index: number): FuzzInput {
  return target.generate(new Rng(seed, hashString(target.name), index));
}

/** The one-line command that replays a failure. */
export function replayCommand(f: Pick<FuzzFailure, 'target' | 'seed' | 'index'>): string {
  return `node dist/test/fuzz/fuzz-cli.js --target ${f.target} --seed ${f.seed} --index ${f.index}`;
}

/** A failure for humans: what broke, how to replay, and the input (escaped text and base64). */
export function describeFailure(f: FuzzFailure): string {
  const text = Buffer.from(f.input.bytes).toString('latin1');
  return [
    `fuzz target ${f.target} failed at input ${f.index} (seed ${f.seed}): ${f.message}`,
    `replay: ${replayCommand(f)}`,
    `  (decoders are reused across inputs as in the server; if the input passes alone, replay the run up to it: node dist/test/fuzz/fuzz-cli.js --target ${f.target} --seed ${f.seed} --inputs ${f.index + 1})`,
    `param: ${JSON.stringify(f.input.param)}  cuts: ${JSON.stringify(f.input.cuts)}`,
    `input (${f.input.bytes.length} bytes, latin1): ${JSON.stringify(text.length > 600 ? `${text.slice(0, 600)}…` : text)}`,
    `input base64: ${f.input.bytes.length > 3000 ? `(${f.input.bytes.length} bytes: regenerate with the replay command)` : Buffer.from(f.input.bytes).toString("base64")}`,
  ].join('\n');
}

/**
 * Runs inputs [from, from + count) of `target`. Stops at the first failure: a broken property,
 * an unexpected throw, or an input whose check took longer than `maxInputMs` (a hang or a
 * super-linear blow-up). `onProgress(done)` is called every 1,000 inputs.
 */
export function runTarget(
  target: FuzzTarget,
  options: { seed: number; from?: number; count: number; maxInputMs: number; onProgress?: (done: number) => void; onInput?: (index: number) => void },
): FuzzStats {
  const from = options.from ?? 0;
  const stream = hashString(target.name);
  const started = performance.now();
  let slowest = 0;
  let bytes = 0;
  let done = 0;
  let failure: FuzzFailure | null = null;
  const outcomes: Record<Outcome, number> = { accepted: 0, rejected: 0, partial: 0 };
  for (let index = from; index < from + options.count; index++) {
    options.onInput?.(index);
    const input = target.generate(new Rng(options.seed, stream, index));
    bytes += input.bytes.length;
    const t0 = performance.now();
    try {
      outcomes[target.check(input)]++;
    } catch (err) {
      const message = err instanceof Error ? (err.name === 'FuzzViolation' ? err.message : `threw ${err.stack ?? err.message}`) : `threw ${String(err)}`;
      failure = { target: target.name, seed: options.seed, index, message, input };
    }
    const ms = performance.now() - t0;
    if (ms > slowest) slowest = ms;
    if (failure === null && ms > options.maxInputMs) {
      failure = { target: target.name, seed: options.seed, index, message: `one input took ${ms.toFixed(0)} ms (limit ${options.maxInputMs} ms)`, input };
    }
    done++;
    if (failure !== null) break;
    if (options.onProgress !== undefined && done % 1000 === 0) options.onProgress(done);
  }
  return { target: target.name, inputs: done, bytes, elapsedMs: performance.now() - started, slowestMs: slowest, outcomes, failure };
}
