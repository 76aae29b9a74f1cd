/**
 * Sending a file while it is still being written (`SendOptions.arriving`,
 * e.g. a panel upload): the send starts with the first bytes instead of
 * after the last, so an upload and its send overlap instead of adding up.
 *
 * The checks stay whole. The sender cannot run its media check on half a
 * file, so the envelope is sealed as the bytes land but its final chunk is
 * held back (ArrivalGate) until the file is whole and the check has
 * passed, and the check must agree with the kind the writer announced (it is
 * signed into the header before the file is whole). A file that fails, or
 * stops arriving, destroys the envelope mid-way: the receiver never sees a
 * final chunk and discards what it had, as with any cut transfer. The
 * receiver's own checks run as always.
 */
import { basename } from 'node:path';
import { asNvidError, NvidError } from '../errors.js';
import type { ArrivingFile, MediaInfo, Peer, SendOptions, SendResult, SendStage } from '../types.js';
import { ArrivalGate } from './arrival-gate.js';
import type { PipelineContext } from './context.js';
import { answered, requireHook } from './hook-checks.js';
import { cancelled, deliverPrepared, recordSendFailure, SendStepError, throwIfCancelled } from './send.js';

/** Why the file's own part failed: it stopped arriving, or its check refused it. */
class ArrivalFailure extends Error {
  constructor(
    readonly error: NvidError,
    readonly stage: SendStage,
  ) {
    super(error.message);
  }
}

const article = (kind: string) => (kind === 'image' ? 'an image' : `a ${kind}`);

/** Waits for the whole file, then runs the media check on it; never runs it once the send is over. */
async function checkWhenWhole(ctx: PipelineContext, path: string, arriving: ArrivingFile, over: AbortSignal): Promise<MediaInfo> {
  try {
    await arriving.waitBeyond(arriving.size - 1);
  } catch (err) {
    throw new ArrivalFailure(asNvidError(err, 'NVID_ERR_FILE_NOT_FOUND'), 'send');
  }
  if (over.aborted) throw new ArrivalFailure(cancelled(path), 'validate');
  try {
    const media = answered(await ctx.hooks.validate.promise({ path, side: 'send' }), 'validate', 'cannot send');
    if (media.kind !== arriving.kind) {
      throw new NvidError('NVID_ERR_MEDIA_REJECTED', `${basename(path)} was announced as ${article(arriving.kind)} but is ${article(media.kind)}`);
    }
    return media;
  } catch (err) {
    throw new ArrivalFailure(asNvidError(err, 'NVID_ERR_MEDIA_REJECTED'), 'validate');
  }
}

export async function sendArriving(ctx: PipelineContext, path: string, to: string, options: SendOptions, arriving: ArrivingFile): Promise<SendResult> {
  const started = Date.now();
  const { signal } = options;
  const over = new AbortController();
  const gate = new ArrivalGate(arriving);
  let arrivalFailure: ArrivalFailure | undefined;
  try {
    let peer: Peer;
    try {
      throwIfCancelled(signal, path);
      requireHook(ctx.hooks, 'deliver', 'transport', 'cannot send');
      requireHook(ctx.hooks, 'seal', 'crypto', 'cannot send');
      requireHook(ctx.hooks, 'validate', 'media', 'cannot send');
      peer = ctx.peers.resolve(to);
    } catch (err) {
      throw new SendStepError(signal?.aborted ? cancelled(path) : asNvidError(err, 'NVID_ERR_DELIVERY'), 'send', undefined);
    }
    const check = checkWhenWhole(ctx, path, arriving, over.signal).then(
      (media) => {
        gate.release();
        return media;
      },
      (err: ArrivalFailure) => {
        arrivalFailure = err;
        // Ends the envelope before its final chunk: the receiver discards its partial file.
        gate.fail(err.error);
        throw err;
      },
    );
    // Settled here or in deliverSealed; a failure is reported through `arrivalFailure`.
    check.catch(() => undefined);
    return await deliverPrepared(ctx, { path, size: arriving.size, check }, peer, options, started, gate);
  } catch (err) {
    over.abort();
    gate.fail(cancelled(path));
    let failure = err instanceof SendStepError ? err : new SendStepError(asNvidError(err, 'NVID_ERR_DELIVERY'), 'deliver', undefined);
    // The envelope broke because the file did: say why the file did, not that the envelope broke.
    if (arrivalFailure && !signal?.aborted) failure = new SendStepError(arrivalFailure.error, arrivalFailure.stage, failure.meta);
    throw await recordSendFailure(ctx, path, to, failure);
  }
}
