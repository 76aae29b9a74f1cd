/**
 * The sending end of a bulk connection: a plain TCP connection to the
 * receiver's transfer port that presents the token the receiver gave us inside
 * TLS, then writes the sealed envelope raw (no framing) and closes its side.
 */
import { connect, type NetConnectOpts, type Socket } from 'node:net';
import type { Readable } from 'node:stream';
import { NvidError, asNvidError } from '../../../core/errors.js';
import { encodeBulkPreamble } from './bulk-channel.js';

export interface BulkSendOptions {
  readonly host: string;
  readonly port: number;
  /** The token from the receiver's `bulk` message. */
  readonly token: string;
  readonly envelope: Readable;
  /** The length announced in the `transfer` header; the envelope must be exactly this long. */
  readonly length: number;
  readonly connectTimeoutMs: number;
  readonly onProgress?: (sentBytes: number) => void;
}

/** Why a bulk send stopped: the envelope itself (tell the receiver over TLS), or the connection (the receiver may say why over TLS). */
export type BulkSendFailure = { readonly error: NvidError; readonly cause: 'envelope' | 'connection' };

export interface BulkSend {
  /** Stops sending and closes the connection (the transfer ended some other way). */
  abort(): void;
}

/**
 * Bytes the socket may hold before the envelope is paused. Large, so the
 * envelope's ~64 KiB chunks of one event-loop turn leave in one writev: system
 * calls cost more than the bytes they move on these machines.
 */
const SOCKET_BUFFER_BYTES = 1024 * 1024;

/**
 * Opens the bulk connection and streams the envelope through it with
 * backpressure. `done` is called once: without an argument when every byte is
 * handed to the kernel and our side is closed, else with the failure.
 */
export function sendBulkBody(options: BulkSendOptions, done: (failure?: BulkSendFailure) => void): BulkSend {
  const { envelope, length } = options;
  // The socket's Duplex takes `writableHighWaterMark` at runtime; @types/node just does not list it for connect().
  const socket: Socket = connect({ host: options.host, port: options.port, writableHighWaterMark: SOCKET_BUFFER_BYTES } as NetConnectOpts);
  socket.setNoDelay(true); // the last segment and the FIN should not wait for an ACK
  let finished = false;
  let socketError: NvidError | undefined;
  let sent = 0;
  let corked = false;

  const stopEnvelope = () => {
    envelope.off('data', onData);
    envelope.pause();
  };
  const finish = (failure?: BulkSendFailure) => {
    if (finished) return;
    finished = true;
    clearTimeout(timer);
    if (failure) {
      stopEnvelope();
      socket.destroy();
    }
    done(failure);
  };
  const envelopeFailure = (error: NvidError) => finish({ error, cause: 'envelope' });

  /** Everything written in one event-loop turn leaves in one writev. */
  const gather = () => {
    if (corked) return;
    corked = true;
    socket.cork();
    setImmediate(() => {
      corked = false;
      socket.uncork();
    });
  };

  const onData = (chunk: Buffer | string) => {
    const data = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    if (data.length > length - sent) {
      envelopeFailure(new NvidError('NVID_ERR_DELIVERY', `the envelope is longer than the ${length} bytes announced`, { details: { announced: length } }));
      return;
    }
    gather();
    const flowing = socket.write(data);
    sent += data.length;
    options.onProgress?.(sent);
    if (!flowing) {
      envelope.pause();
      socket.once('drain', () => {
        if (!finished) envelope.resume();
      });
    }
  };

  const timer = setTimeout(() => finish({ error: new NvidError('NVID_ERR_TIMEOUT', `the bulk connection to ${options.host}:${options.port} was not accepted within ${options.connectTimeoutMs} ms`), cause: 'connection' }), options.connectTimeoutMs);

  socket.on('error', (err) => {
    socketError ??= asNvidError(err, 'NVID_ERR_CONNECTION');
  });
  socket.once('close', () => finish({ error: socketError ?? new NvidError('NVID_ERR_CONNECTION', `the bulk connection closed after ${sent} of ${length} envelope bytes`), cause: 'connection' }));
  // The receiver sends nothing on this connection; reading keeps its FIN from going unnoticed.
  socket.on('data', () => undefined);

  // Listen for the envelope failing from the start: it may already be reading its file while we connect.
  envelope.once('error', (err) => envelopeFailure(asNvidError(err, 'NVID_ERR_DELIVERY')));
  envelope.once('close', () => {
    if (!envelope.readableEnded) envelopeFailure(new NvidError('NVID_ERR_DELIVERY', 'the envelope stream closed before its end'));
  });

  socket.once('connect', () => {
    clearTimeout(timer);
    if (finished) return;
    gather();
    socket.write(encodeBulkPreamble(options.token));
    envelope.on('data', onData);
    envelope.once('end', () => {
      if (finished) return;
      if (sent !== length) {
        envelopeFailure(new NvidError('NVID_ERR_DELIVERY', `the envelope ended after ${sent} of the ${length} bytes announced`, { details: { sent, announced: length } }));
        return;
      }
      socket.once('finish', () => finish());
      socket.end();
    });
    envelope.resume();
  });

  return {
    abort: () => {
      if (!finished) {
        finished = true; // the caller ended the transfer: no callback
        clearTimeout(timer);
        stopEnvelope();
      }
      socket.destroy();
    },
  };
}

/**
 * Reads the first `bytes` bytes of the envelope (for the bulk offer's `head`
 * hash) and puts them back, so the body is then sent from its first byte,
 * on whichever channel the receiver picks. Fails if the envelope ends sooner.
 */
export function readHead(envelope: Readable, bytes: number): Promise<Buffer> {
  return new Promise<Buffer>((resolve, reject) => {
    const parts: Buffer[] = [];
    let have = 0;
    const done = (err?: NvidError) => {
      envelope.off('data', onData);
      envelope.off('end', onEnd);
      envelope.pause();
      if (err) {
        reject(err); // ended: nothing can be put back
        return;
      }
      const all = Buffer.concat(parts);
      envelope.unshift(all);
      resolve(all.subarray(0, bytes));
    };
    const onData = (chunk: Buffer | string) => {
      const data = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      parts.push(data);
      have += data.length;
      if (have >= bytes) done();
    };
    const onEnd = () => done(new NvidError('NVID_ERR_DELIVERY', `the envelope ended after ${have} bytes, before the ${bytes} its header hash covers`));
    if (bytes === 0) {
      resolve(Buffer.alloc(0));
      return;
    }
    envelope.on('data', onData);
    envelope.once('end', onEnd);
  });
}
