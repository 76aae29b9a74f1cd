/**
 * The source's end of a pull: a listed recipient asked for the pieces it
 * lacks (its bitfield); this node sends each piece it holds and the puller
 * does not, in order, and as its own copy grows, the new ones too, until it
 * has sent everything and holds everything (`swarm-end`). Backpressure: the
 * next piece is read only once the socket took the last one.
 */
import { once } from 'node:events';
import { NvidError, asNvidError } from '../../../core/errors.js';
import type { Logger } from 'pino';
import { DATA_FRAME_BYTES, type Frame } from '../wire/frame-codec.js';
import type { FramedConnection } from '../wire/framed-connection.js';
import type { SwarmPullMessage } from '../wire/wire-messages.js';
import { Bitfield, type PieceStore } from './piece-store.js';
import type { SwarmRegistry } from './swarm-registry.js';

/** How long a pull waits for the offer that makes this node hold its transfer. */
export const PULL_WAITS_FOR_OFFER_MS = 5000;

/** Reads the piece this node is about to send (the transport plugin's seam: see TransportPlugin.pieceToServe). */
export type PieceReader = (store: PieceStore, index: number) => Promise<Buffer>;

export class PieceServeSession {
  private stopped = false;
  private readonly wakeOnClose: Promise<void>;
  private wake!: () => void;

  constructor(
    private readonly conn: FramedConnection,
    private readonly pullerId: string,
    private readonly registry: SwarmRegistry,
    private readonly readPiece: PieceReader,
    private readonly log: Logger,
  ) {
    this.wakeOnClose = new Promise((resolve) => (this.wake = resolve));
  }

  /** The connection's frames after the pull: a puller sends nothing more. */
  frame(_frame: Frame): void {
    throw new NvidError('NVID_ERR_BAD_FRAME', 'a puller sent something after its swarm-pull');
  }

  closed(): void {
    this.stopped = true;
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
      await this.serve(store, theirs);
    } catch (err) {
      if (this.stopped) return;
      const error = asNvidError(err, 'NVID_ERR_CONNECTION');
      this.log.debug({ code: error.code, transferId: message.transferId, puller: this.pullerId }, `pull refused or failed: ${error.message}`);
      this.conn.fail(error);
    }
  }

  private async serve(store: PieceStore, theirs: Bitfield): Promise<void> {
    let from = 0;
    while (!this.stopped) {
      const index = store.nextFor(theirs, from) ?? store.nextFor(theirs, 0);
      if (index === undefined) {
        if (store.isClosed) throw new NvidError('NVID_ERR_SWARM_UNKNOWN', `this node let go of transfer ${store.manifest.transferId}`);
        if (store.complete) {
          this.conn.send({ type: 'swarm-end' });
          this.conn.end();
          return;
        }
        await Promise.race([once(store, 'piece'), this.wakeOnClose]);
        continue;
      }
      const data = await this.readPiece(store, index);
      if (this.stopped) return;
      this.conn.send({ type: 'piece', index });
      let room = true;
      for (let at = 0; at < data.length; at += DATA_FRAME_BYTES) room = this.conn.sendData(data.subarray(at, Math.min(data.length, at + DATA_FRAME_BYTES)));
      theirs.set(index);
      this.registry.servedBytes += data.length;
      from = index + 1;
      if (!room) await Promise.race([once(this.conn.socket, 'drain'), this.wakeOnClose]);
    }
  }
}
