/**
 * The drop folder (when that plugin runs on this node): which folder, how
 * many files wait, are sending or failed, each failure's reason per target,
 * and a Retry button that tries the waiting ones now.
 */
import { api } from './api.js';
import { byId, h } from './dom.js';
import { when } from './format.js';
import { announce, attempt } from './notices.js';

const REFRESH_MS = 5000;

export function createDropFolder() {
  async function load() {
    const status = await attempt('The drop folder', () => api('GET', '/api/drop-folder'));
    if (status) render(status);
  }

  function render({ folder, counts, files }) {
    byId('drop-path').textContent = folder;
    const c = counts ?? {};
    byId('drop-counts').textContent = `${(c.settling ?? 0) + (c.queued ?? 0)} pending, ${c.sending ?? 0} sending, ${c.deliveredFiles ?? 0} sent since start, ${(c.waiting ?? 0) + (c.held ?? 0)} failed and waiting`;
    const list = byId('drop-files');
    list.replaceChildren(...(files ?? []).map(fileRow));
    if (!list.children.length) list.append(h('li', { class: 'empty' }, 'No file waits in the drop folder.'));
  }

  byId('drop-retry').addEventListener('click', async () => {
    const answer = await attempt('Retry', () => api('POST', '/api/drop-folder/retry'));
    if (answer) announce(`Retrying ${answer.retrying} file(s) now.`);
    await load();
  });

  return {
    start() {
      void load();
      setInterval(() => document.hidden || load(), REFRESH_MS);
    },
    load,
  };
}

function fileRow(file) {
  const failures = (file.failures ?? []).map((f) => h('li', {}, `${f.target}: ${f.message}`));
  const retry = file.nextRetry ? `, next try ${when(file.nextRetry)}` : '';
  return h('li', { class: `drop-file state-${file.state}` }, h('strong', {}, file.file), ` ${file.state}${file.attempts ? `, ${file.attempts} attempt(s)` : ''}${retry}`, failures.length ? h('ul', { class: 'reasons' }, failures) : null);
}
