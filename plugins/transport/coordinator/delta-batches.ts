/**
 * Changes to the address book (joined, left, renamed) go out in batches: the
 * frames queued while a batch waits are written to each node as one buffer,
 * one socket write and one TLS record, instead of one per change.
 *
 * What a batch costs is one write per connected node (about 7 µs each on
 * these machines, TLS record included, and as much again for the node to
 * read it), whatever it carries. So batches are paced by a budget of writes
 * per second (`WritePacer`), not by a window: a change in a quiet fleet (a
 * rename) leaves after 2 ms, while during a join burst, when a change arrives
 * every few milliseconds, batches leave only as fast as the budget allows
 * (every 2 s at 10,000 nodes) and each carries all the changes since.
 *
 * Every frame gets a sequence number. A node that joins while a batch waits
 * got the current list, which already holds the queued changes, so it only
 * receives the frames queued after its list: a zero-copy tail of the same buffer.
 */

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

export class DeltaBatches {
  private frames: Buffer[] = [];
  /** Sequence number of frames[0]. */
  private firstSeq = 1;
  private lastSeq = 0;
  private timer: NodeJS.Timeout | undefined;
  private timerUrgent = false;
  private readonly pacer: WritePacer;
  private readonly readers: () => number;
  private readonly flush: (batch: Batch) => number;

  /**
   * `flush` writes a batch to every node and returns how many writes that took;
   * `readers` is how many nodes a batch goes to now; `pacer` sets the pace.
   */
  constructor(readers: () => number, flush: (batch: Batch) => number, pacer: WritePacer = new WritePacer(DELTA_WRITES_PER_SECOND)) {
    this.readers = readers;
    this.flush = flush;
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
  push(frame: Buffer, urgent = false): number {
    if (this.frames.length === 0) this.firstSeq = this.lastSeq + 1;
    this.frames.push(frame);
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
    if (this.frames.length === 0) return;
    const batch = new Batch(this.frames, this.firstSeq);
    this.frames = [];
    this.pacer.spend(this.flush(batch));
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.frames = [];
  }
}

/** One batch's frames, concatenated once; each node gets the part it has not seen. */
export class Batch {
  readonly bytes: Buffer;
  readonly firstSeq: number;
  readonly lastSeq: number;
  /** Byte offset of each frame in `bytes`. */
  private readonly offsets: number[];

  constructor(frames: readonly Buffer[], firstSeq: number) {
    this.bytes = frames.length === 1 ? frames[0]! : Buffer.concat(frames);
    this.firstSeq = firstSeq;
    this.lastSeq = firstSeq + frames.length - 1;
    this.offsets = [];
    let at = 0;
    for (const frame of frames) {
      this.offsets.push(at);
      at += frame.length;
    }
  }

  /** The bytes `reader` has not seen (undefined when none), and marks them seen. */
  unseenBy(reader: BatchReader): Buffer | undefined {
    if (reader.seenSeq >= this.lastSeq) return undefined;
    const from = Math.max(0, reader.seenSeq + 1 - this.firstSeq);
    reader.seenSeq = this.lastSeq;
    return from === 0 ? this.bytes : this.bytes.subarray(this.offsets[from]);
  }
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
