/**
 * The bundled transport plugin. On a coordinator it runs the address book
 * server; on a node it joins the coordinator, keeps `daemon.peers` current,
 * serves incoming transfers and delivers outgoing ones. The protocol logic
 * lives in the hook-free wings wire/, coordinator/ and transfer/; this file
 * only wires them to the daemon's hooks.
 */
import { join, resolve } from 'node:path';
import { NvidError, asNvidError } from '../../core/errors.js';
import type { NvidPlugin, PluginHost, TransportPowers } from '../../core/plugin-api.js';
import type { Peer } from '../../core/types.js';
import { CoordinatorClient } from './coordinator/coordinator-client.js';
import { CoordinatorPins, DISCOVERY_PIN, KNOWN_COORDINATORS_FILE } from './coordinator/coordinator-pins.js';
import { ROSTER_FILE } from './coordinator/coordinator-roster.js';
import { CoordinatorServer } from './coordinator/coordinator-server.js';
import { joinInstructions, resolveAdmission, tokenFromFile } from './coordinator/join-token.js';
import { natsDirectoryFactory } from './coordinator/directory-nats.js';
import { admissionDigest, withDefaults } from './coordinator/nats-options.js';
import { DATA_FRAME_BYTES, type FrameLimits } from './wire/frame-codec.js';
import type { RejectInfo } from './wire/guarded-tls-server.js';
import { DEFAULT_COORDINATOR_HOST, DEFAULT_COORDINATOR_PORT, TRANSPORT_SCHEMA, type TransportOptions } from './options.js';
import type { Expected } from './discovery/announcement.js';
import { CoordinatorAnnouncer } from './discovery/announce.js';
import { CoordinatorBrowser } from './discovery/browse.js';
import type { DiscoveredCoordinator } from './discovery/chooser.js';
import { terminalConfirm } from './discovery/confirm.js';
import { multicastOptions } from './discovery/multicast.js';
import { TRANSPORT_ERROR_CODES } from './errors.js';
import { normaliseFingerprint } from './wire/tls-helpers.js';
import { ReceiverGoneDetector } from './transfer/receiver-gone.js';
import { deliverEnvelope } from './transfer/transfer-client.js';
import { requestScreen } from './transfer/screen-request-client.js';
import { TransferServer } from './transfer/transfer-server.js';
import type { ServeSwarm, SwarmSink } from './transfer/incoming-transfer-session.js';
import { hashPieces, pieceBytesFor, signManifest } from './swarm/manifest.js';
import { PieceServeSession } from './swarm/piece-server.js';
import { PieceStore } from './swarm/piece-store.js';
import { SwarmRecipient } from './swarm/swarm-recipient.js';
import { SwarmRegistry } from './swarm/swarm-registry.js';
import { runSwarmSend } from './swarm/swarm-send.js';

export const PLUGIN_NAME = 'transport';
/** The state folder's sub-folder for shared transfers this node receives. */
export const SWARM_DIR = 'swarm';
export type { TransportOptions } from './options.js';

/** The coordinator a node's client joins: from the config, or chosen by discovery (which follows it when it moves). */
interface CoordinatorTarget {
  readonly host: string;
  readonly port: number;
  readonly fingerprint?: string;
  readonly follow?: () => { readonly host: string; readonly port: number };
  /** Called on every join. */
  readonly joined?: () => void;
}

/** What the coordinator's memory goes to, in MiB: its cost grows with the number of nodes. */
function memoryReport(): Record<string, number> {
  const m = process.memoryUsage();
  const mib = (n: number) => Math.round((n / 1048576) * 10) / 10;
  return { rssMiB: mib(m.rss), heapUsedMiB: mib(m.heapUsed), heapTotalMiB: mib(m.heapTotal), externalMiB: mib(m.external), arrayBuffersMiB: mib(m.arrayBuffers) };
}

export default class TransportPlugin implements NvidPlugin {
  static readonly pluginName = PLUGIN_NAME;
  static readonly schema = TRANSPORT_SCHEMA;
  static readonly apiVersion = 2;
  static readonly provides = ['transport'] as const;
  static readonly errorCodes = TRANSPORT_ERROR_CODES;
  private readonly options: TransportOptions;

  constructor(options: TransportOptions) {
    this.options = options;
  }

  apply(daemon: PluginHost): void {
    // The core hands these powers only to the plugin that declares it provides transport.
    const powers = daemon.transport;
    if (!powers) throw new Error('the host gave no transport powers (is another transport plugin listed?)');
    if (daemon.role === 'coordinator') this.applyCoordinator(daemon, powers);
    else this.applyNode(daemon, powers);
  }

