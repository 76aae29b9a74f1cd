/**
 * The source's end of a pull: a listed recipient asked for the pieces it
 * lacks (its bitfield); this node sends each piece it holds and the puller
 * does not, in order, and as its own copy grows, the new ones too, until it
 * has sent everything and holds everything (`swarm-end`). Backpressure: the
 * next piece is read only once the socket took the last one.
 *
 * When the puller asks for it and this node allows the bulk channel, the
 * pieces skip TLS as envelope bodies do (see the transport README): the
 * source answers `bulk {token}`, the puller opens a plain connection to the
 * same port with it, and each piece goes raw as its 4-byte index and its
 * bytes, then FIN. Nothing on it needs TLS: every piece is checked against
 * the sender's signed hashes before it is stored, and it is envelope
 * ciphertext. The TLS link stays for errors.
 */
import { once } from 'node:events';
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import { NvidError, asNvidError } from '../../../core/errors.js';
import type { BulkIssuer } from '../transfer/incoming-transfer-session.js';
import { DATA_FRAME_BYTES, type Frame } from '../wire/frame-codec.js';
import type { FramedConnection } from '../wire/framed-connection.js';
import type { SwarmPullMessage } from '../wire/wire-messages.js';
import { Bitfield, type PieceStore } from './piece-store.js';
import type { SwarmRegistry } from './swarm-registry.js';

/** How long a pull waits for the offer that makes this node hold its transfer. */
export const PULL_WAITS_FOR_OFFER_MS = 5000;
/** Bytes before each piece on a raw (bulk) pull connection: its index. */
export const RAW_PIECE_HEADER_BYTES = 4;

/** Reads the piece this node is about to send (the transport plugin's seam: see TransportPlugin.pieceToServe). */
export type PieceReader = (store: PieceStore, index: number) => Promise<Buffer>;

/** Where pieces go: data frames inside TLS, or a raw bulk connection. */
interface PieceSink {
  /** Queues one piece; false when the socket's buffer is full. */
  send(index: number, data: Buffer): boolean;
  readonly socket: Socket;
  /** Everything sent: end the way the puller expects. */
  finish(): void;
}

export class PieceServeSession {
  private stopped = false;
  private readonly wakeOnClose: Promise<void>;
  private wake!: () => void;
  private raw: Socket | undefined;

  constructor(
    private readonly conn: FramedConnection,
    private readonly pullerId: string,
    private readonly registry: SwarmRegistry,
    private readonly readPiece: PieceReader,
    private readonly log: Logger,
    private readonly bulk?: BulkIssuer,
  ) {
    this.wakeOnClose = new Promise((resolve) => (this.wake = resolve));
  }

  /** The connection's frames after the pull: a puller sends nothing more. */
  frame(_frame: Frame): void {
    throw new NvidError('NVID_ERR_BAD_FRAME', 'a puller sent something after its swarm-pull');
  }

  closed(): void {
    this.stopped = true;
    this.raw?.destroy();
    this.wake();
  }

  async run(message: SwarmPullMessage): Promise<void> {
    try {
      const store = await this.registry.waitFor(message.transferId, PULL_WAITS_FOR_OFFER_MS);
      if (!store) throw new NvidError('NVID_ERR_SWARM_UNKNOWN', `this node holds no shared transfer ${message.transferId}`);
      const { manifest } = store;
      if (!manifest.recipients.includes(this.pullerId)) {
        throw new NvidError('NVID_ERR_UNTRUSTED_PEER', `peer ${this.pullerId.slice(0, 12)}… is not a recipient of transfer ${manifest.transferId}`);
      }
      const theirs = Bitfield.fromBase64(message.have, store.count);
      const sink = message.bulk && this.bulk ? await this.rawSink(manifest.transferId) : this.framedSink();
      if (!sink) return;
      await this.serve(store, theirs, sink);
    } catch (err) {
      if (this.stopped) return;
      const error = asNvidError(err, 'NVID_ERR_CONNECTION');
      this.log.debug({ code: error.code, transferId: message.transferId, puller: this.pullerId }, `pull refused or failed: ${error.message}`);
      this.raw?.destroy();
      this.conn.fail(error);
    }
  }

  private framedSink(): PieceSink {
    const conn = this.conn;
    return {
      socket: conn.socket,
      send: (index, data) => {
        conn.send({ type: 'piece', index });
        let room = true;
        for (let at = 0; at < data.length; at += DATA_FRAME_BYTES) room = conn.sendData(data.subarray(at, Math.min(data.length, at + DATA_FRAME_BYTES)));
        return room;
      },
      finish: () => {
        conn.send({ type: 'swarm-end' });
        conn.end();
      },
    };
  }

  /** Hands the puller a token and waits for its plain connection; undefined when the pull ended meanwhile. */
  private async rawSink(transferId: string): Promise<PieceSink | undefined> {
    const socket = await new Promise<Socket | undefined>((resolve, reject) => {
      const token = this.bulk!({ transferId, senderId: this.pullerId, attach: resolve }, () => reject(new NvidError('NVID_ERR_TIMEOUT', 'the puller did not open its bulk connection in time')));
      this.conn.send({ type: 'bulk', token });
      void this.wakeOnClose.then(() => resolve(undefined));
    });
    if (!socket || this.stopped) {
      socket?.destroy();
      return undefined;
    }
    this.raw = socket;
    socket.on('error', () => this.closed());
    socket.on('close', () => this.closed());
    // The puller sends nothing on it; whatever comes is drained so its FIN arrives.
    socket.resume();
    const conn = this.conn;
    return {
      socket,
      send: (index, data) => {
        const header = Buffer.alloc(RAW_PIECE_HEADER_BYTES);
        header.writeUInt32BE(index);
        socket.write(header);
        return socket.write(data);
      },
      finish: () => {
        socket.end();
        conn.send({ type: 'swarm-end' });
        conn.end();
      },
    };
  }

  private async serve(store: PieceStore, theirs: Bitfield, sink: PieceSink): Promise<void> {
    let from = 0;
    // The next piece is read from disk while the one before is on its way.
    let ahead: { index: number; data: Promise<Buffer> } | undefined;
    while (!this.stopped) {
      const index = store.nextFor(theirs, from) ?? store.nextFor(theirs, 0);
      if (index === undefined) {
        if (store.isClosed) throw new NvidError('NVID_ERR_SWARM_UNKNOWN', `this node let go of transfer ${store.manifest.transferId}`);
        if (store.complete) return sink.finish();
        await Promise.race([once(store, 'piece'), this.wakeOnClose]);
        continue;
      }
      const data = await (ahead?.index === index ? ahead.data : this.readPiece(store, index));
      if (this.stopped) return;
      const room = sink.send(index, data);
      theirs.set(index);
      this.registry.servedBytes += data.length;
      from = index + 1;
      const next = store.nextFor(theirs, from);
      ahead = next === undefined ? undefined : { index: next, data: this.readPiece(store, next) };
      ahead?.data.catch(() => undefined); // read again (and failed for real) if it is still wanted
      // Queuing more than a piece ahead of the socket stalled shaped links for 15-45 s at a time (measured at
      // 20 Mbit/s with 1 and 2 MiB queued), so the next piece waits for this one to drain.
      if (!room) await Promise.race([once(sink.socket, 'drain'), this.wakeOnClose]);
    }
  }
}
