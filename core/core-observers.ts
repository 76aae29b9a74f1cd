/**
 * The core's own observers of its event hooks: peer changes go to the history
 * log (as the prototype's did), progress goes to the log, throttled, and the
 * trust lists (the config's `acceptFrom` and what `nvid trust` added) refuse
 * every other sender.
 */
import type { Logger } from 'pino';
import type { NvidHooks } from './hooks.js';
import type { HistoryLog } from './plugin-api.js';
import type { TrustStore } from './trust.js';

const CORE = 'nvid:core';
const PROGRESS_LOG_INTERVAL_MS = 2000;

/** What the core's observers need, and nothing more. */
export interface ObserverPort {
  readonly hooks: Pick<NvidHooks, 'peerJoined' | 'peerLeft' | 'peerRenamed' | 'peerUpdated' | 'acceptSender' | 'progress' | 'trustChanged'>;
  readonly history: HistoryLog;
  readonly log: Logger;
  /** Who may push media here; asked for every sender, so a change counts at once. */
  readonly trust: Pick<TrustStore, 'acceptsSender'>;
}

export function observeCoreEvents({ hooks, history, log, trust }: ObserverPort): void {
  hooks.peerJoined.tap(CORE, (peer) => {
    history.append('peer-joined', { id: peer.id, name: peer.name, address: peer.address, port: peer.port, tags: peer.tags });
    log.info({ peer: peer.name, id: peer.id }, 'peer joined');
  });
  hooks.peerLeft.tap(CORE, (peer) => {
    history.append('peer-left', { id: peer.id, name: peer.name });
    log.info({ peer: peer.name, id: peer.id }, 'peer left');
  });
  hooks.peerRenamed.tap(CORE, ({ peer, oldName }) => {
    history.append('peer-renamed', { id: peer.id, name: peer.name, oldName });
    log.info({ peer: peer.name, oldName, id: peer.id }, 'peer renamed');
  });
  hooks.peerUpdated.tap(CORE, ({ peer, previous }) => {
    history.append('peer-updated', { id: peer.id, name: peer.name, address: peer.address, port: peer.port, previousAddress: previous.address, previousPort: previous.port, tags: peer.tags, previousTags: previous.tags });
    log.info({ peer: peer.name, id: peer.id }, 'peer updated');
  });
  hooks.trustChanged.tap(CORE, (event) => {
    history.append('trust-changed', { ...event });
    log.info(event, `${event.change === 'added' ? 'trusted' : 'no longer trusts'} ${event.peerName ?? event.peerId.slice(0, 16)} as ${event.role}`);
  });
  hooks.acceptSender.tapPromise(CORE, async ({ sender }) =>
    trust.acceptsSender(sender.id) ? undefined : `sender ${sender.name} (${sender.id.slice(0, 16)}) is not in this node's acceptFrom list; on this node: nvid trust add ${sender.name} --as sender`,
  );
  const lastLogged = new Map<string, number>();
  hooks.progress.tap(CORE, (event) => {
    const now = Date.now();
    const done = event.bytes >= event.total;
    if (!done && now - (lastLogged.get(event.transferId) ?? 0) < PROGRESS_LOG_INTERVAL_MS) return;
    lastLogged.set(event.transferId, now);
    if (done) lastLogged.delete(event.transferId);
    const percent = event.total > 0 ? Math.floor((100 * event.bytes) / event.total) : 100;
    log.info({ transferId: event.transferId, direction: event.direction, peer: event.peerName, bytes: event.bytes, total: event.total, percent }, 'transfer progress');
  });
}
