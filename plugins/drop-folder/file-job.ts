/**
 * One attempt at delivering one stable file to each of its targets: hash it,
 * skip targets the ledger says already have this content, send to the rest,
 * record each acknowledgement in the ledger before going on. Knows nothing of
 * hooks: the send itself is a function handed in (the core's pipeline in the
 * plugin, `PluginHost.send`).
 */
import { hashFile } from '../../core/file-hash.js';
import { asNvidError, type NvidError } from '../../core/errors.js';
import type { TargetFailure } from './error-notes.js';
import type { DeliveryLedger } from './ledger.js';
import { sameSnapshot, snapshotOf, type FileSnapshot } from './stability.js';

/** A peer as the job needs it. */
export interface PeerRef {
  readonly id: string;
  readonly name: string;
  /** The peer's tags, when known: a file waiting for `tag:NAME` is retried when a peer with that tag joins. */
  readonly tags?: readonly string[];
}

/** What a successful send reports (a subset of the core's SendResult). */
export interface SendOutcome {
  readonly transferId: string;
  readonly to: PeerRef;
  /** SHA-256 of what the receiver acknowledged having stored. */
  readonly sha256: string;
  readonly size: number;
  readonly seconds: number;
}

/** A minimal logger (pino's shape). */
export interface JobLog {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
  debug(fields: object, message: string): void;
}

/** What a job needs from the daemon. */
export interface JobServices {
  /** Sends a file to a target; resolves only once the receiver acknowledged a verified, stored copy. */
  send(file: string, target: string): Promise<SendOutcome>;
  /** The peer a target names now; throws an NvidError (NVID_ERR_UNKNOWN_PEER, ...) if none. */
  resolvePeer(target: string): PeerRef;
  /**
   * Every peer a target names now (the core's resolver: a name, a list, `tag:NAME`, `all`); throws an
   * NvidError if it names none. Without it, a target is one peer (`resolvePeer`).
   */
  resolveTargets?(target: string): PeerRef[];
  readonly ledger: DeliveryLedger;
  readonly inFlight: InFlightDeliveries;
  readonly log: JobLog;
}

/** How the attempt ended. */
export type JobResult =
  | { readonly kind: 'delivered'; readonly sha256: string; readonly delivered: readonly string[]; readonly sent: number; readonly skipped: number }
  | { readonly kind: 'failed'; readonly sha256: string; readonly delivered: readonly string[]; readonly failures: readonly TargetFailure[]; readonly refused: readonly string[] }
  | { readonly kind: 'changed' }
  | { readonly kind: 'gone' };

/** Large files get their own log lines; the core logs byte progress for every transfer. */
const LARGE_FILE_BYTES = 8 * 1024 * 1024;

/**
 * Whether a failure is about the content itself (our media check or the
 * receiver's refused it): retrying the same bytes cannot help.
 */
export function isContentRefusal(error: NvidError): boolean {
  return error.code === 'NVID_ERR_MEDIA_REJECTED' || (error.code === 'NVID_ERR_REFUSED' && error.details?.code === 'NVID_ERR_MEDIA_REJECTED');
}

/** Sends of the same content to the same peer that are under way, so two identical files never both go. */
export class InFlightDeliveries {
  readonly #running = new Map<string, Promise<unknown>>();

  /** Waits for a delivery of this content to this peer that is already running, if any. */
  async settled(sha256: string, peerId: string): Promise<void> {
    await this.#running.get(`${sha256}:${peerId}`)?.catch(() => undefined);
  }

