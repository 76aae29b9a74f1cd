/**
 * One seal, many recipients (envelope version 2): the body is encrypted once,
 * the file key wrapped for each listed recipient, and one signed header covers
 * the whole list. Real crypto, and the core's real receive pipeline: every
 * refusal has its own code and leaves no file behind.
 */
import assert from 'node:assert/strict';
import { constants, createCipheriv, createDecipheriv, privateDecrypt, publicEncrypt, X509Certificate } from 'node:crypto';
import { createIdentity } from '../../../core/identity.js';
import type { Identity } from '../../../core/types.js';
import {
  decodeMultiPreambleFixed,
  encodeMultiPreamble,
  ENVELOPE_VERSION,
  ENVELOPE_VERSION_MULTI,
  HEADER_NONCE,
  MULTI_PREAMBLE_FIXED_BYTES,
  STANZA_FIXED_BYTES,
  TAG_BYTES,
  type RecipientStanza,
} from '../../../plugins/crypto/envelope-format.js';
import { deriveTransferKeys } from '../../../plugins/crypto/envelope-keys.js';
import { asPeer, assertCode, freshGuard, makeMeta, openBuffer, patternBytes, sealToBuffer, testIdentities } from './helpers.js';
import { receivingNode } from './pipeline-node.js';

let dave: Identity | undefined;
/** A fourth identity: never listed. */
function outsider(): Identity {
  dave ??= createIdentity('dave');
  return dave;
}

/** The parts of a version 2 envelope. */
function split(envelope: Buffer) {
  const fixed = decodeMultiPreambleFixed(envelope.subarray(0, MULTI_PREAMBLE_FIXED_BYTES));
  let at = MULTI_PREAMBLE_FIXED_BYTES;
  const stanzas: RecipientStanza[] = [];
  const stanzaAt: number[] = [];
  for (let i = 0; i < fixed.recipientCount; i += 1) {
    stanzaAt.push(at);
    const recipientId = Buffer.from(envelope.subarray(at, at + 32));
    const length = envelope.readUInt16BE(at + 32);
    const wrappedKey = Buffer.from(envelope.subarray(at + STANZA_FIXED_BYTES, at + STANZA_FIXED_BYTES + length));
    stanzas.push({ recipientId, wrappedKey });
    at += STANZA_FIXED_BYTES + length;
  }
  const preamble = envelope.subarray(0, at);
  const sealedHeader = envelope.subarray(at, at + fixed.sealedHeaderLength);
  const body = envelope.subarray(at + fixed.sealedHeaderLength);
  return { fixed, stanzas, stanzaAt, preamble, sealedHeader, body };
}

