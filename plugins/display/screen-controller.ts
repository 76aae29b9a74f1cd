/**
 * Decides what the screen shows, one item at a time: the arrival policy
 * (replace, queue, loop), the idle screen, image and video timing, and the
 * hand-over between items. Hook-free; the plugin feeds it display requests.
 *
 * Hand-over without a black gap: the next player starts while the current one
 * still shows (a finished video holds its last frame, see player.ts); only once
 * the new window is on screen is the old player stopped. New windows map on
 * top, so the viewer goes straight from one picture to the next.
 */
import { existsSync } from 'node:fs';
import { basename } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { asNvidError } from '../../core/errors.js';
import type { ScreenPowers } from '../../core/plugin-api.js';
import type { MediaInfo, ScreenState, TransferMeta } from '../../core/types.js';
import type { DisplayPolicy } from './options.js';
import { fileOrientation } from '../../core/media-tools/exif-orientation.js';
import type { ScreenView } from './picture-filters.js';
import { FfplayPlayer, type PlayerSpec } from './player.js';
import type { PlayerRegistry } from './player-registry.js';
import { NextPlayer } from './next-player.js';
import { fitsWarmStill, WarmStill } from './warm-still.js';
import type { WindowMover } from './window-mover.js';
import type { ScreenSize } from './x11.js';

/** Something to show. */
export interface ScreenItem {
  readonly path: string;
  readonly media: MediaInfo;
  readonly meta?: TransferMeta;
  /** Set for an item of the schedule's programme: how long it stays if a still (0: until the programme changes). */
  readonly scheduledSeconds?: number;
}

/** What the controller needs from its surroundings. */
export interface ScreenSetup {
  readonly ffplay: string;
  /** Absent: window detection falls back to a fixed wait. */
  readonly xwininfo?: string;
  /** Present (with xwininfo): windows start off screen and move in once drawn, avoiding a black flash. */
  readonly mover?: WindowMover;
  readonly deathSignalWrapper?: string;
  readonly display: string;
  readonly screen: ScreenSize;
  /** How the screen is mounted and filled; every player gets it, the idle one and the waiting one too. */
  readonly view: ScreenView;
  readonly policy: DisplayPolicy;
  readonly imageSeconds: number;
  readonly audio: boolean;
  /** `black` or an image path. */
  readonly idle: string;
  readonly startTimeoutMs: number;
  readonly stallTimeoutMs: number;
  readonly registry: PlayerRegistry;
  /** Keep a player started ahead for the next JPEG still (warm-still.ts); needs xwininfo and a mover. */
  readonly warmStills?: boolean;
  /** Where the controller says what really happened on the glass (the host's screen powers). */
  readonly report: ScreenPowers;
  readonly log: Logger;
}

/** The item on screen and its player. `item` undefined: the idle screen. */
interface Showing {
  readonly item: ScreenItem | undefined;
  readonly player: FfplayPlayer;
  /** Its time is up; the next item may take over. */
  ended: boolean;
  timer?: NodeJS.Timeout;
  /** When the next item's player starts ahead (next-player.ts). */
  prepareTimer?: NodeJS.Timeout;
}

/** A first guess at how long a player takes to come up; then the measured starts teach it. */
const INITIAL_LEAD_MS = 2000;

const IDLE = 'idle' as const;

/**
 * An animated GIF: a short clip that browsers and chat apps loop for as long
 * as it shows. Played once like a video it would be gone (or frozen) after a
 * second or two, so it loops and stays up like a still.
 */
function isAnimation(media: MediaInfo): boolean {
  return media.kind === 'video' && media.container.split(',').includes('gif');
}

/** Shown for `imageSeconds` rather than for its own duration. */
function showsLikeStill(media: MediaInfo): boolean {
  return media.kind === 'image' || isAnimation(media);
}

