/**
 * Runs a timeline against a clock: tells `onChange` the value at start, then
 * again exactly at each instant it changes, with one timer armed at a time.
 *
 * The clock is injected (`now`, `setTimer`, `cancelTimer`) so tests run a
 * week of schedule in no time, and so nothing here reads the system clock.
 *
 * Timers are not trusted to be on time:
 * - setTimeout holds at most 2^31-1 ms (about 24.8 days); a longer wait is
 *   cut into timers of at most `maxDelayMs`, each re-computing on firing.
 * - Timers run on a monotonic clock while `now()` is the wall clock. If the
 *   system time is set (NTP at boot, a person), a timer fires early or late
 *   by wall time. So firing never assumes the change it was armed for has
 *   come: it re-evaluates at `now()`, tells `onChange` only if the value
 *   differs from the last one told, and arms again for the next change after
 *   `now()`. A timer that fires a millisecond early just re-arms for the
 *   remaining millisecond.
 * - Between timers a jump goes unseen; an owner that learns of one calls
 *   `recheck()`, or sets a smaller `maxDelayMs` to bound how long a jump can
 *   go unnoticed.
 */
import type { Timeline } from './timeline.js';

/** The most setTimeout can wait; longer delays fire at once. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

export interface SchedulerClock {
  /** Wall-clock time, ms since the epoch. */
  now(): number;
  /** Calls `fn` once after `ms` milliseconds; returns a handle for cancelTimer. */
  setTimer(fn: () => void, ms: number): unknown;
  cancelTimer(handle: unknown): void;
}

/** The real clock: Date.now and setTimeout, unref'd (a pending switch alone does not keep a process alive). */
export const systemClock: SchedulerClock = {
  now: () => Date.now(),
  setTimer: (fn, ms) => setTimeout(fn, ms).unref(),
  cancelTimer: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

export interface SchedulerOptions<T> {
  readonly clock?: SchedulerClock;
  /** Told the value at start and at each change; `at` is the clock's time then. */
  readonly onChange: (value: T, at: number) => void;
  /** Told when onChange throws; the scheduler keeps running. */
  readonly onError?: (err: unknown) => void;
  /** The longest single timer (capped at MAX_TIMER_MS). */
  readonly maxDelayMs?: number;
}

export class Scheduler<T> {
  readonly #timeline: Timeline<T>;
  readonly #clock: SchedulerClock;
  readonly #onChange: (value: T, at: number) => void;
  readonly #onError: (err: unknown) => void;
  readonly #maxDelayMs: number;
  #timer: unknown;
  #armed = false;
  #running = false;
  #told: { value: T } | undefined;
  #next: number | undefined;

  constructor(timeline: Timeline<T>, options: SchedulerOptions<T>) {
    this.#timeline = timeline;
    this.#clock = options.clock ?? systemClock;
    this.#onChange = options.onChange;
    this.#onError = options.onError ?? (() => undefined);
    this.#maxDelayMs = Math.max(1, Math.min(options.maxDelayMs ?? MAX_TIMER_MS, MAX_TIMER_MS));
  }

  /** The value last told to onChange. */
  get current(): T | undefined {
    return this.#told?.value;
  }

  /** When the value changes next, as computed at the last evaluation; undefined: never (or stopped). */
  get nextChange(): number | undefined {
    return this.#running ? this.#next : undefined;
  }

  /** Tells onChange the value now and follows the timeline from there. */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#evaluate();
  }

  stop(): void {
    this.#running = false;
    this.#disarm();
  }

  /** Re-evaluates now, e.g. after the system time was set; tells onChange only if the value differs. */
  recheck(): void {
    if (!this.#running) return;
    this.#disarm();
    this.#evaluate();
  }

  #evaluate(): void {
    const now = this.#clock.now();
    const value = this.#timeline.at(now);
    if (!this.#told || !this.#timeline.same(this.#told.value, value)) {
      this.#told = { value };
      try {
        this.#onChange(value, now);
      } catch (err) {
        this.#onError(err);
      }
      if (!this.#running) return; // onChange stopped us
    }
    this.#next = this.#timeline.nextChangeAfter(now);
    if (this.#next === undefined) return;
    const delay = Math.min(Math.max(this.#next - now, 0), this.#maxDelayMs);
    this.#armed = true;
    this.#timer = this.#clock.setTimer(() => {
      this.#armed = false;
      if (this.#running) this.#evaluate();
    }, delay);
  }

  #disarm(): void {
    if (this.#armed) this.#clock.cancelTimer(this.#timer);
    this.#armed = false;
  }
}
