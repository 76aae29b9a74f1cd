/**
 * The sending end of direct delivery: connect straight to the receiver,
 * check its certificate IS the target peer's ID, send an opaque transfer
 * header, stream the sealed envelope with backpressure, and wait for the
 * receiver's ack (delivered) or error frame (refused). The body goes raw on
 * the bulk channel when the envelope's length is known and the receiver
 * agrees, else as data frames inside TLS.
 */
import type { Readable } from 'node:stream';
import { NvidError, asNvidError } from '../../../core/errors.js';
import type { DeliveryReceipt, Identity, Peer } from '../../../core/types.js';
import { BULK_HEAD_BYTES, envelopeHeadHash, type BulkChannelMode } from './bulk-channel.js';
import { sendBulkBody, type BulkSend, type BulkSendFailure } from './bulk-sender.js';
import { DATA_FRAME_BYTES, type FrameLimits } from '../wire/frame-codec.js';
import { FramedConnection } from '../wire/framed-connection.js';
import { connectTls, peerCertificateOf } from '../wire/tls-helpers.js';
import { RECEIVER_TO_SENDER, checkMessage } from '../wire/wire-messages.js';

export interface DeliverEnvelopeOptions {
  readonly identity: Identity;
  readonly peer: Peer;
  readonly transferId: string;
  readonly envelope: Readable;
  /** The envelope's exact length, when the sealer knows it: needed for the bulk channel. */
  readonly length?: number;
  /** `tcp` (default): offer the bulk channel when `length` is known; `tls`: always send the body inside TLS. */
  readonly bulkChannel?: BulkChannelMode;
  readonly onProgress?: (sentBytes: number) => void;
  readonly connectTimeoutMs: number;
  /** How long to wait for the receiver's verdict once the whole body is sent. */
  readonly ackTimeoutMs: number;
  readonly limits: FrameLimits;
}

/**
 * How long to wait for the receiver's verdict over TLS after the bulk
 * connection broke: a receiver that refuses mid-body cuts that connection
 * right after sending its error frame, and the error frame says why.
 */
const BULK_VERDICT_GRACE_MS = 2000;

/** Delivers one envelope; resolves with the receiver's receipt, rejects with an NvidError. */
export function deliverEnvelope(options: DeliverEnvelopeOptions): Promise<DeliveryReceipt> {
  const { identity, peer, transferId, envelope } = options;
  const offerBulk = (options.bulkChannel ?? 'tcp') === 'tcp' && options.length !== undefined;
  return new Promise<DeliveryReceipt>((resolve, reject) => {
    const socket = connectTls(identity, peer.address, peer.port);
    const conn = new FramedConnection(socket, options.limits);
    let settled = false;
    let bodySent = false;
    // 'offered': waiting for the receiver to take the bulk channel or decline it; 'sending': the body is on its way.
    let phase: 'offered' | 'sending' = offerBulk ? 'offered' : 'sending';
    let failure: NvidError | undefined;
    let bulk: BulkSend | undefined;
    let bulkFailure: NvidError | undefined;
    const where = `${peer.name} (${peer.address}:${peer.port})`;

    const finish = (outcome: DeliveryReceipt | NvidError) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      bulk?.abort();
      if (outcome instanceof NvidError) {
        envelope.unpipe();
        if (!envelope.destroyed) envelope.destroy();
        socket.destroy();
        reject(outcome);
      } else {
        conn.end();
        resolve(outcome);
      }
    };
    let timer = setTimeout(() => finish(new NvidError('NVID_ERR_TIMEOUT', `${where} did not accept the connection within ${options.connectTimeoutMs} ms`)), options.connectTimeoutMs);

    /** The whole body is out: from now on only the receiver's verdict counts. */
    const bodyDone = () => {
      bodySent = true;
      clearTimeout(timer);
      timer = setTimeout(() => finish(new NvidError('NVID_ERR_TIMEOUT', `${where} did not acknowledge transfer ${transferId} within ${options.ackTimeoutMs} ms`)), options.ackTimeoutMs);
    };
    /** Our envelope failed: tell the receiver to drop what it has. */
    const abortWith = (err: unknown) => {
      const error = asNvidError(err, 'NVID_ERR_DELIVERY');
      conn.fail(error);
      finish(error);
    };
    const sendFrames = () => {
      phase = 'sending';
      clearTimeout(timer);
      streamBody(conn, envelope, options.onProgress, (err) => (err ? abortWith(err) : bodyDone()));
    };
    const sendBulk = (token: string) => {
      phase = 'sending';
      clearTimeout(timer); // the bulk connection has its own connect timeout
      bulk = sendBulkBody(
        { host: peer.address, port: peer.port, token, envelope, length: options.length!, connectTimeoutMs: options.connectTimeoutMs, ...(options.onProgress ? { onProgress: options.onProgress } : {}) },
        (problem?: BulkSendFailure) => {
          if (!problem) {
            bodyDone();
            return;
          }
          if (problem.cause === 'envelope') {
            abortWith(problem.error);
            return;
          }
          // The bulk connection broke: most likely the receiver refused and cut it, and its error frame
          // (with the real reason) is on its way over TLS. Wait briefly for it before reporting the break.
          bulkFailure = problem.error;
          clearTimeout(timer);
          timer = setTimeout(() => finish(problem.error), BULK_VERDICT_GRACE_MS);
        },
      );
    };

    // The sealer may already be reading (and failing) while we connect and negotiate.
    envelope.once('error', (err) => abortWith(err));
    socket.on('error', (err) => {
      failure ??= asNvidError(err, 'NVID_ERR_CONNECTION');
    });
    socket.once('close', () => {
      if (failure) finish(failure);
      else if (bodySent) finish(new NvidError('NVID_ERR_DELIVERY', `${where} closed the connection without acknowledging transfer ${transferId}`));
      else if (bulkFailure) finish(bulkFailure);
      else finish(new NvidError('NVID_ERR_CONNECTION', `the connection to ${where} closed before the transfer was sent`));
    });

    socket.once('secureConnect', () => {
      const cert = peerCertificateOf(socket);
      if (!cert || cert.id !== peer.id) {
        // Never identify a peer by address: whoever answers there must hold the peer's certificate.
        finish(new NvidError('NVID_ERR_UNTRUSTED_PEER', `the node at ${peer.address}:${peer.port} presented certificate ${cert?.id ?? '(none)'}, not ${peer.name}'s ID ${peer.id}`, { details: { expected: peer.id, presented: cert?.id } }));
        return;
      }
      clearTimeout(timer);
      conn.start({
        frame: (frame) => {
          if (frame.kind !== 'message') throw new NvidError('NVID_ERR_BAD_FRAME', 'a receiver sends no body frames');
          const message = checkMessage(frame.message, RECEIVER_TO_SENDER);
          if (message.type === 'error') {
            const details = { ...(message.details ?? {}), code: message.code };
            finish(new NvidError('NVID_ERR_REFUSED', message.message, { details }));
            return;
          }
          if (message.type === 'bulk' || message.type === 'bulk-declined') {
            if (phase !== 'offered') throw new NvidError('NVID_ERR_BAD_FRAME', `unexpected ${message.type}: the bulk channel was not offered or already settled`);
            if (message.type === 'bulk') sendBulk(message.token);
            else sendFrames();
            return;
          }
          if (message.transferId !== transferId || message.receiverId !== peer.id) {
            finish(new NvidError('NVID_ERR_DELIVERY', `${where} acknowledged ${message.transferId} for ${message.receiverId}, not transfer ${transferId} for ${peer.id}`));
            return;
          }
          finish({ transferId: message.transferId, receiverId: message.receiverId, sha256: message.sha256, storedAs: message.storedAs });
        },
        badInput: (err) => {
          failure = err;
        },
      });
      if (offerBulk) {
        const length = options.length!;
        // The header binds the bulk connection's bytes to this session: it carries the hash of the envelope's start.
        readHead(envelope, Math.min(length, BULK_HEAD_BYTES)).then((head) => {
          if (settled) return;
          conn.send({ type: 'transfer', transferId, bulk: { length, head: envelopeHeadHash(head) } });
          // Until the receiver answers, the connect timeout covers it.
          timer = setTimeout(() => finish(new NvidError('NVID_ERR_TIMEOUT', `${where} did not answer the transfer header within ${options.connectTimeoutMs} ms`)), options.connectTimeoutMs);
        }, abortWith);
        return;
      }
      conn.send({ type: 'transfer', transferId });
      sendFrames();
    });
  });
}

