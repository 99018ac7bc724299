// Calendar arithmetic for queries: time units, time zones, relative times and the sampling-range
// math of KairosDB's RangeAggregator (Joda-Time field semantics: units up to hours are exact
// durations, days and longer are counted on the local calendar of the zone). Pure; no I/O.
// Never call into Intl per point: zone offsets are looked up once per range boundary.

/** KairosDB's TimeUnit names, in its declaration order (error messages list them so). */
export const TIME_UNITS = ['MILLISECONDS', 'SECONDS', 'MINUTES', 'HOURS', 'DAYS', 'WEEKS', 'MONTHS', 'YEARS'] as const;
export type TimeUnit = (typeof TIME_UNITS)[number];

export const MS_PER_SECOND = 1_000;
export const MS_PER_MINUTE = 60_000;
export const MS_PER_HOUR = 3_600_000;
export const MS_PER_DAY = 86_400_000;
export const MS_PER_WEEK = 604_800_000;

/** The unit named `text`, case-insensitively, or undefined (KairosDB TimeUnit.from). */
export function timeUnitFrom(text: string): TimeUnit | undefined {
  const upper = text.toUpperCase();
  return (TIME_UNITS as readonly string[]).includes(upper) ? (upper as TimeUnit) : undefined;
}

/** Milliseconds of one unit, for the units that are exact durations in UTC (up to weeks). */
function fixedUnitMs(unit: TimeUnit): number | undefined {
  switch (unit) {
    case 'MILLISECONDS':
      return 1;
    case 'SECONDS':
      return MS_PER_SECOND;
    case 'MINUTES':
      return MS_PER_MINUTE;
    case 'HOURS':
      return MS_PER_HOUR;
    case 'DAYS':
      return MS_PER_DAY;
    case 'WEEKS':
      return MS_PER_WEEK;
    default:
      return undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// Time zones

/**
 * A time-zone id as KairosDB accepts it (Joda DateTimeZone.forID): "UTC", a fixed offset such as
 * "+05:30" or "-08", or an IANA id. Kept as the id string so query models stay plain data.
 */
export type ZoneId = string;

const FIXED_OFFSET = /^([+-])(\d{1,2})(?::?(\d{2}))?(?::?(\d{2}))?$/;
const formatters = new Map<string, Intl.DateTimeFormat>();

/** Whether `id` names a zone we can compute offsets for. */
export function isValidZoneId(id: string): boolean {
  if (id === 'UTC' || FIXED_OFFSET.test(id)) return true;
  try {
    formatterFor(id);
    return true;
  } catch {
    return false;
  }
}

/** Every zone id for the "must be one of [...]" message, sorted like Joda's set. */
export function availableZoneIds(): string[] {
  const ids = new Set<string>(['UTC']);
  const intl = Intl as unknown as { supportedValuesOf?: (key: string) => string[] };
  for (const id of intl.supportedValuesOf?.('timeZone') ?? []) ids.add(id);
  return [...ids].sort();
}

function formatterFor(id: string): Intl.DateTimeFormat {
  let f = formatters.get(id);
  if (f === undefined) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: id,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
      era: 'short',
    });
    formatters.set(id, f);
  }
  return f;
}

/** Offset of `zone` from UTC at instant `utcMs`, in ms (local = utc + offset). undefined zone = UTC. */
export function zoneOffsetMs(zone: ZoneId | undefined, utcMs: number): number {
  if (zone === undefined || zone === 'UTC') return 0;
  const fixed = FIXED_OFFSET.exec(zone);
  if (fixed) {
    const ms = (Number(fixed[2]) * 3600 + Number(fixed[3] ?? 0) * 60 + Number(fixed[4] ?? 0)) * 1000;
    return fixed[1] === '-' ? -ms : ms;
  }
  const whole = Math.floor(utcMs / 1000) * 1000;
  let year = 0;
  let month = 1;
  let day = 1;
  let hour = 0;
  let minute = 0;
  let second = 0;
  let bc = false;
  for (const part of formatterFor(zone).formatToParts(whole)) {
    switch (part.type) {
      case 'year':
        year = Number(part.value);
        break;
      case 'month':
        month = Number(part.value);
        break;
      case 'day':
        day = Number(part.value);
        break;
      case 'hour':
        hour = Number(part.value);
        break;
      case 'minute':
        minute = Number(part.value);
        break;
      case 'second':
        second = Number(part.value);
        break;
      case 'era':
        bc = part.value.startsWith('B');
        break;
      default:
        break;
    }
  }
  const d = new Date(0);
  d.setUTCFullYear(bc ? 1 - year : year, month - 1, day);
  d.setUTCHours(hour, minute, second, 0);
  return d.getTime() - whole;
}