  private limits(): FrameLimits {
    return { maxMessageBytes: this.options.maxHeaderBytes, maxDataBytes: DATA_FRAME_BYTES };
  }

  /**
   * Runs a call into the daemon (peer table, history) from a socket event: a
   * throw there (a full disk, a broken observer) is logged, never allowed to
   * unwind into the socket handler and take every other connection down.
   */
  private guard<A extends unknown[]>(daemon: PluginHost, what: string, fn: (...args: A) => void): (...args: A) => void {
    return (...args: A) => {
      try {
        fn(...args);
      } catch (err) {
        const error = asNvidError(err);
        daemon.log.error({ code: error.code }, `${what} failed: ${error.message}`);
      }
    };
  }

  /** Every refused or dropped connection: a log line and a `rejected` history entry; nothing else stops. */
  private rejecter(daemon: PluginHost): (info: RejectInfo) => void {
    return this.guard(daemon, 'recording a refused connection', (info: RejectInfo) => {
      daemon.log.warn({ code: info.code, peerId: info.peerId, remote: info.remote }, `connection refused: ${info.reason}`);
      daemon.reportRejected({ stage: 'transport', code: info.code, reason: info.reason, ...(info.peerId ? { peerId: info.peerId } : {}), ...(info.remote ? { remote: info.remote } : {}) });
    });
  }

  private applyCoordinator(daemon: PluginHost, powers: TransportPowers): void {
    const o = this.options;
    if (o.heartbeatTimeoutMs < 2 * o.heartbeatIntervalMs) {
      // A node would be dropped between two of its own heartbeats.
      throw new NvidError('NVID_ERR_PLUGIN_OPTIONS', `transport.heartbeatTimeoutMs (${o.heartbeatTimeoutMs}) must be at least twice transport.heartbeatIntervalMs (${o.heartbeatIntervalMs})`);
    }
    // Judged (or made) before anything listens: a weak token stops the start here.
    const { admission, generated } = resolveAdmission(o.admission, daemon.stateDir);
    // A shared directory is its own roster: the file is kept only for the in-memory one.
    const shared = o.directory === 'memory' ? undefined : natsDirectoryFactory(withDefaults(o.directory.nats), admissionDigest(o.admission));
    const server = new CoordinatorServer({
      identity: daemon.identity,
      host: o.listen.host,
      port: o.listen.port ?? DEFAULT_COORDINATOR_PORT,
      admission,
      heartbeatIntervalMs: o.heartbeatIntervalMs,
      heartbeatTimeoutMs: o.heartbeatTimeoutMs,
      authTimeoutMs: o.authTimeoutMs,
      maxUnauthenticated: o.maxUnauthenticated,
      limits: this.limits(),
      log: daemon.log,
      onReject: this.rejecter(daemon),
      ...(shared ? { directory: shared.factory } : { rosterPath: join(daemon.stateDir, ROSTER_FILE) }),
      // The coordinator's own peer table mirrors the address book, so `nvid peers` and its history show it too.
      observer: {
        joined: this.guard(daemon, 'recording a join', (peer: Peer) => powers.peers.upsert(peer)),
        renamed: this.guard(daemon, 'recording a rename', (peer: Peer) => powers.peers.upsert(peer)),
        left: this.guard(daemon, 'recording a leave', (peer: Peer) => powers.peers.remove(peer.id)),
      },
    });
    let port = 0;
    let announcer: CoordinatorAnnouncer | undefined;
    daemon.hooks.start.tapPromise(PLUGIN_NAME, async () => {
      port = await server.start();
      daemon.log.info({ port, fingerprint: daemon.identity.id, admission: o.admission.policy }, `coordinator listening on ${o.listen.host}:${port}; nodes may pin fingerprint ${daemon.identity.id}`);
      if (generated) {
        // The log line never carries the token (logs travel further than the state folder).
        daemon.log.info({ joinTokenFile: generated.path, created: generated.created }, `nodes join with the token in ${generated.path} (transport.joinToken, or transport.joinTokenFile naming a copy)`);
        // Said once, in words, to the person starting a new coordinator: without it no node can join.
        if (generated.created) process.stderr.write(joinInstructions({ path: generated.path, token: admission.token!, host: o.listen.host, port, fingerprint: daemon.identity.id }));
      }
      if (!o.discovery.mdns) return;
      if (/^(127\.|::1$|localhost$)/.test(o.listen.host)) daemon.log.warn(`announcing on mDNS a coordinator that listens on ${o.listen.host} only: nodes on other machines cannot reach it`);
      announcer = new CoordinatorAnnouncer({ multicast: multicastOptions(o.discovery.interface), log: daemon.log });
      announcer.start({ name: daemon.name, port, fingerprint: daemon.identity.id });
    });
    daemon.hooks.stop.tapPromise(PLUGIN_NAME, async () => {
      await announcer?.stop();
      await server.stop();
    });
    daemon.hooks.status.tap(PLUGIN_NAME, (report) => ({
      ...report,
      transport: {
        role: 'coordinator',
        port,
        fingerprint: daemon.identity.id,
        admission: o.admission.policy,
        ...(generated ? { joinTokenFile: generated.path } : {}),
        nodes: server.peers().length,
        connected: server.connectedPeers().length,
        directory: shared?.status() ?? 'memory',
        ...(o.discovery.mdns ? { discovery: { mdns: true, interface: o.discovery.interface ?? 'all' } } : {}),
        memory: memoryReport(),
      },
    }));
  }

