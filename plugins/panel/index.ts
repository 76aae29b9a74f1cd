/**
 * The bundled `panel` plugin: the node's web page, served from this node on
 * 127.0.0.1 by default. `nvid panel` prints a one-time login link; the page
 * sends files (uploaded, then sent peer to peer through the host's send API),
 * follows sends, history, the screen and the library, live over a WebSocket.
 * See README.md and API.md (the contract with the page) in this folder.
 *
 * Taps `beforeStart` (refuses a LAN address without TLS), `start`/`stop` (the
 * server), the event hooks (live events), `control` (the `panel` command) and
 * `status`. The work lives in the hook-free modules beside this file.
 */
import type { FastifyInstance } from 'fastify';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { NvidError } from '../../core/errors.js';
import type { NvidPlugin, PluginHost } from '../../core/plugin-api.js';
import { statePaths } from '../../core/state-paths.js';
import { PANEL_ERROR_CODES } from './errors.js';
import { HistoryTail } from './history-tail.js';
import { LiveEvents } from './live-events.js';
import { checkListenSafety, isLoopbackHost, PANEL_SCHEMA, resolveTlsFiles, type PanelOptions } from './options.js';
import { panelPeers } from './peer-list.js';
import { PanelSecurity } from './security.js';
import { SendBoard } from './send-board.js';
import { createPanelServer } from './server.js';
import { Thumbnails } from './thumbnails.js';
import { UploadStore } from './upload-store.js';

export const PLUGIN_NAME = 'panel';
export type { PanelOptions } from './options.js';

/** How often the node's own name is compared, for the page's `node` message (`nvid rename` elsewhere changes it too). */
const NAME_CHECK_MS = 1000;
/** How long `nvid panel` waits for a panel that is still starting. */
const START_WAIT_MS = 15_000;

interface Running {
  readonly app: FastifyInstance;
  readonly url: string;
  readonly security: PanelSecurity;
  readonly sends: SendBoard;
  readonly uploads: UploadStore;
  readonly events: LiveEvents;
  readonly tail: HistoryTail;
  readonly nameCheck: NodeJS.Timeout;
}

export default class PanelPlugin implements NvidPlugin {
  static readonly pluginName = PLUGIN_NAME;
  static readonly schema = PANEL_SCHEMA;
  static readonly apiVersion = 2;
  static readonly errorCodes = PANEL_ERROR_CODES;

  readonly #options: PanelOptions;

  /** @param options already validated against `schema`, defaults filled in */
  constructor(options: PanelOptions) {
    this.#options = options;
  }

