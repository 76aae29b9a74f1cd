/**
 * Failover between coordinators sharing one directory on NATS: three real
 * `nvid coordinator` processes on one private nats-server, 1,000 simulated
 * nodes (real mutual TLS, real wire protocol, in this process) spread over
 * them, each listing all three in its own order. Then one coordinator is
 * killed with SIGKILL, and we measure
 *   - the time until every orphaned node is back in everyone's list: joined
 *     to a live coordinator (both live ones count every node as connected
 *     and list all of them), and every node's list complete; and, apart, the
 *     time until every orphan has also had its new coordinator's whole list
 *     (a node keeps its old list meanwhile, so this is not downtime),
 *   - duplicates after the failover, once a whole TTL has passed (so the dead
 *     coordinator's entries would have expired): entries beyond one per node
 *     or names given twice in either live coordinator's list, plus leaves
 *     the nodes heard (a failover should make none).
 * The baseline is the join of the same nodes in the same run.
 *
 *   node dist/bench/coordinator-ha.js [--nodes 1000] [--concurrency 20]
 *
 * Prints `figure NAME VALUE UNIT` lines.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Peer } from '../core/types.js';
import { NatsServer } from '../harness/nats-server.js';
import { NvidProcess, waitFor } from '../harness/nvid.js';
import { DEFAULT_TTL_MS } from '../plugins/transport/coordinator/nats-options.js';
import { FailoverSimNode } from './coordinator-ha-nodes.js';
import { pool, simulatedIdentities } from './coordinator-sim-nodes.js';

const argValue = (flag: string, fallback: number) => {
  const at = process.argv.indexOf(flag);
  return at >= 0 ? Number(process.argv[at + 1]) || fallback : fallback;
};
const NODES = argValue('--nodes', 1000);
const CONCURRENCY = argValue('--concurrency', 20);
const COORDINATORS = 3;

function figure(name: string, value: number, unit: string): void {
  const shown = Number.isInteger(value) ? String(value) : value >= 100 ? value.toFixed(0) : value >= 1 ? value.toFixed(2) : value.toPrecision(3);
  console.log(`figure ${name} ${shown} ${unit}`);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Status {
  transport: { port: number; nodes: number; connected: number; directory: { connected: boolean } };
}

async function startCoordinator(dir: string, label: string, natsUrl: string): Promise<{ proc: NvidProcess; port: number }> {
  const where = join(dir, label);
  mkdirSync(where, { recursive: true });
  const options = {
    listen: { host: '127.0.0.1', port: 0 },
    directory: { nats: { servers: [natsUrl] } },
    // The simulated nodes send no heartbeats: the coordinator must not time them out during the run.
    heartbeatIntervalMs: 150_000,
    heartbeatTimeoutMs: 600_000,
    // A failover is a burst of handshakes: a third of the nodes reconnect within half a second.
    maxUnauthenticated: 1024,
  };
  const proc = await NvidProcess.start('coordinator', where, { name: label, log: { level: 'warn' }, plugins: [{ use: 'transport', options }] }, { timeoutMs: 60_000 });
  const port = await waitFor(async () => (await proc.control<Status>('status')).transport.port, `${label} to listen`, 60_000);
  return { proc, port };
}

/** Entries beyond one per node, IDs listed twice and names given twice, in one coordinator's list. */
function duplicatesIn(peers: Peer[]): number {
  const ids = new Set(peers.map((p) => p.id));
  const names = new Set(peers.map((p) => p.name));
  return Math.max(0, peers.length - NODES) + (peers.length - ids.size) + (peers.length - names.size);
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'nvid-bench-ha-'));
  const coordinators: Array<{ proc: NvidProcess; port: number }> = [];
  let nats: NatsServer | undefined;
  let nodes: FailoverSimNode[] = [];
  try {
    nats = await NatsServer.start(join(dir, 'nats'));
    for (let c = 0; c < COORDINATORS; c += 1) coordinators.push(await startCoordinator(dir, `coordinator-${c}`, nats.url));
    let t = Date.now();
    const identities = simulatedIdentities(NODES);
    console.log(`# ${NODES} simulated node certificates made in ${((Date.now() - t) / 1000).toFixed(1)} s`);
    // Node i joins coordinator i mod 3 first; half of each coordinator's nodes list the other two one way round, half the other.
    nodes = identities.map((identity, i) => {
      const home = i % COORDINATORS;
      const step = 1 + (Math.floor(i / COORDINATORS) % 2);
      const order = [home, (home + step) % COORDINATORS, (home + 2 * step) % COORDINATORS];
      return new FailoverSimNode(identity, order.map((c) => coordinators[c]!.port), 'sim');
    });

    t = performance.now();
    await pool(nodes, CONCURRENCY, (node) => node.start());
    await waitFor(() => nodes.every((n) => n.known.size === NODES - 1), 'every node to list all the others', 600_000, 100);
    const joinAll = (performance.now() - t) / 1000;
    console.log(`# all ${NODES} joined over ${COORDINATORS} coordinators, every list complete, in ${joinAll.toFixed(1)} s`);

    const victim = coordinators[0]!;
    const orphans = nodes.filter((n) => n.port === victim.port);
    const survivors = coordinators.slice(1);
    const joinsBefore = new Map(orphans.map((n) => [n, n.joins] as const));
    const leftBefore = nodes.reduce((sum, n) => sum + n.leftHeard, 0);
    console.log(`# killing coordinator-0 (SIGKILL), which had ${orphans.length} nodes`);
    t = performance.now();
    victim.proc.child.kill('SIGKILL');
    // Back in every list: each orphan connected to a live coordinator (both count all N as connected and list
    // all N), and every node's list complete. Then, separately, each orphan has also had the whole list again.
    let listed = 0;
    await waitFor(async () => {
      if (!nodes.every((n) => n.known.size === NODES - 1)) return false;
      const statuses = await Promise.all(survivors.map((c) => c.proc.control<Status>('status')));
      const connected = statuses.reduce((sum, s) => sum + s.transport.connected, 0);
      return connected === NODES && statuses.every((s) => s.transport.nodes === NODES);
    }, 'every orphaned node to be back in every list', 120_000, 50);
    listed = (performance.now() - t) / 1000;
    await waitFor(() => orphans.every((n) => n.joins > joinsBefore.get(n)!), 'every orphan to have its new list', 120_000, 50);
    const rejoined = orphans.map((n) => (n.joinedAt - t) / 1000).sort((a, b) => a - b);
    const at = (q: number) => rejoined[Math.min(rejoined.length - 1, Math.floor(q * rejoined.length))]!.toFixed(2);
    console.log(`# ${orphans.length} orphans listed as connected everywhere after ${listed.toFixed(2)} s; each had its new coordinator's whole list after ${at(0.5)} s (half), ${at(0.9)} s (90 %), ${at(1)} s (all)`);
    const extraAttempts = orphans.filter((n) => n.joins > joinsBefore.get(n)! + 1).length;
    if (extraAttempts > 0) console.log(`# ${extraAttempts} orphans joined more than once after the kill`);

    // A whole TTL later, the dead coordinator's entries would have expired: nobody may have lost or doubled a node.
    await sleep(DEFAULT_TTL_MS + 3000);
    let duplicates = 0;
    for (const c of survivors) {
      const peers = await c.proc.control<Peer[]>('peers');
      const extra = duplicatesIn(peers);
      console.log(`# ${c.proc.stateDir.split('/').at(-2)} lists ${peers.length} nodes (${extra} duplicates)`);
      duplicates += extra;
      if (peers.length < NODES) console.log(`# ... ${NODES - peers.length} nodes missing`);
    }
    const leaves = nodes.reduce((sum, n) => sum + n.leftHeard, 0) - leftBefore;
    const incomplete = nodes.filter((n) => n.known.size !== NODES - 1).length;
    console.log(`# after a TTL: ${leaves} peer-left messages heard by the nodes, ${incomplete} nodes with an incomplete list`);

    figure('coordinator_ha_nodes', NODES, 'nodes');
    figure('coordinator_ha_join_all_s', joinAll, 's');
    figure('coordinator_failover_orphans', orphans.length, 'nodes');
    figure('coordinator_failover_s', listed, 's');
    figure('coordinator_failover_full_list_s', rejoined.at(-1)!, 's');
    figure('coordinator_duplicates_after_failover', duplicates, 'count');
    figure('coordinator_failover_leaves_heard', leaves, 'count');
  } finally {
    nodes.forEach((n) => n.close());
    await Promise.all(coordinators.map((c) => c.proc.stop()));
    await nats?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
