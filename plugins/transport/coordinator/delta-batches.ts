/**
 * Changes to the address book (joined, left, renamed) go out in batches: the
 * frames queued during a short window are written to each node as one buffer,
 * one socket write and one TLS record, instead of one per change. In a join
 * burst of N nodes that turns N² small writes into N per window; the window
 * grows with the number of nodes (see `batchWindowMs`), so the cost per change
 * falls as the fleet grows while a change still reaches everyone well within
 * a second.
 *
 * Every frame gets a sequence number. A node that joins mid-window got the
 * current list, which already holds the queued changes, so it only receives
 * the frames queued after its list: a zero-copy tail of the same buffer.
 */

/** The window for `sessions` connected nodes: 2 ms for a few, 25 µs more per node, at most 250 ms. */
export function batchWindowMs(sessions: number): number {
  return Math.min(250, Math.max(2, Math.round(sessions * 0.025)));
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
  private readonly window: () => number;
  private readonly flush: (batch: Batch) => void;

  /** `flush` writes a batch to every node; `window` says how long to gather changes first. */
  constructor(window: () => number, flush: (batch: Batch) => void) {
    this.window = window;
    this.flush = flush;
  }

  /** The last sequence number queued: what a node that gets the full list now already knows. */
  get seq(): number {
    return this.lastSeq;
  }

  /** Queues one encoded frame for every node and returns its sequence number. */
  push(frame: Buffer): number {
    if (this.frames.length === 0) this.firstSeq = this.lastSeq + 1;
    this.frames.push(frame);
    this.lastSeq += 1;
    if (!this.timer) this.timer = setTimeout(() => this.flushNow(), this.window());
    return this.lastSeq;
  }

  /** Writes what is queued now (also when the coordinator stops). */
  flushNow(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.frames.length === 0) return;
    const batch = new Batch(this.frames, this.firstSeq);
    this.frames = [];
    this.flush(batch);
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.frames = [];
  }
}

/** One window's frames, concatenated once; each node gets the part it has not seen. */
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
