/**
 * Simulated nodes for the coordinator benchmark: many distinct certificates
 * made cheaply, and a minimal coordinator client that speaks the real wire
 * protocol over real mutual TLS but keeps no peer table beyond counters.
 */
import { RSA_PKCS1_PADDING } from 'node:constants';
import { createHash, generateKeyPairSync, privateEncrypt } from 'node:crypto';
import { connect, type TLSSocket } from 'node:tls';
import forge from 'node-forge';
import type { Identity } from '../core/types.js';
import { PREFIX_BYTES, encodeMessage } from '../plugins/transport/wire/frame-codec.js';

/** DER prefix of a PKCS#1 v1.5 DigestInfo for SHA-256; the 32-byte hash follows. */
const SHA256_DIGEST_INFO = Buffer.from('3031300d060960864801650304020105000420', 'hex');

/**
 * N identities with distinct certificates (so distinct IDs) sharing one RSA
 * key: node-forge builds each certificate, node:crypto signs it, which takes
 * about a millisecond instead of forge's ~20 ms RSA signature. TLS still does
 * a full RSA handshake per connection, as with real nodes.
 */
export function simulatedIdentities(count: number): Identity[] {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const keyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const forgePublic = forge.pki.publicKeyFromPem(publicKey.export({ type: 'spki', format: 'pem' }).toString());
  const signer = {
    sign: (md: forge.md.MessageDigest) =>
      privateEncrypt({ key: privateKey, padding: RSA_PKCS1_PADDING }, Buffer.concat([SHA256_DIGEST_INFO, Buffer.from(md.digest().getBytes(), 'binary')])).toString('binary'),
  };
  const identities: Identity[] = [];
  for (let i = 0; i < count; i += 1) {
    const cert = forge.pki.createCertificate();
    cert.publicKey = forgePublic;
    cert.serialNumber = (0x10000 + i).toString(16);
    cert.validity.notBefore = new Date(Date.now() - 3600_000);
    cert.validity.notAfter = new Date(Date.now() + 86400_000);
    const subject = [{ name: 'commonName', value: `nvid sim-${i}` }];
    cert.setSubject(subject);
    cert.setIssuer(subject);
    cert.sign(signer as unknown as forge.pki.rsa.PrivateKey, forge.md.sha256.create());
    const der = Buffer.from(forge.asn1.toDer(forge.pki.certificateToAsn1(cert)).getBytes(), 'binary');
    identities.push({ id: createHash('sha256').update(der).digest('hex'), certPem: forge.pki.certificateToPem(cert), keyPem });
  }
  return identities;
}

/** Opens a mutual-TLS 1.3 connection and resolves once the handshake is done. */
export function tlsConnect(port: number, identity: Identity): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, key: identity.keyPem, cert: identity.certPem, minVersion: 'TLSv1.3', rejectUnauthorized: false, checkServerIdentity: () => undefined });
    socket.setNoDelay(true);
    socket.once('secureConnect', () => resolve(socket));
    socket.once('error', reject);
  });
}

/**
 * Splits a link's bytes into its messages without parsing them: simulated
 * nodes classify messages by their leading bytes, so the load generator stays
 * cheaper than the coordinator it measures. One per connection.
 */
export class RawMessageReader {
  private pending: Buffer = Buffer.alloc(0);

  /** Each whole message's JSON bytes, a view into the link's buffer (valid during the call). */
  pushBytes(chunk: Buffer, onMessage: (json: Buffer) => void): void {
    let buffer = this.pending.length > 0 ? Buffer.concat([this.pending, chunk]) : chunk;
    while (buffer.length >= PREFIX_BYTES && buffer.length >= PREFIX_BYTES + buffer.readUInt32BE(0)) {
      const end = PREFIX_BYTES + buffer.readUInt32BE(0);
      onMessage(buffer.subarray(PREFIX_BYTES, end));
      buffer = buffer.subarray(end);
    }
    this.pending = buffer;
  }

