/**
 * The library folder as people and plugins see it: the verified files this
 * node received, by name. Names come from users (the CLI, a web page, a
 * controller), so every name is checked to be one file of this folder before
 * it touches the disk.
 */
import { readdirSync, statSync, unlinkSync } from 'node:fs';
import { basename, join } from 'node:path';
import { NvidError } from './errors.js';
import type { LibraryItem } from './types.js';

/** Names the core uses while a file is still arriving, or that the user hid. */
function isTemporaryName(name: string): boolean {
  return name.startsWith('.') || name.endsWith('.part') || name.endsWith('.tmp');
}

export class Library {
  readonly dir: string;

  constructor(dir: string) {
    this.dir = dir;
  }

  /** Every kept file, newest first. */
  list(): LibraryItem[] {
    let names: string[];
    try {
      names = readdirSync(this.dir);
    } catch {
      return [];
    }
    const items: LibraryItem[] = [];
    for (const name of names) {
      if (isTemporaryName(name)) continue;
      const path = join(this.dir, name);
      try {
        const stat = statSync(path);
        if (stat.isFile()) items.push({ name, path, size: stat.size, modified: stat.mtimeMs });
      } catch {
        // deleted meanwhile
      }
    }
    return items.sort((a, b) => b.modified - a.modified || a.name.localeCompare(b.name));
  }

  /** The path of the item called `name`; throws NVID_ERR_LIBRARY_ITEM for anything that is not one file of the library. */
  resolve(name: string): string {
    if (typeof name !== 'string' || name === '' || basename(name) !== name || name === '.' || name === '..' || isTemporaryName(name) || /[\u0000-\u001f\u007f]/.test(name)) {
      throw new NvidError('NVID_ERR_LIBRARY_ITEM', `not a library item name: ${JSON.stringify(name)}`);
    }
    const path = join(this.dir, name);
    try {
      if (statSync(path).isFile()) return path;
    } catch {
      // falls through to the message below
    }
    throw new NvidError('NVID_ERR_LIBRARY_ITEM', `no item "${name}" in the library`);
  }

  /** Removes the item's file; returns its path. */
  remove(name: string): string {
    const path = this.resolve(name);
    unlinkSync(path);
    return path;
  }
}
