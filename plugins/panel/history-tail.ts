/**
 * Follows the history file from where it stood when the panel started, so
 * every entry the core appends can go to the page as it was written (fields
 * and all), without the panel rebuilding entries from event payloads.
 */
import { open, stat } from 'node:fs/promises';
import type { HistoryEntry } from '../../core/types.js';

export class HistoryTail {
  readonly #file: string;
  #offset = 0;
  #partial = '';
  #reading: Promise<HistoryEntry[]> | undefined;
  #again = false;

  constructor(file: string) {
    this.#file = file;
  }

  /** Starts at the current end: what was there before is history the page pages through. */
  async open(): Promise<void> {
    this.#offset = await stat(this.#file).then((s) => s.size, () => 0);
  }

  /** The entries appended since the last call (reads overlapping calls only once). */
  async readNew(): Promise<HistoryEntry[]> {
    if (this.#reading) {
      this.#again = true;
      return [];
    }
    const found: HistoryEntry[] = [];
    do {
      this.#again = false;
      this.#reading = this.#readOnce();
      try {
        found.push(...(await this.#reading));
      } finally {
        this.#reading = undefined;
      }
    } while (this.#again);
    return found;
  }

  async #readOnce(): Promise<HistoryEntry[]> {
    const handle = await open(this.#file, 'r').catch(() => undefined);
    if (!handle) return [];
    try {
      const { size } = await handle.stat();
      if (size < this.#offset) this.#offset = 0;
      if (size === this.#offset) return [];
      const buffer = Buffer.alloc(size - this.#offset);
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, this.#offset);
      this.#offset += bytesRead;
      const text = this.#partial + buffer.subarray(0, bytesRead).toString('utf8');
      const lines = text.split('\n');
      // A line still being written waits for the next read.
      this.#partial = lines.pop() ?? '';
      const entries: HistoryEntry[] = [];
      for (const line of lines) {
        try {
          if (line.trim()) entries.push(JSON.parse(line) as HistoryEntry);
        } catch {
          // A torn line (after a crash) is skipped, as the core's reader does.
        }
      }
      return entries;
    } finally {
      await handle.close();
    }
  }
}
