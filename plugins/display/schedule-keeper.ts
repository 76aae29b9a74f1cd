/**
 * Which playlists and schedule the screen plays, and where they came from:
 * the config's display options, or a document set with `nvid schedule set`
 * (on the node or by a controller) and kept in the state folder, which wins
 * over the config from then on, across restarts. A new document is checked
 * whole before anything changes: every problem is listed, and a document with
 * any problem changes nothing, on disk or on screen. No hooks here.
 */
import { NvidError } from '../../core/errors.js';
import type { ScheduleState, SignageDocument } from '../../core/types.js';
import { parseSignage } from './schedule/parse.js';
import type { Signage } from './schedule/types.js';
import { readStoredSignage, writeStoredSignage, type StoredSignage } from './schedule-store.js';

export interface ScheduleKeeperSetup {
  /** Where a set schedule is kept (`<stateDir>/display-schedule.json`). */
  readonly file: string;
  /** The display's `imageSeconds`, for items that name no `seconds`. */
  readonly imageSeconds: number;
  /** The config's `playlists` and `schedule` as written, and checked; undefined when it has none. */
  readonly config: { readonly document: SignageDocument; readonly signage: Signage } | undefined;
}

/** The keys a set document may hold. */
const DOCUMENT_KEYS = new Set(['playlists', 'schedule']);

export class ScheduleKeeper {
  readonly #setup: ScheduleKeeperSetup;
  #stored: StoredSignage | undefined;
  #signage: Signage | undefined;

  /** Loads a kept schedule if there is one; a broken one throws NVID_ERR_SCHEDULE_STORE naming the file. */
  constructor(setup: ScheduleKeeperSetup) {
    this.#setup = setup;
    this.#stored = readStoredSignage(setup.file);
    if (this.#stored) {
      try {
        this.#signage = this.check(this.#stored.signage);
      } catch (err) {
        const problems = err instanceof NvidError ? err.details?.problems : undefined;
        throw new NvidError('NVID_ERR_SCHEDULE_STORE', `the kept schedule ${setup.file} is no longer valid (${(err as Error).message}); set a schedule again elsewhere, or move the file away to play the config's schedule`, {
          cause: err,
          details: { file: setup.file, ...(problems ? { problems } : {}) },
        });
      }
    } else this.#signage = setup.config?.signage;
  }

  /** The checked playlists and schedule that play now (the kept ones, else the config's). */
  get signage(): Signage | undefined {
    return this.#signage;
  }

  /**
   * Checks a document for `set` with the config's own rules, plus what a set needs: a
   * `schedule` (a set replaces the screen's schedule) and no other keys. Throws
   * NVID_ERR_SCHEDULE_INVALID listing every problem.
   */
  check(document: SignageDocument): Signage {
    const extra: string[] = [];
    if (typeof document !== 'object' || document === null || Array.isArray(document)) extra.push('the document: must be a JSON object { "playlists": {...}, "schedule": {...} }');
    else {
      for (const key of Object.keys(document)) if (!DOCUMENT_KEYS.has(key)) extra.push(`${key}: unknown key (a schedule document holds only "playlists" and "schedule")`);
      if (document.schedule === undefined) extra.push('schedule: required (a set replaces the playlists and the schedule together)');
    }
    let signage: Signage | undefined;
    let problems: string[] = [];
    try {
      signage = parseSignage(document, { imageSeconds: this.#setup.imageSeconds });
    } catch (err) {
      if (!(err instanceof NvidError) || err.code !== 'NVID_ERR_SCHEDULE_INVALID') throw err;
      problems = (err.details?.problems as string[] | undefined) ?? [err.message];
    }
    problems = [...extra, ...problems];
    if (problems.length > 0 || !signage) {
      throw new NvidError('NVID_ERR_SCHEDULE_INVALID', `the schedule was refused whole and nothing changed: ${problems.length} problem${problems.length > 1 ? 's' : ''}:\n  ${problems.join('\n  ')}`, { details: { problems } });
    }
    return signage;
  }

  /** Checks `document`, keeps it (atomically) and makes it the one that plays; throws and changes nothing if either fails. */
  set(document: SignageDocument, by?: { readonly id: string; readonly name: string }): Signage {
    const signage = this.check(document);
    const stored: StoredSignage = { version: 1, setAt: new Date().toISOString(), ...(by ? { setBy: { id: by.id, name: by.name } } : {}), signage: document };
    writeStoredSignage(this.#setup.file, stored);
    this.#stored = stored;
    this.#signage = signage;
    return signage;
  }

  /** What `nvid schedule show` answers, with what plays now (null when no schedule runs). */
  describe(playing: ScheduleState['playing']): ScheduleState {
    const stored = this.#stored;
    if (stored) {
      return { source: 'set', file: this.#setup.file, setAt: stored.setAt, ...(stored.setBy ? { setBy: stored.setBy } : {}), signage: stored.signage, playing };
    }
    const config = this.#setup.config;
    return config ? { source: 'config', signage: config.document, playing } : { source: 'none', signage: null, playing };
  }
}
