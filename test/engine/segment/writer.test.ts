import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Engine, EngineError, EngineErrorCode, ShardWriter, ValueKind, shardDirectory } from '../../../engine/index.js';
import { batchOf, pointsOf, type TestPoint } from '../../helpers/batches.js';
import { tempDir } from '../../helpers/tmp.js';

function readAll(dataDir: string, metric: string, start = -(2 ** 49), end = 2 ** 49) {
  const engine = Engine.open({ dataDir, owner: false });
  const ids = engine.select({ metric });
  return engine.scan(ids, start, end);
}

describe('ShardWriter', () => {
  it('appends every value kind and reads them back exactly', () => {
    const dataDir = tempDir();
    const writer = ShardWriter.open({ dir: shardDirectory(dataDir, 0), shardId: 0, syncPolicy: 'never', segmentBytes: 1 << 20 });
    const points: TestPoint[] = [
      { metric: 'm', tags: { host: 'a' }, t: 0, value: 1.5 },
      { metric: 'm', tags: { host: 'a' }, t: -1000, value: 9007199254740993n },
      { metric: 'm', tags: { host: 'a' }, t: 5, value: -(2n ** 63n) },
      { metric: 'm', tags: { host: 'a' }, t: 6, value: 2n ** 63n - 1n },
      { metric: 'm', tags: { host: 'a' }, t: 7, value: 'on' },
      { metric: 'm', tags: { host: 'a' }, t: 8, value: { json: '{"a":[1,2,{"b":null}]}' } },
      { metric: 'm', tags: { host: 'a' }, t: 9, value: 1 },
      { metric: 'm', tags: { host: 'a' }, t: 10, value: -0 },
    ];
    const receipt = writer.append(batchOf(points));
    expect(receipt.points).toBe(points.length);
    expect(receipt.newSeries).toEqual([{ metric: 'm', tags: { host: 'a' } }]);
    expect(receipt.durable).toBeUndefined();
    const [series] = readAll(dataDir, 'm');
    expect(pointsOf(series!)).toEqual([...points].sort((a, b) => a.t - b.t).map((p) => [p.t, p.value]));
    expect(Object.is(series!.floats[series!.length - 1], -0)).toBe(true);
    writer.close();
  });

  it('keeps the last write per (series, timestamp) within a batch, across batches and across segments', () => {
    const dataDir = tempDir();
    const writer = ShardWriter.open({ dir: shardDirectory(dataDir, 0), shardId: 0, syncPolicy: 'never', segmentBytes: 64 * 1024 });
    writer.append(batchOf([
      { metric: 'd', t: 100, value: 1 },
      { metric: 'd', t: 100, value: 2 },
      { metric: 'd', t: 200, value: 'x' },
    ]));
    writer.roll();
    writer.append(batchOf([{ metric: 'd', t: 200, value: 7n }]));
    const [series] = readAll(dataDir, 'd');
    expect(pointsOf(series!)).toEqual([[100, 2], [200, 7n]]);
    writer.close();
  });

  it('rolls full segments, seals them, and reopens with every point and series intact', () => {
    const dataDir = tempDir();
    const dir = shardDirectory(dataDir, 0);
    let writer = ShardWriter.open({ dir, shardId: 0, syncPolicy: 'never', segmentBytes: 64 * 1024 });
    const expected: [number, number][] = [];
    for (let b = 0; b < 40; b++) {
      const pts: TestPoint[] = [];
      for (let i = 0; i < 500; i++) {
        const t = b * 500 + i;
        pts.push({ metric: 'roll', tags: { s: String(i % 10) }, t, value: Math.sin(t) });
        if (i % 10 === 3) expected.push([t, Math.sin(t)]);
      }
      writer.append(batchOf(pts));
    }
    expect(writer.sealedSegmentSequences().length).toBeGreaterThan(1);
    writer.close();
    writer = ShardWriter.open({ dir, shardId: 0, syncPolicy: 'never', segmentBytes: 64 * 1024 });
    expect(writer.seriesCount).toBe(10);
    const again = writer.append(batchOf([{ metric: 'roll', tags: { s: '3' }, t: 1e9, value: 1 }]));
    expect(again.newSeries).toEqual([]);
    writer.close();
    const engine = Engine.open({ dataDir, owner: false });
    const [series] = engine.scan(engine.select({ metric: 'roll', tags: { s: ['3'] } }), 0, 20_000);
    expect(pointsOf(series!)).toEqual(expected);
    expect(engine.catalog.size).toBe(10);
  });

  it('splits a batch larger than one block and shows it whole', () => {
    const dataDir = tempDir();
    const writer = ShardWriter.open({ dir: shardDirectory(dataDir, 0), shardId: 0, syncPolicy: 'never' });
    const pts: TestPoint[] = [];
    for (let i = 0; i < 150_000; i++) pts.push({ metric: 'big', tags: { s: String(i % 3) }, t: i, value: i });
    const receipt = writer.append(batchOf(pts));
    expect(receipt.blocks).toBe(3);
    const series = readAll(dataDir, 'big');
    expect(series.map((s) => s.length)).toEqual([50_000, 50_000, 50_000]);
    writer.close();
  });

  it('rejects invalid batches with a typed error and writes nothing', () => {
    const dataDir = tempDir();
    const writer = ShardWriter.open({ dir: shardDirectory(dataDir, 0), shardId: 0, syncPolicy: 'never' });
    const bad = batchOf([{ metric: 'x', t: 1.5, value: 1 }]);
    expect(() => writer.append(bad)).toThrow(EngineError);
    try {
      writer.append(bad);
    } catch (err) {
      expect((err as EngineError).code).toBe(EngineErrorCode.InvalidBatch);
      expect((err as EngineError).shardUsable).toBe(true);
    }
    const kinds = batchOf([{ metric: 'x', t: 1, value: 1 }]);
    (kinds.kinds as Uint8Array)[0] = 9;
    expect(() => writer.append(kinds)).toThrow(/unknown value kind/);
    expect(readAll(dataDir, 'x')).toEqual([]);
    writer.close();
  });

  it('a batch that fails while encoding takes back the refs and new series it claimed', () => {
    const dataDir = tempDir();
    const writer = ShardWriter.open({ dir: shardDirectory(dataDir, 0), shardId: 0, syncPolicy: 'never' });
    // The second series key has no UTF-8 form, so encoding throws after the first got its ref.
    const mixed = batchOf([
      { metric: 'y', tags: { host: 'a' }, t: 1, value: 1 },
      { metric: 'y', tags: { host: '\ud800' }, t: 1, value: 2 },
    ]);
    expect(() => writer.append(mixed)).toThrow(/lone surrogate/);
    expect(writer.seriesCount).toBe(0);
    const receipt = writer.append(batchOf([{ metric: 'y', tags: { host: 'a' }, t: 2, value: 3 }]));
    expect(receipt.newSeries).toEqual([{ metric: 'y', tags: { host: 'a' } }]);
    expect(readAll(dataDir, 'y').map((x) => pointsOf(x))).toEqual([[[2, 3]]]);
    writer.close();
  });

  it('makes appends durable under the always policy with one msync per turn (group commit)', async () => {
    const dataDir = tempDir();
    const writer = ShardWriter.open({ dir: shardDirectory(dataDir, 0), shardId: 0, syncPolicy: 'always' });
    const receipts = [0, 1, 2].map((i) => writer.append(batchOf([{ metric: 'g', t: i, value: i }])));
    expect(receipts.every((r) => r.durable !== undefined)).toBe(true);
    expect(receipts[0]!.durable).toBe(receipts[2]!.durable);
    await Promise.all(receipts.map((r) => r.durable));
    const perCall = writer.append(batchOf([{ metric: 'g', t: 9, value: 9 }]), { sync: true });
    await perCall.durable;
    writer.close();
    expect(readAll(dataDir, 'g')[0]!.length).toBe(4);
  });

  it('stores ValueKind bytes as documented', () => {
    expect(ValueKind).toEqual({ Float64: 0, Int64: 1, String: 2, Json: 3 });
  });

  it('preallocates segments to their full size with a valid header', () => {
    const dataDir = tempDir();
    const dir = shardDirectory(dataDir, 0);
    const writer = ShardWriter.open({ dir, shardId: 0, syncPolicy: 'never', segmentBytes: 256 * 1024 });
    writer.append(batchOf([{ metric: 'p', t: 1, value: 1 }]));
    const files = fs.readdirSync(dir).filter((f) => f.endsWith('.seg'));
    expect(files).toEqual(['0000000000000001.seg']);
    const st = fs.statSync(path.join(dir, files[0]!));
    expect(st.size).toBe(256 * 1024);
    expect(st.blocks * 512).toBeGreaterThanOrEqual(256 * 1024);
    writer.close();
  });

  it('prepares the active segment ahead of the first append; the next open reuses the empty segment', () => {
    const dataDir = tempDir();
    const dir = shardDirectory(dataDir, 0);
    const segments = (): string[] => fs.readdirSync(dir).filter((f) => f.endsWith('.seg'));
    let writer = ShardWriter.open({ dir, shardId: 0, syncPolicy: 'never', segmentBytes: 256 * 1024 });
    expect(segments()).toEqual([]);
    writer.prepareActiveSegment();
    writer.prepareActiveSegment(); // idempotent
    expect(segments()).toEqual(['0000000000000001.seg']);
    writer.close();
    writer = ShardWriter.open({ dir, shardId: 0, syncPolicy: 'never', segmentBytes: 256 * 1024 });
    writer.prepareActiveSegment();
    writer.append(batchOf([{ metric: 'p', t: 1, value: 1 }]));
    expect(segments()).toEqual(['0000000000000001.seg']);
    writer.close();
    expect(() => writer.prepareActiveSegment()).toThrow(EngineError);
    const [series] = readAll(dataDir, 'p');
    expect(pointsOf(series!)).toEqual([[1, 1]]);
  });

  it('refuses a second writer on a claimed shard and takes over a dead owner\'s lock', () => {
    const dataDir = tempDir();
    const dir = shardDirectory(dataDir, 0);
    const first = ShardWriter.open({ dir, shardId: 0, syncPolicy: 'never' });
    expect(() => ShardWriter.open({ dir, shardId: 0, syncPolicy: 'never' })).toThrow(expect.objectContaining({ code: EngineErrorCode.ShardBusy }));
    first.close();
    // A lock left by a process that no longer exists (pid far above pid_max) is stale.
    fs.writeFileSync(path.join(dir, 'LOCK'), '4194305 0\n');
    ShardWriter.open({ dir, shardId: 0, syncPolicy: 'never' }).close();
    expect(fs.existsSync(path.join(dir, 'LOCK'))).toBe(false);
  });

  it('clears, at start-up, a lock an earlier process with our pid left behind', () => {
    const dir = shardDirectory(tempDir(), 0);
    fs.mkdirSync(dir, { recursive: true });
    expect(ShardWriter.clearStaleLockOfThisProcess(dir)).toBe(false); // no lock at all
    fs.writeFileSync(path.join(dir, 'LOCK'), `${process.pid} 7\n`);
    expect(() => ShardWriter.open({ dir, shardId: 0, syncPolicy: 'never' })).toThrow(expect.objectContaining({ code: EngineErrorCode.ShardBusy }));
    fs.writeFileSync(path.join(dir, 'LOCK'), '4194305 0\n');
    expect(ShardWriter.clearStaleLockOfThisProcess(dir)).toBe(false); // another pid's lock is not ours to clear
    fs.writeFileSync(path.join(dir, 'LOCK'), `${process.pid} 7\n`);
    expect(ShardWriter.clearStaleLockOfThisProcess(dir)).toBe(true);
    ShardWriter.open({ dir, shardId: 0, syncPolicy: 'never' }).close();
  });
});
