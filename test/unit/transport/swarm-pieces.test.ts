/**
 * The manifest and the piece store of shared transfers, without sockets: what
 * a signed manifest binds, what a recipient refuses, and what it keeps on disk
 * to resume from.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { NvidError } from '../../../core/errors.js';
import { hashPieces, pieceBytesFor, pieceCount, pieceRange, signManifest, verifyManifest, MAX_PIECES, PIECE_ALIGN_BYTES, type SignedManifest } from '../../../plugins/transport/swarm/manifest.js';
import { Bitfield, PieceStore, type OfferRecord } from '../../../plugins/transport/swarm/piece-store.js';
import { identity, removeDir, tempDir } from './helpers.js';

const code = (expected: string) => (err: unknown) => err instanceof NvidError && err.code === expected;

describe('shared transfers: the signed manifest and the pieces on disk', () => {
  let dir: string;
  let envelope: string;
  let bytes: Buffer;
  let signed: SignedManifest;
  const sender = identity(0);
  const recipients = [identity(1).id, identity(2).id];
  const PIECE = 65536;

  beforeEach(async () => {
    dir = tempDir();
    bytes = randomBytes(5 * PIECE + 1234);
    envelope = join(dir, 'sealed.envelope');
    writeFileSync(envelope, bytes);
    const hashes = await hashPieces(envelope, bytes.length, PIECE);
    signed = signManifest({ transferId: 'abcdef01-0000-4000-8000-000000000000', senderId: sender.id, recipients, length: bytes.length, pieceBytes: PIECE, created: 1_700_000_000_000, hashes }, sender.keyPem);
  });
  afterEach(() => removeDir(dir));

  const record = (): OfferRecord => ({ text: signed.text, signature: signed.signature, senderName: 'studio', senderCertPem: sender.certPem });
  const piece = (i: number) => bytes.subarray(pieceRange(signed.manifest, i).start, pieceRange(signed.manifest, i).end);

  it('cuts an envelope into at most 1024 aligned pieces, the last one short', () => {
    assert.equal(pieceCount(signed.manifest), 6);
    assert.equal(pieceRange(signed.manifest, 5).end - pieceRange(signed.manifest, 5).start, 1234);
    const huge = pieceBytesFor(10 * 1024 ** 3);
    assert.ok(Math.ceil((10 * 1024 ** 3) / huge) <= MAX_PIECES);
    assert.equal(huge % PIECE_ALIGN_BYTES, 0);
  });

  it('verifies only against the sender that signed it, and refuses any change to its text', () => {
    assert.deepEqual(verifyManifest(signed.text, signed.signature, sender.certPem, sender.id).manifest, signed.manifest);
    assert.throws(() => verifyManifest(signed.text, signed.signature, identity(1).certPem, identity(1).id), code('NVID_ERR_SWARM_MANIFEST'));
    // A recipient re-addressing the manifest, or growing the file, breaks the signature.
    const readdressed = signed.text.replace(recipients[1]!, identity(3).id);
    assert.throws(() => verifyManifest(readdressed, signed.signature, sender.certPem, sender.id), /signature does not verify/);
    // Signed by the sender, but naming another sender inside.
    const other = signManifest({ ...signed.manifest, senderId: identity(1).id, hashes: Buffer.from(signed.manifest.hashes, 'base64') }, sender.keyPem);
    assert.throws(() => verifyManifest(other.text, other.signature, sender.certPem, sender.id), /names sender/);
  });

  it('stores a piece only when its hash is the signed one, and serves what it holds', async () => {
    const store = await PieceStore.openRecipient(join(dir, 'share'), record(), signed);
    const bad = Buffer.from(piece(2));
    bad[7]! ^= 1;
    await assert.rejects(store.accept(2, bad), code('NVID_ERR_BAD_PIECE'));
    await assert.rejects(store.accept(2, piece(3)), code('NVID_ERR_BAD_PIECE'));
    assert.equal(store.has(2), false);
    await store.accept(2, piece(2));
    assert.equal(store.has(2), true);
    assert.deepEqual(await store.read(2), piece(2));
    const theirs = new Bitfield(6);
    assert.equal(store.nextFor(theirs), 2);
    theirs.set(2);
    assert.equal(store.nextFor(theirs), undefined);
    await store.close();
  });

  it('reopens from its log after a crash, ignoring a torn last entry, and starts over for another manifest', async () => {
    const share = join(dir, 'share');
    let store = await PieceStore.openRecipient(share, record(), signed);
    for (const i of [0, 1, 4]) await store.accept(i, piece(i));
    await store.close();
    appendFileSync(join(share, 'pieces.log'), Buffer.from([0, 0])); // a write cut short by kill -9
    store = await PieceStore.openRecipient(share, record(), signed);
    assert.equal(store.have, 3);
    assert.deepEqual([0, 1, 2, 3, 4, 5].map((i) => store.has(i)), [true, true, false, false, true, false]);
    for (const i of [2, 3, 5]) await store.accept(i, piece(i));
    assert.ok(store.complete);
    await store.close();
    assert.deepEqual(PieceStore.readOffer(share)?.signed.manifest, signed.manifest);
    const resealed = signManifest({ ...signed.manifest, pieceBytes: 2 * PIECE, hashes: await hashPieces(envelope, bytes.length, 2 * PIECE) }, sender.keyPem);
    store = await PieceStore.openRecipient(share, { ...record(), text: resealed.text, signature: resealed.signature }, resealed);
    assert.equal(store.have, 0, 'another manifest for the same transfer shares nothing');
    await store.close();
  });
});
