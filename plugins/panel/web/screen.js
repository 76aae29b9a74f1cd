/**
 * This node's own screen: a screenshot (every few seconds while the page is
 * visible, and at once when what shows changes), what shows, what waits,
 * and Skip / Clear.
 */
import { api, fetchBlob } from './api.js';
import { byId, h } from './dom.js';
import { attempt } from './notices.js';

const SHOT_EVERY_MS = 4000;
const SETTLE_MS = 800;

export function createScreen() {
  const image = byId('shot');
  const note = byId('shot-note');
  let shotUrl;
  let fetching = false;
  let again = false;

  async function refreshShot() {
    if (document.hidden) return;
    // A change during a fetch must not be lost: that fetch may have caught the screen before it.
    if (fetching) {
      again = true;
      return;
    }
    fetching = true;
    try {
      // No cache-busting query: the server answers `Cache-Control: no-store` and accepts `width` alone.
      const blob = await fetchBlob('/api/screen/shot.png?width=480');
      if (shotUrl) URL.revokeObjectURL(shotUrl);
      shotUrl = URL.createObjectURL(blob);
      image.src = shotUrl;
      image.hidden = false;
      note.textContent = `Taken ${new Date().toLocaleTimeString()}`;
    } catch (err) {
      note.textContent = `No screenshot: ${err.message}`;
    } finally {
      fetching = false;
    }
    if (again) {
      again = false;
      void refreshShot();
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

  /** A `screen` event, or the answer of an action (Skip, Clear, Show again). */
  function changed(state) {
    render(state);
    void refreshShot();
    // A player's window may still be drawing its first frame when the state changes; look again shortly.
    setTimeout(refreshShot, SETTLE_MS);
  }

  async function steer(action, label) {
    const state = await attempt(label, () => api('POST', `/api/screen/${action}`));
    if (state) changed(state);
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
    changed,
  };
}
