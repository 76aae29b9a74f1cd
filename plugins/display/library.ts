/**
 * Reads the kept library folder for the `loop` policy: every file a previous
 * run kept, oldest first, checked again with the media rules the user
 * configured (the folder may have been touched by hand since, and a limit
 * tightened since a file arrived must hold for it too).
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

/**
 * Lists the displayable files of `dir`, oldest first. Files that fail the
 * check are skipped and logged, never shown.
 */
export async function scanLibrary(dir: string, check: CheckMedia, log: Logger): Promise<ScreenItem[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  const found: { item: ScreenItem; mtime: number }[] = [];
  for (const name of names.filter((n) => !isTemporaryName(n)).sort()) {
    const path = join(dir, name);
    try {
      const st = await stat(path);
      if (!st.isFile()) continue;
      const media = await check(path);
      found.push({ item: { path, media }, mtime: st.mtimeMs });
    } catch (err) {
      log.warn({ path, reason: (err as Error).message }, 'library file skipped');
    }
  }
  return found.sort((a, b) => a.mtime - b.mtime).map((f) => f.item);
}
