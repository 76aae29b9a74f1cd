/**
 * Several `nvid coordinator` processes sharing one directory on a real
 * nats-server (JetStream, a temporary store, a port of its own), with real
 * `nvid node`s joined at different coordinators: they see and send to each
 * other, names stay unique, NATS may restart under them, and a node that
 * lists two coordinators fails over when its own is killed.
 */
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { HistoryEntry, Peer } from '../../core/types.js';
import { HEADLESS_NODE_PLUGINS } from '../helpers/cluster.js';
import { testPatternPng } from '../helpers/media-fixtures.js';
import { NatsServer, natsServerBinary } from '../helpers/nats-server.js';
import { NvidProcess, removeDir, sendResult, sleep, tempDir, waitFor } from '../helpers/nvid.js';

const TTL_MS = 3000;
const COORDINATOR_OPTIONS = { heartbeatIntervalMs: 250, heartbeatTimeoutMs: 1500, authTimeoutMs: 1500 };
const NODE_TRANSPORT = { reconnect: { minMs: 50, maxMs: 500 }, authTimeoutMs: 1500 };

interface CoordinatorStatus {
  id: string;
  transport: { port: number; nodes: number; connected: number; directory: { connected: boolean; coordinators: number } };
}
interface NodeStatus {
  transport: { connected: boolean; coordinator: string };
}

