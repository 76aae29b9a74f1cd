/**
 * One incoming transfer connection, from the `transfer` header to the
 * verdict. The transfer server creates a session for each mutual-TLS
 * connection whose certificate is an admitted peer's; the session reads the
 * header, checks the server has a slot free, takes the body (as data frames
 * on this link, or raw on the bulk connection it hands out a token for),
 * runs the receive pipeline on it and answers with an ack or an error frame.
 *
 * A `screen-request` instead of the header is a controller asking this
 * node's screen something: ScreenRequestSession (screen-request-session.ts)
 * answers it on this connection.
 *
 * Its stages, in order (any of them may jump straight to `stored` on a
 * failure): `header` → `body` (data frames inside TLS) or `bulk-wait` (token
 * sent) → `bulk` (bulk connection attached) → `stored` (the body is complete
 * or the transfer settled; nothing more is taken).
 */
import type { Socket } from 'node:net';
import { Readable } from 'node:stream';
import { NvidError, asNvidError } from '../../../core/errors.js';
import type { CertifiedPeer, DeliveryReceipt, Peer } from '../../../core/types.js';
import type { Frame } from '../wire/frame-codec.js';
import type { FramedConnection } from '../wire/framed-connection.js';
import type { AuthenticatedPeer, PendingSession } from '../wire/guarded-tls-server.js';
import { SENDER_TO_RECEIVER, checkMessage, type ErrorMessage, type TransferMessage } from '../wire/wire-messages.js';
import { BodyRateFloor } from './body-rate.js';
import { pumpBulkBody } from './bulk-receiver.js';
import type { BulkTokens } from './bulk-tokens.js';
import type { ListenerOptions } from '../wire/guarded-tls-server.js';
import { ScreenRequestSession, type ServeScreen } from './screen-request-session.js';

/** An incoming transfer as the transport hands it on. */
export interface IncomingEnvelope {
  readonly sender: CertifiedPeer;
  readonly transferId: string;
  readonly envelope: Readable;
}

/** A transfer waiting for its bulk connection, as the token table holds it. */
export interface BulkWaiter {
  readonly transferId: string;
  readonly senderId: string;
  /** Hands the authenticated bulk socket to its transfer. */
  attach(socket: Socket): void;
}

/** The transfer server's settings a session reads; defined here so the server's options can include them without a circle. */
export interface IncomingSessionOptions extends Pick<ListenerOptions, 'log' | 'onReject'> {
  /** A sender that stops sending body bytes for this long is cut off. */
  readonly idleTimeoutMs: number;
  /** The slowest a body may arrive (see BodyRateFloor in body-rate.ts). */
  readonly bodyRate: { readonly minBytesPerSecond: number; readonly windowMs: number };
  /** The admitted peer with this ID (from the coordinator's list), or undefined. */
  readonly lookupPeer: (id: string) => Peer | undefined;
  /** Runs the receive pipeline; resolves once the file is verified and stored. */
  readonly receive: (incoming: IncomingEnvelope) => Promise<DeliveryReceipt>;
  /** Answers a controller's `screen-request` (the core decides who may); absent: such requests are refused. */
  readonly serveScreen?: ServeScreen;
  /**
   * Takes over a connection that opened with a shared-transfer message (`swarm-offer`, `swarm-pull`,
   * `swarm-report`; see swarm/): the returned sink gets its later frames. Absent: such connections are refused.
   */
  readonly serveSwarm?: ServeSwarm;
}

/** What a session needs from its transfer server: its settings, and its slot, token and body accounting. */
export interface IncomingTransferHost {
  readonly options: IncomingSessionOptions;
  /** The bulk tokens, when this node takes bodies on the bulk channel; undefined keeps every body inside TLS. */
  readonly tokens: BulkTokens<BulkWaiter> | undefined;
  /** Why a new transfer from `sender` must wait, or undefined when a slot is free. */
  busyFor(sender: Peer): NvidError | undefined;
  /** The transfer's receive pipeline starts: it holds a slot until `releaseSlot`. */
  takeSlot(sender: Peer): void;
  releaseSlot(sender: Peer): void;
  /** A body started arriving on this channel (counted for status and tests). */
  bodyStarted(channel: 'bulk' | 'tls'): void;
}

