/**
 * The wire format shared by the coordinator link and the transfer link.
 *
 * Every frame is a 6-byte prefix followed by its payload:
 *
 *   offset 0  u32 big-endian  payload length in bytes (prefix not included)
 *   offset 4  u8              protocol version (PROTOCOL_VERSION)
 *   offset 5  u8              kind: 1 = message, 2 = data, 3 = end, 4 = list
 *
 * A message payload is one UTF-8 JSON object with a string `type`; data
 * payloads are raw body bytes; an end frame has an empty payload and closes a
 * body. A list frame is the coordinator's `peers` or `peers-joined` message
 * with its entries in binary (one byte saying which, then the entries,
 * wire-peer.ts): a join burst moves N² entries, and binary ones are a third
 * smaller. It decodes to the same message the JSON would, checked by the same
 * schema. JSON.parse only ever builds plain data, so nothing on the wire can run
 * code. The length is checked against the limit for its kind before a single
 * payload byte is buffered, so a 4 GiB prefix costs six bytes of memory.
 */
import { NvidError } from '../../../core/errors.js';
import { decodePeerEntries } from './wire-peer.js';

export const PROTOCOL_VERSION = 1;
export const PREFIX_BYTES = 6;

/** Largest data frame a sender produces: AES-GCM and loopback TCP both do best with 64–256 KiB pieces. */
export const DATA_FRAME_BYTES = 256 * 1024;

export const FRAME_KIND = { message: 1, data: 2, end: 3, list: 4 } as const;

/** The first byte of a list frame: which message it is. */
export const LIST_MESSAGE = { lastPage: 1, page: 2, joined: 3 } as const;
export type ListMessage = (typeof LIST_MESSAGE)[keyof typeof LIST_MESSAGE];

/** A decoded message payload: a JSON object with a `type`; its fields are checked by wire-messages.ts. */
export interface RawMessage {
  readonly type: string;
  readonly [field: string]: unknown;
}

export type Frame =
  | { readonly kind: 'message'; readonly message: RawMessage }
  | { readonly kind: 'data'; readonly data: Buffer }
  | { readonly kind: 'end' };

/** Size limits enforced while decoding, before allocating. */
export interface FrameLimits {
  /** Largest JSON message payload accepted. */
  readonly maxMessageBytes: number;
  /** Largest data payload accepted. */
  readonly maxDataBytes: number;
}

export const DEFAULT_LIMITS: FrameLimits = { maxMessageBytes: 64 * 1024, maxDataBytes: DATA_FRAME_BYTES };

function prefix(kind: number, length: number): Buffer {
  const head = Buffer.allocUnsafe(PREFIX_BYTES);
  head.writeUInt32BE(length, 0);
  head.writeUInt8(PROTOCOL_VERSION, 4);
  head.writeUInt8(kind, 5);
  return head;
}

/** Encodes a message frame; refuses one the peer would reject as too large. */
export function encodeMessage(message: { readonly type: string }, maxMessageBytes = DEFAULT_LIMITS.maxMessageBytes): Buffer {
  return encodeMessageJson(JSON.stringify(message), maxMessageBytes, message.type);
}

/** Encodes a message already serialised to JSON (the coordinator builds peer-list pages from cached entries). */
export function encodeMessageJson(json: string, maxMessageBytes = DEFAULT_LIMITS.maxMessageBytes, type = 'message'): Buffer {
  const length = Buffer.byteLength(json, 'utf8');
  if (length > maxMessageBytes) {
    throw new NvidError('NVID_ERR_FRAME_TOO_LARGE', `a ${type} message of ${length} bytes exceeds the ${maxMessageBytes}-byte limit`);
  }
  const frame = Buffer.allocUnsafe(PREFIX_BYTES + length);
  prefix(FRAME_KIND.message, length).copy(frame, 0);
  frame.write(json, PREFIX_BYTES, 'utf8');
  return frame;
}

/**
 * Encodes a list frame: a page of the peer list (`peers`, the last one or not) or joins
 * (`peers-joined`), from entries already encoded (encodePeerEntry). Refuses one the node
 * would reject as too large, as for messages.
 */
export function encodeListFrame(message: ListMessage, entries: readonly Buffer[], maxMessageBytes = DEFAULT_LIMITS.maxMessageBytes): Buffer {
  let length = 1;
  for (const entry of entries) length += entry.length;
  if (length > maxMessageBytes) {
    throw new NvidError('NVID_ERR_FRAME_TOO_LARGE', `a peer list of ${length} bytes exceeds the ${maxMessageBytes}-byte limit`);
  }
  const frame = Buffer.allocUnsafe(PREFIX_BYTES + length);
  prefix(FRAME_KIND.list, length).copy(frame, 0);
  let at = frame.writeUInt8(message, PREFIX_BYTES);
  for (const entry of entries) at += entry.copy(frame, at);
  return frame;
}

/** The prefix of a data frame; the chunk itself is written after it without copying. */
export function dataPrefix(length: number): Buffer {
  return prefix(FRAME_KIND.data, length);
}

