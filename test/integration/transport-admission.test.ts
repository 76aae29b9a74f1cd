/**
 * Who gets in, between real processes: join tokens (weak ones refused, a
 * missing one generated), fingerprint lists, an impostor coordinator, and a
 * TLS client without a certificate.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { loadOrCreateIdentity } from '../../core/identity.js';
import type { HistoryEntry, Peer } from '../../core/types.js';
import { Cluster } from '../helpers/cluster.js';
import { NvidProcess, removeDir, runNvid, tempDir, waitFor, writeJson } from '../helpers/nvid.js';

const NODE_TRANSPORT = { reconnect: { minMs: 50, maxMs: 300 } };

interface NodeStatus {
  transport: { connected: boolean };
}

const refusals = async (node: NvidProcess) =>
  (await node.control<HistoryEntry[]>('history')).filter((e) => e.kind === 'rejected' && e.stage === 'transport');

describe('transport admission between real nvid processes', function () {
  this.timeout(120_000);
  let dir: string;
  let cluster: Cluster;
  const extra: NvidProcess[] = [];
  beforeEach(() => {
    dir = tempDir();
    cluster = new Cluster(dir);
  });
  afterEach(async () => {
    await Promise.all(extra.splice(0).map((p) => p.stop()));
    await cluster.stop();
    removeDir(dir);
  });

  it('refuses a wrong join token with a clear error and admits the right one', async () => {
    await cluster.startCoordinator({ admission: { policy: 'token', token: 'open-sesame-1234' } });
    const good = await cluster.startNode({ name: 'good', transport: { ...NODE_TRANSPORT, joinToken: 'open-sesame-1234' } });
    const bad = await cluster.startNode({ name: 'bad', transport: { ...NODE_TRANSPORT, joinToken: 'guessed-wrong' } });
    const refused = await waitFor(async () => (await refusals(bad)).find((e) => e.code === 'NVID_ERR_NOT_ADMITTED'), 'bad to record the refusal');
    assert.match(String(refused.reason), /join token/);
    assert.match(bad.stderr + bad.stdout, /NVID_ERR_NOT_ADMITTED/, 'the refusal is logged');
    assert.equal((await bad.control<NodeStatus>('status')).transport.connected, false);
    assert.equal((await good.control<NodeStatus>('status')).transport.connected, true);
    assert.deepEqual(await good.control<Peer[]>('peers'), []);
    const coordinatorSide = await refusals(cluster.coordinator);
    assert.ok(coordinatorSide.some((e) => e.code === 'NVID_ERR_NOT_ADMITTED'), 'the coordinator records it too');
    await new Promise((resolve) => setTimeout(resolve, 800)); // several retries at the slow pace
    assert.equal((await refusals(bad)).filter((e) => e.code === 'NVID_ERR_NOT_ADMITTED').length, 1, 'recorded once, not per retry');
  });

  it('refuses to start a coordinator whose token is a placeholder or short, saying how to fix it', async () => {
    const cases = [
      { token: 'change-me-to-a-long-random-secret', reason: /transport\.admission\.token is a well-known placeholder.*remove transport\.admission\.token to have the coordinator generate a strong one/ },
      { token: 'short-secret', reason: /transport\.admission\.token has 12 characters; at least 16 are needed/ },
    ];
    for (const [i, { token, reason }] of cases.entries()) {
      const home = join(dir, `weak-${i}`);
      mkdirSync(home);
      const config = writeJson(join(home, 'config.json'), { stateDir: join(home, 'state'), plugins: [{ use: 'transport', options: { listen: { host: '127.0.0.1', port: 0 }, admission: { policy: 'token', token } } }] });
      const result = await runNvid(['coordinator', '--config', config]);
      assert.equal(result.code, 2, `a config error, which systemd does not restart: ${result.stderr}`);
      assert.match(result.stderr, reason);
      assert.match(result.stderr, /\[NVID_ERR_PLUGIN_APPLY, caused by NVID_ERR_WEAK_TOKEN\]/);
      assert.equal(result.stderr.includes(token), false, 'the token is not repeated');
    }
  });

  it('makes a join token on first start, keeps it owner-only, says how nodes join, and uses it again after a restart', async () => {
    const first = await cluster.startCoordinator({ admission: { policy: 'token' } });
    const file = join(first.stateDir, 'join-token');
    assert.equal(statSync(file).mode & 0o777, 0o600);
    const token = readFileSync(file, 'utf8').trim();
    assert.match(token, /^[A-Za-z0-9_-]{43}$/);
    const id = (await first.control<{ id: string }>('status')).id;
    await waitFor(() => first.stderr.includes(`"joinToken": "${token}"`), 'the coordinator to print how a node joins');
    assert.ok(first.stderr.includes(`"coordinator": { "host": "127.0.0.1", "port": ${cluster.coordinatorPort}, "fingerprint": "${id}" }`), first.stderr);
    const node = await cluster.startNode({ name: 'joiner', transport: { ...NODE_TRANSPORT, joinToken: token } });
    await waitFor(async () => (await node.control<NodeStatus>('status')).transport.connected, 'the node to join with the printed token');

    await first.stop();
    const second = await cluster.startCoordinator({ admission: { policy: 'token' } });
    assert.equal(readFileSync(file, 'utf8').trim(), token, 'the same token after a restart');
    type CoordinatorStatus = { transport: { joinTokenFile?: string; connected: number } };
    assert.equal((await second.control<CoordinatorStatus>('status')).transport.joinTokenFile, file);
    // Connected to the new process, not merely remembered in its roster.
    await waitFor(async () => (await second.control<CoordinatorStatus>('status')).transport.connected === 1, 'the node to rejoin');
    assert.equal(second.stderr.includes(token), false, 'printed once, when it was made; the log names the file only');
    assert.match(second.stderr, /nodes join with the token in .*join-token/);
    assert.deepEqual((await refusals(node)).map((e) => e.code), []);
  });

  it('refuses a fingerprint that is not on the list', async () => {
    // Make the listed node's identity first, where its state folder will be, to know its ID.
    const listedDir = join(dir, 'listed', 'state');
    mkdirSync(listedDir, { recursive: true, mode: 0o700 });
    const listedId = loadOrCreateIdentity(join(listedDir, 'identity'), 'listed').id;
    await cluster.startCoordinator({ admission: { policy: 'fingerprints', fingerprints: [listedId] } });
    const listed = await cluster.startNode({ name: 'listed', transport: NODE_TRANSPORT });
    const unlisted = await cluster.startNode({ name: 'unlisted', transport: NODE_TRANSPORT });
    const refused = await waitFor(async () => (await refusals(unlisted)).find((e) => e.code === 'NVID_ERR_NOT_ADMITTED'), 'unlisted to record the refusal');
    assert.match(String(refused.reason), /fingerprints/);
    assert.equal((await listed.control<{ id: string }>('status')).id, listedId);
    await waitFor(async () => (await listed.control<NodeStatus>('status')).transport.connected, 'listed joined');
    assert.deepEqual((await cluster.coordinator.control<Peer[]>('peers')).map((p) => p.name), ['listed']);
  });

  it('refuses an impostor coordinator after trusting the real one on first use', async () => {
    await cluster.startCoordinator();
    const port = cluster.coordinatorPort;
    const node = await cluster.startNode({ name: 'pinned', transport: NODE_TRANSPORT });
    await waitFor(async () => (await node.control<NodeStatus>('status')).transport.connected, 'joined the real coordinator');
    const known = readFileSync(join(node.stateDir, 'known_coordinators'), 'utf8');
    const realId = (await cluster.coordinator.control<{ id: string }>('status')).id;
    assert.match(known, new RegExp(`127\\.0\\.0\\.1:${port} ${realId}`));

    await cluster.coordinator.stop();
    const impostorDir = join(dir, 'impostor');
    mkdirSync(impostorDir);
    const impostor = await NvidProcess.start('coordinator', impostorDir, { plugins: [{ use: 'transport', options: { listen: { host: '127.0.0.1', port } } }] });
    extra.push(impostor);
    const refused = await waitFor(async () => (await refusals(node)).find((e) => e.code === 'NVID_ERR_COORDINATOR_MISMATCH'), 'the node to refuse the impostor');
    assert.match(String(refused.reason), /known_coordinators/, 'the message says what to check');
    assert.equal((await node.control<NodeStatus>('status')).transport.connected, false);
    assert.deepEqual(await impostor.control<Peer[]>('peers'), [], 'the impostor learned nothing');
  });

  it('refuses a coordinator that does not match the fingerprint in the config', async () => {
    await cluster.startCoordinator();
    const node = await cluster.startNode({ name: 'strict', transport: { ...NODE_TRANSPORT, coordinator: { host: '127.0.0.1', port: cluster.coordinatorPort, fingerprint: 'ab'.repeat(32) } } });
    const refused = await waitFor(async () => (await refusals(node)).find((e) => e.code === 'NVID_ERR_COORDINATOR_MISMATCH'), 'refusal');
    assert.match(String(refused.reason), /transport\.coordinator\.fingerprint/);
    assert.equal(existsSync(join(node.stateDir, 'known_coordinators')), false, 'a configured pin is not overwritten by trust on first use');
  });

  it('refuses openssl s_client without a client certificate', async () => {
    await cluster.startCoordinator();
    const client = spawn('openssl', ['s_client', '-connect', `127.0.0.1:${cluster.coordinatorPort}`, '-tls1_3', '-quiet'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    client.stdout.on('data', (d: Buffer) => (output += d.toString('latin1')));
    client.stderr.on('data', (d: Buffer) => (output += d.toString('latin1')));
    const exited = new Promise<number | null>((resolve) => client.on('close', (code) => resolve(code)));
    // stdin stays open: s_client only leaves because the coordinator closes the connection.
    const timer = setTimeout(() => client.kill('SIGKILL'), 20_000);
    await exited;
    clearTimeout(timer);
    assert.match(output, /NVID_ERR_UNTRUSTED_PEER/, 'the error frame names the reason');
    const coordinatorSide = await refusals(cluster.coordinator);
    assert.ok(coordinatorSide.some((e) => e.code === 'NVID_ERR_UNTRUSTED_PEER'));
  });
});
