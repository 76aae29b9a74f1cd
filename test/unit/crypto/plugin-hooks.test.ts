/** The crypto plugin through its hooks: options schema, roles, seal/open of real files, replay across restarts. */
import assert from 'node:assert/strict';
import { createReadStream, createWriteStream, writeFileSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { loadPlugin } from '../../../core/plugin-loader.js';
import { validateAgainst } from '../../../core/schema.js';
import CryptoPlugin, { PLUGIN_NAME } from '../../../plugins/crypto/index.js';
import { DEFAULT_OPTIONS } from '../../../plugins/crypto/options.js';
import { asPeer, assertCode, makeMeta, patternBytes, tempDir, testIdentities } from './helpers.js';
import { hostWithPlugin } from './plugin-host.js';

describe('crypto plugin hooks', function () {
  this.timeout(60_000);

  describe('options', () => {
    it('names itself and fills in every default from its schema', () => {
      assert.equal(CryptoPlugin.pluginName, PLUGIN_NAME);
      const options = {};
      assert.deepEqual(validateAgainst(CryptoPlugin.schema, options, 'options'), []);
      assert.deepEqual(options, DEFAULT_OPTIONS);
    });

    it('refuses unknown keys and out-of-range values', () => {
      const problems = validateAgainst(CryptoPlugin.schema, { chunkSize: 100, replayWindowMs: -1, colour: 'red', replayFile: '../x' }, 'options');
      assert.equal(problems.length, 4, problems.join('\n'));
    });

    it('loads through the core\'s plugin loader as the bundled "crypto"', async () => {
      const loaded = await loadPlugin({ use: 'crypto', options: { chunkSize: 131072 } }, 0, tempDir());
      assert.equal(loaded.name, PLUGIN_NAME);
      assert.equal(loaded.source, 'bundled');
      assert.ok(loaded.instance instanceof CryptoPlugin);
      assert.deepEqual((loaded.instance as CryptoPlugin).options, { ...DEFAULT_OPTIONS, chunkSize: 131072 });
    });

    it('refuses an unusable chunk size when constructed directly', () => {
      assert.throws(() => new CryptoPlugin({ chunkSize: 10 }), RangeError);
    });
  });

  it('taps nothing on the coordinator', async () => {
    const { alice } = testIdentities();
    const hooks = await hostWithPlugin(alice, tempDir(), {}, 'coordinator');
    assert.equal(hooks.seal.taps.length, 0);
    assert.equal(hooks.open.taps.length, 0);
  });

  /** Seals `plaintextPath` from Alice for Bob through the hooks into a file; returns the envelope path. */
  async function sealThroughHooks(plaintextPath: string, size: number): Promise<string> {
    const { alice, bob } = testIdentities();
    const aliceHooks = await hostWithPlugin(alice, tempDir());
    const sealed = await aliceHooks.seal.promise({ path: plaintextPath, recipient: asPeer(bob, 'bob'), meta: makeMeta(alice, bob, size, { fileName: 'slide.png' }) });
    assert.ok(sealed);
    const envelopePath = join(tempDir(), 'envelope.bin');
    await pipeline(sealed.stream, createWriteStream(envelopePath));
    assert.equal((await stat(envelopePath)).size, sealed.length, 'announced length');
    return envelopePath;
  }

  it('seals a file for a peer and opens it on that peer, byte for byte', async () => {
    const { alice, bob } = testIdentities();
    const plaintextPath = join(tempDir(), 'slide.png');
    const plaintext = patternBytes(200_000, 3);
    writeFileSync(plaintextPath, plaintext);
    const envelopePath = await sealThroughHooks(plaintextPath, plaintext.length);

    const bobHooks = await hostWithPlugin(bob, tempDir());
    const opened = await bobHooks.open.promise({ envelope: createReadStream(envelopePath), sender: asPeer(alice, 'alice') });
    assert.ok(opened);
    assert.equal(opened.meta.fileName, 'slide.png');
    const outPath = join(tempDir(), 'received.part');
    await pipeline(opened.plaintext, createWriteStream(outPath));
    assert.ok((await readFile(outPath)).equals(plaintext));
  });

  it('refuses a replay after the receiving plugin restarts on the same state folder', async () => {
    const { alice, bob } = testIdentities();
    const plaintextPath = join(tempDir(), 'clip.mp4');
    writeFileSync(plaintextPath, patternBytes(5000));
    const envelopePath = await sealThroughHooks(plaintextPath, 5000);
    const bobState = tempDir();

    const first = await hostWithPlugin(bob, bobState);
    const opened = await first.open.promise({ envelope: createReadStream(envelopePath), sender: asPeer(alice, 'alice') });
    await pipeline(opened!.plaintext, createWriteStream(join(tempDir(), 'first.part')));

    const restarted = await hostWithPlugin(bob, bobState);
    await assertCode(restarted.open.promise({ envelope: createReadStream(envelopePath), sender: asPeer(alice, 'alice') }), 'NVID_ERR_REPLAY');
  });

  it('refuses to seal a missing file, or one whose size is not the validated one', async () => {
    const { alice, bob } = testIdentities();
    const hooks = await hostWithPlugin(alice, tempDir());
    const recipient = asPeer(bob, 'bob');
    await assertCode(hooks.seal.promise({ path: join(tempDir(), 'missing.png'), recipient, meta: makeMeta(alice, bob, 10) }), 'NVID_ERR_FILE_NOT_FOUND');
    const grown = join(tempDir(), 'grown.png');
    writeFileSync(grown, patternBytes(11));
    await assertCode(hooks.seal.promise({ path: grown, recipient, meta: makeMeta(alice, bob, 10) }), 'NVID_ERR_BAD_ENVELOPE');
  });

  it('errors the plaintext stream, not the open, when a later chunk is altered', async () => {
    const { alice, bob } = testIdentities();
    const plaintextPath = join(tempDir(), 'big.png');
    writeFileSync(plaintextPath, patternBytes(3 * DEFAULT_OPTIONS.chunkSize));
    const envelopePath = await sealThroughHooks(plaintextPath, 3 * DEFAULT_OPTIONS.chunkSize);
    const bytes = await readFile(envelopePath);
    bytes[bytes.length - DEFAULT_OPTIONS.chunkSize] ^= 0xff; // inside the last chunk
    const tamperedPath = join(tempDir(), 'tampered.bin');
    writeFileSync(tamperedPath, bytes);

    const bobHooks = await hostWithPlugin(bob, tempDir());
    const opened = await bobHooks.open.promise({ envelope: createReadStream(tamperedPath), sender: asPeer(alice, 'alice') });
    let received = 0;
    opened!.plaintext.on('data', (chunk: Buffer) => (received += chunk.length));
    await assertCode(new Promise((resolve, reject) => opened!.plaintext.on('end', resolve).on('error', reject)), 'NVID_ERR_CHUNK_AUTH');
    // The two good chunks before it came through; the bad one never did.
    assert.equal(received, 2 * DEFAULT_OPTIONS.chunkSize);
  });
});
