/**
 * Two real coordinator servers sharing one directory on a real nats-server,
 * with real coordinator clients: names, renames and failover as nodes see
 * them. The rotation of coordinator addresses is tested on its own first.
 */
import assert from 'node:assert/strict';
import { CoordinatorRotation } from '../../../plugins/transport/coordinator/coordinator-failover.js';
import { natsDirectoryFactory } from '../../../plugins/transport/coordinator/directory-nats.js';
import { NatsServer, natsServerBinary } from '../../helpers/nats-server.js';
import { startClient, startCoordinator } from './coordinator-fixture.js';
import { identity, removeDir, sleep, tempDir, waitFor } from './helpers.js';

describe('transport coordinator rotation', () => {
  it('moves to the next coordinator on each failure, slowing down only per full round', () => {
    const rotation = new CoordinatorRotation([{ host: 'a', port: 1 }, { host: 'b', port: 2, fingerprint: 'f' }, { host: 'c', port: 3 }]);
    assert.equal(rotation.label, 'a:1');
    assert.deepEqual([rotation.next(), rotation.next(), rotation.next(), rotation.next()], [0, 0, 0, 1]);
    assert.equal(rotation.label, 'b:2');
    assert.equal(rotation.current.fingerprint, 'f', 'each address keeps its own pin');
    rotation.joined();
    assert.equal(rotation.next(), 0, 'a join starts a fresh round');
    assert.equal(rotation.label, 'c:3');
    const single = new CoordinatorRotation([{ host: 'a', port: 1 }]);
    assert.deepEqual([single.next(), single.next(), single.next()], [0, 1, 2], 'one coordinator: the backoff of old');
  });
});

describe('transport coordinators sharing a directory on NATS', function () {
  this.timeout(60_000);
  let dir: string;
  let nats: NatsServer;
  let bucket = 0;
  const cleanups: Array<() => unknown> = [];

  before(async function () {
    if (!natsServerBinary()) {
      console.log('      nats-server is not installed (apt-get install nats-server): skipping the shared directory tests');
      this.skip();
    }
    [0, 1, 2, 3, 4, 10, 11].forEach(identity);
    dir = tempDir();
    nats = await NatsServer.start(`${dir}/nats`);
  });
  after(async () => {
    await nats?.stop();
    if (dir) removeDir(dir);
  });
  beforeEach(() => (bucket += 1));
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function coordinator(n: number) {
    const shared = natsDirectoryFactory({ servers: [nats.url], bucket: `shared-${bucket}`, ttlMs: 3000 }, 'open');
    const c = await startCoordinator({ ident: identity(n), directory: shared.factory, heartbeatIntervalMs: 200, heartbeatTimeoutMs: 1000 });
    let stopped = false;
    const stop = async () => {
      if (!stopped) await c.server.stop();
      stopped = true;
    };
    cleanups.push(stop);
    return { ...c, stop };
  }
  function client(port: number, n: number, name: string, extra: Partial<Parameters<typeof startClient>[0]> = {}) {
    const c = startClient({ port, ident: identity(n), name, stateDir: `${dir}/${bucket}-${n}`, ...extra });
    cleanups.push(() => c.client.leave());
    return c;
  }

  it('lists nodes joined at either coordinator to all, with names unique across both, and renames everywhere', async () => {
    const [one, two] = [await coordinator(10), await coordinator(11)];
    const a = client(one.port, 1, 'lobby');
    await waitFor(() => a.state.joins === 1, 'a joined at one');
    const b = client(two.port, 2, 'lobby');
    await waitFor(() => b.state.joins === 1, 'b joined at two');
    const c = client(one.port, 3, 'lobby');
    await waitFor(() => [a, b, c].every((x) => x.peers.table.size === 2), 'everyone lists the two others');
    assert.deepEqual([a.state.name, b.state.name, c.state.name], ['lobby', 'lobby-2', 'lobby-3']);
    assert.deepEqual(b.peers.names(), ['lobby', 'lobby-3'], 'b, at two, lists the nodes joined at one');

    assert.equal(await b.client.rename('kitchen'), 'kitchen');
    assert.equal(await c.client.rename('kitchen'), 'kitchen-2', 'a clash with a node of the other coordinator');
    assert.equal(await a.client.rename('kitchen'), 'kitchen-3');
    await waitFor(() => a.peers.names().join() === 'kitchen,kitchen-2' && b.peers.names().join() === 'kitchen-2,kitchen-3' && c.peers.names().join() === 'kitchen,kitchen-3', 'every list shows the renames');
    assert.ok(a.peers.events.includes('renamed lobby-2 kitchen'), 'a heard b rename (b is at the other coordinator)');
    assert.deepEqual(one.server.peers().map((p) => p.name).sort(), two.server.peers().map((p) => p.name).sort());

    await b.client.leave();
    await waitFor(() => a.peers.table.size === 1 && c.peers.table.size === 1, 'the leave reaches the nodes of the other coordinator');
    assert.equal(await c.client.rename('kitchen'), 'kitchen', 'the name b held is free again');
  });

  it('lets a node that lists two coordinators fail over when its own goes away, listed all along', async () => {
    const [one, two] = [await coordinator(10), await coordinator(11)];
    const watcher = client(two.port, 1, 'watcher');
    const mover = client(one.port, 2, 'mover', { fallbacks: [{ host: '127.0.0.1', port: two.port, fingerprint: identity(11).id }] });
    await waitFor(() => watcher.peers.table.size === 1 && mover.peers.table.size === 1, 'both listed');
    await one.stop();
    await waitFor(() => mover.state.joins === 2, 'the mover joined the second coordinator');
    assert.equal(mover.state.name, 'mover', 'with its name');
    assert.equal(mover.client.coordinator, `127.0.0.1:${two.port}`);
    await sleep(3500); // past the bucket's TTL: the first coordinator's entry would have expired by now
    assert.deepEqual(watcher.peers.names(), ['mover']);
    assert.ok(!watcher.peers.events.some((e) => e.startsWith('left')), 'the watcher never saw it leave');
    assert.deepEqual(two.server.connectedPeers().map((p) => p.name).sort(), ['mover', 'watcher']);
    assert.equal(mover.refusals.length, 0, 'the second coordinator passed its own pin');
  });
});
