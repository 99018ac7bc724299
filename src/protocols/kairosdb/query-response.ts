// Encodes KairosDB query responses as JSON text exactly as KairosDB 1.3 writes them (org.json's
// JSONWriter: no spaces, Java double formatting, org.json string escaping, longs exact beyond
// 2^53): /datapoints/query, /datapoints/query/tags, metricnames/tagnames/tagvalues
// (protocols.md §1.3–§1.5). Pure; never reads the engine.
import { ServiceError, ServiceErrorCode } from '../../errors.js';
import { PointKind, type Points } from '../../query/points.js';
import type { GroupByResult, MetricResult, ResultGroup, TagTable, TagsResult } from '../../query/result.js';

/** `{"queries":[{"sample_size":N,"results":[...]}, ...]}`, one entry per metric query. */
export function encodeKairosQueryResponse(results: readonly MetricResult[]): string {
  const out: string[] = ['{"queries":['];
  for (let q = 0; q < results.length; q++) {
    const result = results[q]!;
    if (q > 0) out.push(',');
    out.push(`{"sample_size":${result.sampleSize},"results":[`);
    for (let g = 0; g < result.groups.length; g++) {
      if (g > 0) out.push(',');
      writeGroup(out, result.groups[g]!);
    }
    out.push(']}');
  }
  out.push(']}');
  return out.join('');
}

/**
 * `/query/tags`: `{"queries":[{"results":[{"name":..,"tags":{k:[v..]},"values":[]}]}]}` — no
 * sample_size, tag values as arrays, values always empty (protocols.md §1.4).
 */
export function encodeKairosTagsResponse(results: readonly TagsResult[]): string {
  const out: string[] = ['{"queries":['];
  for (let q = 0; q < results.length; q++) {
    const result = results[q]!;
    if (q > 0) out.push(',');
    out.push(`{"results":[{"name":${javaQuote(result.name)},"tags":`);
    writeTags(out, result.tags);
    out.push(',"values":[]}]}');
  }
  out.push(']}');
  return out.join('');
}

/** `{"results":["a","b"]}` (metricnames, tagnames, tagvalues). */
export function encodeKairosNames(names: readonly string[]): string {
  return `{"results":[${names.map(javaQuote).join(',')}]}`;
}

function writeGroup(out: string[], group: ResultGroup): void {
  out.push(`{"name":${javaQuote(group.name)}`);
  if (group.alias !== undefined) out.push(`,"alias":${javaQuote(group.alias)}`);
  if (group.groupBy.length > 0) {
    out.push(',"group_by":[');
    for (let i = 0; i < group.groupBy.length; i++) {
      if (i > 0) out.push(',');
      out.push(groupByJson(group.groupBy[i]!));
    }
    out.push(']');
  }
  if (group.tags !== undefined) {
    out.push(',"tags":');
    writeTags(out, group.tags);
  }
  out.push(',"values":[');
  writeValues(out, group.points);
  out.push(']}');
}

function writeTags(out: string[], tags: TagTable): void {
  out.push('{');
  for (let i = 0; i < tags.length; i++) {
    const [key, values] = tags[i]!;
    if (i > 0) out.push(',');
    out.push(`${javaQuote(key)}:[${values.map(javaQuote).join(',')}]`);
  }
  out.push('}');
}

/** Rows of at most this many points are built as one string before being pushed. */
const VALUES_CHUNK = 1024;

function writeValues(out: string[], points: Points): void {
  const { ts, kind, num } = points;
  let chunk = '';
  for (let i = 0; i < points.length; i++) {
    const t = ts[i]!;
    let value: string;
    switch (kind[i]) {
      case PointKind.Double: {
        const v = num[i]!;
        if (!Number.isFinite(v)) {
          // KairosDB's DoubleDataPoint refuses to write NaN/Infinity; the query fails with a 500.
          throw new ServiceError(ServiceErrorCode.Internal, `NaN or Infinity:${javaDoubleToString(v)} data point=[${integerText(t)},${javaDoubleToString(v)}]`);
        }
        // Java's Double.toString, not org.json's trimmed form: an integral double keeps its ".0"
        // so it reads back distinct from a long (protocols.md §7, "Number literals"; KairosDB
        // itself prints 12.0 as 12 — listed in docs/api/kairosdb.md, "Differences").
        value = javaDoubleToString(v);
        break;
      }
      case PointKind.Long: {
        const b = points.big?.get(i);
        value = b !== undefined ? b.toString() : integerText(num[i]!);
        break;
      }
      case PointKind.Text:
        value = javaQuote(points.text![i]!);
        break;
      case PointKind.Json:
        value = points.text![i]!;
        break;
      default:
        value = 'null';
        break;
    }
    chunk += `${i > 0 ? ',' : ''}[${integerText(t)},${value}]`;
    if ((i + 1) % VALUES_CHUNK === 0) {
      out.push(chunk);
      chunk = '';
    }
  }
  if (chunk !== '') out.push(chunk);
}

