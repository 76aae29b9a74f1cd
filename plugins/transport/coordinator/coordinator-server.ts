/**
 * The coordinator: admits nodes by policy, keeps one entry per node ID, sends
 * each node the full list on join and pushes every change (joined, left,
 * renamed) to all others in batches, hands out a peer's certificate to a node
 * that asks for it, and drops nodes whose heartbeats stop.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { NvidError, asNvidError } from '../../../core/errors.js';
import type { Peer } from '../../../core/types.js';
import { LIST_MESSAGE, PREFIX_BYTES, encodeListFrame, encodeMessageJson } from '../wire/frame-codec.js';
import { toWirePeer } from '../wire/wire-peer.js';
import type { FramedConnection } from '../wire/framed-connection.js';
import { wireEntry, type WireEntry } from './coordinator-registry.js';
import { memoryDirectory, type Directory, type DirectoryChange, type DirectoryFactory } from './directory.js';
import { RosterFile } from './coordinator-roster.js';
import { DeltaBatches, SlicedBroadcast, type Batch } from './delta-batches.js';
import { PeerListPages } from './peer-list-pages.js';
import { GuardedTlsServer, listenerOptions, type AuthenticatedPeer, type ListenerOptions, type PendingSession } from '../wire/guarded-tls-server.js';
import { normaliseFingerprint } from '../wire/tls-helpers.js';
import { NODE_TO_COORDINATOR, checkMessage, errorMessage, type CertificateRequestMessage, type HelloMessage, type RenameMessage, type WireMessage } from '../wire/wire-messages.js';

export interface AdmissionPolicy {
  readonly policy: 'open' | 'token' | 'fingerprints';
  readonly token?: string;
  readonly fingerprints?: readonly string[];
}

/** Observer of the address book; the plugin mirrors it into the coordinator's own peer table and history. */
export interface RegistryObserver {
  joined(peer: Peer): void;
  left(peer: Peer, reason: string): void;
  renamed(peer: Peer, oldName: string): void;
}

/** The listener's settings (identity, address, auth timeout, caps, limits, log, onReject), then the coordinator's own. */
export interface CoordinatorServerOptions extends ListenerOptions {
  readonly admission: AdmissionPolicy;
  readonly heartbeatIntervalMs: number;
  readonly heartbeatTimeoutMs: number;
  readonly observer?: RegistryObserver;
  /** Where the address book is kept across restarts; without it a restart starts empty. */
  readonly rosterPath?: string;
  /** Who keeps the address book: the in-memory registry by default, or a directory shared with other coordinators. */
  readonly directory?: DirectoryFactory;
}

/**
 * The largest message of the peer list (a page, or a batch's peers-joined). Node's TLS keeps, per
 * connection, a buffer the size of the largest write it encrypted; frames of one TLS record's size
 * (16 KiB, its prefix included) keep that to 16 KiB (see sendList), and each arrives as one record,
 * so the node decodes it without gathering it from two reads.
 */
const LIST_PAGE_BYTES = 16 * 1024 - PREFIX_BYTES;

/** A node whose outgoing buffer grows past this is not reading; it is dropped rather than buffered without end. */
const MAX_SESSION_BACKLOG_BYTES = 8 * 1024 * 1024;

interface Session {
  readonly conn: FramedConnection;
  readonly peer: AuthenticatedPeer;
  readonly remote: string;
  lastSeen: number;
  joined: boolean;
  /** The last address-book change this node knows of (see DeltaBatches). */
  seenSeq: number;
  /** The full list while it is still being written, and the changes held back until it is out (see sendList). */
  listing: { readonly frames: readonly Buffer[]; next: number; readonly held: Buffer[] } | undefined;
}

export class CoordinatorServer {
  private readonly options: CoordinatorServerOptions;
  private readonly registry: Directory<Session>;
  private readonly pages: PeerListPages;
  private readonly deltas: DeltaBatches;
  private readonly broadcast = new SlicedBroadcast<Session>((session, batch) => this.writeBatchTo(session, batch));
  private joinedSessions = 0;
  private readonly server: GuardedTlsServer;
  private readonly allowed: ReadonlySet<string>;
  private sweeper: NodeJS.Timeout | undefined;
  private readonly roster: RosterFile | undefined;
  private startedAt = 0;

