/**
 * One ffplay process showing one item full screen. It knows how to start,
 * tell when its window is up, notice a crash or a hang, and die completely;
 * which item plays when is decided by the screen controller.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { NvidError } from '../../core/errors.js';
import type { Orientation } from '../../core/types.js';
import { pictureFilters, type ScreenView } from './picture-filters.js';
import { viewableWindowId, type ScreenSize } from './x11.js';

/** What to play and how. */
export interface PlayerSpec {
  /** A file path, or an ffmpeg lavfi graph when `lavfi` is set (the black idle screen); ignored with `stdinFormat`. */
  readonly input: string;
  readonly lavfi?: boolean;
  /**
   * Read the picture from stdin in this ffmpeg format (`jpeg_pipe`), fed later
   * with `feed()`: a player started before its file exists (see WarmStill).
   */
  readonly stdinFormat?: string;
  readonly audio: boolean;
  /** Unique window title: how nvid finds the window on the X server. */
  readonly title: string;
  /** Known screen size: without a window manager `-fs` alone does not fill the screen. */
  readonly screen?: ScreenSize;
  /**
   * Open the window just right of the screen, to be moved on screen once it
   * shows its first frame (see `FfplayPlayer.bringOnScreen`).
   */
  readonly offscreen?: boolean;
  /** Play the input over and over (an animated GIF) instead of holding its last frame. */
  readonly loop?: boolean;
  /**
   * Time the video by its own frames (`-sync video`) rather than the wall
   * clock: a player frozen ahead of its turn (pause()) then goes on from its
   * frame when it resumes, where the clock would have it drop every frame it
   * "missed" meanwhile.
   */
  readonly videoClock?: boolean;
  /** A still's EXIF orientation: it is turned upright on screen (ffplay ignores the tag). */
  readonly orientation?: Orientation;
  /** How the screen is mounted and filled (picture-filters.ts); absent: not turned, `contain`. */
  readonly view?: ScreenView;
}

/** How a player ended. `expected` is true when nvid stopped it. */
export interface PlayerExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly expected: boolean;
}

/**
 * ffplay's command line. No `-autoexit`: a still image stays up (with it, ffplay
 * exits before the picture is ever visible) and a finished video holds its last
 * frame until the next item covers it, so there is never a black gap. `-stats`
 * makes ffplay print a status line many times a second: the heartbeat that
 * tells a hung player from a working one.
 */
export function ffplayArgs(spec: PlayerSpec): string[] {
  const args = ['-hide_banner', '-loglevel', 'error', '-stats', '-window_title', spec.title, '-noborder', '-fs', '-sn'];
  if (spec.screen) args.push('-x', String(spec.screen.width), '-y', String(spec.screen.height), '-left', spec.offscreen ? String(spec.screen.width) : '0', '-top', '0');
  if (!spec.audio) args.push('-an');
  if (spec.loop) args.push('-loop', '0');
  if (spec.videoClock) args.push('-sync', 'video');
  const filters = pictureFilters(spec.orientation, spec.view, spec.screen);
  if (filters) args.push('-vf', filters);
  if (spec.stdinFormat) args.push('-f', spec.stdinFormat, 'pipe:0');
  else if (spec.lavfi) args.push('-f', 'lavfi', spec.input);
  // "file:" keeps a name starting with "-" from being read as an option.
  else args.push(spec.input.startsWith('/') ? spec.input : `file:${spec.input}`);
  return args;
}

/**
 * Player windows bypass the window manager (override-redirect, an SDL hint).
 * A window manager puts a full-screen window on screen the moment it maps,
 * ignoring the off-screen start, and frames it: under openbox, still, video,
 * still then flashed black for a frame in most runs. Nothing is lost: a player
 * takes no input, and nvid sizes and places its windows itself.
 */
const UNMANAGED_WINDOW = { SDL_X11_FORCE_OVERRIDE_REDIRECT: '1' } as const;

