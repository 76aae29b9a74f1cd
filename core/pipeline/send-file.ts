/**
 * `nvid send FILE --to PEER`: one file to one peer. A small file is sealed
 * and streamed in one go (send.ts); a large one is sealed to the outbox
 * first and delivered through `deliverShared` (send-shared.ts), so a broken
 * link or a restart resumes instead of starting over.
 */
import { resolve } from 'node:path';
import type { SendOptions, SendResult } from '../types.js';
import type { PipelineContext } from './context.js';
import { deliverPrepared, prepareSend, recordSendFailure, SendStepError } from './send.js';
import { deliverSharedEnvelope, usesSharedDelivery } from './send-shared.js';

export async function sendFile(ctx: PipelineContext, file: string, to: string, options: SendOptions = {}): Promise<SendResult> {
  const path = resolve(file);
  const started = Date.now();
  try {
    const { prepared, recipients } = await prepareSend(ctx, path, options.signal, () => [ctx.peers.resolve(to)]);
    if (usesSharedDelivery(ctx, prepared.size, 1)) {
      // A large file: sealed to the outbox first, so a broken link or a restart resumes instead of starting over.
      const [result] = await deliverSharedEnvelope(ctx, prepared, recipients, options, started);
      if (result instanceof SendStepError) throw result;
      return result!;
    }
    return await deliverPrepared(ctx, prepared, recipients[0]!, options, started);
  } catch (err) {
    if (!(err instanceof SendStepError)) throw err;
    throw await recordSendFailure(ctx, path, to, err);
  }
}