/** The local wall-clock instant (ms, read with UTC getters) of `utcMs` in `zone`. */
export function toLocal(zone: ZoneId | undefined, utcMs: number): number {
  return utcMs + zoneOffsetMs(zone, utcMs);
}

/**
 * The UTC instant of local wall-clock time `localMs` (Joda convertLocalToUTC, non-strict): a time
 * in a DST gap moves forward past the gap; in an overlap the offset of `originalUtcMs` wins when
 * it is one of the two valid offsets.
 */
export function fromLocal(zone: ZoneId | undefined, localMs: number, originalUtcMs?: number): number {
  if (zone === undefined || zone === 'UTC') return localMs;
  if (originalUtcMs !== undefined) {
    const original = zoneOffsetMs(zone, originalUtcMs);
    const utc = localMs - original;
    if (zoneOffsetMs(zone, utc) === original) return utc;
  }
  const offsetLocal = zoneOffsetMs(zone, localMs);
  const offset = zoneOffsetMs(zone, localMs - offsetLocal);
  if (offsetLocal !== offset && zoneOffsetMs(zone, localMs - offset) !== offset) {
    // In a gap: neither offset maps back; take the earlier (pre-transition) offset.
    return localMs - Math.min(offsetLocal, offset);
  }
  return localMs - offset;
}

// ---------------------------------------------------------------------------------------------
// Proleptic Gregorian fields of a local instant (ms read as UTC)

function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

function daysInMonth(year: number, month0: number): number {
  const d = new Date(0);
  d.setUTCFullYear(year, month0 + 1, 0);
  return d.getUTCDate();
}

function utcDate(year: number, month0: number, day: number, msOfDay: number): number {
  const d = new Date(0);
  d.setUTCFullYear(year, month0, day);
  d.setUTCHours(0, 0, 0, 0);
  return d.getTime() + msOfDay;
}

function msOfDay(localMs: number): number {
  return ((localMs % MS_PER_DAY) + MS_PER_DAY) % MS_PER_DAY;
}

/** Local instant + `months` months, day of month clamped to the target month (Joda monthOfYear.add). */
export function addMonthsLocal(localMs: number, months: number): number {
  const d = new Date(localMs);
  const total = d.getUTCFullYear() * 12 + d.getUTCMonth() + months;
  const year = Math.floor(total / 12);
  const month0 = total - year * 12;
  const day = Math.min(d.getUTCDate(), daysInMonth(year, month0));
  return utcDate(year, month0, day, msOfDay(localMs));
}

/** Local instant + `years` years, keeping the day of year across leap years (Joda setYear). */
export function addYearsLocal(localMs: number, years: number): number {
  const d = new Date(localMs);
  const thisYear = d.getUTCFullYear();
  const year = thisYear + years;
  let dayOfYear = Math.round((utcDate(thisYear, d.getUTCMonth(), d.getUTCDate(), 0) - utcDate(thisYear, 0, 1, 0)) / MS_PER_DAY) + 1;
  if (dayOfYear > 31 + 28) {
    if (isLeapYear(thisYear)) {
      if (!isLeapYear(year)) dayOfYear--;
    } else if (isLeapYear(year)) {
      dayOfYear++;
    }
  }
  return utcDate(year, 0, dayOfYear, msOfDay(localMs));
}

function yearMonthStart(year: number, month0: number): number {
  return utcDate(year, month0, 1, 0);
}

