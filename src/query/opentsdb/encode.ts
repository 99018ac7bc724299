// The /api/query response as OpenTSDB 2.4's HttpJsonSerializer.formatQueryAsyncV1 writes it: a JSON
// array of {"metric","tags","aggregateTags"[,"query"][,"tsuids"],"dps"}, dps as an object keyed by timestamp
// (or [[ts, v], …] with `arrays`), only points inside the query range, seconds unless ms, longs as
// integers, doubles in Java's Double.toString form, NaN as "NaN" (null with the null fill policy).
// Pure; no engine.
import type { OpenTsdbQuery, SubQuery } from '../../protocols/opentsdb/query.js';
import { javaDoubleToString } from '../../protocols/kairosdb/query-response.js';
import { jacksonString, javaHashMapOrder } from '../../protocols/opentsdb/java-compat.js';
import { PointKind } from '../points.js';
import type { ResultGroup } from './execute.js';

/** The response body; `onPoint` is called once per printed point (the caller's output bound). */
export function encodeQueryResponse(query: OpenTsdbQuery, groups: readonly ResultGroup[], onPoint: () => void): string {
  const out: string[] = ['['];
  for (let g = 0; g < groups.length; g++) {
    if (g > 0) out.push(',');
    writeGroup(out, query, groups[g]!, onPoint);
  }
  out.push(']');
  const json = out.join('');
  return query.jsonp !== null ? `${query.jsonp}(${json})` : json;
}

function writeGroup(out: string[], query: OpenTsdbQuery, group: ResultGroup, onPoint: () => void): void {
  out.push(`{"metric":${jacksonString(group.metric)},"tags":${hashMapJson(group.tags)},"aggregateTags":[`);
  out.push(group.aggregateTags.map(jacksonString).join(','));
  out.push(']');
  if (query.showQuery) out.push(`,"query":${subQueryJson(group.sub)}`);
  if (query.showTsuids) out.push(`,"tsuids":[${group.tsuids.map(jacksonString).join(',')}]`);
  out.push(',"dps":');
  const p = group.points;
  const nullFill = group.sub.downsampleSpec?.fill === 'null';
  const arrays = query.arrays;
  out.push(arrays ? '[' : '{');
  let first = true;
  let row = '';
  for (let i = 0; i < p.length; i++) {
    const t = p.ts[i]!;
    if (t < query.startMs || t > query.endMs) continue;
    onPoint();
    const key = query.msResolution ? t : Math.trunc(t / 1000);
    let value: string;
    if (p.kind[i] === PointKind.Long) value = String(p.big?.get(i) ?? p.num[i]!);
    else value = doubleJson(p.num[i]!, nullFill);
    row += arrays ? `${first ? '' : ','}[${key},${value}]` : `${first ? '' : ','}"${key}":${value}`;
    first = false;
    if (row.length > 4096) {
      out.push(row);
      row = '';
    }
  }
  out.push(row, arrays ? ']}' : '}}');
}

/** Jackson's writeNumber(double): Java's Double.toString; non-finite values quoted; NaN → null with the null fill. */
function doubleJson(v: number, nullFill: boolean): string {
  if (Number.isFinite(v)) return javaDoubleToString(v);
  if (Number.isNaN(v) && nullFill) return 'null';
  return `"${javaDoubleToString(v)}"`;
}

/** A java.util.HashMap<String, String> written by Jackson: Java's iteration order. */
function hashMapJson(map: ReadonlyMap<string, string>): string {
  const keys = [...map.keys()];
  return `{${javaHashMapOrder(keys)
    .map((i) => `${jacksonString(keys[i]!)}:${jacksonString(map.get(keys[i]!)!)}`)
    .join(',')}}`;
}

/** The echoed sub-query ("query" with showQuery), in the shape OpenTSDB's documentation shows. */
function subQueryJson(sub: SubQuery): string {
  const filters = sub.filters
    .map((f) => `{"tagk":${jacksonString(f.tagk)},"filter":${jacksonString(f.filter)},"group_by":${f.groupBy},"type":${jacksonString(f.type)}}`)
    .join(',');
  const tags = new Map<string, string>();
  for (const f of sub.filters) if (f.groupBy) tags.set(f.tagk, `${f.type}(${f.filter})`);
  const r = sub.rateOptions;
  const rateOptions =
    r === null ? 'null' : `{"counter":${r.counter},"counterMax":${r.counterMax},"resetValue":${r.resetValue},"dropResets":${r.dropResets}}`;
  return (
    `{"aggregator":${jacksonString(sub.aggregator)},"metric":${sub.metric === '' && sub.tsuids.length > 0 ? 'null' : jacksonString(sub.metric)},` +
    `"tsuids":${sub.tsuids.length === 0 ? 'null' : `[${sub.tsuids.map(jacksonString).join(',')}]`},` +
    `"downsample":${sub.downsample === null ? 'null' : jacksonString(sub.downsample)},"rate":${sub.rate},` +
    `"explicitTags":${sub.explicitTags},"filters":[${filters}],"rateOptions":${rateOptions},"tags":${hashMapJson(tags)}}`
  );
}
