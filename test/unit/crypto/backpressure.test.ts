/** Both directions read only as fast as their reader takes: a slow consumer never makes them buffer the file. */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { openEnvelope } from '../../../plugins/crypto/open.js';
import { sealStream } from '../../../plugins/crypto/seal.js';
import { asPeer, freshGuard, makeMeta, testIdentities } from './helpers.js';
import { seededStream } from './seeded-stream.js';

/** Wraps `source`, counting the bytes pulled from it. */
function counted(source: Readable): { stream: Readable; pulled: () => number } {
  let pulled = 0;
  const stream = source.map((piece: Buffer) => {
    pulled += piece.length;
    return piece;
  }, { concurrency: 1 });
  return { stream, pulled: () => pulled };
}

describe('crypto backpressure', function () {
  this.timeout(60_000);
  const size = 16 * 1024 * 1024;
  const chunkSize = 65536;
  // A few 64 KiB pieces in each stream's buffer; far below the 16 MiB file.
  const bound = 1024 * 1024;

  it('seals no further ahead of its reader than a few chunks', async () => {
    const { alice, bob } = testIdentities();
    const source = counted(seededStream('backpressure-seal', size, 65536));
    const sealed = sealStream(source.stream, { recipient: bob, sender: alice, meta: makeMeta(alice, bob, size), chunkSize });
    const first = await new Promise<Buffer>((resolve) => sealed.stream.once('readable', () => resolve(sealed.stream.read() as Buffer)));
    assert.ok(first.length > 0);
    await sleep(100);
    assert.ok(source.pulled() < bound, `read ${source.pulled()} bytes of the file for a reader that took one piece`);
    sealed.stream.destroy();
  });

  it('opens no further ahead of its reader than a few chunks, then delivers everything', async () => {
    const { alice, bob } = testIdentities();
    const meta = makeMeta(alice, bob, size);
    const envelope = await buffer(sealStream(seededStream('backpressure-open', size), { recipient: bob, sender: alice, meta, chunkSize }).stream);
    const source = counted(Readable.from([envelope]).flatMap(function* (whole: Buffer) {
      for (let at = 0; at < whole.length; at += 65536) yield whole.subarray(at, at + 65536);
    }));
    const opened = await openEnvelope({ envelope: source.stream, sender: asPeer(alice, 'alice'), identity: bob, replayGuard: await freshGuard(), replayWindowMs: 3_600_000, maxClockSkewMs: 0 });
    await sleep(100);
    assert.ok(source.pulled() < bound, `pulled ${source.pulled()} envelope bytes with nobody reading the plaintext`);
    const plaintext = await buffer(opened.plaintext);
    assert.equal(plaintext.length, size);
    assert.equal(source.pulled(), envelope.length);
  });
});
