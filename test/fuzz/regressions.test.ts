// Regression tests for the bugs the fuzzers found (docs/guarantees.md §3), each pinned on the
// smallest input that showed it. The fuzz targets (test/fuzz/targets.ts) keep checking the general
// property; these keep the exact cases.
import { describe, expect, it } from 'vitest';
import { ServiceError, ServiceErrorCode } from '../../src/errors.js';
import { CAVE_TIMESTAMP_RANGE_MESSAGE, CavePublishDecoder, adjustedTimestampSeconds } from '../../src/protocols/cave/publish.js';
import { END, JsonSyntaxError, JsonTokenizer, NEED_MORE } from '../../src/protocols/json/tokenizer.js';
import { KairosDatapointsDecoder } from '../../src/protocols/kairosdb/ingest.js';
import { parseKairosQueryText } from '../../src/protocols/kairosdb/query.js';
import { OpenTsdbPutDecoder } from '../../src/protocols/opentsdb/put.js';
import { OpenTsdbRollupDecoder } from '../../src/protocols/opentsdb/rollup.js';
import type { WriteBatch } from '../../engine/index.js';

const enc = new TextEncoder();

function thrown(f: () => unknown): unknown {
  try {
    f();
  } catch (err) {
    return err;
  }
  throw new Error('expected a throw');
}

describe('CAVE publish: a timestamp beyond the double range (was an endless loop)', () => {
  it('refuses 1e309 (Infinity) with the range message, at once', () => {
    expect(adjustedTimestampSeconds(Number.POSITIVE_INFINITY)).toBe(Number.POSITIVE_INFINITY);
    expect(adjustedTimestampSeconds(Number.NaN)).toBeNaN();
    const points: WriteBatch[] = [];
    const decoder = new CavePublishDecoder((b) => points.push(b));
    for (const ts of ['1e309', '-1e309', '1e400']) {
      const started = performance.now();
      const err = thrown(() => decoder.decode(enc.encode(`{"metrics":[{"name":"orders","timestamp":${ts},"value":1,"tags":{}}]}`), 'org'));
      expect(err).toBeInstanceOf(ServiceError);
      expect((err as ServiceError).code).toBe(ServiceErrorCode.BadRequest);
      expect((err as ServiceError).messages).toEqual([CAVE_TIMESTAMP_RANGE_MESSAGE]);
      expect(performance.now() - started).toBeLessThan(1000);
    }
    expect(points).toEqual([]);
    // Ordinary large timestamps still come down to seconds (ms, µs, ns).
    expect(adjustedTimestampSeconds(1_413_540_000_000_000)).toBe(1_413_540_000);
  });
});

describe('KairosDB query: deeply nested documents (was a 500: stack overflow printing them)', () => {
  it('answers 400 for a document nested deeper than 512 levels, wherever the depth is', () => {
    const deep = (n: number): string => '['.repeat(n) + ']'.repeat(n);
    for (const text of [deep(20_000), `{"start_absolute":1,"metrics":[{"name":"m","tags":${deep(600)}}]}`, `{"x":"${'['.repeat(1000)}","y":${'{"a":'.repeat(600)}1${'}'.repeat(600)}}`]) {
      const err = thrown(() => parseKairosQueryText(text, 0));
      expect(err).toBeInstanceOf(ServiceError);
      expect((err as ServiceError).code).toBe(ServiceErrorCode.BadRequest);
      expect((err as ServiceError).messages).toEqual(['query json is nested deeper than 512 levels']);
    }
  });

  it('still answers KairosDB\'s own messages below the bound, and brackets inside strings do not count', () => {
    const shallow = `[${'['.repeat(100)}${']'.repeat(100)}]`;
    expect((thrown(() => parseKairosQueryText(shallow, 0)) as ServiceError).messages[0]).toMatch(/^java\.lang\.IllegalStateException: Not a JSON Object: /);
    const q = parseKairosQueryText(`{"start_absolute":1,"metrics":[{"name":"${'['.repeat(2000)}"}]}`, 0);
    expect(q.metrics[0]!.name).toBe('['.repeat(2000));
  });
});

/** The syntax error a tokenizer reports for `chunks`, or undefined. */
function syntaxError(chunks: readonly string[], nonNumericNumbers = false): string | undefined {
  const tok = new JsonTokenizer();
  tok.nonNumericNumbers = nonNumericNumbers;
  try {
    chunks.forEach((c, i) => {
      tok.feed(enc.encode(c), i === chunks.length - 1);
      for (let t = tok.next(); t !== NEED_MORE && t !== END; t = tok.next());
    });
  } catch (err) {
    if (err instanceof JsonSyntaxError) return err.message;
    throw err;
  }
  return undefined;
}

