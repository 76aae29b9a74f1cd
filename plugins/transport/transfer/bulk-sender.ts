/**
 * The sending end of a bulk connection: a plain TCP connection to the
 * receiver's transfer port that presents the token the receiver gave us inside
 * TLS, then writes the sealed envelope raw (no framing) and closes its side.
 */
import { connect, type NetConnectOpts, type Socket } from 'node:net';
import type { Readable } from 'node:stream';
import { NvidError, asNvidError } from '../../../core/errors.js';
import { WriteBatcher } from '../wire/write-batcher.js';
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
  return new BulkSender(options, done);
}

/** One bulk connection on the sending side, from connect to FIN; `done` hears how it ended, unless aborted. */
class BulkSender implements BulkSend {
  private readonly options: BulkSendOptions;
  private readonly done: (failure?: BulkSendFailure) => void;
  private readonly envelope: Readable;
  private readonly socket: Socket;
  private readonly writes: WriteBatcher;
  private readonly timer: NodeJS.Timeout;
  private finished = false;
  private socketError: NvidError | undefined;
  private sent = 0;
  /** Bound once, so the envelope listener can be taken off again. */
  private readonly onData = (chunk: Buffer | string) => this.write(chunk);

  constructor(options: BulkSendOptions, done: (failure?: BulkSendFailure) => void) {
    this.options = options;
    this.done = done;
    this.envelope = options.envelope;
    // The socket's Duplex takes `writableHighWaterMark` at runtime; @types/node just does not list it for connect().
    this.socket = connect({ host: options.host, port: options.port, writableHighWaterMark: SOCKET_BUFFER_BYTES } as NetConnectOpts);
    this.socket.setNoDelay(true); // the last segment and the FIN should not wait for an ACK
    this.writes = new WriteBatcher(this.socket);
    this.timer = setTimeout(() => this.finish({ error: new NvidError('NVID_ERR_TIMEOUT', `the bulk connection to ${options.host}:${options.port} was not accepted within ${options.connectTimeoutMs} ms`), cause: 'connection' }), options.connectTimeoutMs);
    this.watchSocket();
    this.watchEnvelope();
    this.socket.once('connect', () => this.onConnect());
  }

  /** Stops sending and closes the connection; `done` is not called (the caller ended the transfer). */
  abort(): void {
    if (!this.finished) {
      this.finished = true;
      clearTimeout(this.timer);
      this.stopEnvelope();
    }
    this.socket.destroy();
  }

  private watchSocket(): void {
    const { socket } = this;
    socket.on('error', (err) => {
      this.socketError ??= asNvidError(err, 'NVID_ERR_CONNECTION');
    });
    socket.once('close', () => this.finish({ error: this.socketError ?? new NvidError('NVID_ERR_CONNECTION', `the bulk connection closed after ${this.sent} of ${this.options.length} envelope bytes`), cause: 'connection' }));
    // The receiver sends nothing on this connection; reading keeps its FIN from going unnoticed.
    socket.on('data', () => undefined);
  }

  /** Listen for the envelope failing from the start: it may already be reading its file while we connect. */
  private watchEnvelope(): void {
    const { envelope } = this;
    envelope.once('error', (err) => this.envelopeFailure(asNvidError(err, 'NVID_ERR_DELIVERY')));
    envelope.once('close', () => {
      if (!envelope.readableEnded) this.envelopeFailure(new NvidError('NVID_ERR_DELIVERY', 'the envelope stream closed before its end'));
    });
  }

  /** Connected: the preamble (magic and token) goes first, in the same writev as the envelope's first bytes. */
  private onConnect(): void {
    clearTimeout(this.timer);
    if (this.finished) return;
    this.writes.batch();
    this.socket.write(encodeBulkPreamble(this.options.token));
    this.envelope.on('data', this.onData);
    this.envelope.once('end', () => this.onEnvelopeEnd());
    this.envelope.resume();
  }

  private write(chunk: Buffer | string): void {
    const { length } = this.options;
    const data = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    if (data.length > length - this.sent) {
      this.envelopeFailure(new NvidError('NVID_ERR_DELIVERY', `the envelope is longer than the ${length} bytes announced`, { details: { announced: length } }));
      return;
    }
    this.writes.batch();
    const flowing = this.socket.write(data);
    this.sent += data.length;
    this.options.onProgress?.(this.sent);
    if (!flowing) {
      // Backpressure: the envelope waits until the socket's buffer drains.
      this.envelope.pause();
      this.socket.once('drain', () => {
        if (!this.finished) this.envelope.resume();
      });
    }
  }

  /** The envelope is complete: exactly the announced length closes our side, anything else is the envelope's fault. */
  private onEnvelopeEnd(): void {
    if (this.finished) return;
    const { length } = this.options;
    if (this.sent !== length) {
      this.envelopeFailure(new NvidError('NVID_ERR_DELIVERY', `the envelope ended after ${this.sent} of the ${length} bytes announced`, { details: { sent: this.sent, announced: length } }));
      return;
    }
    this.socket.once('finish', () => this.finish());
    this.socket.end();
  }

  private stopEnvelope(): void {
    this.envelope.off('data', this.onData);
    this.envelope.pause();
  }

  private envelopeFailure(error: NvidError): void {
    this.finish({ error, cause: 'envelope' });
  }

  /** Reports once how the send ended; a failure stops the envelope and cuts the connection. */
  private finish(failure?: BulkSendFailure): void {
    if (this.finished) return;
    this.finished = true;
    clearTimeout(this.timer);
    if (failure) {
      this.stopEnvelope();
      this.socket.destroy();
    }
    this.done(failure);
  }
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