  /** Each whole message's JSON as a string. */
  push(chunk: Buffer, onMessage: (json: string) => void): void {
    this.pushBytes(chunk, (json) => onMessage(json.toString('latin1')));
  }
}

/** Runs `task` over `items` with at most `limit` in flight (a burst of 1,000 SYNs would overflow the listen backlog). */
export async function pool<T>(items: readonly T[], limit: number, task: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await task(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

type Message = { type: string; [field: string]: unknown };

const PING = encodeMessage({ type: 'ping' });

/** Counts non-overlapping occurrences of `needle` (each listed entry starts with `["`: simulated nodes have no tags), without making a string of the bytes. */
function count(bytes: Buffer, needle: Buffer): number {
  let n = 0;
  for (let at = bytes.indexOf(needle); at >= 0; at = bytes.indexOf(needle, at + needle.length)) n += 1;
  return n;
}

// The coordinator always serialises `type` first.
const PEER_JOINED = Buffer.from('{"type":"peer-joined"');
const PEERS_JOINED = Buffer.from('{"type":"peers-joined"');
const PEERS = Buffer.from('{"type":"peers"');
const PEER_RENAMED = Buffer.from('{"type":"peer-renamed"');
const ERROR = Buffer.from('{"type":"error"');
const LAST_PAGE = Buffer.from('"more":false}');
const ENTRY = Buffer.from('["');
const startsWith = (bytes: Buffer, prefix: Buffer) => bytes.length >= prefix.length && bytes.compare(prefix, 0, prefix.length, 0, prefix.length) === 0;

/**
 * One simulated node on the coordinator link. It frames like a real node but
 * classifies messages by their leading bytes instead of parsing every one:
 * the load generator must stay cheaper than the coordinator it measures.
 */
export class SimNode {
  readonly identity: Identity;
  private readonly idBytes: Buffer;
  socket: TLSSocket | undefined;
  /** Peers known: the initial list plus joined deltas. */
  peersKnown = 0;
  private joinedResolve: (() => void) | undefined;
  private readonly reader = new RawMessageReader();
  onRenamed: ((name: string) => void) | undefined;

  constructor(identity: Identity) {
    this.identity = identity;
    // Lists name peers by their ID in base64url (wire-peer.ts).
    this.idBytes = Buffer.from(`["${Buffer.from(identity.id, 'hex').toString('base64url')}"`);
  }

  /** Connects, says hello, resolves once the welcome and the whole peer list arrived. */
  async join(port: number, name: string): Promise<void> {
    const socket = await tlsConnect(port, this.identity);
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => this.reader.pushBytes(chunk, (json) => this.onMessage(json)));
    socket.on('error', () => undefined);
    const joined = new Promise<void>((resolve) => (this.joinedResolve = resolve));
    socket.write(encodeMessage({ type: 'hello', name, port: 9 } as Message));
    await joined;
  }

  /** A heartbeat, as a real node sends every heartbeatIntervalMs: without it the coordinator drops the node. */
  ping(): void {
    if (this.socket && !this.socket.destroyed) this.socket.write(PING);
  }

  rename(name: string): void {
    this.socket!.write(encodeMessage({ type: 'rename', requestId: 1, name } as Message));
  }

  close(): void {
    this.socket?.destroy();
  }

  private onMessage(json: Buffer): void {
    if (startsWith(json, PEER_JOINED)) {
      this.peersKnown += 1;
    } else if (startsWith(json, PEERS_JOINED)) {
      this.peersKnown += count(json, ENTRY);
    } else if (startsWith(json, PEERS)) {
      // The list names everyone, this node included.
      this.peersKnown += count(json, ENTRY) - (json.includes(this.idBytes) ? 1 : 0);
      if (json.subarray(json.length - LAST_PAGE.length).equals(LAST_PAGE)) this.joinedResolve?.();
    } else if (startsWith(json, PEER_RENAMED)) {
      this.onRenamed?.(((JSON.parse(json.toString()) as Message).peer as string[])[1]!);
    } else if (startsWith(json, ERROR)) {
      throw new Error(`coordinator refused a simulated node: ${json.toString()}`);
    }
  }
}
