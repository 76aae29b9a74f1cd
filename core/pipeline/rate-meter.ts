/**
 * Rate and time left of one transfer, for progress bars. The rate is taken
 * over the transfer so far, not per chunk: a bar that jumps with every
 * chunk's timing tells a person less than a steady average. The clock starts
 * with the first bytes reported, so connecting and the receiver's first
 * checks do not make the early rate (and the time left) look far worse than
 * the transfer is.
 */
export class RateMeter {
  readonly #total: number;
  readonly #createdAt = Date.now();
  #first: { at: number; bytes: number } | undefined;

  constructor(total: number) {
    this.#total = total;
  }

  at(bytes: number, now = Date.now()): { bytes: number; total: number; rate: number; secondsLeft?: number } {
    const first = this.#first;
    this.#first ??= { at: now, bytes };
    // Until a second report there is nothing to measure from but the start.
    const since = first && now > first.at ? first : { at: this.#createdAt, bytes: 0 };
    const seconds = (now - since.at) / 1000;
    const rate = seconds > 0 ? Math.round((bytes - since.bytes) / seconds) : 0;
    const left = Math.max(0, this.#total - bytes);
    return rate > 0 ? { bytes, total: this.#total, rate, secondsLeft: Math.round((left / rate) * 10) / 10 } : { bytes, total: this.#total, rate };
  }
}
