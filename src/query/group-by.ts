// KairosDB's grouping: series are split by value type ("number", "text", …), then by the tag
// group-by (groups sorted by their tag key), merged into one time-ordered stream per group, and
// finally split again by the time/value/bin group-bys in the order of first appearance
// (KairosDB's Grouper). Pure; reads SeriesPoints, builds Points.
import { ValueKind, type SeriesKey, type SeriesPoints } from '../../engine/index.js';
import type { GroupBySpec } from '../protocols/kairosdb/query.js';
import type { GroupType } from './aggregators.js';
import { Points, PointKind } from './points.js';
import type { GroupByResult, TagTable } from './result.js';
import { groupSizeMs, utcYearMonth } from './time.js';

/** The points of one series that belong to one type group. `indices` undefined = all of them. */
export interface SeriesSlice {
  readonly key: SeriesKey;
  readonly series: SeriesPoints;
  readonly indices: Uint32Array | undefined;
}

/** A group on its way through grouping and aggregation. */
export interface WorkGroup {
  readonly name: string;
  /** Union of the member series' tags. Insertion order; sorted when encoded. */
  readonly tags: Map<string, Set<string>>;
  readonly groupBy: readonly GroupByResult[];
  readonly points: Points;
  readonly type: GroupType;
}

function typeOfKind(kind: number): GroupType {
  if (kind === ValueKind.String) return 'text';
  if (kind === ValueKind.Json) return 'json';
  return 'number';
}

/**
 * Splits each series by value type: Float64 and Int64 → "number", String → "text", Json →
 * "json". Returns the types present, sorted (KairosDB sorts type names), each with its slices in
 * series order.
 */
export function splitByType(series: readonly SeriesPoints[]): [GroupType, SeriesSlice[]][] {
  const byType = new Map<GroupType, SeriesSlice[]>();
  for (const s of series) {
    const first = typeOfKind(s.kinds[0]!);
    let mixed = false;
    for (let i = 1; i < s.length; i++) {
      if (typeOfKind(s.kinds[i]!) !== first) {
        mixed = true;
        break;
      }
    }
    if (!mixed) {
      push(byType, first, { key: s.key, series: s, indices: undefined });
      continue;
    }
    const lists = new Map<GroupType, number[]>();
    for (let i = 0; i < s.length; i++) {
      const type = typeOfKind(s.kinds[i]!);
      let list = lists.get(type);
      if (list === undefined) lists.set(type, (list = []));
      list.push(i);
    }
    for (const [type, list] of lists) push(byType, type, { key: s.key, series: s, indices: Uint32Array.from(list) });
  }
  return [...byType.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list === undefined) map.set(key, [value]);
  else list.push(value);
}

/**
 * KairosDB's groupByTypeAndTag: per type (sorted), one group — or with a tag group-by, one group
 * per distinct combination of the group-by tags a series has, sorted by the concatenated
 * "keyvalue" text. Each group's points are the members' points merged by timestamp in `order`.
 * Group-by entries: [tag?, type].
 */
export function groupByTypeAndTag(
  byType: readonly (readonly [GroupType, readonly SeriesSlice[]])[],
  tagNames: readonly string[] | undefined,
  order: 'asc' | 'desc',
): WorkGroup[] {
  const out: WorkGroup[] = [];
  for (const [type, slices] of byType) {
    const typeResult: GroupByResult = { name: 'type', type };
    if (tagNames === undefined) {
      out.push({ name: slices[0]!.key.metric, tags: tagsOf(slices), groupBy: [typeResult], points: mergeSlices(slices, order), type });
      continue;
    }
    const groups = new Map<string, { matching: [string, string][]; slices: SeriesSlice[] }>();
    for (const slice of slices) {
      const matching: [string, string][] = [];
      let key = '';
      for (const name of tagNames) {
        const value = slice.key.tags[name];
        if (value === undefined) continue;
        matching.push([name, value]);
        key += name + value;
      }
      const group = groups.get(key);
      if (group === undefined) groups.set(key, { matching, slices: [slice] });
      else group.slices.push(slice);
    }
    for (const key of [...groups.keys()].sort(compareUtf16)) {
      const group = groups.get(key)!;
      out.push({
        name: group.slices[0]!.key.metric,
        tags: tagsOf(group.slices),
        groupBy: [{ name: 'tag', tags: tagNames, group: group.matching }, typeResult],
        points: mergeSlices(group.slices, order),
        type,
      });
    }
  }
  return out;
}