/**
 * A status line with a numeric clock, printed once a frame is on display:
 * "   0.06 M-V: ..." for a picture alone, "   0.06 A-V: ..." once a video's
 * sound plays too (with no audio device, or with `-an`, it stays M-V).
 */
const FRAME_SHOWN = /\d+\.\d+ [AM]-V:/;

/** A running ffplay. */
export class FfplayPlayer {
  readonly title: string;
  readonly pid: number;
  /** Settles once the process is gone, however it ended. */
  readonly exited: Promise<PlayerExit>;
  readonly #outputWaiters: Array<() => void> = [];

  /**
   * Resolves after ffplay printed `lines` more times (its status line comes after each refresh), or
   * after `timeoutMs`: by then it has handled what it was sent before, such as an Expose to repaint.
   */
  async printed(lines: number, timeoutMs: number): Promise<void> {
    const deadline = sleep(timeoutMs);
    for (let i = 0; i < lines && this.running; i += 1) await Promise.race([new Promise<void>((resolve) => this.#outputWaiters.push(resolve)), deadline]);
  }

  /** When ffplay last printed anything (its status line, normally). */
  lastOutputAt = Date.now();
  /** The last error ffplay printed, for reports. */
  lastError = '';
  /** ffplay reported a clock, so it has displayed its first frame. */
  frameShown = false;
  /** The X window, once it is up (with xwininfo). */
  windowId: string | undefined;
  #stopping = false;
  #paused = false;
  #exit: PlayerExit | undefined;
  readonly #child: ChildProcess;

  private constructor(child: ChildProcess, title: string) {
    this.#child = child;
    this.title = title;
    if (child.pid === undefined) throw new NvidError('NVID_ERR_PLAYER', 'ffplay could not be started');
    this.pid = child.pid;
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.#exit = { code, signal, expected: this.#stopping };
        resolve(this.#exit);
      });
    });
    child.stderr?.setEncoding('utf8');
    let tail = '';
    child.stderr?.on('data', (text: string) => {
      this.lastOutputAt = Date.now();
      for (const waiter of this.#outputWaiters.splice(0)) waiter();
      // The status line's clock reads "nan" until the first frame was displayed.
      if (!this.frameShown && FRAME_SHOWN.test(tail + text)) this.frameShown = true;
      tail = text.slice(-32);
      // Status lines end in \r; error lines in \n.
      for (const line of text.split('\n').slice(0, -1)) {
        const clean = line.split('\r').at(-1)?.trim();
        if (clean) this.lastError = clean;
      }
    });
  }

  /**
   * Starts ffplay in its own process group (so a kill reaches everything it
   * started). With `deathSignalWrapper` (util-linux `setpriv`), the kernel
   * kills the player if the daemon dies without cleaning up.
   */
  static spawn(ffplay: string, spec: PlayerSpec, display: string, deathSignalWrapper?: string): FfplayPlayer {
    const args = ffplayArgs(spec);
    const [command, argv] = deathSignalWrapper ? [deathSignalWrapper, ['--pdeathsig', 'SIGKILL', '--', ffplay, ...args]] : [ffplay, args];
    const child = spawn(command, argv, { detached: true, stdio: [spec.stdinFormat ? 'pipe' : 'ignore', 'ignore', 'pipe'], env: { ...process.env, DISPLAY: display, ...UNMANAGED_WINDOW } });
    // Without a listener, a failed spawn would crash the daemon; the exit event reports it instead.
    child.once('error', () => undefined);
    // A player that dies before it is fed closes its stdin: the write error is its exit's to report.
    child.stdin?.on('error', () => undefined);
    return new FfplayPlayer(child, spec.title);
  }

  /**
   * Gives a player started with `stdinFormat` its picture: the file's bytes,
   * then end of input, after which ffplay decodes and shows it and holds it.
   */
  feed(path: string): void {
    const stdin = this.#child.stdin;
    if (!stdin) throw new NvidError('NVID_ERR_PLAYER', 'this player does not read its input from stdin');
    // It sat silent while it waited; the stall watchdog counts from now.
    this.lastOutputAt = Date.now();
    const file = createReadStream(path);
    file.on('error', (err) => {
      this.lastError = `cannot read ${path}: ${err.message}`;
      stdin.destroy();
    });
    file.pipe(stdin);
  }

  get running(): boolean {
    return this.#exit === undefined;
  }

  /**
   * Resolves once the player's window is mapped and ffplay has displayed its
   * first frame (its status clock is a number). Without xwininfo, waits a
   * fixed time that covers ffplay's usual start.
   *
   * @throws NvidError NVID_ERR_PLAYER if ffplay exits first or the window does not appear in time
   */
  async waitVisible(xwininfo: string | undefined, display: string, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const fallbackAt = Date.now() + Math.min(1500, timeoutMs);
    while (Date.now() < deadline) {
      if (!this.running) throw this.#failure('exited before showing anything');
      const up = xwininfo ? this.frameShown && (this.windowId ??= await viewableWindowId(xwininfo, display, this.title)) !== undefined : Date.now() >= fallbackAt;
      if (up) {
        if (!this.running) throw this.#failure('exited before showing anything');
        return;
      }
      await sleep(15);
    }
    throw this.#failure(`showed no window within ${timeoutMs} ms`);
  }

  /**
   * Moves a window started off screen onto it. On a plain X server a newly
   * mapped window flashes black before its first frame; a window that has
   * already drawn and then moves in is repainted straight from its picture.
   */
  async bringOnScreen(move: (windowId: string) => Promise<void>, settleMs = 20): Promise<void> {
    if (!this.windowId) return;
    // The frame is presented just after the status line that announced it (a player prepared ahead drew long ago).
    if (settleMs > 0) await sleep(settleMs);
    try {
      await move(this.windowId);
    } catch (err) {
      throw new NvidError('NVID_ERR_PLAYER', `cannot move the player window on screen: ${(err as Error).message}`, { cause: err });
    }
  }

  #failure(what: string): NvidError {
    const how = this.#exit ? ` (exit code ${this.#exit.code ?? '-'}, signal ${this.#exit.signal ?? '-'})` : '';
    return new NvidError('NVID_ERR_PLAYER', `ffplay ${what}${how}${this.lastError ? `: ${this.lastError}` : ''}`);
  }

