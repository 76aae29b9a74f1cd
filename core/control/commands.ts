/**
 * What a running daemon answers on its control socket. The core answers the
 * built-in commands; anything else goes to plugins through `hooks.control`.
 */
import { writeFile } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import { NvidError } from '../errors.js';
import { checkSignageSize } from '../remote-screen.js';
import type { HistoryLog, LibraryAccess, PeerView } from '../plugin-api.js';
import type { TrustList, TrustStore } from '../trust.js';
import { isGroupTarget } from '../targets.js';
import type { GroupSendResult, HistoryKind, LibraryItem, Peer, RemoteScreenAnswer, RemoteScreenRequest, Role, ScheduleRequest, ScheduleState, ScreenRequest, ScreenState, SignageDocument, SendOptions, SendResult, StatusReport, TrustChangedEvent } from '../types.js';
import type { ControlHandler } from './server.js';

/** What the control commands need from the daemon, and nothing more. */
export interface ControlPort {
  readonly role: Role;
  readonly peers: PeerView;
  readonly history: HistoryLog;
  readonly library: LibraryAccess;
  status(): StatusReport;
  send(file: string, to: string, options: SendOptions): Promise<SendResult>;
  /** A send to every peer a target names (a list, `tag:NAME`, `all`). */
  sendGroup(file: string, to: string, options: SendOptions): Promise<GroupSendResult>;
  rename(name: string): Promise<string>;
  screenshot(out: string): Promise<string>;
  steerScreen(request: ScreenRequest): Promise<ScreenState>;
  /** Read or replace this screen's playlists and schedule (the display plugin answers). */
  schedule(request: ScheduleRequest): Promise<ScheduleState>;
  /** Ask a peer's screen (as one of its controllers): `screenshot --of`, `screen PEER ...`, `library --of`. */
  remoteScreen(of: string, request: RemoteScreenRequest): Promise<RemoteScreenAnswer>;
  /** A command some plugin answers through `hooks.control`. */
  pluginCommand(command: string, args: Record<string, unknown>): Promise<unknown>;
  /** Who may push media here and steer this screen. */
  readonly trust: TrustStore;
  /** A person changed the trust: the history and every plugin hear of it. */
  announceTrust(event: TrustChangedEvent): void;
  /** Ask the process to stop, as SIGTERM does. */
  requestStop(): void;
}

const NAME = /^[^\u0000-\u001f\u007f/\\]{1,64}$/;
const SCREEN_ACTIONS = ['status', 'skip', 'clear', 'show', 'delete'] as const;

function stringArg(args: Record<string, unknown>, key: string, command: string): string {
  const value = args[key];
  if (typeof value !== 'string' || value.length === 0) throw new NvidError('NVID_ERR_USAGE', `${command}: "${key}" is required`);
  return value;
}

/** `screen`: status, skip, clear, show ITEM, delete ITEM (the item leaves the screen at once). */
async function screenCommand(daemon: ControlPort, args: Record<string, unknown>): Promise<ScreenState> {
  const action = args.action ?? 'status';
  if (!SCREEN_ACTIONS.includes(action as (typeof SCREEN_ACTIONS)[number])) throw new NvidError('NVID_ERR_USAGE', `screen: the action is one of ${SCREEN_ACTIONS.join(', ')}`);
  if (action === 'show') return daemon.steerScreen({ action: 'show', path: daemon.library.resolve(stringArg(args, 'item', 'screen show')) });
  if (action === 'delete') {
    await daemon.library.delete(stringArg(args, 'item', 'screen delete'));
    return daemon.steerScreen({ action: 'status' });
  }
  return daemon.steerScreen({ action: action as 'status' | 'skip' | 'clear' });
}

/** The peer a command addresses with `of`, or undefined for this node's own screen. */
function peerArg(args: Record<string, unknown>, command: string): string | undefined {
  if (args.of === undefined) return undefined;
  if (typeof args.of !== 'string' || args.of.length === 0) throw new NvidError('NVID_ERR_USAGE', `${command}: "of" names a peer`);
  return args.of;
}

