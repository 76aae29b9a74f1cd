import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { isNvidError } from '../../../core/errors.js';
import { validateAgainst } from '../../../core/schema.js';
import type { TransferMeta } from '../../../core/types.js';
import TransportPlugin, { PLUGIN_NAME, type TransportOptions } from '../../../plugins/transport/index.js';
import { fakeHost, identity, removeDir, tempDir, waitFor } from './helpers.js';

/** Options as the core would hand them over: validated against the plugin's schema, defaults filled in. */
function options(extra: Record<string, unknown>): TransportOptions {
  const data = structuredClone(extra);
  const problems = validateAgainst(TransportPlugin.schema, data, 'options');
  assert.deepEqual(problems, []);
  return data as unknown as TransportOptions;
}

describe('transport plugin', function () {
  this.timeout(30_000);
  let dir: string;
  before(() => [0, 1, 2].forEach(identity));
  beforeEach(() => (dir = tempDir()));
  afterEach(() => removeDir(dir));

  it('has the plugin shape and a schema whose defaults fill every option', () => {
    assert.equal(TransportPlugin.pluginName, PLUGIN_NAME);
    const filled = options({});
    assert.equal(filled.listen.host, '0.0.0.0');
    assert.equal(filled.admission.policy, 'open');
    assert.equal(filled.reconnect.minMs, 500);
    assert.equal(filled.heartbeatTimeoutMs > filled.heartbeatIntervalMs, true);
    assert.equal(filled.coordinator.port, 7700);
    assert.equal(filled.bulkChannel, 'tcp');
  });

  it('refuses unknown keys and a fingerprint policy without fingerprints', () => {
    assert.notDeepEqual(validateAgainst(TransportPlugin.schema, { lisen: {} }, 'o'), []);
    assert.notDeepEqual(validateAgainst(TransportPlugin.schema, { admission: { policy: 'fingerprints' } }, 'o'), []);
    assert.notDeepEqual(validateAgainst(TransportPlugin.schema, { coordinator: { host: 'x', port: 1, fingerprint: 'abc' } }, 'o'), []);
    assert.notDeepEqual(validateAgainst(TransportPlugin.schema, { bulkChannel: 'udp' }, 'o'), []);
  });

  it('refuses a heartbeat timeout shorter than two heartbeats, and a busy port with a clear error', async () => {
    const host = fakeHost('coordinator', identity(0), `${dir}/c`, 'coordinator');
    assert.throws(() => new TransportPlugin(options({ heartbeatIntervalMs: 1000, heartbeatTimeoutMs: 1500 })).apply(host), (err) => isNvidError(err, 'NVID_ERR_PLUGIN_OPTIONS'));
    const first = fakeHost('coordinator', identity(0), `${dir}/c`, 'coordinator');
    new TransportPlugin(options({ listen: { host: '127.0.0.1', port: 0 } })).apply(first);
    await first.hooks.start.promise({ role: 'coordinator' });
    const port = (first.hooks.status.call({}) as { transport: { port: number } }).transport.port;
    const second = fakeHost('coordinator', identity(0), `${dir}/c2`, 'coordinator');
    new TransportPlugin(options({ listen: { host: '127.0.0.1', port } })).apply(second);
    const err = await second.hooks.start.promise({ role: 'coordinator' }).catch((e: unknown) => e);
    assert.ok(isNvidError(err, 'NVID_ERR_CONNECTION'));
    assert.equal((err as { cause?: { code?: string } }).cause?.code, 'EADDRINUSE');
    await first.hooks.stop.promise({ role: 'coordinator' });
  });

  it('joins, delivers through hooks.deliver, renames through hooks.rename and leaves on stop', async () => {
    const coordinatorHost = fakeHost('coordinator', identity(0), `${dir}/c`, 'coordinator');
    new TransportPlugin(options({ listen: { host: '127.0.0.1', port: 0 }, heartbeatIntervalMs: 100 })).apply(coordinatorHost);
    await coordinatorHost.hooks.start.promise({ role: 'coordinator' });
    const port = (coordinatorHost.hooks.status.call({}) as { transport: { port: number } }).transport.port;

    const node = (n: number, name: string) => {
      const host = fakeHost('node', identity(n), `${dir}/${n}`, name);
      new TransportPlugin(options({ listen: { host: '127.0.0.1', port: 0 }, coordinator: { host: '127.0.0.1', port }, reconnect: { minMs: 20, maxMs: 200 } })).apply(host);
      return host;
    };
    const a = node(1, 'alpha');
    const b = node(2, 'alpha');
    await a.hooks.start.promise({ role: 'node' });
    await b.hooks.start.promise({ role: 'node' });
    await waitFor(() => a.peers.table.size === 1 && b.peers.table.size === 1 && coordinatorHost.peers.table.size === 2, 'everyone listed');
    assert.equal(b.name, 'alpha-2', 'the assigned name reaches daemon.setName');

    const body = randomBytes(3 * 1024 * 1024);
    const meta = { transferId: 'transfer-0001' } as TransferMeta;
    const progress: number[] = [];
    const receipt = await a.hooks.deliver.promise({ peer: a.peers.get(identity(2).id)!, meta, envelope: { stream: Readable.from([body]) }, onProgress: (n) => progress.push(n) });
    assert.equal(receipt?.receiverId, identity(2).id);
    assert.equal(progress.at(-1), body.length);

    assert.equal(await b.hooks.rename.promise({ name: 'beta' }), 'beta');
    assert.equal(b.name, 'beta');
    await waitFor(() => a.peers.get(identity(2).id)?.name === 'beta', 'rename seen by alpha');
    assert.ok(a.peers.events.includes('renamed alpha-2 beta'));

    await b.hooks.stop.promise({ role: 'node' });
    await waitFor(() => a.peers.table.size === 0 && coordinatorHost.peers.table.size === 1, 'leave seen');
    const status = a.hooks.status.call({}) as { transport: { connected: boolean } };
    assert.equal(status.transport.connected, true);
    await a.hooks.stop.promise({ role: 'node' });
    await coordinatorHost.hooks.stop.promise({ role: 'coordinator' });
  });

  for (const bulkChannel of ['tcp', 'tls'] as const) {
    it(`delivers an envelope of known length through hooks.deliver with bulkChannel ${bulkChannel}, on the channel it names`, async () => {
      const coordinatorHost = fakeHost('coordinator', identity(0), `${dir}/c`, 'coordinator');
      new TransportPlugin(options({ listen: { host: '127.0.0.1', port: 0 } })).apply(coordinatorHost);
      await coordinatorHost.hooks.start.promise({ role: 'coordinator' });
      const port = (coordinatorHost.hooks.status.call({}) as { transport: { port: number } }).transport.port;
      const nodes = [1, 2].map((n) => {
        const host = fakeHost('node', identity(n), `${dir}/${n}`, `node-${n}`);
        new TransportPlugin(options({ listen: { host: '127.0.0.1', port: 0 }, coordinator: { host: '127.0.0.1', port }, bulkChannel })).apply(host);
        return host;
      });
      const [a, b] = nodes as [(typeof nodes)[0], (typeof nodes)[0]];
      for (const node of nodes) await node.hooks.start.promise({ role: 'node' });
      await waitFor(() => a.peers.table.size === 1 && b.peers.table.size === 1, 'both listed');
      const body = randomBytes(5 * 1024 * 1024 + 11);
      const progress: number[] = [];
      const receipt = await a.hooks.deliver.promise({
        peer: a.peers.get(identity(2).id)!,
        meta: { transferId: `bulk-${bulkChannel}` } as TransferMeta,
        envelope: { stream: Readable.from([body.subarray(0, 1000), body.subarray(1000)]), length: body.length },
        onProgress: (n) => progress.push(n),
      });
      assert.equal(receipt?.sha256, createHash('sha256').update(body).digest('hex'));
      assert.equal(progress.at(-1), body.length);
      const status = b.hooks.status.call({}) as { transport: { bulkChannel: string; bodiesReceived: { bulk: number; tls: number } } };
      assert.equal(status.transport.bulkChannel, bulkChannel);
      assert.deepEqual(status.transport.bodiesReceived, bulkChannel === 'tcp' ? { bulk: 1, tls: 0 } : { bulk: 0, tls: 1 });
      for (const node of nodes) await node.hooks.stop.promise({ role: 'node' });
      await coordinatorHost.hooks.stop.promise({ role: 'coordinator' });
    });
  }

  it('records a refusal by the coordinator in the history, once', async () => {
    const coordinatorHost = fakeHost('coordinator', identity(0), `${dir}/c`, 'coordinator');
    new TransportPlugin(options({ listen: { host: '127.0.0.1', port: 0 }, admission: { policy: 'token', token: 'sesame-sesame-sesame' } })).apply(coordinatorHost);
    await coordinatorHost.hooks.start.promise({ role: 'coordinator' });
    const port = (coordinatorHost.hooks.status.call({}) as { transport: { port: number } }).transport.port;
    const host = fakeHost('node', identity(1), `${dir}/1`, 'n');
    new TransportPlugin(options({ listen: { host: '127.0.0.1', port: 0 }, coordinator: { host: '127.0.0.1', port }, joinToken: 'wrong', reconnect: { minMs: 20, maxMs: 100 } })).apply(host);
    await host.hooks.start.promise({ role: 'node' });
    await waitFor(() => host.history.entries.some((e) => e.kind === 'rejected'), 'refusal recorded');
    const entry = host.history.entries.find((e) => e.kind === 'rejected')!;
    assert.equal(entry.code, 'NVID_ERR_NOT_ADMITTED');
    assert.equal(entry.stage, 'transport');
    assert.ok(coordinatorHost.history.entries.some((e) => e.kind === 'rejected' && e.code === 'NVID_ERR_NOT_ADMITTED'), 'the coordinator records it too');
    await new Promise((resolve) => setTimeout(resolve, 400)); // several retries at maxMs meanwhile
    assert.equal(host.history.entries.filter((e) => e.kind === 'rejected').length, 1, 'not once per retry');
    const err = await host.hooks.rename.promise({ name: 'x' }).catch((e: unknown) => e);
    assert.ok(isNvidError(err, 'NVID_ERR_CONNECTION'), 'rename needs a coordinator');
    await host.hooks.stop.promise({ role: 'node' });
    await coordinatorHost.hooks.stop.promise({ role: 'coordinator' });
  });
});
