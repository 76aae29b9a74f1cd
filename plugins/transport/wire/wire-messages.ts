/**
 * Every message type on both links, with a JSON schema each. A decoded frame
 * is only used after `checkMessage` accepted it for the link it arrived on, so
 * the code past this point can rely on the TypeScript shapes below.
 */
import { Ajv, type ValidateFunction } from 'ajv';
import { ERROR_CODE_PATTERN, NvidError, type NvidErrorCode } from '../../../core/errors.js';
import { MAX_TAGS, TAG_PATTERN } from '../../../core/targets.js';
import type { Peer, SignageDocument } from '../../../core/types.js';
import type { RawMessage } from './frame-codec.js';
import type { WirePeer } from './wire-peer.js';

// ---- coordinator link: node -> coordinator ---------------------------------
/** First message of a node: who it wants to be called, where it takes transfers and its tags (config `tags`). Its ID is its TLS certificate. */
export interface HelloMessage { type: 'hello'; name: string; port: number; address?: string; token?: string; tags?: string[] }
export interface PingMessage { type: 'ping' }
export interface RenameMessage { type: 'rename'; requestId: number; name: string }
export interface LeaveMessage { type: 'leave' }
/** Asks for a peer's certificate by ID: peer lists carry none (see Peer.certPem). */
export interface CertificateRequestMessage { type: 'certificate-request'; requestId: number; id: string }

// ---- coordinator link: coordinator -> node ---------------------------------
/** Answer to hello: the name the node was given and the heartbeat the coordinator expects. */
export interface WelcomeMessage { type: 'welcome'; id: string; name: string; heartbeatIntervalMs: number; heartbeatTimeoutMs: number }
/** One page of the full peer list; the last page has `more: false`. Entries are positional (wire-peer.ts). */
export interface PeersMessage { type: 'peers'; peers: WirePeer[]; more: boolean }
export interface PeerJoinedMessage { type: 'peer-joined'; peer: WirePeer }
/** Several joins of one batch in one message (a join burst): each as peer-joined. */
export interface PeersJoinedMessage { type: 'peers-joined'; peers: WirePeer[] }
export interface PeerLeftMessage { type: 'peer-left'; id: string }
export interface PeerRenamedMessage { type: 'peer-renamed'; peer: WirePeer; oldName: string }
export interface PongMessage { type: 'pong' }
export interface RenamedMessage { type: 'renamed'; requestId: number; name: string }
/** The answer to certificate-request (an unknown ID gets an error naming the requestId); the node checks the fingerprint. */
export interface CertificateMessage { type: 'certificate'; requestId: number; id: string; certPem: string }

// ---- transfer link ---------------------------------------------------------
/**
 * Opens a transfer. Nothing readable: an opaque ID, and with `bulk` the exact
 * envelope length and the SHA-256 of its first bytes (see bulk-channel.ts),
 * offering to send the body on the bulk channel. Without
 * `bulk` (or after `bulk-declined`) the body follows as data frames and an end frame.
 */
export interface TransferMessage { type: 'transfer'; transferId: string; bulk?: { length: number; head: string } }
/** The receiver takes the body on the bulk channel: open it with this single-use token (32 bytes, hex). */
export interface BulkMessage { type: 'bulk'; token: string }
/** The receiver keeps bodies inside TLS: send the body as data frames on this connection. */
export interface BulkDeclinedMessage { type: 'bulk-declined' }
/** The receiver verified and stored the file. */
export interface AckMessage { type: 'ack'; transferId: string; receiverId: string; sha256: string; storedAs: string; badSources?: string[] }
/**
 * Instead of `transfer`: a controller asks the receiver's screen something (see remote-screen-*.ts).
 * `item` names a library item (show, delete); `width` scales a screenshot; `signage` is the
 * playlists-and-schedule document of a `schedule-set` (a JSON object; the whole message stays
 * within the 64 KiB message limit, the core keeps the document under MAX_SIGNAGE_BYTES).
 */
export interface ScreenRequestMessage { type: 'screen-request'; action: ScreenAction; item?: string; width?: number; signage?: SignageDocument }
/**
 * The answer to a screen request: `length` bytes follow as data frames and an end frame, a PNG
 * for `screenshot`, else JSON (the screen's state, the library's items, or its schedule).
 */
