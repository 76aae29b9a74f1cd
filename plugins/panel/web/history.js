/**
 * The node's history, newest first: filtered by kind and peer, a page at a
 * time ("Older" follows the server's `next` cursor), and new entries added
 * live from `history` events when they match the filter.
 */
import { api } from './api.js';
import { byId, h } from './dom.js';
import { baseName, bytes, when } from './format.js';
import { attempt } from './notices.js';

const KINDS = ['sent', 'send-failed', 'received', 'rejected', 'queued', 'displayed', 'display-failed', 'item-deleted', 'peer-joined', 'peer-left', 'peer-renamed', 'peer-updated', 'validated', 'started', 'stopped'];

/** Entries per page; `?history=N` in the page's address changes it (a slow phone may want fewer). */
const PAGE = Math.min(200, Math.max(1, Number(new URLSearchParams(location.search).get('history')) || 25));

export function createHistory() {
  const list = byId('history');
  const kind = byId('history-kind');
  const peer = byId('history-peer');
  const older = byId('history-older');
  let next = null;
  /** Peer IDs to names, for entries that carry only an ID (a failed send's `to`). */
  const names = new Map();
  /**
   * Entries on the page, by their text: a live entry can also arrive in the page
   * loaded at the same moment, and must show once.
   */
  const shown = new Set();
  const keyOf = (entry) => JSON.stringify(entry);

  kind.append(...KINDS.map((k) => h('option', { value: k }, k)));

  const matches = (entry) => (!kind.value || entry.kind === kind.value) && (!peer.value || [entry.to, entry.from, entry.id].includes(peer.value));

  async function load(more = false) {
    const query = new URLSearchParams({ limit: String(PAGE) });
    if (kind.value) query.set('kind', kind.value);
    if (peer.value) query.set('peer', peer.value);
    if (more && next) query.set('before', next);
    const page = await attempt('History', () => api('GET', `/api/history?${query}`));
    if (!page) return;
    if (!more) shown.clear();
    const fresh = page.entries.filter((e) => !shown.has(keyOf(e)));
    for (const e of fresh) shown.add(keyOf(e));
    const items = fresh.map((e) => row(e, names));
    if (more) list.append(...items);
    else list.replaceChildren(...items);
    next = page.next;
    older.hidden = !next;
    if (!list.children.length) list.append(h('li', { class: 'empty' }, 'Nothing recorded yet.'));
  }

  kind.addEventListener('change', () => load());
  peer.addEventListener('change', () => load());
  older.addEventListener('click', () => load(true));

  return {
    load,
    added(entry) {
      if (!matches(entry) || shown.has(keyOf(entry))) return;
      shown.add(keyOf(entry));
      list.querySelector('.empty')?.remove();
      list.prepend(row(entry, names));
    },
    /** Keeps the peer filter's choices in step with the peer list. */
    peersChanged(peers) {
      for (const p of peers) names.set(p.id, p.name);
      const chosen = peer.value;
      peer.replaceChildren(h('option', { value: '' }, 'any peer'), ...peers.map((p) => h('option', { value: p.id }, p.name)));
      if (chosen && !peers.some((p) => p.id === chosen)) peer.append(h('option', { value: chosen }, `${chosen.slice(0, 16)} (gone)`));
      peer.value = chosen;
    },
  };
}

function row(entry, names) {
  return h('li', { class: `history-entry kind-${entry.kind}`, dataset: { kind: entry.kind } }, h('time', { datetime: entry.time }, when(entry.time)), ' ', h('strong', {}, entry.kind), ' ', h('span', {}, summary(entry, names)));
}

/** One line that says what happened, from the fields each kind carries (core/pipeline, core/core-observers.ts). */
export function summary(e, names = new Map()) {
  switch (e.kind) {
    case 'sent':
      return `${baseName(e.path)} to ${e.toName ?? e.to} (${bytes(e.size)}), stored as ${e.storedAs}`;
    case 'send-failed':
      return `${baseName(e.path)} to ${names.get(e.to) ?? e.to}: ${e.reason}`;
    case 'received':
      return `${baseName(e.path)} from ${e.fromName ?? e.from} (${bytes(e.size)})${e.duplicateOf ? ', already had it' : ''}`;
    case 'rejected':
      return `from ${e.fromName ?? e.from ?? 'someone'}: ${e.reason}`;
    case 'queued':
      // `position` counts the items ahead of it (plugins/display).
      return `${e.fileName ?? baseName(e.path)}, ${e.position ? `${e.position} ahead of it` : 'next in line'}`;
    case 'displayed':
      return `${e.fileName ?? baseName(e.path)} (${e.mediaKind})`;
    case 'display-failed':
      return `${baseName(e.path)}: ${e.reason}`;
    case 'item-deleted':
      return e.name;
    case 'peer-renamed':
      return `${e.oldName} is now ${e.name}`;
    case 'peer-joined':
    case 'peer-left':
    case 'peer-updated':
      return e.name;
    case 'validated':
      // A received file is checked under its temporary name; that name means nothing to a person.
      return `${String(e.path).endsWith('.part') ? 'an incoming file' : baseName(e.path)}${e.side ? ` (${e.side})` : ''}`;
    case 'started':
      return `as ${e.name ?? e.role}`;
    default:
      return '';
  }
}
