/**
 * A real coordinator server and real coordinator clients on 127.0.0.1, wired
 * to in-memory peer tables, for the coordinator link tests.
 */
import { join } from 'node:path';
import type { NvidError } from '../../../core/errors.js';
import type { Identity } from '../../../core/types.js';
import { CoordinatorClient } from '../../../plugins/transport/coordinator/coordinator-client.js';
import { CoordinatorPins } from '../../../plugins/transport/coordinator/coordinator-pins.js';
import type { CoordinatorAddress } from '../../../plugins/transport/coordinator/coordinator-failover.js';
import { CoordinatorServer, type AdmissionPolicy } from '../../../plugins/transport/coordinator/coordinator-server.js';
import type { DirectoryFactory } from '../../../plugins/transport/coordinator/directory.js';
import { DEFAULT_LIMITS } from '../../../plugins/transport/wire/frame-codec.js';
import type { RejectInfo } from '../../../plugins/transport/wire/guarded-tls-server.js';
import { MemoryPeers, identity, silentLog } from './helpers.js';

export interface ServerSetup {
  admission?: AdmissionPolicy;
  heartbeatIntervalMs?: number;
  heartbeatTimeoutMs?: number;
  authTimeoutMs?: number;
  maxUnauthenticated?: number;
  port?: number;
  ident?: Identity;
  rosterPath?: string;
  maxMessageBytes?: number;
  /** The address book's keeper (directory.ts); the in-memory registry when absent. */
  directory?: DirectoryFactory;
}

export async function startCoordinator(setup: ServerSetup = {}) {
  const rejects: RejectInfo[] = [];
  const server = new CoordinatorServer({
    identity: setup.ident ?? identity(0),
    host: '127.0.0.1',
    port: setup.port ?? 0,
    admission: setup.admission ?? { policy: 'open' },
    heartbeatIntervalMs: setup.heartbeatIntervalMs ?? 200,
    heartbeatTimeoutMs: setup.heartbeatTimeoutMs ?? 1000,
    authTimeoutMs: setup.authTimeoutMs ?? 2000,
    maxUnauthenticated: setup.maxUnauthenticated ?? 16,
    limits: { ...DEFAULT_LIMITS, maxMessageBytes: setup.maxMessageBytes ?? DEFAULT_LIMITS.maxMessageBytes },
    log: silentLog,
    onReject: (info) => rejects.push(info),
    ...(setup.rosterPath ? { rosterPath: setup.rosterPath } : {}),
    ...(setup.directory ? { directory: setup.directory } : {}),
  });
  const port = await server.start();
  return { server, port, rejects };
}

export interface ClientSetup {
  port: number;
  ident: Identity;
  name: string;
  stateDir: string;
  token?: string;
  fingerprint?: string;
  transferPort?: number;
  heartbeatTimeoutMs?: number;
  maxMessageBytes?: number;
  tags?: string[];
  /** Further coordinators to fail over to, in order. */
  fallbacks?: CoordinatorAddress[];
}

/** A coordinator client whose events land in a MemoryPeers table, plus what it was told. */
export function startClient(setup: ClientSetup) {
  const peers = new MemoryPeers();
  const refusals: NvidError[] = [];
  const state = { name: setup.name, joins: 0, disconnects: 0 };
  const client = new CoordinatorClient({
    identity: setup.ident,
    host: '127.0.0.1',
    port: setup.port,
    ...(setup.fingerprint ? { fingerprint: setup.fingerprint } : {}),
    ...(setup.fallbacks ? { fallbacks: setup.fallbacks } : {}),
    pins: new CoordinatorPins(join(setup.stateDir, 'known_coordinators')),
    ...(setup.token !== undefined ? { token: setup.token } : {}),
    name: () => state.name,
    ...(setup.tags ? { tags: setup.tags } : {}),
    advertise: () => ({ port: setup.transferPort ?? 4000 }),
    heartbeatTimeoutMs: setup.heartbeatTimeoutMs ?? 1000,
    connectTimeoutMs: 2000,
    reconnect: { minMs: 20, maxMs: 200 },
    limits: { ...DEFAULT_LIMITS, maxMessageBytes: setup.maxMessageBytes ?? DEFAULT_LIMITS.maxMessageBytes },
    log: silentLog,
    events: {
      joined: ({ name }) => {
        state.name = name;
        state.joins += 1;
      },
      peerList: (list) => peers.replaceAll(list),
      peerJoined: (peer) => peers.upsert(peer),
      peerLeft: (id) => peers.remove(id),
      peerRenamed: (peer) => peers.upsert(peer),
      refused: (err) => refusals.push(err),
      disconnected: () => (state.disconnects += 1),
    },
  });
  client.start();
  return { client, peers, refusals, state };
}