export interface ScreenAnswerMessage { type: 'screen-answer'; kind: 'screen' | 'library' | 'screenshot' | 'schedule'; length: number }
export type ScreenAction = 'status' | 'skip' | 'clear' | 'show' | 'delete' | 'library' | 'screenshot' | 'schedule-show' | 'schedule-set';
/** The largest screen answer (a screenshot PNG, or a library listing as JSON). */
export const MAX_SCREEN_ANSWER_BYTES = 16 * 1024 * 1024;

// ---- transfer link: peer-assisted fan-out (swarm/) -------------------------
/**
 * Instead of `transfer`: the sender offers one sealed envelope that its recipients fetch in
 * pieces from each other and from it (see swarm/). `manifest` is the signed manifest as
 * swarm/manifest.ts encodes it (JSON text); this connection then stays open as the control link.
 */
export interface SwarmOfferMessage { type: 'swarm-offer'; manifest: string; signature: string; senderName: string }
/** The recipient takes the offer; it holds `have` pieces already (a resumed transfer). */
export interface SwarmAcceptedMessage { type: 'swarm-accepted'; transferId: string; have: number }
/** The recipient's progress on the control link: verified pieces it holds. */
export interface SwarmProgressMessage { type: 'swarm-progress'; transferId: string; have: number }
/** The sender's word that every recipient has settled: a recipient may drop its copy of the envelope. */
export interface SwarmDoneMessage { type: 'swarm-done'; transferId: string }
/** Instead of `transfer`: a recipient asks a listed peer for the pieces it lacks (`have`: its bitfield, base64). */
export interface SwarmPullMessage { type: 'swarm-pull'; transferId: string; have: string; bulk?: boolean }
/** One piece follows as data frames, exactly the manifest's length for `index`. */
export interface PieceMessage { type: 'piece'; index: number }
/** The source has sent every piece it holds that the puller lacked, and holds them all. */
export interface SwarmEndMessage { type: 'swarm-end' }
/**
 * Instead of `transfer`: a recipient whose control link was lost (it restarted) reports its verdict
 * to the sender: `ack` as in AckMessage, or `error` {code, message}. `badSources` lists peers
 * that fed it pieces that failed their hash.
 */
export interface SwarmReportMessage {
  type: 'swarm-report';
  transferId: string;
  ack?: { receiverId: string; sha256: string; storedAs: string };
  error?: { code: NvidErrorCode; message: string };
  badSources?: string[];
}

// ---- both links ------------------------------------------------------------
/** A refusal; the sender closes the connection after it (except for a failed rename, which names its requestId). */
export interface ErrorMessage { type: 'error'; code: NvidErrorCode; message: string; requestId?: number; details?: Record<string, unknown> }

export type WireMessage =
  | HelloMessage | PingMessage | RenameMessage | LeaveMessage | CertificateRequestMessage
  | WelcomeMessage | PeersMessage | PeerJoinedMessage | PeersJoinedMessage | PeerLeftMessage | PeerRenamedMessage | PongMessage | RenamedMessage | CertificateMessage
  | TransferMessage | BulkMessage | BulkDeclinedMessage | AckMessage | ScreenRequestMessage | ScreenAnswerMessage | ErrorMessage
  | SwarmOfferMessage | SwarmAcceptedMessage | SwarmProgressMessage | SwarmDoneMessage | SwarmPullMessage | PieceMessage | SwarmEndMessage | SwarmReportMessage;
export type MessageType = WireMessage['type'];

const hex64 = { type: 'string', pattern: '^[0-9a-f]{64}$' } as const;
const name = { type: 'string', minLength: 1, maxLength: 64 } as const;
const port = { type: 'integer', minimum: 1, maximum: 65535 } as const;
const requestId = { type: 'integer', minimum: 0 } as const;
const tags = { type: 'array', maxItems: MAX_TAGS, uniqueItems: true, items: { type: 'string', pattern: TAG_PATTERN } } as const;
const certPem = { type: 'string', maxLength: 16384 } as const;
const transferId = { type: 'string', minLength: 1, maxLength: 128 } as const;
const count = { type: 'integer', minimum: 0, maximum: 1_000_000 } as const;
const base64Id = { type: 'string', pattern: '^[A-Za-z0-9_-]{43}$' } as const;
/** A listed peer, positional (wire-peer.ts): ID as base64url, name, address, port, and tags only when it has any. */
const peerFields = [base64Id, name, { type: 'string', minLength: 1, maxLength: 255 }, port] as const;
const peer = {
  anyOf: [
    { type: 'array', minItems: 4, maxItems: 4, items: peerFields },
    { type: 'array', minItems: 5, maxItems: 5, items: [...peerFields, tags] },
  ],
} as const;

