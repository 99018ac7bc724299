// The engine of today reads the committed v1 fixture (test/fixtures/format-v1/, written once by
// test/fixtures/generate.ts) and sees exactly the data that went in: every value kind, LWW,
// tombstones, TTL, a two-block batch, compacted segments, both layouts of a block's runs (shard 4:
// run columns, codecs version 3). Always on a copy: opening may repair.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Engine, ShardWriter, ValueKind, canonicalSeriesKey, setCodecsWriteVersion, shardDirectory, type EngineEvent, type WriteBatch } from '../../../engine/index.js';
import { shard3Gauge, shard3Offset, shard3Span, shard3Uptime } from '../../fixtures/format-v1-data.js';
import { tempDir } from '../../helpers/tmp.js';

const FIXTURE = fileURLToPath(new URL('../../fixtures/format-v1/', import.meta.url));
const T0 = 1_700_000_000_000;
const I64_MIN = -(2n ** 63n);
const I64_MAX = 2n ** 63n - 1n;

type Value = number | bigint | string | { json: string };

/** Block offsets of an active (unsealed) segment of the fixture: the walk from 64 to the zero tail (see fixture-bytes.test.ts). */
function blockOffsets(bytes: Buffer): number[] {
  const out: number[] = [];
  for (let at = 64; bytes.readUInt32LE(at) === 0x4b425453; at += bytes.readUInt32LE(at + 8)) out.push(at);
  return out;
}

function copyFixture(): string {
  const dir = tempDir('strata-format-v1-');
  fs.cpSync(FIXTURE, dir, { recursive: true });
  return dir;
}

/** Every series the engine sees, canonical key → [t, value] in time order. */
function readAll(dataDir: string, nowMs: number, from = -1e15, to = 1e15): Map<string, [number, Value][]> {
  const engine = Engine.open({ dataDir, owner: false, nowMs: () => nowMs });
  try {
    const out = new Map<string, [number, Value][]>();
    for (const s of engine.scan(engine.catalog.select({}), from, to)) {
      const points: [number, Value][] = [];
      for (let i = 0; i < s.length; i++) {
        const k = s.kinds[i];
        const v: Value =
          k === ValueKind.Float64 ? s.floats[i]! : k === ValueKind.Int64 ? s.ints[i]! : k === ValueKind.String ? s.texts[i]! : { json: s.texts[i]! };
        points.push([s.timestampsMs[i]!, v]);
      }
      out.set(canonicalSeriesKey(s.key), points);
    }
    return out;
  } finally {
    engine.close();
  }
}

const BULK: [number, Value][] = Array.from({ length: 65_540 }, (_, i) => [i * 10, i % 4]);
const DAY = 86_400_000;

