/**
 * The table of admitted peers, keyed by ID (certificate fingerprint). The
 * transport feeds it; every change is announced through the event hooks, so
 * the history log and any plugin see joins, leaves and renames.
 */
import { NvidError } from './errors.js';
import { fingerprintOf } from './identity.js';
import type { NvidHooks } from './hooks.js';
import type { PeerDirectory } from './plugin-api.js';
import { resolveTargets } from './targets.js';
import type { Peer } from './types.js';

type PeerEvents = Pick<NvidHooks, 'peerJoined' | 'peerLeft' | 'peerRenamed' | 'peerUpdated'>;

export class PeerTable implements PeerDirectory {
  readonly #peers = new Map<string, Peer>();
  readonly #events: PeerEvents;
  readonly #selfId: string;

  constructor(events: PeerEvents, selfId: string) {
    this.#events = events;
    this.#selfId = selfId;
  }

  list(): Peer[] {
    return [...this.#peers.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  get(id: string): Peer | undefined {
    return this.#peers.get(id);
  }

  resolve(nameOrId: string): Peer {
    const byName = this.list().filter((p) => p.name === nameOrId);
    if (byName.length === 1) return byName[0]!;
    if (byName.length > 1) {
      throw new NvidError('NVID_ERR_AMBIGUOUS_PEER', `${byName.length} peers are named "${nameOrId}"; use an ID: ${byName.map((p) => p.id.slice(0, 16)).join(', ')}`);
    }
    const wanted = nameOrId.toLowerCase().replace(/:/g, '');
    if (/^[0-9a-f]{8,64}$/.test(wanted)) {
      const byId = this.list().filter((p) => p.id.startsWith(wanted));
      if (byId.length === 1) return byId[0]!;
      if (byId.length > 1) throw new NvidError('NVID_ERR_AMBIGUOUS_PEER', `ID prefix "${nameOrId}" matches ${byId.length} peers; give more digits`);
    }
    const known = this.list().map((p) => p.name);
    throw new NvidError('NVID_ERR_UNKNOWN_PEER', `no admitted peer named "${nameOrId}"${known.length ? `; known peers: ${known.join(', ')}` : ' (no peers are known yet: is the coordinator reachable?)'}`);
  }

  /** The peers a target names: a name, an ID prefix, a list (`lobby,kitchen`), `tag:NAME` or `all` (see core/targets.ts). */
  resolveTargets(spec: string): Peer[] {
    return resolveTargets(spec, this);
  }

  replaceAll(peers: readonly Peer[]): void {
    const incoming = new Map(peers.filter((p) => p.id !== this.#selfId).map((p) => [p.id, p]));
    for (const old of [...this.#peers.values()]) {
      if (!incoming.has(old.id)) this.remove(old.id);
    }
    for (const peer of incoming.values()) this.upsert(peer);
  }

  upsert(peer: Peer): void {
    if (peer.id === this.#selfId) return;
    const old = this.#peers.get(peer.id);
    // Entries come without certificates; one fetched earlier stays, since the ID (its fingerprint) did not change.
    const certPem = peer.certPem ?? old?.certPem;
    const frozen: Peer = Object.freeze({ ...peer, ...(certPem !== undefined ? { certPem } : {}), tags: Object.freeze([...(peer.tags ?? [])]) });
    this.#peers.set(peer.id, frozen);
    if (!old) this.#events.peerJoined.call(frozen);
    else if (old.name !== peer.name) this.#events.peerRenamed.call({ peer: frozen, oldName: old.name });
    else if (old.address !== peer.address || old.port !== peer.port || !sameTags(old.tags, frozen.tags)) this.#events.peerUpdated.call({ peer: frozen, previous: old });
  }

  rememberCertificate(id: string, certPem: string): void {
    const old = this.#peers.get(id);
    if (!old || old.certPem !== undefined || fingerprintOf(certPem) !== id) return;
    this.#peers.set(id, Object.freeze({ ...old, certPem }));
  }

  remove(id: string): void {
    const old = this.#peers.get(id);
    if (!old) return;
    this.#peers.delete(id);
    this.#events.peerLeft.call(old);
  }
}

function sameTags(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((tag, i) => tag === b[i]);
}