  /**
   * Freezes the player (SIGSTOP to its group): a video prepared ahead of its
   * turn waits on its first frame instead of playing unseen off screen. When
   * it resumes, ffplay's clock sees the gap and restarts its frame timer, so
   * the video goes on from that frame rather than skipping ahead.
   */
  pause(): void {
    if (!this.running || this.#paused) return;
    this.#paused = true;
    this.#signalGroup('SIGSTOP');
  }

  resume(): void {
    if (!this.#paused) return;
    this.#paused = false;
    // It printed nothing while frozen; the stall watchdog counts from now.
    this.lastOutputAt = Date.now();
    this.#signalGroup('SIGCONT');
  }

  /** Stops the player (TERM, then KILL after a grace period) and resolves once it is gone. */
  async stop(graceMs = 1000): Promise<PlayerExit> {
    if (!this.running) return this.exited;
    this.#stopping = true;
    // A frozen process would not act on TERM until continued.
    this.resume();
    this.#signalGroup('SIGTERM');
    const done = await Promise.race([this.exited, sleep(graceMs).then(() => undefined)]);
    if (done) return done;
    this.#signalGroup('SIGKILL');
    return this.exited;
  }

  /** For process exit handlers, where nothing asynchronous runs any more. */
  killNow(): void {
    if (!this.running) return;
    this.#stopping = true;
    this.#signalGroup('SIGKILL');
  }

  #signalGroup(signal: NodeJS.Signals): void {
    try {
      process.kill(-this.pid, signal);
    } catch {
      try {
        this.#child.kill(signal);
      } catch {
        // Already gone.
      }
    }
  }
}
