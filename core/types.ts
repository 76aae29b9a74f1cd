/**
 * Data shapes passed through the hooks. Plain data only: everything here can
 * be written to the history log or sent over the control socket as JSON.
 */
import type { Readable } from 'node:stream';

/** Which daemon this is: the address book, or a node that sends and shows media. */
export type Role = 'coordinator' | 'node';

/** A node admitted by the coordinator. `id` is the SHA-256 fingerprint of its certificate (lowercase hex). */
export interface Peer {
  readonly id: string;
  readonly name: string;
  /**
   * The peer's certificate, once someone needed it. The coordinator lists peers without
   * certificates (a join then costs everyone else a few dozen bytes, not a certificate); the
   * core fetches one through the `certificate` hook before it seals for the peer, checks that
   * its fingerprint is the ID, and keeps it in the peer table.
   */
  readonly certPem?: string;
  /** Host and port where the peer accepts transfer connections. */
  readonly address: string;
  readonly port: number;
  /** Short lowercase words the node declared in its config (`tags`), for sending to groups (`tag:floor-2`); [] when none. */
  readonly tags: readonly string[];
}

/** A peer whose certificate is known (and matches its ID): what sealing for it and opening from it need. */
export type CertifiedPeer = Peer & { readonly certPem: string };

/** Argument of `hooks.certificate`. */
export interface CertificateRequest {
  /** The peer's ID, the SHA-256 fingerprint the answer must have. */
  readonly id: string;
  readonly signal?: AbortSignal;
}

/** This daemon's own identity, made on first start and kept in the state folder. */
export interface Identity {
  /** SHA-256 fingerprint of the certificate, lowercase hex without separators. */
  readonly id: string;
  readonly certPem: string;
  readonly keyPem: string;
}

export type MediaKind = 'image' | 'video';

/** What media validation found out about a file. */
export interface MediaInfo {
  readonly kind: MediaKind;
  /** ffprobe's format name, e.g. `png_pipe`, `mov,mp4,m4a,3gp,3g2,mj2`. */
  readonly container: string;
  /** Codec of the first video stream, e.g. `png`, `h264`. */
  readonly codec: string;
  readonly width: number;
  readonly height: number;
  /** Seconds; 0 for still images. */
  readonly duration: number;
  /** Number of video frames when known, else 0. */
  readonly frames: number;
  readonly hasAudio: boolean;
  /** Bytes. */
  readonly size: number;
  /**
   * How a still must be turned to stand upright (EXIF orientation 2-8, as a
   * phone writes it for a portrait photo). Absent: show it as stored.
   */
  readonly orientation?: Orientation;
}

/** EXIF orientation 1-8: 1 as stored, 3 upside down, 6 and 8 a quarter turn, 2, 4, 5 and 7 mirrored. */
export type Orientation = 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8;

/** The signed facts about one transfer. Travels encrypted; checked by the receiver. */
export interface TransferMeta {
  readonly transferId: string;
  readonly senderId: string;
  /**
   * This node on the receiving side (the crypto plugin checked it is listed);
   * on the sending side, the peer this copy goes to (for a group seal, the first recipient).
   */
  readonly receiverId: string;
  /**
   * Every recipient of the envelope, in the signed order (one seal, many recipients).
   * Set by the sender and by `open`; absent means `[receiverId]`.
   */
  readonly recipientIds?: readonly string[];
  /** Milliseconds since the epoch, set by the sender. */
  readonly time: number;
  /** Plaintext size in bytes. */
  readonly size: number;
  readonly mediaType: MediaKind;
  /** The sender's file name, already sanitised by the crypto plugin on open. */
  readonly fileName: string;
}

/** Argument of `hooks.validate`. */
export interface ValidateRequest {
  readonly path: string;
  /**
   * `send`: before sealing; `receive`: after decryption, before display (never trust the sender);
   * `local`: a file already on this node that a plugin wants to show again (e.g. a library loop).
   */
  readonly side: 'send' | 'receive' | 'local';
  /** Present on the receiving side. */
  readonly meta?: TransferMeta;
}

