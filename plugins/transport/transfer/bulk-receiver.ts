/**
 * The receiving end of a bulk connection: read its magic and token (refusing
 * anything else on its first bytes), then move exactly the announced number
 * of envelope bytes into the body stream, pausing the socket whenever the
 * body's buffer is full so TCP pushes back on the sender.
 */
import { timingSafeEqual } from 'node:crypto';
import type { Socket } from 'node:net';
import type { Readable } from 'node:stream';
import { NvidError } from '../../../core/errors.js';
import type { BodyRateFloor } from './body-rate.js';
import { BULK_HEAD_BYTES, BULK_MAGIC, BULK_PREAMBLE_BYTES, couldBeBulkPreamble, envelopeHeadHash } from './bulk-channel.js';

export interface PreambleHandlers {
  /** The connection presented a well-formed preamble; the socket is paused, any body bytes after it are kept for the pump. */
  token(tokenHex: string): void;
  /** Not a bulk preamble (or the peer ended in the middle of it): the caller closes the socket. */
  bad(err: NvidError): void;
}

/**
 * Reads the preamble of a plain connection. The caller's auth timer covers a
 * peer that never sends it; this only judges the bytes that do arrive.
 */
export function readBulkPreamble(socket: Socket, handlers: PreambleHandlers): void {
  let head: Buffer = Buffer.alloc(0);
  let settled = false;
  const stop = () => {
    settled = true;
    socket.off('data', onData);
    socket.off('end', onEnd);
  };
  const onData = (chunk: Buffer) => {
    // Preambles are 36 bytes, so this concat only ever copies a few bytes spread over tiny first segments.
    head = head.length === 0 ? chunk : Buffer.concat([head, chunk]);
    if (!couldBeBulkPreamble(head)) {
      stop();
      handlers.bad(new NvidError('NVID_ERR_BAD_FRAME', `neither a TLS handshake nor a bulk connection (first bytes ${head.subarray(0, BULK_MAGIC.length).toString('hex')})`));
      return;
    }
    if (head.length < BULK_PREAMBLE_BYTES) return;
    stop();
    socket.pause();
    const rest = head.subarray(BULK_PREAMBLE_BYTES);
    if (rest.length > 0) socket.unshift(rest);
    handlers.token(head.subarray(BULK_MAGIC.length, BULK_PREAMBLE_BYTES).toString('hex'));
  };
  const onEnd = () => {
    if (settled) return;
    stop();
    handlers.bad(new NvidError('NVID_ERR_BAD_FRAME', `bulk connection ended after ${head.length} of the ${BULK_PREAMBLE_BYTES} preamble bytes`));
  };
  socket.on('data', onData);
  socket.on('end', onEnd);
  socket.resume();
}

export interface BulkBodyOptions {
  /** A bulk connection whose token was accepted, paused. */
  readonly socket: Socket;
  /** The transfer's body stream; the pump pushes into it, and its `read` must call `socket.resume()`. */
  readonly body: Readable;
  /** Exact envelope length announced in the `transfer` header. */
  readonly length: number;
  /** SHA-256 (hex) of the envelope's first min(length, BULK_HEAD_BYTES) bytes, announced in the `transfer` header. */
  readonly head: string;
  /** A sender that sends nothing for this long is cut off (as on the TLS path, a consumer stalled this long counts too). */
  readonly idleTimeoutMs: number;
  /** Told of every body byte and of every pause this end makes, to judge the sender's rate. */
  readonly rate?: BodyRateFloor;
  /** Called once: without an error once all `length` bytes and the sender's end arrived (the body is ended), else with why not. */
  readonly done: (err?: NvidError) => void;
}

/**
 * Moves the envelope from the socket into the body. The body ends only at the
 * sender's FIN after exactly `length` bytes, so an envelope followed by extra
 * bytes is refused (NVID_ERR_TRAILING_DATA) rather than stored; one that stops
 * early fails with NVID_ERR_TRUNCATED (FIN) or NVID_ERR_CONNECTION (reset).
 * The envelope's first bytes are held back until they match the hash
 * announced over TLS (else NVID_ERR_UNTRUSTED_PEER): nothing that is not the
 * authenticated sender's envelope ever reaches the receive pipeline.
 */
