// The main thread's free-list of body buffers (src/pool/body-buffers.ts) and the worker's rule for
// handing a body back (src/pool/body-return.ts): bounds, capacity choice, reservation of the
// capacity taken, and that a detached buffer — or one some code can still reach — is never handed out.
import { MessageChannel } from 'node:worker_threads';
import { transferableSymbol, valueSymbol } from 'piscina';
import { describe, expect, it } from 'vitest';
import { BodyBufferPool, RECYCLE_MIN_BYTES, bodyCapacityFor } from '../../src/pool/body-buffers.js';
import { answerFor, returnableBody } from '../../src/pool/body-return.js';
import { ServiceErrorCode } from '../../src/errors.js';
import type { KairosIngestTask, OpenTsdbPutTask, WorkerAnswer } from '../../src/pool/messages.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const yes = (): boolean => true;

/** Detaches `buffer` the way a transfer does. */
function detach(buffer: ArrayBuffer): void {
  const { port1, port2 } = new MessageChannel();
  port1.postMessage(buffer, [buffer]);
  port1.close();
  port2.close();
}

describe('bodyCapacityFor', () => {
  it('is exact below 64 KiB and rounds up to eight steps per power of two above', () => {
    expect(bodyCapacityFor(0)).toBe(0);
    expect(bodyCapacityFor(16 * KiB)).toBe(16 * KiB);
    expect(bodyCapacityFor(RECYCLE_MIN_BYTES - 1)).toBe(RECYCLE_MIN_BYTES - 1);
    expect(bodyCapacityFor(64 * KiB)).toBe(64 * KiB);
    expect(bodyCapacityFor(64 * KiB + 1)).toBe(72 * KiB);
    expect(bodyCapacityFor(MiB)).toBe(MiB);
    expect(bodyCapacityFor(1_100_000)).toBe(1.125 * MiB);
    expect(bodyCapacityFor(1_170_000)).toBe(1.125 * MiB);
    expect(bodyCapacityFor(1_180_000)).toBe(1.25 * MiB);
    for (let n = RECYCLE_MIN_BYTES; n < 64 * MiB; n = Math.ceil(n * 1.37) + 11) {
      const c = bodyCapacityFor(n);
      expect(c).toBeGreaterThanOrEqual(n);
      expect(c).toBeLessThanOrEqual(n * 1.125);
      expect(bodyCapacityFor(c)).toBe(c);
    }
  });
});

