// The in-flight byte budget: body bytes buffered on the main thread or queued for/held by a
// worker. A request reserves before it buffers and releases when its reply is written, so memory
// for request bodies never exceeds the configured bound (protocols answer "busy" instead).
// Main thread only.

export class InflightBudget {
  private usedBytes = 0;

  constructor(readonly limitBytes: number) {}

  get inUseBytes(): number {
    return this.usedBytes;
  }

  /**
   * Reserves `bytes` if they fit (a single request larger than the whole budget is let through
   * when nothing else is in flight, so the body limit, not the budget, decides its fate).
   * Returns false, reserving nothing, when the budget is exhausted.
   */
  tryReserve(bytes: number): boolean {
    if (this.usedBytes + bytes > this.limitBytes && this.usedBytes > 0) return false;
    this.usedBytes += bytes;
    return true;
  }

  release(bytes: number): void {
    this.usedBytes -= bytes;
    if (this.usedBytes < 0) throw new Error(`in-flight budget released more than reserved (${this.usedBytes})`);
  }
}
