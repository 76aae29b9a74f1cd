/**
 * A FIFO of buffers that hands out exactly-sized pieces. Incoming stream chunks
 * rarely line up with envelope chunks (64 KiB + 16-byte tag); this avoids
 * concatenating everything received so far, and copies only when a piece
 * spans two buffers.
 */
export class ByteQueue {
  private readonly buffers: Buffer[] = [];
  private head = 0;
  private total = 0;

  /** Bytes waiting. */
  get length(): number {
    return this.total;
  }

  push(buffer: Buffer): void {
    if (buffer.length === 0) return;
    this.buffers.push(buffer);
    this.total += buffer.length;
  }

  /** Removes and returns exactly `n` bytes; the caller checks {@link length} first. */
  take(n: number): Buffer {
    if (n > this.total) throw new RangeError(`take(${n}) with only ${this.total} bytes queued`);
    this.total -= n;
    const first = this.buffers[0];
    if (first && first.length - this.head >= n) {
      // The common case: the piece lies in one buffer, hand out a view.
      const piece = first.subarray(this.head, this.head + n);
      this.head += n;
      if (this.head === first.length) this.dropFirst();
      return piece;
    }
    const out = Buffer.allocUnsafe(n);
    let filled = 0;
    while (filled < n) {
      const buffer = this.buffers[0]!;
      const copied = buffer.copy(out, filled, this.head, Math.min(buffer.length, this.head + n - filled));
      filled += copied;
      this.head += copied;
      if (this.head === buffer.length) this.dropFirst();
    }
    return out;
  }

  private dropFirst(): void {
    this.buffers.shift();
    this.head = 0;
  }
}
