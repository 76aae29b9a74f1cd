/**
 * The listening half shared by the coordinator and the transfer server: a TCP
 * server that wraps each socket in TLS 1.3 itself (so it sees both the raw and
 * the TLS socket), caps how many connections may be unauthenticated at once,
 * gives each one `authTimeoutMs` to finish the handshake AND its first message,
 * and judges the peer certificate before a single frame is read. With a
 * `plain` handler it also takes plain connections on the same port (the
 * transfer server's bulk channel), told apart by their first byte; those fall
 * under the same cap and timer until the handler marks them authenticated.
 */
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { TLSSocket, createSecureContext } from 'node:tls';
import type { Logger } from 'pino';
import { NvidError } from '../../../core/errors.js';
import type { Identity } from '../../../core/types.js';
import type { FrameLimits } from './frame-codec.js';
import { FramedConnection } from './framed-connection.js';
import { TLS_HANDSHAKE_BYTE, peerCertificateOf } from './tls-helpers.js';

/** A connection refused or dropped for cause; the plugin turns it into a log line and a `rejected` history entry. */
export interface RejectInfo {
  readonly code: NvidError['code'];
  readonly reason: string;
  readonly peerId?: string;
  readonly remote?: string;
}

export interface AuthenticatedPeer {
  readonly id: string;
  readonly certPem: string;
}

/** Handed to the owner with each connection whose certificate passed. */
export interface PendingSession {
  readonly remoteAddress: string;
  /** Call once the first message checked out: stops the auth timer and frees an unauthenticated slot. */
  markAuthenticated(): void;
}

export interface GuardedServerOptions {
  readonly identity: Identity;
  readonly host: string;
  readonly port: number;
  readonly authTimeoutMs: number;
  readonly maxUnauthenticated: number;
  readonly limits: FrameLimits;
  readonly log: Logger;
  readonly onReject: (info: RejectInfo) => void;
  /** Judges the certificate right after the handshake; return an error to refuse (sent as an error frame). */
  readonly checkPeer: (peer: AuthenticatedPeer | undefined) => NvidError | undefined;
  /** A connection whose certificate passed. Start reading with `conn.start(...)`. */
  readonly onConnection: (conn: FramedConnection, peer: AuthenticatedPeer, session: PendingSession) => void;
  /**
   * Optional: a connection whose first byte cannot start a TLS handshake, handed
   * over paused with that byte still unread. It counts as unauthenticated (and
   * is dropped at `authTimeoutMs`) until the handler calls `markAuthenticated`.
   * Without this handler every connection is TLS.
   */
  readonly plain?: (socket: Socket, session: PendingSession) => void;
}

/** The settings a server passes through to its GuardedTlsServer unchanged. */
export type ListenerOptions = Pick<GuardedServerOptions, 'identity' | 'host' | 'port' | 'authTimeoutMs' | 'maxUnauthenticated' | 'limits' | 'log' | 'onReject'>;

/** Picks the listener settings out of a server's own options (which carry more). */
export function listenerOptions(options: ListenerOptions): ListenerOptions {
  const { identity, host, port, authTimeoutMs, maxUnauthenticated, limits, log, onReject } = options;
  return { identity, host, port, authTimeoutMs, maxUnauthenticated, limits, log, onReject };
}

/** Strips the IPv4-mapped IPv6 prefix so peers see `127.0.0.1`, not `::ffff:127.0.0.1`. */
export function plainAddress(address: string | undefined): string {
  if (!address) return 'unknown';
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}

export class GuardedTlsServer {
  private readonly options: GuardedServerOptions;
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private unauthenticated = 0;
  private lastCapWarning = 0;

  constructor(options: GuardedServerOptions) {
    this.options = options;
    const secureContext = createSecureContext({ key: options.identity.keyPem, cert: options.identity.certPem, minVersion: 'TLSv1.3' });
    this.server = createServer((raw) => this.accept(raw, secureContext));
  }

  /** Connections that have not yet authenticated (for tests and status). */
  get pendingCount(): number {
    return this.unauthenticated;
  }

