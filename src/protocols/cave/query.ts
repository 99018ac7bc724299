// CAVE reads on the wire (protocols.md §3.3): the query string of `GET …/metrics` read with
// CAVE's MetricRequest rules and exact 400 texts (Joda's texts for bad dates), and the two
// response bodies — `{"metrics":[{"time":…,"value":…}]}` with Joda's dateTimeNoMillis and Play's
// number printing, and the metric-names list. Pure; the engine side is src/query/cave.ts.
import { jacksonString } from '../opentsdb/java-compat.js';

/** CAVE's aggregators (evaluator.Aggregator), by the name a request uses. */
export const CAVE_AGGREGATORS = ['count', 'min', 'max', 'mean', 'mode', 'median', 'sum', 'stddev', 'p99', 'p999', 'p95', 'p90'] as const;
export type CaveAggregator = (typeof CAVE_AGGREGATORS)[number];

/** Default and largest number of points one read returns (InfluxClient.MaxDataPointsPerCall). */
export const CAVE_MAX_POINTS = 1440;

export const CAVE_UNKNOWN_METRIC_MESSAGE = 'Unable to fetch metric data: the metric does not exist.';

/** A parsed `GET …/metrics` request. */
export interface CaveMetricsRequest {
  readonly metric: string;
  /** `tags=k:v,k2:v2`; a repeated key keeps its last value. */
  readonly tags: Readonly<Record<string, string>>;
  readonly aggregator: CaveAggregator;
  readonly periodMinutes: number;
  /** Instants of `start`/`end`, ms since the epoch; undefined when not given. */
  readonly startMs?: number;
  readonly endMs?: number;
  /** 1 … CAVE_MAX_POINTS. */
  readonly limit: number;
}

/** A request CAVE answers with 400 and this text. */
export interface CaveRequestError {
  readonly error: string;
}

export function isCaveRequestError(v: unknown): v is CaveRequestError {
  return typeof v === 'object' && v !== null && 'error' in v;
}

const missing = (p: string): CaveRequestError => ({ error: `Required parameter '${p}' is missing.` });
const invalid = (p: string, v: string): CaveRequestError => ({ error: `Parameter '${p}' has invalid value '${v}'.` });

/**
 * Reads a `GET …/metrics` query string (form-decoded; the first value of a repeated parameter
 * counts) in CAVE's order — metric, tags, aggregator, period, start, end, limit — so the first
 * failure is the one CAVE reports. `limit` that is not an integer, or is below 1, means the
 * default; above CAVE_MAX_POINTS it is capped (InfluxClient.limitCeiling). `period` must be a
 * positive integer (minutes).
 */
export function parseCaveMetricsRequest(query: string): CaveMetricsRequest | CaveRequestError {
  const params = new URLSearchParams(query);
  const get = (name: string): string | undefined => params.get(name) ?? undefined;

  const metric = get('metric');
  if (metric === undefined) return missing('metric');

  const tagsText = get('tags');
  const tags: Record<string, string> = {};
  if (tagsText !== undefined) {
    for (const word of javaSplit(tagsText, ',')) {
      const kv = javaSplit(word, ':');
      if (kv.length !== 2) return invalid('tags', tagsText);
      tags[kv[0]!] = kv[1]!;
    }
  }

  const aggregatorText = get('aggregator');
  if (aggregatorText === undefined) return missing('aggregator');
  if (!(CAVE_AGGREGATORS as readonly string[]).includes(aggregatorText)) return invalid('aggregator', aggregatorText);

  const periodText = get('period');
  if (periodText === undefined) return missing('period');
  const period = parseJavaInt(periodText);
  if (period === undefined || period < 1) return invalid('period', periodText);

  let startMs: number | undefined;
  let endMs: number | undefined;
  for (const which of ['start', 'end'] as const) {
    const text = get(which);
    if (text === undefined) continue;
    const parsed = parseJodaDateTime(text);
    if (typeof parsed !== 'number') return parsed;
    if (which === 'start') startMs = parsed;
    else endMs = parsed;
  }

  const limitText = get('limit');
  const limit = limitText === undefined ? undefined : parseJavaInt(limitText);
  const request = {
    metric,
    tags,
    aggregator: aggregatorText as CaveAggregator,
    periodMinutes: period,
    limit: limit === undefined || limit < 1 ? CAVE_MAX_POINTS : Math.min(limit, CAVE_MAX_POINTS),
  };
  return { ...request, ...(startMs !== undefined ? { startMs } : {}), ...(endMs !== undefined ? { endMs } : {}) };
}

