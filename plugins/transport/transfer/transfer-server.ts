/**
 * The receiving end of direct delivery. Accepts mutual-TLS connections only
 * from admitted peers (checked on the certificate, before any frame), turns
 * the body frames into a Readable with backpressure all the way back to the
 * sender, and answers with an ack only once the receive pipeline verified and
 * stored the file, or with an error frame saying why it did not.
 *
 * When the sender offers it (and this node allows it), the body skips TLS: the
 * receiver answers the `transfer` header with a single-use token, and the
 * envelope arrives raw on a plain TCP connection to the same port that
 * presents it (see bulk-channel.ts). Everything else stays on the TLS link.
 */
import type { Socket } from 'node:net';
import { Readable } from 'node:stream';
import type { Logger } from 'pino';
import { NvidError, asNvidError } from '../../../core/errors.js';
import type { DeliveryReceipt, Identity, Peer } from '../../../core/types.js';
import type { BulkChannelMode } from './bulk-channel.js';
import { BodyRateFloor } from './body-rate.js';
import { pumpBulkBody, readBulkPreamble } from './bulk-receiver.js';
import { BulkTokens } from './bulk-tokens.js';
import type { FrameLimits } from '../wire/frame-codec.js';
import type { FramedConnection } from '../wire/framed-connection.js';
import { GuardedTlsServer, type AuthenticatedPeer, type PendingSession, type RejectInfo } from '../wire/guarded-tls-server.js';
import { SENDER_TO_RECEIVER, checkMessage } from '../wire/wire-messages.js';

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
  /** Of those, how many one sender may have: a single peer cannot take every slot. */
  readonly maxActiveTransfersPerPeer: number;
  /** The slowest a body may arrive (see {@link BodyRateFloor}). */
  readonly bodyRate: { readonly minBytesPerSecond: number; readonly windowMs: number };
  readonly limits: FrameLimits;
  readonly log: Logger;
  readonly onReject: (info: RejectInfo) => void;
  /** The admitted peer with this ID (from the coordinator's list), or undefined. */
  readonly lookupPeer: (id: string) => Peer | undefined;
  /** Runs the receive pipeline; resolves once the file is verified and stored. */
  readonly receive: (incoming: IncomingEnvelope) => Promise<DeliveryReceipt>;
  /** `tcp` (default): accept the bulk channel when a sender offers it; `tls`: every body comes as data frames inside TLS. */
  readonly bulkChannel?: BulkChannelMode;
  /** How long a bulk token waits for its connection (default {@link DEFAULT_BULK_TOKEN_TTL_MS}). */
  readonly bulkTokenTtlMs?: number;
}

/** How much of a body may wait in memory for the consumer before the socket is paused. */
const BODY_BUFFER_BYTES = 1024 * 1024;

/** A sender opens its bulk connection right after reading the token; a few seconds covers a loaded machine. */
export const DEFAULT_BULK_TOKEN_TTL_MS = 5000;

/** A transfer waiting for its bulk connection, as the token table holds it. */
interface BulkWaiter {
  readonly transferId: string;
  readonly senderId: string;
  /** Hands the authenticated bulk socket to its transfer. */
  attach(socket: Socket): void;
}

export class TransferServer {
  private readonly options: TransferServerOptions;
  private readonly server: GuardedTlsServer;
  private readonly tokens: BulkTokens<BulkWaiter> | undefined;
  private active = 0;
  private readonly activeBySender = new Map<string, number>();
  private readonly bodies = { bulk: 0, tls: 0 };

