// Crash and corruption recovery: torn tails at every byte offset, flipped bytes, zeroed pages,
// broken headers. Every complete block before the damage reads back; nothing is invented.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Engine, ShardWriter, shardDirectory, type EngineEvent } from '../../../engine/index.js';
import { batchOf, pointsOf, seededRandom, type TestPoint } from '../../helpers/batches.js';
import { tempDir } from '../../helpers/tmp.js';

const SEGMENT = '0000000000000001.seg';

function batchPoints(b: number): TestPoint[] {
  const pts: TestPoint[] = [];
  for (let i = 0; i < 40; i++) pts.push({ metric: 'r', tags: { s: String(i % 4) }, t: b * 1000 + i, value: b * 1000 + i + 0.25 });
  return pts;
}

/** Writes `batches` appends to a fresh shard; returns the data dir and each block's [start, end). */
function writeShard(batches: number): { dataDir: string; blocks: [number, number][] } {
  const dataDir = tempDir();
  const writer = ShardWriter.open({ dir: shardDirectory(dataDir, 0), shardId: 0, syncPolicy: 'never', segmentBytes: 256 * 1024 });
  for (let b = 0; b < batches; b++) writer.append(batchOf(batchPoints(b)));
  writer.close();
  const bytes = fs.readFileSync(path.join(shardDirectory(dataDir, 0), SEGMENT));
  const blocks: [number, number][] = [];
  let at = 64;
  while (bytes.readUInt32LE(at) === 0x4b425453) {
    const len = bytes.readUInt32LE(at + 8);
    blocks.push([at, at + len]);
    at += len;
  }
  expect(blocks.length).toBe(batches);
  return { dataDir, blocks };
}

function copyDir(from: string): string {
  const to = tempDir();
  fs.cpSync(from, to, { recursive: true });
  return to;
}

/** Opens the shard (recovery), then reads every point back as a sorted list of [t, value]. */
function recoverAndRead(dataDir: string): { points: [number, unknown][]; events: EngineEvent[] } {
  const events: EngineEvent[] = [];
  const writer = ShardWriter.open({ dir: shardDirectory(dataDir, 0), shardId: 0, syncPolicy: 'never', log: (e) => events.push(e) });
  writer.close();
  const engine = Engine.open({ dataDir, owner: false });
  const points = engine
    .scan(engine.select({ metric: 'r' }), -1e12, 1e12)
    .flatMap((s) => pointsOf(s))
    .sort((a, b) => a[0] - b[0]);
  return { points, events };
}

function expectedUpTo(batches: number): [number, unknown][] {
  const out: [number, unknown][] = [];
  for (let b = 0; b < batches; b++) for (const p of batchPoints(b)) out.push([p.t, p.value]);
  return out.sort((a, b) => a[0] - b[0]);
}