/** Java's String.split on one literal character: trailing empty strings dropped ("" → [""]). */
function javaSplit(s: string, separator: string): string[] {
  if (s === '') return [''];
  const parts = s.split(separator);
  while (parts.length > 0 && parts[parts.length - 1] === '') parts.pop();
  return parts;
}

/** Scala's `String.toInt` (Integer.parseInt): optional sign, decimal digits, 32-bit range. */
function parseJavaInt(s: string): number | undefined {
  if (!/^[+-]?\d+$/.test(s)) return undefined;
  const n = Number(s);
  return n >= -2147483648 && n <= 2147483647 ? n : undefined;
}

// ---------------------------------------------------------------------------------------------
// Joda's ISODateTimeFormat.dateTime() parser: yyyy-MM-dd'T'HH:mm:ss.SSSZZ, fraction 1–9 digits,
// numeric fields of 1–2 digits (Joda's padded-number parser), zone `Z` or ±HH[[:]mm].

/** Joda's FormatUtils.createErrorMessage. */
function jodaFormatError(text: string, at: number): CaveRequestError {
  const sampleLen = at + 32;
  const sample = text.length <= sampleLen + 3 ? text : `${text.slice(0, sampleLen)}...`;
  if (at <= 0) return { error: `Invalid format: "${sample}"` };
  if (at >= text.length) return { error: `Invalid format: "${sample}" is too short` };
  return { error: `Invalid format: "${sample}" is malformed at "${sample.slice(at)}"` };
}

