import assert from 'node:assert/strict';
import { isNvidError } from '../../../core/errors.js';
import { createHooks } from '../../../core/hooks.js';
import { createIdentity } from '../../../core/identity.js';
import { PeerTable } from '../../../core/peers.js';
import { certifiedPeers } from '../../../core/pipeline/certified-peers.js';
import type { PipelineContext } from '../../../core/pipeline/context.js';
import type { Identity, Peer } from '../../../core/types.js';

/** A peer as the coordinator lists it: no certificate. */
const listed = (identity: Identity, name: string): Peer => ({ id: identity.id, name, address: '127.0.0.1', port: 1000, tags: [] });

describe('certified peers: the first seal for a peer fetches its certificate, checked against its ID', () => {
  const lobby = createIdentity('lobby', 1024);
  const kitchen = createIdentity('kitchen', 1024);

  function node() {
    const hooks = createHooks();
    const peers = new PeerTable(hooks, 'self');
    peers.replaceAll([listed(lobby, 'lobby'), listed(kitchen, 'kitchen')]);
    const updates: string[] = [];
    hooks.peerUpdated.tap('test', ({ peer }) => updates.push(peer.name));
    const ctx = { hooks, peers } as unknown as PipelineContext;
    return { hooks, peers, ctx, updates };
  }

  it('asks the certificate hook once per peer and keeps the answer, without announcing a change', async () => {
    const { hooks, peers, ctx, updates } = node();
    const asked: string[] = [];
    hooks.certificate.tapPromise('coordinator', async ({ id }) => {
      asked.push(id);
      return [lobby, kitchen].find((i) => i.id === id)!.certPem;
    });
    const first = await certifiedPeers(ctx, [peers.get(lobby.id)!, peers.get(kitchen.id)!]);
    assert.deepEqual(first.map((p) => p.certPem), [lobby.certPem, kitchen.certPem]);
    await certifiedPeers(ctx, [peers.get(lobby.id)!]);
    assert.deepEqual(asked, [lobby.id, kitchen.id], 'the second seal used the kept certificate');
    peers.upsert(listed(lobby, 'lobby'));
    assert.equal(peers.get(lobby.id)!.certPem, lobby.certPem, 'a later list entry without a certificate keeps it');
    assert.deepEqual(updates, [], 'a certificate learnt is no change of the peer');
  });

  it("refuses a certificate that is not the peer's own, whoever hands it out, and keeps nothing", async () => {
    const { hooks, peers, ctx } = node();
    hooks.certificate.tapPromise('lying coordinator', async () => kitchen.certPem);
    await assert.rejects(certifiedPeers(ctx, [peers.get(lobby.id)!]), (err: unknown) => isNvidError(err, 'NVID_ERR_PEER_CERTIFICATE') && /not its own/.test(err.message));
    assert.equal(peers.get(lobby.id)!.certPem, undefined);
  });

  it('says clearly when nothing can fetch a certificate, or the fetch fails', async () => {
    const bare = node();
    await assert.rejects(certifiedPeers(bare.ctx, [bare.peers.get(lobby.id)!]), (err: unknown) => isNvidError(err, 'NVID_ERR_PEER_CERTIFICATE') && /nothing taps the "certificate" hook/.test(err.message));
    const { hooks, peers, ctx } = node();
    hooks.certificate.tapPromise('garbage', async () => 'not a certificate');
    await assert.rejects(certifiedPeers(ctx, [peers.get(lobby.id)!]), (err: unknown) => isNvidError(err, 'NVID_ERR_PEER_CERTIFICATE') && /unparsable/.test(err.message));
  });
});