/** What the fixture holds, seen at T0 + 10 s (every TTL still alive). */
const EXPECTED: Record<string, [number, Value][]> = {
  // t=0 (0.1, 0.2) and t=500 deleted; t=0 written again after the delete; t=1000 overwritten.
  'fx.float{dc=eu,host=a}': [
    [-2000, 1.5],
    [-1000, -0],
    [0, 99],
    [1000, 2.5],
    [2000, NaN],
    [3000, 3],
  ],
  'fx.float{host=b}': [[0, 42]],
  'fx.int{host=a}': [
    [-5, 5n],
    [0, 9_007_199_254_740_993n],
    [1, I64_MIN],
    [2, I64_MAX],
    [3, 0n],
    [4, 123_456_789_012_345_678n],
  ],
  'fx.str{host=a}': [
    [10, 'hello'],
    [20, 'héllo ✓ 🌍'],
    [30, 'back'],
    [40, 'hello'],
  ],
  'fx.json{host=a}': [
    [10, { json: '{"a":1,"b":[true,null]}' }],
    [20, { json: '[1,2.5,"x"]' }],
    [30, { json: 'null' }],
    [40, { json: '{"late":true}' }],
  ],
  'fx.ttl{host=a}': [
    [100, 1],
    [200, 2],
  ],
  'fx.mixed{}': [
    [1, 1.25],
    [2, 7n],
    [3, 'seven'],
  ],
  'fx.bulk{}': BULK,
  'fx.c.dec{k=v}': [
    [-86_400_000, 0.5],
    [-1, 1.25],
    [0, 2.875],
    [1000, 3.5],
    [2000, 100.125],
    [86_400_000, -7.5],
  ],
  'fx.c.gorilla{k=v}': Array.from({ length: 8 }, (_, i): [number, Value] => [(i + 1) * 1000, Math.PI * (i + 1)]),
  'fx.c.int{}': [
    [0, I64_MIN],
    [1, I64_MAX],
    [2, 9_007_199_254_740_993n],
    [3, 42n],
    [4, -1n],
  ],
  'fx.c.str{}': [
    [10, 'x'],
    [20, 'y'],
    [30, 'x'],
  ],
  'fx.c.ttl{}': [
    [5, 1],
    [6, 2],
  ],
  // Shard 2, compacted with a retention floor of t = 0 (fx.d.raw t = −1 dropped), a tombstone
  // given only to compact() (fx.d.json t = 20 dropped) and fx.d.gone expired (dropped whole).
  'fx.d.json{}': [[10, { json: '{"a":1}' }]],
  'fx.d.raw{}': [
    [1, 1 / 3],
    [2, -2.5e-310],
    [3, 1e300],
    [4, -Infinity],
  ],
  'fx.d.ttl{}': [
    [100, 1n],
    [200, 20n],
    [300, 30n],
    [400, 40n],
  ],
  'fx.d.int{}': [
    [2 * DAY + 1, 1n],
    [2 * DAY + 2, 2n],
    [2 * DAY + 3, 3n],
    [2 * DAY + 4, 5n],
    [2 * DAY + 5, 8n],
    [3 * DAY + 1, 2n ** 62n],
    [3 * DAY + 2, -(2n ** 62n)],
    [3 * DAY + 3, 2n ** 62n],
  ],
  'fx.d.keep{}': [[50, 2n]], // and 1n once the 30 s TTL of 2n has passed
  'fx.d.bulk{}': Array.from({ length: 70_000 }, (_, i): [number, Value] => [DAY + i * 10, i % 4]),
  // Shard 3, compacted with codecs version 2: DecimalPacked float columns (days 0, 1, 2).
  'fx.p.gauge{}': shard3Gauge().map((v, i): [number, Value] => [i * 10_000, v]),
  'fx.p.state{}': [
    [5, 'up'],
    [2_000_000, 'degraded'],
  ],
  'fx.p.uptime{}': shard3Uptime().map((v, i): [number, Value] => [DAY + i * 10_000, v]),
  'fx.p.offset{}': shard3Offset().map((v, i): [number, Value] => [2 * DAY + i * 10_000, v]),
  'fx.p.span{}': shard3Span().map((v, i): [number, Value] => [2 * DAY + i * 10_000, v]),
  // Shard 4, written with codecs version 3: every block's runs as run columns. A compacted segment
  // (fx.k.*, fx.k.a in two runs), a sealed and an active ingest segment (fx.r.*).
  'fx.k.a{}': [
    [0, 1],
    [10, 2],
    [20, 3],
    [30, 7],
    [40, 8],
  ],
  'fx.k.b{}': [[5, 4]],
  'fx.k.c{}': [
    [7, 5],
    [8, 6],
  ],
  'fx.r.cpu{host=h0}': [
    [1000, 0.5],
    [2000, 10],
  ],
  'fx.r.cpu{host=h1}': [
    [1000, 1.5],
    [5000, 11],
    [6000, 12],
    [7000, 13],
  ],
  'fx.r.cpu{host=h2}': [
    [1000, 2.5],
    [5000, 21],
    [6000, 22],
    [7000, 23],
    [8000, 24],
  ],
  'fx.r.cpu{host=h3}': [
    [1000, 3.5],
    [2000, 30],
    [3000, 31],
  ],
  'fx.r.cpu{host=h4}': [
    [1000, 4.5],
    [2000, 40],
  ],
  'fx.r.mem{host=h0}': [
    [2000, 100n],
    [3000, 101n],
    [4000, 102n],
  ],
};