function jodaRangeError(text: string, value: number, field: string, lo: number, hi: number): CaveRequestError {
  return { error: `Cannot parse "${text}": Value ${value} for ${field} must be in the range [${lo},${hi}]` };
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function isLeap(y: number): boolean {
  return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
}

/**
 * An ISO-8601 date-time with millis and zone (`2014-10-17T10:00:00.000Z`,
 * `2014-10-17T12:00:00.000+02:00`) → ms since the epoch, or Joda's error text.
 */
export function parseJodaDateTime(text: string): number | CaveRequestError {
  let pos = 0;
  const digits = (min: number, max: number): number | undefined => {
    let end = pos;
    while (end < text.length && end - pos < max && text.charCodeAt(end) >= 48 && text.charCodeAt(end) <= 57) end++;
    if (end - pos < min) return undefined;
    const value = Number(text.slice(pos, end));
    pos = end;
    return value;
  };
  const literal = (c: string): boolean => {
    if (text[pos] !== c) return false;
    pos++;
    return true;
  };
  const fail = (): CaveRequestError => jodaFormatError(text, pos);

  let sign = 1;
  if (text[pos] === '-' || text[pos] === '+') {
    sign = text[pos] === '-' ? -1 : 1;
    pos++;
  }
  const yearDigits = digits(1, 9);
  if (yearDigits === undefined) return jodaFormatError(text, 0);
  const year = sign * yearDigits;
  const fields: number[] = [];
  for (const sep of ['-', '-', 'T', ':', ':']) {
    if (!literal(sep)) return fail();
    const v = digits(1, 2);
    if (v === undefined) return fail();
    fields.push(v);
  }
  if (!literal('.')) return fail();
  const fracStart = pos;
  const fraction = digits(1, 9);
  if (fraction === undefined) return fail();
  const millis = Math.floor(Number(`0.${text.slice(fracStart, pos)}`) * 1000 + 1e-9);

  let offsetMinutes: number;
  if (literal('Z')) offsetMinutes = 0;
  else {
    const zoneSign = text[pos] === '+' ? 1 : text[pos] === '-' ? -1 : 0;
    if (zoneSign === 0) return fail();
    pos++;
    const hh = digits(2, 2);
    if (hh === undefined || hh > 23) return fail();
    let mm = 0;
    const save = pos;
    literal(':');
    const m = digits(2, 2);
    if (m === undefined) pos = save;
    else if (m > 59) return fail();
    else mm = m;
    offsetMinutes = zoneSign * (hh * 60 + mm);
  }
  if (pos < text.length) return fail();

  const [month, day, hour, minute, second] = fields as [number, number, number, number, number];
  if (month < 1 || month > 12) return jodaRangeError(text, month, 'monthOfYear', 1, 12);
  const monthDays = month === 2 && isLeap(year) ? 29 : DAYS_IN_MONTH[month - 1]!;
  if (day < 1 || day > monthDays) return jodaRangeError(text, day, 'dayOfMonth', 1, monthDays);
  if (hour > 23) return jodaRangeError(text, hour, 'hourOfDay', 0, 23);
  if (minute > 59) return jodaRangeError(text, minute, 'minuteOfHour', 0, 59);
  if (second > 59) return jodaRangeError(text, second, 'secondOfMinute', 0, 59);
  const utc = new Date(0);
  utc.setUTCFullYear(year, month - 1, day);
  utc.setUTCHours(hour, minute, second, millis);
  return utc.getTime() - offsetMinutes * 60_000;
}

// ---------------------------------------------------------------------------------------------
// Responses

/** One point of a read answer. */
export interface CavePoint {
  /** Bucket start, ms since the epoch (whole seconds). */
  readonly timeMs: number;
  readonly value: number;
}

/** Joda's dateTimeNoMillis in UTC: `2014-10-17T10:00:00Z`. */
export function jodaNoMillis(timeMs: number): string {
  const iso = new Date(timeMs).toISOString(); // 2014-10-17T10:00:00.000Z (or ±YYYYYY-…)
  return `${iso.slice(0, iso.length - 5)}Z`;
}

/**
 * A double as Play 2.2 writes it: `BigDecimal(Double.toString(d))` printed by Jackson with
 * BigDecimal.toString — `2.0`, `0.25`, `1.0E+10`, `1.0E-7`, `0.00001234`. Not finite → `0.0`
 * (never produced by the aggregators; Play would fail).
 */
export function playDouble(d: number): string {
  if (!Number.isFinite(d)) return '0.0';
  if (d === 0) return '0.0'; // BigDecimal has no negative zero: -0.0 prints as 0.0
  // Digits and exponent of the shortest round-trip form (what Java's Double.toString prints
  // for all but rare values).
  const [mantissa, expText] = Math.abs(d).toExponential().split('e') as [string, string];
  const digits = mantissa.replace('.', '');
  const exp = Number(expText);
  const sign = d < 0 ? '-' : '';
  const abs = Math.abs(d);
  if (abs >= 1e-3 && abs < 1e7) {
    // Double.toString prints this plainly with at least one fraction digit; BigDecimal keeps it.
    const point = exp + 1;
    if (point <= 0) return `${sign}0.${'0'.repeat(-point)}${digits}`;
    if (point >= digits.length) return `${sign}${digits}${'0'.repeat(point - digits.length)}.0`;
    return `${sign}${digits.slice(0, point)}.${digits.slice(point)}`;
  }
  // Double.toString: d.dddE±n (one fraction digit at least) → BigDecimal unscaled/scale.
  const javaDigits = digits.length === 1 ? `${digits}0` : digits;
  const scale = javaDigits.length - 1 - exp;
  const adjusted = exp;
  if (scale >= 0 && adjusted >= -6) {
    // BigDecimal prints plainly: 0.000…digits below 1, int.frac above.
    if (adjusted < 0) return `${sign}0.${'0'.repeat(-adjusted - 1)}${javaDigits}`;
    const fraction = javaDigits.slice(adjusted + 1);
    return `${sign}${javaDigits.slice(0, adjusted + 1)}${fraction.length > 0 ? `.${fraction}` : ''}`;
  }
  const frac = javaDigits.slice(1);
  return `${sign}${javaDigits[0]}${frac.length > 0 ? `.${frac}` : ''}E${adjusted >= 0 ? '+' : ''}${adjusted}`;
}

/** `{"metrics":[{"time":"2014-10-17T10:00:00Z","value":2.0},…]}` (MetricDataBulk). */
export function encodeCaveMetrics(points: readonly CavePoint[]): string {
  return `{"metrics":[${points.map((p) => `{"time":"${jodaNoMillis(p.timeMs)}","value":${playDouble(p.value)}}`).join(',')}]}`;
}

/** `[{"name":"…","tags":["…"]},…]` (MetricInfo list); `[]` when none. */
export function encodeCaveMetricNames(metrics: readonly { readonly name: string; readonly tags: readonly string[] }[]): string {
  return `[${metrics.map((m) => `{"name":${jacksonString(m.name)},"tags":[${m.tags.map(jacksonString).join(',')}]}`).join(',')}]`;
}
