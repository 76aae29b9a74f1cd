/**
 * What the page tells a person in words: errors (an alert region a screen
 * reader reads at once, each with a Dismiss button) and quieter news such as
 * a finished transfer (a polite live region).
 */
import { byId, h } from './dom.js';

const KEEP_ERRORS = 5;

export function showError(text) {
  const list = byId('errors');
  const item = h('li', { class: 'error' }, h('span', {}, text), ' ', h('button', { type: 'button', class: 'small', onclick: () => item.remove(), 'aria-label': 'Dismiss this message' }, 'Dismiss'));
  list.append(item);
  while (list.children.length > KEEP_ERRORS) list.firstElementChild.remove();
}

export function announce(text) {
  byId('announcer').textContent = text;
}

/** Runs `action`; shows its error in words instead of throwing. Returns its result or undefined. */
export async function attempt(what, action) {
  try {
    return await action();
  } catch (err) {
    showError(`${what}: ${err.message}`);
    return undefined;
  }
}