describe('BodyBufferPool', () => {
  it('allocates the rounded capacity and reuses a returned buffer for a body of nearly the same size', () => {
    const pool = new BodyBufferPool();
    const a = pool.take(1_170_000, yes)!;
    expect(a.byteLength).toBe(1.125 * MiB);
    pool.give(a);
    expect(pool.size).toBe(1);
    expect(pool.bytes).toBe(1.125 * MiB);
    expect(pool.take(1_100_000, yes)).toBe(a);
    expect(pool.size).toBe(0);
    expect(pool.bytes).toBe(0);
    // Taken means gone: the next body of that size gets a different buffer.
    const b = pool.take(1_100_000, yes)!;
    expect(b).not.toBe(a);
  });

  it('takes the smallest buffer that fits and never one much bigger than the body needs', () => {
    const pool = new BodyBufferPool();
    const big = new ArrayBuffer(4 * MiB);
    const mid = new ArrayBuffer(1.25 * MiB);
    const mid2 = new ArrayBuffer(1.25 * MiB);
    const small = new ArrayBuffer(128 * KiB);
    for (const b of [big, mid, small, mid2]) pool.give(b);
    // 1.2 MB fits mid and mid2 (same size: the newest) and big (too big for it).
    expect(pool.take(1_200_000, yes)).toBe(mid2);
    expect(pool.take(1_200_000, yes)).toBe(mid);
    // Nothing of the right size left: a fresh buffer, the 4 MiB one stays.
    const fresh = pool.take(1_200_000, yes)!;
    expect([big, small]).not.toContain(fresh);
    expect(fresh.byteLength).toBe(1.25 * MiB);
    // 100 KB (class 104 KiB): the 128 KiB buffer is too big for it: fresh.
    const hundred = pool.take(100_000, yes)!;
    expect(hundred).not.toBe(small);
    expect(hundred.byteLength).toBe(bodyCapacityFor(100_000));
    expect(pool.take(125 * KiB, yes)).toBe(small); // class 128 KiB
    expect(pool.take(4 * MiB, yes)).toBe(big);
    expect(pool.size).toBe(0);
  });

  it('never recycles small buffers, and small bodies get exactly what they ask for', () => {
    const pool = new BodyBufferPool();
    pool.give(new ArrayBuffer(RECYCLE_MIN_BYTES - 1));
    pool.give(new ArrayBuffer(16));
    expect(pool.size).toBe(0);
    const recycled = new ArrayBuffer(RECYCLE_MIN_BYTES);
    pool.give(recycled);
    const small = pool.take(16 * KiB, yes)!;
    expect(small).not.toBe(recycled);
    expect(small.byteLength).toBe(16 * KiB);
    expect(pool.size).toBe(1);
  });

  it('asks for the whole capacity it hands out, and takes nothing when the reservation is refused', () => {
    const pool = new BodyBufferPool();
    const kept = new ArrayBuffer(1.25 * MiB);
    pool.give(kept);
    const asked: number[] = [];
    expect(pool.take(1_200_000, (c) => (asked.push(c), false))).toBeUndefined();
    expect(pool.size).toBe(1); // still there
    expect(pool.take(3 * MiB, (c) => (asked.push(c), false))).toBeUndefined();
    expect(pool.take(1_200_000, (c) => (asked.push(c), true))).toBe(kept);
    expect(pool.take(20 * KiB, (c) => (asked.push(c), true))!.byteLength).toBe(20 * KiB);
    expect(asked).toEqual([1.25 * MiB, 3 * MiB, 1.25 * MiB, 20 * KiB]);
  });

  it('holds at most maxBuffers buffers and maxBytes bytes, dropping the oldest', () => {
    const pool = new BodyBufferPool({ maxBuffers: 3, maxBytes: 4 * MiB });
    const bufs = Array.from({ length: 5 }, () => new ArrayBuffer(MiB));
    for (const b of bufs) pool.give(b);
    expect(pool.size).toBe(3);
    expect(pool.bytes).toBe(3 * MiB);
    // The newest three stay.
    const got = [pool.take(MiB, yes), pool.take(MiB, yes), pool.take(MiB, yes)];
    expect(new Set(got)).toEqual(new Set(bufs.slice(2)));
    // The byte bound: 1 + 3 MiB fit; 1 + 3 + 1 MiB > 4 MiB drops the oldest.
    const three = new ArrayBuffer(3 * MiB);
    pool.give(bufs[0]!);
    pool.give(three);
    expect(pool.size).toBe(2);
    expect(pool.bytes).toBe(4 * MiB);
    pool.give(bufs[1]!);
    expect(pool.size).toBe(2);
    expect(pool.bytes).toBe(4 * MiB);
    expect(pool.take(MiB, yes)).toBe(bufs[1]);
    pool.give(bufs[1]!);
    // A buffer over the byte bound is never kept (and does not evict the others).
    pool.give(new ArrayBuffer(5 * MiB));
    expect(pool.size).toBe(2);
    expect(pool.bytes).toBe(4 * MiB);
    // Bounded to nothing: nothing is kept.
    const none = new BodyBufferPool({ maxBuffers: 0, maxBytes: 32 * MiB });
    none.give(new ArrayBuffer(MiB));
    expect(none.size).toBe(0);
  });

  it('never hands out a detached buffer', () => {
    const pool = new BodyBufferPool();
    const b = new ArrayBuffer(MiB);
    detach(b);
    expect(b.byteLength).toBe(0);
    pool.give(b);
    expect(pool.size).toBe(0);
    const taken = pool.take(MiB, yes)!;
    expect(taken).not.toBe(b);
    expect(taken.byteLength).toBe(MiB);
    // Every buffer handed out is attached and of at least the size asked, over many rounds.
    const out: ArrayBuffer[] = [];
    for (let i = 0; i < 200; i++) {
      const want = 64 * KiB + ((i * 7919) % (2 * MiB));
      const t = pool.take(want, yes)!;
      expect(t.byteLength).toBeGreaterThanOrEqual(want);
      expect(out.includes(t)).toBe(false); // not handed out twice while held
      out.push(t);
      if (i % 3 === 0) pool.give(out.shift()!);
    }
  });
});

