/**
 * mDNS discovery between real processes, each side in a network namespace of
 * its own joined by a veth pair, so no multicast can reach the machine's real
 * interfaces. A third namespace, linked to both and made their default route
 * for multicast, listens for mDNS: the coordinator and the nodes, bound to the
 * link between them, must never send it a packet.
 *
 *   a: coordinator  10.231.0.1 ──veth── 10.231.0.2  b: nodes
 *                   10.232.0.1            10.233.0.1
 *                        │                     │
 *                   10.232.0.2 ── decoy ── 10.233.0.2
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { EXIT } from '../../core/cli/exit-codes.js';
import { callControl } from '../../core/control/client.js';
import type { HistoryEntry, Peer } from '../../core/types.js';
import { HEADLESS_NODE_PLUGINS } from '../helpers/cluster.js';
import { hasCommand, NetnsLab, netnsUnavailable } from '../helpers/netns.js';
import { NVID_BIN, NvidProcess, REPO_ROOT, removeDir, runNvid, sleep, tempDir, waitFor, writeJson } from '../helpers/nvid.js';

const COORDINATOR_ADDRESS = '10.231.0.1';
const NODE_ADDRESS = '10.231.0.2';
const DECOY_FROM_COORDINATOR = '10.232.0.1';
const DECOY_FROM_NODES = '10.233.0.1';
const WRONG = 'ab'.repeat(32);

interface NodeStatus {
  transport: { connected: boolean; coordinator?: string; discovery?: { mdns: boolean; found: boolean } };
}

/** Everything a child printed (stdout and stderr), so far. */
function collect(child: ChildProcess): { text: () => string } {
  let text = '';
  child.stdout?.on('data', (d: Buffer) => (text += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (text += d.toString()));
  return { text: () => text };
}

/** Listens for mDNS on the decoy's two links and prints one JSON line per datagram. */
const DECOY_LISTENER = `
import dgram from 'node:dgram';
const socket = dgram.createSocket({ type: 'udp4', reuseAddr: true });
socket.on('message', (m, r) => console.log(JSON.stringify({ from: r.address, control: m.toString() === 'nvid-control' })));
socket.bind(5353, () => {
  for (const a of ['10.232.0.2', '10.233.0.2']) socket.addMembership('224.0.0.251', a);
  console.log('ready');
});
`;

/** One datagram to the mDNS group through `via`: proves the decoy would hear what leaves that way. */
const controlPacket = (via: string) => `
import dgram from 'node:dgram';
const socket = dgram.createSocket('udp4');
socket.bind(0, () => {
  socket.setMulticastInterface('${via}');
  socket.send(Buffer.from('nvid-control'), 5353, '224.0.0.251', () => socket.close());
});
`;

/** A lying announcement: another coordinator's fingerprint, on the port of this impostor. */
const liar = (port: number, fingerprint: string) => `
const dist = ${JSON.stringify(pathToFileURL(join(REPO_ROOT, 'dist/plugins/transport/discovery/')).href)};
const { CoordinatorAnnouncer } = await import(dist + 'announce.js');
const { multicastOptions } = await import(dist + 'multicast.js');
const quiet = () => undefined;
const announcer = new CoordinatorAnnouncer({ multicast: multicastOptions('${COORDINATOR_ADDRESS}'), log: { info: quiet, warn: quiet, error: quiet, debug: quiet } });
announcer.start({ name: 'impostor', port: ${port}, fingerprint: '${fingerprint}' });
process.on('SIGTERM', () => announcer.stop().then(() => process.exit(0)));
console.log('announcing');
`;

describe('mDNS discovery between namespaces', function () {
  this.timeout(120_000);
  let lab: NetnsLab;
  let dir: string;
  let decoy: ChildProcess;
  let decoyOutput: { text: () => string };
  let coordinator: NvidProcess | undefined;
  let fingerprint: string;
  let coordinatorPort: number;
  const running: NvidProcess[] = [];
  const scripts: ChildProcess[] = [];

  before(async function () {
    const reason = netnsUnavailable();
    if (reason) {
      console.log(`      (mDNS discovery tests skipped: ${reason})`);
      this.skip();
    }
    dir = tempDir('nvid-mdns-');
    lab = new NetnsLab('mdns');
    for (const ns of ['a', 'b', 'decoy']) lab.add(ns);
    lab.link('a', `${COORDINATOR_ADDRESS}/24`, 'b', `${NODE_ADDRESS}/24`);
    const [coordinatorToDecoy] = lab.link('a', `${DECOY_FROM_COORDINATOR}/24`, 'decoy', '10.232.0.2/24');
    const [nodesToDecoy] = lab.link('b', `${DECOY_FROM_NODES}/24`, 'decoy', '10.233.0.2/24');
    // Multicast not bound to the coordinator-node link goes to the decoy: a socket that forgot
    // the interface (the libraries' default) is caught, instead of finding no route and sending nothing.
    lab.ip('a', ['route', 'add', '224.0.0.0/4', 'dev', coordinatorToDecoy]);
    lab.ip('b', ['route', 'add', '224.0.0.0/4', 'dev', nodesToDecoy]);
    decoy = lab.script('decoy', DECOY_LISTENER);
    decoyOutput = collect(decoy);
    await waitFor(() => decoyOutput.text().includes('ready'), 'the decoy listener');

    mkdirSync(join(dir, 'coordinator'));
    coordinator = await NvidProcess.start(
      'coordinator',
      join(dir, 'coordinator'),
      { plugins: [{ use: 'transport', options: { listen: { host: '0.0.0.0', port: 0 }, discovery: { mdns: true, interface: COORDINATOR_ADDRESS } } }] },
      { wrap: lab.wrap('a') },
    );
    const status = await coordinator.control<{ transport: { port: number; fingerprint: string } }>('status');
    fingerprint = status.transport.fingerprint;
    coordinatorPort = status.transport.port;
  });

  after(async () => {
    await Promise.all(running.splice(0).map((p) => p.stop()));
    await coordinator?.stop();
    for (const child of [...scripts, decoy]) child?.kill('SIGKILL');
    lab?.destroy();
    if (dir) removeDir(dir);
  });

  /** The transport of a node in namespace b that browses: its config names no coordinator. */
  const nodeTransport = () => ({ use: 'transport', options: { listen: { host: NODE_ADDRESS, port: 0 }, discovery: { mdns: true, interface: NODE_ADDRESS }, reconnect: { minMs: 50, maxMs: 300 } } });

  async function startNode(name: string, args: string[] = []): Promise<NvidProcess> {
    const nodeDir = join(dir, name);
    mkdirSync(nodeDir, { recursive: true });
    const node = await NvidProcess.start('node', nodeDir, { name, plugins: [nodeTransport(), ...HEADLESS_NODE_PLUGINS] }, { wrap: lab.wrap('b'), args });
    running.push(node);
    return node;
  }

  const rejections = async (node: NvidProcess, code: string) => (await node.control<HistoryEntry[]>('history')).filter((e) => e.kind === 'rejected' && e.code === code);
  const pinsFile = (node: NvidProcess) => join(node.stateDir, 'known_coordinators');
  const discoveryPin = (node: NvidProcess) => (existsSync(pinsFile(node)) ? readFileSync(pinsFile(node), 'utf8').split('\n').find((l) => l.startsWith('mdns:_nvid._tcp ')) : undefined);
  const coordinatorKnows = async (name: string) => (await coordinator!.control<Peer[]>('peers')).some((p) => p.name === name);

  it('a node given the fingerprint finds the coordinator, joins it, and remembers the choice', async () => {
    const node = await startNode('given', ['--coordinator-fingerprint', fingerprint]);
    const status = await waitFor(async () => {
      const s = await node.control<NodeStatus>('status');
      return s.transport.connected ? s : undefined;
    }, 'the node to join the coordinator it discovered');
    assert.equal(status.transport.coordinator, `${COORDINATOR_ADDRESS}:${coordinatorPort}`);
    assert.deepEqual(status.transport.discovery, { mdns: true, interface: NODE_ADDRESS, found: true });
    await waitFor(() => coordinatorKnows('given'), 'the coordinator to list the node');
    assert.equal(discoveryPin(node), `mdns:_nvid._tcp ${fingerprint}`);
    assert.match(node.stderr, /found coordinator .* by mDNS/);

    // Started again without the flag, it joins the coordinator it recorded, asking no one.
    await node.stop();
    running.splice(running.indexOf(node), 1);
    const again = await startNode('given');
    await waitFor(async () => (await again.control<NodeStatus>('status')).transport.connected, 'the node to join again by its recorded choice');
    assert.match(again.stderr, /recorded in /);
  });

  it('a node given another fingerprint refuses the coordinator it finds, and says why', async () => {
    const node = await startNode('wrong', ['--coordinator-fingerprint', WRONG]);
    const [refusal] = await waitFor(() => rejections(node, 'NVID_ERR_COORDINATOR_MISMATCH').then((r) => (r.length > 0 ? r : undefined)), 'the refusal in the history');
    assert.match(String(refusal!.reason), new RegExp(`announces fingerprint ${fingerprint}, but ${WRONG} is expected`));
    assert.match(node.stderr, /NVID_ERR_COORDINATOR_MISMATCH/);
    assert.match(node.stderr, /not joining the coordinator/);
    await sleep(1500); // several announcements and re-queries later
    assert.equal((await node.control<NodeStatus>('status')).transport.connected, false);
    assert.equal((await rejections(node, 'NVID_ERR_COORDINATOR_MISMATCH')).length, 1, 'refused once, not on every announcement');
    assert.equal(await coordinatorKnows('wrong'), false);
    assert.equal(discoveryPin(node), undefined);
  });

  it('a node given no fingerprint and no terminal refuses, saying how to pass one', async () => {
    const node = await startNode('unvouched');
    const [refusal] = await waitFor(() => rejections(node, 'NVID_ERR_COORDINATOR_UNCONFIRMED').then((r) => (r.length > 0 ? r : undefined)), 'the refusal in the history');
    assert.match(String(refusal!.reason), new RegExp(`--coordinator-fingerprint ${fingerprint}`));
    assert.equal((await node.control<NodeStatus>('status')).transport.connected, false);
    assert.equal(await coordinatorKnows('unvouched'), false);
    assert.equal(discoveryPin(node), undefined);
  });

  it('a node on a terminal asks, shows the fingerprint, and joins the coordinator the person confirms', async function () {
    if (!hasCommand('script')) {
      console.log('      (skipped: no script(1) from util-linux to give the node a terminal)');
      this.skip();
    }
    const nodeDir = join(dir, 'asked');
    mkdirSync(nodeDir);
    const stateDir = join(nodeDir, 'state');
    const config = writeJson(join(nodeDir, 'config.json'), { name: 'asked', stateDir, plugins: [nodeTransport(), ...HEADLESS_NODE_PLUGINS] });
    // script(1) gives the node a terminal of its own; the test types the answer into it.
    const command = [...lab.wrap('b'), process.execPath, NVID_BIN, 'node', '--config', config].map((word) => `'${word.replace(/'/g, `'\\''`)}'`).join(' ');
    const terminal = spawn('script', ['-qfec', command, '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'] });
    scripts.push(terminal);
    const output = collect(terminal);
    await waitFor(() => output.text().includes('[y/N]'), 'the question on the terminal');
    assert.match(output.text(), new RegExp(fingerprint.match(/.{4}/g)!.join(' ')), 'the fingerprint is shown, grouped to be read out');
    terminal.stdin!.write('y\n');
    await waitFor(async () => ((await callControl(join(stateDir, 'control.sock'), 'status', {})) as NodeStatus).transport.connected, 'the node to join once confirmed');
    assert.equal(readFileSync(join(stateDir, 'known_coordinators'), 'utf8').trim(), `mdns:_nvid._tcp ${fingerprint}`);
    await callControl(join(stateDir, 'control.sock'), 'stop', {});
    await new Promise((resolve) => terminal.on('exit', resolve));
  });

  it('an announcement that lies about the fingerprint is caught by the TLS check, and not remembered', async () => {
    // The real coordinator goes away (saying goodbye); an impostor listens, and a liar announces
    // the real coordinator's fingerprint with the impostor's port.
    await coordinator!.stop();
    coordinator = undefined;
    mkdirSync(join(dir, 'impostor'));
    const impostor = await NvidProcess.start('coordinator', join(dir, 'impostor'), { plugins: [{ use: 'transport', options: { listen: { host: '0.0.0.0', port: 0 } } }] }, { wrap: lab.wrap('a') });
    running.push(impostor);
    const impostorPort = (await impostor.control<{ transport: { port: number } }>('status')).transport.port;
    const lie = lab.script('a', liar(impostorPort, fingerprint));
    scripts.push(lie);
    const lieOutput = collect(lie);
    await waitFor(() => lieOutput.text().includes('announcing'), 'the lying announcement');

    const node = await startNode('deceived', ['--coordinator-fingerprint', fingerprint]);
    const [refusal] = await waitFor(() => rejections(node, 'NVID_ERR_COORDINATOR_MISMATCH').then((r) => (r.length > 0 ? r : undefined)), 'the TLS check to refuse the impostor');
    assert.equal(refusal!.coordinator, `${COORDINATOR_ADDRESS}:${impostorPort}`);
    assert.match(String(refusal!.reason), /presented certificate/);
    assert.equal((await node.control<NodeStatus>('status')).transport.connected, false);
    assert.deepEqual(await impostor.control<Peer[]>('peers'), []);
    assert.equal(discoveryPin(node), undefined);
  });

  it('sent no mDNS through any other interface than the link it is bound to', async () => {
    for (const [ns, via] of [['a', DECOY_FROM_COORDINATOR], ['b', DECOY_FROM_NODES]] as const) {
      const sender = lab.script(ns, controlPacket(via));
      await new Promise((resolve) => sender.on('exit', resolve));
    }
    const heard = () => decoyOutput.text().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { from: string; control: boolean });
    await waitFor(() => heard().length >= 2, 'the decoy to hear the two control packets');
    await sleep(200);
    assert.deepEqual(heard(), [
      { from: DECOY_FROM_COORDINATOR, control: true },
      { from: DECOY_FROM_NODES, control: true },
    ]);
  });
});

describe('nvid node --coordinator-fingerprint', () => {
  it('refuses what is not a fingerprint before anything starts', async () => {
    const dir = tempDir('nvid-mdns-flag-');
    try {
      const result = await runNvid(['node', '--coordinator-fingerprint', 'not-a-fingerprint', '--state', join(dir, 'state')]);
      assert.equal(result.code, EXIT.usage);
      assert.match(result.stderr, /--coordinator-fingerprint: expected a SHA-256 fingerprint .*\[NVID_ERR_USAGE\]/);
      assert.equal(existsSync(join(dir, 'state')), false);
    } finally {
      removeDir(dir);
    }
  });
});
