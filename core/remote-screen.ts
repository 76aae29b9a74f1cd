/**
 * Remote screens: a node's controllers (by certificate fingerprint: config
 * `controllers`, `nvid trust add PEER --as controller`) may look at and steer
 * its screen from another node. This file holds both ends as the core sees
 * them. `serve` answers a request the transport received from an
 * authenticated peer: it decides whether that peer is a controller (a refusal
 * is coded and written to the history) and runs the local capability.
 * `ask` sends a request to a peer through the transport's `remoteScreen`
 * hook and writes a failure to this side's history. The transport only
 * carries the bytes; it decides nothing.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { asNvidError, NvidError } from './errors.js';
import type { HookCapabilities } from './host-capabilities.js';
import type { NvidHooks } from './hooks.js';
import { resolveBinary } from './media-tools/binaries.js';
import { answered, requireHook } from './pipeline/hook-checks.js';
import type { HistoryLog, LibraryAccess, PeerView } from './plugin-api.js';
import type { Peer, RejectedEvent, RemoteScreenAnswer, RemoteScreenRequest } from './types.js';

/** The largest screenshot that travels: a 4K screen's PNG is well under it. */
export const MAX_SCREENSHOT_BYTES = 16 * 1024 * 1024;
/**
 * The largest playlists-and-schedule document (JSON, UTF-8) a schedule set takes, from a
 * controller or on this node: it travels in one message on the transfer link (64 KiB at most).
 */
export const MAX_SIGNAGE_BYTES = 48 * 1024;
/** The widths a controller may ask a screenshot to be scaled to. */
export const SCREENSHOT_WIDTH = { min: 16, max: 7680 } as const;

const run = promisify(execFile);

/** The actions that only look; every other one steers. */
const WATCHING = new Set(['screenshot', 'status', 'library', 'schedule-show']);

/** A playlists-and-schedule document no bigger than MAX_SIGNAGE_BYTES, else NVID_ERR_USAGE. */
export function checkSignageSize(signage: unknown): void {
  const bytes = Buffer.byteLength(JSON.stringify(signage ?? null), 'utf8');
  if (bytes > MAX_SIGNAGE_BYTES) throw new NvidError('NVID_ERR_USAGE', `the playlists and schedule are ${bytes} bytes of JSON, over the ${MAX_SIGNAGE_BYTES}-byte limit`);
}

/** The one authorisation decision: is this peer one of this node's controllers? The refusal, or undefined. */
export function screenRefusal(trust: { isController(id: string): boolean }, sender: Pick<Peer, 'id' | 'name'>, action: string): NvidError | undefined {
  if (trust.isController(sender.id)) return undefined;
  return new NvidError('NVID_ERR_NOT_CONTROLLER', `${sender.name} (${sender.id.slice(0, 16)}) is not a controller of this node, so it may not ${WATCHING.has(action) ? 'watch' : 'steer'} its screen (${action}); on this node: nvid trust add ${sender.name} --as controller`, {
    details: { peerId: sender.id, action },
  });
}

/** What both ends need from the daemon. */
export interface RemoteScreenDeps {
  readonly hooks: NvidHooks;
  readonly trust: { isController(id: string): boolean };
  readonly capabilities: Pick<HookCapabilities, 'steerScreen' | 'screenshot' | 'deleteLibraryItem' | 'schedule'>;
  readonly library: Pick<LibraryAccess, 'list' | 'resolve'>;
  readonly peers: PeerView;
  readonly history: HistoryLog;
  readonly reportRejected: (event: RejectedEvent & Record<string, unknown>) => void;
  /** A private folder for the screenshot before it travels (the state folder's incoming/). */
  readonly scratchDir: string;
}

export class RemoteScreens {
  readonly #deps: RemoteScreenDeps;

  constructor(deps: RemoteScreenDeps) {
    this.#deps = deps;
  }