/** Where the frames of a connection handed to the swarm go. */
export interface SwarmSink {
  frame(frame: Frame): void;
  closed(): void;
}
export type SwarmOpening = Extract<ReturnType<typeof checkMessage<(typeof SENDER_TO_RECEIVER)[number]>>, { type: 'swarm-offer' | 'swarm-pull' | 'swarm-report' }>;
/** Hands out a bulk token whose plain connection goes to `waiter` (undefined: this node keeps everything inside TLS). */
export type BulkIssuer = (waiter: BulkWaiter, onExpire: () => void) => string;
export type ServeSwarm = (conn: FramedConnection, sender: CertifiedPeer, message: SwarmOpening, bulk: BulkIssuer | undefined) => Promise<SwarmSink | undefined>;

/** How much of a body may wait in memory for the consumer before the socket is paused. */
const BODY_BUFFER_BYTES = 1024 * 1024;

type Stage = 'header' | 'body' | 'bulk-wait' | 'bulk' | 'stored' | 'swarm';
type BulkOffer = NonNullable<TransferMessage['bulk']>;

export class IncomingTransferSession {
  private readonly host: IncomingTransferHost;
  private readonly conn: FramedConnection;
  private readonly pending: PendingSession;
  private readonly sender: CertifiedPeer;
  private stage: Stage = 'header';
  private transferId = '';
  private body: Readable | undefined;
  private token: string | undefined;
  private bulkSocket: Socket | undefined;
  private floor: BodyRateFloor | undefined;
  /** Where frames go once the swarm took the connection over (frames that arrive before it answers wait in `early`). */
  private swarm: SwarmSink | undefined;
  private early: Frame[] | undefined;

  /**
   * `cert` passed the server's certificate check, so it is an admitted peer: the sender is who that
   * peer is now, with the certificate it just proved it holds (peer lists carry none).
   */
  constructor(host: IncomingTransferHost, conn: FramedConnection, cert: AuthenticatedPeer, pending: PendingSession) {
    this.host = host;
    this.conn = conn;
    this.pending = pending;
    this.sender = { ...host.options.lookupPeer(cert.id)!, certPem: cert.certPem };
  }

  /** Starts reading frames; until the body is complete, a sender that goes quiet is cut off. */
  start(): void {
    const { idleTimeoutMs } = this.host.options;
    this.conn.socket.setTimeout(idleTimeoutMs, () => {
      // In bulk-wait and bulk the TLS link is quiet by design; the token's expiry and the bulk socket's timer cover those.
      if (this.stage !== 'header' && this.stage !== 'body') return;
      this.cutOff(new NvidError('NVID_ERR_TIMEOUT', `sender went quiet for ${idleTimeoutMs} ms in the middle of a transfer`));
    });
    this.conn.start({
      frame: (frame) => this.onFrame(frame),
      badInput: (err) => this.onBadInput(err),
      closed: () => this.onClosed(),
    });
  }

  // ---- frames on the TLS link ------------------------------------------------------------------

  /** What a frame means depends on the stage; a throw here is answered as bad input and closes the link. */
  private onFrame(frame: Frame): void {
    switch (this.stage) {
      case 'header':
        this.onHeader(frame);
        return;
      case 'bulk-wait':
      case 'bulk':
        this.onFrameBesideBulk(frame);
        return;
      case 'body':
        this.onBodyFrame(frame);
        return;
      case 'stored':
        throw new NvidError('NVID_ERR_BAD_FRAME', 'data after the end of the body');
      case 'swarm':
        if (this.swarm) this.swarm.frame(frame);
        else this.early?.push(frame);
        return;
    }
  }

