import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { isNvidError } from '../../../core/errors.js';
import { fingerprintOf } from '../../../core/identity.js';
import { identity, removeDir, sleep, tempDir, waitFor } from './helpers.js';
import { startClient, startCoordinator } from './coordinator-fixture.js';
import { rawTcp, rawTls } from './raw-peer.js';
import { fromWirePeer, type WirePeer } from '../../../plugins/transport/wire/wire-peer.js';

describe('transport coordinator link', function () {
  this.timeout(30_000);
  let dir: string;
  const cleanups: Array<() => unknown> = [];
  before(() => [0, 1, 2, 3, 4, 5].forEach(identity));
  beforeEach(() => (dir = tempDir()));
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    removeDir(dir);
  });

  async function coordinator(setup: Parameters<typeof startCoordinator>[0] = {}) {
    const c = await startCoordinator(setup);
    cleanups.push(() => c.server.stop());
    return c;
  }
  function client(port: number, n: number, name: string, extra: Partial<Parameters<typeof startClient>[0]> = {}) {
    const c = startClient({ port, ident: identity(n), name, stateDir: `${dir}/${n}`, ...extra });
    cleanups.push(() => c.client.leave());
    return c;
  }

  it('lists everyone to everyone, resolving duplicate names predictably', async () => {
    const { port, server } = await coordinator();
    const a = client(port, 1, 'lobby');
    await waitFor(() => a.state.joins === 1, 'a joined');
    const b = client(port, 2, 'lobby');
    await waitFor(() => b.state.joins === 1, 'b joined');
    const c = client(port, 3, 'kitchen');
    await waitFor(() => a.peers.table.size === 2 && b.peers.table.size === 2 && c.peers.table.size === 2, 'everyone sees two peers');
    assert.equal(b.state.name, 'lobby-2', 'the duplicate name is reported back to its node');
    assert.deepEqual(c.peers.names(), ['lobby', 'lobby-2']);
    assert.deepEqual(a.peers.names(), ['kitchen', 'lobby-2']);
    assert.equal(server.peers().length, 3);
    const entry = a.peers.get(identity(3).id)!;
    assert.equal(entry.certPem, undefined, 'lists carry no certificates');
    assert.equal(entry.port, 4000);
    assert.equal(entry.address, '127.0.0.1');
  });

  it('hands out a listed peer\'s certificate on request, and names an unknown ID in its refusal', async () => {
    const { port } = await coordinator();
    const a = client(port, 1, 'lobby');
    client(port, 2, 'kitchen');
    await waitFor(() => a.peers.table.size === 1, 'a sees kitchen');
    assert.equal(fingerprintOf(await a.client.certificate(identity(2).id)), identity(2).id);
    await assert.rejects(a.client.certificate(identity(5).id), (err: unknown) => isNvidError(err, 'NVID_ERR_UNKNOWN_PEER') && err.message.includes(identity(5).id.slice(0, 16)));
    assert.equal(a.client.connected, true, 'a refused request leaves the link up');
  });

  it('carries each node\'s tags from its hello to every peer list and the roster, and a rejoin with other tags as an update', async () => {
    const rosterPath = `${dir}/coordinator-roster.json`;
    const { port, server } = await coordinator({ heartbeatTimeoutMs: 20_000, rosterPath });
    const watcher = client(port, 1, 'watcher');
    const lobby = client(port, 2, 'lobby', { tags: ['floor-2', 'signage'] });
    await waitFor(() => watcher.peers.get(identity(2).id) && lobby.peers.get(identity(1).id), 'both listed');
    assert.deepEqual(watcher.peers.get(identity(2).id)!.tags, ['floor-2', 'signage']);
    assert.deepEqual(lobby.peers.get(identity(1).id)!.tags, [], 'a node without tags has none');
    assert.deepEqual(server.peers().find((p) => p.id === identity(2).id)!.tags, ['floor-2', 'signage']);
    await lobby.client.leave();
    await waitFor(() => !watcher.peers.get(identity(2).id), 'lobby left');

    // The same node again, with other tags, over a raw link: the watcher hears it.
    const again = await rawTls(port, identity(2));
    again.send({ type: 'hello', name: 'lobby', port: 4000, tags: ['floor-3'] });
    await waitFor(() => watcher.peers.get(identity(2).id)?.tags.join() === 'floor-3', 'new tags seen');
    const fresh = await rawTls(port, identity(2));
    fresh.send({ type: 'hello', name: 'lobby', port: 4000, tags: ['floor-4'] });
    await waitFor(() => watcher.peers.get(identity(2).id)?.tags.join() === 'floor-4', 'a rejoin with other tags is pushed as an update');
    await server.stop();
    const restarted = await startCoordinator({ heartbeatTimeoutMs: 20_000, rosterPath });
    cleanups.push(() => restarted.server.stop());
    assert.deepEqual(restarted.server.peers().find((p) => p.id === identity(2).id)?.tags, ['floor-4'], 'the roster keeps tags');
    again.socket.destroy();
    fresh.socket.destroy();
  });

  it('refuses a hello whose tags are not short lowercase words, or too many', async () => {
    const { port } = await coordinator();
    for (const tags of [['Floor'], ['a', 'a'], ['x'.repeat(33)], Array.from({ length: 33 }, (_, i) => `t${i}`), [''], 'floor']) {
      const raw = await rawTls(port, identity(3));
      raw.send({ type: 'hello', name: 'bad', port: 4000, tags });
      await raw.closed;
      assert.equal(raw.errorCode(), 'NVID_ERR_BAD_FRAME', JSON.stringify(tags));
    }
  });

  it('sends a list larger than one message frame in pages that all arrive', async () => {
    const maxMessageBytes = 250; // five binary peer entries (no certificates) per page; the welcome still fits
    const { port } = await coordinator({ maxMessageBytes });
    const early = [1, 2, 3, 4, 5, 6, 7].map((n) => client(port, n, `n${n}`, { maxMessageBytes }));
    await waitFor(() => early.every((c) => c.peers.table.size === 6), 'seven joined');
    const late = await rawTls(port, identity(8));
    late.send({ type: 'hello', name: 'late', port: 4000 });
    await waitFor(() => late.frames.some((f) => f.kind === 'message' && f.message.type === 'peers' && f.message.more === false), 'last page');
    const pages = late.frames.filter((f) => f.kind === 'message' && f.message.type === 'peers');
    assert.ok(pages.length >= 2, `the list came in ${pages.length} page(s)`);
    const ids = pages.flatMap((f) => (f.kind === 'message' ? (f.message.peers as WirePeer[]).map((p) => fromWirePeer(p).id) : []));
    // Everyone, the joiner included: the pages are shared by every joiner, and a node skips itself.
    assert.deepEqual(ids.sort(), [1, 2, 3, 4, 5, 6, 7, 8].map((n) => identity(n).id).sort());
    late.socket.destroy();
  });

  it('leaves every node of a simultaneous join with the whole table, lists paged and changes held until each list is out', async () => {
    const maxMessageBytes = 400;
    const { port } = await coordinator({ maxMessageBytes });
    const burst = Array.from({ length: 12 }, (_, i) => client(port, i + 1, `b${i + 1}`, { maxMessageBytes }));
    await waitFor(() => burst.every((c) => c.peers.table.size === 11), 'everyone sees the eleven others');
    for (const c of burst) assert.equal(new Set(c.peers.names()).size, 11, 'no duplicates');
  });

  it('pushes renames to every node and answers the renamer with the assigned name', async () => {
    const { port } = await coordinator();
    const a = client(port, 1, 'a');
    const b = client(port, 2, 'b');
    const c = client(port, 3, 'c');
    await waitFor(() => [a, b, c].every((x) => x.peers.table.size === 2), 'all joined');
    assert.equal(await a.client.rename('hall'), 'hall');
    await waitFor(() => b.peers.get(identity(1).id)?.name === 'hall' && c.peers.get(identity(1).id)?.name === 'hall', 'rename seen');
    assert.ok(b.peers.events.includes('renamed a hall'));
    assert.equal(await b.client.rename('hall'), 'hall-2');
    await waitFor(() => c.peers.get(identity(2).id)?.name === 'hall-2', 'clash resolved for all');
  });

  it('tells everyone at once when a node leaves gracefully', async () => {
    const { port, server } = await coordinator({ heartbeatTimeoutMs: 20_000 });
    const a = client(port, 1, 'a');
    const b = client(port, 2, 'b');
    await waitFor(() => a.peers.table.size === 1 && b.peers.table.size === 1, 'joined');
    await b.client.leave();
    await waitFor(() => a.peers.table.size === 0, 'a saw b leave');
    assert.ok(a.peers.events.includes('left b'));
    assert.equal(server.peers().length, 1);
  });

  it('drops a node whose heartbeats stop', async () => {
    const { port, rejects } = await coordinator({ heartbeatTimeoutMs: 600 });
    const a = client(port, 1, 'a');
    const silent = await rawTls(port, identity(2));
    silent.send({ type: 'hello', name: 'silent', port: 4000 });
    await waitFor(() => a.peers.table.size === 1, 'silent node listed');
    await waitFor(() => a.peers.table.size === 0, 'silent node dropped');
    assert.ok(rejects.some((r) => r.code === 'NVID_ERR_TIMEOUT' && r.peerId === identity(2).id));
    await silent.closed;
    assert.equal(silent.errorCode(), 'NVID_ERR_TIMEOUT');
  });

  it('replaces the old session of a node that connects again, never listing it twice', async () => {
    const { port, server } = await coordinator({ heartbeatTimeoutMs: 20_000 });
    const watcher = client(port, 1, 'watcher');
    const stale = await rawTls(port, identity(2));
    stale.send({ type: 'hello', name: 'twice', port: 4000 });
    await waitFor(() => watcher.peers.table.size === 1, 'first session listed');
    const fresh = await rawTls(port, identity(2));
    fresh.send({ type: 'hello', name: 'twice', port: 4001 });
    await stale.closed;
    assert.equal(stale.errorCode(), 'NVID_ERR_CONNECTION');
    await waitFor(() => watcher.peers.get(identity(2).id)?.port === 4001, 'new address seen');
    assert.equal(server.peers().length, 2);
    assert.equal(watcher.peers.table.size, 1);
    assert.equal(watcher.peers.get(identity(2).id)!.name, 'twice', 'keeps its name, no twice-2');
    fresh.socket.destroy();
  });

  it('leaves exactly one entry per node after the coordinator restarts again and again', async () => {
    const rosterPath = `${dir}/coordinator-roster.json`;
    let c = await startCoordinator({ heartbeatTimeoutMs: 20_000, rosterPath });
    const port = c.port;
    const nodes = [client(port, 1, 'a'), client(port, 2, 'b'), client(port, 3, 'c')];
    for (let round = 1; round <= 5; round += 1) {
      const server = c.server;
      await waitFor(() => server.connectedPeers().length === 3 && nodes.every((n) => n.state.joins === round && n.peers.table.size === 2), `round ${round}: all rejoined`);
      await server.stop();
      c = await startCoordinator({ heartbeatTimeoutMs: 20_000, port, rosterPath });
    }
    cleanups.push(() => c.server.stop());
    await waitFor(() => c.server.connectedPeers().length === 3 && nodes.every((n) => n.state.joins === 6), 'all rejoined at the end');
    assert.equal(c.server.peers().length, 3);
    assert.equal(new Set(c.server.peers().map((p) => p.id)).size, 3);
    assert.deepEqual(nodes[0]!.peers.names(), ['b', 'c'], 'names kept across restarts');
    assert.ok(!nodes[0]!.peers.events.some((e) => e.startsWith('left')), 'no leave/join churn while the coordinator restarts');
  });

  it('forgets a remembered node that does not rejoin within the heartbeat timeout after a restart', async () => {
    const rosterPath = `${dir}/coordinator-roster.json`;
    const first = await startCoordinator({ heartbeatTimeoutMs: 600, rosterPath });
    const port = first.port;
    const stays = client(port, 1, 'stays');
    const goes = client(port, 2, 'goes');
    await waitFor(() => stays.peers.table.size === 1 && goes.peers.table.size === 1, 'both joined');
    await first.server.stop();
    await goes.client.leave(); // gone for good while the coordinator is down
    const second = await coordinator({ heartbeatTimeoutMs: 600, port, rosterPath });
    await waitFor(() => stays.state.joins === 2, 'rejoined');
    assert.equal(stays.peers.table.size, 1, 'still listed while it may come back');
    await waitFor(() => stays.peers.table.size === 0, 'dropped after the grace period');
    assert.deepEqual(second.server.peers().map((p) => p.name), ['stays']);
  });

  it('refuses a wrong or missing join token once with NOT_ADMITTED, admits the right one', async () => {
    const { port, server, rejects } = await coordinator({ admission: { policy: 'token', token: 'correct horse' } });
    const wrong = client(port, 1, 'wrong', { token: 'battery staple' });
    const none = client(port, 2, 'none');
    const right = client(port, 3, 'right', { token: 'correct horse' });
    await waitFor(() => right.state.joins === 1 && wrong.refusals.length === 1 && none.refusals.length === 1, 'verdicts');
    assert.ok(isNvidError(wrong.refusals[0], 'NVID_ERR_NOT_ADMITTED'));
    assert.ok(isNvidError(none.refusals[0], 'NVID_ERR_NOT_ADMITTED'));
    assert.ok(rejects.some((r) => r.code === 'NVID_ERR_NOT_ADMITTED' && r.peerId === identity(1).id));
    await sleep(500); // several slow retries happen meanwhile
    assert.equal(wrong.refusals.length, 1, 'the same refusal is reported once, not on every retry');
    assert.deepEqual(server.peers().map((p) => p.name), ['right']);
  });

  it('refuses an unlisted fingerprint before reading any frame', async () => {
    const { port, server } = await coordinator({ admission: { policy: 'fingerprints', fingerprints: [identity(1).id.toUpperCase().replace(/(..)(?!$)/g, '$1:')] } });
    const listed = client(port, 1, 'listed');
    const unlisted = client(port, 2, 'unlisted');
    await waitFor(() => listed.state.joins === 1 && unlisted.refusals.length === 1, 'verdicts');
    assert.ok(isNvidError(unlisted.refusals[0], 'NVID_ERR_NOT_ADMITTED'));
    assert.equal(server.peers().length, 1);
  });

  it('refuses an impostor coordinator after trust on first use, and a configured pin mismatch', async () => {
    const real = await startCoordinator();
    const port = real.port;
    const a = client(port, 1, 'a');
    await waitFor(() => a.state.joins === 1, 'pinned the real coordinator');
    await real.server.stop();
    await coordinator({ port, ident: identity(5) });
    await waitFor(() => a.refusals.length === 1, 'impostor refused');
    assert.ok(isNvidError(a.refusals[0], 'NVID_ERR_COORDINATOR_MISMATCH'));
    assert.equal(a.state.joins, 1);
    const pinned = client(port, 2, 'b', { fingerprint: identity(0).id });
    await waitFor(() => pinned.refusals.length === 1, 'configured pin refused');
    assert.ok(isNvidError(pinned.refusals[0], 'NVID_ERR_COORDINATOR_MISMATCH'));
  });

  it('refuses a TLS client without a certificate', async () => {
    const { port, rejects } = await coordinator();
    const anonymous = await rawTls(port);
    anonymous.send({ type: 'hello', name: 'anon', port: 4000 });
    await anonymous.closed;
    assert.equal(anonymous.errorCode(), 'NVID_ERR_UNTRUSTED_PEER');
    assert.ok(rejects.some((r) => r.code === 'NVID_ERR_UNTRUSTED_PEER'));
  });

  it('closes only the offending connection on random bytes, huge prefixes and half frames', async () => {
    const { port, rejects } = await coordinator({ heartbeatTimeoutMs: 20_000 });
    const a = client(port, 1, 'a');
    const b = client(port, 2, 'b');
    await waitFor(() => a.peers.table.size === 1, 'joined');

    // Random bytes with a fixed first byte, so no draw can stall instead of failing: 0x16 would
    // start a TLS handshake, and a small length prefix would wait for a frame's rest.
    const tcpGarbage = await rawTcp(port);
    tcpGarbage.socket.write(Buffer.concat([Buffer.from([0x00]), randomBytes(4095)]));
    const tlsGarbage = await rawTls(port, identity(3));
    tlsGarbage.socket.write(Buffer.concat([Buffer.from([0xfe]), randomBytes(4095)]));
    const huge = await rawTls(port, identity(4));
    huge.socket.write(Buffer.from([0xff, 0xff, 0xff, 0xff, 1, 1]));
    const half = await rawTls(port, identity(5));
    half.socket.end(Buffer.from([0, 0, 0, 50, 1, 1, 0x7b]));
    const futureVersion = await rawTls(port, identity(3));
    futureVersion.socket.write(Buffer.from([0, 0, 0, 2, 2, 1, 0x7b, 0x7d]));
    const unknownType = await rawTls(port, identity(4));
    unknownType.send({ type: 'frobnicate' });
    await Promise.all([tcpGarbage.closed, tlsGarbage.closed, huge.closed, half.closed, futureVersion.closed, unknownType.closed]);
    assert.equal(futureVersion.errorCode(), 'NVID_ERR_BAD_FRAME', 'an unknown protocol version is answered, then closed');
    assert.equal(unknownType.errorCode(), 'NVID_ERR_BAD_FRAME', 'an unknown message type is answered, then closed');
    assert.equal(huge.errorCode(), 'NVID_ERR_FRAME_TOO_LARGE');
    assert.ok(['NVID_ERR_BAD_FRAME', 'NVID_ERR_FRAME_TOO_LARGE'].includes(tlsGarbage.errorCode()!));
    assert.ok(rejects.some((r) => r.peerId === identity(5).id && r.code === 'NVID_ERR_BAD_FRAME'), 'truncated frame logged');
    assert.ok(rejects.length >= 4);

    assert.equal(await b.client.rename('still-here'), 'still-here');
    await waitFor(() => a.peers.get(identity(2).id)?.name === 'still-here', 'the others are unaffected');
  });

  it('times out connections that never authenticate and caps how many may wait', async () => {
    const { port, server, rejects } = await coordinator({ authTimeoutMs: 400, maxUnauthenticated: 3 });
    const idle = await Promise.all([rawTcp(port), rawTcp(port), rawTcp(port)]);
    await waitFor(() => (server as unknown as { server: { pendingCount: number } }).server.pendingCount === 3, 'three pending');
    const extra = await rawTcp(port);
    await extra.closed;
    assert.ok(idle.every((s) => !s.isClosed()), 'the capped connection went, the others still wait');
    await Promise.all(idle.map((s) => s.closed));
    assert.ok(rejects.filter((r) => r.code === 'NVID_ERR_TIMEOUT').length >= 3);
    const a = client(port, 1, 'after');
    await waitFor(() => a.state.joins === 1, 'a real node still gets in');
  });
});
