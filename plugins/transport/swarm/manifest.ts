/**
 * The manifest of a shared transfer: which envelope (transfer ID, exact
 * length), for whom (the recipients, in the envelope's order), cut into which
 * pieces, and the SHA-256 of every piece, signed once by the sender's key.
 *
 * Recipients pass pieces on to each other, and every one of them holds the
 * envelope's keys, so the envelope's own AES-GCM tags cannot tell a piece the
 * sender made from one a fellow recipient forged. The manifest can: a piece
 * is stored or passed on only once its hash matches the sender's signed list
 * (BitTorrent's piece hashes, signed like age's header). No piece key to keep
 * and no signature per piece: one RSA signature covers them all.
 */
import { createHash, createPublicKey, sign as rsaSign, verify as rsaVerify, constants } from 'node:crypto';
import { open } from 'node:fs/promises';
import { NvidError } from '../../../core/errors.js';

export const MANIFEST_VERSION = 1;
/** Pieces a manifest lists at most: their hashes (32 KiB) must fit in one 64 KiB message with the rest. */
export const MAX_PIECES = 1024;
export const PIECE_ALIGN_BYTES = 64 * 1024;
export const DEFAULT_PIECE_BYTES = 512 * 1024;
const HASH_BYTES = 32;
/** Domain separation: this signature can never be mistaken for an envelope header's. */
const SIGNATURE_CONTEXT = Buffer.from('nvid swarm manifest v1\0', 'ascii');
const TRANSFER_ID = /^[A-Za-z0-9-]{8,64}$/;
const NODE_ID = /^[0-9a-f]{64}$/;

export interface Manifest {
  readonly v: 1;
  readonly transferId: string;
  readonly senderId: string;
  /** The envelope's recipients, in its order: the order pieces flow in (see swarm-download.ts). */
  readonly recipients: readonly string[];
  /** The envelope's exact length in bytes. */
  readonly length: number;
  readonly pieceBytes: number;
  /** When the sender made the manifest (ms since the epoch). */
  readonly created: number;
  /** SHA-256 of each piece, concatenated, base64. */
  readonly hashes: string;
}

/** A manifest as it travels: its exact JSON text and the sender's signature over it. */
export interface SignedManifest {
  readonly text: string;
  readonly signature: string;
  readonly manifest: Manifest;
}

/** The piece size for an envelope of `length` bytes: `preferred`, or larger so no more than MAX_PIECES are needed. */
export function pieceBytesFor(length: number, preferred = DEFAULT_PIECE_BYTES): number {
  const least = Math.ceil(length / MAX_PIECES / PIECE_ALIGN_BYTES) * PIECE_ALIGN_BYTES;
  return Math.max(preferred, least, PIECE_ALIGN_BYTES);
}

export function pieceCount(m: Pick<Manifest, 'length' | 'pieceBytes'>): number {
  return Math.max(1, Math.ceil(m.length / m.pieceBytes));
}

/** Byte range [start, end) of piece `index`. */
export function pieceRange(m: Pick<Manifest, 'length' | 'pieceBytes'>, index: number): { start: number; end: number } {
  const start = index * m.pieceBytes;
  return { start, end: Math.min(m.length, start + m.pieceBytes) };
}

/** Hashes every piece of the envelope file: one read through it, 1 MiB at a time. */
export async function hashPieces(file: string, length: number, pieceBytes: number): Promise<Buffer> {
  const count = pieceCount({ length, pieceBytes });
  const hashes = Buffer.alloc(count * HASH_BYTES);
  const handle = await open(file, 'r');
  try {
    const buffer = Buffer.allocUnsafe(Math.min(pieceBytes, 1024 * 1024));
    for (let index = 0; index < count; index++) {
      const { start, end } = pieceRange({ length, pieceBytes }, index);
      const hash = createHash('sha256');
      for (let at = start; at < end; ) {
        const { bytesRead } = await handle.read(buffer, 0, Math.min(buffer.length, end - at), at);
        if (bytesRead === 0) throw new NvidError('NVID_ERR_DELIVERY', `the sealed envelope ${file} is shorter than its ${length} bytes`);
        hash.update(buffer.subarray(0, bytesRead));
        at += bytesRead;
      }
      hash.digest().copy(hashes, index * HASH_BYTES);
    }
  } finally {
    await handle.close();
  }
  return hashes;
}

