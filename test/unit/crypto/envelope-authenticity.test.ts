/**
 * Who sent an envelope, to whom, and when: wrong recipients, forged or
 * misattributed headers, replays (also across a restart) and stale or
 * future timestamps are each refused with their own code.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { buffer } from 'node:stream/consumers';
import { openEnvelope } from '../../../plugins/crypto/open.js';
import { ReplayGuard } from '../../../plugins/crypto/replay-guard.js';
import { asPeer, assertCode, freshGuard, makeMeta, openBuffer, patternBytes, piecewise, sealToBuffer, tempDir, testIdentities } from './helpers.js';

describe('crypto envelope authenticity', function () {
  this.timeout(60_000);
  const plaintext = patternBytes(300);

  async function sealFromAliceToBob(overrides = {}, chunkSize = 128): Promise<Buffer> {
    const { alice, bob } = testIdentities();
    return sealToBuffer(plaintext, { recipient: bob, sender: alice, meta: makeMeta(alice, bob, plaintext.length, overrides), chunkSize });
  }

  describe('recipient', () => {
    it('refuses an envelope sealed for another node with NVID_ERR_WRONG_RECIPIENT', async () => {
      const { alice, bob, carol } = testIdentities();
      const forCarol = await sealToBuffer(plaintext, { recipient: carol, sender: alice, meta: makeMeta(alice, carol, plaintext.length), chunkSize: 128 });
      await assertCode(openBuffer(forCarol, { sender: asPeer(alice, 'alice'), identity: bob, replayGuard: await freshGuard() }), 'NVID_ERR_WRONG_RECIPIENT');
      // The rightful recipient opens it.
      const opened = await openBuffer(forCarol, { sender: asPeer(alice, 'alice'), identity: carol, replayGuard: await freshGuard() });
      assert.ok(opened.plaintext.equals(plaintext));
    });

    it('refuses to seal when the meta names another receiver than the recipient', async () => {
      const { alice, bob, carol } = testIdentities();
      await assertCode(sealToBuffer(plaintext, { recipient: bob, sender: alice, meta: makeMeta(alice, carol, plaintext.length), chunkSize: 128 }), 'NVID_ERR_WRONG_RECIPIENT');
    });
  });

  describe('sender', () => {
    it('refuses a header signed by a key that is not the claimed sender\'s with NVID_ERR_BAD_SIGNATURE', async () => {
      const { alice, bob, carol } = testIdentities();
      // Carol claims to be Alice: Alice's ID in the header, Carol's key under the signature.
      const forged = await sealToBuffer(plaintext, { recipient: bob, sender: { id: alice.id, keyPem: carol.keyPem }, meta: makeMeta(alice, bob, plaintext.length), chunkSize: 128 });
      await assertCode(openBuffer(forged, { sender: asPeer(alice, 'alice'), identity: bob, replayGuard: await freshGuard() }), 'NVID_ERR_BAD_SIGNATURE');
    });

    it('refuses an envelope signed by someone other than the peer the connection authenticated', async () => {
      const { bob, carol } = testIdentities();
      const fromAlice = await sealFromAliceToBob();
      await assertCode(openBuffer(fromAlice, { sender: asPeer(carol, 'carol'), identity: bob, replayGuard: await freshGuard() }), 'NVID_ERR_BAD_SIGNATURE');
    });

    it('refuses a validly signed header whose senderId is not the authenticated peer\'s ID', async () => {
      const { alice, bob, carol } = testIdentities();
      const fromAlice = await sealFromAliceToBob();
      // Same certificate, different ID: only the ID check can catch it.
      const err = await assertCode(
        openBuffer(fromAlice, { sender: { id: carol.id, certPem: alice.certPem }, identity: bob, replayGuard: await freshGuard() }),
        'NVID_ERR_BAD_SIGNATURE',
      );
      assert.match(err.message, /claims sender/);
    });
  });

  describe('replay', () => {
    it('refuses the same envelope a second time with NVID_ERR_REPLAY', async () => {
      const { alice, bob } = testIdentities();
      const guard = await freshGuard();
      const envelope = await sealFromAliceToBob();
      await openBuffer(envelope, { sender: asPeer(alice, 'alice'), identity: bob, replayGuard: guard });
      await assertCode(openBuffer(envelope, { sender: asPeer(alice, 'alice'), identity: bob, replayGuard: guard }), 'NVID_ERR_REPLAY');
    });

    it('still refuses it after a restart (a new guard on the same file)', async () => {
      const { alice, bob } = testIdentities();
      const file = join(tempDir(), 'replay.log');
      const envelope = await sealFromAliceToBob();
      const before = await ReplayGuard.load({ file, windowMs: 3_600_000 });
      await openBuffer(envelope, { sender: asPeer(alice, 'alice'), identity: bob, replayGuard: before });
      const afterRestart = await ReplayGuard.load({ file, windowMs: 3_600_000 });
      await assertCode(openBuffer(envelope, { sender: asPeer(alice, 'alice'), identity: bob, replayGuard: afterRestart }), 'NVID_ERR_REPLAY');
    });

    it('refuses a second copy arriving while the first is still being received', async () => {
      const { alice, bob } = testIdentities();
      const guard = await freshGuard();
      const envelope = await sealFromAliceToBob();
      const first = await openEnvelope({ envelope: piecewise(envelope), sender: asPeer(alice, 'alice'), identity: bob, replayGuard: guard, replayWindowMs: 3_600_000, maxClockSkewMs: 0 });
      await assertCode(openBuffer(envelope, { sender: asPeer(alice, 'alice'), identity: bob, replayGuard: guard }), 'NVID_ERR_REPLAY');
      assert.ok((await buffer(first.plaintext)).equals(plaintext));
    });

    it('lets a transfer that broke off mid-body be retried with the same ID', async () => {
      const { alice, bob } = testIdentities();
      const guard = await freshGuard();
      const envelope = await sealFromAliceToBob();
      await assertCode(openBuffer(envelope.subarray(0, envelope.length - 10), { sender: asPeer(alice, 'alice'), identity: bob, replayGuard: guard }), 'NVID_ERR_TRUNCATED');
      const retried = await openBuffer(envelope, { sender: asPeer(alice, 'alice'), identity: bob, replayGuard: guard });
      assert.ok(retried.plaintext.equals(plaintext));
    });
  });

  describe('time', () => {
    it('refuses an envelope older than the replay window with NVID_ERR_STALE', async () => {
      const { alice, bob } = testIdentities();
      const envelope = await sealFromAliceToBob({ time: Date.now() - 2 * 3_600_000 });
      await assertCode(openBuffer(envelope, { sender: asPeer(alice, 'alice'), identity: bob, replayGuard: await freshGuard(), replayWindowMs: 3_600_000 }), 'NVID_ERR_STALE');
    });

    it('refuses an envelope dated further ahead than the clock skew allows with NVID_ERR_STALE', async () => {
      const { alice, bob } = testIdentities();
      const envelope = await sealFromAliceToBob({ time: Date.now() + 10 * 60_000 });
      await assertCode(openBuffer(envelope, { sender: asPeer(alice, 'alice'), identity: bob, replayGuard: await freshGuard(), maxClockSkewMs: 5 * 60_000 }), 'NVID_ERR_STALE');
    });

    it('accepts a sender clock within the skew, and judges by the injected clock', async () => {
      const { alice, bob } = testIdentities();
      const time = 1_700_000_000_000;
      const envelope = await sealFromAliceToBob({ time });
      const opened = await openBuffer(envelope, { sender: asPeer(alice, 'alice'), identity: bob, replayGuard: await freshGuard(), maxClockSkewMs: 60_000, now: () => time - 59_000 });
      assert.equal(opened.meta.time, time);
    });
  });

  describe('file name', () => {
    it('refuses a file name with nothing usable left with NVID_ERR_BAD_FILE_NAME', async () => {
      const { alice, bob } = testIdentities();
      const envelope = await sealFromAliceToBob({ fileName: '..' });
      await assertCode(openBuffer(envelope, { sender: asPeer(alice, 'alice'), identity: bob, replayGuard: await freshGuard() }), 'NVID_ERR_BAD_FILE_NAME');
    });
  });
});
