// OpenTSDB 2.4's query time grammar (net.opentsdb.utils.DateTime): parseDateTimeString for
// `start`/`end`, parseDuration for "<n><unit>" intervals, and the calendar snapping that
// calendar-based downsampling uses (previousInterval). Messages are OpenTSDB's words. Pure: no
// clock (the caller passes `nowMs`), no engine, no transport. protocols.md §2.4.
import { fromLocal, isValidZoneId, toLocal, unitAdd, type TimeUnit } from '../../query/time.js';
import { JavaNumberFormatError, parseJavaLong, parseTagsLong } from './java-compat.js';

/** A request error carrying OpenTSDB's HTTP status, message and optional details. */
export class OpenTsdbQueryError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly details = '',
  ) {
    super(message);
    this.name = 'OpenTsdbQueryError';
  }
}

/** An IllegalArgumentException of OpenTSDB's query validation: 400 with its message. */
export function badQuery(message: string, details = ''): OpenTsdbQueryError {
  return new OpenTsdbQueryError(400, message, details);
}

const MS_PER_SECOND = 1000;
const INT64_MAX = 9223372036854775807n;

/**
 * DateTime.parseDuration: leading ASCII digits, then a unit read from the LAST character only
 * (ms when the last two are "ms"; s, m, h, d, w, n = 30 d, y = 365 d, case-insensitive). OpenTSDB
 * ignores anything between the digits and the last character ("5hours" is five seconds), and so
 * does this. Returns milliseconds; throws badQuery with OpenTSDB's messages. An empty string is
 * Java's StringIndexOutOfBoundsException ("String index out of range: 0").
 */
export function parseOpenTsdbDuration(duration: string): number {
  if (duration.length === 0) throw badQuery('String index out of range: 0');
  let unit = 0;
  while (isAsciiDigit(duration.charCodeAt(unit))) {
    unit++;
    if (unit >= duration.length) throw badQuery(`Invalid duration, must have an integer and unit: ${duration}`);
  }
  const parsed = parseJavaLong(duration.slice(0, unit));
  if (parsed === undefined) throw badQuery(`Invalid duration (number): ${duration}`);
  const interval = BigInt(parsed);
  if (interval <= 0n) throw badQuery(`Zero or negative duration: ${duration}`);
  let multiplierSeconds: bigint;
  switch (duration.toLowerCase().charAt(duration.length - 1)) {
    case 's':
      if (duration.charAt(duration.length - 2) === 'm') return Number(interval);
      multiplierSeconds = 1n;
      break;
    case 'm':
      multiplierSeconds = 60n;
      break;
    case 'h':
      multiplierSeconds = 3600n;
      break;
    case 'd':
      multiplierSeconds = 86400n;
      break;
    case 'w':
      multiplierSeconds = 604800n;
      break;
    case 'n':
      multiplierSeconds = 2592000n;
      break;
    case 'y':
      multiplierSeconds = 31536000n;
      break;
    default:
      throw badQuery(`Invalid duration (suffix): ${duration}`);
  }
  const ms = interval * multiplierSeconds * 1000n;
  if (ms > INT64_MAX) throw badQuery(`Duration must be < Long.MAX_VALUE ms: ${duration}`);
  return Number(ms);
}

function isAsciiDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

/**
 * Whether `id` names a zone OpenTSDB (Java's TimeZone.getAvailableIDs) would know. IANA ids and
 * "UTC" are accepted; bare offsets such as "+05:30" are not Java zone ids.
 */
export function isOpenTsdbZoneId(id: string): boolean {
  return id.length > 0 && id.charCodeAt(0) !== 0x2b && id.charCodeAt(0) !== 0x2d && isValidZoneId(id);
}

// SimpleDateFormat patterns DateTime picks by the string's length; parsing is lenient (fields roll
// over, trailing text is ignored), as SimpleDateFormat.parse(String) is.
const DATE_ONLY = /^(\d+)\/(\d+)\/(\d+)/;
const DATE_DASH_MINUTES = /^(\d+)\/(\d+)\/(\d+)-(\d+):(\d+)/;
const DATE_SPACE_MINUTES = /^(\d+)\/(\d+)\/(\d+) (\d+):(\d+)/;
const DATE_DASH_SECONDS = /^(\d+)\/(\d+)\/(\d+)-(\d+):(\d+):(\d+)/;
const DATE_SPACE_SECONDS = /^(\d+)\/(\d+)\/(\d+) (\d+):(\d+):(\d+)/;
const DIGITS_MS = /^[0-9]+ms$/;
const DOTTED_MS = /^[0-9]{10}\.[0-9]{1,3}$/;

