/**
 * One PluginHost for exercising a plugin through its hooks without the whole
 * daemon: real hooks (with the core's error guard), the core's own history
 * log and peer table unless a test brings its own, a silent logger. The
 * capabilities a test does not wire (send, receive) fail loudly if used. Like the daemon, it gives the transport and display powers
 * only when asked to (`provides`).
 */
import { join } from 'node:path';
import { pino } from 'pino';
import { NvidError } from '../../core/errors.js';
import { guardHooks } from '../../core/hook-guard.js';
import { JsonLinesHistory } from '../../core/history.js';
import { createHooks, type NvidHooks } from '../../core/hooks.js';
import { PeerTable } from '../../core/peers.js';
import { hookCapabilities } from '../../core/host-capabilities.js';
import { Library } from '../../core/library.js';
import { RemoteScreens } from '../../core/remote-screen.js';
import type { HistoryLog, PeerDirectory, PluginHost, PluginRole, ScreenPowers, TransportPowers } from '../../core/plugin-api.js';
import type { DisplayedEvent, DisplayFailedEvent, Identity, RemoteScreenRequest, Role, StatusReport } from '../../core/types.js';

export interface PluginHostOptions {
  readonly role?: Role;
  readonly identity: Identity;
  readonly stateDir: string;
  readonly name?: string;
  readonly configDir?: string;
  readonly peers?: PeerDirectory;
  readonly history?: HistoryLog;
  readonly receive?: TransportPowers['receive'];
  readonly send?: PluginHost['send'];
  readonly sendGroup?: PluginHost['sendGroup'];
  readonly tags?: readonly string[];
  readonly validateMedia?: PluginHost['validateMedia'];
  /** Roles whose powers the host carries, as the daemon gives them to a plugin that provides them. */
  readonly provides?: readonly PluginRole[];
  /** Peer IDs this host takes as controllers of its screen (remote screens). */
  readonly controllers?: readonly string[];
}

/** A host and the callable hooks behind it (tests play the core's part and call them). */
export function makePluginHost(options: PluginHostOptions): { host: PluginHost & { name: string }; hooks: NvidHooks; history: HistoryLog } {
  const hooks = createHooks();
  guardHooks(hooks);
  const history = options.history ?? new JsonLinesHistory(join(options.stateDir, 'history.jsonl'));
  const missing = (what: string) => () => Promise.reject(new NvidError('NVID_ERR_NOT_AVAILABLE', `this test host has no ${what} pipeline`));
  const peers = options.peers ?? new PeerTable(hooks, options.identity.id);
  const log = pino({ level: 'silent' });
  const library = new Library(join(options.stateDir, 'library'));
  const capabilities = hookCapabilities(hooks, library, () => history, log);
  const provides = options.provides ?? [];
  const libraryAccess = { list: () => library.list(), resolve: (name: string) => library.resolve(name), delete: capabilities.deleteLibraryItem };
  const remoteScreens = new RemoteScreens({
    hooks,
    trust: { isController: (id) => (options.controllers ?? []).includes(id) },
    capabilities,
    library: libraryAccess,
    peers,
    history,
    reportRejected: (event) => history.append('rejected', event),
    scratchDir: options.stateDir,
  });
  const transport: TransportPowers = {
    peers,
    receive: options.receive ?? missing('receive'),
    setName(next: string) {
      host.name = next;
    },
    serveScreenRequest: (sender, request) => remoteScreens.serve(sender, request),
    vetoSender: (sender) => hooks.acceptSender.promise({ sender }),
  };
  // As the daemon does: the history entry, then the event.
  const screen: ScreenPowers = {
    shown(event: DisplayedEvent) {
      history.append('displayed', { path: event.path, at: event.at, mediaKind: event.media.kind, transferId: event.meta?.transferId, fileName: event.meta?.fileName });
      void hooks.displayed.promise(event).catch(() => undefined);
    },
    failed(event: DisplayFailedEvent) {
      history.append('display-failed', { code: event.code, reason: event.reason, path: event.path, transferId: event.meta?.transferId });
      void hooks.displayFailed.promise(event).catch(() => undefined);
    },
  };
  const host = {
    hooks,
    role: options.role ?? 'node',
    identity: options.identity,
    stateDir: options.stateDir,
    configDir: options.configDir ?? options.stateDir,
    libraryDir: join(options.stateDir, 'library'),
    maxReceiveBytes: 2 * 1024 ** 3,
    minFreeDiskBytes: 0,
    name: options.name ?? 'test',
    tags: options.tags ?? [],
    log,
    peers,
    history,
    send: options.send ?? missing('send'),
    sendGroup: options.sendGroup ?? missing('send'),
    // The daemon's own capabilities, around this host's hooks.
    validateMedia: options.validateMedia ?? capabilities.validateMedia,
    library: libraryAccess,
    steerScreen: capabilities.steerScreen,
    screenshot: capabilities.screenshot,
    remoteScreen: (of: string, request: RemoteScreenRequest) => remoteScreens.ask(of, request),
    rename: capabilities.rename,
    status: (): StatusReport => hooks.status.call({ role: options.role ?? 'node', name: options.name ?? 'test' }),
    control: capabilities.pluginCommand,
    reportRejected(event: Record<string, unknown>) {
      history.append('rejected', event);
      void hooks.rejected.promise(event as never).catch(() => undefined);
    },
    ...(provides.includes('transport') ? { transport } : {}),
    ...(provides.includes('display') ? { screen } : {}),
  } satisfies PluginHost & { name: string };
  return { host, hooks, history };
}
