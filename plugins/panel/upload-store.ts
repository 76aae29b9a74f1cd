/**
 * Uploads, streamed to `<stateDir>/panel/uploads/<random id>/<safe name>`:
 * never held in memory, never written where the client's name points, cut off
 * as soon as they pass the node's `maxReceiveBytes`, refused before their
 * first byte when the disk cannot hold them (next to the uploads still coming
 * in, and the node's `minFreeDiskBytes`), and removed whole (folder and all)
 * once sent or on any failure. A sent upload's file is kept a while as the
 * spare the next upload writes over (spare-upload-file.ts).
 */
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, open, rm, truncate } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { assertRoomFor } from '../../core/disk-space.js';
import { NvidError } from '../../core/errors.js';
import type { MediaKind } from '../../core/types.js';
import { safeUploadName } from './safe-name.js';
import { SPARE_IDLE_MS, SpareUploadFile } from './spare-upload-file.js';
import { UploadArrival } from './upload-arrival.js';

export interface Upload {
  readonly id: string;
  readonly name: string;
  readonly size: number;
  readonly path: string;
  /** For an announced upload: its bytes as they land, so sends can start before the last one. */
  readonly arrival?: UploadArrival;
}

/** How long an announced upload waits for its first byte before it is given up. */
export const ANNOUNCED_START_TIMEOUT_MS = 60_000;

/** Big writes: an upload is one long sequential file, and fewer syscalls keep up with loopback speed. */
const WRITE_CHUNK = 1024 * 1024;

/** Passes bytes through and fails the pipeline at the first byte over `limit`. */
function byteLimit(limit: number, counted: { bytes: number }): Transform {
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      counted.bytes += chunk.length;
      if (counted.bytes > limit) done(new NvidError('NVID_ERR_PANEL_TOO_LARGE', `the upload is larger than this node's maxReceiveBytes (${limit} bytes)`, { details: { limit } }));
      else done(null, chunk);
    },
  });
}

export class UploadStore {
  readonly dir: string;
  readonly #limit: number;
  readonly #keepFree: number;
  readonly #uploads = new Map<string, Upload>();
  /** Announced uploads whose bytes are coming in now. */
  readonly #filling = new Set<string>();
  /** Room taken by uploads not (or not yet) counted through `#uploads`: what each will still write. */
  readonly #reserved = new Map<string, () => number>();
  /**
   * Announced uploads' start timeouts, cleared with their first byte: left to
   * run out, each held its upload and the bytes kept for its send for a minute
   * (looking the upload up by id when it fired instead did not stop the heap
   * from growing with each send: measured).
   */
  readonly #startTimers = new Map<string, NodeJS.Timeout>();
  /** Announced uploads written over a spare: bytes their file held before the first byte came. */
  readonly #respared = new Map<string, number>();
  readonly #spare: SpareUploadFile;

  /**
   * @param limit the most bytes one upload may have (the node's maxReceiveBytes)
   * @param keepFree bytes of the disk no upload may take (the node's minFreeDiskBytes)
   * @param spareIdleMs how long a sent upload's file waits to be written over by the next upload
   */
  constructor(dir: string, limit: number, keepFree = 0, spareIdleMs = SPARE_IDLE_MS) {
    this.dir = dir;
    this.#limit = limit;
    this.#keepFree = keepFree;
    // Named as no upload's folder is (those are 32 hex digits).
    this.#spare = new SpareUploadFile(join(dir, 'spare'), keepFree, spareIdleMs);
  }

  get limit(): number {
    return this.#limit;
  }

