/**
 * One dropped file's life in the queue: wait until it is fully written, send
 * it to its targets (file-job.ts does one attempt), then move or delete it
 * once every target has it, or keep it with a note beside it and ask the
 * queue for a retry. The queue (drop-queue.ts) decides when a session runs;
 * the session decides what happens to its file.
 */
import { rmSync } from 'node:fs';
import { asNvidError } from '../../core/errors.js';
import { removeNote, writeNote, type TargetFailure } from './error-notes.js';
import { deliverToTargets, type JobResult, type JobServices, type PeerRef, type SendOutcome } from './file-job.js';
import type { AfterSend } from './options.js';
import { moveToSent } from './sent-folder.js';
import { sameSnapshot, waitUntilStable, type FileSnapshot } from './stability.js';
import { targetsFor } from './targets.js';

/** Where a file is: being written, waiting for a slot, being sent, waiting to retry, or kept until it changes. */
export type ItemState = 'settling' | 'queued' | 'sending' | 'waiting' | 'held';

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

/** What the queue hands each send of a file. */
export interface AttemptOptions {
  /** Aborted when the send should give up: the queue closed and its grace is over. */
  readonly signal: AbortSignal;
}

/** What sessions need from the daemon: a job's services, with a send that also takes the queue's options. */
export interface QueueServices extends Omit<JobServices, 'send'> {
  /** Sends a file to a target; resolves only once the receiver acknowledged a verified, stored copy. */
  send(file: string, target: string, options: AttemptOptions): Promise<SendOutcome>;
}

/** The options a session reads (the queue's own ones add the folder, concurrency and retry timing). */
export interface SessionOptions {
  readonly sentFolder: string;
  readonly afterSend: AfterSend;
  readonly to: readonly string[];
  readonly stableMs: number;
  readonly pollMs: number;
}

/** What a session needs from its queue. */
export interface SessionHost {
  /** Whether the queue is closing: a failure then gets neither a retry nor a note. */
  isClosed(): boolean;
  /** The file settled: give it a send slot. */
  enqueue(session: DroppedFileSession): void;
  /** The file is done with (delivered, or gone): stop tracking it. */
  release(session: DroppedFileSession): void;
  /** Plans retry number `attempt`; returns when it is due (ms since the epoch). */
  scheduleRetry(session: DroppedFileSession, attempt: number): number;
  /** Totals since start, for status; sessions add to them. */
  readonly totals: { deliveredFiles: number; skippedSends: number };
}

/** Everything the sessions of one queue share. */
export interface SessionContext {
  readonly options: SessionOptions;
  readonly services: QueueServices;
  readonly host: SessionHost;
}

type FailedResult = Extract<JobResult, { kind: 'failed' }>;

export class DroppedFileSession {
  /** Absolute path of the file. */
  readonly path: string;
  /** Path relative to the drop folder: what logs, notes and the ledger name. */
  readonly rel: string;
  readonly #context: SessionContext;
  #state: ItemState = 'settling';
  #snapshot?: FileSnapshot;
  #attempts = 0;
  #delivered: readonly string[] = [];
  #failures: readonly TargetFailure[] = [];
  /** Targets that refused this content, and the snapshot it had then: not re-sent until the file changes. */
  readonly #refused = new Map<string, TargetFailure>();
  #refusedSnapshot?: FileSnapshot;
  #changedWhileSending = false;
  #settling?: AbortController;
  /** Cancels the attempt under way: its signal goes to every send of it. */
  #sending?: AbortController;
  /** The queue no longer tracks the file: a late settle or re-settle must not bring it back. */
  #released = false;

  constructor(path: string, rel: string, context: SessionContext) {
    this.path = path;
    this.rel = rel;
    this.#context = context;
  }

  get state(): ItemState {
    return this.#state;
  }

