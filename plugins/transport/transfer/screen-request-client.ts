/**
 * The controller's end of a remote-screen request: connect to the peer's
 * transfer port over mutual TLS, check its certificate IS the peer's ID, send
 * one `screen-request`, and read the `screen-answer` with its bytes (data
 * frames, then an end frame), or the peer's error frame. One timer covers the
 * whole exchange, connecting included: a stopped, busy or absent screen fails
 * with NVID_ERR_TIMEOUT in words, and never holds the caller longer.
 */
import type { TLSSocket } from 'node:tls';
import { NvidError, asNvidError } from '../../../core/errors.js';
import type { Identity, LibraryItem, Peer, RemoteScreenAnswer, RemoteScreenRequest, ScheduleState, ScreenState } from '../../../core/types.js';
import type { Frame, FrameLimits } from '../wire/frame-codec.js';
import { FramedConnection } from '../wire/framed-connection.js';
import { connectTls, peerCertificateOf } from '../wire/tls-helpers.js';
import { SCREEN_TO_CONTROLLER, checkMessage, type ScreenAnswerMessage } from '../wire/wire-messages.js';

export interface ScreenRequestOptions {
  readonly identity: Identity;
  readonly peer: Peer;
  readonly request: RemoteScreenRequest;
  /** The longest the whole exchange may take. */
  readonly timeoutMs: number;
  readonly limits: FrameLimits;
}

/** Asks one peer's screen; resolves with its answer, rejects with its refusal or NVID_ERR_TIMEOUT / NVID_ERR_CONNECTION. */
export function requestScreen(options: ScreenRequestOptions): Promise<RemoteScreenAnswer> {
  return new OutgoingScreenRequest(options).run();
}

export class OutgoingScreenRequest {
  private readonly options: ScreenRequestOptions;
  private readonly where: string;
  private socket!: TLSSocket;
  private conn!: FramedConnection;
  private header: ScreenAnswerMessage | undefined;
  private readonly chunks: Buffer[] = [];
  private received = 0;
  private failure: NvidError | undefined;
  /** The TLS handshake is done (for the timeout's words). */
  private secured = false;
  private settle!: (outcome: RemoteScreenAnswer | NvidError) => void;

  constructor(options: ScreenRequestOptions) {
    this.options = options;
    this.where = `${options.peer.name} (${options.peer.address}:${options.peer.port})`;
  }

  run(): Promise<RemoteScreenAnswer> {
    return new Promise<RemoteScreenAnswer>((resolve, reject) => {
      const timer = setTimeout(() => this.settle(this.timedOut()), this.options.timeoutMs);
      let settled = false;
      this.settle = (outcome) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.socket.destroy();
        if (outcome instanceof NvidError) reject(outcome);
        else resolve(outcome);
      };
      this.connect();
    });
  }

  private timedOut(): NvidError {
    const { timeoutMs, request } = this.options;
    const stage = !this.secured ? 'did not accept the connection for' : this.header ? 'did not finish its answer to' : 'did not answer';
    return new NvidError('NVID_ERR_TIMEOUT', `${this.where} ${stage} the ${request.action} request within ${timeoutMs} ms (is it running, and not stopped or overloaded?)`, {
      details: { peerId: this.options.peer.id, action: request.action, timeoutMs },
    });
  }

  private connect(): void {
    const { identity, peer, limits } = this.options;
    this.socket = connectTls(identity, peer.address, peer.port);
    this.conn = new FramedConnection(this.socket, limits);
    this.socket.on('error', (err) => {
      this.failure ??= new NvidError('NVID_ERR_CONNECTION', `cannot reach ${this.where}: ${err.message}`, { cause: err });
    });
    this.socket.once('close', () => this.settle(this.failure ?? new NvidError('NVID_ERR_CONNECTION', `${this.where} closed the connection before answering the ${this.options.request.action} request`)));
    this.socket.once('secureConnect', () => this.onSecureConnect());
  }

  /** Only the target peer's certificate may answer; then the request goes out. */
  private onSecureConnect(): void {
    const { peer, request } = this.options;
    this.secured = true;
    const cert = peerCertificateOf(this.socket);
    if (!cert || cert.id !== peer.id) {
      this.settle(new NvidError('NVID_ERR_UNTRUSTED_PEER', `the node at ${peer.address}:${peer.port} presented certificate ${cert?.id ?? '(none)'}, not ${peer.name}'s ID ${peer.id}`));
      return;
    }
    this.conn.start({
      frame: (frame) => this.onFrame(frame),
      badInput: (err) => {
        this.failure = err;
      },
    });
    this.conn.send({ type: 'screen-request', ...request });
  }

  private onFrame(frame: Frame): void {
    if (frame.kind === 'data') return this.onData(frame.data);
    if (frame.kind === 'end') return this.onEnd();
    const message = checkMessage(frame.message, SCREEN_TO_CONTROLLER);
    if (message.type === 'error') {
      this.settle(new NvidError(message.code, `${this.options.peer.name}: ${message.message}`, message.details ? { details: message.details } : undefined));
      return;
    }
    if (this.header) throw new NvidError('NVID_ERR_BAD_FRAME', 'a second screen-answer');
    this.header = message;
  }

  private onData(data: Buffer): void {
    if (!this.header) throw new NvidError('NVID_ERR_BAD_FRAME', 'answer bytes before the screen-answer header');
    this.received += data.length;
    if (this.received > this.header.length) throw new NvidError('NVID_ERR_BAD_FRAME', `the answer runs past its announced ${this.header.length} bytes`);
    this.chunks.push(data);
  }

  private onEnd(): void {
    const header = this.header;
    if (!header || this.received !== header.length) throw new NvidError('NVID_ERR_BAD_FRAME', `the answer ended after ${this.received} of ${header?.length ?? 0} bytes`);
    try {
      this.settle(answerOf(header.kind, Buffer.concat(this.chunks)));
    } catch (err) {
      this.settle(asNvidError(err, 'NVID_ERR_BAD_FRAME'));
    }
  }
}

/** The answer's bytes as the core takes them: a PNG as is, JSON checked for its outline. */
function answerOf(kind: ScreenAnswerMessage['kind'], bytes: Buffer): RemoteScreenAnswer {
  if (kind === 'screenshot') return { kind, png: bytes };
  const data = JSON.parse(bytes.toString('utf8')) as unknown;
  if (kind === 'library') {
    if (!Array.isArray(data)) throw new NvidError('NVID_ERR_BAD_FRAME', 'a library answer is not a list');
    return { kind, items: data as LibraryItem[] };
  }
  if (kind === 'schedule') {
    const source = (data as ScheduleState | null)?.source;
    if (source !== 'set' && source !== 'config' && source !== 'none') throw new NvidError('NVID_ERR_BAD_FRAME', 'a schedule answer is not a schedule');
    return { kind, schedule: data as ScheduleState };
  }
  if (typeof data !== 'object' || data === null || !Array.isArray((data as ScreenState).queue)) throw new NvidError('NVID_ERR_BAD_FRAME', 'a screen answer is not a screen state');
  return { kind, screen: data as ScreenState };
}