/** Argument of `hooks.seal`. */
export interface SealRequest {
  readonly path: string;
  /** The first (for a one-recipient send, the only) recipient: `recipients[0]`. */
  readonly recipient: CertifiedPeer;
  /**
   * Every recipient, 1..64, in order: the plugin encrypts the content once and wraps its key for each.
   * Their IDs equal `meta.recipientIds`. Absent means `[recipient]`.
   */
  readonly recipients?: readonly CertifiedPeer[];
  readonly meta: TransferMeta;
  /**
   * Set when the file at `path` is still being written (`SendOptions.arriving`): read
   * only what `available()` says is there, and wait for more. When a wait rejects
   * (the file's check failed, its upload broke), the envelope must error with that.
   */
  readonly growing?: GrowingFile;
}

/** A file still being written, as the seal hook reads it. */
export interface GrowingFile {
  /** Bytes that may be read from the start of the file now. */
  available(): number;
  /** Resolves once more than `bytes` are available; rejects when no more ever will be, with why. */
  waitBeyond(bytes: number): Promise<void>;
  /**
   * The bytes from `position` (at most `max`, never past `available()`) if the writer
   * still holds them in memory, else undefined (read the file). Saves reading back
   * what was just written. The buffer must not be changed.
   */
  recent?(position: number, max: number): Buffer | undefined;
}

/** Result of `hooks.seal`: the envelope as a stream, and its exact length when known in advance. */
export interface SealedEnvelope {
  readonly stream: Readable;
  readonly length?: number;
}

/** Argument of `hooks.open`. `sender` is the peer the transport authenticated by TLS certificate. */
export interface OpenRequest {
  readonly envelope: Readable;
  /** With the certificate the sender authenticated its connection with. */
  readonly sender: CertifiedPeer;
}

/** Result of `hooks.open`: the verified header, and the plaintext, which errors if any chunk fails. */
export interface OpenedEnvelope {
  readonly meta: TransferMeta;
  readonly plaintext: Readable;
}

/** Argument of `hooks.deliver`. */
export interface DeliverRequest {
  readonly peer: Peer;
  readonly meta: TransferMeta;
  readonly envelope: SealedEnvelope;
  /** Called with bytes sent so far; the core turns it into progress events. */
  readonly onProgress?: (sentBytes: number) => void;
  /** Aborted when the caller cancels: stop sending and close the connection, so the receiver discards the partial file. */
  readonly signal?: AbortSignal;
}

/**
 * Argument of `hooks.deliverShared`: one envelope, already sealed to a file for all of
 * `recipients`, to be delivered to each of them however the transport likes (the bundled one
 * lets recipients pass pieces on to each other, and resumes from what they hold).
 */
export interface SharedDeliverRequest {
  readonly recipients: readonly Peer[];
  /** The sender's meta: `recipientIds` lists them all, in the envelope's order. */
  readonly meta: TransferMeta;
  readonly envelope: { readonly file: string; readonly length: number };
  /** Verified bytes a recipient holds so far. */
  readonly onProgress?: (peerId: string, bytes: number) => void;
  readonly signal?: AbortSignal;
}

/** One recipient's end of a shared delivery: its receipt, or why not. */
export type SharedDeliveryOutcome =
  | { readonly peerId: string; readonly receipt: DeliveryReceipt; readonly badSources?: readonly string[] }
  | { readonly peerId: string; readonly error: Error };

/** What the receiver acknowledged. Returned by `hooks.deliver` only after the receiver verified and stored the file. */
export interface DeliveryReceipt {
  readonly transferId: string;
  readonly receiverId: string;
  /** SHA-256 of the plaintext as stored by the receiver (hex). */
  readonly sha256: string;
  readonly storedAs: string;
}

/** Argument of `hooks.acceptSender`: who wants to send to us, before anything of the envelope is read. */
export interface AcceptSenderRequest {
  readonly sender: Peer;
}

/** Argument of `hooks.acceptTransfer`: the same sender, now with the header it signed (verified). */
export interface AcceptTransferRequest {
  readonly sender: Peer;
  readonly meta: TransferMeta;
}

/** Argument of `hooks.display`. */
export interface DisplayRequest {
  readonly path: string;
  readonly media: MediaInfo;
  readonly meta: TransferMeta;
}

/** Argument of `hooks.screenshot`. */
export interface ScreenshotRequest {
  /** Where to write the PNG. */
  readonly out: string;
}

/** A request on the control socket that the core does not answer itself. */
export interface ControlRequest {
  readonly command: string;
  readonly args: Readonly<Record<string, unknown>>;
}

