/**
 * Partial files of transfers that no longer run. A receiver that crashed
 * (SIGKILL, power cut) in the middle of a transfer left its `.part` file in
 * the incoming folder; nothing will ever finish it, and a screen that crashes
 * now and then would fill its disk with them. At start no transfer runs yet
 * (the control socket proved no other node serves this state folder), so
 * every one there is a leftover.
 */
import { readdirSync, statSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';

export interface LeftoverSweep {
  readonly files: number;
  readonly bytes: number;
}

export function removeLeftoverParts(incomingDir: string): LeftoverSweep {
  let files = 0;
  let bytes = 0;
  let names: string[];
  try {
    names = readdirSync(incomingDir);
  } catch {
    return { files, bytes };
  }
  for (const name of names) {
    if (!name.endsWith('.part')) continue;
    const path = join(incomingDir, name);
    try {
      const stat = statSync(path);
      if (!stat.isFile()) continue;
      unlinkSync(path);
      files++;
      bytes += stat.size;
    } catch {
      // gone already, or not ours to remove: the next start tries again
    }
  }
  return { files, bytes };
}
