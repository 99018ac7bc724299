// The append hot path of decision 0009: producer series numbers (WriteBatch.seriesNumbers) and
// batches used in place when already in block order. Each test compares against the path that
// does not take the shortcut, so a shortcut that changes what is stored fails here.
import { describe, expect, it } from 'vitest';
import { Engine, EngineError, EngineErrorCode, ShardWriter, shardDirectory, type WriteBatch } from '../../../engine/index.js';
import { batchOf, pointsOf, seededRandom, type TestPoint } from '../../helpers/batches.js';
import { tempDir } from '../../helpers/tmp.js';

function openWriter(dataDir: string): ShardWriter {
  return ShardWriter.open({ dir: shardDirectory(dataDir, 0), shardId: 0, syncPolicy: 'never', segmentBytes: 1 << 20 });
}

/** Every series of the directory as `metric{k=v,…}` → [t, value] pairs, in time order. */
function readEverything(dataDir: string): Map<string, [number, TestPoint['value']][]> {
  const engine = Engine.open({ dataDir, owner: false });
  const ids = engine.select({});
  const out = new Map<string, [number, TestPoint['value']][]>();
  for (const s of engine.scan(ids, -(2 ** 49), 2 ** 49)) {
    const key = s.key;
    const name = `${key.metric}{${Object.entries(key.tags)
      .sort()
      .map(([k, v]) => `${k}=${v}`)
      .join(',')}}`;
    out.set(name, pointsOf(s));
  }
  return out;
}

function numbered(batch: WriteBatch, numbers: readonly number[], numbering: object): WriteBatch {
  return { ...batch, seriesNumbers: Uint32Array.from(numbers), seriesNumbering: numbering };
}

describe('append with producer series numbers', () => {
  it('stores exactly what the same batches store without numbers, across batches and segments', () => {
    const random = seededRandom(7);
    const hosts = ['a', 'b', 'c', 'd', 'e'];
    const batches: { points: TestPoint[]; numbers: number[] }[] = [];
    for (let b = 0; b < 40; b++) {
      // Each batch lists a random subset of the hosts in a random order; its number is the host's index.
      const order = hosts.filter(() => random() < 0.7).sort(() => random() - 0.5);
      if (order.length === 0) continue;
      const points = order.flatMap((h, i) => [
        { metric: 'cpu', tags: { host: h }, t: b * 10 + i, value: random() },
        { metric: 'cpu', tags: { host: h }, t: b * 10 + i + 1, value: BigInt(b) },
      ]);
      batches.push({ points, numbers: order.map((h) => hosts.indexOf(h)) });
    }
    const plainDir = tempDir();
    const numberedDir = tempDir();
    const plain = openWriter(plainDir);
    const withNumbers = openWriter(numberedDir);
    const numbering = {};
    for (const { points, numbers } of batches) {
      const a = plain.append(batchOf(points));
      const b = withNumbers.append(numbered(batchOf(points), numbers, numbering));
      expect(b.newSeries).toEqual(a.newSeries);
    }
    plain.close();
    withNumbers.close();
    const expected = readEverything(plainDir);
    expect(expected.size).toBe(hosts.length);
    expect(readEverything(numberedDir)).toEqual(expected);
  });

  it('reads a number afresh under a new numbering object (a producer that renumbered)', () => {
    const dataDir = tempDir();
    const writer = openWriter(dataDir);
    const first = {};
    writer.append(numbered(batchOf([{ metric: 'm', tags: { h: 'x' }, t: 1, value: 1 }]), [0], first));
    // Number 0 now names another series: only valid under a new numbering.
    const receipt = writer.append(numbered(batchOf([{ metric: 'm', tags: { h: 'y' }, t: 2, value: 2 }]), [0], {}));
    expect(receipt.newSeries).toEqual([{ metric: 'm', tags: { h: 'y' } }]);
    // And the old numbering still means what it meant.
    expect(writer.append(numbered(batchOf([{ metric: 'm', tags: { h: 'x' }, t: 3, value: 3 }]), [0], first)).newSeries).toEqual([]);
    writer.close();
    const all = readEverything(dataDir);
    expect(all.get('m{h=x}')).toEqual([
      [1, 1],
      [3, 3],
    ]);
    expect(all.get('m{h=y}')).toEqual([[2, 2]]);
  });

  it('resolves numbers too large to remember by key, and rejects numbers without a numbering', () => {
    const dataDir = tempDir();
    const writer = openWriter(dataDir);
    const numbering = {};
    const big = 2 ** 31;
    writer.append(numbered(batchOf([{ metric: 'm', tags: { h: 'x' }, t: 1, value: 1 }]), [big], numbering));
    expect(writer.append(numbered(batchOf([{ metric: 'm', tags: { h: 'x' }, t: 2, value: 2 }]), [big], numbering)).newSeries).toEqual([]);
    const lone: WriteBatch = { ...batchOf([{ metric: 'm', t: 1, value: 1 }]), seriesNumbers: Uint32Array.of(0) };
    expect(() => writer.append(lone)).toThrow(EngineError);
    const short: WriteBatch = {
      ...batchOf([
        { metric: 'm', tags: { h: 'p' }, t: 1, value: 1 },
        { metric: 'm', tags: { h: 'q' }, t: 1, value: 1 },
      ]),
      seriesNumbers: Uint32Array.of(0),
      seriesNumbering: numbering,
    };
    try {
      writer.append(short);
      expect.unreachable();
    } catch (err) {
      expect((err as EngineError).code).toBe(EngineErrorCode.InvalidBatch);
    }
    writer.close();
    expect(readEverything(dataDir).get('m{h=x}')).toEqual([
      [1, 1],
      [2, 2],
    ]);
  });
});

describe('batches already in block order are used in place', () => {
  it('stores the same as the same points in an order that needs sorting', () => {
    const random = seededRandom(11);
    const points: TestPoint[] = [];
    for (let s = 0; s < 20; s++) {
      for (let k = 0; k < 1 + (s % 4); k++) {
        // Equal timestamps within a series (k and k+1 share one when s is odd): the later write wins.
        const t = s % 2 === 1 ? Math.floor(k / 2) : k;
        points.push({ metric: 'g', tags: { s: String(s) }, t, value: random(), ...(s % 5 === 0 ? { ttlSeconds: 3600 } : {}) });
      }
    }
    // In block order: series by series, time non-decreasing. Shuffled: the same points, series
    // interleaved, relative order of equal (series, timestamp) points kept.
    const shuffled = [...points].sort((a, b) => a.t - b.t || Number(a.tags!.s) - Number(b.tags!.s));
    const inOrderDir = tempDir();
    const shuffledDir = tempDir();
    const w1 = openWriter(inOrderDir);
    const w2 = openWriter(shuffledDir);
    w1.append(batchOf(points));
    w2.append(batchOf(shuffled));
    w1.close();
    w2.close();
    const expected = readEverything(shuffledDir);
    expect(expected.size).toBe(20);
    expect(readEverything(inOrderDir)).toEqual(expected);
  });
});