/** Runs the screen. Create, `start()`, `submit()` items, `stop()`. */
export class ScreenController {
  readonly #setup: ScreenSetup;
  #current: Showing | undefined;
  /** `queue`: waiting items in order; `replace`: the latest arrival only. */
  #queue: ScreenItem[] = [];
  /** `loop`: the kept library in play order. */
  #library: ScreenItem[] = [];
  /**
   * Set when a schedule runs the screen: what it plays now, in order, round and
   * round; pushed items interrupt it and it resumes after them.
   */
  #programme: ScreenItem[] | undefined;
  /** Index in #programme of the item last put on screen. */
  #programmeAt = -1;
  #stopped = false;
  #switching = false;
  /** The item a hand-over in progress is bringing up (loop insertions go after it). */
  #upcoming: ScreenItem | undefined;
  #pendingWake = false;
  #wakeResolve: (() => void) | undefined;
  #running: Promise<void> | undefined;
  #watchdog: NodeJS.Timeout | undefined;
  #titleCounter = 0;
  #warm: WarmStill | undefined;
  /** The next item's player, started ahead (only where windows can start off screen). */
  #next: NextPlayer<ScreenItem> | undefined;
  /** How long before an item's end the next player starts: recent player starts, with a margin. */
  #leadMs = INITIAL_LEAD_MS;
  /** How long moving a prepared player on screen takes, smoothed. */
  #moveMs = 5;
  #firstShown: Promise<void> | undefined;
  #resolveFirstShown: (() => void) | undefined;

  constructor(setup: ScreenSetup) {
    this.#setup = setup;
    const { ffplay, display, deathSignalWrapper, screen, view, registry, log } = setup;
    // Only where windows can start off screen: a warm player must never show before it has a picture.
    if (this.#offscreen) this.#next = new NextPlayer();
    if (setup.warmStills && this.#offscreen) {
      this.#warm = new WarmStill({ ffplay, display, ...(deathSignalWrapper ? { deathSignalWrapper } : {}), screen, view, registry, log, title: () => this.#newTitle() });
    }
  }

  /** Whether players start off screen and move in once drawn: the windows can be watched and moved. */
  get #offscreen(): boolean {
    return Boolean(this.#setup.xwininfo && this.#setup.mover);
  }

  #newTitle(): string {
    return `nvid-${process.pid}-${++this.#titleCounter}`;
  }

  /** Items waiting their turn (policy `queue`). */
  get waiting(): number {
    return this.#queue.length;
  }

  /** Starts the screen (the first library item in `loop`, else the idle screen); resolves once it is up or failed. */
  async start(library: readonly ScreenItem[] = []): Promise<void> {
    this.#library = [...library];
    this.#firstShown = new Promise((resolve) => (this.#resolveFirstShown = resolve));
    this.#watchdog = setInterval(() => this.#checkStall(), Math.min(500, this.#setup.stallTimeoutMs / 2));
    this.#running = this.#run();
    await Promise.race([this.#firstShown, sleep(this.#setup.startTimeoutMs * 2)]);
  }

  /** Takes a new item; says whether it shows now or waits its turn. */
  submit(item: ScreenItem): 'showing' | 'queued' {
    const idleNow = !this.#current?.item && !this.#switching;
    let state: 'showing' | 'queued';
    if (this.#programme) return this.#submitScheduled(item, idleNow);
    switch (this.#setup.policy) {
      case 'replace':
        this.#queue = [item];
        state = 'showing';
        break;
      case 'queue':
        state = idleNow && this.#queue.length === 0 ? 'showing' : 'queued';
        this.#queue.push(item);
        break;
      case 'loop': {
        this.#insertNext(item);
        state = idleNow ? 'showing' : 'queued';
        break;
      }
    }
    this.#wake();
    return state;
  }

  /**
   * With a schedule, a pushed item interrupts the programme (`queue`: once the
   * item on screen ends; otherwise at once, as with `replace`), and the
   * programme resumes after it.
   */
  #submitScheduled(item: ScreenItem, idleNow: boolean): 'showing' | 'queued' {
    const onScreenIsProgramme = !this.#current?.item || this.#current.item.scheduledSeconds !== undefined;
    if (this.#setup.policy === 'queue') {
      const showsNow = (idleNow || onScreenIsProgramme) && this.#queue.length === 0;
      this.#queue.push(item);
      if (showsNow) this.#endProgrammeItem();
      this.#wake();
      return showsNow ? 'showing' : 'queued';
    }
    this.#queue = [item];
    this.#wake();
    return 'showing';
  }

  /**
   * What the schedule says plays now. A programme item on screen (or the idle
   * screen) gives way at once; a pushed item finishes first, unless it has no
   * end of its own (a still with imageSeconds 0), which the switch ends.
   */
  setProgramme(items: readonly ScreenItem[]): void {
    this.#programme = [...items];
    this.#programmeAt = -1;
    const current = this.#current;
    if (current && (!current.item || current.item.scheduledSeconds !== undefined || !current.timer)) this.#endProgrammeItem();
    this.#wake();
  }

  /** The programme item (or idle screen) on screen ends now. */
  #endProgrammeItem(): void {
    const current = this.#current;
    if (!current) return;
    if (current.timer) clearTimeout(current.timer);
    current.ended = true;
  }

  /** In `loop`: the item plays next (after what shows or is coming up), then stays in the cycle. */
  #insertNext(item: ScreenItem): void {
    this.#library = this.#library.filter((i) => i.path !== item.path);
    const anchor = this.#switching ? this.#upcoming : this.#current?.item;
    const at = anchor ? this.#library.findIndex((i) => i.path === anchor.path) + 1 : 0;
    this.#library.splice(at, 0, item);
  }

