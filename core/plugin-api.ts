/**
 * The public API for plugin authors. A plugin is a class (or object) with
 * `apply(daemon)`; it taps `daemon.hooks` and may use the services below.
 * See docs/plugins.md for the contract of each hook.
 *
 * Powers go by role: every plugin gets the read-only services; only the
 * plugin that declares `provides: ['transport']` gets `daemon.transport`
 * (feed the peer table, hand incoming envelopes to the core, record the name
 * the coordinator gave), and only the one that declares `provides: ['display']`
 * gets `daemon.screen` (say when an item is really on the glass).
 */
import type { Readable } from 'node:stream';
import type { Logger } from 'pino';
import type { NvidHooks } from './hooks.js';
import type {
  DeliveryReceipt,
  DisplayedEvent,
  DisplayFailedEvent,
  GroupSendResult,
  HistoryEntry,
  HistoryKind,
  Identity,
  LibraryItem,
  MediaInfo,
  CertifiedPeer,
  Peer,
  RejectedEvent,
  RemoteScreenAnswer,
  RemoteScreenRequest,
  Role,
  ScreenRequest,
  ScreenState,
  SendOptions,
  SendResult,
  StatusReport,
} from './types.js';

/** The plugin API this core speaks. A plugin may declare the version it was written for in `apiVersion`. */
export const PLUGIN_API_VERSION = 2;

/** A hook as plugins see it: tap methods only, never call. */
export type TapOnly<H> = Omit<H, 'call' | 'callAsync' | 'promise'>;

/** All hooks, tap-only. */
export type PluginHooks = { readonly [K in keyof NvidHooks]: TapOnly<NvidHooks[K]> };

/** The admitted peers this node knows, as every plugin sees them: read only. */
export interface PeerView {
  list(): Peer[];
  get(id: string): Peer | undefined;
  /** Exact name match first, then a unique ID prefix (at least 8 hex digits). Throws NVID_ERR_UNKNOWN_PEER / NVID_ERR_AMBIGUOUS_PEER. */
  resolve(nameOrId: string): Peer;
  /**
   * The peers a target names: a name or ID prefix (as `resolve`), a list (`lobby,kitchen`), `tag:NAME`
   * (every peer with that tag) or `all`; each peer once. Throws NVID_ERR_UNKNOWN_PEER naming what matched
   * nobody (a name in a list, a tag no peer has, `all` with no peer), NVID_ERR_AMBIGUOUS_PEER, NVID_ERR_USAGE.
   */
  resolveTargets(spec: string): Peer[];
}

/** The peer table with its mutators: the transport's to keep current. */
export interface PeerDirectory extends PeerView {
  /** Replace the whole table (e.g. after (re)joining); emits joined/left/renamed for the differences. */
  replaceAll(peers: readonly Peer[]): void;
  /** Add or update one peer; emits peerJoined, peerRenamed or peerUpdated. */
  upsert(peer: Peer): void;
  /**
   * Keep a peer's certificate once it was fetched and checked against the ID (no event: the
   * peer did not change). Ignored for an unknown peer or a certificate of another ID.
   */
  rememberCertificate(id: string, certPem: string): void;
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
  /** The admitted peer whose certificate authenticated the connection, with that certificate. */
  readonly sender: CertifiedPeer;
  /** The sealed envelope bytes, exactly as the sender's `seal` produced them. */
  readonly envelope: Readable;
}

/** The library of received files, by name. Names are checked: a path or a hidden file is NVID_ERR_LIBRARY_ITEM. */
export interface LibraryAccess {
  /** Every kept file, newest first. */
  list(): LibraryItem[];
  /** The path of the item called `name`. */
  resolve(name: string): string;
  /** Delete the item: the file goes, `itemDeleted` fires (the display takes it off the screen), the history records it. */
  delete(name: string): Promise<void>;
}

/** What only the transport plugin may do. */
export interface TransportPowers {
  /** The peer table, writable: the transport keeps it in step with the coordinator. */
  readonly peers: PeerDirectory;
  /**
   * Run the receive pipeline (accept -> open -> store to a temporary file -> validate -> keep -> display).
   * Resolves once the file is verified and stored, with the receipt to acknowledge; rejects with an
   * NvidError (and leaves no file behind) otherwise.
   */
  receive(incoming: IncomingTransfer): Promise<DeliveryReceipt>;
  /** Record the name the coordinator assigned (it may differ from the requested one). */
  setName(name: string): void;
  /**
   * Answer a remote-screen request from `sender` (authenticated by its certificate): the core refuses
   * anyone who is not a controller of this node (NVID_ERR_NOT_CONTROLLER, written to the history as
   * `rejected`, stage `remote-screen`) and otherwise runs the local screen, screenshot or library.
   */
  serveScreenRequest(sender: Peer, request: RemoteScreenRequest): Promise<RemoteScreenAnswer>;
  /**
   * The acceptSender policy's answer for `sender` (a reason to refuse, or undefined), asked before
   * anything of a transfer is fetched (a shared transfer's offer); `receive` asks again.
   */
  vetoSender(sender: Peer): Promise<string | undefined>;
}

