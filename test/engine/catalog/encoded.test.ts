// Resolving binary series keys straight from their bytes (Catalog.resolveEncodedKeys,
// SeriesKeySplitter) must build exactly the catalog that decoding each key and resolving it
// would: same ids in the same order, same keys, listings and select answers.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ByteReader, ByteWriter } from '../../../engine/codec/bytes.js';
import { Catalog } from '../../../engine/catalog/catalog.js';
import { SeriesKeySplitter, decodeSeriesKey, encodeSeriesKey, seriesKeysEnd } from '../../../engine/catalog/series-key.js';
import type { SeriesKey } from '../../../engine/types.js';
import { catalogAnswers } from '../../helpers/catalog.js';

/** Strings that exercise the byte paths: shared, empty, non-ASCII, astral, long, `__proto__`. */
const text = fc.oneof(
  fc.constantFrom('', 'a', 'b', 'host', 'cpu', 'é', '😀', '！', '\uFEFF', '__proto__', 'x'.repeat(40), 'é'.repeat(20)),
  fc.string({ unit: fc.constantFrom('a', 'b', 'é', '😀', '=', ' '), maxLength: 5 }),
);
const key: fc.Arbitrary<SeriesKey> = fc.record({ metric: text, tags: fc.dictionary(text, text, { maxKeys: 5 }) });
/** Keys as a writer defines them: often several metrics over one tag set, back to back. */
const keys = fc.array(fc.tuple(key, fc.array(text, { maxLength: 4 })), { maxLength: 30 }).map((groups) => {
  const out: SeriesKey[] = [];
  for (const [k, metrics] of groups) {
    out.push(k);
    for (const m of metrics) out.push({ metric: m, tags: k.tags });
  }
  return out;
});

function encode(list: readonly SeriesKey[]): Uint8Array {
  const w = new ByteWriter(64);
  for (const k of list) encodeSeriesKey(w, k);
  return w.bytes().slice();
}

describe('Catalog.resolveEncodedKeys', () => {
  it('gives the ids, keys, listings and selections that decode + resolve give', () => {
    fc.assert(
      fc.property(keys, keys, (first, second) => {
        const reference = new Catalog();
        const expectedIds = [...first, ...second].map((k) => reference.resolve(k));
        const c = new Catalog();
        const ids = new Uint32Array(first.length + second.length);
        const a = encode(first);
        const b = encode(second);
        expect(c.resolveEncodedKeys(a, 0, first.length, ids, 0)).toBe(a.length);
        c.reserve(second.length);
        expect(c.resolveEncodedKeys(b, 0, second.length, ids, first.length)).toBe(b.length);
        expect(Array.from(ids)).toEqual(expectedIds);
        expect(catalogAnswers(c)).toEqual(catalogAnswers(reference));
      }),
      { numRuns: 300 },
    );
  });

  it('agrees with resolve and lookup when both paths fill one catalog', () => {
    fc.assert(
      fc.property(keys, keys, (first, second) => {
        const reference = new Catalog();
        for (const k of [...first, ...second, ...first]) reference.resolve(k);
        const c = new Catalog();
        for (const k of first) c.resolve(k);
        const ids = new Uint32Array(second.length + first.length);
        c.resolveEncodedKeys(encode([...second, ...first]), 0, second.length + first.length, ids, 0);
        expect(Array.from(ids)).toEqual([...second, ...first].map((k) => reference.lookup(k)));
        for (const k of second) expect(c.lookup(k)).toBe(reference.lookup(k));
        expect(catalogAnswers(c)).toEqual(catalogAnswers(reference));
      }),
      { numRuns: 200 },
    );
  });

  it('starts at any offset and returns the offset after the last key', () => {
    const list: SeriesKey[] = [{ metric: 'a', tags: { k: 'v' } }, { metric: 'b', tags: { k: 'v' } }, { metric: 'c', tags: {} }];
    const buf = encode(list);
    const second = seriesKeysEnd(buf, 0, 1, buf.length);
    const c = new Catalog();
    const ids = new Uint32Array(4).fill(99);
    expect(c.resolveEncodedKeys(buf, second, 2, ids, 1)).toBe(buf.length);
    expect(Array.from(ids)).toEqual([99, 0, 1, 99]);
    expect(c.key(0 as never)).toEqual({ metric: 'b', tags: { k: 'v' } });
  });

  it('rejects corrupt keys, keeping the ones before', () => {
    const good = encode([{ metric: 'ok', tags: { a: '1' } }]);
    const corrupt: [string, number[]][] = [
      ['unsorted tags', [1, 0x6d, 2, 1, 0x62, 0, 1, 0x61, 0]],
      ['duplicate tags', [1, 0x6d, 2, 1, 0x61, 0, 1, 0x61, 0]],
      ['invalid UTF-8', [2, 0xc3, 0x28, 0]],
      ['a UTF-8 surrogate', [3, 0xed, 0xa0, 0x80, 0]],
      ['truncated', [5, 0x6d, 0x6d]],
    ];
    for (const [what, bytes] of corrupt) {
      const buf = new Uint8Array([...good, ...bytes]);
      expect(() => decodeSeriesKey(new ByteReader(buf, good.length)), what).toThrow(RangeError);
      const c = new Catalog();
      const ids = new Uint32Array(2);
      expect(() => c.resolveEncodedKeys(buf, 0, 2, ids, 0), what).toThrow(RangeError);
      expect(c.size, what).toBe(1);
      expect(c.key(0 as never)).toEqual({ metric: 'ok', tags: { a: '1' } });
    }
  });

  it('tells a lone-surrogate string (no UTF-8 form) from U+FFFD', () => {
    const c = new Catalog();
    const lone = c.resolve({ metric: '\uD800', tags: {} });
    const ids = new Uint32Array(1);
    c.resolveEncodedKeys(encode([{ metric: '\uFFFD', tags: {} }]), 0, 1, ids, 0);
    expect(ids[0]).not.toBe(lone);
    expect(c.key(ids[0]! as never).metric).toBe('\uFFFD');
  });
});

