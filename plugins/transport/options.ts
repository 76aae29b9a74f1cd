import { DIRECTORY_SCHEMA, type DirectoryOption } from './coordinator/nats-options.js';

/**
 * The transport plugin's options: their JSON schema (validated by the core
 * with ajv, defaults filled in) and the matching TypeScript shape.
 */

/** Port a coordinator listens on when the config names none. */
export const DEFAULT_COORDINATOR_PORT = 7700;
/** The coordinator a node joins when the config names none and discovery is off. */
export const DEFAULT_COORDINATOR_HOST = '127.0.0.1';

export interface TransportOptions {
  /** Coordinator: where the coordinator listens. Node: where the transfer server listens (port 0 = any free port, advertised). */
  readonly listen: { readonly host: string; readonly port?: number };
  /** Node: the address other nodes should use to reach this one; by default the address the coordinator sees. */
  readonly advertiseHost?: string;
  /**
   * Node: the coordinator to join, optionally with its pinned certificate fingerprint. Without a host,
   * the node browses for one when `discovery.mdns` is on, and joins 127.0.0.1 when it is off.
   */
  readonly coordinator: { readonly host?: string; readonly port: number; readonly fingerprint?: string };
  /** Both: mDNS/DNS-SD discovery (`_nvid._tcp`), off unless turned on; `interface` = the one interface to use (an IPv4 address or a name). */
  readonly discovery: { readonly mdns: boolean; readonly interface?: string };
  /** Node: several coordinators sharing one directory, tried in order, the next one taken whenever the link drops; replaces `coordinator`. */
  readonly coordinators?: ReadonlyArray<{ readonly host: string; readonly port: number; readonly fingerprint?: string }>;
  /** Coordinator: who keeps the address book; `memory` (default) or a NATS key-value bucket shared with other coordinators. */
  readonly directory: DirectoryOption;
  /** Coordinator: who may join. Under `token` without a token, one is generated and kept in the state folder. */
  readonly admission: { readonly policy: 'open' | 'token' | 'fingerprints'; readonly token?: string; readonly fingerprints?: readonly string[] };
  /** Node: the coordinator's join token, when its policy is `token`. */
  readonly joinToken?: string;
  /** Node: a file holding that token (relative to the config file), read at each join attempt; instead of `joinToken`. */
  readonly joinTokenFile?: string;
  readonly heartbeatIntervalMs: number;
  readonly heartbeatTimeoutMs: number;
  readonly authTimeoutMs: number;
  readonly idleTimeoutMs: number;
  readonly ackTimeoutMs: number;
  /** Node: how long a remote-screen request (screenshot, status, skip ...) may take, connecting included. */
  readonly screenTimeoutMs: number;
  readonly maxUnauthenticated: number;
  readonly maxActiveTransfers: number;
  readonly maxActiveTransfersPerPeer: number;
  readonly minBodyBytesPerSecond: number;
  readonly bodyRateWindowMs: number;
  readonly maxHeaderBytes: number;
  readonly reconnect: { readonly minMs: number; readonly maxMs: number };
  /**
   * Node: how transfer bodies travel. `tcp` (default): the sealed envelope goes raw on a
   * token-bound plain TCP connection to the same port (it is end-to-end encrypted and
   * signed already; TLS stays for authentication, header, ack and errors). `tls`: the body
   * goes inside the TLS connection too. Each side applies its own: TLS is used unless both allow `tcp`.
   */
  readonly bulkChannel: 'tcp' | 'tls';
  /** Node: shared transfers, whose recipients pass pieces on to each other (see swarm/). */
  readonly swarm: {
    /** Piece size the sender cuts envelopes into (larger for envelopes past 1024 pieces). */
    readonly pieceBytes: number;
    /** A source that sends nothing for this long is left for the next one. */
    readonly stallMs: number;
    /** How long a sender waits for a recipient whose control link dropped to report back. */
    readonly rejoinGraceMs: number;
    /** Partial (and finished) shared transfers older than this are removed from the state folder. */
    readonly partialMaxAgeMs: number;
  };
}

const fingerprint = { type: 'string', pattern: '^([0-9a-fA-F]{2}:?){31}[0-9a-fA-F]{2}$' } as const;
const coordinatorAddress = {
  type: 'object',
  additionalProperties: false,
  required: ['host', 'port'],
  properties: {
    host: { type: 'string', minLength: 1 },
    port: { type: 'integer', minimum: 1, maximum: 65535 },
    fingerprint,
  },
} as const;
const positive = (value: number, minimum = 1) => ({ type: 'integer', minimum, default: value }) as const;

