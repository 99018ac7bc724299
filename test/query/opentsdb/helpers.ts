// Shared setup for the /api/query tests: a real Engine over a temp directory, hour-aligned
// timestamps and request shortcuts.
import type { Engine } from '../../../engine/index.js';
import { runOpenTsdbQuery, type OpenTsdbHttpAnswer } from '../../../src/query/opentsdb/index.js';
import type { TestPoint } from '../../helpers/batches.js';
import { engineWith as engineWithPoints } from '../../helpers/engine.js';

/** 2023-11-14T22:00:00Z, on an hour boundary (seconds). */
export const BASE_S = 1_699_999_200;
export const BASE_MS = BASE_S * 1000;
/** "now" for relative times: two hours after BASE. */
export const NOW_MS = BASE_MS + 2 * 3_600_000;

/** A point `s` seconds after BASE. */
export function at(s: number): number {
  return BASE_MS + s * 1000;
}

export function engineWith(points: readonly TestPoint[]): Engine {
  return engineWithPoints(points, { tmpPrefix: 'strata-otsdb-query-', nowMs: () => NOW_MS });
}

export function get(engine: Engine, queryString: string, maxResultPoints?: number): OpenTsdbHttpAnswer {
  const options = maxResultPoints === undefined ? { nowMs: NOW_MS } : { nowMs: NOW_MS, maxResultPoints };
  return runOpenTsdbQuery(engine, { method: 'GET', queryString, body: '' }, options);
}

export function post(engine: Engine, body: unknown, queryString = ''): OpenTsdbHttpAnswer {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  return runOpenTsdbQuery(engine, { method: 'POST', queryString, body: text }, { nowMs: NOW_MS });
}

/** The response parsed, for assertions on structure. */
export function json(answer: OpenTsdbHttpAnswer): unknown {
  return JSON.parse(answer.body);
}

/** The dps of the only result, as an object (seconds keys). */
export function onlyDps(answer: OpenTsdbHttpAnswer): Record<string, unknown> {
  const parsed = JSON.parse(answer.body) as { dps: Record<string, unknown> }[];
  if (parsed.length !== 1) throw new Error(`expected one result, got ${answer.body}`);
  return parsed[0]!.dps;
}

/** `{ "<BASE+s>": v, … }` from [s, v] pairs. */
export function dpsOf(pairs: readonly (readonly [number, unknown])[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [s, v] of pairs) out[String(BASE_S + s)] = v;
  return out;
}
