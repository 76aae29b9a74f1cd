/**
 * Remembers transfer IDs, so a recorded envelope played back later is refused
 * even after a restart. Envelopes older than the window are refused as stale
 * anyway, so an ID needs remembering only for the window; the file is an
 * append-only log of `time id` lines, compacted when expired lines pile up.
 *
 * An ID is reserved when a header verifies and committed only once its body
 * verified completely, so a transfer that broke off half-way can be retried
 * with the same ID, while two concurrent copies of one envelope cannot both pass.
 */
import { appendFile, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { NvidError } from '../../core/errors.js';

/** Below this many lines the log is never rewritten. */
const COMPACT_MIN_LINES = 1000;

export interface ReplayGuardOptions {
  /** The log file; created (owner-only) on first commit. */
  readonly file: string;
  /** How long an ID is remembered, counted from the envelope's time. */
  readonly windowMs: number;
  /** The clock, injectable for tests. */
  readonly now?: () => number;
}

/** A reserved transfer ID: commit once the transfer verified, release if it failed. */
export interface ReplayReservation {
  commit(): Promise<void>;
  release(): void;
}

export class ReplayGuard {
  private readonly seen = new Map<string, number>();
  private readonly inFlight = new Set<string>();
  private readonly now: () => number;
  /** Lines in the file, live or expired; compaction resets it to the live count. */
  private linesInFile = 0;
  /** Compact (and forget expired IDs) when the file reaches this many lines: linear total cost. */
  private compactAt = COMPACT_MIN_LINES;
  /** File writes run one after another, so a compaction never loses an append. */
  private writes: Promise<void> = Promise.resolve();

  private constructor(private readonly options: ReplayGuardOptions) {
    this.now = options.now ?? Date.now;
  }

  /** Loads the remembered IDs from `options.file` (missing file = nothing seen yet). */
  static async load(options: ReplayGuardOptions): Promise<ReplayGuard> {
    const guard = new ReplayGuard(options);
    let text = '';
    try {
      text = await readFile(options.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw stateError(`cannot read the replay memory ${options.file}`, err);
    }
    for (const line of text.split('\n')) {
      // A crash can leave a torn last line; anything unparsable is skipped, not fatal.
      const match = /^(\d{1,16}) (\S{1,128})$/.exec(line);
      if (!match) continue;
      guard.linesInFile += 1;
      const time = Number(match[1]);
      if (!guard.expired(time)) guard.seen.set(match[2]!, Math.max(time, guard.seen.get(match[2]!) ?? 0));
    }
    guard.compactAt = 2 * guard.seen.size + COMPACT_MIN_LINES;
    if (guard.linesInFile > guard.seen.size) {
      await guard.compact().catch((err: unknown) => {
        throw stateError(`cannot compact the replay memory ${options.file}`, err);
      });
    }
    return guard;
  }

  /** IDs currently remembered (committed and not expired). */
  get size(): number {
    return this.seen.size;
  }

  /**
   * Reserves `transferId` for a transfer stamped `time`.
   * @throws NvidError NVID_ERR_REPLAY if the ID was seen within the window or is being received right now.
   */
  reserve(transferId: string, time: number): ReplayReservation {
    const seenAt = this.seen.get(transferId);
    if ((seenAt !== undefined && !this.expired(seenAt)) || this.inFlight.has(transferId)) {
      throw new NvidError('NVID_ERR_REPLAY', `transfer ${transferId} was received before`, { details: { transferId } });
    }
    this.inFlight.add(transferId);
    let settled = false;
    return {
      commit: async () => {
        if (settled) return;
        settled = true;
        this.inFlight.delete(transferId);
        this.seen.set(transferId, time);
        await this.record(transferId, time);
      },
      release: () => {
        if (settled) return;
        settled = true;
        this.inFlight.delete(transferId);
      },
    };
  }

  private expired(time: number): boolean {
    return time < this.now() - this.options.windowMs;
  }

  private record(transferId: string, time: number): Promise<void> {
    const write = this.writes.then(async () => {
      try {
        await mkdir(dirname(this.options.file), { recursive: true, mode: 0o700 });
        await appendFile(this.options.file, `${time} ${transferId}\n`, { mode: 0o600 });
        this.linesInFile += 1;
        if (this.linesInFile >= this.compactAt) await this.compactNow();
      } catch (err) {
        // The transfer is not acknowledged: a receiver that cannot remember it could be replayed.
        throw stateError(`cannot record transfer ${transferId} in the replay memory ${this.options.file}`, err);
      }
    });
    // Keep the chain alive after a failure; the caller still sees this write's error.
    this.writes = write.catch(() => {});
    return write;
  }

  private compact(): Promise<void> {
    const run = this.writes.then(() => this.compactNow());
    this.writes = run.catch(() => {});
    return run;
  }

  /** Rewrites the file with the live IDs only, via a temporary file so a crash keeps the old one. */
  private async compactNow(): Promise<void> {
    for (const [id, time] of this.seen) if (this.expired(time)) this.seen.delete(id);
    const text = [...this.seen].map(([id, time]) => `${time} ${id}\n`).join('');
    const tmp = `${this.options.file}.tmp-${process.pid}`;
    await mkdir(dirname(this.options.file), { recursive: true, mode: 0o700 });
    await writeFile(tmp, text, { mode: 0o600 });
    await rename(tmp, this.options.file);
    this.linesInFile = this.seen.size;
    this.compactAt = 2 * this.seen.size + COMPACT_MIN_LINES;
  }
}

function stateError(message: string, cause: unknown): NvidError {
  return new NvidError('NVID_ERR_STATE_DIR', `${message}: ${(cause as Error).message}`, { cause });
}
