/**
 * The other nodes as cards: name, short ID, online, tags, and a checkbox to
 * pick it for the Send button. A card is also a drop target: files dropped on
 * it go to that peer alone. The list is redrawn from each `peers` event; the
 * ticks survive a redraw because they are kept by peer ID.
 *
 * A card also shows what that peer's screen shows, when the peer trusts this
 * node as a controller. A peer that refuses is asked once per page load, not
 * on every redraw: each refusal is written to both nodes' histories.
 */
import { byId, h } from './dom.js';

/** How often a visible peer screen is fetched again. */
const SHOT_REFRESH_MS = 15_000;

export function createPeerCards({ onDrop, onChange }) {
  const list = byId('peers');
  const picked = new Set();
  let peers = [];
  /** Peers whose screens refused or failed this page load. */
  const noShot = new Set();

  const shot = (peer) => {
    if (noShot.has(peer.id)) return null;
    const img = h('img', { class: 'peer-shot', alt: `What ${peer.name}'s screen shows`, loading: 'lazy', src: `/api/peers/${peer.id}/shot.png?width=320` });
    img.addEventListener('error', () => {
      noShot.add(peer.id);
      img.remove();
    });
    return img;
  };
  setInterval(() => {
    for (const img of list.querySelectorAll('img.peer-shot')) img.src = `${img.src.split('&')[0]}&t=${Date.now()}`;
  }, SHOT_REFRESH_MS);

  const card = (peer) => {
    const box = h('input', {
      type: 'checkbox',
      value: peer.id,
      checked: picked.has(peer.id),
      'aria-label': `Send to ${peer.name}`,
      onchange: (e) => (e.target.checked ? picked.add(peer.id) : picked.delete(peer.id)),
    });
    const item = h(
      'li',
      { class: 'card peer', dataset: { peerId: peer.id, peerName: peer.name } },
      h('label', { class: 'peer-pick' }, box, h('span', { class: 'peer-name' }, peer.name)),
      h('span', { class: 'peer-id', title: peer.id }, peer.shortId ?? String(peer.id).slice(0, 16)),
      h('span', { class: peer.online === false ? 'badge offline' : 'badge online' }, peer.online === false ? 'offline' : 'online'),
      (peer.tags ?? []).length ? h('span', { class: 'tags' }, peer.tags.map((t) => h('span', { class: 'tag' }, t))) : null,
      shot(peer),
      h('span', { class: 'drop-hint', 'aria-hidden': 'true' }, 'drop files here'),
    );
    item.addEventListener('dragover', (e) => {
      e.preventDefault();
      e.dataTransfer.dropEffect = 'copy';
      item.classList.add('dragging');
    });
    item.addEventListener('dragleave', () => item.classList.remove('dragging'));
    item.addEventListener('drop', (e) => {
      e.preventDefault();
      item.classList.remove('dragging');
      onDrop([...e.dataTransfer.files], [peer.id]);
    });
    return item;
  };

  return {
    render(next) {
      peers = next;
      for (const id of [...picked]) if (!peers.some((p) => p.id === id)) picked.delete(id);
      list.replaceChildren(...(peers.length ? peers.map(card) : [h('li', { class: 'empty' }, 'No other node is online right now.')]));
      onChange(peers);
    },
    /** IDs of the ticked peers still in the list. */
    picked: () => peers.filter((p) => picked.has(p.id)).map((p) => p.id),
    all: () => peers,
  };
}
