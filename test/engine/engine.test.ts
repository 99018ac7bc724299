// Engine-level reads: deletes (durable across restart), TTL, retention, catalog rebuild, and a
// reader that follows writers as they append and seal.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Catalog, Engine, NodeFileSystem, ShardWriter, shardDirectory } from '../../engine/index.js';
import { parseSegmentFileName } from '../../engine/segment/format.js';
import { fileSource, openSegment } from '../../engine/segment/segment-file.js';
import { batchOf, pointsOf, seededRandom, type TestPoint } from '../helpers/batches.js';
import { catalogAnswers } from '../helpers/catalog.js';
import { tempDir } from '../helpers/tmp.js';

function write(dataDir: string, points: TestPoint[], nowMs?: () => number, shardId = 0): void {
  const writer = ShardWriter.open({ dir: shardDirectory(dataDir, shardId), shardId, syncPolicy: 'never', ...(nowMs ? { nowMs } : {}) });
  writer.append(batchOf(points));
  writer.close();
}

function read(engine: Engine, metric: string, tags?: Record<string, string[]>) {
  return engine.scan(engine.select(tags ? { metric, tags } : { metric }), -1e15, 1e15).map((s) => ({ tags: s.key.tags, points: pointsOf(s) }));
}

describe('Engine', () => {
  it('deletes a range of selected series, durably, and keeps later writes into that range', () => {
    const dataDir = tempDir();
    let now = 1_000;
    const clock = () => now;
    write(dataDir, [
      { metric: 'm', tags: { h: 'a' }, t: 1, value: 1 },
      { metric: 'm', tags: { h: 'a' }, t: 2, value: 2 },
      { metric: 'm', tags: { h: 'a' }, t: 3, value: 3 },
      { metric: 'm', tags: { h: 'b' }, t: 2, value: 20 },
    ], clock);
    now = 2_000;
    const engine = Engine.open({ dataDir, nowMs: clock });
    engine.delete({ metric: 'm', tags: { h: ['a'] } }, 2, 3);
    expect(read(engine, 'm')).toEqual([
      { tags: { h: 'a' }, points: [[1, 1]] },
      { tags: { h: 'b' }, points: [[2, 20]] },
    ]);
    now = 3_000;
    write(dataDir, [{ metric: 'm', tags: { h: 'a' }, t: 3, value: 33 }], clock);
    const reopened = Engine.open({ dataDir, nowMs: clock });
    expect(read(reopened, 'm', { h: ['a'] })).toEqual([{ tags: { h: 'a' }, points: [[1, 1], [3, 33]] }]);
    reopened.delete({ metric: 'm' }, -1e15, 1e15);
    expect(read(Engine.open({ dataDir, nowMs: clock }), 'm')).toEqual([]);
  });

  it('cuts a torn tombstone record and keeps the whole ones', async () => {
    const fs = await import('node:fs');
    const path = await import('node:path');
    const dataDir = tempDir();
    write(dataDir, [{ metric: 'm', t: 1, value: 1 }, { metric: 'm', t: 5, value: 5 }], () => 0);
    const engine = Engine.open({ dataDir, nowMs: () => 10 });
    engine.delete({ metric: 'm' }, 0, 1);
    const log = path.join(dataDir, 'tombstones.log');
    fs.appendFileSync(log, Buffer.from([0x53, 0x54, 0x54, 0x42, 99, 0, 0]));
    const again = Engine.open({ dataDir, nowMs: () => 10 });
    expect(again.tombstones.length).toBe(1);
    expect(read(again, 'm')).toEqual([{ tags: {}, points: [[5, 5]] }]);
    again.delete({ metric: 'm' }, 5, 5);
    expect(read(Engine.open({ dataDir, nowMs: () => 10 }), 'm')).toEqual([]);
  });

  it('hides points whose TTL has passed, counted from when they were written', () => {
    const dataDir = tempDir();
    let now = 100_000;
    write(dataDir, [
      { metric: 'ttl', tags: { k: 'short' }, t: 1, value: 1, ttlSeconds: 10 },
      { metric: 'ttl', tags: { k: 'forever' }, t: 1, value: 2 },
    ], () => now);
    const engine = Engine.open({ dataDir, nowMs: () => now });
    expect(read(engine, 'ttl').length).toBe(2);
    now += 9_999;
    expect(read(engine, 'ttl').length).toBe(2);
    now += 1;
    expect(read(engine, 'ttl')).toEqual([{ tags: { k: 'forever' }, points: [[1, 2]] }]);
  });

  it('applies the retention period to reads', () => {
    const dataDir = tempDir();
    const now = 1_000_000;
    write(dataDir, [
      { metric: 'ret', t: now - 5_000, value: 1 },
      { metric: 'ret', t: now - 500, value: 2 },
    ]);
    const engine = Engine.open({ dataDir, nowMs: () => now, retentionMs: 1_000 });
    expect(read(engine, 'ret')).toEqual([{ tags: {}, points: [[now - 500, 2]] }]);
  });

  it('rebuilds the catalog from every shard at open', () => {
    const dataDir = tempDir();
    for (let shard = 0; shard < 3; shard++) {
      const pts: TestPoint[] = [];
      for (let i = 0; i < 100; i++) pts.push({ metric: `m${i % 4}`, tags: { host: `h${i}`, shard: String(shard % 2) }, t: i, value: i });
      write(dataDir, pts, undefined, shard);
    }
    const engine = Engine.open({ dataDir });
    expect(engine.catalog.size).toBe(200);
    expect(engine.catalog.metricNames()).toEqual(['m0', 'm1', 'm2', 'm3']);
    expect(engine.catalog.tagValues('shard')).toEqual(['0', '1']);
    // Shards 0 and 2 wrote the same series: their points merge.
    const [s] = engine.scan(engine.select({ metric: 'm0', tags: { host: ['h0'], shard: ['0'] } }), 0, 1000);
    expect(s!.length).toBe(1);
  });

  it('keeps every tombstone when several engines delete in turn under one lock', () => {
    const dataDir = tempDir();
    let held = false;
    const exclusive = <T,>(fn: () => T): T => {
      expect(held).toBe(false);
      held = true;
      try {
        return fn();
      } finally {
        held = false;
      }
    };
    const a = Engine.open({ dataDir, exclusive });
    const b = Engine.open({ dataDir, exclusive, owner: false });
    for (let i = 0; i < 20; i++) (i % 2 === 0 ? a : b).delete({ metric: `m${i}` }, 0, i);
    const reopened = Engine.open({ dataDir });
    expect(reopened.tombstones.map((t) => t.selector.metric)).toEqual(Array.from({ length: 20 }, (_, i) => `m${i}`));
  });

  it('follows a writer that keeps appending and sealing, seeing only whole batches', () => {
    const dataDir = tempDir();
    const writer = ShardWriter.open({ dir: shardDirectory(dataDir, 0), shardId: 0, syncPolicy: 'never', segmentBytes: 16 * 1024 });
    const engine = Engine.open({ dataDir });
    const random = seededRandom(7); // incompressible values, so the small segments fill and seal
    let total = 0;
    for (let b = 0; b < 50; b++) {
      const pts: TestPoint[] = [];
      for (let i = 0; i < 200; i++) pts.push({ metric: 'live', tags: { s: String(i % 7) }, t: b * 200 + i, value: random() });
      writer.append(batchOf(pts));
      total += 200;
      const seen = engine.scan(engine.select({ metric: 'live' }), 0, 1e9).reduce((n, s) => n + s.length, 0);
      expect(seen).toBe(total);
    }
    expect(writer.sealedSegmentSequences().length).toBeGreaterThan(2);
    writer.close();
  });

  it('rebuilds at open exactly the catalog a naive rebuild from decoded keys gives', () => {
    const dataDir = tempDir();
    const random = seededRandom(11);
    const values = ['', 'a', 'é', '😀', '！', '\uFEFFx', '__proto__', 'x'.repeat(40), 'host=1,{2}'];
    const pick = <T,>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
    // Shard 0: small segments, so several are sealed (footers) and the last is walked; shard 1:
    // one active segment; shard 2: the series of shard 0 again, plus some of its own.
    const writers = [0, 1, 2].map((shardId) =>
      ShardWriter.open({ dir: shardDirectory(dataDir, shardId), shardId, syncPolicy: 'never', ...(shardId === 0 ? { segmentBytes: 8 * 1024 } : {}) }),
    );
    let t = 0;
    for (let round = 0; round < 60; round++) {
      const pts: TestPoint[] = [];
      for (let host = 0; host < 10; host++) {
        const tags: Record<string, string> = { host: `h${round}-${host}`, dc: pick(values) };
        if (random() < 0.5) tags[pick(values)] = pick(values);
        for (const metric of ['cpu.user', 'cpu.idle', pick(values)]) pts.push({ metric, tags, t: t++, value: random() });
      }
      writers[0]!.append(batchOf(pts));
      writers[round % 3 === 0 ? 2 : 1]!.append(batchOf(pts.slice(0, 7)));
    }
    writers[2]!.append(batchOf([{ metric: 'only.two', tags: {}, t: 0, value: 1 }]));
    expect(writers[0]!.sealedSegmentSequences().length).toBeGreaterThan(2);

    // Resolves the keys of every segment, in the engine's order (shard, sequence, ref), into
    // `catalog`: from empty, the catalog a rebuild must give; again, the one a refresh must give.
    const naive = (catalog = new Catalog()): Catalog => {
      const fsys = new NodeFileSystem();
      for (const shardId of [0, 1, 2]) {
        const dir = shardDirectory(dataDir, shardId);
        const sequences = fs.readdirSync(dir).map(parseSegmentFileName).filter((q): q is number => q !== undefined).sort((a, b) => a - b);
        for (const seq of sequences) {
          const filePath = path.join(dir, fs.readdirSync(dir).find((f) => parseSegmentFileName(f) === seq)!);
          const fd = fsys.open(filePath, 'r');
          const opened = openSegment(filePath, fileSource(fsys, fd, fsys.sizeOf(fd)));
          fsys.close(fd);
          if (!opened.ok) continue;
          for (const key of opened.index.seriesKeys) catalog.resolve(key);
        }
      }
      return catalog;
    };

    const engine = Engine.open({ dataDir });
    expect(engine.catalog.size).toBeGreaterThan(500);
    const reference = naive();
    expect(catalogAnswers(engine.catalog)).toEqual(catalogAnswers(reference));
    const before = engine.scan(engine.select({ metric: 'cpu.idle', tags: { dc: ['é'] } }), -1e15, 1e15);
    expect(before.length).toBeGreaterThan(0);
    for (const s of before) expect(s.key.tags.dc).toBe('é');

    // More series into the walked segments, and a seal: the engine follows, ids unchanged.
    for (let i = 0; i < 40; i++) writers[0]!.append(batchOf([{ metric: 'late', tags: { i: String(i), dc: pick(values) }, t: i, value: i }]));
    writers[1]!.append(batchOf([{ metric: 'late', tags: { shard: '1' }, t: 0, value: 0 }]));
    writers[1]!.roll();
    engine.refresh();
    expect(catalogAnswers(engine.catalog)).toEqual(catalogAnswers(naive(reference)));
    expect(engine.scan(engine.select({ metric: 'cpu.idle', tags: { dc: ['é'] } }), -1e15, 1e15)).toEqual(before);
    for (const w of writers) w.close();
    expect(catalogAnswers(Engine.open({ dataDir }).catalog)).toEqual(catalogAnswers(naive()));
  });
});
