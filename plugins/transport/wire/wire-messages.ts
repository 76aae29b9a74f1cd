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
/** One page of the full peer list; the last page has `more: false`. */
export interface PeersMessage { type: 'peers'; peers: Peer[]; more: boolean }
export interface PeerJoinedMessage { type: 'peer-joined'; peer: Peer }
export interface PeerLeftMessage { type: 'peer-left'; id: string }
export interface PeerRenamedMessage { type: 'peer-renamed'; peer: Peer; oldName: string }
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
export interface AckMessage { type: 'ack'; transferId: string; receiverId: string; sha256: string; storedAs: string }
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

// ---- both links ------------------------------------------------------------
/** A refusal; the sender closes the connection after it (except for a failed rename, which names its requestId). */
export interface ErrorMessage { type: 'error'; code: NvidErrorCode; message: string; requestId?: number; details?: Record<string, unknown> }

export type WireMessage =
  | HelloMessage | PingMessage | RenameMessage | LeaveMessage | CertificateRequestMessage
  | WelcomeMessage | PeersMessage | PeerJoinedMessage | PeerLeftMessage | PeerRenamedMessage | PongMessage | RenamedMessage | CertificateMessage
  | TransferMessage | BulkMessage | BulkDeclinedMessage | AckMessage | ScreenRequestMessage | ScreenAnswerMessage | ErrorMessage;
export type MessageType = WireMessage['type'];

const hex64 = { type: 'string', pattern: '^[0-9a-f]{64}$' } as const;
const name = { type: 'string', minLength: 1, maxLength: 64 } as const;
const port = { type: 'integer', minimum: 1, maximum: 65535 } as const;
const requestId = { type: 'integer', minimum: 0 } as const;
const tags = { type: 'array', maxItems: MAX_TAGS, uniqueItems: true, items: { type: 'string', pattern: TAG_PATTERN } } as const;
const certPem = { type: 'string', maxLength: 16384 } as const;
/**
 * `tags` may be absent (a coordinator from before tags): the node reads that as none. `certPem`
 * is absent from this coordinator's entries (fetched with certificate-request when needed), present
 * in an older one's.
 */
const peer = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'name', 'address', 'port'],
  properties: { id: hex64, name, certPem, address: { type: 'string', minLength: 1, maxLength: 255 }, port, tags },
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
    { transferId: { type: 'string', minLength: 1, maxLength: 128 }, receiverId: hex64, sha256: hex64, storedAs: { type: 'string', maxLength: 4096 } },
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
export const COORDINATOR_TO_NODE = ['welcome', 'peers', 'peer-joined', 'peer-left', 'peer-renamed', 'pong', 'renamed', 'certificate', 'error'] as const satisfies readonly MessageType[];
/** Message types a receiving node accepts from a sender. */
export const SENDER_TO_RECEIVER = ['transfer', 'screen-request', 'error'] as const satisfies readonly MessageType[];
/** Message types a sender accepts from the receiver (`bulk` and `bulk-declined` only as the answer to a bulk offer). */
export const RECEIVER_TO_SENDER = ['bulk', 'bulk-declined', 'ack', 'error'] as const satisfies readonly MessageType[];
/** Message types a controller accepts from the screen it asked (its answer's bytes follow as data frames). */
export const SCREEN_TO_CONTROLLER = ['screen-answer', 'error'] as const satisfies readonly MessageType[];

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