  /** The first frame must be the `transfer` header; it proves a real sender, so the auth timer stops here. */
  private onHeader(frame: Frame): void {
    if (frame.kind !== 'message') throw new NvidError('NVID_ERR_BAD_FRAME', 'a transfer must start with a transfer message');
    const message = checkMessage(frame.message, SENDER_TO_RECEIVER);
    if (message.type === 'screen-request') {
      // A controller's request, not a transfer: it takes no slot and no body; its own session answers it.
      this.pending.markAuthenticated();
      this.stage = 'stored';
      new ScreenRequestSession(this.conn, this.sender, this.host.options.log).run(message, this.host.options.serveScreen);
      return;
    }
    if (message.type === 'swarm-offer' || message.type === 'swarm-pull' || message.type === 'swarm-report') {
      this.pending.markAuthenticated();
      this.handToSwarm(message);
      return;
    }
    if (message.type !== 'transfer') throw new NvidError('NVID_ERR_BAD_FRAME', `expected transfer, got ${message.type}`);
    this.pending.markAuthenticated();
    if (!this.admit()) return;
    this.transferId = message.transferId;
    this.body = this.createBody();
    const offer = message.bulk;
    if (offer && this.host.tokens) this.awaitBulk(offer, this.host.tokens);
    else this.receiveInline(offer !== undefined);
    this.runReceive(this.body);
  }

  /** A shared transfer's connection: the swarm takes it; its idle timer is the swarm's own business. */
  private handToSwarm(message: SwarmOpening): void {
    this.stage = 'swarm';
    this.early = [];
    this.conn.socket.setTimeout(0);
    const serve = this.host.options.serveSwarm;
    if (!serve) {
      this.conn.fail(new NvidError('NVID_ERR_REFUSED', 'this node takes no shared transfers'));
      return;
    }
    const tokens = this.host.tokens;
    const bulk: BulkIssuer | undefined = tokens ? (waiter, onExpire) => tokens.issue(waiter, onExpire) : undefined;
    serve(this.conn, this.sender, message, bulk).then(
      (sink) => {
        if (!sink) return;
        this.swarm = sink;
        const early = this.early ?? [];
        this.early = undefined;
        try {
          for (const frame of early) sink.frame(frame);
        } catch (err) {
          this.conn.fail(asNvidError(err, 'NVID_ERR_BAD_FRAME'));
        }
        if (this.conn.closed) sink.closed();
      },
      (err: unknown) => {
        const error = asNvidError(err, 'NVID_ERR_REFUSED');
        this.host.options.log.info({ code: error.code, sender: this.sender.name }, `refused a shared transfer: ${error.message}`);
        this.conn.fail(error);
      },
    );
  }

  /** Admission: an admitted peer still gets a transfer only while the server (and its own share of it) has room. */
  private admit(): boolean {
    const busy = this.host.busyFor(this.sender);
    if (!busy) return true;
    this.reject(busy);
    this.conn.fail(busy);
    this.stage = 'stored';
    return false;
  }

  /** While the body travels on the bulk connection, the only thing the TLS link may carry is the sender's abort. */
  private onFrameBesideBulk(frame: Frame): void {
    if (frame.kind !== 'message') throw new NvidError('NVID_ERR_BAD_FRAME', 'body frames on the TLS link of a transfer that uses the bulk channel');
    const message = checkMessage(frame.message, SENDER_TO_RECEIVER);
    if (message.type !== 'error') throw new NvidError('NVID_ERR_BAD_FRAME', `unexpected ${message.type} during a transfer`);
    this.failBody(senderAborted(message));
    this.dropBulk();
    this.conn.end();
  }

  /** A body inside TLS: data frames, then an end frame, or the sender's abort. */
  private onBodyFrame(frame: Frame): void {
    if (frame.kind === 'data') {
      this.onBodyData(frame.data);
      return;
    }
    if (frame.kind === 'end') {
      this.onBodyEnd();
      return;
    }
    const message = checkMessage(frame.message, SENDER_TO_RECEIVER);
    if (message.type !== 'error') throw new NvidError('NVID_ERR_BAD_FRAME', `unexpected ${message.type} inside a body`);
    // The sender gave up (its envelope failed); nothing to store.
    this.failBody(senderAborted(message));
    this.conn.end();
  }

