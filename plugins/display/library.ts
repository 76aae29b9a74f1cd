/**
 * Reads the kept library folder for the `loop` policy: every file a previous
 * run kept, oldest first, checked again with the media rules the user
 * configured (the folder may have been touched by hand since, and a limit
 * tightened since a file arrived must hold for it too).
 *
 * The screen need not wait for the whole folder: `LibraryScan` hands over
 * each file as soon as it passes, in play order, so the first picture shows
 * after one check and the rest join the cycle behind it.
 */
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { MediaInfo } from '../../core/types.js';
import type { ScreenItem } from './screen-controller.js';

/** Checks one file already on this node: the host's `validateMedia`. */
export type CheckMedia = (path: string) => Promise<MediaInfo>;

/** Names the core uses while a file is still arriving, or that the user hid. */
function isTemporaryName(name: string): boolean {
  return name.startsWith('.') || name.endsWith('.part') || name.endsWith('.tmp');
}

/** The regular files of `dir` that may be library items, oldest first (by mtime, then name). Not checked yet. */
export async function listLibrary(dir: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  const found: { path: string; mtime: number }[] = [];
  for (const name of names.filter((n) => !isTemporaryName(n)).sort()) {
    const path = join(dir, name);
    const st = await stat(path).catch(() => undefined);
    if (st?.isFile()) found.push({ path, mtime: st.mtimeMs });
  }
  // A stable sort: equal mtimes keep the order of their names.
  return found.sort((a, b) => a.mtime - b.mtime).map((f) => f.path);
}

/** How far a scan has come, for status. */
export interface ScanProgress {
  readonly total: number;
  readonly checked: number;
  readonly skipped: number;
  readonly done: boolean;
}

/**
 * Checks the files of a library one by one, in play order. Files that fail the
 * check are skipped and logged, never shown.
 */
export class LibraryScan {
  readonly #files: readonly string[];
  readonly #check: CheckMedia;
  readonly #log: Logger;
  /** Index of the next file to start checking. */
  #next = 0;
  /** Files whose check is over. */
  #checked = 0;
  #skipped = 0;
  #stopped = false;

  constructor(files: readonly string[], check: CheckMedia, log: Logger) {
    this.#files = files;
    this.#check = check;
    this.#log = log;
  }

  get progress(): ScanProgress {
    return { total: this.#files.length, checked: Math.min(this.#checked, this.#files.length), skipped: this.#skipped, done: this.#stopped || this.#checked >= this.#files.length };
  }

  /** The next file that passes, or undefined once none is left (or the scan was stopped). */
  async nextItem(): Promise<ScreenItem | undefined> {
    while (!this.#stopped && this.#next < this.#files.length) {
      const item = await this.#checkAt(this.#next++);
      if (item) return item;
    }
    return undefined;
  }

  /**
   * Checks what is left, `parallel` files at a time (ffprobe runs are mostly
   * waiting on a process start), handing each passing item to `add` in play
   * order, until done or stopped.
   */
  async rest(add: (item: ScreenItem) => void, parallel = 1): Promise<void> {
    const ahead: Promise<ScreenItem | undefined>[] = [];
    const fill = () => {
      while (ahead.length < parallel && !this.#stopped && this.#next < this.#files.length) ahead.push(this.#checkAt(this.#next++));
    };
    fill();
    while (ahead.length > 0) {
      const item = await ahead.shift()!;
      if (item && !this.#stopped) add(item);
      fill();
    }
  }

  async #checkAt(index: number): Promise<ScreenItem | undefined> {
    const path = this.#files[index]!;
    try {
      return { path, media: await this.#check(path) };
    } catch (err) {
      this.#skipped++;
      this.#log.warn({ path, reason: (err as Error).message }, 'library file skipped');
      return undefined;
    } finally {
      this.#checked++;
    }
  }

  /** No further file is checked (one under way finishes but is not handed over). */
  stop(): void {
    this.#stopped = true;
  }
}

/** Lists and checks the whole library at once, oldest first. */
export async function scanLibrary(dir: string, check: CheckMedia, log: Logger): Promise<ScreenItem[]> {
  const scan = new LibraryScan(await listLibrary(dir), check, log);
  const items: ScreenItem[] = [];
  await scan.rest((item) => items.push(item));
  return items;
}
