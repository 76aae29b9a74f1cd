/**
 * This node's own screen: a screenshot (every few seconds while the page is
 * visible, and at once when what shows changes), what shows, what waits,
 * and Skip / Clear.
 */
import { api, fetchBlob } from './api.js';
import { byId, h } from './dom.js';
import { attempt } from './notices.js';

const SHOT_EVERY_MS = 4000;

export function createScreen() {
  const image = byId('shot');
  const note = byId('shot-note');
  let shotUrl;
  let fetching = false;

  async function refreshShot() {
    if (fetching || document.hidden) return;
    fetching = true;
    try {
      const blob = await fetchBlob(`/api/screen/shot.png?width=480&t=${Date.now()}`);
      if (shotUrl) URL.revokeObjectURL(shotUrl);
      shotUrl = URL.createObjectURL(blob);
      image.src = shotUrl;
      note.textContent = `Taken ${new Date().toLocaleTimeString()}`;
    } catch (err) {
      note.textContent = `No screenshot: ${err.message}`;
    } finally {
      fetching = false;
    }
  }

  function render(state) {
    const showing = byId('showing');
    if (state.showing === 'idle') showing.textContent = 'Nothing: the idle screen.';
    else if (!state.showing) showing.textContent = 'Nothing yet (the screen is starting or stopping).';
    else showing.textContent = `${state.showing.name} (${state.showing.kind})`;
    const queue = byId('queue');
    queue.replaceChildren(...(state.queue.length ? state.queue.map((item) => h('li', {}, item.name)) : [h('li', { class: 'empty' }, 'Nothing waits.')]));
    byId('policy').textContent = state.policy;
  }

  async function steer(action, label) {
    const state = await attempt(label, () => api('POST', `/api/screen/${action}`));
    if (state) {
      render(state);
      void refreshShot();
    }
  }

  byId('skip').addEventListener('click', () => steer('skip', 'Skip'));
  byId('clear').addEventListener('click', () => steer('clear', 'Clear the queue'));
  setInterval(refreshShot, SHOT_EVERY_MS);
  document.addEventListener('visibilitychange', () => void refreshShot());

  return {
    async load() {
      const state = await attempt('The screen', () => api('GET', '/api/screen'));
      if (state) render(state);
      await refreshShot();
    },
    /** A `screen` event, or the answer of an action elsewhere on the page (Show again). */
    changed(state) {
      render(state);
      void refreshShot();
    },
  };
}
