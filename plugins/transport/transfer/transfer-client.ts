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
import type { DeliveryReceipt } from '../../../core/types.js';
import { OutgoingDelivery, type DeliverEnvelopeOptions } from './outgoing-delivery.js';

export type { DeliverEnvelopeOptions } from './outgoing-delivery.js';

/** Delivers one envelope; resolves with the receiver's receipt, rejects with an NvidError. Each call is its own OutgoingDelivery. */
export function deliverEnvelope(options: DeliverEnvelopeOptions): Promise<DeliveryReceipt> {
  return new OutgoingDelivery(options).run();
}
