/**
 * The chunked body of an envelope as Transform streams (age's STREAM
 * construction over AES-256-GCM). Chunk `i` is sealed under the payload key
 * with nonce = 88-bit counter `i` || final flag, so a dropped, repeated or
 * reordered chunk fails authentication, and a stream cut anywhere before the
 * final chunk cannot pass for a complete one. The body's plaintext size is
 * signed in the header, so both sides know every chunk's length and which one
 * is final before reading it.
 *
 * Both directions feed whatever pieces the stream delivers straight into
 * OpenSSL's incremental update(), instead of first assembling whole sealed
 * chunks: incoming pieces rarely line up with chunk boundaries, and
 * assembling them copied every byte once more (a quarter of the CPU time of
 * an in-memory open, measured).
 */
import { createCipheriv, createDecipheriv, type CipherGCM, type DecipherGCM } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import { Readable, Transform, type TransformCallback, type TransformOptions } from 'node:stream';
import { NvidError } from '../../core/errors.js';
import type { GrowingFile } from '../../core/types.js';
import { chunkCount, chunkNonce, chunkPlainLength, TAG_BYTES } from './envelope-format.js';

/**
 * Most plaintext or ciphertext bytes handed to OpenSSL in one update() call.
 * Each call returns a fresh buffer of its input's size; up to 64 KiB those
 * come from the allocator's heap, while larger ones are mapped afresh and
 * fault their pages in on every call (whole 256 KiB chunks in one call ran at
 * half the speed of 64 KiB ones here). Capping the pieces lets chunks be
 * larger than this, which saves a cipher set-up and a tag per 64 KiB: 256 KiB
 * chunks fed in 64 KiB pieces took 0.65 CPU-s per GiB against 0.9-1.3 for
 * 64 KiB chunks (bench/crypto-aes.ts).
 */
export const UPDATE_PIECE_BYTES = 64 * 1024;

/** What both directions need to know about a body. */
export interface BodyParams {
  readonly payloadKey: Buffer;
  /** Plaintext bytes in the body. */
  readonly size: number;
  readonly chunkSize: number;
}

/**
 * The sealing state machine both sealers share: takes plaintext in pieces of
 * any size and hands out sealed chunks as they form (ciphertext pieces, then
 * each chunk's tag). Knows the chunk count from the signed size, so it refuses
 * a source that runs long or ends short.
 */
class BodySealer {
  private readonly chunks: number;
  private index = 0;
  private cipher: CipherGCM | undefined;
  /** Plaintext bytes the current chunk still takes. */
  private left = 0;
  #sealed = 0;

  constructor(private readonly body: BodyParams) {
    this.chunks = chunkCount(body.size, body.chunkSize);
  }

  /** Plaintext bytes sealed so far. */
  get sealed(): number {
    return this.#sealed;
  }

  /**
   * Seals `data`, handing each output piece to `emit`; returns what the last `emit` returned.
   * @throws NvidError NVID_ERR_BAD_ENVELOPE when the source has more bytes than announced
   */
  update(data: Buffer, emit: (piece: Buffer) => boolean): boolean {
    let more = true;
    let at = 0;
    while (at < data.length) {
      if (this.index === this.chunks || this.body.size === 0) {
        throw new NvidError('NVID_ERR_BAD_ENVELOPE', `source has more than the ${this.body.size} bytes announced (file changed while sending?)`);
      }
      if (!this.cipher) this.startChunk();
      const n = Math.min(this.left, data.length - at, UPDATE_PIECE_BYTES);
      // Handed on as it comes: gathering a chunk's ciphertext and tag into one buffer copied every
      // byte again and fed the garbage collector (0.67 + ~0.6 CPU-s per GiB on the sender, measured);
      // consumers write the pieces with writev (sockets cork per turn, file streams gather writes).
      more = emit(this.cipher!.update(data.subarray(at, at + n)));
      at += n;
      this.#sealed += n;
      this.left -= n;
      if (this.left === 0) more = this.endChunk(emit);
    }
    return more;
  }

  /**
   * Seals what the end of the source still owes (an empty body's one empty chunk).
   * @throws NvidError NVID_ERR_BAD_ENVELOPE when the source ended short
   */
  finish(emit: (piece: Buffer) => boolean): void {
    // An empty body is one empty final chunk: just its tag.
    if (this.body.size === 0) {
      this.startChunk();
      this.endChunk(emit);
    }
    if (this.index !== this.chunks) {
      throw new NvidError('NVID_ERR_BAD_ENVELOPE', `source ended after ${this.#sealed} of ${this.body.size} bytes (file changed while sending?)`);
    }
  }

