/**
 * Sealing: builds the preamble and the signed, encrypted header up front
 * (so the exact envelope length is known before any body byte), then streams
 * the body through a {@link ChunkSealer}.
 */
import { createCipheriv } from 'node:crypto';
import { open } from 'node:fs/promises';
import { pipeline, Readable } from 'node:stream';
import { NvidError } from '../../core/errors.js';
import type { CertifiedPeer, GrowingFile, Identity, Peer, SealedEnvelope, TransferMeta } from '../../core/types.js';
import {
  encodeHeaderPlaintext,
  encodeMultiPreamble,
  encodePreamble,
  MAX_RECIPIENTS,
  multiEnvelopeLength,
  SIGNATURE_CONTEXT_MULTI,
  envelopeLength,
  FILE_KEY_BYTES,
  HEADER_NONCE,
  HEADER_PAD_BYTES,
  MAX_WIRE_CHUNK_SIZE,
  MIN_WIRE_CHUNK_SIZE,
  SALT_BYTES,
  SIGNATURE_CONTEXT,
  TAG_BYTES,
} from './envelope-format.js';
import { defaultSealPrimitives, deriveTransferKeys, privateKeyOf, publicKeyOfCert, rsaModulusBytes, type SealPrimitives } from './envelope-keys.js';
import { ChunkSealer, FileSealer } from './stream-cipher.js';
import { encodeMeta } from './transfer-meta.js';

/** Everything sealing needs besides the plaintext. */
export interface SealInput {
  /** The one recipient (version 1 envelope); give this or `recipients`. */
  readonly recipient?: Pick<CertifiedPeer, 'id' | 'certPem'>;
  /**
   * Recipients in order, 1..64. One makes a version 1 envelope (byte for byte as
   * with `recipient`); two or more make one version 2 envelope: the body
   * encrypted once, the file key wrapped for each.
   */
  readonly recipients?: readonly Pick<CertifiedPeer, 'id' | 'certPem'>[];
  readonly sender: Pick<Identity, 'id' | 'keyPem'>;
  readonly meta: TransferMeta;
  readonly chunkSize: number;
  /** Internal: deterministic randomness for the known-answer tests. Never set from config. */
  readonly primitives?: SealPrimitives;
}

/** The envelope up to the body, with what the body needs. */
export interface SealedHead {
  /** Preamble and sealed header: the first bytes of the envelope. */
  readonly head: Buffer;
  readonly payloadKey: Buffer;
  /** Length of the whole envelope. */
  readonly length: number;
}

/** Builds preamble and sealed header for one transfer. Synchronous: one RSA encryption and one signature. */
export function sealHead(input: SealInput): SealedHead {
  const { meta, sender, chunkSize } = input;
  const recipients = input.recipients ?? (input.recipient ? [input.recipient] : []);
  if (!Number.isInteger(chunkSize) || chunkSize < MIN_WIRE_CHUNK_SIZE || chunkSize > MAX_WIRE_CHUNK_SIZE) {
    throw new RangeError(`chunk size ${chunkSize} outside [${MIN_WIRE_CHUNK_SIZE}, ${MAX_WIRE_CHUNK_SIZE}]`);
  }
  if (recipients.length < 1 || recipients.length > MAX_RECIPIENTS) {
    throw new NvidError('NVID_ERR_BAD_ENVELOPE', `${recipients.length} recipients; an envelope takes 1 to ${MAX_RECIPIENTS}`);
  }
  if (meta.recipientIds !== undefined && (meta.recipientIds.length !== recipients.length || meta.recipientIds.some((id, i) => id !== recipients[i]!.id))) {
    throw new NvidError('NVID_ERR_WRONG_RECIPIENT', 'meta.recipientIds does not list the recipients in order');
  }
  if (new Set(recipients.map((r) => r.id)).size !== recipients.length) throw new NvidError('NVID_ERR_BAD_ENVELOPE', 'a recipient is listed twice');
  if (recipients.length > 1) return sealMultiHead(input, recipients);
  return sealSingleHead(input, recipients[0]!);
}

/**
 * Both versions' header: the sender signs context, preamble and meta; meta and
 * signature are encrypted with the preamble as associated data, so neither the
 * recipients nor the key material in the clear can be changed unseen.
 */
function signAndSealHeader(parts: {
  context: Buffer;
  preamble: Buffer;
  metaBytes: Buffer;
  senderKey: Parameters<SealPrimitives['sign']>[1];
  headerKey: Buffer;
  headerPlainLength: number;
  signatureLength: number;
  primitives: SealPrimitives;
}): Buffer {
  const { context, preamble, metaBytes, senderKey, headerKey, headerPlainLength, signatureLength, primitives } = parts;
  const signature = primitives.sign(Buffer.concat([context, preamble, metaBytes]), senderKey);
  const headerPlain = encodeHeaderPlaintext({ meta: metaBytes, signature });
  if (headerPlain.length !== headerPlainLength) throw new Error(`signature is ${signature.length} bytes, expected ${signatureLength}`);
  const cipher = createCipheriv('aes-256-gcm', headerKey, HEADER_NONCE);
  cipher.setAAD(preamble);
  return Buffer.concat([cipher.update(headerPlain), cipher.final(), cipher.getAuthTag()]);
}

