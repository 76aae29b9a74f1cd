/**
 * Opening: reads the preamble and header, unwraps the key, checks the
 * signature and every claim in the header, then hands the rest of the stream
 * to a {@link ChunkOpener}. Resolves only when the header is good; the
 * plaintext stream then errors if any later chunk is not.
 */
import { createDecipheriv } from 'node:crypto';
import type { Readable } from 'node:stream';
import { NvidError } from '../../core/errors.js';
import type { CertifiedPeer, Identity, OpenedEnvelope, Peer, TransferMeta } from '../../core/types.js';
import {
  decodeHeaderPlaintext,
  decodeMagicAndVersion,
  decodeMultiPreambleFixed,
  decodePreambleFixed,
  decodeStanzaFixed,
  ENVELOPE_VERSION_MULTI,
  HEADER_NONCE,
  MULTI_PREAMBLE_FIXED_BYTES,
  PREAMBLE_FIXED_BYTES,
  SIGNATURE_CONTEXT,
  SIGNATURE_CONTEXT_MULTI,
  STANZA_FIXED_BYTES,
  TAG_BYTES,
} from './envelope-format.js';
import { deriveTransferKeys, privateKeyOf, publicKeyOfCert, rsaModulusBytes, unwrapFileKey, verifySignature } from './envelope-keys.js';
import { sanitizeFileName } from './file-name.js';
import type { ReplayGuard } from './replay-guard.js';
import { ChunkOpener } from './stream-cipher.js';
import { readExactly } from './stream-reader.js';
import { parseMeta, type SharedMeta } from './transfer-meta.js';

/** Everything opening needs. */
export interface OpenInput {
  readonly envelope: Readable;
  /** The peer the transport authenticated; the header must be signed by its certificate's key. */
  readonly sender: Pick<CertifiedPeer, 'id' | 'certPem'>;
  readonly identity: Pick<Identity, 'id' | 'keyPem'>;
  readonly replayGuard: ReplayGuard;
  /** Oldest acceptable envelope time, as an age. */
  readonly replayWindowMs: number;
  /** Newest acceptable envelope time, as a distance into the future. */
  readonly maxClockSkewMs: number;
  /** Internal: the clock, for tests. */
  readonly now?: () => number;
}

/**
 * Opens an envelope. Rejects with the NvidError code of the first thing that is
 * wrong (see README). After a rejection, or once the plaintext errors, the rest
 * of `envelope` is left unread: its owner (the transport) closes it.
 */
export async function openEnvelope(input: OpenInput): Promise<OpenedEnvelope> {
  const { envelope, identity } = input;
  const lead = await readExactly(envelope, 5, 'preamble');
  const version = decodeMagicAndVersion(lead);
  const head = version === ENVELOPE_VERSION_MULTI ? await readMultiHead(input, lead) : await readSingleHead(input, lead);
  const { signed, recipientIds, payloadKey, chunkSize } = head;
  if (signed.senderId !== input.sender.id) {
    throw new NvidError('NVID_ERR_BAD_SIGNATURE', `header claims sender ${signed.senderId} but the connection is authenticated as ${input.sender.id}`);
  }
  if (!recipientIds.includes(identity.id)) throw new NvidError('NVID_ERR_WRONG_RECIPIENT', 'signed header does not list this node as a recipient');
  checkFreshness(signed, input);
  // A version 1 envelope's meta stays as it always was (no list: `recipientIds` absent means `[receiverId]`).
  const meta: TransferMeta = {
    ...signed,
    receiverId: identity.id,
    ...(version === ENVELOPE_VERSION_MULTI ? { recipientIds } : {}),
    fileName: sanitizeFileName(signed.fileName),
  };

  const reservation = input.replayGuard.reserve(signed.transferId, signed.time);
  const plaintext = new ChunkOpener({ payloadKey, size: signed.size, chunkSize }, () => reservation.commit());
  plaintext.once('close', () => reservation.release());
  connectBody(envelope, plaintext);
  return { meta, plaintext };
}