  private onBodyData(data: Buffer): void {
    this.floor?.received(data.length);
    // Backpressure: stop reading the socket until the consumer asks for more.
    if (!this.body!.push(data)) {
      this.conn.pause();
      this.floor?.held();
    }
  }

  private onBodyEnd(): void {
    this.body!.push(null);
    this.floor?.stop();
    this.stage = 'stored';
    this.conn.socket.setTimeout(0); // verifying and storing may take a while; the sender waits for the ack
  }

  /** A malformed frame (already answered with an error frame by the connection): recorded, and the transfer ends. */
  private onBadInput(err: NvidError): void {
    this.floor?.stop();
    this.reject(err);
    this.failBody(err);
    this.dropBulk();
  }

  private onClosed(): void {
    if (this.stage === 'swarm') {
      this.swarm?.closed();
      return;
    }
    this.floor?.stop();
    this.failBody(new NvidError('NVID_ERR_CONNECTION', 'the sender closed the connection before the end of the body'));
    this.dropBulk();
  }

  // ---- the body ----------------------------------------------------------------------------------

  /** The stream the receive pipeline reads; its read() is what lets the source (and the sender's clock) go on. */
  private createBody(): Readable {
    const body = new Readable({
      highWaterMark: BODY_BUFFER_BYTES,
      // The consumer wants more: the source flows again, and so does the sender's clock.
      read: () => {
        this.floor?.released();
        this.resumeSource();
      },
    });
    // The receive pipeline may not be reading yet (a slow shouldAccept tap, say) when the body breaks:
    // unheard, the error would take the whole daemon down. A late reader finds it on `body.errored`.
    body.on('error', () => undefined);
    return body;
  }

  /** What the body's read() wakes up: the TLS link, or the bulk socket once it carries the body. */
  private resumeSource(): void {
    if (this.bulkSocket) this.bulkSocket.resume();
    else this.conn.resume();
  }

  /** The body comes as data frames on this link (this node keeps bodies inside TLS, or the sender did not offer). */
  private receiveInline(declineOffer: boolean): void {
    if (declineOffer) this.conn.send({ type: 'bulk-declined' });
    this.stage = 'body';
    this.host.bodyStarted('tls');
    this.floor = this.startFloor();
  }

  /** Takes the sender's bulk offer: a single-use token goes back over TLS, and the body waits for the connection presenting it. */
  private awaitBulk(offer: BulkOffer, tokens: BulkTokens<BulkWaiter>): void {
    this.stage = 'bulk-wait';
    // The TLS link stays quiet until the verdict: the token's expiry, then the bulk socket's idle timer, take over.
    this.conn.socket.setTimeout(0);
    const waiter: BulkWaiter = { transferId: this.transferId, senderId: this.sender.id, attach: (socket) => this.onBulkConnection(socket, offer) };
    this.token = tokens.issue(waiter, () => this.bulkNeverCame(tokens.ttlMs));
    this.conn.send({ type: 'bulk', token: this.token });
  }

  private bulkNeverCame(ttlMs: number): void {
    if (this.stage !== 'bulk-wait') return;
    const err = new NvidError('NVID_ERR_TIMEOUT', `the sender did not open the bulk connection for transfer ${this.transferId} within ${ttlMs} ms`);
    this.reject(err);
    this.conn.fail(err);
    this.failBody(err);
  }

  /** The bulk connection presented this transfer's token: the body now flows from it. */
  private onBulkConnection(socket: Socket, offer: BulkOffer): void {
    if (this.stage !== 'bulk-wait') {
      socket.destroy(); // cannot happen: a settled transfer cancels its token first
      return;
    }
    this.stage = 'bulk';
    this.bulkSocket = socket;
    this.host.bodyStarted('bulk');
    const rate = (this.floor = this.startFloor());
    pumpBulkBody({
      socket,
      body: this.body!,
      length: offer.length,
      head: offer.head,
      idleTimeoutMs: this.host.options.idleTimeoutMs,
      rate,
      done: (err) => {
        rate.stop();
        this.onBulkBodyDone(err);
      },
    });
  }

