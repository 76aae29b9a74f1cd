/**
 * The full peer list as encoded `peers` frames, kept between joins. Every
 * joining node gets the whole list; in a join burst the list changes only by
 * new entries at its end, so only the last page is encoded again and a join
 * costs the writes of frames already made. Any other change (a leave, a
 * rename, a node rejoining with another address) drops the pages, and the
 * next join builds them once.
 */
import { encodeMessageJson } from '../wire/frame-codec.js';
import type { WireEntry } from './coordinator-registry.js';

/** Room for the message around the entries: `{"type":"peers","peers":[` ... `],"more":false}`. */
const ENVELOPE_BYTES = 64;

export class PeerListPages {
  private readonly maxMessageBytes: number;
  /** Encoded pages; the last one is still open for entries (`more:false`). Undefined when stale. */
  private pages: Buffer[] | undefined;
  private openEntries: string[] = [];
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
    if (this.openEntries.length > 0 && this.openBytes + entry.bytes + 1 > budget) {
      this.pages!.push(this.encode(true));
      this.openEntries = [];
      this.openBytes = 0;
    }
    this.openEntries.push(entry.json);
    this.openBytes += entry.bytes + 1;
  }

  private encode(more: boolean): Buffer {
    return encodeMessageJson(`{"type":"peers","peers":[${this.openEntries.join(',')}],"more":${more}}`, this.maxMessageBytes, 'peers');
  }
}
