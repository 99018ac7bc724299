// Catalog listings and lookups against a real Engine over a temp directory: suggest (metrics,
// tagk, tagv with prefix and max), TimeSeriesLookup's matching rules, unknown names, limits, and
// Strata's reserved rollup tag hidden everywhere (also from KairosDB's tagnames/tagvalues).
import { describe, expect, it } from 'vitest';
import { ROLLUP_TAG_KEY } from '../../src/protocols/reserved-tags.js';
import { kairosTagNames, kairosTagValues } from '../../src/query/kairosdb.js';
import { lookupSeries, suggestNames, visibleTagKeys, visibleTagValues, type LookupOutcome } from '../../src/query/listings.js';
import type { LookupPair } from '../../src/protocols/opentsdb/lookup.js';
import type { TestPoint } from '../helpers/batches.js';
import { engineWith } from '../helpers/engine.js';

const points: TestPoint[] = [
  { metric: 'sys.cpu.user', tags: { host: 'web01', dc: 'lga' }, t: 1000, value: 1n },
  { metric: 'sys.cpu.user', tags: { host: 'web02', dc: 'lga' }, t: 1000, value: 2n },
  { metric: 'sys.cpu.user', tags: { host: 'web03', dc: 'phx' }, t: 1000, value: 3n },
  { metric: 'sys.cpu.sys', tags: { host: 'web01', dc: 'lga', cpu: '0' }, t: 1000, value: 4n },
  { metric: 'sys.mem', tags: { host: 'web02' }, t: 1000, value: 5n },
  { metric: 'app.req', tags: { service: 'lga' }, t: 1000, value: 6n },
  // An OpenTSDB rollup and a pre-aggregate: their reserved tag and these series stay hidden.
  { metric: 'sys.cpu.user', tags: { host: 'web01', [ROLLUP_TAG_KEY]: '1h:sum' }, t: 1000, value: 7n },
  { metric: 'sys.rolled', tags: { _aggregate: 'SUM', [ROLLUP_TAG_KEY]: 'preagg' }, t: 1000, value: 8n },
];


const engine = engineWith(points);

function lookup(metric: string | null, tags: [string | null, string | null][] = [], limit = 25): LookupOutcome {
  const pairs: LookupPair[] = tags.map(([key, value]) => ({ key, value }));
  return lookupSeries(engine, { metric, tags: pairs, limit });
}

function names(outcome: LookupOutcome): string[] {
  if ('unknownName' in outcome) throw new Error(outcome.unknownName);
  return outcome.series.map((s) => `${s.metric}{${Object.keys(s.tags).sort().map((k) => `${k}=${s.tags[k]!}`).join(',')}}`);
}

describe('suggest', () => {
  it('metrics: prefix, sorted, at most max', () => {
    expect(suggestNames(engine, 'metrics', 'sys.cpu', 25)).toEqual(['sys.cpu.sys', 'sys.cpu.user']);
    expect(suggestNames(engine, 'metrics', '', 2)).toEqual(['app.req', 'sys.cpu.sys']);
    expect(suggestNames(engine, 'metrics', 'Sys', 25)).toEqual([]);
    // A metric written only as a rollup still has a name (OpenTSDB assigns it a UID too).
    expect(suggestNames(engine, 'metrics', 'sys.r', 25)).toEqual(['sys.rolled']);
  });

  it('tagk and tagv never show the reserved key or its values', () => {
    expect(suggestNames(engine, 'tagk', '', 25)).toEqual(['_aggregate', 'cpu', 'dc', 'host', 'service']);
    expect(suggestNames(engine, 'tagk', 'strata', 25)).toEqual([]);
    expect(suggestNames(engine, 'tagv', '', 25)).toEqual(['0', 'SUM', 'lga', 'phx', 'web01', 'web02', 'web03']);
    expect(suggestNames(engine, 'tagv', 'web', 2)).toEqual(['web01', 'web02']);
    expect(suggestNames(engine, 'tagv', '1h', 25)).toEqual([]);
    expect(suggestNames(engine, 'tagv', 'pre', 25)).toEqual([]);
  });

  it('visible keys and values (one value shared by two keys listed once)', () => {
    expect(visibleTagKeys(engine.catalog)).not.toContain(ROLLUP_TAG_KEY);
    expect(visibleTagValues(engine.catalog, ROLLUP_TAG_KEY)).toEqual([]);
    expect(visibleTagValues(engine.catalog, 'dc')).toEqual(['lga', 'phx']);
    expect(visibleTagValues(engine.catalog).filter((v) => v === 'lga')).toEqual(['lga']);
  });
});

