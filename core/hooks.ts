/**
 * Every hook of the daemon, declared once. Plugins tap these in `apply(daemon)`;
 * only the core calls them. Each hook takes exactly one object argument, so its
 * payload can grow without breaking taps.
 *
 * Data flows one way:
 *   send:    validate(send) -> seal -> deliver -> sent
 *   receive: shouldAccept -> open -> validate(receive) -> received -> display -> displayed
 * Any refusal on the way ends in `rejected`.
 */
import {
  AsyncParallelHook,
  AsyncSeriesBailHook,
  AsyncSeriesHook,
  SyncHook,
  SyncWaterfallHook,
} from 'tapable';
import type {
  AcceptRequest,
  ControlRequest,
  DeliverRequest,
  DeliveryReceipt,
  DisplayedEvent,
  DisplayRequest,
  MediaInfo,
  OpenedEnvelope,
  OpenRequest,
  Peer,
  PeerRenamedEvent,
  PeerUpdatedEvent,
  ProgressEvent,
  ReceivedEvent,
  RejectedEvent,
  Role,
  ScreenshotRequest,
  SealedEnvelope,
  SealRequest,
  SentEvent,
  StatusReport,
  ValidateRequest,
} from './types.js';

/** Argument of the lifecycle hooks. */
export interface LifecycleEvent {
  readonly role: Role;
}

/** Result of `display`: whether the item shows now or waits. */
export interface DisplayAccepted {
  readonly state: 'showing' | 'queued' | 'kept';
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
    /** Decide whether a file is displayable media. Return its MediaInfo, or throw NVID_ERR_MEDIA_REJECTED. */
    validate: new AsyncSeriesBailHook<[ValidateRequest], MediaInfo | undefined>(['request'], 'validate'),

    // ---- crypto ----------------------------------------------------------
    /** Seal a file for one recipient; return the envelope stream. */
    seal: new AsyncSeriesBailHook<[SealRequest], SealedEnvelope | undefined>(['request'], 'seal'),
    /** Open and verify an incoming envelope; the plaintext stream errors if anything fails to verify. */
    open: new AsyncSeriesBailHook<[OpenRequest], OpenedEnvelope | undefined>(['request'], 'open'),

    // ---- transport -------------------------------------------------------
    /** Deliver a sealed envelope to a peer; resolve with the receiver's acknowledgement. */
    deliver: new AsyncSeriesBailHook<[DeliverRequest], DeliveryReceipt | undefined>(['request'], 'deliver'),
    /** Veto an incoming transfer: return a reason string to refuse, undefined to let it through. */
    shouldAccept: new AsyncSeriesBailHook<[AcceptRequest], string | undefined>(['request'], 'shouldAccept'),
    /** Ask the coordinator to rename this node; resolve with the name it was given. */
    rename: new AsyncSeriesBailHook<[{ readonly name: string }], string | undefined>(['request'], 'rename'),

    // ---- display ---------------------------------------------------------
    /** Show (or queue, or keep) a validated, stored file. Resolves once the display took it, not when it ends. */
    display: new AsyncSeriesBailHook<[DisplayRequest], DisplayAccepted | undefined>(['request'], 'display'),
    /** Write a PNG of what the screen shows now; resolve with its path. */
    screenshot: new AsyncSeriesBailHook<[ScreenshotRequest], string | undefined>(['request'], 'screenshot'),

    // ---- control endpoint -----------------------------------------------
    /** Answer a control command the core does not know; return undefined to pass. */
    control: new AsyncSeriesBailHook<[ControlRequest], unknown>(['request'], 'control'),
    /** Add fields to `nvid status`. */
    status: new SyncWaterfallHook<[StatusReport]>(['report'], 'status'),

    // ---- events (observe only) ------------------------------------------
    peerJoined: new SyncHook<[Peer]>(['peer'], 'peerJoined'),
    peerLeft: new SyncHook<[Peer]>(['peer'], 'peerLeft'),
    peerRenamed: new SyncHook<[PeerRenamedEvent]>(['event'], 'peerRenamed'),
    /** Same ID and name, new address, port or certificate entry (e.g. the peer restarted on another port). */
    peerUpdated: new SyncHook<[PeerUpdatedEvent]>(['event'], 'peerUpdated'),
    progress: new SyncHook<[ProgressEvent]>(['event'], 'progress'),
    sent: new AsyncParallelHook<[SentEvent]>(['event'], 'sent'),
    received: new AsyncParallelHook<[ReceivedEvent]>(['event'], 'received'),
    displayed: new AsyncParallelHook<[DisplayedEvent]>(['event'], 'displayed'),
    rejected: new AsyncParallelHook<[RejectedEvent]>(['event'], 'rejected'),
  });
}

/** The daemon's hooks. */
export type NvidHooks = ReturnType<typeof createHooks>;
export type HookName = keyof NvidHooks;

/** Which hooks are events, for the history log and for the example recorder plugin. */
export const EVENT_HOOKS = ['peerJoined', 'peerLeft', 'peerRenamed', 'peerUpdated', 'progress', 'sent', 'received', 'displayed', 'rejected'] as const satisfies readonly HookName[];
