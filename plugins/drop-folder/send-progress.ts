/**
 * Byte progress of the drop folder's own sends, per file, for `nvid status`.
 * The core's progress events name a transfer, not a file; the `seal` request
 * names both, so the plugin notes which transfer carries which file there.
 */
import type { ProgressEvent } from '../../core/types.js';

/** How far one file's current send is. */
export interface FileProgress {
  readonly transferId: string;
  readonly peer: string;
  readonly bytes: number;
  readonly total: number;
  readonly percent: number;
}

export class SendProgress {
  readonly #transferOf = new Map<string, string>();
  readonly #pathOf = new Map<string, string>();
  readonly #latest = new Map<string, ProgressEvent>();

  /** A send of `path` started as transfer `transferId` (seen in the `seal` request). */
  started(path: string, transferId: string): void {
    this.finished(path);
    this.#transferOf.set(path, transferId);
    this.#pathOf.set(transferId, path);
  }

  /** A progress event from the core; ignored unless it is one of ours. */
  update(event: ProgressEvent): void {
    if (event.direction === 'send' && this.#pathOf.has(event.transferId)) this.#latest.set(event.transferId, event);
  }

  /** The latest progress of `path`'s current send, if it reported any. */
  of(path: string): FileProgress | undefined {
    const transferId = this.#transferOf.get(path);
    const event = transferId === undefined ? undefined : this.#latest.get(transferId);
    if (!event) return undefined;
    const percent = event.total > 0 ? Math.min(100, Math.floor((100 * event.bytes) / event.total)) : 100;
    return { transferId: event.transferId, peer: event.peerName, bytes: event.bytes, total: event.total, percent };
  }

  /** `path` is no longer being sent. */
  finished(path: string): void {
    const transferId = this.#transferOf.get(path);
    if (transferId === undefined) return;
    this.#latest.delete(transferId);
    this.#pathOf.delete(transferId);
    this.#transferOf.delete(path);
  }
}