describe('JSON tokenizer: a token cut by a chunk boundary fails as it does whole (the message used to depend on the cut)', () => {
  it('numbers and literals ended by a byte that is not part of them', () => {
    const docs = ['{"a":17040e":1}', '[1e+"]', '[-"]', '[1."]', '[1.5e-,2]', '[tru"]', '[nul]', '[fals,1]', '[-]', '[12e]', '[1e5"]'];
    for (const doc of docs) {
      const whole = syntaxError([doc]);
      expect(whole, doc).toBeDefined();
      for (let cut = 1; cut < doc.length; cut++) expect(syntaxError([doc.slice(0, cut), doc.slice(cut)]), `${doc} cut at ${cut}`).toBe(whole);
    }
  });

  it('Jackson\'s non-numeric numbers (OpenTSDB) likewise', () => {
    for (const doc of ['[-"]', '[+"]', '[+]', '[+5', '[-I"]', '[+5]', '[-In]', '[NaX]', '[-INF"]', '[+I]']) {
      const whole = syntaxError([doc], true);
      expect(whole, doc).toBeDefined();
      for (let cut = 1; cut < doc.length; cut++) expect(syntaxError([doc.slice(0, cut), doc.slice(cut)], true), `${doc} cut at ${cut}`).toBe(whole);
    }
  });

  it('a token cut at the true end of input still says so', () => {
    expect(syntaxError(['[1e', ''])).toMatch(/^Unexpected end of input in an exponent/);
    expect(syntaxError(['[tr', ''])).toMatch(/^Unexpected end of input inside a literal/);
  });
});

describe('series keys beyond the engine\'s bound (were a 500 from the catalog, failing the whole request)', () => {
  const huge = 'x'.repeat(70_000);

  it('KairosDB ingest refuses that metric alone and stores the others', () => {
    const stored: string[] = [];
    const decoder = new KairosDatapointsDecoder((b) => {
      for (let i = 0; i < b.length; i++) stored.push(b.series[b.seriesIndex[i]!]!.metric);
    });
    decoder.write(
      enc.encode(
        JSON.stringify([
          { name: 'ok1', timestamp: 1, value: 1, tags: { h: 'a' } },
          { name: 'm', timestamp: 1, value: 1, tags: { h: huge } },
          { name: huge, timestamp: 1, value: 1, tags: { h: 'a' }, skip_validate: true },
          { name: 'ok2', timestamp: 1, value: 1, tags: { h: 'é'.repeat(30_000) } }, // 60,000 bytes: fits
        ]),
      ),
    );
    const r = decoder.end();
    expect(r.errors).toEqual(['metric[1] name and tags together exceed 64512 bytes.', 'metric[2] name and tags together exceed 64512 bytes.']);
    expect(stored).toEqual(['ok1', 'ok2']);
  });

  it('OpenTSDB put and rollup refuse that point alone, on the full path and the fast path', () => {
    for (const make of [
      (sink: (b: WriteBatch) => void) => new OpenTsdbPutDecoder(sink, { simplePoints: true }),
      (sink: (b: WriteBatch) => void) => new OpenTsdbPutDecoder(sink, { simplePoints: false }),
      (sink: (b: WriteBatch) => void) => new OpenTsdbRollupDecoder(sink),
    ]) {
      let stored = 0;
      const decoder = make((b) => (stored += b.length));
      const point = (metric: string, host: string): object => ({ metric, timestamp: 1704067200, value: 1, tags: { host }, interval: '1h', aggregator: 'sum' });
      decoder.write(enc.encode(JSON.stringify([point('ok', 'a'), point('m', huge), point(huge, 'a'), point('ok', 'b')])));
      const r = decoder.end();
      expect(r.bodyError).toBeNull();
      expect(r.accepted).toBe(2);
      expect(r.errors.map((e) => e.error)).toEqual(['Metric name and tags together exceed 64512 bytes', 'Metric name and tags together exceed 64512 bytes']);
      expect(stored).toBe(2);
    }
  });

  it('OpenTSDB rollup counts its aggregator name (kept in the rollup tag) towards the bound', () => {
    let stored = 0;
    const decoder = new OpenTsdbRollupDecoder((b) => (stored += b.length));
    const point = (aggregator: string): object => ({ metric: 'm', timestamp: 1704067200, value: 1, tags: { a: 'b' }, interval: '1d', aggregator });
    decoder.write(enc.encode(JSON.stringify([point('count'), point('x'.repeat(68_000))])));
    const r = decoder.end();
    expect(r.accepted).toBe(1);
    expect(r.errors.map((e) => e.error)).toEqual(['Metric name and tags together exceed 64512 bytes']);
    expect(stored).toBe(1);
  });
});
