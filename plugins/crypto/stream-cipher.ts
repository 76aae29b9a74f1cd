/**
 * The chunked body of an envelope as Transform streams (age's STREAM
 * construction over AES-256-GCM). Chunk `i` is sealed under the payload key
 * with nonce = 88-bit counter `i` || final flag, so a dropped, repeated or
 * reordered chunk fails authentication, and a stream cut anywhere before the
 * final chunk cannot pass for a complete one. The body's plaintext size is
 * signed in the header, so both sides know every chunk's length and which one
 * is final before reading it.
 */
import { createCipheriv, createDecipheriv } from 'node:crypto';
import { Transform, type TransformCallback, type TransformOptions } from 'node:stream';
import { NvidError } from '../../core/errors.js';
import { ByteQueue } from './byte-queue.js';
import { chunkCount, chunkNonce, chunkPlainLength, TAG_BYTES } from './envelope-format.js';

/** What both directions need to know about a body. */
export interface BodyParams {
  readonly payloadKey: Buffer;
  /** Plaintext bytes in the body. */
  readonly size: number;
  readonly chunkSize: number;
}

/**
 * Encrypts exactly `size` plaintext bytes into sealed chunks. Emits `head`
 * (preamble and sealed header) first. Fails if the source ends short or runs
 * long, since the chunk count is already committed to in the signed header.
 */
export class ChunkSealer extends Transform {
  private readonly queue = new ByteQueue();
  private readonly chunks: number;
  private index = 0;

  constructor(private readonly body: BodyParams, head: Buffer, options?: TransformOptions) {
    super({ ...options, highWaterMark: options?.highWaterMark ?? body.chunkSize + TAG_BYTES });
    this.chunks = chunkCount(body.size, body.chunkSize);
    this.push(head);
  }

  override _transform(data: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.queue.push(data);
    try {
      this.sealReadyChunks();
      done();
    } catch (err) {
      done(err as Error);
    }
  }

  override _flush(done: TransformCallback): void {
    try {
      // An empty body still has its one (empty) final chunk.
      if (this.body.size === 0 && this.index === 0) this.sealChunk(Buffer.alloc(0));
      if (this.index !== this.chunks) {
        throw new NvidError('NVID_ERR_BAD_ENVELOPE', `source ended after ${this.bytesSealed()} of ${this.body.size} bytes (file changed while sending?)`);
      }
      done();
    } catch (err) {
      done(err as Error);
    }
  }

  private sealReadyChunks(): void {
    while (this.index < this.chunks) {
      const need = chunkPlainLength(this.index, this.body.size, this.body.chunkSize);
      if (this.queue.length < need || need === 0) break;
      this.sealChunk(this.queue.take(need));
    }
    if (this.index === this.chunks && this.queue.length > 0) {
      throw new NvidError('NVID_ERR_BAD_ENVELOPE', `source has more than the ${this.body.size} bytes announced (file changed while sending?)`);
    }
  }

  private sealChunk(plain: Buffer): void {
    const cipher = createCipheriv('aes-256-gcm', this.body.payloadKey, chunkNonce(this.index, this.index === this.chunks - 1));
    const sealed = cipher.update(plain);
    cipher.final();
    this.push(sealed);
    this.push(cipher.getAuthTag());
    this.index += 1;
  }

  private bytesSealed(): number {
    return Math.min(this.body.size, this.index * this.body.chunkSize);
  }
}

/**
 * Decrypts sealed chunks back into plaintext, pushing a chunk only once its tag
 * verified. Errors with NVID_ERR_CHUNK_AUTH, NVID_ERR_TRUNCATED or
 * NVID_ERR_TRAILING_DATA. The stream ends only after the final chunk verified,
 * the input ended with nothing after it, and `onComplete` (e.g. remembering
 * the transfer ID) resolved.
 */
export class ChunkOpener extends Transform {
  private readonly queue = new ByteQueue();
  private readonly chunks: number;
  private index = 0;

  constructor(
    private readonly body: BodyParams,
    private readonly onComplete: () => Promise<void> = async () => {},
    options?: TransformOptions,
  ) {
    super({ ...options, highWaterMark: options?.highWaterMark ?? body.chunkSize });
    this.chunks = chunkCount(body.size, body.chunkSize);
  }

  override _transform(data: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    if (data.length === 0) return done();
    if (this.index === this.chunks) return done(trailing(data.length));
    this.queue.push(data);
    try {
      while (this.index < this.chunks) {
        const sealedLength = chunkPlainLength(this.index, this.body.size, this.body.chunkSize) + TAG_BYTES;
        if (this.queue.length < sealedLength) break;
        this.push(this.openChunk(this.queue.take(sealedLength)));
      }
      if (this.index === this.chunks && this.queue.length > 0) throw trailing(this.queue.length);
      done();
    } catch (err) {
      done(err as Error);
    }
  }

  override _flush(done: TransformCallback): void {
    if (this.index < this.chunks) {
      const where = this.queue.length === 0 ? 'at a chunk boundary' : `${this.queue.length} bytes into chunk ${this.index}`;
      return done(new NvidError('NVID_ERR_TRUNCATED', `envelope ended ${where}, before its final chunk (${this.chunks} chunks expected)`));
    }
    this.onComplete().then(() => done(), (err: unknown) => done(err as Error));
  }

  private openChunk(sealed: Buffer): Buffer {
    const split = sealed.length - TAG_BYTES;
    const decipher = createDecipheriv('aes-256-gcm', this.body.payloadKey, chunkNonce(this.index, this.index === this.chunks - 1));
    decipher.setAuthTag(sealed.subarray(split));
    const plain = decipher.update(sealed.subarray(0, split));
    try {
      decipher.final();
    } catch (err) {
      throw new NvidError('NVID_ERR_CHUNK_AUTH', `chunk ${this.index} of ${this.chunks} failed authentication (altered, dropped, reordered or swapped)`, { cause: err });
    }
    this.index += 1;
    return plain;
  }
}

function trailing(bytes: number): NvidError {
  return new NvidError('NVID_ERR_TRAILING_DATA', `${bytes} bytes followed the final chunk`);
}
