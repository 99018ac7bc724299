// OneNET's wall-clock times (protocols.md §4.2, §4.3, §7 "OneNET time zone"): `at` values such as
// `2015-03-22T22:31:12` or `2015-03-22 22:31:12` carry no zone and are read in a configured one
// (default UTC+08:00, the platform's own); read endpoints print `2015-03-22 22:31:12.000` in the same
// zone. Pure: no clock, no I/O.
import { MAX_ABS_TIMESTAMP_MS } from '../batch-builder.js';

/** The platform's own zone, the default of `--onenet-time-zone`. */
export const DEFAULT_ONENET_TIME_ZONE = '+08:00';

const ZONE_PATTERN = /^([+-])(\d{2}):(\d{2})$/;

/**
 * Minutes east of UTC of a `±HH:MM` offset (−14:00 … +14:00, minutes < 60), or undefined when
 * `text` is not one. `Z` is not accepted here (the option names an offset).
 */
export function parseZoneOffset(text: string): number | undefined {
  const m = ZONE_PATTERN.exec(text);
  if (!m) return undefined;
  const hours = Number(m[2]);
  const minutes = Number(m[3]);
  if (minutes > 59 || hours * 60 + minutes > 14 * 60) return undefined;
  return (m[1] === '-' ? -1 : 1) * (hours * 60 + minutes);
}

// Date, `T` or one space, time, optional fraction (1–9 digits), optional zone (`Z` or ±HH:MM / ±HHMM).
const TIME_PATTERN = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:?\d{2})?$/;

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/**
 * Milliseconds since the epoch of a OneNET time: `YYYY-MM-DDThh:mm:ss` or with a space instead of
 * `T`, optionally with a fraction of a second (truncated to milliseconds) and a zone; without a
 * zone it is read at `offsetMinutes` east of UTC. Undefined when malformed, out of range (month
 * 13, February 30, hour 24, second 60) or beyond the engine's ±2^50 ms.
 */
export function parseOneNetTime(text: string, offsetMinutes: number): number | undefined {
  const m = TIME_PATTERN.exec(text);
  if (!m) return undefined;
  const [year, month, day, hour, minute, second] = [m[1], m[2], m[3], m[4], m[5], m[6]].map(Number) as [number, number, number, number, number, number];
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month) || hour > 23 || minute > 59 || second > 59) return undefined;
  const millis = m[7] !== undefined ? Number(m[7].padEnd(3, '0').slice(0, 3)) : 0;
  let offset = offsetMinutes;
  const zone = m[8];
  if (zone !== undefined) {
    if (zone === 'Z') offset = 0;
    else {
      const digits = zone.replace(':', '');
      const parsed = parseZoneOffset(`${digits.slice(0, 3)}:${digits.slice(3)}`);
      if (parsed === undefined) return undefined;
      offset = parsed;
    }
  }
  const utc = new Date(0);
  utc.setUTCFullYear(year, month - 1, day); // setUTCFullYear keeps years 0–99 as written
  utc.setUTCHours(hour, minute, second, millis);
  const ms = utc.getTime() - offset * 60_000;
  return Number.isFinite(ms) && Math.abs(ms) < MAX_ABS_TIMESTAMP_MS ? ms : undefined;
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

/** `YYYY-MM-DD hh:mm:ss` (with `.mmm` when `millis`) of `ms` at `offsetMinutes` east of UTC. */
export function formatOneNetTime(ms: number, offsetMinutes: number, millis = true): string {
  const d = new Date(ms + offsetMinutes * 60_000);
  const year = d.getUTCFullYear();
  const y = year < 0 ? `-${pad(-year, 4)}` : pad(year, 4);
  const base = `${y}-${pad(d.getUTCMonth() + 1, 2)}-${pad(d.getUTCDate(), 2)} ${pad(d.getUTCHours(), 2)}:${pad(d.getUTCMinutes(), 2)}:${pad(d.getUTCSeconds(), 2)}`;
  return millis ? `${base}.${pad(d.getUTCMilliseconds(), 3)}` : base;
}
