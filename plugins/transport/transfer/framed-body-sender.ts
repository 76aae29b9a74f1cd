/**
 * The sending end of a body inside TLS: the sealed envelope as data frames
 * and an end frame on the transfer's own TLS connection. Used when the
 * receiver keeps bodies inside TLS, or the envelope's length is unknown (the
 * bulk channel needs it), or this node is set to `bulkChannel: "tls"`.
 */
import type { Readable } from 'node:stream';
import { NvidError } from '../../../core/errors.js';
import { DATA_FRAME_BYTES } from '../wire/frame-codec.js';
import type { FramedConnection } from '../wire/framed-connection.js';
import { WriteBatcher } from '../wire/write-batcher.js';

/** Writes the envelope as data frames of at most DATA_FRAME_BYTES, pausing whenever the socket's buffer is full. */
export function streamBody(conn: FramedConnection, envelope: Readable, onProgress: ((bytes: number) => void) | undefined, done: (err?: unknown) => void): void {
  let sent = 0;
  let finished = false;
  const once = (err?: unknown) => {
    if (finished) return;
    finished = true;
    done(err);
  };
  const writes = new WriteBatcher(conn.socket);
  envelope.on('data', (chunk: Buffer | string) => {
    const data = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    // Chunks that arrive in the same turn leave in one writev: one TLS pass and one system call
    // instead of two per frame (prefix and body), which cost more than the encryption here.
    writes.batch();
    let flowing = true;
    for (let offset = 0; offset < data.length; offset += DATA_FRAME_BYTES) {
      flowing = conn.sendData(data.subarray(offset, offset + DATA_FRAME_BYTES)) && flowing;
    }
    sent += data.length;
    onProgress?.(sent);
    if (!flowing) {
      envelope.pause();
      conn.socket.once('drain', () => envelope.resume());
    }
  });
  envelope.once('end', () => {
    conn.sendEnd();
    once();
  });
  envelope.resume(); // it may have been paused after its head was read for a bulk offer the receiver declined
  envelope.once('error', (err) => once(err));
  envelope.once('close', () => {
    if (!envelope.readableEnded) once(new NvidError('NVID_ERR_DELIVERY', 'the envelope stream closed before its end'));
  });
}