/**
 * The history log's entry kinds. Every event hook but `progress` writes the
 * kind of the same name (`sendFailed` -> `send-failed`); `started`, `stopped`,
 * `validated` and `group-sent` (one send to several peers: the targets and the
 * counts, beside each recipient's own `sent` / `send-failed`) have no event of their own.
 */
export type HistoryKind =
  | 'started'
  | 'stopped'
  | 'peer-joined'
  | 'peer-left'
  | 'peer-renamed'
  | 'peer-updated'
  | 'validated'
  | 'sent'
  | 'send-failed'
  | 'group-sent'
  | 'received'
  | 'rejected'
  | 'queued'
  | 'displayed'
  | 'display-failed'
  | 'screen-power'
  | 'item-deleted'
  | 'trust-changed'
  | 'remote-screen-failed'
  | 'schedule-set';

/** One line of the history log. */
export interface HistoryEntry {
  readonly time: string;
  readonly kind: HistoryKind;
  readonly [field: string]: unknown;
}

/** Payloads of the event hooks. */
export interface PeerRenamedEvent {
  readonly peer: Peer;
  readonly oldName: string;
}
export interface PeerUpdatedEvent {
  readonly peer: Peer;
  readonly previous: Peer;
}
export interface SentEvent {
  readonly meta: TransferMeta;
  readonly peer: Peer;
  readonly receipt: DeliveryReceipt;
  readonly path: string;
}
export interface ReceivedEvent {
  readonly meta: TransferMeta;
  readonly sender: Peer;
  readonly path: string;
  readonly media: MediaInfo;
  readonly sha256: string;
}
/** An item's first frame is on the screen (not merely handed to a player). */
export interface DisplayedEvent {
  readonly path: string;
  readonly media: MediaInfo;
  /** Absent for items the display shows on its own (a library loop, the idle picture). */
  readonly meta?: TransferMeta;
  /** Milliseconds since the epoch when the first frame was seen. */
  readonly at: number;
}
/** A stable error code: `NVID_ERR_` and upper-case words. The core's are in core/errors.ts, each plugin declares its own. */
export type NvidErrorCode = `NVID_ERR_${string}`;

/**
 * Where an incoming transfer or connection was refused: `accept` (policy),
 * `open` (decryption and header checks), `validate` (media checks), `store`
 * (disk), `transport` (a connection or the coordinator), `remote-screen` (a
 * peer that is not a controller asked to watch or steer this screen).
 */
export type RejectStage = 'accept' | 'open' | 'validate' | 'store' | 'transport' | 'remote-screen';

/** An incoming transfer (or connection) that was refused; nothing of it is kept. */
export interface RejectedEvent {
  readonly stage: RejectStage;
  readonly code: NvidErrorCode;
  readonly reason: string;
  readonly meta?: Partial<TransferMeta>;
  /** The authenticated peer, when the refusal came after its certificate checked out. */
  readonly peerId?: string;
}

/** Where an outgoing send failed: before sealing (`send`: file, peer), `validate`, `seal`, `deliver`. */
export type SendStage = 'send' | 'validate' | 'seal' | 'deliver';

/** A send of ours that did not reach a verified, stored copy on the receiver. */
export interface SendFailedEvent {
  readonly stage: SendStage;
  readonly code: NvidErrorCode;
  readonly reason: string;
  readonly path: string;
  /** What the caller asked for (a name or an ID prefix). */
  readonly to: string;
  readonly meta?: TransferMeta;
}

/** The display took an item but shows it later (policy `queue`). */
export interface QueuedEvent {
  readonly path: string;
  readonly media: MediaInfo;
  readonly meta?: TransferMeta;
  /** Items ahead of this one. */
  readonly position: number;
}

/** An item could not be shown (the player crashed, hung or the X server went away). */
export interface DisplayFailedEvent {
  readonly code: NvidErrorCode;
  readonly reason: string;
  readonly path: string;
  readonly meta?: TransferMeta;
}
export interface ProgressEvent {
  readonly transferId: string;
  readonly direction: 'send' | 'receive';
  readonly bytes: number;
  readonly total: number;
  readonly peerName: string;
}

/** Fields plugins add to `nvid status` through `hooks.status`. */
export type StatusReport = Record<string, unknown>;

