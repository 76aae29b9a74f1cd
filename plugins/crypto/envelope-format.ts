/**
 * The envelope's byte layout (version 1), and nothing else: encoding and
 * decoding of the clear preamble and of the header plaintext, the chunk
 * nonces, and the exact envelope length. No keys, no streams. The README
 * draws the same layout as a table; a change here is a format change and
 * must bump {@link ENVELOPE_VERSION} (the known-answer vectors will notice).
 */
import { NvidError } from '../../core/errors.js';

/** "nvid" in ASCII: the first four bytes of every envelope. */
export const ENVELOPE_MAGIC = Buffer.from('nvid', 'ascii');
export const ENVELOPE_VERSION = 1;
/** Version 2: one body, one signed header, the file key wrapped for each of 1..64 recipients. */
export const ENVELOPE_VERSION_MULTI = 2;
/** AES-256-GCM tag length, after the header and after every chunk. */
export const TAG_BYTES = 16;
export const FILE_KEY_BYTES = 32;
export const SALT_BYTES = 32;
export const ID_BYTES = 32;
/** magic(4) version(1) recipient(32) salt(32) chunkSize(4) headerLength(4) wrappedKeyLength(2). */
export const PREAMBLE_FIXED_BYTES = 4 + 1 + ID_BYTES + SALT_BYTES + 4 + 4 + 2;
/** The header plaintext is zero-padded to a multiple of this, so its length hardly reveals the file name's. */
export const HEADER_PAD_BYTES = 512;
/** Largest sealed header a receiver reads (meta is at most 4 KiB, a signature at most 1 KiB). */
export const MAX_SEALED_HEADER_BYTES = 8192 + TAG_BYTES;
export const MAX_META_BYTES = 4096;
/** Bounds on a chunk size read from the wire: the receiver buffers one chunk. */
export const MIN_WIRE_CHUNK_SIZE = 64;
export const MAX_WIRE_CHUNK_SIZE = 4 * 1024 * 1024;
/** RSA-2048 to RSA-8192 wrapped keys. */
export const MIN_WRAPPED_KEY_BYTES = 256;
export const MAX_WRAPPED_KEY_BYTES = 1024;
/** Domain separation for the header signature, so it can never be mistaken for another nvid signature. */
export const SIGNATURE_CONTEXT = Buffer.from('nvid envelope v1 header\0', 'ascii');
/** The same for a version 2 (multi-recipient) header. */
export const SIGNATURE_CONTEXT_MULTI = Buffer.from('nvid envelope v2 header\0', 'ascii');
/** magic(4) version(1) salt(32) chunkSize(4) headerLength(4) recipientCount(1). */
export const MULTI_PREAMBLE_FIXED_BYTES = 4 + 1 + SALT_BYTES + 4 + 4 + 1;
/** One recipient stanza before its wrapped key: recipient ID(32) wrappedKeyLength(2). */
export const STANZA_FIXED_BYTES = ID_BYTES + 2;
export const MAX_RECIPIENTS = 64;

/** The clear part of an envelope: just what the receiver needs to unwrap the key. */
export interface Preamble {
  /** Raw SHA-256 fingerprint of the recipient's certificate. */
  readonly recipientId: Buffer;
  readonly salt: Buffer;
  readonly chunkSize: number;
  /** Length of the sealed header including its tag. */
  readonly sealedHeaderLength: number;
  readonly wrappedKey: Buffer;
}

/** Encodes the preamble; these exact bytes are also the header's additional authenticated data. */
export function encodePreamble(p: Preamble): Buffer {
  const out = Buffer.alloc(PREAMBLE_FIXED_BYTES + p.wrappedKey.length);
  let at = ENVELOPE_MAGIC.copy(out, 0);
  at = out.writeUInt8(ENVELOPE_VERSION, at);
  at += p.recipientId.copy(out, at);
  at += p.salt.copy(out, at);
  at = out.writeUInt32BE(p.chunkSize, at);
  at = out.writeUInt32BE(p.sealedHeaderLength, at);
  at = out.writeUInt16BE(p.wrappedKey.length, at);
  p.wrappedKey.copy(out, at);
  return out;
}

