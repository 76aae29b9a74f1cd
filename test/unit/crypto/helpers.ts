/** Shared fixtures of the crypto tests: identities made once, envelopes in memory, error assertions. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { NvidError, type NvidErrorCode } from '../../../core/errors.js';
import { createIdentity } from '../../../core/identity.js';
import type { CertifiedPeer, Identity, Peer, TransferMeta } from '../../../core/types.js';
import { openEnvelope, type OpenInput } from '../../../plugins/crypto/open.js';
import { ReplayGuard } from '../../../plugins/crypto/replay-guard.js';
import { sealStream, type SealInput } from '../../../plugins/crypto/seal.js';

let identities: { alice: Identity; bob: Identity; carol: Identity } | undefined;

/** Three identities (about 0.2 s each), made once for the whole run. */
export function testIdentities(): { alice: Identity; bob: Identity; carol: Identity } {
  identities ??= { alice: createIdentity('alice'), bob: createIdentity('bob'), carol: createIdentity('carol') };
  return identities;
}

/** An identity as the peer directory would list it. */
export function asPeer(identity: Identity, name: string): CertifiedPeer {
  return { id: identity.id, name, certPem: identity.certPem, address: '127.0.0.1', port: 1, tags: [] };
}

let transferCounter = 0;

/** A meta from `sender` to `receiver`, dated now, with a transfer ID unique in this run. */
export function makeMeta(sender: Identity, receiver: Identity, size: number, overrides: Partial<TransferMeta> = {}): TransferMeta {
  transferCounter += 1;
  return {
    transferId: `transfer-${process.pid}-${transferCounter}`, // at least 8 characters, whatever the PID (the receiver refuses shorter IDs)
    senderId: sender.id,
    receiverId: receiver.id,
    time: Date.now(),
    size,
    mediaType: 'image',
    fileName: 'photo.png',
    ...overrides,
  };
}

/** Seals an in-memory plaintext and collects the envelope bytes, checking the announced length. */
export async function sealToBuffer(plaintext: Buffer, input: Omit<SealInput, 'meta'> & { meta?: TransferMeta }, receiver?: Identity): Promise<Buffer> {
  const meta = input.meta ?? makeMeta(testIdentities().alice, receiver ?? testIdentities().bob, plaintext.length);
  const sealed = sealStream(Readable.from(plaintext.length ? [plaintext] : []), { ...input, meta });
  const bytes = await buffer(sealed.stream);
  assert.equal(bytes.length, sealed.length, 'announced envelope length');
  return bytes;
}

const tempDirs: string[] = [];
// One root-level hook removes every folder the crypto tests made.
after(() => {
  for (const dir of tempDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A fresh folder under os.tmpdir(), removed after the run. */
export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'nvid-crypto-test-'));
  tempDirs.push(dir);
  return dir;
}

/** A replay guard on a fresh file in a fresh temporary folder. */
export async function freshGuard(): Promise<ReplayGuard> {
  return ReplayGuard.load({ file: join(tempDir(), 'replay.log'), windowMs: 3_600_000 });
}

/** Feeds `envelope` in pieces of `pieceSize` bytes, so chunk boundaries fall anywhere. */
export function piecewise(envelope: Buffer, pieceSize = 7919): Readable {
  const pieces: Buffer[] = [];
  for (let at = 0; at < envelope.length; at += pieceSize) pieces.push(envelope.subarray(at, at + pieceSize));
  return Readable.from(pieces);
}

export type OpenBufferInput = Omit<OpenInput, 'envelope' | 'replayWindowMs' | 'maxClockSkewMs'> & Partial<Pick<OpenInput, 'replayWindowMs' | 'maxClockSkewMs'>>;

/** Opens an envelope from memory and reads all its plaintext; rejects on any failure, header or body. */
export async function openBuffer(envelope: Buffer, input: OpenBufferInput): Promise<{ meta: TransferMeta; plaintext: Buffer }> {
  const opened = await openEnvelope({ replayWindowMs: 3_600_000, maxClockSkewMs: 300_000, ...input, envelope: piecewise(envelope) });
  return { meta: opened.meta, plaintext: await buffer(opened.plaintext) };
}

/** Asserts that `promise` rejects with an NvidError of exactly `code`. */
export async function assertCode(promise: Promise<unknown>, code: NvidErrorCode, context = ''): Promise<NvidError> {
  const err = await promise.then(
    () => assert.fail(`expected ${code}${context ? ` (${context})` : ''}, but it succeeded`),
    (e: unknown) => e,
  );
  assert.ok(err instanceof NvidError, `expected an NvidError with ${code}, got ${String(err)}${context ? ` (${context})` : ''}`);
  assert.equal(err.code, code, `${context}: ${err.message}`);
  return err;
}

/** `n` bytes of a fixed pattern, different at every position within any 256-byte window. */
export function patternBytes(n: number, seed = 1): Buffer {
  const out = Buffer.alloc(n);
  for (let i = 0; i < n; i += 1) out[i] = (i * 31 + seed * 17 + (i >> 8)) & 0xff;
  return out;
}
