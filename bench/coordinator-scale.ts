/**
 * How one real `nvid coordinator` process copes with many nodes: simulated
 * nodes (real mutual TLS, real wire protocol, in this process) join it, one
 * renames, and we measure
 *   - the time for all to join (each got its welcome and the full list),
 *   - the time for one rename to reach every other node (median of 5),
 *   - the coordinator's resident memory per connected node,
 * against a baseline measured in the same run: the same number of plain
 * mutual-TLS connections to a server that does nothing else (its connect
 * time, and its RSS per connection).
 *
 *   node dist/bench/coordinator-scale.js [--nodes 1000]
 *
 * Prints `figure NAME VALUE UNIT` lines.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { callControl } from '../core/control/client.js';
import { createIdentity } from '../core/identity.js';
import { SimNode, pool, simulatedIdentities, tlsConnect } from './coordinator-sim-nodes.js';
import { cpuSplit, ioCalls, ioCallsSince } from './lib/proc-stats.js';

const NVID_BIN = fileURLToPath(new URL('../../bin/nvid.js', import.meta.url));
const argValue = (flag: string, fallback: number) => {
  const at = process.argv.indexOf(flag);
  return at >= 0 ? Number(process.argv[at + 1]) || fallback : fallback;
};
const NODES = argValue('--nodes', 1000);
/** Joins in flight at once, for the baseline and the coordinator alike (a burst of 1,000 SYNs overflows the backlog). */
const CONCURRENCY = argValue('--concurrency', 20);

function figure(name: string, value: number, unit: string): void {
  const shown = value >= 100 ? value.toFixed(0) : value >= 1 ? value.toFixed(2) : value.toPrecision(3);
  console.log(`figure ${name} ${shown} ${unit}`);
}

/** The simulated nodes ping this often, as real ones do at the coordinator's request (default 5 s; slower here, since 10,000 of them share one process). */
const HEARTBEAT_INTERVAL_MS = 30_000;

/** CPU seconds used since `since`, user + system (the system part is mostly loopback TCP). */
const ownCpu = () => {
  const used = process.cpuUsage();
  return { user: used.user / 1e6, system: used.system / 1e6 };
};
const cpuSince = (now: { user: number; system: number }, since: { user: number; system: number }) =>
  `${(now.user - since.user + now.system - since.system).toFixed(1)} (${(now.system - since.system).toFixed(1)} system)`;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const rssKib = (pid: number) => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN);

/** Child mode: a mutual-TLS server that only completes handshakes (the baseline). */
function serveBaseline(): void {
  const identity = createIdentity('baseline');
  const sockets = new Set<unknown>();
  const server = createServer({ key: identity.keyPem, cert: identity.certPem, minVersion: 'TLSv1.3', requestCert: true, rejectUnauthorized: false }, (socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
  });
  // Same socket settings as the coordinator, so the baseline is comparable.
  server.on('connection', (raw: { setNoDelay(on: boolean): void }) => raw.setNoDelay(true));
  server.listen(0, '127.0.0.1', () => console.log(`port ${(server.address() as { port: number }).port}`));
}

/** Starts a child and resolves with the port it prints (`port N`). */
function childPort(child: ChildProcess): Promise<number> {
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const match = /port (\d+)/.exec(out);
      if (match) resolve(Number(match[1]));
    });
    child.once('exit', (code) => reject(new Error(`child exited ${code} before listening`)));
  });
}

async function startCoordinator(dir: string): Promise<{ child: ChildProcess; port: number; socket: string }> {
  const stateDir = join(dir, 'state');
  const options = { listen: { host: '127.0.0.1', port: 0 }, maxUnauthenticated: 4 * CONCURRENCY, heartbeatIntervalMs: HEARTBEAT_INTERVAL_MS, heartbeatTimeoutMs: 4 * HEARTBEAT_INTERVAL_MS };
  const config = writeConfig(dir, { stateDir, log: { level: 'warn' }, plugins: [{ use: 'transport', options }] });
  const child = spawn(process.execPath, [NVID_BIN, 'coordinator', '--config', config], { stdio: ['ignore', 'ignore', 'inherit'] });
  const socket = join(stateDir, 'control.sock');
  for (let i = 0; ; i += 1) {
    try {
      const status = (await callControl(socket, 'status')) as { transport: { port: number } };
      return { child, port: status.transport.port, socket };
    } catch (err) {
      if (i > 200) throw err;
      await sleep(100);
    }
  }
}