describe('coordinators sharing a directory on NATS, between real nvid processes', function () {
  this.timeout(180_000);
  let dir: string;
  let nats: NatsServer;
  const processes: NvidProcess[] = [];
  const ports = new Map<NvidProcess, number>();

  before(function () {
    if (!natsServerBinary()) {
      console.log('      nats-server is not installed (apt-get install nats-server): skipping the shared directory tests');
      this.skip();
    }
  });
  beforeEach(async () => {
    dir = tempDir();
    nats = await NatsServer.start(join(dir, 'nats'));
  });
  afterEach(async () => {
    await Promise.all(processes.splice(0).map((p) => p.stop()));
    await nats?.stop();
    removeDir(dir);
  });

  async function coordinator(label: string): Promise<NvidProcess> {
    const where = join(dir, label);
    mkdirSync(where, { recursive: true });
    const options = { listen: { host: '127.0.0.1', port: 0 }, directory: { nats: { servers: [nats.url], ttlMs: TTL_MS } }, ...COORDINATOR_OPTIONS };
    const proc = await NvidProcess.start('coordinator', where, { name: label, plugins: [{ use: 'transport', options }] });
    processes.push(proc);
    // The control socket answers before the transport has started (connecting to NATS comes first): wait for the port.
    ports.set(proc, await waitFor(async () => (await proc.control<CoordinatorStatus>('status')).transport.port, `coordinator ${label} to listen`));
    return proc;
  }

  async function node(name: string, at: NvidProcess[], folder = name): Promise<NvidProcess> {
    const where = join(dir, folder);
    mkdirSync(where, { recursive: true });
    const coordinators = at.map((c) => ({ host: '127.0.0.1', port: ports.get(c)! }));
    const transport = { use: 'transport', options: { listen: { host: '127.0.0.1', port: 0 }, coordinators, ...NODE_TRANSPORT } };
    const proc = await NvidProcess.start('node', where, { name, plugins: [transport, ...HEADLESS_NODE_PLUGINS] });
    processes.push(proc);
    return proc;
  }

  const peerNames = async (proc: NvidProcess) => (await proc.control<Peer[]>('peers')).map((p) => p.name).sort().join(',');
  const waitForPeers = (proc: NvidProcess, names: string[], what: string, timeoutMs = 20_000) =>
    waitFor(async () => (await peerNames(proc)) === [...names].sort().join(','), what, timeoutMs);

  it('sends a file from a node joined at one coordinator to a node joined at another, and keeps names unique across both', async () => {
    const [one, two] = [await coordinator('one'), await coordinator('two')];
    const alpha = await node('alpha', [one]);
    const beta = await node('beta', [two]);
    await waitForPeers(alpha, ['beta'], 'alpha (at one) to list beta (at two)');
    await waitForPeers(beta, ['alpha'], 'beta to list alpha');

    const picture = await testPatternPng(dir, 'across.png', '320x240');
    const sent = await alpha.cli(['send', picture, '--to', 'beta', '--json']);
    assert.equal(sent.code, 0, sent.stderr + sent.stdout);
    const { sha256 } = sendResult(sent.stdout);
    const received = await waitFor(async () => (await beta.control<HistoryEntry[]>('history')).find((e) => e.kind === 'received'), 'beta to record the transfer');
    assert.equal(received.sha256, sha256, 'the same bytes arrived');

    // A third node asks for beta's name at the other coordinator, then renames onto alpha's.
    const third = await node('beta', [one], 'third');
    await waitForPeers(alpha, ['beta', 'beta-2'], 'alpha to list both betas');
    assert.equal((await third.control<{ name: string }>('status')).name, 'beta-2', 'the duplicate name was told to its node');
    const renamed = await third.cli(['rename', 'alpha', '--json']);
    assert.equal(renamed.code, 0, renamed.stderr);
    assert.deepEqual(JSON.parse(renamed.stdout), { name: 'alpha-2' });
    await waitForPeers(beta, ['alpha', 'alpha-2'], 'beta (at two) to see the rename made at one');
    assert.equal(await peerNames(one), await peerNames(two), 'both coordinators list the same nodes');
  });

  it('rides out a NATS restart: nodes stay listed, and joins work again after', async () => {
    const [one, two] = [await coordinator('one'), await coordinator('two')];
    const alpha = await node('alpha', [one]);
    const beta = await node('beta', [two]);
    await waitForPeers(alpha, ['beta'], 'alpha to list beta');
    await nats.kill();
    await sleep(1000);
    await nats.restart();
    await waitFor(async () => (await two.control<CoordinatorStatus>('status')).transport.directory.connected, 'coordinator two back on NATS');
    const gamma = await node('gamma', [two]);
    await waitForPeers(alpha, ['beta', 'gamma'], 'alpha (at one) to list gamma, joined at two after the restart');
    await waitForPeers(gamma, ['alpha', 'beta'], 'gamma to list the nodes from before the restart');
    await sleep(TTL_MS + 500); // past the TTL: entries from before the restart are refreshed, not expired
    assert.equal(await peerNames(alpha), 'beta,gamma');
    assert.equal(await peerNames(beta), 'alpha,gamma');
    const history = await alpha.control<HistoryEntry[]>('history');
    assert.ok(!history.some((e) => e.kind === 'peer-left'), 'nobody left on the way');
  });

  it('fails a node over to its second coordinator when its first is killed, listed everywhere all along', async () => {
    const [one, two] = [await coordinator('one'), await coordinator('two')];
    const watcher = await node('watcher', [two]);
    const mover = await node('mover', [one, two]);
    await waitForPeers(watcher, ['mover'], 'the watcher to list the mover');
    assert.equal((await mover.control<NodeStatus>('status')).transport.coordinator, `127.0.0.1:${ports.get(one)}`);
    await one.kill();
    await waitFor(async () => {
      const status = await mover.control<NodeStatus>('status');
      return status.transport.connected && status.transport.coordinator === `127.0.0.1:${ports.get(two)}`;
    }, 'the mover to join the second coordinator');
    await sleep(TTL_MS + 1000); // past the TTL: the dead coordinator's entry would have expired by now
    assert.equal(await peerNames(watcher), 'mover');
    assert.equal(await peerNames(mover), 'watcher');
    assert.equal((await two.control<CoordinatorStatus>('status')).transport.connected, 2);
    const history = await watcher.control<HistoryEntry[]>('history');
    assert.ok(!history.some((e) => e.kind === 'peer-left'), 'the watcher never saw the mover leave');
    const late = await node('late', [two]);
    await waitForPeers(late, ['mover', 'watcher'], 'a node joining later lists the mover once');
  });
});
