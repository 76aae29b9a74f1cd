/**
 * Changes to the address book (joined, left, renamed) go out in batches: the
 * frames queued while a batch waits are written to each node as one buffer,
 * one socket write and one TLS record, instead of one per change.
 *
 * What a batch costs is one write per connected node (see
 * DELTA_WRITES_PER_SECOND), and as much again for the node to read it,
 * whatever it carries. So batches are paced by a budget of writes
 * per second (`WritePacer`), not by a window: a change in a quiet fleet (a
 * rename) leaves after 2 ms, while during a join burst, when a change arrives
 * every few milliseconds, batches leave only as fast as the budget allows
 * (every 2 s at 10,000 nodes) and each carries all the changes since.
 *
 * Every change gets a sequence number. A node that joins while a batch waits
 * got the current list, which already holds the queued changes, so it only
 * receives the changes queued after its list. Joins in a row go out as one
 * `peers-joined` message to everyone else (a burst's batches are mostly joins).
 */

import { LIST_MESSAGE, encodeListFrame } from '../wire/frame-codec.js';

/** How long the first change of a quiet spell waits for others to join it. */
export const GATHER_MS = 2;

/**
 * The coordinator's budget. A write to a node costs about 17 µs of the coordinator's
 * time on loopback (the TLS record and the system call, which on loopback also runs
 * the receiver's TCP): 5,000 a second is under a tenth of a core, and a batch every
 * 2 s at 10,000 nodes during a burst.
 */
export const DELTA_WRITES_PER_SECOND = 5_000;
/** Batches the bucket holds: changes in a row that leave without waiting. */
export const BURST_BATCHES = 6;

/**
 * A token bucket of socket writes: refilled at `writesPerSecond`, holding at
 * most `BURST_BATCHES` batches' worth, so a few changes in a row (a person
 * renaming screens) leave at once and a steady stream is held to the budget.
 */
export class WritePacer {
  private readonly writesPerSecond: number;
  private readonly now: () => number;
  private tokens = Number.POSITIVE_INFINITY;
  private at: number;

  constructor(writesPerSecond: number, now: () => number = () => performance.now()) {
    this.writesPerSecond = writesPerSecond;
    this.now = now;
    this.at = now();
  }

  /**
   * Milliseconds until a batch of `writes` may leave (at least GATHER_MS). An urgent
   * batch (a change a person made) may borrow up to a full bucket ahead, so a rename
   * right after a join burst is not queued behind it; the batches after it pay back.
   */
  delayFor(writes: number, urgent = false): number {
    const available = this.refill(writes) + (urgent ? this.capacity(writes) : 0);
    const wait = available >= writes ? 0 : ((writes - available) / this.writesPerSecond) * 1000;
    return Math.max(GATHER_MS, Math.ceil(wait));
  }

  /** A batch of `writes` left. */
  spend(writes: number): void {
    this.tokens = this.refill(writes) - writes;
  }

  private capacity(writes: number): number {
    return Math.max(BURST_BATCHES * writes, this.writesPerSecond / 10);
  }

  private refill(writes: number): number {
    const now = this.now();
    this.tokens = Math.min(this.capacity(writes), this.tokens + ((now - this.at) / 1000) * this.writesPerSecond);
    this.at = now;
    return this.tokens;
  }
}

export interface BatchReader {
  /** The sequence number of the last change this node already knows (through its list or a batch). */
  seenSeq: number;
}

/** One queued change: its frame, and for a join the listed entry (binary), so a batch can put several joins in one message. */
export interface Change {
  readonly frame: Buffer;
  readonly joined?: Buffer;
}

export class DeltaBatches {
  private changes: Change[] = [];
  /** Sequence number of frames[0]. */
  private firstSeq = 1;
  private lastSeq = 0;
  private timer: NodeJS.Timeout | undefined;
  private timerUrgent = false;
  private readonly pacer: WritePacer;
  private readonly readers: () => number;
  private readonly flush: (batch: Batch) => number;
  private readonly maxMessageBytes: number;

  /**
   * `flush` writes a batch to every node and returns how many writes that took;
   * `readers` is how many nodes a batch goes to now; `pacer` sets the pace.
   */
  constructor(readers: () => number, flush: (batch: Batch) => number, maxMessageBytes: number, pacer: WritePacer = new WritePacer(DELTA_WRITES_PER_SECOND)) {
    this.readers = readers;
    this.flush = flush;
    this.maxMessageBytes = maxMessageBytes;
    this.pacer = pacer;
  }

  /** The last sequence number queued: what a node that gets the full list now already knows. */
  get seq(): number {
    return this.lastSeq;
  }

  /**
   * Queues one encoded frame for every node and returns its sequence number. An urgent
   * one (a rename) takes the batch waiting for the budget out early (WritePacer.delayFor).
   */
  push(change: Change, urgent = false): number {
    if (this.changes.length === 0) this.firstSeq = this.lastSeq + 1;
    this.changes.push(change);
    this.lastSeq += 1;
    if (this.timer && urgent && !this.timerUrgent) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (!this.timer) {
      this.timerUrgent = urgent;
      this.timer = setTimeout(() => this.flushNow(), this.pacer.delayFor(this.readers(), urgent));
    }
    return this.lastSeq;
  }

