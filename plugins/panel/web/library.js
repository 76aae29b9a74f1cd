/**
 * What this node received and keeps: a thumbnail per item, with Show again
 * (it takes the screen now) and Delete (it leaves the screen at once).
 * Reloaded on every `library` event.
 */
import { api } from './api.js';
import { byId, h } from './dom.js';
import { bytes, when } from './format.js';
import { announce, attempt } from './notices.js';

export function createLibrary({ onScreen }) {
  const list = byId('library');
  const path = (name) => `/api/library/${encodeURIComponent(name)}`;

  const card = (item) =>
    h(
      'li',
      { class: 'card library-item', dataset: { name: item.name } },
      h('img', { src: `${path(item.name)}/thumb.jpg`, alt: '', loading: 'lazy', width: 160, height: 90 }),
      h('span', { class: 'item-name' }, item.name),
      h('span', { class: 'item-meta' }, `${bytes(item.size)}, ${when(item.modified)}`),
      h(
        'span',
        { class: 'buttons' },
        h('button', { type: 'button', class: 'small', 'aria-label': `Show ${item.name} again`, onclick: () => show(item.name) }, 'Show again'),
        h('button', { type: 'button', class: 'small danger', 'aria-label': `Delete ${item.name}`, onclick: () => remove(item.name) }, 'Delete'),
      ),
    );

  async function load() {
    const items = await attempt('The library', () => api('GET', '/api/library'));
    if (!items) return;
    list.replaceChildren(...(items.length ? items.map(card) : [h('li', { class: 'empty' }, 'Nothing received yet.')]));
  }

  async function show(name) {
    const state = await attempt(`Show ${name}`, () => api('POST', `${path(name)}/show`));
    if (state) onScreen(state);
  }

  async function remove(name) {
    const done = await attempt(`Delete ${name}`, async () => (await api('DELETE', path(name)), true));
    if (!done) return;
    announce(`${name} deleted.`);
    await load();
  }

  return { load };
}
