/**
 * A node's link to its coordinator: connect over mutual TLS, check the pinned
 * fingerprint before reading anything, join, keep the peer list current from
 * the pushed deltas, send heartbeats, and reconnect with exponential backoff
 * and jitter whenever the link drops.
 */
import type { TLSSocket } from 'node:tls';
import type { Logger } from 'pino';
import { NvidError, asNvidError } from '../../../core/errors.js';
import type { Identity, Peer } from '../../../core/types.js';
import type { Frame, FrameLimits } from '../wire/frame-codec.js';
import { FramedConnection } from '../wire/framed-connection.js';
import { CoordinatorRotation, type CoordinatorAddress } from './coordinator-failover.js';
import type { CoordinatorPins } from './coordinator-pins.js';
import { connectTls, peerCertificateOf } from '../wire/tls-helpers.js';
import { fromWirePeer } from '../wire/wire-peer.js';
import { COORDINATOR_TO_NODE, checkMessage, type ErrorMessage, type HelloMessage, type PeersMessage, type WelcomeMessage, type WireMessage } from '../wire/wire-messages.js';

/** What the client reports; the plugin maps these onto daemon.peers, the log and the history. */
export interface CoordinatorClientEvents {
  joined(info: { readonly name: string; readonly pinned: boolean }): void;
  peerList(peers: Peer[]): void;
  peerJoined(peer: Peer): void;
  peerLeft(id: string): void;
  peerRenamed(peer: Peer, oldName: string): void;
  /** Admission refused or coordinator mismatch; reported once per distinct reason, retried slowly. */
  refused(err: NvidError): void;
  disconnected(reason: string): void;
}

export interface CoordinatorClientOptions {
  readonly identity: Identity;
  readonly host: string;
  readonly port: number;
  /** Where to connect, asked before every attempt when given (discovery follows a coordinator that moves); else host and port. */
  readonly target?: () => { readonly host: string; readonly port: number };
  /** Pinned fingerprint from the config; without it the pin store decides (trust on first use). */
  readonly fingerprint?: string;
  /** Further coordinators sharing the same directory, tried in order after host:port whenever the link drops (coordinator-failover.ts). */
  readonly fallbacks?: readonly CoordinatorAddress[];
  readonly pins: CoordinatorPins;
  /** The join token, or where to get it at each attempt (a file that may appear or change while the node runs). */
  readonly token?: string | (() => string | undefined);
  /** The name to ask for on each (re)join: the daemon's current name. */
  readonly name: () => string;
  /** The node's tags (config `tags`), told the coordinator in each hello; none when absent. */
  readonly tags?: readonly string[];
  /** Where this node takes transfers; address undefined = the address the coordinator sees. */
  readonly advertise: () => { readonly address?: string; readonly port: number };
  /** Give up on a silent coordinator after this long and reconnect. */
  readonly heartbeatTimeoutMs: number;
  readonly connectTimeoutMs: number;
  readonly reconnect: { readonly minMs: number; readonly maxMs: number };
  readonly limits: FrameLimits;
  readonly log: Logger;
  readonly events: CoordinatorClientEvents;
}

