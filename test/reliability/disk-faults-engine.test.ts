// Disk faults the real server cannot be made to meet (guarantee 5, docs/guarantees.md): EIO on
// read, fsync and msync failures, and a full disk at the moments a tmpfs test cannot aim at (the
// shard's LOCK, the tombstone log). A tmpfs never fails a read or an fsync, and the server has no
// fault-injection hook (the fs facade is chosen inside the engine), so these run on the engine
// through FaultyFileSystem (engine/io/fs.ts) — the same ShardWriter and Engine the workers use.
// Each case: the failing call gives a typed error (STRATA_IO / STRATA_NO_SPACE), nothing on disk
// is damaged or dropped (a transient read error at recovery must never truncate or quarantine),
// and once the fault clears the same objects — and a fresh open — read back every acknowledged
// point. The end-to-end ENOSPC story is disk-faults.test.ts.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Engine, EngineError, EngineErrorCode, FaultyFileSystem, ShardWriter, shardDirectory } from '../../engine/index.js';
import type { FaultOp } from '../../engine/io/fs.js';
import { batchOf, type TestPoint } from '../helpers/batches.js';
import { tempDir } from '../helpers/tmp.js';

/** Faults raised across this file, per op, for docs/guarantees.md. */
const raised = new Map<FaultOp, number>();
function tally(fsys: FaultyFileSystem): void {
  for (const [op, n] of fsys.injected) raised.set(op, (raised.get(op) ?? 0) + n);
}
afterAll(() => {
  console.log(`disk-faults engine: faults injected ${JSON.stringify(Object.fromEntries(raised))}, points lost 0`);
});

let nextT = 0;
function pts(n: number, metric = 'f'): TestPoint[] {
  return Array.from({ length: n }, (_, i) => ({ metric, tags: { s: String(i % 7) }, t: nextT++, value: Math.random() }));
}

/** Every point of `metric` as `t:value` strings, sorted: what a reader sees. */
function readAll(engine: Engine, metric = 'f'): string[] {
  return engine
    .scan(engine.select({ metric }), -1e15, 1e15)
    .flatMap((s) => Array.from({ length: s.length }, (_, i) => `${s.key.tags['s']}@${s.timestampsMs[i]}:${s.floats[i]}`))
    .sort();
}

function expected(points: readonly TestPoint[]): string[] {
  return points.map((p) => `${p.tags!['s']}@${p.t}:${p.value as number}`).sort();
}

/** Every file under `dir` with its bytes, to prove a failed call changed nothing. */
function snapshot(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string): void => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.set(path.relative(dir, p), fs.readFileSync(p).toString('base64'));
    }
  };
  walk(dir);
  return out;
}

function engineError(fn: () => unknown): EngineError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(EngineError);
    return err as EngineError;
  }
  throw new Error('expected an EngineError');
}

/** A closed shard holding `sealed` sealed segments' worth of points and an unsealed active one. */
function shardWith(dataDir: string, batches: number): TestPoint[] {
  const writer = ShardWriter.open({ dir: shardDirectory(dataDir, 0), shardId: 0, syncPolicy: 'never', segmentBytes: 32 * 1024 });
  const all: TestPoint[] = [];
  for (let b = 0; b < batches; b++) {
    const p = pts(400);
    writer.append(batchOf(p));
    all.push(...p);
  }
  writer.close();
  return all;
}

