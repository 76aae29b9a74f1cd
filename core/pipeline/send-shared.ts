/**
 * Sealing once to a file, and the shared delivery of that file: a group
 * send, or one large file to one peer, is sealed into the outbox
 * (outbox.ts) and handed to the transport's `deliverShared` whole, so the
 * transport can let recipients pass pieces on to each other and resume from
 * what they hold. A retry of the same unchanged file to recipients the
 * envelope lists delivers the same envelope again instead of sealing anew.
 */
import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rm, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { asNvidError, NvidError } from '../errors.js';
import type { Peer, SendOptions, SendResult, TransferMeta } from '../types.js';
import type { PipelineContext } from './context.js';
import { answered, hasTaps } from './hook-checks.js';
import { certifiedPeers } from './certified-peers.js';
import { envelopeFile, findResumable, removeEntry, saveEntry, sweepOutbox } from './outbox.js';
import { RateMeter } from './rate-meter.js';
import { recordDelivered, SendStepError, type CheckedSend } from './send.js';

/** An envelope sealed to a file, with its meta (`recipientIds` all of them, `receiverId` the first). */
export interface SealedFile {
  readonly file: string;
  readonly length: number;
  readonly meta: TransferMeta;
}

/** Whether a send of `size` bytes to `recipients` goes through the outbox and `deliverShared`. */
export function usesSharedDelivery(ctx: PipelineContext, size: number, recipients: number): boolean {
  return hasTaps(ctx.hooks.deliverShared) && (recipients > 1 || size >= ctx.resumableFromBytes);
}

/**
 * Asks the seal hook once for all `recipients` and writes the envelope to `file`
 * (owner-only). Throws a SendStepError at stage `seal`, leaving no file behind.
 */
