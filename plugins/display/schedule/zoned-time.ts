/**
 * Wall-clock time in a named time zone, with nothing but `Intl.DateTimeFormat`
 * (Node ships full ICU, so every IANA zone is known without a dependency).
 *
 * A "wall" value is a wall-clock reading written as milliseconds since the
 * epoch as if it were UTC: 2026-03-29 02:30 in Berlin is
 * `Date.UTC(2026, 2, 29, 2, 30)`. That makes day and minute arithmetic plain
 * integer arithmetic; only the two conversions below know about zones.
 *
 * The DST rule (one rule for starts, ends, dates and date-times alike): a wall
 * time stands for **the first instant at which the zone's clock reads that
 * time or later**. So a time the clock skips (02:30 on a spring-forward day
 * in Europe/Berlin) means the instant the clock jumps (03:00 CEST), and a time
 * the clock shows twice (02:30 on a fall-back day) means its first showing
 * (02:30 CEST, an hour before the second one).
 */

export const MINUTE_MS = 60_000;
export const DAY_MS = 86_400_000;

// One formatter per zone: building one costs far more than using it.
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    // hourCycle h23: midnight is "00", never "24" as with hour12: false in some ICU versions.
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/** Whether the runtime knows this IANA zone name (`Europe/Berlin`); unknown names would silently mean nothing. */
export function isKnownTimeZone(timeZone: string): boolean {
  try {
    formatter(timeZone);
    return true;
  } catch {
    return false;
  }
}

/** The zone this node runs in (TZ, /etc/localtime), as an IANA name. */
export function systemTimeZone(): string {
  return new Intl.DateTimeFormat().resolvedOptions().timeZone;
}

/** What the zone's clock reads at `instant`, as a wall value. */
export function wallClock(timeZone: string, instant: number): number {
  const fields: Record<string, number> = {};
  for (const part of formatter(timeZone).formatToParts(instant)) {
    if (part.type !== 'literal') fields[part.type] = Number(part.value);
  }
  // formatToParts drops the milliseconds; offsets are whole seconds, so they carry over unchanged.
  const ms = ((instant % 1000) + 1000) % 1000;
  return Date.UTC(fields.year!, fields.month! - 1, fields.day!, fields.hour!, fields.minute!, fields.second!) + ms;
}

/** The zone's offset from UTC at `instant`, in ms (Berlin in summer: +7 200 000). */
export function offsetAt(timeZone: string, instant: number): number {
  return wallClock(timeZone, instant) - instant;
}

/**
 * The instant a wall value stands for: the first instant at which the clock
 * reads `wall` or later (see the DST rule above).
 */
export function instantOf(timeZone: string, wall: number): number {
  // The offsets a day either side are the only ones that can apply (zones change at most once a day).
  const early = wall - offsetAt(timeZone, wall - DAY_MS);
  const late = wall - offsetAt(timeZone, wall + DAY_MS);
  const exact = [early, late].filter((t) => wallClock(timeZone, t) === wall);
  if (exact.length > 0) return Math.min(...exact); // shown twice: the first showing
  // Skipped by the clock: find the instant it jumps past `wall`. Before it the clock reads less, after it more.
  let lo = Math.min(early, late);
  let hi = Math.max(early, late);
  if (wallClock(timeZone, lo) >= wall || wallClock(timeZone, hi) < wall) return early; // not a single jump: no better answer
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (wallClock(timeZone, mid) >= wall) hi = mid;
    else lo = mid;
  }
  return hi;
}

/** The local calendar day of `instant`, as days since 1970-01-01. */
export function localDay(timeZone: string, instant: number): number {
  return Math.floor(wallClock(timeZone, instant) / DAY_MS);
}

/** The instant local day `day` begins (its first 00:00, or the first instant after it if the clock skips midnight). */
export function dayStart(timeZone: string, day: number): number {
  return instantOf(timeZone, day * DAY_MS);
}

/** Day of the week of a day number: 0 Sunday … 6 Saturday (1970-01-01 was a Thursday). */
export function weekdayOf(day: number): number {
  return (((day + 4) % 7) + 7) % 7;
}
