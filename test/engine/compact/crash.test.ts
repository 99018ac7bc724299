// Compaction is crash-safe at every step: each file operation of one compaction fails in turn —
// as an I/O error the writer survives, as the death of the process, and as a real SIGKILL of a
// child — and the shard then reads exactly what it read before: nothing lost, nothing doubled,
// nothing deleted coming back. Plus recovery's rules for leftovers it finds.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  Engine,
  EngineError,
  FaultyFileSystem,
  NodeFileSystem,
  ShardWriter,
  shardDirectory,
  type FileSystem,
  type SeriesMatcher,
  type Tombstone,
} from '../../../engine/index.js';
import { segmentFileName } from '../../../engine/segment/format.js';
import { batchOf, seededRandom, type TestPoint } from '../../helpers/batches.js';
import { WHOLE_RANGE, readView, shardFiles, storedPoints, viewPoints } from '../../helpers/compaction.js';
import { tempDir } from '../../helpers/tmp.js';

const T0 = 1_700_000_000_000;
const SECOND = 1000;
const PARTITION_MS = 1000;
const MATCHERS: readonly SeriesMatcher[] = [{ metric: 'cpu' }, { metric: 'mem' }, { metric: 'ev' }];
const WORKER = path.resolve('dist/test/helpers/compact-worker.js');

/** A prepared data directory: sealed segments to compact, an active one, tombstones, a clock. */
interface Prepared {
  readonly dataDir: string;
  readonly nowMs: number;
  readonly tombstones: readonly Tombstone[];
  /** Points stored before compacting. */
  readonly storedBefore: number;
}

/**
 * Writes a shard with several sealed segments (three 1 s partitions' worth of points, every
 * value kind, duplicates across segments, a TTL that has expired and one that has not, a delete,
 * the outputs of an earlier compaction) and an active segment, all under a fixed clock.
 */
function prepare(dataDir: string): Prepared {
  let clock = T0;
  const writer = ShardWriter.open({ dir: shardDirectory(dataDir, 0), shardId: 0, segmentBytes: 4096, syncPolicy: 'never', nowMs: () => clock });
  const engine = Engine.open({ dataDir, nowMs: () => clock });
  const rnd = seededRandom(42);
  const hosts = ['a', 'b', 'c'];
  for (let b = 0; b < 9; b++) {
    const pts: TestPoint[] = [];
    for (let i = 0; i < 40; i++) {
      const t = Math.floor(rnd() * 3000) - 1000; // partitions −1, 0, 1; many duplicates
      const h = hosts[i % 3]!;
      // TTLs: batch 2's expire before the earlier compaction, batch 7's between it and this one.
      pts.push({ metric: 'cpu', tags: { host: h }, t, value: Math.round(rnd() * 10_000) / 100, ttlSeconds: b === 2 ? 1 : b === 7 ? 2 : 0 });
      if (i % 4 === 0) pts.push({ metric: 'mem', tags: { host: h }, t, value: BigInt(Math.floor(rnd() * 1e6)) * 10_000_000_000n, ttlSeconds: b === 5 ? 3600 : 0 });
      if (i % 8 === 0) pts.push({ metric: 'ev', t, value: i % 16 ? `e${b}.${i}` : { json: `{"b":${b}}` } });
    }
    writer.append(batchOf(pts));
    clock += SECOND;
    if (b === 4) engine.delete({ metric: 'cpu', tags: { host: ['b'] } }, -200, 400);
    if (b % 3 === 2) writer.roll();
    // An earlier compaction: its outputs are among the sources of the one under test.
    if (b === 5) writer.compact({ tombstones: engine.tombstones, partitionMs: PARTITION_MS });
  }
  writer.append(batchOf([{ metric: 'cpu', tags: { host: 'a' }, t: 7, value: 7 }])); // stays in the active segment
  clock += 5 * SECOND;
  writer.close();
  const stored = storedPoints(shardDirectory(dataDir, 0));
  return { dataDir, nowMs: clock, tombstones: [...engine.tombstones], storedBefore: stored.points };
}

/** What reads return at the compaction's clock and after the TTL run expires. */
function picture(dataDir: string, nowMs: number): unknown[] {
  const out: unknown[] = [];
  for (const now of [nowMs, nowMs + 3600 * SECOND]) {
    const engine = Engine.open({ dataDir, nowMs: () => now, owner: false });
    for (const m of MATCHERS) out.push(readView(engine, m, WHOLE_RANGE[0], WHOLE_RANGE[1]));
    out.push(readView(engine, { metric: 'cpu' }, -300, 300));
  }
  return out;
}

/** Copies the prepared data directory over `to` (replacing it), so every step starts alike. */
function fresh(from: string, to: string): void {
  fs.rmSync(to, { recursive: true, force: true });
  fs.cpSync(from, to, { recursive: true });
}

