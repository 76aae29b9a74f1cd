/**
 * Library thumbnails, 320 px wide JPEGs made once with ffmpeg and kept in
 * `<stateDir>/panel/thumbs/`, named after the item's name, mtime and size, so a
 * replaced file gets a new one and a name never becomes a path.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { scaledFrame } from './ffmpeg-image.js';

export const THUMB_WIDTH = 320;

export class Thumbnails {
  readonly dir: string;
  /** Thumbnails being made, so two requests for one item run ffmpeg once. */
  readonly #making = new Map<string, Promise<string>>();

  constructor(dir: string) {
    this.dir = dir;
  }

  /** The thumbnail's path for the library item `name` at `path` (made now if needed). */
  async of(name: string, path: string): Promise<string> {
    const { mtimeMs, size } = await stat(path);
    const key = createHash('sha256').update(`${name}\0${mtimeMs}\0${size}`).digest('hex');
    const file = join(this.dir, `${key}.jpg`);
    if (existsSync(file)) return file;
    let making = this.#making.get(key);
    if (!making) {
      making = this.#make(path, file).finally(() => this.#making.delete(key));
      this.#making.set(key, making);
    }
    return making;
  }

  async #make(source: string, file: string): Promise<string> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    // Written beside and renamed: a reader never sees half a JPEG.
    const partial = `${file}.${randomBytes(4).toString('hex')}.part.jpg`;
    try {
      await scaledFrame(source, partial, THUMB_WIDTH);
      await rename(partial, file);
      return file;
    } finally {
      await rm(partial, { force: true });
    }
  }
}