/** What a send is about once it has started: known before the first byte moves. */
export interface SendStart {
  readonly transferId: string;
  readonly file: string;
  readonly to: { readonly id: string; readonly name: string };
  /** Plaintext bytes. */
  readonly size: number;
  /** Bytes that will cross the wire (the envelope), the `total` of every progress report. */
  readonly total: number;
  /** The sender's media check; absent when the file is still arriving (it is checked once whole). */
  readonly media?: MediaInfo;
}

/** One progress report of a send, for a progress bar. */
export interface SendProgress {
  readonly transferId: string;
  /** The recipient, so reports of a send to several peers can be told apart. */
  readonly to: { readonly id: string; readonly name: string };
  readonly bytes: number;
  readonly total: number;
  /** Bytes per second since the send started moving bytes. */
  readonly rate: number;
  /** Seconds left at the current rate; undefined until a rate is known. */
  readonly secondsLeft?: number;
}

/** How a caller follows and steers one send. */
export interface SendOptions {
  /** Called once, when the transfer ID and size are known and before any byte moves. */
  readonly onStart?: (start: SendStart) => void;
  /** Called as bytes move, at most every 200 ms and once at the end. */
  readonly onProgress?: (progress: SendProgress) => void;
  /** Aborting it cancels the send (NVID_ERR_CANCELLED); the receiver keeps nothing. */
  readonly signal?: AbortSignal;
  /**
   * The file at `file` is still being written (an upload in progress): send it as it arrives.
   * The bytes are sealed and sent as they land; the media check runs once the file is whole,
   * and the envelope's final chunk is held back until it passes, so a receiver can never
   * complete a file that fails it (or that stops arriving). Only for in-process callers.
   */
  readonly arriving?: ArrivingFile;
}

/**
 * A file being written while it is sent (see `SendOptions.arriving`). The writer
 * owns it; the send only reads what `written()` says is there.
 */
export interface ArrivingFile {
  /** Bytes the file will have when whole. */
  readonly size: number;
  /** What the writer says it is; the sender's media check must agree once the file is whole. */
  readonly kind: MediaKind;
  /** Bytes written so far, readable at the file's path. */
  written(): number;
  /**
   * Resolves once more than `bytes` are written (at once if they already are);
   * rejects with the reason when the file will never be whole (its upload failed).
   */
  waitBeyond(bytes: number): Promise<void>;
  /** Bytes from `position` (at most `max`) the writer still holds in memory, if it does (see GrowingFile). */
  recent?(position: number, max: number): Buffer | undefined;
}

/** What `send` resolves with: the receiver verified and stored the file. */
export interface SendResult {
  readonly transferId: string;
  readonly to: { readonly id: string; readonly name: string };
  readonly file: string;
  readonly size: number;
  readonly sha256: string;
  readonly media: MediaInfo;
  readonly receipt: DeliveryReceipt;
  readonly seconds: number;
  /**
   * Milliseconds in each step: `check` the media check, `seal` until the first
   * byte could go (sealing the header, waiting for a slot), `deliver` connecting,
   * moving the bytes and the receiver's own checks until its receipt.
   */
  readonly stages: SendStages;
}

export interface SendStages {
  readonly check: number;
  readonly seal: number;
  readonly deliver: number;
}

/** How a recipient of a send to several peers fared: a verified receipt, or why not. */
export type RecipientOutcome =
  | {
      readonly outcome: 'sent';
      readonly to: { readonly id: string; readonly name: string };
      readonly transferId: string;
      readonly sha256: string;
      readonly storedAs: string;
      readonly seconds: number;
    }
  | {
      readonly outcome: 'failed';
      readonly to: { readonly id: string; readonly name: string };
      readonly transferId?: string;
      readonly stage: SendStage;
      readonly error: { readonly code: NvidErrorCode; readonly message: string };
    };

/**
 * What a send to several peers (`--to lobby,kitchen`, `tag:floor-2`, `all`) resolves with once every
 * recipient answered: one outcome per recipient, in the order the targets resolved. It resolves even when
 * some or all recipients failed; it rejects only when nothing was sent (no such file or peers, media refused).
 */
export interface GroupSendResult {
  /** The target as the caller gave it. */
  readonly targets: string;
  readonly file: string;
  readonly size: number;
  readonly media: MediaInfo;
  readonly delivered: number;
  readonly failed: number;
  readonly results: readonly RecipientOutcome[];
  readonly seconds: number;
}

