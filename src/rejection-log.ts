// Rate-limited warnings for rejected input: one `input.rejected` log line per API at most every
// WINDOW_MS, carrying how many rejections it stands for, so a client sending garbage in a loop
// shows up in the log without flooding it. Only the API, status and path are logged — never a
// body, a header or a query string (they may carry secrets; docs/security.md).

/** At most one line per API in this many ms. */
export const REJECTION_LOG_WINDOW_MS = 10_000;

export class RejectionLog {
  private readonly lastAtMs = new Map<string, number>();
  private readonly suppressed = new Map<string, number>();

  constructor(
    private readonly write: (line: { level: 'warn'; event: string; [field: string]: unknown }) => void,
    private readonly windowMs = REJECTION_LOG_WINDOW_MS,
    private readonly nowMs: () => number = Date.now,
  ) {}

  /** One answer: 4xx answers are rejections (5xx are the server's own failures, logged where they happen). */
  note(api: string, status: number, path: string): void {
    if (status < 400 || status >= 500) return;
    const now = this.nowMs();
    const last = this.lastAtMs.get(api);
    if (last !== undefined && now - last < this.windowMs) {
      this.suppressed.set(api, (this.suppressed.get(api) ?? 0) + 1);
      return;
    }
    const before = this.suppressed.get(api) ?? 0;
    this.suppressed.set(api, 0);
    this.lastAtMs.set(api, now);
    this.write({ level: 'warn', event: 'input.rejected', api, status, path, ...(before > 0 ? { rejectedSinceLastLine: before } : {}) });
  }
}
