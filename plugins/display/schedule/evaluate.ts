/**
 * Which playlist a schedule plays at an instant, and the exact instant that
 * next changes: computed from the windows themselves, not by sampling the
 * clock each minute, so a switch at 11:00 happens at 11:00:00.000.
 *
 * Overlaps: the window with the highest priority wins; of equal priorities,
 * the entry listed first. Outside every window: the default playlist.
 */
import type { Schedule, ScheduleEntry } from './types.js';
import { nextRangeChange, WindowCache } from './windows.js';
import { dayStart, localDay } from './zoned-time.js';

/** What plays: the playlist, and the entry that chose it (absent: the default). */
export interface Active {
  readonly playlist: string;
  readonly entry?: ScheduleEntry;
}

/**
 * After this many days of a stretch (days with the same entries in their
 * date range) without a change, none will come until the stretch ends: its
 * windows repeat every week. Two weeks leave room for windows that cross
 * midnight into the next week.
 */
const QUIET_DAYS = 15;

/** The playlist active at `instant` (ms since the epoch). */
export function activeAt(schedule: Schedule, instant: number, windows = new WindowCache(schedule)): Active {
  const today = localDay(schedule.timeZone, instant);
  let best: ScheduleEntry | undefined;
  for (const entry of schedule.entries) {
    if (best && entry.priority <= best.priority) continue; // entries are in config order: the earlier wins ties
    // A window containing the instant started today or yesterday (one crossing midnight); the days either
    // side only matter around a DST change at midnight, where the local date and the windows disagree.
    for (let day = today - 2; day <= today + 1; day++) {
      const w = windows.on(entry, day);
      if (w && w.start <= instant && instant < w.end) {
        best = entry;
        break;
      }
    }
  }
  return best ? { playlist: best.playlist, entry: best } : { playlist: schedule.defaultPlaylist };
}

/**
 * The first instant after `instant` at which the active playlist is another
 * one, or undefined when it never changes again. A change between two windows
 * of the same playlist is no change.
 */
export function nextChangeAfter(schedule: Schedule, instant: number): number | undefined {
  const { timeZone } = schedule;
  const windows = new WindowCache(schedule);
  const current = activeAt(schedule, instant, windows).playlist;
  // Window edges after `instant`, not yet looked at. Windows that start on a later day begin no earlier
  // than that day, so once a day's windows are in, every edge before the next day's start is known.
  let edges: number[] = [];
  let day = localDay(timeZone, instant) - 2;
  let stretchEnd = nextRangeChange(schedule, day);
  let quiet = 0;
  for (;;) {
    for (const entry of schedule.entries) {
      const w = windows.on(entry, day);
      if (w) edges.push(w.start, w.end);
    }
    const known = dayStart(timeZone, day + 1);
    edges.sort((a, b) => a - b);
    const ready = edges.filter((t) => t < known);
    edges = edges.filter((t) => t >= known);
    for (const edge of ready) {
      if (edge > instant && activeAt(schedule, edge, windows).playlist !== current) return edge;
    }
    day++;
    if (day >= stretchEnd) {
      stretchEnd = nextRangeChange(schedule, day);
      quiet = 0;
    } else if (++quiet >= QUIET_DAYS) {
      if (stretchEnd === Infinity) return undefined;
      // Nothing changes in the rest of this stretch; the day before the next one still opens windows into it.
      day = Math.max(day, stretchEnd - 1);
      quiet = 0;
    }
  }
}
