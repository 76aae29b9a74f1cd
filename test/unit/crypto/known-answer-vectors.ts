/**
 * The known-answer vectors of envelope format v1: their shape, and how they
 * are made. The checked-in file test/fixtures/crypto/envelope-v1-vectors.json
 * is the reference; regenerate it only for a deliberate format change (which
 * also bumps ENVELOPE_VERSION):
 *
 *   node dist/test/unit/crypto/known-answer-vectors.js test/fixtures/crypto/envelope-v1-vectors.json
 */
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { pathToFileURL } from 'node:url';
import { createIdentity } from '../../../core/identity.js';
import type { Identity, TransferMeta } from '../../../core/types.js';
import { deriveTransferKeys } from '../../../plugins/crypto/envelope-keys.js';
import { sealStream } from '../../../plugins/crypto/seal.js';
import { fixedPrimitives, type FixedRandomness } from './deterministic-primitives.js';

export interface VectorCase {
  readonly name: string;
  readonly chunkSize: number;
  readonly fileKey: string;
  readonly salt: string;
  readonly oaepSeed: string;
  readonly pssSalt: string;
  /** HKDF outputs, to pin the key schedule separately from the envelope. */
  readonly headerKey: string;
  readonly payloadKey: string;
  readonly meta: TransferMeta;
  readonly plaintext: string;
  readonly envelope: string;
}

export interface VectorFile {
  readonly description: string;
  readonly sender: Identity;
  readonly receiver: Identity;
  readonly cases: VectorCase[];
}

/** Fixed bytes of one case, all hex. */
export function randomnessOf(c: VectorCase): FixedRandomness {
  return {
    fileKey: Buffer.from(c.fileKey, 'hex'),
    salt: Buffer.from(c.salt, 'hex'),
    oaepSeed: Buffer.from(c.oaepSeed, 'hex'),
    pssSalt: Buffer.from(c.pssSalt, 'hex'),
  };
}

/** Seals a case's plaintext with its fixed randomness. */
export async function sealVector(file: Pick<VectorFile, 'sender' | 'receiver'>, c: Omit<VectorCase, 'envelope'>): Promise<Buffer> {
  const plaintext = Buffer.from(c.plaintext, 'hex');
  const sealed = sealStream(Readable.from(plaintext.length ? [plaintext] : []), {
    recipient: file.receiver,
    sender: file.sender,
    meta: c.meta,
    chunkSize: c.chunkSize,
    primitives: fixedPrimitives(randomnessOf(c as VectorCase)),
  });
  return buffer(sealed.stream);
}

function fixed(label: string, bytes = 32): string {
  return createHash('sha256').update(`nvid known-answer ${label}`).digest().subarray(0, bytes).toString('hex');
}

async function generate(out: string): Promise<void> {
  const sender = createIdentity('kat-sender');
  const receiver = createIdentity('kat-receiver');
  const shapes: Array<[string, number, number, TransferMeta['mediaType'], string]> = [
    ['empty body', 64, 0, 'image', 'empty.png'],
    ['one byte', 64, 1, 'image', 'one.png'],
    ['final chunk full', 64, 128, 'video', 'two-chunks.mp4'],
    ['final chunk partial', 64, 150, 'video', 'clip with spaces é.mp4'],
  ];
  const cases: VectorCase[] = [];
  for (const [index, [name, chunkSize, size, mediaType, fileName]] of shapes.entries()) {
    const fileKey = fixed(`${name} file key`);
    const salt = fixed(`${name} salt`);
    const keys = deriveTransferKeys(Buffer.from(fileKey, 'hex'), Buffer.from(salt, 'hex'));
    const plaintext = Buffer.alloc(size);
    for (let i = 0; i < size; i += 1) plaintext[i] = (i * 7 + index) & 0xff;
    const partial = {
      name,
      chunkSize,
      fileKey,
      salt,
      oaepSeed: fixed(`${name} oaep seed`),
      pssSalt: fixed(`${name} pss salt`),
      headerKey: keys.headerKey.toString('hex'),
      payloadKey: keys.payloadKey.toString('hex'),
      meta: { transferId: `kat-${index}`, senderId: sender.id, receiverId: receiver.id, time: 1_700_000_000_000 + index, size, mediaType, fileName },
      plaintext: plaintext.toString('hex'),
    };
    cases.push({ ...partial, envelope: (await sealVector({ sender, receiver }, partial)).toString('hex') });
  }
  const file: VectorFile = {
    description: 'nvid envelope v1 known-answer vectors; see plugins/crypto/README.md for the layout. Test keys only.',
    sender,
    receiver,
    cases,
  };
  writeFileSync(out, `${JSON.stringify(file, null, 2)}\n`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const out = process.argv[2];
  if (!out) throw new Error('usage: node known-answer-vectors.js OUT.json');
  await generate(out);
}
