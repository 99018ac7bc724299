// Worker warm-up: before a worker says it is ready, it runs synthetic ingest tasks through its
// own task entry — OpenTSDB /api/put bodies (new series on the full path, repeats on the
// simple-point fast path, one gzip body per round) and KairosDB datapoints bodies — exactly as
// a client's tasks run (same decoders, same series cache, the body as a Uint8Array over a
// transferred ArrayBuffer), with appends sent to a scratch shard in a temporary directory. So V8
// has compiled the hot functions for the shapes real bodies have before the first client body
// arrives. Without it a fresh worker met its first 10,000 series at ~51 µs each instead of ~11
// (interpreter and baseline code while TurboFan caught up), and the first requests waited
// 0.3–0.8 s (decision 0017).
//
// Nothing of the warm-up reaches the data directory or any client: its appends go to the scratch
// shard, removed afterwards, and the thread's series cache forgets its series (a new generation:
// every memo keyed by it clears itself). It is an optimisation only: any failure is logged and
// start-up goes on.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { ShardWriter, processIsAlive } from '../../engine/index.js';
import type { LogEvent } from '../log.js';
import type { KairosIngestTask, OpenTsdbPutTask } from './messages.js';

/** The tasks the warm-up runs. */
export type WarmUpTask = KairosIngestTask | OpenTsdbPutTask;

/** What the warm-up needs of the worker (worker.ts gives its own task entry and append switch). */
export interface WarmUpTarget {
  /** Runs a task as a client's runs (worker.ts `run`); resolves to its result. */
  run(task: WarmUpTask): Promise<unknown>;
  /** From now on appends go to `scratch`; `undefined` sends them to the worker's shard again. */
  redirectAppends(scratch: ShardWriter | undefined): void;
  /** Forgets every series the thread's series cache knows (after the warm-up, before ready). */
  forgetSeries(): void;
}

export interface WarmUpOptions {
  /** Points to push through the decoders and the append path in all; 0 skips the warm-up. */
  readonly points: number;
  readonly target: WarmUpTarget;
  /** The worker shard's sync policy and period: the scratch shard runs the same code paths. */
  readonly syncPolicy: 'interval' | 'always' | 'never';
  readonly syncIntervalMs: number;
  readonly log: (event: LogEvent) => void;
  /** Where the scratch shard's directory is made (and removed). Default os.tmpdir(). */
  readonly scratchParentDir?: string;
}

export interface WarmUpReport {
  /** Points the tasks reported stored (all of them, unless a bug). */
  readonly points: number;
  readonly elapsedMs: number;
}

/**
 * Points per synthetic OpenTSDB body: the common large batch, so the batch columns grow past
 * their first capacity as real 5,000-point bodies make them (code only a grown batch runs).
 */
const BODY_POINTS = 5_000;
/**
 * Hosts per round: each round brings HOSTS × FIELDS series the decoders have never seen. Enough
 * rounds of them (600 hosts for the default points) that the series cache's tables grow past
 * their first sizes here: a table's first reassignment deoptimizes the code that read it as a
 * constant, and it should happen now, not at the first client body.
 */
const HOSTS = 150;
const FIELDS = ['usage_user', 'usage_system', 'usage_idle', 'usage_nice', 'usage_iowait', 'usage_irq', 'usage_softirq', 'usage_steal', 'usage_guest', 'usage_guest_nice'];
const REGIONS = ['us-east-1', 'us-west-1', 'eu-west-1', 'ap-southeast-2', 'sa-east-1'];
const EPOCH_S = 1_600_000_000;

/** Eight TSBS-like tags of one host (the count OpenTSDB allows by default). */
function hostTags(round: number, host: number): Record<string, string> {
  return {
    hostname: `host_${round}_${host}`,
    region: REGIONS[host % REGIONS.length]!,
    datacenter: `dc-${host % 3}`,
    rack: String(host % 100),
    os: host % 2 === 0 ? 'Ubuntu16.04LTS' : 'Ubuntu15.10',
    arch: host % 2 === 0 ? 'x64' : 'x86',
    team: ['SF', 'NYC', 'LON', 'CHI'][host % 4]!,
    service: String(host % 20),
  };
}

