/** Round trips through sealStream/openEnvelope in memory: every plaintext comes back byte for byte. */
import assert from 'node:assert/strict';
import { DEFAULT_OPTIONS } from '../../../plugins/crypto/options.js';
import { asPeer, freshGuard, makeMeta, openBuffer, patternBytes, sealToBuffer, testIdentities } from './helpers.js';

describe('crypto envelope round trip', function () {
  this.timeout(60_000);
  const C = DEFAULT_OPTIONS.chunkSize;

  for (const size of [0, 1, C - 1, C, C + 1, 3 * C + 17]) {
    it(`returns ${size} bytes unchanged with ${C}-byte chunks`, async () => {
      const { alice, bob } = testIdentities();
      const plaintext = patternBytes(size, size);
      const meta = makeMeta(alice, bob, size, { fileName: 'clip.mp4', mediaType: 'video' });
      const envelope = await sealToBuffer(plaintext, { recipient: bob, sender: alice, meta, chunkSize: C });
      const opened = await openBuffer(envelope, { sender: asPeer(alice, 'alice'), identity: bob, replayGuard: await freshGuard() });
      assert.deepEqual(opened.meta, meta);
      assert.ok(opened.plaintext.equals(plaintext), 'plaintext differs');
    });
  }

  it('hides the file name, media type, transfer ID and body from the wire', async () => {
    const { alice, bob } = testIdentities();
    const plaintext = Buffer.from('SECRET-MEDIA-BYTES '.repeat(50));
    const meta = makeMeta(alice, bob, plaintext.length, { fileName: 'holiday-secret.png', mediaType: 'video' });
    const envelope = await sealToBuffer(plaintext, { recipient: bob, sender: alice, meta, chunkSize: 64 });
    for (const needle of ['holiday-secret', 'SECRET-MEDIA', 'video', meta.transferId, alice.id, bob.id, alice.id.slice(0, 16)]) {
      assert.equal(envelope.includes(Buffer.from(needle)), false, `${needle} readable in envelope`);
    }
    // The sender's raw ID is not in clear either (only the recipient's is, to route the key).
    assert.equal(envelope.includes(Buffer.from(alice.id, 'hex')), false);
  });

  it('gives every transfer a fresh key: the same plaintext seals to different bytes', async () => {
    const { alice, bob } = testIdentities();
    const plaintext = patternBytes(1000);
    const meta = makeMeta(alice, bob, plaintext.length);
    const a = await sealToBuffer(plaintext, { recipient: bob, sender: alice, meta, chunkSize: 256 });
    const b = await sealToBuffer(plaintext, { recipient: bob, sender: alice, meta, chunkSize: 256 });
    assert.equal(a.length, b.length);
    assert.equal(a.equals(b), false);
  });

  it('sanitises the file name it hands out', async () => {
    const { alice, bob } = testIdentities();
    const meta = makeMeta(alice, bob, 3, { fileName: '../../etc/pass\u0000wd' });
    const envelope = await sealToBuffer(Buffer.from('abc'), { recipient: bob, sender: alice, meta, chunkSize: 64 });
    const opened = await openBuffer(envelope, { sender: asPeer(alice, 'alice'), identity: bob, replayGuard: await freshGuard() });
    assert.equal(opened.meta.fileName, '_._etc_pass_wd');
  });
});
