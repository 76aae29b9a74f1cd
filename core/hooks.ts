/**
 * Every hook of the daemon, declared once. Plugins tap these in `apply(daemon)`;
 * only the core calls them. Each hook takes exactly one object argument, so its
 * payload can grow without breaking taps.
 *
 * Data flows one way:
 *   send:    validate(send) -> seal -> deliver -> sent | sendFailed
 *   receive: acceptSender -> open -> acceptTransfer -> validate(receive) -> received
 *            -> display -> queued | displayed | displayFailed
 * Any refusal of an incoming transfer ends in `rejected`.
 */
import {
  AsyncParallelHook,
  AsyncSeriesBailHook,
  AsyncSeriesHook,
  SyncHook,
  SyncWaterfallHook,
} from 'tapable';
import type {
  AcceptSenderRequest,
  AcceptTransferRequest,
  CertificateRequest,
  ControlRequest,
  DeliverRequest,
  SharedDeliverRequest,
  SharedDeliveryOutcome,
  DeliveryReceipt,
  DisplayedEvent,
  DisplayFailedEvent,
  DisplayRequest,
  HistoryKind,
  ItemDeletedEvent,
  MediaInfo,
  OpenedEnvelope,
  OpenRequest,
  Peer,
  PeerRenamedEvent,
  PeerUpdatedEvent,
  ProgressEvent,
  QueuedEvent,
  ReceivedEvent,
  RejectedEvent,
  Role,
  ScheduleRequest,
  ScheduleState,
  ScreenRequest,
  ScreenshotRequest,
  RemoteScreenAnswer,
  RemoteScreenCall,
  ScreenState,
  SealedEnvelope,
  SealRequest,
  SendFailedEvent,
  SentEvent,
  StatusReport,
  TrustChangedEvent,
  ValidateRequest,
} from './types.js';

/** Argument of the lifecycle hooks. */
export interface LifecycleEvent {
  readonly role: Role;
}

/** Result of `display`: whether the item shows now, waits its turn, or is only kept in the library. */
export interface DisplayAccepted {
  readonly state: 'showing' | 'queued' | 'kept';
  /** With `queued`: items ahead of this one. */
  readonly position?: number;
}

