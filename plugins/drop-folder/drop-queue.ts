/**
 * The drop folder's work list: every file the watcher reported, from "still
 * being written" to delivered. It waits for each file to settle, runs at most
 * `concurrency` deliveries at once, keeps failed files with a note beside them
 * and retries them with backoff (or at once when their peer joins), and moves
 * or deletes a file only once every target acknowledged it.
 */
import { rmSync } from 'node:fs';
import { relative } from 'node:path';
import { asNvidError } from '../../core/errors.js';
import { removeNote, writeNote, type TargetFailure } from './error-notes.js';
import { deliverToTargets, type JobResult, type JobServices, type PeerRef } from './file-job.js';
import type { AfterSend, RetryOptions } from './options.js';
import { RetryScheduler } from './retry-scheduler.js';
import { moveToSent } from './sent-folder.js';
import { sameSnapshot, waitUntilStable, type FileSnapshot } from './stability.js';
import { targetsFor } from './targets.js';

/** Where a file is: being written, waiting for a slot, being sent, waiting to retry, or kept until it changes. */
export type ItemState = 'settling' | 'queued' | 'sending' | 'waiting' | 'held';

export interface DropQueueOptions {
  readonly folder: string;
  readonly sentFolder: string;
  readonly afterSend: AfterSend;
  readonly to: readonly string[];
  readonly concurrency: number;
  readonly stableMs: number;
  readonly pollMs: number;
  readonly retry: RetryOptions;
}

/** One file, as `nvid status` and the `drop-folder` control command show it. */
export interface ItemView {
  readonly file: string;
  readonly state: ItemState;
  readonly size?: number;
  readonly attempts: number;
  readonly delivered: readonly string[];
  readonly failures: readonly TargetFailure[];
  readonly nextRetry?: string;
}

interface Item {
  readonly path: string;
  readonly rel: string;
  state: ItemState;
  snapshot?: FileSnapshot;
  attempts: number;
  delivered: readonly string[];
  failures: readonly TargetFailure[];
  /** Targets that refused this content, and the snapshot it had then: not re-sent until the file changes. */
  refused: Map<string, TargetFailure>;
  refusedSnapshot?: FileSnapshot;
  changedWhileSending: boolean;
  settle?: AbortController;
}

export class DropQueue {
  readonly #options: DropQueueOptions;
  readonly #services: JobServices;
  readonly #items = new Map<string, Item>();
  readonly #ready: Item[] = [];
  readonly #running = new Set<Promise<void>>();
  readonly #retries: RetryScheduler<string>;
  #closed = false;
  #deliveredFiles = 0;
  #skippedSends = 0;

