/**
 * The sender's end of a shared transfer: offer the signed manifest to every
 * recipient on a control link of its own (mutual TLS, the recipient's
 * certificate checked against its ID), serve pieces to whoever pulls (the
 * first in line, and any that fall back to the sender), follow each
 * recipient's progress, and collect one verdict per recipient: its `ack`
 * (verified and stored) or its refusal. A recipient whose control link
 * drops is given `graceMs` to come back (restarted, it resumes from its
 * partial copy and reports with `swarm-report`) before it counts as gone.
 */
import type { TLSSocket } from 'node:tls';
import type { Logger } from 'pino';
import { NvidError } from '../../../core/errors.js';
import type { DeliveryReceipt, Identity, Peer } from '../../../core/types.js';
import type { Frame, FrameLimits } from '../wire/frame-codec.js';
import { FramedConnection } from '../wire/framed-connection.js';
import { connectTls, peerCertificateOf } from '../wire/tls-helpers.js';
import { SWARM_RECIPIENT_TO_SENDER, checkMessage } from '../wire/wire-messages.js';
import { pieceRange, type SignedManifest } from './manifest.js';
import type { SwarmRegistry } from './swarm-registry.js';

export interface SwarmSendOptions {
  readonly identity: Identity;
  readonly senderName: string;
  readonly signed: SignedManifest;
  readonly recipients: readonly Peer[];
  readonly registry: SwarmRegistry;
  readonly limits: FrameLimits;
  readonly connectTimeoutMs: number;
  /** How long a recipient whose control link dropped may take to report back. */
  readonly graceMs: number;
  /** Verified bytes a recipient holds (from its progress messages). */
  readonly onProgress?: (peerId: string, bytes: number) => void;
  readonly signal?: AbortSignal;
  readonly log: Logger;
}

export type SwarmVerdict = { readonly peerId: string; readonly receipt: DeliveryReceipt; readonly badSources?: string[] } | { readonly peerId: string; readonly error: NvidError };

/** Offers to every recipient at once and resolves with one verdict each, in the recipients' order. */
export async function runSwarmSend(options: SwarmSendOptions): Promise<SwarmVerdict[]> {
  const links = options.recipients.map((peer) => new ControlLink(options, peer));
  const verdicts = await Promise.all(links.map((link) => link.run()));
  // Everyone has settled: recipients may drop their copies of the envelope.
  for (const link of links) link.done();
  return verdicts;
}

class ControlLink {
  private socket: TLSSocket | undefined;
  private conn: FramedConnection | undefined;
  private settled = false;
  private resolve!: (verdict: SwarmVerdict) => void;
  private timer: NodeJS.Timeout | undefined;
  private stopWaitingForReport: () => void = () => {};
  private accepted = false;
  private readonly where: string;

  constructor(
    private readonly options: SwarmSendOptions,
    private readonly peer: Peer,
  ) {
    this.where = `${peer.name} (${peer.address}:${peer.port})`;
  }

  run(): Promise<SwarmVerdict> {
    return new Promise<SwarmVerdict>((resolve) => {
      this.resolve = resolve;
      const { signal, registry, signed } = this.options;
      if (signal?.aborted) return this.fail(new NvidError('NVID_ERR_CANCELLED', 'the send was cancelled'));
      signal?.addEventListener('abort', () => {
        this.conn?.fail(new NvidError('NVID_ERR_CANCELLED', 'the sender cancelled this transfer'));
        this.fail(new NvidError('NVID_ERR_CANCELLED', 'the send was cancelled'));
      }, { once: true });
      // A restarted recipient reports on a connection of its own.
      this.stopWaitingForReport = registry.expectReport(signed.manifest.transferId, this.peer.id, (report) => {
        if (report.ack) this.succeed({ transferId: signed.manifest.transferId, ...report.ack }, report.badSources);
        else this.fail(new NvidError(report.error?.code ?? 'NVID_ERR_REFUSED', `${this.peer.name}: ${report.error?.message ?? 'refused'}`));
      });
      this.connect();
    });
  }

  done(): void {
    if (this.conn && !this.conn.closed) {
      this.conn.send({ type: 'swarm-done', transferId: this.options.signed.manifest.transferId });
      this.conn.end();
    }
  }