/** Makes and signs the manifest (the JSON keys in a fixed order; the signature covers exactly that text). */
export function signManifest(fields: Omit<Manifest, 'v' | 'hashes'> & { hashes: Buffer }, keyPem: string): SignedManifest {
  const manifest: Manifest = {
    v: MANIFEST_VERSION,
    transferId: fields.transferId,
    senderId: fields.senderId,
    recipients: [...fields.recipients],
    length: fields.length,
    pieceBytes: fields.pieceBytes,
    created: fields.created,
    hashes: fields.hashes.toString('base64'),
  };
  const text = JSON.stringify(manifest);
  const signature = rsaSign('sha256', Buffer.concat([SIGNATURE_CONTEXT, Buffer.from(text, 'utf8')]), pssKey(keyPem)).toString('base64');
  return { text, signature, manifest };
}

/**
 * Checks a manifest against the sender's certificate and its own outline; throws
 * NVID_ERR_SWARM_MANIFEST naming what is wrong. `senderId` is who the caller
 * believes sent it (the certificate's fingerprint).
 */
export function verifyManifest(text: string, signature: string, senderCertPem: string, senderId: string): SignedManifest {
  const key = createPublicKey(senderCertPem);
  const ok = rsaVerify('sha256', Buffer.concat([SIGNATURE_CONTEXT, Buffer.from(text, 'utf8')]), { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }, Buffer.from(signature, 'base64'));
  if (!ok) throw badManifest('its signature does not verify against the sender\'s certificate');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw badManifest('it is not JSON');
  }
  const manifest = checkOutline(parsed);
  if (manifest.senderId !== senderId) throw badManifest(`it names sender ${manifest.senderId.slice(0, 12)}…, not the peer that signed it`);
  return { text, signature, manifest };
}

/** The expected SHA-256 of every piece, in order (decoded once: a store checks one per piece). */
export function pieceHashes(m: Manifest): readonly Buffer[] {
  const all = Buffer.from(m.hashes, 'base64');
  return Array.from({ length: pieceCount(m) }, (_, index) => all.subarray(index * HASH_BYTES, (index + 1) * HASH_BYTES));
}

function checkOutline(value: unknown): Manifest {
  const m = value as Partial<Manifest> | null;
  if (typeof m !== 'object' || m === null || m.v !== MANIFEST_VERSION) throw badManifest('unknown manifest version');
  if (typeof m.transferId !== 'string' || !TRANSFER_ID.test(m.transferId)) throw badManifest('malformed transfer ID');
  if (typeof m.senderId !== 'string' || !NODE_ID.test(m.senderId)) throw badManifest('malformed sender ID');
  if (!Array.isArray(m.recipients) || m.recipients.length < 1 || m.recipients.length > 64 || !m.recipients.every((r) => typeof r === 'string' && NODE_ID.test(r))) {
    throw badManifest('malformed recipient list');
  }
  if (new Set(m.recipients).size !== m.recipients.length) throw badManifest('a recipient is listed twice');
  if (!Number.isSafeInteger(m.length) || m.length! < 1) throw badManifest('malformed length');
  if (!Number.isSafeInteger(m.pieceBytes) || m.pieceBytes! < PIECE_ALIGN_BYTES || m.pieceBytes! % PIECE_ALIGN_BYTES !== 0) throw badManifest('malformed piece size');
  if (!Number.isSafeInteger(m.created)) throw badManifest('malformed creation time');
  const count = pieceCount(m as Manifest);
  if (count > MAX_PIECES) throw badManifest(`${count} pieces, more than ${MAX_PIECES}`);
  if (typeof m.hashes !== 'string' || Buffer.from(m.hashes, 'base64').length !== count * HASH_BYTES) throw badManifest('the piece hashes do not match the piece count');
  return m as Manifest;
}

function pssKey(keyPem: string) {
  return { key: keyPem, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 };
}

function badManifest(why: string): NvidError {
  return new NvidError('NVID_ERR_SWARM_MANIFEST', `the transfer's manifest is refused: ${why}`);
}
