/**
 * The transport between real processes: one `nvid coordinator` and three
 * `nvid node`s on 127.0.0.1, driven through their control sockets and CLI.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createIdentity } from '../../core/identity.js';
import type { HistoryEntry, Identity, Peer } from '../../core/types.js';
import { Cluster } from '../helpers/cluster.js';
import { colourClip, testPatternPng } from '../helpers/media-fixtures.js';
import { removeDir, sendResult, tempDir, waitFor } from '../helpers/nvid.js';
import { joinAsNode, rawTcp, rawTls, type RawPeer } from '../unit/transport/raw-peer.js';

const HEARTBEAT_TIMEOUT_MS = 1500;
const COORDINATOR_OPTIONS = { heartbeatIntervalMs: 250, heartbeatTimeoutMs: HEARTBEAT_TIMEOUT_MS, authTimeoutMs: 1500 };
const NODE_TRANSPORT = { reconnect: { minMs: 50, maxMs: 500 }, authTimeoutMs: 1500 };

interface Status {
  transport: { transferPort: number; connected: boolean; port: number };
}

describe('transport between real nvid processes', function () {
  this.timeout(180_000);
  let dir: string;
  let cluster: Cluster;
  const names = ['alpha', 'beta', 'gamma'];

  const peersOf = (name: string) => cluster.node(name).control<Peer[]>('peers');
  const historyOf = (name: string) => cluster.node(name).control<HistoryEntry[]>('history');
  const transferPortOf = async (name: string) => (await cluster.node(name).control<Status>('status')).transport.transferPort;
  const startNode = (name: string) => cluster.startNode({ name, transport: NODE_TRANSPORT });

  before(async () => {
    dir = tempDir();
    cluster = new Cluster(dir);
    await cluster.startCoordinator(COORDINATOR_OPTIONS);
    for (const name of names) await startNode(name);
  });
  after(async () => {
    await cluster.stop();
    removeDir(dir);
  });

  it('shows joins, the list, a rename and a leave to every node and in their history', async () => {
    for (const name of names) await cluster.waitForPeers(name, names.filter((n) => n !== name));
    const listed = await cluster.node('alpha').cli(['peers', '--json']);
    assert.equal(listed.code, 0, listed.stderr);
    assert.deepEqual((JSON.parse(listed.stdout) as Peer[]).map((p) => p.name).sort(), ['beta', 'gamma']);
    const alphaPeers = await peersOf('alpha');
    assert.equal(new Set(alphaPeers.map((p) => p.id)).size, 2);
    assert.ok(alphaPeers.every((p) => p.address === '127.0.0.1' && p.port > 0));

    const renamed = await cluster.node('gamma').cli(['rename', 'delta', '--json']);
    assert.equal(renamed.code, 0, renamed.stderr);
    assert.deepEqual(JSON.parse(renamed.stdout), { name: 'delta' });
    await cluster.waitForPeers('alpha', ['beta', 'delta']);
    await cluster.waitForPeers('beta', ['alpha', 'delta']);

    await cluster.node('gamma').stop();
    await cluster.waitForPeers('alpha', ['beta']);
    await cluster.waitForPeers('beta', ['alpha']);
    for (const name of ['alpha', 'beta']) {
      const history = await historyOf(name);
      const other = name === 'alpha' ? 'beta' : 'alpha';
      assert.ok(history.some((e) => e.kind === 'peer-joined' && e.name === other), `${name} recorded ${other} joining`);
      assert.ok(history.some((e) => e.kind === 'peer-joined' && e.name === 'gamma'), `${name} recorded gamma joining`);
      assert.ok(history.some((e) => e.kind === 'peer-renamed' && e.oldName === 'gamma' && e.name === 'delta'), `${name} recorded the rename`);
      assert.ok(history.some((e) => e.kind === 'peer-left' && e.name === 'delta'), `${name} recorded the leave`);
    }
    await startNode('gamma');
    for (const name of names) await cluster.waitForPeers(name, names.filter((n) => n !== name));
  });

  it('runs several transfers at once, in both directions, between several nodes', async () => {
    const picture = await testPatternPng(dir, 'pattern.png', '640x480');
    const clip = await colourClip(dir, 'both-ways.mp4', ['red', 'blue'], 1, '320x240');
    const routes: Array<[string, string, string]> = [
      ['alpha', 'beta', picture], ['beta', 'alpha', clip], ['gamma', 'alpha', picture],
      ['alpha', 'gamma', clip], ['beta', 'gamma', picture], ['gamma', 'beta', clip],
    ];
    const results = await Promise.all(routes.map(([from, to, file]) => cluster.node(from).cli(['send', file, '--to', to, '--json'])));
    results.forEach((r, i) => assert.equal(r.code, 0, `${routes[i]!.join(' -> ')}: ${r.stderr}${r.stdout}`));
    for (const name of names) {
      const received = (await historyOf(name)).filter((e) => e.kind === 'received');
      assert.ok(received.length >= 2, `${name} received its two transfers`);
    }
  });

  it('does not let a certificate the coordinator never admitted open a transfer connection', async () => {
    const port = await transferPortOf('alpha');
    const stranger = await rawTls(port, createIdentity('stranger'));
    stranger.send({ type: 'transfer', transferId: 'sneaky-transfer' });
    await stranger.closed;
    assert.equal(stranger.errorCode(), 'NVID_ERR_UNTRUSTED_PEER');
    const history = await historyOf('alpha');
    assert.ok(history.some((e) => e.kind === 'rejected' && e.stage === 'transport' && e.code === 'NVID_ERR_UNTRUSTED_PEER'));
  });

  it('closes only the offending connections on bad input while a transfer between two other nodes completes', async () => {
    const clip = await colourClip(dir, 'clip.mp4', ['red', 'green', 'blue', 'white'], 1, '640x480');
    // An admitted but malicious peer: joins like a node, then sends garbage to alpha.
    const mallory: Identity = createIdentity('mallory');
    const { session, leave } = await joinAsNode(cluster.coordinatorPort, mallory, 'mallory');
    try {
      await cluster.waitForPeers('alpha', ['beta', 'gamma', 'mallory']);
      const alphaPort = await transferPortOf('alpha');
      const coordPort = cluster.coordinatorPort;
      const sending = cluster.node('beta').cli(['send', clip, '--to', 'gamma', '--json']);

      const attacks: Record<string, RawPeer> = {};
      for (const [where, port] of [['node', alphaPort], ['coordinator', coordPort]] as const) {
        attacks[`${where} random bytes`] = await rawTcp(port);
        attacks[`${where} random bytes`]!.socket.write(randomBytes(4096));
        attacks[`${where} slow-loris`] = await rawTcp(port);
        attacks[`${where} slow-loris`]!.socket.write(Buffer.from([0x16, 0x03])); // half a TLS record header, then nothing
      }
      const huge = await rawTls(alphaPort, mallory);
      huge.send({ type: 'transfer', transferId: 'huge-prefix' });
      huge.socket.write(Buffer.from([0xff, 0xff, 0xff, 0xff, 1, 2]));
      attacks['node 4 GiB prefix'] = huge;
      const truncated = await rawTls(alphaPort, mallory);
      truncated.send({ type: 'transfer', transferId: 'truncated-frame' });
      truncated.socket.end(Buffer.concat([Buffer.from([0, 0, 0, 100, 1, 2]), Buffer.alloc(10)]));
      attacks['node truncated frame'] = truncated;
      const coordHuge = await rawTls(coordPort, createIdentity('mallory-2'));
      coordHuge.socket.write(Buffer.from([0xff, 0xff, 0xff, 0xff, 1, 1]));
      attacks['coordinator 4 GiB prefix'] = coordHuge;

      await Promise.all(Object.values(attacks).map((a) => a.closed));
      assert.equal(huge.errorCode(), 'NVID_ERR_FRAME_TOO_LARGE');
      assert.equal(coordHuge.errorCode(), 'NVID_ERR_FRAME_TOO_LARGE');

      const sent = await sending;
      assert.equal(sent.code, 0, sent.stderr);
      assert.equal(sendResult(sent.stdout).receipt.receiverId.length, 64);

      const codes = (await historyOf('alpha')).filter((e) => e.kind === 'rejected' && e.stage === 'transport').map((e) => e.code);
      for (const code of ['NVID_ERR_BAD_FRAME', 'NVID_ERR_FRAME_TOO_LARGE', 'NVID_ERR_TIMEOUT']) assert.ok(codes.includes(code), `alpha recorded ${code}`);
      const coordCodes = (await cluster.coordinator.control<HistoryEntry[]>('history')).filter((e) => e.kind === 'rejected').map((e) => e.code);
      for (const code of ['NVID_ERR_BAD_FRAME', 'NVID_ERR_FRAME_TOO_LARGE', 'NVID_ERR_TIMEOUT']) assert.ok(coordCodes.includes(code), `coordinator recorded ${code}`);
      assert.equal(session.isClosed(), false, "mallory's own coordinator session was not affected either");
    } finally {
      leave();
    }
    for (const name of names) await cluster.waitForPeers(name, names.filter((n) => n !== name));
  });

  it('drops a node killed with SIGKILL from every list within the heartbeat timeout', async () => {
    await cluster.node('gamma').kill();
    const killedAt = Date.now();
    // The waits below fail if the drop takes much longer than the configured timeout.
    await cluster.waitForPeers('alpha', ['beta'], HEARTBEAT_TIMEOUT_MS * 2 + 2000);
    await cluster.waitForPeers('beta', ['alpha'], HEARTBEAT_TIMEOUT_MS * 2 + 2000 - (Date.now() - killedAt));
    const history = await historyOf('alpha');
    assert.ok(history.some((e) => e.kind === 'peer-left' && e.name === 'gamma'));
    await startNode('gamma');
    for (const name of names) await cluster.waitForPeers(name, names.filter((n) => n !== name));
  });

  it('drops a frozen node (SIGSTOP: socket open, heartbeats stopped) within the heartbeat timeout; it rejoins on SIGCONT', async () => {
    const gamma = cluster.node('gamma');
    gamma.child.kill('SIGSTOP');
    try {
      await cluster.waitForPeers('alpha', ['beta'], HEARTBEAT_TIMEOUT_MS * 2 + 2000);
      const dropped = (await cluster.coordinator.control<HistoryEntry[]>('history')).filter((e) => e.kind === 'rejected' && e.code === 'NVID_ERR_TIMEOUT');
      assert.ok(dropped.some((e) => typeof e.reason === 'string' && e.reason.includes('heartbeat')), 'the coordinator says why');
    } finally {
      gamma.child.kill('SIGCONT');
    }
    for (const name of names) await cluster.waitForPeers(name, names.filter((n) => n !== name));
  });

  it('leaves every node rejoined with exactly one entry after 20 coordinator restarts in a row', async () => {
    const ids = new Map<string, string>();
    for (const name of names) ids.set(name, (await cluster.node(name).control<{ id: string }>('status')).id);
    for (let round = 1; round <= 20; round += 1) {
      await cluster.coordinator.stop();
      await cluster.startCoordinator(COORDINATOR_OPTIONS);
      await waitFor(async () => (await cluster.coordinator.control<{ transport: { connected: number } }>('status')).transport.connected === 3, `round ${round}: all three rejoined`, 20_000);
    }
    const listed = await cluster.coordinator.control<Peer[]>('peers');
    assert.deepEqual(listed.map((p) => p.id).sort(), [...ids.values()].sort());
    for (const name of names) {
      const peers = await peersOf(name);
      assert.equal(peers.length, 2, `${name} lists two peers`);
      assert.deepEqual(peers.map((p) => p.id).sort(), [...ids.entries()].filter(([n]) => n !== name).map(([, id]) => id).sort());
      const status = await cluster.node(name).control<Status>('status');
      assert.equal(status.transport.connected, true);
    }
  });
});