describe('format-v1 fixture, read by today\'s engine', () => {
  it('reads every series with exact values', () => {
    const got = readAll(copyFixture(), T0 + 10_000);
    expect([...got.keys()].sort()).toEqual(Object.keys(EXPECTED).sort());
    for (const [key, points] of Object.entries(EXPECTED)) expect(got.get(key), key).toEqual(points);
    // toEqual compares numbers with Object.is, but say it plainly for the two special floats.
    const f = got.get('fx.float{dc=eu,host=a}')!;
    expect(Object.is(f[1]![1], -0)).toBe(true);
    expect(Number.isNaN(f[4]![1])).toBe(true);
  });

  it('the catalog sees every series of every shard', () => {
    const engine = Engine.open({ dataDir: copyFixture(), owner: false, nowMs: () => T0 });
    try {
      expect(engine.shardIds()).toEqual([0, 1, 2, 3, 4]);
      expect(engine.catalog.select({}).length).toBe(33);
      expect(engine.catalog.select({ metric: 'fx.r.cpu' }).length).toBe(5);
      expect(engine.catalog.select({ metric: 'fx.float' }).length).toBe(2);
      expect(engine.catalog.select({ metric: 'fx.float', tags: { host: ['a'] } }).length).toBe(1);
      expect(engine.tombstones).toEqual([
        { selector: { metric: 'fx.float', tags: { host: ['a'] } }, startMs: -500, endMs: 500, createdAtMs: T0 + 2000 },
        { selector: { metric: 'fx.str' }, startMs: 30, endMs: 30, createdAtMs: T0 + 2000 },
      ]);
    } finally {
      engine.close();
    }
  });

  it('TTL runs expire at writtenAtMs + ttlSeconds', () => {
    const dir = copyFixture();
    // fx.ttl: written at T0 with 3600 s. fx.c.ttl: 7200 s from its compacted block (T0 + 6.5 s).
    expect(readAll(dir, T0 + 3_600_000 - 1).get('fx.ttl{host=a}')).toEqual(EXPECTED['fx.ttl{host=a}']);
    expect(readAll(dir, T0 + 3_600_000).has('fx.ttl{host=a}')).toBe(false);
    expect(readAll(dir, T0 + 6500 + 7_200_000 - 1).get('fx.c.ttl{}')).toEqual(EXPECTED['fx.c.ttl{}']);
    expect(readAll(dir, T0 + 6500 + 7_200_000).has('fx.c.ttl{}')).toBe(false);
    // fx.d.ttl t = 100: 60 s from T0 + 8 s, stored by compaction as 59 s from its block (T0 + 9 s).
    expect(readAll(dir, T0 + 68_000 - 1).get('fx.d.ttl{}')).toEqual(EXPECTED['fx.d.ttl{}']);
    expect(readAll(dir, T0 + 68_000).get('fx.d.ttl{}')).toEqual(EXPECTED['fx.d.ttl{}']!.slice(1));
    // fx.d.keep t = 50: the newer version (30 s TTL from T0 + 9 s) hides the older until it expires.
    expect(readAll(dir, T0 + 39_000 - 1).get('fx.d.keep{}')).toEqual([[50, 2n]]);
    expect(readAll(dir, T0 + 39_000).get('fx.d.keep{}')).toEqual([[50, 1n]]);
  });

  it('TTLs stored in run columns (shard 4): uniform and per run, ingest and compacted', () => {
    const dir = copyFixture();
    const h1 = EXPECTED['fx.r.cpu{host=h1}']!;
    const h2 = EXPECTED['fx.r.cpu{host=h2}']!;
    // Block 3 of the active segment: a uniform 30 s TTL from T0 + 17 s on h1 and h2.
    let got = readAll(dir, T0 + 47_000 - 1);
    expect([got.get('fx.r.cpu{host=h1}'), got.get('fx.r.cpu{host=h2}')]).toEqual([h1, h2]);
    got = readAll(dir, T0 + 47_000);
    expect(got.get('fx.r.cpu{host=h1}')).toEqual([h1[0], h1[3]]);
    expect(got.get('fx.r.cpu{host=h2}')).toEqual([h2[0], h2[3], h2[4]]);
    // Block 2 of the sealed segment, per-run TTLs: h0 60 s, h4 3600 s from T0 + 16 s; h3 none.
    expect(readAll(dir, T0 + 76_000 - 1).get('fx.r.cpu{host=h0}')).toEqual(EXPECTED['fx.r.cpu{host=h0}']);
    got = readAll(dir, T0 + 76_000);
    expect(got.get('fx.r.cpu{host=h0}')).toEqual([[1000, 0.5]]);
    expect(got.get('fx.r.cpu{host=h4}')).toEqual(EXPECTED['fx.r.cpu{host=h4}']);
    expect(readAll(dir, T0 + 3_616_000).get('fx.r.cpu{host=h4}')).toEqual([[1000, 4.5]]);
    expect(readAll(dir, T0 + 3_616_000).get('fx.r.cpu{host=h3}')).toEqual(EXPECTED['fx.r.cpu{host=h3}']);
    // The compacted block: fx.k.a's second run (120 s from T0 + 13.5 s), fx.k.c's 600 s re-based.
    expect(readAll(dir, T0 + 133_500 - 1).get('fx.k.a{}')).toEqual(EXPECTED['fx.k.a{}']);
    expect(readAll(dir, T0 + 133_500).get('fx.k.a{}')).toEqual(EXPECTED['fx.k.a{}']!.slice(0, 3));
    expect(readAll(dir, T0 + 613_500 - 1).get('fx.k.c{}')).toEqual(EXPECTED['fx.k.c{}']);
    expect(readAll(dir, T0 + 613_500).has('fx.k.c{}')).toBe(false);
  });

  it('a time range selects by timestamp, negative and zero included', () => {
    const got = readAll(copyFixture(), T0 + 10_000, -1000, 0);
    expect(got.get('fx.float{dc=eu,host=a}')).toEqual([
      [-1000, -0],
      [0, 99],
    ]);
    expect(got.get('fx.int{host=a}')).toEqual([
      [-5, 5n],
      [0, 9_007_199_254_740_993n],
    ]);
    expect(got.get('fx.c.dec{k=v}')).toEqual([
      [-1, 1.25],
      [0, 2.875],
    ]);
    // Inside a DecimalPacked column, across the boundary of its first two groups (values 128, 129).
    const packed = readAll(copyFixture(), T0 + 10_000, 1_270_000, 1_300_000).get('fx.p.gauge{}');
    expect(packed).toEqual(EXPECTED['fx.p.gauge{}']!.slice(127, 131));
  });

  it('opening the shards finds nothing to repair and changes no byte', () => {
    const dir = copyFixture();
    const events: EngineEvent[] = [];
    for (const shardId of [0, 1, 2, 3, 4]) {
      const w = ShardWriter.open({ dir: shardDirectory(dir, shardId), shardId, syncPolicy: 'never', log: (e) => events.push(e) });
      w.close();
    }
    expect(events.filter((e) => e.level !== 'info')).toEqual([]);
    for (const rel of ['shards/0/0000000000000001.seg', 'shards/0/0000000000000002.seg', 'shards/1/0000000000000003.seg', 'shards/2/0000000000000002.seg', 'shards/2/0000000000000003.seg', 'shards/3/0000000000000002.seg', 'shards/3/0000000000000004.seg', 'shards/4/0000000000000002.seg', 'shards/4/0000000000000003.seg', 'shards/4/0000000000000004.seg']) {
      expect(Buffer.compare(fs.readFileSync(path.join(dir, rel)), fs.readFileSync(path.join(FIXTURE, rel))), rel).toBe(0);
    }
    expect(fs.existsSync(path.join(dir, 'shards/0/quarantine'))).toBe(false);
  });

  it('appending to the fixture\'s active segment continues after its last block', () => {
    const dir = copyFixture();
    const w = ShardWriter.open({ dir: shardDirectory(dir, 0), shardId: 0, syncPolicy: 'never', nowMs: () => T0 + 20_000 });
    w.append({
      length: 1,
      series: [{ metric: 'fx.float', tags: { host: 'b' } }],
      seriesIndex: Uint32Array.of(0),
      timestampsMs: Float64Array.of(0),
      kinds: Uint8Array.of(ValueKind.Float64),
      floats: Float64Array.of(43),
      ints: new BigInt64Array(1),
      texts: [],
    });
    w.close();
    expect(readAll(dir, T0 + 30_000).get('fx.float{host=b}')).toEqual([[0, 43]]);
    // The bytes of the old blocks are untouched: the new block starts where the walk ended.
    const before = fs.readFileSync(path.join(FIXTURE, 'shards/0/0000000000000002.seg'));
    const after = fs.readFileSync(path.join(dir, 'shards/0/0000000000000002.seg'));
    expect(after.length).toBe(before.length);
    expect(Buffer.compare(after.subarray(0, 2904), before.subarray(0, 2904))).toBe(0);
    expect(after.readUInt32LE(2904)).toBe(0x4b425453);
  });
});

