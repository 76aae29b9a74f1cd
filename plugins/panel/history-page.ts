/**
 * One page of the history, newest first. The log is append-only, so an
 * entry's position in it never changes: the cursor is that position, and
 * `before=<cursor>` continues below the last page however much was appended
 * since.
 */
import type { HistoryEntry } from '../../core/types.js';

export interface HistoryQuery {
  readonly kind?: string;
  /** Values any of which an entry's `to`, `from` or `id` field (or its name beside them) must equal. */
  readonly peer?: readonly string[];
  readonly before?: string;
  readonly limit: number;
}

export interface HistoryPage {
  readonly entries: HistoryEntry[];
  readonly next: string | null;
}

const PEER_FIELDS = ['to', 'from', 'id', 'toName', 'fromName', 'name'] as const;

function matchesPeer(entry: HistoryEntry, values: readonly string[]): boolean {
  return PEER_FIELDS.some((field) => typeof entry[field] === 'string' && values.includes(entry[field] as string));
}

/** @param all the whole log, oldest first (as HistoryLog.read gives it) */
export function historyPage(all: readonly HistoryEntry[], query: HistoryQuery): HistoryPage {
  const entries: HistoryEntry[] = [];
  let index = Math.min(query.before === undefined ? all.length : Number(query.before), all.length) - 1;
  for (; index >= 0 && entries.length < query.limit; index--) {
    const entry = all[index]!;
    if (query.kind && entry.kind !== query.kind) continue;
    if (query.peer && !matchesPeer(entry, query.peer)) continue;
    entries.push(entry);
  }
  // `index + 1` is the position of the oldest entry looked at: the next page starts below it.
  return { entries, next: index >= 0 ? String(index + 1) : null };
}
