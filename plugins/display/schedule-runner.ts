/**
 * Runs a screen by its schedule: follows the programme timeline (the active
 * playlist and those of its items valid now) with the scheduler, turns each
 * programme into files of the library (a folder item into its files, in name
 * order), checks each with the node's media rules, and hands the result to the
 * screen controller at the switch. Everything it needs is on the node: no
 * coordinator, no network.
 */
import { readdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Logger } from 'pino';
import type { MediaInfo } from '../../core/types.js';
import { Scheduler, type SchedulerClock } from './schedule/scheduler.js';
import { programmeTimeline, type Programme } from './schedule/timeline.js';
import type { PlaylistItem, Schedule, Signage } from './schedule/types.js';
import type { ScreenItem } from './screen-controller.js';

export interface ScheduleRunnerSetup {
  readonly signage: Signage & { readonly schedule: Schedule };
  readonly libraryDir: string;
  /** Folder items are relative to the config file. */
  readonly configDir: string;
  /** The node's media check (the host's validateMedia). */
  readonly validate: (path: string) => Promise<MediaInfo>;
  readonly apply: (items: readonly ScreenItem[]) => void;
  readonly log: Logger;
  readonly clock?: SchedulerClock;
}

/** A screen without a real-time clock may have its time set after boot: look again at least this often. */
const RECHECK_MS = 60_000;

export class ScheduleRunner {
  readonly #setup: ScheduleRunnerSetup;
  readonly #scheduler: Scheduler<Programme>;
  /** Checked files by path, with the size and time they were checked at: a switch back does not probe again. */
  readonly #checked = new Map<string, { size: number; mtimeMs: number; media: MediaInfo }>();
  /** Each switch counts; a slower earlier one never lands after a later one. */
  #generation = 0;
  #applied: Promise<void> = Promise.resolve();

  constructor(setup: ScheduleRunnerSetup) {
    this.#setup = setup;
    this.#scheduler = new Scheduler(programmeTimeline(setup.signage), {
      ...(setup.clock ? { clock: setup.clock } : {}),
      maxDelayMs: RECHECK_MS,
      onChange: (programme) => {
        this.#applied = this.#apply(programme);
      },
      onError: (err) => setup.log.error({ err: (err as Error).message }, 'the schedule could not be applied'),
    });
  }

  /** Starts following the schedule; resolves once what plays now is handed to the screen. */
  async start(): Promise<void> {
    this.#scheduler.start();
    await this.#applied;
  }

  stop(): void {
    this.#scheduler.stop();
    this.#generation++;
  }

  /** The playlist playing now and when the schedule next changes, for status. */
  get status(): { playlist: string | undefined; nextChange: string | undefined } {
    const next = this.#scheduler.nextChange;
    return { playlist: this.#scheduler.current?.playlist, nextChange: next === undefined ? undefined : new Date(next).toISOString() };
  }

  async #apply(programme: Programme): Promise<void> {
    const generation = ++this.#generation;
    const items: ScreenItem[] = [];
    for (const item of programme.items) items.push(...(await this.#filesOf(item)));
    if (generation !== this.#generation) return;
    this.#setup.log.info({ playlist: programme.playlist, entry: programme.entry?.name, items: items.length }, 'schedule: now playing');
    this.#setup.apply(items);
  }

  /** The checked library files an item stands for; a missing or refused file is logged and left out. */
  async #filesOf(item: PlaylistItem): Promise<ScreenItem[]> {
    const { libraryDir, configDir, log } = this.#setup;
    let paths: string[];
    if (item.kind === 'file') paths = [join(libraryDir, item.name)];
    else {
      const folder = resolve(configDir, item.name);
      try {
        paths = (await readdir(folder, { withFileTypes: true }))
          .filter((e) => e.isFile() && !e.name.startsWith('.'))
          .map((e) => join(folder, e.name))
          .sort();
      } catch (err) {
        log.warn({ folder, err: (err as Error).message }, 'schedule: a playlist folder cannot be read; its items are left out');
        return [];
      }
    }
    const out: ScreenItem[] = [];
    for (const path of paths) {
      const media = await this.#check(path);
      if (media) out.push({ path, media, scheduledSeconds: item.seconds });
    }
    return out;
  }

  async #check(path: string): Promise<MediaInfo | undefined> {
    try {
      const { size, mtimeMs } = await stat(path);
      const known = this.#checked.get(path);
      if (known && known.size === size && known.mtimeMs === mtimeMs) return known.media;
      const media = await this.#setup.validate(path);
      this.#checked.set(path, { size, mtimeMs, media });
      return media;
    } catch (err) {
      this.#setup.log.warn({ path, err: (err as Error).message }, 'schedule: a playlist file is missing or not playable; it is left out');
      return undefined;
    }
  }
}