/**
 * DateTime.parseDateTimeString: "now"; "<duration>-ago"; "<digits>ms" (raw milliseconds);
 * "yyyy/MM/dd", "yyyy/MM/dd[-| ]HH:mm[:ss]" (chosen by length 10/16/19, in `timezone` or UTC when
 * none — OpenTSDB uses the JVM's zone); integers of up to 10 characters are seconds, longer ones
 * milliseconds; "<10 digits>.<1-3 digits>" drops the dot (so it is read as milliseconds only when
 * the result has more than 10 characters, as in OpenTSDB). Negative numbers are refused. Returns
 * epoch milliseconds. Throws badQuery with OpenTSDB's messages.
 */
export function parseOpenTsdbTime(datetime: string, timezone: string | null, nowMs: number): number {
  if (DIGITS_MS.test(datetime)) return tagsLongAsNumber(datetime.slice(0, -2));
  const lower = datetime.toLowerCase();
  if (lower === 'now') return nowMs;
  if (lower.endsWith('-ago')) return nowMs - parseOpenTsdbDuration(datetime.slice(0, -4));
  if (datetime.includes('/') || datetime.includes(':')) return parseAbsolute(datetime, timezone);

  let time: number;
  try {
    if (datetime.includes('.')) {
      if (!DOTTED_MS.test(datetime)) {
        throw badQuery(`Invalid time: ${datetime}. Millisecond timestamps must be in the format <seconds>.<ms> where the milliseconds are limited to 3 digits`);
      }
      time = Number(parseTagsLong(datetime.replace('.', '')));
    } else {
      time = Number(parseTagsLong(datetime));
    }
  } catch (err) {
    if (err instanceof JavaNumberFormatError) throw badQuery(`Invalid time: ${datetime}. ${err.message}`);
    throw err;
  }
  if (time < 0) throw badQuery(`Invalid time: ${datetime}. Negative timestamps are not supported.`);
  // OpenTSDB's "nasty hack": ten characters or fewer are seconds (works until November 2286).
  return datetime.length <= 10 ? time * MS_PER_SECOND : time;
}

/** Tags.parseLong whose NumberFormatException escapes DateTime uncaught (400 with its message). */
function tagsLongAsNumber(digits: string): number {
  try {
    return Number(parseTagsLong(digits));
  } catch (err) {
    if (err instanceof JavaNumberFormatError) throw badQuery(err.message);
    throw err;
  }
}

function parseAbsolute(datetime: string, timezone: string | null): number {
  let pattern: RegExp;
  switch (datetime.length) {
    case 10:
      pattern = DATE_ONLY;
      break;
    case 16:
      pattern = datetime.includes('-') ? DATE_DASH_MINUTES : DATE_SPACE_MINUTES;
      break;
    case 19:
      pattern = datetime.includes('-') ? DATE_DASH_SECONDS : DATE_SPACE_SECONDS;
      break;
    default:
      throw badQuery(`Invalid absolute date: ${datetime}`);
  }
  if (timezone !== null && timezone.length > 0 && !isOpenTsdbZoneId(timezone)) throw badQuery(`Invalid timezone name: ${timezone}`);
  const m = pattern.exec(datetime);
  if (m === null) throw badQuery(`Invalid date: ${datetime}. Unparseable date: "${datetime}"`);
  const field = (i: number): number => (m[i] === undefined ? 0 : Number(m[i]));
  const d = new Date(0);
  // Date's setters roll fields over exactly as a lenient GregorianCalendar does (month 13 → next January).
  d.setUTCFullYear(field(1), field(2) - 1, field(3));
  d.setUTCHours(field(4), field(5), field(6), 0);
  const localMs = d.getTime();
  return timezone !== null && timezone.length > 0 ? fromLocal(timezone, localMs) : localMs;
}

// ------------------------------------------------------------------------------------------------
// Calendar intervals (DateTime.previousInterval / unitsToCalendarType), for "<n><unit>c" downsampling

/** Calendar unit of a calendar downsampling interval (DateTime.unitsToCalendarType). */
export type CalendarUnit = 'ms' | 's' | 'm' | 'h' | 'd' | 'w' | 'n' | 'y';

