/**
 * One outgoing transfer, from connecting to the receiver's verdict: connect
 * over mutual TLS and check the receiver's certificate, send the `transfer`
 * header (with a bulk offer when the envelope's length is known), stream the
 * body with progress on whichever channel the receiver picks, then wait for
 * its ack or error frame. Every way it can end goes through `finish`, once.
 *
 * One timer covers whatever the delivery is waiting for at the moment: the
 * TLS handshake, the receiver's answer to a bulk offer, the ack once the body
 * is out, or the receiver's reason after the bulk connection broke.
 */
import type { Readable } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import { NvidError, asNvidError } from '../../../core/errors.js';
import type { DeliveryReceipt, Identity, Peer } from '../../../core/types.js';
import type { Frame, FrameLimits } from '../wire/frame-codec.js';
import { FramedConnection } from '../wire/framed-connection.js';
import { connectTls, peerCertificateOf } from '../wire/tls-helpers.js';
import { RECEIVER_TO_SENDER, checkMessage, type AckMessage, type ErrorMessage } from '../wire/wire-messages.js';
import { BULK_HEAD_BYTES, envelopeHeadHash, type BulkChannelMode } from './bulk-channel.js';
import { readHead, sendBulkBody, type BulkSend, type BulkSendFailure } from './bulk-sender.js';
import { streamBody } from './framed-body-sender.js';

/** How to deliver one envelope (see deliverEnvelope in transfer-client.ts). */
export interface DeliverEnvelopeOptions {
  readonly identity: Identity;
  readonly peer: Peer;
  readonly transferId: string;
  readonly envelope: Readable;
  /** The envelope's exact length, when the sealer knows it: needed for the bulk channel. */
  readonly length?: number;
  /** `tcp` (default): offer the bulk channel when `length` is known; `tls`: always send the body inside TLS. */
  readonly bulkChannel?: BulkChannelMode;
  readonly onProgress?: (sentBytes: number) => void;
  readonly connectTimeoutMs: number;
  /** How long to wait for the receiver's verdict once the whole body is sent. */
  readonly ackTimeoutMs: number;
  readonly limits: FrameLimits;
}

/**
 * How long to wait for the receiver's verdict over TLS after the bulk
 * connection broke: a receiver that refuses mid-body cuts that connection
 * right after sending its error frame, and the error frame says why.
 */
const BULK_VERDICT_GRACE_MS = 2000;

export class OutgoingDelivery {
  private readonly options: DeliverEnvelopeOptions;
  private readonly envelope: Readable;
  /** The receiver as error messages name it. */
  private readonly where: string;
  private readonly offerBulk: boolean;
  private socket!: TLSSocket;
  private conn!: FramedConnection;
  private resolve!: (receipt: DeliveryReceipt) => void;
  private reject!: (err: NvidError) => void;
  private settled = false;
  private bodySent = false;
  /** 'offered': waiting for the receiver to take the bulk channel or decline it; 'sending': the body is on its way. */
  private phase: 'offered' | 'sending';
  /** Why the TLS link failed (socket error or bad input from the receiver), reported when it closes. */
  private failure: NvidError | undefined;
  private bulk: BulkSend | undefined;
  /** Why the bulk connection broke, reported if the receiver does not say why over TLS first. */
  private bulkFailure: NvidError | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(options: DeliverEnvelopeOptions) {
    this.options = options;
    this.envelope = options.envelope;
    const { peer } = options;
    this.where = `${peer.name} (${peer.address}:${peer.port})`;
    this.offerBulk = (options.bulkChannel ?? 'tcp') === 'tcp' && options.length !== undefined;
    this.phase = this.offerBulk ? 'offered' : 'sending';
  }

