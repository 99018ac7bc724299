// KairosDB queries end to end against a real Engine over a temp directory: selection, type and
// tag grouping, time/value/bin group-bys, limit/order, the empty-match placeholder, exact longs,
// save_as through a sink, /query/tags, listings and deletes (protocols.md §1.3–§1.5).
import { describe, expect, it } from 'vitest';
import { Engine, ShardWriter, shardDirectory, type WriteBatch } from '../../engine/index.js';
import { parseKairosQuery } from '../../src/protocols/kairosdb/query.js';
import {
  kairosMetricNames,
  kairosTagNames,
  kairosTagValues,
  runKairosDelete,
  runKairosMetricDelete,
  runKairosQuery,
  runKairosTagsQuery,
} from '../../src/query/kairosdb.js';
import { batchOf, type TestPoint } from '../helpers/batches.js';
import { tempDir } from '../helpers/tmp.js';

const NOW = 10_000_000;

function write(dataDir: string, points: readonly TestPoint[] | WriteBatch, shardId = 0): void {
  const writer = ShardWriter.open({ dir: shardDirectory(dataDir, shardId), shardId, syncPolicy: 'never', nowMs: () => NOW });
  writer.append(Array.isArray(points) ? batchOf(points as TestPoint[]) : (points as WriteBatch));
  writer.close();
}

function engineWith(points: readonly TestPoint[]): { engine: Engine; dataDir: string } {
  const dataDir = tempDir();
  write(dataDir, points);
  return { engine: Engine.open({ dataDir, nowMs: () => NOW }), dataDir };
}

function run(engine: Engine, metric: Record<string, unknown>, top: Record<string, unknown> = { start_absolute: 0, end_absolute: 1_000_000 }): string {
  return runKairosQuery(engine, parseKairosQuery({ ...top, metrics: [{ name: 'm', ...metric }] }, NOW));
}

const hostData: TestPoint[] = [
  { metric: 'm', tags: { host: 'a', dc: 'x' }, t: 1000, value: 1n },
  { metric: 'm', tags: { host: 'a', dc: 'x' }, t: 2000, value: 2n },
  { metric: 'm', tags: { host: 'b', dc: 'x' }, t: 1500, value: 10.5 },
  { metric: 'm', tags: { host: 'b', dc: 'x' }, t: 2500, value: 20 },
  { metric: 'm', tags: { host: 'c', dc: 'y' }, t: 1000, value: 100n },
  { metric: 'other', tags: { host: 'a' }, t: 1000, value: 7n },
];

