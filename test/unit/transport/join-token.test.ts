/**
 * The coordinator's join token through the plugin, on real sockets: weak
 * tokens stop the start with NVID_ERR_WEAK_TOKEN, a missing one is made,
 * kept owner-only and reused, and nodes join with it from the config or a file.
 */
import assert from 'node:assert/strict';
import { chmodSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isNvidError, type NvidError } from '../../../core/errors.js';
import { validateAgainst } from '../../../core/schema.js';
import { JOIN_TOKEN_FILE, MIN_JOIN_TOKEN_LENGTH, weakTokenReason } from '../../../plugins/transport/coordinator/join-token.js';
import TransportPlugin, { type TransportOptions } from '../../../plugins/transport/index.js';
import { fakeHost, identity, removeDir, tempDir, waitFor } from './helpers.js';

function options(extra: Record<string, unknown>): TransportOptions {
  const data = structuredClone(extra);
  assert.deepEqual(validateAgainst(TransportPlugin.schema, data, 'options'), []);
  return data as unknown as TransportOptions;
}

type Host = ReturnType<typeof fakeHost>;
const statusOf = (host: Host) => (host.hooks.status.call({}) as { transport: Record<string, unknown> }).transport;

/** Runs `fn` with process.stderr.write captured (the coordinator's words to a person), and returns what it wrote. */
async function capturingStderr(fn: () => Promise<unknown>): Promise<string> {
  const original = process.stderr.write.bind(process.stderr);
  let text = '';
  process.stderr.write = ((chunk: string | Uint8Array) => {
    text += chunk.toString();
    return true;
  }) as typeof process.stderr.write;
  try {
    await fn();
  } finally {
    process.stderr.write = original;
  }
  return text;
}

