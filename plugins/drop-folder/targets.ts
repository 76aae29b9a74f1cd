/**
 * Where a dropped file goes: a file in a subfolder goes to the peer named
 * like that subfolder (`drop/lobby/photo.jpg` -> `lobby`, also
 * `drop/lobby/2024/photo.jpg`); a file at the top of the folder goes to the
 * configured targets. A subfolder overrides the configured targets.
 */
import { sep } from 'node:path';
import { NvidError } from '../../core/errors.js';

/**
 * The target peers (names or ID prefixes) of a file.
 * @param relPath the file's path relative to the drop folder, with the platform's separators
 * @param configured the `to` option
 * @throws NvidError NVID_ERR_DROP_TARGET when the file is at the top and no target is configured
 */
export function targetsFor(relPath: string, configured: readonly string[]): string[] {
  const parts = relPath.split(sep).filter((part) => part.length > 0);
  if (parts.length > 1) return [parts[0]!];
  if (configured.length > 0) return [...configured];
  throw new NvidError(
    'NVID_ERR_DROP_TARGET',
    `${relPath} has no target: put it in a subfolder named after a peer (e.g. lobby/${parts[0] ?? relPath}) or list targets in the drop-folder option "to"`,
  );
}
