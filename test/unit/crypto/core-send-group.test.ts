/**
 * A group send with the real crypto plugin: the file is sealed once for all
 * recipients (one version 2 envelope), the same bytes go to each recipient's
 * real receive pipeline, each gets its own receipt or refusal, and the
 * temporary sealed file is gone afterwards.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buffer } from 'node:stream/consumers';
import { createHash } from 'node:crypto';
import { sendToGroup, type GroupSendContext } from '../../../core/pipeline/send-group.js';
import type { Identity, Peer, SealRequest } from '../../../core/types.js';
import { asPeer, patternBytes, testIdentities } from './helpers.js';
import { pipelineNode, receivingNode } from './pipeline-node.js';

/** A sending node whose targets are `recipients`, noting every seal request. */
async function sendingNode(identity: Identity, recipients: Peer[]) {
  const node = await pipelineNode(identity, 'laptop');
  const seals: SealRequest[] = [];
  node.hooks.seal.intercept({ call: (request: SealRequest) => void seals.push(request) });
  const ctx: GroupSendContext = { ...node.ctx, resolveTargets: () => recipients };
  return { ...node, ctx, seals };
}

describe('a group send seals once', function () {
  this.timeout(60_000);

  it('seals one envelope for three recipients, streams the same bytes to each, and reports a receipt or refusal per recipient', async () => {
    const { alice, bob, carol } = testIdentities();
    const { createIdentity } = await import('../../../core/identity.js');
    const erin = createIdentity('erin');
    const recipients = [asPeer(bob, 'bob'), asPeer(carol, 'carol'), asPeer(erin, 'erin')];
    const laptop = await sendingNode(alice, recipients);
    const nodes = new Map([bob, carol, erin].map((id) => [id.id, receivingNode(id)] as const));
    // Erin's policy refuses the transfer once its header verified.
    (await nodes.get(erin.id)!).hooks.acceptTransfer.tapPromise('policy', async () => 'not today');
    const wireCopies = new Map<string, string>();
    laptop.hooks.deliver.tapPromise('loopback', async ({ peer, envelope, meta }) => {
      assert.equal(meta.receiverId, peer.id);
      assert.deepEqual(meta.recipientIds, recipients.map((r) => r.id));
      const bytes = await buffer(envelope.stream);
      assert.equal(bytes.length, envelope.length);
      wireCopies.set(peer.name, createHash('sha256').update(bytes).digest('hex'));
      return (await nodes.get(peer.id)!).receive(bytes, asPeer(alice, 'alice'));
    });
    const file = join(laptop.stateDir, 'poster.png');
    const content = patternBytes(700_000, 3);
    writeFileSync(file, content);

    const result = await sendToGroup(laptop.ctx, file, 'all', {}, 2);
    assert.equal(laptop.seals.length, 1, 'sealed once');
    assert.deepEqual(laptop.seals[0]!.recipients!.map((r) => r.name), ['bob', 'carol', 'erin']);
    assert.equal(new Set(wireCopies.values()).size, 1, 'every recipient got the same envelope bytes');
    assert.deepEqual(result.results.map((r) => [r.to.name, r.outcome]), [['bob', 'sent'], ['carol', 'sent'], ['erin', 'failed']]);
    assert.equal(result.delivered, 2);
    const [bobResult, carolResult, erinResult] = result.results;
    assert.equal(bobResult!.transferId, carolResult!.transferId, 'one transfer ID for the one envelope');
    assert.equal(erinResult!.outcome === 'failed' && erinResult.error.code, 'NVID_ERR_REFUSED');
    const sha = createHash('sha256').update(content).digest('hex');
    for (const r of [bobResult!, carolResult!]) assert.equal(r.outcome === 'sent' && r.sha256, sha);
    assert.deepEqual(laptop.incoming(), [], 'the sealed temporary file is removed');
    assert.equal((await laptop.history.read({ kind: 'sent' })).length, 2);
    assert.equal((await laptop.history.read({ kind: 'send-failed' })).length, 1);
  });

  it('keeps the one-envelope-per-peer path for a group of one (a version 1 envelope)', async () => {
    const { alice, bob } = testIdentities();
    const laptop = await sendingNode(alice, [asPeer(bob, 'bob')]);
    const node = await receivingNode(bob);
    laptop.hooks.deliver.tapPromise('loopback', async ({ envelope }) => {
      const bytes = await buffer(envelope.stream);
      assert.equal(bytes[4], 1);
      return node.receive(bytes, asPeer(alice, 'alice'));
    });
    const file = join(laptop.stateDir, 'one.png');
    writeFileSync(file, patternBytes(1000, 4));
    const result = await sendToGroup(laptop.ctx, file, 'bob');
    assert.equal(result.delivered, 1);
    assert.equal(laptop.seals[0]!.recipients, undefined);
  });
});