  /** Delivers the envelope; resolves with the receiver's receipt, rejects with an NvidError. Call once. */
  run(): Promise<DeliveryReceipt> {
    return new Promise<DeliveryReceipt>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
      this.connect();
    });
  }

  // ---- connecting --------------------------------------------------------------------------------

  private connect(): void {
    const { identity, peer, connectTimeoutMs } = this.options;
    const socket = (this.socket = connectTls(identity, peer.address, peer.port));
    this.conn = new FramedConnection(socket, this.options.limits);
    this.deadline(connectTimeoutMs, () => new NvidError('NVID_ERR_TIMEOUT', `${this.where} did not accept the connection within ${connectTimeoutMs} ms`));
    // The sealer may already be reading (and failing) while we connect and negotiate.
    this.envelope.once('error', (err) => this.abortWith(err));
    socket.on('error', (err) => {
      this.failure ??= asNvidError(err, 'NVID_ERR_CONNECTION');
    });
    socket.once('close', () => this.onClosed());
    socket.once('secureConnect', () => this.onSecureConnect());
  }

  /** The handshake is done: only the target peer's certificate may answer, then the header goes out. */
  private onSecureConnect(): void {
    const { peer } = this.options;
    const cert = peerCertificateOf(this.socket);
    if (!cert || cert.id !== peer.id) {
      // Never identify a peer by address: whoever answers there must hold the peer's certificate.
      this.finish(new NvidError('NVID_ERR_UNTRUSTED_PEER', `the node at ${peer.address}:${peer.port} presented certificate ${cert?.id ?? '(none)'}, not ${peer.name}'s ID ${peer.id}`, { details: { expected: peer.id, presented: cert?.id } }));
      return;
    }
    clearTimeout(this.timer);
    this.conn.start({
      frame: (frame) => this.onFrame(frame),
      badInput: (err) => {
        this.failure = err;
      },
    });
    if (this.offerBulk) {
      this.sendBulkOffer(this.options.length!);
      return;
    }
    this.conn.send({ type: 'transfer', transferId: this.options.transferId });
    this.sendFrames();
  }

  /** The header binds the bulk connection's bytes to this session: it carries the hash of the envelope's start. */
  private sendBulkOffer(length: number): void {
    const { transferId, connectTimeoutMs } = this.options;
    readHead(this.envelope, Math.min(length, BULK_HEAD_BYTES)).then((head) => {
      if (this.settled) return;
      this.conn.send({ type: 'transfer', transferId, bulk: { length, head: envelopeHeadHash(head) } });
      // Until the receiver answers, the connect timeout covers it.
      this.deadline(connectTimeoutMs, () => new NvidError('NVID_ERR_TIMEOUT', `${this.where} did not answer the transfer header within ${connectTimeoutMs} ms`));
    }, (err) => this.abortWith(err));
  }

  // ---- what the receiver says --------------------------------------------------------------------

  private onFrame(frame: Frame): void {
    if (frame.kind !== 'message') throw new NvidError('NVID_ERR_BAD_FRAME', 'a receiver sends no body frames');
    const message = checkMessage(frame.message, RECEIVER_TO_SENDER);
    switch (message.type) {
      case 'error':
        this.onRefused(message);
        return;
      case 'bulk':
      case 'bulk-declined':
        // The answer to our bulk offer, and only that: the body goes where the receiver says.
        if (this.phase !== 'offered') throw new NvidError('NVID_ERR_BAD_FRAME', `unexpected ${message.type}: the bulk channel was not offered or already settled`);
        if (message.type === 'bulk') this.sendBulk(message.token);
        else this.sendFrames();
        return;
      case 'ack':
        this.onAck(message);
        return;
    }
  }

  /** The receiver refused, at any point: its code travels in the details, so the sender can tell busy from bad. */
  private onRefused(message: ErrorMessage): void {
    const details = { ...(message.details ?? {}), code: message.code };
    this.finish(new NvidError('NVID_ERR_REFUSED', message.message, { details }));
  }

  /** The one way to succeed: an ack for exactly this transfer, from exactly this peer. */
  private onAck(message: AckMessage): void {
    const { transferId, peer } = this.options;
    if (message.transferId !== transferId || message.receiverId !== peer.id) {
      this.finish(new NvidError('NVID_ERR_DELIVERY', `${this.where} acknowledged ${message.transferId} for ${message.receiverId}, not transfer ${transferId} for ${peer.id}`));
      return;
    }
    this.finish({ transferId: message.transferId, receiverId: message.receiverId, sha256: message.sha256, storedAs: message.storedAs });
  }

  /** The TLS link closed: the most telling reason wins (its own error, a missing ack, the bulk break, an early close). */
  private onClosed(): void {
    const { transferId } = this.options;
    if (this.failure) this.finish(this.failure);
    else if (this.bodySent) this.finish(new NvidError('NVID_ERR_DELIVERY', `${this.where} closed the connection without acknowledging transfer ${transferId}`));
    else if (this.bulkFailure) this.finish(this.bulkFailure);
    else this.finish(new NvidError('NVID_ERR_CONNECTION', `the connection to ${this.where} closed before the transfer was sent`));
  }

  // ---- the body ----------------------------------------------------------------------------------

  /** The body as data frames inside TLS. */
  private sendFrames(): void {
    this.phase = 'sending';
    clearTimeout(this.timer);
    streamBody(this.conn, this.envelope, this.options.onProgress, (err) => (err ? this.abortWith(err) : this.bodyDone()));
  }

  /** The body raw on the bulk connection, presenting the receiver's token. */
  private sendBulk(token: string): void {
    const { peer, connectTimeoutMs, onProgress } = this.options;
    this.phase = 'sending';
    clearTimeout(this.timer); // the bulk connection has its own connect timeout
    this.bulk = sendBulkBody(
      { host: peer.address, port: peer.port, token, envelope: this.envelope, length: this.options.length!, connectTimeoutMs, ...(onProgress ? { onProgress } : {}) },
      (problem) => this.onBulkSent(problem),
    );
  }

  private onBulkSent(problem: BulkSendFailure | undefined): void {
    if (!problem) {
      this.bodyDone();
      return;
    }
    if (problem.cause === 'envelope') {
      this.abortWith(problem.error);
      return;
    }
    // The bulk connection broke: most likely the receiver refused and cut it, and its error frame
    // (with the real reason) is on its way over TLS. Wait briefly for it before reporting the break.
    this.bulkFailure = problem.error;
    this.deadline(BULK_VERDICT_GRACE_MS, () => problem.error);
  }

  /** The whole body is out: from now on only the receiver's verdict counts. */
  private bodyDone(): void {
    const { transferId, ackTimeoutMs } = this.options;
    this.bodySent = true;
    this.deadline(ackTimeoutMs, () => new NvidError('NVID_ERR_TIMEOUT', `${this.where} did not acknowledge transfer ${transferId} within ${ackTimeoutMs} ms`));
  }

  // ---- ending ------------------------------------------------------------------------------------

  /** Our envelope failed: tell the receiver to drop what it has. */
  private abortWith(err: unknown): void {
    const error = asNvidError(err, 'NVID_ERR_DELIVERY');
    this.conn.fail(error);
    this.finish(error);
  }

  /** Replaces whatever the delivery was waiting for with this wait: `error()` ends it if nothing else happens first. */
  private deadline(ms: number, error: () => NvidError): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.finish(error()), ms);
  }

  /** Settles the delivery once: a failure stops the envelope and cuts the link, a receipt closes it politely. */
  private finish(outcome: DeliveryReceipt | NvidError): void {
    if (this.settled) return;
    this.settled = true;
    clearTimeout(this.timer);
    this.bulk?.abort();
    if (outcome instanceof NvidError) {
      this.envelope.unpipe();
      if (!this.envelope.destroyed) this.envelope.destroy();
      this.socket.destroy();
      this.reject(outcome);
    } else {
      this.conn.end();
      this.resolve(outcome);
    }
  }
}
