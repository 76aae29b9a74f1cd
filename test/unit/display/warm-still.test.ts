/**
 * A player waits ahead for the next JPEG still: a pushed photo is fed to it
 * instead of starting ffplay, it comes on screen like any other (no black
 * frame), the one waiting shows nothing, and other kinds start their own.
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { solidJpeg, solidPng } from '../../helpers/media-fixtures.js';
import { ScreenSampler, screenColour } from '../../helpers/screen.js';
import { assertNoGap, colourSequence, ffplayChildren, startRig, useDisplaySuite, type DisplayRig } from './harness.js';
import { waitFor } from '../../helpers/nvid.js';

/** The harness's waitFor, with the description first as these stories read best. */
const until = <T>(what: string, test: () => T | Promise<T>, timeoutMs = 15_000) => waitFor(test, what, timeoutMs, 50);

describe('display plugin: a player waiting for the next photo', function () {
  this.timeout(60_000);
  const suite = useDisplaySuite();
  let rig: DisplayRig | undefined;
  afterEach(async () => {
    await rig?.stop();
    rig = undefined;
  });

  const colour = () => screenColour(suite.xvfb.display, suite.xvfb.width, suite.xvfb.height);

  it('feeds a pushed JPEG to the player started ahead, gaplessly, and starts the next one after', async () => {
    rig = await startRig(suite.xvfb, { policy: 'replace', imageSeconds: 0 });
    await rig.show(await solidJpeg(rig.t.dir, 'red.jpg', 'red', '320x240'));
    await until('red on screen', async () => (await colour()) === 'red');
    // The red player, and one more: started a moment later, waiting.
    const [redPlayer, waiting] = await until('a player waiting ahead', () => {
      const pids = ffplayChildren();
      return pids.length === 2 ? pids : undefined;
    });
    // It shows nothing while it waits: the screen is still red, a while later.
    await sleep(500);
    assert.equal(await colour(), 'red');

    const sampler = new ScreenSampler(suite.xvfb.display, suite.xvfb.width, suite.xvfb.height, 20);
    try {
      await sampler.ready();
      await rig.show(await solidJpeg(rig.t.dir, 'lime.jpg', 'lime', '320x240'));
      await sampler.waitFor((s) => s.name === 'lime', 10_000);
      // The waiting player took the photo: red's is gone, and no third ffplay was started for lime.
      await until('red gone', () => !ffplayChildren().includes(redPlayer!));
      assert.ok(ffplayChildren().includes(waiting!), 'lime is shown by the player that waited');
      await sleep(300);
    } finally {
      await sampler.stop();
    }
    assert.deepEqual(colourSequence(sampler.runs()).slice(-2), ['red', 'lime']);
    assertNoGap(sampler.samples, ['red', 'lime']);
    // And another waits for the photo after that.
    await until('a new player waiting', () => {
      const pids = ffplayChildren();
      return pids.length === 2 && !pids.includes(redPlayer!) ? pids : undefined;
    });
  });

  it('leaves the waiting player be for a PNG, which starts its own', async () => {
    rig = await startRig(suite.xvfb, { policy: 'replace', imageSeconds: 0 });
    await rig.show(await solidPng(rig.t.dir, 'blue.png', 'blue', '320x240'));
    await until('blue on screen', async () => (await colour()) === 'blue');
    const [, waiting] = await until('a player waiting ahead', () => {
      const pids = ffplayChildren();
      return pids.length === 2 ? pids : undefined;
    });
    await rig.show(await solidPng(rig.t.dir, 'yellow.png', 'yellow', '320x240'));
    await until('yellow on screen', async () => (await colour()) === 'yellow');
    assert.ok(ffplayChildren().includes(waiting!), 'still waiting for a JPEG');
  });

  it('waits for nothing when told not to', async () => {
    rig = await startRig(suite.xvfb, { policy: 'replace', imageSeconds: 0, warmStills: false });
    await rig.show(await solidJpeg(rig.t.dir, 'cyan.jpg', 'cyan', '320x240'));
    await until('cyan on screen', async () => (await colour()) === 'cyan');
    await sleep(2500);
    assert.equal(ffplayChildren().length, 1);
  });
});