/** `screen` with `of`: the same actions, on a peer's screen. */
async function remoteScreenCommand(daemon: ControlPort, of: string, args: Record<string, unknown>): Promise<ScreenState> {
  const action = args.action ?? 'status';
  if (!SCREEN_ACTIONS.includes(action as (typeof SCREEN_ACTIONS)[number])) throw new NvidError('NVID_ERR_USAGE', `screen: the action is one of ${SCREEN_ACTIONS.join(', ')}`);
  const request: RemoteScreenRequest = action === 'show' || action === 'delete' ? { action, item: stringArg(args, 'item', `screen ${action}`) } : { action: action as 'status' | 'skip' | 'clear' };
  const answer = await daemon.remoteScreen(of, request);
  if (answer.kind !== 'screen') throw new NvidError('NVID_ERR_CONTROL_PROTOCOL', `screen: ${of} answered with ${answer.kind}, not its screen`);
  return answer.screen;
}

/** `screenshot` with `of`: a peer's screen as PNG, written to `out` here. */
async function remoteScreenshot(daemon: ControlPort, of: string, out: string, args: Record<string, unknown>): Promise<{ path: string; of: string; bytes: number }> {
  const width = args.width === undefined ? undefined : Number(args.width);
  const answer = await daemon.remoteScreen(of, { action: 'screenshot', ...(width !== undefined ? { width } : {}) });
  if (answer.kind !== 'screenshot') throw new NvidError('NVID_ERR_CONTROL_PROTOCOL', `screenshot: ${of} answered with ${answer.kind}, not a picture`);
  await writeFile(out, answer.png, { mode: 0o600 });
  return { path: out, of, bytes: answer.png.length };
}

async function remoteLibrary(daemon: ControlPort, of: string): Promise<readonly LibraryItem[]> {
  const answer = await daemon.remoteScreen(of, { action: 'library' });
  if (answer.kind !== 'library') throw new NvidError('NVID_ERR_CONTROL_PROTOCOL', `library: ${of} answered with ${answer.kind}, not its library`);
  return answer.items;
}

/** The playlists-and-schedule document a `schedule set` carries: a JSON object, within the size limit. */
function signageArg(args: Record<string, unknown>): SignageDocument {
  const signage = args.signage;
  if (typeof signage !== 'object' || signage === null || Array.isArray(signage)) {
    throw new NvidError('NVID_ERR_USAGE', 'schedule set: "signage" is a JSON object with "playlists" and "schedule"');
  }
  checkSignageSize(signage);
  return signage as SignageDocument;
}

/** `schedule`: show or set the playlists and schedule of this screen, or (with `of`) of a peer's, as one of its controllers. */
async function scheduleCommand(daemon: ControlPort, args: Record<string, unknown>): Promise<ScheduleState> {
  const action = args.action ?? 'show';
  if (action !== 'show' && action !== 'set') throw new NvidError('NVID_ERR_USAGE', 'schedule: the action is show or set');
  const of = peerArg(args, 'schedule');
  if (!of) return daemon.schedule(action === 'set' ? { action, signage: signageArg(args) } : { action });
  const answer = await daemon.remoteScreen(of, action === 'set' ? { action: 'schedule-set', signage: signageArg(args) } : { action: 'schedule-show' });
  if (answer.kind !== 'schedule') throw new NvidError('NVID_ERR_CONTROL_PROTOCOL', `schedule: ${of} answered with ${answer.kind}, not its schedule`);
  return answer.schedule;
}

const FULL_FINGERPRINT = /^([0-9a-f]{2}:?){31}[0-9a-f]{2}$/i;

/** The peer a person named: a known peer by name or ID prefix, or any full fingerprint (a peer not seen yet). */
function trustTarget(daemon: ControlPort, named: string): Pick<Peer, 'id'> & { name?: string } {
  if (FULL_FINGERPRINT.test(named)) {
    const id = named.replace(/:/g, '').toLowerCase();
    const known = daemon.peers.get(id);
    return known ? { id, name: known.name } : { id };
  }
  const peer = daemon.peers.resolve(named);
  return { id: peer.id, name: peer.name };
}

