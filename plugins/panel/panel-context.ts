/**
 * What the routes share: the host and the panel's own parts. Built once per
 * start by index.ts, handed to each route module.
 */
import type { PluginHost } from '../../core/plugin-api.js';
import type { LiveEvents } from './live-events.js';
import type { SendBoard } from './send-board.js';
import type { PanelSecurity } from './security.js';
import type { Thumbnails } from './thumbnails.js';
import type { UploadStore } from './upload-store.js';

export interface PanelContext {
  readonly daemon: PluginHost;
  readonly security: PanelSecurity;
  readonly uploads: UploadStore;
  readonly sends: SendBoard;
  readonly thumbs: Thumbnails;
  readonly events: LiveEvents;
  /** Where screen shots are scaled (removed after each). */
  readonly scratchDir: string;
}
