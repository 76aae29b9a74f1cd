/**
 * The address book shared by several coordinators on one NATS: each keeps a
 * view of the whole bucket (its own nodes and everyone else's), writes only
 * the entries of nodes connected to it, and hears the rest on a watch.
 *
 * - Names are given by `create` on a key per name, which NATS lets succeed
 *   once: two coordinators can never hand out one name twice. The view only
 *   hints which names are taken, so the `name-N` rule of the memory registry
 *   holds (the lowest free N).
 * - Presence entries name their owner. A node that fails over is claimed by
 *   its new coordinator with a conditional write; the old owner's next write
 *   or its watch sees the new owner and lets go (its session is closed, the
 *   entry never deleted or doubled).
 * - Every entry is refreshed by its owner each third of the bucket's TTL; a
 *   dead coordinator's nodes expire in NATS and, since an expiry is silent,
 *   in every view once unseen for a TTL.
 * - All work on one node ID is done one step at a time (a join, a rename, a
 *   refresh, a delete), so the revisions each step names are its own.
 */
import type { Logger } from 'pino';
import { NvidError } from '../../../core/errors.js';
import type { Peer } from '../../../core/types.js';
import { certificateFingerprint } from '../wire/tls-helpers.js';
import { NameIndex, withSuffix } from './name-index.js';
import { cleanName, wireEntry, type RegisterResult, type WireEntry } from './coordinator-registry.js';
import { isPeer } from './coordinator-roster.js';
import type { Directory, DirectoryChange, DirectoryContext, DirectoryFactory, RegisterFields } from './directory.js';
import { COORDINATOR_PREFIX, NatsStore, PRESENCE_PREFIX, coordinatorKey, nameKey, presenceKey, type WatchEvent } from './directory-nats-store.js';
import type { NatsDirectoryOptions } from './nats-options.js';

interface Entry<S> {
  peer: Peer;
  wire: WireEntry;
  /** The coordinator the node is connected to. */
  owner: string;
  /** The session here, for an entry owned here (undefined for a node not yet back after this coordinator restarted). */
  session: S | undefined;
  /** The presence key's revision as last written here or seen on the watch: older news about it is ignored. */
  revision: number;
  /** The name key's revision, for an entry owned here (0: unknown, found at the next refresh). */
  nameRevision: number;
  /** When the presence key was last seen written; a remote entry unseen for a TTL has expired. */
  seenAt: number;
}

interface PresenceRecord {
  readonly peer: Peer;
  readonly owner: string;
}

/** What the status report shows of the shared directory. */
export interface NatsDirectoryStatus {
  readonly backend: 'nats';
  readonly bucket: string;
  readonly connected: boolean;
  readonly ttlMs: number;
  readonly local: number;
  readonly remote: number;
  readonly coordinators: number;
  readonly admissionConflicts: readonly string[];
}

const REFRESH_CONCURRENCY = 16;

export class NatsDirectory<S> implements Directory<S> {
  private readonly self: string;
  private readonly admits: DirectoryContext['admits'];
  private readonly log: Logger;
  private readonly options: NatsDirectoryOptions;
  private readonly admission: string;
  private readonly store: NatsStore;
  private readonly entries = new Map<string, Entry<S>>();
  private readonly idByName = new NameIndex();
  private readonly coordinators = new Map<string, { admission: string; seenAt: number }>();
  private readonly conflictsWarned = new Set<string>();
  private readonly locks = new Map<string, Promise<unknown>>();
  private readonly pendingDeletes = new Set<Entry<S>>();
  private onChange: (change: DirectoryChange<S>) => void = () => undefined;
  private firstReplay = true;
  private stopped = false;
  private ticking = false;
  private timer: NodeJS.Timeout | undefined;

  /** `admission` is the digest of this coordinator's admission policy (nats-options.ts), published so disagreements show. */
  constructor(context: DirectoryContext, options: NatsDirectoryOptions, admission: string) {
    this.self = context.coordinatorId;
    this.admits = context.admits;
    this.log = context.log;
    this.options = options;
    this.admission = admission;
    this.store = new NatsStore(options, context.log);
  }

