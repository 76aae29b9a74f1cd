import assert from 'node:assert/strict';
import { AsyncParallelHook, AsyncSeriesBailHook, AsyncSeriesHook, SyncHook, SyncWaterfallHook } from 'tapable';
import { createHooks, EVENT_HISTORY_KINDS, EVENT_HOOKS } from '../../../core/hooks.js';
import { guardHooks, tapOnlyView } from '../../../core/hook-guard.js';
import { NvidError } from '../../../core/errors.js';

// tapable's hook classes all look alike to the type checker, so check them at runtime.
const EXPECTED: Record<string, unknown> = {
  beforeStart: AsyncSeriesHook, start: AsyncSeriesHook, afterStart: AsyncSeriesHook, stop: AsyncSeriesHook, afterStop: AsyncSeriesHook,
  validate: AsyncSeriesBailHook, seal: AsyncSeriesBailHook, open: AsyncSeriesBailHook, deliver: AsyncSeriesBailHook, deliverShared: AsyncSeriesBailHook,
  acceptSender: AsyncSeriesBailHook, acceptTransfer: AsyncSeriesBailHook, certificate: AsyncSeriesBailHook, rename: AsyncSeriesBailHook, display: AsyncSeriesBailHook, screen: AsyncSeriesBailHook, schedule: AsyncSeriesBailHook, screenshot: AsyncSeriesBailHook, remoteScreen: AsyncSeriesBailHook,
  control: AsyncSeriesBailHook, status: SyncWaterfallHook,
  peerJoined: SyncHook, peerLeft: SyncHook, peerRenamed: SyncHook, peerUpdated: SyncHook, progress: SyncHook,
  sent: AsyncParallelHook, sendFailed: AsyncParallelHook, received: AsyncParallelHook, rejected: AsyncParallelHook,
  queued: AsyncParallelHook, displayed: AsyncParallelHook, displayFailed: AsyncParallelHook, itemDeleted: AsyncParallelHook, trustChanged: SyncHook,
};

describe('the hooks', () => {
  it('declares every hook once, with the expected tapable class and one argument', () => {
    const hooks = createHooks();
    assert.deepEqual(Object.keys(hooks).sort(), Object.keys(EXPECTED).sort());
    for (const [name, hook] of Object.entries(hooks)) {
      assert.equal(hook.constructor, EXPECTED[name], `${name} is a ${hook.constructor.name}`);
      assert.equal((hook as unknown as { _args: string[] })._args.length, 1, `${name} takes one object`);
      assert.equal(hook.name, name);
    }
    assert.ok(Object.isFrozen(hooks));
  });

  it('names the hook and the plugin when a tap throws, and passes NvidErrors through', async () => {
    const hooks = createHooks();
    guardHooks(hooks);
    hooks.validate.tapPromise('picky', async () => {
      throw new TypeError('boom');
    });
    await assert.rejects(hooks.validate.promise({ path: '/x', side: 'send' }), (err: NvidError) => {
      assert.equal(err.code, 'NVID_ERR_HOOK');
      assert.match(err.message, /plugin "picky" failed in hook "validate": boom/);
      return true;
    });
    const other = createHooks();
    guardHooks(other);
    other.validate.tapPromise('strict', async () => {
      throw new NvidError('NVID_ERR_MEDIA_REJECTED', 'no video stream');
    });
    await assert.rejects(other.validate.promise({ path: '/x', side: 'send' }), { code: 'NVID_ERR_MEDIA_REJECTED' });
    other.peerJoined.tap('sync-thrower', () => {
      throw new Error('sync');
    });
    assert.throws(() => other.peerJoined.call({ id: 'a', name: 'a', certPem: '', address: '', port: 1, tags: [] }), /plugin "sync-thrower" failed in hook "peerJoined"/);
  });

  it('gives plugins a view that can tap but not call', async () => {
    const hooks = createHooks();
    const view = tapOnlyView(hooks);
    let seen = '';
    view.rename.tapPromise('t', async ({ name }) => (seen = name));
    assert.equal((view.rename as unknown as { promise?: unknown }).promise, undefined);
    assert.equal((view.rename as unknown as { call?: unknown }).call, undefined);
    assert.equal(await hooks.rename.promise({ name: 'lobby' }), 'lobby');
    assert.equal(seen, 'lobby');
    assert.ok(Object.isFrozen(view) && Object.isFrozen(view.rename));
  });

  it('names every event after the history kind it writes', () => {
    const hooks = createHooks();
    const kebab = (name: string) => name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
    for (const name of EVENT_HOOKS) {
      assert.ok(name in hooks, `${name} is a hook`);
      const kind = EVENT_HISTORY_KINDS[name];
      if (name === 'progress') assert.equal(kind, null, 'progress is too frequent for the history');
      else assert.equal(kind, kebab(name));
    }
    const events = Object.entries(EXPECTED).filter(([, cls]) => cls === AsyncParallelHook || cls === SyncHook).map(([name]) => name);
    assert.deepEqual([...EVENT_HOOKS].sort(), events.sort(), 'every observe-only hook is an event with a history kind');
  });

  it('tells a plugin that taps a retired or unknown hook what to tap instead', () => {
    const view = tapOnlyView(createHooks()) as unknown as Record<string, unknown>;
    assert.throws(() => view.shouldAccept, (err: NvidError) => {
      assert.equal(err.code, 'NVID_ERR_PLUGIN_API');
      assert.match(err.message, /acceptSender/);
      assert.match(err.message, /acceptTransfer/);
      return true;
    });
    assert.throws(() => view.recieved, /there is no "recieved" hook; hooks: .*received/);
  });
});
