// Rate-limited warnings for rejected input (src/rejection-log.ts).
import { describe, expect, it } from 'vitest';
import { RejectionLog } from '../src/rejection-log.js';

describe('RejectionLog', () => {
  it('logs a 4xx per API at most once per window, then how many it stood for', () => {
    const lines: Record<string, unknown>[] = [];
    let now = 0;
    const log = new RejectionLog((l) => lines.push(l), 1000, () => now);
    log.note('opentsdb', 400, '/api/put');
    log.note('opentsdb', 400, '/api/put');
    log.note('kairosdb', 413, '/api/v1/datapoints');
    log.note('opentsdb', 204, '/api/put'); // not a rejection
    log.note('opentsdb', 500, '/api/put'); // the server's failure, logged where it happens
    now = 999;
    log.note('opentsdb', 400, '/api/put');
    now = 1000;
    log.note('opentsdb', 405, '/api/put');
    expect(lines).toEqual([
      { level: 'warn', event: 'input.rejected', api: 'opentsdb', status: 400, path: '/api/put' },
      { level: 'warn', event: 'input.rejected', api: 'kairosdb', status: 413, path: '/api/v1/datapoints' },
      { level: 'warn', event: 'input.rejected', api: 'opentsdb', status: 405, path: '/api/put', rejectedSinceLastLine: 2 },
    ]);
  });
});