export const TRANSPORT_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  properties: {
    listen: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        host: { type: 'string', minLength: 1, default: '0.0.0.0' },
        port: { type: 'integer', minimum: 0, maximum: 65535, description: `coordinator: default ${DEFAULT_COORDINATOR_PORT}; node: default 0 (any free port)` },
      },
    },
    advertiseHost: { type: 'string', minLength: 1, maxLength: 255 },
    coordinator: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        host: { type: 'string', minLength: 1, description: `default ${DEFAULT_COORDINATOR_HOST}, or found by mDNS when discovery.mdns is on` },
        port: { type: 'integer', minimum: 1, maximum: 65535, default: DEFAULT_COORDINATOR_PORT },
        fingerprint,
      },
    },
    discovery: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        mdns: { type: 'boolean', default: false, description: 'coordinator: announce _nvid._tcp on the LAN; node without coordinator.host: browse for it' },
        interface: { type: 'string', minLength: 1, description: 'the only interface mDNS uses: its IPv4 address or its name (default: every interface)' },
      },
    },
    coordinators: {
      type: 'array',
      minItems: 1,
      maxItems: 16,
      items: coordinatorAddress,
      description: 'node: coordinators that share one directory, tried in order; when the link to one drops the node joins the next. Each is pinned on its own (fingerprint, or trust on first use per address). Replaces `coordinator`',
    },
    directory: DIRECTORY_SCHEMA,
    admission: {
      type: 'object',
      additionalProperties: false,
      default: { policy: 'open' },
      required: ['policy'],
      properties: {
        policy: { enum: ['open', 'token', 'fingerprints'] },
        // Length and placeholders are judged when the coordinator starts, with a message saying how to fix them (join-token.ts).
        token: {
          type: 'string',
          minLength: 1,
          maxLength: 1024,
          description: 'the join token under the token policy: at least 16 characters, no placeholder; omit it to have one generated on first start and kept in the state folder (join-token)',
        },
        fingerprints: { type: 'array', items: fingerprint },
      },
      // A fingerprint list is the policy's only input: without one it would admit nobody. (A token policy without a token generates one.)
      if: { properties: { policy: { const: 'fingerprints' } } },
      then: { required: ['fingerprints'] },
    },
    joinToken: { type: 'string', minLength: 1, maxLength: 1024 },
    joinTokenFile: { type: 'string', minLength: 1, description: "node: a file holding the coordinator's join token (relative to the config file), read at each join attempt; instead of joinToken" },
    heartbeatIntervalMs: positive(5000, 10),
    heartbeatTimeoutMs: positive(15000, 30),
    authTimeoutMs: positive(10000, 10),
    idleTimeoutMs: positive(30000, 10),
    ackTimeoutMs: positive(120000, 10),
    screenTimeoutMs: { ...positive(15000, 100), description: "how long a request to a peer's screen (nvid screenshot --of, nvid screen PEER ...) may take before it fails with NVID_ERR_TIMEOUT" },
    maxUnauthenticated: positive(64),
    maxActiveTransfers: positive(32),
    maxActiveTransfersPerPeer: { ...positive(8), description: 'transfers one peer may have in progress here at once, so one peer cannot take every slot' },
    minBodyBytesPerSecond: {
      type: 'integer',
      minimum: 0,
      default: 16 * 1024,
      description: "a body arriving slower than this over a whole window is cut off (0: no floor); time the receiver holds the sender back doesn't count",
    },
    bodyRateWindowMs: { ...positive(30000, 100), description: 'the stretch of a body over which minBodyBytesPerSecond is judged' },
    maxHeaderBytes: positive(64 * 1024, 16 * 1024),
    reconnect: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: { minMs: positive(500, 10), maxMs: positive(30000, 10) },
    },
    bulkChannel: { enum: ['tcp', 'tls'], default: 'tcp' },
    swarm: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        pieceBytes: { type: 'integer', minimum: 65536, maximum: 64 * 1024 * 1024, multipleOf: 65536, default: 512 * 1024, description: 'piece size of shared transfers (a multiple of 64 KiB)' },
        stallMs: { ...positive(15000, 100), description: 'a source of pieces that sends nothing for this long is left for the next one' },
        rejoinGraceMs: { ...positive(120000, 100), description: 'how long a sender waits for a recipient whose control link dropped to report back' },
        partialMaxAgeMs: { ...positive(45 * 60 * 1000, 1000), description: 'partial shared transfers older than this are removed' },
      },
    },
  },
} as const;
