/**
 * Byte progress of the drop folder's own sends, per file, for `nvid status`.
 * Fed by the send API's own callbacks (`onStart`, `onProgress`), which name
 * the file the plugin asked to send.
 */
import type { SendProgress as SendProgressReport, SendStart } from '../../core/types.js';

/** How far one file's current send is. */
export interface FileProgress {
  readonly transferId: string;
  readonly peer: string;
  readonly bytes: number;
  readonly total: number;
  readonly percent: number;
  /** Bytes per second so far. */
  readonly rate: number;
  readonly secondsLeft: number | null;
}

export class SendProgress {
  readonly #byPath = new Map<string, FileProgress>();

  /** A send of `path` started: its transfer ID and size are known. */
  started(path: string, start: SendStart): void {
    this.#byPath.set(path, { transferId: start.transferId, peer: start.to.name, bytes: 0, total: start.total, percent: 0, rate: 0, secondsLeft: null });
  }

  /** Bytes moved in `path`'s current send. */
  update(path: string, report: SendProgressReport): void {
    const current = this.#byPath.get(path);
    if (!current || current.transferId !== report.transferId) return;
    const percent = report.total > 0 ? Math.min(100, Math.floor((100 * report.bytes) / report.total)) : 100;
    this.#byPath.set(path, { ...current, bytes: report.bytes, total: report.total, percent, rate: report.rate, secondsLeft: report.secondsLeft ?? null });
  }

  /** The latest progress of `path`'s current send, if it started. */
  of(path: string): FileProgress | undefined {
    return this.#byPath.get(path);
  }

  /** `path` is no longer being sent. */
  finished(path: string): void {
    this.#byPath.delete(path);
  }
}
