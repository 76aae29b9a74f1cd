/**
 * One row per transfer: first the upload from this browser to the node, then
 * one send per peer (the node's `send` events) with a progress bar, bytes,
 * rate and time left, ending in the receipt or the reason it failed. Rows
 * are updated in place, so a focused Cancel button keeps its focus.
 *
 * A send that failed or was cancelled can be sent again from its row while
 * this page still holds the file (not after a reload: the node removed its
 * copy when the send ended), unless the file itself was refused: sending it
 * again would only be refused again.
 */
import { api } from './api.js';
import { byId, h } from './dom.js';
import { bytes, duration, rate } from './format.js';
import { announce, attempt } from './notices.js';

/** How far a send got; a late copy (the POST answer after its first event) never rolls a row back. */
const STAGE = { waiting: 0, sending: 1, sent: 2, failed: 2, cancelled: 2 };
const FINISHED = new Set(['sent', 'failed', 'cancelled']);
/** Failures of the file itself, not of the moment: another try ends the same way. */
const REFUSED_FILE = new Set(['NVID_ERR_MEDIA_REJECTED', 'NVID_ERR_PANEL_UPLOAD', 'NVID_ERR_PANEL_TOO_LARGE']);

export function createTransfers() {
  const list = byId('transfers');
  const sends = new Map();
  const rows = new Map();
  /** How to send each row's file again, by row key, while this page holds the file. */
  const retries = new Map();

  /** A button that sends a row's file again, once; undefined when that is not possible or would not help. */
  const againButton = (key, label, text) => {
    const again = retries.get(key);
    if (!again) return undefined;
    return h('button', {
      type: 'button',
      class: 'small',
      'aria-label': label,
      onclick: (e) => {
        retries.delete(key);
        e.currentTarget.remove();
        again();
      },
    }, text);
  };

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
    /**
     * The browser-to-node leg of a file, before the node sends it on.
     * @param failure `{ code, message }` when it failed
     * @param again sends the file again (offered on a failed row)
     */
    uploading(key, file, loaded, state = 'uploading', failure, again) {
      const detail = state === 'failed' ? `not sent: ${failure?.message}` : `uploading to this node: ${bytes(loaded)} of ${bytes(file.size)}`;
      if (state === 'failed' && again && !REFUSED_FILE.has(failure?.code)) retries.set(key, again);
      const action = state === 'failed' ? againButton(key, `Try sending ${file.name} again`, 'Try again') : undefined;
      fill(row(key), { state, title: `${file.name}`, done: loaded, total: file.size, detail, action });
    },

    /** The upload became sends: its row goes, theirs come. */
    uploaded(key) {
      rows.get(key)?.remove();
      rows.delete(key);
    },

    /** @param again sends this send's file to its peer again, for when it fails (this page's own sends) */
    send(send, again) {
      if (again && !retries.has(send.id)) retries.set(send.id, again);
      const known = sends.get(send.id);
      if (known && (STAGE[known.state] > STAGE[send.state] || (known.state === send.state && known.bytes > send.bytes))) {
        // A late copy; but a send that failed before the page learnt how to send it again gets its button now.
        if (!again || !FINISHED.has(known.state)) return;
        send = known;
      }
      sends.set(send.id, send);
      const title = `${send.upload.name} to ${send.to.name}`;
      if (send.state === 'sent' || REFUSED_FILE.has(send.error?.code)) retries.delete(send.id);
      const action = FINISHED.has(send.state)
        ? againButton(send.id, `Send ${title} again`, 'Send again')
        : h('button', { type: 'button', class: 'small', 'aria-label': `Cancel sending ${title}`, onclick: () => attempt('Cancel', () => api('DELETE', `/api/sends/${encodeURIComponent(send.id)}`)) }, 'Cancel');
      fill(row(send.id), { state: send.state, title, done: send.state === 'sent' ? send.total || 1 : send.bytes, total: send.total || send.upload.size, detail: describe(send), action });
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
