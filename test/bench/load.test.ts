// The load generator's pieces that must be right for its figures to mean anything: the response
// parser (split anywhere, Content-Length, chunked, 1xx, read-until-close) and the workload
// (deterministic, every point exactly once, independent of batch size and format).
import { describe, expect, it } from 'vitest';
import { buildRequest, ResponseParser, type ParsedResponse } from '../../bench/load/http.js';
import { buildWorkload } from '../../bench/load/workload.js';

function parseAll(wire: string, splits: readonly number[]): ParsedResponse[] {
  const got: ParsedResponse[] = [];
  const p = new ResponseParser((r) => got.push(r));
  const bytes = Buffer.from(wire, 'latin1');
  let from = 0;
  for (const at of [...splits, bytes.length]) {
    p.push(bytes.subarray(from, at));
    from = at;
  }
  p.end();
  return got;
}

describe('ResponseParser', () => {
  const wire =
    'HTTP/1.1 204 No Content\r\nContent-Type: application/json\r\n\r\n' +
    'HTTP/1.1 100 Continue\r\n\r\n' +
    'HTTP/1.1 400 Bad Request\r\nContent-Length: 12\r\n\r\n{"errors":1}' +
    'HTTP/1.1 500 Internal\r\nTransfer-Encoding: chunked\r\n\r\n5;x=y\r\nhello\r\n6\r\n world\r\n0\r\nX-T: 1\r\n\r\n' +
    'HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n' +
    'HTTP/1.0 200 OK\r\n\r\nuntil close';

  it('parses every response, whatever the chunk boundaries', () => {
    const whole = parseAll(wire, []);
    expect(whole.map((r) => [r.status, r.body.toString(), r.close])).toEqual([
      [204, '', false],
      [400, '{"errors":1}', false],
      [500, 'hello world', false],
      [200, '', true],
      [200, 'until close', true],
    ]);
    for (let at = 1; at < wire.length; at++) expect(parseAll(wire, [at])).toEqual(whole);
    const bytewise = Array.from({ length: wire.length - 1 }, (_, i) => i + 1);
    expect(parseAll(wire, bytewise)).toEqual(whole);
  });

  it('rejects a malformed status line', () => {
    const p = new ResponseParser(() => undefined);
    expect(() => p.push(Buffer.from('HTTP/2 200\r\n\r\n'))).toThrow(/status line/);
  });
});

describe('buildRequest', () => {
  it('writes head and body with the right Content-Length', () => {
    const r = buildRequest({ path: '/p', host: 'h:1', body: Buffer.from('[1]'), headers: [['Content-Encoding', 'gzip']] }).toString('latin1');
    expect(r).toBe('POST /p HTTP/1.1\r\nHost: h:1\r\nContent-Type: application/json\r\nContent-Length: 3\r\nContent-Encoding: gzip\r\n\r\n[1]');
  });
});

describe('buildWorkload', () => {
  /** Every point of a workload as "metric|tags|ms|value", in body order. */
  function points(format: 'kairosdb' | 'opentsdb', batch: number): string[] {
    const w = buildWorkload({ format, hosts: 3, points: 95, batch, seed: 42 });
    const out: string[] = [];
    w.bodies.forEach((b, i) => {
      const objs = JSON.parse(b.toString('utf8')) as Record<string, unknown>[];
      let n = 0;
      for (const o of objs) {
        const tags = JSON.stringify(o.tags);
        if (format === 'kairosdb') {
          for (const [ms, v] of o.datapoints as [number, number][]) {
            out.push(`${String(o.name)}|${tags}|${ms}|${v}`);
            n++;
          }
        } else {
          out.push(`${String(o.metric)}|${tags}|${(o.timestamp as number) * 1000}|${String(o.value)}`);
          n++;
        }
      }
      expect(n).toBe(w.pointsPerBody[i]);
      expect(n).toBeLessThanOrEqual(batch);
    });
    expect(out.length).toBe(w.points);
    return out;
  }

  it('is deterministic and carries the same points at any batch size and in either format', () => {
    const w1 = buildWorkload({ format: 'kairosdb', hosts: 3, points: 95, batch: 7, seed: 42 });
    const w2 = buildWorkload({ format: 'kairosdb', hosts: 3, points: 95, batch: 7, seed: 42 });
    expect(Buffer.concat(w1.bodies).equals(Buffer.concat(w2.bodies))).toBe(true);
    expect(w1.points).toBe(120); // 30 series × 4 timestamps, rounded up from 95
    const ref = points('kairosdb', 1);
    const sorted = [...ref].sort();
    expect(new Set(ref).size).toBe(ref.length);
    for (const batch of [7, 30, 45, 1000]) expect(points('kairosdb', batch).sort()).toEqual(sorted);
    for (const batch of [1, 13]) expect(points('opentsdb', batch).sort()).toEqual(sorted);
    const other = buildWorkload({ format: 'kairosdb', hosts: 3, points: 95, batch: 7, seed: 43 });
    expect(Buffer.concat(other.bodies).equals(Buffer.concat(w1.bodies))).toBe(false);
  });

  it('has 8 TSBS host tags and values in [0, 100]', () => {
    const w = buildWorkload({ format: 'opentsdb', hosts: 2, points: 200, batch: 1000, seed: 1, precision: 2 });
    const objs = JSON.parse(w.bodies[0]!.toString('utf8')) as { tags: Record<string, string>; value: number }[];
    expect(Object.keys(objs[0]!.tags)).toEqual(['hostname', 'region', 'datacenter', 'rack', 'os', 'arch', 'team', 'service']);
    for (const o of objs) {
      expect(o.value).toBeGreaterThanOrEqual(0);
      expect(o.value).toBeLessThanOrEqual(100);
      expect(Math.round(o.value * 100) / 100).toBe(o.value);
    }
  });
});