describe('runKairosQuery', () => {
  it('merges every matching series into one group by default', () => {
    const { engine } = engineWith(hostData);
    expect(run(engine, { tags: { dc: 'x' } })).toBe(
      '{"queries":[{"sample_size":4,"results":[{"name":"m","group_by":[{"name":"type","type":"number"}],' +
        '"tags":{"dc":["x"],"host":["a","b"]},"values":[[1000,1],[1500,10.5],[2000,2],[2500,20.0]]}]}]}',
    );
  });

  it('groups by tag, sorted by the group key, with the tag and type entries', () => {
    const { engine } = engineWith(hostData);
    const text = run(engine, { group_by: [{ name: 'tag', tags: ['dc'] }], aggregators: [{ name: 'sum', sampling: { value: 1, unit: 'minutes' } }] });
    expect(text).toBe(
      '{"queries":[{"sample_size":5,"results":[' +
        '{"name":"m","group_by":[{"name":"tag","tags":["dc"],"group":{"dc":"x"}},{"name":"type","type":"number"}],' +
        '"tags":{"dc":["x"],"host":["a","b"]},"values":[[1000,33.5]]},' +
        '{"name":"m","group_by":[{"name":"tag","tags":["dc"],"group":{"dc":"y"}},{"name":"type","type":"number"}],' +
        '"tags":{"dc":["y"],"host":["c"]},"values":[[1000,100.0]]}]}]}',
    );
  });

  it('answers KairosDB 1.3’s placeholder for an empty match, and [] with a time group-by', () => {
    const { engine } = engineWith(hostData);
    expect(run(engine, { name: 'nope' })).toBe('{"queries":[{"sample_size":0,"results":[{"name":"nope","tags":{},"values":[]}]}]}');
    expect(run(engine, { name: 'nope', exclude_tags: true, aggregators: [{ name: 'sum' }] })).toBe(
      '{"queries":[{"sample_size":0,"results":[{"name":"nope","values":[]}]}]}',
    );
    expect(run(engine, { name: 'nope', group_by: [{ name: 'value', range_size: 10 }] })).toBe('{"queries":[{"sample_size":0,"results":[]}]}');
  });

  it('answers one query entry per metric, echoes alias and honours exclude_tags', () => {
    const { engine } = engineWith(hostData);
    const text = runKairosQuery(
      engine,
      parseKairosQuery({ start_absolute: 0, metrics: [{ name: 'other', alias: 'O', exclude_tags: true }, { name: 'm', tags: { host: 'c' } }] }, NOW),
    );
    expect(text).toBe(
      '{"queries":[{"sample_size":1,"results":[{"name":"other","alias":"O","group_by":[{"name":"type","type":"number"}],"values":[[1000,7]]}]},' +
        '{"sample_size":1,"results":[{"name":"m","group_by":[{"name":"type","type":"number"}],"tags":{"dc":["y"],"host":["c"]},"values":[[1000,100]]}]}]}',
    );
  });

  it('applies limit per group before aggregation, and order desc', () => {
    const { engine } = engineWith(hostData);
    const values = (text: string) => (JSON.parse(text) as { queries: { results: { values: unknown[] }[] }[] }).queries[0]!.results[0]!.values;
    expect(values(run(engine, { tags: { dc: 'x' }, limit: 3 }))).toEqual([[1000, 1], [1500, 10.5], [2000, 2]]);
    expect(values(run(engine, { tags: { dc: 'x' }, order: 'desc', limit: 2 }))).toEqual([[2500, 20], [2000, 2]]);
    expect(values(run(engine, { tags: { dc: 'x' }, limit: 2, aggregators: [{ name: 'count' }] }))).toEqual([[1000, 1], [1500, 1]]);
  });

  it('prints longs exactly beyond 2^53 and doubles the Java way', () => {
    const { engine } = engineWith([
      { metric: 'm', t: 1, value: 9223372036854775807n },
      { metric: 'm', t: 2, value: -9007199254740993n },
      { metric: 'd', t: 1, value: 12_345_678.5 },
      { metric: 'd', t: 2, value: 0.00001 },
      { metric: 'd', t: 3, value: 2 },
    ]);
    expect(run(engine, {}, { start_absolute: 0 })).toContain('"values":[[1,9223372036854775807],[2,-9007199254740993]]');
    expect(run(engine, { name: 'd' }, { start_absolute: 0 })).toContain('"values":[[1,1.23456785E7],[2,1.0E-5],[3,2.0]]');
  });

  it('puts strings in their own "text" group; number-only aggregators skip it, count does not', () => {
    const { engine } = engineWith([
      { metric: 'm', tags: { h: 'a' }, t: 1, value: 'on' },
      { metric: 'm', tags: { h: 'a' }, t: 2, value: 5 },
      { metric: 'm', tags: { h: 'b' }, t: 3, value: 'off' },
    ]);
    expect(run(engine, {}, { start_absolute: 0 })).toBe(
      '{"queries":[{"sample_size":3,"results":[' +
        '{"name":"m","group_by":[{"name":"type","type":"number"}],"tags":{"h":["a"]},"values":[[2,5.0]]},' +
        '{"name":"m","group_by":[{"name":"type","type":"text"}],"tags":{"h":["a","b"]},"values":[[1,"on"],[3,"off"]]}]}]}',
    );
    const summed = JSON.parse(run(engine, { aggregators: [{ name: 'sum', sampling: { value: 1, unit: 'hours' } }] }, { start_absolute: 0 })) as {
      queries: { results: { values: unknown[] }[] }[];
    };
    expect(summed.queries[0]!.results.map((r) => r.values)).toEqual([[[2, 5]], [[1, 'on'], [3, 'off']]]);
    const counted = JSON.parse(run(engine, { aggregators: [{ name: 'count', sampling: { value: 1, unit: 'hours' } }] }, { start_absolute: 0 })) as {
      queries: { results: { values: unknown[] }[] }[];
    };
    expect(counted.queries[0]!.results.map((r) => r.values)).toEqual([[[2, 1]], [[1, 2]]]);
  });

  it('groups by time, value and bin after the tag group-by, first appearance first', () => {
    const { engine } = engineWith([
      { metric: 'm', t: 0, value: 1n },
      { metric: 'm', t: 1, value: 12n },
      { metric: 'm', t: 2, value: 3n },
      { metric: 'm', t: 3, value: 25.5 },
    ]);
    expect(run(engine, { group_by: [{ name: 'time', range_size: { value: 1, unit: 'milliseconds' }, group_count: 2 }] }, { start_absolute: 0 })).toBe(
      '{"queries":[{"sample_size":4,"results":[' +
        '{"name":"m","group_by":[{"name":"time","range_size":{"value":1,"unit":"MILLISECONDS"},"group_count":2,"group":{"group_number":0}},{"name":"type","type":"number"}],"tags":{},"values":[[0,1],[2,3]]},' +
        '{"name":"m","group_by":[{"name":"time","range_size":{"value":1,"unit":"MILLISECONDS"},"group_count":2,"group":{"group_number":1}},{"name":"type","type":"number"}],"tags":{},"values":[[1,12],[3,25.5]]}]}]}',
    );
    const byValue = JSON.parse(run(engine, { group_by: [{ name: 'value', range_size: 10 }] }, { start_absolute: 0 })) as {
      queries: { results: { group_by: { group?: { group_number: number } }[]; values: unknown[] }[] }[];
    };
    expect(byValue.queries[0]!.results.map((r) => [r.group_by[0]!.group!.group_number, r.values])).toEqual([
      [0, [[0, 1], [2, 3]]],
      [1, [[1, 12]]],
      [2, [[3, 25.5]]],
    ]);
    expect(run(engine, { group_by: [{ name: 'bin', bins: [2, 10.5] }], limit: 2 }, { start_absolute: 0 })).toContain(
      '"group_by":[{"name":"bin","bins":[2,10.5],"group":{"bin_number":0}},{"name":"type","type":"number"}],"tags":{},"values":[[0,1]]}',
    );
  });

  it('runs the aggregator pipeline in order with KairosDB output types', () => {
    const { engine } = engineWith([0, 1, 2, 3, 4, 5].map((i) => ({ metric: 'm', t: i * 1000, value: BigInt(i * i) })));
    const text = run(engine, {
      aggregators: [
        { name: 'max', sampling: { value: '2', unit: 'seconds' }, align_start_time: true },
        { name: 'scale', factor: 0.5 },
        { name: 'trim', trim: 'first' },
      ],
    });
    expect(text).toContain('"values":[[2000,4.5],[4000,12.5]]');
  });

  it('hands save_as points to the sink, with saved_from and the tag group-by tags', () => {
    const { engine, dataDir } = engineWith(hostData);
    const batches: WriteBatch[] = [];
    const query = parseKairosQuery(
      {
        start_absolute: 0,
        metrics: [
          {
            name: 'm',
            group_by: [{ name: 'tag', tags: ['host'] }],
            aggregators: [{ name: 'count', sampling: { value: 1, unit: 'hours' } }, { name: 'save_as', metric_name: 'm.count', tags: { kind: 'rollup' } }],
          },
        ],
      },
      NOW,
    );
    const text = runKairosQuery(engine, query, (batch) => batches.push(batch));
    expect(batches).toHaveLength(1);
    expect(batches[0]!.length).toBe(3);
    expect(batches[0]!.series).toEqual([
      { metric: 'm.count', tags: { kind: 'rollup', saved_from: 'm', host: 'a' } },
      { metric: 'm.count', tags: { kind: 'rollup', saved_from: 'm', host: 'b' } },
      { metric: 'm.count', tags: { kind: 'rollup', saved_from: 'm', host: 'c' } },
    ]);
    expect(text).toContain('"values":[[1000,2]]');
    write(dataDir, batches[0]!, 1);
    const saved = run(engine, { name: 'm.count', tags: { host: 'b' } }, { start_absolute: 0 });
    expect(saved).toContain('"tags":{"host":["b"],"kind":["rollup"],"saved_from":["m"]},"values":[[1500,2]]');
    expect(() => runKairosQuery(engine, query)).toThrow(/save_as/);
  });

  it('samples days on the local calendar of the query time zone', () => {
    const hours: TestPoint[] = [];
    for (let h = 0; h < 48; h++) hours.push({ metric: 'm', t: Date.UTC(2024, 0, 1, h), value: 1n });
    const { engine } = engineWith(hours);
    const text = runKairosQuery(
      engine,
      parseKairosQuery(
        {
          start_absolute: Date.UTC(2024, 0, 1),
          end_absolute: Date.UTC(2024, 0, 3),
          time_zone: 'Asia/Tokyo',
          metrics: [{ name: 'm', aggregators: [{ name: 'count', sampling: { value: 1, unit: 'days' }, align_sampling: true, align_start_time: true }] }],
        },
        NOW,
      ),
    );
    // Tokyo midnights are 15:00Z: 15 hours on Jan 1 (local), 24 on Jan 2, 9 on Jan 3.
    expect(text).toContain(`"values":[[${Date.UTC(2023, 11, 31, 15)},15],[${Date.UTC(2024, 0, 1, 15)},24],[${Date.UTC(2024, 0, 2, 15)},9]]`);
  });

  it('fails with KairosDB’s message when rate meets equal timestamps from two series', () => {
    const { engine } = engineWith(hostData);
    expect(() => run(engine, { tags: { host: ['a', 'c'] }, aggregators: [{ name: 'rate' }] })).toThrow(/rate aggregator cannot compute rate/);
  });
});

