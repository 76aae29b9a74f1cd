/**
 * The windows of a schedule entry as instants. An entry says "on these days,
 * from HH:MM to HH:MM"; the window that starts on a given local day runs from
 * its start on that day to its end on the same day, or on the next day when
 * the end is not after the start (22:00–02:00 on a Friday is Friday 22:00 to
 * Saturday 02:00). The entry's `from`/`until` days pick the days a window may
 * start on, so the last Friday night of a range still runs to its end.
 *
 * Wall times become instants by the rule in ./zoned-time.ts: on the
 * spring-forward day a window starting at 02:30 starts at 03:00, one ending at
 * 02:30 ends at 03:00; on the fall-back day both mean the first 02:30. A
 * window whose start and end both fall in the skipped hour is empty that day.
 */
import type { Schedule, ScheduleEntry } from './types.js';
import { DAY_MS, instantOf, MINUTE_MS, weekdayOf } from './zoned-time.js';

/** A window as instants: active from `start` (inclusive) to `end` (exclusive). */
export interface Window {
  readonly start: number;
  readonly end: number;
}

/** Whether the entry may start a window on `day` (its date range). */
export function inRange(entry: ScheduleEntry, day: number): boolean {
  return (entry.fromDay === undefined || day >= entry.fromDay) && (entry.untilDay === undefined || day <= entry.untilDay);
}

/** The window `entry` opens on local day `day`, if any. */
export function windowOn(entry: ScheduleEntry, day: number, timeZone: string): Window | undefined {
  if (!entry.days.has(weekdayOf(day)) || !inRange(entry, day)) return undefined;
  const endDay = entry.endMinute > entry.startMinute ? day : day + 1;
  // Rounded: a time with seconds is a fraction of a minute, and the wall value must be whole milliseconds.
  const start = instantOf(timeZone, day * DAY_MS + Math.round(entry.startMinute * MINUTE_MS));
  const end = instantOf(timeZone, endDay * DAY_MS + Math.round(entry.endMinute * MINUTE_MS));
  return end > start ? { start, end } : undefined;
}

/**
 * Windows by entry and day, computed once per evaluation: finding the next
 * change looks at the same few days many times.
 */
export class WindowCache {
  readonly #schedule: Schedule;
  readonly #cache = new Map<string, Window | undefined>();

  constructor(schedule: Schedule) {
    this.#schedule = schedule;
  }

  get schedule(): Schedule {
    return this.#schedule;
  }

  on(entry: ScheduleEntry, day: number): Window | undefined {
    const key = `${entry.index}:${day}`;
    if (!this.#cache.has(key)) this.#cache.set(key, windowOn(entry, day, this.#schedule.timeZone));
    return this.#cache.get(key);
  }
}

/**
 * The first day after `day` on which the set of entries in their date range
 * changes (an entry's `from`, or the day after its `until`); Infinity when none
 * ever does. Between two such days the schedule repeats week after week.
 */
export function nextRangeChange(schedule: Schedule, day: number): number {
  let next = Infinity;
  for (const entry of schedule.entries) {
    if (entry.fromDay !== undefined && entry.fromDay > day) next = Math.min(next, entry.fromDay);
    if (entry.untilDay !== undefined && entry.untilDay + 1 > day) next = Math.min(next, entry.untilDay + 1);
  }
  return next;
}
