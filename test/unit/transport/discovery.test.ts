/**
 * Discovery without a network: what a coordinator announces, how a node judges
 * each coordinator it sees (the TXT fingerprint against the one it was given,
 * or the person's answer), the interface rule, and the options and flag that
 * turn it on. The netns test (test/integration/transport-discovery.test.ts)
 * runs it between real processes.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import type { NetworkInterfaceInfo } from 'node:os';
import { PassThrough } from 'node:stream';
import { loadConfig } from '../../../core/config.js';
import { isNvidError, type NvidError } from '../../../core/errors.js';
import { validateAgainst } from '../../../core/schema.js';
import { announcementTxt, instanceName, judgeSighting, type Sighting } from '../../../plugins/transport/discovery/announcement.js';
import { sightingOf } from '../../../plugins/transport/discovery/browse.js';
import { CoordinatorChooser, type Confirm, type DiscoveredCoordinator } from '../../../plugins/transport/discovery/chooser.js';
import { terminalConfirm } from '../../../plugins/transport/discovery/confirm.js';
import { interfaceAddress, MDNS_GROUP, multicastOptions } from '../../../plugins/transport/discovery/multicast.js';
import TransportPlugin, { type TransportOptions } from '../../../plugins/transport/index.js';
import { fakeHost, identity, removeDir, silentLog, tempDir } from './helpers.js';

const FP = 'a1'.repeat(32);
const writeJson = (file: string, value: unknown) => writeFileSync(file, JSON.stringify(value));
const OTHER = 'b2'.repeat(32);

function sighting(fp: unknown = FP, extra: Partial<Sighting> = {}): Sighting {
  return { fqdn: `lobby ${String(fp).slice(0, 12)}._nvid._tcp.local`, name: 'lobby', host: '10.0.0.2', port: 7700, txt: { v: '1', fp }, ...extra };
}

describe('transport discovery', () => {
  describe('the announcement and its judgement', () => {
    it('announces v=1 and the fingerprint, under a name that cannot collide or break a DNS label', () => {
      assert.deepEqual(announcementTxt(FP), { v: '1', fp: FP });
      const name = instanceName('x.y\u0007'.repeat(30), FP);
      assert.equal(name, `${'x-y-'.repeat(10)} ${FP.slice(0, 12)}`);
      assert.ok(Buffer.byteLength(name) <= 63);
    });

    it('joins the coordinator announcing the expected fingerprint, however it is written', () => {
      const colons = FP.toUpperCase().match(/../g)!.join(':');
      assert.deepEqual(judgeSighting(sighting(colons), { fingerprint: FP, source: 'flag' }), { verdict: 'join', fingerprint: FP });
    });

    it('refuses another fingerprint, naming both and where the expected one came from', () => {
      const judgement = judgeSighting(sighting(OTHER), { fingerprint: FP, source: 'given by the flag' });
      assert.equal(judgement.verdict, 'refuse');
      const error = (judgement as { error: NvidError }).error;
      assert.equal(error.code, 'NVID_ERR_COORDINATOR_MISMATCH');
      assert.match(error.message, new RegExp(`at 10\\.0\\.0\\.2:7700: it announces fingerprint ${OTHER}, but ${FP} is expected \\(given by the flag\\)`));
      assert.deepEqual(error.details, { address: '10.0.0.2:7700', instance: sighting(OTHER).fqdn, announced: OTHER, expected: FP, source: 'given by the flag' });
    });

    it('asks about a valid fingerprint when none is expected', () => {
      assert.deepEqual(judgeSighting(sighting(), undefined), { verdict: 'ask', fingerprint: FP });
    });

    it('refuses an announcement without a usable fingerprint or of another version, even with nothing expected', () => {
      for (const txt of [undefined, {}, { v: '1' }, { v: '1', fp: 'abc' }, { v: '1', fp: 'zz'.repeat(32) }, { v: '2', fp: FP }, { fp: FP }]) {
        const judgement = judgeSighting(sighting(FP, { txt }), undefined);
        assert.equal(judgement.verdict, 'refuse', JSON.stringify(txt));
        assert.equal((judgement as { error: NvidError }).error.code, 'NVID_ERR_COORDINATOR_MISMATCH');
      }
    });

    it('connects to the address the answer came from, else an IPv4 address it lists', () => {
      const service = { fqdn: 'f', name: 'n', port: 7700, txt: { v: '1' }, addresses: ['fe80::1', '192.168.1.9', '10.0.0.2'] };
      assert.equal(sightingOf({ ...service, referer: { address: '10.0.0.2', family: 'IPv4', port: 5353, size: 1 } })?.host, '10.0.0.2');
      assert.equal(sightingOf(service)?.host, '192.168.1.9');
      assert.equal(sightingOf({ ...service, addresses: [] }), undefined);
      assert.equal(sightingOf({ ...service, port: 0, addresses: ['10.0.0.2'] }), undefined);
    });
  });

  describe('choosing among the coordinators seen', () => {
    function chooser(options: { expected?: string; confirm?: Confirm }) {
      const chosen: DiscoveredCoordinator[] = [];
      const refused: NvidError[] = [];
      const c = new CoordinatorChooser({
        expected: options.expected ? { fingerprint: options.expected, source: 'given' } : undefined,
        confirm: options.confirm,
        log: silentLog,
        chosen: (d) => chosen.push(d),
        refused: (e) => refused.push(e),
      });
      return { c, chosen, refused };
    }

    it('refuses each wrong coordinator once, joins the right one, then only follows it', () => {
      const { c, chosen, refused } = chooser({ expected: FP });
      const wrong = sighting(OTHER, { host: '10.0.0.3' });
      c.consider(wrong);
      c.consider(wrong);
      assert.deepEqual(refused.map((e) => e.code), ['NVID_ERR_COORDINATOR_MISMATCH']);
      c.consider(sighting());
      assert.deepEqual(chosen, [{ name: 'lobby', host: '10.0.0.2', port: 7700, fingerprint: FP, source: 'given' }]);
      c.consider(sighting(FP, { host: '10.0.0.9', port: 7701 }));
      assert.deepEqual({ host: c.coordinator?.host, port: c.coordinator?.port }, { host: '10.0.0.9', port: 7701 }, 'it moved');
      c.consider(sighting(OTHER, { fqdn: 'another', host: '10.0.0.4' }));
      assert.equal(c.coordinator?.host, '10.0.0.9', 'another fingerprint never takes its place');
      assert.equal(chosen.length, 1);
      assert.equal(refused.length, 1, 'nothing more is judged once chosen');
    });

    it('without a fingerprint and a terminal, refuses and says how to pass it', () => {
      const { c, chosen, refused } = chooser({});
      c.consider(sighting());
      assert.equal(chosen.length, 0);
      assert.equal(refused[0]?.code, 'NVID_ERR_COORDINATOR_UNCONFIRMED');
      assert.match(refused[0]!.message, new RegExp(`nvid node --coordinator-fingerprint ${FP}`));
    });

    it('asks one question at a time, showing the fingerprint, and joins only a yes', async () => {
      const questions: string[] = [];
      const answers = [false, true];
      const { c, chosen } = chooser({
        confirm: async (question) => {
          questions.push(question);
          await new Promise((resolve) => setTimeout(resolve, 5));
          return answers.shift()!;
        },
      });
      c.consider(sighting(OTHER, { fqdn: 'first' }));
      c.consider(sighting(FP, { fqdn: 'second', host: '10.0.0.5' }));
      c.consider(sighting(OTHER, { fqdn: 'first' }));
      await new Promise((resolve) => setImmediate(resolve));
      assert.equal(questions.length, 1, 'the second waits for the first answer');
      await c.idle();
      assert.equal(questions.length, 2, 'a declined coordinator is not asked about again');
      assert.match(questions[0]!, /b2b2 b2b2 b2b2/);
      assert.match(questions[1]!, /\[y\/N\]/);
      assert.deepEqual(chosen.map((d) => [d.host, d.fingerprint, d.source]), [['10.0.0.5', FP, 'confirmed at the terminal']]);
    });

    it('drops an open question when the node stops', async () => {
      let seen: AbortSignal | undefined;
      const { c, chosen } = chooser({
        confirm: (_question, signal) => {
          seen = signal;
          return new Promise((_resolve, reject) => signal.addEventListener('abort', () => reject(new Error('aborted'))));
        },
      });
      c.consider(sighting());
      await new Promise((resolve) => setImmediate(resolve));
      c.stop();
      await c.idle();
      assert.equal(seen?.aborted, true);
      assert.equal(chosen.length, 0);
    });
  });

  describe('the terminal question', () => {
    it('is not asked without a terminal', () => {
      assert.equal(terminalConfirm(Object.assign(new PassThrough(), { isTTY: false }) as unknown as NodeJS.ReadStream, process.stderr), undefined);
    });

    it('takes y or yes, and anything else as no', async () => {
      for (const [typed, expected] of [['y', true], ['YES', true], ['', false], ['n', false], ['yep', false]] as const) {
        const input = Object.assign(new PassThrough(), { isTTY: true }) as unknown as NodeJS.ReadStream;
        const output = Object.assign(new PassThrough(), { isTTY: true, columns: 80 }) as unknown as NodeJS.WriteStream;
        const confirm = terminalConfirm(input, output)!;
        const answer = confirm('join? ', new AbortController().signal);
        input.write(`${typed}\n`);
        assert.equal(await answer, expected, JSON.stringify(typed));
      }
    });
  });

  describe('the interface', () => {
    const interfaces = {
      lo: [{ address: '127.0.0.1', family: 'IPv4' }],
      veth0: [{ address: 'fe80::1', family: 'IPv6' }, { address: '10.231.0.1', family: 'IPv4' }],
    } as unknown as NodeJS.Dict<NetworkInterfaceInfo[]>;

    it('is an IPv4 address of this machine or the name of an interface with one', () => {
      assert.equal(interfaceAddress('10.231.0.1', interfaces), '10.231.0.1');
      assert.equal(interfaceAddress('veth0', interfaces), '10.231.0.1');
      assert.throws(() => interfaceAddress('10.9.9.9', interfaces), (err) => isNvidError(err, 'NVID_ERR_PLUGIN_OPTIONS') && /lo 127\.0\.0\.1, veth0 10\.231\.0\.1/.test(err.message));
      assert.throws(() => interfaceAddress('eth7', interfaces), (err) => isNvidError(err, 'NVID_ERR_PLUGIN_OPTIONS'));
    });

    it('binds the socket to the group, so it hears multicast, and sends on that interface only', () => {
      assert.deepEqual(multicastOptions('127.0.0.1'), { interface: '127.0.0.1', bind: MDNS_GROUP });
      assert.deepEqual(multicastOptions(undefined), {});
    });
  });

  describe('options and the flag', () => {
    function options(extra: Record<string, unknown>): TransportOptions {
      const data = structuredClone(extra);
      assert.deepEqual(validateAgainst(TransportPlugin.schema, data, 'options'), []);
      return data as unknown as TransportOptions;
    }

    it('is off by default, and a node without a coordinator host still joins 127.0.0.1:7700', () => {
      const filled = options({});
      assert.deepEqual(filled.discovery, { mdns: false });
      assert.deepEqual(filled.coordinator, { port: 7700 });
      const dir = tempDir();
      try {
        const host = fakeHost('node', identity(0), dir, 'n');
        new TransportPlugin(filled).apply(host);
        const status = host.hooks.status.call({}) as { transport: Record<string, unknown> };
        assert.equal(status.transport.coordinator, '127.0.0.1:7700');
        assert.equal('discovery' in status.transport, false);
      } finally {
        removeDir(dir);
      }
    });

    it('refuses unknown discovery keys and a non-boolean switch', () => {
      assert.notDeepEqual(validateAgainst(TransportPlugin.schema, { discovery: { mdns: 'yes' } }, 'o'), []);
      assert.notDeepEqual(validateAgainst(TransportPlugin.schema, { discovery: { mdns: true, iface: 'eth0' } }, 'o'), []);
    });

    it('merges --coordinator-fingerprint into the transport entry, whichever way it is listed', () => {
      const flag = { transport: { coordinator: { fingerprint: FP } } };
      const plain = loadConfig({ role: 'node', stateDir: '/nonexistent/state', pluginOptions: flag });
      assert.deepEqual(plain.plugins[0], { use: 'transport', options: { coordinator: { fingerprint: FP } } });
      assert.deepEqual(plain.plugins.slice(1), ['crypto', 'media', 'display']);
      const dir = tempDir();
      try {
        const file = `${dir}/config.json`;
        const listed = { plugins: [{ use: 'transport', options: { coordinator: { host: '10.0.0.2', fingerprint: OTHER }, discovery: { mdns: true } } }] };
        writeJson(file, listed);
        const merged = loadConfig({ role: 'node', file, stateDir: `${dir}/state`, pluginOptions: flag });
        assert.deepEqual(merged.plugins[0], { use: 'transport', options: { coordinator: { host: '10.0.0.2', fingerprint: FP }, discovery: { mdns: true } } });
        writeJson(file, { plugins: ['crypto'] });
        assert.throws(() => loadConfig({ role: 'node', file, stateDir: `${dir}/state`, pluginOptions: flag }), (err) => isNvidError(err, 'NVID_ERR_USAGE') && /"transport" plugin/.test(err.message));
      } finally {
        removeDir(dir);
      }
    });
  });
});