  /**
   * In `loop`: a library item checked after the start joins the end of the
   * cycle (unless it is in it already, e.g. pushed again meanwhile).
   */
  addToLoop(item: ScreenItem): void {
    if (this.#library.some((i) => i.path === item.path) || !existsSync(item.path)) return;
    this.#library.push(item);
    this.#wake();
  }

  /** Ends what shows now: the next item (queue, loop) or the idle screen takes over. */
  skip(): void {
    const current = this.#current;
    if (!current?.item) return;
    if (current.timer) clearTimeout(current.timer);
    current.ended = true;
    this.#wake();
  }

  /** Drops what waits; outside `loop` (whose cycle is the program) what shows ends too, and the idle screen returns. */
  clear(): void {
    this.#queue = [];
    // With a schedule, only a pushed item on screen ends: the programme is the screen's own.
    if (this.#programme ? this.#current?.item?.scheduledSeconds === undefined : this.#setup.policy !== 'loop') this.skip();
    this.#wake();
  }

  /** Shows an item now, whatever the policy (a person asked for it); in `loop` it then stays in the cycle. */
  showNow(item: ScreenItem): void {
    if (this.#programme) this.#queue.unshift(item);
    else if (this.#setup.policy === 'loop') this.#insertNext(item);
    else if (this.#setup.policy === 'replace') this.#queue = [item];
    else this.#queue.unshift(item);
    this.skip();
    this.#wake();
  }

  /** A file was deleted: off the screen, out of the queue and the cycle, at once. */
  forget(path: string): void {
    this.#queue = this.#queue.filter((i) => i.path !== path);
    this.#library = this.#library.filter((i) => i.path !== path);
    if (this.#current?.item?.path === path) this.skip();
  }

  /** What shows and what waits, for the screen hook. */
  state(): ScreenState {
    const view = (item: ScreenItem) => ({ path: item.path, name: basename(item.path) });
    const current = this.#current;
    const showing = !current ? null : current.item ? { ...view(current.item), kind: current.item.media.kind } : IDLE;
    const waiting = this.#setup.policy === 'loop' ? this.#upNextInCycle() : this.#queue;
    return { showing, queue: waiting.map(view), policy: this.#setup.policy };
  }

  /** The cycle from the item after the current one round to the one before it. */
  #upNextInCycle(): ScreenItem[] {
    const at = this.#current?.item ? this.#library.findIndex((i) => i.path === this.#current?.item?.path) : -1;
    return [...this.#library.slice(at + 1), ...this.#library.slice(0, Math.max(0, at))];
  }

  /** What is on screen now, for status and tests. */
  get showing(): string | undefined {
    return this.#current ? (this.#current.item?.path ?? IDLE) : undefined;
  }

  /** Stops every player; resolves once none is left. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#watchdog);
    if (this.#current?.timer) clearTimeout(this.#current.timer);
    this.#wake();
    this.#next?.discard();
    this.#setup.mover?.close();
    await this.#warm?.close();
    await this.#setup.registry.close();
    await this.#running;
    this.#current = undefined;
  }

  #wake(): void {
    this.#pendingWake = true;
    this.#wakeResolve?.();
  }

  async #nextEvent(): Promise<void> {
    if (!this.#pendingWake) await new Promise<void>((resolve) => (this.#wakeResolve = resolve));
    this.#wakeResolve = undefined;
    this.#pendingWake = false;
  }

  async #run(): Promise<void> {
    while (!this.#stopped) {
      const next = this.#pickNext();
      if (next === undefined) await this.#nextEvent();
      else await this.#switchTo(next === IDLE ? undefined : next);
    }
  }

  /** The item that should take the screen now, `idle`, or undefined to keep what shows. */
  #pickNext(): ScreenItem | typeof IDLE | undefined {
    if (this.#programme) return this.#pickScheduled(this.#programme);
    const current = this.#current;
    const free = !current || !current.item || current.ended;
    if (this.#setup.policy === 'replace' && this.#queue.length > 0) return this.#queue.splice(0).at(-1);
    if (this.#setup.policy === 'queue' && free && this.#queue.length > 0) return this.#queue.shift();
    if (this.#setup.policy === 'loop' && free && this.#library.length > 0) {
      const index = current?.item ? this.#library.findIndex((i) => i.path === current.item?.path) : -1;
      const next = this.#library[(index + 1) % this.#library.length]!;
      // A lone still image in the cycle just stays up: restarting it would only flicker.
      if (current?.item && next.path === current.item.path && showsLikeStill(next.media) && current.player.running) {
        current.ended = false;
        this.#armTimer(current);
        return undefined;
      }
      return next;
    }
    if (!current || (current.item && current.ended)) return IDLE;
    return undefined;
  }

  /** With a schedule: pushed items first (as the policy says), else the programme's next item, round and round. */
  #pickScheduled(programme: readonly ScreenItem[]): ScreenItem | typeof IDLE | undefined {
    const current = this.#current;
    const free = !current || current.ended;
    if (this.#queue.length > 0 && (free || this.#setup.policy !== 'queue')) return this.#setup.policy === 'queue' ? this.#queue.shift() : this.#queue.splice(0).at(-1);
    if (!free) return undefined;
    if (programme.length === 0) {
      // Nothing to play now: the idle screen, kept if it is up already.
      if (current && !current.item) {
        current.ended = false;
        return undefined;
      }
      return IDLE;
    }
    const next = (this.#programmeAt + 1) % programme.length;
    const item = programme[next]!;
    // A lone still in the programme just stays up: restarting it would only flicker.
    if (current?.item === item && showsLikeStill(item.media) && current.player.running) {
      current.ended = false;
      this.#armTimer(current);
      return undefined;
    }
    this.#programmeAt = next;
    return item;
  }

  #spec(item: ScreenItem | undefined): PlayerSpec {
    const { screen, view, audio, idle } = this.#setup;
    const title = this.#newTitle();
    const offscreen = this.#offscreen;
    if (item) {
      const { media } = item;
      return { input: item.path, audio: audio && media.kind === 'video', title, screen, view, offscreen, ...(media.orientation ? { orientation: media.orientation } : {}), ...(isAnimation(media) ? { loop: true } : {}) };
    }
    if (idle !== 'black' && existsSync(idle)) {
      // The idle image never passes the media check, so its orientation is read here.
      const orientation = fileOrientation(idle);
      return { input: idle, audio: false, title, screen, view, offscreen, ...(orientation !== 1 ? { orientation } : {}) };
    }
    // A very low frame rate keeps the idle player nearly free. All black: no rotation or fit to apply.
    return { input: `color=c=black:s=${screen.width}x${screen.height}:r=2`, lavfi: true, audio: false, title, screen, offscreen };
  }

  async #switchTo(item: ScreenItem | undefined): Promise<void> {
    const { ffplay, xwininfo, display, deathSignalWrapper, registry, startTimeoutMs } = this.#setup;
    if (item && !existsSync(item.path)) {
      this.#reportFailure(item, `the file is gone: ${item.path}`);
      this.#library = this.#library.filter((i) => i !== item);
      return;
    }
    this.#switching = true;
    this.#upcoming = item;
    // Started ahead for exactly this item, it is up already and only moves in (next-player.ts).
    const prepared = item ? await this.#next?.take(item) : (this.#next?.discard(), undefined);
    // A JPEG still takes the player waiting for one, if there is one: it skips ffplay's start-up.
    const warm = !prepared && item && fitsWarmStill(item.media) ? this.#warm?.take(item.path) : undefined;
    const spawnedAt = Date.now();
    const player = prepared ?? warm ?? FfplayPlayer.spawn(ffplay, this.#spec(item), display, deathSignalWrapper);
    if (!prepared && !warm) registry.add(player);
    try {
      if (!prepared) {
        await player.waitVisible(xwininfo, display, startTimeoutMs);
        this.#learnLead(Date.now() - spawnedAt);
      }
      // A frozen player goes on before it moves in: a window moved on screen must repaint itself,
      // which a stopped process cannot (one CI run showed the frame 110 ms late that way).
      player.resume();
      const { mover } = this.#setup;
      if (mover && xwininfo) {
        const moving = Date.now();
        await player.bringOnScreen((windowId) => mover.move(windowId), prepared ? 0 : 20);
        if (prepared) this.#moveMs = 0.7 * this.#moveMs + 0.3 * (Date.now() - moving);
      }
    } catch (err) {
      this.#switching = false;
      await player.stop();
      if (this.#stopped) return;
      this.#reportFailure(item, asNvidError(err, 'NVID_ERR_PLAYER').message);
      this.#library = this.#library.filter((i) => i !== item);
      // Do not spin if the player cannot start at all (broken ffplay, lost display).
      await sleep(250);
      return;
    }
    this.#switching = false;
    if (this.#stopped) {
      await player.stop();
      return;
    }
    const previous = this.#current;
    const showing: Showing = { item, player, ended: false };
    this.#current = showing;
    this.#armTimer(showing);
    // Deleted while its player was starting: it leaves at once, like a deleted item on screen.
    if (item && !existsSync(item.path)) {
      showing.ended = true;
      this.#wake();
    }
    void player.exited.then((exit) => {
      if (exit.expected || this.#stopped) return;
      this.#reportFailure(item, `ffplay exited unexpectedly (exit code ${exit.code ?? '-'}, signal ${exit.signal ?? '-'})${player.lastError ? `: ${player.lastError}` : ''}`);
      this.#dropCurrent(showing);
    });
    if (item) {
      // The player's window is drawn: this is the moment the item is on screen.
      this.#setup.report.shown({ path: item.path, media: item.media, ...(item.meta ? { meta: item.meta } : {}), at: Date.now() });
      this.#setup.log.info({ path: item.path, kind: item.media.kind }, 'showing');
    }
    if (previous) {
      if (previous.timer) clearTimeout(previous.timer);
      if (previous.prepareTimer) clearTimeout(previous.prepareTimer);
      await previous.player.stop();
    }
    this.#resolveFirstShown?.();
    this.#warm?.prepareSoon();
  }

  /**
   * Images end after `imageSeconds` (0: never); videos after their duration,
   * counted from the first frame; an animated GIF after `imageSeconds` (0:
   * never), but not before one whole round of its animation.
   */
  #armTimer(showing: Showing): void {
    if (showing.timer) clearTimeout(showing.timer);
    const media = showing.item?.media;
    if (!media) return;
    const imageSeconds = showing.item?.scheduledSeconds ?? this.#setup.imageSeconds;
    const seconds = isAnimation(media) ? imageSeconds && Math.max(imageSeconds, media.duration) : media.kind === 'video' ? Math.max(media.duration, 0.2) : imageSeconds;
    if (seconds <= 0) return;
    // The next item moves in this long after the time is up: end that much early, so each stays its time.
    const early = this.#next ? this.#moveMs : 0;
    showing.timer = setTimeout(() => {
      showing.ended = true;
      this.#wake();
    }, Math.max(0, seconds * 1000 - early));
    if (this.#next) {
      if (showing.prepareTimer) clearTimeout(showing.prepareTimer);
      showing.prepareTimer = setTimeout(() => this.#prepareNext(showing), Math.max(0, seconds * 1000 - this.#leadMs));
    }
  }

  /**
   * A player came up in `ms`: the next ones start three times that long
   * ahead (a start competing with a playing video can take much longer than
   * the last one did, and a player ready early only waits), following a
   * slower start at once and a faster one slowly.
   */
  #learnLead(ms: number): void {
    const wanted = 3 * ms;
    this.#leadMs = Math.min(8000, Math.max(1000, wanted > this.#leadMs ? wanted : 0.8 * this.#leadMs + 0.2 * wanted));
  }

  /**
   * Has the server keep a prepared player's picture (backing store), then lets the player draw
   * it once more (two status lines, at most 250 ms) before it may be frozen: moved in, it then
   * shows at once. Without the X connection, the move waits for the player to repaint, as before.
   */
  async #keepContents(player: FfplayPlayer): Promise<void> {
    const { mover } = this.#setup;
    if (!mover || !player.windowId) return;
    try {
      if (await mover.keepContents(player.windowId)) await player.printed(2, 250);
    } catch (err) {
      this.#setup.log.debug({ err: (err as Error).message }, 'cannot keep a prepared player\'s picture');
    }
  }

  /** Starts the player of what will follow `showing`, off screen, so it only has to move in when the time comes. */
  #prepareNext(showing: Showing): void {
    if (this.#stopped || this.#current !== showing || showing.ended || !this.#next || this.#next.busy) return;
    const next = this.#peekNext();
    if (!next || !existsSync(next.path)) return;
    const { ffplay, xwininfo, display, deathSignalWrapper, registry, startTimeoutMs } = this.#setup;
    const freeze = next.media.kind === 'video' && !isAnimation(next.media);
    const player = FfplayPlayer.spawn(ffplay, { ...this.#spec(next), ...(freeze ? { videoClock: true } : {}) }, display, deathSignalWrapper);
    registry.add(player);
    const startedAt = Date.now();
    const comeUp = async () => {
      await player.waitVisible(xwininfo, display, startTimeoutMs);
      this.#learnLead(Date.now() - startedAt);
      if (freeze) await this.#keepContents(player);
    };
    this.#next.prepare(next, player, comeUp, freeze);
  }

  /** What will take the screen when the current item ends, if that is known now (nothing is taken off any list). */
  #peekNext(): ScreenItem | undefined {
    const current = this.#current?.item;
    if (this.#programme) {
      if (this.#queue.length > 0 || this.#programme.length === 0) return undefined;
      const next = this.#programme[(this.#programmeAt + 1) % this.#programme.length];
      return next === current ? undefined : next;
    }
    if (this.#setup.policy === 'queue') return this.#queue[0];
    if (this.#setup.policy === 'loop' && this.#library.length > 0) {
      const index = current ? this.#library.findIndex((i) => i.path === current.path) : -1;
      const next = this.#library[(index + 1) % this.#library.length]!;
      return next.path === current?.path ? undefined : next;
    }
    return undefined;
  }

  /** A hung player prints no status line: report it and move on. */
  #checkStall(): void {
    const showing = this.#current;
    if (!showing || !showing.player.running) return;
    const silentMs = Date.now() - showing.player.lastOutputAt;
    if (silentMs < this.#setup.stallTimeoutMs) return;
    this.#reportFailure(showing.item, `ffplay hung: no progress for ${silentMs} ms`);
    this.#dropCurrent(showing);
    void showing.player.stop(200);
  }

  #dropCurrent(showing: Showing): void {
    if (showing.timer) clearTimeout(showing.timer);
    if (this.#current === showing) this.#current = undefined;
    if (showing.item) this.#library = this.#library.filter((i) => i !== showing.item);
    this.#wake();
  }

  #reportFailure(item: ScreenItem | undefined, reason: string): void {
    this.#setup.report.failed({ code: 'NVID_ERR_PLAYER', reason, path: item?.path ?? `idle:${this.#setup.idle}`, ...(item?.meta ? { meta: item.meta } : {}) });
    this.#setup.log.warn({ path: item?.path, reason }, 'player failed');
  }
}
