/**
 * Reads the first bytes of a stream (the envelope's preamble and header)
 * without consuming the rest, which is then piped on to the chunk opener.
 */
import type { Readable } from 'node:stream';
import { NvidError } from '../../core/errors.js';

/**
 * Resolves with exactly `n` bytes from `stream`, leaving everything after them
 * unread. Rejects with NVID_ERR_TRUNCATED if the stream ends or fails first
 * (`what` names the part being read, for the message).
 */
export async function readExactly(stream: Readable, n: number, what: string): Promise<Buffer> {
  const parts: Buffer[] = [];
  let have = 0;
  while (have < n) {
    const part = stream.read() as Buffer | string | null;
    if (part !== null) {
      const bytes = typeof part === 'string' ? Buffer.from(part) : part;
      const needed = n - have;
      if (bytes.length > needed) stream.unshift(bytes.subarray(needed));
      parts.push(bytes.subarray(0, needed));
      have += Math.min(needed, bytes.length);
      continue;
    }
    await whenReadable(stream, () => new NvidError('NVID_ERR_TRUNCATED', `envelope ended after ${have} of ${n} bytes of its ${what}`));
  }
  return parts.length === 1 ? parts[0]! : Buffer.concat(parts, n);
}

/** `ended()`, naming the stream's own error when it has one. */
function failure(ended: () => NvidError, err: Error | null | undefined): NvidError {
  const error = ended();
  return err ? new NvidError(error.code, `${error.message}: ${err.message}`, { cause: err }) : error;
}

/**
 * Waits for more data; rejects with `ended()` when the stream ends, closes or
 * errors instead, also when that happened before this reader came along.
 */
function whenReadable(stream: Readable, ended: () => NvidError): Promise<void> {
  if (stream.readableEnded || stream.destroyed) return Promise.reject(failure(ended, stream.errored));
  return new Promise((resolve, reject) => {
    const cleanup = () => {
      stream.off('readable', onReadable);
      stream.off('end', onEnd);
      stream.off('close', onEnd);
      stream.off('error', onError);
    };
    const onReadable = () => {
      cleanup();
      resolve();
    };
    const onEnd = () => {
      cleanup();
      reject(ended());
    };
    const onError = (err: Error) => {
      cleanup();
      reject(failure(ended, err));
    };
    stream.on('readable', onReadable);
    stream.on('end', onEnd);
    stream.on('close', onEnd);
    stream.on('error', onError);
  });
}