  constructor(options: DropQueueOptions, services: JobServices) {
    this.#options = options;
    this.#services = services;
    this.#retries = new RetryScheduler(options.retry, (path) => {
      const item = this.#items.get(path);
      if (item?.state === 'waiting') this.#enqueue(item);
    });
  }

  /** The watcher saw `path` appear or change (absolute path of a file inside the folder). */
  /** Whether the queue already tracks `path` (settling, waiting, sending or kept). */
  knows(path: string): boolean {
    return this.#items.has(path);
  }

  offer(path: string): void {
    if (this.#closed) return;
    let item = this.#items.get(path);
    if (!item) {
      item = { path, rel: relative(this.#options.folder, path), state: 'settling', attempts: 0, delivered: [], failures: [], refused: new Map(), changedWhileSending: false };
      this.#items.set(path, item);
    }
    if (item.state === 'sending') {
      item.changedWhileSending = true;
      return;
    }
    this.#retries.cancel(path);
    void this.#settle(item);
  }

  /** The watcher saw `path` disappear: forget it and its note. */
  forget(path: string): void {
    const item = this.#items.get(path);
    if (!item) return;
    if (item.state === 'sending') {
      // The job finds the file gone by itself; removing the item now would lose its bookkeeping.
      item.changedWhileSending = true;
      return;
    }
    this.#drop(item);
    removeNote(path);
  }

  /** A peer joined (or came back): retry at once every file waiting for it. */
  peerAvailable(peer: PeerRef): number {
    let count = 0;
    for (const item of this.#items.values()) {
      if (item.state === 'waiting' && item.failures.some((f) => !item.refused.has(f.target) && targetMatches(f.target, peer))) {
        this.#retries.cancel(item.path);
        this.#enqueue(item);
        count++;
      }
    }
    return count;
  }

  /** Retries every waiting file now, and also kept ones when `includeHeld` (the user asked). */
  retryNow(includeHeld = false): number {
    let count = 0;
    for (const item of this.#items.values()) {
      if (item.state === 'waiting' || (includeHeld && item.state === 'held')) {
        this.#retries.cancel(item.path);
        item.refused.clear();
        item.refusedSnapshot = undefined;
        this.#enqueue(item);
        count++;
      }
    }
    return count;
  }

  /** Every file the queue knows, oldest first. */
  list(): ItemView[] {
    return [...this.#items.values()].map((item) => {
      const due = this.#retries.dueAt(item.path);
      return {
        file: item.rel,
        state: item.state,
        ...(item.snapshot ? { size: item.snapshot.size } : {}),
        attempts: item.attempts,
        delivered: item.delivered,
        failures: item.failures,
        ...(due !== undefined ? { nextRetry: new Date(due).toISOString() } : {}),
      };
    });
  }

  /** Counts per state, plus totals since start. */
  counts(): Record<ItemState, number> & { deliveredFiles: number; skippedSends: number } {
    const counts = { settling: 0, queued: 0, sending: 0, waiting: 0, held: 0, deliveredFiles: this.#deliveredFiles, skippedSends: this.#skippedSends };
    for (const item of this.#items.values()) counts[item.state]++;
    return counts;
  }

  /** Stops taking work, cancels waits and retries, and gives running sends up to `timeoutMs` to finish. */
  async close(timeoutMs: number): Promise<void> {
    this.#closed = true;
    this.#retries.close();
    for (const item of this.#items.values()) item.settle?.abort();
    this.#ready.length = 0;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.allSettled([...this.#running]), new Promise((r) => (timer = setTimeout(r, timeoutMs)))]);
    clearTimeout(timer);
  }

  #drop(item: Item): void {
    item.settle?.abort();
    this.#retries.cancel(item.path);
    this.#items.delete(item.path);
  }

  async #settle(item: Item): Promise<void> {
    item.settle?.abort();
    const settle = new AbortController();
    item.settle = settle;
    item.state = 'settling';
    let snapshot: FileSnapshot | undefined;
    try {
      snapshot = await waitUntilStable(item.path, { stableMs: this.#options.stableMs, pollMs: this.#options.pollMs, signal: settle.signal });
    } catch {
      return; // aborted: a newer settle or close() took over
    }
    if (settle.signal.aborted || this.#items.get(item.path) !== item) return;
    item.settle = undefined;
    if (!snapshot) {
      this.#drop(item);
      removeNote(item.path);
      return;
    }
    if (item.refusedSnapshot && !sameSnapshot(snapshot, item.refusedSnapshot)) {
      // The file changed: what was refused before may pass now.
      item.refused.clear();
      item.refusedSnapshot = undefined;
    }
    if (item.snapshot && !sameSnapshot(snapshot, item.snapshot)) item.attempts = 0;
    item.snapshot = snapshot;
    if (item.refusedSnapshot && item.failures.every((f) => item.refused.has(f.target))) {
      item.state = 'held'; // a spurious event: nothing changed, nothing can pass
      return;
    }
    this.#enqueue(item);
  }

  #enqueue(item: Item): void {
    if (this.#closed) return;
    item.state = 'queued';
    this.#ready.push(item);
    this.#pump();
  }

  #pump(): void {
    while (!this.#closed && this.#running.size < this.#options.concurrency && this.#ready.length > 0) {
      const item = this.#ready.shift()!;
      if (item.state !== 'queued' || this.#items.get(item.path) !== item) continue;
      const run = this.#run(item).finally(() => {
        this.#running.delete(run);
        this.#pump();
      });
      this.#running.add(run);
    }
  }

  async #run(item: Item): Promise<void> {
    item.state = 'sending';
    item.changedWhileSending = false;
    let result: JobResult;
    try {
      const targets = targetsFor(item.rel, this.#options.to);
      result = await deliverToTargets(item.path, item.rel, item.snapshot!, targets, this.#services, item.refused);
    } catch (err) {
      // No target (NVID_ERR_DROP_TARGET) or a local error: keep the file with the reason until it changes or moves.
      const error = asNvidError(err, 'NVID_ERR_DELIVERY');
      result = { kind: 'failed', sha256: '', delivered: [], failures: [{ target: '(none)', code: error.code, message: error.message }], refused: ['(none)'] };
    }
    if (result.kind === 'gone') {
      this.#drop(item);
      removeNote(item.path);
    } else if (result.kind === 'changed' || item.changedWhileSending) {
      // Whatever was delivered is in the ledger; the new content gets its own turn once it settles.
      if (this.#items.get(item.path) === item) void this.#settle(item);
    } else if (result.kind === 'delivered') {
      this.#skippedSends += result.skipped;
      this.#finish(item, result.delivered);
    } else {
      this.#keep(item, result);
    }
  }

  /** Every target has the file: move or delete it, and its note. */
  #finish(item: Item, delivered: readonly string[]): void {
    try {
      if (this.#options.afterSend === 'delete') rmSync(item.path, { force: true });
      else moveToSent(item.path, item.rel, this.#options.sentFolder);
      removeNote(item.path);
      this.#deliveredFiles++;
      this.#drop(item);
    } catch (err) {
      const error = err as NodeJS.ErrnoException;
      this.#services.log.error({ file: item.rel, code: error.code }, `${item.rel} was delivered but cannot be ${this.#options.afterSend === 'delete' ? 'deleted' : 'moved'}: ${error.message}`);
      this.#keep(item, { kind: 'failed', sha256: '', delivered, failures: [{ target: '(all delivered)', code: error.code ?? 'EIO', message: `delivered, but ${error.message}` }], refused: ['(all delivered)'] });
    }
  }

  /** Some target did not get the file: note why beside it, then retry later or wait for a change. */
  #keep(item: Item, result: Extract<JobResult, { kind: 'failed' }>): void {
    item.attempts++;
    item.delivered = result.delivered;
    item.failures = result.failures;
    for (const target of result.refused) item.refused.set(target, result.failures.find((f) => f.target === target)!);
    if (result.refused.length > 0) item.refusedSnapshot = item.snapshot;
    const retryable = result.failures.some((f) => !item.refused.has(f.target));
    let nextRetry: Date | undefined;
    if (retryable && !this.#closed) {
      item.state = 'waiting';
      nextRetry = new Date(this.#retries.schedule(item.path, item.attempts));
    } else {
      item.state = 'held';
    }
    // A send cut short by our own shutdown is retried at the next start: no note claiming it waits for a change.
    if (this.#closed) return;
    try {
      writeNote({ file: item.path, failures: result.failures, time: new Date(), nextRetry, attempts: item.attempts, delivered: result.delivered });
    } catch (err) {
      this.#services.log.error({ file: item.rel }, `cannot write the error note beside ${item.rel}: ${(err as Error).message}`);
    }
    const first = result.failures[0]!;
    this.#services.log.warn(
      { file: item.rel, code: first.code, failures: result.failures, attempts: item.attempts, nextRetry: nextRetry?.toISOString() ?? null },
      `${item.rel} not delivered to ${result.failures.map((f) => f.target).join(', ')}: ${first.message}${nextRetry ? `; retrying at ${nextRetry.toISOString()}` : '; kept until the file changes'}`,
    );
  }
}

/** Whether a target (a name or an ID prefix, as configured) names this peer. */
export function targetMatches(target: string, peer: PeerRef): boolean {
  if (target === peer.name) return true;
  const hex = target.toLowerCase().replace(/:/g, '');
  return /^[0-9a-f]{8,64}$/.test(hex) && peer.id.startsWith(hex);
}
