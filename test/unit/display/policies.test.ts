/**
 * Arrival policies on a real Xvfb, watched through the screen: replace,
 * queue and loop each show the expected order, and a sampler grabbing the
 * screen many times a second finds no black frame between two items.
 */
import assert from 'node:assert/strict';
import { solidPng } from '../../helpers/media-fixtures.js';
import { ScreenSampler } from '../../helpers/screen.js';
import { assertNoGap, colourSequence, ffplayChildren, keep, startRig, useDisplaySuite, type DisplayRig } from './harness.js';

describe('display plugin: arrival policies', function () {
  this.timeout(90_000);
  const suite = useDisplaySuite();
  let rig: DisplayRig | undefined;
  let sampler: ScreenSampler | undefined;
  afterEach(async () => {
    await sampler?.stop();
    sampler = undefined;
  });

  it('replace: each arrival takes the screen at once, without a gap', async () => {
    rig = await startRig(suite.xvfb, { policy: 'replace', imageSeconds: 0 });
    sampler = new ScreenSampler(suite.xvfb.display, suite.xvfb.width, suite.xvfb.height, 20);
    await sampler.ready();
    for (const colour of ['red', 'lime', 'blue']) {
      assert.deepEqual(await rig.show(await solidPng(rig.t.dir, `${colour}.png`, colour)), { state: 'showing' });
      await sampler.waitFor((s) => s.name === colour, 10_000);
    }
    await new Promise((r) => setTimeout(r, 500));
    const seen = colourSequence(sampler.runs());
    assert.deepEqual(seen.slice(seen.indexOf('red')), ['red', 'lime', 'blue'], `saw ${seen.join(' → ')}`);
    assertNoGap(sampler.samples, ['red', 'lime', 'blue']);
  });

  it('queue: items play in arrival order, back to back, then the idle screen', async () => {
    rig = await startRig(suite.xvfb, { policy: 'queue', imageSeconds: 1.2 });
    sampler = new ScreenSampler(suite.xvfb.display, suite.xvfb.width, suite.xvfb.height, 20);
    await sampler.ready();
    const files = [];
    for (const colour of ['red', 'lime', 'blue']) files.push(await solidPng(rig.t.dir, `${colour}.png`, colour));
    const states = [];
    for (const file of files) states.push((await rig.show(file)).state);
    assert.deepEqual(states, ['showing', 'queued', 'queued']);
    const blue = await sampler.waitFor((s) => s.name === 'blue', 20_000);
    const idle = await sampler.waitFor((s) => s.t > blue.t && s.black, 10_000);
    await sampler.waitFor((s) => s.t > idle.t + 300, 5000);
    const seen = colourSequence(sampler.runs());
    assert.deepEqual(seen.slice(seen.indexOf('red')), ['red', 'lime', 'blue', 'black'], `saw ${seen.join(' → ')}`);
    assertNoGap(sampler.samples, ['red', 'lime', 'blue']);
  });

  it('loop: cycles through the library kept before start, and a new arrival plays next and stays', async () => {
    rig = await startRig(suite.xvfb, { policy: 'loop', imageSeconds: 1 }, async (t) => {
      await keep(t, await solidPng(t.dir, 'red.png', 'red'), 'a-red.png');
      await keep(t, await solidPng(t.dir, 'lime.png', 'lime'), 'b-lime.png');
    });
    sampler = new ScreenSampler(suite.xvfb.display, suite.xvfb.width, suite.xvfb.height, 20);
    await sampler.ready();
    // A full cycle: red, lime, and red again.
    await sampler.waitFor((s) => s.name === 'lime', 10_000);
    const secondRed = await sampler.waitFor((s) => s.name === 'red', 10_000, sampler.samples.findIndex((s) => s.name === 'lime'));
    assert.deepEqual((await rig.show(await keep(rig.t, await solidPng(rig.t.dir, 'blue.png', 'blue'), 'c-blue.png'))).state, 'queued');
    const firstBlue = await sampler.waitFor((s) => s.t > secondRed.t && s.name === 'blue', 10_000);
    // Blue came after red, so lime follows it; then blue must come round again.
    const redAfterBlue = await sampler.waitFor((s) => s.t > firstBlue.t && s.name === 'red', 15_000);
    const secondBlue = await sampler.waitFor((s) => s.t > redAfterBlue.t && s.name === 'blue', 15_000);
    await sampler.waitFor((s) => s.t > secondBlue.t + 300, 5000);
    const seen = colourSequence(sampler.runs());
    const said = `saw ${seen.join(' → ')}`;
    const cycle = seen.slice(seen.indexOf('red'));
    assert.deepEqual(cycle.slice(0, 3), ['red', 'lime', 'red'], said);
    // Blue plays right after the item that showed when it arrived, then the cycle goes on where it was.
    const blueAt = cycle.indexOf('blue');
    assert.equal(cycle[blueAt + 1], cycle[blueAt - 1] === 'red' ? 'lime' : 'red', said);
    const nextBlue = cycle.indexOf('blue', blueAt + 1);
    assert.ok(nextBlue > blueAt, said);
    assert.deepEqual(new Set(cycle.slice(blueAt + 1, nextBlue)), new Set(['red', 'lime']), said);
    assertNoGap(sampler.samples, ['red', 'lime', 'blue']);
  });

  it("loop: reads the library with the user's media rules, so a tightened limit keeps a file off the screen", async () => {
    rig = await startRig(
      suite.xvfb,
      { policy: 'loop', imageSeconds: 1 },
      async (t) => {
        await keep(t, await solidPng(t.dir, 'red.png', 'red', '64x48'), 'a-red.png');
        await keep(t, await solidPng(t.dir, 'lime.png', 'lime', '320x240'), 'b-lime.png');
      },
      { maxWidth: 100 },
    );
    const watching = new ScreenSampler(suite.xvfb.display, suite.xvfb.width, suite.xvfb.height, 20);
    sampler = watching;
    await watching.ready();
    const firstRed = await watching.waitFor((s) => s.name === 'red', 10_000);
    // Three image periods: with the wide lime file in the loop it would have shown by now.
    await watching.waitFor((s) => s.t > firstRed.t + 3500, 8000);
    const seen = colourSequence(watching.runs());
    assert.equal(seen.includes('lime'), false, `the 320 px wide file broke maxWidth 100 and must not show; saw ${seen.join(' → ')}`);
  });
});
