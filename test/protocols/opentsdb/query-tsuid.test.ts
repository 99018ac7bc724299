// TSUIDs in /api/query as pure functions: hex decoding with OpenTSDB's messages, the canonical
// series key parser (the inverse of lookup's seriesTsuid), the shared-metric check, and how the
// GET tsuid= and POST "tsuids" forms reach a validated sub-query.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalSeriesKey } from '../../../engine/index.js';
import { seriesTsuid } from '../../../src/protocols/opentsdb/lookup.js';
import { OpenTsdbQueryError, parseOpenTsdbQuery } from '../../../src/protocols/opentsdb/query.js';
import { parseCanonicalSeriesKey, resolveTsuids, seriesKeyOfTsuid, tsuidBytes } from '../../../src/protocols/opentsdb/query-tsuid.js';

const NOW_MS = 1_700_000_000_000;
const hex = (text: string): string => Buffer.from(text, 'utf8').toString('hex').toUpperCase();

function failure(fn: () => unknown): { status: number; message: string } {
  try {
    fn();
  } catch (err) {
    if (err instanceof OpenTsdbQueryError) return { status: err.status, message: err.message };
    throw err;
  }
  throw new Error('did not throw');
}

describe('tsuidBytes', () => {
  it('decodes hex of either case', () => {
    expect([...tsuidBytes('6D7B7D')]).toEqual([0x6d, 0x7b, 0x7d]);
    expect([...tsuidBytes('6d7b7d')]).toEqual([0x6d, 0x7b, 0x7d]);
  });

  it('refuses malformed hex with the messages of OpenTSDB’s hex conversion', () => {
    expect(failure(() => tsuidBytes(''))).toEqual({ status: 400, message: 'UID was empty' });
    expect(failure(() => tsuidBytes('6D7B7'))).toEqual({ status: 400, message: 'hexBinary needs to be even-length: 6D7B7' });
    expect(failure(() => tsuidBytes('6D7G7D'))).toEqual({ status: 400, message: 'contains illegal character for hexBinary: 6D7G7D' });
    expect(failure(() => tsuidBytes('6D7B 7D0'))).toEqual({ status: 400, message: 'contains illegal character for hexBinary: 6D7B 7D0' });
  });
});

describe('parseCanonicalSeriesKey', () => {
  it('reads the canonical form, escapes included', () => {
    expect(parseCanonicalSeriesKey('sys.cpu{dc=lga,host=web01}')).toEqual({ metric: 'sys.cpu', tags: { dc: 'lga', host: 'web01' } });
    expect(parseCanonicalSeriesKey('m{}')).toEqual({ metric: 'm', tags: {} });
    expect(parseCanonicalSeriesKey('a\\{b\\\\{k\\==v\\,\\}}')).toEqual({ metric: 'a{b\\', tags: { 'k=': 'v,}' } });
    expect(parseCanonicalSeriesKey('{=}')).toEqual({ metric: '', tags: { '': '' } });
  });

  it('refuses anything that is not exactly a canonical key', () => {
    for (const text of [
      '',
      'm',
      'm{',
      'm}',
      'm{}x',
      'm{host}',
      'm{host=a,}',
      'm{b=1,a=2}', // unsorted
      'm{a=1,a=2}', // duplicate key
      'm{a=b=c}', // unescaped '='
      'm,n{}', // unescaped ','
      'm{a=1}}',
      'm{a=1\\}',
      'm\\',
    ]) {
      expect(parseCanonicalSeriesKey(text), text).toBeUndefined();
    }
  });

  it('inverts canonicalSeriesKey for any key', () => {
    // Mostly the five escaped characters, so escapes meet each other and the separators.
    const special = fc.string({ unit: fc.constantFrom('\\', '{', '}', ',', '=', 'a', 'é'), maxLength: 6 });
    const name = fc.oneof(special, fc.string({ unit: 'grapheme', maxLength: 8 }));
    fc.assert(
      fc.property(name, fc.dictionary(name, name, { maxKeys: 4 }), (metric, tags) => {
        const key = { metric, tags };
        expect(parseCanonicalSeriesKey(canonicalSeriesKey(key))).toEqual(key);
      }),
    );
  });
});