  constructor(options: CoordinatorServerOptions) {
    this.options = options;
    this.roster = options.rosterPath ? new RosterFile(options.rosterPath) : undefined;
    this.allowed = new Set((options.admission.fingerprints ?? []).map(normaliseFingerprint));
    this.registry = (options.directory ?? memoryDirectory)<Session>({ coordinatorId: options.identity.id, admits: (peer) => this.checkCertificate(peer) === undefined, log: options.log });
    this.pages = new PeerListPages(Math.min(options.limits.maxMessageBytes, LIST_PAGE_BYTES));
    this.deltas = new DeltaBatches(() => this.joinedSessions, (batch) => this.writeBatch(batch), Math.min(options.limits.maxMessageBytes, LIST_PAGE_BYTES));
    this.server = new GuardedTlsServer({
      ...listenerOptions(options),
      checkPeer: (peer) => this.checkCertificate(peer),
      onConnection: (conn, peer, pending) => this.onConnection(conn, peer, pending),
    });
  }

  /** The current address book (including entries remembered from before a restart whose node has not rejoined yet). */
  peers(): Peer[] {
    return this.registry.list();
  }

  /** Only the nodes connected right now. */
  connectedPeers(): Peer[] {
    return this.registry.list().filter((peer) => this.registry.sessionOf(peer.id)?.joined);
  }

  async start(): Promise<number> {
    await this.registry.start((change) => this.onDirectoryChange(change));
    for (const peer of this.roster?.load() ?? []) {
      // A node dropped from the admission list while the coordinator was down is not brought back.
      if (this.checkCertificate(peer) === undefined) this.registry.restore(peer);
    }
    this.pages.invalidate();
    for (const peer of this.registry.list()) this.options.observer?.joined(peer);
    this.startedAt = Date.now();
    const port = await this.server.listen();
    const every = Math.max(50, Math.min(this.options.heartbeatIntervalMs, Math.floor(this.options.heartbeatTimeoutMs / 4)));
    this.sweeper = setInterval(() => this.sweep(), every);
    this.sweeper.unref();
    return port;
  }

  async stop(): Promise<void> {
    clearInterval(this.sweeper);
    this.deltas.flushNow();
    this.broadcast.drain();
    // The directory first: sessions closed by the server's close are not nodes leaving the shared directory.
    await this.registry.stop();
    await this.server.close();
    this.deltas.stop();
    this.roster?.flush();
  }

  private checkCertificate(peer: { readonly id: string } | undefined): NvidError | undefined {
    if (!peer) return new NvidError('NVID_ERR_UNTRUSTED_PEER', 'the coordinator requires a client certificate (the node identity)');
    if (this.options.admission.policy === 'fingerprints' && !this.allowed.has(peer.id)) {
      return new NvidError('NVID_ERR_NOT_ADMITTED', `node ${peer.id} is not in the coordinator's list of admitted fingerprints; add it to transport.admission.fingerprints on the coordinator`, { details: { id: peer.id, policy: 'fingerprints' } });
    }
    return undefined;
  }

  private checkToken(hello: HelloMessage): NvidError | undefined {
    if (this.options.admission.policy !== 'token') return undefined;
    const expected = createHash('sha256').update(this.options.admission.token ?? '').digest();
    const given = createHash('sha256').update(hello.token ?? '').digest();
    // Hashing first makes the comparison constant-time whatever the lengths.
    if (hello.token !== undefined && timingSafeEqual(expected, given)) return undefined;
    const what = hello.token === undefined ? 'no join token was given' : 'the join token does not match';
    return new NvidError('NVID_ERR_NOT_ADMITTED', `${what}; set transport.joinToken (or joinTokenFile) on the node to the coordinator's token`, { details: { policy: 'token' } });
  }

  private onConnection(conn: FramedConnection, peer: AuthenticatedPeer, pending: PendingSession): void {
    const session: Session = { conn, peer, remote: pending.remoteAddress, lastSeen: Date.now(), joined: false, seenSeq: 0, listing: undefined };
    const reject = (err: NvidError) => this.options.onReject({ code: err.code, reason: err.message, peerId: peer.id, remote: pending.remoteAddress });
    conn.start({
      frame: (frame) => {
        session.lastSeen = Date.now();
        if (frame.kind !== 'message') throw new NvidError('NVID_ERR_BAD_FRAME', 'the coordinator link carries no body frames');
        const message = checkMessage(frame.message, NODE_TO_COORDINATOR);
        if (!session.joined && message.type !== 'hello') throw new NvidError('NVID_ERR_BAD_FRAME', `expected hello first, got ${message.type}`);
        this.onMessage(session, message, pending, reject);
      },
      badInput: reject,
      closed: () => this.onClosed(session, 'connection closed'),
    });
  }

