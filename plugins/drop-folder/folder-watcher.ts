/**
 * The chokidar watcher over the drop folder: reports every file that is
 * there at start and every file that appears, changes or goes, minus what the
 * ignore rules skip. It does not judge completeness (chokidar's
 * awaitWriteFinish is off on purpose: the queue checks stability itself for
 * old and new files alike).
 */
import { mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { watch, type FSWatcher } from 'chokidar';
import type { IgnoreRules } from './ignore-rules.js';

/** What the watcher reports to. */
export interface FolderEvents {
  /** A file appeared (also: found at start) or changed. */
  fileSeen(path: string): void;
  /** A file went away. */
  fileGone(path: string): void;
  /** The watcher failed (permissions, too many watches): logged, watching goes on where it can. */
  error(error: Error): void;
}

/** Watches one folder; `start` resolves once the initial scan is done. */
export class FolderWatcher {
  readonly #folder: string;
  readonly #rules: IgnoreRules;
  readonly #usePolling: boolean;
  #watcher: FSWatcher | undefined;

  constructor(folder: string, rules: IgnoreRules, usePolling = false) {
    this.#folder = folder;
    this.#rules = rules;
    this.#usePolling = usePolling;
  }

  /** Creates the folder if missing, starts watching, and resolves after chokidar's `ready`. */
  async start(events: FolderEvents): Promise<void> {
    mkdirSync(this.#folder, { recursive: true });
    const watcher = watch(this.#folder, {
      ignored: (path: string) => this.#rules.isIgnoredPath(path),
      ignoreInitial: false,
      persistent: true,
      followSymlinks: false,
      usePolling: this.#usePolling,
      awaitWriteFinish: false,
    });
    this.#watcher = watcher;
    watcher.on('add', (path: string) => events.fileSeen(path));
    watcher.on('change', (path: string) => events.fileSeen(path));
    watcher.on('unlink', (path: string) => events.fileGone(path));
    watcher.on('error', (err: unknown) => events.error(err instanceof Error ? err : new Error(String(err))));
    await new Promise<void>((resolve) => watcher.once('ready', () => resolve()));
  }

  /**
   * Every file below the folder that the rules do not ignore. The safety net
   * for events inotify drops: a file written into a folder created a moment
   * before can land before chokidar watches that folder (seen under load).
   */
  listFiles(): string[] {
    const files: string[] = [];
    const walk = (dir: string) => {
      let entries;
      try {
        entries = readdirSync(dir, { withFileTypes: true });
      } catch {
        return; // removed meanwhile
      }
      for (const entry of entries) {
        const path = join(dir, entry.name);
        if (this.#rules.isIgnoredPath(path)) continue;
        if (entry.isDirectory()) walk(path);
        else if (entry.isFile()) files.push(path);
      }
    };
    walk(this.#folder);
    return files;
  }

  /** Stops watching; safe to call without `start`. */
  async close(): Promise<void> {
    const watcher = this.#watcher;
    this.#watcher = undefined;
    await watcher?.close();
  }
}
