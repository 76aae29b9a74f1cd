/**
 * A send to several peers (`--to lobby,kitchen`, `tag:floor-2`, `all`): the
 * file is checked once and sealed once, for all of them (one multi-recipient
 * envelope: the body encrypted once, the key wrapped per recipient, one signed
 * recipient list), into a temporary file in the state folder; then that same
 * envelope is streamed to each recipient, a few at a time, each with its own
 * progress, receipt or refusal and history entry; one `group-sent` entry
 * names the targets and the counts. A group of one seals and streams as a
 * one-recipient send does.
 */
import { createReadStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { resolve } from 'node:path';
import { asNvidError } from '../errors.js';
import type { GroupSendResult, Peer, RecipientOutcome, SendOptions, SendResult, TransferMeta } from '../types.js';
import type { PipelineContext } from './context.js';
import { deliverPrepared, deliverSealed, prepareSend, recordSendFailure, SendStepError, type CheckedSend } from './send.js';
import { deliverSharedEnvelope, scratchEnvelope, sealOnce, usesSharedDelivery, type SealedFile } from './send-shared.js';

/** Recipients sent to at the same time: enough to overlap round trips, few enough not to split a slow uplink into slivers. */
export const GROUP_SEND_CONCURRENCY = 4;

export interface GroupSendContext extends PipelineContext {
  /** The peers a target names (PeerTable.resolveTargets). */
  resolveTargets(spec: string): Peer[];
}

/** Sends `file` to every peer `targets` names; see PluginHost.sendGroup. */
export async function sendToGroup(ctx: GroupSendContext, file: string, targets: string, options: SendOptions = {}, concurrency = GROUP_SEND_CONCURRENCY): Promise<GroupSendResult> {
  const path = resolve(file);
  const started = Date.now();
  let checked: { prepared: CheckedSend; recipients: Peer[] };
  try {
    checked = await prepareSend(ctx, path, options.signal, () => ctx.resolveTargets(targets));
  } catch (err) {
    if (!(err instanceof SendStepError)) throw err;
    throw await recordSendFailure(ctx, path, targets, err);
  }
  const { prepared, recipients } = checked;
  const results = await deliverToEach(ctx, prepared, recipients, options, concurrency);
  const delivered = results.filter((r) => r.outcome === 'sent').length;
  const result: GroupSendResult = {
    targets,
    file: path,
    size: prepared.size,
    media: prepared.media,
    delivered,
    failed: results.length - delivered,
    results,
    seconds: (Date.now() - started) / 1000,
  };
  ctx.history.append('group-sent', {
    targets,
    path,
    size: prepared.size,
    recipients: results.length,
    delivered,
    failed: result.failed,
    to: results.map((r) => ({ id: r.to.id, name: r.to.name, outcome: r.outcome, ...(r.transferId ? { transferId: r.transferId } : {}) })),
  });
  return result;
}

/** Recipients one envelope can carry (the crypto README's limit); larger groups get one envelope per 64. */
export const MAX_ENVELOPE_RECIPIENTS = 64;

/** Read size when streaming the sealed envelope file to a recipient (fewer, larger socket writes; the sealer reads 1 MiB at a time too). */
const SEALED_READ_BYTES = 1024 * 1024;

/** Seals once per (up to) 64 recipients and delivers that envelope to each; every recipient gets an outcome, in the order given. */
async function deliverToEach(ctx: PipelineContext, prepared: CheckedSend, recipients: readonly Peer[], options: SendOptions, concurrency: number): Promise<RecipientOutcome[]> {
  if (recipients.length === 1 && !usesSharedDelivery(ctx, prepared.size, 1)) {
    return [await outcomeOf(ctx, prepared, recipients[0]!, () => deliverPrepared(ctx, prepared, recipients[0]!, options))];
  }
  const outcomes: RecipientOutcome[] = [];
  for (let at = 0; at < recipients.length; at += MAX_ENVELOPE_RECIPIENTS) {
    outcomes.push(...(await deliverOneEnvelope(ctx, prepared, recipients.slice(at, at + MAX_ENVELOPE_RECIPIENTS), options, concurrency)));
  }
  return outcomes;
}

/** One seal for `recipients` (2..64), then the sealed file streamed to each, at most `concurrency` at once. */
async function deliverOneEnvelope(ctx: PipelineContext, prepared: CheckedSend, recipients: readonly Peer[], options: SendOptions, concurrency: number): Promise<RecipientOutcome[]> {
  const started = Date.now();
  if (usesSharedDelivery(ctx, prepared.size, recipients.length)) {
    const results = await deliverSharedEnvelope(ctx, prepared, recipients, options, started);
    const outcomes: RecipientOutcome[] = [];
    for (const [i, peer] of recipients.entries()) {
      const result = results[i]!;
      outcomes.push(await outcomeOf(ctx, prepared, peer, () => (result instanceof SendStepError ? Promise.reject(result) : Promise.resolve(result))));
    }
    return outcomes;
  }
  let sealed: SealedFile;
  try {
    sealed = await sealOnce(ctx, prepared, recipients, options.signal, scratchEnvelope(ctx));
  } catch (err) {
    const failure = err instanceof SendStepError ? err : new SendStepError(asNvidError(err, 'NVID_ERR_DELIVERY'), 'seal', undefined);
    // Nobody can be sent anything: every recipient gets the seal's failure.
    const outcomes: RecipientOutcome[] = [];
    for (const peer of recipients) outcomes.push(await outcomeOf(ctx, prepared, peer, () => Promise.reject(failure)));
    return outcomes;
  }
  try {
    const outcomes = new Array<RecipientOutcome>(recipients.length);
    let next = 0;
    const worker = async () => {
      while (next < recipients.length) {
        const index = next++;
        const peer = recipients[index]!;
        outcomes[index] = await outcomeOf(ctx, prepared, peer, () => {
          const meta: TransferMeta = Object.freeze({ ...sealed.meta, receiverId: peer.id });
          const stream = createReadStream(sealed.file, { highWaterMark: SEALED_READ_BYTES });
          return deliverSealed(ctx, prepared, peer, meta, { stream, length: sealed.length }, options, started, `${meta.transferId}>${peer.id}`);
        });
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, recipients.length)) }, worker));
    return outcomes;
  } finally {
    await rm(sealed.file, { force: true }).catch(() => undefined);
  }
}

/** Runs one recipient's send and turns its result or failure (recorded in history) into an outcome. */
async function outcomeOf(ctx: PipelineContext, prepared: CheckedSend, peer: Peer, send: () => Promise<SendResult>): Promise<RecipientOutcome> {
  const to = { id: peer.id, name: peer.name };
  try {
    const sent = await send();
    return { outcome: 'sent', to, transferId: sent.transferId, sha256: sent.sha256, storedAs: sent.receipt.storedAs, seconds: sent.seconds };
  } catch (err) {
    const failure = err instanceof SendStepError ? err : new SendStepError(asNvidError(err, 'NVID_ERR_DELIVERY'), 'deliver', undefined);
    const error = await recordSendFailure(ctx, prepared.path, peer.id, failure, { toName: peer.name });
    return {
      outcome: 'failed',
      to,
      ...(failure.meta ? { transferId: failure.meta.transferId } : {}),
      stage: failure.stage,
      error: { code: error.code, message: error.message },
    };
  }
}