  constructor(options: TransferServerOptions) {
    this.options = options;
    const bulk = (options.bulkChannel ?? 'tcp') === 'tcp';
    this.tokens = bulk ? new BulkTokens<BulkWaiter>(options.bulkTokenTtlMs ?? DEFAULT_BULK_TOKEN_TTL_MS) : undefined;
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
      ...(bulk ? { plain: (socket: Socket, pending: PendingSession) => this.onPlainConnection(socket, pending) } : {}),
    });
  }

  /** Bodies that started arriving, by channel: on the bulk connection or as data frames inside TLS. */
  get bodiesReceived(): { readonly bulk: number; readonly tls: number } {
    return { ...this.bodies };
  }

  /** Bulk tokens not yet forgotten (for tests: expired and used ones must not pile up). */
  get bulkTokenCount(): number {
    return this.tokens?.size ?? 0;
  }

  /** Transfers being received right now. */
  get activeTransfers(): number {
    return this.active;
  }

  listen(): Promise<number> {
    return this.server.listen();
  }

  close(): Promise<void> {
    this.tokens?.clear();
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
    // header -> body (data frames) or bulk-wait -> bulk (bulk connection) -> stored (body complete or transfer settled)
    let state: 'header' | 'body' | 'bulk-wait' | 'bulk' | 'stored' = 'header';
    let transferId = '';
    let body: Readable | undefined;
    let token: string | undefined;
    let bulkSocket: Socket | undefined;
    let floor: BodyRateFloor | undefined;
    /** What the body's read() wakes up: the TLS link, or the bulk socket once it carries the body. */
    let resumeSource = () => conn.resume();
    const reject = (err: NvidError) => this.options.onReject({ code: err.code, reason: err.message, peerId: sender.id, remote });
    const failBody = (err: NvidError) => {
      if (body && !body.destroyed && !body.readableEnded) body.destroy(err);
    };
    /** The transfer is over (or broken): a bulk connection still to come is closed quietly, one in progress is cut. */
    const dropBulk = () => {
      if (token) this.tokens?.cancel(token);
      bulkSocket?.destroy();
    };

    /** Ends a transfer whose sender stalls or crawls: recorded, told, and nothing kept. */
    const cutOff = (err: NvidError) => {
      reject(err);
      failBody(err);
      conn.fail(err);
      dropBulk();
    };
    conn.socket.setTimeout(this.options.idleTimeoutMs, () => {
      if (state !== 'header' && state !== 'body') return;
      cutOff(new NvidError('NVID_ERR_TIMEOUT', `sender went quiet for ${this.options.idleTimeoutMs} ms in the middle of a transfer`));
    });
    const startFloor = () =>
      new BodyRateFloor({
        ...this.options.bodyRate,
        tooSlow: (err) => {
          if (state === 'body' || state === 'bulk') cutOff(err);
        },
      });

    const startBulk = (socket: Socket, length: number, head: string) => {
      if (state !== 'bulk-wait') {
        socket.destroy(); // cannot happen: a settled transfer cancels its token first
        return;
      }
      state = 'bulk';
      bulkSocket = socket;
      this.bodies.bulk += 1;
      const rate = (floor = startFloor());
      resumeSource = () => socket.resume();
      pumpBulkBody({
        socket,
        body: body!,
        length,
        head,
        idleTimeoutMs: this.options.idleTimeoutMs,
        rate,
        done: (err) => {
          rate.stop();
          if (state !== 'bulk') return; // the transfer settled first and cut the socket itself
          state = 'stored';
          if (!err) return;
          // Extra or missing bytes are the sender's doing (or an attacker's): recorded like a bad frame, and
          // the sender is told this reason at once (the pipeline would only see a body that broke off).
          if (err.code !== 'NVID_ERR_CONNECTION') reject(err);
          conn.fail(err);
          failBody(err);
        },
      });
    };

    conn.start({
      frame: (frame) => {
        if (state === 'header') {
          if (frame.kind !== 'message') throw new NvidError('NVID_ERR_BAD_FRAME', 'a transfer must start with a transfer message');
          const message = checkMessage(frame.message, SENDER_TO_RECEIVER);
          if (message.type !== 'transfer') throw new NvidError('NVID_ERR_BAD_FRAME', `expected transfer, got ${message.type}`);
          pending.markAuthenticated();
          const busy = this.busyFor(sender);
          if (busy) {
            reject(busy);
            conn.fail(busy);
            state = 'stored';
            return;
          }
          transferId = message.transferId;
          body = new Readable({
            highWaterMark: BODY_BUFFER_BYTES,
            // The consumer wants more: the source flows again, and so does the sender's clock.
            read: () => {
              floor?.released();
              resumeSource();
            },
          });
          // The receive pipeline may not be reading yet (a slow shouldAccept tap, say) when the body breaks:
          // unheard, the error would take the whole daemon down. A late reader finds it on `body.errored`.
          body.on('error', () => undefined);
          const offer = message.bulk;
          if (offer && this.tokens) {
            state = 'bulk-wait';
            // The TLS link stays quiet until the verdict: the token's expiry, then the bulk socket's idle timer, take over.
            conn.socket.setTimeout(0);
            const ttlMs = this.options.bulkTokenTtlMs ?? DEFAULT_BULK_TOKEN_TTL_MS;
            token = this.tokens.issue({ transferId, senderId: sender.id, attach: (socket) => startBulk(socket, offer.length, offer.head) }, () => {
              if (state !== 'bulk-wait') return;
              const err = new NvidError('NVID_ERR_TIMEOUT', `the sender did not open the bulk connection for transfer ${transferId} within ${ttlMs} ms`);
              reject(err);
              conn.fail(err);
              failBody(err);
            });
            conn.send({ type: 'bulk', token });
          } else {
            if (offer) conn.send({ type: 'bulk-declined' }); // this node keeps bodies inside TLS
            state = 'body';
            this.bodies.tls += 1;
            floor = startFloor();
          }
          this.runReceive(conn, { sender, transferId, envelope: body }, () => {
            state = 'stored';
            floor?.stop();
            dropBulk();
          });
          return;
        }
        if (state === 'bulk-wait' || state === 'bulk') {
          // The body travels on the bulk connection: the only thing the TLS link may carry now is an abort.
          if (frame.kind !== 'message') throw new NvidError('NVID_ERR_BAD_FRAME', 'body frames on the TLS link of a transfer that uses the bulk channel');
          const message = checkMessage(frame.message, SENDER_TO_RECEIVER);
          if (message.type !== 'error') throw new NvidError('NVID_ERR_BAD_FRAME', `unexpected ${message.type} during a transfer`);
          failBody(new NvidError('NVID_ERR_CONNECTION', `sender aborted the transfer: ${message.message}`));
          dropBulk();
          conn.end();
          return;
        }
        if (state !== 'body') throw new NvidError('NVID_ERR_BAD_FRAME', 'data after the end of the body');
        if (frame.kind === 'data') {
          floor?.received(frame.data.length);
          // Backpressure: stop reading the socket until the consumer asks for more.
          if (!body!.push(frame.data)) {
            conn.pause();
            floor?.held();
          }
          return;
        }
        if (frame.kind === 'end') {
          body!.push(null);
          floor?.stop();
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
        floor?.stop();
        reject(err);
        failBody(err);
        dropBulk();
      },
      closed: () => {
        floor?.stop();
        failBody(new NvidError('NVID_ERR_CONNECTION', 'the sender closed the connection before the end of the body'));
        dropBulk();
      },
    });
  }

  /**
   * A plain connection on the transfer port: it must be a bulk connection
   * presenting a token this server issued and nobody used yet. Anything else
   * is closed at once; it holds an unauthenticated slot until then.
   */
  private onPlainConnection(socket: Socket, pending: PendingSession): void {
    const remote = `${pending.remoteAddress}:${socket.remotePort ?? 0}`;
    const refuse = (err: NvidError) => {
      this.options.onReject({ code: err.code, reason: err.message, remote });
      socket.destroy();
    };
    readBulkPreamble(socket, {
      bad: refuse,
      token: (token) => {
        const claim = this.tokens!.claim(token);
        if (claim.kind === 'claimed') {
          pending.markAuthenticated();
          this.options.log.debug({ remote, transferId: claim.waiter.transferId, sender: claim.waiter.senderId }, 'bulk connection bound to its transfer');
          claim.waiter.attach(socket);
          return;
        }
        if (claim.kind === 'cancelled') {
          // Its transfer was refused or aborted while the sender was connecting: nothing hostile, nothing to record.
          this.options.log.debug({ remote }, 'closed a bulk connection whose transfer had already ended');
          socket.destroy();
          return;
        }
        refuse(new NvidError('NVID_ERR_UNTRUSTED_PEER', claim.kind === 'reused' ? 'a bulk connection presented a token that was already used' : 'a bulk connection presented an unknown or expired token'));
      },
    });
  }

  /** Why a new transfer from `sender` must wait, or undefined when a slot is free. */
  private busyFor(sender: Peer): NvidError | undefined {
    const { maxActiveTransfers, maxActiveTransfersPerPeer } = this.options;
    if (this.active >= maxActiveTransfers) {
      return new NvidError('NVID_ERR_REFUSED', `receiver busy: ${this.active} transfers in progress (limit ${maxActiveTransfers}); try again shortly`, { details: { reason: 'busy' } });
    }
    const theirs = this.activeBySender.get(sender.id) ?? 0;
    if (theirs >= maxActiveTransfersPerPeer) {
      return new NvidError('NVID_ERR_REFUSED', `receiver busy: ${theirs} transfers from ${sender.name} already in progress (limit per peer ${maxActiveTransfersPerPeer}); try again shortly`, { details: { reason: 'busy' } });
    }
    return undefined;
  }

  private runReceive(conn: FramedConnection, incoming: IncomingEnvelope, onSettled: () => void): void {
    const { transferId, sender } = incoming;
    this.active += 1;
    this.activeBySender.set(sender.id, (this.activeBySender.get(sender.id) ?? 0) + 1);
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
        const left = this.activeBySender.get(sender.id)! - 1;
        if (left > 0) this.activeBySender.set(sender.id, left);
        else this.activeBySender.delete(sender.id);
        onSettled();
        // Anything the sender still sends is discarded, not buffered.
        if (!incoming.envelope.readableEnded) incoming.envelope.destroy();
        conn.resume();
      });
  }
}
