/**
 * Simulated nodes for the coordinator benchmark: many distinct certificates
 * made cheaply, and a minimal coordinator client that speaks the real wire
 * protocol over real mutual TLS but keeps no peer table beyond counters.
 */
import { RSA_PKCS1_PADDING } from 'node:constants';
import { createHash, generateKeyPairSync, privateEncrypt } from 'node:crypto';
import type { OnReadOpts } from 'node:net';
import { connect, type ConnectionOptions, type TLSSocket } from 'node:tls';
import forge from 'node-forge';
import type { Identity } from '../core/types.js';
import { FRAME_KIND, LIST_MESSAGE, PREFIX_BYTES, encodeMessage } from '../plugins/transport/wire/frame-codec.js';
import { clientTlsOptions } from '../plugins/transport/wire/tls-helpers.js';
import { peerEntryEnd } from '../plugins/transport/wire/wire-peer.js';

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

/**
 * Where every simulated link's decrypted bytes land (Node's `onread`): ten thousand
 * links in one process would otherwise each allocate a Buffer per read and stream it
 * through `data` events, and that garbage made the load generator cost more CPU than
 * the coordinator it measures. One buffer serves all: a read is handled before the next.
 */
const SHARED_READ_BUFFER = Buffer.alloc(64 * 1024);

/**
 * Opens a mutual-TLS 1.3 connection and resolves once the handshake is done. Bytes
 * read go to `onBytes` as a view that is only valid during the call.
 */
export function tlsConnect(port: number, identity: Identity, onBytes: (bytes: Buffer) => void = () => undefined): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    // The real node's client settings. Node documents `onread` for tls.connect; its type declarations only have it on net's.
    const options: ConnectionOptions & { onread: OnReadOpts } = {
      ...clientTlsOptions(identity, '127.0.0.1', port),
      onread: {
        buffer: SHARED_READ_BUFFER,
        callback: (length: number, buffer: Uint8Array) => {
          onBytes(Buffer.from(buffer.buffer, buffer.byteOffset, length));
          return true;
        },
      },
    };
    const socket = connect(options);
    socket.setNoDelay(true);
    socket.once('secureConnect', () => resolve(socket));
    socket.once('error', reject);
  });
}

const EMPTY = Buffer.alloc(0);

/**
 * Splits a link's bytes into its frames without parsing them: simulated
 * nodes classify messages by their leading bytes and walk list entries
 * without building them, so the load generator stays cheaper than the
 * coordinator it measures. One per connection.
 */
export class RawFrameReader {
  private pending: Buffer = EMPTY;

  /** Each whole frame's payload (a view valid during the call) and kind; `chunk` may be reused once this returns. */
  pushBytes(chunk: Buffer, onFrame: (payload: Buffer, kind: number) => void): void {
    let buffer = this.pending.length > 0 ? Buffer.concat([this.pending, chunk]) : chunk;
    while (buffer.length >= PREFIX_BYTES && buffer.length >= PREFIX_BYTES + buffer.readUInt32BE(0)) {
      const end = PREFIX_BYTES + buffer.readUInt32BE(0);
      onFrame(buffer.subarray(PREFIX_BYTES, end), buffer[5]!);
      buffer = buffer.subarray(end);
    }
    // A frame cut across reads is kept as a copy: the read buffer is shared.
    this.pending = buffer.length > 0 ? Buffer.from(buffer) : EMPTY;
  }
}

/** Calls `onEntry` with where each entry of a list frame's payload starts (its 32-byte ID). */
export function forEachListEntry(payload: Buffer, onEntry: (at: number) => void): void {
  for (let at = 1; at < payload.length; ) {
    const end = peerEntryEnd(payload, at);
    if (end < 0) throw new Error(`a malformed list frame from the coordinator (entry at byte ${at})`);
    onEntry(at);
    at = end;
  }
}

/** Entries in a list frame's payload (a page of `peers`, or `peers-joined`). */
export function countListEntries(payload: Buffer): number {
  let n = 0;
  forEachListEntry(payload, () => (n += 1));
  return n;
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

// The coordinator always serialises `type` first.
const PEER_RENAMED = Buffer.from('{"type":"peer-renamed"');
const ERROR = Buffer.from('{"type":"error"');
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
  private readonly reader = new RawFrameReader();
  onRenamed: ((name: string) => void) | undefined;

  constructor(identity: Identity) {
    this.identity = identity;
    // List entries start with the peer's ID in binary (wire-peer.ts).
    this.idBytes = Buffer.from(identity.id, 'hex');
  }

  /** Connects, says hello, resolves once the welcome and the whole peer list arrived. */
  async join(port: number, name: string): Promise<void> {
    const socket = await tlsConnect(port, this.identity, (bytes) => this.reader.pushBytes(bytes, (payload, kind) => (kind === FRAME_KIND.list ? this.onList(payload) : this.onMessage(payload))));
    this.socket = socket;
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

  private onList(payload: Buffer): void {
    const which = payload[0];
    if (which === LIST_MESSAGE.joined) {
      this.peersKnown += countListEntries(payload);
      return;
    }
    // The list names everyone, this node included.
    this.peersKnown += countListEntries(payload) - (payload.includes(this.idBytes) ? 1 : 0);
    if (which === LIST_MESSAGE.lastPage) this.joinedResolve?.();
  }

  private onMessage(json: Buffer): void {
    if (startsWith(json, PEER_RENAMED)) {
      this.onRenamed?.(((JSON.parse(json.toString()) as Message).peer as string[])[1]!);
    } else if (startsWith(json, ERROR)) {
      throw new Error(`coordinator refused a simulated node: ${json.toString()}`);
    }
  }
}