  async start(onChange: (change: DirectoryChange<S>) => void): Promise<void> {
    this.onChange = onChange;
    await this.store.open(`nvid coordinator ${this.self.slice(0, 16)}`, {
      reconnected: () => void this.resync(),
      disconnected: () => undefined,
    });
    await this.store.put(coordinatorKey(this.self), { id: this.self, admission: this.admission });
    await this.store.watch((event) => this.onWatch(event));
    this.firstReplay = false;
    this.timer = setInterval(() => void this.tick(), Math.max(200, Math.floor(this.store.ttlMs / 3)));
    this.timer.unref();
    this.log.info({ bucket: this.options.bucket, ttlMs: this.store.ttlMs, nodes: this.entries.size, coordinators: this.coordinators.size }, `shared directory on NATS: ${this.entries.size} nodes listed by ${this.coordinators.size} coordinators`);
  }

  /**
   * Stops refreshing and lets go of NATS, leaving this coordinator's entries in
   * the bucket: its nodes fail over and are claimed elsewhere (no leave/join
   * churn), or it adopts them again when it restarts, or they expire.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await Promise.allSettled([...this.locks.values()]);
    await this.store.close();
  }

  status(): NatsDirectoryStatus {
    let local = 0;
    for (const entry of this.entries.values()) if (entry.owner === this.self) local += 1;
    const conflicts = [...this.coordinators].filter(([, c]) => c.admission !== this.admission).map(([id]) => id);
    return { backend: 'nats', bucket: this.options.bucket, connected: this.store.connected, ttlMs: this.store.ttlMs, local, remote: this.entries.size - local, coordinators: this.coordinators.size, admissionConflicts: conflicts };
  }

  list(): Peer[] {
    return [...this.entries.values()].map((entry) => entry.peer);
  }

  get(id: string): Peer | undefined {
    return this.entries.get(id)?.peer;
  }

  wireOf(id: string): WireEntry | undefined {
    return this.entries.get(id)?.wire;
  }

  sessionOf(id: string): S | undefined {
    const entry = this.entries.get(id);
    return entry?.owner === this.self ? entry.session : undefined;
  }

  orphans(): Peer[] {
    return [...this.entries.values()].filter((e) => e.owner === this.self && e.session === undefined).map((e) => e.peer);
  }

  /** The bucket is its own roster: a restarted coordinator finds its entries there. */
  restore(): void {}

  register(fields: RegisterFields, session: S): Promise<RegisterResult<S>> {
    return this.serial(fields.id, async () => {
      const { id } = fields;
      const claimed = await this.claimName(fields.requestedName, id);
      const peer: Peer = { id, name: claimed.name, certPem: fields.certPem, address: fields.address, port: fields.port, tags: [...(fields.tags ?? [])] };
      let revision: number;
      try {
        revision = await this.claimPresence(id, { peer, owner: this.self });
      } catch (err) {
        void this.store.delete(nameKey(claimed.name), claimed.revision).catch(() => undefined);
        throw err;
      }
      // Read after the writes: the watch may have changed the entry meanwhile.
      const existing = this.entries.get(id);
      if (existing && existing.peer.name !== peer.name) await this.releaseName(existing);
      this.put({ peer, wire: wireEntry(peer), owner: this.self, session, revision, nameRevision: claimed.revision, seenAt: Date.now() }, existing);
      if (!existing) return { peer };
      return { peer, previous: existing.peer, replacedSession: existing.owner === this.self ? existing.session : undefined };
    });
  }

