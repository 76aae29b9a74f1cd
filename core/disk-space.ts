/**
 * Whether a received file fits on the disk before any of it is written. A
 * transfer that fills the disk halfway wastes the whole send and can leave
 * the node unable to write its own history; refusing it up front costs nothing
 * and tells the sender why.
 */
import { statfsSync } from 'node:fs';
import { formatBytes } from './byte-size.js';
import { NvidError } from './errors.js';

/** Bytes the file system holding `dir` has free for an unprivileged writer. */
export function freeBytes(dir: string): number {
  const stats = statfsSync(dir);
  return stats.bavail * stats.bsize;
}

/**
 * @param size bytes the new file needs
 * @param promised bytes still owed to transfers under way into the same folder
 * @param keepFree bytes the node keeps free for itself (history, logs)
 * @param place what `dir` holds, for the message
 * @throws NvidError NVID_ERR_NO_SPACE when the file would not fit
 */
export function assertRoomFor(dir: string, size: number, promised: number, keepFree: number, place = 'received files'): void {
  const free = freeBytes(dir);
  if (size + promised + keepFree <= free) return;
  const others = promised > 0 ? `, ${formatBytes(promised)} of it promised to transfers under way` : '';
  throw new NvidError('NVID_ERR_NO_SPACE', `not enough disk space for a file of ${formatBytes(size)}: ${formatBytes(free)} free where this node keeps ${place}${others}, and minFreeDiskBytes keeps ${formatBytes(keepFree)} free`, {
    details: { size, free, promised, keepFree },
  });
}
