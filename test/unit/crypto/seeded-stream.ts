/** Large deterministic test data, streamed: never a whole file in memory. */
import { createCipheriv, createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';

/** `size` pseudo-random bytes from `seed` (an AES-256-CTR keystream), in pieces of `pieceSize` with backpressure. */
export function seededStream(seed: string, size: number, pieceSize = 1 << 20): Readable {
  const key = createHash('sha256').update(`nvid seeded stream ${seed}`).digest();
  const cipher = createCipheriv('aes-256-ctr', key, Buffer.alloc(16));
  const zeros = Buffer.alloc(pieceSize);
  let left = size;
  return new Readable({
    read() {
      if (left === 0) return this.push(null);
      const n = Math.min(left, zeros.length);
      left -= n;
      this.push(cipher.update(zeros.subarray(0, n)));
    },
  });
}

/** A pass-through that hashes what flows by. */
export function hashing(): { transform: Transform; hex: () => string; bytes: () => number } {
  const hash = createHash('sha256');
  let bytes = 0;
  const transform = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      bytes += chunk.length;
      done(null, chunk);
    },
  });
  return { transform, hex: () => hash.digest('hex'), bytes: () => bytes };
}

/** Writes `source` to `path`, returning the SHA-256 of what was written. */
export async function writeHashed(source: Readable, path: string): Promise<{ sha256: string; bytes: number }> {
  const h = hashing();
  await pipeline(source, h.transform, createWriteStream(path));
  return { sha256: h.hex(), bytes: h.bytes() };
}
