/**
 * The daemon: owns the hooks, the state folder, the identity, the peer table,
 * the history and the control endpoint, and runs the plugins. It knows no
 * protocol, cipher or player; those arrive through the hooks.
 */
import { mkdirSync, statSync } from 'node:fs';
import type { Logger } from 'pino';
import type { NvidConfig } from './config.js';
import { ControlServer } from './control/server.js';
import { NvidError } from './errors.js';
import { guardHooks, tapOnlyView } from './hook-guard.js';
import { createHooks, type NvidHooks } from './hooks.js';
import { JsonLinesHistory } from './history.js';
import { loadOrCreateIdentity } from './identity.js';
import { createLogger } from './logger.js';
import { PeerTable } from './peers.js';
import { ReceivedIndex } from './received-index.js';
import { TransferTracker, type PipelineContext } from './pipeline/context.js';
import { receiveTransfer } from './pipeline/receive.js';
import { sendFile } from './pipeline/send.js';
import type { IncomingTransfer, PluginHost } from './plugin-api.js';
import { loadPlugins, type LoadedPlugin } from './plugin-loader.js';
import { observeCoreEvents } from './core-observers.js';
import { createControlHandler } from './control/commands.js';
import { statePaths } from './state-paths.js';
import type { Identity, ProgressEvent, RejectedEvent, Role } from './types.js';

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
  /** Control connections following a send's progress. */
  readonly progressListeners = new Set<(event: ProgressEvent) => void>();
  #name: string;
  #identity: Identity | undefined;
  #history: JsonLinesHistory | undefined;
  #peers: PeerTable | undefined;
  #received: ReceivedIndex | undefined;
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
      transfers: this.transfers,
      received: this.#received!,
    };
  }

  #hostFor(plugin: LoadedPlugin): PluginHost {
    const daemon = this;
    const log = this.log.child({ plugin: plugin.name });
    return Object.freeze({
      hooks: tapOnlyView(this.hooks),
      role: this.role,
      identity: this.identity,
      stateDir: this.config.stateDir,
      configDir: this.config.baseDir,
      libraryDir: this.paths.libraryDir,
      get name() {
        return daemon.name;
      },
      log,
      peers: this.peers,
      history: this.history,
      setName: (name: string) => {
        if (name !== daemon.#name) log.info({ from: daemon.#name, to: name }, 'name assigned');
        daemon.#name = name;
      },
      receive: (incoming: IncomingTransfer) => receiveTransfer(this.pipelineContext(), incoming),
      send: (file: string, to: string) => sendFile(this.pipelineContext(), file, to),
      reportRejected: (event: RejectedEvent & Record<string, unknown>) => {
        daemon.history.append('rejected', { ...event });
        daemon.hooks.rejected.promise(event).catch((err: Error) => log.error({ err: err.message }, 'a rejected-event observer failed'));
      },
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
    for (const dir of [this.paths.libraryDir, this.paths.incomingDir]) mkdirSync(dir, { recursive: true, mode: 0o700 });
    const identity = loadOrCreateIdentity(this.paths.identityDir, this.config.name);
    this.#identity = { id: identity.id, certPem: identity.certPem, keyPem: identity.keyPem };
    this.#history = new JsonLinesHistory(this.paths.history, (err) => this.log.error({ err: err.message, file: this.paths.history }, 'cannot write the history log'));
    this.#peers = new PeerTable(this.hooks, identity.id);
    this.#received = new ReceivedIndex(this.paths.receivedIndex, this.paths.libraryDir);
    if (identity.created) this.log.info({ id: identity.id, dir: this.paths.identityDir }, 'made a new identity');
    observeCoreEvents(this);

    for (const plugin of this.#plugins) {
      try {
        await plugin.instance.apply(this.#hostFor(plugin));
      } catch (err) {
        throw new NvidError('NVID_ERR_PLUGIN_APPLY', `plugin "${plugin.name}" (${plugin.key}) failed in apply(): ${(err as Error).message}`, { cause: err });
      }
    }

    this.#control = new ControlServer(this.paths.controlSocket, createControlHandler(this));
    await this.#control.listen();
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