describe('EIO on read', () => {
  it('a scan fails with STRATA_IO while the disk errors, then reads everything; nothing is marked damaged', () => {
    const dataDir = tempDir();
    const written = shardWith(dataDir, 8);
    const fsys = new FaultyFileSystem();
    const engine = Engine.open({ dataDir, fs: fsys });
    expect(readAll(engine)).toEqual(expected(written));
    for (let skip = 0; skip < 4; skip++) {
      fsys.inject({ op: 'pread', pathIncludes: '.seg', errno: 'EIO', skip });
      const err = engineError(() => readAll(engine));
      expect(err.code).toBe(EngineErrorCode.Io);
      expect(err.shardUsable).toBe(true);
      expect(err.message).toMatch(/EIO/);
      fsys.clear();
      expect(readAll(engine)).toEqual(expected(written));
    }
    tally(fsys);
  });

  it('recovery that meets EIO stops with the error and changes no byte: no truncation, no quarantine', () => {
    const dataDir = tempDir();
    const written = shardWith(dataDir, 8);
    const before = snapshot(dataDir);
    let failures = 0;
    // Fail the n-th read of the recovery, for every n the recovery makes.
    for (let skip = 0; ; skip++) {
      const fsys = new FaultyFileSystem();
      fsys.inject({ op: 'pread', pathIncludes: '.seg', errno: 'EIO', skip });
      let writer: ShardWriter | undefined;
      try {
        writer = ShardWriter.open({ dir: shardDirectory(dataDir, 0), shardId: 0, fs: fsys, syncPolicy: 'never', segmentBytes: 32 * 1024 });
      } catch (err) {
        expect((err as NodeJS.ErrnoException).code ?? (err as EngineError).code).toMatch(/EIO|STRATA_IO/);
        failures++;
      }
      tally(fsys);
      if (writer) {
        writer.close();
        break;
      }
      expect(snapshot(dataDir)).toEqual(before);
    }
    expect(failures).toBeGreaterThan(0);
    expect(fs.existsSync(path.join(shardDirectory(dataDir, 0), 'quarantine'))).toBe(false);
    expect(readAll(Engine.open({ dataDir }))).toEqual(expected(written));
  });

  it('opening the engine (catalog rebuild) fails clearly on EIO and succeeds in full once it clears', () => {
    const dataDir = tempDir();
    const written = shardWith(dataDir, 8);
    const fsys = new FaultyFileSystem();
    fsys.inject({ op: 'pread', pathIncludes: '.seg', errno: 'EIO', skip: 2 });
    expect(() => Engine.open({ dataDir, fs: fsys, owner: false })).toThrow(/EIO/);
    fsys.clear();
    tally(fsys);
    expect(readAll(Engine.open({ dataDir, fs: fsys, owner: false }))).toEqual(expected(written));
  });
});

describe('fsync and msync failures', () => {
  it('an fsync failure while creating a segment fails that append with STRATA_IO, leaves no temporary file, and the next append succeeds', () => {
    const dataDir = tempDir();
    const dir = shardDirectory(dataDir, 0);
    const fsys = new FaultyFileSystem();
    const writer = ShardWriter.open({ dir, shardId: 0, fs: fsys, syncPolicy: 'never', segmentBytes: 32 * 1024 });
    const ackedPoints: TestPoint[] = [];
    let refused = 0;
    for (let b = 0; b < 30; b++) {
      // Every third batch, the fsync of a new segment file fails (only segment creation fsyncs a .seg.tmp).
      if (b % 3 === 0) fsys.inject({ op: 'fsync', pathIncludes: '.seg.tmp', errno: 'EIO', times: 1 });
      const p = pts(400);
      try {
        writer.append(batchOf(p));
        ackedPoints.push(...p);
      } catch (err) {
        expect((err as EngineError).code).toBe(EngineErrorCode.Io);
        expect((err as EngineError).shardUsable).toBe(true);
        refused++;
      }
      fsys.clear();
      expect(fs.readdirSync(dir).filter((n) => n.endsWith('.tmp'))).toEqual([]);
    }
    expect(refused).toBeGreaterThan(0);
    tally(fsys);
    writer.close();
    expect(readAll(Engine.open({ dataDir }))).toEqual(expected(ackedPoints));
  });

  it('an msync failure under --sync always rejects only the commit it covers; later commits and a reopen see every point', async () => {
    const dataDir = tempDir();
    const fsys = new FaultyFileSystem();
    const writer = ShardWriter.open({ dir: shardDirectory(dataDir, 0), shardId: 0, fs: fsys, syncPolicy: 'always', segmentBytes: 64 * 1024 });
    const all: TestPoint[] = [];
    let rejected = 0;
    for (let b = 0; b < 20; b++) {
      if (b % 4 === 1) fsys.inject({ op: 'msync', errno: 'EIO' });
      const p = pts(100);
      const receipt = writer.append(batchOf(p));
      all.push(...p); // in the mapping either way: a killed process would not lose them
      try {
        await receipt.durable;
      } catch (err) {
        expect((err as EngineError).code).toBe(EngineErrorCode.Io);
        rejected++;
      }
    }
    expect(rejected).toBe(5);
    tally(fsys);
    writer.close();
    expect(readAll(Engine.open({ dataDir }))).toEqual(expected(all));
  });

  it('a failing periodic msync is logged, never fatal, and retried on the next tick', async () => {
    const dataDir = tempDir();
    const fsys = new FaultyFileSystem();
    const events: string[] = [];
    const writer = ShardWriter.open({ dir: shardDirectory(dataDir, 0), shardId: 0, fs: fsys, syncPolicy: 'interval', syncIntervalMs: 10, log: (e) => events.push(e.event) });
    fsys.inject({ op: 'msync', errno: 'EIO', times: 3 });
    const p = pts(200);
    writer.append(batchOf(p));
    await expect.poll(() => fsys.injected.get('msync') ?? 0, { timeout: 2000 }).toBe(3);
    // The fourth tick syncs the same range: nothing is left to sync after it.
    await expect.poll(() => (writer.syncNow(), events.filter((e) => e === 'segment.sync_failed').length), { timeout: 2000 }).toBe(3);
    tally(fsys);
    writer.close();
    expect(readAll(Engine.open({ dataDir }))).toEqual(expected(p));
  });

  it('a delete whose fsync fails is refused with STRATA_IO and hides nothing; retried, it takes effect and survives a reopen', () => {
    const dataDir = tempDir();
    const written = shardWith(dataDir, 2);
    const fsys = new FaultyFileSystem();
    const engine = Engine.open({ dataDir, fs: fsys });
    fsys.inject({ op: 'fsync', pathIncludes: 'tombstones', errno: 'EIO' });
    const err = engineError(() => engine.delete({ metric: 'f' }, 0, 99));
    expect(err.code).toBe(EngineErrorCode.Io);
    expect(readAll(engine)).toEqual(expected(written));
    fsys.inject({ op: 'pwrite', pathIncludes: 'tombstones', errno: 'ENOSPC' });
    expect(engineError(() => engine.delete({ metric: 'f' }, 0, 99)).code).toBe(EngineErrorCode.NoSpace);
    expect(readAll(engine)).toEqual(expected(written));
    engine.delete({ metric: 'f' }, 0, 99);
    tally(fsys);
    const kept = expected(written.filter((p) => p.t > 99));
    expect(readAll(engine)).toEqual(kept);
    expect(readAll(Engine.open({ dataDir }))).toEqual(kept);
  });
});

