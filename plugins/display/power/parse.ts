/**
 * The `power` display option: the hours a screen is on. Outside them the
 * display is put to sleep (DPMS). Checked like the schedule: the JSON schema
 * for shape, then times and the zone here, every problem listed at once with
 * its key path, and the whole option refused if any is wrong.
 *
 * The hours become a two-playlist schedule (`on` inside a window, `off` by
 * default) so the schedule engine's evaluator, DST rule and scheduler run it:
 * there is one implementation of "which window are we in, and when does that
 * change".
 */
import { NvidError } from '../../../core/errors.js';
import { validateAgainst } from '../../../core/schema.js';
import { readTimeOfDay } from '../schedule/clock-text.js';
import { WEEKDAYS, type Schedule, type ScheduleEntry, type Weekday } from '../schedule/types.js';
import { isKnownTimeZone, systemTimeZone } from '../schedule/zoned-time.js';

/** The power state of the screen: on, or asleep (DPMS off). */
export type PowerState = 'on' | 'off';

/** One window of on-hours as written in the config. */
export interface PowerHoursInput {
  readonly on: string;
  readonly off: string;
  readonly days?: readonly Weekday[];
}

/** The `power` option as written in the config. */
export interface PowerInput {
  readonly hours: readonly PowerHoursInput[];
  readonly timeZone?: string;
  readonly wakeOnPushSeconds?: number;
}

/** The checked option. */
export interface PowerPlan {
  /** The on-hours as a schedule whose playlists are the power states (`on` in a window, `off` outside). */
  readonly schedule: Schedule;
  /** 0: a pushed item plays while the screen sleeps; N: a push wakes a sleeping screen for N seconds. */
  readonly wakeOnPushSeconds: number;
}

const WEEKDAY_NAMES = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];

/** JSON schema of `power` (shape only; times and the zone are read by parsePower). */
export const POWER_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['hours'],
  description: 'the hours the screen is on; outside them the display sleeps (DPMS)',
  properties: {
    hours: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['on', 'off'],
        properties: {
          on: { type: 'string', description: 'HH:MM, the screen wakes' },
          off: { type: 'string', description: 'HH:MM or 24:00, the screen sleeps; at or before on: the next day' },
          days: { type: 'array', minItems: 1, uniqueItems: true, items: { type: 'string', enum: WEEKDAY_NAMES }, description: 'the days a window starts on; default: every day' },
        },
      },
    },
    timeZone: { type: 'string', minLength: 1, description: "IANA zone such as Europe/Berlin; default: the node's own" },
    wakeOnPushSeconds: { type: 'integer', minimum: 0, default: 0, description: '0: a pushed item plays while the screen sleeps; N: a push wakes it for N seconds' },
  },
} as const;

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const text = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/**
 * Checks the `power` option and returns it ready to run. Throws
 * NVID_ERR_POWER_INVALID listing every problem (`details.problems`), each
 * with its key path under `prefix` (e.g. `display.options.power`).
 */
export function parsePower(input: unknown, options: { prefix?: string; defaultTimeZone?: string } = {}): PowerPlan {
  const prefix = options.prefix ?? 'power';
  const at = (path: string) => (path ? `${prefix}.${path}` : prefix);
  // The schema checker fills in defaults in place; options handed to a plugin are frozen.
  const data = structuredClone(input ?? {});
  const problems = validateAgainst(POWER_SCHEMA, data, prefix);
  const raw = isObject(data) ? data : {};

  const zoneText = text(raw.timeZone);
  let timeZone = zoneText ?? options.defaultTimeZone ?? systemTimeZone();
  if (!isKnownTimeZone(timeZone)) {
    if (zoneText !== '') problems.push(`${at('timeZone')}: unknown time zone "${timeZone}" (an IANA name such as Europe/Berlin)`);
    timeZone = 'UTC'; // only so the rest can still be checked and reported
  }

  const entries: ScheduleEntry[] = [];
  (Array.isArray(raw.hours) ? raw.hours : []).forEach((hours, index) => {
    const entry = readHours(hours, index, at(`hours[${index}]`), problems);
    if (entry) entries.push(entry);
  });

  if (problems.length > 0) {
    throw new NvidError('NVID_ERR_POWER_INVALID', `${prefix}: ${problems.length} problem${problems.length > 1 ? 's' : ''} in the screen power hours:\n  ${problems.join('\n  ')}`, { details: { problems } });
  }
  return {
    schedule: { timeZone, defaultPlaylist: 'off', entries },
    wakeOnPushSeconds: typeof raw.wakeOnPushSeconds === 'number' ? raw.wakeOnPushSeconds : 0,
  };
}

/** One window of on-hours as a schedule entry; undefined (with its problems pushed) when unusable. */
function readHours(hours: unknown, index: number, path: string, problems: string[]): ScheduleEntry | undefined {
  if (!isObject(hours)) return undefined; // the schema said so already
  const before = problems.length;
  const onText = text(hours.on);
  const offText = text(hours.off);
  const on = onText === undefined ? undefined : readTimeOfDay(onText);
  const off = offText === undefined ? undefined : readTimeOfDay(offText, true);
  if (onText !== undefined && on === undefined) problems.push(`${path}.on: "${onText}" is not a time of day HH:MM (00:00 to 23:59)`);
  if (offText !== undefined && off === undefined) problems.push(`${path}.off: "${offText}" is not a time of day HH:MM (00:00 to 24:00)`);
  if (on !== undefined && off !== undefined && on === off) {
    problems.push(`${path}: on and off are both ${onText}: never on, or always? Write 00:00 to 24:00 for a whole day`);
  }
  if (problems.length > before || on === undefined || off === undefined) return undefined;
  const days = Array.isArray(hours.days) ? (hours.days as Weekday[]) : WEEKDAYS;
  // Overlapping windows all say "on", so priorities do not matter: the screen is on in any of them.
  return { index, name: `hours[${index}]`, playlist: 'on', days: new Set(days.map((d) => WEEKDAYS.indexOf(d))), startMinute: on, endMinute: off, priority: 0 };
}
