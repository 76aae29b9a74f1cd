/**
 * The bundled `display` plugin: shows validated media full screen with ffplay
 * on X11, one item at a time, with a policy for arrivals (replace, queue,
 * loop), an idle screen, crash and hang detection, and screenshots. With
 * `output: "headless"` it only keeps files (nodes with no screen).
 *
 * With `power`, the screen sleeps (DPMS) outside its on-hours (power/).
 *
 * With `playlists` and `schedule`, or a schedule set with `nvid schedule set`
 * (kept in the state folder, it wins over the config's), the screen plays its
 * schedule (schedule-runner.ts, schedule-keeper.ts).
 *
 * Taps `beforeStart` (binaries, display, leftovers of a crashed run), `start`,
 * `stop`, `display`, `screen` (status, skip, clear, show again), `schedule`
 * (show or replace the playlists and schedule), `itemDeleted`
 * (a deleted file leaves the screen at once), `screenshot` and `status`.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { NvidError } from '../../core/errors.js';
import type { DisplayAccepted } from '../../core/hooks.js';
import type { NvidPlugin, PluginHost } from '../../core/plugin-api.js';
import { findOnPath, resolveBinary } from '../../core/media-tools/binaries.js';
import { DISPLAY_ERROR_CODES } from './errors.js';
import { LibraryScan, listLibrary } from './library.js';
import { DISPLAY_OPTIONS_SCHEMA, type DisplayOptions } from './options.js';
import { PlayerRegistry } from './player-registry.js';
import { checkDpms, setDpms } from './power/dpms.js';
import { parsePower, type PowerPlan } from './power/parse.js';
import { ScreenPower } from './power/screen-power.js';
import { parseSignage } from './schedule/parse.js';
import type { SchedulerClock } from './schedule/scheduler.js';
import type { Signage } from './schedule/types.js';
import { ScheduleKeeper } from './schedule-keeper.js';
import { ScheduleRunner } from './schedule-runner.js';
import { SCHEDULE_FILE } from './schedule-store.js';
import { ScreenController } from './screen-controller.js';
import { WindowMover } from './window-mover.js';
import { grabScreenPng, probeDisplay } from './x11.js';

export const PLUGIN_NAME = 'display';

export type { DisplayOptions, DisplayPolicy } from './options.js';

/** Library files checked at once behind the first picture (each check is mostly an ffprobe process starting). */
const BACKGROUND_CHECKS = 2;

/** Name of the pid file of running players, in the state folder. */
export const PLAYERS_FILE = 'display-players.json';

export default class DisplayPlugin implements NvidPlugin {
  static readonly pluginName = PLUGIN_NAME;
  static readonly schema = DISPLAY_OPTIONS_SCHEMA;
  static readonly apiVersion = 2;
  static readonly provides = ['display'] as const;
  static readonly errorCodes = DISPLAY_ERROR_CODES;

  private readonly options: DisplayOptions;
  private controller: ScreenController | undefined;
  private runner: ScheduleRunner | undefined;
  /** The config's checked playlists and schedule; a broken one is refused at start, every problem listed. */
  private readonly signage: Signage | undefined;
  /** The playlists and schedule that play: a set one kept in the state folder, else the config's. */
  private keeper: ScheduleKeeper | undefined;
  /** Schedule requests, one at a time: a second set waits for the first to be kept and playing. */
  private scheduleTurn: Promise<unknown> = Promise.resolve();
  private readonly powerPlan: PowerPlan | undefined;
  private readonly clock: SchedulerClock | undefined;
  private power: ScreenPower | undefined;
  /** `loop`: the check of the library files after the first, running behind the screen. */
  private scan: LibraryScan | undefined;
  private scanning: Promise<void> | undefined;

  /**
   * @param options already validated against `schema`, defaults filled in
   * @param seams for tests: the clock the power hours run on (default: the system's)
   */
  constructor(options: DisplayOptions, seams: { clock?: SchedulerClock } = {}) {
    this.options = options;
    this.clock = seams.clock;
    // Like the schedule: broken hours are refused at start, every problem listed.
    this.powerPlan = options.power ? parsePower(options.power, { prefix: `${PLUGIN_NAME}.options.power` }) : undefined;
    if (options.playlists || options.schedule) this.signage = parseSignage(options, { imageSeconds: options.imageSeconds, prefix: `${PLUGIN_NAME}.options` });
  }

