/**
 * Known-answer vectors of the multi-recipient envelope (v2): fixed randomness
 * seals to exactly the checked-in bytes, and every listed receiver opens them
 * to the recorded meta (itself as receiver, the whole list) and plaintext.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { ENVELOPE_VERSION_MULTI } from '../../../plugins/crypto/envelope-format.js';
import { asPeer, freshGuard, openBuffer } from './helpers.js';
import { sealVectorV2, type VectorFileV2 } from './known-answer-vectors-v2.js';

// Compiled to dist/test/unit/crypto; the fixtures stay in the source tree.
const vectors = JSON.parse(readFileSync(new URL('../../../../test/fixtures/crypto/envelope-v2-vectors.json', import.meta.url), 'utf8')) as VectorFileV2;

describe('crypto known-answer vectors (envelope v2, several recipients)', () => {
  it('has three recipients and the cases the format needs', () => {
    assert.equal(vectors.receivers.length, 3);
    assert.deepEqual(vectors.cases.map((c) => c.meta.size), [0, 150]);
  });

  for (const c of vectors.cases) {
    describe(c.name, () => {
      it('seals to exactly the recorded envelope bytes', async () => {
        const envelope = await sealVectorV2(vectors, c);
        assert.equal(envelope[4], ENVELOPE_VERSION_MULTI);
        assert.equal(envelope.toString('hex'), c.envelope);
      });

      it('opens the recorded envelope at every listed receiver', async () => {
        for (const receiver of vectors.receivers) {
          const opened = await openBuffer(Buffer.from(c.envelope, 'hex'), {
            sender: asPeer(vectors.sender, 'kat-sender'),
            identity: receiver,
            replayGuard: await freshGuard(),
            now: () => c.meta.time,
          });
          assert.deepEqual(opened.meta, { ...c.meta, receiverId: receiver.id });
          assert.equal(opened.plaintext.toString('hex'), c.plaintext);
        }
      });
    });
  }
});