/** What only the display plugin may do: report what really happened on the glass. */
export interface ScreenPowers {
  /** An item's first frame is on screen: writes `displayed` to the history and fires the `displayed` event. */
  shown(event: DisplayedEvent): void;
  /** An item could not be shown: writes `display-failed` and fires `displayFailed`. */
  failed(event: DisplayFailedEvent): void;
}

/** Roles a plugin can provide; each brings its powers and may be provided by one plugin only. */
export type PluginRole = 'transport' | 'display';

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
  /** The largest file this node takes (config `maxReceiveBytes`): a plugin that takes files in (uploads) keeps to it too. */
  readonly maxReceiveBytes: number;
  /** Disk space this node keeps free (config `minFreeDiskBytes`): a plugin that stores files (uploads) refuses one that would eat into it. */
  readonly minFreeDiskBytes: number;
  /** This node's current name (a label; the ID is what identifies it). */
  readonly name: string;
  /** This node's tags (config `tags`): the groups others reach it by with `tag:NAME`. */
  readonly tags: readonly string[];
  /** A logger already labelled with the plugin's name. */
  readonly log: Logger;
  readonly peers: PeerView;
  readonly history: HistoryLog;
  /**
   * Run the send pipeline (validate -> seal -> deliver) for a file, as `nvid send` does. Resolves only
   * once the receiver acknowledged a verified, stored copy; rejects with an NvidError otherwise.
   * `options.onStart` learns the transfer ID and size before any byte moves, `onProgress` follows
   * the bytes, and aborting `options.signal` cancels the send (NVID_ERR_CANCELLED).
   */
  send(file: string, to: string, options?: SendOptions): Promise<SendResult>;
  /**
   * Send a file to every peer a target names (`lobby,kitchen`, `tag:floor-2`, `all`, or one peer), as
   * `nvid send --to` does: the file is checked once, then sent to each recipient (a few at a time), each
   * with its own `onStart` / `onProgress` (which name the recipient). Resolves once every recipient
   * answered, with one outcome each (a receipt or a refusal), even when some failed; rejects only when
   * nothing could be sent (no such file, no such peers, media refused).
   */
  sendGroup(file: string, to: string, options?: SendOptions): Promise<GroupSendResult>;
  /**
   * Check a file already on this node with the media rules the user configured (the `validate`
   * hook, `side: 'local'`): its MediaInfo, or an NvidError saying why it may not be shown.
   */
  validateMedia(path: string): Promise<MediaInfo>;
  /** The library of received files: list them, find one by name, delete one (it leaves the screen at once). */
  readonly library: LibraryAccess;
  /** Look at or steer the local screen (the display plugin answers); NVID_ERR_NOT_AVAILABLE without one. */
  steerScreen(request: ScreenRequest): Promise<ScreenState>;
  /** Write a PNG of what the local screen shows now to `out`; resolves with its path. */
  screenshot(out: string): Promise<string>;
  /**
   * Ask a peer's screen (by name or ID prefix), as one of its controllers: a screenshot, its state,
   * its library, or skip / clear / show / delete there. Rejects with the peer's refusal
   * (NVID_ERR_NOT_CONTROLLER) or NVID_ERR_TIMEOUT / NVID_ERR_CONNECTION; a failure is in the history.
   */
  remoteScreen(peerNameOrId: string, request: RemoteScreenRequest): Promise<RemoteScreenAnswer>;
  /** Ask the coordinator for a new name for this node; resolves with the name it gave. */
  rename(name: string): Promise<string>;
  /** What `nvid status` shows: the core's fields and every plugin's. */
  status(): StatusReport;
  /** Run a control command another plugin answers (as `nvid control` does); NVID_ERR_USAGE if none does. */
  control(command: string, args?: Record<string, unknown>): Promise<unknown>;
  /**
   * Record a refusal only this plugin saw (a connection dropped for bad frames, a coordinator that
   * refused us): a 'rejected' history entry with these fields, and the `rejected` event for observers.
   */
  reportRejected(event: RejectedEvent & Record<string, unknown>): void;
  /** Present only for the plugin that declares `provides: ['transport']`. */
  readonly transport?: TransportPowers;
  /** Present only for the plugin that declares `provides: ['display']`. */
  readonly screen?: ScreenPowers;
}

/** A plugin instance. */
export interface NvidPlugin {
  apply(daemon: PluginHost): void | Promise<void>;
}

/** What a plugin declares about itself, as statics of its class (or fields of a plugin object). */
export interface PluginDeclaration {
  /** JSON schema of the options object. */
  readonly schema?: object;
  /** Name used for every tap and in error messages. */
  readonly pluginName?: string;
  /** The plugin API version it was written for (see PLUGIN_API_VERSION); a mismatch stops the start with a clear error. */
  readonly apiVersion?: number;
  /** Roles it provides, and so the powers it receives. */
  readonly provides?: readonly PluginRole[];
  /** The error codes it raises beyond the core's, each with one line saying what it means (docs/errors.md lists them all). */
  readonly errorCodes?: Readonly<Record<string, string>>;
}

/** A plugin module's default export: a class taking its (validated) options, with its declaration as statics. */
export interface NvidPluginClass<Options = Record<string, unknown>> extends PluginDeclaration {
  new (options: Options): NvidPlugin;
}