/**
 * Reads the first `bytes` bytes of the envelope and puts them back, so the
 * body is then sent from its first byte. Fails if the envelope ends sooner.
 */
function readHead(envelope: Readable, bytes: number): Promise<Buffer> {
  return new Promise<Buffer>((resolve, reject) => {
    const parts: Buffer[] = [];
    let have = 0;
    const done = (err?: NvidError) => {
      envelope.off('data', onData);
      envelope.off('end', onEnd);
      envelope.pause();
      if (err) {
        reject(err); // ended: nothing can be put back
        return;
      }
      const all = Buffer.concat(parts);
      envelope.unshift(all);
      resolve(all.subarray(0, bytes));
    };
    const onData = (chunk: Buffer | string) => {
      const data = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      parts.push(data);
      have += data.length;
      if (have >= bytes) done();
    };
    const onEnd = () => done(new NvidError('NVID_ERR_DELIVERY', `the envelope ended after ${have} bytes, before the ${bytes} its header hash covers`));
    if (bytes === 0) {
      resolve(Buffer.alloc(0));
      return;
    }
    envelope.on('data', onData);
    envelope.once('end', onEnd);
  });
}

/** Writes the envelope as data frames of at most DATA_FRAME_BYTES, pausing whenever the socket's buffer is full. */
function streamBody(conn: FramedConnection, envelope: Readable, onProgress: ((bytes: number) => void) | undefined, done: (err?: unknown) => void): void {
  let sent = 0;
  let finished = false;
  const once = (err?: unknown) => {
    if (finished) return;
    finished = true;
    done(err);
  };
  let corked = false;
  envelope.on('data', (chunk: Buffer | string) => {
    const data = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    // Chunks that arrive in the same turn leave in one writev: one TLS pass and one system call
    // instead of two per frame (prefix and body), which cost more than the encryption here.
    if (!corked) {
      corked = true;
      conn.socket.cork();
      setImmediate(() => {
        corked = false;
        conn.socket.uncork();
      });
    }
    let flowing = true;
    for (let offset = 0; offset < data.length; offset += DATA_FRAME_BYTES) {
      flowing = conn.sendData(data.subarray(offset, offset + DATA_FRAME_BYTES)) && flowing;
    }
    sent += data.length;
    onProgress?.(sent);
    if (!flowing) {
      envelope.pause();
      conn.socket.once('drain', () => envelope.resume());
    }
  });
  envelope.once('end', () => {
    conn.sendEnd();
    once();
  });
  envelope.resume(); // it may have been paused after its head was read for a bulk offer the receiver declined
  envelope.once('error', (err) => once(err));
  envelope.once('close', () => {
    if (!envelope.readableEnded) once(new NvidError('NVID_ERR_DELIVERY', 'the envelope stream closed before its end'));
  });
}