/** Delay before reconnect attempt `attempt` (0-based): exponential, capped, with "equal jitter" so restarts do not stampede. */
export function backoffDelay(attempt: number, minMs: number, maxMs: number, random: () => number = Math.random): number {
  const ceiling = Math.min(maxMs, minMs * 2 ** Math.min(attempt, 30));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

/** One connection to the coordinator and what is known of it; a new one is made for every attempt. */
interface Link {
  readonly socket: TLSSocket;
  readonly conn: FramedConnection;
  /** Connect timeout, until the welcome arrives. */
  readonly timer: NodeJS.Timeout;
  /** Why this link failed, reported (and judged fatal or not) when it closes. */
  failure: NvidError | undefined;
}

/** A rename or certificate request waiting for its answer (or error) with the same requestId. */
interface PendingRequest {
  resolve(name: string): void;
  reject(err: NvidError): void;
  timer: NodeJS.Timeout;
}

export class CoordinatorClient {
  private readonly options: CoordinatorClientOptions;
  private conn: FramedConnection | undefined;
  private joinedConn: FramedConnection | undefined;
  private stopped = true;
  private readonly rotation: CoordinatorRotation;
  private fatal = false;
  private lastRefusal = '';
  private retryTimer: NodeJS.Timeout | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private lastHeard = 0;
  private nextRequestId = 1;
  private readonly renames = new Map<number, PendingRequest>();
  private readonly certificates = new Map<number, PendingRequest>();
  private pagedPeers: Peer[] = [];

  constructor(options: CoordinatorClientOptions) {
    this.options = options;
    const { host, port, fingerprint } = options;
    this.rotation = new CoordinatorRotation([{ host, port, ...(fingerprint !== undefined ? { fingerprint } : {}) }, ...(options.fallbacks ?? [])]);
  }

  /** `host:port` of the coordinator this node is joined to, or trying next. */
  get coordinator(): string {
    const { host, port } = this.where();
    return `${host}:${port}`;
  }

  /** True while joined (welcome received on the current connection). */
  get connected(): boolean {
    return this.joinedConn !== undefined && this.joinedConn === this.conn && !this.conn.closed;
  }

  start(): void {
    this.stopped = false;
    this.connectNow();
  }

  /** Asks the coordinator for a new name; resolves with the name it assigned. */
  rename(name: string, timeoutMs = 10_000): Promise<string> {
    const conn = this.conn;
    if (!conn || !this.connected) {
      return Promise.reject(new NvidError('NVID_ERR_CONNECTION', 'not connected to the coordinator; the rename can be retried once it is back'));
    }
    const requestId = this.nextRequestId++;
    return new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.renames.delete(requestId);
        reject(new NvidError('NVID_ERR_TIMEOUT', `the coordinator did not answer the rename within ${timeoutMs} ms`));
      }, timeoutMs);
      this.renames.set(requestId, { resolve, reject, timer });
      conn.send({ type: 'rename', requestId, name });
    });
  }

  /**
   * Asks the coordinator for a peer's certificate (peer lists carry none). The caller checks its
   * fingerprint against the ID; the coordinator answers with an error when it does not know the peer.
   */
  certificate(id: string, timeoutMs = 10_000): Promise<string> {
    const conn = this.conn;
    if (!conn || !this.connected) {
      return Promise.reject(new NvidError('NVID_ERR_CONNECTION', `not connected to the coordinator, which keeps the certificate of peer ${id.slice(0, 16)}; retry once it is back`));
    }
    const requestId = this.nextRequestId++;
    return new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.certificates.delete(requestId);
        reject(new NvidError('NVID_ERR_TIMEOUT', `the coordinator did not send the certificate of ${id.slice(0, 16)} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.certificates.set(requestId, { resolve, reject, timer });
      conn.send({ type: 'certificate-request', requestId, id });
    });
  }

  /** Leaves gracefully (the coordinator tells everyone at once) and stops reconnecting. */
  async leave(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    clearInterval(this.heartbeat);
    const conn = this.conn;
    if (!conn || conn.closed) return;
    if (this.connected) conn.send({ type: 'leave' });
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        conn.destroy();
        resolve();
      }, 1000);
      conn.socket.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
      conn.end();
    });
  }

  /** One connection attempt: its own socket, connect timer and failure, so a stale one can never touch the next. */
  private connectNow(): void {
    if (this.stopped) return;
    const { identity, connectTimeoutMs } = this.options;
    const { host, port } = this.where();
    const socket: TLSSocket = connectTls(identity, host, port);
    const link: Link = {
      socket,
      conn: new FramedConnection(socket, this.options.limits),
      timer: setTimeout(() => socket.destroy(new NvidError('NVID_ERR_TIMEOUT', `coordinator ${host}:${port} did not answer within ${connectTimeoutMs} ms`)), connectTimeoutMs),
      failure: undefined,
    };
    this.conn = link.conn;
    socket.on('error', (err) => {
      link.failure ??= asNvidError(err, 'NVID_ERR_CONNECTION');
    });
    socket.once('secureConnect', () => this.onSecureConnect(link));
    socket.once('close', () => {
      clearTimeout(link.timer);
      this.onDisconnected(link.conn, link.failure);
    });
  }

  /** The handshake is done: the coordinator must be the pinned one before a single frame is read, then we say hello. */
  private onSecureConnect(link: Link): void {
    if (!this.checkPin(link)) return;
    link.conn.start({
      frame: (frame) => this.onFrame(link, frame),
      badInput: (err) => {
        link.failure = err;
      },
      closed: () => undefined,
    });
    link.conn.send(this.hello());
  }

  /** Checks the coordinator's certificate against the pin (recording it on first use); a mismatch closes the link. */
  private checkPin(link: Link): boolean {
    const { host, port, fingerprint } = this.where();
    const cert = peerCertificateOf(link.socket);
    try {
      if (!cert) throw new NvidError('NVID_ERR_COORDINATOR_MISMATCH', `the coordinator at ${host}:${port} presented no certificate`);
      const decision = this.options.pins.check(`${host}:${port}`, cert.id, fingerprint);
      if (decision.outcome === 'pinned-now') this.options.log.warn({ fingerprint: cert.id }, `trusting coordinator ${host}:${port} on first use; pinned in ${this.options.pins.path}`);
      return true;
    } catch (err) {
      link.failure = asNvidError(err, 'NVID_ERR_COORDINATOR_MISMATCH');
      link.socket.destroy();
      return false;
    }
  }

  /** The coordinator to try now: the one discovery follows (it may move), else the current one of the configured rotation. */
  private where(): { readonly host: string; readonly port: number; readonly fingerprint?: string } {
    const followed = this.options.target?.();
    if (!followed) return this.rotation.current;
    return { ...followed, ...(this.options.fingerprint !== undefined ? { fingerprint: this.options.fingerprint } : {}) };
  }

  /** Asks to join under the daemon's current name, saying where this node takes transfers. */
  private hello(): HelloMessage {
    const { address, port: transferPort } = this.options.advertise();
    const hello: HelloMessage = { type: 'hello', name: this.options.name(), port: transferPort };
    if (address !== undefined) hello.address = address;
    const token = typeof this.options.token === 'function' ? this.options.token() : this.options.token;
    if (token !== undefined) hello.token = token;
    if (this.options.tags && this.options.tags.length > 0) hello.tags = [...this.options.tags];
    return hello;
  }

  /** Any frame proves the coordinator alive; only messages may come, and the welcome ends the connect timeout. */
  private onFrame(link: Link, frame: Frame): void {
    this.lastHeard = Date.now();
    if (frame.kind !== 'message') throw new NvidError('NVID_ERR_BAD_FRAME', 'the coordinator link carries no body frames');
    const message = checkMessage(frame.message, COORDINATOR_TO_NODE);
    if (message.type === 'welcome') clearTimeout(link.timer);
    this.onMessage(link, message);
  }

  private onMessage(link: Link, message: WireMessage): void {
    const { events } = this.options;
    switch (message.type) {
      case 'welcome':
        this.onWelcome(link.conn, message);
        return;
      case 'peers':
        this.onPeersPage(message);
        return;
      case 'peer-joined':
        this.onJoined(fromWirePeer(message.peer));
        return;
      case 'peers-joined':
        for (const entry of message.peers) this.onJoined(fromWirePeer(entry));
        return;
      case 'peer-left':
        if (message.id !== this.options.identity.id) events.peerLeft(message.id);
        return;
      case 'peer-renamed': {
        const peer = fromWirePeer(message.peer);
        if (peer.id !== this.options.identity.id) events.peerRenamed(peer, message.oldName);
        return;
      }
      case 'pong':
        return;
      case 'renamed':
        this.settle(this.renames, message.requestId, message.name);
        return;
      case 'certificate':
        this.settle(this.certificates, message.requestId, message.certPem);
        return;
      case 'error':
        this.onError(link, message);
        return;
      default:
        throw new NvidError('NVID_ERR_BAD_FRAME', `unexpected ${message.type}`);
    }
  }

  /** Joined: the backoff and any remembered refusal start over, and the heartbeat starts at the coordinator's pace. */
  private onWelcome(conn: FramedConnection, message: WelcomeMessage): void {
    this.joinedConn = conn;
    this.rotation.joined();
    this.fatal = false;
    this.lastRefusal = '';
    this.pagedPeers = [];
    this.startHeartbeat(conn, message.heartbeatIntervalMs);
    this.options.events.joined({ name: message.name, pinned: this.rotation.current.fingerprint !== undefined });
  }

  /** The full list comes in pages; the peer table is replaced only once the last page is in. */
  private onPeersPage(message: PeersMessage): void {
    const self = this.options.identity.id;
    for (const entry of message.peers) {
      const peer = fromWirePeer(entry);
      if (peer.id !== self) this.pagedPeers.push(peer);
    }
    if (message.more) return;
    const complete = this.pagedPeers;
    this.pagedPeers = [];
    this.options.events.peerList(complete);
  }

  /** An error naming a rename fails only that rename; any other ends the link, and its code decides the retry pace. */
  private onError(link: Link, message: ErrorMessage): void {
    const err = new NvidError(message.code, message.message, message.details ? { details: message.details } : undefined);
    if (message.requestId !== undefined) {
      this.settle(this.renames, message.requestId, err);
      this.settle(this.certificates, message.requestId, err);
      return;
    }
    link.failure = err;
    link.conn.end();
  }

  /**
   * A peer joined (or came back with another address or tags); the node's own entry is
   * not a peer. Entries carry no certificate: the one fetched for a peer is checked
   * against its ID then, so a coordinator cannot swap the certificate behind a known ID.
   */
  private onJoined(peer: Peer): void {
    if (peer.id !== this.options.identity.id) this.options.events.peerJoined(peer);
  }

  private settle(requests: Map<number, PendingRequest>, requestId: number, outcome: string | NvidError): void {
    const pending = requests.get(requestId);
    if (!pending) return;
    requests.delete(requestId);
    clearTimeout(pending.timer);
    if (typeof outcome === 'string') pending.resolve(outcome);
    else pending.reject(outcome);
  }

  private startHeartbeat(conn: FramedConnection, intervalMs: number): void {
    clearInterval(this.heartbeat);
    this.lastHeard = Date.now();
    // Pongs only answer pings: never call the coordinator silent before three of our pings went unanswered.
    const silentAfter = Math.max(this.options.heartbeatTimeoutMs, intervalMs * 3);
    this.heartbeat = setInterval(() => {
      if (Date.now() - this.lastHeard > silentAfter) {
        this.options.log.warn(`coordinator silent for ${silentAfter} ms; reconnecting`);
        conn.destroy();
        return;
      }
      conn.send({ type: 'ping' });
    }, intervalMs);
    this.heartbeat.unref();
  }

  private onDisconnected(conn: FramedConnection, failure: NvidError | undefined): void {
    if (conn !== this.conn) return;
    clearInterval(this.heartbeat);
    const wasJoined = this.joinedConn === conn;
    this.joinedConn = undefined;
    for (const [id] of this.renames) this.settle(this.renames, id, new NvidError('NVID_ERR_CONNECTION', 'the coordinator link closed before the rename was answered'));
    for (const [id] of this.certificates) this.settle(this.certificates, id, new NvidError('NVID_ERR_CONNECTION', 'the coordinator link closed before it sent the certificate asked for'));
    if (this.stopped) return;
    const reason = failure ? `${failure.code}: ${failure.message}` : 'connection closed';
    const isFatal = failure?.code === 'NVID_ERR_NOT_ADMITTED' || failure?.code === 'NVID_ERR_COORDINATOR_MISMATCH' || failure?.code === 'NVID_ERR_UNTRUSTED_PEER';
    if (isFatal) {
      // Retrying fast cannot help until someone changes a config: report once, retry at the slowest pace.
      this.fatal = true;
      if (reason !== this.lastRefusal) {
        this.lastRefusal = reason;
        this.options.events.refused(failure!);
      }
    } else {
      this.fatal = false;
    }
    if (wasJoined) this.options.events.disconnected(reason);
    const { minMs, maxMs } = this.options.reconnect;
    const attempt = this.rotation.next();
    // A refusal at the only coordinator needs a config change; with others listed, they are tried at the usual pace.
    const delay = this.fatal && this.rotation.addresses.length === 1 ? backoffDelay(30, minMs, maxMs) : backoffDelay(attempt, minMs, maxMs);
    this.options.log.debug({ delay, reason }, 'coordinator link down; reconnecting');
    this.retryTimer = setTimeout(() => this.connectNow(), delay);
    this.retryTimer.unref();
  }
}