function shape(properties: Record<string, object>, required: string[]): object {
  const type = required[0]!;
  return {
    type: 'object',
    additionalProperties: false,
    required: ['type', ...required.slice(1)],
    properties: { type: { const: type }, ...properties },
  };
}

const SCHEMAS: Record<MessageType, object> = {
  hello: shape({ name, port, address: { type: 'string', minLength: 1, maxLength: 255 }, token: { type: 'string', maxLength: 1024 }, tags }, ['hello', 'name', 'port']),
  ping: shape({}, ['ping']),
  rename: shape({ requestId, name }, ['rename', 'requestId', 'name']),
  leave: shape({}, ['leave']),
  'certificate-request': shape({ requestId, id: hex64 }, ['certificate-request', 'requestId', 'id']),
  welcome: shape({ id: hex64, name, heartbeatIntervalMs: { type: 'integer', minimum: 1 }, heartbeatTimeoutMs: { type: 'integer', minimum: 1 } }, ['welcome', 'id', 'name', 'heartbeatIntervalMs', 'heartbeatTimeoutMs']),
  peers: shape({ peers: { type: 'array', items: peer }, more: { type: 'boolean' } }, ['peers', 'peers', 'more']),
  'peer-joined': shape({ peer }, ['peer-joined', 'peer']),
  'peers-joined': shape({ peers: { type: 'array', minItems: 1, items: peer } }, ['peers-joined', 'peers']),
  'peer-left': shape({ id: hex64 }, ['peer-left', 'id']),
  'peer-renamed': shape({ peer, oldName: name }, ['peer-renamed', 'peer', 'oldName']),
  pong: shape({}, ['pong']),
  renamed: shape({ requestId, name }, ['renamed', 'requestId', 'name']),
  certificate: shape({ requestId, id: hex64, certPem }, ['certificate', 'requestId', 'id', 'certPem']),
  transfer: shape(
    {
      transferId: { type: 'string', minLength: 1, maxLength: 128 },
      bulk: {
        type: 'object',
        additionalProperties: false,
        required: ['length', 'head'],
        properties: { length: { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER }, head: hex64 },
      },
    },
    ['transfer', 'transferId'],
  ),
  bulk: shape({ token: hex64 }, ['bulk', 'token']),
  'bulk-declined': shape({}, ['bulk-declined']),
  ack: shape(
    { transferId: { type: 'string', minLength: 1, maxLength: 128 }, receiverId: hex64, sha256: hex64, storedAs: { type: 'string', maxLength: 4096 }, badSources: { type: 'array', maxItems: 64, items: hex64 } },
    ['ack', 'transferId', 'receiverId', 'sha256', 'storedAs'],
  ),
  'screen-request': shape(
    {
      action: { enum: ['status', 'skip', 'clear', 'show', 'delete', 'library', 'screenshot', 'schedule-show', 'schedule-set'] },
      item: { type: 'string', minLength: 1, maxLength: 255 },
      width: { type: 'integer', minimum: 1, maximum: 100000 },
      signage: { type: 'object' },
    },
    ['screen-request', 'action'],
  ),
  'screen-answer': shape({ kind: { enum: ['screen', 'library', 'screenshot', 'schedule'] }, length: { type: 'integer', minimum: 0, maximum: MAX_SCREEN_ANSWER_BYTES } }, ['screen-answer', 'kind', 'length']),
  'swarm-offer': shape({ manifest: { type: 'string', maxLength: 60000 }, signature: { type: 'string', maxLength: 2048 }, senderName: name }, ['swarm-offer', 'manifest', 'signature', 'senderName']),
  'swarm-accepted': shape({ transferId, have: count }, ['swarm-accepted', 'transferId', 'have']),
  'swarm-progress': shape({ transferId, have: count }, ['swarm-progress', 'transferId', 'have']),
  'swarm-done': shape({ transferId }, ['swarm-done', 'transferId']),
  'swarm-pull': shape({ transferId, have: { type: 'string', maxLength: 8192 }, bulk: { type: 'boolean' } }, ['swarm-pull', 'transferId', 'have']),
  piece: shape({ index: count }, ['piece', 'index']),
  'swarm-end': shape({}, ['swarm-end']),
  'swarm-report': shape(
    {
      transferId,
      ack: { type: 'object', additionalProperties: false, required: ['receiverId', 'sha256', 'storedAs'], properties: { receiverId: hex64, sha256: hex64, storedAs: { type: 'string', maxLength: 4096 } } },
      error: { type: 'object', additionalProperties: false, required: ['code', 'message'], properties: { code: { type: 'string', maxLength: 64 }, message: { type: 'string', maxLength: 4096 } } },
      badSources: { type: 'array', maxItems: 64, items: hex64 },
    },
    ['swarm-report', 'transferId'],
  ),
  error: shape(
    { code: { type: 'string', maxLength: 64 }, message: { type: 'string', maxLength: 4096 }, requestId, details: { type: 'object' } },
    ['error', 'code', 'message'],
  ),
};

