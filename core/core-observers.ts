/**
 * The core's own observers of its event hooks: peer changes go to the history
 * log (as the prototype's did), progress goes to the log, throttled, and the
 * config's `acceptFrom` list refuses every other sender.
 */
import type { Daemon } from './daemon.js';

const CORE = 'nvid:core';
const PROGRESS_LOG_INTERVAL_MS = 2000;

export function observeCoreEvents(daemon: Daemon): void {
  const { hooks, log } = daemon;
  hooks.peerJoined.tap(CORE, (peer) => {
    daemon.history.append('peer-joined', { id: peer.id, name: peer.name, address: peer.address, port: peer.port });
    log.info({ peer: peer.name, id: peer.id }, 'peer joined');
  });
  hooks.peerLeft.tap(CORE, (peer) => {
    daemon.history.append('peer-left', { id: peer.id, name: peer.name });
    log.info({ peer: peer.name, id: peer.id }, 'peer left');
  });
  hooks.peerRenamed.tap(CORE, ({ peer, oldName }) => {
    daemon.history.append('peer-renamed', { id: peer.id, name: peer.name, oldName });
    log.info({ peer: peer.name, oldName, id: peer.id }, 'peer renamed');
  });
  const acceptFrom = daemon.config.acceptFrom;
  if (acceptFrom) {
    const allowed = new Set(acceptFrom);
    hooks.shouldAccept.tapPromise(CORE, async ({ sender }) => (allowed.has(sender.id) ? undefined : `sender ${sender.name} (${sender.id.slice(0, 16)}) is not in this node's acceptFrom list`));
  }
  const lastLogged = new Map<string, number>();
  hooks.progress.tap(CORE, (event) => {
    for (const listener of daemon.progressListeners) listener(event);
    const now = Date.now();
    const done = event.bytes >= event.total;
    if (!done && now - (lastLogged.get(event.transferId) ?? 0) < PROGRESS_LOG_INTERVAL_MS) return;
    lastLogged.set(event.transferId, now);
    if (done) lastLogged.delete(event.transferId);
    const percent = event.total > 0 ? Math.floor((100 * event.bytes) / event.total) : 100;
    log.info({ transferId: event.transferId, direction: event.direction, peer: event.peerName, bytes: event.bytes, total: event.total, percent }, 'transfer progress');
  });
}
