/**
 * A recipient's side of shared transfers: take an offer (its manifest signed
 * by the sender, this node listed), keep the pieces in a folder of the state
 * folder, fetch the missing ones (swarm-download.ts) while serving those it
 * holds to the others, and once the envelope is whole, run the receive
 * pipeline on it exactly as on a direct transfer: nothing reaches the
 * library unless the envelope opens, verifies and passes the media check.
 * The verdict goes back on the control link, or, when that link is gone (this
 * node restarted mid-way), on a connection of its own (`swarm-report`).
 *
 * Resume: an offer of a transfer whose folder exists picks up from the
 * pieces its log lists; at start, every folder younger than the configured
 * age is resumed without waiting for the sender; older ones are removed. A
 * finished transfer keeps its verdict (`done.json`) for that age, so a sender
 * that retries after a crash learns it at once instead of sending again.
 */
import { readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import type { Logger } from 'pino';
import { NvidError, asNvidError } from '../../../core/errors.js';
import type { CertifiedPeer, DeliveryReceipt, Identity, Peer } from '../../../core/types.js';
import type { Frame, FrameLimits } from '../wire/frame-codec.js';
import { FramedConnection } from '../wire/framed-connection.js';
import { connectTls, peerCertificateOf } from '../wire/tls-helpers.js';
import { SWARM_SENDER_TO_RECIPIENT, checkMessage, type SwarmOfferMessage } from '../wire/wire-messages.js';
import { verifyManifest, type SignedManifest } from './manifest.js';
import { DONE_FILE, PieceStore, type OfferRecord } from './piece-store.js';
import { SwarmDownload } from './swarm-download.js';
import type { SwarmRegistry } from './swarm-registry.js';

export interface SwarmRecipientOptions {
  readonly identity: Identity;
  /** The folder shared transfers are kept in (one sub-folder each). */
  readonly dir: string;
  readonly registry: SwarmRegistry;
  readonly limits: FrameLimits;
  readonly connectTimeoutMs: number;
  readonly stallMs: number;
  /** Ask sources for pieces on the bulk channel (transport `bulkChannel: tcp`). */
  readonly bulk: boolean;
  /** Partial and finished state older than this is removed. */
  readonly maxAgeMs: number;
  /** The largest envelope this node takes. */
  readonly maxEnvelopeBytes: number;
  readonly lookupPeer: (id: string) => Peer | undefined;
  /** A policy's veto of this sender (the core's acceptSender), before any piece is fetched. */
  readonly acceptSender: (sender: CertifiedPeer) => Promise<string | undefined>;
  /** The receive pipeline, on the whole envelope. */
  readonly receive: (sender: CertifiedPeer, envelope: Readable) => Promise<DeliveryReceipt>;
  readonly onBadSource: (transferId: string, peerId: string, err: NvidError) => void;
  readonly log: Logger;
}

/** What the control link does with the frames after the offer. */
export interface FrameSink {
  frame(frame: Frame): void;
  closed(): void;
}

type Verdict = { readonly ack: DeliveryReceipt; readonly badSources: string[] } | { readonly error: NvidError };

/** How often a recipient tells the sender how far it got. */
const PROGRESS_EVERY_MS = 500;

class Share {
  readonly links = new Set<FramedConnection>();
  verdict: Verdict | undefined;
  /** When a piece last arrived (or the share began): a share still moving is never swept, however long it runs. */
  lastProgress = Date.now();
  constructor(
    readonly dir: string,
    readonly record: OfferRecord,
    readonly store: PieceStore,
    readonly download: SwarmDownload | undefined,
  ) {
    store.on('piece', () => (this.lastProgress = Date.now()));
  }
  get transferId(): string {
    return this.store.manifest.transferId;
  }
}

export class SwarmRecipient {
  private readonly options: SwarmRecipientOptions;
  private readonly shares = new Map<string, Share>();
  private closing = false;

  constructor(options: SwarmRecipientOptions) {
    this.options = options;
  }

  /** Shares in progress (for status and tests). */
  get active(): number {
    return this.shares.size;
  }

  /** An offer on a control link; throws an NvidError to refuse it (the caller sends it as the error frame). */
  async onOffer(conn: FramedConnection, sender: CertifiedPeer, message: SwarmOfferMessage): Promise<FrameSink> {
    const { identity, maxEnvelopeBytes } = this.options;
    const signed = verifyManifest(message.manifest, message.signature, sender.certPem, sender.id);
    const { manifest } = signed;
    if (!manifest.recipients.includes(identity.id)) throw new NvidError('NVID_ERR_SWARM_MANIFEST', `transfer ${manifest.transferId} does not list this node as a recipient`);
    if (manifest.length > maxEnvelopeBytes) throw new NvidError('NVID_ERR_REFUSED', `an envelope of ${manifest.length} bytes exceeds this node's maxReceiveBytes`);
    const veto = await this.options.acceptSender(sender);
    if (veto !== undefined) throw new NvidError('NVID_ERR_REFUSED', `refused by policy: ${veto}`);
    const dir = join(this.options.dir, manifest.transferId);
    const done = readDone(dir);
    if (done) {
      // Finished before (the sender crashed and retries): the same answer, nothing fetched again.
      conn.send({ type: 'ack', transferId: manifest.transferId, ...done });
      return this.sinkFor(conn, undefined);
    }
    let share = this.shares.get(manifest.transferId);
    if (!share) {
      const record: OfferRecord = { text: signed.text, signature: signed.signature, senderName: message.senderName, senderCertPem: sender.certPem };
      share = await this.begin(dir, record, signed);
    } else {
      share.download?.kick();
    }
    share.links.add(conn);
    conn.send({ type: 'swarm-accepted', transferId: manifest.transferId, have: share.store.have });
    if (share.verdict) this.tell(conn, share);
    else this.followProgress(conn, share);
    return this.sinkFor(conn, share);
  }

  /** At start: go on with every share younger than the configured age; remove the rest. */
  async resumeAll(): Promise<void> {
    for (const { name, dir } of this.shareDirs()) {
      if (this.expired(dir)) {
        rmSync(dir, { recursive: true, force: true });
        this.options.log.info({ transferId: name }, 'removed the state of a shared transfer older than swarm.partialMaxAgeMs');
        continue;
      }
      if (readDone(dir) || this.shares.has(name)) continue;
      const kept = PieceStore.readOffer(dir);
      if (!kept) {
        rmSync(dir, { recursive: true, force: true });
        continue;
      }
      const share = await this.begin(dir, kept.record, kept.signed);
      this.options.log.info({ transferId: name, have: share.store.have, of: share.store.count }, `resuming shared transfer ${name} from ${share.store.have} of ${share.store.count} pieces`);
    }
  }

  /** Removes state older than the configured age (run now and then). */
  sweep(): void {
    for (const { name, dir } of this.shareDirs()) {
      const share = this.shares.get(name);
      // A folder's time changes only when a file is added to it: a share in progress is judged by its last piece instead.
      if (share ? Date.now() - share.lastProgress <= this.options.maxAgeMs : !this.expired(dir)) continue;
      if (share) this.drop(share);
      rmSync(dir, { recursive: true, force: true });
    }
  }

  async close(): Promise<void> {
    this.closing = true;
    for (const share of this.shares.values()) {
      share.download?.stop();
      this.options.registry.unregister(share.store);
      for (const link of share.links) link.destroy();
      await share.store.close();
    }
    this.shares.clear();
  }

  /** Each shared transfer's folder (named by its transfer ID); none before the first offer. */
  private shareDirs(): { name: string; dir: string }[] {
    try {
      return readdirSync(this.options.dir).map((name) => ({ name, dir: join(this.options.dir, name) }));
    } catch {
      return [];
    }
  }

  private expired(dir: string): boolean {
    try {
      return Date.now() - statSync(dir).mtimeMs > this.options.maxAgeMs;
    } catch {
      return true;
    }
  }

  private async begin(dir: string, record: OfferRecord, signed: SignedManifest): Promise<Share> {
    const { identity, registry, limits, connectTimeoutMs, stallMs, lookupPeer, log, bulk } = this.options;
    const store = await PieceStore.openRecipient(dir, record, signed);
    const transferId = signed.manifest.transferId;
    const download = store.complete
      ? undefined
      : new SwarmDownload({ identity, store, lookupPeer, limits, connectTimeoutMs, stallMs, bulk, log, onBadSource: (peerId, err) => this.options.onBadSource(transferId, peerId, err) });
    const share = new Share(dir, record, store, download);
    this.shares.set(transferId, share);
    registry.register(store);
    // The receive pipeline reads the envelope as its pieces arrive (in order, mostly, along the chain): decryption overlaps the download.
    void download?.run();
    void this.finish(share);
    return share;
  }

  /** The receive pipeline on the envelope as it arrives; its verdict goes to every link (or the sender, by report). */
  private async finish(share: Share): Promise<void> {
    const { record, store } = share;
    const senderId = store.manifest.senderId;
    const known = this.options.lookupPeer(senderId);
    const sender: CertifiedPeer = { ...(known ?? { id: senderId, name: record.senderName, address: '', port: 0, tags: [] }), certPem: record.senderCertPem };
    try {
      const receipt = await this.options.receive(sender, store.envelope());
      const badSources = share.download?.badSources ?? [];
      share.verdict = { ack: receipt, badSources };
      writeFileSync(join(share.dir, DONE_FILE), JSON.stringify({ receiverId: receipt.receiverId, sha256: receipt.sha256, storedAs: receipt.storedAs, ...(badSources.length ? { badSources } : {}) }), { mode: 0o600 });
    } catch (err) {
      // Stopped (this node is shutting down, or the sender cancelled): the next start resumes, nobody is told.
      if (this.closing || this.shares.get(share.transferId) !== share) return;
      share.verdict = { error: asNvidError(err, 'NVID_ERR_REFUSED') };
    }
    if (share.links.size === 0) void this.report(share);
    for (const link of share.links) this.tell(link, share);
  }

  private tell(conn: FramedConnection, share: Share): void {
    const verdict = share.verdict!;
    if ('ack' in verdict) {
      const { receiverId, sha256, storedAs } = verdict.ack;
      conn.send({ type: 'ack', transferId: share.transferId, receiverId, sha256, storedAs, ...(verdict.badSources.length ? { badSources: verdict.badSources } : {}) });
    } else {
      conn.fail(verdict.error);
    }
  }

  /** No control link: tell the sender on a connection of our own (it may be gone too; a retry of its send then learns it from done.json). */
  private async report(share: Share): Promise<void> {
    const verdict = share.verdict!;
    const { transferId } = share;
    const senderId = share.store.manifest.senderId;
    const body =
      'ack' in verdict
        ? { ack: { receiverId: verdict.ack.receiverId, sha256: verdict.ack.sha256, storedAs: verdict.ack.storedAs }, ...(verdict.badSources.length ? { badSources: verdict.badSources } : {}) }
        : { error: { code: verdict.error.code, message: verdict.error.message } };
    for (let attempt = 0; attempt < 3 && !this.closing; attempt++) {
      const sender = this.options.lookupPeer(senderId);
      if (sender && (await this.sendReport(sender, { type: 'swarm-report', transferId, ...body }))) return;
      await new Promise((resolve) => setTimeout(resolve, 2000).unref());
    }
    this.options.log.info({ transferId }, 'could not report the verdict of a resumed transfer to its sender (gone); a retry of its send will learn it');
  }

  private sendReport(sender: Peer, message: Parameters<FramedConnection['send']>[0]): Promise<boolean> {
    const { identity, limits, connectTimeoutMs } = this.options;
    return new Promise((resolve) => {
      const socket = connectTls(identity, sender.address, sender.port);
      const timer = setTimeout(() => socket.destroy(), connectTimeoutMs);
      socket.on('error', () => undefined);
      socket.once('close', () => {
        clearTimeout(timer);
        resolve(false);
      });
      socket.once('secureConnect', () => {
        if (peerCertificateOf(socket)?.id !== sender.id) return socket.destroy();
        const conn = new FramedConnection(socket, limits);
        conn.start({ frame: () => undefined });
        conn.send(message);
        conn.end();
        clearTimeout(timer);
        resolve(true);
      });
    });
  }

  private followProgress(conn: FramedConnection, share: Share): void {
    let told = share.store.have;
    const timer = setInterval(() => {
      if (conn.closed || share.verdict) return clearInterval(timer);
      if (share.store.have === told) return;
      told = share.store.have;
      conn.send({ type: 'swarm-progress', transferId: share.transferId, have: told });
    }, PROGRESS_EVERY_MS);
    timer.unref();
  }

  private sinkFor(conn: FramedConnection, share: Share | undefined): FrameSink {
    return {
      frame: (frame) => {
        if (frame.kind !== 'message') throw new NvidError('NVID_ERR_BAD_FRAME', 'data on a swarm control link');
        const message = checkMessage(frame.message, SWARM_SENDER_TO_RECIPIENT);
        conn.end();
        if (!share) return;
        if (message.type === 'swarm-done') {
          // Every recipient settled: nobody needs our copy any more; the verdict stays for retries.
          this.drop(share);
          rmSync(join(share.dir, 'envelope'), { force: true });
          rmSync(join(share.dir, 'pieces.log'), { force: true });
          if (!share.verdict || !('ack' in share.verdict)) rmSync(share.dir, { recursive: true, force: true });
          return;
        }
        // The sender cancelled: nothing of it is kept.
        this.options.log.info({ transferId: share.transferId, code: message.code }, `the sender cancelled shared transfer ${share.transferId}: ${message.message}`);
        this.drop(share);
        rmSync(share.dir, { recursive: true, force: true });
      },
      closed: () => {
        share?.links.delete(conn);
      },
    };
  }

  private drop(share: Share): void {
    if (this.shares.get(share.transferId) !== share) return;
    this.shares.delete(share.transferId);
    share.download?.stop();
    this.options.registry.unregister(share.store);
    void share.store.close();
  }
}

function readDone(dir: string): { receiverId: string; sha256: string; storedAs: string; badSources?: string[] } | undefined {
  try {
    return JSON.parse(readFileSync(join(dir, DONE_FILE), 'utf8')) as { receiverId: string; sha256: string; storedAs: string };
  } catch {
    return undefined;
  }
}
