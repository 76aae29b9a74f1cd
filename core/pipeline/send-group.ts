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
import { randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { rm, stat } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { asNvidError, NvidError } from '../errors.js';
import type { GroupSendResult, Peer, RecipientOutcome, SendOptions, SendResult, TransferMeta } from '../types.js';
import type { PipelineContext } from './context.js';
import { answered } from './hook-checks.js';
import { certifiedPeers } from './certified-peers.js';
import { deliverPrepared, deliverSealed, prepareSend, recordSendFailure, SendStepError, type CheckedSend } from './send.js';

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
  if (recipients.length === 1) {
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
  let sealed: SealedFile;
  try {
    sealed = await sealOnce(ctx, prepared, recipients, options.signal);
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

/** An envelope sealed to a temporary file, with its meta (`recipientIds` all of them, `receiverId` the first). */
interface SealedFile {
  readonly file: string;
  readonly length: number;
  readonly meta: TransferMeta;
}

/**
 * Asks the seal hook once for all `recipients` and writes the envelope to
 * `<incoming>/<transferId>.outgoing.part` (owner-only; a crash leaves it to the
 * start-up sweep of `.part` files). Throws a SendStepError at stage `seal`.
 */
async function sealOnce(ctx: PipelineContext, prepared: CheckedSend, recipients: readonly Peer[], signal: AbortSignal | undefined): Promise<SealedFile> {
  const { path, size, media } = prepared;
  const meta: TransferMeta = Object.freeze({
    transferId: randomUUID(),
    senderId: ctx.identity.id,
    receiverId: recipients[0]!.id,
    recipientIds: Object.freeze(recipients.map((p) => p.id)),
    time: Date.now(),
    size,
    mediaType: media.kind,
    fileName: basename(path),
  });
  const file = join(ctx.incomingDir, `${meta.transferId}.outgoing.part`);
  try {
    if (signal?.aborted) throw new NvidError('NVID_ERR_CANCELLED', `the send of ${basename(path)} was cancelled`);
    const certified = await certifiedPeers(ctx, recipients, signal);
    const envelope = answered(await ctx.hooks.seal.promise({ path, recipient: certified[0]!, recipients: certified, meta }), 'seal', 'cannot send');
    await pipeline(envelope.stream, createWriteStream(file, { mode: 0o600, flags: 'wx' }), ...(signal ? [{ signal }] : []));
    const { size: written } = await stat(file);
    if (envelope.length !== undefined && written !== envelope.length) {
      throw new NvidError('NVID_ERR_DELIVERY', `the sealed envelope is ${written} bytes, the seal hook announced ${envelope.length}`);
    }
    return { file, length: written, meta };
  } catch (err) {
    await rm(file, { force: true }).catch(() => undefined);
    const error = signal?.aborted ? new NvidError('NVID_ERR_CANCELLED', `the send of ${basename(path)} was cancelled`) : asNvidError(err, 'NVID_ERR_DELIVERY');
    throw new SendStepError(error, 'seal', meta);
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