  /** Starts listening; a busy or forbidden address is an NvidError naming it. */
  async listen(): Promise<number> {
    const { host, port } = this.options;
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', (err: NodeJS.ErrnoException) =>
        reject(new NvidError('NVID_ERR_CONNECTION', `cannot listen on ${host}:${port}: ${err.code ?? err.message}${err.code === 'EADDRINUSE' ? ' (another process uses that port; pick another in transport.listen.port, or 0 for any free port)' : ''}`, { cause: err })),
      );
      this.server.listen(port, host, () => {
        this.server.removeAllListeners('error');
        resolve();
      });
    });
    return (this.server.address() as AddressInfo).port;
  }

  /** Stops listening and drops every connection still open. */
  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const socket of this.sockets) socket.destroy();
    await closed;
  }

  private accept(raw: Socket, secureContext: ReturnType<typeof createSecureContext>): void {
    const remote = `${plainAddress(raw.remoteAddress)}:${raw.remotePort ?? 0}`;
    if (this.unauthenticated >= this.options.maxUnauthenticated) {
      raw.destroy();
      // A flood must not become a flood of log lines: one warning per second at most.
      const now = Date.now();
      if (now - this.lastCapWarning > 1000) {
        this.lastCapWarning = now;
        this.options.onReject({ code: 'NVID_ERR_TIMEOUT', reason: `too many unauthenticated connections (limit ${this.options.maxUnauthenticated}); dropping new ones`, remote });
      }
      return;
    }
    this.unauthenticated += 1;
    this.sockets.add(raw);
    // Nagle plus delayed ACKs stall each TLS 1.3 handshake flight by tens of milliseconds.
    raw.setNoDelay(true);
    let pending = true;
    const release = () => {
      if (!pending) return;
      pending = false;
      this.unauthenticated -= 1;
      clearTimeout(timer);
    };
    let tls: TLSSocket | undefined;
    const timer = setTimeout(() => {
      this.options.onReject({ code: 'NVID_ERR_TIMEOUT', reason: `did not authenticate within ${this.options.authTimeoutMs} ms`, remote });
      tls?.destroy();
      raw.destroy();
    }, this.options.authTimeoutMs);
    raw.on('close', () => {
      release();
      this.sockets.delete(raw);
    });
    raw.on('error', () => raw.destroy());

    const plain = this.options.plain;
    if (!plain) {
      tls = this.startTls(raw, secureContext, remote, () => pending, release);
      return;
    }
    // Sniff the first byte, then give it back: TLSSocket reads what is buffered on the raw socket when it wraps it.
    raw.once('data', (first: Buffer) => {
      raw.pause();
      raw.unshift(first);
      if (first[0] === TLS_HANDSHAKE_BYTE) tls = this.startTls(raw, secureContext, remote, () => pending, release);
      else plain(raw, { remoteAddress: plainAddress(raw.remoteAddress), markAuthenticated: release });
    });
  }

  /** Wraps an accepted socket in TLS and judges the certificate once the handshake is done. */
  private startTls(raw: Socket, secureContext: ReturnType<typeof createSecureContext>, remote: string, isPending: () => boolean, release: () => void): TLSSocket {
    const tls = new TLSSocket(raw, { isServer: true, secureContext, requestCert: true, rejectUnauthorized: false });
    tls.on('error', (err: Error) => {
      if (isPending()) this.options.onReject({ code: 'NVID_ERR_BAD_FRAME', reason: `TLS handshake failed: ${err.message}`, remote });
      tls.destroy();
    });
    tls.once('secure', () => {
      const peer = peerCertificateOf(tls);
      const conn = new FramedConnection(tls, this.options.limits);
      const refusal = this.options.checkPeer(peer);
      if (refusal || !peer) {
        const err = refusal ?? new NvidError('NVID_ERR_UNTRUSTED_PEER', 'no client certificate was presented');
        this.options.onReject({ code: err.code, reason: err.message, remote, ...(peer ? { peerId: peer.id } : {}) });
        // Nothing from this peer is ever read: the frame handler fails on anything.
        conn.start({ frame: () => undefined });
        conn.fail(err);
        return;
      }
      this.options.onConnection(conn, peer, { remoteAddress: plainAddress(raw.remoteAddress), markAuthenticated: release });
    });
    return tls;
  }
}