/** A file in this node's library (verified media it received and keeps). */
export interface LibraryItem {
  /** The file's name in the library folder: what `show` and `delete` take. */
  readonly name: string;
  readonly path: string;
  readonly size: number;
  /** Milliseconds since the epoch when it arrived. */
  readonly modified: number;
}

/** A library item was deleted: it leaves the screen, the queue and the loop at once. */
export interface ItemDeletedEvent {
  readonly name: string;
  readonly path: string;
}

/** Argument of `hooks.screen`: look at or steer the local screen. `show` takes a library item's path. */
export type ScreenRequest = { readonly action: 'status' } | { readonly action: 'skip' } | { readonly action: 'clear' } | { readonly action: 'show'; readonly path: string };

/** What the screen shows and what waits, as the display sees it. */
export interface ScreenState {
  /** The item on screen; `idle` for the idle picture; null while nothing is up yet (starting, stopping). */
  readonly showing: { readonly path: string; readonly name: string; readonly kind: MediaKind } | 'idle' | null;
  /** Items waiting their turn, next first. */
  readonly queue: ReadonlyArray<{ readonly path: string; readonly name: string }>;
  readonly policy: string;
}

/** A person trusted a peer in a role, or took the trust back (`nvid trust`). */
export interface TrustChangedEvent {
  readonly role: 'sender' | 'controller';
  readonly change: 'added' | 'removed';
  readonly peerId: string;
  readonly peerName?: string;
}

/**
 * Playlists and a schedule as a person writes them (the display options' `playlists` and
 * `schedule`, plugins/display/schedule/README.md): plain JSON, checked by the display plugin.
 */
export interface SignageDocument {
  readonly playlists?: unknown;
  readonly schedule?: unknown;
}

/**
 * Argument of `hooks.schedule`: read the screen's playlists and schedule (`show`), or replace
 * them (`set`): checked whole (NVID_ERR_SCHEDULE_INVALID listing every problem, nothing
 * changes), kept across restarts, applied at once. `by` is the controller that asked, if any.
 */
export type ScheduleRequest =
  | { readonly action: 'show' }
  | { readonly action: 'set'; readonly signage: SignageDocument; readonly by?: { readonly id: string; readonly name: string } };

/** The screen's playlists and schedule, where they came from, and what plays now. */
export interface ScheduleState {
  /** `set`: set with `nvid schedule set` and kept in the state folder (it wins over the config); `config`: the display options; `none`. */
  readonly source: 'set' | 'config' | 'none';
  /** With `set`: the file in the state folder that keeps it. */
  readonly file?: string;
  /** With `set`: when it was set (ISO 8601), and by whom when a controller set it. */
  readonly setAt?: string;
  readonly setBy?: { readonly id: string; readonly name: string };
  /** The playlists and schedule as written; null with `none`. */
  readonly signage: SignageDocument | null;
  /** The playlist playing now and when the schedule next changes; null when no schedule runs. */
  readonly playing: { readonly playlist?: string; readonly nextChange?: string } | null;
}

/** What a controller asks of a peer's screen (`nvid screen lobby ...`, `nvid screenshot --of`, `nvid library --of`, `nvid schedule --on`). */
export type RemoteScreenRequest =
  | { readonly action: 'status' | 'skip' | 'clear' | 'library' | 'schedule-show' }
  | { readonly action: 'show' | 'delete'; readonly item: string }
  | { readonly action: 'screenshot'; readonly width?: number }
  | { readonly action: 'schedule-set'; readonly signage: SignageDocument };

/** A peer's answer: its screen after the action, its library, a PNG of what its screen shows, or its schedule. */
export type RemoteScreenAnswer =
  | { readonly kind: 'screen'; readonly screen: ScreenState }
  | { readonly kind: 'library'; readonly items: readonly LibraryItem[] }
  | { readonly kind: 'screenshot'; readonly png: Buffer }
  | { readonly kind: 'schedule'; readonly schedule: ScheduleState };

/** Argument of `hooks.remoteScreen`: ask `peer`'s screen something over the transport. */
export interface RemoteScreenCall {
  readonly peer: Peer;
  readonly request: RemoteScreenRequest;
}