/** Whole months from `subtrahend` to `minuend`, local instants (Joda monthOfYear.getDifference). */
export function monthsBetweenLocal(minuend: number, subtrahend: number): number {
  if (minuend < subtrahend) return -monthsBetweenLocal(subtrahend, minuend);
  const a = new Date(minuend);
  const b = new Date(subtrahend);
  const minuendYear = a.getUTCFullYear();
  const minuendMonth = a.getUTCMonth();
  const subtrahendYear = b.getUTCFullYear();
  const subtrahendMonth = b.getUTCMonth();
  let difference = (minuendYear - subtrahendYear) * 12 + minuendMonth - subtrahendMonth;
  let sub = subtrahend;
  const minuendDom = a.getUTCDate();
  if (minuendDom === daysInMonth(minuendYear, minuendMonth)) {
    const subtrahendDom = b.getUTCDate();
    if (subtrahendDom > minuendDom) sub = utcDate(subtrahendYear, subtrahendMonth, minuendDom, msOfDay(subtrahend));
  }
  const minuendRem = minuend - yearMonthStart(minuendYear, minuendMonth);
  const subtrahendRem = sub - yearMonthStart(subtrahendYear, subtrahendMonth);
  if (minuendRem < subtrahendRem) difference--;
  return difference;
}

const FEB_29_MS = (31 + 29 - 1) * MS_PER_DAY;

/** Whole years from `subtrahend` to `minuend`, local instants (Joda getYearDifference). */
export function yearsBetweenLocal(minuend: number, subtrahend: number): number {
  if (minuend < subtrahend) return -yearsBetweenLocal(subtrahend, minuend);
  const minuendYear = new Date(minuend).getUTCFullYear();
  const subtrahendYear = new Date(subtrahend).getUTCFullYear();
  let minuendRem = minuend - utcDate(minuendYear, 0, 1, 0);
  let subtrahendRem = subtrahend - utcDate(subtrahendYear, 0, 1, 0);
  if (subtrahendRem >= FEB_29_MS) {
    if (isLeapYear(subtrahendYear) && !isLeapYear(minuendYear)) subtrahendRem -= MS_PER_DAY;
  } else if (minuendRem >= FEB_29_MS && isLeapYear(minuendYear)) {
    minuendRem -= MS_PER_DAY;
  }
  let difference = minuendYear - subtrahendYear;
  if (minuendRem < subtrahendRem) difference--;
  return difference;
}

// ---------------------------------------------------------------------------------------------
// Joda field arithmetic in a zone (the "unit field" of RangeAggregator)

/**
 * Whole `unit`s from `subtrahendUtc` to `minuendUtc`, truncated toward zero, as Joda's
 * DateTimeField.getDifferenceAsLong on a zoned Gregorian chronology: units up to hours are exact
 * durations; days, weeks, months and years count on the local calendar.
 */
export function unitDifference(unit: TimeUnit, zone: ZoneId | undefined, minuendUtc: number, subtrahendUtc: number): number {
  const fixed = fixedUnitMs(unit);
  if (fixed !== undefined && fixed <= MS_PER_HOUR) return Math.trunc((minuendUtc - subtrahendUtc) / fixed);
  const a = toLocal(zone, minuendUtc);
  const b = toLocal(zone, subtrahendUtc);
  if (fixed !== undefined) return Math.trunc((a - b) / fixed);
  return unit === 'MONTHS' ? monthsBetweenLocal(a, b) : yearsBetweenLocal(a, b);
}

/** `instantUtc` + `amount` `unit`s, as Joda's DateTimeField.add on a zoned Gregorian chronology. */
export function unitAdd(unit: TimeUnit, zone: ZoneId | undefined, instantUtc: number, amount: number): number {
  const fixed = fixedUnitMs(unit);
  if (fixed !== undefined && fixed <= MS_PER_HOUR) return instantUtc + amount * fixed;
  const local = toLocal(zone, instantUtc);
  let moved: number;
  if (fixed !== undefined) moved = local + amount * fixed;
  else if (unit === 'MONTHS') moved = addMonthsLocal(local, amount);
  else moved = addYearsLocal(local, amount);
  return fromLocal(zone, moved, instantUtc);
}

