// OneNET reads against a real Engine over a temp directory: device scoping by the exact tag set,
// the latest point of each stream however old, ordering and cursors with points of several streams
// at one timestamp, datastream summaries, and binary payloads by index.
import { describe, expect, it } from 'vitest';
import { Engine, ShardWriter, shardDirectory } from '../../engine/index.js';
import { encodeBinaryPayload } from '../../src/protocols/onenet/bindata.js';
import { parseDatapointsQuery } from '../../src/protocols/onenet/query.js';
import { binaryExists, deviceStreams, oneNetDatapoints, oneNetDatastreams, readBinary } from '../../src/query/onenet.js';
import { batchOf, type TestPoint } from '../helpers/batches.js';
import { tempDir } from '../helpers/tmp.js';

const NOW = Date.UTC(2020, 0, 1);
const DAY = 86_400_000;
const d = (device: string) => ({ device_id: device });
const points: TestPoint[] = [
  { metric: 'temp', tags: d('d1'), t: NOW - 1000, value: 1n },
  { metric: 'temp', tags: d('d1'), t: NOW - 2000, value: 2.5 },
  { metric: 'hum', tags: d('d1'), t: NOW - 1000, value: 'wet' },
  { metric: 'hum', tags: d('d1'), t: NOW - 3000, value: { json: '{"a":1.0}' } },
  { metric: 'old', tags: d('d1'), t: NOW - 400 * DAY, value: 7n }, // only the whole-history window finds it
  { metric: 'temp', tags: d('d2'), t: NOW - 1000, value: 99n },
  { metric: 'temp', tags: { device_id: 'd1', host: 'x' }, t: NOW - 500, value: 42n }, // not a OneNET series
  { metric: 'bin', tags: { device_id: 'd1', onenet_bindata: 'payload' }, t: 5, value: { json: encodeBinaryPayload(new Uint8Array([9, 8, 7]), 'x') } },
];

const dataDir = tempDir();
const writer = ShardWriter.open({ dir: shardDirectory(dataDir, 0), shardId: 0, syncPolicy: 'never' });
writer.append(batchOf(points));
writer.close();
const engine = Engine.open({ dataDir });
const read = (query: string, device = 'd1') => JSON.parse(oneNetDatapoints(engine, device, parseDatapointsQuery(query, 0, NOW), 0, NOW)) as {
  count: number;
  cursor?: string;
  datastreams: { id: string; datapoints: { at: string; value: unknown }[] }[];
};
const at = (ms: number) => new Date(ms).toISOString().replace('T', ' ').replace('Z', '');

