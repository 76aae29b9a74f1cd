/**
 * The signed TransferMeta inside the header: one canonical JSON encoding (fixed
 * key order, so the known-answer vectors stay stable), and a strict parser for
 * what comes off the wire. The signature covers the received bytes, so parsing
 * happens only after it verified; the parser still trusts nothing.
 */
import { NvidError } from '../../core/errors.js';
import type { MediaKind, TransferMeta } from '../../core/types.js';

const META_KEYS = ['transferId', 'senderId', 'receiverId', 'time', 'size', 'mediaType', 'fileName'] as const;
/**
 * Version 2 (several recipients): no `receiverId`; the recipient list is the
 * preamble's stanzas, which the signature covers too.
 */
const META_KEYS_MULTI = ['transferId', 'senderId', 'time', 'size', 'mediaType', 'fileName'] as const;

/** What a version 2 header's meta carries: a TransferMeta without the receiver. */
export type SharedMeta = Omit<TransferMeta, 'receiverId' | 'recipientIds'>;
const NODE_ID = /^[0-9a-f]{64}$/;
/** Transfer IDs end up in the replay file, one per line: no whitespace, bounded. */
const TRANSFER_ID = /^[A-Za-z0-9_.:-]{1,128}$/;
const MEDIA_KINDS: readonly MediaKind[] = ['image', 'video'];

/** Canonical bytes of a TransferMeta: JSON with keys in a fixed order. Checks the sender's own meta too. */
export function encodeMeta(meta: TransferMeta, multi = false): Buffer {
  const keys: readonly string[] = multi ? META_KEYS_MULTI : META_KEYS;
  // recipientIds is the sender's own note of the list; it is encoded as stanzas, not as meta.
  // In a version 2 header the list is the stanzas, so `receiverId` (the sender's first recipient) is not encoded either.
  const { recipientIds, ...all } = meta;
  const rest: Record<string, unknown> = { ...all };
  if (multi) delete rest.receiverId;
  if (recipientIds !== undefined && (!Array.isArray(recipientIds) || recipientIds.some((id) => typeof id !== 'string' || !NODE_ID.test(id)))) {
    throw new NvidError('NVID_ERR_BAD_ENVELOPE', 'cannot seal: transfer meta has malformed recipientIds');
  }
  const problem = metaProblem(rest, keys);
  if (problem) throw new NvidError('NVID_ERR_BAD_ENVELOPE', `cannot seal: transfer meta ${problem}`);
  const ordered: Record<string, unknown> = {};
  for (const key of keys) ordered[key] = rest[key];
  return Buffer.from(JSON.stringify(ordered), 'utf8');
}

/** Parses header meta bytes into a TransferMeta (file name still raw). Throws NVID_ERR_BAD_ENVELOPE. */
export function parseMeta(bytes: Buffer): TransferMeta;
export function parseMeta(bytes: Buffer, multi: true): SharedMeta;
export function parseMeta(bytes: Buffer, multi = false): TransferMeta | SharedMeta {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (err) {
    throw new NvidError('NVID_ERR_BAD_ENVELOPE', `header meta is not UTF-8 JSON: ${(err as Error).message}`, { cause: err });
  }
  const problem = metaProblem(value, multi ? META_KEYS_MULTI : META_KEYS);
  if (problem) throw new NvidError('NVID_ERR_BAD_ENVELOPE', `header meta ${problem}`);
  return value as TransferMeta;
}

/** What is wrong with a would-be TransferMeta, or undefined when nothing is. */
function metaProblem(value: unknown, keys: readonly string[]): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'is not an object';
  const meta = value as Record<string, unknown>;
  const extra = Object.keys(meta).filter((key) => !keys.includes(key));
  if (extra.length > 0) return `has unknown fields: ${extra.join(', ')}`;
  if (typeof meta.transferId !== 'string' || !TRANSFER_ID.test(meta.transferId)) return 'has a malformed transferId';
  if (typeof meta.senderId !== 'string' || !NODE_ID.test(meta.senderId)) return 'has a malformed senderId';
  if (keys.includes('receiverId') && (typeof meta.receiverId !== 'string' || !NODE_ID.test(meta.receiverId))) return 'has a malformed receiverId';
  if (!Number.isSafeInteger(meta.time) || (meta.time as number) < 0) return 'has a malformed time';
  if (!Number.isSafeInteger(meta.size) || (meta.size as number) < 0) return 'has a malformed size';
  if (!MEDIA_KINDS.includes(meta.mediaType as MediaKind)) return 'has an unknown mediaType';
  if (typeof meta.fileName !== 'string') return 'has no fileName';
  return undefined;
}
