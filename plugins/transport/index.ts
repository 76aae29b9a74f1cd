/**
 * The bundled transport plugin. On a coordinator it runs the address book
 * server; on a node it joins the coordinator, keeps `daemon.peers` current,
 * serves incoming transfers and delivers outgoing ones. The protocol logic
 * lives in the hook-free wings wire/, coordinator/ and transfer/; this file
 * only wires them to the daemon's hooks.
 */
import { join } from 'node:path';
import { NvidError, asNvidError } from '../../core/errors.js';
import type { NvidPlugin, PluginHost, TransportPowers } from '../../core/plugin-api.js';
import type { Peer } from '../../core/types.js';
import { CoordinatorClient } from './coordinator/coordinator-client.js';
import { CoordinatorPins, KNOWN_COORDINATORS_FILE } from './coordinator/coordinator-pins.js';
import { ROSTER_FILE } from './coordinator/coordinator-roster.js';
import { CoordinatorServer } from './coordinator/coordinator-server.js';
import { natsDirectoryFactory } from './coordinator/directory-nats.js';
import { admissionDigest, withDefaults } from './coordinator/nats-options.js';
import { DATA_FRAME_BYTES, type FrameLimits } from './wire/frame-codec.js';
import type { RejectInfo } from './wire/guarded-tls-server.js';
import { DEFAULT_COORDINATOR_PORT, TRANSPORT_SCHEMA, type TransportOptions } from './options.js';
import { TRANSPORT_ERROR_CODES } from './errors.js';
import { normaliseFingerprint } from './wire/tls-helpers.js';
import { ReceiverGoneDetector } from './transfer/receiver-gone.js';
import { deliverEnvelope } from './transfer/transfer-client.js';
import { requestScreen } from './transfer/screen-request-client.js';
import { TransferServer } from './transfer/transfer-server.js';

export const PLUGIN_NAME = 'transport';
export type { TransportOptions } from './options.js';

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
    // A shared directory is its own roster: the file is kept only for the in-memory one.
    const shared = o.directory === 'memory' ? undefined : natsDirectoryFactory(withDefaults(o.directory.nats), admissionDigest(o.admission));
    const server = new CoordinatorServer({
      identity: daemon.identity,
      host: o.listen.host,
      port: o.listen.port ?? DEFAULT_COORDINATOR_PORT,
      admission: o.admission,
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
    daemon.hooks.start.tapPromise(PLUGIN_NAME, async () => {
      port = await server.start();
      daemon.log.info({ port, fingerprint: daemon.identity.id, admission: o.admission.policy }, `coordinator listening on ${o.listen.host}:${port}; nodes may pin fingerprint ${daemon.identity.id}`);
    });
    daemon.hooks.stop.tapPromise(PLUGIN_NAME, () => server.stop());
    daemon.hooks.status.tap(PLUGIN_NAME, (report) => ({
      ...report,
      transport: { role: 'coordinator', port, fingerprint: daemon.identity.id, admission: o.admission.policy, nodes: server.peers().length, connected: server.connectedPeers().length, directory: shared?.status() ?? 'memory', memory: memoryReport() },
    }));
  }

  private applyNode(daemon: PluginHost, powers: TransportPowers): void {
    const o = this.options;
    const transfers = this.transferServer(daemon, powers);
    let transferPort = 0;
    const client = this.coordinatorClient(daemon, powers, () => transferPort);

    daemon.hooks.start.tapPromise(PLUGIN_NAME, async () => {
      transferPort = await transfers.listen();
      daemon.log.info({ port: transferPort }, `accepting transfers from admitted peers on ${o.listen.host}:${transferPort}`);
      client.start();
    });
    daemon.hooks.stop.tapPromise(PLUGIN_NAME, async () => {
      await client.leave();
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
    daemon.hooks.remoteScreen.tapPromise(PLUGIN_NAME, ({ peer, request }) =>
      requestScreen({ identity: daemon.identity, peer, request, timeoutMs: o.screenTimeoutMs, limits: this.limits() }),
    );
    daemon.hooks.rename.tapPromise(PLUGIN_NAME, async ({ name }) => {
      let assigned: string;
      try {
        assigned = await client.rename(name);
      } catch (err) {
        throw asNvidError(err, 'NVID_ERR_CONNECTION');
      }
      powers.setName(assigned);
      return assigned;
    });
    daemon.hooks.status.tap(PLUGIN_NAME, (report) => ({
      ...report,
      transport: { role: 'node', coordinator: client.coordinator, connected: client.connected, transferPort, activeTransfers: transfers.activeTransfers, bulkChannel: o.bulkChannel, bodiesReceived: transfers.bodiesReceived },
    }));
  }

  /** Takes transfers from admitted peers (the daemon's peer table) into the daemon's receive pipeline. */
  private transferServer(daemon: PluginHost, powers: TransportPowers): TransferServer {
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
      bulkChannel: o.bulkChannel,
    });
  }

  /** Keeps the daemon's name and peer table in step with the coordinator; `transferPort` is where this node listens once started. */
  private coordinatorClient(daemon: PluginHost, powers: TransportPowers, transferPort: () => number): CoordinatorClient {
    const o = this.options;
    const [first, ...fallbacks] = (o.coordinators ?? [o.coordinator]).map(({ host, port, fingerprint }) => ({ host, port, ...(fingerprint ? { fingerprint: normaliseFingerprint(fingerprint) } : {}) }));
    // The coordinator joined (or tried) right now: with several listed, it changes on failover.
    const coordinatorAddress = () => client.coordinator;
    const client: CoordinatorClient = new CoordinatorClient({
      identity: daemon.identity,
      ...first!,
      fallbacks,
      pins: new CoordinatorPins(join(daemon.stateDir, KNOWN_COORDINATORS_FILE)),
      ...(o.joinToken !== undefined ? { token: o.joinToken } : {}),
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
          daemon.log.info({ coordinator: coordinatorAddress(), name }, `joined coordinator ${coordinatorAddress()} as ${name}`);
          if (name !== daemon.name) powers.setName(name);
        }),
        peerList: this.guard(daemon, 'updating the peer table', (peers: Peer[]) => powers.peers.replaceAll(peers)),
        peerJoined: this.guard(daemon, 'recording a join', (peer: Peer) => powers.peers.upsert(peer)),
        peerLeft: this.guard(daemon, 'recording a leave', (id: string) => powers.peers.remove(id)),
        peerRenamed: this.guard(daemon, 'recording a rename', (peer: Peer) => powers.peers.upsert(peer)),
        refused: this.guard(daemon, 'recording a refusal', (err: NvidError) => {
          daemon.log.error({ code: err.code, coordinator: coordinatorAddress() }, `coordinator refused: ${err.message}`);
          daemon.reportRejected({ stage: 'transport', code: err.code, reason: err.message, coordinator: coordinatorAddress() });
        }),
        // The peer table is kept while the coordinator is away: transfers between known peers go on.
        disconnected: (reason) => daemon.log.warn({ coordinator: coordinatorAddress() }, `lost the coordinator (${reason}); reconnecting`),
      },
    });
    return client;
  }
}