describe('KairosDB listings hide the reserved key', () => {
  it('tagnames and tagvalues', () => {
    expect(JSON.parse(kairosTagNames(engine))).toEqual({ results: ['_aggregate', 'cpu', 'dc', 'host', 'service'] });
    expect(JSON.parse(kairosTagValues(engine, ROLLUP_TAG_KEY))).toEqual({ results: [] });
    expect(JSON.parse(kairosTagValues(engine))).toEqual({ results: ['0', 'SUM', 'lga', 'phx', 'web01', 'web02', 'web03'] });
  });
});

describe('lookup (TimeSeriesLookup rules)', () => {
  it('a metric alone: its raw series, sorted; rollups never', () => {
    expect(names(lookup('sys.cpu.user'))).toEqual(['sys.cpu.user{dc=lga,host=web01}', 'sys.cpu.user{dc=lga,host=web02}', 'sys.cpu.user{dc=phx,host=web03}']);
    expect(names(lookup('sys.rolled'))).toEqual([]);
  });

  it('same key OR, different keys AND, a wildcard wins over literals of its key', () => {
    expect(names(lookup('sys.cpu.user', [['host', 'web01'], ['host', 'web03']]))).toEqual(['sys.cpu.user{dc=lga,host=web01}', 'sys.cpu.user{dc=phx,host=web03}']);
    expect(names(lookup('sys.cpu.user', [['host', 'web01'], ['dc', 'phx']]))).toEqual([]);
    expect(names(lookup('sys.cpu.user', [['dc', 'lga'], ['host', 'web02']]))).toEqual(['sys.cpu.user{dc=lga,host=web02}']);
    expect(names(lookup('sys.cpu.user', [['host', 'web01'], ['host', '*']]))).toHaveLength(3);
    expect(names(lookup(null, [['cpu', null]]))).toEqual(['sys.cpu.sys{cpu=0,dc=lga,host=web01}']);
  });

  it('value-only pairs are OR\'d across every key and AND\'d with the rest; "*" metric is any', () => {
    expect(names(lookup(null, [['*', 'lga']]))).toEqual([
      'app.req{service=lga}',
      'sys.cpu.sys{cpu=0,dc=lga,host=web01}',
      'sys.cpu.user{dc=lga,host=web01}',
      'sys.cpu.user{dc=lga,host=web02}',
    ]);
    expect(names(lookup('*', [[null, 'phx'], [null, 'web02']]))).toEqual(['sys.cpu.user{dc=lga,host=web02}', 'sys.cpu.user{dc=phx,host=web03}', 'sys.mem{host=web02}']);
    expect(names(lookup(null, [['host', '*'], ['*', 'lga']]))).toEqual(['sys.cpu.sys{cpu=0,dc=lga,host=web01}', 'sys.cpu.user{dc=lga,host=web01}', 'sys.cpu.user{dc=lga,host=web02}']);
    expect(names(lookup('', [['*', '*']]))).toHaveLength(6);
  });

  it('limit cuts the sorted matches; 0 or less means all', () => {
    expect(names(lookup(null, [['host', '*']], 2))).toEqual(['sys.cpu.sys{cpu=0,dc=lga,host=web01}', 'sys.cpu.user{dc=lga,host=web01}']);
    expect(names(lookup(null, [['host', '*']], 0))).toHaveLength(5);
    expect(names(lookup(null, [['host', '*']], -1))).toHaveLength(5);
  });

  it("unknown names are NoSuchUniqueName's messages; the reserved key and its values do not exist", () => {
    expect(lookup('nope')).toEqual({ unknownName: "No such name for 'metrics': 'nope'" });
    expect(lookup('sys.cpu.user', [['rack', '*']])).toEqual({ unknownName: "No such name for 'tagk': 'rack'" });
    expect(lookup('sys.cpu.user', [['host', 'web99']])).toEqual({ unknownName: "No such name for 'tagv': 'web99'" });
    expect(lookup(null, [[ROLLUP_TAG_KEY, '*']])).toEqual({ unknownName: `No such name for 'tagk': '${ROLLUP_TAG_KEY}'` });
    expect(lookup(null, [['*', '1h:sum']])).toEqual({ unknownName: "No such name for 'tagv': '1h:sum'" });
    // A value known under another key exists as a name (OpenTSDB's tag values are one table): no match, no error.
    expect(names(lookup('sys.cpu.user', [['host', 'lga']]))).toEqual([]);
  });
});
