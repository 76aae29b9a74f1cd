/**
 * Where a delivered file goes: into the sent folder under the same relative
 * path, never over an existing file (`photo.jpg`, then `photo-1.jpg`,
 * `photo-2.jpg`, ...). link() + unlink() never replaces anything, unlike
 * rename(); across file systems the copy is made with COPYFILE_EXCL.
 */
import { constants, copyFileSync, linkSync, mkdirSync, rmSync, unlinkSync } from 'node:fs';
import { basename, dirname, extname, join } from 'node:path';

/** Candidate names for `name`: itself, then `stem-1.ext`, `stem-2.ext`, ... */
export function* suffixedNames(name: string): Generator<string> {
  yield name;
  const ext = extname(name);
  const stem = name.slice(0, name.length - ext.length);
  for (let n = 1; ; n++) yield `${stem}-${n}${ext}`;
}

/** Places `source` at `target` only if nothing is there; returns false on EEXIST. */
function placeExclusive(source: string, target: string): boolean {
  try {
    linkSync(source, target);
    return true;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return false;
    if (code !== 'EXDEV' && code !== 'EPERM' && code !== 'ENOTSUP') throw err;
  }
  // Another file system (or one without hard links): copy, still refusing to overwrite.
  try {
    copyFileSync(source, target, constants.COPYFILE_EXCL);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    rmSync(target, { force: true });
    throw err;
  }
}

/**
 * Moves `file` (at `relPath` inside the drop folder) into `sentFolder`, keeping
 * its subfolders, with a numeric suffix if the name is taken.
 * @returns the path it now has
 */
export function moveToSent(file: string, relPath: string, sentFolder: string, maxTries = 10_000): string {
  const dir = join(sentFolder, dirname(relPath));
  mkdirSync(dir, { recursive: true });
  let tries = 0;
  for (const name of suffixedNames(basename(relPath))) {
    if (++tries > maxTries) break;
    const target = join(dir, name);
    if (placeExclusive(file, target)) {
      unlinkSync(file);
      return target;
    }
  }
  throw new Error(`no free name for ${relPath} in ${dir} after ${maxTries} tries`);
}
