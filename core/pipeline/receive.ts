/**
 * The receiving half: accept -> open -> temporary file -> validate -> keep -> display.
 * The plaintext goes to a temporary file that becomes visible in the library
 * only once the crypto plugin verified the last chunk and the media plugin
 * accepted the content; any failure deletes it and records why.
 */
import { createHash } from 'node:crypto';
import { createWriteStream, linkSync, unlinkSync, type WriteStream } from 'node:fs';
import { basename, extname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { assertRoomFor } from '../disk-space.js';
import { asNvidError, NvidError } from '../errors.js';
import type { IncomingTransfer } from '../plugin-api.js';
import type { DeliveryReceipt, MediaInfo, RejectStage, TransferMeta } from '../types.js';
import type { PipelineContext } from './context.js';
import { answered, hasTaps, requireHook } from './hook-checks.js';

const TRANSFER_ID = /^[A-Za-z0-9-]{8,64}$/;

/**
 * Counts and hashes the plaintext as it flows past, and stops a stream that
 * grows past its declared size. An observer of the plaintext's 'data' events
 * rather than one more Transform stage: a stage costs a hop through the
 * stream machinery for every chunk of every transfer.
 */
function measure(plaintext: Readable, limit: number, onBytes: (n: number) => void) {
  const hash = createHash('sha256');
  let bytes = 0;
  plaintext.on('data', (chunk: Buffer) => {
    bytes += chunk.length;
    if (bytes > limit) {
      plaintext.destroy(new NvidError('NVID_ERR_TRAILING_DATA', `plaintext is larger than its declared ${limit} bytes`));
      return;
    }
    hash.update(chunk);
    onBytes(bytes);
  });
  return { digest: () => hash.digest('hex'), bytes: () => bytes };
}

/** The library name for a received file: the sender's (already sanitised) name, made unique. */
function keepInLibrary(ctx: PipelineContext, tmp: string, meta: TransferMeta): string {
  const name = meta.fileName;
  if (!name || basename(name) !== name || name === '.' || name === '..' || /[\u0000-\u001f\u007f]/.test(name)) {
    throw new NvidError('NVID_ERR_BAD_FILE_NAME', `unsafe file name from the wire: ${JSON.stringify(name)}`);
  }
  const ext = extname(name);
  const stem = name.slice(0, name.length - ext.length);
  const candidates = [name, `${stem}-${meta.transferId.slice(0, 8)}${ext}`, `${stem}-${meta.transferId}${ext}`];
  for (const candidate of candidates) {
    const target = join(ctx.libraryDir, candidate);
    try {
      // link() never replaces an existing file, unlike rename().
      linkSync(tmp, target);
      unlinkSync(tmp);
      return target;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
  throw new NvidError('NVID_ERR_BAD_FILE_NAME', `cannot find a free library name for ${name}`);
}

/**
 * The envelope and its plaintext can fail (the sender aborts, a chunk is bad)
 * while an acceptSender or acceptTransfer tap still decides, before anything reads them:
 * unheard, that error would take the whole daemon down. Their reader still
 * learns of it (`errored`, and the pipeline's rejection).
 */
function noUnheardErrors(stream: Readable): void {
  stream.on('error', () => undefined);
}

/** The disk filled up while a file was written, though it had room when the transfer began (another writer, a growing log). */
function diskFilledUp(err: Error): NvidError {
  return new NvidError('NVID_ERR_NO_SPACE', `the disk where this node keeps received files filled up during the transfer (${err.message})`, { cause: err });
}

/** Resolves once `stream` has closed its file (at once if it already has). */
function closed(stream: WriteStream): Promise<void> {
  return stream.closed ? Promise.resolve() : new Promise((resolve) => stream.once('close', () => resolve()));
}

function removeQuietly(path: string | undefined): void {
  if (!path) return;
  try {
    unlinkSync(path);
  } catch {
    // already gone
  }
}

export async function receiveTransfer(ctx: PipelineContext, incoming: IncomingTransfer): Promise<DeliveryReceipt> {
  const { sender } = incoming;
  noUnheardErrors(incoming.envelope);
  let stage: RejectStage = 'accept';
  let meta: TransferMeta | undefined;
  let tmp: string | undefined;
  // Where the time went (history `received` entry): header read and checks, body, media check, storing.
  const began = Date.now();
  const stages = { open: 0, body: 0, check: 0, store: 0 };
  try {
    const veto = await ctx.hooks.acceptSender.promise({ sender });
    if (veto !== undefined) throw new NvidError('NVID_ERR_REFUSED', `refused by policy: ${veto}`);
    requireHook(ctx.hooks, 'open', 'crypto', 'cannot receive');
    requireHook(ctx.hooks, 'validate', 'media', 'cannot receive');

    stage = 'open';
    const opened = answered(await ctx.hooks.open.promise({ envelope: incoming.envelope, sender }), 'open', 'cannot receive');
    noUnheardErrors(opened.plaintext);
    meta = opened.meta;
    if (meta.senderId !== sender.id) throw new NvidError('NVID_ERR_BAD_SIGNATURE', 'the envelope names another sender than the authenticated connection');
    if (meta.receiverId !== ctx.identity.id || (meta.recipientIds !== undefined && !meta.recipientIds.includes(ctx.identity.id))) throw new NvidError('NVID_ERR_WRONG_RECIPIENT', 'the envelope is addressed to another node');
    if (!TRANSFER_ID.test(meta.transferId)) throw new NvidError('NVID_ERR_BAD_ENVELOPE', 'malformed transfer ID');
    if (meta.size > ctx.maxReceiveBytes) throw new NvidError('NVID_ERR_REFUSED', `file of ${meta.size} bytes exceeds this node's maxReceiveBytes ${ctx.maxReceiveBytes}`);
    assertRoomFor(ctx.incomingDir, meta.size, ctx.transfers.owedToReceives(), ctx.minFreeDiskBytes);
    const refusal = await ctx.hooks.acceptTransfer.promise({ sender, meta });
    if (refusal !== undefined) throw new NvidError('NVID_ERR_REFUSED', `refused by policy: ${refusal}`);

    tmp = join(ctx.incomingDir, `${meta.transferId}.part`);
    const transferId = meta.transferId;
    const bodyStarted = Date.now();
    stages.open = bodyStarted - began;
    ctx.transfers.begin({ transferId, direction: 'receive', bytes: 0, total: meta.size, peerName: sender.name });
    const measured = measure(opened.plaintext, meta.size, (bytes) => {
      const event = ctx.transfers.update(transferId, bytes);
      if (event) ctx.hooks.progress.call(event);
    });
    // A large buffer lets the write stream gather chunks into one writev while a write is in flight.
    const out = createWriteStream(tmp, { flags: 'wx', mode: 0o600, highWaterMark: 1024 * 1024 });
    await pipeline(opened.plaintext, out).catch(async (err: unknown) => {
      // The file is opened asynchronously: a body that fails at once can fail before it exists.
      // Wait until the stream let go of it, so the cleanup below finds and removes it.
      await closed(out);
      throw err;
    });
    if (measured.bytes() !== meta.size) throw new NvidError('NVID_ERR_TRUNCATED', `received ${measured.bytes()} of ${meta.size} declared bytes`);
    const sha256 = measured.digest();
    const checkStarted = Date.now();
    stages.body = checkStarted - bodyStarted;

    stage = 'validate';
    const media: MediaInfo = answered(await ctx.hooks.validate.promise({ path: tmp, side: 'receive', meta }), 'validate', 'cannot receive');
    const storeStarted = Date.now();
    stages.check = storeStarted - checkStarted;

    stage = 'store';
    const already = ctx.received.find(sender.id, sha256);
    if (already) {
      // A resend after a lost acknowledgement: keep one copy, acknowledge it again.
      removeQuietly(tmp);
      tmp = undefined;
      ctx.transfers.end(transferId);
      stages.store = Date.now() - storeStarted;
      ctx.history.append('received', { transferId, from: sender.id, fromName: sender.name, path: already, size: meta.size, sha256, duplicateOf: basename(already), stages });
      void showReceived(ctx, already, media, meta);
      return { transferId, receiverId: ctx.identity.id, sha256, storedAs: basename(already) };
    }
    const path = keepInLibrary(ctx, tmp, meta);
    tmp = undefined;
    ctx.received.record(sender.id, sha256, basename(path));
    ctx.transfers.end(transferId);
    stages.store = Date.now() - storeStarted;
    ctx.history.append('received', { transferId, from: sender.id, fromName: sender.name, path, size: meta.size, sha256, mediaKind: media.kind, width: media.width, height: media.height, duration: media.duration, stages });
    await ctx.hooks.received.promise({ meta, sender, path, media, sha256 });
    void showReceived(ctx, path, media, meta);
    return { transferId, receiverId: ctx.identity.id, sha256, storedAs: basename(path) };
  } catch (err) {
    removeQuietly(tmp);
    if (meta) ctx.transfers.end(meta.transferId);
    // A failure inside the plaintext stream keeps the crypto plugin's code (chunk auth, truncation).
    const error = (err as NodeJS.ErrnoException).code === 'ENOSPC' ? diskFilledUp(err as Error) : asNvidError(err, 'NVID_ERR_REFUSED');
    ctx.history.append('rejected', { stage, code: error.code, reason: error.message, from: sender.id, fromName: sender.name, transferId: meta?.transferId });
    ctx.log.warn({ stage, code: error.code, from: sender.name }, `rejected a transfer: ${error.message}`);
    await ctx.hooks.rejected.promise({ stage, code: error.code, reason: error.message, peerId: sender.id, ...(meta ? { meta } : {}) }).catch(() => undefined);
    throw error;
  }
}

/**
 * Hands a stored file to the display; runs after the acknowledgement, so a slow player never
 * delays the sender. `displayed` is not fired here: the display reports when the first frame is
 * really on screen. A queued item is announced here, since only the display's answer says so.
 */
async function showReceived(ctx: PipelineContext, path: string, media: MediaInfo, meta: TransferMeta): Promise<void> {
  if (!hasTaps(ctx.hooks.display)) return;
  try {
    const result = await ctx.hooks.display.promise({ path, media, meta });
    if (result?.state === 'queued') {
      const position = result.position ?? 0;
      ctx.history.append('queued', { path, transferId: meta.transferId, fileName: meta.fileName, position });
      await ctx.hooks.queued.promise({ path, media, meta, position });
    }
  } catch (err) {
    const error = asNvidError(err, 'NVID_ERR_HOOK');
    ctx.history.append('display-failed', { code: error.code, reason: error.message, path, transferId: meta.transferId });
    ctx.log.error({ code: error.code }, `display failed: ${error.message}`);
    await ctx.hooks.displayFailed.promise({ code: error.code, reason: error.message, path, meta }).catch(() => undefined);
  }
}
