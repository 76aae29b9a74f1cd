/**
 * What the send and receive pipelines need from the daemon, and nothing more.
 */
import type { Logger } from 'pino';
import type { NvidHooks } from '../hooks.js';
import type { HistoryLog, PeerDirectory } from '../plugin-api.js';
import type { Identity, ProgressEvent } from '../types.js';
import type { ReceivedIndex } from '../received-index.js';
import { NvidError } from '../errors.js';

export interface PipelineContext {
  readonly hooks: NvidHooks;
  readonly identity: Identity;
  readonly peers: PeerDirectory;
  readonly history: HistoryLog;
  readonly log: Logger;
  readonly libraryDir: string;
  readonly incomingDir: string;
  readonly maxReceiveBytes: number;
  readonly minFreeDiskBytes: number;
  readonly transfers: TransferTracker;
  readonly received: ReceivedIndex;
}

/** How often a transfer's progress goes out as an event (the last byte always does). */
const PROGRESS_INTERVAL_MS = 200;

type ActiveTransfer = { -readonly [K in keyof ProgressEvent]: ProgressEvent[K] } & { startedAt: number; reportedAt: number };

/** Transfers in flight, for `nvid status` and progress events. */
export class TransferTracker {
  readonly #active = new Map<string, ActiveTransfer>();

  begin(event: ProgressEvent): void {
    this.#active.set(event.transferId, { ...event, startedAt: Date.now(), reportedAt: 0 });
  }

  /**
   * Records progress; returns an event to publish at most every 200 ms and at
   * the end, since progress arrives per 64 KiB chunk, thousands of times a second.
   */
  update(transferId: string, bytes: number): ProgressEvent | undefined {
    const current = this.#active.get(transferId);
    if (!current) return undefined;
    current.bytes = bytes;
    const now = Date.now();
    if (bytes < current.total && now - current.reportedAt < PROGRESS_INTERVAL_MS) return undefined;
    current.reportedAt = now;
    return { transferId, direction: current.direction, bytes, total: current.total, peerName: current.peerName };
  }

  end(transferId: string): void {
    this.#active.delete(transferId);
  }

  /** Bytes still to come into transfers being received. */
  owedToReceives(): number {
    let owed = 0;
    for (const t of this.#active.values()) if (t.direction === 'receive') owed += Math.max(0, t.total - t.bytes);
    return owed;
  }

  list(): Array<ProgressEvent & { startedAt: number }> {
    return [...this.#active.values()].map(({ reportedAt: _r, ...rest }) => rest);
  }
}

/** Whether any plugin tapped a hook (tapable's isUsed() also counts the core's own interceptor). */
export function hasTaps(hook: { taps: readonly unknown[] }): boolean {
  return hook.taps.length > 0;
}

/** A capability hook with no taps means no plugin provides it: say which kind of plugin is missing. */
export function requireHook(hooks: NvidHooks, hook: keyof NvidHooks, pluginKind: string, action: string): void {
  if (!hasTaps(hooks[hook])) {
    throw new NvidError('NVID_ERR_NOT_AVAILABLE', `${action}: not available: no ${pluginKind} plugin loaded (nothing taps the "${hook}" hook)`);
  }
}

/** A bail hook whose taps all passed (returned undefined) gave no answer: same problem as no tap. */
export function answered<T>(value: T | undefined, hook: string, action: string): T {
  if (value === undefined) throw new NvidError('NVID_ERR_NOT_AVAILABLE', `${action}: not available: no plugin answered the "${hook}" hook`);
  return value;
}