export function pumpBulkBody(options: BulkBodyOptions): void {
  new BulkBodyPump(options).start();
}

/** The state of one bulk body on its way from the socket into the body stream. */
class BulkBodyPump {
  private readonly options: BulkBodyOptions;
  private readonly socket: Socket;
  private readonly body: Readable;
  private readonly length: number;
  /** How much of the envelope's start must match the announced hash before any of it reaches the body. */
  private readonly headBytes: number;
  private held: Buffer[] = [];
  private heldBytes = 0;
  private bound: boolean;
  private received = 0;
  private over = false;
  /** Bound once, so the socket listener can be taken off again. */
  private readonly onData = (chunk: Buffer) => this.take(chunk);

  constructor(options: BulkBodyOptions) {
    this.options = options;
    this.socket = options.socket;
    this.body = options.body;
    this.length = options.length;
    this.headBytes = Math.min(options.length, BULK_HEAD_BYTES);
    this.bound = this.headBytes === 0; // an empty envelope has nothing to bind
  }

  start(): void {
    const { socket, length } = this;
    socket.on('data', this.onData);
    socket.once('end', () => this.onEnd());
    socket.once('close', () => this.finish(new NvidError('NVID_ERR_CONNECTION', `the bulk connection closed after ${this.received} of the ${length} envelope bytes`, { details: { received: this.received, announced: length } })));
    socket.on('error', () => socket.destroy());
    socket.setTimeout(this.options.idleTimeoutMs, () =>
      this.finish(new NvidError('NVID_ERR_TIMEOUT', `sender went quiet for ${this.options.idleTimeoutMs} ms in the middle of a transfer (bulk connection)`)),
    );
    socket.resume();
  }

  private take(chunk: Buffer): void {
    const { length } = this;
    if (chunk.length > length - this.received) {
      this.finish(new NvidError('NVID_ERR_TRAILING_DATA', `the bulk connection sent more than the ${length} bytes announced for the envelope`, { details: { announced: length } }));
      return;
    }
    this.received += chunk.length;
    this.options.rate?.received(chunk.length);
    const data = this.bound ? chunk : this.checkHead(chunk);
    if (!data || this.over) return;
    if (this.body.destroyed) return; // the pipeline gave up; the server closes this socket
    // Backpressure: the body's read() resumes the socket once the consumer wants more.
    if (!this.body.push(data)) {
      this.socket.pause();
      this.options.rate?.held();
    }
  }

  /** Checks the held head once complete; returns what may go on to the body, or undefined (failed, or still short). */
  private checkHead(chunk: Buffer): Buffer | undefined {
    this.held.push(chunk);
    this.heldBytes += chunk.length;
    if (this.heldBytes < this.headBytes) return undefined;
    const all = this.held.length === 1 ? this.held[0]! : Buffer.concat(this.held);
    this.held = [];
    const expected = Buffer.from(this.options.head, 'hex');
    if (!timingSafeEqual(Buffer.from(envelopeHeadHash(all.subarray(0, this.headBytes)), 'hex'), expected)) {
      this.finish(new NvidError('NVID_ERR_UNTRUSTED_PEER', 'the bulk connection does not carry the envelope announced over TLS (its first bytes do not match)'));
      return undefined;
    }
    this.bound = true;
    return all;
  }

  /** The sender's FIN: the body ends only after exactly the announced bytes, all of them past the head check. */
  private onEnd(): void {
    const { length, received } = this;
    if (received !== length || !this.bound) {
      this.finish(new NvidError('NVID_ERR_TRUNCATED', `the bulk connection ended after ${received} of the ${length} envelope bytes announced`, { details: { received, announced: length } }));
      return;
    }
    if (!this.body.destroyed) this.body.push(null);
    this.finish();
  }

  private finish(err?: NvidError): void {
    if (this.over) return;
    this.over = true;
    this.socket.setTimeout(0);
    this.socket.off('data', this.onData);
    if (err) this.socket.destroy();
    this.options.done(err);
  }
}
