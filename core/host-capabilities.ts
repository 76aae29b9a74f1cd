/**
 * What a plugin asks of the host that another plugin answers: each is one call
 * of a capability hook, with the one clear NVID_ERR_NOT_AVAILABLE when no
 * plugin provides it. The daemon hands these to plugins and to the control
 * commands; tests build the same ones around their own hooks.
 */
import type { Logger } from 'pino';
import { NvidError } from './errors.js';
import type { NvidHooks } from './hooks.js';
import type { Library } from './library.js';
import { answered, requireHook } from './pipeline/hook-checks.js';
import type { HistoryLog } from './plugin-api.js';
import type { MediaInfo, ScheduleRequest, ScheduleState, ScreenRequest, ScreenState } from './types.js';

export interface HookCapabilities {
  validateMedia(path: string): Promise<MediaInfo>;
  rename(name: string): Promise<string>;
  screenshot(out: string): Promise<string>;
  steerScreen(request: ScreenRequest): Promise<ScreenState>;
  /** Read or replace the screen's playlists and schedule; a replacement is written to the history. */
  schedule(request: ScheduleRequest): Promise<ScheduleState>;
  pluginCommand(command: string, args?: Record<string, unknown>): Promise<unknown>;
  /** Deletes a library item: the file, a history entry, then the event that takes it off the screen. */
  deleteLibraryItem(name: string): Promise<void>;
}

export function hookCapabilities(hooks: NvidHooks, library: Library, history: () => HistoryLog, log: Logger): HookCapabilities {
  return {
    async validateMedia(path) {
      requireHook(hooks, 'validate', 'media', 'cannot check media');
      return answered(await hooks.validate.promise({ path, side: 'local' }), 'validate', 'cannot check media');
    },
    async rename(name) {
      requireHook(hooks, 'rename', 'transport', 'cannot rename');
      return answered(await hooks.rename.promise({ name }), 'rename', 'cannot rename');
    },
    async screenshot(out) {
      requireHook(hooks, 'screenshot', 'display', 'cannot take a screenshot');
      return answered(await hooks.screenshot.promise({ out }), 'screenshot', 'cannot take a screenshot');
    },
    async steerScreen(request) {
      requireHook(hooks, 'screen', 'display', 'cannot steer the screen');
      return answered(await hooks.screen.promise(request), 'screen', 'cannot steer the screen');
    },
    async schedule(request) {
      requireHook(hooks, 'schedule', 'display', 'cannot keep a schedule');
      const state = answered(await hooks.schedule.promise(request), 'schedule', 'cannot keep a schedule');
      if (request.action === 'set') {
        history().append('schedule-set', { playlist: state.playing?.playlist ?? null, ...(request.by ? { peerId: request.by.id, peerName: request.by.name } : {}) });
      }
      return state;
    },
    async pluginCommand(command, args = {}) {
      const answer = await hooks.control.promise({ command, args });
      if (answer === undefined) throw new NvidError('NVID_ERR_USAGE', `unknown control command "${command}"`);
      return answer;
    },
    async deleteLibraryItem(name) {
      const path = library.remove(name);
      history().append('item-deleted', { name, path });
      await hooks.itemDeleted.promise({ name, path }).catch((err: Error) => log.error({ err: err.message }, 'an itemDeleted observer failed'));
    },
  };
}