/** The fixed part of a preamble, decoded and bounds-checked; the wrapped key follows it. */
export interface PreambleFixed extends Omit<Preamble, 'wrappedKey'> {
  readonly wrappedKeyLength: number;
}

/** Decodes the first {@link PREAMBLE_FIXED_BYTES} of an envelope. Throws NVID_ERR_BAD_ENVELOPE on anything out of bounds. */
export function decodePreambleFixed(bytes: Buffer): PreambleFixed {
  if (bytes.length !== PREAMBLE_FIXED_BYTES) throw badEnvelope(`preamble is ${bytes.length} bytes, expected ${PREAMBLE_FIXED_BYTES}`);
  if (!bytes.subarray(0, 4).equals(ENVELOPE_MAGIC)) throw badEnvelope('not an nvid envelope (bad magic)');
  const version = bytes.readUInt8(4);
  if (version !== ENVELOPE_VERSION) throw badEnvelope(`unsupported envelope version ${version}`);
  let at = 5;
  const recipientId = Buffer.from(bytes.subarray(at, (at += ID_BYTES)));
  const salt = Buffer.from(bytes.subarray(at, (at += SALT_BYTES)));
  const chunkSize = bytes.readUInt32BE(at);
  const sealedHeaderLength = bytes.readUInt32BE(at + 4);
  const wrappedKeyLength = bytes.readUInt16BE(at + 8);
  if (chunkSize < MIN_WIRE_CHUNK_SIZE || chunkSize > MAX_WIRE_CHUNK_SIZE) throw badEnvelope(`chunk size ${chunkSize} out of bounds`);
  if (sealedHeaderLength < HEADER_PAD_BYTES + TAG_BYTES || sealedHeaderLength > MAX_SEALED_HEADER_BYTES || (sealedHeaderLength - TAG_BYTES) % HEADER_PAD_BYTES !== 0) {
    throw badEnvelope(`sealed header length ${sealedHeaderLength} is not a padded size`);
  }
  if (wrappedKeyLength < MIN_WRAPPED_KEY_BYTES || wrappedKeyLength > MAX_WRAPPED_KEY_BYTES) throw badEnvelope(`wrapped key length ${wrappedKeyLength} out of bounds`);
  return { recipientId, salt, chunkSize, sealedHeaderLength, wrappedKeyLength };
}

/** The signed content of the encrypted header. */
export interface HeaderContent {
  /** Canonical UTF-8 JSON of the TransferMeta, exactly the bytes that were signed. */
  readonly meta: Buffer;
  readonly signature: Buffer;
}

/** Header plaintext: metaLength(2) meta signatureLength(2) signature, zero-padded to a multiple of {@link HEADER_PAD_BYTES}. */
export function encodeHeaderPlaintext(h: HeaderContent): Buffer {
  if (h.meta.length > MAX_META_BYTES) throw badEnvelope(`transfer meta is ${h.meta.length} bytes, at most ${MAX_META_BYTES} fit`);
  const used = 2 + h.meta.length + 2 + h.signature.length;
  const out = Buffer.alloc(Math.ceil(used / HEADER_PAD_BYTES) * HEADER_PAD_BYTES);
  let at = out.writeUInt16BE(h.meta.length, 0);
  at += h.meta.copy(out, at);
  at = out.writeUInt16BE(h.signature.length, at);
  h.signature.copy(out, at);
  return out;
}