describe('one segment holding blocks of both runs layouts', () => {
  const point = (metric: string, t: number, v: number): WriteBatch => ({
    length: 1,
    series: [{ metric, tags: {} }],
    seriesIndex: Uint32Array.of(0),
    timestampsMs: Float64Array.of(t),
    kinds: Uint8Array.of(ValueKind.Float64),
    floats: Float64Array.of(v),
    ints: new BigInt64Array(1),
    texts: [],
  });
  /** Flags byte of every block of an active segment. */
  const flagsOf = (bytes: Buffer): number[] => blockOffsets(bytes).map((at) => bytes[at + 5]!);

  for (const [shardId, heldTo, flags] of [
    [0, 3, [0x01, 0x01, 0x03, 0x01, 0x05]], // shard 0's active segment (v1 layout) continued by codecs 3
    [4, 2, [0x05, 0x05, 0x01]], // shard 4's active segment (run columns) continued by a writer held to codecs 2
  ] as const) {
    it(`shard ${shardId}'s active segment continued by a writer of codecs version ${heldTo}: every block reads back`, () => {
      const dir = copyFixture();
      const before = setCodecsWriteVersion(heldTo); // before the open: the writer's encoder takes it then
      try {
        const w = ShardWriter.open({ dir: shardDirectory(dir, shardId), shardId, syncPolicy: 'never', nowMs: () => T0 + 20_000 });
        w.append(point('fx.mixed.layouts', 9, 99));
        w.close();
      } finally {
        setCodecsWriteVersion(before);
      }
      const file = path.join(dir, `shards/${shardId}/${shardId === 0 ? '0000000000000002' : '0000000000000004'}.seg`);
      expect(flagsOf(fs.readFileSync(file))).toEqual(flags);
      const got = readAll(dir, T0 + 30_000);
      expect(got.get('fx.mixed.layouts{}')).toEqual([[9, 99]]);
      expect(got.get(shardId === 0 ? 'fx.bulk{}' : 'fx.r.cpu{host=h2}')).toEqual(EXPECTED[shardId === 0 ? 'fx.bulk{}' : 'fx.r.cpu{host=h2}']);
      // The writer's recovery reads the mixed segment without repairing anything.
      const events: EngineEvent[] = [];
      ShardWriter.open({ dir: shardDirectory(dir, shardId), shardId, syncPolicy: 'never', log: (e) => events.push(e) }).close();
      expect(events.filter((e) => e.level !== 'info')).toEqual([]);
    });
  }
});

