/**
 * When to try a failed file again: exponential backoff per file, and "now"
 * when the peer it waits for joins. Holds one timer per key; knows nothing of
 * files or peers.
 */
import type { RetryOptions } from './options.js';

/**
 * The wait before retry number `attempt` (1 = the first retry):
 * `initialMs * factor^(attempt-1)`, at most `maxMs`.
 */
export function backoffDelay(attempt: number, options: RetryOptions): number {
  const exponent = Math.max(0, attempt - 1);
  const delay = options.initialMs * options.factor ** exponent;
  return Math.min(options.maxMs, Math.round(Number.isFinite(delay) ? delay : options.maxMs));
}

/** One timer per key; firing calls `onDue(key)`. */
export class RetryScheduler<K> {
  readonly #options: RetryOptions;
  readonly #onDue: (key: K) => void;
  readonly #timers = new Map<K, { timer: NodeJS.Timeout; dueAt: number }>();
  #closed = false;

  constructor(options: RetryOptions, onDue: (key: K) => void) {
    this.#options = options;
    this.#onDue = onDue;
  }

  /**
   * Schedules retry number `attempt` for `key`, replacing any earlier timer.
   * @returns when it is due (ms since the epoch)
   */
  schedule(key: K, attempt: number): number {
    this.cancel(key);
    const wait = backoffDelay(attempt, this.#options);
    const dueAt = Date.now() + wait;
    if (this.#closed) return dueAt;
    const timer = setTimeout(() => {
      this.#timers.delete(key);
      this.#onDue(key);
    }, wait);
    // A pending retry must not keep the process alive on its own.
    timer.unref();
    this.#timers.set(key, { timer, dueAt });
    return dueAt;
  }

  /** Runs `key`'s retry at once if one is scheduled; returns whether it was. */
  fireNow(key: K): boolean {
    if (!this.#timers.has(key)) return false;
    this.cancel(key);
    this.#onDue(key);
    return true;
  }

  cancel(key: K): void {
    const entry = this.#timers.get(key);
    if (!entry) return;
    clearTimeout(entry.timer);
    this.#timers.delete(key);
  }

  /** When `key`'s retry is due, if one is scheduled. */
  dueAt(key: K): number | undefined {
    return this.#timers.get(key)?.dueAt;
  }

  get scheduled(): number {
    return this.#timers.size;
  }

  /** Cancels everything; later `schedule` calls start no timers. */
  close(): void {
    this.#closed = true;
    for (const key of [...this.#timers.keys()]) this.cancel(key);
  }
}