/** `trust`: list, or add / remove a peer as sender or controller. */
function trustCommand(daemon: ControlPort, args: Record<string, unknown>): TrustList & { changed?: boolean; peer?: { id: string; name?: string } } {
  const action = args.action ?? 'list';
  if (daemon.role !== 'node') throw new NvidError('NVID_ERR_USAGE', 'trust: a coordinator admits nodes by its admission policy; ask a node');
  if (action === 'list') return daemon.trust.list();
  if (action !== 'add' && action !== 'remove') throw new NvidError('NVID_ERR_USAGE', 'trust: the action is list, add or remove');
  const role = args.as;
  if (role !== 'sender' && role !== 'controller') throw new NvidError('NVID_ERR_USAGE', `trust ${action}: say --as sender (may push media here) or --as controller (may watch and steer this screen)`);
  const peer = trustTarget(daemon, stringArg(args, 'peer', `trust ${action}`));
  const changed = action === 'add' ? daemon.trust.add(role, peer) : daemon.trust.remove(role, peer.id);
  if (changed) daemon.announceTrust({ role, change: action === 'add' ? 'added' : 'removed', peerId: peer.id, ...(peer.name ? { peerName: peer.name } : {}) });
  return { ...daemon.trust.list(), changed, peer };
}

export function createControlHandler(daemon: ControlPort): ControlHandler {
  return async (command, args, emit, signal) => {
    switch (command) {
      case 'status':
        return daemon.status();
      case 'peers': {
        const tag = args.tag;
        if (tag !== undefined && (typeof tag !== 'string' || tag.length === 0)) throw new NvidError('NVID_ERR_USAGE', 'peers: "tag" is a tag name');
        const peers = tag === undefined ? daemon.peers.list() : daemon.peers.list().filter((p) => p.tags.includes(tag as string));
        return peers.map((p) => (args.certs ? p : { id: p.id, name: p.name, address: p.address, port: p.port, tags: p.tags }));
      }
      case 'send': {
        if (daemon.role !== 'node') throw new NvidError('NVID_ERR_USAGE', 'send: a coordinator does not send media; ask a node');
        const file = stringArg(args, 'file', 'send');
        const to = stringArg(args, 'to', 'send');
        if (!isAbsolute(file)) throw new NvidError('NVID_ERR_USAGE', 'send: "file" must be an absolute path');
        // The caller hanging up (Ctrl-C) cancels the send: `signal` aborts when its connection closes.
        const follow: SendOptions = { onStart: (start) => emit('start', start), onProgress: (progress) => emit('progress', progress), signal };
        // A list, tag:NAME or all: one outcome per recipient, marked `group` so the caller tells the shapes apart.
        if (isGroupTarget(to, daemon.peers)) return { group: true, ...(await daemon.sendGroup(file, to, follow)) };
        return daemon.send(file, to, follow);
      }
      case 'rename': {
        const name = stringArg(args, 'name', 'rename');
        if (!NAME.test(name)) throw new NvidError('NVID_ERR_USAGE', 'rename: a name is 1-64 characters without control characters or slashes');
        return { name: await daemon.rename(name) };
      }
      case 'history': {
        const limit = typeof args.limit === 'number' && args.limit > 0 ? Math.floor(args.limit) : undefined;
        const kind = typeof args.kind === 'string' ? (args.kind as HistoryKind) : undefined;
        return daemon.history.read({ ...(limit ? { limit } : {}), ...(kind ? { kind } : {}) });
      }
      case 'screenshot': {
        const out = resolve(typeof args.out === 'string' ? args.out : `screenshot-${Date.now()}.png`);
        const of = peerArg(args, 'screenshot');
        return of ? remoteScreenshot(daemon, of, out, args) : { path: await daemon.screenshot(out) };
      }
      case 'screen': {
        const of = peerArg(args, 'screen');
        return of ? remoteScreenCommand(daemon, of, args) : screenCommand(daemon, args);
      }
      case 'library': {
        const of = peerArg(args, 'library');
        return of ? remoteLibrary(daemon, of) : daemon.library.list();
      }
      case 'schedule':
        if (daemon.role !== 'node') throw new NvidError('NVID_ERR_USAGE', 'schedule: a coordinator has no screen; ask a node');
        return scheduleCommand(daemon, args);
      case 'trust':
        return trustCommand(daemon, args);
      case 'stop':
        setImmediate(() => daemon.requestStop());
        return { stopping: true };
      default:
        return daemon.pluginCommand(command, args);
    }
  };
}
