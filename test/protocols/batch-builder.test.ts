import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ValueKind, canonicalSeriesKey, type SeriesKey, type WriteBatch } from '../../engine/index.js';
import { BatchBuilder, SeriesCache, StringTable, sharedSeriesCache } from '../../src/protocols/batch-builder.js';

interface Point {
  series: string;
  ttl: number;
  t: number;
  kind: number;
  value: number | bigint | string;
}

/** Copies what a sink sees (the builder reuses its arrays after the sink returns). */
function collect(): { batches: WriteBatch[]; points: Point[]; sink: (b: WriteBatch) => void } {
  const batches: WriteBatch[] = [];
  const points: Point[] = [];
  const sink = (b: WriteBatch): void => {
    const series = [...b.series];
    const ttl = b.ttlSeconds ? Array.from(b.ttlSeconds.subarray(0, series.length)) : series.map(() => 0);
    batches.push({ ...b, series });
    for (let i = 0; i < b.length; i++) {
      const s = b.seriesIndex[i]!;
      const kind = b.kinds[i]!;
      const value = kind === ValueKind.Float64 ? b.floats[i]! : kind === ValueKind.Int64 ? b.ints[i]! : b.texts[i]!;
      points.push({ series: canonicalSeriesKey(series[s]!), ttl: ttl[s]!, t: b.timestampsMs[i]!, kind, value });
    }
  };
  return { batches, points, sink };
}

describe('StringTable', () => {
  it('gives one id per string, by bytes or by string, and builds strings back', () => {
    const t = new StringTable();
    const enc = new TextEncoder();
    const words = ['host', 'web-1', '', 'é', '日本', 'host', '😀', 'a'.repeat(300)];
    const ids = words.map((w) => t.internString(w));
    expect(ids[0]).toBe(ids[5]);
    expect(new Set(ids).size).toBe(words.length - 1);
    words.forEach((w, i) => {
      const b = enc.encode(w);
      expect(t.internBytes(b, 0, b.length)).toBe(ids[i]);
      expect(t.string(ids[i]!)).toBe(w);
    });
    // A lone surrogate is stored as U+FFFD (the only form UTF-8 and the engine can hold).
    expect(t.internString('\ud800')).toBe(t.internString('\ufffd'));
    const memo = new Int32Array(4).fill(-1);
    const b = enc.encode('xxhostxx');
    expect(t.internBytesAt(memo, 0, b, 2, 6)).toBe(ids[0]);
    expect(t.internBytesAt(memo, 0, b, 2, 6)).toBe(ids[0]);
    expect(t.internBytesAt(memo, 0, b, 0, 2)).toBe(t.internString('xx'));
  });

  it('stays consistent through growth (many strings)', () => {
    const t = new StringTable();
    const ids = new Map<string, number>();
    for (let i = 0; i < 20_000; i++) ids.set(`s${i}`, t.internString(`s${i}`));
    const again = [...ids.keys()].map((s) => t.internString(s));
    const back = [...ids.values()].map((id) => t.string(id));
    expect(again).toEqual([...ids.values()]);
    expect(back).toEqual([...ids.keys()]);
    expect(t.size).toBe(20_000);
  });
});