function writeConfig(dir: string, config: object): string {
  const file = join(dir, 'config.json');
  writeFileSync(file, JSON.stringify(config));
  return file;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'nvid-bench-coordinator-'));
  const children: ChildProcess[] = [];
  try {
    let t = Date.now();
    const identities = simulatedIdentities(NODES);
    console.log(`# ${NODES} simulated node certificates made in ${((Date.now() - t) / 1000).toFixed(1)} s`);

    // Baseline: the same number of mutual-TLS handshakes to a server that does nothing else.
    const baseline = spawn(process.execPath, [fileURLToPath(import.meta.url), '--baseline-server'], { stdio: ['ignore', 'pipe', 'inherit'] });
    children.push(baseline);
    const baselinePort = await childPort(baseline);
    await sleep(300);
    const baselineRssBefore = rssKib(baseline.pid!);
    const plain: Array<{ destroy(): void }> = [];
    t = performance.now();
    let simCpu = ownCpu();
    let serverCpu = cpuSplit(baseline.pid!);
    let serverIo = ioCalls(baseline.pid!);
    let simIo = ioCalls('self');
    await pool(identities, CONCURRENCY, async (identity) => void plain.push(await tlsConnect(baselinePort, identity)));
    const tlsConnectAll = (performance.now() - t) / 1000;
    console.log(`# bare connects: ${tlsConnectAll.toFixed(1)} s, CPU s: server ${cpuSince(cpuSplit(baseline.pid!), serverCpu)}, simulated nodes ${cpuSince(ownCpu(), simCpu)}`);
    console.log(`#   system calls: server ${ioCallsSince(ioCalls(baseline.pid!), serverIo)}; simulated nodes ${ioCallsSince(ioCalls('self'), simIo)}`);
    await sleep(500);
    const baselineRssPerConnection = (rssKib(baseline.pid!) - baselineRssBefore) / NODES;
    plain.forEach((s) => s.destroy());
    baseline.kill();

    const coordinator = await startCoordinator(dir);
    children.push(coordinator.child);
    await sleep(500);
    const rssBefore = rssKib(coordinator.child.pid!);
    const heapBefore = ((await callControl(coordinator.socket, 'status')) as { transport: { memory: { heapUsedMiB: number } } }).transport.memory.heapUsedMiB;
    const nodes = identities.map((identity) => new SimNode(identity));
    // Heartbeats at the pace the coordinator asks for: a burst of 10,000 joins outlasts a heartbeat timeout.
    const heartbeat = setInterval(() => nodes.forEach((node) => node.ping()), HEARTBEAT_INTERVAL_MS);
    t = performance.now();
    simCpu = ownCpu();
    serverCpu = cpuSplit(coordinator.child.pid!);
    serverIo = ioCalls(coordinator.child.pid!);
    simIo = ioCalls('self');
    let joined = 0;
    await pool(nodes, CONCURRENCY, async (node) => {
      await node.join(coordinator.port, 'sim');
      if (++joined % Math.ceil(NODES / 5) === 0) console.log(`# ${joined} joined at ${((performance.now() - t) / 1000).toFixed(1)} s`);
    });
    const joinAll = (performance.now() - t) / 1000;
    console.log(`# joins: ${joinAll.toFixed(1)} s, CPU s: coordinator ${cpuSince(cpuSplit(coordinator.child.pid!), serverCpu)}, simulated nodes ${cpuSince(ownCpu(), simCpu)}`);
    console.log(`#   system calls: coordinator ${ioCallsSince(ioCalls(coordinator.child.pid!), serverIo)}; simulated nodes ${ioCallsSince(ioCalls('self'), simIo)}`);
    // Every node also hears about everyone who joined after it: wait until all lists are complete.
    while (nodes.some((n) => n.peersKnown < NODES - 1)) await sleep(20);
    const listsComplete = (performance.now() - t) / 1000;
    const status = (await callControl(coordinator.socket, 'status')) as { transport: { connected: number; memory: Record<string, number> & { heapUsedMiB: number } } };
    console.log(`# coordinator memory after the joins (MiB): ${JSON.stringify(status.transport.memory)}`);
    if (status.transport.connected !== NODES) throw new Error(`coordinator lists ${status.transport.connected} connected nodes, expected ${NODES}`);
    await sleep(500);
    const rssAfter = rssKib(coordinator.child.pid!);

    const fanouts: number[] = [];
    for (let round = 0; round < 5; round += 1) {
      const name = `renamed-${round}`;
      let heard = 0;
      const all = new Promise<void>((resolve) => {
        for (const node of nodes.slice(1)) {
          node.onRenamed = (got) => {
            if (got === name && ++heard === NODES - 1) resolve();
          };
        }
      });
      const start = performance.now();
      nodes[0]!.rename(name);
      await all;
      fanouts.push(performance.now() - start);
    }
    fanouts.sort((a, b) => a - b);

    figure('coordinator_nodes', NODES, 'nodes');
    figure('coordinator_join_all_s', joinAll, 's');
    figure('coordinator_lists_complete_s', listsComplete, 's');
    figure('tls_connect_all_s', tlsConnectAll, 's');
    figure('coordinator_join_vs_tls_connect_ratio', joinAll / tlsConnectAll, 'x');
    figure('coordinator_rename_fanout_ms', fanouts[2]!, 'ms');
    figure('coordinator_rss_per_node_kib', (rssAfter - rssBefore) / NODES, 'KiB');
    figure('tls_server_rss_per_connection_kib', baselineRssPerConnection, 'KiB');
    figure('coordinator_rss_vs_tls_server_ratio', (rssAfter - rssBefore) / NODES / baselineRssPerConnection, 'x');
    figure('coordinator_rss_total_mib', rssAfter / 1024, 'MiB');
    // Live JavaScript objects per node; RSS above also keeps native buffers freed after the O(N²) join traffic.
    figure('coordinator_heap_per_node_kib', ((status.transport.memory.heapUsedMiB - heapBefore) * 1024) / NODES, 'KiB');
    clearInterval(heartbeat);
    nodes.forEach((n) => n.close());
  } finally {
    // The coordinator must be gone before its state folder is removed.
    await Promise.all(children.map((child) => new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), 10_000).unref();
    })));
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv.includes('--baseline-server')) serveBaseline();
else
  main().then(
    () => process.exit(0),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
