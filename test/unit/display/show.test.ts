/**
 * The display plugin on a real Xvfb: pictures reach the screen, videos play
 * and give way to the idle screen, screenshots show what is on screen.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { isNvidError } from '../../../core/errors.js';
import type { DisplayedEvent } from '../../../core/types.js';
import DisplayPlugin from '../../../plugins/display/index.js';
import { animatedGif, colourClip, sidewaysPhoto, solidPng, testPatternPng } from '../../helpers/media-fixtures.js';
import { ScreenSampler, columnColours, grabFrame, type Sample } from '../../helpers/screen.js';
import { waitFor } from '../../helpers/nvid.js';
import { construct, createTestHost } from '../media/test-host.js';
import { colourSequence, ffplayChildren, mediaOf, startRig, useDisplaySuite, type DisplayRig } from './harness.js';

const run = promisify(execFile);

/** Mean absolute difference per byte of two equally sized rgb24 frames. */
function meanDifference(a: Buffer, b: Buffer): number {
  assert.equal(a.length, b.length);
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += Math.abs(a[i]! - b[i]!);
  return sum / a.length;
}

async function decodeRgb(path: string): Promise<Buffer> {
  const { stdout } = await run('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-i', path, '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'], { encoding: 'buffer', maxBuffer: 64 << 20 });
  return stdout;
}