describe('a full disk at start-up', () => {
  it("a stale LOCK (killed process) is taken over without a new disk block, so a full disk does not stop the shard from opening", () => {
    const dataDir = tempDir();
    const written = shardWith(dataDir, 3);
    const dir = shardDirectory(dataDir, 0);
    fs.writeFileSync(path.join(dir, 'LOCK'), '4194305 0\n'); // a dead owner's lock
    const fsys = new FaultyFileSystem();
    // No new file can get a block: every temporary file fails.
    fsys.inject({ op: 'pwrite', pathIncludes: '.tmp', errno: 'ENOSPC', times: Infinity });
    const writer = ShardWriter.open({ dir, shardId: 0, fs: fsys, syncPolicy: 'never', segmentBytes: 32 * 1024 });
    expect(fs.readFileSync(path.join(dir, 'LOCK'), 'utf8')).toMatch(new RegExp(`^${process.pid} \\d+\\n$`));
    // Appends are refused clearly while the disk stays full (the active segment has room for some first).
    let refusal: EngineError | undefined;
    for (let b = 0; b < 50 && !refusal; b++) {
      try {
        writer.append(batchOf(pts(400, 'g')));
      } catch (err) {
        refusal = err as EngineError;
      }
    }
    expect(refusal?.code).toBe(EngineErrorCode.NoSpace);
    tally(fsys);
    writer.close();
    expect(readAll(Engine.open({ dataDir }))).toEqual(expected(written));
  });

  it('a LOCK marked free at start-up (our own pid from an earlier run) is re-claimed in place too', () => {
    const dir = shardDirectory(tempDir(), 0);
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'LOCK'), `${process.pid} 7\n`);
    expect(ShardWriter.clearStaleLockOfThisProcess(dir)).toBe(true);
    const fsys = new FaultyFileSystem();
    fsys.inject({ op: 'pwrite', pathIncludes: 'LOCK.tmp', errno: 'ENOSPC', times: Infinity });
    ShardWriter.open({ dir, shardId: 0, fs: fsys, syncPolicy: 'never' }).close();
    expect(fsys.injected.get('pwrite') ?? 0).toBe(0);
  });

  it('with no LOCK to reuse (the last writer closed cleanly), a full disk is a clear STRATA_NO_SPACE naming the shard', () => {
    const dir = shardDirectory(tempDir(), 0);
    const fsys = new FaultyFileSystem();
    fsys.inject({ op: 'pwrite', pathIncludes: 'LOCK.tmp', errno: 'ENOSPC', times: Infinity });
    const err = engineError(() => ShardWriter.open({ dir, shardId: 0, fs: fsys, syncPolicy: 'never' }));
    expect(err.code).toBe(EngineErrorCode.NoSpace);
    expect(err.message).toContain(`claiming shard ${dir}: no space left on device`);
    tally(fsys);
    fsys.clear();
    ShardWriter.open({ dir, shardId: 0, fs: fsys, syncPolicy: 'never' }).close();
  });
});
