/**
 * A receiver that vanishes in the middle of a body (killed, crashed, its
 * machine switched off) shows up at the sender as a reset or closed socket:
 * "read ECONNRESET" says nothing to the person who pressed send. Once body
 * bytes have left, a failed connection means the receiver went away, so the
 * sender says that, with how far it got, under a code of its own.
 */
import { formatBytes as size } from '../../../core/byte-size.js';
import { NvidError } from '../../../core/errors.js';

/** Follows one delivery's progress; turns a connection failure after the body started into NVID_ERR_RECEIVER_GONE. */
export class ReceiverGoneDetector {
  #sent = 0;
  readonly #total: number | undefined;
  readonly #peerName: string;

  constructor(peerName: string, total: number | undefined) {
    this.#peerName = peerName;
    this.#total = total;
  }

  /** Bytes of the envelope handed to the connection so far. */
  progress(sent: number): void {
    this.#sent = sent;
  }

  explain(err: unknown): unknown {
    if (!(err instanceof NvidError) || err.code !== 'NVID_ERR_CONNECTION' || this.#sent === 0) return err;
    const of = this.#total !== undefined ? ` of ${size(this.#total)}` : '';
    return new NvidError('NVID_ERR_RECEIVER_GONE', `the receiver (${this.#peerName}) closed the connection after ${size(this.#sent)}${of} (${err.message})`, {
      cause: err,
      details: { sentBytes: this.#sent, ...(this.#total !== undefined ? { totalBytes: this.#total } : {}) },
    });
  }
}
