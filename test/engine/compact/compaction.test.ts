// Compaction changes no read: Engine.scan before and after ShardWriter.compact (and after
// reopening) on random workloads, at several "now"s so TTL and retention move on; then the cases
// random workloads reach only by luck, and that TTL, retention and deletes really empty the files.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compactShard } from '../../../engine/compact/compaction.js';
import { Engine, FaultyFileSystem, ShardWriter, shardDirectory, type SeriesKey, type SeriesMatcher, type SeriesSelector } from '../../../engine/index.js';
import { batchOf, type TestPoint } from '../../helpers/batches.js';
import { WHOLE_RANGE, readView, shardFiles, storedPoints, viewPoints } from '../../helpers/compaction.js';
import { tempDir } from '../../helpers/tmp.js';

const T0 = 1_700_000_000_000;
const DAY_MS = 86_400_000;
const SECOND = 1000;

const SERIES: readonly SeriesKey[] = [
  { metric: 'cpu', tags: { host: 'a' } },
  { metric: 'cpu', tags: { host: 'b' } },
  { metric: 'cpu', tags: { host: 'a', dc: 'x' } },
  { metric: 'mem', tags: { host: 'a' } },
  { metric: 'ev', tags: {} },
];
const MATCHERS: readonly SeriesMatcher[] = [{}, { metric: 'cpu' }, { metric: 'cpu', tags: { host: ['a'] } }, { metric: 'ev' }];

type Value = TestPoint['value'];
type Op =
  | { readonly kind: 'append'; readonly points: readonly { s: number; t: number; v: Value }[]; readonly ttl: readonly number[]; readonly advanceS: number }
  | { readonly kind: 'delete'; readonly metric: string; readonly host: string | undefined; readonly startMs: number; readonly spanMs: number; readonly advanceS: number }
  | { readonly kind: 'roll' };
interface CompactionParams {
  readonly partitionMs: number;
  /** Retention such that the floor at compaction time is this timestamp; undefined: none. */
  readonly retentionFloorMs: number | undefined;
}

/** One shard under a clock the test moves: the writer, and an Engine that only deletes. */
class Shard {
  clock = T0;
  readonly dataDir = tempDir('strata-compact-');
  readonly dir = shardDirectory(this.dataDir, 0);
  writer: ShardWriter;
  readonly deleter: Engine;

  constructor(readonly segmentBytes = 2048) {
    this.writer = this.openWriter();
    this.deleter = Engine.open({ dataDir: this.dataDir, nowMs: () => this.clock });
  }

  openWriter(): ShardWriter {
    return ShardWriter.open({ dir: this.dir, shardId: 0, segmentBytes: this.segmentBytes, syncPolicy: 'never', nowMs: () => this.clock });
  }

  reader(retentionMs?: number): Engine {
    return Engine.open({ dataDir: this.dataDir, nowMs: () => this.clock, owner: false, ...(retentionMs !== undefined ? { retentionMs } : {}) });
  }

  apply(op: Op): void {
    if (op.kind === 'roll') {
      this.writer.roll();
    } else if (op.kind === 'append') {
      const pts: TestPoint[] = op.points.map((p) => ({ ...SERIES[p.s]!, t: p.t, value: p.v, ttlSeconds: op.ttl[p.s]! }));
      this.writer.append(batchOf(pts));
      this.clock += op.advanceS * SECOND;
    } else {
      const selector: SeriesSelector = op.host === undefined ? { metric: op.metric } : { metric: op.metric, tags: { host: [op.host] } };
      this.deleter.delete(selector, op.startMs, op.startMs + op.spanMs);
      this.clock += op.advanceS * SECOND;
    }
  }
}