/**
 * The values clients send, so every branch of the number conversion and every column shape gets
 * compiled: full-precision doubles (TSBS; half of them), two-decimal gauges, integer counters,
 * negatives, and what a clamped gauge prints at its bounds — "0", "100" and, near zero, exponent
 * forms such as 5.551115123125783e-17 (a series then holds integers and floats) — and doubles
 * just above a power of two, such as 64.00000000000001, whose exactness proof takes a branch of
 * its own (json/exact-decimal.ts). Missing these left V8 without feedback for them: the first
 * real "0" or "1e-17" deoptimized the number scan, and so did, about once per 2 M random
 * full-precision points, a value just above 16, 32 or 64 (--trace-deopt).
 */
function value(k: number): number {
  const v = Math.random() * 100;
  switch (k % 16) {
    case 1:
      return 0;
    case 3:
      return 100;
    case 5:
      return v * 1e-18;
    case 7:
      return -v;
    case 9:
    case 11:
      return Math.round(v * 100) / 100;
    case 13:
    case 15:
      return Math.floor(v * 1000);
    case 14:
      return 2 ** (k % 7) * (1 + (1 + (k % 5)) * 2 ** -52);
    default:
      return v;
  }
}

/**
 * One round's OpenTSDB bodies: the first carries every series of the round once (full path), the
 * rest repeat them at later timestamps (fast path). Key orders vary as clients' do.
 */
function openTsdbBodies(round: number, points: number): Buffer[] {
  const tags = Array.from({ length: HOSTS }, (_, h) => JSON.stringify(hostTags(round, h)));
  const series = HOSTS * FIELDS.length;
  const bodies: Buffer[] = [];
  let parts: string[] = [];
  for (let k = 0; k < points; k++) {
    const s = k % series;
    const metric = `warm_up.cpu.${FIELDS[s % FIELDS.length]!}`;
    const t = EPOCH_S + 10 * Math.floor(k / series);
    const timestamp = round % 2 === 0 ? t : t * 1000;
    const v = value(k);
    const tagJson = tags[Math.floor(s / FIELDS.length)]!;
    parts.push(
      k % 2 === 0
        ? `{"metric":"${metric}","tags":${tagJson},"timestamp":${timestamp},"value":${v}}`
        : `{"metric":"${metric}","timestamp":${timestamp},"value":${v},"tags":${tagJson}}`,
    );
    if (parts.length === BODY_POINTS || k === points - 1) {
      bodies.push(Buffer.from(`[${parts.join(',')}]`));
      parts = [];
    }
  }
  return bodies;
}

/** One round's KairosDB body of exactly `points` datapoints, spread over the round's series in runs. */
function kairosBody(round: number, points: number): Buffer {
  const series = HOSTS * FIELDS.length;
  const metrics: string[] = [];
  for (let s = 0; s < series && s < points; s++) {
    const run = Math.floor(points / series) + (s < points % series ? 1 : 0);
    const dps: string[] = [];
    for (let i = 0; i < run; i++) dps.push(`[${(EPOCH_S + 10 * i) * 1000},${value(s + i)}]`);
    const tags = JSON.stringify(hostTags(round, Math.floor(s / FIELDS.length)));
    metrics.push(`{"name":"warm_up.kairos.${FIELDS[s % FIELDS.length]!}","datapoints":[${dps.join(',')}],"tags":${tags}}`);
  }
  return Buffer.from(`[${metrics.join(',')}]`);
}

/** Scratch directories are named strata-warm-up-<pid>-<random>. */
const SCRATCH_PREFIX = 'strata-warm-up-';

/**
 * Removes scratch directories left by servers killed during their warm-up (their process is
 * gone). A directory of a live process — another server warming up — is left alone.
 */
function removeAbandonedScratch(parent: string): void {
  for (const name of fs.readdirSync(parent)) {
    if (!name.startsWith(SCRATCH_PREFIX)) continue;
    const pid = Number.parseInt(name.slice(SCRATCH_PREFIX.length), 10);
    if (Number.isSafeInteger(pid) && pid > 0 && pid !== process.pid && !processIsAlive(pid)) {
      fs.rmSync(path.join(parent, name), { recursive: true, force: true });
    }
  }
}

