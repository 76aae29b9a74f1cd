/**
 * The daemon: owns the hooks, the state folder, the identity, the peer table,
 * the history and the control endpoint, and runs the plugins. It knows no
 * protocol, cipher or player; those arrive through the hooks.
 */
import { mkdirSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Logger } from 'pino';
import type { NvidConfig } from './config.js';
import { createControlHandler, type ControlPort } from './control/commands.js';
import { ControlServer } from './control/server.js';
import { observeCoreEvents } from './core-observers.js';
import { NvidError } from './errors.js';
import { guardHooks, tapOnlyView } from './hook-guard.js';
import { createHooks, type NvidHooks } from './hooks.js';
import { JsonLinesHistory } from './history.js';
import { loadOrCreateIdentity } from './identity.js';
import { createLogger } from './logger.js';
import { PeerTable } from './peers.js';
import type { PipelineContext } from './pipeline/context.js';
import { answered, requireHook } from './pipeline/hook-checks.js';
import { removeLeftoverParts } from './pipeline/leftovers.js';
import { receiveTransfer } from './pipeline/receive.js';
import { sendFile } from './pipeline/send-file.js';
import { sendArriving } from './pipeline/send-arriving.js';
import { sendToGroup } from './pipeline/send-group.js';
import { TransferTracker } from './pipeline/transfer-tracker.js';
import { hookCapabilities, type HookCapabilities } from './host-capabilities.js';
import { Library } from './library.js';
import { TrustStore } from './trust.js';
import { RemoteScreens } from './remote-screen.js';
import type { IncomingTransfer, LibraryAccess, PeerView, PluginHost, ScreenPowers, TransportPowers } from './plugin-api.js';
import { loadPlugins, type LoadedPlugin } from './plugin-loader.js';
import { ReceivedIndex } from './received-index.js';
import { statePaths } from './state-paths.js';
import type { DisplayedEvent, DisplayFailedEvent, Identity, MediaInfo, Peer, RejectedEvent, RemoteScreenRequest, Role, ScreenRequest, ScreenState, SendOptions, StatusReport, TrustChangedEvent } from './types.js';

function prepareStateDir(stateDir: string): void {
  try {
    mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  } catch (err) {
    throw new NvidError('NVID_ERR_STATE_DIR', `cannot create state folder ${stateDir}: ${(err as Error).message}`, { cause: err });
  }
  const stat = statSync(stateDir);
  if ((stat.mode & 0o022) !== 0) {
    throw new NvidError('NVID_ERR_STATE_DIR', `state folder ${stateDir} is writable by group or others (mode ${(stat.mode & 0o777).toString(8)}); run: chmod 700 ${stateDir}`);
  }
}

export class Daemon {
  readonly role: Role;
  readonly config: NvidConfig;
  readonly hooks: NvidHooks = createHooks();
  readonly log: Logger;
  readonly paths: ReturnType<typeof statePaths>;
  readonly transfers = new TransferTracker();
  readonly library: Library;
  /** What plugins and control commands ask that another plugin answers (screen, rename, screenshot ...). */
  readonly capabilities: HookCapabilities;
  #name: string;
  #identity: Identity | undefined;
  #history: JsonLinesHistory | undefined;
  #peers: PeerTable | undefined;
  #received: ReceivedIndex | undefined;
  #trust: TrustStore | undefined;
  #remoteScreens: RemoteScreens | undefined;
  #plugins: LoadedPlugin[] = [];
  #control: ControlServer | undefined;
  #state: 'new' | 'starting' | 'running' | 'stopping' | 'stopped' = 'new';
  readonly #startedAt = Date.now();

  constructor(role: Role, config: NvidConfig, log?: Logger) {
    this.role = role;
    this.config = config;
    this.#name = config.name;
    this.paths = statePaths(config.stateDir);
    this.log = log ?? createLogger(config.log.level);
    this.library = new Library(this.paths.libraryDir);
    this.capabilities = hookCapabilities(this.hooks, this.library, () => this.history, this.log);
    guardHooks(this.hooks);
  }