/** What the preamble and the verified header yield, whatever the version. */
interface VerifiedHead {
  readonly signed: SharedMeta;
  /** The signed recipient list, in order, as hex IDs. */
  readonly recipientIds: readonly string[];
  readonly payloadKey: Buffer;
  readonly chunkSize: number;
}

/** Version 1: one recipient in the preamble, `receiverId` in the signed meta. */
async function readSingleHead(input: OpenInput, lead: Buffer): Promise<VerifiedHead> {
  const { envelope, identity, sender } = input;
  const fixedBytes = Buffer.concat([lead, await readExactly(envelope, PREAMBLE_FIXED_BYTES - lead.length, 'preamble')]);
  const fixed = decodePreambleFixed(fixedBytes);
  if (!fixed.recipientId.equals(Buffer.from(identity.id, 'hex'))) {
    throw new NvidError('NVID_ERR_WRONG_RECIPIENT', `envelope is addressed to ${fixed.recipientId.toString('hex')}, not to this node`);
  }
  const privateKey = privateKeyOf(identity.keyPem);
  if (fixed.wrappedKeyLength !== rsaModulusBytes(privateKey)) {
    throw new NvidError('NVID_ERR_BAD_ENVELOPE', `wrapped key is ${fixed.wrappedKeyLength} bytes; this node's key wraps to ${rsaModulusBytes(privateKey)}`);
  }
  const wrappedKey = await readExactly(envelope, fixed.wrappedKeyLength, 'wrapped key');
  const sealedHeader = await readExactly(envelope, fixed.sealedHeaderLength, 'header');
  const preamble = Buffer.concat([fixedBytes, wrappedKey]);

  const { meta, payloadKey } = openVerifiedHeader({ wrappedKey, privateKey, salt: fixed.salt, sealedHeader, preamble, context: SIGNATURE_CONTEXT, sender });
  const { receiverId, ...signed } = parseMeta(meta);
  if (signed.senderId === sender.id && receiverId !== identity.id) throw new NvidError('NVID_ERR_WRONG_RECIPIENT', `signed header is addressed to ${receiverId}, not to this node`);
  return { signed, recipientIds: [receiverId], payloadKey, chunkSize: fixed.chunkSize };
}

/**
 * Both versions' header: the file key unwrapped with this node's key, the
 * header opened with the preamble as associated data, and the sender's
 * signature over context, preamble and meta checked against its certificate.
 */
function openVerifiedHeader(parts: {
  wrappedKey: Buffer;
  privateKey: Parameters<typeof unwrapFileKey>[1];
  salt: Buffer;
  sealedHeader: Buffer;
  preamble: Buffer;
  context: Buffer;
  sender: OpenInput['sender'];
  /** Said after a signature that does not verify, when a likely cause is known. */
  suspect?: string;
}): { meta: Buffer; payloadKey: Buffer } {
  const fileKey = unwrapFileKey(parts.wrappedKey, parts.privateKey);
  const { headerKey, payloadKey } = deriveTransferKeys(fileKey, parts.salt);
  fileKey.fill(0);
  const header = decodeHeaderPlaintext(openHeader(parts.sealedHeader, headerKey, parts.preamble));
  if (!verifySignature(Buffer.concat([parts.context, parts.preamble, header.meta]), header.signature, publicKeyOfCert(parts.sender.certPem))) {
    throw new NvidError('NVID_ERR_BAD_SIGNATURE', `header signature does not verify against the certificate of ${parts.sender.id}${parts.suspect ? ` (${parts.suspect})` : ''}`);
  }
  return { meta: header.meta, payloadKey };
}

/**
 * Version 2: the recipient stanzas are read in order until this node's; the
 * rest of the list is read too (the whole preamble is the header's AAD and is
 * signed), then the header is opened with the key unwrapped from our stanza.
 */