  /**
   * The bytes of a piece this node is about to pass on to another recipient. The seam a test
   * plugin overrides to play a recipient that forwards bad pieces (test/fixtures/plugins).
   */
  protected pieceToServe(store: PieceStore, index: number): Promise<Buffer> {
    return store.read(index);
  }

  private applyNode(daemon: PluginHost, powers: TransportPowers): void {
    const o = this.options;
    const registry = new SwarmRegistry();
    const shares = this.swarmRecipient(daemon, powers, registry);
    const transfers = this.transferServer(daemon, powers, this.swarmServer(daemon, registry, shares));
    let sweeper: NodeJS.Timeout | undefined;
    let transferPort = 0;
    const pins = new CoordinatorPins(join(daemon.stateDir, KNOWN_COORDINATORS_FILE));
    // Judged in apply(), so naming both token options stops the start; the client joins later.
    const token = this.joinToken(daemon);
    // Made once the coordinator is known: at start from the config, or when discovery chooses one.
    let client: CoordinatorClient | undefined;
    let browser: CoordinatorBrowser | undefined;
    const joinCoordinator = (target: CoordinatorTarget) => {
      client = this.coordinatorClient(daemon, powers, pins, token, () => transferPort, target);
      client.start();
    };
    // The config names no coordinator and discovery is on: browse; otherwise the config's (or the default) is joined.
    const discovers = o.discovery.mdns && o.coordinator.host === undefined;
    if (o.discovery.mdns && !discovers) daemon.log.info(`not browsing mDNS: transport.coordinator.host names the coordinator (${this.configuredAddress()})`);

    daemon.hooks.start.tapPromise(PLUGIN_NAME, async () => {
      transferPort = await transfers.listen();
      daemon.log.info({ port: transferPort }, `accepting transfers from admitted peers on ${o.listen.host}:${transferPort}`);
      // Shared transfers cut short by a restart go on from the pieces on disk; their sources are found once the peer list is in.
      await shares.resumeAll();
      sweeper = setInterval(() => shares.sweep(), Math.min(60_000, o.swarm.partialMaxAgeMs));
      sweeper.unref();
      if (discovers) {
        browser = this.coordinatorBrowser(daemon, pins, joinCoordinator);
        browser.start();
      } else {
        joinCoordinator({ host: o.coordinator.host ?? DEFAULT_COORDINATOR_HOST, port: o.coordinator.port, ...(o.coordinator.fingerprint ? { fingerprint: normaliseFingerprint(o.coordinator.fingerprint) } : {}) });
      }
    });
    daemon.hooks.stop.tapPromise(PLUGIN_NAME, async () => {
      await browser?.stop();
      await client?.leave();
      clearInterval(sweeper);
      await shares.close();
      await transfers.close();
    });
    daemon.hooks.deliver.tapPromise(PLUGIN_NAME, async (request) => {
      const gone = new ReceiverGoneDetector(request.peer.name, request.envelope.length);
      try {
        return await deliverEnvelope({
          identity: daemon.identity,
          peer: request.peer,
          transferId: request.meta.transferId,
          envelope: request.envelope.stream,
          ...(request.envelope.length !== undefined ? { length: request.envelope.length } : {}),
          bulkChannel: o.bulkChannel,
          onProgress: (sent) => {
            gone.progress(sent);
            request.onProgress?.(sent);
          },
          connectTimeoutMs: o.authTimeoutMs,
          ackTimeoutMs: o.ackTimeoutMs,
          limits: this.limits(),
        });
      } catch (err) {
        throw gone.explain(err);
      }
    });
    daemon.hooks.deliverShared.tapPromise(PLUGIN_NAME, async (request) => {
      const { file, length } = request.envelope;
      const pieceBytes = pieceBytesFor(length, o.swarm.pieceBytes);
      const hashes = await hashPieces(file, length, pieceBytes);
      // `created` is the envelope's own time, so a retry of the same envelope signs the very same manifest and recipients keep their pieces.
      const signed = signManifest(
        { transferId: request.meta.transferId, senderId: daemon.identity.id, recipients: request.meta.recipientIds ?? [request.meta.receiverId], length, pieceBytes, created: request.meta.time, hashes },
        daemon.identity.keyPem,
      );
      const store = await PieceStore.source(file, signed);
      registry.register(store);
      try {
        const verdicts = await runSwarmSend({
          identity: daemon.identity,
          senderName: daemon.name,
          signed,
          recipients: request.recipients,
          registry,
          limits: this.limits(),
          connectTimeoutMs: o.authTimeoutMs,
          graceMs: o.swarm.rejoinGraceMs,
          ...(request.onProgress ? { onProgress: request.onProgress } : {}),
          ...(request.signal ? { signal: request.signal } : {}),
          log: daemon.log,
        });
        return verdicts.map((v) => ('error' in v ? { peerId: v.peerId, error: v.error } : { peerId: v.peerId, receipt: v.receipt, ...(v.badSources ? { badSources: v.badSources } : {}) }));
      } finally {
        registry.unregister(store);
        await store.close();
      }
    });
    daemon.hooks.remoteScreen.tapPromise(PLUGIN_NAME, ({ peer, request }) =>
      requestScreen({ identity: daemon.identity, peer, request, timeoutMs: o.screenTimeoutMs, limits: this.limits() }),
    );
    daemon.hooks.rename.tapPromise(PLUGIN_NAME, async ({ name }) => {
      let assigned: string;
      try {
        if (!client) throw new NvidError('NVID_ERR_CONNECTION', 'no coordinator found yet (mDNS discovery is still looking); the rename can be retried once the node has joined');
        assigned = await client.rename(name);
      } catch (err) {
        throw asNvidError(err, 'NVID_ERR_CONNECTION');
      }
      powers.setName(assigned);
      return assigned;
    });
    // Peer lists carry no certificates; the coordinator hands one out when the core first seals for a peer.
    daemon.hooks.certificate.tapPromise(PLUGIN_NAME, async ({ id }) => {
      if (!client) throw new NvidError('NVID_ERR_CONNECTION', 'no coordinator found yet (mDNS discovery is still looking), and it keeps the certificates of peers');
      return client.certificate(id);
    });
    daemon.hooks.status.tap(PLUGIN_NAME, (report) => {
      const found = browser?.coordinator;
      // While discovery is still looking there is no coordinator address to show.
      const coordinator = found ? `${found.host}:${found.port}` : browser ? undefined : (client?.coordinator ?? this.configuredAddress());
      return {
        ...report,
        transport: {
          role: 'node',
          ...(browser ? { discovery: { mdns: true, interface: o.discovery.interface ?? 'all', found: found !== undefined } } : {}),
          ...(coordinator ? { coordinator } : {}),
          connected: client?.connected ?? false,
          transferPort,
          activeTransfers: transfers.activeTransfers,
          bulkChannel: o.bulkChannel,
          bodiesReceived: transfers.bodiesReceived,
          sharedTransfers: shares.active,
          sharedBytesServed: registry.servedBytes,
        },
      };
    });
  }

