// CAVE reads against a real Engine over a temp directory: InfluxDB 0.8's aggregators on
// hand-computed buckets, account scoping (org, team, another org; a CAVE-account tag in the
// request changes nothing), tag filters, start/end at whole seconds and exclusive, the limit
// taking the most recent buckets, unknown metrics, and the metric-names listing.
import { describe, expect, it } from 'vitest';
import { ROLLUP_TAG_KEY } from '../../src/protocols/reserved-tags.js';
import { parseCaveMetricsRequest, type CaveMetricsRequest } from '../../src/protocols/cave/query.js';
import { aggregateCave, caveMetricNames, runCaveMetricsQuery } from '../../src/query/cave.js';
import type { TestPoint } from '../helpers/batches.js';
import { engineWith } from '../helpers/engine.js';

const T0 = Date.UTC(2014, 9, 17, 10); // 2014-10-17T10:00:00Z, a 5-minute boundary
const MIN = 60_000;
const acc = (account: string, tags: Record<string, string> = {}): Record<string, string> => ({ ...tags, 'CAVE-account': account });

const points: TestPoint[] = [
  // gilt: cpu on two hosts, bucket [T0, T0+5m): 1, 2, 3, 3 ; bucket [T0+5m, T0+10m): 10
  { metric: 'cpu', tags: acc('gilt', { host: 'a' }), t: T0, value: 1 },
  { metric: 'cpu', tags: acc('gilt', { host: 'a' }), t: T0 + MIN, value: 3 },
  { metric: 'cpu', tags: acc('gilt', { host: 'b' }), t: T0 + 2 * MIN, value: 2 },
  { metric: 'cpu', tags: acc('gilt', { host: 'b' }), t: T0 + 4 * MIN, value: 3n }, // an int64 written by another protocol counts
  { metric: 'cpu', tags: acc('gilt', { host: 'b' }), t: T0 + 4 * MIN + 1000, value: 'text' }, // skipped
  { metric: 'cpu', tags: acc('gilt', { host: 'a' }), t: T0 + 6 * MIN, value: 10 },
  // The team's and another org's series of the same metric, and an untagged one: never in gilt's answers.
  { metric: 'cpu', tags: acc('ops.gilt', { host: 'a' }), t: T0, value: 1000 },
  { metric: 'cpu', tags: acc('other', { host: 'a' }), t: T0, value: 2000 },
  { metric: 'cpu', tags: { host: 'a' }, t: T0, value: 3000 },
  // A rollup carrying gilt's account (written by an operator through OpenTSDB): hidden.
  { metric: 'cpu', tags: acc('gilt', { host: 'a', [ROLLUP_TAG_KEY]: '1h:sum' }), t: T0, value: 4000 },
  { metric: 'mem', tags: acc('gilt', { dc: 'x', 'CAVE-cluster': 'c1' }), t: T0, value: 5 },
  { metric: 'disk', tags: acc('ops.gilt', { dev: 'sda' }), t: T0, value: 6 },
];


const engine = engineWith(points);
const NOW = T0 + 60 * MIN;

function request(query: string): CaveMetricsRequest {
  const r = parseCaveMetricsRequest(query);
  if ('error' in r) throw new Error(r.error);
  return r;
}

function read(account: string, query: string): { status: number; body: unknown } {
  const answer = runCaveMetricsQuery(engine, account, request(query), NOW);
  return { status: answer.status, body: answer.status === 200 ? JSON.parse(answer.body) : answer.body };
}

const at = (minutes: number): string => new Date(T0 + minutes * MIN).toISOString().replace('.000Z', 'Z');

describe('aggregateCave (InfluxDB 0.8 rules)', () => {
  const v = [1, 2, 3, 3];
  it('count, min, max, sum, mean', () => {
    expect(aggregateCave('count', v)).toBe(4);
    expect(aggregateCave('min', v)).toBe(1);
    expect(aggregateCave('max', v)).toBe(3);
    expect(aggregateCave('sum', v)).toBe(9);
    expect(aggregateCave('mean', v)).toBe(2.25);
  });

  it('stddev is the population deviation', () => {
    // mean 2.25; squared deviations 1.5625 + 0.0625 + 0.5625 + 0.5625 = 2.75; /4 = 0.6875
    expect(aggregateCave('stddev', v)).toBeCloseTo(Math.sqrt(0.6875), 12);
    expect(aggregateCave('stddev', [5])).toBe(0);
  });

  it('median and percentiles: sorted[floor(n·p/100 + 0.5) − 1], 0 below the first', () => {
    expect(aggregateCave('median', [3, 1, 2])).toBe(2); // floor(1.5 + .5) − 1 = 1
    expect(aggregateCave('median', v)).toBe(2); // floor(2 + .5) − 1 = 1
    const hundred = Array.from({ length: 100 }, (_, i) => 100 - i); // 1..100 shuffled order
    expect(aggregateCave('p90', hundred)).toBe(90);
    expect(aggregateCave('p95', hundred)).toBe(95);
    expect(aggregateCave('p99', hundred)).toBe(99);
    expect(aggregateCave('p999', hundred)).toBe(100); // floor(99.9 + .5) − 1 = 99
    expect(aggregateCave('p90', [7])).toBe(7); // floor(0.9 + .5) − 1 = 0
    expect(aggregateCave('median', [7])).toBe(7); // floor(0.5 + .5) − 1 = 0
    expect(aggregateCave('p999', [4, 5])).toBe(5);
  });

  it('mode: most frequent, smallest on a tie', () => {
    expect(aggregateCave('mode', v)).toBe(3);
    expect(aggregateCave('mode', [5, 4, 5, 4, 9])).toBe(4);
  });
});