  private startChunk(): void {
    this.cipher = createCipheriv('aes-256-gcm', this.body.payloadKey, chunkNonce(this.index, this.index === this.chunks - 1));
    this.left = chunkPlainLength(this.index, this.body.size, this.body.chunkSize);
  }

  private endChunk(emit: (piece: Buffer) => boolean): boolean {
    this.cipher!.final();
    const more = emit(this.cipher!.getAuthTag());
    this.cipher = undefined;
    this.index += 1;
    return more;
  }
}

/**
 * Encrypts exactly `size` plaintext bytes from whatever is piped in into
 * sealed chunks. Emits `head` (preamble and sealed header) first. Fails if the
 * source ends short or runs long, since the chunk count is already committed
 * to in the signed header.
 */
export class ChunkSealer extends Transform {
  private readonly sealer: BodySealer;
  private readonly pushPiece = (piece: Buffer) => this.push(piece);

  constructor(body: BodyParams, head: Buffer, options?: TransformOptions) {
    super({ ...options, highWaterMark: options?.highWaterMark ?? body.chunkSize + TAG_BYTES });
    this.sealer = new BodySealer(body);
    this.push(head);
  }

  override _transform(data: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    try {
      this.sealer.update(data, this.pushPiece);
    } catch (err) {
      return done(err as Error);
    }
    done();
  }

  override _flush(done: TransformCallback): void {
    try {
      this.sealer.finish(this.pushPiece);
    } catch (err) {
      return done(err as Error);
    }
    done();
  }
}

/** Bytes per file read while sealing a file. */
const FILE_READ_BYTES = 1024 * 1024;
/** The fewest bytes read at once from a file still being written, unless its end is nearer. */
const GROWING_READ_BYTES = 256 * 1024;

/**
 * Seals the first `size` bytes of an open file: reading and sealing in one
 * stream stage, through one read buffer used over and over. The cipher copies
 * as it encrypts, so a read buffer is free again as soon as its bytes are
 * sealed; a fresh buffer per read cost page faults and collector work (a file
 * stream piped into a {@link ChunkSealer} took 1.3-2.2 CPU-s per GiB sent,
 * this 0.95-1.25, measured side by side). Reads are large because a system
 * call costs more than the bytes it moves here (64 KiB reads took 3.7x the CPU
 * of 1 MiB reads). Closes the file when it ends or is destroyed.
 */
export class FileSealer extends Readable {
  private readonly sealer: BodySealer;
  private readonly buffer: Buffer;
  private readonly pushPiece = (piece: Buffer) => this.push(piece);
  private reading = false;

  /**
   * @param growing set when the file is still being written: only what it says is
   *   available is read, and a rejected wait for more fails the envelope with its reason
   */
  constructor(
    private readonly file: FileHandle,
    private readonly body: BodyParams,
    head: Buffer,
    private readonly growing?: GrowingFile,
  ) {
    super({ highWaterMark: FILE_READ_BYTES });
    this.sealer = new BodySealer(body);
    // Whole chunks per read, so each read seals straight through.
    this.buffer = Buffer.allocUnsafeSlow(Math.max(1, Math.floor(FILE_READ_BYTES / body.chunkSize)) * body.chunkSize);
    this.push(head);
  }

  override _read(): void {
    if (this.reading || this.destroyed) return;
    for (;;) {
      // Every byte read is sealed at once, so what was sealed is where the next read starts.
      const position = this.sealer.sealed;
      if (position >= this.body.size) return this.finishBody();
      let want = Math.min(this.buffer.length, this.body.size - position);
      if (this.growing) {
        const ready = this.growing.available() - position;
        // Reads of at least GROWING_READ_BYTES (or what is left): a slow writer must not turn into many tiny reads.
        const enough = Math.min(want, GROWING_READ_BYTES);
        if (ready < enough) return this.waitForBytes(position + enough);
        want = Math.min(want, ready);
        // Bytes the writer still holds are sealed from memory instead of read back.
        const held = this.growing.recent?.(position, want);
        if (held) {
          // Guarded like a read: a consumer reading from inside push() must not start a second loop here.
          this.reading = true;
          const more = this.sealFrom(held);
          this.reading = false;
          if (!more) return;
          continue;
        }
      }
      return this.readAndSeal(position, want);
    }
  }

  /** Seals `plaintext`; whether the consumer wants more (false too when it failed and the stream is destroyed). */
  private sealFrom(plaintext: Buffer): boolean {
    try {
      return this.sealer.update(plaintext, this.pushPiece);
    } catch (err) {
      this.destroy(err as Error);
      return false;
    }
  }

