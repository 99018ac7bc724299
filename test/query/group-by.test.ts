// Grouping internals: the k-way merge against a reference sort, type splitting of mixed series,
// and the Grouper's first-appearance order with KairosDB's Java integer semantics.
import { describe, expect, it } from 'vitest';
import { ValueKind, type SeriesId, type SeriesPoints } from '../../engine/index.js';
import { applyGroupBys, groupByTypeAndTag, mergeSlices, splitByType, type SeriesSlice } from '../../src/query/group-by.js';
import { Points } from '../../src/query/points.js';
import { seededRandom } from '../helpers/batches.js';

function series(id: number, host: string, ts: readonly number[], kinds?: readonly number[]): SeriesPoints {
  const n = ts.length;
  return {
    id: id as SeriesId,
    key: { metric: 'm', tags: { host } },
    length: n,
    timestampsMs: Float64Array.from(ts),
    kinds: Uint8Array.from(kinds ?? ts.map(() => ValueKind.Float64)),
    floats: Float64Array.from(ts.map((t) => t * 10 + id)),
    ints: new BigInt64Array(n),
    texts: ts.map((t) => `s${t}`),
  };
}

describe('mergeSlices', () => {
  it('matches a stable sort by timestamp, ascending and descending', () => {
    const rnd = seededRandom(42);
    for (let round = 0; round < 20; round++) {
      const k = 1 + Math.floor(rnd() * 12);
      const slices: SeriesSlice[] = [];
      const reference: [number, number][] = [];
      for (let s = 0; s < k; s++) {
        const n = Math.floor(rnd() * 30);
        const ts: number[] = [];
        let t = Math.floor(rnd() * 5);
        for (let i = 0; i < n; i++) {
          ts.push(t);
          t += 1 + Math.floor(rnd() * 4);
        }
        const sp = series(s, `h${s}`, ts);
        slices.push({ key: sp.key, series: sp, indices: undefined });
        for (const x of ts) reference.push([x, x * 10 + s]);
      }
      const asc = [...reference].sort((a, b) => a[0] - b[0] || a[1] - b[1]);
      const desc = [...reference].sort((a, b) => b[0] - a[0] || a[1] - b[1]);
      const rows = (p: Points) => Array.from({ length: p.length }, (_, i) => [p.ts[i]!, p.num[i]!]);
      expect(rows(mergeSlices(slices, 'asc'))).toEqual(asc);
      expect(rows(mergeSlices(slices, 'desc'))).toEqual(desc);
    }
  });
});

describe('splitByType and groupByTypeAndTag', () => {
  it('splits a mixed series into number and text groups, types sorted', () => {
    const mixed = series(0, 'a', [1, 2, 3, 4], [ValueKind.Float64, ValueKind.String, ValueKind.Int64, ValueKind.String]);
    const groups = groupByTypeAndTag(splitByType([mixed]), undefined, 'asc');
    expect(groups.map((g) => [g.type, Array.from(g.points.ts.subarray(0, g.points.length))])).toEqual([
      ['number', [1, 3]],
      ['text', [2, 4]],
    ]);
    expect(groups[1]!.points.text![1]).toBe('s4');
  });

  it('sorts tag groups by their key text and leaves out tags a series lacks', () => {
    const a = series(0, 'b', [1]);
    const b = series(1, 'a', [2]);
    const c: SeriesPoints = { ...series(2, 'x', [3]), key: { metric: 'm', tags: { other: '1' } } };
    const groups = groupByTypeAndTag(splitByType([a, b, c]), ['host'], 'asc');
    expect(groups.map((g) => g.groupBy[0])).toEqual([
      { name: 'tag', tags: ['host'], group: [] },
      { name: 'tag', tags: ['host'], group: [['host', 'a']] },
      { name: 'tag', tags: ['host'], group: [['host', 'b']] },
    ]);
  });
});

describe('applyGroupBys', () => {
  it('keeps first-appearance order and Java integer arithmetic for value groups', () => {
    const p = new Points();
    p.pushDouble(1, 25.9);
    p.pushDouble(2, -15);
    p.pushLong(3, 9007199254740993n);
    p.pushText(4, 2, 'x');
    const out = applyGroupBys([{ name: 'm', tags: new Map(), groupBy: [{ name: 'type', type: 'number' }], points: p, type: 'number' }], [{ kind: 'value', rangeSize: 10 }]);
    expect(out.map((g) => (g.groupBy[0] as { groupNumber: number }).groupNumber)).toEqual([2, -1, 900719925474099 | 0]);
    expect(out.map((g) => g.groupBy[1])).toEqual([{ name: 'type', type: 'number' }, { name: 'type', type: 'number' }, { name: 'type', type: 'number' }]);
    expect(out[1]!.points.length).toBe(2); // -15 → (int)-15/10 = -1, and the string → -1
  });

  it('counts month groups on the UTC calendar', () => {
    const p = new Points();
    for (const m of [0, 1, 2, 3]) p.pushDouble(Date.UTC(2024, m, 15), m);
    const out = applyGroupBys(
      [{ name: 'm', tags: new Map(), groupBy: [], points: p, type: 'number' }],
      [{ kind: 'time', rangeSize: { value: 1, unit: 'MONTHS' }, groupCount: 2, startMs: Date.UTC(2024, 0, 1) }],
    );
    expect(out.map((g) => [g.groupBy[0], g.points.length])).toEqual([
      [{ name: 'time', rangeSize: { value: 1, unit: 'MONTHS' }, groupCount: 2, groupNumber: 0 }, 2],
      [{ name: 'time', rangeSize: { value: 1, unit: 'MONTHS' }, groupCount: 2, groupNumber: 1 }, 2],
    ]);
  });
});
