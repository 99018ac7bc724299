// OneNET reads over the engine (protocols.md §4.3): `GET /devices/{id}/datapoints` (a time range
// or the latest point of each stream, limit, ASC/DESC, cursor pages), `GET …/datastreams` (id,
// first and latest time, current value) and the bytes behind a `/bindata` index. Every read is
// scoped to one device: only series whose whole tag set is `{device_id: <device>}` (§7 "Tenants"),
// so KairosDB/OpenTSDB series that merely carry a device_id tag, and binary payload series, never
// show. Runs in a worker; writes nothing. Answers the `data` part; the route wraps the envelope.
import { ValueKind, type Engine, type SeriesId, type SeriesPoints } from '../../engine/index.js';
import { BINDATA_TAG, BINDATA_TAG_VALUE, decodeBinaryPayload, type BinaryReading } from '../protocols/onenet/bindata.js';
import { DEVICE_TAG } from '../protocols/onenet/datapoints.js';
import { encodeCursor, streamList, type DatapointsQuery, type ReadPosition } from '../protocols/onenet/query.js';
import { formatOneNetTime } from '../protocols/onenet/time.js';
import { valueJson } from '../protocols/onenet/value.js';
import { MAX_ABS_TIMESTAMP_MS } from '../protocols/batch-builder.js';

const MIN_MS = -(MAX_ABS_TIMESTAMP_MS - 1);
const MAX_MS = MAX_ABS_TIMESTAMP_MS - 1;

/** The device's datastream series (exact tag set `{device_id}`), optionally only `streams`, by id. */
export function deviceStreams(engine: Engine, deviceId: string, streams?: readonly string[]): { id: SeriesId; stream: string }[] {
  const wanted = streams === undefined ? undefined : new Set(streams);
  const out: { id: SeriesId; stream: string }[] = [];
  for (const id of engine.select({ tags: { [DEVICE_TAG]: [deviceId] } })) {
    const key = engine.catalog.key(id as SeriesId);
    const tagKeys = Object.keys(key.tags);
    if (tagKeys.length !== 1 || key.tags[DEVICE_TAG] !== deviceId) continue;
    if (wanted !== undefined && !wanted.has(key.metric)) continue;
    out.push({ id: id as SeriesId, stream: key.metric });
  }
  return out.sort((a, b) => (a.stream < b.stream ? -1 : a.stream > b.stream ? 1 : 0));
}

function pointJson(s: SeriesPoints, i: number): string {
  return valueJson(s.kinds[i]!, s.floats[i]!, s.kinds[i] === ValueKind.Int64 ? s.ints[i]! : 0n, s.texts[i]);
}

/**
 * Latest windows tried before reading a stream's whole history: most streams had a point in the
 * last hour or day, so "the latest point" rarely needs more than a short scan.
 */
const LATEST_WINDOWS_MS = [3_600_000, 86_400_000, 30 * 86_400_000];

/** The newest point of each series (those with none are left out), newest-first windows. */
function latestPoints(engine: Engine, ids: readonly SeriesId[], nowMs: number): Map<number, { s: SeriesPoints; i: number }> {
  const found = new Map<number, { s: SeriesPoints; i: number }>();
  let left = [...ids];
  for (const window of [...LATEST_WINDOWS_MS, Infinity]) {
    if (left.length === 0) break;
    const from = window === Infinity ? MIN_MS : Math.max(MIN_MS, nowMs - window);
    for (const s of engine.scan(left, from, MAX_MS)) found.set(s.id, { s, i: s.length - 1 });
    left = left.filter((id) => !found.has(id));
  }
  return found;
}

function compare(t1: number, s1: string, t2: number, s2: string): number {
  return t1 - t2 || (s1 < s2 ? -1 : s1 > s2 ? 1 : 0);
}

/**
 * `data` of `GET /devices/{id}/datapoints`: `{"count":N[,"cursor":"…"],"datastreams":[{"id","datapoints":[{"at","value"}]}]}`.
 * Points of all selected streams are ordered by (time, stream id), ascending or descending, and
 * cut at `limit`; the cursor names the last point returned and is present only when more remain.
 * Streams appear by id, each with its points in the requested order.
 */
