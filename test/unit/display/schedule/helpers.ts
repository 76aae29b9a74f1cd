/**
 * What the schedule tests share: instants written with their offset (so the
 * expected values do not go through the code under test), the café board of
 * config/cafe-menu-board.json, and a fake clock.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseSignage } from '../../../../plugins/display/schedule/parse.js';
import type { SchedulerClock } from '../../../../plugins/display/schedule/scheduler.js';
import type { Schedule, Signage, SignageInput } from '../../../../plugins/display/schedule/types.js';

/** An instant from ISO text with an explicit offset, e.g. `at('2026-03-29T03:00+02:00')`. */
export function at(iso: string): number {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms) || !/(Z|[+-]\d{2}:\d{2})$/.test(iso)) throw new Error(`write the offset: ${iso}`);
  return ms;
}

/** Checked playlists and schedule from config-shaped input (stills default to 10 s). */
export function signage(input: SignageInput): Signage & { schedule: Schedule } {
  const parsed = parseSignage(input, { imageSeconds: 10 });
  if (!parsed.schedule) throw new Error('the input has no schedule');
  return { playlists: parsed.playlists, schedule: parsed.schedule };
}

/** Config JSON as read from a file. */
type Json = Record<string, any>;

/** The display options of the example café menu board, as shipped (a fresh copy each time). */
export function cafeOptions(): Json {
  const file = fileURLToPath(new URL('../../../../../config/cafe-menu-board.json', import.meta.url));
  const config = JSON.parse(readFileSync(file, 'utf8')) as { plugins: Array<string | { use: string; options: Json }> };
  const display = config.plugins.find((p) => typeof p === 'object' && p.use === 'display');
  if (typeof display !== 'object') throw new Error('the café config has no display plugin');
  return display.options;
}

/**
 * A clock whose time moves only when told. Like the real one, timers follow
 * elapsed time, not the wall clock: `setSystemTime` moves `now()` and leaves
 * every timer due after the same elapsed time it was set for.
 */
export class FakeClock implements SchedulerClock {
  #elapsed = 0;
  #wallAtZero: number;
  #nextId = 0;
  readonly #timers: Array<{ id: number; due: number; fn: () => void }> = [];
  /** Every delay asked for, in order. */
  readonly delays: number[] = [];
  /** Timers fire this many ms before they are due, though never before 1 ms passed (Node's timers may fire a millisecond early by Date.now()). */
  readonly earlyMs: number;

  constructor(start: number, options: { earlyMs?: number } = {}) {
    this.#wallAtZero = start;
    this.earlyMs = options.earlyMs ?? 0;
  }

  now(): number {
    return this.#wallAtZero + this.#elapsed;
  }

  setTimer(fn: () => void, ms: number): number {
    this.delays.push(ms);
    const id = ++this.#nextId;
    this.#timers.push({ id, due: this.#elapsed + Math.max(Math.min(ms, 1), ms - this.earlyMs), fn });
    return id;
  }

  cancelTimer(handle: unknown): void {
    const i = this.#timers.findIndex((t) => t.id === handle);
    if (i >= 0) this.#timers.splice(i, 1);
  }

  /** Timers waiting. */
  get pending(): number {
    return this.#timers.length;
  }

  /** Lets `ms` pass, firing due timers in order, each at its own time. */
  advance(ms: number): void {
    const end = this.#elapsed + ms;
    for (;;) {
      this.#timers.sort((a, b) => a.due - b.due || a.id - b.id);
      const timer = this.#timers[0];
      if (!timer || timer.due > end) break;
      this.#timers.shift();
      this.#elapsed = timer.due;
      timer.fn();
    }
    this.#elapsed = end;
  }

  /** Lets time pass until the wall clock reads `wall`. */
  advanceTo(wall: number): void {
    this.advance(wall - this.now());
  }

  /** Someone sets the system time: the wall clock jumps, timers keep counting elapsed time. */
  setSystemTime(wall: number): void {
    this.#wallAtZero += wall - this.now();
  }
}