  private connect(): void {
    const { identity, limits, connectTimeoutMs, signed, senderName } = this.options;
    const socket = connectTls(identity, this.peer.address, this.peer.port);
    this.socket = socket;
    const conn = new FramedConnection(socket, limits);
    this.conn = conn;
    let failure: NvidError | undefined;
    this.timer = setTimeout(() => this.fail(new NvidError('NVID_ERR_TIMEOUT', `${this.where} did not take the offer within ${connectTimeoutMs} ms`)), connectTimeoutMs);
    socket.on('error', (err) => {
      failure ??= new NvidError('NVID_ERR_CONNECTION', `cannot reach ${this.where}: ${err.message}`, { cause: err });
    });
    socket.once('close', () => this.linkLost(failure));
    socket.once('secureConnect', () => {
      const cert = peerCertificateOf(socket);
      if (!cert || cert.id !== this.peer.id) {
        return this.fail(new NvidError('NVID_ERR_UNTRUSTED_PEER', `the node at ${this.peer.address}:${this.peer.port} presented certificate ${cert?.id ?? '(none)'}, not ${this.peer.name}'s ID ${this.peer.id}`));
      }
      conn.start({ frame: (frame) => this.onFrame(frame), badInput: (err) => (failure = err) });
      conn.send({ type: 'swarm-offer', manifest: signed.text, signature: signed.signature, senderName });
    });
  }

  private onFrame(frame: Frame): void {
    if (frame.kind !== 'message') throw new NvidError('NVID_ERR_BAD_FRAME', 'data on a swarm control link');
    const message = checkMessage(frame.message, SWARM_RECIPIENT_TO_SENDER);
    const { manifest } = this.options.signed;
    switch (message.type) {
      case 'swarm-accepted':
      case 'swarm-progress':
        if (message.type === 'swarm-accepted') {
          this.accepted = true;
          clearTimeout(this.timer);
        }
        this.options.onProgress?.(this.peer.id, Math.min(manifest.length, message.have === 0 ? 0 : pieceRange(manifest, message.have - 1).end));
        return;
      case 'ack':
        if (message.transferId !== manifest.transferId || message.receiverId !== this.peer.id) {
          return this.fail(new NvidError('NVID_ERR_DELIVERY', `${this.where} acknowledged another transfer than ${manifest.transferId}`));
        }
        return this.succeed({ transferId: message.transferId, receiverId: message.receiverId, sha256: message.sha256, storedAs: message.storedAs }, message.badSources);
      case 'error':
        return this.fail(new NvidError(message.code, `${this.peer.name}: ${message.message}`, message.details ? { details: message.details } : undefined));
    }
  }

  /** The control link closed before a verdict: a recipient that had taken the offer gets time to come back. */
  private linkLost(failure: NvidError | undefined): void {
    if (this.settled) return;
    clearTimeout(this.timer);
    if (!this.accepted) return this.fail(failure ?? new NvidError('NVID_ERR_CONNECTION', `${this.where} closed the connection before taking the offer`));
    const { graceMs } = this.options;
    this.options.log.warn({ peer: this.peer.name, transferId: this.options.signed.manifest.transferId }, `lost the control link to ${this.peer.name}; waiting up to ${graceMs} ms for it to report back`);
    this.timer = setTimeout(
      () => this.fail(new NvidError('NVID_ERR_RECEIVER_GONE', `${this.where} went away in the middle of the transfer and did not report back within ${graceMs} ms; it keeps what it verified, and sending again resumes from there`)),
      graceMs,
    );
  }

  private succeed(receipt: DeliveryReceipt, badSources?: string[]): void {
    if (this.settled) return;
    this.settle({ peerId: this.peer.id, receipt, ...(badSources?.length ? { badSources } : {}) });
  }

  private fail(error: NvidError): void {
    if (this.settled) return;
    this.conn?.destroy();
    this.settle({ peerId: this.peer.id, error });
  }

  private settle(verdict: SwarmVerdict): void {
    this.settled = true;
    clearTimeout(this.timer);
    this.stopWaitingForReport();
    this.resolve(verdict);
  }
}