export function oneNetDatapoints(engine: Engine, deviceId: string, query: DatapointsQuery, offsetMinutes: number, nowMs: number): string {
  const series = deviceStreams(engine, deviceId, query.streams);
  const streamOf = new Map(series.map((s) => [s.id as number, s.stream]));
  const ids = series.map((s) => s.id);
  const chosen: { stream: string; s: SeriesPoints; i: number }[] = [];
  let cursor: ReadPosition | undefined;
  if (query.latestOnly) {
    for (const [id, p] of latestPoints(engine, ids, nowMs)) chosen.push({ stream: streamOf.get(id)!, ...p });
  } else {
    let { startMs, endMs } = query;
    const after = query.after;
    // A cursor narrows the scan: nothing before it (ascending) or after it (descending) can follow.
    if (after !== undefined && !query.descending) startMs = Math.max(startMs, after.timestampMs);
    if (after !== undefined && query.descending) endMs = Math.min(endMs, after.timestampMs);
    const runs: { stream: string; s: SeriesPoints; i: number }[] = [];
    if (startMs <= endMs) {
      for (const s of engine.scan(ids, startMs, endMs)) {
        const stream = streamOf.get(s.id)!;
        // Each series is in time order: start at its first point after the cursor, in the sort direction.
        let i = query.descending ? s.length - 1 : 0;
        const step = query.descending ? -1 : 1;
        if (after !== undefined) {
          while (i >= 0 && i < s.length) {
            const c = compare(s.timestampsMs[i]!, stream, after.timestampMs, after.stream);
            if (query.descending ? c < 0 : c > 0) break;
            i += step;
          }
        }
        if (i >= 0 && i < s.length) runs.push({ stream, s, i });
      }
    }
    // Merge the runs (k-way, k = streams) until limit + 1 points: the extra one says more remain.
    const sign = query.descending ? -1 : 1;
    const page: { stream: string; s: SeriesPoints; i: number }[] = [];
    let more = false;
    while (runs.length > 0) {
      let best = 0;
      for (let r = 1; r < runs.length; r++) {
        const a = runs[r]!;
        const b = runs[best]!;
        if (sign * compare(a.s.timestampsMs[a.i]!, a.stream, b.s.timestampsMs[b.i]!, b.stream) < 0) best = r;
      }
      if (page.length === query.limit) {
        more = true;
        break;
      }
      const run = runs[best]!;
      page.push({ stream: run.stream, s: run.s, i: run.i });
      run.i += sign;
      if (run.i < 0 || run.i >= run.s.length) runs.splice(best, 1);
    }
    if (more) {
      const last = page[page.length - 1]!;
      cursor = { timestampMs: last.s.timestampsMs[last.i]!, stream: last.stream };
    }
    chosen.push(...page);
  }
  const byStream = new Map<string, string[]>();
  for (const p of chosen) {
    let list = byStream.get(p.stream);
    if (!list) byStream.set(p.stream, (list = []));
    list.push(`{"at":"${formatOneNetTime(p.s.timestampsMs[p.i]!, offsetMinutes)}","value":${pointJson(p.s, p.i)}}`);
  }
  const streams = [...byStream.keys()].sort();
  const datastreams = streams.map((id) => `{"id":${JSON.stringify(id)},"datapoints":[${byStream.get(id)!.join(',')}]}`);
  return `{"count":${chosen.length}${cursor !== undefined ? `,"cursor":${JSON.stringify(encodeCursor(cursor))}` : ''},"datastreams":[${datastreams.join(',')}]}`;
}

/**
 * `data` of `GET /devices/{id}/datastreams[?datastream_ids=a,b]`: one entry per stream with points,
 * by id: `create_time` = time of its oldest stored point, `update_at` = of its newest (seconds, in
 * the configured zone), `current_value` = the newest value. Reads each stream's whole history.
 */
export function oneNetDatastreams(engine: Engine, deviceId: string, query: string, offsetMinutes: number): string {
  const streams = streamList(new URLSearchParams(query).get('datastream_ids'));
  const series = deviceStreams(engine, deviceId, streams);
  const byId = new Map(engine.scan(series.map((s) => s.id), MIN_MS, MAX_MS).map((s) => [s.id as number, s]));
  const out: string[] = [];
  for (const { id, stream } of series) {
    const s = byId.get(id);
    if (!s || s.length === 0) continue;
    const last = s.length - 1;
    out.push(
      `{"id":${JSON.stringify(stream)},"create_time":"${formatOneNetTime(s.timestampsMs[0]!, offsetMinutes, false)}",` +
        `"update_at":"${formatOneNetTime(s.timestampsMs[last]!, offsetMinutes, false)}","current_value":${pointJson(s, last)}}`,
    );
  }
  return `[${out.join(',')}]`;
}

/** The payload series of (device, datastream), if any. */
function payloadSeries(engine: Engine, deviceId: string, datastreamId: string): SeriesId | undefined {
  for (const id of engine.select({ metric: datastreamId, tags: { [DEVICE_TAG]: [deviceId], [BINDATA_TAG]: [BINDATA_TAG_VALUE] } })) {
    if (Object.keys(engine.catalog.key(id as SeriesId).tags).length === 2) return id as SeriesId;
  }
  return undefined;
}

/** Whether a binary payload is stored at exactly this reading (upload collision check). */
export function binaryExists(engine: Engine, r: BinaryReading): boolean {
  const id = payloadSeries(engine, r.deviceId, r.datastreamId);
  return id !== undefined && engine.scan([id], r.atMs, r.atMs).length > 0;
}

/** The bytes stored under the first reading that has any, or undefined. */
export function readBinary(engine: Engine, readings: readonly BinaryReading[]): Buffer | undefined {
  for (const r of readings) {
    const id = payloadSeries(engine, r.deviceId, r.datastreamId);
    if (id === undefined) continue;
    const s = engine.scan([id], r.atMs, r.atMs)[0];
    if (s === undefined || s.length === 0 || s.kinds[0] !== ValueKind.Json) continue;
    const bytes = decodeBinaryPayload(s.texts[0] ?? '');
    if (bytes !== undefined) return bytes;
  }
  return undefined;
}
