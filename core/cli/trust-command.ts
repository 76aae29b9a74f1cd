/**
 * `nvid trust`: who may push media to this node (`sender`) and who may watch
 * and steer its screen (`controller`), decided by the person at the node.
 * Adding shows the peer's fingerprint in groups, so it can be read out and
 * compared with what `nvid status` prints on that machine.
 */
import type { TrustEntry, TrustList } from '../trust.js';

/** `3fa2 11b0 …`: a fingerprint in groups of four, as people compare them aloud. */
export function groupedFingerprint(id: string): string {
  return id.match(/.{1,4}/g)!.join(' ');
}

function entryLine(entry: TrustEntry): string {
  const who = entry.name ? `${entry.name} ` : '';
  const from = entry.source === 'config' ? 'from the config' : `added ${entry.addedAt ?? ''}`;
  return `  ${who}${entry.id.slice(0, 16)}  (${from})`;
}

export function formatTrust(list: TrustList): string {
  const senders = list.acceptsAnySender ? ['  any peer the coordinator admitted'] : list.senders.length ? list.senders.map(entryLine) : ['  nobody'];
  const controllers = list.controllers.length ? list.controllers.map(entryLine) : ['  nobody'];
  return ['senders (may push media here):', ...senders, 'controllers (may watch and steer this screen):', ...controllers].join('\n');
}

export function formatTrustChange(result: TrustList & { changed?: boolean; peer?: { id: string; name?: string } }, action: 'add' | 'remove', role: string): string {
  const peer = result.peer!;
  const who = peer.name ?? peer.id.slice(0, 16);
  const lines = [
    action === 'add'
      ? result.changed
        ? `${who} is now trusted as ${role}`
        : `${who} was already trusted as ${role}`
      : result.changed
        ? `${who} is no longer trusted as ${role}`
        : `${who} was not trusted as ${role} here`,
    `  fingerprint ${groupedFingerprint(peer.id)}`,
    `  compare it with the ID that \`nvid status\` prints on ${peer.name ?? 'that machine'}`,
  ];
  return lines.join('\n');
}
