/**
 * One row per transfer: first the upload from this browser to the node, then
 * one send per peer (the node's `send` events) with a progress bar, bytes,
 * rate and time left, ending in the receipt or the reason it failed. Rows
 * are updated in place, so a focused Cancel button keeps its focus.
 */
import { api } from './api.js';
import { byId, h } from './dom.js';
import { bytes, duration, rate } from './format.js';
import { announce, attempt } from './notices.js';

/** How far a send got; a late copy (the POST answer after its first event) never rolls a row back. */
const STAGE = { waiting: 0, sending: 1, sent: 2, failed: 2, cancelled: 2 };
const FINISHED = new Set(['sent', 'failed', 'cancelled']);

export function createTransfers() {
  const list = byId('transfers');
  const sends = new Map();
  const rows = new Map();

  const row = (key) => {
    let item = rows.get(key);
    if (!item) {
      item = h('li', { class: 'transfer' }, h('div', { class: 'transfer-title' }), h('progress', { max: 1, value: 0 }), h('div', { class: 'transfer-detail' }), h('div', { class: 'transfer-actions' }));
      rows.set(key, item);
      list.prepend(item);
      list.querySelector('.empty')?.remove();
    }
    return item;
  };

  const fill = (item, { state, title, done, total, detail, action }) => {
    item.dataset.state = state;
    item.querySelector('.transfer-title').textContent = title;
    const bar = item.querySelector('progress');
    bar.max = Math.max(total, 1);
    bar.value = Math.min(done, bar.max);
    bar.setAttribute('aria-label', title);
    item.querySelector('.transfer-detail').textContent = detail;
    item.querySelector('.transfer-actions').replaceChildren(...(action ? [action] : []));
  };

  return {
    /** The browser-to-node leg of a file, before the node sends it on. */
    uploading(key, file, loaded, state = 'uploading', error) {
      const detail = state === 'failed' ? `not sent: ${error}` : `uploading to this node: ${bytes(loaded)} of ${bytes(file.size)}`;
      fill(row(key), { state, title: `${file.name}`, done: loaded, total: file.size, detail });
    },

    /** The upload became sends: its row goes, theirs come. */
    uploaded(key) {
      rows.get(key)?.remove();
      rows.delete(key);
    },

    send(send) {
      const known = sends.get(send.id);
      if (known && (STAGE[known.state] > STAGE[send.state] || (known.state === send.state && known.bytes > send.bytes))) return;
      sends.set(send.id, send);
      const title = `${send.upload.name} to ${send.to.name}`;
      const cancel = FINISHED.has(send.state)
        ? undefined
        : h('button', { type: 'button', class: 'small', 'aria-label': `Cancel sending ${title}`, onclick: () => attempt('Cancel', () => api('DELETE', `/api/sends/${encodeURIComponent(send.id)}`)) }, 'Cancel');
      fill(row(send.id), { state: send.state, title, done: send.state === 'sent' ? send.total || 1 : send.bytes, total: send.total || send.upload.size, detail: describe(send), action: cancel });
      if (FINISHED.has(send.state) && (!known || !FINISHED.has(known.state))) announce(`${title}: ${describe(send)}`);
    },
  };
}

/** A send in words: where it is, or how it ended. */
export function describe(send) {
  switch (send.state) {
    case 'waiting':
      return 'waiting for its turn';
    case 'sending': {
      const left = send.secondsLeft !== undefined && send.secondsLeft !== null ? `, ${duration(send.secondsLeft)} left` : '';
      return `${bytes(send.bytes)} of ${bytes(send.total)}, ${rate(send.rate)}${left}`;
    }
    case 'sent':
      return `delivered, stored as ${send.receipt?.storedAs ?? 'a new library item'}`;
    case 'cancelled':
      return 'cancelled; the receiver keeps nothing';
    default:
      return `not delivered: ${send.error?.message ?? 'the send failed'}`;
  }
}
