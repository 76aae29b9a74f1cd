/**
 * Keeps a screen on during its on-hours and asleep outside them: the hours
 * run on the schedule engine's Scheduler (exact instants, one timer, DST by
 * the zoned-time rule, re-evaluation when a timer fires early or late), and
 * each change is handed to `apply` (xset in production) one at a time, in
 * order. Hook-free: the clock and the switch are injected.
 *
 * - Start: the state of the hours now is applied at once, whatever the screen
 *   was (a node started at night starts asleep; one started by day wakes a
 *   screen a crashed run left asleep).
 * - A push while asleep (`pushed()`): the screen stays asleep, unless
 *   `wakeOnPushSeconds` > 0: then it wakes for that long (a later push
 *   extends it) and sleeps again, unless the on-hours began meanwhile.
 * - Stop: a sleeping screen is woken, so no screen stays dark with nobody
 *   left to wake it.
 */
import { playlistTimeline, type Timeline } from '../schedule/timeline.js';
import { Scheduler, systemClock, type SchedulerClock } from '../schedule/scheduler.js';
import type { Active } from '../schedule/evaluate.js';
import type { PowerPlan, PowerState } from './parse.js';

/** Why the screen is in its state. */
export type PowerCause = 'hours' | 'push' | 'stop';

/** A change of the screen's power state, told to `onChange` before it is applied. */
export interface PowerChange {
  readonly state: PowerState;
  readonly cause: PowerCause;
  /** The clock's time of the change. */
  readonly at: number;
  /** When the hours next switch the screen, and to what; undefined: never (or stopped). */
  readonly next?: { readonly at: number; readonly state: PowerState };
}

/** What `status` reports. */
export interface PowerStatus {
  readonly state: PowerState;
  readonly cause: PowerCause;
  /** ISO time of the last change. */
  readonly since: string;
  /** The next switch of the hours; null when none will come. */
  readonly next: { readonly at: string; readonly state: PowerState } | null;
  /** While a push keeps a sleeping screen awake: until when (ISO). */
  readonly wokenUntil?: string;
  readonly timeZone: string;
}

export interface ScreenPowerOptions {
  readonly plan: PowerPlan;
  /** Puts the screen to sleep or wakes it (`setDpms`); a rejection goes to onError. */
  readonly apply: (state: PowerState) => Promise<void>;
  readonly onChange?: (change: PowerChange) => void;
  readonly onError?: (err: unknown, state: PowerState) => void;
  readonly clock?: SchedulerClock;
}

export class ScreenPower {
  readonly #plan: PowerPlan;
  readonly #apply: (state: PowerState) => Promise<void>;
  readonly #onChange: (change: PowerChange) => void;
  readonly #onError: (err: unknown, state: PowerState) => void;
  readonly #clock: SchedulerClock;
  readonly #timeline: Timeline<Active>;
  readonly #scheduler: Scheduler<Active>;
  /** What the hours say. */
  #hours: PowerState | undefined;
  /** What the screen was last told, and why. */
  #state: PowerState | undefined;
  #cause: PowerCause = 'hours';
  #since = 0;
  #wakeTimer: unknown;
  #wokenUntil: number | undefined;
  /** The xset calls, one after another. */
  #chain: Promise<void> = Promise.resolve();
  #running = false;

  constructor(options: ScreenPowerOptions) {
    this.#plan = options.plan;
    this.#apply = options.apply;
    this.#onChange = options.onChange ?? (() => undefined);
    this.#onError = options.onError ?? (() => undefined);
    this.#clock = options.clock ?? systemClock;
    this.#timeline = playlistTimeline(options.plan.schedule);
    this.#scheduler = new Scheduler(this.#timeline, {
      clock: this.#clock,
      onChange: (active) => this.#hoursSay(active.playlist === 'on' ? 'on' : 'off'),
      onError: (err) => this.#onError(err, this.#hours ?? 'on'),
    });
  }

  /** Follows the hours from now on; resolves once the state of the hours now is applied. */
  async start(): Promise<void> {
    if (this.#running) return;
    this.#running = true;
    this.#scheduler.start();
    await this.settled();
  }

  /** Stops following the hours and wakes a sleeping screen. */
  async stop(): Promise<void> {
    if (!this.#running) return;
    this.#running = false;
    this.#scheduler.stop();
    this.#cancelWake();
    if (this.#state === 'off') this.#set('on', 'stop');
    await this.settled();
  }

  /** An item was pushed to the screen. */
  pushed(): void {
    const seconds = this.#plan.wakeOnPushSeconds;
    if (!this.#running || seconds <= 0 || this.#hours !== 'off') return;
    this.#cancelWake();
    this.#wokenUntil = this.#clock.now() + seconds * 1000;
    this.#wakeTimer = this.#clock.setTimer(() => {
      this.#wakeTimer = undefined;
      this.#wokenUntil = undefined;
      if (this.#running && this.#hours === 'off') this.#set('off', 'hours');
    }, seconds * 1000);
    if (this.#state !== 'on') this.#set('on', 'push');
  }

  /** Resolves once every switch asked for so far has been applied (or failed). */
  settled(): Promise<void> {
    return this.#chain;
  }

  get state(): PowerState | undefined {
    return this.#state;
  }

  status(): PowerStatus {
    const next = this.#scheduler.nextChange;
    return {
      state: this.#state ?? 'on',
      cause: this.#cause,
      since: new Date(this.#since).toISOString(),
      next: next === undefined ? null : { at: new Date(next).toISOString(), state: this.#hours === 'on' ? 'off' : 'on' },
      ...(this.#wokenUntil !== undefined ? { wokenUntil: new Date(this.#wokenUntil).toISOString() } : {}),
      timeZone: this.#plan.schedule.timeZone,
    };
  }

  #hoursSay(state: PowerState): void {
    const first = this.#hours === undefined;
    this.#hours = state;
    // On-hours end a push's wake: the screen is on anyway, and sleeps at the next off time.
    if (state === 'on') this.#cancelWake();
    if (first || this.#wokenUntil === undefined) this.#set(state, 'hours', first);
  }

  /** Tells the change and queues the xset calls; `force` applies even an unchanged state (at start). */
  #set(state: PowerState, cause: PowerCause, force = false): void {
    if (state === this.#state && !force) return;
    this.#state = state;
    this.#cause = cause;
    this.#since = this.#clock.now();
    const next = this.#running ? this.#timeline.nextChangeAfter(this.#since) : undefined;
    try {
      this.#onChange({ state, cause, at: this.#since, ...(next !== undefined ? { next: { at: next, state: this.#hours === 'on' ? 'off' : 'on' } as const } : {}) });
    } catch (err) {
      this.#onError(err, state);
    }
    this.#chain = this.#chain.then(() => this.#apply(state)).catch((err: unknown) => this.#onError(err, state));
  }

  #cancelWake(): void {
    if (this.#wakeTimer !== undefined) this.#clock.cancelTimer(this.#wakeTimer);
    this.#wakeTimer = undefined;
    this.#wokenUntil = undefined;
  }
}