describe('SeriesKeySplitter', () => {
  it('finds every string of every key, and notices repeated tag sections', () => {
    fc.assert(
      fc.property(keys, (list) => {
        const buf = encode(list);
        const r = new ByteReader(buf);
        const splitter = new SeriesKeySplitter();
        const utf8 = new TextDecoder('utf-8', { ignoreBOM: true });
        let pos = 0;
        let previous: SeriesKey | undefined;
        for (const original of list) {
          const decoded = decodeSeriesKey(r);
          splitter.split(buf, pos, buf.length);
          expect(splitter.end).toBe(r.pos);
          const strings: string[] = [];
          for (let i = 0; i < splitter.count; i++) strings.push(utf8.decode(buf.subarray(splitter.spans[2 * i]!, splitter.spans[2 * i]! + splitter.spans[2 * i + 1]!)));
          expect(strings).toEqual([decoded.metric, ...Object.entries(decoded.tags).flat()]);
          if (splitter.tagsRepeat) expect(previous?.tags).toEqual(decoded.tags);
          else if (previous !== undefined && original.tags === previous.tags) expect.unreachable('a repeated tag set was not noticed');
          previous = original;
          pos = splitter.end;
        }
        expect(seriesKeysEnd(buf, 0, list.length, buf.length)).toBe(buf.length);
      }),
      { numRuns: 300 },
    );
  });

  it('throws what decodeSeriesKey throws', () => {
    const w = new ByteWriter();
    w.string('m');
    w.varuint(2);
    for (const s of ['b', '1', 'a', '2']) w.string(s);
    const bad = w.bytes().slice();
    const message = (f: () => unknown): string => {
      try {
        f();
      } catch (err) {
        return (err as Error).message;
      }
      return 'no error';
    };
    const splitter = new SeriesKeySplitter();
    for (const buf of [bad, bad.subarray(0, 5), new Uint8Array([0x80, 0x80, 0x80, 0x80, 0x01])]) {
      expect(message(() => splitter.split(buf, 0, buf.length))).toBe(message(() => decodeSeriesKey(new ByteReader(buf))));
    }
    expect(() => seriesKeysEnd(bad, 0, 2, bad.length)).toThrow(RangeError);
  });
});