  get name(): string {
    return this.#name;
  }
  get identity(): Identity {
    if (!this.#identity) throw new Error('daemon not started');
    return this.#identity;
  }
  get history(): JsonLinesHistory {
    if (!this.#history) throw new Error('daemon not started');
    return this.#history;
  }
  get peers(): PeerTable {
    if (!this.#peers) throw new Error('daemon not started');
    return this.#peers;
  }
  get plugins(): readonly LoadedPlugin[] {
    return this.#plugins;
  }
  get uptimeSeconds(): number {
    return (Date.now() - this.#startedAt) / 1000;
  }

  /** What the send and receive pipelines see. */
  pipelineContext(): PipelineContext {
    return {
      hooks: this.hooks,
      identity: this.identity,
      peers: this.peers,
      history: this.history,
      log: this.log,
      libraryDir: this.paths.libraryDir,
      incomingDir: this.paths.incomingDir,
      maxReceiveBytes: this.config.maxReceiveBytes,
      minFreeDiskBytes: this.config.minFreeDiskBytes,
      outboxDir: this.paths.outboxDir,
      resumableFromBytes: this.config.resumableFromBytes,
      resumeMaxAgeMs: this.config.resumeMaxAgeMs,
      transfers: this.transfers,
      received: this.#received!,
    };
  }

  /** Send a file as `nvid send` does (see PluginHost.send). */
  send(file: string, to: string, options: SendOptions = {}) {
    if (options.arriving) return sendArriving(this.pipelineContext(), resolve(file), to, options, options.arriving);
    return sendFile(this.pipelineContext(), file, to, options);
  }

  /** Send a file to every peer a target names (see PluginHost.sendGroup). */
  sendGroup(file: string, to: string, options: SendOptions = {}) {
    const peers = this.peers;
    return sendToGroup({ ...this.pipelineContext(), resolveTargets: (spec) => peers.resolveTargets(spec) }, file, to, options);
  }

  /** What `nvid status` shows: the core's fields, then every plugin's (the status hook). */
  status(): StatusReport {
    return this.hooks.status.call({
      role: this.role,
      name: this.name,
      id: this.identity.id,
      pid: process.pid,
      stateDir: this.config.stateDir,
      uptimeSeconds: Math.round(this.uptimeSeconds),
      plugins: this.#plugins.map((p) => ({ name: p.name, source: p.source })),
      peers: this.peers.list().length,
      transfers: this.transfers.list(),
      ...(this.role === 'node' && this.#trust ? { trust: this.#trustSummary(this.#trust) } : {}),
    });
  }

  #trustSummary(trust: TrustStore) {
    const list = trust.list();
    return { senders: list.acceptsAnySender ? 'any admitted peer' : list.senders.length, controllers: list.controllers.length };
  }

  #reportRejected(event: RejectedEvent & Record<string, unknown>, log: Logger): void {
    this.history.append('rejected', { ...event });
    this.hooks.rejected.promise(event).catch((err: Error) => log.error({ err: err.message }, 'a rejected-event observer failed'));
  }

  #transportPowers(log: Logger): TransportPowers {
    return Object.freeze({
      peers: this.peers,
      receive: (incoming: IncomingTransfer) => receiveTransfer(this.pipelineContext(), incoming),
      setName: (name: string) => {
        if (name !== this.#name) log.info({ from: this.#name, to: name }, 'name assigned');
        this.#name = name;
      },
      serveScreenRequest: (sender: Peer, request: RemoteScreenRequest) => this.#remoteScreens!.serve(sender, request),
      vetoSender: (sender: Peer) => this.hooks.acceptSender.promise({ sender }),
    });
  }

  #screenPowers(log: Logger): ScreenPowers {
    const observerFailed = (err: Error) => log.error({ err: err.message }, 'a display-event observer failed');
    return Object.freeze({
      shown: (event: DisplayedEvent) => {
        const { media, meta, path, at } = event;
        this.history.append('displayed', { path, at, mediaKind: media.kind, width: media.width, height: media.height, transferId: meta?.transferId, fileName: meta?.fileName });
        this.hooks.displayed.promise(event).catch(observerFailed);
      },
      failed: (event: DisplayFailedEvent) => {
        this.history.append('display-failed', { code: event.code, reason: event.reason, path: event.path, transferId: event.meta?.transferId });
        this.hooks.displayFailed.promise(event).catch(observerFailed);
      },
    });
  }

  #libraryAccess(): LibraryAccess {
    const library = this.library;
    return Object.freeze({ list: () => library.list(), resolve: (name: string) => library.resolve(name), delete: this.capabilities.deleteLibraryItem });
  }

  /** The peer table as every plugin but the transport sees it: no mutators. */
  #peerView(): PeerView {
    const peers = this.peers;
    return Object.freeze({
      list: () => peers.list(),
      get: (id: string) => peers.get(id),
      resolve: (nameOrId: string) => peers.resolve(nameOrId),
      resolveTargets: (spec: string) => peers.resolveTargets(spec),
    });
  }