  /** Removes what earlier runs left (their ids are gone with their memory) and makes the folder. */
  async open(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true });
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
  }

  /** Bytes the uploads coming in now will still write: the disk must keep room for them too. */
  #owed(): number {
    let owed = 0;
    for (const upload of this.#uploads.values()) {
      if (upload.arrival && !upload.arrival.whole && !upload.arrival.failed) owed += Math.max(0, upload.size - Math.max(upload.arrival.written(), this.#respared.get(upload.id) ?? 0));
    }
    for (const left of this.#reserved.values()) owed += left();
    return owed;
  }

  /**
   * Refuses an upload of `size` bytes the disk cannot hold: better before its first byte than
   * with the disk full half-way, when the client has sent for nothing and the node cannot write.
   * @throws NvidError NVID_ERR_NO_SPACE
   */
  #assertRoomFor(size: number): void {
    assertRoomFor(this.dir, size, this.#owed(), this.#keepFree, 'panel uploads');
  }

  /**
   * Streams one file in. On any failure (too large, client gone, disk full) the upload's folder is removed.
   * @param declared the bytes the client said are coming (its Content-Length), when it said:
   *   refused before the first byte if the disk has no room for them
   * @throws NvidError NVID_ERR_PANEL_UPLOAD (name), NVID_ERR_PANEL_TOO_LARGE, NVID_ERR_NO_SPACE
   */
  async receive(clientName: string, body: Readable, declared?: number): Promise<Upload> {
    const name = safeUploadName(clientName);
    // Without a size said, the spare is not taken: a small upload would cut it down for nothing.
    const reusable = declared === undefined ? 0 : this.#spare.reusableFor(declared);
    if (declared !== undefined) this.#assertRoomFor(Math.max(0, declared - reusable));
    const id = randomBytes(16).toString('hex');
    const folder = join(this.dir, id);
    const path = join(folder, name);
    const counted = { bytes: 0 };
    // Until it is whole: what the client said is coming and has not come yet, and is not on disk already.
    this.#reserved.set(id, () => Math.max(0, (declared ?? 0) - Math.max(counted.bytes, reusable)));
    try {
      await this.#makeFile(path, reusable > 0, declared ?? 0);
      await pipeline(body, byteLimit(this.#limit, counted), createWriteStream(path, { flags: 'r+', highWaterMark: WRITE_CHUNK }));
      // A spare longer than this upload keeps bytes of an older one past its end.
      if (reusable > 0) await truncate(path, counted.bytes);
    } catch (err) {
      await rm(folder, { recursive: true, force: true });
      throw err;
    } finally {
      this.#reserved.delete(id);
    }
    const upload = { id, name, size: counted.bytes, path };
    this.#uploads.set(id, upload);
    return upload;
  }

  /**
   * Makes room for an upload whose bytes come later (`fill`), so sends can be
   * asked for at once and start with its first byte. Unfilled after
   * `startTimeoutMs`, it is given up and removed.
   * @throws NvidError NVID_ERR_PANEL_UPLOAD (name), NVID_ERR_PANEL_TOO_LARGE, NVID_ERR_NO_SPACE
   */
  async announce(clientName: string, size: number, kind: MediaKind, startTimeoutMs = ANNOUNCED_START_TIMEOUT_MS): Promise<Upload> {
    const name = safeUploadName(clientName);
    if (size > this.#limit) throw new NvidError('NVID_ERR_PANEL_TOO_LARGE', `the upload is larger than this node's maxReceiveBytes (${this.#limit} bytes)`, { details: { limit: this.#limit } });
    const reusable = this.#spare.reusableFor(size);
    this.#assertRoomFor(Math.max(0, size - reusable));
    const id = randomBytes(16).toString('hex');
    const folder = join(this.dir, id);
    const path = join(folder, name);
    const respared = Math.min(size, reusable);
    // Held from the check on, so that two announces at once cannot both count the same free space.
    this.#reserved.set(id, () => size - respared);
    try {
      // Made now: a send opens it as soon as it is asked for.
      await this.#makeFile(path, reusable > 0, size);
      if (respared > 0) this.#respared.set(id, respared);
    } catch (err) {
      await rm(folder, { recursive: true, force: true });
      throw err;
    } finally {
      this.#reserved.delete(id);
    }
    const arrival = new UploadArrival(size, kind);
    const upload: Upload = { id, name, size, path, arrival };
    this.#uploads.set(id, upload);
    const timer = setTimeout(() => {
      this.#startTimers.delete(id);
      if (this.#filling.has(id) || arrival.whole) return;
      this.#giveUp(upload, new NvidError('NVID_ERR_PANEL_UPLOAD', `no bytes came for the upload of ${name} within ${Math.round(startTimeoutMs / 1000)} s`));
    }, startTimeoutMs);
    timer.unref();
    this.#startTimers.set(id, timer);
    return upload;
  }

  /**
   * Streams the bytes of an announced upload in: exactly the announced size, or
   * it fails (and every send waiting on it hears why), and is removed.
   * @throws NvidError NVID_ERR_PANEL_NOT_FOUND, NVID_ERR_PANEL_UPLOAD (already filled, too many or too few bytes)
   */
  async fill(id: string, body: Readable): Promise<Upload> {
    const upload = this.#uploads.get(id);
    if (!upload) throw new NvidError('NVID_ERR_PANEL_NOT_FOUND', `no upload ${id}`);
    const { arrival } = upload;
    if (!arrival || arrival.whole || this.#filling.has(id)) throw new NvidError('NVID_ERR_PANEL_UPLOAD', `upload ${id} already has its bytes`);
    this.#filling.add(id);
    this.#stopStartTimer(id);
    let handle;
    try {
      handle = await open(upload.path, 'r+');
      await pipeline(body, arrival.writer(handle));
      if (!arrival.whole) throw new NvidError('NVID_ERR_PANEL_UPLOAD', `the upload of ${upload.name} ended after ${arrival.written()} of its ${upload.size} bytes`);
      return upload;
    } catch (err) {
      // The sends waiting on it tell their users this, so say it in their terms.
      const failure =
        err instanceof NvidError ? err : new NvidError('NVID_ERR_PANEL_UPLOAD', `the upload of ${upload.name} broke off after ${arrival.written()} of its ${upload.size} bytes (${(err as Error).message})`, { cause: err });
      this.#giveUp(upload, failure);
      throw failure;
    } finally {
      await handle?.close();
      this.#filling.delete(id);
    }
  }

  /** Gives up an announced upload that is not being filled (its sends hear `err`); false when there is none. */
  abandon(id: string, err: Error): boolean {
    const upload = this.#uploads.get(id);
    if (!upload?.arrival || upload.arrival.whole || this.#filling.has(id)) return false;
    this.#giveUp(upload, err);
    return true;
  }

  /** An announced upload that will never be whole: its sends hear why, and it goes. */
  #giveUp(upload: Upload, err: Error): void {
    upload.arrival?.fail(err);
    this.#forget(upload.id);
    void rm(join(this.dir, upload.id), { recursive: true, force: true });
  }

  /**
   * Makes an upload's folder and its file: the spare (when `fromSpare`, taken
   * in the same turn as the room check that counted it) cut to at most `size`
   * bytes, or a new empty file.
   */
  async #makeFile(path: string, fromSpare: boolean, size: number): Promise<void> {
    if (fromSpare) return this.#spare.takeInto(path, size);
    await mkdir(dirname(path), { mode: 0o700 });
    await (await open(path, 'wx', 0o600)).close();
  }

  get(id: string): Upload | undefined {
    return this.#uploads.get(id);
  }

  /** Removes an upload's folder (a person deleted it: no spare is made of it); false when there was no such upload. */
  async remove(id: string): Promise<boolean> {
    const upload = this.#uploads.get(id);
    if (!upload) return false;
    this.#forget(id);
    await rm(join(this.dir, id), { recursive: true, force: true });
    return true;
  }

  /** An upload no send needs any more: it goes, and its file is kept as the spare the next upload writes over. */
  async retire(id: string): Promise<void> {
    const upload = this.#uploads.get(id);
    if (!upload) return;
    // Only a file nothing writes to any more: one still being filled would go on into the next upload's.
    const settled = !upload.arrival || (upload.arrival.whole && !this.#filling.has(id));
    this.#forget(id);
    try {
      if (settled) await this.#spare.keep(upload.path);
    } finally {
      await rm(join(this.dir, id), { recursive: true, force: true });
    }
  }

  #stopStartTimer(id: string): void {
    clearTimeout(this.#startTimers.get(id));
    this.#startTimers.delete(id);
  }

  #forget(id: string): void {
    this.#stopStartTimer(id);
    this.#uploads.get(id)?.arrival?.release();
    this.#uploads.delete(id);
    this.#respared.delete(id);
  }

  async close(): Promise<void> {
    for (const id of this.#startTimers.keys()) this.#stopStartTimer(id);
    this.#uploads.clear();
    this.#respared.clear();
    await this.#spare.drop();
    await rm(this.dir, { recursive: true, force: true });
  }
}
