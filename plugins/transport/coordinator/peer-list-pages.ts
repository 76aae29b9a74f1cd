/**
 * The full peer list as encoded `peers` frames, kept between joins. Every
 * joining node gets the whole list; in a join burst the list changes only by
 * new entries at its end, so only the last page is encoded again and a join
 * costs the writes of frames already made. Any other change (a leave, a
 * rename, a node rejoining with another address) drops the pages, and the
 * next join builds them once.
 */
import { LIST_MESSAGE, encodeListFrame } from '../wire/frame-codec.js';
import type { WireEntry } from './coordinator-registry.js';

/** Room for the list frame's first byte (which message it is). */
const ENVELOPE_BYTES = 1;

export class PeerListPages {
  private readonly maxMessageBytes: number;
  /** Encoded pages; the last one is still open for entries (`more:false`). Undefined when stale. */
  private pages: Buffer[] | undefined;
  private openEntries: WireEntry[] = [];
  private openBytes = 0;
  /** IDs on the pages: a join whose directory answered after the pages were rebuilt is on them already. */
  private readonly ids = new Set<string>();

  constructor(maxMessageBytes: number) {
    this.maxMessageBytes = maxMessageBytes;
  }

  /** The list's frames, building them from `entries` (in list order) when stale. */
  frames(entries: () => Iterable<readonly [string, WireEntry]>): readonly Buffer[] {
    if (!this.pages) {
      this.pages = [];
      this.openEntries = [];
      this.openBytes = 0;
      this.ids.clear();
      for (const [id, entry] of entries()) this.add(id, entry);
      this.pages.push(this.encode(false));
    }
    return this.pages;
  }

  /** An entry added at the end of the list. */
  appended(id: string, entry: WireEntry): void {
    if (!this.pages || this.ids.has(id)) return;
    this.pages.pop();
    this.add(id, entry);
    this.pages.push(this.encode(false));
  }

  /** Anything else changed: build again on the next join. */
  invalidate(): void {
    this.pages = undefined;
    this.openEntries = [];
    this.openBytes = 0;
    this.ids.clear();
  }

  /** Puts `entry` on the open page, closing that page first (`more:true`) when the entry does not fit. */
  private add(id: string, entry: WireEntry): void {
    this.ids.add(id);
    const budget = this.maxMessageBytes - ENVELOPE_BYTES;
    if (this.openEntries.length > 0 && this.openBytes + entry.length > budget) {
      this.pages!.push(this.encode(true));
      this.openEntries = [];
      this.openBytes = 0;
    }
    this.openEntries.push(entry);
    this.openBytes += entry.length;
  }

  private encode(more: boolean): Buffer {
    return encodeListFrame(more ? LIST_MESSAGE.page : LIST_MESSAGE.lastPage, this.openEntries, this.maxMessageBytes);
  }
}
