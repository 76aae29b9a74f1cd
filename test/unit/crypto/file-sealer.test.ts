/**
 * Sealing straight from a file (one reused read buffer): the same envelope a
 * stream source gives, byte for byte, at every size around chunk and read
 * boundaries; a file that shrinks or vanishes mid-send fails the envelope
 * with a reason; the file is closed however the envelope ends.
 */
import assert from 'node:assert/strict';
import { readdirSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buffer } from 'node:stream/consumers';
import { NvidError } from '../../../core/errors.js';
import { sealFile } from '../../../plugins/crypto/seal.js';
import { FILE_KEY_BYTES, SALT_BYTES } from '../../../plugins/crypto/envelope-format.js';
import { fixedPrimitives } from './deterministic-primitives.js';
import { asPeer, freshGuard, makeMeta, openBuffer, patternBytes, sealToBuffer, tempDir, testIdentities } from './helpers.js';

const CHUNK = 64 * 1024;
const READ = 1024 * 1024;

/** Descriptors this process has open, to see that the sealer closed its file. */
const openDescriptors = () => readdirSync('/proc/self/fd').length;

/** The same key, salt and padding on every call, so two seals of one plaintext can be compared byte for byte. */
const sameRandomness = () => fixedPrimitives({ fileKey: Buffer.alloc(FILE_KEY_BYTES, 1), salt: Buffer.alloc(SALT_BYTES, 2), oaepSeed: Buffer.alloc(32, 3), pssSalt: Buffer.alloc(32, 4) });

describe('crypto: sealing a file', function () {
  this.timeout(60_000);
  const { alice, bob } = testIdentities();
  const input = (size: number) => ({ recipient: asPeer(bob, 'bob'), sender: alice, chunkSize: CHUNK, meta: makeMeta(alice, bob, size) });

  for (const size of [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, READ - 1, READ, READ + 1, 3 * READ + 17]) {
    it(`seals ${size} bytes exactly as a stream source does, and opens back to them`, async () => {
      const plaintext = patternBytes(size, size);
      const file = join(tempDir(), 'picture.png');
      writeFileSync(file, plaintext);
      const fdsBefore = openDescriptors();
      const sealInput = input(size);

      const sealed = await sealFile(file, { ...sealInput, primitives: sameRandomness() });
      const envelope = await buffer(sealed.stream);
      assert.equal(envelope.length, sealed.length, 'announced envelope length');
      assert.ok(envelope.equals(await sealToBuffer(plaintext, { ...sealInput, primitives: sameRandomness() })), 'file and stream sources seal to the same bytes');
      assert.equal(openDescriptors(), fdsBefore, 'the file is closed once the envelope ended');

      const opened = await openBuffer(envelope, { sender: asPeer(alice, 'alice'), identity: bob, replayGuard: await freshGuard() });
      assert.ok(opened.plaintext.equals(plaintext));
    });
  }

  it('fails the envelope, naming the cause, when the file shrinks while it is sent', async () => {
    const size = 3 * READ;
    const file = join(tempDir(), 'clip.mp4');
    writeFileSync(file, patternBytes(size));
    const sealed = await sealFile(file, input(size));
    truncateSync(file, READ + 5);
    const err = await buffer(sealed.stream).then(
      () => assert.fail('an envelope of a shrunken file completed'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof NvidError);
    assert.equal(err.code, 'NVID_ERR_BAD_ENVELOPE');
    assert.match(err.message, /source ended after 1048581 of 3145728 bytes \(file changed while sending\?\)/);
  });

  it('closes the file when the reader gives up half way', async () => {
    const size = 4 * READ;
    const file = join(tempDir(), 'clip.mp4');
    writeFileSync(file, patternBytes(size));
    const fdsBefore = openDescriptors();
    const sealed = await sealFile(file, input(size));
    assert.equal(openDescriptors(), fdsBefore + 1);
    await new Promise<void>((resolve) => sealed.stream.once('data', () => resolve()));
    sealed.stream.destroy();
    await new Promise((resolve) => sealed.stream.once('close', resolve));
    assert.equal(openDescriptors(), fdsBefore);
  });

  it('refuses a file whose size is no longer the one validated, before reading it', async () => {
    const file = join(tempDir(), 'clip.mp4');
    writeFileSync(file, patternBytes(1000));
    await assert.rejects(sealFile(file, input(999)), (err: NvidError) => err.code === 'NVID_ERR_BAD_ENVELOPE' && /is 1000 bytes but meta.size says 999/.test(err.message));
  });
});