/** A task as the worker receives one: deserialised from a message with its body transferred. */
function asReceived<T extends WarmUpTask>(task: T): T {
  return structuredClone(task, { transfer: [task.body] });
}

/**
 * The body as a client's task carries it: an ArrayBuffer of its own (the worker reads it through a
 * plain Uint8Array). Optimized code is specialised on the maps it meets: warmed up on Buffers, it
 * was thrown away at the first real body ("wrong map" in every scanning function, --trace-deopt).
 */
function bodyFields(bytes: Uint8Array, gzip: boolean): { body: ArrayBuffer; bodyBytes: number; encoding: 'identity' | 'gzip'; maxInflatedBytes: number } {
  const wire = gzip ? zlib.gzipSync(bytes) : bytes;
  const body = new ArrayBuffer(wire.length);
  new Uint8Array(body).set(wire);
  return { body, bodyBytes: wire.length, encoding: gzip ? 'gzip' : 'identity', maxInflatedBytes: 64 * 1024 * 1024 };
}

/** Points a task's result says were stored; 0 for a failure. */
function storedPoints(result: unknown): number {
  const r = result as { ok?: boolean; points?: number } | undefined;
  return r?.ok === true ? (r.points ?? 0) : 0;
}

/**
 * Runs the warm-up (see the file comment); the worker awaits it before it reports ready, so no
 * client task runs meanwhile. Returns what it did, or undefined if skipped or failed.
 */
export async function warmUp(options: WarmUpOptions): Promise<WarmUpReport | undefined> {
  if (options.points <= 0) return undefined;
  const started = performance.now();
  const parent = options.scratchParentDir ?? os.tmpdir();
  const target = options.target;
  let dir: string | undefined;
  let scratch: ShardWriter | undefined;
  try {
    removeAbandonedScratch(parent);
    dir = fs.mkdtempSync(path.join(parent, `${SCRATCH_PREFIX}${process.pid}-`));
    // A small segment (its preallocation is paid here too); the shard's own sync policy.
    scratch = ShardWriter.open({ dir, shardId: 0, syncPolicy: options.syncPolicy, syncIntervalMs: options.syncIntervalMs, segmentBytes: 8 * 1024 * 1024 });
    target.redirectAppends(scratch);
    // Rounds of 1,500 new series, each seen 8 times: three quarters OpenTSDB (a 5,000-point body,
    // then the rest gzipped), a quarter KairosDB.
    const roundPoints = 8 * HOSTS * FIELDS.length;
    let done = 0;
    let stored = 0;
    for (let round = 0; done < options.points; round++) {
      const n = Math.min(roundPoints, options.points - done);
      const kairosPoints = Math.floor(n / 4);
      const bodies = openTsdbBodies(round, n - kairosPoints);
      for (const [i, bytes] of bodies.entries()) {
        const gzip = i === bodies.length - 1 && bodies.length > 1;
        stored += storedPoints(await target.run(asReceived({ kind: 'opentsdb.put', query: '', syncAlways: options.syncPolicy === 'always', ...bodyFields(bytes, gzip) })));
      }
      if (kairosPoints > 0) {
        stored += storedPoints(await target.run(asReceived({ kind: 'kairos.ingest', sync: false, ...bodyFields(kairosBody(round, kairosPoints), false) })));
      }
      done += n;
      // Forget once early too: the first forget reassigns fields V8 had treated as constants
      // (the series cache's generation, the builders' epochs), which throws away all code that
      // embedded them ("code dependencies", --trace-deopt); here it happens while the warm-up
      // still runs, not as the first client body arrives.
      if (round === 0) target.forgetSeries();
    }
    return { points: stored, elapsedMs: performance.now() - started };
  } catch (err) {
    options.log({ level: 'warn', event: 'worker.warm-up-failed', message: (err as Error).message });
    return undefined;
  } finally {
    target.redirectAppends(undefined);
    target.forgetSeries();
    try {
      scratch?.close();
    } catch {
      // The directory goes anyway.
    }
    if (dir !== undefined) fs.rmSync(dir, { recursive: true, force: true });
  }
}
