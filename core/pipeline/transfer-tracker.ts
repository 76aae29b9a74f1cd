/**
 * Transfers in flight, both ways: what `nvid status` lists, what the disk
 * check counts as still owed, and the throttle that turns per-chunk byte
 * counts into progress events.
 */
import type { ProgressEvent } from '../types.js';

/** How often a transfer's progress goes out as an event (the last byte always does). */
const PROGRESS_INTERVAL_MS = 200;

type ActiveTransfer = { -readonly [K in keyof ProgressEvent]: ProgressEvent[K] } & { startedAt: number; reportedAt: number };

/** Transfers in flight, for `nvid status` and progress events. */
export class TransferTracker {
  readonly #active = new Map<string, ActiveTransfer>();

  /**
   * Starts tracking a transfer under `key` (its transfer ID, unless one
   * envelope goes to several peers at once: then one key per delivery).
   */
  begin(event: ProgressEvent, key = event.transferId): void {
    this.#active.set(key, { ...event, startedAt: Date.now(), reportedAt: 0 });
  }

  /**
   * Records progress; returns an event to publish at most every 200 ms and at
   * the end, since progress arrives per 64 KiB chunk, thousands of times a second.
   */
  update(key: string, bytes: number): ProgressEvent | undefined {
    const current = this.#active.get(key);
    if (!current) return undefined;
    current.bytes = bytes;
    const now = Date.now();
    if (bytes < current.total && now - current.reportedAt < PROGRESS_INTERVAL_MS) return undefined;
    current.reportedAt = now;
    return { transferId: current.transferId, direction: current.direction, bytes, total: current.total, peerName: current.peerName };
  }

  end(key: string): void {
    this.#active.delete(key);
  }

  /** Bytes still to come into transfers being received. */
  owedToReceives(): number {
    let owed = 0;
    for (const t of this.#active.values()) if (t.direction === 'receive') owed += Math.max(0, t.total - t.bytes);
    return owed;
  }

  list(): Array<ProgressEvent & { startedAt: number }> {
    return [...this.#active.values()].map(({ reportedAt: _r, ...rest }) => rest);
  }
}
