/**
 * Deterministic stand-ins for the randomised steps of sealing, so a known-answer
 * test can pin every byte of an envelope. RSA-OAEP and RSA-PSS are built here
 * from their RFC 8017 definitions (EME-OAEP, EMSA-PSS with MGF1-SHA-256) on top
 * of raw RSA, with the seed and salt supplied by the test instead of drawn at
 * random. The production code opens and verifies what they make with plain
 * node:crypto, which is what proves they follow the standard.
 */
import { constants, createHash, privateEncrypt, publicEncrypt, type KeyObject } from 'node:crypto';
import type { SealPrimitives } from '../../../plugins/crypto/envelope-keys.js';

const HASH_BYTES = 32;

function sha256(...parts: Buffer[]): Buffer {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part);
  return hash.digest();
}

/** MGF1 with SHA-256 (RFC 8017 B.2.1). */
export function mgf1(seed: Buffer, length: number): Buffer {
  const out: Buffer[] = [];
  for (let counter = 0; out.length * HASH_BYTES < length; counter += 1) {
    const c = Buffer.alloc(4);
    c.writeUInt32BE(counter);
    out.push(sha256(seed, c));
  }
  return Buffer.concat(out).subarray(0, length);
}

function xor(a: Buffer, b: Buffer): Buffer {
  return Buffer.from(a.map((byte, i) => byte ^ b[i]!));
}

function modulusBytes(key: KeyObject): number {
  return Math.ceil(key.asymmetricKeyDetails!.modulusLength! / 8);
}

/** RSAES-OAEP-ENCRYPT with SHA-256, empty label and the given 32-byte seed. */
export function oaepEncrypt(message: Buffer, publicKey: KeyObject, seed: Buffer): Buffer {
  const k = modulusBytes(publicKey);
  const db = Buffer.concat([sha256(Buffer.alloc(0)), Buffer.alloc(k - message.length - 2 * HASH_BYTES - 2), Buffer.from([1]), message]);
  const maskedDb = xor(db, mgf1(seed, k - HASH_BYTES - 1));
  const maskedSeed = xor(seed, mgf1(maskedDb, HASH_BYTES));
  const em = Buffer.concat([Buffer.from([0]), maskedSeed, maskedDb]);
  return publicEncrypt({ key: publicKey, padding: constants.RSA_NO_PADDING }, em);
}

/** RSASSA-PSS-SIGN with SHA-256, MGF1-SHA-256 and the given salt. */
export function pssSign(message: Buffer, privateKey: KeyObject, salt: Buffer): Buffer {
  const modBits = privateKey.asymmetricKeyDetails!.modulusLength!;
  const emBits = modBits - 1;
  const emLen = Math.ceil(emBits / 8);
  const h = sha256(Buffer.alloc(8), sha256(message), salt);
  const db = Buffer.concat([Buffer.alloc(emLen - salt.length - HASH_BYTES - 2), Buffer.from([1]), salt]);
  const maskedDb = xor(db, mgf1(h, emLen - HASH_BYTES - 1));
  maskedDb[0] = maskedDb[0]! & (0xff >> (8 * emLen - emBits));
  const em = Buffer.concat([maskedDb, h, Buffer.from([0xbc])]);
  // Raw RSA needs the input as long as the modulus.
  const padded = Buffer.concat([Buffer.alloc(modulusBytes(privateKey) - em.length), em]);
  return privateEncrypt({ key: privateKey, padding: constants.RSA_NO_PADDING }, padded);
}

/** Fixed inputs of one deterministic seal. */
export interface FixedRandomness {
  readonly fileKey: Buffer;
  readonly salt: Buffer;
  readonly oaepSeed: Buffer;
  readonly pssSalt: Buffer;
}

/** Seal primitives that hand out the fixed file key, then the fixed salt, and pad deterministically. */
export function fixedPrimitives(fixed: FixedRandomness): SealPrimitives {
  const queue = [fixed.fileKey, fixed.salt];
  return {
    randomBytes(size: number): Buffer {
      const next = queue.shift();
      if (!next || next.length !== size) throw new Error(`unexpected randomBytes(${size}) call`);
      return Buffer.from(next);
    },
    wrapKey: (fileKey, recipientKey) => oaepEncrypt(fileKey, recipientKey, fixed.oaepSeed),
    sign: (data, senderKey) => pssSign(data, senderKey, fixed.pssSalt),
  };
}