  private onBulkBodyDone(err: NvidError | undefined): void {
    if (this.stage !== 'bulk') return; // the transfer settled first and cut the socket itself
    this.stage = 'stored';
    if (!err) return;
    // Extra or missing bytes are the sender's doing (or an attacker's): recorded like a bad frame, and
    // the sender is told this reason at once (the pipeline would only see a body that broke off).
    if (err.code !== 'NVID_ERR_CONNECTION') this.reject(err);
    this.conn.fail(err);
    this.failBody(err);
  }

  /** Judges the sender's pace over the body; only while bytes are still expected does crawling cut it off. */
  private startFloor(): BodyRateFloor {
    return new BodyRateFloor({
      ...this.host.options.bodyRate,
      tooSlow: (err) => {
        if (this.stage === 'body' || this.stage === 'bulk') this.cutOff(err);
      },
    });
  }

  // ---- the verdict -------------------------------------------------------------------------------

  /** Runs the receive pipeline on the body while it arrives; the sender hears its verdict only once it settles. */
  private runReceive(envelope: Readable): void {
    const { sender, transferId } = this;
    this.host.takeSlot(sender);
    this.host.options
      .receive({ sender, transferId, envelope })
      .then(
        (receipt) => this.acknowledge(receipt),
        (err: unknown) => this.refuse(err),
      )
      .finally(() => this.settled(envelope));
  }

  /** Verified and stored: the ack is the only thing that makes the sender report success. */
  private acknowledge(receipt: DeliveryReceipt): void {
    this.conn.send({ type: 'ack', transferId: this.transferId, receiverId: receipt.receiverId, sha256: receipt.sha256, storedAs: receipt.storedAs });
    this.conn.end();
    this.host.options.log.info({ transferId: this.transferId, sender: this.sender.id }, 'transfer stored and acknowledged');
  }

  /** The pipeline refused (or failed): the sender gets its code and reason in an error frame. */
  private refuse(err: unknown): void {
    const error = asNvidError(err, 'NVID_ERR_REFUSED');
    this.host.options.log.info({ transferId: this.transferId, sender: this.sender.id, code: error.code }, `transfer refused: ${error.message}`);
    this.conn.fail(error);
  }

  /** The verdict is out: the slot is free again and nothing more of this transfer is taken in. */
  private settled(envelope: Readable): void {
    this.host.releaseSlot(this.sender);
    this.stage = 'stored';
    this.floor?.stop();
    this.dropBulk();
    // Anything the sender still sends is discarded, not buffered.
    if (!envelope.readableEnded) envelope.destroy();
    this.conn.resume();
  }

  // ---- failing -----------------------------------------------------------------------------------

  /** Records a refusal against this sender: a log line and a `rejected` history entry, through the plugin. */
  private reject(err: NvidError): void {
    this.host.options.onReject({ code: err.code, reason: err.message, peerId: this.sender.id, remote: this.pending.remoteAddress });
  }

  /** The receive pipeline sees the body break with `err` (unless it already ended or broke). */
  private failBody(err: NvidError): void {
    const body = this.body;
    if (body && !body.destroyed && !body.readableEnded) body.destroy(err);
  }

  /** The transfer is over (or broken): a bulk connection still to come is closed quietly, one in progress is cut. */
  private dropBulk(): void {
    if (this.token) this.host.tokens?.cancel(this.token);
    this.bulkSocket?.destroy();
  }

  /** Ends a transfer whose sender stalls or crawls: recorded, told, and nothing kept. */
  private cutOff(err: NvidError): void {
    this.reject(err);
    this.failBody(err);
    this.conn.fail(err);
    this.dropBulk();
  }
}

/** The sender's own `error` frame, as the body's error: the sender gave up, so nothing is to be stored. */
function senderAborted(message: ErrorMessage): NvidError {
  return new NvidError('NVID_ERR_CONNECTION', `sender aborted the transfer: ${message.message}`);
}