  rename(id: string, requestedName: string): Promise<{ peer: Peer; oldName: string } | undefined> {
    return this.serial(id, async () => {
      const entry = this.entries.get(id);
      if (!entry || entry.owner !== this.self) return undefined;
      const oldName = entry.peer.name;
      const claimed = await this.claimName(requestedName, id);
      if (claimed.name === oldName) {
        entry.nameRevision = claimed.revision;
        return { peer: entry.peer, oldName };
      }
      const peer = { ...entry.peer, name: claimed.name };
      // The new name is in the presence entry before the old name is free, so no view ever lists two nodes under one name.
      if (this.entries.get(id) !== entry || !(await this.writeOwnPresence(entry, { peer, owner: this.self }))) {
        void this.store.delete(nameKey(claimed.name), claimed.revision).catch(() => undefined);
        return undefined;
      }
      await this.releaseName(entry);
      this.put({ ...entry, peer, wire: wireEntry(peer), nameRevision: claimed.revision }, entry);
      return { peer, oldName };
    });
  }

  remove(id: string, session: S | undefined): Peer | undefined {
    const entry = this.entries.get(id);
    if (!entry || entry.owner !== this.self || entry.session !== session) return undefined;
    this.forget(entry);
    if (!this.stopped) void this.serial(id, () => this.deleteKeys(entry));
    return entry.peer;
  }

  /** Runs `task` after every earlier task for the same node ID. */
  private serial<T>(id: string, task: () => Promise<T>): Promise<T> {
    const run = (this.locks.get(id) ?? Promise.resolve()).then(task);
    const tail = run.catch(() => undefined);
    this.locks.set(id, tail);
    void tail.then(() => {
      if (this.locks.get(id) === tail) this.locks.delete(id);
    });
    return run;
  }

  /**
   * The requested name if no node holds it, else the lowest free `name-N`.
   * The view says which names look taken; NATS decides: `create` succeeds for
   * one claimant only, and a name this node holds already is simply kept.
   */
  private async claimName(requested: string, id: string): Promise<{ name: string; revision: number }> {
    const base = cleanName(requested);
    const record = { id, owner: this.self };
    const baseHolder = this.idByName.get(base);
    const first = baseHolder === undefined || baseHolder === id ? 1 : this.idByName.firstSuffix(base);
    for (let n = first; ; n += 1) {
      const name = n === 1 ? base : withSuffix(base, n);
      const holder = this.idByName.get(name);
      if (holder !== undefined && holder !== id) continue;
      const key = nameKey(name);
      for (let attempt = 0; attempt < 3; attempt += 1) {
        const created = await this.store.create(key, record);
        if (created !== undefined) return this.claimed(base, n, { name, revision: created });
        const current = await this.store.get(key);
        if (current?.op === 'put' && (current.value as { id?: unknown } | undefined)?.id !== id) break;
        // Held by this node (keep it, under this coordinator now), or deleted between the two reads (try again).
        if (current?.op === 'put') {
          const revision = await this.store.update(key, record, current.revision);
          if (revision !== undefined) return this.claimed(base, n, { name, revision });
        }
      }
    }
  }

  /** Writes the presence entry whoever owned it: the node is connected here now, and the newest connection wins. */
  private async claimPresence(id: string, record: PresenceRecord): Promise<number> {
    const key = presenceKey(id);
    let known = this.entries.get(id)?.revision;
    // Each miss means another coordinator wrote in between; a few in a row means a node connected to two at once.
    for (let attempt = 0; attempt < 8; attempt += 1) {
      const revision = known === undefined ? await this.store.create(key, record) : await this.store.update(key, record, known);
      if (revision !== undefined) return revision;
      const current = await this.store.get(key);
      known = current?.op === 'put' ? current.revision : undefined;
    }
    throw new NvidError('NVID_ERR_DIRECTORY', `node ${id} is being claimed by another coordinator at the same time; it will retry`);
  }