  /** Takes transfers from admitted peers (the daemon's peer table) into the daemon's receive pipeline. */
  /** A recipient's shared transfers: offers taken, pieces fetched and kept, the receive pipeline run on the whole. */
  private swarmRecipient(daemon: PluginHost, powers: TransportPowers, registry: SwarmRegistry): SwarmRecipient {
    const o = this.options;
    return new SwarmRecipient({
      identity: daemon.identity,
      dir: join(daemon.stateDir, SWARM_DIR),
      registry,
      limits: this.limits(),
      connectTimeoutMs: o.authTimeoutMs,
      stallMs: o.swarm.stallMs,
      bulk: o.bulkChannel === 'tcp',
      maxAgeMs: o.swarm.partialMaxAgeMs,
      // The envelope is a little larger than the file: a tag per chunk, the header, the recipient stanzas.
      maxEnvelopeBytes: Math.floor(daemon.maxReceiveBytes * 1.25) + 1024 * 1024,
      lookupPeer: (id) => daemon.peers.get(id),
      acceptSender: (sender) => powers.vetoSender(sender),
      receive: (sender, envelope) => powers.receive({ sender, envelope }),
      onBadSource: this.guard(daemon, 'reporting a bad source', (transferId: string, peerId: string, err: NvidError) => {
        const name = daemon.peers.get(peerId)?.name ?? peerId.slice(0, 12);
        daemon.log.warn({ transferId, peerId, code: err.code }, `${name} passed on a bad piece of transfer ${transferId} (${err.message}); it is no longer used as a source`);
        daemon.reportRejected({ stage: 'transport', code: err.code, reason: `${name} passed on a bad piece: ${err.message}`, peerId, transferId });
      }),
      log: daemon.log,
    });
  }