export function createHooks() {
  return Object.freeze({
    // ---- lifecycle -------------------------------------------------------
    /** Before anything listens. Plugins open resources here; a throw aborts the start. */
    beforeStart: new AsyncSeriesHook<[LifecycleEvent]>(['event'], 'beforeStart'),
    /** Servers start listening, clients connect. */
    start: new AsyncSeriesHook<[LifecycleEvent]>(['event'], 'start'),
    /** Everything is up; the control socket accepts commands. */
    afterStart: new AsyncSeriesHook<[LifecycleEvent]>(['event'], 'afterStart'),
    /** Stop accepting work; finish or abort what is in flight. */
    stop: new AsyncSeriesHook<[LifecycleEvent]>(['event'], 'stop'),
    /** Everything is closed; last chance to flush. */
    afterStop: new AsyncSeriesHook<[LifecycleEvent]>(['event'], 'afterStop'),

    // ---- media validation ------------------------------------------------
    /**
     * Decide whether a file is displayable media. Return its MediaInfo, or throw
     * NVID_ERR_MEDIA_REJECTED naming the problem. Called on the sending side before
     * sealing, on the receiving side after decryption, and for files already on
     * this node (`side: 'local'`) that a plugin wants to show again.
     */
    validate: new AsyncSeriesBailHook<[ValidateRequest], MediaInfo | undefined>(['request'], 'validate'),

    // ---- crypto ----------------------------------------------------------
    /** Seal a file for one recipient; return the envelope as a stream (with its length when known). */
    seal: new AsyncSeriesBailHook<[SealRequest], SealedEnvelope | undefined>(['request'], 'seal'),
    /**
     * Open an incoming envelope: verify its header against the sender's certificate and
     * return the header and the plaintext, which errors if any chunk fails to verify.
     */
    open: new AsyncSeriesBailHook<[OpenRequest], OpenedEnvelope | undefined>(['request'], 'open'),

    // ---- transport -------------------------------------------------------
    /**
     * Deliver a sealed envelope to a peer; resolve with the receiver's receipt only once it
     * verified and stored the file. Stop and reject when `request.signal` aborts.
     */
    deliver: new AsyncSeriesBailHook<[DeliverRequest], DeliveryReceipt | undefined>(['request'], 'deliver'),
    /**
     * Deliver one envelope sealed to a file to all of its recipients; resolve with one outcome per
     * recipient (receipt or error), in their order, once each has settled. Optional: without a tap
     * the core streams the file to each recipient through `deliver`.
     */
    deliverShared: new AsyncSeriesBailHook<[SharedDeliverRequest], readonly SharedDeliveryOutcome[] | undefined>(['request'], 'deliverShared'),
    /**
     * Veto a sender before anything of its envelope is read (cheap checks: who it is).
     * Return a reason to refuse, undefined to let it through.
     */
    acceptSender: new AsyncSeriesBailHook<[AcceptSenderRequest], string | undefined>(['request'], 'acceptSender'),
    /**
     * Veto a transfer once its signed header verified (what it is: size, kind, name, time).
     * Return a reason to refuse, undefined to let it through.
     */
    acceptTransfer: new AsyncSeriesBailHook<[AcceptTransferRequest], string | undefined>(['request'], 'acceptTransfer'),
    /**
     * Find a peer's certificate (PEM) by its ID, e.g. from the coordinator. Peer lists carry none,
     * so the core asks here the first time it seals for a peer; it checks the answer's fingerprint
     * against the ID itself and keeps it, so a plugin need not be trusted with that.
     */
    certificate: new AsyncSeriesBailHook<[CertificateRequest], string | undefined>(['request'], 'certificate'),
    /** Ask the coordinator to rename this node; resolve with the name it was given. */
    rename: new AsyncSeriesBailHook<[{ readonly name: string }], string | undefined>(['request'], 'rename'),

    // ---- display ---------------------------------------------------------
    /**
     * Show (or queue, or keep) a validated, stored file. Resolves once the display took it,
     * not when it is on screen: the display reports that through its `screen.shown` power,
     * which fires `displayed`.
     */
    display: new AsyncSeriesBailHook<[DisplayRequest], DisplayAccepted | undefined>(['request'], 'display'),
    /**
     * Look at or steer the local screen: `status`, `skip` the current item, `clear` what
     * waits (and end what shows, but for `loop`), `show` a library item now. Resolve with
     * the screen's state after the action.
     */
    screen: new AsyncSeriesBailHook<[ScreenRequest], ScreenState | undefined>(['request'], 'screen'),
    /**
     * Read (`show`) or replace (`set`) the screen's playlists and schedule. A `set` is checked
     * whole and refused whole (NVID_ERR_SCHEDULE_INVALID, every problem listed); once accepted it
     * is kept across restarts and plays at once. Resolve with the schedule after the action.
     */
    schedule: new AsyncSeriesBailHook<[ScheduleRequest], ScheduleState | undefined>(['request'], 'schedule'),
    /** Write a PNG of what the screen shows now; resolve with its path. */
    screenshot: new AsyncSeriesBailHook<[ScreenshotRequest], string | undefined>(['request'], 'screenshot'),
    /**
     * Ask a peer's screen something (a screenshot, its state, its library) or steer it, as one of
     * its controllers: the transport carries it over the mutual-TLS transfer link and resolves
     * with the peer's answer, or rejects with its refusal or a timeout.
     */
    remoteScreen: new AsyncSeriesBailHook<[RemoteScreenCall], RemoteScreenAnswer | undefined>(['request'], 'remoteScreen'),

    // ---- control endpoint -----------------------------------------------
    /** Answer a control command the core does not know; return undefined to pass. */
    control: new AsyncSeriesBailHook<[ControlRequest], unknown>(['request'], 'control'),
    /** Add fields to `nvid status`: return the report with yours added. */
    status: new SyncWaterfallHook<[StatusReport]>(['report'], 'status'),

    // ---- events (observe only; each is also a history entry, see EVENT_HISTORY_KINDS) ----
    /** A peer was admitted (or came back). */
    peerJoined: new SyncHook<[Peer]>(['peer'], 'peerJoined'),
    /** A peer left or was dropped by the coordinator. */
    peerLeft: new SyncHook<[Peer]>(['peer'], 'peerLeft'),
    /** A peer took a new name; its ID is unchanged. */
    peerRenamed: new SyncHook<[PeerRenamedEvent]>(['event'], 'peerRenamed'),
    /** Same ID and name, new address, port or certificate entry (e.g. the peer restarted on another port). */
    peerUpdated: new SyncHook<[PeerUpdatedEvent]>(['event'], 'peerUpdated'),
    /** Bytes moved in a transfer, either way; at most every 200 ms and at the end. Not written to the history. */
    progress: new SyncHook<[ProgressEvent]>(['event'], 'progress'),
    /** The receiver acknowledged a verified, stored copy of a file we sent. */
    sent: new AsyncParallelHook<[SentEvent]>(['event'], 'sent'),
    /** A send of ours failed or was cancelled; `stage` says where. */
    sendFailed: new AsyncParallelHook<[SendFailedEvent]>(['event'], 'sendFailed'),
    /** A file reached this node's library, verified. */
    received: new AsyncParallelHook<[ReceivedEvent]>(['event'], 'received'),
    /** An incoming transfer or connection was refused; nothing of it was kept. */
    rejected: new AsyncParallelHook<[RejectedEvent]>(['event'], 'rejected'),
    /** The display took an item to show after the ones before it. */
    queued: new AsyncParallelHook<[QueuedEvent]>(['event'], 'queued'),
    /** An item's first frame is on the screen. */
    displayed: new AsyncParallelHook<[DisplayedEvent]>(['event'], 'displayed'),
    /** An item could not be shown. */
    displayFailed: new AsyncParallelHook<[DisplayFailedEvent]>(['event'], 'displayFailed'),
    /** A library item was deleted (by the person at the node or a controller): take it off the screen now. */
    itemDeleted: new AsyncParallelHook<[ItemDeletedEvent]>(['event'], 'itemDeleted'),
    /** A person trusted a peer as sender or controller, or took it back; it counts at once. */
    trustChanged: new SyncHook<[TrustChangedEvent]>(['event'], 'trustChanged'),
  });
}

