/**
 * The few DOM helpers every part of the page uses: build an element in one
 * call, and find one by id. Text always goes in as text nodes, never as HTML,
 * so names chosen by peers cannot inject markup.
 */

/**
 * `h('button', { class: 'small', onclick: fn, 'aria-label': 'Skip' }, 'Skip')`.
 * Attributes starting with `on` become listeners; `false`/`null`/`undefined`
 * attributes are left out; children are strings, numbers or nodes (null skipped).
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === false || value === null || value === undefined) continue;
    if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), value);
    else if (key === 'dataset') Object.assign(el.dataset, value);
    else if (key in el && typeof value !== 'string') el[key] = value;
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

/** The element with this id; throws if the page lacks it (a typo should fail loudly, not silently). */
export function byId(id) {
  const el = document.getElementById(id);
  if (!el) throw new Error(`the page has no #${id}`);
  return el;
}