  /**
   * Writes an entry owned here, unless another coordinator claimed the node
   * since (then this one lets go, and false). A key gone missing (expired
   * while NATS was away, or deleted by hand) is written again.
   */
  private async writeOwnPresence(entry: Entry<S>, record: PresenceRecord): Promise<boolean> {
    const key = presenceKey(entry.peer.id);
    const revision = await this.store.update(key, record, entry.revision);
    if (revision !== undefined) {
      entry.revision = revision;
      return true;
    }
    const current = await this.store.get(key);
    const stored = current?.op === 'put' ? presenceRecord(current.value, entry.peer.id) : undefined;
    if (current && stored && stored.owner !== this.self) {
      if (this.entries.get(entry.peer.id) === entry) this.applyRemote(entry.peer.id, stored, current.revision, entry);
      return false;
    }
    const rewritten = current?.op === 'put' ? await this.store.update(key, record, current.revision) : await this.store.create(key, record);
    if (rewritten === undefined) return false;
    entry.revision = rewritten;
    return true;
  }

  /** Keeps an entry owned here from expiring: its presence, then its name. */
  private async keep(entry: Entry<S>): Promise<void> {
    if (this.stopped || this.entries.get(entry.peer.id) !== entry) return;
    if (!(await this.writeOwnPresence(entry, { peer: entry.peer, owner: this.self }))) return;
    const { id, name } = entry.peer;
    const key = nameKey(name);
    const record = { id, owner: this.self };
    const kept = await this.store.update(key, record, entry.nameRevision);
    if (kept !== undefined) {
      entry.nameRevision = kept;
      return;
    }
    const current = await this.store.get(key);
    const holder = current?.op === 'put' ? (current.value as { id?: unknown } | undefined)?.id : undefined;
    const revision = holder === id ? await this.store.update(key, record, current!.revision) : holder === undefined ? await this.store.create(key, record) : undefined;
    if (revision !== undefined) {
      entry.nameRevision = revision;
      return;
    }
    // The name expired here while NATS was away and went to another node: this one rejoins and gets a free name.
    if (this.entries.get(id) !== entry) return;
    this.forget(entry);
    await this.store.delete(presenceKey(id), entry.revision).catch(() => false);
    this.onChange({ kind: 'left', peer: entry.peer, reason: `its name ${name} was given to another node while this coordinator was cut off from NATS` });
    if (entry.session !== undefined) this.onChange({ kind: 'displaced', session: entry.session, peer: entry.peer, reason: 'its name was given to another node; rejoin for a new one' });
  }

  /** Frees the name an entry held, if it still does (by its revision when owned here, else by reading the holder). */
  private async releaseName(entry: Entry<S>): Promise<void> {
    const key = nameKey(entry.peer.name);
    if (entry.owner === this.self && entry.nameRevision > 0) {
      await this.store.delete(key, entry.nameRevision);
      return;
    }
    const current = await this.store.get(key);
    if (current?.op === 'put' && (current.value as { id?: unknown } | undefined)?.id === entry.peer.id) await this.store.delete(key, current.revision);
  }

  /** A node left this coordinator: its presence goes, then (if nobody claimed the node meanwhile) its name. */
  private async deleteKeys(entry: Entry<S>): Promise<void> {
    try {
      if (await this.store.delete(presenceKey(entry.peer.id), entry.revision)) await this.releaseName(entry);
      this.pendingDeletes.delete(entry);
    } catch (err) {
      // NATS is away: try again at the next refresh (the keys would expire anyway, later).
      this.pendingDeletes.add(entry);
      this.log.debug({ err: String(err), peerId: entry.peer.id }, 'could not delete a left node from the shared directory yet');
    }
  }