  apply(daemon: PluginHost): void {
    // A coordinator has no screen, library or sends to show.
    if (daemon.role !== 'node') return;
    const options = this.#options;
    let running: Running | undefined;
    // The control socket answers while the node's plugins still start (the panel comes after
    // the transport): a link asked for then waits until the panel serves, or gave up starting.
    let markStarted = () => {};
    const started = new Promise<void>((resolve) => (markStarted = resolve));
    const panelDir = join(daemon.stateDir, 'panel');

    daemon.hooks.beforeStart.tapPromise(PLUGIN_NAME, async () => checkListenSafety(options));

    const startPanel = async () => {
      const events = new LiveEvents();
      const uploads = new UploadStore(join(panelDir, 'uploads'), daemon.maxReceiveBytes, daemon.minFreeDiskBytes);
      await uploads.open();
      const sends = new SendBoard(
        {
          send: (file, to, sendOptions) => daemon.send(file, to, sendOptions),
          changed: (send) => events.broadcast({ type: 'send', send }),
          uploadIdle: (id) => void uploads.retire(id).catch((err: Error) => daemon.log.warn({ err: err.message }, 'could not remove a sent upload')),
        },
        options.maxConcurrentSends,
      );
      const security = new PanelSecurity(options);
      const tail = new HistoryTail(statePaths(daemon.stateDir).history);
      await tail.open();
      const tls = resolveTlsFiles(options, daemon.configDir);
      const app = await createPanelServer({ daemon, security, uploads, sends, events, thumbs: new Thumbnails(join(panelDir, 'thumbs')), scratchDir: join(panelDir, 'scratch') }, tls ? { tls } : {});
      try {
        await app.listen({ host: options.listen.host, port: options.listen.port });
      } catch (err) {
        await app.close();
        throw new Error(`cannot listen on ${options.listen.host}:${options.listen.port}: ${(err as Error).message}`, { cause: err });
      }
      const port = (app.server.address() as { port: number }).port;
      const host = linkHost(options);
      // The address the link uses is always one the gate lets in.
      security.listening(port, [...options.allowedHosts, ...(isLoopbackHost(host) ? [] : [host])], tls !== undefined);
      let name = daemon.name;
      const nameCheck = setInterval(() => {
        if (daemon.name === name) return;
        name = daemon.name;
        events.broadcast({ type: 'node', node: { id: daemon.identity.id, name } });
      }, NAME_CHECK_MS);
      nameCheck.unref();
      running = { app, tail, url: `${tls ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${port}`, security, sends, uploads, events, nameCheck };
      daemon.log.info({ url: running.url }, `panel at ${running.url} (run "nvid panel" for a login link)`);
    };

    daemon.hooks.start.tapPromise(PLUGIN_NAME, () => startPanel().finally(() => markStarted()));

    daemon.hooks.stop.tapPromise(PLUGIN_NAME, async () => {
      markStarted();
      // stop may run without start having run (another plugin failed to start).
      if (!running) return;
      const { app, sends, uploads, events, nameCheck } = running;
      running = undefined;
      clearInterval(nameCheck);
      await sends.close();
      events.closeAll();
      await app.close();
      await uploads.close();
    });

    daemon.hooks.control.tapPromise(PLUGIN_NAME, async ({ command }) => {
      if (command !== 'panel') return undefined;
      if (!running) await Promise.race([started, sleep(START_WAIT_MS, undefined, { ref: false })]);
      if (!running) throw new NvidError('NVID_ERR_NOT_AVAILABLE', 'panel: not serving (the node is starting or stopping)');
      const { token, expiresAt } = running.security.tokens.mint();
      return { url: running.url, loginUrl: `${running.url}/login?token=${token}`, expiresAt: new Date(expiresAt).toISOString() };
    });

    // Live events. Each event is also a history entry, which the core appended before its observers run.
    const pushHistory = () =>
      setImmediate(() => {
        const live = running;
        if (!live) return;
        void live.tail.readNew().then((entries) => entries.forEach((entry) => live.events.broadcast({ type: 'history', entry })), () => undefined);
      });
    const pushScreen = () => {
      if (!running) return;
      const { events } = running;
      void daemon.steerScreen({ action: 'status' }).then((screen) => events.broadcast({ type: 'screen', screen }), () => undefined);
    };
    const peerChanged = () => {
      running?.events.broadcast({ type: 'peers', peers: panelPeers(daemon.peers.list()) });
      pushHistory();
    };
    daemon.hooks.peerJoined.tap(PLUGIN_NAME, peerChanged);
    daemon.hooks.peerLeft.tap(PLUGIN_NAME, peerChanged);
    daemon.hooks.peerRenamed.tap(PLUGIN_NAME, peerChanged);
    daemon.hooks.peerUpdated.tap(PLUGIN_NAME, peerChanged);
    const transferEvents = ['sent', 'sendFailed', 'received', 'rejected', 'queued', 'displayed', 'displayFailed', 'itemDeleted'] as const;
    for (const hook of transferEvents) {
      (daemon.hooks[hook] as { tapPromise(name: string, fn: () => Promise<void>): void }).tapPromise(PLUGIN_NAME, async () => {
        pushHistory();
        if (hook === 'displayed' || hook === 'queued' || hook === 'itemDeleted') pushScreen();
        if (hook === 'received' || hook === 'itemDeleted') running?.events.broadcast({ type: 'library' });
      });
    }

    daemon.hooks.status.tap(PLUGIN_NAME, (report) => (running ? { ...report, panel: { url: running.url, sessions: running.security.sessions.size, liveListeners: running.events.listeners } } : report));
  }
}

/** The host name the login link uses: the listen address, unless it is a wildcard. */
function linkHost(options: PanelOptions): string {
  const host = options.listen.host;
  if (host !== '0.0.0.0' && host !== '::') return host;
  return options.allowedHosts[0]?.replace(/:\d+$/, '') ?? '127.0.0.1';
}
