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
 *
 * This class only listens, counts slots and hands out bulk connections to
 * their transfers; each TLS connection is an IncomingTransferSession
 * (incoming-transfer-session.ts), which does the rest.
 */
import type { Socket } from 'node:net';
import { NvidError } from '../../../core/errors.js';
import type { DeliveryReceipt, Peer } from '../../../core/types.js';
import type { FramedConnection } from '../wire/framed-connection.js';
import { GuardedTlsServer, listenerOptions, type AuthenticatedPeer, type ListenerOptions, type PendingSession } from '../wire/guarded-tls-server.js';
import type { BulkChannelMode } from './bulk-channel.js';
import { readBulkPreamble } from './bulk-receiver.js';
import { BulkTokens } from './bulk-tokens.js';
import { IncomingTransferSession, type BulkWaiter, type IncomingEnvelope, type IncomingSessionOptions, type IncomingTransferHost } from './incoming-transfer-session.js';

export type { IncomingEnvelope } from './incoming-transfer-session.js';

/** The listener's settings (identity, address, auth timeout, caps, limits, log, onReject), then the transfer server's own. */
export interface TransferServerOptions extends ListenerOptions, IncomingSessionOptions {
  /** Transfers received at once; more are refused as busy (an admitted peer cannot open unbounded pipelines). */
  readonly maxActiveTransfers: number;
  /** Of those, how many one sender may have: a single peer cannot take every slot. */
  readonly maxActiveTransfersPerPeer: number;
  /** `tcp` (default): accept the bulk channel when a sender offers it; `tls`: every body comes as data frames inside TLS. */
  readonly bulkChannel?: BulkChannelMode;
  /** How long a bulk token waits for its connection (default {@link DEFAULT_BULK_TOKEN_TTL_MS}). */
  readonly bulkTokenTtlMs?: number;
}

/** A sender opens its bulk connection right after reading the token; a few seconds covers a loaded machine. */
export const DEFAULT_BULK_TOKEN_TTL_MS = 5000;

export class TransferServer {
  private readonly options: TransferServerOptions;
  private readonly server: GuardedTlsServer;
  private readonly tokens: BulkTokens<BulkWaiter> | undefined;
  private active = 0;
  private readonly activeBySender = new Map<string, number>();
  private readonly bodies = { bulk: 0, tls: 0 };
  /** What every session sees of this server. */
  private readonly sessionHost: IncomingTransferHost;

  constructor(options: TransferServerOptions) {
    this.options = options;
    const bulk = (options.bulkChannel ?? 'tcp') === 'tcp';
    this.tokens = bulk ? new BulkTokens<BulkWaiter>(options.bulkTokenTtlMs ?? DEFAULT_BULK_TOKEN_TTL_MS) : undefined;
    this.server = new GuardedTlsServer({
      ...listenerOptions(options),
      checkPeer: (peer) => this.checkCertificate(peer),
      onConnection: (conn, peer, pending) => this.onConnection(conn, peer, pending),
      ...(bulk ? { plain: (socket: Socket, pending: PendingSession) => this.onPlainConnection(socket, pending) } : {}),
    });
    this.sessionHost = {
      options,
      tokens: this.tokens,
      busyFor: (sender) => this.busyFor(sender),
      takeSlot: (sender) => this.takeSlot(sender),
      releaseSlot: (sender) => this.releaseSlot(sender),
      bodyStarted: (channel) => {
        this.bodies[channel] += 1;
      },
    };
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

  /** A TLS connection from an admitted peer: its own session takes it from the header to the verdict. */
  private onConnection(conn: FramedConnection, cert: AuthenticatedPeer, pending: PendingSession): void {
    new IncomingTransferSession(this.sessionHost, conn, cert, pending).start();
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

  /** A transfer's receive pipeline started: it holds one of the server's slots and one of its sender's. */
  private takeSlot(sender: Peer): void {
    this.active += 1;
    this.activeBySender.set(sender.id, (this.activeBySender.get(sender.id) ?? 0) + 1);
  }

  private releaseSlot(sender: Peer): void {
    this.active -= 1;
    const left = this.activeBySender.get(sender.id)! - 1;
    if (left > 0) this.activeBySender.set(sender.id, left);
    else this.activeBySender.delete(sender.id); // the map holds only senders with transfers in progress
  }
}