/** Version 1: exactly one recipient. */
function sealSingleHead(input: SealInput, recipient: Pick<CertifiedPeer, 'id' | 'certPem'>): SealedHead {
  const { meta, sender, chunkSize } = input;
  const primitives = input.primitives ?? defaultSealPrimitives;
  if (meta.receiverId !== recipient.id) throw new NvidError('NVID_ERR_WRONG_RECIPIENT', `meta.receiverId ${meta.receiverId} is not the recipient ${recipient.id}`);
  if (meta.senderId !== sender.id) throw new NvidError('NVID_ERR_BAD_ENVELOPE', `meta.senderId ${meta.senderId} is not this node (${sender.id})`);
  const metaBytes = encodeMeta(meta);
  const recipientKey = publicKeyOfCert(recipient.certPem);
  const senderKey = privateKeyOf(sender.keyPem);

  const fileKey = primitives.randomBytes(FILE_KEY_BYTES);
  const salt = primitives.randomBytes(SALT_BYTES);
  const { headerKey, payloadKey } = deriveTransferKeys(fileKey, salt);
  const wrappedKey = primitives.wrapKey(fileKey, recipientKey);
  fileKey.fill(0);

  const signatureLength = rsaModulusBytes(senderKey);
  const headerPlainLength = Math.ceil((4 + metaBytes.length + signatureLength) / HEADER_PAD_BYTES) * HEADER_PAD_BYTES;
  const preamble = encodePreamble({
    recipientId: Buffer.from(recipient.id, 'hex'),
    salt,
    chunkSize,
    sealedHeaderLength: headerPlainLength + TAG_BYTES,
    wrappedKey,
  });
  // Signing the preamble too binds the header to this envelope's key and salt.
  const sealedHeader = signAndSealHeader({ context: SIGNATURE_CONTEXT, preamble, metaBytes, senderKey, headerKey, headerPlainLength, signatureLength, primitives });
  return {
    head: Buffer.concat([preamble, sealedHeader]),
    payloadKey,
    length: envelopeLength(meta.size, chunkSize, wrappedKey.length, sealedHeader.length),
  };
}

/**
 * Version 2: the file key wrapped for each recipient, in order, under one
 * signature over the whole preamble (so the list cannot change) and the meta.
 */
function sealMultiHead(input: SealInput, recipients: readonly Pick<CertifiedPeer, 'id' | 'certPem'>[]): SealedHead {
  const { meta, sender, chunkSize } = input;
  const primitives = input.primitives ?? defaultSealPrimitives;
  if (meta.senderId !== sender.id) throw new NvidError('NVID_ERR_BAD_ENVELOPE', `meta.senderId ${meta.senderId} is not this node (${sender.id})`);
  const metaBytes = encodeMeta(meta, true);
  const recipientKeys = recipients.map((r) => publicKeyOfCert(r.certPem));
  const senderKey = privateKeyOf(sender.keyPem);

  const fileKey = primitives.randomBytes(FILE_KEY_BYTES);
  const salt = primitives.randomBytes(SALT_BYTES);
  const { headerKey, payloadKey } = deriveTransferKeys(fileKey, salt);
  const stanzas = recipients.map((r, i) => ({ recipientId: Buffer.from(r.id, 'hex'), wrappedKey: primitives.wrapKey(fileKey, recipientKeys[i]!) }));
  fileKey.fill(0);

  const signatureLength = rsaModulusBytes(senderKey);
  const headerPlainLength = Math.ceil((4 + metaBytes.length + signatureLength) / HEADER_PAD_BYTES) * HEADER_PAD_BYTES;
  const preamble = encodeMultiPreamble({ salt, chunkSize, sealedHeaderLength: headerPlainLength + TAG_BYTES, recipients: stanzas });
  const sealedHeader = signAndSealHeader({ context: SIGNATURE_CONTEXT_MULTI, preamble, metaBytes, senderKey, headerKey, headerPlainLength, signatureLength, primitives });
  return {
    head: Buffer.concat([preamble, sealedHeader]),
    payloadKey,
    length: multiEnvelopeLength(meta.size, chunkSize, preamble.length, sealedHeader.length),
  };
}

/**
 * Seals `source`, which must yield exactly `meta.size` bytes, into an envelope stream.
 * The envelope errors if the source fails or its length does not match.
 */
export function sealStream(source: Readable, input: SealInput): SealedEnvelope {
  const { head, payloadKey, length } = sealHead(input);
  const sealer = new ChunkSealer({ payloadKey, size: input.meta.size, chunkSize: input.chunkSize }, head);
  // pipeline forwards a source error to the sealer and closes the source if the reader gives up.
  pipeline(source, sealer, () => {});
  return { stream: sealer, length };
}

/**
 * Seals the file at `path`. Opens it first, so a missing file fails here rather
 * than mid-stream, and reads exactly `meta.size` bytes of it; of a file still
 * being written (`growing`), only what is available, waiting for the rest.
 */
export async function sealFile(path: string, input: SealInput, growing?: GrowingFile): Promise<SealedEnvelope> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (err) {
    throw new NvidError('NVID_ERR_FILE_NOT_FOUND', `cannot open ${path}: ${(err as Error).message}`, { cause: err });
  }
  try {
    const stats = await handle.stat();
    if (!stats.isFile()) throw new NvidError('NVID_ERR_FILE_NOT_FOUND', `${path} is not a regular file`);
    if (growing ? stats.size > input.meta.size : stats.size !== input.meta.size) {
      throw new NvidError('NVID_ERR_BAD_ENVELOPE', `${path} is ${stats.size} bytes but meta.size says ${input.meta.size} (file changed after validation?)`);
    }
    const { head, payloadKey, length } = sealHead(input);
    return { stream: new FileSealer(handle, { payloadKey, size: input.meta.size, chunkSize: input.chunkSize }, head, growing), length };
  } catch (err) {
    await handle.close();
    throw err;
  }
}
