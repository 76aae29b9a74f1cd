/** A 100 MB file through seal and open via files on disk: byte-identical, streamed throughout. */
import assert from 'node:assert/strict';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { asPeer, makeMeta, tempDir, testIdentities } from './helpers.js';
import { hostWithPlugin } from './plugin-host.js';
import { seededStream, writeHashed } from './seeded-stream.js';

describe('crypto 100 MB round trip', function () {
  this.timeout(120_000);
  const size = 100 * 1000 * 1000;

  it('comes back with the same SHA-256, streaming to and from temporary files', async () => {
    const { alice, bob } = testIdentities();
    const dir = tempDir();
    const source = join(dir, 'source.mp4');
    const original = await writeHashed(seededStream('100MB', size), source);
    assert.equal(original.bytes, size);

    const aliceHooks = await hostWithPlugin(alice, tempDir());
    const sealed = await aliceHooks.seal.promise({ path: source, recipient: asPeer(bob, 'bob'), meta: makeMeta(alice, bob, size, { mediaType: 'video', fileName: 'source.mp4' }) });
    const envelopePath = join(dir, 'envelope.bin');
    await writeHashed(sealed!.stream, envelopePath);
    assert.equal((await stat(envelopePath)).size, sealed!.length);

    const bobHooks = await hostWithPlugin(bob, tempDir());
    const rssBefore = process.memoryUsage().rss;
    const opened = await bobHooks.open.promise({ envelope: createReadStream(envelopePath), sender: asPeer(alice, 'alice') });
    const received = await writeHashed(opened!.plaintext, join(dir, 'received.part'));
    assert.equal(received.bytes, size);
    assert.equal(received.sha256, original.sha256);
    // Streaming keeps memory flat; holding the file would add 100 MB. Generous bound, not a timing.
    assert.ok(process.memoryUsage().rss - rssBefore < 64 * 1024 * 1024, 'memory grew with the file size');
  });
});