  private onMessage(session: Session, message: WireMessage, pending: PendingSession, reject: (err: NvidError) => void): void {
    switch (message.type) {
      case 'hello':
        this.onHello(session, message, pending, reject);
        return;
      case 'ping':
        session.conn.send({ type: 'pong' });
        return;
      case 'rename':
        void this.onRename(session, message);
        return;
      case 'leave':
        this.onClosed(session, 'left');
        session.conn.end();
        return;
      case 'certificate-request':
        this.onCertificateRequest(session, message);
        return;
      case 'error':
        this.options.log.warn({ peerId: session.peer.id, code: message.code }, `node reported an error: ${message.message}`);
        session.conn.end();
        return;
      default:
        throw new NvidError('NVID_ERR_BAD_FRAME', `unexpected ${message.type}`);
    }
  }

  /** The node's first message: admission by token (the certificate was judged already), then the join. */
  private onHello(session: Session, hello: HelloMessage, pending: PendingSession, reject: (err: NvidError) => void): void {
    if (session.joined) throw new NvidError('NVID_ERR_BAD_FRAME', 'hello sent twice');
    const refusal = this.checkToken(hello);
    if (refusal) {
      reject(refusal);
      session.conn.fail(refusal);
      return;
    }
    pending.markAuthenticated();
    this.join(session, hello).catch((err: unknown) => {
      // A shared directory out of reach: the node is told why and retries (or fails over to another coordinator).
      const error = asNvidError(err, 'NVID_ERR_DIRECTORY');
      reject(error);
      session.conn.fail(error);
    });
  }

  /** The node always hears the name it got; the others only when it really changed. */
  private async onRename(session: Session, message: RenameMessage): Promise<void> {
    let result;
    try {
      result = await this.registry.rename(session.peer.id, message.name);
      if (!result) throw new NvidError('NVID_ERR_CONNECTION', 'this node is no longer joined here; the rename can be retried once it has rejoined');
    } catch (err) {
      session.conn.send(errorMessage(asNvidError(err, 'NVID_ERR_DIRECTORY'), message.requestId));
      return;
    }
    session.conn.send({ type: 'renamed', requestId: message.requestId, name: result.peer.name });
    if (result.peer.name !== result.oldName) {
      this.saveRoster();
      this.pages.invalidate();
      this.announce('peer-renamed', result.peer, result.oldName);
      this.options.observer?.renamed(result.peer, result.oldName);
    }
  }

  /** A node about to seal for a peer asks for its certificate; it checks the fingerprint itself. */
  private onCertificateRequest(session: Session, message: CertificateRequestMessage): void {
    const certPem = this.registry.get(message.id)?.certPem;
    if (certPem === undefined) {
      session.conn.send(errorMessage(new NvidError('NVID_ERR_UNKNOWN_PEER', `the coordinator knows no node ${message.id.slice(0, 16)}`), message.requestId));
      return;
    }
    session.conn.send({ type: 'certificate', requestId: message.requestId, id: message.id, certPem });
  }