describe('seriesKeyOfTsuid', () => {
  it('names the series lookup printed the TSUID for', () => {
    const key = { metric: 'sys.cpu', tags: { host: 'web01', dc: 'lga' } };
    expect(seriesTsuid(key)).toBe(hex('sys.cpu{dc=lga,host=web01}'));
    expect(seriesKeyOfTsuid(seriesTsuid(key))).toEqual({ metric: 'sys.cpu', tags: { dc: 'lga', host: 'web01' } });
    expect(seriesKeyOfTsuid(seriesTsuid(key).toLowerCase())).toEqual(key);
    const name = fc.string({ unit: 'grapheme', maxLength: 6 });
    fc.assert(
      fc.property(name, fc.dictionary(name, name, { maxKeys: 3 }), (metric, tags) => {
        fc.pre(!('strata:rollup' in tags));
        expect(seriesKeyOfTsuid(seriesTsuid({ metric, tags }))).toEqual({ metric, tags });
      }),
    );
  });

  it('names nothing for hex that is no canonical key, invalid UTF-8, or a reserved tag key', () => {
    expect(seriesKeyOfTsuid('000001000001000001')).toBeUndefined(); // OpenTSDB's 3-byte UIDs
    expect(seriesKeyOfTsuid('FF7B7D')).toBeUndefined(); // not UTF-8
    expect(seriesKeyOfTsuid(hex('m{b=1,a=2}'))).toBeUndefined();
    expect(seriesKeyOfTsuid(hex('m{host=a,strata:rollup=1h:sum}'))).toBeUndefined();
    expect(failure(() => seriesKeyOfTsuid('XYZ0'))).toEqual({ status: 400, message: 'contains illegal character for hexBinary: XYZ0' });
  });
});

