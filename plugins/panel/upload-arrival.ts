/**
 * An announced upload's bytes as they land: how many are in the file so far,
 * and a promise for "more than N", so a send can read the file while the
 * browser is still uploading it (the core's `SendOptions.arriving`).
 */
import type { FileHandle } from 'node:fs/promises';
import { Writable } from 'node:stream';
import { NvidError } from '../../core/errors.js';
import type { ArrivingFile, MediaKind } from '../../core/types.js';

interface Waiter {
  readonly beyond: number;
  readonly resolve: () => void;
  readonly reject: (err: Error) => void;
}

/**
 * Bytes of the upload kept in memory after they are written: enough for a send
 * that keeps pace to seal them from here (the browser's 64 KiB pieces, a few
 * batches' worth) instead of reading them back from the file.
 */
const RECENT_BYTES = 2 * 1024 * 1024;

export class UploadArrival implements ArrivingFile {
  readonly size: number;
  readonly kind: MediaKind;
  #written = 0;
  #failure: Error | undefined;
  #waiters: Waiter[] = [];
  /** The last bytes written, oldest first, so a send reading right behind the writer need not read them back. */
  #recent: Array<{ readonly position: number; readonly bytes: Buffer }> = [];
  #recentBytes = 0;

  constructor(size: number, kind: MediaKind) {
    this.size = size;
    this.kind = kind;
  }

  written(): number {
    return this.#written;
  }

  get whole(): boolean {
    return this.#written === this.size;
  }

  get failed(): boolean {
    return this.#failure !== undefined;
  }

  waitBeyond(bytes: number): Promise<void> {
    if (this.#written > bytes) return Promise.resolve();
    if (this.#failure) return Promise.reject(this.#failure);
    return new Promise((resolve, reject) => this.#waiters.push({ beyond: bytes, resolve, reject }));
  }

  recent(position: number, max: number): Buffer | undefined {
    max = Math.min(max, this.#written - position);
    if (max <= 0) return undefined;
    for (const { position: start, bytes } of this.#recent) {
      if (position >= start && position < start + bytes.length) return bytes.subarray(position - start, Math.min(bytes.length, position - start + max));
    }
    return undefined;
  }

  /** Keeps `bytes` (written at `position`) among the recent ones, up to RECENT_BYTES in all. */
  #remember(position: number, bytes: Buffer): void {
    this.#recent.push({ position, bytes });
    this.#recentBytes += bytes.length;
    while (this.#recentBytes > RECENT_BYTES && this.#recent.length > 1) this.#recentBytes -= this.#recent.shift()!.bytes.length;
  }

  /** `bytes` more are in the file (written, so a read sees them). */
  advance(bytes: number): void {
    this.#written += bytes;
    const waiting: Waiter[] = [];
    for (const waiter of this.#waiters) {
      if (this.#written > waiter.beyond) waiter.resolve();
      else waiting.push(waiter);
    }
    this.#waiters = waiting;
  }

  /**
   * Lets go of the bytes held in memory: the upload is done with (sent,
   * removed or given up). Whatever still holds this arrival (a finished
   * send's record, say) then holds a few numbers, not the last 2 MiB of
   * the upload: kept, they added up to about 3 MiB of heap per send.
   */
  release(): void {
    this.#recent = [];
    this.#recentBytes = 0;
  }

  /** The file will never be whole; everyone waiting hears why. */
  fail(err: Error): void {
    if (this.#failure || this.whole) return;
    this.#failure = err;
    for (const waiter of this.#waiters) waiter.reject(err);
    this.#waiters = [];
  }

  /** Writes into `handle` from the start, telling this arrival after every write; more bytes than announced fail it. */
  writer(handle: FileHandle): Writable {
    let position = 0;
    const writeAll = async (buffers: Buffer[]) => {
      if (position + buffers.reduce((n, b) => n + b.length, 0) > this.size) throw new NvidError('NVID_ERR_PANEL_UPLOAD', `the upload has more than the ${this.size} bytes announced`);
      let at = position;
      for (const buffer of buffers) {
        this.#remember(at, buffer);
        at += buffer.length;
      }
      let left = buffers.reduce((n, b) => n + b.length, 0);
      while (left > 0) {
        const { bytesWritten } = await handle.writev(buffers, position);
        if (bytesWritten === 0) throw new Error('the disk took no more bytes');
        position += bytesWritten;
        left -= bytesWritten;
        this.advance(bytesWritten);
        buffers = skip(buffers, bytesWritten);
      }
    };
    return new Writable({
      // Large batches: the browser's bytes come in 64 KiB pieces, and one writev per batch keeps system calls few.
      highWaterMark: 1024 * 1024,
      writev(chunks, done) {
        writeAll(chunks.map((c) => c.chunk as Buffer)).then(() => done(), done);
      },
    });
  }
}

/** `buffers` without their first `bytes` bytes (after a partial write). */
function skip(buffers: Buffer[], bytes: number): Buffer[] {
  const rest: Buffer[] = [];
  for (const buffer of buffers) {
    if (bytes >= buffer.length) bytes -= buffer.length;
    else {
      rest.push(bytes > 0 ? buffer.subarray(bytes) : buffer);
      bytes = 0;
    }
  }
  return rest;
}
