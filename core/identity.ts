/**
 * A daemon's identity: an RSA key pair and a self-signed X.509 certificate,
 * made on first start and kept in the state folder. The ID is the SHA-256
 * fingerprint of the certificate, so a name is only ever a label.
 *
 * The key pair comes from node:crypto (OpenSSL, milliseconds), which also reads
 * the certificate; node-forge builds it, which node:crypto cannot. Forge is
 * loaded only then, on a node's first start: held in every daemon, it took
 * 5-11 MiB of resident memory for nothing.
 */
import { createHash, createPrivateKey, generateKeyPairSync, randomBytes, X509Certificate } from 'node:crypto';
import { mkdirSync, readFileSync, statSync, writeFileSync, openSync, closeSync, renameSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type forgeModule from 'node-forge';
import { NvidError } from './errors.js';
import type { Identity } from './types.js';

export const KEY_FILE = 'key.pem';
export const CERT_FILE = 'cert.pem';

/** SHA-256 of the certificate's DER bytes, lowercase hex. */
export function fingerprintOf(certPem: string): string {
  return createHash('sha256').update(parseCertificate(certPem).raw).digest('hex');
}

/** @throws NvidError NVID_ERR_IDENTITY_CORRUPT */
function parseCertificate(certPem: string): X509Certificate {
  try {
    return new X509Certificate(certPem);
  } catch (err) {
    throw new NvidError('NVID_ERR_IDENTITY_CORRUPT', `certificate cannot be parsed: ${(err as Error).message}`, { cause: err });
  }
}

/**
 * Makes a fresh RSA key pair and a self-signed certificate (CN = label).
 * `serialBytes` is the serial's randomness, given only by tests that try its edge values.
 */
export function createIdentity(label: string, bits = 2048, serialBytes: Buffer = randomBytes(16)): Identity {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: bits });
  const keyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const pubPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  const forge = createRequire(import.meta.url)('node-forge') as typeof forgeModule;
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(pubPem);
  // A positive random serial in minimal DER: the top bit cleared keeps the integer positive, and
  // the next bit set keeps the first byte non-zero, since a leading zero byte ahead of one below
  // 0x80 is "illegal padding" to OpenSSL (it refused one identity in 256 before this).
  const serial = Buffer.from(serialBytes);
  serial[0] = (serial[0]! & 0x3f) | 0x40;
  cert.serialNumber = serial.toString('hex');
  const now = new Date();
  cert.validity.notBefore = new Date(now.getTime() - 24 * 3600 * 1000);
  cert.validity.notAfter = new Date(now.getTime() + 20 * 365 * 24 * 3600 * 1000);
  const subject = [{ name: 'commonName', value: `nvid ${label}`.slice(0, 64) }, { name: 'organizationName', value: 'nvid' }];
  cert.setSubject(subject);
  cert.setIssuer(subject);
  cert.setExtensions([
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
    { name: 'extKeyUsage', serverAuth: true, clientAuth: true },
  ]);
  cert.sign(forge.pki.privateKeyFromPem(keyPem), forge.md.sha256.create());
  const certPem = forge.pki.certificateToPem(cert);
  return { id: fingerprintOf(certPem), certPem, keyPem };
}

/**
 * Loads the identity from `dir`, or makes and stores one when neither file exists.
 * A half-present, unparsable, mismatched or loosely-permissioned key is an error:
 * replacing it silently would change this node's ID behind the user's back.
 */
export function loadOrCreateIdentity(dir: string, label: string): Identity & { created: boolean } {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const keyPath = join(dir, KEY_FILE);
  const certPath = join(dir, CERT_FILE);
  const keyStat = statOrUndefined(keyPath);
  const certStat = statOrUndefined(certPath);
  if (!keyStat && !certStat) {
    const identity = createIdentity(label);
    writeExclusive(keyPath, identity.keyPem, 0o600);
    writeExclusive(certPath, identity.certPem, 0o644);
    return { ...identity, created: true };
  }
  if (!keyStat || !certStat) {
    throw new NvidError('NVID_ERR_IDENTITY_CORRUPT', `identity in ${dir} is incomplete: ${keyStat ? CERT_FILE : KEY_FILE} is missing; restore it from a backup or remove ${dir} to make a new identity (this changes the node's ID)`);
  }
  if ((keyStat.mode & 0o077) !== 0) {
    throw new NvidError('NVID_ERR_IDENTITY_PERMISSIONS', `private key ${keyPath} is accessible by group or others (mode ${(keyStat.mode & 0o777).toString(8)}); run: chmod 600 ${keyPath}`);
  }
  if (typeof process.getuid === 'function' && keyStat.uid !== process.getuid()) {
    throw new NvidError('NVID_ERR_IDENTITY_PERMISSIONS', `private key ${keyPath} belongs to uid ${keyStat.uid}, not to this user (uid ${process.getuid()})`);
  }
  const keyPem = readFileSync(keyPath, 'utf8');
  const certPem = readFileSync(certPath, 'utf8');
  let matches: boolean;
  try {
    matches = new X509Certificate(certPem).checkPrivateKey(createPrivateKey(keyPem));
  } catch (err) {
    throw new NvidError('NVID_ERR_IDENTITY_CORRUPT', `identity in ${dir} cannot be parsed: ${(err as Error).message}`, { cause: err });
  }
  if (!matches) throw new NvidError('NVID_ERR_IDENTITY_CORRUPT', `${certPath} does not belong to the private key ${keyPath}`);
  return { id: fingerprintOf(certPem), certPem, keyPem, created: false };
}

function statOrUndefined(path: string) {
  try {
    return statSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** Writes via a temporary name so a crash never leaves half a key under the real name. */
function writeExclusive(path: string, text: string, mode: number): void {
  const tmp = `${path}.tmp-${process.pid}`;
  const fd = openSync(tmp, 'wx', mode);
  try {
    writeFileSync(fd, text);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}