type Op = 'open' | 'pread' | 'pwrite' | 'fsync' | 'rename' | 'unlink';
const STEP_OPS: ReadonlySet<Op> = new Set<Op>(['open', 'pread', 'pwrite', 'fsync', 'rename', 'unlink']);

/** One file operation, named as FaultyFileSystem matches it: fds by their path, fsyncDir as 'fsync' on the directory, rename by its source. */
interface Step {
  readonly op: Op;
  readonly path: string;
}

/**
 * The real file system that, while `watching`, numbers the operations that can fail or change
 * the disk (through FaultyFileSystem's observer), recording them in `recorded`. With `dieAt` set,
 * operation number `dieAt` and every one after it throw EIO without happening: the process died
 * there. `close` always goes through (it changes nothing on disk and frees the test's descriptors).
 */
class StepFileSystem extends FaultyFileSystem {
  watching = false;
  dieAt = Infinity;
  steps = 0;
  readonly recorded: Step[] = [];

  constructor() {
    super();
    this.observe = (op, filePath) => {
      if (!this.watching || !STEP_OPS.has(op as Op)) return;
      this.steps++;
      if (this.steps > this.dieAt) {
        const err: NodeJS.ErrnoException = new Error(`EIO: process died before ${op} '${filePath}'`);
        err.code = 'EIO';
        throw err;
      }
      this.recorded.push({ op: op as Op, path: filePath });
    };
  }
}

function openWriter(dataDir: string, nowMs: number, fsys?: FileSystem): ShardWriter {
  return ShardWriter.open({ dir: shardDirectory(dataDir, 0), shardId: 0, segmentBytes: 4096, syncPolicy: 'never', nowMs: () => nowMs, ...(fsys ? { fs: fsys } : {}) });
}

/** After a compaction (failed or not): a new segment, then a clean compaction of everything. */
function carryOn(writer: ShardWriter, base: Prepared, k: number): void {
  writer.roll();
  writer.append(batchOf([{ metric: 'extra', t: k, value: k }]));
  writer.roll();
  writer.compact({ tombstones: base.tombstones, partitionMs: PARTITION_MS });
  writer.close();
}

/**
 * Runs one fault-free compaction of a copy of `base` at `work`, recording its file operations;
 * `storedAfter` is what the shard then holds, `storedAtEnd` what it holds after carryOn.
 */
function reference(base: Prepared, work: string): { steps: Step[]; storedAfter: number; storedAtEnd: number } {
  fresh(base.dataDir, work);
  const recorder = new StepFileSystem();
  const writer = openWriter(work, base.nowMs, recorder);
  recorder.watching = true;
  writer.compact({ tombstones: base.tombstones, partitionMs: PARTITION_MS });
  recorder.watching = false;
  const storedAfter = storedPoints(shardDirectory(work, 0)).points;
  carryOn(writer, base, 0);
  return { steps: recorder.recorded, storedAfter, storedAtEnd: storedPoints(shardDirectory(work, 0)).points };
}