/** Timestamps: mostly a narrow band around 0 (duplicates, negatives), sometimes far out or on a day edge. */
const timestamp = fc.oneof(
  { weight: 12, arbitrary: fc.integer({ min: -40, max: 40 }) },
  { weight: 1, arbitrary: fc.constantFrom(-(2 ** 49), 2 ** 49 - 1, -DAY_MS, -1, DAY_MS - 1, DAY_MS) },
);
const value: fc.Arbitrary<Value> = fc.oneof(
  fc.integer({ min: -10_000, max: 10_000 }).map((n) => n / 100),
  fc.double(),
  fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
  fc.constantFrom(2n ** 53n + 1n, -(2n ** 53n) - 1n, -(2n ** 63n), 2n ** 63n - 1n),
  fc.string({ unit: 'grapheme', maxLength: 6 }),
  fc.json({ maxDepth: 1 }).map((json) => ({ json })),
);
const append: fc.Arbitrary<Op> = fc.record({
  kind: fc.constant('append' as const),
  points: fc.array(fc.record({ s: fc.nat(SERIES.length - 1), t: timestamp, v: value }), { minLength: 1, maxLength: 25 }),
  ttl: fc.array(fc.constantFrom(0, 0, 0, 1, 2, 5, 3600), { minLength: SERIES.length, maxLength: SERIES.length }),
  advanceS: fc.constantFrom(0, 1, 1, 2, 3),
});
const remove: fc.Arbitrary<Op> = fc.record({
  kind: fc.constant('delete' as const),
  metric: fc.constantFrom('cpu', 'mem', 'ev'),
  host: fc.constantFrom(undefined, 'a', 'b'),
  startMs: fc.integer({ min: -50, max: 50 }),
  spanMs: fc.nat(40),
  advanceS: fc.constantFrom(0, 1),
});
const ops = (max: number): fc.Arbitrary<Op[]> =>
  fc.array(fc.oneof({ weight: 8, arbitrary: append }, { weight: 1, arbitrary: remove }, { weight: 1, arbitrary: fc.constant<Op>({ kind: 'roll' }) }), { maxLength: max });
const compaction: fc.Arbitrary<CompactionParams> = fc.record({
  partitionMs: fc.constantFrom(10, 37, DAY_MS),
  retentionFloorMs: fc.option(fc.integer({ min: -45, max: 45 }), { nil: undefined }),
});
const ranges = fc.array(fc.tuple(fc.integer({ min: -50, max: 50 }), fc.nat(80)), { maxLength: 3 });

/**
 * Everything the test compares: every matcher over the whole range and every sub-range over
 * all series, at each of `nows` (TTL and retention depend on the clock). Leaves the clock as found.
 */
function picture(shard: Shard, engine: Engine, subRanges: readonly (readonly [number, number])[], nows: readonly number[]): unknown[] {
  const saved = shard.clock;
  const out: unknown[] = [];
  for (const now of nows) {
    shard.clock = now;
    for (const m of MATCHERS) out.push(readView(engine, m, WHOLE_RANGE[0], WHOLE_RANGE[1]));
    for (const [start, span] of subRanges) out.push(readView(engine, {}, start, start + span));
  }
  shard.clock = saved;
  return out;
}

/**
 * Compacts at the current clock and checks that reads agree before, right after (same Engine
 * and a fresh one) and after reopening writer and Engine. Nows cover TTLs of 1, 2, 5 and 3600 s
 * expiring after the compaction.
 */
function compactAndCompare(shard: Shard, params: CompactionParams, subRanges: readonly (readonly [number, number])[]): void {
  const now = shard.clock;
  const retentionMs = params.retentionFloorMs === undefined ? undefined : now - params.retentionFloorMs;
  const nows = [now, now + 1 * SECOND, now + 2 * SECOND, now + 5 * SECOND, now + 3601 * SECOND];
  const engine = shard.reader(retentionMs);
  const before = picture(shard, engine, subRanges, nows);
  const visibleNow = viewPoints(before[0] as Record<string, string[]>);

  const result = shard.writer.compact({
    tombstones: shard.deleter.tombstones,
    partitionMs: params.partitionMs,
    ...(retentionMs !== undefined ? { retentionMs } : {}),
  });
  expect(picture(shard, engine, subRanges, nows)).toEqual(before);
  expect(picture(shard, shard.reader(retentionMs), subRanges, nows)).toEqual(before);
  // Outputs hold every visible point, and never more than went in.
  expect(result.pointsOut).toBeGreaterThanOrEqual(visibleNow);
  expect(result.pointsOut).toBeLessThanOrEqual(result.pointsIn);
  expect(storedPoints(shard.dir).compactedPoints).toBe(result.pointsOut);

  shard.writer.close();
  shard.writer = shard.openWriter();
  expect(shardFiles(shard.dir).tmp).toEqual([]);
  expect(picture(shard, shard.reader(retentionMs), subRanges, nows)).toEqual(before);
}

