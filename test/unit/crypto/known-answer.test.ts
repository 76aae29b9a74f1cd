/**
 * Known-answer vectors: fixed keys, salt, OAEP seed, PSS salt and plaintexts
 * must seal to exactly the checked-in envelope bytes, and those bytes must open
 * with plain node:crypto OAEP/PSS. A change to the format fails here first.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { deriveTransferKeys } from '../../../plugins/crypto/envelope-keys.js';
import { chunkNonce } from '../../../plugins/crypto/envelope-format.js';
import { asPeer, freshGuard, openBuffer } from './helpers.js';
import { sealVector, type VectorFile } from './known-answer-vectors.js';

// Compiled to dist/test/unit/crypto; the fixtures stay in the source tree.
const vectors = JSON.parse(readFileSync(new URL('../../../../test/fixtures/crypto/envelope-v1-vectors.json', import.meta.url), 'utf8')) as VectorFile;

describe('crypto known-answer vectors (envelope v1)', () => {
  it('has the cases the format needs', () => {
    assert.deepEqual(
      vectors.cases.map((c) => c.meta.size),
      [0, 1, 128, 150],
    );
  });

  it('numbers chunk nonces as an 88-bit counter followed by the final flag', () => {
    assert.equal(chunkNonce(0, false).toString('hex'), '000000000000000000000000');
    assert.equal(chunkNonce(1, true).toString('hex'), '000000000000000000000101');
    assert.equal(chunkNonce(0x0102030405, false).toString('hex'), '000000000000010203040500');
  });

  for (const c of vectors.cases) {
    describe(c.name, () => {
      it('derives the pinned header and payload keys', () => {
        const keys = deriveTransferKeys(Buffer.from(c.fileKey, 'hex'), Buffer.from(c.salt, 'hex'));
        assert.equal(keys.headerKey.toString('hex'), c.headerKey);
        assert.equal(keys.payloadKey.toString('hex'), c.payloadKey);
      });

      it('seals to exactly the recorded envelope bytes', async () => {
        const envelope = await sealVector(vectors, c);
        assert.equal(envelope.toString('hex'), c.envelope);
      });

      it('opens the recorded envelope to the recorded meta and plaintext', async () => {
        const opened = await openBuffer(Buffer.from(c.envelope, 'hex'), {
          sender: asPeer(vectors.sender, 'kat-sender'),
          identity: vectors.receiver,
          replayGuard: await freshGuard(),
          now: () => c.meta.time,
        });
        assert.deepEqual(opened.meta, c.meta);
        assert.equal(opened.plaintext.toString('hex'), c.plaintext);
      });
    });
  }
});
