/**
 * The display plugin's options: JSON schema (validated by the core with ajv,
 * defaults filled in) and TypeScript shape.
 */

import { POWER_SCHEMA, type PowerInput } from './power/parse.js';
import { PLAYLISTS_SCHEMA, SCHEDULE_SCHEMA } from './schedule/schema.js';
import type { PlaylistInput, ScheduleInput } from './schedule/types.js';
import type { ScreenFit, ScreenRotation } from './picture-filters.js';

/** What to do with media that arrives while something is showing. */
export type DisplayPolicy = 'replace' | 'queue' | 'loop';

/** Options of the display plugin, after defaults. */
export interface DisplayOptions {
  /** `x11` shows media with ffplay; `headless` only keeps the files (nodes with no screen). */
  readonly output: 'x11' | 'headless';
  /** X display, e.g. `:0`; unset: the `DISPLAY` environment variable. */
  readonly display?: string;
  /** Paths (or bare names on PATH) of the programs; unset: PATH, then ffmpeg-static where it applies. */
  readonly ffplay?: string;
  readonly ffmpeg?: string;
  readonly policy: DisplayPolicy;
  /** How long a still image stays up; 0 keeps it until something replaces it (`replace` only). */
  readonly imageSeconds: number;
  /** Play the sound of videos. */
  readonly audio: boolean;
  /** `black`, or the path of an image to show when there is nothing else. */
  readonly idle: string;
  /** A player whose window is not up after this long failed to start. */
  readonly startTimeoutMs: number;
  /** A player that prints no progress for this long is hung. */
  readonly stallTimeoutMs: number;
  /** How far the screen is mounted turned clockwise; pictures are turned back to stand upright (picture-filters.ts). */
  readonly rotation: ScreenRotation;
  /** How a picture of another shape fills the screen: whole with bars, cropped, or stretched. */
  readonly fit: ScreenFit;
  /** Keep a player started ahead for the next JPEG still (warm-still.ts). */
  readonly warmStills: boolean;
  /** Named playlists for `schedule` (schedule/README.md). Checked at start; played with `schedule`. */
  readonly playlists?: Readonly<Record<string, PlaylistInput>>;
  /** Which playlist plays when (schedule/README.md): the screen plays it. */
  readonly schedule?: ScheduleInput;
  /** The hours the screen is on; outside them the display sleeps (DPMS, power/). Unset: never touched. */
  readonly power?: PowerInput;
}

/** JSON schema of DisplayOptions (ajv 8, strict). */
export const DISPLAY_OPTIONS_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  properties: {
    output: { type: 'string', enum: ['x11', 'headless'], default: 'x11' },
    display: { type: 'string', minLength: 1, description: 'X display such as :0; default: $DISPLAY' },
    ffplay: { type: 'string', minLength: 1 },
    ffmpeg: { type: 'string', minLength: 1 },
    policy: { type: 'string', enum: ['replace', 'queue', 'loop'], default: 'replace' },
    imageSeconds: { type: 'number', minimum: 0, default: 10 },
    audio: { type: 'boolean', default: true },
    idle: { type: 'string', minLength: 1, default: 'black', description: '"black" or the path of an image' },
    startTimeoutMs: { type: 'integer', minimum: 500, default: 10000 },
    stallTimeoutMs: { type: 'integer', minimum: 500, default: 5000 },
    rotation: {
      type: 'integer',
      enum: [0, 90, 180, 270],
      default: 0,
      description: 'degrees the screen is mounted turned clockwise, as its viewer sees it; every picture is turned back so it stands upright',
    },
    fit: {
      type: 'string',
      enum: ['contain', 'cover', 'stretch'],
      default: 'contain',
      description: 'contain: the whole picture, black bars; cover: fill the screen, crop the overflow; stretch: fill the screen, ignore the proportions',
    },
    warmStills: {
      type: 'boolean',
      default: true,
      description: 'keep one ffplay started ahead, waiting off screen for the next JPEG still, so a pushed photo skips the player start-up',
    },
    // Shape only here; times, dates, zones and playlist names are read by schedule/parse.ts.
    playlists: PLAYLISTS_SCHEMA,
    schedule: SCHEDULE_SCHEMA,
    // Shape only here; times and the zone are read by power/parse.ts.
    power: POWER_SCHEMA,
  },
} as const;
