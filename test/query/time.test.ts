// Calendar arithmetic with Joda-Time semantics: field differences and adds in zones, range
// alignment (including KairosDB's day fall-through), relative times and sampling durations.
import { describe, expect, it } from 'vitest';
import {
  RangeClock,
  alignRangeBoundary,
  fromLocal,
  monthsBetweenLocal,
  relativeTimeMs,
  samplingDurationMs,
  timeUnitFrom,
  unitAdd,
  unitDifference,
  yearsBetweenLocal,
  zoneOffsetMs,
} from '../../src/query/time.js';

const utc = (y: number, mo: number, d: number, h = 0, mi = 0, s = 0, ms = 0) => Date.UTC(y, mo - 1, d, h, mi, s, ms);

describe('time units', () => {
  it('parses names case-insensitively', () => {
    expect(timeUnitFrom('minutes')).toBe('MINUTES');
    expect(timeUnitFrom('Weeks')).toBe('WEEKS');
    expect(timeUnitFrom('minute')).toBeUndefined();
  });
});

describe('zones', () => {
  it('knows fixed offsets, UTC and IANA zones across DST', () => {
    expect(zoneOffsetMs(undefined, 0)).toBe(0);
    expect(zoneOffsetMs('+05:30', 0)).toBe(5.5 * 3_600_000);
    expect(zoneOffsetMs('-08', 0)).toBe(-8 * 3_600_000);
    expect(zoneOffsetMs('Europe/Paris', utc(2014, 1, 15))).toBe(3_600_000);
    expect(zoneOffsetMs('Europe/Paris', utc(2014, 7, 15))).toBe(7_200_000);
  });

  it('moves local times in a DST gap forward, as Joda does', () => {
    // 2014-03-30 02:30 does not exist in Paris; Joda gives 03:30 CEST = 01:30Z.
    expect(fromLocal('Europe/Paris', utc(2014, 3, 30, 2, 30))).toBe(utc(2014, 3, 30, 1, 30));
    // 2014-03-09 02:30 does not exist in New York; Joda gives 03:30 EDT = 07:30Z.
    expect(fromLocal('America/New_York', utc(2014, 3, 9, 2, 30))).toBe(utc(2014, 3, 9, 7, 30));
  });
});

describe('Joda field arithmetic', () => {
  it('counts months and years with day-of-month and leap-day rules', () => {
    expect(monthsBetweenLocal(utc(2014, 3, 31), utc(2014, 1, 31))).toBe(2);
    expect(monthsBetweenLocal(utc(2014, 2, 28), utc(2014, 1, 31))).toBe(1); // end of month counts as full
    expect(monthsBetweenLocal(utc(2014, 3, 30), utc(2014, 1, 31))).toBe(1);
    expect(monthsBetweenLocal(utc(2014, 1, 1), utc(2014, 3, 1))).toBe(-2);
    expect(yearsBetweenLocal(utc(2013, 2, 28), utc(2012, 2, 29))).toBe(1);
    expect(yearsBetweenLocal(utc(2013, 2, 27), utc(2012, 2, 29))).toBe(0);
  });

  it('adds months clamping the day, years keeping the day of year', () => {
    expect(unitAdd('MONTHS', undefined, utc(2014, 1, 31, 5), 1)).toBe(utc(2014, 2, 28, 5));
    expect(unitAdd('YEARS', undefined, utc(2012, 2, 29), 1)).toBe(utc(2013, 2, 28));
    expect(unitAdd('DAYS', 'Europe/Paris', utc(2014, 3, 29, 23), 1)).toBe(utc(2014, 3, 30, 22)); // midnight Paris, across DST
    expect(unitAdd('HOURS', 'Europe/Paris', utc(2014, 3, 30, 0), 3)).toBe(utc(2014, 3, 30, 3)); // exact hours
  });

  it('truncates differences toward zero like Java long division', () => {
    expect(unitDifference('MINUTES', undefined, 150_000, 0)).toBe(2);
    expect(unitDifference('MINUTES', undefined, -150_000, 0)).toBe(-2);
    const clock = new RangeClock('MINUTES', 5, undefined, 0);
    expect(clock.periods(14 * 60_000)).toBe(2);
    expect(clock.startOf(2)).toBe(10 * 60_000);
  });
});

describe('alignRangeBoundary', () => {
  it('aligns to calendar periods in the zone, with KairosDB days fall-through', () => {
    const t = utc(2015, 1, 2, 13, 17, 42, 123); // a Friday
    expect(alignRangeBoundary('YEARS', undefined, t)).toBe(utc(2015, 1, 1));
    expect(alignRangeBoundary('MONTHS', undefined, t)).toBe(utc(2015, 1, 1));
    expect(alignRangeBoundary('WEEKS', undefined, t)).toBe(utc(2014, 12, 29));
    expect(alignRangeBoundary('DAYS', undefined, t)).toBe(utc(2015, 1, 2));
    expect(alignRangeBoundary('HOURS', undefined, t)).toBe(utc(2015, 1, 2));
    expect(alignRangeBoundary('MINUTES', undefined, t)).toBe(utc(2015, 1, 2));
    expect(alignRangeBoundary('MILLISECONDS', undefined, t)).toBe(utc(2015, 1, 2, 13, 17, 42));
    expect(alignRangeBoundary('MONTHS', 'Europe/Paris', utc(2014, 3, 15))).toBe(utc(2014, 2, 28, 23));
  });
});

describe('relative times and durations', () => {
  it('subtracts on a UTC calendar', () => {
    const now = utc(2024, 3, 31, 12);
    expect(relativeTimeMs(5, 'MILLISECONDS', now)).toBe(now - 5);
    expect(relativeTimeMs(2, 'WEEKS', now)).toBe(now - 14 * 86_400_000);
    expect(relativeTimeMs(1, 'MONTHS', now)).toBe(utc(2024, 2, 29, 12));
    expect(relativeTimeMs(1, 'YEARS', utc(2024, 2, 29))).toBe(utc(2023, 2, 28));
  });

  it('measures sampling durations from an instant in a zone', () => {
    expect(samplingDurationMs('SECONDS', 1, undefined, 0)).toBe(1000);
    expect(samplingDurationMs('MONTHS', 1, undefined, utc(2014, 2, 1))).toBe(28 * 86_400_000);
    expect(samplingDurationMs('DAYS', 1, 'Europe/Paris', utc(2014, 3, 29, 23))).toBe(23 * 3_600_000);
  });
});