const oaep = (key: string | import('node:crypto').KeyObject) => ({ key, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' });

/**
 * What a listed recipient could do with the file key it can unwrap: write a
 * new recipient list (here `to`, wrapped afresh) and re-seal the same header
 * plaintext, meta and signature under it. Only the signature can catch it.
 */
function readdress(envelope: Buffer, by: Identity, to: Identity[]): Buffer {
  const { fixed, stanzas, preamble, sealedHeader, body } = split(envelope);
  const mine = stanzas.find((s) => s.recipientId.equals(Buffer.from(by.id, 'hex')))!;
  const fileKey = privateDecrypt(oaep(by.keyPem), mine.wrappedKey);
  const { headerKey } = deriveTransferKeys(fileKey, fixed.salt);
  const decipher = createDecipheriv('aes-256-gcm', headerKey, HEADER_NONCE);
  decipher.setAAD(preamble);
  decipher.setAuthTag(sealedHeader.subarray(sealedHeader.length - TAG_BYTES));
  const headerPlain = Buffer.concat([decipher.update(sealedHeader.subarray(0, sealedHeader.length - TAG_BYTES)), decipher.final()]);
  const newPreamble = encodeMultiPreamble({
    salt: fixed.salt,
    chunkSize: fixed.chunkSize,
    sealedHeaderLength: fixed.sealedHeaderLength,
    recipients: to.map((r) => ({ recipientId: Buffer.from(r.id, 'hex'), wrappedKey: publicEncrypt(oaep(new X509Certificate(r.certPem).publicKey), fileKey) })),
  });
  const cipher = createCipheriv('aes-256-gcm', headerKey, HEADER_NONCE);
  cipher.setAAD(newPreamble);
  return Buffer.concat([newPreamble, cipher.update(headerPlain), cipher.final(), cipher.getAuthTag(), body]);
}

function flip(envelope: Buffer, position: number): Buffer {
  const copy = Buffer.from(envelope);
  copy[position] = copy[position]! ^ 0x20;
  return copy;
}

describe('crypto multi-recipient envelope (version 2)', function () {
  this.timeout(60_000);
  const chunkSize = 1024;
  const plaintext = patternBytes(5 * chunkSize + 100, 11);

  async function sealFor(recipients: Identity[], fileName = 'slide.png'): Promise<Buffer> {
    const { alice } = testIdentities();
    const meta = makeMeta(alice, recipients[0]!, plaintext.length, { fileName, recipientIds: recipients.map((r) => r.id) });
    return sealToBuffer(plaintext, { recipients, sender: alice, meta, chunkSize });
  }

  it('opens the one sealed body for every listed recipient, each seeing itself as receiver and the whole list in order', async () => {
    const { alice, bob, carol } = testIdentities();
    const envelope = await sealFor([bob, carol]);
    assert.equal(envelope[4], ENVELOPE_VERSION_MULTI);
    const parts = split(envelope);
    assert.deepEqual(parts.stanzas.map((s) => s.recipientId.toString('hex')), [bob.id, carol.id]);
    // The body is the plaintext encrypted once: as long as a one-recipient envelope's body.
    assert.equal(parts.body.length, plaintext.length + 6 * TAG_BYTES);
    for (const me of [bob, carol]) {
      const opened = await openBuffer(envelope, { sender: asPeer(alice, 'alice'), identity: me, replayGuard: await freshGuard() });
      assert.deepEqual(opened.plaintext, plaintext);
      assert.equal(opened.meta.receiverId, me.id);
      assert.deepEqual(opened.meta.recipientIds, [bob.id, carol.id]);
      assert.equal(opened.meta.fileName, 'slide.png');
    }
  });

  it('keeps one recipient a version 1 envelope, byte for byte the format of `recipient`', async () => {
    const { alice, bob } = testIdentities();
    const envelope = await sealFor([bob]);
    assert.equal(envelope[4], ENVELOPE_VERSION);
    const opened = await openBuffer(envelope, { sender: asPeer(alice, 'alice'), identity: bob, replayGuard: await freshGuard() });
    assert.equal(opened.meta.recipientIds, undefined);
  });

  it('takes up to 64 recipients and refuses 65, a repeated one, or a meta whose list differs', async () => {
    const { alice, bob, carol } = testIdentities();
    const many = [bob, carol, ...Array.from({ length: 62 }, () => carol)].map((r, i) => (i < 2 ? r : { ...carol, id: i.toString(16).padStart(64, '0') }));
    const ok = await sealToBuffer(plaintext, { recipients: many, sender: alice, meta: makeMeta(alice, bob, plaintext.length, { recipientIds: many.map((r) => r.id) }), chunkSize });
    assert.equal(split(ok).fixed.recipientCount, 64);
    const opened = await openBuffer(ok, { sender: asPeer(alice, 'alice'), identity: carol, replayGuard: await freshGuard() });
    assert.deepEqual(opened.plaintext, plaintext);
    const tooMany = [...many, { ...carol, id: 'ff'.repeat(32) }];
    await assertCode(sealToBuffer(plaintext, { recipients: tooMany, sender: alice, meta: makeMeta(alice, bob, plaintext.length), chunkSize }), 'NVID_ERR_BAD_ENVELOPE');
    await assertCode(sealToBuffer(plaintext, { recipients: [bob, bob], sender: alice, meta: makeMeta(alice, bob, plaintext.length), chunkSize }), 'NVID_ERR_BAD_ENVELOPE');
    await assertCode(
      sealToBuffer(plaintext, { recipients: [bob, carol], sender: alice, meta: makeMeta(alice, bob, plaintext.length, { recipientIds: [carol.id, bob.id] }), chunkSize }),
      'NVID_ERR_WRONG_RECIPIENT',
    );
  });

  describe('in the core receive pipeline', () => {
    it('keeps the file at each listed recipient', async () => {
      const { alice, bob, carol } = testIdentities();
      const envelope = await sealFor([bob, carol]);
      for (const me of [bob, carol]) {
        const node = await receivingNode(me);
        await node.receive(envelope, asPeer(alice, 'alice'));
        assert.deepEqual(node.files(), ['library/slide.png']);
      }
    });

    it("refuses a non-recipient's copy with NVID_ERR_WRONG_RECIPIENT and keeps nothing", async () => {
      const { alice, bob, carol } = testIdentities();
      const node = await receivingNode(outsider());
      await assertCode(node.receive(await sealFor([bob, carol]), asPeer(alice, 'alice')), 'NVID_ERR_WRONG_RECIPIENT');
      assert.deepEqual(node.files(), []);
    });

    const tampering: Array<[string, (e: Buffer) => Buffer]> = [
      ["another listed recipient's ID altered", (e) => flip(e, split(e).stanzaAt[1]! + 3)],
      ["another listed recipient's wrapped key altered", (e) => flip(e, split(e).stanzaAt[1]! + STANZA_FIXED_BYTES + 10)],
      ['the list reordered', (e) => {
        const p = split(e);
        const a = e.subarray(p.stanzaAt[0]!, p.stanzaAt[1]!);
        const b = e.subarray(p.stanzaAt[1]!, p.preamble.length);
        return Buffer.concat([e.subarray(0, p.stanzaAt[0]!), b, a, e.subarray(p.preamble.length)]);
      }],
      ['the recipient count cut to one', (e) => {
        const copy = Buffer.from(e);
        copy[MULTI_PREAMBLE_FIXED_BYTES - 1] = 1;
        return copy;
      }],
    ];
    for (const [what, tamper] of tampering) {
      it(`refuses a recipient list with ${what}, and keeps nothing`, async () => {
        const { alice, bob, carol } = testIdentities();
        const node = await receivingNode(bob);
        // The whole preamble, list included, is the header's AAD: the header no longer authenticates.
        const err = await assertCode(node.receive(tamper(await sealFor([bob, carol])), asPeer(alice, 'alice')), 'NVID_ERR_BAD_ENVELOPE');
        assert.match(err.message, /failed authentication/);
        assert.deepEqual(node.files(), []);
      });
    }

    it('refuses an envelope a recipient re-addressed to someone not listed with NVID_ERR_BAD_SIGNATURE, and keeps nothing', async () => {
      const { alice, bob, carol } = testIdentities();
      const original = await sealFor([bob, carol]);
      // Bob adds Dave, or swaps Carol for Dave: Dave can open the header, but the signature no longer verifies.
      for (const list of [[bob, carol, outsider()], [bob, outsider()], [outsider()]]) {
        const node = await receivingNode(outsider());
        await assertCode(node.receive(readdress(original, bob, list), asPeer(alice, 'alice')), 'NVID_ERR_BAD_SIGNATURE', `${list.length} recipients`);
        assert.deepEqual(node.files(), []);
      }
      // Dropping Carol from the list fails the same way at Bob's own node.
      const node = await receivingNode(bob);
      await assertCode(node.receive(readdress(original, bob, [bob]), asPeer(alice, 'alice')), 'NVID_ERR_BAD_SIGNATURE');
      assert.deepEqual(node.files(), []);
    });

    it('refuses a replay at a recipient that already has it with NVID_ERR_REPLAY, per receiver, and a copy replayed to a non-recipient with NVID_ERR_WRONG_RECIPIENT', async () => {
      const { alice, bob, carol } = testIdentities();
      const envelope = await sealFor([bob, carol], 'once.png');
      const bobNode = await receivingNode(bob);
      const carolNode = await receivingNode(carol);
      await bobNode.receive(envelope, asPeer(alice, 'alice'));
      await assertCode(bobNode.receive(envelope, asPeer(alice, 'alice')), 'NVID_ERR_REPLAY');
      assert.deepEqual(bobNode.files(), ['library/once.png']);
      // The same transfer ID is new at Carol: the replay memory is per receiver.
      await carolNode.receive(envelope, asPeer(alice, 'alice'));
      await assertCode(carolNode.receive(envelope, asPeer(alice, 'alice')), 'NVID_ERR_REPLAY');
      assert.deepEqual(carolNode.files(), ['library/once.png']);
      const daveNode = await receivingNode(outsider());
      await assertCode(daveNode.receive(envelope, asPeer(alice, 'alice')), 'NVID_ERR_WRONG_RECIPIENT');
      assert.deepEqual(daveNode.files(), []);
    });

    it('refuses an envelope relayed by a listed recipient as if from itself with NVID_ERR_BAD_SIGNATURE', async () => {
      const { bob, carol } = testIdentities();
      const node = await receivingNode(carol);
      await assertCode(node.receive(await sealFor([bob, carol]), asPeer(bob, 'bob')), 'NVID_ERR_BAD_SIGNATURE');
      assert.deepEqual(node.files(), []);
    });
  });
});
