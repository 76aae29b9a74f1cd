/**
 * Which coordinator a node tries next, when it lists several that share one
 * directory. The node stays with whichever one took it; when that link drops
 * (or an attempt fails) it moves on to the next in the list, wrapping round.
 * The backoff grows only once a whole round failed, so a dead coordinator
 * costs one quick retry, not a slower pace for the live ones.
 */

export interface CoordinatorAddress {
  readonly host: string;
  readonly port: number;
  /** The pinned certificate fingerprint of this coordinator (each has its own). */
  readonly fingerprint?: string;
}

export class CoordinatorRotation {
  readonly addresses: readonly CoordinatorAddress[];
  private index = 0;
  /** Attempts since the last coordinator that took us. */
  private failures = 0;

  constructor(addresses: readonly CoordinatorAddress[]) {
    if (addresses.length === 0) throw new Error('a node needs at least one coordinator address');
    this.addresses = addresses;
  }

  get current(): CoordinatorAddress {
    return this.addresses[this.index]!;
  }

  /** `host:port` of the current coordinator, as logs, status and the pin file name it. */
  get label(): string {
    return `${this.current.host}:${this.current.port}`;
  }

  /** The current coordinator took us: the next failure starts a fresh round. */
  joined(): void {
    this.failures = 0;
  }

  /** The link to the current coordinator failed or dropped: the next one is tried. Returns the backoff attempt to wait for (full rounds failed). */
  next(): number {
    this.index = (this.index + 1) % this.addresses.length;
    this.failures += 1;
    return Math.floor((this.failures - 1) / this.addresses.length);
  }
}
