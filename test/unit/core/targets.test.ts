import assert from 'node:assert/strict';
import { createHooks } from '../../../core/hooks.js';
import { PeerTable } from '../../../core/peers.js';
import { isGroupTarget } from '../../../core/targets.js';
import type { Peer } from '../../../core/types.js';

const peer = (id: string, name: string, tags: string[] = []): Peer => ({ id: id.repeat(64).slice(0, 64), name, certPem: 'PEM', address: '127.0.0.1', port: 1000, tags });
const names = (peers: Peer[]) => peers.map((p) => p.name);
const code = (expected: string, message?: RegExp) => (err: Error & { code?: string }) => err.code === expected && (!message || message.test(err.message));

describe('targets: one resolver for --to, the host and the drop folder', () => {
  let table: PeerTable;
  beforeEach(() => {
    table = new PeerTable(createHooks(), 'self');
    table.replaceAll([
      peer('a', 'lobby', ['floor-1', 'signage']),
      peer('b', 'kitchen', ['floor-2']),
      peer('c', 'office', ['floor-2', 'signage']),
      peer('d', 'attic'),
      peer('e', 'odd,name'),
    ]);
  });

  it('resolves a name or an ID prefix to that one peer, as resolve does', () => {
    assert.deepEqual(names(table.resolveTargets('kitchen')), ['kitchen']);
    assert.deepEqual(names(table.resolveTargets('cccccccc')), ['office']);
    assert.equal(isGroupTarget('kitchen', table), false);
  });

  it('resolves a list in its order, each peer once, with blanks and spaces ignored', () => {
    assert.deepEqual(names(table.resolveTargets('lobby,kitchen')), ['lobby', 'kitchen']);
    assert.deepEqual(names(table.resolveTargets(' office , lobby,,office, aaaaaaaa')), ['office', 'lobby']);
    assert.equal(isGroupTarget('lobby,kitchen', table), true);
  });

  it('resolves tag:NAME to every peer with that tag, and all to every peer', () => {
    assert.deepEqual(names(table.resolveTargets('tag:floor-2')), ['kitchen', 'office']);
    assert.deepEqual(names(table.resolveTargets('tag:signage,kitchen')), ['lobby', 'office', 'kitchen']);
    assert.deepEqual(names(table.resolveTargets('all')).sort(), ['attic', 'kitchen', 'lobby', 'odd,name', 'office']);
    assert.equal(isGroupTarget('tag:floor-2', table), true);
    assert.equal(isGroupTarget('all', table), true);
  });

  it('takes a peer whose name is exactly the target as that peer, commas and all', () => {
    assert.deepEqual(names(table.resolveTargets('odd,name')), ['odd,name']);
    assert.equal(isGroupTarget('odd,name', table), false);
  });

  it('names what matched nobody: an unknown name in a list, a tag no peer has, all with no peers', () => {
    assert.throws(() => table.resolveTargets('lobby,cellar'), code('NVID_ERR_UNKNOWN_PEER', /"lobby,cellar".*cellar/));
    assert.throws(() => table.resolveTargets('cellar,lobby,garage'), code('NVID_ERR_UNKNOWN_PEER', /"cellar", "garage"/));
    assert.throws(() => table.resolveTargets('tag:floor-9'), code('NVID_ERR_UNKNOWN_PEER', /tag "floor-9"/));
    assert.throws(() => table.resolveTargets('cellar'), code('NVID_ERR_UNKNOWN_PEER', /cellar/));
    const empty = new PeerTable(createHooks(), 'self');
    assert.throws(() => empty.resolveTargets('all'), code('NVID_ERR_UNKNOWN_PEER', /"all"/));
  });

  it('refuses an empty target or a malformed tag as a usage error, and an ambiguous name as such', () => {
    assert.throws(() => table.resolveTargets(' '), code('NVID_ERR_USAGE'));
    assert.throws(() => table.resolveTargets(',,'), code('NVID_ERR_USAGE'));
    assert.throws(() => table.resolveTargets('tag:Floor 2'), code('NVID_ERR_USAGE', /lowercase/));
    assert.throws(() => table.resolveTargets('tag:'), code('NVID_ERR_USAGE'));
    table.upsert(peer('f', 'kitchen'));
    assert.throws(() => table.resolveTargets('lobby,kitchen'), code('NVID_ERR_AMBIGUOUS_PEER'));
  });

  it('announces a peer whose tags changed as updated, and keeps its tags frozen', () => {
    const hooks = createHooks();
    const events: string[] = [];
    hooks.peerUpdated.tap('t', ({ peer: p, previous }) => events.push(`${p.name}: ${previous.tags.join('+')} -> ${p.tags.join('+')}`));
    const own = new PeerTable(hooks, 'self');
    own.upsert(peer('a', 'lobby', ['floor-1']));
    own.upsert(peer('a', 'lobby', ['floor-1']));
    own.upsert(peer('a', 'lobby', ['floor-1', 'signage']));
    own.upsert({ ...peer('a', 'lobby'), tags: undefined as never });
    assert.deepEqual(events, ['lobby: floor-1 -> floor-1+signage', 'lobby: floor-1+signage -> ']);
    assert.ok(Object.isFrozen(own.get(peer('a', '').id)!.tags));
  });
});
