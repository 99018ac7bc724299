// The long fuzz run (npm run fuzz): every target (or one), N inputs each, deterministic from
// --seed. Each target runs in a worker thread that reports its position through shared memory; the
// main thread terminates a worker whose current input has not finished within --hang-ms, so a
// true infinite loop is reported (with the input's index) instead of stalling the run. On any
// failure it prints the replay command and exits 1.
//
//   node dist/test/fuzz/fuzz-cli.js [--inputs N] [--seed S] [--target NAME] [--index I]
//                                   [--max-input-ms MS] [--hang-ms MS] [--json FILE] [--jobs N]
// --index I runs just input I (fresh decoders) and prints it: the replay of a reported failure.
import * as fs from 'node:fs';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { describeFailure, inputAt, runTarget, type FuzzStats } from './run.js';
import { TARGET_NAMES, targetByName } from './targets.js';

interface Args {
  inputs: number;
  seed: number;
  target: string | undefined;
  index: number | undefined;
  maxInputMs: number;
  hangMs: number;
  json: string | undefined;
  jobs: number;
}

function parseArgs(argv: readonly string[]): Args {
  const args: Args = { inputs: 1_000_000, seed: 1, target: undefined, index: undefined, maxInputMs: 2000, hangMs: 30_000, json: undefined, jobs: 1 };
  for (let i = 0; i < argv.length; i++) {
    const value = argv[i + 1];
    const num = (): number => {
      const n = Number(value);
      if (!Number.isSafeInteger(n) || n < 0) throw new Error(`${argv[i]} needs a non-negative integer, got ${value}`);
      i++;
      return n;
    };
    switch (argv[i]) {
      case '--inputs':
        args.inputs = num();
        break;
      case '--seed':
        args.seed = num();
        break;
      case '--index':
        args.index = num();
        break;
      case '--max-input-ms':
        args.maxInputMs = num();
        break;
      case '--jobs':
        args.jobs = Math.max(1, num());
        break;
      case '--hang-ms':
        args.hangMs = num();
        break;
      case '--target':
        args.target = value;
        i++;
        break;
      case '--json':
        args.json = value;
        i++;
        break;
      default:
        throw new Error(`unknown argument ${argv[i]}`);
    }
  }
  return args;
}

interface WorkerJob {
  target: string;
  seed: number;
  inputs: number;
  maxInputMs: number;
  position: SharedArrayBuffer;
}

/** Worker side: runs one target, publishing the index of the input in progress. */
function workerMain(job: WorkerJob): void {
  const position = new Int32Array(job.position);
  const target = targetByName(job.target);
  const chunk = 1000;
  let total: FuzzStats | undefined;
  for (let from = 0; from < job.inputs; from += chunk) {
    Atomics.store(position, 0, from);
    const stats = runTarget(target, {
      seed: job.seed,
      from,
      count: Math.min(chunk, job.inputs - from),
      maxInputMs: job.maxInputMs,
      onInput: (index) => Atomics.store(position, 0, index),
    });
    total = {
      target: job.target,
      inputs: (total?.inputs ?? 0) + stats.inputs,
      bytes: (total?.bytes ?? 0) + stats.bytes,
      elapsedMs: (total?.elapsedMs ?? 0) + stats.elapsedMs,
      slowestMs: Math.max(total?.slowestMs ?? 0, stats.slowestMs),
      outcomes: {
        accepted: (total?.outcomes.accepted ?? 0) + stats.outcomes.accepted,
        rejected: (total?.outcomes.rejected ?? 0) + stats.outcomes.rejected,
        partial: (total?.outcomes.partial ?? 0) + stats.outcomes.partial,
      },
      failure: stats.failure,
    };
    Atomics.store(position, 1, total.inputs);
    if (stats.failure !== null) break;
  }
  parentPort!.postMessage(total);
}

/** Inputs done so far per target (running or finished), for --json snapshots during a long run. */
const progress = new Map<string, { inputs: number; elapsedMs: number; outcomes?: FuzzStats['outcomes']; state: 'running' | 'ok' | 'failed' }>();