const CALENDAR_UNITS: ReadonlySet<string> = new Set(['ms', 's', 'm', 'h', 'd', 'w', 'n', 'y']);

/** DateTime.unitsToCalendarType: the unit letters, case-insensitive; throws with OpenTSDB's message. */
export function calendarUnitOf(units: string): CalendarUnit {
  if (units.length === 0) throw badQuery('Units cannot be null or empty');
  const lc = units.toLowerCase();
  if (!CALENDAR_UNITS.has(lc)) throw badQuery(`Unrecognized unit type: ${units}`);
  return lc as CalendarUnit;
}

const TIME_UNIT_OF: Readonly<Record<CalendarUnit, TimeUnit>> = {
  ms: 'MILLISECONDS',
  s: 'SECONDS',
  m: 'MINUTES',
  h: 'HOURS',
  d: 'DAYS',
  w: 'DAYS', // weeks are stepped as 7 days, as OpenTSDB's Downsampler does
  n: 'MONTHS',
  y: 'YEARS',
};

/**
 * Calendar.add(unit, amount) in `zone`: hours and shorter are exact durations, days and longer
 * move the local wall clock (months clamp the day). Weeks are `amount` × 7 days.
 */
export function calendarAdd(utcMs: number, unit: CalendarUnit, amount: number, zone: string | undefined): number {
  return unitAdd(TIME_UNIT_OF[unit], zone, utcMs, unit === 'w' ? amount * 7 : amount);
}

/**
 * DateTime.previousInterval: the start of the calendar interval of `interval` `unit`s holding
 * `utcMs` in `zone` (UTC when undefined). Intervals that divide their parent unit are anchored at
 * the parent's start (minute, hour, day, month), others at the next larger boundary; weeks start
 * on Sunday (Java's default US locale). Intervals of three weeks or more are anchored at the Sunday
 * on or before January 1st (OpenTSDB resolves this through Calendar field priorities; close).
 */
export function previousCalendarInterval(utcMs: number, interval: number, unit: CalendarUnit, zone: string | undefined): number {
  const local = new Date(toLocal(zone, utcMs));
  const y = local.getUTCFullYear();
  const mo = local.getUTCMonth();
  const day = local.getUTCDate();
  const h = local.getUTCHours();
  const mi = local.getUTCMinutes();
  const s = local.getUTCSeconds();
  let stepUnit: CalendarUnit = unit;
  let stepInterval = interval;
  let floorLocal: number;
  switch (unit) {
    case 'ms':
      floorLocal = 1000 % interval === 0 ? localTime(y, mo, day, h, mi, s) : localTime(y, mo, day, h, mi, 0);
      break;
    case 's':
      floorLocal = 60 % interval === 0 ? localTime(y, mo, day, h, mi, 0) : localTime(y, mo, day, h, 0, 0);
      break;
    case 'm':
      floorLocal = 60 % interval === 0 ? localTime(y, mo, day, h, 0, 0) : localTime(y, mo, day, 0, 0, 0);
      break;
    case 'h':
      floorLocal = 24 % interval === 0 ? localTime(y, mo, day, 0, 0, 0) : localTime(y, mo, 1, 0, 0, 0);
      break;
    case 'd':
      floorLocal = interval === 1 ? localTime(y, mo, 1, 0, 0, 0) : localTime(y, 0, 1, 0, 0, 0);
      break;
    case 'w': {
      const base = 2 % interval === 0 ? localTime(y, mo, day, 0, 0, 0) : localTime(y, 0, 1, 0, 0, 0);
      floorLocal = base - new Date(base).getUTCDay() * 86_400_000;
      stepUnit = 'd';
      stepInterval = 7;
      break;
    }
    default:
      floorLocal = localTime(y, 0, 1, 0, 0, 0);
      break;
  }
  // OpenTSDB steps forward from the anchor past `utcMs`, then one step back.
  let c = fromLocal(zone, floorLocal);
  if (c === utcMs) return c;
  while (c <= utcMs) c = calendarAdd(c, stepUnit, stepInterval, zone);
  return calendarAdd(c, stepUnit, -stepInterval, zone);
}

function localTime(y: number, mo: number, d: number, h: number, mi: number, s: number): number {
  const date = new Date(0);
  date.setUTCFullYear(y, mo, d);
  date.setUTCHours(h, mi, s, 0);
  return date.getTime();
}