export async function sealOnce(ctx: PipelineContext, prepared: CheckedSend, recipients: readonly Peer[], signal: AbortSignal | undefined, fileFor: (transferId: string) => string): Promise<SealedFile> {
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
  const file = fileFor(meta.transferId);
  try {
    if (signal?.aborted) throw new NvidError('NVID_ERR_CANCELLED', `the send of ${basename(path)} was cancelled`);
    const certified = await certifiedPeers(ctx, recipients, signal);
    const envelope = answered(await ctx.hooks.seal.promise({ path, recipient: certified[0]!, recipients: certified, meta }), 'seal', 'cannot send');
    await pipeline(envelope.stream, createWriteStream(file, { mode: 0o600, flags: 'wx', highWaterMark: 4 * 1024 * 1024 }), ...(signal ? [{ signal }] : []));
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

/** A temporary file for a sealed envelope that is not kept for resuming (`.part`: the start-up sweep removes it after a crash). */
export function scratchEnvelope(ctx: PipelineContext): (transferId: string) => string {
  return (transferId) => join(ctx.incomingDir, `${transferId}.outgoing.part`);
}

/**
 * Seals (or finds in the outbox) one envelope for `recipients` and delivers it through
 * `deliverShared`. One result per recipient, in order: its SendResult (recorded as `sent`),
 * or a SendStepError not yet recorded (the caller records it under its own target).
 */
export async function deliverSharedEnvelope(ctx: PipelineContext, prepared: CheckedSend, recipients: readonly Peer[], options: SendOptions, started = Date.now()): Promise<(SendResult | SendStepError)[]> {
  const { signal } = options;
  sweepOutbox(ctx.outboxDir, ctx.resumeMaxAgeMs);
  const ids = recipients.map((p) => p.id);
  const kept = findResumable(ctx.outboxDir, prepared.path, ids, ctx.resumeMaxAgeMs);
  let sealed: SealedFile;
  if (kept) {
    sealed = { file: envelopeFile(ctx.outboxDir, kept.transferId), length: kept.length, meta: Object.freeze(kept.meta) };
    ctx.log.info({ transferId: kept.transferId }, `resuming transfer ${kept.transferId} of ${basename(prepared.path)}: the envelope sealed ${Math.round((Date.now() - kept.created) / 1000)} s ago goes again, recipients keep what they hold`);
  } else {
    try {
      sealed = await sealOnce(ctx, prepared, recipients, signal, (id) => envelopeFile(ctx.outboxDir, id));
    } catch (err) {
      const failure = err instanceof SendStepError ? err : new SendStepError(asNvidError(err, 'NVID_ERR_DELIVERY'), 'seal', undefined);
      return recipients.map(() => failure);
    }
    const { mtimeMs } = await stat(prepared.path);
    saveEntry(ctx.outboxDir, { transferId: sealed.meta.transferId, source: { path: prepared.path, size: prepared.size, mtimeMs }, meta: sealed.meta, length: sealed.length, created: Date.now() });
  }
  const { meta } = sealed;
  const delivering = Date.now();
  const trackAs = (peer: Peer) => `${meta.transferId}>${peer.id}`;
  const rates = new Map<string, RateMeter>();
  for (const peer of recipients) {
    ctx.transfers.begin({ transferId: meta.transferId, direction: 'send', bytes: 0, total: sealed.length, peerName: peer.name }, trackAs(peer));
    rates.set(peer.id, new RateMeter(sealed.length));
    options.onStart?.({ transferId: meta.transferId, file: prepared.path, to: { id: peer.id, name: peer.name }, size: prepared.size, total: sealed.length, media: prepared.media });
  }
  const byId = new Map(recipients.map((p) => [p.id, p]));
  let outcomes: Awaited<ReturnType<typeof ctx.hooks.deliverShared.promise>>;
  try {
    outcomes = await ctx.hooks.deliverShared.promise({
      recipients,
      meta,
      envelope: { file: sealed.file, length: sealed.length },
      ...(signal ? { signal } : {}),
      onProgress: (peerId, bytes) => {
        const peer = byId.get(peerId);
        if (!peer) return;
        const event = ctx.transfers.update(trackAs(peer), bytes);
        if (!event) return;
        ctx.hooks.progress.call(event);
        options.onProgress?.({ transferId: meta.transferId, to: { id: peer.id, name: peer.name }, ...rates.get(peerId)!.at(bytes) });
      },
    });
  } catch (err) {
    outcomes = recipients.map((p) => ({ peerId: p.id, error: asNvidError(err, 'NVID_ERR_DELIVERY') }));
  } finally {
    for (const peer of recipients) ctx.transfers.end(trackAs(peer));
  }
  const cancelled = () => new NvidError('NVID_ERR_CANCELLED', `the send of ${basename(prepared.path)} was cancelled`);
  const results: (SendResult | SendStepError)[] = [];
  for (const peer of recipients) {
    const outcome = outcomes?.find((o) => o.peerId === peer.id);
    const own: TransferMeta = Object.freeze({ ...meta, receiverId: peer.id });
    try {
      if (!outcome) throw new NvidError('NVID_ERR_DELIVERY', `the transport gave no outcome for ${peer.name}`);
      if ('error' in outcome) throw outcome.error;
      const extra = { ...(kept ? { resumed: true } : {}), ...(outcome.badSources?.length ? { badSources: outcome.badSources } : {}) };
      results.push(await recordDelivered(ctx, prepared, peer, own, outcome.receipt, { started, delivering }, extra));
    } catch (err) {
      results.push(new SendStepError(signal?.aborted ? cancelled() : asNvidError(err, 'NVID_ERR_DELIVERY'), 'deliver', own));
    }
  }
  if (results.every((r) => !(r instanceof SendStepError))) removeEntry(ctx.outboxDir, meta.transferId);
  else if (signal?.aborted) removeEntry(ctx.outboxDir, meta.transferId);
  else ctx.log.info({ transferId: meta.transferId }, `kept the sealed envelope of ${basename(prepared.path)} in the outbox: sending it again to those it did not reach resumes from what they hold`);
  return results;
}
