/**
 * The NATS side of the shared directory: one connection, one key-value bucket
 * and a watch over it, with the few conditional operations the directory is
 * built from. Keys:
 *
 *   p.node.<node ID>     { peer, owner }   presence, owned by the coordinator the node is connected to
 *   p.coord.<coord ID>   { id, admission } each live coordinator, with its admission policy's digest
 *   name.<base64url>     { id, owner }     a name, held by one node; made with create, so it is given once
 *
 * Everything under `p.` is watched; names are not (only their uniqueness
 * matters, and the presence entry carries the name). The bucket's TTL
 * removes whatever its owner stops refreshing, without telling the watch.
 */
import type { Logger } from 'pino';
import type { NatsConnection } from '@nats-io/transport-node';
import type { KV, KvWatchEntry } from '@nats-io/kv';
import { NvidError } from '../../../core/errors.js';
import { natsConnectionOptions, type NatsDirectoryOptions } from './nats-options.js';

export const PRESENCE_PREFIX = 'p.node.';
export const COORDINATOR_PREFIX = 'p.coord.';

export const presenceKey = (id: string) => `${PRESENCE_PREFIX}${id}`;
export const coordinatorKey = (id: string) => `${COORDINATOR_PREFIX}${id}`;
/** Names may hold any printable character; keys only [-/_=.A-Za-z0-9]. */
export const nameKey = (name: string) => `name.${Buffer.from(name, 'utf8').toString('base64url')}`;

/** JetStream's "wrong last sequence": the key changed (or exists) since the revision we named. */
const WRONG_LAST_SEQUENCE = new Set([10071, 10164]);

/** True when a write failed only because someone else wrote the key first. */
export function isConflict(err: unknown): boolean {
  return WRONG_LAST_SEQUENCE.has((err as { code?: unknown }).code as number);
}

export interface StoredValue {
  readonly revision: number;
  readonly op: 'put' | 'delete';
  /** The parsed JSON of a put; undefined for a deleted key (its marker is still in the stream) or an unreadable value. */
  readonly value: unknown;
}

export interface WatchEvent {
  readonly key: string;
  readonly revision: number;
  readonly op: 'put' | 'delete';
  /** The parsed JSON of a put; undefined when unreadable. */
  readonly value: unknown;
  /** True while the watch replays what the bucket held when it started. */
  readonly replay: boolean;
}

export interface StoreEvents {
  /** The connection to NATS is back: the directory re-checks what it owns and watches again. */
  reconnected(): void;
  disconnected(): void;
}

function directoryError(what: string, err: unknown): NvidError {
  const message = err instanceof Error ? err.message : String(err);
  return new NvidError('NVID_ERR_DIRECTORY', `the shared directory on NATS could not ${what}: ${message}`, { cause: err });
}

export class NatsStore {
  private nc: NatsConnection | undefined;
  private kv: KV | undefined;
  private watcher: { stop(): void } | undefined;
  private readonly options: NatsDirectoryOptions;
  private readonly log: Logger;
  connected = false;

  constructor(options: NatsDirectoryOptions, log: Logger) {
    this.options = options;
    this.log = log;
  }

  /** Connects and opens (or makes) the bucket. The client libraries load only here, so `directory: memory` never loads them. */
  async open(clientName: string, events: StoreEvents): Promise<void> {
    const [{ connect }, { Kvm }] = await Promise.all([import('@nats-io/transport-node'), import('@nats-io/kv')]);
    try {
      this.nc = await connect(await natsConnectionOptions(this.options, clientName));
    } catch (err) {
      throw directoryError(`connect to ${this.options.servers.join(', ')}`, err);
    }
    this.connected = true;
    void this.followStatus(this.nc, events);
    try {
      // history 1: only the latest value of a key matters; the TTL is the bucket's max age.
      this.kv = await new Kvm(this.nc).create(this.options.bucket, { ttl: this.options.ttlMs, history: 1 });
      const status = await this.kv.status();
      if (status.ttl !== this.options.ttlMs) this.log.warn({ bucket: this.options.bucket, ttlMs: status.ttl }, `bucket ${this.options.bucket} exists with a TTL of ${status.ttl} ms; using it (the configured ${this.options.ttlMs} ms applies only to a new bucket)`);
      this.ttlMs = status.ttl;
    } catch (err) {
      await this.close();
      throw directoryError(`open bucket ${this.options.bucket}`, err);
    }
  }