  private async join(session: Session, hello: HelloMessage): Promise<void> {
    const { peer, previous, replacedSession } = await this.registry.register(
      { id: session.peer.id, certPem: session.peer.certPem, address: hello.address ?? session.remote, port: hello.port, requestedName: hello.name, tags: hello.tags ?? [] },
      session,
    );
    if (replacedSession !== undefined && replacedSession !== session) {
      // The same certificate connected again: the old socket is stale (or a duplicate); it loses its entry, never duplicates it.
      this.setJoined(replacedSession, false);
      replacedSession.conn.fail(new NvidError('NVID_ERR_CONNECTION', 'this session was replaced by a newer connection of the same node', { details: { reason: 'replaced' } }));
    }
    // A shared directory answers later: the node may have gone meanwhile, and must not stay listed.
    if (session.conn.closed) {
      if (previous) this.removeEntry(peer.id, session, 'left while joining');
      else this.registry.remove(peer.id, session);
      this.pages.invalidate();
      return;
    }
    this.setJoined(session, true);
    if (previous) this.pages.invalidate();
    else this.pages.appended(peer.id, this.registry.wireOf(peer.id)!);
    const { heartbeatIntervalMs, heartbeatTimeoutMs } = this.options;
    session.conn.send({ type: 'welcome', id: peer.id, name: peer.name, heartbeatIntervalMs, heartbeatTimeoutMs });
    // From here on the link carries lists and batches, not handshake flights: with Nagle the
    // pages and batches queued while the node has not acknowledged the last leave in fewer
    // segments (coordinator-scale at 10,000 on loopback: 44 CPU-seconds beyond the handshakes,
    // both ends, in the run compared, against 54-55 in two runs without). An answer to a request
    // (certificate, rename, pong) waits at most for what was still in flight to the node: the
    // request acknowledged all it had received.
    session.conn.socket.setNoDelay(false);
    if (!previous) {
      this.announce('peer-joined', peer);
      this.options.observer?.joined(peer);
    } else if (previous.name !== peer.name) {
      this.announce('peer-renamed', peer, previous.name);
      this.options.observer?.renamed(peer, previous.name);
    } else if (previous.address !== peer.address || previous.port !== peer.port || !sameTags(previous.tags, peer.tags)) {
      // Same ID, new transfer address or tags: an upsert for everyone, no join or leave.
      this.announce('peer-joined', peer);
    }
    this.sendList(session);
    this.saveRoster();
    this.options.log.info({ peerId: peer.id, name: peer.name, address: peer.address, port: peer.port, replaced: Boolean(previous) }, `node ${peer.name} joined`);
  }

  /**
   * The full list, two pages at a time: the next two are written once the socket handed the
   * last on. Written at once, a list of 10,000 entries would go to TLS as one 1.3 MB write,
   * and Node's TLS keeps a buffer as large as its largest write for the life of the connection
   * (measured: 740 KB per node at 10,000). One page a turn cost a callback round, a write and a
   * wakeup of the node per 16 KiB. Two a turn (coordinator-scale at 10,000): 54-55 CPU-seconds
   * beyond the handshakes, both ends, against 70 in the run before, for 16 KiB more per node
   * (61 to 77 KiB). The list holds every change queued so far, this node's own join included;
   * changes queued after it wait until the list is out, since the node replaces its whole
   * table when the last page arrives.
   */
  private sendList(session: Session): void {
    session.seenSeq = this.deltas.seq;
    session.listing = { frames: [...this.pages.frames(() => this.wireEntries())], next: 0, held: [] };
    this.writeNextPage(session);
  }

  private writeNextPage(session: Session): void {
    const listing = session.listing;
    if (!listing) return;
    if (listing.next < listing.frames.length) {
      // Two pages per turn: the second queues behind the first and leaves when it does.
      if (listing.next + 1 < listing.frames.length) session.conn.sendEncoded(listing.frames[listing.next++]!);
      // A link that closed meanwhile never calls back: the rest of the list is simply dropped with the session.
      session.conn.sendEncoded(listing.frames[listing.next++]!, () => this.writeNextPage(session));
      return;
    }
    session.listing = undefined;
    for (const held of listing.held) session.conn.sendEncoded(held);
  }

  private *wireEntries(): Generator<readonly [string, WireEntry]> {
    for (const peer of this.registry.list()) yield [peer.id, this.registry.wireOf(peer.id)!];
  }

  private setJoined(session: Session, joined: boolean): void {
    if (session.joined === joined) return;
    session.joined = joined;
    this.joinedSessions += joined ? 1 : -1;
  }

  /**
   * Queues a change for every node, from the entry's cached encoding (no certificate). The node
   * it is about gets it too and ignores it: one shared buffer per batch beats a copy per node.
   * A join goes out as a one-entry `peers-joined` list frame, which a batch merges with the
   * joins next to it.
   */
  private announce(type: 'peer-joined' | 'peer-renamed', peer: Peer, oldName?: string): void;
  private announce(type: 'peer-left', peer: Peer): void;
  private announce(type: 'peer-joined' | 'peer-renamed' | 'peer-left', peer: Peer, oldName?: string): void {
    const { maxMessageBytes } = this.options.limits;
    if (type === 'peer-joined') {
      const joined = this.registry.wireOf(peer.id) ?? wireEntry(peer);
      this.deltas.push({ frame: encodeListFrame(LIST_MESSAGE.joined, [joined], maxMessageBytes), joined });
      return;
    }
    const json = type === 'peer-left' ? `{"type":"peer-left","id":${JSON.stringify(peer.id)}}` : `{"type":"peer-renamed","peer":${JSON.stringify(toWirePeer(peer))},"oldName":${JSON.stringify(oldName)}}`;
    // A rename is a person's doing, and rare: it does not wait behind a burst of joins.
    this.deltas.push({ frame: encodeMessageJson(json, maxMessageBytes, type) }, type === 'peer-renamed');
  }

