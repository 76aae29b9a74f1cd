/**
 * The known-answer vectors of envelope format v2 (several recipients): their
 * shape, and how they are made. The checked-in file
 * test/fixtures/crypto/envelope-v2-vectors.json is the reference; regenerate
 * it only for a deliberate format change:
 *
 *   node dist/test/unit/crypto/known-answer-vectors-v2.js test/fixtures/crypto/envelope-v2-vectors.json
 *
 * The OAEP seed is the same for every recipient here (deterministic test
 * randomness only; real sealing draws a fresh seed per wrap).
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
import { fixedPrimitives } from './deterministic-primitives.js';
import { randomnessOf, type VectorCase } from './known-answer-vectors.js';

export interface VectorFileV2 {
  readonly description: string;
  readonly sender: Identity;
  /** In the envelope's order. */
  readonly receivers: Identity[];
  readonly cases: VectorCase[];
}

/** Seals a case's plaintext for all the file's receivers with its fixed randomness. */
export async function sealVectorV2(file: Pick<VectorFileV2, 'sender' | 'receivers'>, c: Omit<VectorCase, 'envelope'>): Promise<Buffer> {
  const plaintext = Buffer.from(c.plaintext, 'hex');
  const sealed = sealStream(Readable.from(plaintext.length ? [plaintext] : []), {
    recipients: file.receivers,
    sender: file.sender,
    meta: c.meta,
    chunkSize: c.chunkSize,
    primitives: fixedPrimitives(randomnessOf(c as VectorCase)),
  });
  return buffer(sealed.stream);
}

function fixed(label: string, bytes = 32): string {
  return createHash('sha256').update(`nvid known-answer v2 ${label}`).digest().subarray(0, bytes).toString('hex');
}

async function generate(out: string): Promise<void> {
  const sender = createIdentity('kat-sender');
  const receivers = [createIdentity('kat-receiver-a'), createIdentity('kat-receiver-b'), createIdentity('kat-receiver-c')];
  const shapes: Array<[string, number, number, TransferMeta['mediaType'], string]> = [
    ['empty body', 64, 0, 'image', 'empty.png'],
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
      meta: {
        transferId: `kat-v2-${index}`,
        senderId: sender.id,
        receiverId: receivers[0]!.id,
        recipientIds: receivers.map((r) => r.id),
        time: 1_700_000_000_000 + index,
        size,
        mediaType,
        fileName,
      },
      plaintext: plaintext.toString('hex'),
    };
    cases.push({ ...partial, envelope: (await sealVectorV2({ sender, receivers }, partial)).toString('hex') });
  }
  const file: VectorFileV2 = {
    description: 'nvid envelope v2 (multi-recipient) known-answer vectors; see plugins/crypto/README.md for the layout. Test keys only.',
    sender,
    receivers,
    cases,
  };
  writeFileSync(out, `${JSON.stringify(file, null, 2)}\n`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const out = process.argv[2];
  if (!out) throw new Error('usage: node known-answer-vectors-v2.js OUT.json');
  await generate(out);
}
