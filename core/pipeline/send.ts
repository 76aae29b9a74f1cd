/**
 * The sending half of the data flow: file -> validate -> seal -> deliver.
 * Reports success only when the receiver acknowledged a verified, stored copy.
 * The caller learns the transfer ID and size before any byte moves
 * (`onStart`), follows the bytes (`onProgress`) and can cancel (`signal`).
 * In two steps, so a send to several peers (send-group.ts) checks the file
 * once (`prepareSend`), seals it once for all of them and delivers that
 * envelope to each (`deliverSealed`); a one-recipient send seals and
 * delivers in one go (`deliverPrepared`).
 */
import { randomUUID } from 'node:crypto';
import { statSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { asNvidError, NvidError } from '../errors.js';
import type { DeliveryReceipt, GrowingFile, MediaInfo, Peer, SealedEnvelope, SendOptions, SendResult, SendStage, TransferMeta } from '../types.js';
import type { PipelineContext } from './context.js';
import { answered, requireHook } from './hook-checks.js';
import { certifiedPeers } from './certified-peers.js';
import { RateMeter } from './rate-meter.js';

function statRegularFile(path: string): number {
  try {
    const stat = statSync(path);
    if (stat.isFile()) return stat.size;
  } catch {
    // fall through to the one clear message below
  }
  throw new NvidError('NVID_ERR_FILE_NOT_FOUND', `${path}: no such regular file`);
}

export function cancelled(path: string): NvidError {
  return new NvidError('NVID_ERR_CANCELLED', `the send of ${basename(path)} was cancelled`);
}

export function throwIfCancelled(signal: AbortSignal | undefined, path: string): void {
  if (signal?.aborted) throw cancelled(path);
}

/** A file checked for sending: what every recipient's send starts from. */
export interface PreparedSend {
  readonly path: string;
  readonly size: number;
  /** Absent while the file is still arriving: then `check` gives it once the file is whole (send-arriving.ts). */
  readonly media?: MediaInfo;
  readonly check?: Promise<MediaInfo>;
  /** How long the media check took before sealing (absent when it ran while the file arrived). */
  readonly checkMs?: number;
}

/** A file checked before any byte of it is sealed. */
export type CheckedSend = PreparedSend & { readonly media: MediaInfo };

/** A failed send step, with where it failed, so the caller can write it down. */
export class SendStepError extends Error {
  constructor(
    readonly error: NvidError,
    readonly stage: SendStage,
    readonly meta: TransferMeta | undefined,
  ) {
    super(error.message);
  }
}

/** Records a failed send (history and the sendFailed event) and returns the error to throw. */
export async function recordSendFailure(ctx: PipelineContext, path: string, to: string, failure: SendStepError, extra: Record<string, unknown> = {}): Promise<NvidError> {
  const { error, stage, meta } = failure;
  ctx.history.append('send-failed', { stage, code: error.code, reason: error.message, path, to, ...extra, transferId: meta?.transferId });
  await ctx.hooks.sendFailed.promise({ stage, code: error.code, reason: error.message, path, to, ...(meta ? { meta } : {}) }).catch(() => undefined);
  return error;
}

/** Checks the file once (a regular file, the hooks it needs, the media rules), before any recipient. */
export async function prepareSend(ctx: PipelineContext, path: string, signal: AbortSignal | undefined, resolveRecipients: () => Peer[]): Promise<{ prepared: CheckedSend; recipients: Peer[] }> {
  let stage: SendStage = 'send';
  try {
    throwIfCancelled(signal, path);
    const size = statRegularFile(path);
    requireHook(ctx.hooks, 'deliver', 'transport', 'cannot send');
    requireHook(ctx.hooks, 'seal', 'crypto', 'cannot send');
    requireHook(ctx.hooks, 'validate', 'media', 'cannot send');
    const recipients = resolveRecipients();

    stage = 'validate';
    const checkStarted = Date.now();
    const media = answered(await ctx.hooks.validate.promise({ path, side: 'send' }), 'validate', 'cannot send');
    throwIfCancelled(signal, path);
    return { prepared: { path, size, media, checkMs: Date.now() - checkStarted }, recipients };
  } catch (err) {
    throw new SendStepError(signal?.aborted ? cancelled(path) : asNvidError(err, 'NVID_ERR_DELIVERY'), stage, undefined);
  }
}

/**
 * Seals and delivers a checked file to one recipient and records the `sent` entry and event.
 * Throws a SendStepError (not yet recorded: the caller records it under the target it was given).
 */
export async function deliverPrepared(ctx: PipelineContext, prepared: PreparedSend, peer: Peer, options: SendOptions = {}, started = Date.now(), growing?: GrowingFile): Promise<SendResult> {
  const { path, size, media } = prepared;
  const { signal } = options;
  let meta: TransferMeta | undefined;
  try {
    throwIfCancelled(signal, path);
    meta = Object.freeze({
      transferId: randomUUID(),
      senderId: ctx.identity.id,
      receiverId: peer.id,
      time: Date.now(),
      size,
      mediaType: media?.kind ?? options.arriving!.kind,
      fileName: basename(path),
    });
    const [recipient] = await certifiedPeers(ctx, [peer], signal);
    const envelope = answered(await ctx.hooks.seal.promise({ path, recipient: recipient!, meta, ...(growing ? { growing } : {}) }), 'seal', 'cannot send');
    if (signal?.aborted) {
      envelope.stream.destroy();
      throw cancelled(path);
    }
    return await deliverSealed(ctx, prepared, peer, meta, envelope, options, started);
  } catch (err) {
    if (err instanceof SendStepError) throw err;
    throw new SendStepError(signal?.aborted ? cancelled(path) : asNvidError(err, 'NVID_ERR_DELIVERY'), 'seal', meta);
  }
}

/**
 * Checks a receipt against what was sent, then records the `sent` entry and event.
 * `started` is when the send began, `delivering` when its first byte could go.
 */
export async function recordDelivered(
  ctx: PipelineContext,
  prepared: PreparedSend,
  peer: Peer,
  meta: TransferMeta,
  receipt: DeliveryReceipt,
  times: { readonly started: number; readonly delivering: number },
  extra: Record<string, unknown> = {},
): Promise<SendResult> {
  const { path, size } = prepared;
  const { transferId } = meta;
  // The envelope's authenticated chunks already prove the receiver decrypted exactly these bytes
  // (it acknowledges only after the final chunk verified), so the sender does not hash the file again.
  if (receipt.transferId !== transferId || receipt.receiverId !== peer.id || !/^[0-9a-f]{64}$/.test(receipt.sha256)) {
    throw new NvidError('NVID_ERR_DELIVERY', `the receiver's acknowledgement does not match what was sent (transfer ${transferId})`);
  }
  const { sha256 } = receipt;
  // An arriving file's last chunk left only after its check passed, so this has settled.
  const media = prepared.media ?? (await prepared.check!);
  const checkMs = prepared.checkMs ?? 0;
  // Where the time went, for `nvid send --json` and the history: seal is everything between the check and the first byte.
  const stages = { check: checkMs, seal: Math.max(0, times.delivering - times.started - checkMs), deliver: Date.now() - times.delivering };
  const result: SendResult = { transferId, to: { id: peer.id, name: peer.name }, file: path, size, sha256, media, receipt, seconds: (Date.now() - times.started) / 1000, stages };
  ctx.history.append('sent', { transferId, to: peer.id, toName: peer.name, path, size, sha256, storedAs: receipt.storedAs, stages, ...extra });
  await ctx.hooks.sent.promise({ meta, peer, receipt, path });
  return result;
}

/**
 * Delivers an envelope already sealed (for this peer alone, or for a group it is in)
 * to one recipient and records the `sent` entry and event. `meta` is this copy's:
 * its `receiverId` is `peer`. `trackAs` keys the in-flight entry when several
 * deliveries share one transfer ID. Throws a SendStepError, not yet recorded.
 */
export async function deliverSealed(
  ctx: PipelineContext,
  prepared: PreparedSend,
  peer: Peer,
  meta: TransferMeta,
  envelope: SealedEnvelope,
  options: SendOptions = {},
  started = Date.now(),
  trackAs = meta.transferId,
): Promise<SendResult> {
  const { path, size } = prepared;
  const { signal } = options;
  const stage: SendStage = 'deliver';
  const transferId = meta.transferId;
  let tracking = false;
  let stopWatchingAbort = () => {};
  try {
    if (signal?.aborted) {
      envelope.stream.destroy();
      throw cancelled(path);
    }
    // Whatever the transport does with the signal, a destroyed envelope ends the body mid-way,
    // which is what makes the receiver discard its partial file.
    const onAbort = () => envelope.stream.destroy(cancelled(path));
    signal?.addEventListener('abort', onAbort, { once: true });
    stopWatchingAbort = () => signal?.removeEventListener('abort', onAbort);

    const delivering = Date.now();
    const total = envelope.length ?? size;
    ctx.transfers.begin({ transferId, direction: 'send', bytes: 0, total, peerName: peer.name }, trackAs);
    tracking = true;
    options.onStart?.({ transferId, file: path, to: { id: peer.id, name: peer.name }, size, total, ...(prepared.media ? { media: prepared.media } : {}) });
    const rate = new RateMeter(total);
    const receipt = answered(
      await ctx.hooks.deliver.promise({
        peer,
        meta,
        envelope,
        ...(signal ? { signal } : {}),
        onProgress: (bytes) => {
          const event = ctx.transfers.update(trackAs, bytes);
          if (!event) return;
          ctx.hooks.progress.call(event);
          options.onProgress?.({ transferId, to: { id: peer.id, name: peer.name }, ...rate.at(bytes) });
        },
      }),
      'deliver',
      'cannot send',
    );
    ctx.transfers.end(trackAs);
    tracking = false;
    return await recordDelivered(ctx, prepared, peer, meta, receipt, { started, delivering });
  } catch (err) {
    if (tracking) ctx.transfers.end(trackAs);
    // A cancelled send fails in whatever step it was in; the caller asked for it, so say that.
    throw new SendStepError(signal?.aborted ? cancelled(path) : asNvidError(err, 'NVID_ERR_DELIVERY'), stage, meta);
  } finally {
    stopWatchingAbort();
  }
}
