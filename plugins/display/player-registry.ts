/**
 * Remembers the players this node started, in memory and in a small file in
 * the state folder, so none outlives the daemon: stop kills them, a process
 * exit handler kills them, and a start after a crash kills what the file lists.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { FfplayPlayer } from './player.js';

interface Entry {
  readonly pid: number;
  readonly title: string;
}

/** Whether `pid` is still the player we started (pids get reused). */
function isOurPlayer(entry: Entry): boolean {
  try {
    const cmdline = readFileSync(`/proc/${entry.pid}/cmdline`, 'utf8').split('\0');
    return cmdline.includes(entry.title);
  } catch {
    return false;
  }
}

/** The live players and their pid file. */
export class PlayerRegistry {
  readonly file: string;
  readonly #players = new Set<FfplayPlayer>();
  readonly #onExit = () => this.killAllNow();

  constructor(file: string) {
    this.file = file;
  }

  /**
   * Kills players a previous run left behind (listed in the file, still
   * running ffplay with the recorded title). Returns how many it killed.
   */
  killLeftovers(): number {
    let entries: Entry[] = [];
    try {
      const parsed = JSON.parse(readFileSync(this.file, 'utf8')) as unknown;
      if (Array.isArray(parsed)) entries = parsed.filter((e): e is Entry => typeof e?.pid === 'number' && typeof e?.title === 'string');
    } catch {
      // No file, or a torn one: nothing reliable to act on.
    }
    let killed = 0;
    for (const entry of entries) {
      if (!isOurPlayer(entry)) continue;
      try {
        process.kill(-entry.pid, 'SIGKILL');
        killed++;
      } catch {
        try {
          process.kill(entry.pid, 'SIGKILL');
          killed++;
        } catch {
          // Gone meanwhile.
        }
      }
    }
    this.#save();
    return killed;
  }

  /** Starts watching for the daemon's own exit. */
  open(): void {
    process.on('exit', this.#onExit);
  }

  add(player: FfplayPlayer): void {
    this.#players.add(player);
    this.#save();
    void player.exited.then(() => {
      this.#players.delete(player);
      this.#save();
    });
  }

  get size(): number {
    return this.#players.size;
  }

  /** Stops every player and removes the file. */
  async close(): Promise<void> {
    process.off('exit', this.#onExit);
    await Promise.all([...this.#players].map((p) => p.stop()));
    rmSync(this.file, { force: true });
  }

  /** Synchronous last resort, for `process.on('exit')`. */
  killAllNow(): void {
    for (const player of this.#players) player.killNow();
  }

  #save(): void {
    const entries: Entry[] = [...this.#players].map((p) => ({ pid: p.pid, title: p.title }));
    try {
      writeFileSync(this.file, JSON.stringify(entries), { mode: 0o600 });
    } catch {
      // The state folder vanished (tests cleaning up); the in-memory set still works.
    }
  }
}
