/**
 * The crypto plugin inside the core's real receive pipeline (open -> temporary
 * file -> validate -> keep): a good envelope lands in the library; every
 * refused one is refused with its own code and leaves no file behind, neither
 * in the library nor in the incoming folder.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { NvidError, type NvidErrorCode } from '../../../core/errors.js';
import type { Identity } from '../../../core/types.js';
import { asPeer, assertCode, makeMeta, patternBytes, sealToBuffer, testIdentities } from './helpers.js';
import { receivingNode } from './pipeline-node.js';

describe('crypto plugin in the core receive pipeline', function () {
  this.timeout(60_000);
  const chunkSize = 1024;
  const plaintext = patternBytes(5 * chunkSize + 100, 5);

  async function envelopeFor(receiver: Identity, overrides = {}): Promise<Buffer> {
    const { alice } = testIdentities();
    return sealToBuffer(plaintext, { recipient: receiver, sender: alice, meta: makeMeta(alice, receiver, plaintext.length, { fileName: 'slide.png', ...overrides }), chunkSize });
  }

  it('keeps a good envelope in the library, and nothing in the incoming folder', async () => {
    const { alice, bob } = testIdentities();
    const node = await receivingNode(bob);
    await node.receive(await envelopeFor(bob), asPeer(alice, 'alice'));
    assert.deepEqual(node.files(), ['library/slide.png']);
  });

  const refusals: Array<[string, NvidErrorCode, (envelope: Buffer) => Buffer]> = [
    ['an altered chunk', 'NVID_ERR_CHUNK_AUTH', (e) => flip(e, e.length - 700)],
    ['the last chunk cut off', 'NVID_ERR_TRUNCATED', (e) => e.subarray(0, e.length - 116)],
    ['a cut inside a chunk', 'NVID_ERR_TRUNCATED', (e) => e.subarray(0, e.length - 50)],
    ['bytes after the final chunk', 'NVID_ERR_TRAILING_DATA', (e) => Buffer.concat([e, Buffer.from('more')])],
    ['an altered header', 'NVID_ERR_BAD_ENVELOPE', (e) => flip(e, 400)],
    ['an altered wrapped key', 'NVID_ERR_KEY_UNWRAP', (e) => flip(e, 100)],
  ];
  for (const [what, code, tamper] of refusals) {
    it(`refuses ${what} with ${code} and leaves no file behind`, async () => {
      const { alice, bob } = testIdentities();
      const node = await receivingNode(bob);
      await assertCode(node.receive(tamper(await envelopeFor(bob)), asPeer(alice, 'alice')), code);
      assert.deepEqual(node.files(), []);
    });
  }

  // A policy plugin that takes its time (it might ask a schedule, say), before the header is read or after
  // it verified, while the sender aborts. Nothing listens to the broken stream then but the core itself.
  for (const [when, slowCall] of [
    ['before the header is read', 'first'],
    ['after the header verified', 'second'],
  ] as const) {
    it(`survives a body that breaks while an accept tap is still deciding ${when}, and keeps nothing`, async () => {
      const { alice, bob } = testIdentities();
      const node = await receivingNode(bob);
      const slowPolicy = async () => {
        await sleep(300);
        return undefined;
      };
      if (slowCall === 'first') node.hooks.acceptSender.tapPromise('slow-policy', slowPolicy);
      else node.hooks.acceptTransfer.tapPromise('slow-policy', slowPolicy);
      const envelope = await envelopeFor(bob);
      // The transport's body: the envelope up to its last chunk, then the sender aborts.
      const body = new Readable({ read() {} });
      body.push(envelope.subarray(0, envelope.length - 600));
      setTimeout(() => body.destroy(new NvidError('NVID_ERR_CONNECTION', 'sender aborted the transfer: disk error')), 100);
      await assertCode(node.receive(body, asPeer(alice, 'alice')), 'NVID_ERR_TRUNCATED');
      assert.deepEqual(node.files(), []);
    });
  }

  it('refuses an envelope for another node, a forged sender and a replay, leaving only the first good copy', async () => {
    const { alice, bob, carol } = testIdentities();
    const node = await receivingNode(bob);
    await assertCode(node.receive(await envelopeFor(carol), asPeer(alice, 'alice')), 'NVID_ERR_WRONG_RECIPIENT');
    await assertCode(node.receive(await envelopeFor(bob), asPeer(carol, 'carol')), 'NVID_ERR_BAD_SIGNATURE');
    assert.deepEqual(node.files(), []);
    const good = await envelopeFor(bob);
    await node.receive(good, asPeer(alice, 'alice'));
    await assertCode(node.receive(good, asPeer(alice, 'alice')), 'NVID_ERR_REPLAY');
    assert.deepEqual(node.files(), ['library/slide.png']);
  });
});

describe('crypto plugin in the core receive pipeline, a file of many default-size chunks', function () {
  this.timeout(60_000);
  const chunkSize = 256 * 1024;
  const plaintext = patternBytes(11 * 1024 * 1024 + 17, 9);

  async function envelopeFor(receiver: Identity): Promise<Buffer> {
    const { alice } = testIdentities();
    return sealToBuffer(plaintext, { recipient: receiver, sender: alice, meta: makeMeta(alice, receiver, plaintext.length, { fileName: 'clip.mp4' }), chunkSize });
  }

  it('keeps it, and acknowledges the SHA-256 of exactly its bytes', async () => {
    const { alice, bob } = testIdentities();
    const node = await receivingNode(bob);
    const receipt = await node.receive(await envelopeFor(bob), asPeer(alice, 'alice'));
    assert.equal(receipt.sha256, createHash('sha256').update(plaintext).digest('hex'));
    assert.deepEqual(node.files(), ['library/clip.mp4']);
  });

  it('refuses a chunk altered half way with NVID_ERR_CHUNK_AUTH, leaving no file, and the next transfer still hashes right', async () => {
    const { alice, bob } = testIdentities();
    const node = await receivingNode(bob);
    const envelope = await envelopeFor(bob);
    await assertCode(node.receive(flip(envelope, envelope.length >> 1), asPeer(alice, 'alice')), 'NVID_ERR_CHUNK_AUTH');
    assert.deepEqual(node.files(), []);
    const receipt = await node.receive(await envelopeFor(bob), asPeer(alice, 'alice'));
    assert.equal(receipt.sha256, createHash('sha256').update(plaintext).digest('hex'));
  });
});

function flip(envelope: Buffer, position: number): Buffer {
  const copy = Buffer.from(envelope);
  copy[position] = copy[position]! ^ 0x20;
  return copy;
}

