/**
 * Uploads, streamed to `<stateDir>/panel/uploads/<random id>/<safe name>`:
 * never held in memory, never written where the client's name points, cut off
 * as soon as they pass the node's `maxReceiveBytes`, and removed whole (folder
 * and all) once sent or on any failure.
 */
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { NvidError } from '../../core/errors.js';
import { safeUploadName } from './safe-name.js';

export interface Upload {
  readonly id: string;
  readonly name: string;
  readonly size: number;
  readonly path: string;
}

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
