/**
 * Checks the `playlists` and `schedule` options and turns them into what the
 * evaluator uses. A schedule with any problem is refused whole: a screen that
 * silently skipped one bad entry would show the wrong thing at the wrong hour
 * with nobody noticing. Every problem is listed at once, each with its key
 * path (`display.options.schedule.entries[2].start: …`), shape problems from
 * the JSON schema and meaning problems from here together.
 */
import { basename } from 'node:path';
import { NvidError } from '../../../core/errors.js';
import { validateAgainst } from '../../../core/schema.js';
import { readDate, readInstant, readTimeOfDay } from './clock-text.js';
import { PLAYLISTS_SCHEMA, SCHEDULE_SCHEMA } from './schema.js';
import { WEEKDAYS, type Playlist, type PlaylistItem, type Schedule, type ScheduleEntry, type Signage, type Weekday } from './types.js';
import { isKnownTimeZone, systemTimeZone } from './zoned-time.js';

export interface ParseOptions {
  /** Seconds a still stays up when its item names none (the display's `imageSeconds`). */
  readonly imageSeconds: number;
  /** Starts every key path, e.g. `display.options`; empty: paths start at `playlists` / `schedule`. */
  readonly prefix?: string;
  /** The zone when the schedule names none; default: this node's. */
  readonly defaultTimeZone?: string;
}

const SIGNAGE_SCHEMA = {
  type: 'object',
  properties: { playlists: PLAYLISTS_SCHEMA, schedule: SCHEDULE_SCHEMA },
} as const;

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const text = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/**
 * Checks `input` (an object holding `playlists` and/or `schedule`, like the
 * display options) and returns them ready to evaluate. Throws
 * NVID_ERR_SCHEDULE_INVALID listing every problem (`details.problems`).
 */
export function parseSignage(input: unknown, options: ParseOptions): Signage {
  const prefix = options.prefix ?? '';
  const at = (path: string) => (prefix ? `${prefix}.${path}` : path);
  // The schema checker fills in defaults in place; options handed to a plugin are frozen.
  const data = structuredClone(input ?? {});
  const problems = validateAgainst(SIGNAGE_SCHEMA, data, prefix);
  const raw = isObject(data) ? data : {};

  const zoneText = isObject(raw.schedule) ? text(raw.schedule.timeZone) : undefined;
  let timeZone = zoneText ?? options.defaultTimeZone ?? systemTimeZone();
  if (!isKnownTimeZone(timeZone)) {
    // An empty name is the schema's to report; anything else is a name the runtime does not know.
    if (zoneText !== '') problems.push(`${at('schedule.timeZone')}: unknown time zone "${timeZone}" (an IANA name such as Europe/Berlin)`);
    timeZone = 'UTC'; // only so the rest can still be checked and reported
  }

  const playlists = new Map<string, Playlist>();
  for (const [name, value] of Object.entries(isObject(raw.playlists) ? raw.playlists : {})) {
    const items = isObject(value) && Array.isArray(value.items) ? value.items : [];
    const checked = items.map((item, i) => readItem(item, at(`playlists.${name}.items[${i}]`), timeZone, options.imageSeconds, problems));
    playlists.set(name, { name, items: checked.filter((item): item is PlaylistItem => item !== undefined) });
  }

  let schedule: Schedule | undefined;
  if (isObject(raw.schedule)) {
    const s = raw.schedule;
    const known = (ref: unknown, path: string) => {
      if (typeof ref === 'string' && ref !== '' && !playlists.has(ref)) {
        const names = [...playlists.keys()];
        problems.push(`${at(path)}: no playlist "${ref}" (${names.length > 0 ? `playlists: ${names.join(', ')}` : 'no playlists are defined'})`);
      }
    };
    known(s.default, 'schedule.default');
    const entries = Array.isArray(s.entries) ? s.entries : [];
    const checked = entries.map((entry, i) => {
      known(isObject(entry) ? entry.playlist : undefined, `schedule.entries[${i}].playlist`);
      return readEntry(entry, i, at(`schedule.entries[${i}]`), problems);
    });
    schedule = {
      timeZone,
      defaultPlaylist: text(s.default) ?? '',
      entries: checked.filter((e): e is ScheduleEntry => e !== undefined),
    };
  }

  if (problems.length > 0) {
    const where = prefix || 'the schedule';
    throw new NvidError('NVID_ERR_SCHEDULE_INVALID', `${where}: ${problems.length} problem${problems.length > 1 ? 's' : ''} in the playlists and schedule:\n  ${problems.join('\n  ')}`, { details: { problems } });
  }
  return { playlists, schedule };
}