describe('compaction keeps reads the same', () => {
  it('for random workloads, before and after compacting, and after reopening (property)', () => {
    fc.assert(
      fc.property(ops(30), compaction, ops(12), compaction, ranges, (first, c1, second, c2, subRanges) => {
        const shard = new Shard();
        for (const op of first) shard.apply(op);
        shard.writer.roll();
        compactAndCompare(shard, c1, subRanges);
        // More writes (some overwriting compacted points), deletes, then compact old and new together.
        for (const op of second) shard.apply(op);
        shard.writer.roll();
        compactAndCompare(shard, c2, subRanges);
        shard.writer.close();
      }),
      { numRuns: 60 },
    );
  });
});

describe('compaction', () => {
  it('keeps an older write that outlives a newer overwrite with a TTL, as reads do', () => {
    const shard = new Shard();
    const key = { metric: 'm', tags: { k: 'v' } };
    shard.writer.append(batchOf([{ ...key, t: 5, value: 1 }, { ...key, t: 6, value: 10 }]));
    shard.clock += 1 * SECOND;
    shard.writer.append(batchOf([{ ...key, t: 5, value: 2, ttlSeconds: 10 }]));
    shard.clock += 1 * SECOND;
    shard.writer.append(batchOf([{ ...key, t: 5, value: 3, ttlSeconds: 5 }]));
    shard.writer.roll();
    const engine = shard.reader();
    const at = (ms: number): Record<string, string[]> => {
      const saved = shard.clock;
      shard.clock = ms;
      const view = readView(engine, { metric: 'm' }, 0, 100);
      shard.clock = saved;
      return view;
    };
    const written = shard.clock;
    const expected = {
      [written]: { 'm{k=v}': ['5=f:3', '6=f:10'] },
      [written + 5 * SECOND]: { 'm{k=v}': ['5=f:2', '6=f:10'] },
      [written - SECOND + 10 * SECOND]: { 'm{k=v}': ['5=f:1', '6=f:10'] },
    };
    for (const [ms, view] of Object.entries(expected)) expect(at(Number(ms))).toEqual(view);
    const result = shard.writer.compact({ tombstones: [] });
    expect(result.pointsOut).toBe(4); // all three versions of t=5 can still become visible
    for (const [ms, view] of Object.entries(expected)) expect(at(Number(ms))).toEqual(view);
    // Once the longest-lived overwrite has expired, compaction keeps only the survivor.
    shard.clock = written + 20 * SECOND;
    expect(shard.writer.compact({ tombstones: [] }).pointsOut).toBe(2);
    for (const [ms, view] of Object.entries(expected)) if (Number(ms) >= written + 9 * SECOND) expect(at(Number(ms))).toEqual(view);
    shard.writer.close();
  });

  it('never splits the versions of one timestamp across two blocks', () => {
    // 65 536 points fill one output block exactly. Overwriting the last one with a TTL makes two
    // versions of it (the older outlives the newer), and a later write elsewhere in the series
    // raises the first block's writtenAtMs above the overwrite's: were the versions split across
    // blocks, the older one would outrank the newer while both are alive.
    const shard = new Shard(4 * 1024 * 1024);
    const n = 65_536;
    const pts: TestPoint[] = Array.from({ length: n }, (_, i) => ({ metric: 'big', t: i, value: i }));
    shard.writer.append(batchOf(pts));
    shard.clock += SECOND;
    shard.writer.append(batchOf([{ metric: 'big', t: n - 1, value: -1, ttlSeconds: 10 }]));
    shard.clock += SECOND;
    shard.writer.append(batchOf([{ metric: 'big', t: 5, value: -5 }]));
    shard.writer.roll();
    const engine = shard.reader();
    const tail = (ms: number): Record<string, string[]> => {
      const saved = shard.clock;
      shard.clock = ms;
      const view = readView(engine, {}, n - 2, n);
      shard.clock = saved;
      return view;
    };
    const written = shard.clock;
    expect(tail(written)).toEqual({ 'big{}': [`${n - 2}=f:${n - 2}`, `${n - 1}=f:-1`] });
    expect(tail(written + 9 * SECOND)).toEqual({ 'big{}': [`${n - 2}=f:${n - 2}`, `${n - 1}=f:${n - 1}`] });
    const result = shard.writer.compact({ tombstones: [] });
    expect(result.pointsOut).toBe(n + 1);
    expect(tail(written)).toEqual({ 'big{}': [`${n - 2}=f:${n - 2}`, `${n - 1}=f:-1`] });
    expect(tail(written + 9 * SECOND)).toEqual({ 'big{}': [`${n - 2}=f:${n - 2}`, `${n - 1}=f:${n - 1}`] });
    expect(readView(engine, {}, 5, 5)).toEqual({ 'big{}': ['5=f:-5'] });
    shard.writer.close();
  });

  it('defers segments newer than one that failed to seal, so an older write never overtakes a newer one', () => {
    const shard = new Shard();
    const fsys = new FaultyFileSystem();
    shard.writer.close();
    const events: string[] = [];
    shard.writer = ShardWriter.open({ dir: shard.dir, shardId: 0, fs: fsys, syncPolicy: 'never', nowMs: () => shard.clock, log: (e) => events.push(e.event) });
    const write = (t: number, value: number): void => {
      shard.writer.append(batchOf([{ metric: 'w', t, value }]));
      shard.clock += SECOND;
    };
    write(1, 1);
    shard.writer.roll(); // segment 1: w@1 = 1
    write(1, 2);
    fsys.inject({ op: 'fsync', pathIncludes: '0000000000000002.seg' });
    shard.writer.roll(); // segment 2: w@1 = 2, left unsealed
    expect(events).toContain('segment.seal_failed');
    write(2, 3);
    shard.writer.roll(); // segment 3: w@2 = 3
    const before = readView(shard.reader(), {}, 0, 10);
    expect(before).toEqual({ 'w{}': ['1=f:2', '2=f:3'] });
    // Compacting segments 1 and 3 together would put w@1 = 1 in a block written "at" segment 3's
    // time, above segment 2's newer w@1 = 2.
    const result = shard.writer.compact({ tombstones: [] });
    expect(result.sources).toEqual([1]);
    expect(events).toContain('compaction.sources_deferred');
    expect(readView(shard.reader(), {}, 0, 10)).toEqual(before);
    // Reopening seals segment 2; then everything compacts.
    shard.writer.close();
    shard.writer = shard.openWriter();
    expect(shard.writer.compact({ tombstones: [] }).sources).toEqual([2, 3, result.outputs[0]]);
    expect(readView(shard.reader(), {}, 0, 10)).toEqual(before);
    shard.writer.close();
  });

  it('counts only sealed ingest segments as compaction work, across compactions and reopening', () => {
    const dir = tempDir();
    const open = () => ShardWriter.open({ dir, shardId: 0, syncPolicy: 'never' });
    let writer = open();
    for (let i = 0; i < 3; i++) {
      writer.append(batchOf([{ metric: 'm', tags: { h: 'a' }, t: i * 86_400_000, value: i }]));
      writer.roll();
    }
    expect(writer.sealedIngestSegmentCount()).toBe(3);
    writer.compact({ tombstones: [] });
    expect(writer.sealedSegmentSequences().length).toBeGreaterThan(0); // the outputs
    expect(writer.sealedIngestSegmentCount()).toBe(0);
    writer.close();
    writer = open();
    expect(writer.sealedIngestSegmentCount()).toBe(0);
    writer.append(batchOf([{ metric: 'm', tags: { h: 'a' }, t: 5, value: 5 }]));
    writer.roll();
    expect(writer.sealedIngestSegmentCount()).toBe(1);
    writer.close();
  });

  it('drops what retention, TTL and deletes hide from the files, and reads agree', () => {
    const shard = new Shard(64 * 1024);
    const pts = (metric: string, from: number, n: number, ttlSeconds = 0): TestPoint[] =>
      Array.from({ length: n }, (_, i) => ({ metric, tags: { h: String(i % 4) }, t: from + i * 1000, value: Math.round(Math.sin(i) * 1e4) / 100, ttlSeconds }));
    const now = T0 + 10 * DAY_MS;
    shard.clock = now - 3 * DAY_MS;
    shard.writer.append(batchOf(pts('old', now - 5 * DAY_MS, 2000))); // 5 days old: past retention
    shard.writer.append(batchOf(pts('fresh', now - DAY_MS, 2000))); // kept
    shard.writer.append(batchOf(pts('short', now - DAY_MS, 2000, 60))); // TTL 60 s, long expired
    shard.writer.append(batchOf(pts('long', now - DAY_MS, 2000, 7 * 86_400))); // TTL 7 days, kept
    shard.writer.append(batchOf(pts('gone', now - DAY_MS, 2000))); // deleted below
    shard.writer.roll();
    shard.clock = now;
    shard.deleter.delete({ metric: 'gone' }, -1e15, 1e15);

    const retentionMs = 2 * DAY_MS;
    const engine = shard.reader(retentionMs);
    const before = readView(engine, {}, WHOLE_RANGE[0], WHOLE_RANGE[1]);
    expect(Object.keys(before).map((k) => k.split('{')[0]).sort()).toEqual(['fresh', 'fresh', 'fresh', 'fresh', 'long', 'long', 'long', 'long']);

    const stored = storedPoints(shard.dir);
    expect(stored.points).toBe(10_000);
    const result = shard.writer.compact({ tombstones: shard.deleter.tombstones, retentionMs });
    expect(result).toMatchObject({ pointsIn: 10_000, pointsOut: 4000 });
    expect(result.bytesOut).toBeLessThan(result.bytesIn / 2);
    const after = storedPoints(shard.dir);
    expect(after).toMatchObject({ points: 4000, compactedPoints: 4000 });
    expect(after.bytes).toBe(result.bytesOut);
    expect(readView(engine, {}, WHOLE_RANGE[0], WHOLE_RANGE[1])).toEqual(before);
    // Catalog and reads of a fresh Engine without retention: the dropped points are really gone.
    const plain = shard.reader();
    expect(viewPoints(readView(plain, {}, WHOLE_RANGE[0], WHOLE_RANGE[1]))).toBe(4000);
    shard.writer.close();
  });

  it('keeps a write made after a delete into the deleted range', () => {
    const shard = new Shard();
    shard.writer.append(batchOf([{ metric: 'd', t: 1, value: 1 }, { metric: 'd', t: 2, value: 2 }]));
    shard.clock += SECOND;
    shard.deleter.delete({ metric: 'd' }, 0, 10);
    shard.clock += SECOND;
    shard.writer.append(batchOf([{ metric: 'd', t: 2, value: 22 }]));
    shard.writer.roll();
    const result = shard.writer.compact({ tombstones: shard.deleter.tombstones });
    expect(result.pointsOut).toBe(1);
    expect(readView(shard.reader(), { metric: 'd' }, 0, 10)).toEqual({ 'd{}': ['2=f:22'] });
    shard.writer.close();
  });

  it('writes one output per partition, sorted by series, and retires every source', () => {
    const shard = new Shard();
    const pts: TestPoint[] = [];
    for (let i = 0; i < 600; i++) pts.push({ metric: i % 2 ? 'b' : 'a', tags: { n: String(i % 3) }, t: (i - 300) * 1000, value: i });
    for (let k = 0; k < 6; k++) {
      shard.writer.append(batchOf(pts.slice(k * 100, k * 100 + 100)));
      if (k % 2 === 1) shard.writer.roll();
    }
    const sources = [...shard.writer.sealedSegmentSequences()];
    expect(sources).toEqual([1, 2, 3]);
    const result = shard.writer.compact({ tombstones: [], partitionMs: 200_000 });
    expect(result.sources).toEqual(sources);
    // t from −300 s to 299 s in 200 s partitions: [−400, −200), [−200, 0), [0, 200), [200, 400).
    expect(result.outputs.length).toBe(4);
    expect(shardFiles(shard.dir).segments.map((n) => parseInt(n, 16))).toEqual(result.outputs);
    expect(shard.writer.sealedSegmentSequences()).toEqual(result.outputs);
    expect(result.outputs[0]).toBeGreaterThan(Math.max(...sources));
    expect(viewPoints(readView(shard.reader(), {}, WHOLE_RANGE[0], WHOLE_RANGE[1]))).toBe(600);
    // A new segment takes a sequence after the outputs.
    shard.writer.append(batchOf([{ metric: 'a', t: 0, value: -1 }]));
    expect(Math.max(...shardFiles(shard.dir).segments.map((n) => parseInt(n, 16)))).toBe(result.outputs.at(-1)! + 1);
    shard.writer.close();
  });

  it('removes the sources when everything in them has expired, writing no output', () => {
    const shard = new Shard();
    shard.writer.append(batchOf([{ metric: 'x', t: 1, value: 1, ttlSeconds: 1 }]));
    shard.writer.roll();
    shard.clock += 2 * SECOND;
    const result = shard.writer.compact({ tombstones: [] });
    expect(result).toMatchObject({ pointsIn: 1, pointsOut: 0, outputs: [], bytesOut: 0 });
    expect(shardFiles(shard.dir).segments).toEqual([]);
    expect(shard.writer.sealedSegmentSequences()).toEqual([]);
    // Nothing sealed: a second compaction is a no-op.
    expect(shard.writer.compact({ tombstones: [] })).toMatchObject({ sources: [], outputs: [] });
    shard.writer.close();
  });

  it('gives every compaction of a shard its own id, even within one millisecond, so recovery keeps them apart', () => {
    const shard = new Shard();
    shard.writer.append(batchOf([{ metric: 'x', t: 1, value: 1 }]));
    shard.writer.roll();
    shard.writer.append(batchOf([{ metric: 'x', t: 100, value: 2 }]));
    shard.writer.roll();
    const [first, second] = shard.writer.sealedSegmentSequences();
    shard.writer.close();
    // Two compactions of one segment each, same clock, same random part of the id.
    const random = Math.random;
    Math.random = () => 0;
    try {
      const base = { shardDir: shard.dir, shardId: 0, nowMs: () => shard.clock, tombstones: [] };
      const a = compactShard({ ...base, sources: [first!], firstOutputSequence: 10 });
      const b = compactShard({ ...base, sources: [second!], firstOutputSequence: 11 });
      expect([a.outputs, b.outputs]).toEqual([[10], [11]]);
      expect(b.compactionId).not.toBe(a.compactionId);
    } finally {
      Math.random = random;
    }
    // Had they shared an id, recovery would see one compaction with two outputs of one and roll it back.
    shard.writer = shard.openWriter();
    expect(shardFiles(shard.dir).segments).toEqual(['000000000000000a.seg', '000000000000000b.seg']);
    expect(readView(shard.reader(), {}, WHOLE_RANGE[0], WHOLE_RANGE[1])).toEqual({ 'x{}': ['1=f:1', '100=f:2'] });
    shard.writer.close();
  });
});