  /** Queues one batch of changes for every joined node (SlicedBroadcast); returns the writes that will take. */
  private writeBatch(batch: Batch): number {
    const sessions: Session[] = [];
    for (const peer of this.registry.list()) {
      const session = this.registry.sessionOf(peer.id);
      if (session?.joined) sessions.push(session);
    }
    this.broadcast.enqueue(batch, sessions);
    return sessions.length;
  }

  /** The part of `batch` this node has not seen; a node that stopped reading is dropped. */
  private writeBatchTo(session: Session, batch: Batch): void {
    if (!session.joined) return;
    if (session.conn.socket.writableLength > MAX_SESSION_BACKLOG_BYTES) {
      this.drop(session, new NvidError('NVID_ERR_TIMEOUT', 'node is not reading its coordinator link (backlog over 8 MiB)'));
      return;
    }
    const unseen = batch.unseenBy(session);
    if (!unseen) return;
    if (session.listing) session.listing.held.push(unseen);
    else session.conn.sendEncoded(unseen);
  }

  private sweep(): void {
    const deadline = Date.now() - this.options.heartbeatTimeoutMs;
    for (const peer of this.registry.list()) {
      const session = this.registry.sessionOf(peer.id);
      if (session && session.lastSeen < deadline) this.drop(session, new NvidError('NVID_ERR_TIMEOUT', `no heartbeat for ${this.options.heartbeatTimeoutMs} ms`));
    }
    // Remembered entries get one heartbeat timeout after a restart to rejoin, like a live node that went silent.
    if (this.startedAt < deadline) {
      for (const orphan of this.registry.orphans()) this.removeEntry(orphan.id, undefined, 'did not rejoin after the coordinator restarted');
    }
  }

  private saveRoster(): void {
    this.roster?.scheduleSave(() => this.registry.list());
  }

  private drop(session: Session, err: NvidError): void {
    this.options.onReject({ code: err.code, reason: err.message, peerId: session.peer.id, remote: session.remote });
    this.onClosed(session, err.message);
    session.conn.fail(err);
  }

  private onClosed(session: Session, reason: string): void {
    if (!session.joined) return;
    this.setJoined(session, false);
    this.removeEntry(session.peer.id, session, reason);
  }

  /** Changes made by other coordinators sharing the directory (or their expiry) reach this coordinator's nodes like its own. */
  private onDirectoryChange(change: DirectoryChange<Session>): void {
    const { observer } = this.options;
    switch (change.kind) {
      case 'joined':
        this.pages.invalidate();
        this.announce('peer-joined', change.peer);
        observer?.joined(change.peer);
        return;
      case 'renamed':
        this.pages.invalidate();
        this.announce('peer-renamed', change.peer, change.oldName);
        observer?.renamed(change.peer, change.oldName);
        return;
      case 'left':
        this.pages.invalidate();
        this.announce('peer-left', change.peer);
        observer?.left(change.peer, change.reason);
        this.options.log.info({ peerId: change.peer.id, name: change.peer.name, reason: change.reason }, `node ${change.peer.name} left`);
        return;
      case 'displaced':
        this.setJoined(change.session, false);
        change.session.conn.fail(new NvidError('NVID_ERR_CONNECTION', `this session was replaced: ${change.reason}`, { details: { reason: 'replaced' } }));
    }
  }

  private removeEntry(id: string, session: Session | undefined, reason: string): void {
    const removed = this.registry.remove(id, session);
    if (!removed) return;
    this.saveRoster();
    this.pages.invalidate();
    this.announce('peer-left', removed);
    this.options.observer?.left(removed, reason);
    this.options.log.info({ peerId: removed.id, name: removed.name, reason }, `node ${removed.name} left`);
  }
}

function sameTags(a: readonly string[] | undefined, b: readonly string[]): boolean {
  const before = a ?? [];
  return before.length === b.length && before.every((tag, i) => tag === b[i]);
}