describe('runCaveMetricsQuery', () => {
  it('buckets per period, aligned to the epoch, oldest first; empty buckets left out', () => {
    expect(read('gilt', 'metric=cpu&aggregator=sum&period=5')).toEqual({
      status: 200,
      body: { metrics: [{ time: at(0), value: 9 }, { time: at(5), value: 10 }] },
    });
    expect(read('gilt', 'metric=cpu&aggregator=count&period=60')).toEqual({ status: 200, body: { metrics: [{ time: at(0), value: 5 }] } });
    expect(read('gilt', 'metric=cpu&aggregator=max&period=1').body).toEqual({
      metrics: [
        { time: at(0), value: 1 },
        { time: at(1), value: 3 },
        { time: at(2), value: 2 },
        { time: at(4), value: 3 },
        { time: at(6), value: 10 },
      ],
    });
  });

  it('prints values as CAVE does (2.0, not 2)', () => {
    const answer = runCaveMetricsQuery(engine, 'gilt', request('metric=cpu&aggregator=mean&period=5&tags=host:a'), NOW);
    expect(answer.body).toBe(`{"metrics":[{"time":"${at(0)}","value":2.0},{"time":"${at(5)}","value":10.0}]}`);
  });

  it('is scoped to the account: the team, another org and untagged series never mix in', () => {
    expect(read('ops.gilt', 'metric=cpu&aggregator=sum&period=60').body).toEqual({ metrics: [{ time: at(0), value: 1000 }] });
    expect(read('other', 'metric=cpu&aggregator=sum&period=60').body).toEqual({ metrics: [{ time: at(0), value: 2000 }] });
    expect(read('nobody', 'metric=cpu&aggregator=sum&period=60')).toEqual({ status: 400, body: 'Unable to fetch metric data: the metric does not exist.' });
    expect(read('gilt', 'metric=disk&aggregator=sum&period=60').status).toBe(400);
  });

  it('a CAVE-account tag in the request cannot move the read to another account', () => {
    expect(read('gilt', 'metric=cpu&aggregator=sum&period=60&tags=CAVE-account:other').body).toEqual({ metrics: [{ time: at(0), value: 19 }] });
    expect(read('gilt', 'metric=cpu&aggregator=sum&period=60&tags=CAVE-account:ops.gilt').body).toEqual({ metrics: [{ time: at(0), value: 19 }] });
  });

  it('filters on tags; a filter matching nothing is an empty answer, not an error', () => {
    expect(read('gilt', 'metric=cpu&aggregator=sum&period=60&tags=host:b').body).toEqual({ metrics: [{ time: at(0), value: 5 }] });
    expect(read('gilt', 'metric=cpu&aggregator=sum&period=60&tags=host:a,dc:x').body).toEqual({ metrics: [] });
    expect(read('gilt', 'metric=cpu&aggregator=sum&period=60&tags=host:zzz').body).toEqual({ metrics: [] });
  });

  it('start and end are exclusive, at whole seconds', () => {
    const start = (m: number, ms = 0): string => new Date(T0 + m * MIN + ms).toISOString();
    // start = T0 excludes the point at T0; end = T0+6m excludes the point at T0+6m.
    expect(read('gilt', `metric=cpu&aggregator=count&period=60&start=${start(0)}&end=${start(6)}`).body).toEqual({ metrics: [{ time: at(0), value: 3 }] });
    // Millis are dropped before comparing: start T0+0.999s is still "after T0:00:00".
    expect(read('gilt', `metric=cpu&aggregator=count&period=60&start=${start(0, 999)}`).body).toEqual({ metrics: [{ time: at(0), value: 4 }] });
    expect(read('gilt', `metric=cpu&aggregator=count&period=60&start=${start(-1, 999)}`).body).toEqual({ metrics: [{ time: at(0), value: 5 }] });
    expect(read('gilt', `metric=cpu&aggregator=count&period=60&start=${start(7)}&end=${start(1)}`).body).toEqual({ metrics: [] });
  });

  it('no end means now: points after now are left out', () => {
    const answer = runCaveMetricsQuery(engine, 'gilt', request('metric=cpu&aggregator=count&period=60'), T0 + 3 * MIN);
    expect(JSON.parse(answer.body)).toEqual({ metrics: [{ time: at(0), value: 3 }] });
  });

  it('limit keeps the most recent buckets', () => {
    expect(read('gilt', 'metric=cpu&aggregator=max&period=1&limit=2').body).toEqual({ metrics: [{ time: at(4), value: 3 }, { time: at(6), value: 10 }] });
  });
});

describe('caveMetricNames', () => {
  it('lists the account metrics with their tag keys, CAVE tags and rollups hidden', () => {
    expect(JSON.parse(caveMetricNames(engine, 'gilt'))).toEqual([
      { name: 'cpu', tags: ['host'] },
      { name: 'mem', tags: ['dc'] },
    ]);
    expect(JSON.parse(caveMetricNames(engine, 'ops.gilt'))).toEqual([
      { name: 'cpu', tags: ['host'] },
      { name: 'disk', tags: ['dev'] },
    ]);
    expect(caveMetricNames(engine, 'nobody')).toBe('[]');
  });
});