/** A complete end frame. */
export function encodeEnd(): Buffer {
  return prefix(FRAME_KIND.end, 0);
}

/**
 * Incremental decoder: feed it whatever the socket delivers, get whole frames
 * back. Throws an NvidError (BAD_FRAME or FRAME_TOO_LARGE) on the first bad
 * byte; after that the connection must be closed, as frame boundaries are lost.
 */
export class FrameDecoder {
  private readonly chunks: Buffer[] = [];
  private buffered = 0;
  private readonly limits: FrameLimits;

  constructor(limits: FrameLimits = DEFAULT_LIMITS) {
    this.limits = limits;
  }

  /** Bytes received but not yet returned as frames (a partial frame). */
  get pendingBytes(): number {
    return this.buffered;
  }

  push(chunk: Buffer): Frame[] {
    if (chunk.length > 0) {
      this.chunks.push(chunk);
      this.buffered += chunk.length;
    }
    const frames: Frame[] = [];
    while (this.buffered >= PREFIX_BYTES) {
      const head = this.peek(PREFIX_BYTES);
      const length = head.readUInt32BE(0);
      const version = head.readUInt8(4);
      const kind = head.readUInt8(5);
      if (version !== PROTOCOL_VERSION) {
        throw new NvidError('NVID_ERR_BAD_FRAME', `unsupported protocol version ${version}; this node speaks version ${PROTOCOL_VERSION}`, { details: { version } });
      }
      const limit = this.limitFor(kind, length);
      if (length > limit) {
        throw new NvidError('NVID_ERR_FRAME_TOO_LARGE', `frame of ${length} bytes exceeds the ${limit}-byte limit`, { details: { length, limit } });
      }
      if (this.buffered < PREFIX_BYTES + length) break;
      this.take(PREFIX_BYTES);
      const payload = this.take(length);
      frames.push(decodePayload(kind, payload));
    }
    return frames;
  }

  private limitFor(kind: number, length: number): number {
    switch (kind) {
      case FRAME_KIND.message:
      case FRAME_KIND.list:
        return this.limits.maxMessageBytes;
      case FRAME_KIND.data:
        return this.limits.maxDataBytes;
      case FRAME_KIND.end:
        return 0;
      default:
        throw new NvidError('NVID_ERR_BAD_FRAME', `unknown frame kind ${kind}`, { details: { kind, length } });
    }
  }

  /** The first `n` buffered bytes, without consuming them. */
  private peek(n: number): Buffer {
    const first = this.chunks[0]!;
    if (first.length >= n) return first.subarray(0, n);
    // Only the 6-byte prefix is ever peeked, so this copy is tiny.
    return Buffer.concat(this.chunks, n);
  }

  /** Removes and returns the first `n` buffered bytes (copies only when they span chunks). */
  private take(n: number): Buffer {
    this.buffered -= n;
    if (n === 0) return Buffer.alloc(0);
    const first = this.chunks[0]!;
    if (first.length === n) {
      this.chunks.shift();
      return first;
    }
    if (first.length > n) {
      this.chunks[0] = first.subarray(n);
      return first.subarray(0, n);
    }
    const out = Buffer.allocUnsafe(n);
    let filled = 0;
    while (filled < n) {
      const head = this.chunks[0]!;
      const want = n - filled;
      if (head.length <= want) {
        head.copy(out, filled);
        filled += head.length;
        this.chunks.shift();
      } else {
        head.copy(out, filled, 0, want);
        this.chunks[0] = head.subarray(want);
        filled += want;
      }
    }
    return out;
  }
}

function decodePayload(kind: number, payload: Buffer): Frame {
  if (kind === FRAME_KIND.data) return { kind: 'data', data: payload };
  if (kind === FRAME_KIND.end) return { kind: 'end' };
  if (kind === FRAME_KIND.list) return { kind: 'message', message: decodeList(payload) };
  let parsed: unknown;
  try {
    // fatal: true refuses invalid UTF-8 instead of silently replacing it.
    parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(payload));
  } catch {
    throw new NvidError('NVID_ERR_BAD_FRAME', 'message frame is not valid UTF-8 JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed) || typeof (parsed as { type?: unknown }).type !== 'string') {
    throw new NvidError('NVID_ERR_BAD_FRAME', 'message frame is not a JSON object with a string "type"');
  }
  return { kind: 'message', message: parsed as RawMessage };
}

/** A list frame as the message its JSON form would be; the schema then checks its entries like any other. */
function decodeList(payload: Buffer): RawMessage {
  const which = payload.length > 0 ? payload[0] : undefined;
  if (which === LIST_MESSAGE.joined) return { type: 'peers-joined', peers: decodePeerEntries(payload, 1) };
  if (which === LIST_MESSAGE.lastPage || which === LIST_MESSAGE.page) return { type: 'peers', peers: decodePeerEntries(payload, 1), more: which === LIST_MESSAGE.page };
  throw new NvidError('NVID_ERR_BAD_FRAME', which === undefined ? 'an empty list frame' : `a list frame of unknown message ${which}`);
}