  #hostFor(plugin: LoadedPlugin, peerView: PeerView): PluginHost {
    const daemon = this;
    const log = this.log.child({ plugin: plugin.name });
    return Object.freeze({
      hooks: tapOnlyView(this.hooks),
      role: this.role,
      identity: this.identity,
      stateDir: this.config.stateDir,
      configDir: this.config.baseDir,
      libraryDir: this.paths.libraryDir,
      maxReceiveBytes: this.config.maxReceiveBytes,
      minFreeDiskBytes: this.config.minFreeDiskBytes,
      get name() {
        return daemon.name;
      },
      tags: this.config.tags,
      log,
      peers: peerView,
      history: this.history,
      send: (file: string, to: string, options?: SendOptions) => this.send(file, to, options),
      sendGroup: (file: string, to: string, options?: SendOptions) => this.sendGroup(file, to, options),
      validateMedia: this.capabilities.validateMedia,
      library: this.#libraryAccess(),
      steerScreen: this.capabilities.steerScreen,
      screenshot: this.capabilities.screenshot,
      remoteScreen: (of: string, request: RemoteScreenRequest) => this.#remoteScreens!.ask(of, request),
      rename: this.capabilities.rename,
      status: () => this.status(),
      control: this.capabilities.pluginCommand,
      reportRejected: (event: RejectedEvent & Record<string, unknown>) => this.#reportRejected(event, log),
      ...(plugin.provides.includes('transport') ? { transport: this.#transportPowers(log) } : {}),
      ...(plugin.provides.includes('display') ? { screen: this.#screenPowers(log) } : {}),
    });
  }

  /**
   * Starts in an order where a failure leaves nothing half-started: every
   * plugin found and its options checked, then state and identity, then the
   * plugins applied, then the control socket
   * (which also detects a second node on the same state folder), and only then
   * the lifecycle hooks that open network ports.
   */
  async start(): Promise<void> {
    if (this.#state !== 'new') throw new Error(`cannot start a daemon that is ${this.#state}`);
    this.#state = 'starting';
    const { stateDir } = this.config;
    // Find and check every plugin before touching the state folder: a typo in the config changes nothing on disk.
    this.#plugins = await loadPlugins(this.config.plugins, this.config.baseDir);
    prepareStateDir(stateDir);
    for (const dir of [this.paths.libraryDir, this.paths.incomingDir, this.paths.outboxDir]) mkdirSync(dir, { recursive: true, mode: 0o700 });
    const identity = loadOrCreateIdentity(this.paths.identityDir, this.config.name);
    this.#identity = { id: identity.id, certPem: identity.certPem, keyPem: identity.keyPem };
    this.#history = new JsonLinesHistory(this.paths.history, (err) => this.log.error({ err: err.message, file: this.paths.history }, 'cannot write the history log'));
    this.#peers = new PeerTable(this.hooks, identity.id);
    this.#received = new ReceivedIndex(this.paths.receivedIndex, this.paths.libraryDir);
    if (identity.created) this.log.info({ id: identity.id, dir: this.paths.identityDir }, 'made a new identity');
    this.#trust = new TrustStore(this.paths.trust, this.config);
    observeCoreEvents({ hooks: this.hooks, history: this.#history, log: this.log, trust: this.#trust });
    this.#remoteScreens = this.#createRemoteScreens(this.#trust);

    const peerView = this.#peerView();
    for (const plugin of this.#plugins) {
      try {
        await plugin.instance.apply(this.#hostFor(plugin, peerView));
      } catch (err) {
        // A plugin written for an older API keeps that code: the message says what to change.
        const code = err instanceof NvidError && err.code === 'NVID_ERR_PLUGIN_API' ? err.code : 'NVID_ERR_PLUGIN_APPLY';
        throw new NvidError(code, `plugin "${plugin.name}" (${plugin.key}) failed in apply(): ${(err as Error).message}`, { cause: err });
      }
    }

    this.#control = new ControlServer(this.paths.controlSocket, createControlHandler(this.#controlPort()));
    await this.#control.listen();
    // Only now is it sure that no other node serves this state folder: what is left in incoming/ is nobody's.
    const leftovers = removeLeftoverParts(this.paths.incomingDir);
    if (leftovers.files > 0) this.log.info(leftovers, 'removed partial files of transfers that ended with the last run');
    const event = { role: this.role } as const;
    try {
      await this.hooks.beforeStart.promise(event);
      await this.hooks.start.promise(event);
      await this.hooks.afterStart.promise(event);
    } catch (err) {
      await this.#shutdown().catch(() => undefined);
      throw err;
    }
    this.#state = 'running';
    this.history.append('started', { role: this.role, id: identity.id, name: this.name, pid: process.pid, plugins: this.#plugins.map((p) => p.name) });
    this.log.info({ role: this.role, id: identity.id, name: this.name, plugins: this.#plugins.map((p) => p.name), control: this.paths.controlSocket }, 'started');
  }

  /** Both ends of remote screens: answering this node's controllers, asking peers' screens as theirs. */
  #createRemoteScreens(trust: TrustStore): RemoteScreens {
    return new RemoteScreens({
      hooks: this.hooks,
      trust,
      capabilities: this.capabilities,
      library: this.#libraryAccess(),
      peers: this.#peerView(),
      history: this.history,
      reportRejected: (event) => this.#reportRejected(event, this.log),
      scratchDir: this.paths.incomingDir,
    });
  }

  #controlPort(): ControlPort {
    return {
      role: this.role,
      peers: this.#peerView(),
      history: this.history,
      library: this.#libraryAccess(),
      status: () => this.status(),
      send: (file: string, to: string, options: SendOptions) => this.send(file, to, options),
      sendGroup: (file: string, to: string, options: SendOptions) => this.sendGroup(file, to, options),
      rename: this.capabilities.rename,
      screenshot: this.capabilities.screenshot,
      steerScreen: this.capabilities.steerScreen,
      schedule: this.capabilities.schedule,
      remoteScreen: (of: string, request: RemoteScreenRequest) => this.#remoteScreens!.ask(of, request),
      pluginCommand: this.capabilities.pluginCommand,
      trust: this.#trust!,
      announceTrust: (event: TrustChangedEvent) => this.hooks.trustChanged.call(event),
      requestStop: () => process.kill(process.pid, 'SIGTERM'),
    };
  }

  async stop(): Promise<void> {
    if (this.#state === 'stopping' || this.#state === 'stopped') return;
    this.#state = 'stopping';
    await this.#shutdown();
    this.history.append('stopped', { role: this.role, pid: process.pid });
    this.log.info('stopped');
  }

  async #shutdown(): Promise<void> {
    const event = { role: this.role } as const;
    try {
      await this.hooks.stop.promise(event);
      await this.hooks.afterStop.promise(event);
    } finally {
      await this.#control?.close();
      this.#state = 'stopped';
    }
  }
}
