/**
 * What the coordinator server needs of its address book, whatever keeps it:
 * the in-memory registry (one coordinator, the default) or a directory shared
 * by several coordinators on NATS (directory-nats.ts). Reads are synchronous,
 * from this coordinator's own view; joins and renames may have to ask the
 * shared store first, so they may answer later. Changes made by other
 * coordinators arrive on the change stream given to `start`.
 */
import type { Logger } from 'pino';
import type { Peer } from '../../../core/types.js';
import { CoordinatorRegistry, type RegisterResult, type WireEntry } from './coordinator-registry.js';

/** What a node asks for in its hello, with the identity its certificate proved. */
export type RegisterFields = Omit<Peer, 'name' | 'tags'> & { readonly requestedName: string; readonly tags?: readonly string[] };

/** A change made elsewhere (another coordinator, an expiry) that this coordinator's nodes must hear about. */
export type DirectoryChange<S> =
  /** A node new to this view, or a known one with another address or tags (an upsert for everyone). */
  | { readonly kind: 'joined'; readonly peer: Peer; readonly update: boolean }
  | { readonly kind: 'renamed'; readonly peer: Peer; readonly oldName: string }
  | { readonly kind: 'left'; readonly peer: Peer; readonly reason: string }
  /**
   * This session no longer owns the node's entry (the node joined another
   * coordinator since, or lost its name): close it, and leave the entry alone.
   */
  | { readonly kind: 'displaced'; readonly session: S; readonly peer: Peer; readonly reason: string };

export interface Directory<S> {
  /** Connects to the store (if any) and loads what it holds; `onChange` hears every change made elsewhere from then on. */
  start(onChange: (change: DirectoryChange<S>) => void): Promise<void>;
  stop(): Promise<void>;
  list(): Peer[];
  get(id: string): Peer | undefined;
  /** The entry serialised once per change, so every joiner's list reuses it. */
  wireOf(id: string): WireEntry | undefined;
  /** The session connected here for `id`; undefined for a node connected elsewhere or not yet back after a restart. */
  sessionOf(id: string): S | undefined;
  /** This coordinator's entries from before its restart whose node has not rejoined yet. */
  orphans(): Peer[];
  /** Puts back an entry from the roster file (memory only: a shared store is its own roster). */
  restore(peer: Peer): void;
  /** Registers (or re-registers) a node under a unique name: the requested one, else the lowest free `name-N`. */
  register(fields: RegisterFields, session: S): RegisterResult<S> | Promise<RegisterResult<S>>;
  rename(id: string, requestedName: string): { peer: Peer; oldName: string } | undefined | Promise<{ peer: Peer; oldName: string } | undefined>;
  /** Removes the entry only if `session` still owns it here; a replaced session must not take its successor's entry. */
  remove(id: string, session: S | undefined): Peer | undefined;
}

/** What the server tells a directory about itself when it makes one. */
export interface DirectoryContext {
  /** This coordinator's ID (its certificate fingerprint): the owner of the entries of nodes connected here. */
  readonly coordinatorId: string;
  /** The coordinator's own admission of a certificate: an entry another coordinator admitted is listed here only if this one would admit it too. */
  readonly admits: (peer: { readonly id: string }) => boolean;
  readonly log: Logger;
}

/** Makes the directory for one server; generic in the server's session type, which the directory only stores. */
export type DirectoryFactory = <S>(context: DirectoryContext) => Directory<S>;

/** The default: the in-memory registry, for one coordinator, with nothing to connect to. */
export const memoryDirectory: DirectoryFactory = <S>() => new CoordinatorRegistry<S>();
