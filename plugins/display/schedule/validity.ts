/**
 * Playlist items with a validity period (`from`/`until`): a campaign that
 * ends on a date drops out of its playlist at that instant, and one that has
 * not begun is not shown yet. Bounds are instants already (./clock-text.ts
 * says how dates and date-times become them); `until` is exclusive.
 */
import type { Playlist, PlaylistItem } from './types.js';

/** Whether `item` is valid at `instant`. */
export function isValidAt(item: PlaylistItem, instant: number): boolean {
  return (item.from === undefined || item.from <= instant) && (item.until === undefined || instant < item.until);
}

/** The items of `playlist` valid at `instant`, in playlist order, and the next instant that set changes (undefined: never). */
export function validItems(playlist: Playlist, instant: number): { items: PlaylistItem[]; nextChange: number | undefined } {
  let nextChange: number | undefined;
  for (const item of playlist.items) {
    for (const bound of [item.from, item.until]) {
      if (bound !== undefined && bound > instant && (nextChange === undefined || bound < nextChange)) nextChange = bound;
    }
  }
  return { items: playlist.items.filter((item) => isValidAt(item, instant)), nextChange };
}
