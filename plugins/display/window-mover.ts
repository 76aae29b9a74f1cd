/**
 * How a screen moves a player's window from its off-screen start onto the
 * screen: over an X connection it keeps open (x-connection.ts), or, where that
 * connection cannot be opened, with an `xdotool` run. Decided once when the
 * screen starts. A screen with neither cannot move windows, so its players
 * start on screen (and a fresh window may flash black for a frame).
 */
import { NvidError } from '../../core/errors.js';
import type { Logger } from 'pino';
import { XConnection } from './x-connection.js';
import { moveWindow } from './x11.js';

export class WindowMover {
  readonly #display: string;
  readonly #xdotool: string | undefined;
  readonly #log: Logger;
  /** The connection, or undefined once it could not be opened (xdotool from then on). */
  #x: Promise<XConnection | undefined>;

  private constructor(display: string, xdotool: string | undefined, log: Logger) {
    this.#display = display;
    this.#xdotool = xdotool;
    this.#log = log;
    this.#x = this.#open();
  }

  /** The screen's mover; undefined when it has neither an X connection nor `xdotool`. */
  static async create(display: string, xdotool: string | undefined, log: Logger): Promise<WindowMover | undefined> {
    const mover = new WindowMover(display, xdotool, log);
    if ((await mover.#x) || xdotool) return mover;
    log.warn({ display }, 'no X connection and no xdotool (apt-get install xdotool): switching between items may flash black for a frame');
    return undefined;
  }

  /** Moves window `windowId` to the screen's top-left corner; resolves once the X server has done it. */
  async move(windowId: string): Promise<void> {
    const x = await this.#connection();
    if (x) return x.moveWindow(windowId, 0, 0);
    if (!this.#xdotool) throw new NvidError('NVID_ERR_PLAYER', 'the X connection is gone and xdotool is not installed');
    await moveWindow(this.#xdotool, this.#display, windowId, 0, 0);
  }

  /** Has the server keep window `windowId`'s contents (x-connection.ts); false where there is no connection to ask over. */
  async keepContents(windowId: string): Promise<boolean> {
    const x = await this.#connection();
    if (!x) return false;
    await x.keepContents(windowId);
    return true;
  }

  close(): void {
    void this.#x.then((x) => x?.close());
  }

  #open(): Promise<XConnection | undefined> {
    return XConnection.open(this.#display).catch((err: Error) => {
      this.#log.warn({ display: this.#display, err: err.message }, `cannot keep an X connection to move players${this.#xdotool ? '; moving them with xdotool' : ''}`);
      return undefined;
    });
  }

  /** The open connection; one that was lost (the X server restarted) is opened again. */
  async #connection(): Promise<XConnection | undefined> {
    const x = await this.#x;
    if (!x || x.open) return x;
    this.#x = this.#open();
    return this.#x;
  }
}
