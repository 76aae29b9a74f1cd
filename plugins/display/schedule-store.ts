/**
 * The playlists and schedule set with `nvid schedule set` (on the node or by
 * a controller), kept in the state folder so that they survive a restart and
 * win over the config's. Written whole or not at all: the new content goes to
 * a temporary file in the same folder, is flushed to disk, and is renamed over
 * the old one (a rename within a folder is atomic), so a crash or a full disk
 * leaves the previous file as it was. No hooks here: plain files.
 */
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { dirname, join } from 'node:path';
import { NvidError } from '../../core/errors.js';
import type { SignageDocument } from '../../core/types.js';

/** Name of the kept schedule, in the state folder. */
export const SCHEDULE_FILE = 'display-schedule.json';

/** What the file holds: the document as it was set, when, and by whom. */
export interface StoredSignage {
  readonly version: 1;
  readonly setAt: string;
  readonly setBy?: { readonly id: string; readonly name: string };
  readonly signage: SignageDocument;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The kept schedule, or undefined when there is none. A file that cannot be
 * read or is not what this module writes throws NVID_ERR_SCHEDULE_STORE naming
 * the file (the caller refuses to start rather than play something else).
 */
export function readStoredSignage(file: string): StoredSignage | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new NvidError('NVID_ERR_SCHEDULE_STORE', `cannot read the kept schedule ${file}: ${(err as Error).message}`, { cause: err });
  }
  const broken = (why: string) =>
    new NvidError('NVID_ERR_SCHEDULE_STORE', `the kept schedule ${file} ${why}; set a schedule again elsewhere, or move the file away to play the config's schedule`, { details: { file } });
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw broken(`is not JSON (${(err as Error).message})`);
  }
  if (!isObject(data) || data.version !== 1 || typeof data.setAt !== 'string' || !isObject(data.signage)) throw broken('is not a schedule nvid wrote (version 1, setAt, signage)');
  const by = data.setBy;
  if (by !== undefined && !(isObject(by) && typeof by.id === 'string' && typeof by.name === 'string')) throw broken('has a setBy that is not { id, name }');
  return data as unknown as StoredSignage;
}

/** Replaces the kept schedule whole: temporary file, fsync, rename; the old file stays if anything fails. */
export function writeStoredSignage(file: string, stored: StoredSignage): void {
  const temp = join(dirname(file), `.${SCHEDULE_FILE}.${randomUUID()}.tmp`);
  try {
    const fd = openSync(temp, 'wx', 0o600);
    try {
      writeSync(fd, `${JSON.stringify(stored, null, 2)}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, file);
  } catch (err) {
    rmSync(temp, { force: true });
    throw new NvidError('NVID_ERR_SCHEDULE_STORE', `cannot keep the schedule in ${file}: ${(err as Error).message}; the schedule did not change`, { cause: err });
  }
  // The rename itself reaches the disk with the folder's entry.
  try {
    const dir = openSync(dirname(file), 'r');
    try {
      fsyncSync(dir);
    } finally {
      closeSync(dir);
    }
  } catch {
    // Some filesystems cannot fsync a folder; the rename is done either way.
  }
}
