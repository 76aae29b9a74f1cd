/**
 * Playlists and schedules, as written in the config (`…Input`) and as the
 * evaluator uses them once checked (times as minutes, dates as day numbers,
 * validity bounds as instants). Field meanings: ./README.md.
 */

/** Days as written in the config. */
export type Weekday = 'mon' | 'tue' | 'wed' | 'thu' | 'fri' | 'sat' | 'sun';

/** Written names by day of the week as `Date.getUTCDay()` counts: 0 is Sunday. */
export const WEEKDAYS: readonly Weekday[] = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

/** One playlist item in the config: a library file name or a folder of media, never both. */
export interface PlaylistItemInput {
  readonly file?: string;
  readonly folder?: string;
  readonly seconds?: number;
  readonly from?: string;
  readonly until?: string;
}

export interface PlaylistInput {
  readonly items: readonly PlaylistItemInput[];
}

export interface ScheduleEntryInput {
  readonly name?: string;
  readonly playlist: string;
  readonly days?: readonly Weekday[];
  readonly start: string;
  readonly end: string;
  readonly from?: string;
  readonly until?: string;
  readonly priority?: number;
}

export interface ScheduleInput {
  readonly timeZone?: string;
  readonly default: string;
  readonly entries?: readonly ScheduleEntryInput[];
}

/** The two display options this folder reads. */
export interface SignageInput {
  readonly playlists?: Readonly<Record<string, PlaylistInput>>;
  readonly schedule?: ScheduleInput;
}

/** A checked playlist item. `from`/`until` are instants (ms); `until` is exclusive. */
export interface PlaylistItem {
  readonly kind: 'file' | 'folder';
  /** The library file name, or the folder path as written (relative to the config file). */
  readonly name: string;
  /** How long a still stays up (0: until the playlist changes); videos play their own length. */
  readonly seconds: number;
  readonly from?: number;
  readonly until?: number;
}

export interface Playlist {
  readonly name: string;
  readonly items: readonly PlaylistItem[];
}

/** A checked schedule entry: one daily window on some days of the week, within an optional range of days. */
export interface ScheduleEntry {
  /** Its place in the config's list: the earlier entry wins a tie of priorities. */
  readonly index: number;
  readonly name?: string;
  readonly playlist: string;
  /** 0 Sunday … 6 Saturday: the days a window may start on. */
  readonly days: ReadonlySet<number>;
  /** Minutes after midnight (a fraction when seconds are given); `endMinute <= startMinute` means the window ends the next day. */
  readonly startMinute: number;
  readonly endMinute: number;
  /** First and last day (days since 1970-01-01) a window may start on; absent: no limit. */
  readonly fromDay?: number;
  readonly untilDay?: number;
  readonly priority: number;
}

export interface Schedule {
  readonly timeZone: string;
  readonly defaultPlaylist: string;
  readonly entries: readonly ScheduleEntry[];
}

/** Checked playlists and schedule, ready for the evaluator. */
export interface Signage {
  readonly playlists: ReadonlyMap<string, Playlist>;
  readonly schedule: Schedule | undefined;
}