describe('display plugin: showing media on X', function () {
  this.timeout(60_000);
  const suite = useDisplaySuite();
  let rig: DisplayRig | undefined;

  /**
   * Shows `path` on the rig while sampling the screen 15 times a second, and
   * hands `watch` the sampler and the first sample that is red (every clip
   * here starts red), with the sampling index of the show.
   */
  async function watchShowing(path: string, watch: (sampler: ScreenSampler, red: Sample, from: number) => Promise<void>): Promise<void> {
    const sampler = new ScreenSampler(suite.xvfb.display, suite.xvfb.width, suite.xvfb.height, 15);
    try {
      await sampler.ready();
      const from = sampler.samples.length;
      await rig!.show(path);
      await watch(sampler, await sampler.waitFor((s) => s.name === 'red', 10_000, from), from);
    } finally {
      await sampler.stop();
    }
  }

  it('shows a test-pattern image full screen: a screenshot matches its pixels', async () => {
    rig = await startRig(suite.xvfb, { imageSeconds: 0 });
    const pattern = await testPatternPng(rig.t.dir, 'pattern.png', '320x240');
    const expected = await decodeRgb(pattern);
    assert.deepEqual(await rig.show(pattern), { state: 'showing' });
    const deadline = Date.now() + 10_000;
    let difference = Infinity;
    while (Date.now() < deadline) {
      const shot = await rig.t.hooks.screenshot.promise({ out: join(rig.t.dir, 'shot.png') });
      assert.equal(shot, join(rig.t.dir, 'shot.png'));
      difference = meanDifference(await decodeRgb(shot!), expected);
      if (difference < 8) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.ok(difference < 8, `screen differs from the image by ${difference.toFixed(1)} per byte`);
    const displayed = await rig.t.history.read({ kind: 'displayed' });
    assert.equal(displayed.at(-1)?.path, pattern);
  });

  it('fires displayed when the first frame is on the glass, not when the display took the item', async () => {
    rig = await startRig(suite.xvfb, { imageSeconds: 0 });
    const red = await solidPng(rig.t.dir, 'red.png', 'red', '320x240');
    const { width, height, display } = suite.xvfb;
    const events: DisplayedEvent[] = [];
    let frameWhenFired: Promise<Buffer> | undefined;
    rig.t.hooks.displayed.tapPromise('test', async (event) => {
      events.push(event);
      frameWhenFired ??= grabFrame(display, width, height);
    });
    const asked = Date.now();
    assert.deepEqual(await rig.show(red), { state: 'showing' });
    assert.equal(events.length, 0, 'taking an item is not showing it: a player takes most of a second to draw');
    await waitFor(() => events.length === 1, 'the displayed event', 15_000);
    assert.equal(events[0]!.path, red);
    assert.ok(events[0]!.at >= asked);
    const frame = await frameWhenFired!;
    const middle = ((height >> 1) * width + (width >> 1)) * 3;
    assert.deepEqual([frame[middle]! > 200, frame[middle + 1]! < 60, frame[middle + 2]! < 60], [true, true, true], 'red on screen when displayed fired');
    const entry = (await rig.t.history.read({ kind: 'displayed' })).at(-1);
    assert.equal(entry?.path, red);
  });

  it("plays a video: its frames change on screen, then the idle screen returns", async () => {
    rig = await startRig(suite.xvfb, {});
    const clip = await colourClip(rig.t.dir, 'rgb.mp4', ['red', 'lime', 'blue'], 0.8, '160x120');
    await watchShowing(clip, async (sampler, red, from) => {
      const idle = await sampler.waitFor((s) => s.t > red.t && s.black, 15_000, from);
      await sampler.waitFor((s) => s.t > idle.t + 300, 5000);
      const seen = colourSequence(sampler.runs(from));
      assert.deepEqual(seen.slice(seen.indexOf('red')), ['red', 'lime', 'blue', 'black'], `saw ${seen.join(' → ')}`);
    });
  });

  it('keeps an animated GIF moving, round after round, for as long as it is up', async () => {
    rig = await startRig(suite.xvfb, { imageSeconds: 0 });
    const gif = await animatedGif(rig.t.dir, 'red-blue.gif', ['red', 'blue'], 0.5);
    assert.equal((await mediaOf(gif)).kind, 'video', 'ffprobe calls an animated GIF a video');
    await watchShowing(gif, async (sampler, red) => {
      // Four of its one-second rounds: played once, it would have frozen or left for the idle screen after the first.
      await sampler.waitFor((s) => s.t > red.t + 4_000, 10_000);
      const shown = colourSequence(sampler.runs(sampler.samples.indexOf(red)));
      assert.ok(!shown.includes('black'), `the GIF gave way to the idle screen: ${shown.join(' → ')}`);
      assert.ok(shown.length >= 6, `the GIF stopped moving: ${shown.join(' → ')}`);
    });
  });

  it('shows an animated GIF for imageSeconds, like a still, not for its own short round', async () => {
    rig = await startRig(suite.xvfb, { imageSeconds: 2.5 });
    const gif = await animatedGif(rig.t.dir, 'red-blue.gif', ['red', 'blue'], 0.5);
    await watchShowing(gif, async (sampler, red, from) => {
      const idle = await sampler.waitFor((s) => s.t > red.t && s.black, 15_000, from);
      // Its timer starts once it is on screen; the idle screen cannot come before it runs out.
      assert.ok(idle.t - red.t >= 2_300, `the GIF left after ${idle.t - red.t} ms of its 2.5 s`);
      const shown = colourSequence(sampler.runs(sampler.samples.indexOf(red)));
      assert.ok(shown.filter((name) => name !== 'black').length >= 4, `it kept moving until then: ${shown.join(' → ')}`);
    });
  });

  it('returns to a configured idle image when an item ends', async () => {
    const t = await createTestHost('idle');
    const idle = await solidPng(t.dir, 'idle.png', 'magenta');
    rig = await startRig(suite.xvfb, { idle, imageSeconds: 1 });
    const sampler = new ScreenSampler(suite.xvfb.display, suite.xvfb.width, suite.xvfb.height, 10);
    try {
      await sampler.waitFor((s) => s.name === 'magenta', 10_000);
      const from = sampler.samples.length;
      await rig.show(await solidPng(rig.t.dir, 'yellow.png', 'yellow'));
      const yellow = await sampler.waitFor((s) => s.name === 'yellow', 10_000, from);
      await sampler.waitFor((s) => s.t > yellow.t && s.name === 'magenta', 10_000, from);
    } finally {
      await sampler.stop();
      await t.dispose();
    }
  });

  it('stands a sideways idle photo upright, like any received one', async () => {
    const t = await createTestHost('idle-photo');
    // Red above blue as stored; EXIF orientation 6 turns it a quarter clockwise: blue left, red right.
    try {
      rig = await startRig(suite.xvfb, { idle: await sidewaysPhoto(t.dir, 'portrait.jpg', 'red', 'blue', 6) });
      const looks = () => columnColours(suite.xvfb.display, suite.xvfb.width, suite.xvfb.height, [20, 115, 205, 300], [60, 180]);
      await waitFor(async () => (await looks()).join() === 'black,blue,red,black', 'the idle photo to stand upright', 10_000, 100).catch(async (err: Error) => {
        throw new Error(`${err.message}; the screen shows ${(await looks()).join(', ')} from left to right`);
      });
    } finally {
      await t.dispose();
    }
  });

  it('headless: keeps files without showing them, and has no screenshot', async () => {
    const t = await createTestHost('headless');
    try {
      construct(DisplayPlugin, { output: 'headless' }).apply(t.host);
      await t.hooks.beforeStart.promise({ role: 'node' });
      await t.hooks.start.promise({ role: 'node' });
      const png = await solidPng(t.dir, 'x.png', 'red');
      const media = { kind: 'image', container: 'png_pipe', codec: 'png', width: 64, height: 48, duration: 0, frames: 1, hasAudio: false, size: 1 } as const;
      assert.deepEqual(await t.hooks.display.promise({ path: png, media, meta: { transferId: 'x', senderId: 'a', receiverId: 'b', time: 0, size: 1, mediaType: 'image', fileName: 'x.png' } }), { state: 'kept' });
      await assert.rejects(t.hooks.screenshot.promise({ out: join(t.dir, 's.png') }), (e: unknown) => isNvidError(e, 'NVID_ERR_NOT_AVAILABLE'));
      assert.deepEqual(ffplayChildren(), []);
      await t.hooks.stop.promise({ role: 'node' });
    } finally {
      await t.dispose();
    }
  });

  it('fails fast at start when the X display cannot be opened', async () => {
    await assert.rejects(startRig(suite.xvfb, { display: ':4242' }), (e: unknown) => isNvidError(e, 'NVID_ERR_DISPLAY_UNAVAILABLE') && /:4242/.test(e.message));
  });

  it('screen helper: a grabbed frame has the screen size', async () => {
    const frame = await grabFrame(suite.xvfb.display, suite.xvfb.width, suite.xvfb.height);
    assert.equal(frame.length, 320 * 240 * 3);
  });
});
