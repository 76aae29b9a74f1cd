/**
 * Uploads, streamed to `<stateDir>/panel/uploads/<random id>/<safe name>`:
 * never held in memory, never written where the client's name points, cut off
 * as soon as they pass the node's `maxReceiveBytes`, and removed whole (folder
 * and all) once sent or on any failure.
 */
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, open, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { NvidError } from '../../core/errors.js';
import type { MediaKind } from '../../core/types.js';
import { safeUploadName } from './safe-name.js';
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
  readonly #uploads = new Map<string, Upload>();
  /** Announced uploads whose bytes are coming in now. */
  readonly #filling = new Set<string>();

  /** @param limit the most bytes one upload may have (the node's maxReceiveBytes) */
  constructor(dir: string, limit: number) {
    this.dir = dir;
    this.#limit = limit;
  }

  get limit(): number {
    return this.#limit;
  }

  /** Removes what earlier runs left (their ids are gone with their memory) and makes the folder. */
  async open(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true });
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
  }

  /**
   * Streams one file in. On any failure (too large, client gone, disk full) the upload's folder is removed.
   * @throws NvidError NVID_ERR_PANEL_UPLOAD (name), NVID_ERR_PANEL_TOO_LARGE
   */
  async receive(clientName: string, body: Readable): Promise<Upload> {
    const name = safeUploadName(clientName);
    const id = randomBytes(16).toString('hex');
    const folder = join(this.dir, id);
    const path = join(folder, name);
    const counted = { bytes: 0 };
    try {
      await mkdir(folder, { mode: 0o700 });
      await pipeline(body, byteLimit(this.#limit, counted), createWriteStream(path, { flags: 'wx', mode: 0o600, highWaterMark: WRITE_CHUNK }));
    } catch (err) {
      await rm(folder, { recursive: true, force: true });
      throw err;
    }
    const upload = { id, name, size: counted.bytes, path };
    this.#uploads.set(id, upload);
    return upload;
  }

  /**
   * Makes room for an upload whose bytes come later (`fill`), so sends can be
   * asked for at once and start with its first byte. Unfilled after
   * `startTimeoutMs`, it is given up and removed.
   * @throws NvidError NVID_ERR_PANEL_UPLOAD (name), NVID_ERR_PANEL_TOO_LARGE
   */
  async announce(clientName: string, size: number, kind: MediaKind, startTimeoutMs = ANNOUNCED_START_TIMEOUT_MS): Promise<Upload> {
    const name = safeUploadName(clientName);
    if (size > this.#limit) throw new NvidError('NVID_ERR_PANEL_TOO_LARGE', `the upload is larger than this node's maxReceiveBytes (${this.#limit} bytes)`, { details: { limit: this.#limit } });
    const id = randomBytes(16).toString('hex');
    const folder = join(this.dir, id);
    const path = join(folder, name);
    await mkdir(folder, { mode: 0o700 });
    // Created now: a send opens it as soon as it is asked for.
    await (await open(path, 'wx', 0o600)).close();
    const arrival = new UploadArrival(size, kind);
    const upload: Upload = { id, name, size, path, arrival };
    this.#uploads.set(id, upload);
    const timer = setTimeout(() => {
      if (this.#filling.has(id) || arrival.whole) return;
      this.#giveUp(upload, new NvidError('NVID_ERR_PANEL_UPLOAD', `no bytes came for the upload of ${name} within ${Math.round(startTimeoutMs / 1000)} s`));
    }, startTimeoutMs);
    timer.unref();
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
    this.#uploads.delete(upload.id);
    void rm(join(this.dir, upload.id), { recursive: true, force: true });
  }

  get(id: string): Upload | undefined {
    return this.#uploads.get(id);
  }

  /** Removes an upload's folder; false when there was no such upload. */
  async remove(id: string): Promise<boolean> {
    const upload = this.#uploads.get(id);
    if (!upload) return false;
    this.#uploads.delete(id);
    await rm(join(this.dir, id), { recursive: true, force: true });
    return true;
  }

  async close(): Promise<void> {
    this.#uploads.clear();
    await rm(this.dir, { recursive: true, force: true });
  }
}
