/**
 * Rate and time left of one transfer, for progress bars. The rate is taken
 * over the whole transfer so far: a bar that jumps with every chunk's timing
 * tells a person less than a steady average.
 */
export class RateMeter {
  readonly #total: number;
  readonly #startedAt = Date.now();

  constructor(total: number) {
    this.#total = total;
  }

  at(bytes: number, now = Date.now()): { bytes: number; total: number; rate: number; secondsLeft?: number } {
    const seconds = (now - this.#startedAt) / 1000;
    const rate = seconds > 0 ? Math.round(bytes / seconds) : 0;
    const left = Math.max(0, this.#total - bytes);
    return rate > 0 ? { bytes, total: this.#total, rate, secondsLeft: Math.round((left / rate) * 10) / 10 } : { bytes, total: this.#total, rate };
  }
}