function compareUtf16(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function tagsOf(slices: readonly SeriesSlice[]): Map<string, Set<string>> {
  const tags = new Map<string, Set<string>>();
  for (const slice of slices) {
    for (const k of Object.keys(slice.key.tags)) {
      let values = tags.get(k);
      if (values === undefined) tags.set(k, (values = new Set()));
      values.add(slice.key.tags[k]!);
    }
  }
  return tags;
}

/** The tags of a group as sorted [key, sorted values] pairs (Java TreeMultimap order). */
export function tagTable(tags: ReadonlyMap<string, ReadonlySet<string>>): TagTable {
  return [...tags.keys()].sort(compareUtf16).map((k) => [k, [...tags.get(k)!].sort(compareUtf16)] as const);
}

function appendPoint(out: Points, s: SeriesPoints, i: number): void {
  const t = s.timestampsMs[i]!;
  switch (s.kinds[i]) {
    case ValueKind.Float64:
      out.pushDouble(t, s.floats[i]!);
      break;
    case ValueKind.Int64:
      out.pushLong(t, s.ints[i]!);
      break;
    case ValueKind.String:
      out.pushText(t, PointKind.Text, s.texts[i] ?? '');
      break;
    default:
      out.pushText(t, PointKind.Json, s.texts[i] ?? 'null');
      break;
  }
}

/**
 * Merges the slices' points into one stream ordered by timestamp (ascending, or descending for
 * `desc`); equal timestamps keep slice order (KairosDB breaks such ties arbitrarily). Each slice
 * is already in ascending time order (engine scan contract).
 */
export function mergeSlices(slices: readonly SeriesSlice[], order: 'asc' | 'desc'): Points {
  let total = 0;
  for (const s of slices) total += s.indices?.length ?? s.series.length;
  const out = new Points(total);
  const desc = order === 'desc';
  if (slices.length === 1) {
    const s = slices[0]!;
    const n = s.indices?.length ?? s.series.length;
    for (let j = 0; j < n; j++) {
      const k = desc ? n - 1 - j : j;
      appendPoint(out, s.series, s.indices ? s.indices[k]! : k);
    }
    return out;
  }
  // k-way merge: a binary min-heap of (key, slice) cursors, key = timestamp (negated for desc),
  // ties to the lower slice. Sift-down moves a hole instead of swapping, and everything is inline:
  // closures here cost ~3x (bench/query.bench.ts, "merge + sum 1 min of pre-scanned series").
  const k = slices.length;
  const keys: Float64Array[] = [];
  const pos = new Int32Array(k);
  const heapSlice = new Int32Array(k);
  const heapKey = new Float64Array(k);
  let size = 0;
  for (let s = 0; s < k; s++) {
    const slice = slices[s]!;
    const n = slice.indices?.length ?? slice.series.length;
    const key = new Float64Array(n);
    const ts = slice.series.timestampsMs;
    const idx = slice.indices;
    for (let p = 0; p < n; p++) {
      const i = desc ? n - 1 - p : p;
      key[p] = desc ? -ts[idx ? idx[i]! : i]! : ts[idx ? idx[i]! : i]!;
    }
    keys.push(key);
    if (n > 0) {
      // Insert with sift-up.
      let hole = size++;
      const kv = key[0]!;
      while (hole > 0) {
        const parent = (hole - 1) >> 1;
        const pk = heapKey[parent]!;
        if (pk < kv || (pk === kv && heapSlice[parent]! < s)) break;
        heapKey[hole] = pk;
        heapSlice[hole] = heapSlice[parent]!;
        hole = parent;
      }
      heapKey[hole] = kv;
      heapSlice[hole] = s;
    }
  }
  while (size > 0) {
    const s = heapSlice[0]!;
    const slice = slices[s]!;
    const key = keys[s]!;
    const n = key.length;
    const p = pos[s]!;
    const i = desc ? n - 1 - p : p;
    appendPoint(out, slice.series, slice.indices ? slice.indices[i]! : i);
    pos[s] = p + 1;
    let kv: number;
    let sv: number;
    if (p + 1 < n) {
      kv = key[p + 1]!;
      sv = s;
    } else {
      size--;
      kv = heapKey[size]!;
      sv = heapSlice[size]!;
    }
    let hole = 0;
    for (;;) {
      const l = 2 * hole + 1;
      if (l >= size) break;
      let m = l;
      const r = l + 1;
      if (r < size) {
        const rk = heapKey[r]!;
        const lk = heapKey[l]!;
        if (rk < lk || (rk === lk && heapSlice[r]! < heapSlice[l]!)) m = r;
      }
      const mk = heapKey[m]!;
      if (mk < kv || (mk === kv && heapSlice[m]! < sv)) {
        heapKey[hole] = mk;
        heapSlice[hole] = heapSlice[m]!;
        hole = m;
      } else break;
    }
    heapKey[hole] = kv;
    heapSlice[hole] = sv;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Time, value and bin group-bys (KairosDB Grouper)

type OtherGroupBy = Exclude<GroupBySpec, { kind: 'tag' }>;

/** Java's (int) cast of a double: truncation, saturating, NaN → 0. */
function doubleToInt(v: number): number {
  if (Number.isNaN(v)) return 0;
  if (v >= 2147483647) return 2147483647;
  if (v <= -2147483648) return -2147483648;
  return Math.trunc(v);
}

function groupIdOf(spec: OtherGroupBy, points: Points, i: number): number {
  const kind = points.kind[i]!;
  switch (spec.kind) {
    case 'time': {
      const t = points.ts[i]!;
      if (spec.rangeSize.unit === 'MONTHS') {
        const a = utcYearMonth(t);
        const b = utcYearMonth(spec.startMs);
        return ((a.year - b.year) * 12 + (a.month0 - b.month0)) % spec.groupCount;
      }
      const periods = Math.trunc((t - spec.startMs) / groupSizeMs(spec.rangeSize.value, spec.rangeSize.unit));
      return (periods % spec.groupCount) | 0;
    }
    case 'value': {
      if (kind === PointKind.Long) {
        const big = points.big?.get(i);
        if (big !== undefined) return Number(BigInt.asIntN(32, big / BigInt(spec.rangeSize)));
        return Math.trunc(points.num[i]! / spec.rangeSize) | 0;
      }
      if (kind === PointKind.Double) return Math.trunc(doubleToInt(points.num[i]!) / spec.rangeSize);
      return -1;
    }
    case 'bin': {
      if (kind !== PointKind.Long && kind !== PointKind.Double) return -1;
      const v = points.num[i]!;
      const bins = spec.bins;
      if (v < bins[0]!) return 0;
      for (let b = 0; b < bins.length - 1; b++) {
        if (v >= bins[b]! && v < bins[b + 1]!) return b + 1;
      }
      return bins.length;
    }
  }
}

function resultOf(spec: OtherGroupBy, id: number): GroupByResult {
  switch (spec.kind) {
    case 'time':
      return { name: 'time', rangeSize: spec.rangeSize, groupCount: spec.groupCount, groupNumber: id };
    case 'value':
      return { name: 'value', rangeSize: spec.rangeSize, groupNumber: id };
    case 'bin':
      return { name: 'bin', bins: spec.bins, binNumber: id };
  }
}

/**
 * KairosDB's Grouper: splits each group by the ids the group-bys give each point; new groups in
 * order of first appearance, points in stream order, group-by entries = [these..., the group's].
 * A group without points yields no groups at all (so an empty match with such a group-by
 * answers `"results":[]`, as KairosDB does).
 */
export function applyGroupBys(groups: readonly WorkGroup[], specs: readonly OtherGroupBy[]): WorkGroup[] {
  if (specs.length === 0) return [...groups];
  const out: WorkGroup[] = [];
  for (const group of groups) {
    const byKey = new Map<string, { results: GroupByResult[]; points: Points }>();
    const p = group.points;
    for (let i = 0; i < p.length; i++) {
      let key = '';
      const ids: number[] = [];
      for (const spec of specs) {
        const id = groupIdOf(spec, p, i);
        ids.push(id);
        key += `${id},`;
      }
      let target = byKey.get(key);
      if (target === undefined) {
        target = { results: specs.map((s, j) => resultOf(s, ids[j]!)), points: new Points() };
        byKey.set(key, target);
      }
      target.points.pushFrom(p, i);
    }
    for (const { results, points } of byKey.values()) {
      out.push({ name: group.name, tags: group.tags, groupBy: [...results, ...group.groupBy], points, type: group.type });
    }
  }
  return out;
}