/**
 * KairosDB RangeAggregator.alignRangeBoundary: the start of the calendar period holding
 * `instantUtc` in `zone`. Years → Jan 1, months → the 1st, weeks → Monday, days/hours/minutes/
 * seconds → local midnight (KairosDB's switch falls through to the day for all four), milliseconds
 * → the start of the second.
 */
export function alignRangeBoundary(unit: TimeUnit, zone: ZoneId | undefined, instantUtc: number): number {
  const local = toLocal(zone, instantUtc);
  const d = new Date(local);
  let aligned: number;
  switch (unit) {
    case 'YEARS':
      aligned = utcDate(d.getUTCFullYear(), 0, 1, 0);
      break;
    case 'MONTHS':
      aligned = utcDate(d.getUTCFullYear(), d.getUTCMonth(), 1, 0);
      break;
    case 'WEEKS': {
      const isoDay = d.getUTCDay() === 0 ? 7 : d.getUTCDay();
      aligned = utcDate(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() - (isoDay - 1), 0);
      break;
    }
    case 'DAYS':
    case 'HOURS':
    case 'MINUTES':
    case 'SECONDS':
      aligned = local - msOfDay(local);
      break;
    default:
      aligned = local - (((local % 1000) + 1000) % 1000);
      break;
  }
  return fromLocal(zone, aligned, instantUtc);
}

/**
 * Sampling ranges anchored at `anchorUtc`, each `value` `unit`s long (KairosDB RangeAggregator
 * getStartRange/getEndRange). Precondition: value ≥ 1.
 */
export class RangeClock {
  constructor(
    readonly unit: TimeUnit,
    readonly value: number,
    readonly zone: ZoneId | undefined,
    readonly anchorUtc: number,
  ) {}

  /** Index of the range holding `t`, truncated toward zero like Java's long division. */
  periods(t: number): number {
    return Math.trunc(unitDifference(this.unit, this.zone, t, this.anchorUtc) / this.value);
  }

  startOf(periods: number): number {
    return unitAdd(this.unit, this.zone, this.anchorUtc, periods * this.value);
  }
}

/**
 * KairosDB's Util.getSamplingDuration: milliseconds from `instantUtc` to `instantUtc` + `value`
 * `unit`s in `zone` (used by rate and sampler).
 */
export function samplingDurationMs(unit: TimeUnit, value: number, zone: ZoneId | undefined, instantUtc: number): number {
  return unitAdd(unit, zone, instantUtc, value) - instantUtc;
}

/**
 * KairosDB RelativeTime.getTimeRelativeTo: `nowMs` minus `value` `unit`s on a UTC
 * java.util.Calendar (months and years clamp the day of month). `value` is cast to a Java int
 * except for milliseconds, as KairosDB does.
 */
export function relativeTimeMs(value: number, unit: TimeUnit, nowMs: number): number {
  if (unit === 'MILLISECONDS') return nowMs - value;
  const amount = -(Math.trunc(value) | 0);
  switch (unit) {
    case 'MONTHS':
      return addMonthsLocal(nowMs, amount);
    case 'YEARS':
      return addMonthsLocal(nowMs, amount * 12);
    default:
      return nowMs + amount * fixedUnitMs(unit)!;
  }
}

/** Milliseconds of a TimeGroupBy range (KairosDB convertGroupSizeToMillis: a year is 52 weeks). */
export function groupSizeMs(value: number, unit: TimeUnit): number {
  switch (unit) {
    case 'YEARS':
      return value * 52 * MS_PER_WEEK;
    case 'MONTHS':
      // Months are counted on the calendar by the caller (TimeGroupBy); KairosDB's switch has no
      // case for them and leaves the bare value.
      return value;
    default:
      return value * fixedUnitMs(unit)!;
  }
}

/** UTC year and month (0-based) of an instant. */
export function utcYearMonth(utcMs: number): { year: number; month0: number } {
  const d = new Date(utcMs);
  return { year: d.getUTCFullYear(), month0: d.getUTCMonth() };
}