  /** The bucket's TTL in ms, as NATS keeps it. */
  ttlMs = 0;

  private async followStatus(nc: NatsConnection, events: StoreEvents): Promise<void> {
    for await (const status of nc.status()) {
      if (status.type === 'disconnect') {
        this.connected = false;
        this.log.warn('lost the connection to NATS; the shared directory keeps its view and reconnects');
        events.disconnected();
      } else if (status.type === 'reconnect') {
        this.connected = true;
        this.log.info('connected to NATS again');
        events.reconnected();
      }
    }
  }

  /**
   * Watches every `p.` key, replaying their current values first; resolves once
   * the replay is done. The caller writes its own `p.coord.` key first, so the
   * replay is never empty and its last entry (pending count 0) marks its end.
   * A second call replaces the first watch.
   */
  async watch(onEvent: (event: WatchEvent) => void, replayTimeoutMs = 10_000): Promise<void> {
    const kv = this.bucket();
    this.watcher?.stop();
    const iterator = await kv.watch({ key: 'p.>' });
    this.watcher = iterator;
    let replaying = true;
    let done: () => void = () => undefined;
    const replayed = new Promise<void>((resolve) => (done = resolve));
    const timer = setTimeout(() => {
      this.log.warn(`the shared directory's replay took over ${replayTimeoutMs} ms; going on with what arrived`);
      replaying = false;
      done();
    }, replayTimeoutMs);
    void (async () => {
      for await (const entry of iterator as AsyncIterable<KvWatchEntry>) {
        const put = entry.operation === 'PUT';
        onEvent({ key: entry.key, revision: entry.revision, op: put ? 'put' : 'delete', value: put ? parse(entry) : undefined, replay: replaying });
        if (replaying && entry.delta === 0) {
          replaying = false;
          clearTimeout(timer);
          done();
        }
      }
    })().catch((err: unknown) => this.log.warn({ err: String(err) }, 'the watch on the shared directory ended'));
    await replayed;
  }

  /** Writes `value` under a key that must not exist (or was deleted); undefined when it exists. */
  async create(key: string, value: unknown): Promise<number | undefined> {
    try {
      return await this.bucket().create(key, JSON.stringify(value));
    } catch (err) {
      if (isConflict(err)) return undefined;
      throw directoryError(`create ${key}`, err);
    }
  }

  /** Writes `value` if the key is still at `revision`; undefined when it moved on. */
  async update(key: string, value: unknown, revision: number): Promise<number | undefined> {
    try {
      return await this.bucket().update(key, JSON.stringify(value), revision);
    } catch (err) {
      if (isConflict(err)) return undefined;
      throw directoryError(`update ${key}`, err);
    }
  }

  /** Writes `value` whatever the key holds (only for keys one coordinator alone writes). */
  async put(key: string, value: unknown): Promise<number> {
    try {
      return await this.bucket().put(key, JSON.stringify(value));
    } catch (err) {
      throw directoryError(`write ${key}`, err);
    }
  }

  async get(key: string): Promise<StoredValue | undefined> {
    let entry;
    try {
      entry = await this.bucket().get(key);
    } catch (err) {
      throw directoryError(`read ${key}`, err);
    }
    if (!entry) return undefined;
    const put = entry.operation === 'PUT';
    return { revision: entry.revision, op: put ? 'put' : 'delete', value: put ? parse(entry) : undefined };
  }

  /** Deletes the key if it is still at `revision`; false when it moved on (or the revision is unknown: 0 would delete unconditionally). */
  async delete(key: string, revision: number): Promise<boolean> {
    if (revision <= 0) return false;
    try {
      await this.bucket().delete(key, { previousSeq: revision });
      return true;
    } catch (err) {
      if (isConflict(err)) return false;
      throw directoryError(`delete ${key}`, err);
    }
  }

  async close(): Promise<void> {
    this.watcher?.stop();
    this.watcher = undefined;
    const nc = this.nc;
    this.nc = undefined;
    this.kv = undefined;
    this.connected = false;
    if (nc && !nc.isClosed()) await nc.close().catch(() => undefined);
  }

  private bucket(): KV {
    if (!this.kv) throw new NvidError('NVID_ERR_DIRECTORY', 'the shared directory is not open');
    return this.kv;
  }
}

/** A value that is not JSON is undefined; the directory ignores what it cannot read. */
function parse(entry: KvWatchEntry | { json<T>(): T }): unknown {
  try {
    return entry.json();
  } catch {
    return undefined;
  }
}
