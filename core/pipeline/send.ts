/**
 * The sending half of the data flow: file -> validate -> seal -> deliver.
 * Reports success only when the receiver acknowledged a verified, stored copy.
 */
import { randomUUID } from 'node:crypto';
import { statSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { asNvidError, NvidError } from '../errors.js';
import type { DeliveryReceipt, MediaInfo, TransferMeta } from '../types.js';
import { answered, requireHook, type PipelineContext } from './context.js';

export interface SendResult {
  readonly transferId: string;
  readonly to: { readonly id: string; readonly name: string };
  readonly file: string;
  readonly size: number;
  readonly sha256: string;
  readonly media: MediaInfo;
  readonly receipt: DeliveryReceipt;
  readonly seconds: number;
}

function statRegularFile(path: string): number {
  try {
    const stat = statSync(path);
    if (stat.isFile()) return stat.size;
  } catch {
    // fall through to the one clear message below
  }
  throw new NvidError('NVID_ERR_FILE_NOT_FOUND', `${path}: no such regular file`);
}

export async function sendFile(ctx: PipelineContext, file: string, to: string): Promise<SendResult> {
  const path = resolve(file);
  const started = Date.now();
  let stage = 'send';
  let meta: TransferMeta | undefined;
  try {
    const size = statRegularFile(path);
    requireHook(ctx.hooks, 'deliver', 'transport', 'cannot send');
    requireHook(ctx.hooks, 'seal', 'crypto', 'cannot send');
    requireHook(ctx.hooks, 'validate', 'media', 'cannot send');
    const peer = ctx.peers.resolve(to);

    stage = 'validate';
    const media = answered(await ctx.hooks.validate.promise({ path, side: 'send' }), 'validate', 'cannot send');

    meta = Object.freeze({
      transferId: randomUUID(),
      senderId: ctx.identity.id,
      receiverId: peer.id,
      time: Date.now(),
      size,
      mediaType: media.kind,
      fileName: basename(path),
    });
    stage = 'seal';
    const envelope = answered(await ctx.hooks.seal.promise({ path, recipient: peer, meta }), 'seal', 'cannot send');

    stage = 'deliver';
    const total = envelope.length ?? size;
    ctx.transfers.begin({ transferId: meta.transferId, direction: 'send', bytes: 0, total, peerName: peer.name });
    const transferId = meta.transferId;
    const receipt = answered(
      await ctx.hooks.deliver.promise({
        peer,
        meta,
        envelope,
        onProgress: (bytes) => {
          const event = ctx.transfers.update(transferId, bytes);
          if (event) ctx.hooks.progress.call(event);
        },
      }),
      'deliver',
      'cannot send',
    );
    // The envelope's authenticated chunks already prove the receiver decrypted exactly these bytes
    // (it acknowledges only after the final chunk verified), so the sender does not hash the file again.
    if (receipt.transferId !== meta.transferId || receipt.receiverId !== peer.id || !/^[0-9a-f]{64}$/.test(receipt.sha256)) {
      throw new NvidError('NVID_ERR_DELIVERY', `the receiver's acknowledgement does not match what was sent (transfer ${meta.transferId})`);
    }
    const { sha256 } = receipt;
    ctx.transfers.end(meta.transferId);
    const result: SendResult = { transferId: meta.transferId, to: { id: peer.id, name: peer.name }, file: path, size, sha256, media, receipt, seconds: (Date.now() - started) / 1000 };
    ctx.history.append('sent', { transferId: meta.transferId, to: peer.id, toName: peer.name, path, size, sha256, storedAs: receipt.storedAs });
    await ctx.hooks.sent.promise({ meta, peer, receipt, path });
    return result;
  } catch (err) {
    if (meta) ctx.transfers.end(meta.transferId);
    const error = asNvidError(err, 'NVID_ERR_DELIVERY');
    ctx.history.append('failed', { stage, code: error.code, reason: error.message, path, to, transferId: meta?.transferId });
    await ctx.hooks.rejected.promise({ stage, code: error.code, reason: error.message, path, ...(meta ? { meta } : {}) }).catch(() => undefined);
    throw error;
  }
}
