/**
 * Reads the kept library folder for the `loop` policy: every file a previous
 * run kept, oldest first, checked again with the media plugin's rules (the
 * folder may have been touched by hand since).
 */
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { DEFAULT_CODECS, DEFAULT_CONTAINERS, MEDIA_OPTIONS_SCHEMA } from '../media/options.js';
import type { MediaPolicy } from '../media/inspect.js';
import { validateMediaFile } from '../media/validate-file.js';
import type { ScreenItem } from './screen-controller.js';

const limits = MEDIA_OPTIONS_SCHEMA.properties;

/** The media plugin's default rules. */
export const DEFAULT_MEDIA_POLICY: MediaPolicy = {
  containers: DEFAULT_CONTAINERS,
  codecs: DEFAULT_CODECS,
  maxFileBytes: limits.maxFileBytes.default,
  maxWidth: limits.maxWidth.default,
  maxHeight: limits.maxHeight.default,
  maxPixels: limits.maxPixels.default,
  maxDurationSeconds: limits.maxDurationSeconds.default,
  maxFrames: limits.maxFrames.default,
};

/** Names the core uses while a file is still arriving, or that the user hid. */
function isTemporaryName(name: string): boolean {
  return name.startsWith('.') || name.endsWith('.part') || name.endsWith('.tmp');
}

/**
 * Lists the displayable files of `dir`, oldest first. Files that fail the
 * check are skipped and logged, never shown.
 */
export async function scanLibrary(dir: string, ffprobe: string, log: Logger, policy: MediaPolicy = DEFAULT_MEDIA_POLICY): Promise<ScreenItem[]> {
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
      const media = await validateMediaFile(ffprobe, path, policy, 10_000);
      found.push({ item: { path, media }, mtime: st.mtimeMs });
    } catch (err) {
      log.warn({ path, reason: (err as Error).message }, 'library file skipped');
    }
  }
  return found.sort((a, b) => a.mtime - b.mtime).map((f) => f.item);
}
