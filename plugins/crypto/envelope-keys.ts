/**
 * The asymmetric and key-derivation steps of an envelope, all through
 * node:crypto (OpenSSL): HKDF-SHA256 for the header and payload keys,
 * RSA-OAEP (SHA-256) to wrap the file key, RSA-PSS (SHA-256) to sign the
 * header. node:crypto does these in well under a millisecond where node-forge
 * needs about 20 ms (see README).
 */
import {
  constants,
  createPrivateKey,
  hkdfSync,
  privateDecrypt,
  publicEncrypt,
  randomBytes,
  sign,
  verify,
  X509Certificate,
  type KeyObject,
} from 'node:crypto';
import { NvidError } from '../../core/errors.js';
import { FILE_KEY_BYTES } from './envelope-format.js';

/** PSS salt length: the hash length, as RFC 8017 recommends. Verification insists on it. */
export const PSS_SALT_BYTES = 32;
const HEADER_KEY_INFO = Buffer.from('nvid v1 header key', 'ascii');
const PAYLOAD_KEY_INFO = Buffer.from('nvid v1 payload key', 'ascii');

/** The two AES-256 keys of one transfer, both derived from its file key and salt. */
export interface TransferKeys {
  readonly headerKey: Buffer;
  readonly payloadKey: Buffer;
}

/** HKDF-SHA256(fileKey, salt) with distinct labels for the header unit and the chunks (age-style). */
export function deriveTransferKeys(fileKey: Buffer, salt: Buffer): TransferKeys {
  return {
    headerKey: Buffer.from(hkdfSync('sha256', fileKey, salt, HEADER_KEY_INFO, 32)),
    payloadKey: Buffer.from(hkdfSync('sha256', fileKey, salt, PAYLOAD_KEY_INFO, 32)),
  };
}

/**
 * The randomised steps of sealing. Production uses {@link defaultSealPrimitives};
 * the known-answer tests pass deterministic ones (fixed bytes, fixed OAEP seed
 * and PSS salt) so the whole envelope is reproducible. Not a user option.
 */
export interface SealPrimitives {
  /** Fresh random bytes; sealing asks for the file key first, then the salt. */
  randomBytes(size: number): Buffer;
  /** RSA-OAEP (SHA-256, MGF1-SHA-256, empty label) encryption of the file key. */
  wrapKey(fileKey: Buffer, recipientKey: KeyObject): Buffer;
  /** RSA-PSS (SHA-256, MGF1-SHA-256, 32-byte salt) signature of `data`. */
  sign(data: Buffer, senderKey: KeyObject): Buffer;
}

export const defaultSealPrimitives: SealPrimitives = Object.freeze({
  randomBytes: (size: number) => randomBytes(size),
  wrapKey: (fileKey: Buffer, recipientKey: KeyObject) =>
    publicEncrypt({ key: recipientKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, fileKey),
  sign: (data: Buffer, senderKey: KeyObject) =>
    sign('sha256', data, { key: senderKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: PSS_SALT_BYTES }),
});

/** Unwraps the file key with this node's private key. Any failure is NVID_ERR_KEY_UNWRAP. */
export function unwrapFileKey(wrappedKey: Buffer, privateKey: KeyObject): Buffer {
  let fileKey: Buffer;
  try {
    fileKey = privateDecrypt({ key: privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, wrappedKey);
  } catch (err) {
    throw new NvidError('NVID_ERR_KEY_UNWRAP', 'the wrapped transfer key does not decrypt with this node\'s key', { cause: err });
  }
  if (fileKey.length !== FILE_KEY_BYTES) throw new NvidError('NVID_ERR_KEY_UNWRAP', `unwrapped key is ${fileKey.length} bytes, expected ${FILE_KEY_BYTES}`);
  return fileKey;
}

/** Checks an RSA-PSS header signature; false on any mismatch or malformed signature. */
export function verifySignature(data: Buffer, signature: Buffer, senderKey: KeyObject): boolean {
  try {
    return verify('sha256', data, { key: senderKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: PSS_SALT_BYTES }, signature);
  } catch {
    return false;
  }
}

// Parsing a PEM costs about as much as an RSA operation; peers and our own key repeat.
const publicKeys = new Map<string, KeyObject>();
const privateKeys = new Map<string, KeyObject>();
const MAX_CACHED_KEYS = 256;

/** The public key inside a PEM certificate, cached. Throws NVID_ERR_BAD_ENVELOPE if the PEM is unusable. */
export function publicKeyOfCert(certPem: string): KeyObject {
  return cached(publicKeys, certPem, () => {
    try {
      return new X509Certificate(certPem).publicKey;
    } catch (err) {
      throw new NvidError('NVID_ERR_BAD_ENVELOPE', `peer certificate cannot be parsed: ${(err as Error).message}`, { cause: err });
    }
  });
}

/** This node's private key as a KeyObject, cached. */
export function privateKeyOf(keyPem: string): KeyObject {
  return cached(privateKeys, keyPem, () => createPrivateKey(keyPem));
}

/** Modulus length of an RSA key in bytes, which is also the length of its OAEP ciphertexts. */
export function rsaModulusBytes(key: KeyObject): number {
  const bits = key.asymmetricKeyDetails?.modulusLength;
  if (key.asymmetricKeyType !== 'rsa' || bits === undefined) throw new NvidError('NVID_ERR_BAD_ENVELOPE', `expected an RSA key, got ${key.asymmetricKeyType ?? 'unknown'}`);
  return Math.ceil(bits / 8);
}

function cached(map: Map<string, KeyObject>, pem: string, make: () => KeyObject): KeyObject {
  let key = map.get(pem);
  if (!key) {
    key = make();
    if (map.size >= MAX_CACHED_KEYS) map.delete(map.keys().next().value as string);
    map.set(pem, key);
  }
  return key;
}