  private readAndSeal(position: number, want: number): void {
    this.reading = true;
    this.file.read(this.buffer, 0, want, position).then(
      ({ bytesRead }) => {
        this.reading = false;
        if (this.destroyed) return;
        // A file that shrank since it was measured ends here; finish() names the shortfall.
        if (bytesRead === 0) return this.finishBody();
        if (this.sealFrom(this.buffer.subarray(0, bytesRead))) this._read();
      },
      (err: unknown) => {
        this.reading = false;
        this.destroy(new NvidError('NVID_ERR_DELIVERY', `cannot read the file being sent: ${(err as Error).message}`, { cause: err }));
      },
    );
  }

  /** A growing file has fewer than `end` bytes available: reads again once it has. */
  private waitForBytes(end: number): void {
    this.reading = true;
    this.growing!.waitBeyond(end - 1).then(
      () => {
        this.reading = false;
        if (!this.destroyed) this._read();
      },
      (err: unknown) => {
        this.reading = false;
        this.destroy(err as Error);
      },
    );
  }

  /** The source is done: seal what the end owes, or fail if it came short. */
  private finishBody(): void {
    try {
      this.sealer.finish(this.pushPiece);
    } catch (err) {
      return void this.destroy(err as Error);
    }
    this.push(null);
  }

  override _destroy(err: Error | null, done: (err?: Error | null) => void): void {
    this.file.close().then(() => done(err), () => done(err));
  }
}

/**
 * Decrypts sealed chunks back into plaintext, releasing a chunk's plaintext
 * only once its tag verified. Errors with NVID_ERR_CHUNK_AUTH,
 * NVID_ERR_TRUNCATED or NVID_ERR_TRAILING_DATA. The stream ends only after
 * the final chunk verified, the input ended with nothing after it, and
 * `onComplete` (e.g. remembering the transfer ID) resolved.
 */
export class ChunkOpener extends Transform {
  private readonly chunks: number;
  private index = 0;
  private decipher: DecipherGCM | undefined;
  /** Ciphertext bytes the current chunk still takes before its tag. */
  private left = 0;
  private readonly tag = Buffer.alloc(TAG_BYTES);
  private tagFilled = 0;
  /** Decrypted but not yet authenticated plaintext of the current chunk: held back until its tag verifies. */
  private pending: Buffer[] = [];

  constructor(
    private readonly body: BodyParams,
    private readonly onComplete: () => Promise<void> = async () => {},
    options?: TransformOptions,
  ) {
    super({ ...options, highWaterMark: options?.highWaterMark ?? body.chunkSize });
    this.chunks = chunkCount(body.size, body.chunkSize);
  }

  override _transform(data: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    let at = 0;
    try {
      while (at < data.length) {
        if (this.index === this.chunks) throw new NvidError('NVID_ERR_TRAILING_DATA', `${data.length - at} bytes followed the final chunk`);
        if (!this.decipher) this.startChunk();
        if (this.left > 0) {
          const n = Math.min(this.left, data.length - at, UPDATE_PIECE_BYTES);
          this.pending.push(this.decipher!.update(data.subarray(at, at + n)));
          at += n;
          this.left -= n;
        } else {
          const n = Math.min(TAG_BYTES - this.tagFilled, data.length - at);
          this.tagFilled += data.copy(this.tag, this.tagFilled, at, at + n);
          at += n;
          if (this.tagFilled === TAG_BYTES) this.endChunk();
        }
      }
      done();
    } catch (err) {
      done(err as Error);
    }
  }

  override _flush(done: TransformCallback): void {
    if (this.index < this.chunks) {
      const where = this.decipher ? `inside chunk ${this.index}` : `at the boundary before chunk ${this.index}`;
      return done(new NvidError('NVID_ERR_TRUNCATED', `envelope ended ${where}, before its final chunk (${this.chunks} chunks expected)`));
    }
    this.onComplete().then(() => done(), (err: unknown) => done(err as Error));
  }

  private startChunk(): void {
    this.decipher = createDecipheriv('aes-256-gcm', this.body.payloadKey, chunkNonce(this.index, this.index === this.chunks - 1));
    this.left = chunkPlainLength(this.index, this.body.size, this.body.chunkSize);
    this.tagFilled = 0;
  }

  private endChunk(): void {
    this.decipher!.setAuthTag(this.tag);
    try {
      this.decipher!.final();
    } catch (err) {
      this.pending = [];
      throw new NvidError('NVID_ERR_CHUNK_AUTH', `chunk ${this.index} of ${this.chunks} failed authentication (altered, dropped, reordered or swapped)`, { cause: err });
    }
    for (const piece of this.pending) this.push(piece);
    this.pending = [];
    this.decipher = undefined;
    this.index += 1;
  }
}
