/**
 * Small real stand-ins for the daemon services the transport plugin uses, so
 * its modules can be tested on real TLS sockets without the core daemon.
 */
import { makePluginHost } from '../../helpers/plugin-host.js';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pino } from 'pino';
import { createIdentity } from '../../../core/identity.js';
import { resolveTargets } from '../../../core/targets.js';
import type { HistoryLog, IncomingTransfer, PeerDirectory, PluginHost } from '../../../core/plugin-api.js';
import type { CertifiedPeer, DeliveryReceipt, HistoryEntry, HistoryKind, Identity, Peer, Role } from '../../../core/types.js';

export const silentLog = pino({ level: 'silent' });

const identities: Identity[] = [];
/** The n-th test identity; RSA key generation is slow, so each is made once per test run. */
export function identity(n: number): Identity {
  while (identities.length <= n) identities.push(createIdentity(`test-${identities.length}`));
  return identities[n]!;
}

export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'nvid-transport-'));
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls until `check` returns truthy; fails with `what` after `timeoutMs`. */
export async function waitFor<T>(check: () => T, what: string, timeoutMs = 10_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** A peer entry for an identity, as the coordinator would list it. */
export function peerOf(id: Identity, name: string, port = 1, address = '127.0.0.1'): CertifiedPeer {
  return { id: id.id, name, certPem: id.certPem, address, port, tags: [] };
}

/** An in-memory peer table that records what the core would turn into events. */
export class MemoryPeers implements PeerDirectory {
  readonly table = new Map<string, Peer>();
  readonly events: string[] = [];

  list(): Peer[] {
    return [...this.table.values()];
  }
  get(id: string): Peer | undefined {
    return this.table.get(id);
  }
  resolve(nameOrId: string): Peer {
    const peer = this.list().find((p) => p.name === nameOrId || p.id === nameOrId);
    if (!peer) throw new Error(`unknown peer ${nameOrId}`);
    return peer;
  }
  resolveTargets(spec: string): Peer[] {
    return resolveTargets(spec, this);
  }
  replaceAll(peers: readonly Peer[]): void {
    const next = new Map(peers.map((p) => [p.id, p]));
    for (const id of this.table.keys()) if (!next.has(id)) this.remove(id);
    for (const peer of peers) this.upsert(peer);
  }
  upsert(peer: Peer): void {
    const old = this.table.get(peer.id);
    this.table.set(peer.id, peer);
    if (!old) this.events.push(`joined ${peer.name}`);
    else if (old.name !== peer.name) this.events.push(`renamed ${old.name} ${peer.name}`);
  }
  rememberCertificate(id: string, certPem: string): void {
    const old = this.table.get(id);
    if (old && old.certPem === undefined) this.table.set(id, { ...old, certPem });
  }
  remove(id: string): void {
    const old = this.table.get(id);
    if (!old) return;
    this.table.delete(id);
    this.events.push(`left ${old.name}`);
  }
  names(): string[] {
    return this.list().map((p) => p.name).sort();
  }
}

export class MemoryHistory implements HistoryLog {
  readonly entries: HistoryEntry[] = [];
  append(kind: HistoryKind, fields: Record<string, unknown> = {}): void {
    this.entries.push({ time: new Date().toISOString(), kind, ...fields });
  }
  async read(): Promise<HistoryEntry[]> {
    return [...this.entries];
  }
}

/** Reads a whole stream, hashing it; resolves with its sha256 and length. */
export async function digest(stream: Readable): Promise<{ sha256: string; bytes: number }> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of stream) {
    hash.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
  }
  return { sha256: hash.digest('hex'), bytes };
}

export type ReceiveFn = (incoming: IncomingTransfer) => Promise<DeliveryReceipt>;

/** A receive pipeline that reads the envelope to the end and acknowledges its hash. */
export function hashingReceiver(receiverId: string): ReceiveFn {
  return async ({ envelope }) => {
    const { sha256 } = await digest(envelope);
    return { transferId: 'from-envelope', receiverId, sha256, storedAs: `${sha256.slice(0, 8)}.bin` };
  };
}

/** A plugin host with real hooks and in-memory services. */
export function fakeHost(role: Role, ident: Identity, stateDir: string, name: string, receive?: ReceiveFn) {
  const peers = new MemoryPeers();
  const { host, hooks } = makePluginHost({ role, identity: ident, stateDir, name, peers, history: new MemoryHistory(), receive: receive ?? hashingReceiver(ident.id), provides: ['transport'] });
  return Object.assign(host, { hooks, peers, history: host.history as MemoryHistory });
}