  private onWatch(event: WatchEvent): void {
    if (event.key.startsWith(COORDINATOR_PREFIX)) {
      this.onCoordinator(event.key.slice(COORDINATOR_PREFIX.length), event);
      return;
    }
    if (!event.key.startsWith(PRESENCE_PREFIX)) return;
    const id = event.key.slice(PRESENCE_PREFIX.length);
    const entry = this.entries.get(id);
    if (entry && event.revision <= entry.revision) {
      // Old news, or a replay after a reconnect: the key is still there.
      if (entry.owner !== this.self) entry.seenAt = Date.now();
      return;
    }
    if (event.op === 'delete') {
      if (entry && entry.owner !== this.self) this.drop(entry, 'left');
      return;
    }
    const record = presenceRecord(event.value, id);
    if (!record) {
      this.log.warn({ key: event.key }, 'ignoring an unreadable entry in the shared directory');
      return;
    }
    if (record.owner !== this.self) {
      this.applyRemote(id, record, event.revision, entry);
      return;
    }
    // Our own writes are known already; at start, entries written before a restart are this coordinator's orphans.
    if (!entry && event.replay && this.firstReplay && this.admits(record.peer) && record.peer.certPem !== undefined && certificateFingerprint(record.peer.certPem) === id) {
      this.put({ peer: record.peer, wire: wireEntry(record.peer), owner: this.self, session: undefined, revision: event.revision, nameRevision: 0, seenAt: Date.now() }, undefined);
    }
  }

  /** An entry another coordinator wrote: listed if this coordinator would admit the node too, announced if it is news. */
  private applyRemote(id: string, record: PresenceRecord, revision: number, entry: Entry<S> | undefined): void {
    const { peer } = record;
    if (!this.admits(peer) || (entry?.peer.certPem !== peer.certPem && (peer.certPem === undefined || certificateFingerprint(peer.certPem) !== id))) {
      if (!this.admits(peer)) this.log.warn({ peerId: id, owner: record.owner }, 'another coordinator admitted a node this one would not; it is not listed here (coordinators sharing a directory must have the same admission policy)');
      else this.log.warn({ peerId: id }, 'ignoring a directory entry whose certificate does not match its ID');
      if (entry && entry.owner !== this.self) this.drop(entry, 'not admitted here');
      return;
    }
    if (entry?.owner === this.self && entry.session !== undefined) {
      this.onChange({ kind: 'displaced', session: entry.session, peer: entry.peer, reason: 'the node joined another coordinator' });
    }
    // A name is held by one node: whoever else this view lists under it is gone, its keys expired unseen.
    const holder = this.idByName.get(peer.name);
    const other = holder !== undefined && holder !== id ? this.entries.get(holder) : undefined;
    if (other && other.owner !== this.self) this.drop(other, 'expired');
    this.put({ peer, wire: wireEntry(peer), owner: record.owner, session: undefined, revision, nameRevision: 0, seenAt: Date.now() }, entry);
    const before = entry?.peer;
    if (!before) this.onChange({ kind: 'joined', peer, update: false });
    else if (before.name !== peer.name) this.onChange({ kind: 'renamed', peer, oldName: before.name });
    else if (before.address !== peer.address || before.port !== peer.port || before.tags.join('\n') !== peer.tags.join('\n')) this.onChange({ kind: 'joined', peer, update: true });
  }

  private onCoordinator(id: string, event: WatchEvent): void {
    const admission = (event.value as { admission?: unknown } | undefined)?.admission;
    if (event.op === 'delete' || typeof admission !== 'string') {
      this.coordinators.delete(id);
      return;
    }
    this.coordinators.set(id, { admission, seenAt: Date.now() });
    if (admission !== this.admission && !this.conflictsWarned.has(id)) {
      this.conflictsWarned.add(id);
      this.log.error({ coordinator: id }, 'another coordinator on this directory has a different admission policy; coordinators sharing a directory must have the same transport.admission (each lists only the nodes its own policy admits)');
    }
  }

  /** A claim that took `base-n` (n > 1): every suffix below it was found held, so the next search starts above. */
  private claimed(base: string, n: number, claim: { name: string; revision: number }): { name: string; revision: number } {
    if (n > 1) this.idByName.tookSuffix(base, n);
    return claim;
  }