describe('compaction crash safety', () => {
  const base = prepare(tempDir('strata-crash-base-'));
  const expected = picture(base.dataDir, base.nowMs);
  const work = path.join(tempDir('strata-crash-work-'), 'data');
  const { steps, storedAfter, storedAtEnd } = reference(base, work);

  it('prepares a shard worth compacting', () => {
    expect(viewPoints(expected[0] as Record<string, string[]>)).toBeGreaterThan(50);
    expect(storedAfter).toBeLessThan(base.storedBefore);
    // Reads from sources, writes and syncs outputs, renames, syncs the directory, unlinks.
    expect(new Set(steps.map((s) => s.op))).toEqual(new Set(['open', 'pread', 'pwrite', 'fsync', 'rename', 'unlink']));
    expect(steps.filter((s) => s.op === 'rename').length).toBe(3); // partitions −1, 0, 1
  });

  it('an I/O error at any step leaves every read the same, in process and after reopening', () => {
    const outcomes = { failed: 0, committed: 0 };
    steps.forEach((step, k) => {
      fresh(base.dataDir, work);
      const fsys = new FaultyFileSystem();
      const writer = openWriter(work, base.nowMs, fsys);
      // Fail the k-th operation: the same op on the same file, after as many earlier matches.
      const skip = steps.slice(0, k).filter((s) => s.op === step.op && s.path.includes(step.path)).length;
      fsys.inject({ op: step.op, pathIncludes: step.path, skip, errno: k % 2 ? 'EIO' : 'ENOSPC' });
      try {
        writer.compact({ tombstones: base.tombstones, partitionMs: PARTITION_MS });
        outcomes.committed++;
      } catch (err) {
        expect(err).toBeInstanceOf(EngineError);
        expect((err as EngineError).shardUsable, `step ${k}`).toBe(true);
        outcomes.failed++;
      }
      expect([...fsys.injected.values()].reduce((a, b) => a + b, 0), `step ${k}: ${step.op} ${step.path}`).toBe(1);
      expect(picture(work, base.nowMs), `step ${k}: ${step.op} ${step.path}`).toEqual(expected);

      // The writer carries on: a new segment (its sequence must not collide with an output),
      // then a clean compaction of everything.
      carryOn(writer, base, k);
      expect(picture(work, base.nowMs), `step ${k}: after compacting again`).toEqual(expected);

      const reopened = openWriter(work, base.nowMs);
      reopened.close();
      const dir = shardDirectory(work, 0);
      expect(shardFiles(dir).tmp).toEqual([]);
      expect(picture(work, base.nowMs), `step ${k}: reopened`).toEqual(expected);
      const engine = Engine.open({ dataDir: work, nowMs: () => base.nowMs, owner: false });
      expect(readView(engine, { metric: 'extra' }, WHOLE_RANGE[0], WHOLE_RANGE[1])).toEqual({ 'extra{}': [`${k}=f:${k}`] });
      // Everything was compacted once more: only outputs remain, with nothing twice.
      const stored = storedPoints(dir);
      expect(stored.points, `step ${k}: stored`).toBe(storedAtEnd);
      expect(stored.compactedPoints).toBe(stored.points);
    });
    // Failures before the commit point are reported; after it, nothing is.
    expect(outcomes.failed).toBeGreaterThan(0);
    expect(outcomes.committed).toBeGreaterThan(0);
  });

  it('a crash at any step leaves every read the same after reopening', () => {
    const outcomes = new Set<number>();
    // Dying before step k, for every k: at k = steps.length the compaction runs to its end.
    for (let k = 0; k <= steps.length; k++) {
      fresh(base.dataDir, work);
      const fsys = new StepFileSystem();
      const writer = openWriter(work, base.nowMs, fsys);
      fsys.dieAt = k;
      fsys.watching = true;
      let survived = false;
      try {
        writer.compact({ tombstones: base.tombstones, partitionMs: PARTITION_MS });
        survived = fsys.steps <= k; // finished before step k (after the commit point errors are only logged)
      } catch {
        // The process is dead from step k on.
      }
      // Let the dead writer drop its descriptors (nothing it does now reaches the disk's data),
      // and its LOCK, as the kernel would for a dead process.
      fsys.watching = false;
      writer.close();
      expect(survived, `compaction survives exactly when no step is cut (k = ${k} of ${steps.length})`).toBe(k === steps.length);
      if (survived) break;

      const reopened = openWriter(work, base.nowMs);
      const dir = shardDirectory(work, 0);
      expect(shardFiles(dir).tmp).toEqual([]);
      expect(picture(work, base.nowMs), `crash at step ${k}: ${steps[k]?.op} ${steps[k]?.path}`).toEqual(expected);
      // Rolled back (sources only) or committed (outputs only): never both.
      const stored = storedPoints(dir).points;
      expect([base.storedBefore, storedAfter], `crash at step ${k}`).toContain(stored);
      outcomes.add(stored);
      reopened.compact({ tombstones: base.tombstones, partitionMs: PARTITION_MS });
      expect(picture(work, base.nowMs)).toEqual(expected);
      reopened.close();
    }
    expect(outcomes).toEqual(new Set([base.storedBefore, storedAfter]));
  });

  it('a damaged output costs its own partition only: recovery never rolls back a compaction whose sources are gone', () => {
    fresh(base.dataDir, work);
    const writer = openWriter(work, base.nowMs);
    const result = writer.compact({ tombstones: base.tombstones, partitionMs: PARTITION_MS });
    writer.close();
    expect(result.outputs.length).toBe(3);
    // Damage the header of output 0 (partition −1, t in [−1000, −1]) after the fact.
    const dir = shardDirectory(work, 0);
    const damaged = path.join(dir, shardFiles(dir).segments.find((n) => parseInt(n, 16) === result.outputs[0])!);
    const fd = fs.openSync(damaged, 'r+');
    fs.writeSync(fd, Buffer.from('garbage!'), 0, 8, 0);
    fs.closeSync(fd);
    const events: string[] = [];
    ShardWriter.open({ dir, shardId: 0, syncPolicy: 'never', nowMs: () => base.nowMs, log: (e) => events.push(e.event) }).close();
    expect(events).toContain('segment.quarantined');
    expect(events).not.toContain('compaction.rolled_back_at_recovery');
    // Partitions 0 and 1 read as before; only partition −1 is gone.
    const engine = Engine.open({ dataDir: work, nowMs: () => base.nowMs, owner: false });
    const baseEngine = Engine.open({ dataDir: base.dataDir, nowMs: () => base.nowMs, owner: false });
    for (const m of MATCHERS) expect(readView(engine, m, 0, 1999)).toEqual(readView(baseEngine, m, 0, 1999));
    expect(viewPoints(readView(engine, {}, -1000, -1))).toBe(0);
  });

  it('a source that cannot be unlinked after the commit is logged, read around, and left to recovery', () => {
    fresh(base.dataDir, work);
    const dir = shardDirectory(work, 0);
    const fsys = new FaultyFileSystem();
    const events: string[] = [];
    const open = (log: (e: { event: string }) => void, fsArg?: FileSystem): ShardWriter =>
      ShardWriter.open({ dir, shardId: 0, segmentBytes: 4096, syncPolicy: 'never', nowMs: () => base.nowMs, log, ...(fsArg ? { fs: fsArg } : {}) });
    const writer = open((e) => events.push(e.event), fsys);
    const sealed = [...writer.sealedSegmentSequences()];
    fsys.inject({ op: 'unlink', pathIncludes: segmentFileName(sealed[1]!), errno: 'EIO' });
    const result = writer.compact({ tombstones: base.tombstones, partitionMs: PARTITION_MS });
    expect(events).toContain('compaction.sources_left');
    // The writer knows the leftover is still there; reads are unaffected by it.
    expect(writer.sealedSegmentSequences()).toEqual([sealed[1]!, ...result.outputs]);
    expect(picture(work, base.nowMs)).toEqual(expected);
    writer.close();

    // If an output then goes missing (say, moved away by hand), recovery cannot tell whether the
    // leftover is still needed: it deletes nothing and says so.
    const moved = path.join(path.dirname(work), 'moved.seg');
    fs.renameSync(path.join(dir, segmentFileName(result.outputs[2]!)), moved);
    const unresolved: string[] = [];
    open((e) => unresolved.push(e.event)).close();
    expect(unresolved).toContain('compaction.unresolved');
    expect(shardFiles(dir).segments).toContain(segmentFileName(sealed[1]!));

    // With the output back, the compaction is complete again: recovery deletes the leftover.
    fs.renameSync(moved, path.join(dir, segmentFileName(result.outputs[2]!)));
    const committed: string[] = [];
    open((e) => committed.push(e.event)).close();
    expect(committed).toContain('compaction.committed_at_recovery');
    expect(shardFiles(dir).segments).not.toContain(segmentFileName(sealed[1]!));
    expect(storedPoints(dir).points).toBe(storedAfter);
    expect(picture(work, base.nowMs)).toEqual(expected);
  });

  it('a process SIGKILLed between any two steps of a compaction loses nothing', async () => {
    // The worker announces each step that changes the disk and waits for a go before doing it;
    // the test kills it instead when step k is announced, so steps 0 … k−1 happened and k did not.
    fresh(base.dataDir, work);
    const whole = await runWorker(work, base, Infinity);
    expect(whole.signal).toBeNull();
    expect(whole.announced).toBeGreaterThan(10);
    const outcomes = new Set<number>();
    for (let k = 0; k < whole.announced; k++) {
      fresh(base.dataDir, work);
      const { signal } = await runWorker(work, base, k);
      expect(signal).toBe('SIGKILL');
      const reopened = openWriter(work, base.nowMs);
      reopened.close();
      expect(shardFiles(shardDirectory(work, 0)).tmp).toEqual([]);
      expect(picture(work, base.nowMs), `killed at step ${k}`).toEqual(expected);
      const stored = storedPoints(shardDirectory(work, 0)).points;
      expect([base.storedBefore, storedAfter]).toContain(stored);
      outcomes.add(stored);
    }
    expect(outcomes).toEqual(new Set([base.storedBefore, storedAfter]));
  });
});

/**
 * Runs the compaction worker on `dataDir` and SIGKILLs it when it announces step `killAt`.
 * Resolves with the number of steps announced and the signal that ended it (null: it finished).
 */
function runWorker(dataDir: string, base: Prepared, killAt: number): Promise<{ announced: number; signal: NodeJS.Signals | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [WORKER, shardDirectory(dataDir, 0), String(base.nowMs), String(PARTITION_MS), JSON.stringify(base.tombstones)], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    let announced = 0;
    let buffered = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      buffered += chunk;
      const lines = buffered.split('\n');
      buffered = lines.pop()!;
      for (const line of lines) {
        if (!line.startsWith('step ')) continue;
        if (announced === killAt) child.kill('SIGKILL');
        else child.stdin.write('g');
        announced++;
      }
    });
    child.stdin.on('error', () => {}); // EPIPE after the kill
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (signal === null && code !== 0) reject(new Error(`compact worker exited with ${code}`));
      else resolve({ announced, signal });
    });
  });
}
