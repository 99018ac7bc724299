// The worker warm-up (src/pool/warm-up.ts) driven against real decoders and a real scratch shard:
// the tasks it sends decode and store every point it announces, the scratch directory and the
// series are gone afterwards, a server killed mid-warm-up is cleaned up after, and a failure is
// logged, never thrown. (The warm-up inside the real server: test/integration/warm-up.test.ts.)
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import type { ShardWriter } from '../../engine/index.js';
import type { LogEvent } from '../../src/log.js';
import { warmUp, type WarmUpTarget, type WarmUpTask } from '../../src/pool/warm-up.js';
import { SeriesCache } from '../../src/protocols/batch-builder.js';
import { KairosDatapointsDecoder } from '../../src/protocols/kairosdb/ingest.js';
import { OpenTsdbPutDecoder } from '../../src/protocols/opentsdb/put.js';
import { tempDir } from '../helpers/tmp.js';

/** A worker in miniature: the real decoders over one series cache, appending where redirected. */
function decodingTarget(): WarmUpTarget & { readonly cache: SeriesCache; tasks: WarmUpTask[]; appendedTo: Set<ShardWriter>; redirects: (ShardWriter | undefined)[] } {
  const cache = new SeriesCache();
  let scratch: ShardWriter | undefined;
  const appendedTo = new Set<ShardWriter>();
  const sink = (batch: Parameters<ShardWriter['append']>[0]): void => {
    if (scratch === undefined) throw new Error('append outside the warm-up');
    scratch.append(batch, { sync: false });
    appendedTo.add(scratch);
  };
  const openTsdb = new OpenTsdbPutDecoder(sink, { cache });
  const kairos = new KairosDatapointsDecoder(sink, { cache });
  const tasks: WarmUpTask[] = [];
  const redirects: (ShardWriter | undefined)[] = [];
  return {
    cache,
    tasks,
    appendedTo,
    redirects,
    run(task) {
      tasks.push(task);
      const raw = new Uint8Array(task.body, 0, task.bodyBytes);
      const body = task.encoding === 'gzip' ? zlib.gunzipSync(raw) : raw;
      if (task.kind === 'kairos.ingest') {
        kairos.write(body);
        const r = kairos.end();
        return Promise.resolve(r.errors.length === 0 ? { ok: true, points: r.points } : { ok: false });
      }
      openTsdb.begin({ details: false });
      openTsdb.write(body);
      const r = openTsdb.end();
      return Promise.resolve(r.bodyError === null && r.errors.length === 0 ? { ok: true, points: r.accepted } : { ok: false });
    },
    redirectAppends(writer) {
      redirects.push(writer);
      scratch = writer;
    },
    forgetSeries() {
      cache.forget();
    },
  };
}

function collect(): { events: LogEvent[]; log: (e: LogEvent) => void } {
  const events: LogEvent[] = [];
  return { events, log: (e) => events.push(e) };
}

const SYNC = { syncPolicy: 'never', syncIntervalMs: 1000 } as const;

describe('warmUp', () => {
  it('stores the points asked for through OpenTSDB (plain and gzip) and KairosDB tasks in a scratch shard, then removes it and forgets the series', async () => {
    const parent = tempDir();
    const { events, log } = collect();
    const target = decodingTarget();
    const report = await warmUp({ points: 9_123, target, log, scratchParentDir: parent, ...SYNC });
    expect(report?.points).toBe(9_123);
    expect(report!.elapsedMs).toBeGreaterThan(0);
    expect(events).toEqual([]);
    expect(new Set(target.tasks.map((t) => `${t.kind}/${t.encoding}`))).toEqual(new Set(['opentsdb.put/identity', 'opentsdb.put/gzip', 'kairos.ingest/identity']));
    expect(target.appendedTo.size).toBe(1);
    expect(target.redirects.length).toBe(2);
    expect(target.redirects[1]).toBeUndefined();
    expect(target.cache.entryCount).toBe(0);
    expect(fs.readdirSync(parent)).toEqual([]);
  });

  it('does nothing for 0 points', async () => {
    const parent = tempDir();
    const target = decodingTarget();
    expect(await warmUp({ points: 0, target, log: () => {}, scratchParentDir: parent, ...SYNC })).toBeUndefined();
    expect(target.tasks).toEqual([]);
    expect(fs.readdirSync(parent)).toEqual([]);
  });

  it("removes the scratch of a dead process and keeps a live one's", async () => {
    const parent = tempDir();
    // pid 2^22 + 1 is above Linux's pid_max ceiling: never a live process.
    const dead = path.join(parent, `strata-warm-up-${2 ** 22 + 1}-abc`);
    const live = path.join(parent, `strata-warm-up-${process.ppid}-xyz`);
    const other = path.join(parent, 'strata-test-keep');
    for (const d of [dead, live, other]) fs.mkdirSync(path.join(d, 'shards'), { recursive: true });
    await warmUp({ points: 100, target: decodingTarget(), log: () => {}, scratchParentDir: parent, ...SYNC });
    expect(fs.readdirSync(parent).sort()).toEqual([path.basename(other), path.basename(live)].sort());
  });

  it('logs a failure and returns undefined instead of throwing, appends restored', async () => {
    const { events, log } = collect();
    const missing = path.join(tempDir(), 'no', 'such', 'dir');
    const target = decodingTarget();
    expect(await warmUp({ points: 100, target, log, scratchParentDir: missing, ...SYNC })).toBeUndefined();
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ level: 'warn', event: 'worker.warm-up-failed' });
    expect(target.redirects).toEqual([undefined]);
  });
});