  /** How `list()` shows the file; `nextRetryAt` comes from the queue's scheduler. */
  view(nextRetryAt: number | undefined): ItemView {
    return {
      file: this.rel,
      state: this.#state,
      ...(this.#snapshot ? { size: this.#snapshot.size } : {}),
      attempts: this.#attempts,
      delivered: this.#delivered,
      failures: this.#failures,
      ...(nextRetryAt !== undefined ? { nextRetry: new Date(nextRetryAt).toISOString() } : {}),
    };
  }

  /** Whether the file waits to retry a target that names `peer` (and that did not refuse the content). */
  waitsFor(peer: PeerRef): boolean {
    return this.#state === 'waiting' && this.#failures.some((f) => !this.#refused.has(f.target) && targetMatches(f.target, peer));
  }

  /** Refusals no longer hold the file back (it changed, or the user asked to retry everything). */
  forgetRefusals(): void {
    this.#refused.clear();
    this.#refusedSnapshot = undefined;
  }

  /** The queue gave the file a place in line. */
  markQueued(): void {
    this.#state = 'queued';
  }

  /** The file changed (or vanished) during its send: look at it again once the send is over. */
  markChanged(): void {
    this.#changedWhileSending = true;
  }

  /** Stops watching the file settle (a newer look, a release or the queue's close). */
  stopSettling(): void {
    this.#settling?.abort();
  }

  /** Cancels the send under way, if any (the queue closed and its grace is over). */
  cancelSend(reason: unknown): void {
    this.#sending?.abort(reason);
  }

  /** The file is gone: stop tracking it, and remove its note. */
  discard(): void {
    this.#release();
    removeNote(this.path);
  }

  /** Waits until the file stopped changing, then queues it (or keeps it, if nothing could pass). */
  async settle(): Promise<void> {
    this.stopSettling();
    const settling = new AbortController();
    this.#settling = settling;
    this.#state = 'settling';
    let snapshot: FileSnapshot | undefined;
    try {
      snapshot = await waitUntilStable(this.path, { stableMs: this.#context.options.stableMs, pollMs: this.#context.options.pollMs, signal: settling.signal });
    } catch {
      return; // aborted: a newer settle, a release or close() took over
    }
    if (settling.signal.aborted || this.#released) return;
    this.#settling = undefined;
    if (!snapshot) return this.discard();
    this.#adopt(snapshot);
    if (this.#nothingCanPass()) this.#state = 'held'; // a spurious event: nothing changed, nothing can pass
    else this.#context.host.enqueue(this);
  }

  /** Takes the stable snapshot as the file's content, resetting what a change makes stale. */
  #adopt(snapshot: FileSnapshot): void {
    // The file changed: what was refused before may pass now.
    if (this.#refusedSnapshot && !sameSnapshot(snapshot, this.#refusedSnapshot)) this.forgetRefusals();
    // New content starts its backoff from the beginning.
    if (this.#snapshot && !sameSnapshot(snapshot, this.#snapshot)) this.#attempts = 0;
    this.#snapshot = snapshot;
  }

  /** Whether every failing target refused this very content, so sending it again cannot help. */
  #nothingCanPass(): boolean {
    return this.#refusedSnapshot !== undefined && this.#failures.every((f) => this.#refused.has(f.target));
  }

  /** One attempt at delivering the settled file to every target, and what follows from it. */
  async send(): Promise<void> {
    this.#state = 'sending';
    this.#changedWhileSending = false;
    const result = await this.#deliver();
    if (result.kind === 'gone') this.discard();
    else if (result.kind === 'changed' || this.#changedWhileSending) this.#resettle();
    else if (result.kind === 'delivered') this.#finish(result);
    else this.#fail(result);
  }

  /** Sends to each target the ledger does not already list (file-job.ts does the per-target work). */
  async #deliver(): Promise<JobResult> {
    const sending = (this.#sending = new AbortController());
    try {
      return await deliverToTargets(this.path, this.rel, this.#snapshot!, this.#targets(), this.#jobServices(this.#sendOptions(sending.signal)), this.#refused);
    } catch (err) {
      // No target (NVID_ERR_DROP_TARGET) or a local error: keep the file with the reason until it changes or moves.
      const error = asNvidError(err, 'NVID_ERR_DELIVERY');
      return keptFailure('(none)', error.code, error.message, []);
    } finally {
      this.#sending = undefined;
    }
  }

  /** The peers the file goes to, by its subfolder or the `to` option; throws NVID_ERR_DROP_TARGET if none. */
  #targets(): string[] {
    return targetsFor(this.rel, this.#context.options.to);
  }

  /** The services for file-job.ts, whose two-argument `send` gets `sendOptions` added. */
  #jobServices(sendOptions: AttemptOptions): JobServices {
    const { services } = this.#context;
    return {
      send: (file, target) => services.send(file, target, sendOptions),
      resolvePeer: (target) => services.resolvePeer(target),
      ...(services.resolveTargets ? { resolveTargets: services.resolveTargets } : {}),
      ledger: services.ledger,
      inFlight: services.inFlight,
      log: services.log,
    };
  }

  /** What every send of this attempt carries (the one place to add more, such as progress callbacks). */
  #sendOptions(signal: AbortSignal): AttemptOptions {
    return { signal };
  }

  /** Whatever was delivered is in the ledger; the new content gets its own turn once it settles. */
  #resettle(): void {
    if (!this.#released) void this.settle();
  }

  /** Every target has the file: move or delete it, and its note. */
  #finish(result: Extract<JobResult, { kind: 'delivered' }>): void {
    const { host, services, options } = this.#context;
    host.totals.skippedSends += result.skipped;
    try {
      this.#putAway();
      removeNote(this.path);
      host.totals.deliveredFiles++;
      this.#release();
    } catch (err) {
      const error = err as NodeJS.ErrnoException;
      services.log.error({ file: this.rel, code: error.code }, `${this.rel} was delivered but cannot be ${options.afterSend === 'delete' ? 'deleted' : 'moved'}: ${error.message}`);
      this.#fail(keptFailure('(all delivered)', error.code ?? 'EIO', `delivered, but ${error.message}`, result.delivered));
    }
  }

  /** Moves the delivered file into the sent folder, or deletes it (`afterSend`). */
  #putAway(): void {
    const { afterSend, sentFolder } = this.#context.options;
    if (afterSend === 'delete') rmSync(this.path, { force: true });
    else moveToSent(this.path, this.rel, sentFolder);
  }

  /** Some target did not get the file: note why beside it, then retry later or wait for a change. */
  #fail(result: FailedResult): void {
    this.#recordFailure(result);
    const nextRetry = this.#planRetry();
    // A send cut short by our own shutdown is retried at the next start: no note claiming it waits for a change.
    if (this.#context.host.isClosed()) return;
    this.#writeNote(result, nextRetry);
    this.#logFailure(result, nextRetry);
  }

  /** Counts the attempt and remembers who has the file, who failed, and who refused this content. */
  #recordFailure(result: FailedResult): void {
    this.#attempts++;
    this.#delivered = result.delivered;
    this.#failures = result.failures;
    for (const target of result.refused) this.#refused.set(target, result.failures.find((f) => f.target === target)!);
    if (result.refused.length > 0) this.#refusedSnapshot = this.#snapshot;
  }

  /** Waits for a retry when some failing target may still take the file; otherwise keeps it until it changes. */
  #planRetry(): Date | undefined {
    const retryable = this.#failures.some((f) => !this.#refused.has(f.target));
    if (!retryable || this.#context.host.isClosed()) {
      this.#state = 'held';
      return undefined;
    }
    this.#state = 'waiting';
    return new Date(this.#context.host.scheduleRetry(this, this.#attempts));
  }

  /** The note beside the file; failing to write it is logged, not fatal (the log line below still says why). */
  #writeNote(result: FailedResult, nextRetry: Date | undefined): void {
    try {
      writeNote({ file: this.path, failures: result.failures, time: new Date(), nextRetry, attempts: this.#attempts, delivered: result.delivered });
    } catch (err) {
      this.#context.services.log.error({ file: this.rel }, `cannot write the error note beside ${this.rel}: ${(err as Error).message}`);
    }
  }

  #logFailure(result: FailedResult, nextRetry: Date | undefined): void {
    const first = result.failures[0]!;
    this.#context.services.log.warn(
      { file: this.rel, code: first.code, failures: result.failures, attempts: this.#attempts, nextRetry: nextRetry?.toISOString() ?? null },
      `${this.rel} not delivered to ${result.failures.map((f) => f.target).join(', ')}: ${first.message}${nextRetry ? `; retrying at ${nextRetry.toISOString()}` : '; kept until the file changes'}`,
    );
  }

  /** Stops tracking the file in the queue; a settle still under way ends with it. */
  #release(): void {
    this.#released = true;
    this.stopSettling();
    this.#context.host.release(this);
  }
}

/**
 * A failure that no peer's answer can lift (no target, a local error, a
 * delivered file that cannot be moved): kept, and not retried, until the file changes.
 */
function keptFailure(target: string, code: string, message: string, delivered: readonly string[]): FailedResult {
  return { kind: 'failed', sha256: '', delivered, failures: [{ target, code, message }], refused: [target] };
}

/** Whether a target (a name or an ID prefix, a list, `tag:NAME` or `all`, as configured) names this peer. */
export function targetMatches(target: string, peer: PeerRef): boolean {
  if (target === peer.name) return true;
  if (target === 'all') return true;
  if (target.startsWith('tag:')) return peer.tags?.includes(target.slice(4)) ?? false;
  if (target.includes(',')) return target.split(',').some((item) => item.trim() !== '' && targetMatches(item.trim(), peer));
  const hex = target.toLowerCase().replace(/:/g, '');
  return /^[0-9a-f]{8,64}$/.test(hex) && peer.id.startsWith(hex);
}