const opentsdbTask = (body: ArrayBuffer, encoding: 'identity' | 'gzip' = 'identity'): OpenTsdbPutTask => ({
  kind: 'opentsdb.put',
  body,
  bodyBytes: body.byteLength,
  encoding,
  maxInflatedBytes: 64 * MiB,
  query: '',
  syncAlways: false,
});
const kairosTask = (body: ArrayBuffer, encoding: 'identity' | 'gzip' = 'identity'): KairosIngestTask => ({
  kind: 'kairos.ingest',
  body,
  bodyBytes: body.byteLength,
  encoding,
  maxInflatedBytes: 64 * MiB,
  sync: false,
});
const okReply = { ok: true, status: 204, body: '', gzipped: false } as const;
const failed = { ok: false, code: ServiceErrorCode.BadEncoding, messages: ['Not in GZIP format'] } as const;

describe('returnableBody (worker side)', () => {
  it('hands back plain ingest bodies whatever the answer, and encoded ones only after a clean answer', () => {
    const body = new ArrayBuffer(MiB);
    expect(returnableBody(opentsdbTask(body), okReply)).toBe(body);
    expect(returnableBody(opentsdbTask(body), failed)).toBe(body);
    expect(returnableBody({ ...opentsdbTask(body), kind: 'opentsdb.rollup' }, okReply)).toBe(body);
    expect(returnableBody(kairosTask(body), failed)).toBe(body);
    expect(returnableBody(kairosTask(body, 'gzip'), okReply)).toBe(body);
    expect(returnableBody(kairosTask(body, 'gzip'), failed)).toBeUndefined();
    expect(returnableBody(opentsdbTask(body, 'gzip'), undefined)).toBeUndefined();
  });

  it('hands back a group only when every encoded part was answered cleanly', () => {
    const body = new ArrayBuffer(MiB);
    const plain = { kind: 'ingest.group', body, parts: [opentsdbTask(body), kairosTask(body)] } as const;
    expect(returnableBody(plain, { ok: true, parts: [okReply, failed] })).toBe(body);
    const mixed = { kind: 'ingest.group', body, parts: [opentsdbTask(body), kairosTask(body, 'gzip')] } as const;
    expect(returnableBody(mixed, { ok: true, parts: [okReply, okReply] })).toBe(body);
    expect(returnableBody(mixed, { ok: true, parts: [okReply, failed] })).toBeUndefined();
    expect(returnableBody(mixed, failed)).toBeUndefined();
  });

  it('keeps other tasks’ bodies, small bodies and detached ones', () => {
    const body = new ArrayBuffer(MiB);
    expect(returnableBody({ kind: 'cave.publish', body, bodyBytes: MiB, encoding: 'identity', maxInflatedBytes: MiB, account: 'a', syncAlways: false }, okReply)).toBeUndefined();
    expect(returnableBody({ kind: 'telnet', body, bodyBytes: MiB }, okReply)).toBeUndefined();
    expect(returnableBody({ kind: 'ping' }, undefined)).toBeUndefined();
    expect(returnableBody(opentsdbTask(new ArrayBuffer(RECYCLE_MIN_BYTES - 1)), okReply)).toBeUndefined();
    const gone = new ArrayBuffer(MiB);
    detach(gone);
    expect(returnableBody(opentsdbTask(gone), okReply)).toBeUndefined();
  });

  it('answers with the body in the transfer list, so sending it detaches the worker’s copy', async () => {
    const body = new ArrayBuffer(MiB);
    new Uint8Array(body).fill(7);
    const answer = answerFor(opentsdbTask(body), okReply) as unknown as Record<symbol, unknown>;
    const transfer = answer[transferableSymbol] as ArrayBuffer[];
    expect(transfer).toEqual([body]);
    const value = answer[valueSymbol] as WorkerAnswer;
    expect(value.result).toBe(okReply);
    // As piscina posts it: the value with the transfer list.
    const { port1, port2 } = new MessageChannel();
    const received = new Promise<WorkerAnswer>((resolve) => port2.once('message', resolve));
    port1.postMessage(value, transfer);
    expect(body.byteLength).toBe(0); // detached here, before anyone could reuse it there
    const got = await received;
    port1.close();
    port2.close();
    expect(got.returnedBody!.byteLength).toBe(MiB);
    expect(new Uint8Array(got.returnedBody!)[MiB - 1]).toBe(7);
    expect(got.result).toEqual(okReply);
    // Nothing to hand back: a plain answer.
    expect(answerFor(opentsdbTask(new ArrayBuffer(10)), okReply)).toEqual({ result: okReply });
  });
});
