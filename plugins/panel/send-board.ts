/**
 * The panel's sends: one per (upload, peer), each through the host's send
 * API, at most `concurrency` at a time and the rest waiting in order. Keeps
 * the running and waiting ones and the last `keepFinished` finished ones for
 * `GET /api/sends`, and tells `onChange` about every start, progress (at most
 * five times a second per send) and end, for the live events.
 */
import { randomBytes } from 'node:crypto';
import { asNvidError } from '../../core/errors.js';
import type { ArrivingFile, SendOptions, SendResult } from '../../core/types.js';
import type { Upload } from './upload-store.js';

export type SendState = 'waiting' | 'sending' | 'sent' | 'failed' | 'cancelled';

/** A send as the API shows it (API.md, `Send`). Times are milliseconds since the epoch. */
export interface PanelSend {
  readonly id: string;
  readonly upload: { readonly id: string; readonly name: string; readonly size: number };
  readonly to: { readonly id: string; readonly name: string };
  state: SendState;
  transferId?: string;
  bytes: number;
  total: number;
  rate: number;
  secondsLeft?: number;
  receipt?: { storedAs: string; sha256: string };
  error?: { code: string; message: string };
  readonly startedAt: number;
  endedAt?: number;
}

export interface SendBoardPort {
  /** The host's send. */
  send(file: string, to: string, options: SendOptions): Promise<SendResult>;
  /** A send started, moved or ended. */
  changed(send: PanelSend): void;
  /** No send of this upload is running or waiting any more: its file may go. */
  uploadIdle(uploadId: string): void;
}

const PROGRESS_INTERVAL_MS = 200;

interface Entry {
  readonly send: PanelSend;
  readonly file: string;
  /** Set when the upload is announced: its bytes may still be coming when the send starts. */
  readonly arrival: ArrivingFile | undefined;
  readonly abort: AbortController;
  lastReported: number;
}

export class SendBoard {
  readonly #port: SendBoardPort;
  readonly #concurrency: number;
  readonly #keepFinished: number;
  /** Running and waiting sends, in the order they were asked for. */
  readonly #active = new Map<string, Entry>();
  /** Finished sends, oldest first. */
  readonly #finished: PanelSend[] = [];
  #running = 0;

  constructor(port: SendBoardPort, concurrency: number, keepFinished = 50) {
    this.#port = port;
    this.#concurrency = concurrency;
    this.#keepFinished = keepFinished;
  }

  /** One send of `upload` to each peer, started at once as far as the concurrency allows. */
  add(upload: Upload, to: ReadonlyArray<{ id: string; name: string }>): PanelSend[] {
    const sends = to.map((peer) => {
      const send: PanelSend = {
        id: randomBytes(8).toString('hex'),
        upload: { id: upload.id, name: upload.name, size: upload.size },
        to: { id: peer.id, name: peer.name },
        state: 'waiting',
        bytes: 0,
        total: upload.size,
        rate: 0,
        startedAt: Date.now(),
      };
      this.#active.set(send.id, { send, file: upload.path, arrival: upload.arrival, abort: new AbortController(), lastReported: 0 });
      return send;
    });
    for (const send of sends) this.#port.changed(send);
    this.#pump();
    return sends;
  }

  /** Running, then waiting, then the finished ones newest first. */
  list(): PanelSend[] {
    const active = [...this.#active.values()].map((e) => e.send);
    return [...active.filter((s) => s.state === 'sending'), ...active.filter((s) => s.state === 'waiting'), ...[...this.#finished].reverse()];
  }

  /** Whether an upload has a send running or waiting. */
  busy(uploadId: string): boolean {
    for (const { send } of this.#active.values()) if (send.upload.id === uploadId) return true;
    return false;
  }

  /** Cancels a waiting or running send; false for an unknown id. A finished one stays as it ended. */
  cancel(id: string): boolean {
    const entry = this.#active.get(id);
    if (!entry) return this.#finished.some((s) => s.id === id);
    if (entry.send.state === 'waiting') this.#finish(entry, 'cancelled', { error: { code: 'NVID_ERR_CANCELLED', message: 'cancelled before it started' } });
    else entry.abort.abort();
    return true;
  }

  /** Cancels everything (the node stops); resolves once the running sends have ended. */
  async close(): Promise<void> {
    const running = [...this.#active.values()];
    for (const entry of running) this.cancel(entry.send.id);
    const deadline = Date.now() + 5000;
    while (this.#running > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  }

  #pump(): void {
    for (const entry of this.#active.values()) {
      if (this.#running >= this.#concurrency) return;
      if (entry.send.state === 'waiting') void this.#run(entry);
    }
  }

  async #run(entry: Entry): Promise<void> {
    const { send } = entry;
    send.state = 'sending';
    this.#running++;
    this.#port.changed(send);
    try {
      const { arrival } = entry;
      const result = await this.#port.send(entry.file, send.to.id, {
        signal: entry.abort.signal,
        // Still arriving: the send starts with the bytes there are (and fails if they stop).
        ...(arrival && arrival.written() < arrival.size ? { arriving: arrival } : {}),
        onStart: (start) => {
          send.transferId = start.transferId;
          send.total = start.total;
          this.#port.changed(send);
        },
        onProgress: (progress) => {
          send.bytes = progress.bytes;
          send.total = progress.total;
          send.rate = progress.rate;
          if (progress.secondsLeft === undefined) delete send.secondsLeft;
          else send.secondsLeft = progress.secondsLeft;
          const now = Date.now();
          // The host reports at most every 200 ms already; this keeps the promise to the page whatever the host does.
          if (now - entry.lastReported < PROGRESS_INTERVAL_MS) return;
          entry.lastReported = now;
          this.#port.changed(send);
        },
      });
      send.bytes = send.total;
      this.#finish(entry, 'sent', { receipt: { storedAs: result.receipt.storedAs, sha256: result.receipt.sha256 } });
    } catch (err) {
      const error = asNvidError(err, 'NVID_ERR_DELIVERY');
      this.#finish(entry, error.code === 'NVID_ERR_CANCELLED' ? 'cancelled' : 'failed', { error: { code: error.code, message: error.message } });
    } finally {
      this.#running--;
      this.#pump();
    }
  }

  #finish(entry: Entry, state: SendState, outcome: Pick<PanelSend, 'receipt' | 'error'>): void {
    const { send } = entry;
    send.state = state;
    send.endedAt = Date.now();
    delete send.secondsLeft;
    if (outcome.receipt) send.receipt = outcome.receipt;
    if (outcome.error) send.error = outcome.error;
    this.#active.delete(send.id);
    this.#finished.push(send);
    if (this.#finished.length > this.#keepFinished) this.#finished.splice(0, this.#finished.length - this.#keepFinished);
    this.#port.changed(send);
    if (!this.busy(send.upload.id)) this.#port.uploadIdle(send.upload.id);
  }
}
