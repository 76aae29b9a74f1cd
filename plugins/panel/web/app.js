/**
 * The panel page's start: ask /api/session who we are (or show how to log
 * in), then build each part of the page, load it, and keep it live from
 * /api/events. `body[data-state]` says where the page is: loading, login,
 * ready — for people (CSS) and for tests.
 */
import { api, ApiError, useSession } from './api.js';
import { byId } from './dom.js';
import { connectEvents } from './events.js';
import { createDropFolder } from './drop-folder.js';
import { createHistory } from './history.js';
import { createIdentity } from './identity.js';
import { createLibrary } from './library.js';
import { showError } from './notices.js';
import { createPeerCards } from './peers.js';
import { createScreen } from './screen.js';
import { createSender } from './sender.js';
import { createTransfers } from './transfers.js';

function showLogin() {
  document.body.dataset.state = 'login';
  byId('login').hidden = false;
  byId('app').hidden = true;
}

async function start() {
  let session;
  try {
    session = await api('GET', '/api/session');
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) return showLogin();
    document.body.dataset.state = 'error';
    showError(`The panel could not start: ${err.message}`);
    return;
  }
  useSession(session.csrfToken, showLogin);

  const identity = createIdentity();
  const history = createHistory();
  const transfers = createTransfers();
  const peers = createPeerCards({ onDrop: (files, to) => sender.send(files, to), onChange: (list) => history.peersChanged(list) });
  const sender = createSender({ peers, transfers });
  const screen = session.features.display ? createScreen() : undefined;
  const library = createLibrary({ onScreen: (state) => screen?.changed(state) });
  const dropFolder = session.features.dropFolder ? createDropFolder() : undefined;
  byId('screen-section').hidden = !screen;
  byId('drop-folder-section').hidden = !dropFolder;

  identity.render(session.node);
  const loadAll = async () => {
    const list = await api('GET', '/api/peers').catch((err) => (showError(`Peers: ${err.message}`), undefined));
    if (list) peers.render(list);
    const sends = await api('GET', '/api/sends').catch(() => []);
    // Oldest first: each new row goes on top.
    for (const send of [...sends].sort((a, b) => new Date(a.startedAt) - new Date(b.startedAt))) transfers.send(send);
    await Promise.all([history.load(), screen?.load(), library.load(), dropFolder?.load()]);
  };
  await loadAll();
  dropFolder?.start();

  connectEvents(
    {
      peers: (e) => peers.render(e.peers),
      node: (e) => identity.render(e.node),
      send: (e) => transfers.send(e.send),
      history: (e) => history.added(e.entry),
      screen: (e) => screen?.changed(e.screen),
      library: () => library.load(),
    },
    {
      onStatus: (status) => {
        const live = byId('connection');
        live.textContent = status === 'live' ? 'live' : 'offline: reconnecting…';
        live.dataset.status = status;
      },
      onReconnect: () => void loadAll(),
    },
  );
  byId('app').hidden = false;
  document.body.dataset.state = 'ready';
}

void start();
