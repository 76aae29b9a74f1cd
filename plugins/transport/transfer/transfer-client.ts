/**
 * The sending end of direct delivery: connect straight to the receiver,
 * check its certificate IS the target peer's ID, send an opaque transfer
 * header, stream the sealed envelope with backpressure, and wait for the
 * receiver's ack (delivered) or error frame (refused). The body goes raw on
 * the bulk channel when the envelope's length is known and the receiver
 * agrees, else as data frames inside TLS.
 *
 * The steps live in OutgoingDelivery (outgoing-delivery.ts); the body goes
 * out through bulk-sender.ts or framed-body-sender.ts.
 */
import type { Readable } from 'node:stream';
import type { DeliveryReceipt, Identity, Peer } from '../../../core/types.js';
import type { FrameLimits } from '../wire/frame-codec.js';
import type { BulkChannelMode } from './bulk-channel.js';
import { OutgoingDelivery } from './outgoing-delivery.js';

export interface DeliverEnvelopeOptions {
  readonly identity: Identity;
  readonly peer: Peer;
  readonly transferId: string;
  readonly envelope: Readable;
  /** The envelope's exact length, when the sealer knows it: needed for the bulk channel. */
  readonly length?: number;
  /** `tcp` (default): offer the bulk channel when `length` is known; `tls`: always send the body inside TLS. */
  readonly bulkChannel?: BulkChannelMode;
  readonly onProgress?: (sentBytes: number) => void;
  readonly connectTimeoutMs: number;
  /** How long to wait for the receiver's verdict once the whole body is sent. */
  readonly ackTimeoutMs: number;
  readonly limits: FrameLimits;
}

/** Delivers one envelope; resolves with the receiver's receipt, rejects with an NvidError. Each call is its own OutgoingDelivery. */
export function deliverEnvelope(options: DeliverEnvelopeOptions): Promise<DeliveryReceipt> {
  return new OutgoingDelivery(options).run();
}
