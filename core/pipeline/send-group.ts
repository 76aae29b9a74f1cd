/**
 * A send to several peers (`--to lobby,kitchen`, `tag:floor-2`, `all`): the
 * file is checked once, then delivered to each recipient, a few at a time,
 * each with its own envelope, progress, receipt or refusal and history entry;
 * one `group-sent` entry names the targets and the counts.
 *
 * The per-recipient loop lives only in `deliverToEach`: a multi-recipient
 * envelope (seal once, wrap the key per recipient) replaces that function.
 */
import { resolve } from 'node:path';
import { asNvidError } from '../errors.js';
import type { GroupSendResult, Peer, RecipientOutcome, SendOptions } from '../types.js';
import type { PipelineContext } from './context.js';
import { deliverPrepared, prepareSend, recordSendFailure, SendStepError, type PreparedSend } from './send.js';

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
  let checked: { prepared: PreparedSend; recipients: Peer[] };
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

/** One envelope per recipient, at most `concurrency` at once; every recipient gets an outcome, in the order given. */
async function deliverToEach(ctx: PipelineContext, prepared: PreparedSend, recipients: readonly Peer[], options: SendOptions, concurrency: number): Promise<RecipientOutcome[]> {
  const outcomes = new Array<RecipientOutcome>(recipients.length);
  let next = 0;
  const worker = async () => {
    while (next < recipients.length) {
      const index = next++;
      const peer = recipients[index]!;
      const to = { id: peer.id, name: peer.name };
      try {
        const sent = await deliverPrepared(ctx, prepared, peer, options);
        outcomes[index] = { outcome: 'sent', to, transferId: sent.transferId, sha256: sent.sha256, storedAs: sent.receipt.storedAs, seconds: sent.seconds };
      } catch (err) {
        const failure = err instanceof SendStepError ? err : new SendStepError(asNvidError(err, 'NVID_ERR_DELIVERY'), 'deliver', undefined);
        const error = await recordSendFailure(ctx, prepared.path, peer.id, failure, { toName: peer.name });
        outcomes[index] = {
          outcome: 'failed',
          to,
          ...(failure.meta ? { transferId: failure.meta.transferId } : {}),
          stage: failure.stage,
          error: { code: error.code, message: error.message },
        };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, recipients.length)) }, worker));
  return outcomes;
}