describe('resolveTsuids', () => {
  it('collects the named series once each and their shared metric', () => {
    const a = hex('m{host=a}');
    const b = hex('m{host=b}');
    expect(resolveTsuids([a, b, a.toLowerCase(), '000001000001000001'])).toEqual({
      metric: 'm',
      series: [
        { metric: 'm', tags: { host: 'a' } },
        { metric: 'm', tags: { host: 'b' } },
      ],
    });
    expect(resolveTsuids(['000001000001000001'])).toEqual({ metric: null, series: [] });
  });

  it('refuses TSUIDs of two metrics with OpenTSDB’s words and the metrics’ hex', () => {
    expect(failure(() => resolveTsuids([hex('m1{host=a}'), hex('m1{host=b}'), hex('m2{host=a}')]))).toEqual({
      status: 400,
      message: `One or more TSUIDs did not share the same metric [${hex('m1')}] [${hex('m2')}]`,
    });
    // The metric's hex is that of its escaped name, the TSUID's own prefix.
    expect(failure(() => resolveTsuids([hex('a\\{{}'), hex('b{}')])).message).toBe(
      `One or more TSUIDs did not share the same metric [${hex('a\\{')}] [${hex('b')}]`,
    );
  });

  it('any input either names series or fails with a 400 in OpenTSDB’s words, never anything else', () => {
    const hexish = fc.string({ unit: fc.constantFrom(...'0123456789ABCDEFabcdefxyz ,{}=\\'), maxLength: 24 });
    const tsuidish = fc.oneof(hexish, hexish.map((t) => hex(t)), fc.constantFrom(hex('m{a=1}'), hex('n{a=1}'), 'FF7B7D', hex('m{}')));
    fc.assert(
      fc.property(fc.array(tsuidish, { maxLength: 5 }), (tsuids) => {
        try {
          const { metric, series } = resolveTsuids(tsuids);
          for (const key of series) expect(key.metric).toBe(metric);
        } catch (err) {
          expect(err).toBeInstanceOf(OpenTsdbQueryError);
          expect((err as OpenTsdbQueryError).status).toBe(400);
          expect((err as OpenTsdbQueryError).message).toMatch(/^(UID was empty|hexBinary needs to be even-length: |contains illegal character for hexBinary: |One or more TSUIDs did not share the same metric \[[0-9A-F]*\] \[[0-9A-F]*\]$)/);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('checks the hex before comparing metrics', () => {
    expect(failure(() => resolveTsuids([hex('m1{}'), hex('m2{}'), 'ABC']))).toEqual({ status: 400, message: 'hexBinary needs to be even-length: ABC' });
  });
});

describe('parseOpenTsdbQuery with TSUIDs', () => {
  const a = hex('sys.cpu{host=a}');
  const b = hex('sys.cpu{host=b}');
  const getQuery = (qs: string) => parseOpenTsdbQuery('GET', qs, '', NOW_MS);
  const postQuery = (body: unknown) => parseOpenTsdbQuery('POST', '', JSON.stringify(body), NOW_MS);

  it('GET tsuid=agg:[rate:][downsample:]tsuid,… (before the m= sub-queries)', () => {
    const q = getQuery(`start=1h-ago&m=sum:sys.cpu&tsuid=avg:rate{counter,100}:1m-max:${a},${b},`);
    expect(q.queries.map((s) => [s.aggregator, s.metric, s.tsuids])).toEqual([
      ['avg', '', [a, b]], // String.split: the trailing empty TSUID is dropped
      ['sum', 'sys.cpu', []],
    ]);
    const sub = q.queries[0]!;
    expect(sub.rate).toBe(true);
    expect(sub.rateOptions).toEqual({ counter: true, counterMax: 100n, resetValue: 0n, dropResets: false });
    expect(sub.downsampleSpec).toMatchObject({ intervalMs: 60_000, aggregator: 'max' });
    expect(sub.tsuidSelection).toEqual({ metric: 'sys.cpu', series: [{ metric: 'sys.cpu', tags: { host: 'a' } }, { metric: 'sys.cpu', tags: { host: 'b' } }] });
    expect(q.queries[1]!.tsuidSelection).toBeNull();
  });

  it('GET messages', () => {
    expect(failure(() => getQuery('start=1h-ago&tsuid='))).toEqual({ status: 400, message: 'The tsuid query string was empty' });
    expect(failure(() => getQuery(`start=1h-ago&tsuid=${a}`))).toEqual({ status: 400, message: `Invalid parameter m=${a} (not enough :-separated parts)` });
    expect(failure(() => getQuery('start=1h-ago&tsuid=sum:,,'))).toEqual({ status: 400, message: 'Missing the metric or tsuids, provide at least one' });
    expect(failure(() => getQuery(`start=1h-ago&tsuid=sum:${a},,${b}`))).toEqual({ status: 400, message: 'UID was empty' });
    expect(failure(() => getQuery(`start=1h-ago&tsuid=nope:${a}`))).toEqual({ status: 400, message: 'No such aggregation function: nope' });
  });

  it('POST "tsuids" (metric and filters beside them are kept for the echo only)', () => {
    const q = postQuery({ start: '1h-ago', showTSUIDs: true, queries: [{ aggregator: 'sum', tsuids: [b, a], downsample: '1m-avg', tags: { host: '*' } }] });
    expect(q.showTsuids).toBe(true);
    expect(q.queries[0]!.tsuids).toEqual([b, a]);
    expect(q.queries[0]!.tsuidSelection!.series).toEqual([{ metric: 'sys.cpu', tags: { host: 'b' } }, { metric: 'sys.cpu', tags: { host: 'a' } }]);
    expect(failure(() => postQuery({ start: '1h-ago', queries: [{ aggregator: 'sum', tsuids: [] }] })).message).toBe('Missing the metric or tsuids, provide at least one');
    expect(failure(() => postQuery({ start: '1h-ago', queries: [{ aggregator: 'sum', tsuids: [null] }] })).message).toBe('UID was empty');
    expect(failure(() => postQuery({ start: '1h-ago', queries: [{ aggregator: 'sum', tsuids: ['7A7'] }] })).message).toBe('hexBinary needs to be even-length: 7A7');
    expect(failure(() => postQuery({ start: '1h-ago', queries: [{ aggregator: 'sum', tsuids: 'x' }] })).message).toBe('Unable to parse the given JSON');
  });

  it('reads TSUIDs only after every sub-query validated, as OpenTSDB configures after validating', () => {
    const body = { start: '1h-ago', queries: [{ aggregator: 'sum', tsuids: ['ZZ'] }, { aggregator: 'nope', metric: 'm' }] };
    expect(failure(() => postQuery(body)).message).toBe('No such aggregation function: nope');
    const mixed = { start: '1h-ago', queries: [{ aggregator: 'sum', tsuids: [a, hex('other{host=a}')] }] };
    expect(failure(() => postQuery(mixed)).message).toBe(`One or more TSUIDs did not share the same metric [${hex('sys.cpu')}] [${hex('other')}]`);
  });
});
