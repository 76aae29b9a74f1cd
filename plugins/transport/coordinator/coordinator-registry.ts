/**
 * The coordinator's address book, without sockets: one entry per node ID,
 * unique names, and the session that currently owns each entry. Keyed by the
 * certificate fingerprint, so a node that reconnects (or rejoins a restarted
 * coordinator) can only ever replace its own entry, never add a second one.
 */
import type { Peer } from '../../../core/types.js';
import { encodePeerEntry } from '../wire/wire-peer.js';
import { MAX_NAME_LENGTH, NameIndex, withSuffix } from './name-index.js';

/** Trims, drops control characters and caps the length; an empty result becomes `node`. */
export function cleanName(requested: string): string {
  // eslint-disable-next-line no-control-regex
  const cleaned = requested.replace(/[\u0000-\u001f\u007f]/g, '').replace(/\s+/g, ' ').trim().slice(0, MAX_NAME_LENGTH);
  return cleaned === '' ? 'node' : cleaned;
}

/** A peer entry as it goes on the wire, in binary (wire-peer.ts). */
export type WireEntry = Buffer;

/**
 * What every other node is told about a peer, encoded once per change and reused by every
 * list and batch: no certificate (about 1.2 KB, twenty times the rest; a node fetches the one
 * it needs with certificate-request when it first seals for a peer).
 */
export function wireEntry(peer: Peer): WireEntry {
  return encodePeerEntry(peer);
}

export interface RegisterResult<S> {
  readonly peer: Peer;
  /** The previous entry for the same ID, if the node was already registered. */
  readonly previous?: Peer;
  /** The session that owned the previous entry; the caller closes it. */
  readonly replacedSession?: S | undefined;
}

export class CoordinatorRegistry<S> {
  /** `session` is undefined for an entry remembered from before a coordinator restart whose node has not rejoined yet. */
  private readonly entries = new Map<string, { peer: Peer; session: S | undefined; wire: WireEntry }>();
  private readonly idByName = new NameIndex();

  /** Nothing to connect to, and every change is made here: no change stream (the Directory interface, directory.ts). */
  async start(): Promise<void> {}

  async stop(): Promise<void> {}

  get size(): number {
    return this.entries.size;
  }

  list(): Peer[] {
    return [...this.entries.values()].map((entry) => entry.peer);
  }

  get(id: string): Peer | undefined {
    return this.entries.get(id)?.peer;
  }

  /** The entry serialised as JSON, made once per change: every joiner's list reuses it. */
  wireOf(id: string): WireEntry | undefined {
    return this.entries.get(id)?.wire;
  }

  sessionOf(id: string): S | undefined {
    return this.entries.get(id)?.session;
  }

  /** Entries remembered from before a restart whose node has not rejoined yet. */
  orphans(): Peer[] {
    return [...this.entries.values()].filter((entry) => entry.session === undefined).map((entry) => entry.peer);
  }

  /**
   * Puts back an entry from before a coordinator restart, without a session, so
   * the list nodes get while the others rejoin is complete (no leave/join churn)
   * and the node keeps its name when it comes back.
   */
  restore(peer: Peer): void {
    if (this.entries.has(peer.id)) return;
    const name = this.allocate(peer.name, peer.id);
    const restored = { ...peer, name, tags: [...(peer.tags ?? [])] };
    this.entries.set(peer.id, { peer: restored, session: undefined, wire: wireEntry(restored) });
    this.idByName.set(name, peer.id);
  }

  /**
   * Registers (or re-registers) a node. The name is the requested one when no
   * other node holds it, else the lowest free `name-N` (N = 2, 3, ...), so the
   * outcome depends only on who holds which name, not on timing.
   */
  register(fields: Omit<Peer, 'name' | 'tags'> & { readonly requestedName: string; readonly tags?: readonly string[] }, session: S): RegisterResult<S> {
    const existing = this.entries.get(fields.id);
    if (existing) this.idByName.delete(existing.peer.name);
    const name = this.allocate(fields.requestedName, fields.id);
    const peer: Peer = { id: fields.id, name, certPem: fields.certPem, address: fields.address, port: fields.port, tags: [...(fields.tags ?? [])] };
    this.entries.set(fields.id, { peer, session, wire: wireEntry(peer) });
    this.idByName.set(name, fields.id);
    if (!existing) return { peer };
    return { peer, previous: existing.peer, replacedSession: existing.session };
  }

  /** Renames a registered node; returns the new entry and the old name, or undefined when unknown. */
  rename(id: string, requestedName: string): { peer: Peer; oldName: string } | undefined {
    const entry = this.entries.get(id);
    if (!entry) return undefined;
    const oldName = entry.peer.name;
    this.idByName.delete(oldName);
    const name = this.allocate(requestedName, id);
    entry.peer = { ...entry.peer, name };
    entry.wire = wireEntry(entry.peer);
    this.idByName.set(name, id);
    return { peer: entry.peer, oldName };
  }

  /**
   * Removes the entry for `id` only if `session` still owns it: when a replaced
   * session finally closes, it must not take its successor's entry with it.
   */
  remove(id: string, session: S | undefined): Peer | undefined {
    const entry = this.entries.get(id);
    if (!entry || entry.session !== session) return undefined;
    this.entries.delete(id);
    this.idByName.delete(entry.peer.name);
    return entry.peer;
  }

  private allocate(requested: string, id: string): string {
    const base = cleanName(requested);
    const holder = this.idByName.get(base);
    if (holder === undefined || holder === id) return base;
    for (let n = this.idByName.firstSuffix(base); ; n += 1) {
      const candidate = withSuffix(base, n);
      const owner = this.idByName.get(candidate);
      if (owner === undefined || owner === id) {
        // Every caller takes the name it is given.
        if (owner === undefined) this.idByName.tookSuffix(base, n);
        return candidate;
      }
    }
  }
}
