/**
 * Screen rotation and fit (issue 15). First the filter chain itself, applied
 * by ffmpeg (the same libavfilter as ffplay) to a picture with four coloured
 * corners: whatever its EXIF orientation and whatever the screen's mounting,
 * the picture must come out upright, then turned back against the mounting.
 * Then on a real Xvfb: stills, videos, the idle image and the player waiting
 * for the next photo turn the same way, and contain, cover and stretch put the
 * black bars (or none) where they belong.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import type { Orientation } from '../../../core/types.js';
import { pictureFilters, type ScreenFit, type ScreenRotation } from '../../../plugins/display/picture-filters.js';
import { halvesClip, halvesJpeg, halvesPng, sidewaysPhoto, stripes } from '../../helpers/media-fixtures.js';
import { colourAt, grabFrame } from '../../helpers/screen.js';
import { waitFor } from '../../helpers/nvid.js';
import { createTestHost } from '../media/test-host.js';
import { corners, STORED, UPRIGHT_CORNERS, type Corner } from './exif-corners.js';
import { ffplayChildren, startRig, useDisplaySuite, type DisplayRig } from './harness.js';

const run = promisify(execFile);

/** Where a quarter turn counter-clockwise takes each corner. */
const COUNTER_CLOCKWISE: Readonly<Record<Corner, Corner>> = { 'top-left': 'bottom-left', 'bottom-left': 'bottom-right', 'bottom-right': 'top-right', 'top-right': 'top-left' };

/**
 * Where the stored picture's red, green and blue corners belong in the frame
 * buffer of a screen mounted turned `rotation` degrees clockwise: upright for
 * its EXIF orientation, then turned as far counter-clockwise, so the viewer of
 * the turned screen sees it upright.
 */
function expectedCorners(orientation: Orientation, rotation: ScreenRotation): Record<'red' | 'green' | 'blue', Corner> {
  const turn = (c: Corner) => {
    for (let i = 0; i < rotation / 90; i++) c = COUNTER_CLOCKWISE[c];
    return c;
  };
  const upright = UPRIGHT_CORNERS[orientation];
  return { red: turn(upright.red), green: turn(upright.green), blue: turn(upright.blue) };
}

/** Runs `filter` over the stored picture with ffmpeg; the rgb24 frame. */
async function filtered(filter: string | undefined): Promise<Buffer> {
  const { stdout } = await run('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', STORED, '-frames:v', '1', '-vf', filter ?? 'null', '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'], { encoding: 'buffer', maxBuffer: 1 << 20 });
  return stdout;
}

