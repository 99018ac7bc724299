// SegmentIndex read with `encodedKeys` (how Engine reads segments): the same dictionary, blocks
// and footer bytes as a full decode, keys released and rebuilt on demand, and a block walk that
// stops where the full walk stops.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ByteReader } from '../../../engine/codec/bytes.js';
import { decodeSeriesKey } from '../../../engine/catalog/series-key.js';
import { ShardWriter, shardDirectory } from '../../../engine/index.js';
import { SegmentIndex, bufferSource, encodeFooterAndTrailer, walkBlocks } from '../../../engine/segment/segment-index.js';
import { openSegment } from '../../../engine/segment/segment-file.js';
import type { SeriesKey } from '../../../engine/types.js';
import { batchOf, type TestPoint } from '../../helpers/batches.js';
import { tempDir } from '../../helpers/tmp.js';

const FIXTURE = fileURLToPath(new URL('../../fixtures/format-v1/', import.meta.url));

function segmentsUnder(dir: string): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.seg'))
    .map((e) => path.join(e.parentPath, e.name))
    .sort();
}

/** The keys an encoded index holds, decoded from its runs (the index itself is not changed). */
function heldKeys(index: SegmentIndex): SeriesKey[] {
  const out: SeriesKey[] = [];
  for (const run of index.encodedSeriesRuns(0) ?? []) {
    const r = new ByteReader(run.bytes);
    for (let i = 0; i < run.count; i++) out.push(decodeSeriesKey(r));
    expect(r.remaining).toBe(0);
  }
  return out;
}

/** A shard with one sealed segment and an active one, both with several blocks. */
function writeShard(): string {
  const dataDir = tempDir();
  const writer = ShardWriter.open({ dir: shardDirectory(dataDir, 0), shardId: 0, syncPolicy: 'never' });
  for (let b = 0; b < 6; b++) {
    const pts: TestPoint[] = [];
    for (let i = 0; i < 30; i++) pts.push({ metric: `m${i % 3}`, tags: { host: `h${b}-${i % 7}`, é: '😀' }, t: b * 100 + i, value: i });
    writer.append(batchOf(pts));
    if (b === 2) writer.roll();
  }
  writer.close();
  return shardDirectory(dataDir, 0);
}

describe('SegmentIndex with encoded keys', () => {
  const files = [...segmentsUnder(FIXTURE), ...segmentsUnder(writeShard())];

  for (const file of files) {
    it(`reads ${path.relative(FIXTURE, file)} as the full decode does`, () => {
      const bytes = new Uint8Array(fs.readFileSync(file));
      const full = openSegment(file, bufferSource(bytes));
      const encoded = openSegment(file, bufferSource(bytes), { encodedKeys: true });
      if (!full.ok || !encoded.ok) throw new Error('segment did not open');
      expect(encoded.stop).toEqual(full.stop);
      const a = full.index;
      const b = encoded.index;
      expect(b.seriesCount).toBe(a.seriesKeys.length);
      expect(b.blocks).toEqual(a.blocks);
      expect([b.sealed, b.endOffset, b.compaction, b.pointCount]).toEqual([a.sealed, a.endOffset, a.compaction, a.pointCount]);
      expect(heldKeys(b)).toEqual(a.seriesKeys);
      if (a.sealed) {
        expect(encodeFooterAndTrailer(b, b.endOffset)).toEqual(encodeFooterAndTrailer(a, a.endOffset));
      }

      // Released keys come back through keyOf, for footers and for `seriesKeys`.
      const keyOf = (ref: number): SeriesKey => a.seriesKeys[ref]!;
      b.releaseSeriesKeys(keyOf);
      expect(b.encodedSeriesRuns(b.seriesCount)).toEqual([]);
      if (a.sealed) expect(encodeFooterAndTrailer(b, b.endOffset)).toEqual(encodeFooterAndTrailer(a, a.endOffset));
      expect(b.seriesKeys).toEqual(a.seriesKeys);
      expect(b.encodedSeriesRuns(0)).toBeUndefined();
    });
  }

  it('continues a walk, holding only the keys defined since the last release', () => {
    const dir = writeShard();
    const active = segmentsUnder(dir).at(-1)!;
    const bytes = new Uint8Array(fs.readFileSync(active));
    const full = openSegment(active, bufferSource(bytes));
    if (!full.ok) throw new Error('segment did not open');
    const all = full.index.seriesKeys;
    const firstBlockEnd = full.index.blocks[0]!.offset + full.index.blocks[0]!.blockBytes;
    // A reader that saw only the first block, released its keys, and walks on.
    const partial = openSegment(active, bufferSource(bytes, firstBlockEnd), { encodedKeys: true });
    if (!partial.ok) throw new Error('segment did not open');
    const index = partial.index;
    const seen = index.seriesCount;
    expect(seen).toBeGreaterThan(0);
    index.releaseSeriesKeys((ref) => all[ref]!);
    walkBlocks(bufferSource(bytes), index, { encodedKeys: true });
    expect(index.seriesCount).toBe(all.length);
    expect(() => index.encodedSeriesRuns(0)).toThrow(RangeError);
    const runs = index.encodedSeriesRuns(seen)!;
    expect(runs[0]!.firstRef).toBe(seen);
    expect(heldKeys({ encodedSeriesRuns: () => runs } as unknown as SegmentIndex)).toEqual(all.slice(seen));
    expect(index.seriesKeys).toEqual(all);
  });

  it('stops where the full walk stops at a damaged block', () => {
    const active = segmentsUnder(writeShard()).at(-1)!;
    const bytes = new Uint8Array(fs.readFileSync(active));
    const full = openSegment(active, bufferSource(bytes));
    if (!full.ok) throw new Error('segment did not open');
    for (const entry of full.index.blocks) {
      for (const at of [entry.offset + 80, entry.offset + entry.blockBytes - 1]) {
        const damaged = bytes.slice();
        damaged[at] = damaged[at]! ^ 0x40;
        const a = openSegment(active, bufferSource(damaged));
        const b = openSegment(active, bufferSource(damaged), { encodedKeys: true });
        if (!a.ok || !b.ok) throw new Error('segment did not open');
        expect(b.stop).toEqual(a.stop);
        expect(b.index.blocks).toEqual(a.index.blocks);
        expect(b.index.seriesCount).toBe(a.index.seriesKeys.length);
      }
    }
  });
});
