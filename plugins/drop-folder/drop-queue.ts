/**
 * The drop folder's work list: which files the watcher reported, which of
 * them may be sent now (at most `concurrency` at once), when a failed one is
 * retried (with backoff, or at once when its peer joins), and shutting down
 * with a grace for running sends. What happens to one file — settling,
 * sending, moving, notes — is its DroppedFileSession's business.
 */
import { relative } from 'node:path';
import { DroppedFileSession, type ItemState, type ItemView, type QueueServices, type SessionContext, type SessionHost, type SessionOptions } from './dropped-file-session.js';
import type { PeerRef } from './file-job.js';
import type { RetryOptions } from './options.js';
import { RetryScheduler } from './retry-scheduler.js';

export type { ItemState, ItemView, QueueServices, AttemptOptions } from './dropped-file-session.js';

export interface DropQueueOptions extends SessionOptions {
  readonly folder: string;
  readonly concurrency: number;
  readonly retry: RetryOptions;
}

export class DropQueue {
  readonly #options: DropQueueOptions;
  readonly #context: SessionContext;
  readonly #sessions = new Map<string, DroppedFileSession>();
  readonly #ready: DroppedFileSession[] = [];
  readonly #running = new Set<Promise<void>>();
  readonly #retries: RetryScheduler<string>;
  readonly #totals = { deliveredFiles: 0, skippedSends: 0 };
  #closed = false;

  constructor(options: DropQueueOptions, services: QueueServices) {
    this.#options = options;
    this.#retries = new RetryScheduler(options.retry, (path) => {
      const session = this.#sessions.get(path);
      if (session?.state === 'waiting') this.#enqueue(session);
    });
    // The sessions' view of the queue: only what they may ask of it.
    const host: SessionHost = {
      isClosed: () => this.#closed,
      enqueue: (session: DroppedFileSession) => this.#enqueue(session),
      release: (session: DroppedFileSession) => this.#release(session),
      scheduleRetry: (session: DroppedFileSession, attempt: number) => this.#retries.schedule(session.path, attempt),
      totals: this.#totals,
    };
    this.#context = { options, services, host };
  }

  /** Whether the queue already tracks `path` (settling, waiting, sending or kept). */
  knows(path: string): boolean {
    return this.#sessions.has(path);
  }

  /** The watcher saw `path` appear or change (absolute path of a file inside the folder). */
  offer(path: string): void {
    if (this.#closed) return;
    const session = this.#sessions.get(path) ?? this.#track(path);
    // A running send is not disturbed: it ends by looking at the file again.
    if (session.state === 'sending') return session.markChanged();
    this.#retries.cancel(path);
    void session.settle();
  }

  /** The watcher saw `path` disappear: forget it and its note. */
  forget(path: string): void {
    const session = this.#sessions.get(path);
    if (!session) return;
    // The send finds the file gone by itself; forgetting it now would lose its bookkeeping.
    if (session.state === 'sending') return session.markChanged();
    session.discard();
  }

  /** A peer joined (or came back): retry at once every file waiting for it. */
  peerAvailable(peer: PeerRef): number {
    let count = 0;
    for (const session of this.#sessions.values()) {
      if (!session.waitsFor(peer)) continue;
      this.#retryNow(session);
      count++;
    }
    return count;
  }

  /** Retries every waiting file now, and also kept ones when `includeHeld` (the user asked). */
  retryNow(includeHeld = false): number {
    let count = 0;
    for (const session of this.#sessions.values()) {
      if (session.state !== 'waiting' && !(includeHeld && session.state === 'held')) continue;
      session.forgetRefusals();
      this.#retryNow(session);
      count++;
    }
    return count;
  }

  /** Every file the queue knows, oldest first. */
  list(): ItemView[] {
    return [...this.#sessions.values()].map((session) => session.view(this.#retries.dueAt(session.path)));
  }

  /** Counts per state, plus totals since start. */
  counts(): Record<ItemState, number> & { deliveredFiles: number; skippedSends: number } {
    const counts = { settling: 0, queued: 0, sending: 0, waiting: 0, held: 0, ...this.#totals };
    for (const session of this.#sessions.values()) counts[session.state]++;
    return counts;
  }

  /**
   * Stops taking work, cancels waits and retries, and gives running sends up
   * to `timeoutMs` to finish; then cancels those still running (through the
   * signal each send was given).
   */
  async close(timeoutMs: number): Promise<void> {
    this.#closed = true;
    this.#retries.close();
    for (const session of this.#sessions.values()) session.stopSettling();
    this.#ready.length = 0;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.allSettled([...this.#running]), new Promise((r) => (timer = setTimeout(r, timeoutMs)))]);
    clearTimeout(timer);
    const reason = new Error('the drop folder is closing');
    for (const session of this.#sessions.values()) session.cancelSend(reason);
  }

  #track(path: string): DroppedFileSession {
    const session = new DroppedFileSession(path, relative(this.#options.folder, path), this.#context);
    this.#sessions.set(path, session);
    return session;
  }

  /** A session is done with its file: no retry, no entry. */
  #release(session: DroppedFileSession): void {
    this.#retries.cancel(session.path);
    this.#sessions.delete(session.path);
  }

  /** Skips the backoff wait: the file goes back in line now. */
  #retryNow(session: DroppedFileSession): void {
    this.#retries.cancel(session.path);
    this.#enqueue(session);
  }

  #enqueue(session: DroppedFileSession): void {
    if (this.#closed) return;
    session.markQueued();
    this.#ready.push(session);
    this.#pump();
  }

  /** Starts queued sessions while slots are free; one that was released or re-settled meanwhile is skipped. */
  #pump(): void {
    while (!this.#closed && this.#running.size < this.#options.concurrency && this.#ready.length > 0) {
      const session = this.#ready.shift()!;
      if (session.state !== 'queued' || this.#sessions.get(session.path) !== session) continue;
      const run = session.send().finally(() => {
        this.#running.delete(run);
        this.#pump();
      });
      this.#running.add(run);
    }
  }
}