  /** Connections that open with a shared-transfer message: offers, pulls and late reports. */
  private swarmServer(daemon: PluginHost, registry: SwarmRegistry, shares: SwarmRecipient): ServeSwarm {
    return async (conn, sender, message, bulk): Promise<SwarmSink | undefined> => {
      switch (message.type) {
        case 'swarm-offer':
          return shares.onOffer(conn, sender, message);
        case 'swarm-pull': {
          const session = new PieceServeSession(conn, sender.id, registry, (store, index) => this.pieceToServe(store, index), daemon.log, bulk);
          void session.run(message);
          return session;
        }
        case 'swarm-report': {
          const { transferId, type: _type, ...report } = message;
          if (!registry.report(transferId, sender.id, report)) daemon.log.info({ transferId, from: sender.name }, `${sender.name} reported on transfer ${transferId}, which this node no longer waits for`);
          conn.end();
          return undefined;
        }
      }
    };
  }

  private transferServer(daemon: PluginHost, powers: TransportPowers, serveSwarm: ServeSwarm): TransferServer {
    const o = this.options;
    const onReject = this.rejecter(daemon);
    return new TransferServer({
      identity: daemon.identity,
      host: o.listen.host,
      port: o.listen.port ?? 0,
      authTimeoutMs: o.authTimeoutMs,
      maxUnauthenticated: o.maxUnauthenticated,
      idleTimeoutMs: o.idleTimeoutMs,
      maxActiveTransfers: o.maxActiveTransfers,
      maxActiveTransfersPerPeer: o.maxActiveTransfersPerPeer,
      bodyRate: { minBytesPerSecond: o.minBodyBytesPerSecond, windowMs: o.bodyRateWindowMs },
      limits: this.limits(),
      log: daemon.log,
      onReject,
      lookupPeer: (id) => daemon.peers.get(id),
      receive: ({ sender, envelope }) => powers.receive({ sender, envelope }),
      serveScreen: (sender, request) => powers.serveScreenRequest(sender, request),
      serveSwarm,
      bulkChannel: o.bulkChannel,
    });
  }