describe('reads racing a compaction', () => {
  it('a scan whose segment is retired between its refresh and its block read starts over and sees the same points', () => {
    const dataDir = tempDir();
    const writer = ShardWriter.open({ dir: shardDirectory(dataDir, 0), shardId: 0, syncPolicy: 'never', segmentBytes: 64 * 1024 });
    const points: TestPoint[] = [];
    for (let t = 0; t < 3000; t++) points.push({ metric: 'race', tags: { h: String(t % 7) }, t, value: t });
    for (let from = 0; from < points.length; from += 500) writer.append(batchOf(points.slice(from, from + 500)));
    writer.roll();
    const faulty = new FaultyFileSystem();
    const engine = Engine.open({ dataDir, fs: faulty, owner: false });
    const before = readView(engine, { metric: 'race' }, ...WHOLE_RANGE);
    expect(viewPoints(before)).toBe(points.length);

    // The next time the scan opens a sealed ingest segment to read a block, compact first: the
    // file is gone when the open happens (another thread's compaction, in effect).
    let compactions = 0;
    faulty.observe = (op, filePath) => {
      if (op !== 'open' || !filePath.endsWith('.seg') || compactions > 0) return;
      compactions++;
      expect(writer.compact({ tombstones: [] }).outputs.length).toBeGreaterThan(0);
    };
    const ids = engine.select({ metric: 'race' });
    const during = engine.scan(ids, ...WHOLE_RANGE);
    faulty.observe = undefined;
    expect(compactions).toBe(1);
    expect(during.reduce((n, s) => n + s.length, 0)).toBe(points.length);
    expect(readView(engine, { metric: 'race' }, ...WHOLE_RANGE)).toEqual(before);
    writer.close();
  });
});