/** Splits an authenticated header plaintext. Throws NVID_ERR_BAD_ENVELOPE if lengths or padding are off. */
export function decodeHeaderPlaintext(bytes: Buffer): HeaderContent {
  const metaLength = bytes.length >= 2 ? bytes.readUInt16BE(0) : Infinity;
  if (metaLength > MAX_META_BYTES || 4 + metaLength > bytes.length) throw badEnvelope('header meta length out of bounds');
  const meta = Buffer.from(bytes.subarray(2, 2 + metaLength));
  const signatureLength = bytes.readUInt16BE(2 + metaLength);
  const end = 4 + metaLength + signatureLength;
  if (signatureLength === 0 || end > bytes.length) throw badEnvelope('header signature length out of bounds');
  const signature = Buffer.from(bytes.subarray(4 + metaLength, end));
  // Non-zero padding would be a second, unsigned channel inside the header.
  if (bytes.subarray(end).some((b) => b !== 0)) throw badEnvelope('header padding is not zero');
  return { meta, signature };
}

/** Nonce of the header unit: its key is used exactly once, so all zeros is safe. */
export const HEADER_NONCE = Buffer.alloc(12);

/** STREAM nonce of chunk `index`: 88-bit big-endian counter, then 0x01 on the final chunk, else 0x00. */
export function chunkNonce(index: number, isFinal: boolean): Buffer {
  const nonce = Buffer.alloc(12);
  // Chunk counts stay far below 2^53, so the top 5 counter bytes are always zero.
  nonce.writeUIntBE(index, 5, 6);
  nonce[11] = isFinal ? 1 : 0;
  return nonce;
}

/** Chunks in a body of `size` plaintext bytes: at least one (an empty body is one empty final chunk). */
export function chunkCount(size: number, chunkSize: number): number {
  return Math.max(1, Math.ceil(size / chunkSize));
}

/** Plaintext length of chunk `index`. */
export function chunkPlainLength(index: number, size: number, chunkSize: number): number {
  return Math.min(chunkSize, size - index * chunkSize);
}

/** Exact envelope length, known before a byte is encrypted. */
export function envelopeLength(size: number, chunkSize: number, wrappedKeyLength: number, sealedHeaderLength: number): number {
  return PREAMBLE_FIXED_BYTES + wrappedKeyLength + sealedHeaderLength + size + chunkCount(size, chunkSize) * TAG_BYTES;
}

/** One recipient of a version 2 envelope: its ID and the file key wrapped for it. */
export interface RecipientStanza {
  /** Raw SHA-256 fingerprint of the recipient's certificate. */
  readonly recipientId: Buffer;
  readonly wrappedKey: Buffer;
}

/** The clear part of a version 2 envelope: the recipient list, in order, each with its wrapped key. */
export interface MultiPreamble {
  readonly salt: Buffer;
  readonly chunkSize: number;
  readonly sealedHeaderLength: number;
  readonly recipients: readonly RecipientStanza[];
}

/** Encodes a version 2 preamble; these exact bytes are the header's AAD and are signed. */
export function encodeMultiPreamble(p: MultiPreamble): Buffer {
  if (p.recipients.length < 1 || p.recipients.length > MAX_RECIPIENTS) throw badEnvelope(`${p.recipients.length} recipients; 1 to ${MAX_RECIPIENTS} fit in an envelope`);
  const parts: Buffer[] = [];
  const fixed = Buffer.alloc(MULTI_PREAMBLE_FIXED_BYTES);
  let at = ENVELOPE_MAGIC.copy(fixed, 0);
  at = fixed.writeUInt8(ENVELOPE_VERSION_MULTI, at);
  at += p.salt.copy(fixed, at);
  at = fixed.writeUInt32BE(p.chunkSize, at);
  at = fixed.writeUInt32BE(p.sealedHeaderLength, at);
  fixed.writeUInt8(p.recipients.length, at);
  parts.push(fixed);
  for (const r of p.recipients) {
    if (r.recipientId.length !== ID_BYTES) throw badEnvelope('recipient ID is not 32 bytes');
    const stanza = Buffer.alloc(STANZA_FIXED_BYTES);
    r.recipientId.copy(stanza, 0);
    stanza.writeUInt16BE(r.wrappedKey.length, ID_BYTES);
    parts.push(stanza, r.wrappedKey);
  }
  return Buffer.concat(parts);
}

