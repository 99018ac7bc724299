import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ByteReader, ByteWriter } from '../../../engine/codec/bytes.js';
import { Catalog } from '../../../engine/catalog/catalog.js';
import { intersect, subtract, union } from '../../../engine/catalog/postings.js';
import { canonicalSeriesKey, decodeSeriesKey, encodeSeriesKey } from '../../../engine/catalog/series-key.js';
import type { SeriesKey } from '../../../engine/types.js';

const nasty = fc.string({ unit: fc.constantFrom('a', 'b', '{', '}', ',', '=', '\\', 'é', ' '), maxLength: 6 });
const seriesKey = fc.record({ metric: nasty, tags: fc.dictionary(nasty, nasty, { maxKeys: 4 }) });

function sameSeries(a: SeriesKey, b: SeriesKey): boolean {
  const ka = Object.keys(a.tags).sort();
  const kb = Object.keys(b.tags).sort();
  return a.metric === b.metric && ka.length === kb.length && ka.every((k, i) => k === kb[i] && a.tags[k] === b.tags[k]);
}

describe('series keys', () => {
  it('canonical form is injective and ignores tag order', () => {
    fc.assert(
      fc.property(seriesKey, seriesKey, (a, b) => {
        expect(canonicalSeriesKey(a) === canonicalSeriesKey(b)).toBe(sameSeries(a, b));
        const reversed = { metric: a.metric, tags: Object.fromEntries(Object.entries(a.tags).reverse()) };
        expect(canonicalSeriesKey(reversed)).toBe(canonicalSeriesKey(a));
      }),
      { numRuns: 2000 },
    );
  });

  it('binary form round-trips and sorts tags', () => {
    fc.assert(
      fc.property(seriesKey, (key) => {
        const w = new ByteWriter(8);
        encodeSeriesKey(w, key);
        const r = new ByteReader(w.bytes());
        const back = decodeSeriesKey(r);
        expect(r.remaining).toBe(0);
        expect(sameSeries(back, key)).toBe(true);
        expect(Object.keys(back.tags)).toEqual(Object.keys(key.tags).sort());
      }),
    );
  });

  it('keeps a leading U+FEFF: "\uFEFFm" and "m" are different series', () => {
    for (const key of [{ metric: '\uFEFFm', tags: { '\uFEFFk': '\uFEFFv' } }, { metric: 'm', tags: { k: '\uFEFF' } }]) {
      const w = new ByteWriter();
      encodeSeriesKey(w, key);
      expect(decodeSeriesKey(new ByteReader(w.bytes()))).toEqual(key);
    }
    const w = new ByteWriter();
    w.string('\uFEFFtext');
    expect(new ByteReader(w.bytes()).string()).toBe('\uFEFFtext');
  });

  it('rejects unsorted or duplicate tag keys and truncated input', () => {
    const w = new ByteWriter();
    w.string('m');
    w.varuint(2);
    w.string('b');
    w.string('1');
    w.string('a');
    w.string('2');
    expect(() => decodeSeriesKey(new ByteReader(w.bytes()))).toThrow(RangeError);
    const ok = new ByteWriter();
    encodeSeriesKey(ok, { metric: 'cpu', tags: { host: 'a' } });
    expect(() => decodeSeriesKey(new ByteReader(ok.bytes().slice(0, ok.length - 1)))).toThrow(RangeError);
  });

  it('refuses keys over the size limit', () => {
    expect(() => encodeSeriesKey(new ByteWriter(), { metric: 'x'.repeat(70_000), tags: {} })).toThrow(RangeError);
  });
});

describe('postings', () => {
  const sorted = fc.uniqueArray(fc.integer({ min: 0, max: 500 }), { maxLength: 80 }).map((a) => Uint32Array.from(a.sort((x, y) => x - y)));
  it('intersect, union and subtract agree with set semantics', () => {
    fc.assert(
      fc.property(sorted, sorted, sorted, (a, b, c) => {
        const sb = new Set(b);
        expect(Array.from(intersect([a, b]))).toEqual(Array.from(a).filter((x) => sb.has(x)));
        expect(Array.from(subtract(a, b))).toEqual(Array.from(a).filter((x) => !sb.has(x)));
        expect(Array.from(union([a, b, c]))).toEqual([...new Set([...a, ...b, ...c])].sort((x, y) => x - y));
      }),
    );
  });
});

describe('Catalog', () => {
  function fixture(): Catalog {
    const c = new Catalog();
    c.resolve({ metric: 'cpu', tags: { host: 'a', dc: 'x' } }); // 0
    c.resolve({ metric: 'cpu', tags: { host: 'b', dc: 'x' } }); // 1
    c.resolve({ metric: 'cpu', tags: { host: 'c', dc: 'y' } }); // 2
    c.resolve({ metric: 'mem', tags: { host: 'a' } }); // 3
    c.resolve({ metric: 'cpu.idle', tags: {} }); // 4
    return c;
  }

  it('hands out dense ids once per series, whatever the tag order', () => {
    const c = fixture();
    expect(c.size).toBe(5);
    expect(c.resolve({ metric: 'cpu', tags: { dc: 'x', host: 'b' } })).toBe(1);
    expect(c.lookup({ metric: 'cpu', tags: { host: 'z' } })).toBeUndefined();
    expect(c.key(2 as never)).toEqual({ metric: 'cpu', tags: { dc: 'y', host: 'c' } });
    expect(c.size).toBe(5);
  });

  it('selects by metric, OR within a key, AND across keys, exclusion and key presence', () => {
    const c = fixture();
    expect(Array.from(c.select({ metric: 'cpu' }))).toEqual([0, 1, 2]);
    expect(Array.from(c.select({ metric: 'cpu', tags: { host: ['a', 'c'] } }))).toEqual([0, 2]);
    expect(Array.from(c.select({ metric: 'cpu', tags: { host: ['a', 'c'], dc: ['x'] } }))).toEqual([0]);
    expect(Array.from(c.select({ metric: 'cpu', excludeTags: { host: ['a'] } }))).toEqual([1, 2]);
    expect(Array.from(c.select({ tagKeyPresent: ['host'] }))).toEqual([0, 1, 2, 3]);
    expect(Array.from(c.select({ tags: { host: ['a'] } }))).toEqual([0, 3]);
    expect(Array.from(c.select({ metric: 'nope' }))).toEqual([]);
    expect(Array.from(c.select({ metric: 'cpu', tags: { host: ['zz'] } }))).toEqual([]);
    expect(Array.from(c.select({}))).toEqual([0, 1, 2, 3, 4]);
  });

  it('lists metric names by prefix, tag keys and tag values', () => {
    const c = fixture();
    expect(c.metricNames()).toEqual(['cpu', 'cpu.idle', 'mem']);
    expect(c.metricNames('cpu')).toEqual(['cpu', 'cpu.idle']);
    expect(c.metricNames('cpu', 1)).toEqual(['cpu']);
    expect(c.tagKeys('cpu')).toEqual(['dc', 'host']);
    expect(c.tagKeys()).toEqual(['dc', 'host']);
    expect(c.tagKeys('mem')).toEqual(['host']);
    expect(c.tagValues('host', 'cpu')).toEqual(['a', 'b', 'c']);
    expect(c.tagValues('host')).toEqual(['a', 'b', 'c']);
    expect(c.tagValues('dc', 'mem')).toEqual([]);
    expect(c.memoryStats().series).toBe(5);
  });
});