/** The daemon's hooks. */
export type NvidHooks = ReturnType<typeof createHooks>;
export type HookName = keyof NvidHooks;

/** The event hooks and the history kind each one writes (`progress` is too frequent for the history). */
export const EVENT_HISTORY_KINDS = {
  peerJoined: 'peer-joined',
  peerLeft: 'peer-left',
  peerRenamed: 'peer-renamed',
  peerUpdated: 'peer-updated',
  progress: null,
  sent: 'sent',
  sendFailed: 'send-failed',
  received: 'received',
  rejected: 'rejected',
  queued: 'queued',
  displayed: 'displayed',
  displayFailed: 'display-failed',
  itemDeleted: 'item-deleted',
  trustChanged: 'trust-changed',
} as const satisfies Partial<Record<HookName, HistoryKind | null>>;

export type EventHookName = keyof typeof EVENT_HISTORY_KINDS;

/** Which hooks are events, for the history log and for the example recorder plugin. */
export const EVENT_HOOKS = Object.keys(EVENT_HISTORY_KINDS) as EventHookName[];

/**
 * Hooks of earlier plugin API versions, and what took their place: a plugin
 * that taps one gets an error that names the new hooks instead of a TypeError.
 */
export const RETIRED_HOOKS: Readonly<Record<string, string>> = Object.freeze({
  shouldAccept:
    'the "shouldAccept" hook was split in plugin API 2: tap "acceptSender" ({ sender }, before the envelope is read) and/or "acceptTransfer" ({ sender, meta }, after its header verified)',
});
