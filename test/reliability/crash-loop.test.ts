// The short crash loop (docs/guarantees.md §1): 20 SIGKILLs of the real server under mixed
// KairosDB / OpenTSDB / line-port load and admin credential writes, each followed by a restart on
// the same data directory and a check through the query APIs and the credential store. The long
// run is `npm run crash-loop` (200 kills).
import { describe, expect, it } from 'vitest';
import { runCrashLoop } from './crash-loop.js';

describe('crash loop', () => {
  it('loses no acknowledged point or credential and shows nothing half-visible across 20 SIGKILLs', { timeout: 150_000 }, async () => {
    const report = await runCrashLoop({
      kills: 20,
      threads: 2,
      segmentBytes: 16 * 1024,
      compactCheckMs: 50,
      minUpMs: 100,
      maxUpMs: 500,
      fullVerifyEvery: 5,
    });
    const { violations, ...figures } = report;
    console.info(`crash loop: ${JSON.stringify(figures)}`);
    expect(violations).toEqual([]);
    expect(report.kills).toBe(20);
    expect(report.pointsLost).toBe(0);
    // The loop really loaded the server and really cut work short.
    expect(report.pointsAcknowledged).toBeGreaterThan(1000);
    expect(report.requestsAcknowledged).toBeGreaterThan(50);
    expect(report.requestsUnacknowledged + report.credentialsUnacknowledged).toBeGreaterThan(0);
    expect(report.credentialsAcknowledged).toBeGreaterThan(0);
    expect(report.compactionsFinished + report.killsWhileCompactionWriting + report.killsWhileCompactionCommitting).toBeGreaterThan(0);
  });
});
