/**
 * The bulk channel's wire format, shared by both ends.
 *
 * The sealed envelope is already end-to-end encrypted and authenticated (and
 * the core checks its signer is the TLS-authenticated peer), so wrapping it in
 * TLS again only burns CPU. With the bulk channel, the mutual-TLS connection
 * still carries authentication, the `transfer` header, the ack and errors; the
 * envelope bytes travel raw on a second, plain TCP connection to the same port,
 * which proves it belongs to that TLS session with a single-use token the
 * receiver sent inside TLS:
 *
 *   offset 0   4 bytes   magic "NVB1" (its first byte can never start a TLS record)
 *   offset 4   32 bytes  token
 *   offset 36  n bytes   the envelope, exactly the length announced in `transfer`, then FIN
 *
 * The `transfer` header also carries the SHA-256 of the envelope's first
 * BULK_HEAD_BYTES, checked before any byte reaches the receive pipeline. Those
 * bytes hold the envelope's preamble (fresh salt, wrapped key) and its signed
 * header (with the transfer ID), and every later chunk is authenticated under
 * keys bound to them; so the hash ties the whole envelope to the TLS session,
 * and an on-path attacker who reads the token off the wire still cannot slip
 * in another envelope, not even an older one from the same sender.
 */
import { createHash, randomBytes } from 'node:crypto';

/** First bytes of every bulk connection; `N` (0x4e) is not a TLS record type, so one byte tells the two apart. */
export const BULK_MAGIC = Buffer.from('NVB1', 'ascii');
/** Random bytes in a token: guessing one is hopeless, so the only way in is to have read it inside TLS. */
export const BULK_TOKEN_BYTES = 32;
/** Magic plus token: what a bulk connection must present before any body byte. */
export const BULK_PREAMBLE_BYTES = BULK_MAGIC.length + BULK_TOKEN_BYTES;
/** How much of the envelope's start the `transfer` header's `head` hash covers (less if the envelope is shorter). */
export const BULK_HEAD_BYTES = 64 * 1024;

/** How a transfer's body travels: `tcp` = raw on the bulk channel (when the length is known), `tls` = data frames inside TLS. */
export type BulkChannelMode = 'tcp' | 'tls';

/** A fresh token, as lowercase hex (the form it takes in the `bulk` message). */
export function newBulkToken(): string {
  return randomBytes(BULK_TOKEN_BYTES).toString('hex');
}

/** The bytes a sender writes first on a bulk connection. */
export function encodeBulkPreamble(tokenHex: string): Buffer {
  const token = Buffer.from(tokenHex, 'hex');
  if (token.length !== BULK_TOKEN_BYTES) throw new RangeError(`a bulk token has ${BULK_TOKEN_BYTES} bytes, got ${token.length}`);
  return Buffer.concat([BULK_MAGIC, token]);
}

/**
 * Whether `bytes` (the start of a connection, possibly shorter than the
 * preamble) can still be a bulk preamble: lets garbage be refused on its
 * first bytes instead of after 36 of them.
 */
export function couldBeBulkPreamble(bytes: Buffer): boolean {
  const n = Math.min(bytes.length, BULK_MAGIC.length);
  return bytes.subarray(0, n).equals(BULK_MAGIC.subarray(0, n));
}

/** The `head` value for an envelope starting with `bytes` (exactly its first min(length, BULK_HEAD_BYTES) bytes). */
export function envelopeHeadHash(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}