describe('transport join token', function () {
  this.timeout(30_000);
  let dir: string;
  const running: Array<{ host: Host; role: 'coordinator' | 'node' }> = [];
  before(() => [0, 1, 2].forEach(identity));
  beforeEach(() => (dir = tempDir()));
  afterEach(async () => {
    for (const { host, role } of running.splice(0).reverse()) await host.hooks.stop.promise({ role });
    removeDir(dir);
  });

  function coordinatorHost(admission: Record<string, unknown>, stateDir = `${dir}/c`): Host {
    const host = fakeHost('coordinator', identity(0), stateDir, 'coordinator');
    new TransportPlugin(options({ listen: { host: '127.0.0.1', port: 0 }, heartbeatIntervalMs: 100, admission })).apply(host);
    return host;
  }

  async function startCoordinator(admission: Record<string, unknown>, stateDir = `${dir}/c`, port = 0): Promise<{ host: Host; port: number; stderr: string }> {
    const host = fakeHost('coordinator', identity(0), stateDir, 'coordinator');
    new TransportPlugin(options({ listen: { host: '127.0.0.1', port }, heartbeatIntervalMs: 100, admission })).apply(host);
    const stderr = await capturingStderr(() => host.hooks.start.promise({ role: 'coordinator' }));
    running.push({ host, role: 'coordinator' });
    return { host, port: statusOf(host).port as number, stderr };
  }

  async function stopCoordinator(host: Host): Promise<void> {
    await host.hooks.stop.promise({ role: 'coordinator' });
    running.splice(running.findIndex((r) => r.host === host), 1);
  }

  async function startNode(n: number, port: number, extra: Record<string, unknown>): Promise<Host> {
    const host = fakeHost('node', identity(n), `${dir}/${n}`, `node-${n}`);
    new TransportPlugin(options({ listen: { host: '127.0.0.1', port: 0 }, coordinator: { host: '127.0.0.1', port }, reconnect: { minMs: 20, maxMs: 100 }, ...extra })).apply(host);
    await host.hooks.start.promise({ role: 'node' });
    running.push({ host, role: 'node' });
    return host;
  }

  const weak = (reason: string, pattern: RegExp) => (err: unknown) => {
    assert.ok(isNvidError(err, 'NVID_ERR_WEAK_TOKEN'), String(err));
    assert.equal((err as NvidError).details?.reason, reason);
    assert.match((err as NvidError).message, pattern);
    return true;
  };

  it('refuses the examples\' old placeholder and the usual stand-ins, saying how to fix it, and writes nothing', () => {
    for (const token of ['change-me-to-a-long-random-secret', 'CHANGE_ME_TO_A_LONG_RANDOM_SECRET', 'change-me', 'changeme', 'secret', 'Password', 'change-me-before-going-live-please']) {
      assert.throws(
        () => coordinatorHost({ policy: 'token', token }),
        weak('placeholder', /transport\.admission\.token is a well-known placeholder.*remove transport\.admission\.token to have the coordinator generate a strong one/),
        token,
      );
    }
    assert.equal(existsSync(join(dir, 'c', JOIN_TOKEN_FILE)), false);
  });

  it(`refuses a token shorter than ${MIN_JOIN_TOKEN_LENGTH} characters, and takes one that long`, () => {
    const short = 'x7#Qm2!vL9@pR4$'; // 15
    const refused = (() => {
      try {
        coordinatorHost({ policy: 'token', token: short });
      } catch (err) {
        return err;
      }
      return undefined;
    })();
    weak('short', /has 15 characters; at least 16 are needed/)(refused);
    assert.equal((refused as Error).message.includes(short), false, 'the token is never quoted');
    assert.equal(weakTokenReason(`${short}Z`), undefined);
    coordinatorHost({ policy: 'token', token: `${short}Z` });
    // The token policy alone is no longer a schema error; other policies keep their own needs.
    assert.deepEqual(validateAgainst(TransportPlugin.schema, { admission: { policy: 'token' } }, 'o'), []);
    assert.notDeepEqual(validateAgainst(TransportPlugin.schema, { admission: { policy: 'fingerprints' } }, 'o'), []);
  });

  it('makes a token on first start, owner-only, prints how a node joins, reuses it on restart, and nodes join with it', async () => {
    const first = await startCoordinator({ policy: 'token' });
    const file = join(dir, 'c', JOIN_TOKEN_FILE);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    const token = readFileSync(file, 'utf8').trim();
    assert.match(token, /^[A-Za-z0-9_-]{43}$/, '32 random bytes, base64url');
    assert.equal(statusOf(first.host).joinTokenFile, file);
    assert.ok(first.stderr.includes(`"joinToken": "${token}"`), first.stderr);
    assert.ok(first.stderr.includes(`"coordinator": { "host": "127.0.0.1", "port": ${first.port}, "fingerprint": "${identity(0).id}" }`), first.stderr);
    assert.ok(first.stderr.includes(file));

    const byValue = await startNode(1, first.port, { joinToken: token });
    const byFile = await startNode(2, first.port, { joinTokenFile: file });
    await waitFor(() => statusOf(byValue).connected && statusOf(byFile).connected, 'both nodes joined');
    assert.equal(first.host.peers.table.size, 2);

    await stopCoordinator(first.host);
    await waitFor(() => !statusOf(byValue).connected && !statusOf(byFile).connected, 'both nodes to lose the coordinator');
    const second = await startCoordinator({ policy: 'token' }, `${dir}/c`, first.port);
    assert.equal(readFileSync(file, 'utf8').trim(), token, 'the same token after a restart');
    assert.equal(second.stderr, '', 'the token is printed once, when it is made');
    await waitFor(() => statusOf(second.host).connected === 2 && statusOf(byValue).connected && statusOf(byFile).connected, 'both nodes rejoined');
    assert.equal(byValue.history.entries.some((e) => e.kind === 'rejected'), false);
  });

  it('a node whose token file appears later joins once it is there', async () => {
    const { port } = await startCoordinator({ policy: 'token' });
    const copy = join(dir, 'copied-token');
    const node = await startNode(1, port, { joinTokenFile: copy });
    await waitFor(() => node.history.entries.some((e) => e.kind === 'rejected' && e.code === 'NVID_ERR_NOT_ADMITTED'), 'a refusal without a token');
    writeFileSync(copy, readFileSync(join(dir, 'c', JOIN_TOKEN_FILE)));
    await waitFor(() => statusOf(node).connected, 'joined with the copied token');
  });

  it('refuses a kept token file that others may read or that holds a weak token', async () => {
    await startCoordinator({ policy: 'token' });
    const file = join(dir, 'c', JOIN_TOKEN_FILE);
    chmodSync(file, 0o644);
    assert.throws(() => coordinatorHost({ policy: 'token' }), weak('exposed', /readable by group or others \(mode 644\); run: chmod 600/));
    chmodSync(file, 0o600);
    writeFileSync(file, 'changeme\n');
    assert.throws(() => coordinatorHost({ policy: 'token' }), weak('placeholder', /the join token in .*join-token is a well-known placeholder.*delete .*join-token to have a new one made/));
  });

  it('a configured token wins over a kept one, and a node may not name both joinToken and joinTokenFile', async () => {
    const own = 'a-token-of-our-own-choosing';
    const fresh = await startCoordinator({ policy: 'token', token: own }, `${dir}/fresh`);
    assert.equal(statusOf(fresh.host).joinTokenFile, undefined);
    assert.equal(existsSync(join(dir, 'fresh', JOIN_TOKEN_FILE)), false, 'nothing is made when the config has a token');
    await stopCoordinator(fresh.host);

    // Kept from an earlier run without a token in the config: the config's token is the one that counts.
    const earlier = await startCoordinator({ policy: 'token' });
    await stopCoordinator(earlier.host);
    const { port } = await startCoordinator({ policy: 'token', token: own });
    const byKept = await startNode(1, port, { joinTokenFile: join(dir, 'c', JOIN_TOKEN_FILE) });
    const byConfig = await startNode(2, port, { joinToken: own });
    await waitFor(() => statusOf(byConfig).connected && byKept.history.entries.some((e) => e.code === 'NVID_ERR_NOT_ADMITTED'), 'the configured token admitted, the kept one refused');

    const node = fakeHost('node', identity(1), `${dir}/both`, 'n');
    assert.throws(
      () => new TransportPlugin(options({ joinToken: 'a-token-of-our-own-choosing', joinTokenFile: '/x' })).apply(node),
      (err) => isNvidError(err, 'NVID_ERR_PLUGIN_OPTIONS') && /both set/.test(err.message),
    );
  });
});