function groupByJson(g: GroupByResult): string {
  switch (g.name) {
    case 'type':
      return `{"name":"type","type":${javaQuote(g.type)}}`;
    case 'tag': {
      const names = g.tags.map(javaQuote).join(',');
      const group = g.group.map(([k, v]) => `${javaQuote(k)}:${javaQuote(v)}`).join(',');
      return `{"name":"tag","tags":[${names}],"group":{${group}}}`;
    }
    case 'time':
      return (
        `{"name":"time","range_size":{"value":${integerText(g.rangeSize.value)},"unit":${javaQuote(g.rangeSize.unit)}},` +
        `"group_count":${g.groupCount},"group":{"group_number":${g.groupNumber}}}`
      );
    case 'value':
      return `{"name":"value","range_size":${g.rangeSize},"group":{"group_number":${g.groupNumber}}}`;
    case 'bin':
      return `{"name":"bin","bins":[${g.bins.map(jsonDoubleText).join(',')}],"group":{"bin_number":${g.binNumber}}}`;
  }
}

// ---------------------------------------------------------------------------------------------
// Java formatting

/** An integral double as Java's Long.toString (no exponent below 2^63). */
function integerText(v: number): string {
  return Math.abs(v) < 1e21 ? String(v) : BigInt(v).toString();
}

/**
 * Java's Double.toString: "1.0", "0.001", "1.0E7", "1.0E-4", "NaN", "-Infinity". Digits are the
 * shortest that round-trip (JDK 19+; older JDKs occasionally print one more digit).
 */
export function javaDoubleToString(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return 'Infinity';
  if (v === -Infinity) return '-Infinity';
  if (v === 0) return Object.is(v, -0) ? '-0.0' : '0.0';
  const abs = Math.abs(v);
  if (abs >= 1e-3 && abs < 1e7) {
    const s = String(v);
    return s.includes('.') ? s : `${s}.0`;
  }
  const [mantissa, exponent] = v.toExponential().split('e') as [string, string];
  return `${mantissa.includes('.') ? mantissa : `${mantissa}.0`}E${Number(exponent)}`;
}

/**
 * A double as org.json writes it (JSONObject.numberToString): Java's Double.toString with
 * trailing zeros and a trailing point removed when there is no exponent: 12.0 → "12",
 * 0.50 → "0.5", 1.0E7 → "1.0E7". Precondition: finite.
 */
export function jsonDoubleText(v: number): string {
  const s = javaDoubleToString(v);
  if (s.indexOf('.') > 0 && !s.includes('E')) {
    let end = s.length;
    while (s.charCodeAt(end - 1) === 48 /* 0 */) end--;
    if (s.charCodeAt(end - 1) === 46 /* . */) end--;
    return s.slice(0, end);
  }
  return s;
}

/** A string as org.json's JSONObject.quote writes it ("</" → "<\/", U+0080–U+009F and U+2000–U+20FF escaped). */
export function javaQuote(s: string): string {
  let plain = true;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x22 || c === 0x5c || c === 0x2f || (c >= 0x80 && c < 0xa0) || (c >= 0x2000 && c < 0x2100)) {
      plain = false;
      break;
    }
  }
  if (plain) return `"${s}"`;
  let out = '"';
  let previous = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    switch (c) {
      case 0x5c:
      case 0x22:
        out += `\\${s[i]!}`;
        break;
      case 0x2f:
        out += previous === 0x3c ? '\\/' : '/';
        break;
      case 0x08:
        out += '\\b';
        break;
      case 0x09:
        out += '\\t';
        break;
      case 0x0a:
        out += '\\n';
        break;
      case 0x0c:
        out += '\\f';
        break;
      case 0x0d:
        out += '\\r';
        break;
      default:
        if (c < 0x20 || (c >= 0x80 && c < 0xa0) || (c >= 0x2000 && c < 0x2100)) {
          out += `\\u${c.toString(16).padStart(4, '0')}`;
        } else {
          out += s[i]!;
        }
    }
    previous = c;
  }
  return `${out}"`;
}