describe('recovery', () => {
  it('drops a torn last block at every byte offset and keeps everything before it', () => {
    const { dataDir, blocks } = writeShard(3);
    const [lastStart, lastEnd] = blocks[2]!;
    const original = fs.readFileSync(path.join(shardDirectory(dataDir, 0), SEGMENT));
    for (let cut = lastStart; cut < lastEnd; cut++) {
      const copy = copyDir(dataDir);
      const file = path.join(shardDirectory(copy, 0), SEGMENT);
      // A kill mid-append leaves the rest of the preallocated block zero.
      const torn = Buffer.from(original);
      torn.fill(0, cut, lastEnd);
      fs.writeFileSync(file, torn);
      const { points } = recoverAndRead(copy);
      // Zeroing only the block's zero padding leaves it whole: then it must survive.
      expect(points).toEqual(expectedUpTo(torn.equals(original) ? 3 : 2));
      // The repaired shard accepts appends right after the surviving blocks.
      const writer = ShardWriter.open({ dir: shardDirectory(copy, 0), shardId: 0, syncPolicy: 'never' });
      writer.append(batchOf(batchPoints(torn.equals(original) ? 3 : 2)));
      writer.close();
      expect(recoverAndRead(copy).points).toEqual(expectedUpTo(torn.equals(original) ? 4 : 3));
      fs.rmSync(copy, { recursive: true });
    }
  });

  it('recovers a segment file cut short at every offset of its last block', () => {
    const { dataDir, blocks } = writeShard(2);
    const [lastStart, lastEnd] = blocks[1]!;
    for (let cut = lastStart; cut <= lastEnd; cut += 7) {
      const copy = copyDir(dataDir);
      fs.truncateSync(path.join(shardDirectory(copy, 0), SEGMENT), cut);
      expect(recoverAndRead(copy).points).toEqual(expectedUpTo(cut === lastEnd ? 2 : 1));
      fs.rmSync(copy, { recursive: true });
    }
  });

  it('keeps the blocks before flipped bytes, quarantines a copy, invents nothing', () => {
    const { dataDir, blocks } = writeShard(4);
    const original = fs.readFileSync(path.join(shardDirectory(dataDir, 0), SEGMENT));
    const rnd = seededRandom(7);
    for (let trial = 0; trial < 40; trial++) {
      const copy = copyDir(dataDir);
      const damaged = Buffer.from(original);
      const at = 64 + Math.floor(rnd() * (blocks[3]![1] - 64));
      damaged[at] = damaged[at]! ^ (1 + Math.floor(rnd() * 255));
      fs.writeFileSync(path.join(shardDirectory(copy, 0), SEGMENT), damaged);
      const intact = blocks.findIndex(([s, e]) => at >= s && at < e);
      const { points, events } = recoverAndRead(copy);
      expect(points).toEqual(expectedUpTo(intact));
      if (intact < 3) {
        expect(events.some((e) => e.event === 'segment.quarantined')).toBe(true);
        expect(fs.readdirSync(path.join(shardDirectory(copy, 0), 'quarantine')).length).toBe(1);
      }
      fs.rmSync(copy, { recursive: true });
    }
  });

  it('survives a zeroed page in the middle of the data', () => {
    const { dataDir, blocks } = writeShard(60);
    const file = path.join(shardDirectory(dataDir, 0), SEGMENT);
    const damaged = fs.readFileSync(file);
    const pageStart = 4096;
    damaged.fill(0, pageStart, pageStart + 4096);
    fs.writeFileSync(file, damaged);
    const intact = blocks.findIndex(([s, e]) => e > pageStart && s < pageStart + 4096);
    const { points, events } = recoverAndRead(dataDir);
    expect(points).toEqual(expectedUpTo(intact));
    expect(events.find((e) => e.event === 'segment.quarantined')).toMatchObject({ file, offset: blocks[intact]![0] });
  });

  it('moves a segment with a broken header into quarantine and carries on', () => {
    const { dataDir } = writeShard(2);
    const file = path.join(shardDirectory(dataDir, 0), SEGMENT);
    const damaged = fs.readFileSync(file);
    damaged[20] = damaged[20]! ^ 0xff;
    fs.writeFileSync(file, damaged);
    const { points, events } = recoverAndRead(dataDir);
    expect(points).toEqual([]);
    expect(fs.existsSync(file)).toBe(false);
    expect(events.find((e) => e.event === 'segment.quarantined')).toMatchObject({ file, how: 'move' });
    const writer = ShardWriter.open({ dir: shardDirectory(dataDir, 0), shardId: 0, syncPolicy: 'never' });
    writer.append(batchOf(batchPoints(0)));
    writer.close();
    expect(recoverAndRead(dataDir).points).toEqual(expectedUpTo(1));
  });

  it('hides a multi-block batch whose last block never landed', () => {
    const dataDir = tempDir();
    const writer = ShardWriter.open({ dir: shardDirectory(dataDir, 0), shardId: 0, syncPolicy: 'never' });
    writer.append(batchOf(batchPoints(0)));
    const big: TestPoint[] = [];
    for (let i = 0; i < 70_000; i++) big.push({ metric: 'r', tags: { s: 'big' }, t: 10_000 + i, value: i });
    expect(writer.append(batchOf(big)).blocks).toBe(2);
    writer.close();
    const file = path.join(shardDirectory(dataDir, 0), SEGMENT);
    const bytes = fs.readFileSync(file);
    const first = 64 + bytes.readUInt32LE(64 + 8);
    const second = first + bytes.readUInt32LE(first + 8);
    const third = second + bytes.readUInt32LE(second + 8);
    bytes.fill(0, third - 10, third);
    fs.writeFileSync(file, bytes);
    expect(recoverAndRead(dataDir).points).toEqual(expectedUpTo(1));
  });
});
