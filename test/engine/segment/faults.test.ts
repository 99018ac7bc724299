// Disk faults through the fs facade: ENOSPC, short writes, msync and fsync failures. The append
// fails with a typed error, the shard stays consistent, and appends succeed once the fault clears.
import { describe, expect, it } from 'vitest';
import { Engine, EngineError, EngineErrorCode, FaultyFileSystem, ShardWriter, shardDirectory } from '../../../engine/index.js';
import { batchOf, type TestPoint } from '../../helpers/batches.js';
import { tempDir } from '../../helpers/tmp.js';

function pts(from: number, n: number): TestPoint[] {
  return Array.from({ length: n }, (_, i) => ({ metric: 'f', tags: { s: String(i % 5) }, t: from + i, value: from + i }));
}

function count(dataDir: string): number {
  const engine = Engine.open({ dataDir, owner: false });
  return engine.scan(engine.select({ metric: 'f' }), -1e12, 1e12).reduce((n, s) => n + s.length, 0);
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(EngineError);
    return (err as EngineError).code;
  }
  return undefined;
}

describe('disk faults', () => {
  it('ENOSPC while creating a segment fails the append cleanly and recovers when space returns', () => {
    const dataDir = tempDir();
    const fsys = new FaultyFileSystem();
    const writer = ShardWriter.open({ dir: shardDirectory(dataDir, 0), shardId: 0, fs: fsys, syncPolicy: 'never', segmentBytes: 128 * 1024 });
    fsys.inject({ op: 'pwrite', pathIncludes: '.seg.tmp', errno: 'ENOSPC', shortWriteBytes: 100, times: Infinity });
    expect(codeOf(() => writer.append(batchOf(pts(0, 100))))).toBe(EngineErrorCode.NoSpace);
    expect(codeOf(() => writer.append(batchOf(pts(0, 100))))).toBe(EngineErrorCode.NoSpace);
    expect(count(dataDir)).toBe(0);
    fsys.clear();
    // The failed appends wrote nothing, so their series are still new to the shard.
    expect(writer.seriesCount).toBe(0);
    expect(writer.append(batchOf(pts(0, 100))).newSeries).toHaveLength(5);
    expect(writer.seriesCount).toBe(5);
    expect(count(dataDir)).toBe(100);
    writer.close();
  });

  it('ENOSPC when rolling to a new segment keeps everything already acknowledged', () => {
    const dataDir = tempDir();
    const fsys = new FaultyFileSystem();
    const writer = ShardWriter.open({ dir: shardDirectory(dataDir, 0), shardId: 0, fs: fsys, syncPolicy: 'never', segmentBytes: 16 * 1024 });
    let acked = 0;
    let failures = 0;
    for (let b = 0; b < 60; b++) {
      if (b === 20) fsys.inject({ op: 'pwrite', pathIncludes: '.seg.tmp', errno: 'ENOSPC', times: Infinity });
      if (b === 40) fsys.clear();
      try {
        acked += writer.append(batchOf(pts(b * 1000, 300))).points;
      } catch (err) {
        expect((err as EngineError).code).toBe(EngineErrorCode.NoSpace);
        expect((err as EngineError).shardUsable).toBe(true);
        failures++;
      }
    }
    expect(failures).toBeGreaterThan(0);
    expect(count(dataDir)).toBe(acked);
    writer.close();
    // And after a restart, too.
    ShardWriter.open({ dir: shardDirectory(dataDir, 0), shardId: 0, syncPolicy: 'never' }).close();
    expect(count(dataDir)).toBe(acked);
  });

  it('an msync failure rejects the durable promise with an I/O error; the next commit retries', async () => {
    const dataDir = tempDir();
    const fsys = new FaultyFileSystem();
    const writer = ShardWriter.open({ dir: shardDirectory(dataDir, 0), shardId: 0, fs: fsys, syncPolicy: 'always' });
    await writer.append(batchOf(pts(0, 10))).durable;
    fsys.inject({ op: 'msync', errno: 'EIO' });
    const failed = writer.append(batchOf(pts(10, 10)));
    await expect(failed.durable).rejects.toMatchObject({ code: EngineErrorCode.Io });
    await writer.append(batchOf(pts(20, 10))).durable;
    expect(fsys.injected.get('msync')).toBe(1);
    writer.close();
    expect(count(dataDir)).toBe(30);
  });

  it('an fsync failure while sealing leaves a whole segment that the next open seals', () => {
    const dataDir = tempDir();
    const fsys = new FaultyFileSystem();
    const events: string[] = [];
    const writer = ShardWriter.open({ dir: shardDirectory(dataDir, 0), shardId: 0, fs: fsys, syncPolicy: 'never', segmentBytes: 64 * 1024, log: (e) => events.push(e.event) });
    writer.append(batchOf(pts(0, 500)));
    fsys.inject({ op: 'fsync', pathIncludes: '0000000000000001.seg' });
    writer.roll();
    expect(events).toContain('segment.seal_failed');
    writer.append(batchOf(pts(1000, 500)));
    writer.close();
    const reopened = ShardWriter.open({ dir: shardDirectory(dataDir, 0), shardId: 0, syncPolicy: 'never' });
    expect(reopened.sealedSegmentSequences()).toEqual([1]);
    reopened.close();
    expect(count(dataDir)).toBe(1000);
  });
});