  /** Writes what is queued now (also when the coordinator stops). */
  flushNow(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.changes.length === 0) return;
    const batch = new Batch(this.changes, this.firstSeq, this.maxMessageBytes);
    this.changes = [];
    this.pacer.spend(this.flush(batch));
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.changes = [];
  }
}

/** Room for the list frame's first byte (which message it is). */
const JOINED_ENVELOPE_BYTES = 1;

/**
 * One batch's changes, encoded once for every node. A node that knew everything before the
 * batch (nearly all) gets `bytes`, where joins in a row share one `peers-joined` message; one
 * whose list already held some of the changes gets the frames after those, one per change.
 */
export class Batch {
  readonly bytes: Buffer;
  readonly firstSeq: number;
  readonly lastSeq: number;
  private readonly frames: readonly Buffer[];
  private single: { readonly bytes: Buffer; readonly offsets: readonly number[] } | undefined;

  constructor(changes: readonly Change[], firstSeq: number, maxMessageBytes: number) {
    this.firstSeq = firstSeq;
    this.lastSeq = firstSeq + changes.length - 1;
    this.frames = changes.map((change) => change.frame);
    const merged = mergeJoins(changes, maxMessageBytes);
    this.bytes = merged.length === 1 ? merged[0]! : Buffer.concat(merged);
  }

  /** The bytes `reader` has not seen (undefined when none), and marks them seen. */
  unseenBy(reader: BatchReader): Buffer | undefined {
    if (reader.seenSeq >= this.lastSeq) return undefined;
    const from = Math.max(0, reader.seenSeq + 1 - this.firstSeq);
    reader.seenSeq = this.lastSeq;
    if (from === 0) return this.bytes;
    this.single ??= concatWithOffsets(this.frames);
    return this.single.bytes.subarray(this.single.offsets[from]);
  }
}

/** The changes' frames, with each run of joins as `peers-joined` messages of up to `maxMessageBytes`. */
function mergeJoins(changes: readonly Change[], maxMessageBytes: number): Buffer[] {
  const out: Buffer[] = [];
  const budget = maxMessageBytes - JOINED_ENVELOPE_BYTES;
  let run: Change[] = [];
  let runBytes = 0;
  const close = () => {
    if (run.length === 1) out.push(run[0]!.frame);
    else if (run.length > 1) out.push(encodeListFrame(LIST_MESSAGE.joined, run.map((change) => change.joined!), maxMessageBytes));
    run = [];
    runBytes = 0;
  };
  for (const change of changes) {
    if (change.joined === undefined) {
      close();
      out.push(change.frame);
      continue;
    }
    const bytes = change.joined.length;
    if (run.length > 0 && runBytes + bytes > budget) close();
    run.push(change);
    runBytes += bytes;
  }
  close();
  return out;
}

function concatWithOffsets(frames: readonly Buffer[]): { bytes: Buffer; offsets: number[] } {
  const offsets: number[] = [];
  let at = 0;
  for (const frame of frames) {
    offsets.push(at);
    at += frame.length;
  }
  return { bytes: frames.length === 1 ? frames[0]! : Buffer.concat(frames), offsets };
}

/**
 * Nodes a batch is written to per turn of the event loop. Written to 10,000 at once, a
 * batch held the coordinator for 0.4 s, during which no handshake or hello was served, and
 * then woke the nodes' side with 10,000 records at once: the two took turns idling. In
 * slices, the writing overlaps everything else.
 */
export const BROADCAST_SLICE = 256;

/** Writes batches to their readers a slice per turn, each batch to all its readers before the next begins (a reader must see them in order). */
export class SlicedBroadcast<R> {
  private readonly jobs: Array<{ readonly batch: Batch; readonly readers: readonly R[]; next: number }> = [];
  private scheduled: NodeJS.Immediate | undefined;
  private readonly write: (reader: R, batch: Batch) => void;
  private readonly slice: number;

  constructor(write: (reader: R, batch: Batch) => void, slice = BROADCAST_SLICE) {
    this.write = write;
    this.slice = slice;
  }

  enqueue(batch: Batch, readers: readonly R[]): void {
    this.jobs.push({ batch, readers, next: 0 });
    this.schedule();
  }

  /** Writes everything still queued now (when the coordinator stops). */
  drain(): void {
    clearImmediate(this.scheduled);
    this.scheduled = undefined;
    this.step(Number.POSITIVE_INFINITY);
  }

  private schedule(): void {
    if (this.scheduled || this.jobs.length === 0) return;
    this.scheduled = setImmediate(() => {
      this.scheduled = undefined;
      this.step(this.slice);
      this.schedule();
    });
  }

  private step(budget: number): void {
    let left = budget;
    while (left > 0 && this.jobs.length > 0) {
      const job = this.jobs[0]!;
      const end = Math.min(job.readers.length, job.next + left);
      left -= end - job.next;
      for (; job.next < end; job.next += 1) this.write(job.readers[job.next]!, job.batch);
      if (job.next === job.readers.length) this.jobs.shift();
    }
  }
}