describe('BatchBuilder', () => {
  it('dedups series by metric + tag set whatever the tag order, and builds sorted SeriesKeys', () => {
    const { batches, points, sink } = collect();
    const b = new BatchBuilder(sink);
    b.selectSeries({ metric: 'cpu', tags: { host: 'a', dc: 'x' } });
    b.addFloat(1, 1.5);
    b.selectSeries({ metric: 'cpu', tags: { dc: 'x', host: 'a' } });
    b.addInt(2, -7);
    b.selectSeries({ metric: 'cpu', tags: { dc: 'x', host: 'b' } });
    b.addString(3, 's');
    b.selectSeries({ metric: 'mem', tags: { dc: 'x', host: 'a' } });
    b.addBigInt(4, 9007199254740993n);
    b.flush();
    expect(batches).toHaveLength(1);
    expect(batches[0]!.series).toHaveLength(3);
    expect(Object.keys(batches[0]!.series[0]!.tags)).toEqual(['dc', 'host']);
    expect(points).toEqual([
      { series: 'cpu{dc=x,host=a}', ttl: 0, t: 1, kind: ValueKind.Float64, value: 1.5 },
      { series: 'cpu{dc=x,host=a}', ttl: 0, t: 2, kind: ValueKind.Int64, value: -7n },
      { series: 'cpu{dc=x,host=b}', ttl: 0, t: 3, kind: ValueKind.String, value: 's' },
      { series: 'mem{dc=x,host=a}', ttl: 0, t: 4, kind: ValueKind.Int64, value: 9007199254740993n },
    ]);
  });

  it('writes safe integers exactly without BigInt (negative, 0, ±2^53−1)', () => {
    const { points, sink } = collect();
    const b = new BatchBuilder(sink);
    b.selectSeries({ metric: 'm', tags: { k: 'v' } });
    const values = [0, -0, 1, -1, 4294967295, 4294967296, -4294967296, -4294967297, Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER];
    values.forEach((v, i) => b.addInt(i, v));
    b.flush();
    expect(points.map((p) => p.value)).toEqual(values.map((v) => BigInt(v)));
  });

  it('a series coming back with another TTL closes the batch first, keeping write order', () => {
    const { batches, points, sink } = collect();
    const b = new BatchBuilder(sink);
    const key: SeriesKey = { metric: 'm', tags: { k: 'v' } };
    b.selectSeries(key, 0);
    b.addFloat(10, 1);
    b.selectSeries({ metric: 'other', tags: { k: 'v' } }, 60);
    b.addFloat(10, 2);
    b.selectSeries(key, 60);
    b.addFloat(10, 3);
    b.selectSeries(key, 60);
    b.addFloat(11, 4);
    b.flush();
    expect(batches.map((x) => x.length)).toEqual([2, 2]);
    expect(points.map((p) => [p.series, p.ttl, p.value])).toEqual([
      ['m{k=v}', 0, 1],
      ['other{k=v}', 60, 2],
      ['m{k=v}', 60, 3],
      ['m{k=v}', 60, 4],
    ]);
  });

  it('hands full batches to the sink at maxPointsPerBatch, re-adding the selected series', () => {
    const { batches, points, sink } = collect();
    const b = new BatchBuilder(sink, { maxPointsPerBatch: 3 });
    b.selectSeries({ metric: 'm', tags: { k: 'v' } });
    for (let i = 0; i < 7; i++) b.addFloat(i, i);
    expect(batches.map((x) => x.length)).toEqual([3, 3]);
    b.flush();
    expect(batches.map((x) => x.length)).toEqual([3, 3, 1]);
    expect(batches.every((x) => x.series.length === 1)).toBe(true);
    expect(points.map((p) => p.t)).toEqual([0, 1, 2, 3, 4, 5, 6]);
  });

  it('clears texts between batches, survives a throwing sink, and returns the same SeriesKey object across batches', () => {
    let fail = true;
    const seen: WriteBatch[] = [];
    const b = new BatchBuilder((batch) => {
      if (fail) throw new Error('disk full');
      seen.push({ ...batch, series: [...batch.series], texts: [...batch.texts] });
    });
    b.selectSeries({ metric: 'm', tags: { k: 'v' } });
    b.addString(1, 'lost');
    expect(() => b.flush()).toThrow('disk full');
    expect(b.pointCount).toBe(0);
    fail = false;
    b.addFloat(2, 2); // the selected series is still selected
    b.flush();
    b.selectSeries({ metric: 'm', tags: { k: 'v' } });
    b.addFloat(3, 3);
    b.flush();
    expect(seen.map((x) => x.length)).toEqual([1, 1]);
    expect(seen[0]!.texts[0]).toBeUndefined();
    expect(seen[0]!.series[0]).toBe(seen[1]!.series[0]);
  });

  it('trimCaches forgets ids past the limits and moves the generation', () => {
    const b = new BatchBuilder(() => {}, { maxCachedSeries: 2 });
    for (const host of ['a', 'b', 'c']) {
      b.selectSeries({ metric: 'm', tags: { host } });
      b.addFloat(1, 1);
    }
    b.trimCaches(); // not while points are pending
    expect(b.generation).toBe(0);
    b.flush();
    b.trimCaches();
    expect(b.generation).toBe(1);
    expect(b.strings.size).toBe(0);
  });

  it('numbers batch series by cache entry (WriteBatch.seriesNumbers) and renumbers only under a new numbering after trim', () => {
    const seen: { numbers: number[]; numbering: object | undefined; keys: string[] }[] = [];
    const b = new BatchBuilder(
      (batch) => {
        seen.push({
          numbers: Array.from(batch.seriesNumbers!.subarray(0, batch.series.length)),
          numbering: batch.seriesNumbering,
          keys: batch.series.map(canonicalSeriesKey),
        });
      },
      { maxCachedSeries: 2 },
    );
    const write = (hosts: string[]): void => {
      for (const host of hosts) {
        b.selectSeries({ metric: 'm', tags: { host } });
        b.addFloat(1, 1);
      }
      b.flush();
    };
    write(['a', 'b', 'c']);
    write(['c', 'a']);
    expect(seen[0]!.numbers).toEqual([0, 1, 2]);
    expect(seen[1]!.numbers).toEqual([2, 0]); // the same series keep their numbers across batches
    expect(seen[1]!.numbering).toBe(seen[0]!.numbering);
    b.trimCaches();
    write(['c']);
    expect(seen[2]!.numbers).toEqual([0]); // number 0 now names c: only under a new numbering
    expect(seen[2]!.numbering).not.toBe(seen[0]!.numbering);
    expect(seen[2]!.keys).toEqual([canonicalSeriesKey({ metric: 'm', tags: { host: 'c' } })]);
  });

  it('builders share the thread cache by default: same SeriesKey object, own batches', () => {
    const a = collect();
    const b = collect();
    const ba = new BatchBuilder(a.sink);
    const bb = new BatchBuilder(b.sink);
    expect(ba.cache).toBe(sharedSeriesCache());
    expect(bb.cache).toBe(ba.cache);
    ba.selectSeries({ metric: 'shared', tags: { k: 'v' } });
    ba.addFloat(1, 1);
    bb.selectSeries({ metric: 'shared', tags: { k: 'v' } });
    bb.addFloat(2, 2);
    bb.flush();
    ba.flush();
    expect(a.batches[0]!.series[0]).toBe(b.batches[0]!.series[0]);
    expect([a.points.length, b.points.length]).toEqual([1, 1]);
  });

  it('SeriesCache.trim waits for open bodies; a builder whose series was forgotten must select again', () => {
    const cache = new SeriesCache({ maxCachedSeries: 0 });
    const owner = {};
    const b = new BatchBuilder(() => {}, { cache });
    b.selectSeries({ metric: 'm', tags: { k: 'v' } });
    b.addFloat(1, 1);
    b.flush();
    cache.openBody(owner);
    cache.openBody(owner); // idempotent
    expect(cache.trim()).toBe(false);
    cache.closeBody(owner);
    cache.closeBody(owner);
    expect(cache.trim()).toBe(true);
    expect(cache.generation).toBe(1);
    expect(() => b.addFloat(2, 2)).toThrow(/no series selected/);
    b.selectSeries({ metric: 'm', tags: { k: 'v' } });
    b.addFloat(2, 2);
    expect(b.pointCount).toBe(1);
  });

  it('matches canonicalSeriesKey identity on generated series', () => {
    const tagsArb = fc.dictionary(fc.string({ maxLength: 3 }), fc.string({ maxLength: 3 }), { maxKeys: 4 });
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.string({ maxLength: 3 }), tagsArb), { minLength: 1, maxLength: 30 }), (list) => {
        const { batches, sink } = collect();
        const b = new BatchBuilder(sink);
        for (const [metric, tags] of list) {
          b.selectSeries({ metric, tags });
          b.addFloat(0, 0);
        }
        b.flush();
        const got = batches[0]!.series.map(canonicalSeriesKey);
        const expected = [...new Set(list.map(([metric, tags]) => canonicalSeriesKey({ metric, tags })))];
        expect(new Set(got)).toEqual(new Set(expected));
        expect(got.length).toBe(expected.length);
      }),
      { numRuns: 200 },
    );
  });

  it('addBatch: batches of one builder copied into another come out as if added point by point', () => {
    const pointArb = fc.record({
      series: fc.integer({ min: 0, max: 5 }),
      ttl: fc.constantFrom(0, 0, 60),
      t: fc.integer({ min: -1000, max: 1000 }),
      kind: fc.constantFrom(ValueKind.Float64, ValueKind.Int64, ValueKind.String, ValueKind.Json),
      n: fc.double({ noNaN: true }),
      i: fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
    });
    fc.assert(
      fc.property(fc.array(fc.array(pointArb, { maxLength: 40 }), { maxLength: 6 }), fc.integer({ min: 3, max: 50 }), (requests, maxPoints) => {
        const add = (b: BatchBuilder, p: { series: number; ttl: number; t: number; kind: number; n: number; i: bigint }): void => {
          b.selectSeries({ metric: 'm', tags: { s: String(p.series) } }, p.ttl);
          if (p.kind === ValueKind.Float64) b.addFloat(p.t, p.n);
          else if (p.kind === ValueKind.Int64) b.addBigInt(p.t, p.i);
          else if (p.kind === ValueKind.String) b.addString(p.t, `v${p.t}`);
          else b.addJson(p.t, `{"t":${p.t}}`);
        };
        const direct = collect();
        const one = new BatchBuilder(direct.sink, { maxPointsPerBatch: maxPoints });
        for (const r of requests) for (const p of r) add(one, p);
        one.flush();
        // A "decoder" builder per request (flushing at its own size), copied into a group builder.
        const copied = collect();
        const group = new BatchBuilder(copied.sink, { maxPointsPerBatch: maxPoints });
        const decoder = new BatchBuilder((b) => group.addBatch(b), { maxPointsPerBatch: 7 });
        for (const r of requests) {
          for (const p of r) add(decoder, p);
          decoder.flush();
        }
        group.flush();
        expect(copied.points).toEqual(direct.points);
        // Same cache numbering: series numbers (cache entries) carry over.
        for (const b of copied.batches) expect(b.seriesNumbering).toBe(sharedSeriesCache().numbering);
      }),
      { numRuns: 200 },
    );
  });

  it('addBatch takes a batch of another cache through its SeriesKeys', () => {
    const out = collect();
    const group = new BatchBuilder(out.sink);
    const sink = (b: WriteBatch): void => group.addBatch(b);
    const other = new BatchBuilder(sink, { cache: new SeriesCache({ maxCachedSeries: 10 }) });
    other.selectSeries({ metric: 'x', tags: { a: '1' } }, 5);
    other.addInt(1, 42);
    other.selectSeries({ metric: 'y', tags: {} });
    other.addFloat(2, 1.5);
    other.flush();
    group.flush();
    expect(out.points).toEqual([
      { series: canonicalSeriesKey({ metric: 'x', tags: { a: '1' } }), ttl: 5, t: 1, kind: ValueKind.Int64, value: 42n },
      { series: canonicalSeriesKey({ metric: 'y', tags: {} }), ttl: 0, t: 2, kind: ValueKind.Float64, value: 1.5 },
    ]);
  });
});
