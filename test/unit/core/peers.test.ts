import assert from 'node:assert/strict';
import { createHooks } from '../../../core/hooks.js';
import { PeerTable } from '../../../core/peers.js';
import type { Peer } from '../../../core/types.js';

const peer = (id: string, name: string): Peer => ({ id: id.repeat(64).slice(0, 64), name, certPem: 'PEM', address: '127.0.0.1', port: 1000, tags: [] });

describe('the peer table', () => {
  it('announces joins, renames and leaves from a full replacement, and never lists itself', () => {
    const hooks = createHooks();
    const events: string[] = [];
    hooks.peerJoined.tap('t', (p) => events.push(`joined ${p.name}`));
    hooks.peerLeft.tap('t', (p) => events.push(`left ${p.name}`));
    hooks.peerRenamed.tap('t', ({ peer: p, oldName }) => events.push(`renamed ${oldName}->${p.name}`));
    hooks.peerUpdated.tap('t', ({ peer: p, previous }) => events.push(`moved ${p.name} ${previous.port}->${p.port}`));
    const self = peer('f', 'me');
    const table = new PeerTable(hooks, self.id);
    table.replaceAll([peer('a', 'lobby'), peer('b', 'kitchen'), self]);
    table.replaceAll([peer('a', 'hall'), peer('c', 'office')]);
    table.upsert(peer('a', 'hall'));
    table.upsert({ ...peer('a', 'hall'), port: 2000 });
    table.remove('nope');
    assert.deepEqual(events, ['joined lobby', 'joined kitchen', 'left kitchen', 'renamed lobby->hall', 'joined office', 'moved hall 1000->2000']);
    assert.deepEqual(table.list().map((p) => p.name), ['hall', 'office']);
  });

  it('resolves names, then unique ID prefixes, with clear errors otherwise', () => {
    const table = new PeerTable(createHooks(), 'self');
    table.replaceAll([peer('a', 'lobby'), peer('b', 'twin'), { ...peer('c', 'twin') }]);
    assert.equal(table.resolve('lobby').id, peer('a', '').id);
    assert.equal(table.resolve('aaaaaaaa').name, 'lobby');
    assert.throws(() => table.resolve('twin'), { code: 'NVID_ERR_AMBIGUOUS_PEER' });
    assert.throws(() => table.resolve('attic'), (err: Error & { code: string }) => err.code === 'NVID_ERR_UNKNOWN_PEER' && /known peers: lobby, twin, twin/.test(err.message));
  });
});