describe('display plugin: the rotation and fit filter chain', function () {
  this.timeout(60_000);
  const contain = (rotation: ScreenRotation) => ({ rotation, fit: 'contain' as const });

  for (const rotation of [0, 90, 180, 270] as const) {
    it(`rotation ${rotation}: every EXIF orientation first stands upright, then turns back against the mounting`, async () => {
      for (const orientation of [1, 2, 3, 4, 5, 6, 7, 8] as const satisfies readonly Orientation[]) {
        const upright = orientation >= 5 ? [48, 64] : [64, 48];
        const [width, height] = rotation % 180 === 0 ? upright : [upright[1]!, upright[0]!];
        const frame = await filtered(pictureFilters(orientation, contain(rotation), undefined));
        assert.equal(frame.length, width! * height! * 3, `orientation ${orientation}: a ${width}x${height} picture`);
        const where = expectedCorners(orientation, rotation);
        const seen = corners(frame, width!, height!);
        assert.deepEqual({ red: seen[where.red], green: seen[where.green], blue: seen[where.blue] }, { red: 'red', green: 'green', blue: 'blue' }, `orientation ${orientation}, rotation ${rotation}: ${JSON.stringify(seen)}`);
      }
    });
  }

  it('leaves a picture untouched on a screen not turned, with contain (what nvid always did)', () => {
    assert.equal(pictureFilters(undefined, contain(0), { width: 1280, height: 720 }), undefined);
    assert.equal(pictureFilters(1, undefined, undefined), undefined);
  });

  for (const fit of ['cover', 'stretch'] as const satisfies readonly ScreenFit[]) {
    it(`${fit}: the picture leaves the chain at exactly the screen's size, turned or not`, async () => {
      for (const rotation of [0, 90] as const) {
        const frame = await filtered(pictureFilters(6, { rotation, fit }, { width: 100, height: 30 }));
        assert.equal(frame.length, 100 * 30 * 3, `rotation ${rotation}`);
      }
    });
  }

  it('refuses cover or stretch without a screen size rather than silently showing contain', () => {
    assert.throws(() => pictureFilters(undefined, { rotation: 0, fit: 'cover' }, undefined), /screen's size/);
  });
});

describe('display plugin: rotation and fit on screen', function () {
  this.timeout(60_000);
  // 4:3, so 2:1 pictures differ from it in shape.
  const suite = useDisplaySuite('320x240x24');
  let rig: DisplayRig | undefined;

  /** The colour names at each x of `xs`, one string per row of `ys`: "red,blue,..". */
  async function grid(xs: readonly number[], ys: readonly number[]): Promise<string[]> {
    const { display, width, height } = suite.xvfb;
    const frame = await grabFrame(display, width, height);
    return ys.map((y) => xs.map((x) => colourAt(frame, width, x, y) ?? '?').join(','));
  }

  /** Waits until the screen's grid reads `expected`; on timeout says what it read instead. */
  async function until(expected: readonly string[], xs: readonly number[], ys: readonly number[], what: string, timeoutMs = 10_000): Promise<void> {
    let last: string[] = [];
    await waitFor(async () => (last = await grid(xs, ys)).join(' | ') === expected.join(' | '), what, timeoutMs, 50).catch((err: Error) => {
      throw new Error(`${err.message}; the screen reads ${last.join(' | ')}`);
    });
  }

  // A 160x120 picture, red above blue, turned a quarter, fills 180x240 in the middle: bars 70 px each side.
  const COLUMNS = [20, 115, 205, 300];
  const ROWS = [60, 180];
  const sideways = (left: string, right: string) => ROWS.map(() => ['black', left, right, 'black'].join(','));

  for (const [rotation, left, right] of [[90, 'red', 'blue'], [270, 'blue', 'red']] as const) {
    it(`rotation ${rotation}: a still's top goes to the frame buffer's ${rotation === 90 ? 'left' : 'right'}`, async () => {
      rig = await startRig(suite.xvfb, { rotation, imageSeconds: 0 });
      await rig.show(await halvesPng(rig.t.dir, 'red-over-blue.png', 'red', 'blue'));
      await until(sideways(left, right), COLUMNS, ROWS, `the still turned for rotation ${rotation}`);
    });
  }

  it('rotation 180: a still shows upside down in the frame buffer', async () => {
    rig = await startRig(suite.xvfb, { rotation: 180, imageSeconds: 0 });
    await rig.show(await halvesPng(rig.t.dir, 'red-over-blue.png', 'red', 'blue'));
    await until(['blue', 'red'], [160], [60, 180], 'blue above red');
  });

  it('rotation 90: a video turns the same way as a still', async () => {
    rig = await startRig(suite.xvfb, { rotation: 90 });
    await rig.show(await halvesClip(rig.t.dir, 'red-over-blue.mp4', 'red', 'blue', 4));
    await until(sideways('red', 'blue'), COLUMNS, ROWS, 'the video turned for rotation 90');
  });

  it("rotation 90: a phone photo is stood upright by its EXIF orientation first, then turned for the screen", async () => {
    rig = await startRig(suite.xvfb, { rotation: 90, imageSeconds: 0 });
    // Orientation 6 stands it upright with red on the right; turned back against the mounting, red comes on top.
    await rig.show(await sidewaysPhoto(rig.t.dir, 'portrait.jpg', 'red', 'blue', 6));
    await until(['red,red,red', 'blue,blue,blue'], [20, 160, 300], [60, 180], 'red above blue, filling the screen');
  });

  it('rotation 90: the idle image turns too', async () => {
    const t = await createTestHost('idle-rotated');
    try {
      rig = await startRig(suite.xvfb, { rotation: 90, idle: await halvesPng(t.dir, 'idle.png', 'red', 'blue') });
      await until(sideways('red', 'blue'), COLUMNS, ROWS, 'the idle image turned for rotation 90');
    } finally {
      await t.dispose();
    }
  });

  it('rotation 90: the player waiting for the next photo was started turned, and takes the photo', async () => {
    rig = await startRig(suite.xvfb, { rotation: 90, imageSeconds: 0 });
    await rig.show(await halvesJpeg(rig.t.dir, 'first.jpg', 'lime', 'yellow'));
    await until(sideways('lime', 'yellow'), COLUMNS, ROWS, 'the first photo turned');
    // Settled: the first photo's player and, started after it came on screen (a higher pid), the one waiting.
    // (The idle screen's player may still be on its way out when the photo shows, hence the two seconds.)
    const pids = () => ffplayChildren().sort((x, y) => x - y);
    const [first, waiting] = await waitFor(async () => {
      const before = pids();
      if (before.length !== 2) return undefined;
      await sleep(2000);
      return pids().join() === before.join() ? before : undefined;
    }, 'a player waiting ahead', 20_000, 50);
    await rig.show(await halvesJpeg(rig.t.dir, 'second.jpg', 'red', 'blue'));
    await until(sideways('red', 'blue'), COLUMNS, ROWS, 'the second photo turned');
    await waitFor(() => !ffplayChildren().includes(first!), "the first photo's player to go", 5000, 20);
    // Had a player been started for the photo, the waiting one would still be there beside it.
    assert.deepEqual(ffplayChildren(), [waiting], 'the photo is shown by the player that waited, alone');
  });

  // A 200x100 (2:1) picture: lime 25 px, red 75, blue 75, lime 25, on the 4:3 screen.
  const STRIPES = [['lime', 25], ['red', 75], ['blue', 75], ['lime', 25]] as const;
  const XS = [10, 100, 220, 310];
  const YS = [10, 120, 230];
  const FITS: Record<ScreenFit, string[]> = {
    // 320x160, bars above and below, every stripe in view.
    contain: ['black,black,black,black', 'lime,red,blue,lime', 'black,black,black,black'],
    // 480x240 cropped to the middle 320: no bars, the lime edges (60 px of the 80 cut each side) gone.
    cover: ['red,red,blue,blue', 'red,red,blue,blue', 'red,red,blue,blue'],
    // 320x240 whatever the shape: no bars, every stripe in view.
    stretch: ['lime,red,blue,lime', 'lime,red,blue,lime', 'lime,red,blue,lime'],
  };

  for (const fit of ['contain', 'cover', 'stretch'] as const) {
    it(`fit ${fit}: a still wider than the screen ${fit === 'contain' ? 'keeps bars above and below' : fit === 'cover' ? 'fills it and loses its sides' : 'fills it, squeezed'}`, async () => {
      rig = await startRig(suite.xvfb, { fit, imageSeconds: 0 });
      await rig.show(await stripes(rig.t.dir, 'stripes.png', STRIPES, 100));
      await until(FITS[fit], XS, YS, `the still shown with fit ${fit}`);
    });
  }

  it('fit cover: a video fills the screen the same way', async () => {
    rig = await startRig(suite.xvfb, { fit: 'cover' });
    await rig.show(await stripes(rig.t.dir, 'stripes.mp4', STRIPES, 100, 4));
    await until(FITS.cover, XS, YS, 'the video shown with fit cover');
  });

  it('rotation 90 with fit stretch: a still turned, then filling the whole frame buffer', async () => {
    rig = await startRig(suite.xvfb, { rotation: 90, fit: 'stretch', imageSeconds: 0 });
    await rig.show(await halvesPng(rig.t.dir, 'red-over-blue.png', 'red', 'blue'));
    await until(ROWS.map(() => 'red,red,blue,blue'), [5, 115, 205, 315], ROWS, 'red left, blue right, edge to edge');
  });
});
