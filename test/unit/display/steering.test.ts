/**
 * A person steering the screen through the host, as `nvid screen` and the web
 * panel do: see what shows and what waits, skip, clear, show a library item
 * again, delete one (it leaves the glass at once, the file with it).
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { solidPng } from '../../helpers/media-fixtures.js';
import { waitFor } from '../../helpers/nvid.js';
import { screenColour } from '../../helpers/screen.js';
import { keep, startRig, useDisplaySuite, type DisplayRig } from './harness.js';

describe('display plugin: steered by a person', function () {
  this.timeout(60_000);
  const suite = useDisplaySuite();
  let rig: DisplayRig | undefined;
  const colour = () => screenColour(suite.xvfb.display, suite.xvfb.width, suite.xvfb.height);
  const onScreen = (name: string) => waitFor(async () => (await colour()) === name, `${name} on screen`, 15_000);

  it('tells what shows and what waits, skips to the next item, and clears back to the idle screen', async () => {
    rig = await startRig(suite.xvfb, { policy: 'queue', imageSeconds: 0 });
    const { host } = rig.t;
    await rig.show(await keep(rig.t, await solidPng(rig.t.dir, 'red.png', 'red')));
    await onScreen('red');
    await rig.show(await keep(rig.t, await solidPng(rig.t.dir, 'lime.png', 'lime')));
    await rig.show(await keep(rig.t, await solidPng(rig.t.dir, 'blue.png', 'blue')));
    const before = await host.steerScreen({ action: 'status' });
    assert.deepEqual(before.showing !== null && before.showing !== 'idle' && before.showing.name, 'red.png');
    assert.deepEqual(before.queue.map((i) => i.name), ['lime.png', 'blue.png']);
    assert.equal(before.policy, 'queue');

    const skipped = await host.steerScreen({ action: 'skip' });
    assert.deepEqual(skipped.queue.map((i) => i.name), ['blue.png'], 'lime left the queue for the screen');
    await onScreen('lime');
    const cleared = await host.steerScreen({ action: 'clear' });
    assert.deepEqual(cleared.queue, []);
    await onScreen('black');
    assert.equal((await host.steerScreen({ action: 'status' })).showing, 'idle');
  });

  it('shows a library item again at once, and a deleted item leaves the screen and the disk at once', async () => {
    rig = await startRig(suite.xvfb, { policy: 'queue', imageSeconds: 0 });
    const { host } = rig.t;
    const red = await keep(rig.t, await solidPng(rig.t.dir, 'red.png', 'red'));
    await keep(rig.t, await solidPng(rig.t.dir, 'lime.png', 'lime'));
    assert.deepEqual(host.library.list().map((i) => i.name).sort(), ['lime.png', 'red.png']);
    await host.steerScreen({ action: 'show', path: host.library.resolve('lime.png') });
    await onScreen('lime');
    await host.steerScreen({ action: 'show', path: red });
    await onScreen('red');

    await host.library.delete('red.png');
    await onScreen('black');
    assert.equal(existsSync(red), false);
    assert.deepEqual(host.library.list().map((i) => i.name), ['lime.png']);
    const [entry] = await rig.t.history.read({ kind: 'item-deleted' });
    assert.equal(entry?.name, 'red.png');
    assert.throws(() => host.library.resolve('../state/identity/key.pem'), { code: 'NVID_ERR_LIBRARY_ITEM' });
    assert.throws(() => host.library.resolve('red.png'), { code: 'NVID_ERR_LIBRARY_ITEM' });
  });

  it('keeps a deleted item out of the loop', async () => {
    rig = await startRig(suite.xvfb, { policy: 'loop', imageSeconds: 1 }, async (t) => {
      await keep(t, await solidPng(t.dir, 'red.png', 'red'), 'a-red.png');
      await keep(t, await solidPng(t.dir, 'lime.png', 'lime'), 'b-lime.png');
    });
    await onScreen('lime');
    await rig.t.host.library.delete('b-lime.png');
    await onScreen('red');
    // Two more image periods: lime must not come round again.
    const until = Date.now() + 2500;
    while (Date.now() < until) {
      assert.notEqual(await colour(), 'lime');
      await new Promise((r) => setTimeout(r, 150));
    }
    assert.deepEqual((await rig.t.host.steerScreen({ action: 'status' })).queue, []);
  });
});
