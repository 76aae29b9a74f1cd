/**
 * The written forms of time a schedule uses, read strictly: "HH:MM[:SS]" times of
 * day, "YYYY-MM-DD" dates, and ISO date-times. Each reader returns undefined
 * for text that is not one, so the caller can name the key path; a date such
 * as 2026-02-30 is refused rather than rolled over into March.
 */
import { DAY_MS, instantOf, MINUTE_MS } from './zoned-time.js';

/**
 * "06:30" → 390 minutes after midnight; "06:30:15" → 390.25 (seconds, for a
 * switch that must land on the second). `allowEndOfDay` lets "24:00" (1440)
 * through, for the end of a window.
 */
export function readTimeOfDay(text: string, allowEndOfDay = false): number | undefined {
  const m = /^(\d{2}):(\d{2})(?::(\d{2}))?$/.exec(text);
  if (!m) return undefined;
  const seconds = Number(m[3] ?? 0);
  const minutes = Number(m[1]) * 60 + Number(m[2]) + seconds / 60;
  if (allowEndOfDay && minutes === 24 * 60) return minutes;
  return Number(m[1]) < 24 && Number(m[2]) < 60 && seconds < 60 ? minutes : undefined;
}

/** "2026-03-29" → days since 1970-01-01; undefined for text that is not a real calendar date. */
export function readDate(text: string): number | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (!m) return undefined;
  return calendarDay(Number(m[1]), Number(m[2]), Number(m[3]));
}

function calendarDay(year: number, month: number, day: number): number | undefined {
  const ms = Date.UTC(year, month - 1, day);
  const back = new Date(ms);
  // Date.UTC rolls 02-30 over to 03-02; a real date comes back unchanged.
  if (back.getUTCFullYear() !== year || back.getUTCMonth() !== month - 1 || back.getUTCDate() !== day) return undefined;
  return ms / DAY_MS;
}

/** A validity bound as written: which instant it means depends on whether it opens or closes the period. */
export type Bound = 'from' | 'until';

/**
 * A playlist item's `from` / `until` as an instant.
 * - "2026-06-30": a whole day in the schedule's zone. `from` starts at its first moment; `until`
 *   includes the day, so the item leaves at the start of the next day (a campaign "until
 *   2026-06-30" still runs on the 30th).
 * - "2026-06-30T18:00" (seconds and milliseconds optional): wall time in the schedule's zone.
 * - "2026-06-30T18:00Z", "…+02:00": that exact instant, whatever the zone.
 * `until` date-times are exclusive: the item leaves at that instant.
 */
export function readInstant(text: string, bound: Bound, timeZone: string): number | undefined {
  const date = readDate(text);
  if (date !== undefined) return instantOf(timeZone, (bound === 'until' ? date + 1 : date) * DAY_MS);
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?(Z|[+-]\d{2}:\d{2})?$/.exec(text);
  if (!m) return undefined;
  const day = calendarDay(Number(m[1]), Number(m[2]), Number(m[3]));
  const [hour, minute, second] = [Number(m[4]), Number(m[5]), Number(m[6] ?? 0)];
  if (day === undefined || hour > 23 || minute > 59 || second > 59) return undefined;
  const wall = day * DAY_MS + (hour * 60 + minute) * MINUTE_MS + second * 1000 + Number((m[7] ?? '0').padEnd(3, '0'));
  const zone = m[8];
  if (zone === undefined) return instantOf(timeZone, wall);
  if (zone === 'Z') return wall;
  const z = /^([+-])(\d{2}):(\d{2})$/.exec(zone)!;
  if (Number(z[2]) > 23 || Number(z[3]) > 59) return undefined;
  const offset = (Number(z[2]) * 60 + Number(z[3])) * MINUTE_MS;
  return z[1] === '+' ? wall - offset : wall + offset;
}
