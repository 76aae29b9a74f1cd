/**
 * A recipient fetching the pieces it lacks, from one source at a time.
 *
 * The sources form a chain in the envelope's recipient order: recipient k
 * pulls from k-1, which pulls from k-2, ..., and the first from the sender.
 * Each node's link then carries the file about once in and once out, and the
 * sender's uplink about once in all, while a piece reaches the last of N
 * recipients N piece-times after the first (a piece is passed on the moment
 * it is verified). Why a chain rather than a swarm: on a LAN every node's
 * link has the same rate, and a chain fills every link with no piece ever
 * sent twice and no "who has what" chatter; a swarm pays that chatter to
 * cope with uneven links, which a LAN of screens rarely has.
 *
 * What breaks a chain is a link in it, so a recipient falls back along it:
 * when its source goes away, stalls, or sends a piece whose hash is not the
 * signed one, it pulls from the next one up (k-2, ..., the sender), then from
 * those after it in the list. A source that sent a bad piece is never asked
 * again for this transfer and is reported (`onBadSource`); one that merely
 * failed is tried again after a back-off. Every piece is checked against the
 * signed manifest before it is stored or passed on (PieceStore.accept).
 */
import { connect, type Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { Logger } from 'pino';
import { NvidError, asNvidError } from '../../../core/errors.js';
import type { Identity, Peer } from '../../../core/types.js';
import type { Frame, FrameLimits } from '../wire/frame-codec.js';
import { FramedConnection } from '../wire/framed-connection.js';
import { connectTls, peerCertificateOf } from '../wire/tls-helpers.js';
import { SWARM_SOURCE_TO_PULLER, checkMessage } from '../wire/wire-messages.js';
import { encodeBulkPreamble } from '../transfer/bulk-channel.js';
import { RAW_PIECE_HEADER_BYTES } from './piece-server.js';
import type { PieceStore } from './piece-store.js';

/** What a raw pull reports to the pull it belongs to. */
interface RawPullEvents {
  data(): void;
  /** The length of piece `index`, or undefined when the manifest has no such piece. */
  checkIndex(index: number): number | undefined;
  done(end: PullEnd, err?: NvidError): void;
}

/** Pieces written at once before the source is paused. */
const PIECES_IN_FLIGHT = 4;

/**
 * Where a pull's pieces go: each is checked against the signed hash the moment it is whole
 * (a bad one ends the pull before anything of it is written), then written while the next ones
 * arrive; the source is paused only while PIECES_IN_FLIGHT writes wait.
 */
class PieceIntake {
  private readonly writes = new Set<Promise<void>>();
  private paused = false;
  private failed = false;
  /** Called when there is room again (the raw reader goes on with what it buffered). */
  onRoom: (() => void) | undefined;

  constructor(
    private readonly store: PieceStore,
    private readonly events: { pause(): void; resume(): void; complete(): void; bad(err: NvidError): void },
  ) {}

  get full(): boolean {
    return this.failed || this.writes.size >= PIECES_IN_FLIGHT;
  }

  take(index: number, parts: readonly Buffer[]): void {
    if (this.failed) return;
    try {
      this.store.verify(index, parts);
    } catch (err) {
      this.failed = true;
      return this.events.bad(asNvidError(err, 'NVID_ERR_BAD_PIECE'));
    }
    const write: Promise<void> = this.store.store(index, parts).then(
      () => {
        this.writes.delete(write);
        if (this.store.complete) return this.events.complete();
        if (this.paused && this.writes.size < PIECES_IN_FLIGHT) {
          this.paused = false;
          this.events.resume();
          this.onRoom?.();
        }
      },
      (err: unknown) => {
        this.writes.delete(write);
        this.failed = true;
        this.events.bad(asNvidError(err, 'NVID_ERR_CONNECTION'));
      },
    );
    this.writes.add(write);
    if (this.writes.size >= PIECES_IN_FLIGHT && !this.paused) {
      this.paused = true;
      this.events.pause();
    }
  }

  /** Resolves once every write under way has finished. */
  async idle(): Promise<void> {
    while (this.writes.size > 0) await Promise.allSettled([...this.writes]);
  }
}

export interface DownloadOptions {
  readonly identity: Identity;
  readonly store: PieceStore;
  /** The peer with this ID as the peer table knows it now (address, port), or undefined. */
  readonly lookupPeer: (id: string) => Peer | undefined;
  readonly limits: FrameLimits;
  readonly connectTimeoutMs: number;
  /** A source that sends nothing for this long is left for the next one. */
  readonly stallMs: number;
  /** Ask sources for the bulk channel (pieces on a plain connection bound to the pull by a token). */
  readonly bulk: boolean;
  /** A source sent a piece that failed its hash. */
  readonly onBadSource: (peerId: string, err: NvidError) => void;
  readonly log: Logger;
}

/** How long a source that failed (gone, refused) is left alone before it is tried again; doubles up to the max. */
const RETRY_MIN_MS = 1000;
const RETRY_MAX_MS = 15_000;

type PullEnd = 'complete' | 'ended' | 'failed' | 'bad';

export class SwarmDownload {
  private readonly options: DownloadOptions;
  private readonly banned = new Set<string>();
  private readonly retryAt = new Map<string, { at: number; delay: number }>();
  private stopped = false;
  private kicked = false;
  private current: TLSSocket | undefined;
  private wake: (() => void) | undefined;
  private running: Promise<void> | undefined;

  constructor(options: DownloadOptions) {
    this.options = options;
  }

  /** The sources in the order they are tried: up the chain, the sender, then down it. */
  sourceOrder(): string[] {
    const { manifest } = this.options.store;
    const self = manifest.recipients.indexOf(this.options.identity.id);
    const up = manifest.recipients.slice(0, Math.max(0, self)).reverse();
    const down = manifest.recipients.slice(self + 1);
    return [...up, manifest.senderId, ...down];
  }

  /**
   * The raw connection of a pull on the bulk channel: the token, then pieces as index (4 bytes)
   * and bytes, each stored (its hash checked) before the next is read; FIN after the last.
   */
  private openRaw(source: Peer, token: string, intake: PieceIntake, events: RawPullEvents): Socket {
    const raw = connect({ host: source.address, port: source.port });
    raw.setNoDelay(true);
    raw.on('error', () => events.done('failed'));
    raw.once('connect', () => raw.write(encodeBulkPreamble(token)));
    const chunks: Buffer[] = [];
    let buffered = 0;
    let current: { index: number; need: number; parts: Buffer[] } | undefined;
    let ended = false;
    const takeHeader = (): number => {
      const header = Buffer.concat(chunks, RAW_PIECE_HEADER_BYTES);
      let left = RAW_PIECE_HEADER_BYTES;
      while (left > 0) {
        const first = chunks[0]!;
        if (first.length <= left) {
          left -= first.length;
          chunks.shift();
        } else {
          chunks[0] = first.subarray(left);
          left = 0;
        }
      }
      buffered -= RAW_PIECE_HEADER_BYTES;
      return header.readUInt32BE(0);
    };
    const pump = (): void => {
      while (!intake.full) {
        if (!current) {
          if (buffered < RAW_PIECE_HEADER_BYTES) break;
          const index = takeHeader();
          const need = events.checkIndex(index);
          if (need === undefined) return events.done('bad', new NvidError('NVID_ERR_BAD_PIECE', `piece ${index} is not in the manifest`));
          current = { index, need, parts: [] };
        }
        if (buffered === 0) break;
        const first = chunks[0]!;
        const part = first.length <= current.need ? first : first.subarray(0, current.need);
        if (part === first) chunks.shift();
        else chunks[0] = first.subarray(current.need);
        buffered -= part.length;
        current.need -= part.length;
        current.parts.push(part);
        if (current.need > 0) continue;
        const whole = current;
        current = undefined;
        intake.take(whole.index, whole.parts);
      }
      if (ended && buffered === 0) intake.idle().then(() => events.done(current ? 'failed' : 'ended'), () => undefined);
    };
    intake.onRoom = pump;
    raw.on('data', (chunk: Buffer) => {
      events.data();
      chunks.push(chunk);
      buffered += chunk.length;
      pump();
    });
    raw.on('end', () => {
      ended = true;
      pump();
    });
    raw.on('close', () => {
      if (!ended) events.done('failed');
    });
    return raw;
  }

  /** Peers that sent bad pieces in this download. */
  get badSources(): string[] {
    return [...this.banned];
  }

  /** Runs until the store is complete (resolves) or `stop()`; never rejects. */
  run(): Promise<void> {
    this.running ??= this.loop();
    return this.running;
  }

  /**
   * A new offer (the sender came back and retried): every source may be tried at once, from the
   * top of the order again. The pull under way (perhaps from a recipient further down the chain,
   * picked while the sender was gone) gives way.
   */
  kick(): void {
    this.retryAt.clear();
    this.kicked = true;
    this.current?.destroy();
    this.wake?.();
  }

  stop(): void {
    this.stopped = true;
    this.current?.destroy();
    this.wake?.();
  }

  private async loop(): Promise<void> {
    const { store, log } = this.options;
    while (!this.stopped && !store.complete) {
      const source = this.nextSource();
      if (!source) {
        await this.sleep(this.untilNextRetry());
        continue;
      }
      const end = await this.pullFrom(source);
      if (end === 'complete') break;
      if (this.kicked) {
        this.kicked = false;
        continue;
      }
      if (end === 'failed') this.backOff(source.id);
      if (end === 'ended') this.retryAt.delete(source.id);
      log.debug({ transferId: store.manifest.transferId, source: source.name, end, have: store.have, of: store.count }, 'pull from a source ended');
    }
  }

  private nextSource(): Peer | undefined {
    const now = Date.now();
    for (const id of this.sourceOrder()) {
      if (id === this.options.identity.id || this.banned.has(id)) continue;
      if ((this.retryAt.get(id)?.at ?? 0) > now) continue;
      const peer = this.options.lookupPeer(id);
      if (peer) return peer;
    }
    return undefined;
  }

  private untilNextRetry(): number {
    const next = Math.min(...[...this.retryAt.values()].map((r) => r.at), Date.now() + RETRY_MIN_MS);
    return Math.max(100, next - Date.now());
  }

  private backOff(id: string): void {
    const delay = Math.min(RETRY_MAX_MS, (this.retryAt.get(id)?.delay ?? RETRY_MIN_MS / 2) * 2);
    this.retryAt.set(id, { at: Date.now() + delay, delay });
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    });
  }

  /** One pull: connect, check the source's certificate, ask, store what comes. */
  private pullFrom(source: Peer): Promise<PullEnd> {
    const { identity, store, limits, connectTimeoutMs, stallMs } = this.options;
    return new Promise<PullEnd>((resolve) => {
      const socket = connectTls(identity, source.address, source.port);
      this.current = socket;
      const conn = new FramedConnection(socket, limits);
      let settled = false;
      let piece: { index: number; parts: Buffer[]; bytes: number } | undefined;
      let raw: Socket | undefined;
      // Pieces are checked as they complete and written a few at a time, the socket paused only when too many wait.
      const intake = new PieceIntake(store, {
        pause: () => (raw ?? conn).pause(),
        resume: () => (raw ?? conn).resume(),
        complete: () => finish('complete'),
        bad: (err) => bad(err),
      });
      let timer = setTimeout(() => finish('failed'), connectTimeoutMs);
      const finish = (end: PullEnd) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        socket.destroy();
        raw?.destroy();
        resolve(store.complete ? 'complete' : end);
      };
      const stalled = () => {
        clearTimeout(timer);
        timer = setTimeout(() => finish('failed'), stallMs);
      };
      socket.on('error', () => finish('failed'));
      // On the bulk channel the source ends the TLS link right after its last piece left on the raw
      // connection: that connection, not the TLS link, says when the pull is over.
      socket.once('close', () => {
        if (!raw || raw.destroyed) finish('failed');
      });
      socket.once('secureConnect', () => {
        const cert = peerCertificateOf(socket);
        if (!cert || cert.id !== source.id) {
          this.options.log.warn({ source: source.name }, `a source at ${source.address}:${source.port} presented certificate ${cert?.id ?? '(none)'}, not ${source.id}`);
          return finish('failed');
        }
        stalled();
        conn.start({
          frame: (frame) => onFrame(frame),
          badInput: () => finish('failed'),
        });
        conn.send({ type: 'swarm-pull', transferId: store.manifest.transferId, have: store.bitfield().toBase64(), ...(this.options.bulk ? { bulk: true } : {}) });
      });
      const onFrame = (frame: Frame) => {
        stalled();
        if (frame.kind === 'data') {
          if (!piece) throw new NvidError('NVID_ERR_BAD_FRAME', 'piece bytes before a piece header');
          piece.parts.push(frame.data);
          piece.bytes += frame.data.length;
          if (piece.bytes > store.pieceLength(piece.index)) return bad(new NvidError('NVID_ERR_BAD_PIECE', `piece ${piece.index} runs past its length`));
          if (piece.bytes === store.pieceLength(piece.index)) {
            const whole = piece;
            piece = undefined;
            intake.take(whole.index, whole.parts);
          }
          return;
        }
        if (frame.kind === 'end') throw new NvidError('NVID_ERR_BAD_FRAME', 'an end frame on a pull');
        const message = checkMessage(frame.message, SWARM_SOURCE_TO_PULLER);
        if (message.type === 'piece') {
          if (piece) throw new NvidError('NVID_ERR_BAD_FRAME', `piece ${message.index} began before piece ${piece.index} ended`);
          if (message.index >= store.count) return bad(new NvidError('NVID_ERR_BAD_PIECE', `piece ${message.index} of ${store.count}`));
          piece = { index: message.index, parts: [], bytes: 0 };
          return;
        }
        if (message.type === 'swarm-end') {
          // On the bulk channel the raw connection's FIN ends the pull, once its last pieces are stored.
          if (!raw) finish('ended');
          return;
        }
        if (message.type === 'bulk') {
          if (raw) throw new NvidError('NVID_ERR_BAD_FRAME', 'a second bulk token on one pull');
          raw = this.openRaw(source, message.token, intake, {
            data: stalled,
            checkIndex: (index) => (index < store.count ? store.pieceLength(index) : undefined),
            done: (end, err) => (err ? bad(err) : finish(end)),
          });
          return;
        }
        this.options.log.debug({ source: source.name, code: message.code }, `source refused the pull: ${message.message}`);
        finish('failed');
      };
      const bad = (err: NvidError) => {
        if (err.code !== 'NVID_ERR_BAD_PIECE') return finish('failed');
        this.banned.add(source.id);
        this.options.onBadSource(source.id, err);
        finish('bad');
      };
    });
  }
}
