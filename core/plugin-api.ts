/**
 * The public API for plugin authors. A plugin is a class (or object) with
 * `apply(daemon)`; it taps `daemon.hooks` and may use the services below.
 * See docs/plugins.md for the contract of each hook.
 */
import type { Readable } from 'node:stream';
import type { Logger } from 'pino';
import type { NvidHooks } from './hooks.js';
import type { SendResult } from './pipeline/send.js';
import type { DeliveryReceipt, HistoryEntry, HistoryKind, Identity, Peer, RejectedEvent, Role } from './types.js';

/** A hook as plugins see it: tap methods only, never call. */
export type TapOnly<H> = Omit<H, 'call' | 'callAsync' | 'promise'>;

/** All hooks, tap-only. */
export type PluginHooks = { readonly [K in keyof NvidHooks]: TapOnly<NvidHooks[K]> };

/** The admitted peers this node knows, kept current by the transport plugin. */
export interface PeerDirectory {
  list(): Peer[];
  get(id: string): Peer | undefined;
  /** Exact name match first, then a unique ID prefix (at least 8 hex digits). Throws NVID_ERR_UNKNOWN_PEER / NVID_ERR_AMBIGUOUS_PEER. */
  resolve(nameOrId: string): Peer;
  /** Replace the whole table (e.g. after (re)joining); emits joined/left/renamed for the differences. */
  replaceAll(peers: readonly Peer[]): void;
  /** Add or update one peer; emits peerJoined or peerRenamed. */
  upsert(peer: Peer): void;
  /** Remove one peer; emits peerLeft. */
  remove(id: string): void;
}

/** The append-only event log in the state folder. */
export interface HistoryLog {
  append(kind: HistoryKind, fields?: Record<string, unknown>): void;
  /** Newest last. */
  read(options?: { limit?: number; kind?: HistoryKind }): Promise<HistoryEntry[]>;
}

/** An incoming transfer, handed to the core by the transport once the sender's TLS certificate checked out. */
export interface IncomingTransfer {
  /** The admitted peer whose certificate authenticated the connection. */
  readonly sender: Peer;
  /** The sealed envelope bytes, exactly as the sender's `seal` produced them. */
  readonly envelope: Readable;
}

/** What a plugin's `apply` receives. */
export interface PluginHost {
  readonly hooks: PluginHooks;
  readonly role: Role;
  /** This node's identity (key pair, certificate, ID = fingerprint). */
  readonly identity: Identity;
  /** The state folder: identity, history, library, temporary files. */
  readonly stateDir: string;
  /** The config file's folder: resolve relative paths in your options against it, as the core does. */
  readonly configDir: string;
  /** Where verified received media is kept. */
  readonly libraryDir: string;
  /** This node's current name (a label; the ID is what identifies it). */
  readonly name: string;
  /** A logger already labelled with the plugin's name. */
  readonly log: Logger;
  readonly peers: PeerDirectory;
  readonly history: HistoryLog;
  /** Record the name the coordinator assigned (it may differ from the requested one). */
  setName(name: string): void;
  /**
   * Run the receive pipeline (accept -> open -> store to a temporary file -> validate -> keep -> display).
   * Resolves once the file is verified and stored, with the receipt to acknowledge; rejects with an
   * NvidError (and leaves no file behind) otherwise.
   */
  receive(incoming: IncomingTransfer): Promise<DeliveryReceipt>;
  /**
   * Run the send pipeline (validate -> seal -> deliver) for a file, as `nvid send` does. Resolves only
   * once the receiver acknowledged a verified, stored copy; rejects with an NvidError otherwise
   * (for plugins that originate sends, like the drop folder).
   */
  send(file: string, to: string): Promise<SendResult>;
  /**
   * Record a refusal only this plugin saw (a connection dropped for bad frames, a coordinator that
   * refused us): a 'rejected' history entry with these fields, and the `rejected` event for observers.
   */
  reportRejected(event: RejectedEvent & Record<string, unknown>): void;
}

/** A plugin instance. */
export interface NvidPlugin {
  apply(daemon: PluginHost): void | Promise<void>;
}

/** A plugin module's default export: a class taking its (validated) options, with a JSON schema for them. */
export interface NvidPluginClass<Options = Record<string, unknown>> {
  new (options: Options): NvidPlugin;
  /** JSON schema of the options object. */
  readonly schema?: object;
  /** Name used for every tap and in error messages. */
  readonly pluginName?: string;
}
