// The behaviour behind the engine's V8-shape changes (decision 0017, `--trace-deopt` after the
// warm-up): arrays made in their final elements kind behave as `[]`; block encoders share the
// thread's grow-only scratch and still produce the same bytes, never aliasing it; and block
// directory entries built whole in ShardWriter.encodeBatch point at where the blocks really are.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ShardWriter, ValueKind, shardDirectory } from '../../engine/index.js';
import { emptyPackedArray } from '../../engine/packed-array.js';
import { BlockEncoder, decodeBlock, type BlockColumns } from '../../engine/segment/block.js';
import { parseSegmentFileName } from '../../engine/segment/format.js';
import { SegmentIndex, bufferSource, walkBlocks } from '../../engine/segment/segment-index.js';
import { openSegment } from '../../engine/segment/segment-file.js';
import { batchOf, type TestPoint } from '../helpers/batches.js';
import { tempDir } from '../helpers/tmp.js';

describe('emptyPackedArray', () => {
  it('is a new, empty, ordinary array on every call', () => {
    const a = emptyPackedArray<string>();
    const b = emptyPackedArray<string>();
    expect(a).not.toBe(b);
    expect(Array.isArray(a)).toBe(true);
    expect(a).toEqual([]);
    expect(a[0]).toBeUndefined();
    a.push('x');
    a[1] = 'y';
    expect(a).toEqual(['x', 'y']);
    expect(b).toEqual([]);
    expect(Object.getPrototypeOf(a)).toBe(Array.prototype);
  });
});

/** One series, n points of mixed kinds (float, int, string, JSON in turn), t = 1000 · i. */
function mixedColumns(n: number): BlockColumns {
  const kinds = new Uint8Array(n);
  const floats = new Float64Array(n);
  const ints = new BigInt64Array(n);
  const texts: (string | undefined)[] = new Array<string | undefined>(n);
  const order = [ValueKind.Float64, ValueKind.Int64, ValueKind.String, ValueKind.Json];
  for (let i = 0; i < n; i++) {
    const k = order[i % order.length]!;
    kinds[i] = k;
    if (k === ValueKind.Float64) floats[i] = i / 8;
    else if (k === ValueKind.Int64) ints[i] = BigInt(i) * 1_000_000_007n - 2n ** 62n;
    else texts[i] = k === ValueKind.String ? `s${i}` : `{"i":${i}}`;
  }
  return {
    pointCount: n,
    runCount: 1,
    runRefs: Uint32Array.of(0),
    runPointCounts: Uint32Array.of(n),
    runTtlSeconds: Uint32Array.of(0),
    timestampsMs: Float64Array.from({ length: n }, (_, i) => 1_700_000_000_000 + 1000 * i),
    kinds,
    floats,
    ints,
    texts,
  };
}

const META = { firstNewSeriesRef: 0, sequence: 7, writtenAtMs: 1_700_000_000_000, batchContinues: false };
const KEY = [{ metric: 'shared.scratch', tags: { host: 'a', region: 'eu-west-1' } }];

describe('BlockEncoders sharing the thread scratch', () => {
  it('encode the same bytes whatever other encoders did in between, and never hand out the scratch', () => {
    const fast = new BlockEncoder('fast');
    const dense = new BlockEncoder('dense');
    const small = mixedColumns(12);
    const first = fast.encode(small, KEY, META);
    const firstCopy = first.slice();
    // Larger mixed blocks from both encoders grow every shared scratch (payload, floats, ints).
    const large = mixedColumns(20_000);
    const largeDense = dense.encode(large, KEY, META);
    const largeFast = fast.encode(large, KEY, META);
    expect(first).toEqual(firstCopy);
    expect(fast.encode(small, KEY, META)).toEqual(firstCopy);
    expect(new BlockEncoder('fast').encode(small, KEY, META)).toEqual(firstCopy);
    for (const block of [largeDense, largeFast]) {
      const decoded = decodeBlock(block, block.length);
      expect(decoded.newSeries).toEqual(KEY);
      expect([...decoded.kinds]).toEqual([...large.kinds]);
      expect([...decoded.timestampsMs]).toEqual([...large.timestampsMs]);
      for (let i = 0; i < large.pointCount; i++) {
        const k = large.kinds[i];
        if (k === ValueKind.Float64) expect(decoded.floats[i]).toBe(large.floats[i]);
        else if (k === ValueKind.Int64) expect(decoded.ints[i]).toBe(large.ints[i]);
        else expect(decoded.texts[i]).toBe(large.texts[i]);
      }
    }
  });
});

describe('ShardWriter block directory', () => {
  it('records each block at the offset it was written to (the sealed footer written from the live index matches a block walk)', () => {
    const dataDir = tempDir();
    const dir = shardDirectory(dataDir, 0);
    // ~1 MiB segments: the third batch does not fit, so the first segment is sealed with a footer
    // holding the writer's own block directory.
    const writer = ShardWriter.open({ dir, shardId: 0, syncPolicy: 'never', segmentBytes: 1 << 20 });
    // A one-block batch, then batches of several blocks each (65,536 points per block).
    writer.append(batchOf([{ metric: 'first', t: 1, value: 1 }]));
    for (let b = 0; b < 2; b++) {
      const pts: TestPoint[] = [];
      for (let i = 0; i < 140_000; i++) pts.push({ metric: 'many', tags: { s: String(i % 5) }, t: b * 1_000_000 + i, value: i });
      expect(writer.append(batchOf(pts)).blocks).toBe(3);
    }
    writer.close();
    const sealed: SegmentIndex[] = [];
    for (const name of fs.readdirSync(dir).filter((n) => parseSegmentFileName(n) !== undefined)) {
      const filePath = path.join(dir, name);
      const bytes = new Uint8Array(fs.readFileSync(filePath));
      const opened = openSegment(filePath, bufferSource(bytes));
      if (!opened.ok) throw new Error(opened.reason);
      if (opened.stop !== undefined) continue; // unsealed: its directory comes from a walk anyway
      const walked = new SegmentIndex(filePath, opened.index.header);
      walkBlocks(bufferSource(bytes), walked);
      expect(directory(opened.index)).toEqual(directory(walked));
      sealed.push(opened.index);
    }
    expect(sealed).toHaveLength(1);
    expect(sealed[0]!.blocks).toHaveLength(4);
    expect(sealed[0]!.pointCount).toBe(140_001);
  });
});

function directory(index: SegmentIndex): { offset: number; blockBytes: number; pointCount: number; sequence: number }[] {
  return index.blocks.map((e) => ({ offset: e.offset, blockBytes: e.blockBytes, pointCount: e.pointCount, sequence: e.sequence }));
}