async function readMultiHead(input: OpenInput, lead: Buffer): Promise<VerifiedHead> {
  const { envelope, identity, sender } = input;
  const fixedBytes = Buffer.concat([lead, await readExactly(envelope, MULTI_PREAMBLE_FIXED_BYTES - lead.length, 'preamble')]);
  const fixed = decodeMultiPreambleFixed(fixedBytes);
  const me = Buffer.from(identity.id, 'hex');
  const parts: Buffer[] = [fixedBytes];
  const recipientIds: string[] = [];
  let mine: Buffer | undefined;
  for (let i = 0; i < fixed.recipientCount; i += 1) {
    const stanzaBytes = await readExactly(envelope, STANZA_FIXED_BYTES, 'recipient list');
    const stanza = decodeStanzaFixed(stanzaBytes);
    const wrappedKey = await readExactly(envelope, stanza.wrappedKeyLength, 'recipient list');
    parts.push(stanzaBytes, wrappedKey);
    const id = stanza.recipientId.toString('hex');
    if (recipientIds.includes(id)) throw new NvidError('NVID_ERR_BAD_ENVELOPE', 'the recipient list names a recipient twice');
    recipientIds.push(id);
    if (stanza.recipientId.equals(me)) mine = wrappedKey;
  }
  if (!mine) throw new NvidError('NVID_ERR_WRONG_RECIPIENT', `envelope is addressed to ${recipientIds.length} recipients, not to this node`);
  const privateKey = privateKeyOf(identity.keyPem);
  if (mine.length !== rsaModulusBytes(privateKey)) {
    throw new NvidError('NVID_ERR_BAD_ENVELOPE', `wrapped key is ${mine.length} bytes; this node's key wraps to ${rsaModulusBytes(privateKey)}`);
  }
  const sealedHeader = await readExactly(envelope, fixed.sealedHeaderLength, 'header');
  const preamble = Buffer.concat(parts);

  const { meta, payloadKey } = openVerifiedHeader({ wrappedKey: mine, privateKey, salt: fixed.salt, sealedHeader, preamble, context: SIGNATURE_CONTEXT_MULTI, sender, suspect: 'altered or re-addressed recipient list?' });
  return { signed: parseMeta(meta, true), recipientIds, payloadKey, chunkSize: fixed.chunkSize };
}

function openHeader(sealedHeader: Buffer, headerKey: Buffer, preamble: Buffer): Buffer {
  const decipher = createDecipheriv('aes-256-gcm', headerKey, HEADER_NONCE);
  decipher.setAAD(preamble);
  decipher.setAuthTag(sealedHeader.subarray(sealedHeader.length - TAG_BYTES));
  const plain = decipher.update(sealedHeader.subarray(0, sealedHeader.length - TAG_BYTES));
  try {
    decipher.final();
  } catch (err) {
    throw new NvidError('NVID_ERR_BAD_ENVELOPE', 'envelope header failed authentication (preamble or header altered)', { cause: err });
  }
  return plain;
}

function checkFreshness(meta: SharedMeta, input: OpenInput): void {
  const now = (input.now ?? Date.now)();
  if (meta.time < now - input.replayWindowMs) {
    throw new NvidError('NVID_ERR_STALE', `envelope is ${Math.round((now - meta.time) / 1000)} s old; at most ${input.replayWindowMs / 1000} s accepted`);
  }
  if (meta.time > now + input.maxClockSkewMs) {
    throw new NvidError('NVID_ERR_STALE', `envelope is dated ${Math.round((meta.time - now) / 1000)} s in the future; at most ${input.maxClockSkewMs / 1000} s of clock skew accepted`);
  }
}

/** Pipes the body on; a source that fails or closes without ending is a truncation. */
function connectBody(envelope: Readable, plaintext: ChunkOpener): void {
  const truncated = (why: string, cause?: unknown) =>
    plaintext.destroy(new NvidError('NVID_ERR_TRUNCATED', `envelope stream ${why} before its final chunk`, cause === undefined ? undefined : { cause }));
  envelope.on('error', (err) => truncated(`failed (${err.message})`, err));
  envelope.once('close', () => {
    if (!envelope.readableEnded) truncated('closed');
  });
  envelope.pipe(plaintext);
}
