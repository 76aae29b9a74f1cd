/**
 * A timeline is anything whose value is a function of the time and that can
 * say when it next changes; the scheduler runs any of them. Two are defined
 * here: the schedule's active playlist, and what a screen should play (that
 * playlist's items valid now), which also changes when a campaign starts or
 * ends inside the current playlist.
 */
import { activeAt, nextChangeAfter, type Active } from './evaluate.js';
import type { Playlist, PlaylistItem, Schedule, Signage } from './types.js';
import { validItems } from './validity.js';

export interface Timeline<T> {
  /** The value at `instant`. */
  at(instant: number): T;
  /** The first instant after `instant` at which `at` gives a different value (by `same`), or undefined for never. */
  nextChangeAfter(instant: number): number | undefined;
  /** Whether two values are the same for whoever is told of changes. */
  same(a: T, b: T): boolean;
}

/** The schedule's active playlist; a new entry choosing the same playlist is no change. */
export function playlistTimeline(schedule: Schedule): Timeline<Active> {
  return {
    at: (instant) => activeAt(schedule, instant),
    nextChangeAfter: (instant) => nextChangeAfter(schedule, instant),
    same: (a, b) => a.playlist === b.playlist,
  };
}

/** What a screen plays: the active playlist and those of its items valid now. */
export interface Programme {
  readonly playlist: string;
  readonly entry: Active['entry'];
  readonly items: readonly PlaylistItem[];
}

const EMPTY: Playlist = { name: '', items: [] };

/** The active playlist with its valid items; needs the schedule (parseSignage refuses none when asked for this). */
export function programmeTimeline(signage: Signage & { readonly schedule: Schedule }): Timeline<Programme> {
  const { schedule, playlists } = signage;
  const playlistOf = (name: string) => playlists.get(name) ?? EMPTY;
  return {
    at(instant) {
      const active = activeAt(schedule, instant);
      return { playlist: active.playlist, entry: active.entry, items: validItems(playlistOf(active.playlist), instant).items };
    },
    nextChangeAfter(instant) {
      const switchAt = nextChangeAfter(schedule, instant);
      // Item bounds of the playlist playing now; the next playlist's are looked at once it plays.
      const itemsAt = validItems(playlistOf(activeAt(schedule, instant).playlist), instant).nextChange;
      if (switchAt === undefined) return itemsAt;
      return itemsAt === undefined ? switchAt : Math.min(switchAt, itemsAt);
    },
    same: (a, b) => a.playlist === b.playlist && a.items.length === b.items.length && a.items.every((item, i) => item === b.items[i]),
  };
}
