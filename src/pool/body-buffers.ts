// Recycled request-body buffers on the main thread: a small, bounded free-list of ArrayBuffers that
// src/http/request.ts takes body buffers from and src/pool/pool.ts puts back the buffers workers
// hand back with their answers (src/pool/body-return.ts). Main thread only; no piscina here.
//
// Why: a fresh 1.2 MB ArrayBuffer per OpenTSDB batch made the main thread fault in and zero new
// pages for every body (kernel clear_page + V8's memset in BackingStore::Allocate) and fed V8
// ~470 MB of short-lived external memory per 2 M points, which it answered with extra GCs.
//
// Never in two hands at once: a buffer enters the list only when no code can reach it any more —
// (1) a worker's handed-back body: piscina posts it with the answer in the transfer list, which
// detaches the worker's ArrayBuffer (and every view of it) before the message leaves, so no
// worker code can read or write those bytes again; on this thread it arrives as a new ArrayBuffer
// object that only the answer envelope references, and the pool strips it from the envelope before
// anyone else sees the answer; (2) a buffer that receiveBody replaced while growing a body, or
// held for a body that failed or was aborted: only receiveBody's closure referenced it, and it
// drops the reference as it gives the buffer back. A buffer taken from the list is removed from
// it, so it belongs to exactly one body. The route's own reference to a body it sent to a worker
// is the sending side of the transfer: detached since the task left, so it cannot see the bytes
// of a later body either.
//
// Stale bytes: a recycled buffer (or a fresh uninitialised one) holds old bytes past the body.
// Every reader of a body reads only its `bodyBytes` from `bodyOffset` (worker.ts, onenet.ts,
// coalescer.ts, the routes), and receiveBody writes every byte below `length` before it resolves.

/** Buffers below this are allocated fresh (zeroing a few KiB costs nothing) and never recycled. */
export const RECYCLE_MIN_BYTES = 64 * 1024;

export interface BodyBufferLimits {
  /** Buffers the free-list holds at most; the oldest goes first. */
  readonly maxBuffers: number;
  /** Bytes (capacities) the free-list holds at most; a buffer larger than this is never kept. */
  readonly maxBytes: number;
}

/**
 * The byte bound is what matters (the most memory the list keeps idle). The count leaves room for
 * the growth ladder besides the full-size buffers: a body whose bytes arrive in small reads grows
 * 64 → 128 → 256 KiB → its declared length, each outgrown buffer going back to the list, where
 * these small ones must not push out the big ones of the bodies in flight (FIFO eviction).
 */
export const DEFAULT_BODY_BUFFER_LIMITS: BodyBufferLimits = { maxBuffers: 32, maxBytes: 32 * 1024 * 1024 };

/**
 * The capacity a body buffer for `bytes` gets: exactly `bytes` below RECYCLE_MIN_BYTES; above, rounded
 * up to one of eight steps per power of two (at most 12.5 % more), so bodies of nearly the same size
 * (5,000-point batches differ by a few KB) fit each other's buffers.
 */
export function bodyCapacityFor(bytes: number): number {
  if (bytes < RECYCLE_MIN_BYTES) return bytes;
  const step = 2 ** (Math.floor(Math.log2(bytes)) - 3);
  return Math.ceil(bytes / step) * step;
}

export class BodyBufferPool {
  private readonly free: ArrayBuffer[] = [];
  private freeBytes = 0;

  constructor(readonly limits: BodyBufferLimits = DEFAULT_BODY_BUFFER_LIMITS) {}

  /** Buffers waiting to be reused. */
  get size(): number {
    return this.free.length;
  }

  /** Their capacities, summed. */
  get bytes(): number {
    return this.freeBytes;
  }

  /**
   * A buffer of at least `bytes` for one body, its contents undefined: the smallest recycled one
   * no larger than bodyCapacityFor(bytes) (a much bigger one stays for a body that needs it), else
   * a fresh uninitialised one of bodyCapacityFor(bytes). `reserve(capacityBytes)` is asked first
   * (the in-flight budget counts the whole capacity); when it refuses, nothing is taken or
   * allocated and the result is undefined.
   */
  take(bytes: number, reserve: (capacityBytes: number) => boolean): ArrayBuffer | undefined {
    const most = bodyCapacityFor(bytes);
    let best = -1;
    if (bytes >= RECYCLE_MIN_BYTES) {
      // Newest first among equals: its pages are the likeliest to be in cache.
      for (let i = this.free.length - 1; i >= 0; i--) {
        const capacity = this.free[i]!.byteLength;
        if (capacity >= bytes && capacity <= most && (best < 0 || capacity < this.free[best]!.byteLength)) best = i;
      }
    }
    if (best >= 0) {
      const buffer = this.free[best]!;
      if (!reserve(buffer.byteLength)) return undefined;
      this.free.splice(best, 1);
      this.freeBytes -= buffer.byteLength;
      return buffer;
    }
    if (!reserve(most)) return undefined;
    // Uninitialised: V8 would zero every byte of a new ArrayBuffer, and receiveBody writes each
    // byte a reader may see (below `length`) before the body is used.
    return most >= RECYCLE_MIN_BYTES ? (Buffer.allocUnsafeSlow(most).buffer as ArrayBuffer) : new ArrayBuffer(most);
  }

  /**
   * Keeps `buffer` for a later body. The caller gives up every reference to it (see the file
   * comment). Buffers below RECYCLE_MIN_BYTES or above the byte bound are left to the GC, as is
   * a detached one (byteLength 0); past the bounds, the oldest buffers are dropped.
   */
  give(buffer: ArrayBuffer): void {
    const capacity = buffer.byteLength;
    if (capacity < RECYCLE_MIN_BYTES || capacity > this.limits.maxBytes || this.limits.maxBuffers <= 0) return;
    this.free.push(buffer);
    this.freeBytes += capacity;
    while (this.free.length > this.limits.maxBuffers || this.freeBytes > this.limits.maxBytes) {
      this.freeBytes -= this.free.shift()!.byteLength;
    }
  }
}

/** The main thread's free-list (receiveBody takes, the pool gives back). */
export const bodyBuffers = new BodyBufferPool();