  /** A request from `sender` (authenticated by its certificate): refused unless it is a controller, else answered. */
  async serve(sender: Peer, request: RemoteScreenRequest): Promise<RemoteScreenAnswer> {
    const refusal = screenRefusal(this.#deps.trust, sender, request.action);
    if (refusal) {
      this.#deps.reportRejected({ stage: 'remote-screen', code: refusal.code, reason: refusal.message, peerId: sender.id, peerName: sender.name, action: request.action });
      throw refusal;
    }
    return this.#run(request, sender);
  }

  /** Asks the peer `of` (a name or ID prefix); a failure is written to this node's history too. */
  async ask(of: string, request: RemoteScreenRequest): Promise<RemoteScreenAnswer> {
    const peer = this.#deps.peers.resolve(of);
    const { hooks, history } = this.#deps;
    try {
      if (request.action === 'schedule-set') checkSignageSize(request.signage);
      requireHook(hooks, 'remoteScreen', 'transport', 'cannot reach a remote screen');
      return answered(await hooks.remoteScreen.promise({ peer, request }), 'remoteScreen', 'cannot reach a remote screen');
    } catch (err) {
      const error = asNvidError(err);
      history.append('remote-screen-failed', { peerId: peer.id, peerName: peer.name, action: request.action, code: error.code, reason: error.message });
      throw error;
    }
  }

  async #run(request: RemoteScreenRequest, sender: Peer): Promise<RemoteScreenAnswer> {
    const { capabilities, library } = this.#deps;
    switch (request.action) {
      case 'schedule-show':
        return { kind: 'schedule', schedule: await capabilities.schedule({ action: 'show' }) };
      case 'schedule-set':
        checkSignageSize(request.signage);
        return { kind: 'schedule', schedule: await capabilities.schedule({ action: 'set', signage: request.signage, by: { id: sender.id, name: sender.name } }) };
      case 'library':
        return { kind: 'library', items: library.list() };
      case 'screenshot':
        return { kind: 'screenshot', png: await this.#screenshot(request.width) };
      case 'show':
        return { kind: 'screen', screen: await capabilities.steerScreen({ action: 'show', path: library.resolve(request.item) }) };
      case 'delete':
        await capabilities.deleteLibraryItem(request.item);
        return { kind: 'screen', screen: await capabilities.steerScreen({ action: 'status' }) };
      default:
        return { kind: 'screen', screen: await capabilities.steerScreen({ action: request.action }) };
    }
  }

  /** The screen as PNG bytes, scaled to `width` when asked; never more than MAX_SCREENSHOT_BYTES. */
  async #screenshot(width: number | undefined): Promise<Buffer> {
    if (width !== undefined) checkWidth(width);
    const shot = join(this.#deps.scratchDir, `screenshot-${randomUUID()}.png`);
    const scaled = join(this.#deps.scratchDir, `screenshot-${randomUUID()}-scaled.png`);
    try {
      await this.#deps.capabilities.screenshot(shot);
      if (width !== undefined) await scalePng(shot, scaled, width);
      const png = await readFile(width !== undefined ? scaled : shot);
      if (png.length > MAX_SCREENSHOT_BYTES) throw new NvidError('NVID_ERR_REFUSED', `the screenshot is ${png.length} bytes, over the ${MAX_SCREENSHOT_BYTES}-byte limit; ask for a smaller width`);
      return png;
    } finally {
      await Promise.all([rm(shot, { force: true }), rm(scaled, { force: true })]);
    }
  }
}

/** A width asked for by a controller: a whole number of pixels in range, else NVID_ERR_USAGE. */
export function checkWidth(width: number): void {
  if (!Number.isInteger(width) || width < SCREENSHOT_WIDTH.min || width > SCREENSHOT_WIDTH.max) {
    throw new NvidError('NVID_ERR_USAGE', `a screenshot width is a whole number of pixels from ${SCREENSHOT_WIDTH.min} to ${SCREENSHOT_WIDTH.max}`);
  }
}

/** Scales a PNG to `width` pixels wide (the height follows) with ffmpeg. */
async function scalePng(from: string, to: string, width: number): Promise<void> {
  const ffmpeg = await resolveBinary('ffmpeg', undefined, 'ffmpeg');
  await run(ffmpeg.path, ['-hide_banner', '-loglevel', 'error', '-y', '-i', from, '-vf', `scale=${width}:-2`, '-frames:v', '1', to], { timeout: 15_000 });
}