describe('runKairosTagsQuery and listings', () => {
  it('answers tags of matching series as arrays, one result per metric', () => {
    const { engine } = engineWith(hostData);
    const query = parseKairosQuery({ cache_time: 0, start_absolute: 0, metrics: [{ name: 'm', tags: { dc: 'x' } }, { name: 'none' }] }, NOW);
    expect(runKairosTagsQuery(engine, query)).toBe(
      '{"queries":[{"results":[{"name":"m","tags":{"dc":["x"],"host":["a","b"]},"values":[]}]},{"results":[{"name":"none","tags":{},"values":[]}]}]}',
    );
  });

  const rollupData: TestPoint[] = [
    { metric: 'r', tags: { host: 'a' }, t: 1000, value: 1n },
    { metric: 'r', tags: { host: 'a', 'strata:rollup': '1h:sum' }, t: 1000, value: 9n },
    { metric: 'r', tags: { host: 'b', _aggregate: 'MAX', 'strata:rollup': 'preagg' }, t: 1000, value: 3n },
    { metric: 'only.rollup', tags: { host: 'c', 'strata:rollup': '1m:count' }, t: 1000, value: 3n },
  ];

  it("leaves OpenTSDB rollups out unless selected, and never lists Strata's reserved rollup tag key", () => {
    const { engine } = engineWith(rollupData);
    const query = parseKairosQuery({ start_absolute: 0, metrics: [{ name: 'r' }, { name: 'only.rollup' }, { name: 'r', tags: { 'strata:rollup': '1h:sum' } }] }, NOW);
    expect(runKairosTagsQuery(engine, query)).toBe(
      '{"queries":[' +
        '{"results":[{"name":"r","tags":{"host":["a"]},"values":[]}]},' +
        '{"results":[{"name":"only.rollup","tags":{},"values":[]}]},' +
        '{"results":[{"name":"r","tags":{"host":["a"]},"values":[]}]}]}',
    );
  });

  it('data queries: rollups never mix into raw series; a filter on the reserved key reads one, its key hidden', () => {
    const { engine } = engineWith(rollupData);
    const sum = [{ name: 'sum', sampling: { value: 1, unit: 'hours' } }];
    expect(run(engine, { name: 'r', aggregators: sum })).toBe(
      '{"queries":[{"sample_size":1,"results":[{"name":"r","group_by":[{"name":"type","type":"number"}],"tags":{"host":["a"]},"values":[[1000,1.0]]}]}]}',
    );
    expect(run(engine, { name: 'r', tags: { 'strata:rollup': ['1h:sum'] } })).toBe(
      '{"queries":[{"sample_size":1,"results":[{"name":"r","group_by":[{"name":"type","type":"number"}],"tags":{"host":["a"]},"values":[[1000,9]]}]}]}',
    );
    expect(run(engine, { name: 'only.rollup' })).toBe('{"queries":[{"sample_size":0,"results":[{"name":"only.rollup","tags":{},"values":[]}]}]}');
  });

  it('lists metric names by prefix, tag names and tag values', () => {
    const { engine } = engineWith(hostData);
    expect(kairosMetricNames(engine)).toBe('{"results":["m","other"]}');
    expect(kairosMetricNames(engine, 'o')).toBe('{"results":["other"]}');
    expect(kairosTagNames(engine)).toBe('{"results":["dc","host"]}');
    expect(kairosTagValues(engine, 'host')).toBe('{"results":["a","b","c"]}');
    expect(kairosTagValues(engine)).toBe('{"results":["a","b","c","x","y"]}');
  });
});

describe('deletes', () => {
  it('deletes the range of matching series by query, and whole metrics, durably', () => {
    const { engine, dataDir } = engineWith(hostData);
    runKairosDelete(engine, parseKairosQuery({ start_absolute: 1000, end_absolute: 1600, metrics: [{ name: 'm', tags: { dc: 'x' } }] }, NOW));
    const values = (text: string) => (JSON.parse(text) as { queries: { results: { values: unknown[] }[] }[] }).queries[0]!.results[0]!.values;
    expect(values(run(engine, {}, { start_absolute: 0 }))).toEqual([[1000, 100], [2000, 2], [2500, 20]]);
    runKairosMetricDelete(engine, 'm');
    expect(run(engine, {}, { start_absolute: 0 })).toBe('{"queries":[{"sample_size":0,"results":[{"name":"m","tags":{},"values":[]}]}]}');
    const reopened = Engine.open({ dataDir, nowMs: () => NOW });
    expect(run(reopened, {}, { start_absolute: 0 })).toBe('{"queries":[{"sample_size":0,"results":[{"name":"m","tags":{},"values":[]}]}]}');
    expect(values(run(engine, { name: 'other' }, { start_absolute: 0 }))).toEqual([[1000, 7]]);
  });
});