/** One playlist item; undefined (with its problems pushed) when it is unusable. */
function readItem(item: unknown, path: string, timeZone: string, imageSeconds: number, problems: string[]): PlaylistItem | undefined {
  if (!isObject(item)) return undefined; // the schema said so already
  const before = problems.length;
  const file = text(item.file);
  const folder = text(item.folder);
  if (file !== undefined && folder !== undefined) problems.push(`${path}: give either file or folder, not both`);
  else if (file === undefined && folder === undefined && !('file' in item) && !('folder' in item)) problems.push(`${path}: needs file (a library file name) or folder`);
  // Library names are single file names: the library is one flat folder, and a path could reach outside it.
  if (file && (basename(file) !== file || file === '.' || file === '..' || file.startsWith('.'))) {
    problems.push(`${path}.file: "${file}" is not a library file name (no folders, not hidden); use folder for a folder of media`);
  }
  const bounds: { from?: number; until?: number } = {};
  for (const bound of ['from', 'until'] as const) {
    const written = text(item[bound]);
    if (written === undefined) continue;
    const instant = readInstant(written, bound, timeZone);
    if (instant === undefined) problems.push(`${path}.${bound}: "${written}" is not a date (YYYY-MM-DD) or date-time (YYYY-MM-DDTHH:MM, optionally :SS and Z or ±HH:MM)`);
    else bounds[bound] = instant;
  }
  if (bounds.from !== undefined && bounds.until !== undefined && bounds.until <= bounds.from) {
    problems.push(`${path}: until (${String(item.until)}) is not after from (${String(item.from)}), so the item would never show`);
  }
  if (problems.length > before || (file === undefined && folder === undefined)) return undefined;
  return {
    kind: file !== undefined ? 'file' : 'folder',
    name: (file ?? folder)!,
    seconds: typeof item.seconds === 'number' ? item.seconds : imageSeconds,
    ...bounds,
  };
}

/** One schedule entry; undefined (with its problems pushed) when it is unusable. */
function readEntry(entry: unknown, index: number, path: string, problems: string[]): ScheduleEntry | undefined {
  if (!isObject(entry)) return undefined;
  const before = problems.length;
  const startText = text(entry.start);
  const endText = text(entry.end);
  const start = startText === undefined ? undefined : readTimeOfDay(startText);
  const end = endText === undefined ? undefined : readTimeOfDay(endText, true);
  if (startText !== undefined && start === undefined) problems.push(`${path}.start: "${startText}" is not a time of day HH:MM or HH:MM:SS (00:00 to 23:59:59)`);
  if (endText !== undefined && end === undefined) problems.push(`${path}.end: "${endText}" is not a time of day HH:MM or HH:MM:SS (00:00 to 24:00)`);
  if (start !== undefined && end !== undefined && start === end) {
    problems.push(`${path}: start and end are both ${startText}: an empty or a 24-hour window? Write 00:00 to 24:00 for a whole day`);
  }
  const days: { from?: number; until?: number } = {};
  for (const bound of ['from', 'until'] as const) {
    const written = text(entry[bound]);
    if (written === undefined) continue;
    const day = readDate(written);
    if (day === undefined) problems.push(`${path}.${bound}: "${written}" is not a date YYYY-MM-DD`);
    else days[bound] = day;
  }
  if (days.from !== undefined && days.until !== undefined && days.until < days.from) {
    problems.push(`${path}: until (${String(entry.until)}) is before from (${String(entry.from)}), so the entry would never apply`);
  }
  const playlist = text(entry.playlist);
  if (problems.length > before || start === undefined || end === undefined || playlist === undefined) return undefined;
  const written = Array.isArray(entry.days) ? (entry.days as Weekday[]) : WEEKDAYS;
  return {
    index,
    ...(typeof entry.name === 'string' ? { name: entry.name } : {}),
    playlist,
    days: new Set(written.map((d) => WEEKDAYS.indexOf(d))),
    startMinute: start,
    endMinute: end,
    ...(days.from !== undefined ? { fromDay: days.from } : {}),
    ...(days.until !== undefined ? { untilDay: days.until } : {}),
    priority: typeof entry.priority === 'number' ? entry.priority : 0,
  };
}
