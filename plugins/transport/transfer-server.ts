/**
 * The receiving end of direct delivery. Accepts mutual-TLS connections only
 * from admitted peers (checked on the certificate, before any frame), turns
 * the body frames into a Readable with backpressure all the way back to the
 * sender, and answers with an ack only once the receive pipeline verified and
 * stored the file, or with an error frame saying why it did not.
 */
import { Readable } from 'node:stream';
import type { Logger } from 'pino';
import { NvidError, asNvidError } from '../../core/errors.js';
import type { DeliveryReceipt, Identity, Peer } from '../../core/types.js';
import type { FrameLimits } from './frame-codec.js';
import type { FramedConnection } from './framed-connection.js';
import { GuardedTlsServer, type AuthenticatedPeer, type PendingSession, type RejectInfo } from './guarded-tls-server.js';
import { SENDER_TO_RECEIVER, checkMessage } from './wire-messages.js';

/** An incoming transfer as the transport hands it on. */
export interface IncomingEnvelope {
  readonly sender: Peer;
  readonly transferId: string;
  readonly envelope: Readable;
}

export interface TransferServerOptions {
  readonly identity: Identity;
  readonly host: string;
  readonly port: number;
  readonly authTimeoutMs: number;
  readonly maxUnauthenticated: number;
  /** A sender that stops sending body bytes for this long is cut off. */
  readonly idleTimeoutMs: number;
  /** Transfers received at once; more are refused as busy (an admitted peer cannot open unbounded pipelines). */
  readonly maxActiveTransfers: number;
  readonly limits: FrameLimits;
  readonly log: Logger;
  readonly onReject: (info: RejectInfo) => void;
  /** The admitted peer with this ID (from the coordinator's list), or undefined. */
  readonly lookupPeer: (id: string) => Peer | undefined;
  /** Runs the receive pipeline; resolves once the file is verified and stored. */
  readonly receive: (incoming: IncomingEnvelope) => Promise<DeliveryReceipt>;
}

/** How much of a body may wait in memory for the consumer before the socket is paused. */
const BODY_BUFFER_BYTES = 1024 * 1024;

export class TransferServer {
  private readonly options: TransferServerOptions;
  private readonly server: GuardedTlsServer;
  private active = 0;

  constructor(options: TransferServerOptions) {
    this.options = options;
    this.server = new GuardedTlsServer({
      identity: options.identity,
      host: options.host,
      port: options.port,
      authTimeoutMs: options.authTimeoutMs,
      maxUnauthenticated: options.maxUnauthenticated,
      limits: options.limits,
      log: options.log,
      onReject: options.onReject,
      checkPeer: (peer) => this.checkCertificate(peer),
      onConnection: (conn, peer, pending) => this.onConnection(conn, peer, pending),
    });
  }

  /** Transfers being received right now. */
  get activeTransfers(): number {
    return this.active;
  }

  listen(): Promise<number> {
    return this.server.listen();
  }

  close(): Promise<void> {
    return this.server.close();
  }

  private checkCertificate(peer: AuthenticatedPeer | undefined): NvidError | undefined {
    if (!peer) return new NvidError('NVID_ERR_UNTRUSTED_PEER', 'transfers need a client certificate of an admitted peer');
    if (!this.options.lookupPeer(peer.id)) {
      return new NvidError('NVID_ERR_UNTRUSTED_PEER', `certificate ${peer.id} is not an admitted peer of this node's coordinator`, { details: { id: peer.id } });
    }
    return undefined;
  }

  private onConnection(conn: FramedConnection, cert: AuthenticatedPeer, pending: PendingSession): void {
    const sender = this.options.lookupPeer(cert.id)!;
    const remote = pending.remoteAddress;
    let state: 'header' | 'body' | 'stored' = 'header';
    let transferId = '';
    let body: Readable | undefined;
    const reject = (err: NvidError) => this.options.onReject({ code: err.code, reason: err.message, peerId: sender.id, remote });
    const failBody = (err: NvidError) => {
      if (body && !body.destroyed && !body.readableEnded) body.destroy(err);
    };

    conn.socket.setTimeout(this.options.idleTimeoutMs, () => {
      if (state !== 'header' && state !== 'body') return;
      const err = new NvidError('NVID_ERR_TIMEOUT', `sender went quiet for ${this.options.idleTimeoutMs} ms in the middle of a transfer`);
      reject(err);
      failBody(err);
      conn.fail(err);
    });

    conn.start({
      frame: (frame) => {
        if (state === 'header') {
          if (frame.kind !== 'message') throw new NvidError('NVID_ERR_BAD_FRAME', 'a transfer must start with a transfer message');
          const message = checkMessage(frame.message, SENDER_TO_RECEIVER);
          if (message.type !== 'transfer') throw new NvidError('NVID_ERR_BAD_FRAME', `expected transfer, got ${message.type}`);
          pending.markAuthenticated();
          if (this.active >= this.options.maxActiveTransfers) {
            const busy = new NvidError('NVID_ERR_REFUSED', `receiver busy: ${this.active} transfers in progress (limit ${this.options.maxActiveTransfers}); try again shortly`, { details: { reason: 'busy' } });
            reject(busy);
            conn.fail(busy);
            state = 'stored';
            return;
          }
          transferId = message.transferId;
          state = 'body';
          body = new Readable({ highWaterMark: BODY_BUFFER_BYTES, read: () => conn.resume() });
          this.runReceive(conn, { sender, transferId, envelope: body }, () => (state = 'stored'));
          return;
        }
        if (state !== 'body') throw new NvidError('NVID_ERR_BAD_FRAME', 'data after the end of the body');
        if (frame.kind === 'data') {
          // Backpressure: stop reading the socket until the consumer asks for more.
          if (!body!.push(frame.data)) conn.pause();
          return;
        }
        if (frame.kind === 'end') {
          body!.push(null);
          state = 'stored';
          conn.socket.setTimeout(0); // verifying and storing may take a while; the sender waits for the ack
          return;
        }
        const message = checkMessage(frame.message, SENDER_TO_RECEIVER);
        if (message.type === 'error') {
          // The sender gave up (its envelope failed); nothing to store.
          failBody(new NvidError('NVID_ERR_CONNECTION', `sender aborted the transfer: ${message.message}`));
          conn.end();
          return;
        }
        throw new NvidError('NVID_ERR_BAD_FRAME', `unexpected ${message.type} inside a body`);
      },
      badInput: (err) => {
        reject(err);
        failBody(err);
      },
      closed: () => failBody(new NvidError('NVID_ERR_CONNECTION', 'the sender closed the connection before the end of the body')),
    });
  }

  private runReceive(conn: FramedConnection, incoming: IncomingEnvelope, onSettled: () => void): void {
    this.active += 1;
    const { transferId, sender } = incoming;
    this.options
      .receive(incoming)
      .then(
        (receipt) => {
          conn.send({ type: 'ack', transferId, receiverId: receipt.receiverId, sha256: receipt.sha256, storedAs: receipt.storedAs });
          conn.end();
          this.options.log.info({ transferId, sender: sender.id }, 'transfer stored and acknowledged');
        },
        (err: unknown) => {
          const error = asNvidError(err, 'NVID_ERR_REFUSED');
          this.options.log.info({ transferId, sender: sender.id, code: error.code }, `transfer refused: ${error.message}`);
          conn.fail(error);
        },
      )
      .finally(() => {
        this.active -= 1;
        onSettled();
        // Anything the sender still sends is discarded, not buffered.
        if (!incoming.envelope.readableEnded) incoming.envelope.destroy();
        conn.resume();
      });
  }
}
