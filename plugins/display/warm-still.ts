/**
 * One player started ahead of need, waiting on its stdin for the next JPEG
 * still. Starting ffplay (its libraries, SDL, the X connection) is about half
 * of its time to a photo's first pixel (0.4 of 0.88 s for a 12-megapixel JPEG
 * on this machine); a pushed photo fed to a player that is already up skips
 * that. Only plain JPEG stills take it (the format is fixed when ffplay
 * starts, and a turned (EXIF) or looping item needs its own filters and
 * flags); everything else starts its player as before. The screen's rotation
 * and fit are the same for every item, so the waiting player gets them at its
 * start like any other player and they exclude nothing. It opens off screen and comes
 * in like any other player, so the hand-over stays gapless, and it shows no
 * window until it has a picture.
 */
import type { Logger } from 'pino';
import type { MediaInfo } from '../../core/types.js';
import type { ScreenView } from './picture-filters.js';
import { FfplayPlayer, type PlayerSpec } from './player.js';
import type { PlayerRegistry } from './player-registry.js';
import type { ScreenSize } from './x11.js';

/** Time after a hand-over before the next warm player starts, so it never competes with the one coming on screen. */
const WARM_DELAY_MS = 1500;

export interface WarmStillSetup {
  readonly ffplay: string;
  readonly display: string;
  readonly deathSignalWrapper?: string;
  readonly screen: ScreenSize;
  /** The screen's rotation and fit: per screen, so the waiting player gets them at its start like every other. */
  readonly view: ScreenView;
  readonly registry: PlayerRegistry;
  readonly log: Logger;
  /** A fresh unique window title. */
  readonly title: () => string;
}

/**
 * Whether a fed warm player shows `media` exactly as a player started for its
 * file would. The screen's rotation and fit play no part: the waiting player
 * was started with them. A photo's own EXIF orientation does: it is per item.
 */
export function fitsWarmStill(media: MediaInfo): boolean {
  return media.kind === 'image' && media.codec === 'mjpeg' && (media.orientation === undefined || media.orientation === 1);
}

export class WarmStill {
  readonly #setup: WarmStillSetup;
  #player: FfplayPlayer | undefined;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(setup: WarmStillSetup) {
    this.#setup = setup;
  }

  /** Starts a warm player a moment from now, unless one is waiting already. */
  prepareSoon(): void {
    if (this.#closed || this.#timer || this.#player?.running) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#start();
    }, WARM_DELAY_MS);
    this.#timer.unref();
  }

  /** The waiting player, fed `path`, for the caller to bring on screen; undefined when none is ready. */
  take(path: string): FfplayPlayer | undefined {
    const player = this.#player;
    this.#player = undefined;
    if (!player?.running) return undefined;
    player.feed(path);
    return player;
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    await this.#player?.stop();
    this.#player = undefined;
  }

  #start(): void {
    if (this.#closed) return;
    const { ffplay, display, deathSignalWrapper, screen, view, registry, title } = this.#setup;
    const spec: PlayerSpec = { input: 'pipe:0', stdinFormat: 'jpeg_pipe', audio: false, title: title(), screen, view, offscreen: true };
    const player = FfplayPlayer.spawn(ffplay, spec, display, deathSignalWrapper);
    registry.add(player);
    this.#player = player;
    void player.exited.then((exit) => {
      if (this.#player !== player) return;
      this.#player = undefined;
      if (!exit.expected) this.#setup.log.warn({ code: exit.code, signal: exit.signal, error: player.lastError }, 'the waiting still player ended; the next photo starts its own');
    });
  }
}