/** Runs one target in a worker; no new finished input for hangMs is a hang (the worker is terminated). */
function runInWorker(args: Args, name: string): Promise<FuzzStats & { hang?: string }> {
  // [0]: index of the input in progress; [1]: inputs finished (published every 1,000).
  const position = new SharedArrayBuffer(8);
  const view = new Int32Array(position);
  const job: WorkerJob = { target: name, seed: args.seed, inputs: args.inputs, maxInputMs: args.maxInputMs, position };
  const worker = new Worker(new URL(import.meta.url), { workerData: job });
  const started = performance.now();
  return new Promise((resolve) => {
    let lastDone = -1;
    let lastIndex = -1;
    let lastChange = performance.now();
    const timer = setInterval(() => {
      const done = Atomics.load(view, 1);
      const index = Atomics.load(view, 0);
      progress.set(name, { inputs: done, elapsedMs: performance.now() - started, state: 'running' });
      if (done !== lastDone && Math.floor(done / 100_000) !== Math.floor(lastDone / 100_000) && done > 0) process.stderr.write(`  ${name}: ${done} inputs, ${((performance.now() - started) / 1000).toFixed(0)} s\n`);
      lastDone = done;
      if (index !== lastIndex) {
        lastIndex = index;
        lastChange = performance.now();
      } else if (performance.now() - lastChange > args.hangMs) {
        clearInterval(timer);
        const from = index;
        void worker.terminate();
        resolve({
          target: name,
          inputs: done,
          bytes: 0,
          elapsedMs: performance.now() - started,
          slowestMs: args.hangMs,
          outcomes: { accepted: 0, rejected: 0, partial: 0 },
          failure: null,
          hang: `input ${from} has not finished in ${args.hangMs} ms: replay it with --target ${name} --seed ${args.seed} --index ${from}`,
        });
      }
    }, 250);
    worker.once('message', (stats: FuzzStats) => {
      clearInterval(timer);
      resolve(stats);
    });
    worker.once('error', (err) => {
      // An exception outside runTarget (a module that failed to load, an out-of-memory): the
      // target failed; the others go on.
      clearInterval(timer);
      resolve({ target: name, inputs: Atomics.load(view, 1), bytes: 0, elapsedMs: performance.now() - started, slowestMs: 0, outcomes: { accepted: 0, rejected: 0, partial: 0 }, failure: null, hang: `worker died: ${err.stack ?? err.message}` });
    });
  });
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  if (args.index !== undefined) {
    const name = args.target ?? '';
    const target = targetByName(name);
    const input = inputAt(target, args.seed, args.index);
    const stats = runTarget(target, { seed: args.seed, from: args.index, count: 1, maxInputMs: args.maxInputMs });
    if (stats.failure !== null) console.log(describeFailure(stats.failure));
    else console.log(`input ${args.index} of ${name} (seed ${args.seed}) passes: ${JSON.stringify(Buffer.from(input.bytes).toString('latin1').slice(0, 600))}`);
    process.exitCode = stats.failure === null ? 0 : 1;
    return;
  }
  const names = args.target !== undefined ? [targetByName(args.target).name] : [...TARGET_NAMES];
  console.log(`fuzz: ${names.length} targets × ${args.inputs} inputs, seed ${args.seed}, max ${args.maxInputMs} ms per input`);
  const results: (FuzzStats & { hang?: string })[] = [];
  let failed = false;
  // --jobs N runs N targets at a time (one worker thread each); results print as they finish.
  const queue = names.slice();
  const report = (stats: FuzzStats & { hang?: string }): void => {
    const name = stats.target;
    results.push(stats);
    progress.set(name, { inputs: stats.inputs, elapsedMs: stats.elapsedMs, outcomes: stats.outcomes, state: stats.failure !== null || stats.hang !== undefined ? 'failed' : 'ok' });
    const perSecond = stats.inputs / (stats.elapsedMs / 1000);
    console.log(
      `${name.padEnd(22)} ${String(stats.inputs).padStart(9)} inputs  ${(stats.bytes / 1e6).toFixed(1).padStart(7)} MB  ${(stats.elapsedMs / 1000).toFixed(1).padStart(7)} s  ${perSecond.toFixed(0).padStart(7)}/s  slowest ${stats.slowestMs.toFixed(1)} ms  accepted/partial/rejected ${stats.outcomes.accepted}/${stats.outcomes.partial}/${stats.outcomes.rejected}  ${stats.failure !== null || stats.hang !== undefined ? 'FAILED' : 'ok'}`,
    );
    if (stats.failure !== null) console.log(describeFailure(stats.failure));
    if (stats.hang !== undefined) console.log(`HANG: ${stats.hang} (seed ${args.seed})`);
    if (stats.failure !== null || stats.hang !== undefined) failed = true;
  };
  const lane = async (): Promise<void> => {
    for (let name = queue.shift(); name !== undefined; name = queue.shift()) report(await runInWorker(args, name));
  };
  const snapshot = (): void => {
    if (args.json !== undefined) fs.writeFileSync(args.json, JSON.stringify({ seed: args.seed, inputsPerTarget: args.inputs, at: new Date().toISOString(), progress: Object.fromEntries(progress) }, null, 2));
  };
  const snapshots = setInterval(snapshot, 10_000);
  await Promise.all(Array.from({ length: Math.min(args.jobs, names.length) }, lane));
  clearInterval(snapshots);
  snapshot();
  process.exitCode = failed ? 1 : 0;
}

if (isMainThread) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exitCode = 2;
  });
} else {
  workerMain(workerData as WorkerJob);
}