  /** Runs `work` as the delivery of this content to this peer. */
  async run<T>(sha256: string, peerId: string, work: () => Promise<T>): Promise<T> {
    const key = `${sha256}:${peerId}`;
    const promise = work();
    this.#running.set(key, promise);
    try {
      return await promise;
    } finally {
      if (this.#running.get(key) === promise) this.#running.delete(key);
    }
  }
}

/**
 * Delivers `file` to every target not already served.
 * @param snapshot size and mtime when the file was found stable; any change since means "settle again"
 * @param heldTargets targets that refused this very content before: reported again, not re-sent
 */
export async function deliverToTargets(
  file: string,
  relPath: string,
  snapshot: FileSnapshot,
  targets: readonly string[],
  services: JobServices,
  heldTargets: ReadonlyMap<string, TargetFailure> = new Map(),
): Promise<JobResult> {
  const before = await snapshotOf(file);
  if (!before) return { kind: 'gone' };
  if (!sameSnapshot(before, snapshot)) return { kind: 'changed' };
  let sha256: string;
  try {
    sha256 = await hashFile(file);
  } catch {
    return (await snapshotOf(file)) ? { kind: 'changed' } : { kind: 'gone' };
  }
  if (!sameSnapshot(await snapshotOf(file), snapshot)) return { kind: 'changed' };

  const { ledger, log } = services;
  const delivered: string[] = [];
  const failures: TargetFailure[] = [];
  const refused: string[] = [];
  let sent = 0;
  let skipped = 0;
  for (const { target, peer: found, sendTo } of expandTargets(targets, services, failures)) {
    const held = heldTargets.get(target);
    if (held) {
      failures.push(held);
      refused.push(target);
      continue;
    }
    let peer: PeerRef;
    try {
      peer = found ?? services.resolvePeer(target);
      await services.inFlight.settled(sha256, peer.id);
    } catch (err) {
      const error = asNvidError(err, 'NVID_ERR_UNKNOWN_PEER');
      failures.push({ target, code: error.code, message: error.message });
      continue;
    }
    if (ledger.has(sha256, peer.id)) {
      log.info({ file: relPath, target, peerId: peer.id, sha256 }, `${relPath}: ${target} already has this content; not sending it again`);
      delivered.push(target);
      skipped++;
      continue;
    }
    try {
      if (snapshot.size >= LARGE_FILE_BYTES) log.info({ file: relPath, target, bytes: snapshot.size }, `sending ${relPath} (${(snapshot.size / 1048576).toFixed(1)} MiB) to ${target}`);
      const outcome = await services.inFlight.run(sha256, peer.id, () => services.send(file, sendTo));
      // Recorded before anything else happens to the file: this line is what stops a resend after a restart.
      ledger.record({ sha256: outcome.sha256, peerId: outcome.to.id, peerName: outcome.to.name, file: relPath, transferId: outcome.transferId, time: new Date().toISOString() });
      sent++;
      const rate = outcome.seconds > 0 ? ` (${(outcome.size / 1048576 / outcome.seconds).toFixed(1)} MiB/s)` : '';
      log.info({ file: relPath, target, transferId: outcome.transferId, bytes: outcome.size, seconds: outcome.seconds }, `delivered ${relPath} to ${outcome.to.name} in ${outcome.seconds.toFixed(2)} s${rate}`);
      // The receiver stored other bytes than we hashed: the file changed under us. What it got is recorded; look again.
      if (outcome.sha256 !== sha256) return { kind: 'changed' };
      delivered.push(target);
    } catch (err) {
      const error = asNvidError(err, 'NVID_ERR_DELIVERY');
      if (error.code === 'NVID_ERR_FILE_NOT_FOUND' && !(await snapshotOf(file))) return { kind: 'gone' };
      failures.push(describeFailure(target, error));
      if (isContentRefusal(error)) refused.push(target);
    }
  }
  if (failures.length === 0) return { kind: 'delivered', sha256, delivered, sent, skipped };
  return { kind: 'failed', sha256, delivered, failures, refused };
}

/** One recipient of an attempt: the label its outcome goes under (ledger, note, status), the peer when known, what to send to. */
interface Recipient {
  readonly target: string;
  readonly peer?: PeerRef;
  readonly sendTo: string;
}

/** Whether a target names a group (`a,b`, `tag:NAME`, `all`) rather than one peer. */
function isGroup(target: string): boolean {
  return target === 'all' || target.startsWith('tag:') || target.includes(',');
}

/**
 * The targets, with each group spread into its peers (each under its own name, sent to by full ID;
 * a peer named twice goes once). A group that names nobody now is a failure under the group's name,
 * retried when a peer it names joins.
 */
function expandTargets(targets: readonly string[], services: JobServices, failures: TargetFailure[]): Recipient[] {
  if (!services.resolveTargets) return targets.map((target) => ({ target, sendTo: target }));
  const recipients: Recipient[] = [];
  const seen = new Set<string>();
  for (const target of targets) {
    if (!isGroup(target)) {
      recipients.push({ target, sendTo: target });
      continue;
    }
    let peers: PeerRef[];
    try {
      peers = services.resolveTargets(target);
    } catch (err) {
      const error = asNvidError(err, 'NVID_ERR_UNKNOWN_PEER');
      failures.push({ target, code: error.code, message: error.message });
      continue;
    }
    for (const peer of peers) {
      if (seen.has(peer.id)) continue;
      seen.add(peer.id);
      recipients.push({ target: peer.name, peer, sendTo: peer.id });
    }
  }
  return recipients;
}

/** A receiver's refusal carries the receiver's own code in its details: show that one, it says more. */
function describeFailure(target: string, error: NvidError): TargetFailure {
  const inner = error.details?.code;
  if (error.code === 'NVID_ERR_REFUSED' && typeof inner === 'string' && inner !== error.code) {
    return { target, code: inner, message: `refused by the receiver: ${error.message}` };
  }
  return { target, code: error.code, message: error.message };
}
