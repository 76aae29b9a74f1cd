/** The chunk streams on their own: any piece sizes, and a source that does not match its announced size. */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { chunkCount, TAG_BYTES } from '../../../plugins/crypto/envelope-format.js';
import { ChunkOpener, ChunkSealer } from '../../../plugins/crypto/stream-cipher.js';
import { assertCode, patternBytes, piecewise } from './helpers.js';

describe('crypto chunk streams', () => {
  const payloadKey = randomBytes(32);
  const chunkSize = 100;

  async function seal(plaintext: Buffer, pieceSize: number, size = plaintext.length): Promise<Buffer> {
    return buffer(piecewise(plaintext, pieceSize).pipe(new ChunkSealer({ payloadKey, size, chunkSize }, Buffer.alloc(0))));
  }

  it('seals to the same bytes however the plaintext is cut into pieces', async () => {
    const plaintext = patternBytes(1234);
    const reference = await seal(plaintext, 1234);
    assert.equal(reference.length, plaintext.length + chunkCount(plaintext.length, chunkSize) * TAG_BYTES);
    for (const pieceSize of [1, 7, 99, 100, 101, 250]) {
      assert.ok((await seal(plaintext, pieceSize)).equals(reference), `pieces of ${pieceSize}`);
    }
  });

  it('opens whatever way the sealed bytes arrive, down to one byte at a time', async () => {
    const plaintext = patternBytes(1234);
    const sealed = await seal(plaintext, 1234);
    for (const pieceSize of [1, 15, 16, 17, 116, 117, 5000]) {
      const opened = await buffer(piecewise(sealed, pieceSize).pipe(new ChunkOpener({ payloadKey, size: plaintext.length, chunkSize })));
      assert.ok(opened.equals(plaintext), `pieces of ${pieceSize}`);
    }
  });

  it('ends only after onComplete resolved, and fails if it rejects', async () => {
    const sealed = await seal(patternBytes(10), 10);
    const order: string[] = [];
    const opener = new ChunkOpener({ payloadKey, size: 10, chunkSize }, async () => {
      await new Promise((resolve) => setTimeout(resolve, 20));
      order.push('committed');
    });
    opener.on('end', () => order.push('end'));
    await buffer(Readable.from([sealed]).pipe(opener));
    assert.deepEqual(order, ['committed', 'end']);

    const failing = new ChunkOpener({ payloadKey, size: 10, chunkSize }, async () => {
      throw new Error('disk full');
    });
    await assert.rejects(buffer(Readable.from([sealed]).pipe(failing)), /disk full/);
  });

  it('refuses a source shorter or longer than announced (the file changed while sending)', async () => {
    await assertCode(seal(patternBytes(250), 50, 300), 'NVID_ERR_BAD_ENVELOPE', 'short');
    await assertCode(seal(patternBytes(301), 50, 300), 'NVID_ERR_BAD_ENVELOPE', 'long');
    await assertCode(seal(patternBytes(1), 1, 0), 'NVID_ERR_BAD_ENVELOPE', 'announced empty');
  });
});