  /** Keeps the daemon's name and peer table in step with the coordinator; `transferPort` is where this node listens once started. */
  private coordinatorClient(
    daemon: PluginHost,
    powers: TransportPowers,
    pins: CoordinatorPins,
    token: ReturnType<TransportPlugin['joinToken']>,
    transferPort: () => number,
    target: CoordinatorTarget,
  ): CoordinatorClient {
    const o = this.options;
    // Discovery follows the one coordinator it found; a config may list several that share a directory (failover, in order).
    const configured = target.follow ? [] : (o.coordinators ?? []).map(({ host, port, fingerprint }) => ({ host, port, ...(fingerprint ? { fingerprint: normaliseFingerprint(fingerprint) } : {}) }));
    const [first, ...fallbacks] = configured.length > 0 ? configured : [{ host: target.host, port: target.port, ...(target.fingerprint ? { fingerprint: target.fingerprint } : {}) }];
    // The coordinator joined (or tried) right now: it changes on failover, or when the discovered one moves.
    const address = () => client.coordinator;
    const client: CoordinatorClient = new CoordinatorClient({
      identity: daemon.identity,
      ...first!,
      fallbacks,
      ...(target.follow ? { target: target.follow } : {}),
      pins,
      ...token,
      name: () => daemon.name,
      tags: daemon.tags,
      advertise: () => ({ port: transferPort(), ...(o.advertiseHost ? { address: o.advertiseHost } : {}) }),
      heartbeatTimeoutMs: o.heartbeatTimeoutMs,
      connectTimeoutMs: o.authTimeoutMs,
      reconnect: o.reconnect,
      limits: this.limits(),
      log: daemon.log,
      events: {
        joined: this.guard(daemon, 'joining', ({ name }: { name: string }) => {
          daemon.log.info({ coordinator: address(), name }, `joined coordinator ${address()} as ${name}`);
          if (name !== daemon.name) powers.setName(name);
          target.joined?.();
        }),
        peerList: this.guard(daemon, 'updating the peer table', (peers: Peer[]) => powers.peers.replaceAll(peers)),
        peerJoined: this.guard(daemon, 'recording a join', (peer: Peer) => powers.peers.upsert(peer)),
        peerLeft: this.guard(daemon, 'recording a leave', (id: string) => powers.peers.remove(id)),
        peerRenamed: this.guard(daemon, 'recording a rename', (peer: Peer) => powers.peers.upsert(peer)),
        refused: this.guard(daemon, 'recording a refusal', (err: NvidError) => {
          daemon.log.error({ code: err.code, coordinator: address() }, `coordinator refused: ${err.message}`);
          daemon.reportRejected({ stage: 'transport', code: err.code, reason: err.message, coordinator: address() });
        }),
        // The peer table is kept while the coordinator is away: transfers between known peers go on.
        disconnected: (reason) => daemon.log.warn({ coordinator: address() }, `lost the coordinator (${reason}); reconnecting`),
      },
    });
    return client;
  }

  /** The node's join token: from the config, or read from `joinTokenFile` at each attempt. */
  private joinToken(daemon: PluginHost): { token?: string | (() => string | undefined) } {
    const o = this.options;
    if (o.joinToken !== undefined && o.joinTokenFile !== undefined) {
      throw new NvidError('NVID_ERR_PLUGIN_OPTIONS', 'transport.joinToken and transport.joinTokenFile are both set; keep one');
    }
    if (o.joinToken !== undefined) return { token: o.joinToken };
    if (o.joinTokenFile === undefined) return {};
    return { token: tokenFromFile(resolve(daemon.configDir, o.joinTokenFile), (message) => daemon.log.warn(message)) };
  }

  /**
   * Browses for a coordinator (the config names none and discovery is on). It joins only the
   * fingerprint it was given (flag or config), else the one recorded on an earlier first use,
   * else one the person at the terminal confirms; that choice is recorded once joined.
   */
  private coordinatorBrowser(daemon: PluginHost, pins: CoordinatorPins, joinCoordinator: (target: CoordinatorTarget) => void): CoordinatorBrowser {
    const o = this.options;
    const recorded = pins.lookup(DISCOVERY_PIN);
    let expected: Expected | undefined;
    if (o.coordinator.fingerprint) expected = { fingerprint: normaliseFingerprint(o.coordinator.fingerprint), source: 'given by --coordinator-fingerprint or transport.coordinator.fingerprint' };
    else if (recorded) expected = { fingerprint: recorded, source: `recorded in ${pins.path}` };
    const browser: CoordinatorBrowser = new CoordinatorBrowser({
      multicast: multicastOptions(o.discovery.interface),
      expected,
      confirm: terminalConfirm(),
      log: daemon.log,
      chosen: (found: DiscoveredCoordinator) =>
        joinCoordinator({
          host: found.host,
          port: found.port,
          fingerprint: found.fingerprint,
          follow: () => browser.coordinator ?? found,
          // Recorded only once TLS showed that very certificate: a lying announcement is never remembered.
          joined: this.guard(daemon, 'recording the coordinator', () => {
            if (pins.lookup(DISCOVERY_PIN) !== undefined) return;
            pins.check(DISCOVERY_PIN, found.fingerprint);
            daemon.log.info({ fingerprint: found.fingerprint }, `remembered coordinator ${found.fingerprint} for discovery in ${pins.path}`);
          }),
        }),
      refused: this.guard(daemon, 'recording a refusal', (err: NvidError) => daemon.reportRejected({ stage: 'transport', code: err.code, reason: err.message, ...err.details })),
    });
    return browser;
  }

  private configuredAddress(): string {
    return `${this.options.coordinator.host ?? DEFAULT_COORDINATOR_HOST}:${this.options.coordinator.port}`;
  }
}