describe('OneNET reads over the engine', () => {
  it('scopes to series whose whole tag set is {device_id}', () => {
    expect(deviceStreams(engine, 'd1').map((s) => s.stream)).toEqual(['hum', 'old', 'temp']);
    expect(deviceStreams(engine, 'd2').map((s) => s.stream)).toEqual(['temp']);
    expect(deviceStreams(engine, 'd1', ['temp', 'nope']).map((s) => s.stream)).toEqual(['temp']);
    expect(deviceStreams(engine, 'd3')).toEqual([]);
  });

  it('latest point of each stream, however old', () => {
    expect(read('')).toEqual({
      count: 3,
      datastreams: [
        { id: 'hum', datapoints: [{ at: at(NOW - 1000), value: 'wet' }] },
        { id: 'old', datapoints: [{ at: at(NOW - 400 * DAY), value: 7 }] },
        { id: 'temp', datapoints: [{ at: at(NOW - 1000), value: 1 }] },
      ],
    });
  });

  it('orders by (time, stream) and pages with cursors through ties', () => {
    const raw = oneNetDatapoints(engine, 'd1', parseDatapointsQuery('duration=10&limit=2', 0, NOW), 0, NOW);
    expect(raw).toContain('"value":{"a":1.0}');
    const first = read('duration=10&limit=2');
    expect(first.count).toBe(2);
    expect(first.datastreams.map((s) => [s.id, s.datapoints.map((p) => p.at)])).toEqual([
      ['hum', [at(NOW - 3000)]],
      ['temp', [at(NOW - 2000)]],
    ]);
    const second = read(`duration=10&limit=2&cursor=${first.cursor}`);
    expect(second.datastreams.map((s) => [s.id, s.datapoints.map((p) => p.value)])).toEqual([
      ['hum', ['wet']],
      ['temp', [1]],
    ]);
    expect(second.cursor).toBeUndefined();
    const desc = read('duration=10&limit=1&sort=DESC');
    expect(desc.datastreams).toEqual([{ id: 'temp', datapoints: [{ at: at(NOW - 1000), value: 1 }] }]);
    const desc2 = read(`duration=10&limit=1&sort=DESC&cursor=${desc.cursor}`);
    expect(desc2.datastreams).toEqual([{ id: 'hum', datapoints: [{ at: at(NOW - 1000), value: 'wet' }] }]);
  });

  it('pages through streams sharing timestamps in (time, stream) order, every point exactly once', () => {
    const dir = tempDir();
    const w = ShardWriter.open({ dir: shardDirectory(dir, 0), shardId: 0, syncPolicy: 'never' });
    const tied: TestPoint[] = [];
    for (const stream of ['c', 'a', 'b']) for (let t = 1; t <= 5; t++) tied.push({ metric: stream, tags: d('t'), t: t * 1000, value: BigInt(t) });
    w.append(batchOf(tied));
    w.close();
    const e = Engine.open({ dataDir: dir });
    for (const sort of ['ASC', 'DESC']) {
      const order: string[] = [];
      let cursor: string | undefined;
      for (let page = 0; page < 20; page++) {
        const q = parseDatapointsQuery(`start=1970-01-01T00:00:00&limit=4&sort=${sort}${cursor !== undefined ? `&cursor=${cursor}` : ''}`, 0, NOW);
        const r = JSON.parse(oneNetDatapoints(e, 't', q, 0, NOW)) as { cursor?: string; datastreams: { id: string; datapoints: { at: string }[] }[] };
        const entries = r.datastreams.flatMap((s) => s.datapoints.map((p) => `${p.at.slice(17, 19)}${s.id}`)).sort();
        order.push(...(sort === 'ASC' ? entries : entries.reverse()));
        cursor = r.cursor;
        if (cursor === undefined) break;
      }
      const all = [1, 2, 3, 4, 5].flatMap((t) => ['a', 'b', 'c'].map((st) => `0${t}${st}`));
      expect(order).toEqual(sort === 'ASC' ? all : [...all].reverse());
    }
    e.close();
  });

  it('summarises datastreams', () => {
    expect(JSON.parse(oneNetDatastreams(engine, 'd1', 'datastream_ids=temp,hum', 0))).toEqual([
      { id: 'hum', create_time: at(NOW - 3000).slice(0, 19), update_at: at(NOW - 1000).slice(0, 19), current_value: 'wet' },
      { id: 'temp', create_time: at(NOW - 2000).slice(0, 19), update_at: at(NOW - 1000).slice(0, 19), current_value: 1 },
    ]);
    expect(JSON.parse(oneNetDatastreams(engine, 'd2', '', 0))).toEqual([{ id: 'temp', create_time: at(NOW - 1000).slice(0, 19), update_at: at(NOW - 1000).slice(0, 19), current_value: 99 }]);
  });

  it('finds binary payloads by reading, and nothing for other devices or times', () => {
    expect([...readBinary(engine, [{ deviceId: 'd1', datastreamId: 'bin', atMs: 5 }])!]).toEqual([9, 8, 7]);
    expect(readBinary(engine, [{ deviceId: 'd2', datastreamId: 'bin', atMs: 5 }])).toBeUndefined();
    expect(readBinary(engine, [{ deviceId: 'd1', datastreamId: 'bin', atMs: 6 }])).toBeUndefined();
    expect(binaryExists(engine, { deviceId: 'd1', datastreamId: 'bin', atMs: 5 })).toBe(true);
    expect(binaryExists(engine, { deviceId: 'd1', datastreamId: 'bin', atMs: 4 })).toBe(false);
  });
});
