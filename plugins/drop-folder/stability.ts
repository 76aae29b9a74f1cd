/**
 * "Fully written" as the drop folder understands it: the file's size and
 * mtime stayed the same for a while. chokidar's awaitWriteFinish skips files
 * found before `ready` and has let large copies slip past, so every file, old
 * or new, goes through this check before it is hashed and sent.
 */
import { stat } from 'node:fs/promises';
import { setTimeout as delay } from 'node:timers/promises';

/** What a file looked like when it was found stable. */
export interface FileSnapshot {
  readonly size: number;
  readonly mtimeMs: number;
}

/** Reads a regular file's size and mtime; `undefined` if it is gone or not a regular file. */
export async function snapshotOf(path: string): Promise<FileSnapshot | undefined> {
  try {
    const info = await stat(path);
    return info.isFile() ? { size: info.size, mtimeMs: info.mtimeMs } : undefined;
  } catch {
    return undefined;
  }
}

export function sameSnapshot(a: FileSnapshot | undefined, b: FileSnapshot | undefined): boolean {
  return a !== undefined && b !== undefined && a.size === b.size && a.mtimeMs === b.mtimeMs;
}

export interface StabilityOptions {
  /** Size and mtime must stay unchanged this long. */
  readonly stableMs: number;
  /** How often to look. */
  readonly pollMs: number;
  /** Aborts the wait (the promise rejects with the signal's reason). */
  readonly signal?: AbortSignal;
}

/**
 * Waits until `path` has kept the same size and mtime for `stableMs`, looking
 * every `pollMs`. Resolves with the stable snapshot, or `undefined` if the
 * file disappeared (or stopped being a regular file) meanwhile.
 */
export async function waitUntilStable(path: string, options: StabilityOptions): Promise<FileSnapshot | undefined> {
  let last = await snapshotOf(path);
  if (!last) return undefined;
  let since = Date.now();
  for (;;) {
    // Watch it ourselves even if its mtime is old: copy tools may set the mtime before the last byte lands.
    await delay(Math.min(options.pollMs, options.stableMs), undefined, options.signal ? { signal: options.signal } : undefined);
    const current = await snapshotOf(path);
    if (!current) return undefined;
    if (!sameSnapshot(current, last)) {
      last = current;
      since = Date.now();
      continue;
    }
    if (Date.now() - since >= options.stableMs) return current;
  }
}
