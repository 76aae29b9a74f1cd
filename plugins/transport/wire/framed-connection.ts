/**
 * A socket that speaks frames: decodes what arrives, hands whole frames to a
 * handler one at a time, and can stop handing them out (pause) so a slow body
 * consumer pushes back on the sender through TCP instead of filling memory.
 */
import type { Socket } from 'node:net';
import { NvidError, asNvidError } from '../../../core/errors.js';
import { FrameDecoder, dataPrefix, encodeEnd, encodeMessage, type Frame, type FrameLimits } from './frame-codec.js';
import { errorMessage, type WireMessage } from './wire-messages.js';
import { WriteBatcher } from './write-batcher.js';

export interface FrameHandlers {
  /** One whole frame. Throwing an NvidError fails the connection with it. */
  frame(frame: Frame): void;
  /** The peer sent something that is not a valid frame (or ended mid-frame); an error frame was sent and the socket is closing. */
  badInput?(err: NvidError): void;
  /** The socket is gone, for whatever reason. Called once. */
  closed?(): void;
}

/** How long a failed connection waits for the peer to read the error frame before it is torn down. */
const FAIL_LINGER_MS = 2000;

export class FramedConnection {
  readonly socket: Socket;
  private readonly decoder: FrameDecoder;
  private readonly limits: FrameLimits;
  private handlers: FrameHandlers | undefined;
  private readonly queue: Frame[] = [];
  private paused = false;
  private dispatching = false;
  private failed = false;
  private isClosed = false;
  /**
   * Messages written in the same turn of the event loop leave as one TLS
   * record and one TCP segment (a burst of deltas during a join storm, say).
   */
  private readonly writes: WriteBatcher;

  constructor(socket: Socket, limits: FrameLimits) {
    this.socket = socket;
    this.limits = limits;
    this.decoder = new FrameDecoder(limits);
    this.writes = new WriteBatcher(socket);
  }

  get closed(): boolean {
    return this.isClosed;
  }

  /** Starts reading. Until this is called nothing is read from the socket. */
  start(handlers: FrameHandlers): void {
    this.handlers = handlers;
    this.socket.on('data', (chunk: Buffer) => this.onData(chunk));
    this.socket.on('end', () => {
      if (this.decoder.pendingBytes > 0 && !this.failed) {
        this.reportBadInput(new NvidError('NVID_ERR_BAD_FRAME', `connection ended in the middle of a frame (${this.decoder.pendingBytes} bytes pending)`));
      }
      this.socket.end();
    });
    this.socket.on('error', () => this.socket.destroy());
    this.socket.on('close', () => this.onClose());
    if (this.socket.destroyed) this.onClose();
  }

  /** Stops handing out frames and reading from the socket, so TCP pushes back on the sender. */
  pause(): void {
    this.paused = true;
    this.socket.pause();
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.drain();
    if (!this.paused) this.socket.resume();
  }

  /** Sends one message; returns false when the socket's buffer is full. */
  send(message: WireMessage): boolean {
    if (this.isClosed || this.failed) return false;
    this.writes.batch();
    return this.socket.write(encodeMessage(message, this.limits.maxMessageBytes));
  }

  /**
   * Sends a frame encoded already (a broadcast encodes once for many sockets); `written`
   * runs once the socket handed it on (not when the link closed first). Not corked: the
   * frame is one buffer and one TLS record already, and a burst of them written one after
   * another's callback stays one record each instead of one writev of them all (Node's TLS
   * keeps a buffer as large as its largest write for the life of the connection).
   */
  sendEncoded(frame: Buffer, written?: () => void): boolean {
    if (this.isClosed || this.failed) return false;
    return written ? this.socket.write(frame, (err) => (err ? undefined : written())) : this.socket.write(frame);
  }

  /** Sends one body chunk as a data frame without copying it. */
  sendData(chunk: Buffer): boolean {
    if (this.isClosed || this.failed) return false;
    this.socket.write(dataPrefix(chunk.length));
    return this.socket.write(chunk);
  }

  sendEnd(): boolean {
    if (this.isClosed || this.failed) return false;
    return this.socket.write(encodeEnd());
  }

  /** Sends an error frame, stops reading and closes; the socket is destroyed if the peer lingers. */
  fail(err: NvidError, requestId?: number): void {
    if (this.failed || this.isClosed) return;
    this.failed = true;
    this.queue.length = 0;
    try {
      this.socket.write(encodeMessage(errorMessage(err, requestId), this.limits.maxMessageBytes));
    } catch {
      // The socket may already be half closed; closing below is all that matters.
    }
    this.socket.end();
    this.socket.resume(); // drain whatever the peer still sends so its end arrives
    const timer = setTimeout(() => this.socket.destroy(), FAIL_LINGER_MS);
    timer.unref();
  }

  /** Closes without an error (e.g. after a graceful leave or a delivered ack). */
  end(): void {
    if (this.isClosed) return;
    this.socket.end();
    const timer = setTimeout(() => this.socket.destroy(), FAIL_LINGER_MS);
    timer.unref();
  }

  destroy(): void {
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    if (this.failed) return;
    let frames: Frame[];
    try {
      frames = this.decoder.push(chunk);
    } catch (err) {
      this.reportBadInput(asNvidError(err, 'NVID_ERR_BAD_FRAME'));
      return;
    }
    for (const frame of frames) this.queue.push(frame);
    this.drain();
  }

  private drain(): void {
    if (this.dispatching) return; // a handler that resumes from inside frame() must not recurse
    this.dispatching = true;
    try {
      while (!this.paused && !this.failed && this.queue.length > 0) {
        const frame = this.queue.shift()!;
        try {
          this.handlers!.frame(frame);
        } catch (err) {
          this.reportBadInput(asNvidError(err, 'NVID_ERR_BAD_FRAME'));
        }
      }
    } finally {
      this.dispatching = false;
    }
  }

  private reportBadInput(err: NvidError): void {
    if (this.failed || this.isClosed) return;
    this.fail(err);
    this.handlers?.badInput?.(err);
  }

  private onClose(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.queue.length = 0;
    this.handlers?.closed?.();
  }
}
