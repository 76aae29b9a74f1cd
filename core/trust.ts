/**
 * Who this node trusts, by certificate fingerprint: `sender`s may push media
 * to its screen, `controller`s may watch and steer it. The config's lists
 * (`acceptFrom`, `controllers`) are the operator's frozen part; what a person
 * decides at run time with `nvid trust` is kept here, in the state folder,
 * and counts at once. Names are shown for people, never trusted.
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { NvidError } from './errors.js';

export type TrustRole = 'sender' | 'controller';

/** One trusted peer, and where the trust comes from. */
export interface TrustEntry {
  readonly id: string;
  /** The name it had when trusted (a label, for people). */
  readonly name?: string;
  readonly source: 'config' | 'trust';
  /** When a person added it (ISO time); absent for the config's. */
  readonly addedAt?: string;
}

export interface TrustList {
  readonly senders: readonly TrustEntry[];
  /** True when no list limits the senders: any peer the coordinator admitted may push media. */
  readonly acceptsAnySender: boolean;
  readonly controllers: readonly TrustEntry[];
}

interface Stored {
  senders: Array<{ id: string; name?: string; addedAt: string }>;
  controllers: Array<{ id: string; name?: string; addedAt: string }>;
}

const FINGERPRINT = /^[0-9a-f]{64}$/;

export class TrustStore {
  readonly #file: string;
  readonly #config: { readonly acceptFrom: readonly string[] | undefined; readonly controllers: readonly string[] };
  #stored: Stored;

  constructor(file: string, config: { readonly acceptFrom: readonly string[] | undefined; readonly controllers: readonly string[] }) {
    this.#file = file;
    this.#config = config;
    this.#stored = this.#load();
  }

  #load(): Stored {
    if (!existsSync(this.#file)) return { senders: [], controllers: [] };
    try {
      const data = JSON.parse(readFileSync(this.#file, 'utf8')) as Partial<Stored>;
      const valid = (list: unknown) => (Array.isArray(list) ? list.filter((e): e is Stored['senders'][number] => typeof e?.id === 'string' && FINGERPRINT.test(e.id)) : []);
      return { senders: valid(data.senders), controllers: valid(data.controllers) };
    } catch (err) {
      throw new NvidError('NVID_ERR_STATE_DIR', `${this.#file} is not readable trust data (${(err as Error).message}); fix or remove it`, { cause: err });
    }
  }

  #save(): void {
    // A whole new file, then a rename: a crash leaves the old list or the new one, never half of one.
    const tmp = `${this.#file}.tmp`;
    writeFileSync(tmp, `${JSON.stringify(this.#stored, null, 2)}\n`, { mode: 0o600 });
    renameSync(tmp, this.#file);
  }

  #storedList(role: TrustRole) {
    return role === 'sender' ? this.#stored.senders : this.#stored.controllers;
  }

  /** May this peer push media here? */
  acceptsSender(id: string): boolean {
    const list = this.list();
    return list.acceptsAnySender || list.senders.some((e) => e.id === id);
  }

  /** May this peer watch and steer this screen? */
  isController(id: string): boolean {
    return this.list().controllers.some((e) => e.id === id);
  }

  list(): TrustList {
    const fromConfig = (ids: readonly string[]): TrustEntry[] => ids.map((id) => ({ id, source: 'config' }));
    const fromStore = (role: TrustRole, skip: readonly string[]): TrustEntry[] =>
      this.#storedList(role)
        .filter((e) => !skip.includes(e.id))
        .map((e) => ({ id: e.id, source: 'trust', addedAt: e.addedAt, ...(e.name ? { name: e.name } : {}) }));
    const configSenders = this.#config.acceptFrom ?? [];
    return {
      senders: [...fromConfig(configSenders), ...fromStore('sender', configSenders)],
      acceptsAnySender: this.#config.acceptFrom === undefined && this.#stored.senders.length === 0,
      controllers: [...fromConfig(this.#config.controllers), ...fromStore('controller', this.#config.controllers)],
    };
  }

  /** Trusts a peer in a role; false when it already was. */
  add(role: TrustRole, peer: { readonly id: string; readonly name?: string }): boolean {
    const list = this.#storedList(role);
    if (list.some((e) => e.id === peer.id)) return false;
    list.push({ id: peer.id, ...(peer.name ? { name: peer.name } : {}), addedAt: new Date().toISOString() });
    this.#save();
    return true;
  }

  /** Takes a person's trust back; the config's lists are the operator's and stay. */
  remove(role: TrustRole, id: string): boolean {
    const configured = role === 'sender' ? (this.#config.acceptFrom ?? []) : this.#config.controllers;
    if (configured.includes(id)) {
      throw new NvidError('NVID_ERR_USAGE', `trust remove: ${id.slice(0, 16)} is trusted as ${role} by the config file (${role === 'sender' ? 'acceptFrom' : 'controllers'}); edit the config to change that`);
    }
    const list = this.#storedList(role);
    const at = list.findIndex((e) => e.id === id);
    if (at < 0) return false;
    list.splice(at, 1);
    this.#save();
    return true;
  }
}