const ajv = new Ajv({ allErrors: false, strict: true });
const VALIDATORS = new Map<string, ValidateFunction>(Object.entries(SCHEMAS).map(([type, schema]) => [type, ajv.compile(schema)]));

/** Message types a coordinator accepts from a node. */
export const NODE_TO_COORDINATOR = ['hello', 'ping', 'rename', 'leave', 'certificate-request', 'error'] as const satisfies readonly MessageType[];
/** Message types a node accepts from its coordinator. */
export const COORDINATOR_TO_NODE = ['welcome', 'peers', 'peer-joined', 'peers-joined', 'peer-left', 'peer-renamed', 'pong', 'renamed', 'certificate', 'error'] as const satisfies readonly MessageType[];
/** Message types a receiving node accepts from a sender. */
export const SENDER_TO_RECEIVER = ['transfer', 'screen-request', 'swarm-offer', 'swarm-pull', 'swarm-report', 'error'] as const satisfies readonly MessageType[];
/** Message types a sender accepts from the receiver (`bulk` and `bulk-declined` only as the answer to a bulk offer). */
export const RECEIVER_TO_SENDER = ['bulk', 'bulk-declined', 'ack', 'error'] as const satisfies readonly MessageType[];
/** Message types a controller accepts from the screen it asked (its answer's bytes follow as data frames). */
export const SCREEN_TO_CONTROLLER = ['screen-answer', 'error'] as const satisfies readonly MessageType[];
/** What a sender accepts on a swarm control link, from the recipient it offered to. */
export const SWARM_RECIPIENT_TO_SENDER = ['swarm-accepted', 'swarm-progress', 'ack', 'error'] as const satisfies readonly MessageType[];
/** What a recipient accepts on its control link after the offer. */
export const SWARM_SENDER_TO_RECIPIENT = ['swarm-done', 'error'] as const satisfies readonly MessageType[];
/** What a puller accepts from its source (each `piece` is followed by its data frames). */
export const SWARM_SOURCE_TO_PULLER = ['bulk', 'piece', 'swarm-end', 'error'] as const satisfies readonly MessageType[];

/**
 * Accepts a decoded message only if its type is one this end of the link
 * expects and its fields match that type's schema; throws NVID_ERR_BAD_FRAME
 * otherwise. An `error` message with a code nvid does not know keeps its text
 * but gets NVID_ERR_CONNECTION, so callers never see an invented code.
 */
export function checkMessage<T extends MessageType>(raw: RawMessage, allowed: readonly T[]): Extract<WireMessage, { type: T }> {
  if (!(allowed as readonly string[]).includes(raw.type)) {
    throw new NvidError('NVID_ERR_BAD_FRAME', `unexpected message type ${JSON.stringify(raw.type.slice(0, 40))} on this link (expected one of ${allowed.join(', ')})`);
  }
  const validate = VALIDATORS.get(raw.type)!;
  if (!validate(raw as unknown)) {
    const problem = validate.errors?.[0];
    throw new NvidError('NVID_ERR_BAD_FRAME', `malformed ${raw.type} message: ${problem?.instancePath || '(root)'} ${problem?.message ?? 'is invalid'}`);
  }
  if (raw.type === 'error' && !ERROR_CODE_PATTERN.test(String(raw.code))) {
    return { ...raw, code: 'NVID_ERR_CONNECTION' } as unknown as Extract<WireMessage, { type: T }>;
  }
  return raw as unknown as Extract<WireMessage, { type: T }>;
}

/** The error frame for an NvidError. */
export function errorMessage(err: NvidError, requestId?: number): ErrorMessage {
  const message: ErrorMessage = { type: 'error', code: err.code, message: err.message.slice(0, 4096) };
  if (requestId !== undefined) message.requestId = requestId;
  if (err.details) message.details = err.details;
  return message;
}
