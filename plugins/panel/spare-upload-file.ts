/**
 * One spent upload's file, kept for the next upload to write over (as
 * PostgreSQL recycles its WAL segments) instead of filling a new file.
 *
 * Why: a new file takes fresh pages for the page cache, and on a virtual
 * machine whose memory the host hands back and forth (free page reporting, as
 * with Firecracker) every fresh page is a fault in the host. Writing 1 GiB
 * into a new file took 1.3-2.2 CPU-s here; over a file already in the cache,
 * 0.12-0.16 (dd). Through the panel, the sending node's system time per 1 GiB
 * upload fell from 1.8-1.9 CPU-s to 1.3 (bench/panel-upload.ts).
 *
 * Kept only while the disk has room to spare for it beyond what the node
 * keeps free, and only for `idleMs`: after that its pages are likely gone
 * from the cache and it is just disk taken. The larger file stays when
 * another is sent, and only an upload of at least half its size takes it: a
 * photo sent between two videos must not cut the spare down to its own size
 * and leave the next video to fresh pages (small files cost little anyway).
 */
import { mkdir, rename, rm, stat, truncate } from 'node:fs/promises';
import { dirname } from 'node:path';
import { freeBytes } from '../../core/disk-space.js';

/** How long a spare waits for the next upload before it is removed. */
export const SPARE_IDLE_MS = 10 * 60_000;

export class SpareUploadFile {
  readonly #path: string;
  readonly #keepFree: number;
  readonly #idleMs: number;
  /** Bytes of the spare there is now, 0 while there is none (or it is being replaced). */
  #bytes = 0;
  #timer: NodeJS.Timeout | undefined;
  /**
   * Every change to the file under the spare's name, in turn: a taken spare
   * leaves it before another is put there, so a taker never gets a file of
   * another size than it counted on.
   */
  #turn: Promise<unknown> = Promise.resolve();

  /**
   * @param path where the spare lives (inside the uploads folder, under a name no upload gets)
   * @param keepFree bytes of the disk the node keeps free (minFreeDiskBytes): a spare never eats into them
   */
  constructor(path: string, keepFree: number, idleMs = SPARE_IDLE_MS) {
    this.#path = path;
    this.#keepFree = keepFree;
    this.#idleMs = idleMs;
  }

  /** Bytes the spare holds, 0 when there is none. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Bytes an upload of `size` bytes would find on disk already by taking the spare: 0 when it would not take it. */
  reusableFor(size: number): number {
    return size * 2 >= this.#bytes ? this.#bytes : 0;
  }

  /**
   * Keeps the file at `path` as the spare, in place of a smaller one, or
   * removes it: when the spare is larger, or the disk too full to keep it (as
   * much room again as it takes must stay free beyond what the node keeps free).
   */
  keep(path: string): Promise<void> {
    return this.#inTurn(async () => {
      const { size } = await stat(path);
      if (this.#bytes >= size) return void (await rm(path, { force: true }));
      const older = this.#bytes > 0;
      this.#forget();
      if (older) await rm(this.#path, { force: true });
      if (size === 0 || freeBytes(dirname(this.#path)) < this.#keepFree + size) return void (await rm(path, { force: true }));
      await rename(path, this.#path);
      this.#bytes = size;
      // Removed quietly if that fails: the uploads folder goes whole when the panel stops or starts.
      this.#timer = setTimeout(() => void this.drop().catch(() => undefined), this.#idleMs);
      this.#timer.unref();
    });
  }

  /**
   * Moves the spare to `path` (making its folder), cut to at most `keep`
   * bytes: only for an upload it is `reusableFor`, asked in the same turn of
   * the event loop. It is taken at once, so no other upload can take it too;
   * one that does not get there is removed, and the failure is the taker's.
   */
  takeInto(path: string, keep: number): Promise<void> {
    const bytes = this.#bytes;
    this.#forget();
    return this.#inTurn(async () => {
      try {
        await mkdir(dirname(path), { mode: 0o700 });
        await rename(this.#path, path);
      } catch (err) {
        await rm(this.#path, { force: true });
        throw err;
      }
      if (keep < bytes) await truncate(path, keep);
    });
  }

  /** Removes the spare (the panel stops, or it waited too long). */
  drop(): Promise<void> {
    return this.#inTurn(async () => {
      if (this.#bytes === 0) return;
      this.#forget();
      await rm(this.#path, { force: true });
    });
  }

  #inTurn(change: () => Promise<void>): Promise<void> {
    const turn = this.#turn.then(change);
    this.#turn = turn.catch(() => undefined);
    return turn;
  }

  #forget(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#bytes = 0;
  }
}