  apply(daemon: PluginHost): void {
    if (daemon.role !== 'node') return;
    const options = this.options;
    if (options.output === 'headless') {
      daemon.hooks.display.tapPromise(PLUGIN_NAME, async (): Promise<DisplayAccepted> => ({ state: 'kept' }));
      daemon.hooks.screenshot.tapPromise(PLUGIN_NAME, async () => {
        throw new NvidError('NVID_ERR_NOT_AVAILABLE', 'this node is headless (display output "headless"): it keeps files but has no screen to capture');
      });
      daemon.hooks.screen.tapPromise(PLUGIN_NAME, async () => {
        throw new NvidError('NVID_ERR_NOT_AVAILABLE', 'this node is headless (display output "headless"): it keeps files but has no screen to steer');
      });
      daemon.hooks.schedule.tapPromise(PLUGIN_NAME, async () => {
        throw new NvidError('NVID_ERR_NOT_AVAILABLE', 'this node is headless (display output "headless"): it keeps files but has no screen to play a schedule on');
      });
      daemon.hooks.status.tap(PLUGIN_NAME, (report) => ({ ...report, display: { output: 'headless' } }));
      return;
    }

    const display = options.display ?? process.env.DISPLAY ?? '';
    let ffmpeg: string | undefined;
    let xset: string | undefined;
    let xdotool: string | undefined;
    let prepared: Omit<ConstructorParameters<typeof ScreenController>[0], 'report' | 'log'> | undefined;
    const screenPowers = daemon.screen;
    if (!screenPowers) throw new Error('the host gave no screen powers (is another display plugin listed?)');
    // A schedule set earlier (kept in the state folder) wins over the config's; a broken one stops the start, naming the file.
    const keeper = new ScheduleKeeper({
      file: join(daemon.stateDir, SCHEDULE_FILE),
      imageSeconds: options.imageSeconds,
      config: this.signage ? { document: { ...(options.playlists ? { playlists: options.playlists } : {}), ...(options.schedule ? { schedule: options.schedule } : {}) }, signage: this.signage } : undefined,
    });
    this.keeper = keeper;
    if (keeper.describe(null).source === 'set') daemon.log.info({ file: join(daemon.stateDir, SCHEDULE_FILE) }, 'playing the schedule set with nvid schedule set (it wins over the config)');

    /** Stops the schedule that runs (if any) and starts the one the keeper holds: applied at once. */
    const runSchedule = async (controller: ScreenController): Promise<boolean> => {
      this.runner?.stop();
      this.runner = undefined;
      const signage = keeper.signage;
      if (!signage?.schedule) return false;
      // A schedule runs the screen (not the loop): what plays now is handed over before the first picture.
      const runner = new ScheduleRunner({
        signage: { ...signage, schedule: signage.schedule },
        libraryDir: daemon.libraryDir,
        configDir: daemon.configDir,
        validate: (path) => daemon.validateMedia(path),
        apply: (items) => controller.setProgramme(items),
        log: daemon.log,
      });
      this.runner = runner;
      await runner.start();
      return true;
    };

    daemon.hooks.beforeStart.tapPromise(PLUGIN_NAME, async () => {
      const ffplay = (await resolveBinary('ffplay', options.ffplay, `${PLUGIN_NAME}.options.ffplay`, daemon.configDir)).path;
      ffmpeg = (await resolveBinary('ffmpeg', options.ffmpeg, `${PLUGIN_NAME}.options.ffmpeg`, daemon.configDir)).path;
      if (!display) throw new NvidError('NVID_ERR_DISPLAY_UNAVAILABLE', 'no X display: set DISPLAY or the display option, or use output "headless"');
      const xwininfo = findOnPath('xwininfo');
      if (!xwininfo) daemon.log.warn('xwininfo not found (apt-get install x11-utils): switching between items waits a fixed time instead of watching the window');
      // The fallback mover, where the screen cannot keep an X connection (window-mover.ts).
      xdotool = findOnPath('xdotool');
      // Without xwininfo the display cannot be checked here; ffplay then reports it per item.
      const screen = xwininfo ? await probeDisplay(xwininfo, display) : { width: 1920, height: 1080 };
      // Only a node that is to sleep needs xset and DPMS; it fails here rather than stay lit all night.
      if (this.powerPlan) xset = await checkDpms(display);
      const idle = options.idle === 'black' ? 'black' : resolve(daemon.configDir, options.idle);
      if (idle !== 'black' && !existsSync(idle)) daemon.log.warn({ idle }, 'the idle image does not exist: the idle screen is black');
      const registry = new PlayerRegistry(join(daemon.stateDir, PLAYERS_FILE));
      const leftovers = registry.killLeftovers();
      if (leftovers > 0) daemon.log.warn({ killed: leftovers }, 'stopped players left behind by a previous run');
      prepared = {
        ffplay,
        xwininfo,
        deathSignalWrapper: findOnPath('setpriv'),
        display,
        screen,
        policy: options.policy,
        imageSeconds: options.imageSeconds,
        audio: options.audio,
        // A relative idle image is relative to the config file, like every path in the config.
        idle,
        startTimeoutMs: options.startTimeoutMs,
        stallTimeoutMs: options.stallTimeoutMs,
        warmStills: options.warmStills,
        view: { rotation: options.rotation, fit: options.fit },
        registry,
      };
    });

    daemon.hooks.start.tapPromise(PLUGIN_NAME, async () => {
      if (!prepared) throw new NvidError('NVID_ERR_DISPLAY_UNAVAILABLE', 'the display plugin was started without beforeStart');
      prepared.registry.open();
      if (this.powerPlan && xset) {
        const xsetPath = xset;
        this.power = new ScreenPower({
          plan: this.powerPlan,
          ...(this.clock ? { clock: this.clock } : {}),
          apply: (state) => setDpms(xsetPath, display, state),
          onChange: ({ state, cause, next }) => {
            const fields = { state, cause, ...(next ? { next: new Date(next.at).toISOString(), nextState: next.state } : {}) };
            daemon.log.info(fields, state === 'off' ? 'screen put to sleep' : 'screen woken');
            daemon.history.append('screen-power', fields);
          },
          onError: (err, state) => daemon.log.error({ err, state }, `could not ${state === 'off' ? 'put the screen to sleep' : 'wake the screen'}`),
        });
        // Before anything shows: a node started at night starts with its screen asleep.
        await this.power.start();
      }
      const mover = prepared.xwininfo ? await WindowMover.create(display, xdotool, daemon.log) : undefined;
      const controller = new ScreenController({ ...prepared, ...(mover ? { mover } : {}), report: screenPowers, log: daemon.log });
      this.controller = controller;
      if (await runSchedule(controller)) {
        await controller.start();
        return;
      }
      if (options.policy !== 'loop') {
        await controller.start();
        return;
      }
      // The library is checked with the media rules the user configured, through the host: not a copy of them.
      // The first file that passes goes on screen at once; the rest are checked behind it and join the cycle.
      const startedAt = Date.now();
      const scan = new LibraryScan(await listLibrary(daemon.libraryDir), (path) => daemon.validateMedia(path), daemon.log);
      this.scan = scan;
      const first = await scan.nextItem();
      await controller.start(first ? [first] : []);
      this.scanning = scan.rest((item) => controller.addToLoop(item), BACKGROUND_CHECKS).then(() => {
        const { total, skipped } = scan.progress;
        daemon.log.info({ files: total, skipped, ms: Date.now() - startedAt }, 'library checked');
      });
    });

    daemon.hooks.stop.tapPromise(PLUGIN_NAME, async () => {
      this.scan?.stop();
      await this.scanning;
      this.scan = undefined;
      this.runner?.stop();
      this.runner = undefined;
      await this.controller?.stop();
      this.controller = undefined;
      // A screen nvid put to sleep is woken: nobody would be left to wake it.
      await this.power?.stop();
      this.power = undefined;
    });

    daemon.hooks.display.tapPromise(PLUGIN_NAME, async (request): Promise<DisplayAccepted> => {
      if (!this.controller) throw new NvidError('NVID_ERR_DISPLAY_UNAVAILABLE', 'the display is not running (the node has not started or is stopping)');
      const state = this.controller.submit({ path: request.path, media: request.media, meta: request.meta });
      this.power?.pushed();
      return state === 'queued' ? { state, position: Math.max(0, this.controller.waiting - 1) } : { state };
    });

    daemon.hooks.screen.tapPromise(PLUGIN_NAME, async (request) => {
      const controller = this.controller;
      if (!controller) throw new NvidError('NVID_ERR_DISPLAY_UNAVAILABLE', 'the display is not running (the node has not started or is stopping)');
      if (request.action === 'skip') controller.skip();
      else if (request.action === 'clear') controller.clear();
      else if (request.action === 'show') controller.showNow({ path: request.path, media: await daemon.validateMedia(request.path) });
      // One turn of the event loop lets the screen pick what comes next, so the answer shows the action's effect.
      if (request.action !== 'status') await new Promise((resolve) => setImmediate(resolve));
      return controller.state();
    });

    daemon.hooks.schedule.tapPromise(PLUGIN_NAME, (request) => {
      const turn = this.scheduleTurn.then(async () => {
        if (request.action === 'set') {
          keeper.set(request.signage, request.by);
          daemon.log.info({ by: request.by?.name ?? 'this node' }, 'a new schedule was set and kept; it plays now');
          // Before start (or while stopping) there is no screen yet: start plays the kept schedule.
          if (this.controller) await runSchedule(this.controller);
        }
        return keeper.describe(this.runner ? this.runner.status : null);
      });
      this.scheduleTurn = turn.catch(() => undefined);
      return turn;
    });

    daemon.hooks.itemDeleted.tapPromise(PLUGIN_NAME, async ({ path }) => this.controller?.forget(path));

    daemon.hooks.screenshot.tapPromise(PLUGIN_NAME, async (request) => {
      if (!ffmpeg || !this.controller) throw new NvidError('NVID_ERR_DISPLAY_UNAVAILABLE', 'the display is not running');
      return grabScreenPng(ffmpeg, display, request.out);
    });

    daemon.hooks.status.tap(PLUGIN_NAME, (report) => ({
      ...report,
      display: {
        output: 'x11',
        display,
        policy: options.policy,
        showing: this.controller?.showing ?? null,
        ...(this.runner ? { schedule: this.runner.status } : {}),
        ...(this.scan ? { library: this.scan.progress } : {}),
        ...(this.power ? { power: this.power.status() } : {}),
      },
    }));
  }
}
