/**
 * This node: its name (renamed here, as the coordinator then gives it) and
 * its ID, the certificate fingerprint, in full and grouped by four so it can
 * be compared with what another node shows.
 */
import { api } from './api.js';
import { byId } from './dom.js';
import { groupedId } from './format.js';
import { announce, attempt } from './notices.js';

export function createIdentity() {
  const input = byId('rename-input');

  function render(node) {
    byId('node-name').textContent = node.name;
    byId('node-id').textContent = groupedId(node.id);
    document.title = `${node.name} — nvid panel`;
    if (document.activeElement !== input) input.value = node.name;
  }

  byId('rename-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const answer = await attempt('Rename', () => api('POST', '/api/rename', { name: input.value.trim() }));
    if (!answer) return;
    byId('node-name').textContent = answer.name;
    input.value = answer.name;
    announce(`This node is now called ${answer.name}.`);
  });

  return { render };
}