  /** Stores an entry (replacing `previous`, if any) and keeps the name index in step. */
  private put(entry: Entry<S>, previous: Entry<S> | undefined): void {
    if (previous && this.idByName.get(previous.peer.name) === previous.peer.id) this.idByName.delete(previous.peer.name);
    this.entries.set(entry.peer.id, entry);
    this.idByName.set(entry.peer.name, entry.peer.id);
  }

  private forget(entry: Entry<S>): void {
    this.entries.delete(entry.peer.id);
    if (this.idByName.get(entry.peer.name) === entry.peer.id) this.idByName.delete(entry.peer.name);
  }

  private drop(entry: Entry<S>, reason: string): void {
    this.forget(entry);
    this.onChange({ kind: 'left', peer: entry.peer, reason });
  }

  /**
   * Each third of the TTL: this coordinator's own key and entries are written
   * again, deletes that failed while NATS was away are retried, and entries
   * (and coordinators) nobody refreshed for a TTL are dropped.
   */
  private async tick(): Promise<void> {
    if (this.stopped || this.ticking || !this.store.connected) return;
    this.ticking = true;
    try {
      await this.store.put(coordinatorKey(this.self), { id: this.self, admission: this.admission });
      for (const entry of [...this.pendingDeletes]) await this.serial(entry.peer.id, () => this.deleteKeys(entry));
      this.expire();
      const mine = [...this.entries.values()].filter((entry) => entry.owner === this.self);
      await pool(mine, REFRESH_CONCURRENCY, (entry) => this.serial(entry.peer.id, () => this.keep(entry)));
    } catch (err) {
      this.log.warn({ err: String(err) }, 'refreshing the shared directory failed; trying again shortly');
    } finally {
      this.ticking = false;
    }
  }

  private expire(): void {
    const deadline = Date.now() - this.store.ttlMs;
    for (const entry of [...this.entries.values()]) {
      if (entry.owner !== this.self && entry.seenAt < deadline) this.drop(entry, 'expired: its coordinator stopped refreshing it');
    }
    for (const [id, c] of this.coordinators) if (id !== this.self && c.seenAt < deadline) this.coordinators.delete(id);
  }

  /**
   * Back on NATS: nothing heard while away counts as silence, the watch is
   * started over (its replay brings what changed), and this coordinator's
   * entries are written again at once, in case they expired meanwhile.
   */
  private async resync(): Promise<void> {
    if (this.stopped) return;
    const now = Date.now();
    for (const entry of this.entries.values()) entry.seenAt = now;
    for (const c of this.coordinators.values()) c.seenAt = now;
    try {
      await this.store.put(coordinatorKey(this.self), { id: this.self, admission: this.admission });
      await this.store.watch((event) => this.onWatch(event));
    } catch (err) {
      this.log.warn({ err: String(err) }, 'could not watch the shared directory again after reconnecting; the next reconnect retries');
    }
    await this.tick();
  }
}

/** A presence value as stored, checked: a peer whose ID is the key's, and an owner. */
function presenceRecord(value: unknown, id: string): PresenceRecord | undefined {
  const record = value as { peer?: unknown; owner?: unknown } | undefined;
  if (typeof record !== 'object' || record === null || typeof record.owner !== 'string' || !isPeer(record.peer) || record.peer.id !== id) return undefined;
  return { peer: { ...record.peer, tags: [...(record.peer.tags ?? [])] }, owner: record.owner };
}

/** Runs `task` over `items`, at most `limit` at once. */
async function pool<T>(items: readonly T[], limit: number, task: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await task(items[next++]!).catch(() => undefined);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/** The server's factory for a NATS directory, with a handle on the one it made (for the status report). */
export function natsDirectoryFactory(options: NatsDirectoryOptions, admission: string): { factory: DirectoryFactory; status(): NatsDirectoryStatus | undefined } {
  let made: { status(): NatsDirectoryStatus } | undefined;
  return {
    factory: <S>(context: DirectoryContext) => {
      const directory = new NatsDirectory<S>(context, options, admission);
      made = directory;
      return directory;
    },
    status: () => made?.status(),
  };
}