describe('recovery rules of docs/format/segment.md, on the fixture', () => {
  const ACTIVE = 'shards/0/0000000000000002.seg';
  function recover(dir: string): EngineEvent[] {
    const events: EngineEvent[] = [];
    ShardWriter.open({ dir: shardDirectory(dir, 0), shardId: 0, syncPolicy: 'never', log: (e) => events.push(e) }).close();
    return events;
  }

  it('torn tail (a block cut short, nothing valid after it): zeroed, file size kept, no quarantine', () => {
    const dir = copyFixture();
    const file = path.join(dir, ACTIVE);
    const bytes = fs.readFileSync(file);
    const offsets = blockOffsets(bytes);
    const last = offsets[offsets.length - 1]!;
    bytes.fill(0, last + 80); // the last block's payload only half written
    fs.writeFileSync(file, bytes);
    const events = recover(dir);
    expect(events.map((e) => e.event)).toContain('segment.torn_tail_truncated');
    const after = fs.readFileSync(file);
    expect(after.length).toBe(16384);
    // Blocks 5 and 6 were one batch: both go, so the tail starts at block 5.
    expect(after.subarray(offsets[2]!).every((x) => x === 0)).toBe(true);
    expect(Buffer.compare(after.subarray(0, offsets[2]!), bytes.subarray(0, offsets[2]!))).toBe(0);
    expect(fs.existsSync(path.join(dir, 'shards/0/quarantine'))).toBe(false);
    expect(readAll(dir, T0 + 10_000).has('fx.bulk{}')).toBe(false);
  });

  it('damage followed by whole blocks: copied to quarantine, then cut at the damage', () => {
    const dir = copyFixture();
    const file = path.join(dir, ACTIVE);
    const bytes = fs.readFileSync(file);
    const offsets = blockOffsets(bytes);
    bytes[offsets[1]! + 80]! ^= 0xff; // a payload byte of block 4: its CRC fails
    fs.writeFileSync(file, bytes);
    const events = recover(dir);
    const q = events.find((e) => e.event === 'segment.quarantined')!;
    expect(q).toMatchObject({ offset: offsets[1], how: 'copy' });
    const copies = fs.readdirSync(path.join(dir, 'shards/0/quarantine'));
    expect(copies.length).toBe(1);
    expect(copies[0]).toMatch(/^0000000000000002\.seg\.\d+$/);
    expect(Buffer.compare(fs.readFileSync(path.join(dir, 'shards/0/quarantine', copies[0]!)), bytes)).toBe(0);
    const after = fs.readFileSync(file);
    expect(after.subarray(offsets[1]!).every((x) => x === 0)).toBe(true);
    const got = readAll(dir, T0 + 10_000);
    expect(got.get('fx.int{host=a}')!.find(([t]) => t === 4)).toEqual([4, 123_456_789_012_345_678n]);
    expect(got.has('fx.bulk{}')).toBe(false);
  });

  it('a bad segment header: the whole file is moved to quarantine', () => {
    const dir = copyFixture();
    const file = path.join(dir, 'shards/0/0000000000000001.seg');
    const bytes = fs.readFileSync(file);
    bytes[8] = 7; // shardId under the header CRC
    fs.writeFileSync(file, bytes);
    const events = recover(dir);
    expect(events.find((e) => e.event === 'segment.quarantined')).toMatchObject({ offset: 0, how: 'move' });
    expect(fs.existsSync(file)).toBe(false);
    expect(fs.readdirSync(path.join(dir, 'shards/0/quarantine'))[0]).toMatch(/^0000000000000001\.seg\.\d+$/);
  });

  it('a damaged footer: the sealed segment is read by walking its blocks instead', () => {
    const dir = copyFixture();
    const file = path.join(dir, 'shards/0/0000000000000001.seg');
    const bytes = fs.readFileSync(file);
    const footerOffset = bytes.readUInt32LE(bytes.length - 12);
    bytes[footerOffset + 30]! ^= 0xff;
    fs.writeFileSync(file, bytes);
    const got = readAll(dir, T0 + 10_000);
    expect(got.get('fx.str{host=a}')).toEqual(EXPECTED['fx.str{host=a}']);
    expect(got.get('fx.float{host=b}')).toEqual([[0, 42]]);
  });
});
