/**
 * The slowest a transfer body may arrive. The idle timeout alone lets a
 * sender hold a transfer slot for as long as it likes by sending a byte now
 * and then; this cuts a body that, over a whole window, comes in slower than
 * the floor. Time in which the receiver itself held the sender back (its body
 * buffer full, the source paused) does not count: a slow disk or a busy
 * decryptor is not the sender's fault.
 */
import { NvidError } from '../../../core/errors.js';

export interface BodyRateOptions {
  /** The floor, in bytes per second of the sender's own time; 0 turns the check off. */
  readonly minBytesPerSecond: number;
  /** How much of the sender's own time one judgement covers. */
  readonly windowMs: number;
  /** Called once, when a window came in under the floor. */
  readonly tooSlow: (err: NvidError) => void;
  /** Internal: the clock, for tests. */
  readonly now?: () => number;
}

/** How often the window is looked at, as a fraction of it: the verdict comes at most a quarter window late. */
const CHECKS_PER_WINDOW = 4;

export class BodyRateFloor {
  private readonly now: () => number;
  private readonly timer: NodeJS.Timeout | undefined;
  private bytes = 0;
  /** The sender's own time in this window, up to `since`. */
  private flowingMs = 0;
  /** When the source last started flowing; undefined while the receiver holds it back. */
  private since: number | undefined;
  private stopped = false;

  constructor(private readonly options: BodyRateOptions) {
    this.now = options.now ?? Date.now;
    this.since = this.now();
    if (options.minBytesPerSecond > 0) {
      this.timer = setInterval(() => this.check(), Math.max(1, Math.floor(options.windowMs / CHECKS_PER_WINDOW)));
      this.timer.unref();
    }
  }

  /** Body bytes arrived. */
  received(bytes: number): void {
    this.bytes += bytes;
  }

  /** The receiver paused the source: the clock stops until {@link released}. */
  held(): void {
    if (this.since === undefined) return;
    this.flowingMs += this.now() - this.since;
    this.since = undefined;
  }

  /** The receiver wants data again: the sender's clock runs. */
  released(): void {
    this.since ??= this.now();
  }

  /** The body is over, one way or the other. */
  stop(): void {
    this.stopped = true;
    clearInterval(this.timer);
  }

  /** Judges the window once it holds a whole window of the sender's time, then starts the next one. */
  check(): void {
    if (this.stopped) return;
    const now = this.now();
    const flowingMs = this.flowingMs + (this.since === undefined ? 0 : now - this.since);
    if (flowingMs < this.options.windowMs) return;
    const rate = (this.bytes * 1000) / flowingMs;
    if (rate < this.options.minBytesPerSecond) {
      this.stop();
      this.options.tooSlow(
        new NvidError(
          'NVID_ERR_TIMEOUT',
          `sender too slow: ${Math.round(rate)} bytes/s over the last ${(flowingMs / 1000).toFixed(1)} s, under this node's floor of ${this.options.minBytesPerSecond} (transport.minBodyBytesPerSecond)`,
          { details: { bytesPerSecond: Math.round(rate), floor: this.options.minBytesPerSecond } },
        ),
      );
      return;
    }
    this.bytes = 0;
    this.flowingMs = 0;
    if (this.since !== undefined) this.since = now;
  }
}
