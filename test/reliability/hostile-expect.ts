// Assertions shared by the hostile-client tests (vitest only; the CLI does not load this file).
import { expect } from 'vitest';
import { ANSWER_BOUND_MS, countPoints, formatLatency, type LatencyReport } from './hostile-harness.js';

/** An HTTP answer as the tests see it, from node:http or parsed off a raw socket. */
export interface SeenAnswer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined> | Map<string, string>;
  readonly body: string;
}

/** Logs the good client's latency and checks every request was answered 204 within the bound and stored. */
export async function expectServed(report: LatencyReport, port: number, label: string): Promise<void> {
  console.log(`[hostile] ${label}: well-behaved client ${formatLatency(report)}`);
  expect(report.failures).toEqual([]);
  expect(report.answered).toBeGreaterThan(0);
  expect(report.maxMs).toBeLessThanOrEqual(ANSWER_BOUND_MS);
  expect(await countPoints(port, 'hostile.good')).toBeGreaterThanOrEqual(report.storedTimestamps.length);
}

export function header(h: SeenAnswer['headers'], name: string): string | undefined {
  const v = h instanceof Map ? h.get(name) : h[name];
  return Array.isArray(v) ? v[0] : v;
}

/** KairosDB's 413: `{"errors":["…"]}` with its JSON content type. */
export function expectKairosTooLarge(res: SeenAnswer, message: RegExp): void {
  expect(res.status).toBe(413);
  expect(header(res.headers, 'content-type')).toBe('application/json; charset=UTF-8');
  const parsed = JSON.parse(res.body) as { errors: string[] };
  expect(parsed.errors).toHaveLength(1);
  expect(parsed.errors[0]).toMatch(message);
}