/** The version byte of an envelope's first 5 bytes, after checking the magic. Throws NVID_ERR_BAD_ENVELOPE. */
export function decodeMagicAndVersion(bytes: Buffer): number {
  if (bytes.length < 5 || !bytes.subarray(0, 4).equals(ENVELOPE_MAGIC)) throw badEnvelope('not an nvid envelope (bad magic)');
  const version = bytes.readUInt8(4);
  if (version !== ENVELOPE_VERSION && version !== ENVELOPE_VERSION_MULTI) throw badEnvelope(`unsupported envelope version ${version}`);
  return version;
}

/** The fixed part of a version 2 preamble, bounds-checked; `recipientCount` stanzas follow it. */
export interface MultiPreambleFixed {
  readonly salt: Buffer;
  readonly chunkSize: number;
  readonly sealedHeaderLength: number;
  readonly recipientCount: number;
}

/** Decodes the first {@link MULTI_PREAMBLE_FIXED_BYTES} of a version 2 envelope. Throws NVID_ERR_BAD_ENVELOPE. */
export function decodeMultiPreambleFixed(bytes: Buffer): MultiPreambleFixed {
  if (bytes.length !== MULTI_PREAMBLE_FIXED_BYTES) throw badEnvelope(`preamble is ${bytes.length} bytes, expected ${MULTI_PREAMBLE_FIXED_BYTES}`);
  if (decodeMagicAndVersion(bytes) !== ENVELOPE_VERSION_MULTI) throw badEnvelope('not a version 2 envelope');
  let at = 5;
  const salt = Buffer.from(bytes.subarray(at, (at += SALT_BYTES)));
  const chunkSize = bytes.readUInt32BE(at);
  const sealedHeaderLength = bytes.readUInt32BE(at + 4);
  const recipientCount = bytes.readUInt8(at + 8);
  checkChunkAndHeader(chunkSize, sealedHeaderLength);
  if (recipientCount < 1 || recipientCount > MAX_RECIPIENTS) throw badEnvelope(`recipient count ${recipientCount} out of bounds`);
  return { salt, chunkSize, sealedHeaderLength, recipientCount };
}

/** Decodes a stanza's fixed part (ID and wrapped key length). Throws NVID_ERR_BAD_ENVELOPE. */
export function decodeStanzaFixed(bytes: Buffer): { recipientId: Buffer; wrappedKeyLength: number } {
  const recipientId = Buffer.from(bytes.subarray(0, ID_BYTES));
  const wrappedKeyLength = bytes.readUInt16BE(ID_BYTES);
  if (wrappedKeyLength < MIN_WRAPPED_KEY_BYTES || wrappedKeyLength > MAX_WRAPPED_KEY_BYTES) throw badEnvelope(`wrapped key length ${wrappedKeyLength} out of bounds`);
  return { recipientId, wrappedKeyLength };
}

function checkChunkAndHeader(chunkSize: number, sealedHeaderLength: number): void {
  if (chunkSize < MIN_WIRE_CHUNK_SIZE || chunkSize > MAX_WIRE_CHUNK_SIZE) throw badEnvelope(`chunk size ${chunkSize} out of bounds`);
  if (sealedHeaderLength < HEADER_PAD_BYTES + TAG_BYTES || sealedHeaderLength > MAX_SEALED_HEADER_BYTES || (sealedHeaderLength - TAG_BYTES) % HEADER_PAD_BYTES !== 0) {
    throw badEnvelope(`sealed header length ${sealedHeaderLength} is not a padded size`);
  }
}

/** Exact length of a version 2 envelope whose preamble is `preambleLength` bytes. */
export function multiEnvelopeLength(size: number, chunkSize: number, preambleLength: number, sealedHeaderLength: number): number {
  return preambleLength + sealedHeaderLength + size + chunkCount(size, chunkSize) * TAG_BYTES;
}

function badEnvelope(message: string): NvidError {
  return new NvidError('NVID_ERR_BAD_ENVELOPE', message);
}
