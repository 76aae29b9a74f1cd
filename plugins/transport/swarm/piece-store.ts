/**
 * The pieces of one shared transfer that this node holds, on disk.
 *
 * A recipient's store is a folder of its own in the state folder:
 * `offer.json` (the signed manifest, and the sender's name and certificate,
 * so a restarted node can go on without the sender), `envelope` (the
 * envelope's bytes at their offsets, a sparse file until every piece is in)
 * and `pieces.log` (the index of each verified piece, 4 bytes each, appended
 * after the piece is written). On restart the log says what is done, so
 * nothing is hashed again. A piece reaches the file only once its SHA-256 is
 * the one the sender signed.
 *
 * The sender's store is its sealed envelope file: every piece present, read only.
 */
import { createHash } from 'node:crypto';
import { EventEmitter, once } from 'node:events';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { open, rm, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { NvidError } from '../../../core/errors.js';
import { pieceCount, pieceHashes, pieceRange, verifyManifest, type Manifest, type SignedManifest } from './manifest.js';

/** What a recipient keeps about an offer, besides the pieces. */
export interface OfferRecord {
  readonly text: string;
  readonly signature: string;
  readonly senderName: string;
  readonly senderCertPem: string;
}

const OFFER_FILE = 'offer.json';
const ENVELOPE_FILE = 'envelope';
const LOG_FILE = 'pieces.log';
export const DONE_FILE = 'done.json';
/** Pieces kept in memory for the envelope's reader: a few MiB, so a slow reader costs reads from disk, not memory. */
const FRESH_PIECES = 8;

/** One bit per piece, most significant bit first (BitTorrent's bitfield). */
export class Bitfield {
  readonly bytes: Uint8Array;
  constructor(readonly size: number, bytes?: Uint8Array) {
    this.bytes = bytes ?? new Uint8Array(Math.ceil(size / 8));
  }
  static fromBase64(text: string, size: number): Bitfield {
    const bytes = Buffer.from(text, 'base64');
    if (bytes.length !== Math.ceil(size / 8)) throw new NvidError('NVID_ERR_BAD_FRAME', `a piece bitfield of ${bytes.length} bytes for ${size} pieces`);
    return new Bitfield(size, new Uint8Array(bytes));
  }
  has(i: number): boolean {
    return (this.bytes[i >> 3]! & (0x80 >> (i & 7))) !== 0;
  }
  set(i: number): void {
    this.bytes[i >> 3]! |= 0x80 >> (i & 7);
  }
  toBase64(): string {
    return Buffer.from(this.bytes).toString('base64');
  }
}

export class PieceStore extends EventEmitter<{ piece: [number]; closed: [] }> {
  readonly signed: SignedManifest;
  readonly count: number;
  /** The signed SHA-256 of each piece. */
  private readonly hashes: readonly Buffer[];
  private readonly bits: Bitfield;
  private held: number;
  private readonly handle: FileHandle;
  private readonly log: FileHandle | undefined;
  private closed = false;
  /** Pieces just stored that the envelope's reader has not taken yet (at most FRESH_PIECES). */
  readonly fresh = new Map<number, readonly Buffer[]>();
  /** Pieces being written now. */
  private readonly writing = new Set<number>();

  private constructor(signed: SignedManifest, handle: FileHandle, log: FileHandle | undefined, bits: Bitfield) {
    super();
    this.setMaxListeners(0); // one listener per source connection waiting for pieces
    this.signed = signed;
    this.count = pieceCount(signed.manifest);
    this.hashes = pieceHashes(signed.manifest);
    this.handle = handle;
    this.log = log;
    this.bits = bits;
    this.held = 0;
    for (let i = 0; i < this.count; i++) if (bits.has(i)) this.held++;
  }

  get manifest(): Manifest {
    return this.signed.manifest;
  }

  /** The sender's store: its sealed envelope, every piece present. */
  static async source(envelopeFile: string, signed: SignedManifest): Promise<PieceStore> {
    const count = pieceCount(signed.manifest);
    const bits = new Bitfield(count);
    for (let i = 0; i < count; i++) bits.set(i);
    return new PieceStore(signed, await open(envelopeFile, 'r'), undefined, bits);
  }

  /** A recipient's store in `dir`: made for a new offer, or reopened with the pieces its log lists. */
  static async openRecipient(dir: string, record: OfferRecord, signed: SignedManifest): Promise<PieceStore> {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const offerPath = join(dir, OFFER_FILE);
    let kept: OfferRecord | undefined;
    try {
      kept = JSON.parse(readFileSync(offerPath, 'utf8')) as OfferRecord;
    } catch {
      kept = undefined;
    }
    // A different manifest for the same transfer ID (a bigger or re-cut envelope) shares nothing with what is on disk.
    if (!kept || kept.text !== record.text) {
      await rm(join(dir, LOG_FILE), { force: true });
      await rm(join(dir, ENVELOPE_FILE), { force: true });
      writeFileSync(offerPath, JSON.stringify(record), { mode: 0o600 });
    }
    const count = pieceCount(signed.manifest);
    const bits = new Bitfield(count);
    try {
      const log = readFileSync(join(dir, LOG_FILE));
      // A write torn by a crash leaves fewer than 4 bytes at the end: that piece is simply fetched again.
      for (let at = 0; at + 4 <= log.length; at += 4) {
        const index = log.readUInt32BE(at);
        if (index < count) bits.set(index);
      }
    } catch {
      // no log yet
    }
    const handle = await open(join(dir, ENVELOPE_FILE), 'a+').then(async (h) => {
      await h.close();
      return open(join(dir, ENVELOPE_FILE), 'r+', 0o600);
    });
    await handle.truncate(signed.manifest.length);
    const log = await open(join(dir, LOG_FILE), 'a', 0o600);
    return new PieceStore(signed, handle, log, bits);
  }

  /** The offer kept in `dir`, checked again (a state folder is not trusted blindly), or undefined. */
  static readOffer(dir: string): { record: OfferRecord; signed: SignedManifest } | undefined {
    try {
      const record = JSON.parse(readFileSync(join(dir, OFFER_FILE), 'utf8')) as OfferRecord;
      const senderId = (JSON.parse(record.text) as Manifest).senderId;
      return { record, signed: verifyManifest(record.text, record.signature, record.senderCertPem, senderId) };
    } catch {
      return undefined;
    }
  }

  static envelopePath(dir: string): string {
    return join(dir, ENVELOPE_FILE);
  }

  has(index: number): boolean {
    return this.bits.has(index);
  }

  get have(): number {
    return this.held;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  get complete(): boolean {
    return this.held === this.count;
  }

  bitfield(): Bitfield {
    return new Bitfield(this.count, Uint8Array.from(this.bits.bytes));
  }

  /** The first piece at or after `from` that this store holds and `theirs` lacks. */
  nextFor(theirs: Bitfield, from = 0): number | undefined {
    for (let i = from; i < this.count; i++) if (this.bits.has(i) && !theirs.has(i)) return i;
    return undefined;
  }

  /** Bytes of piece `index`. */
  pieceLength(index: number): number {
    const { start, end } = pieceRange(this.manifest, index);
    return end - start;
  }

  /**
   * Stores a piece (as the parts it arrived in) once its hash is the signed one; throws
   * NVID_ERR_BAD_PIECE (and stores nothing) otherwise. A piece already held is ignored.
   */
  async accept(index: number, data: Buffer | readonly Buffer[]): Promise<void> {
    const parts = Buffer.isBuffer(data) ? [data] : data;
    this.verify(index, parts);
    await this.store(index, parts);
  }

  /** Throws NVID_ERR_BAD_PIECE unless `parts` are piece `index` exactly as the sender signed it. */
  verify(index: number, parts: readonly Buffer[]): void {
    const length = parts.reduce((n, part) => n + part.length, 0);
    if (index >= this.count || length !== this.pieceLength(index)) {
      throw new NvidError('NVID_ERR_BAD_PIECE', `piece ${index} of ${length} bytes does not fit the manifest (${this.count} pieces)`, { details: { piece: index } });
    }
    const hash = createHash('sha256');
    for (const part of parts) hash.update(part);
    if (!hash.digest().equals(this.hashes[index]!)) {
      throw new NvidError('NVID_ERR_BAD_PIECE', `piece ${index} does not match the hash the sender signed`, { details: { piece: index } });
    }
  }

  /**
   * Writes a piece `verify` passed, then logs it as held. Several may be under way at once
   * (different offsets); the same piece arriving twice (from two sources) is written once.
   */
  async store(index: number, parts: readonly Buffer[]): Promise<void> {
    if (this.bits.has(index) || this.writing.has(index) || this.closed) return;
    this.writing.add(index);
    try {
      await this.handle.writev(parts, pieceRange(this.manifest, index).start);
      await this.logHeld(index, parts);
    } finally {
      this.writing.delete(index);
    }
  }

  private async logHeld(index: number, parts: readonly Buffer[]): Promise<void> {
    // The envelope's reader (the receive pipeline) usually wants this very piece next: hand it over from memory.
    if (this.fresh.size < FRESH_PIECES) this.fresh.set(index, parts);
    const entry = Buffer.alloc(4);
    entry.writeUInt32BE(index);
    await this.log!.write(entry);
    this.bits.set(index);
    this.held++;
    this.emit('piece', index);
  }

  async read(index: number): Promise<Buffer> {
    const { start, end } = pieceRange(this.manifest, index);
    const data = Buffer.allocUnsafe(end - start);
    let at = 0;
    while (at < data.length) {
      const { bytesRead } = await this.handle.read(data, at, data.length - at, start + at);
      if (bytesRead === 0) throw new NvidError('NVID_ERR_SWARM_UNKNOWN', `piece ${index} is missing from this node's copy`);
      at += bytesRead;
    }
    return data;
  }

  /**
   * The envelope's bytes in order, each piece as soon as it is held: the receive pipeline
   * decrypts while the rest still arrives. Errors if the store closes first.
   */
  envelope(): Readable {
    const pieces = async function* (store: PieceStore) {
      for (let index = 0; index < store.count; index++) {
        while (!store.has(index)) {
          if (store.closed) throw new NvidError('NVID_ERR_CONNECTION', `shared transfer ${store.manifest.transferId} stopped before piece ${index} arrived`);
          await once(store, 'piece');
        }
        const fresh = store.fresh.get(index);
        store.fresh.delete(index);
        if (fresh) for (const part of fresh) yield part;
        else yield await store.read(index);
      }
    };
    return Readable.from(pieces(this), { objectMode: false, highWaterMark: 1024 * 1024 });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // Wakes a reader of `envelope()` waiting for a piece, so it fails instead of hanging.
    this.emit('piece', -1);
    this.emit('closed');
    await this.handle.close().catch(() => undefined);
    await this.log?.close().catch(() => undefined);
  }
}
