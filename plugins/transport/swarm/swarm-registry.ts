/**
 * The shared transfers this node holds pieces of, as a source (the sender's
 * sealed envelope) or as a recipient (its growing copy), by transfer ID; and
 * the verdicts recipients report after their control link was lost.
 *
 * A pull can arrive a moment before the offer that makes this node hold the
 * transfer (the sender offers to every recipient at once, and the next one
 * in line asks this one straight away), so `waitFor` lets it wait briefly.
 */
import type { PieceStore } from './piece-store.js';
import type { SwarmReportMessage } from '../wire/wire-messages.js';

type Report = Omit<SwarmReportMessage, 'type' | 'transferId'>;

export class SwarmRegistry {
  private readonly stores = new Map<string, PieceStore>();
  private readonly waiting = new Map<string, Set<(store: PieceStore) => void>>();
  private readonly reportWaiters = new Map<string, (report: Report) => void>();
  /** Piece bytes this node sent to pullers since it started (status `sharedBytesServed`): what its uplink carried for shared transfers. */
  servedBytes = 0;

  register(store: PieceStore): void {
    const id = store.manifest.transferId;
    this.stores.set(id, store);
    for (const wake of this.waiting.get(id) ?? []) wake(store);
    this.waiting.delete(id);
  }

  unregister(store: PieceStore): void {
    const id = store.manifest.transferId;
    if (this.stores.get(id) === store) this.stores.delete(id);
  }

  get(transferId: string): PieceStore | undefined {
    return this.stores.get(transferId);
  }

  /** The store for `transferId`, waiting up to `ms` for it to be registered. */
  waitFor(transferId: string, ms: number): Promise<PieceStore | undefined> {
    const now = this.stores.get(transferId);
    if (now) return Promise.resolve(now);
    return new Promise((resolve) => {
      const set = this.waiting.get(transferId) ?? new Set();
      this.waiting.set(transferId, set);
      const wake = (store: PieceStore | undefined) => {
        clearTimeout(timer);
        set.delete(wake);
        if (set.size === 0 && this.waiting.get(transferId) === set) this.waiting.delete(transferId);
        resolve(store);
      };
      const timer = setTimeout(() => wake(undefined), ms);
      timer.unref();
      set.add(wake);
    });
  }

  /** The sender waits for a recipient's report under `transferId>recipientId`; returns the cancel. */
  expectReport(transferId: string, recipientId: string, onReport: (report: Report) => void): () => void {
    const key = `${transferId}>${recipientId}`;
    this.reportWaiters.set(key, onReport);
    return () => {
      if (this.reportWaiters.get(key) === onReport) this.reportWaiters.delete(key);
    };
  }

  /** A recipient's report arrived; false when nobody here waits for it (the send is over, or never was). */
  report(transferId: string, recipientId: string, report: Report): boolean {
    const waiter = this.reportWaiters.get(`${transferId}>${recipientId}`);
    if (!waiter) return false;
    waiter(report);
    return true;
  }
}
