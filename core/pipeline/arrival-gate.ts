/**
 * What the seal hook sees of a file that is still arriving: the bytes written
 * so far, except the last one, until `release()`. The sealer turns the last
 * plaintext byte into the envelope's final chunk, so until the sender's media
 * check has passed on the whole file, no receiver can complete it; a check
 * that fails (or an upload that breaks) fails the gate, the sealer stops
 * short, and the receiver discards what it had.
 */
import type { ArrivingFile, GrowingFile } from '../types.js';

export class ArrivalGate implements GrowingFile {
  readonly #arriving: ArrivingFile;
  #released = false;
  #failure: Error | undefined;
  #waitingForRelease: Array<{ resolve: () => void; reject: (err: Error) => void }> = [];

  constructor(arriving: ArrivingFile) {
    this.#arriving = arriving;
  }

  /** The last byte, held back until `release()`. */
  get #lastByte(): number {
    return this.#arriving.size - 1;
  }

  available(): number {
    const written = this.#arriving.written();
    return this.#released ? written : Math.min(written, this.#lastByte);
  }

  waitBeyond(bytes: number): Promise<void> {
    if (this.#failure) return Promise.reject(this.#failure);
    if (this.#released || bytes < this.#lastByte) return this.#arriving.waitBeyond(bytes);
    return new Promise((resolve, reject) => this.#waitingForRelease.push({ resolve, reject }));
  }

  recent(position: number, max: number): Buffer | undefined {
    const allowed = Math.min(max, this.available() - position);
    return allowed > 0 ? this.#arriving.recent?.(position, allowed) : undefined;
  }

  /** The whole file passed its check: the last byte, and with it the final chunk, may go. */
  release(): void {
    if (this.#failure) return;
    this.#released = true;
    for (const waiter of this.#waitingForRelease) waiter.resolve();
    this.#waitingForRelease = [];
  }

  /** The file failed its check or stopped arriving: the seal stops short with `err`. */
  fail(err: Error): void {
    if (this.#released || this.#failure) return;
    this.#failure = err;
    for (const waiter of this.#waitingForRelease) waiter.reject(err);
    this.#waitingForRelease = [];
  }
}
