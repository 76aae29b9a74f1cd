import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NvidError } from '../../../core/errors.js';
import { createHooks } from '../../../core/hooks.js';
import { guardHooks } from '../../../core/hook-guard.js';
import { MAX_SIGNAGE_BYTES, RemoteScreens, screenRefusal } from '../../../core/remote-screen.js';
import { TrustStore } from '../../../core/trust.js';
import type { HistoryLog } from '../../../core/plugin-api.js';
import type { HistoryKind, Peer, ScheduleRequest, ScreenRequest, ScreenState } from '../../../core/types.js';

const id = (c: string) => c.repeat(64);
const peer = (c: string, name: string): Peer => ({ id: id(c), name, certPem: '', address: '127.0.0.1', port: 1 }) as Peer;
const LAPTOP = peer('a', 'laptop');
const STRANGER = peer('b', 'stranger');
const STATE: ScreenState = { showing: 'idle', queue: [], policy: 'replace' };

function memoryHistory(): HistoryLog & { entries: Array<{ kind: HistoryKind } & Record<string, unknown>> } {
  const entries: Array<{ kind: HistoryKind } & Record<string, unknown>> = [];
  return { entries, append: (kind, fields = {}) => void entries.push({ kind, ...fields }), read: async () => [] };
}

describe('remote screens: who may watch and steer this screen', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'nvid-remote-screen-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('lets only controllers in, by fingerprint: from the config or from nvid trust, never a sender or a name', () => {
    const trust = new TrustStore(join(dir, 'trust.json'), { acceptFrom: [id('c')], controllers: [id('d')] });
    trust.add('controller', { id: LAPTOP.id, name: 'laptop' });
    assert.equal(screenRefusal(trust, LAPTOP, 'skip'), undefined, 'trusted with nvid trust add --as controller');
    assert.equal(screenRefusal(trust, peer('d', 'config-controller'), 'screenshot'), undefined, 'listed in the config');
    const sender = screenRefusal(trust, peer('c', 'sender'), 'status');
    assert.equal(sender?.code, 'NVID_ERR_NOT_CONTROLLER', 'a trusted sender is not a controller');
    // A peer that took a controller's name is still not one: the fingerprint decides.
    const impostor = screenRefusal(trust, { id: STRANGER.id, name: 'laptop' }, 'delete');
    assert.equal(impostor?.code, 'NVID_ERR_NOT_CONTROLLER');
    assert.match(impostor!.message, /not a controller.*steer.*nvid trust add laptop --as controller/);
    assert.match(sender!.message, /may not watch/);
    trust.remove('controller', LAPTOP.id);
    assert.equal(screenRefusal(trust, LAPTOP, 'skip')?.code, 'NVID_ERR_NOT_CONTROLLER', 'taking trust back counts at once');
  });

  function screens(controllers: string[]) {
    const hooks = createHooks();
    guardHooks(hooks);
    const history = memoryHistory();
    const steered: ScreenRequest[] = [];
    const deleted: string[] = [];
    const scheduled: ScheduleRequest[] = [];
    const rejected: Array<Record<string, unknown>> = [];
    const remote = new RemoteScreens({
      hooks,
      trust: { isController: (who) => controllers.includes(who) },
      capabilities: {
        steerScreen: async (request) => (steered.push(request), STATE),
        screenshot: async (out) => out,
        deleteLibraryItem: async (name) => void deleted.push(name),
        schedule: async (request) => (scheduled.push(request), { source: 'none', signage: null, playing: null }),
      },
      library: { list: () => [{ name: 'red.png', path: '/lib/red.png', size: 3, modified: 1 }], resolve: (name) => `/lib/${name}` },
      peers: { list: () => [LAPTOP], get: () => LAPTOP, resolve: () => LAPTOP } as never,
      history,
      reportRejected: (event) => void rejected.push(event),
      scratchDir: dir,
    });
    return { hooks, history, steered, deleted, scheduled, rejected, remote };
  }

  it('refuses a non-controller before touching the screen, and records the refusal as rejected', async () => {
    const { remote, steered, deleted, rejected } = screens([LAPTOP.id]);
    await assert.rejects(remote.serve(STRANGER, { action: 'delete', item: 'red.png' }), { code: 'NVID_ERR_NOT_CONTROLLER' });
    assert.deepEqual([steered, deleted], [[], []], 'nothing ran');
    assert.equal(rejected.length, 1);
    assert.deepEqual({ ...rejected[0], reason: undefined }, { stage: 'remote-screen', code: 'NVID_ERR_NOT_CONTROLLER', reason: undefined, peerId: STRANGER.id, peerName: 'stranger', action: 'delete' });
  });

  it('runs a controller\'s request on the local screen and library', async () => {
    const { remote, steered, deleted } = screens([LAPTOP.id]);
    assert.deepEqual(await remote.serve(LAPTOP, { action: 'skip' }), { kind: 'screen', screen: STATE });
    await remote.serve(LAPTOP, { action: 'show', item: 'red.png' });
    assert.deepEqual(await remote.serve(LAPTOP, { action: 'delete', item: 'red.png' }), { kind: 'screen', screen: STATE });
    assert.deepEqual(steered, [{ action: 'skip' }, { action: 'show', path: '/lib/red.png' }, { action: 'status' }]);
    assert.deepEqual(deleted, ['red.png']);
    const library = await remote.serve(LAPTOP, { action: 'library' });
    assert.equal(library.kind === 'library' && library.items[0]!.name, 'red.png');
    await assert.rejects(remote.serve(LAPTOP, { action: 'screenshot', width: 3 }), { code: 'NVID_ERR_USAGE' }, 'a silly width is refused before any screenshot');
  });

  it('shows and sets a schedule for a controller only, naming the controller that set it, within the size limit', async () => {
    const { remote, scheduled, rejected } = screens([LAPTOP.id]);
    await assert.rejects(remote.serve(STRANGER, { action: 'schedule-set', signage: { schedule: {} } }), (err: NvidError) => {
      assert.equal(err.code, 'NVID_ERR_NOT_CONTROLLER');
      assert.match(err.message, /may not steer its screen \(schedule-set\)/);
      return true;
    });
    await assert.rejects(remote.serve(STRANGER, { action: 'schedule-show' }), /may not watch its screen \(schedule-show\)/);
    assert.deepEqual(scheduled, [], 'nothing ran for the stranger');
    assert.deepEqual(rejected.map((e) => e.action), ['schedule-set', 'schedule-show']);
    assert.deepEqual(await remote.serve(LAPTOP, { action: 'schedule-show' }), { kind: 'schedule', schedule: { source: 'none', signage: null, playing: null } });
    const signage = { playlists: { a: { items: [] } }, schedule: { default: 'a' } };
    await remote.serve(LAPTOP, { action: 'schedule-set', signage });
    assert.deepEqual(scheduled, [{ action: 'show' }, { action: 'set', signage, by: { id: LAPTOP.id, name: LAPTOP.name } }]);
    const huge = { playlists: { a: { items: [{ file: 'x'.repeat(MAX_SIGNAGE_BYTES) }] } }, schedule: { default: 'a' } };
    await assert.rejects(remote.serve(LAPTOP, { action: 'schedule-set', signage: huge }), { code: 'NVID_ERR_USAGE' });
    assert.equal(scheduled.length, 2, 'an oversized document never reaches the screen');
  });

  it('writes a failed request to the asking side\'s history, with the code the peer gave', async () => {
    const { remote, hooks, history } = screens([]);
    hooks.remoteScreen.tapPromise('test-transport', async () => {
      throw new NvidError('NVID_ERR_NOT_CONTROLLER', 'lobby: laptop is not a controller');
    });
    await assert.rejects(remote.ask('lobby', { action: 'screenshot' }), { code: 'NVID_ERR_NOT_CONTROLLER' });
    assert.deepEqual(history.entries.map((e) => [e.kind, e.code, e.action, e.peerName]), [['remote-screen-failed', 'NVID_ERR_NOT_CONTROLLER', 'screenshot', 'laptop']]);
  });

  it('says no transport can reach a remote screen when none is loaded', async () => {
    const { remote } = screens([]);
    await assert.rejects(remote.ask('lobby', { action: 'status' }), { code: 'NVID_ERR_NOT_AVAILABLE' });
  });
});
