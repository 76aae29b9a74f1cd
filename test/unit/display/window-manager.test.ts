/**
 * The display under a window manager (openbox), as on a desktop or a kiosk
 * session, not only on a bare X server: a new player still opens off screen,
 * where the window manager leaves it, and the hand-over between items stays
 * gapless.
 */
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';
import { FfplayPlayer } from '../../../plugins/display/player.js';
import { XConnection } from '../../../plugins/display/x-connection.js';
import { findOnPath } from '../../../core/media-tools/binaries.js';
import { colourClip, solidPng } from '../../helpers/media-fixtures.js';
import { waitFor } from '../../helpers/nvid.js';
import { ScreenSampler } from '../../helpers/screen.js';
import { assertNoGap, colourSequence, startRig, useDisplaySuite, windowLeft } from './harness.js';

const run = promisify(execFile);

/** Whether a window manager has claimed the screen (EWMH: it sets _NET_SUPPORTING_WM_CHECK on the root window). */
async function managed(display: string): Promise<boolean> {
  const { stdout } = await run('xprop', ['-display', display, '-root', '_NET_SUPPORTING_WM_CHECK']);
  return /window id/.test(stdout);
}

describe('display plugin: under a window manager', function () {
  this.timeout(90_000);
  const suite = useDisplaySuite();
  let wm: ChildProcess;
  before(async () => {
    const openbox = findOnPath('openbox');
    if (!openbox) throw new Error('openbox is not installed: apt-get install openbox (scripts/bootstrap.sh does when run as root)');
    wm = spawn(openbox, [], { env: { ...process.env, DISPLAY: suite.xvfb.display }, stdio: 'ignore' });
    await waitFor(() => managed(suite.xvfb.display), 'openbox to manage the screen', 10_000, 100);
  });
  after(() => {
    wm?.kill();
  });

  it('leaves a new player off screen, where nvid opens it, until it has drawn', async () => {
    const { display, width, height } = suite.xvfb;
    const title = 'nvid-wm-test';
    const player = FfplayPlayer.spawn(findOnPath('ffplay')!, { input: `color=c=red:s=${width}x${height}`, lavfi: true, audio: false, title, screen: { width, height }, offscreen: true }, display);
    try {
      await player.waitVisible('xwininfo', display, 10_000);
      assert.equal(await windowLeft(display, title), width, 'the window manager pulled the new window on screen before it had drawn');
      // Moved over an X connection, as the screen moves it: the window manager gets the request and does it.
      const x = await XConnection.open(display);
      try {
        await player.bringOnScreen((windowId) => x.moveWindow(windowId, 0, 0));
        await waitFor(async () => (await windowLeft(display, title)) === 0, 'the window manager to move the player on screen', 5000, 20);
      } finally {
        x.close();
      }
    } finally {
      await player.stop();
    }
  });

  it('goes from picture to video to picture without a black frame', async () => {
    const rig = await startRig(suite.xvfb, { policy: 'queue', imageSeconds: 1.2 });
    const sampler = new ScreenSampler(suite.xvfb.display, suite.xvfb.width, suite.xvfb.height, 20);
    try {
      await sampler.ready();
      const files = [await solidPng(rig.t.dir, 'red.png', 'red'), await colourClip(rig.t.dir, 'lime-blue.mp4', ['lime', 'blue'], 0.8), await solidPng(rig.t.dir, 'yellow.png', 'yellow')];
      for (const file of files) await rig.show(file);
      const yellow = await sampler.waitFor((s) => s.name === 'yellow', 20_000);
      const idle = await sampler.waitFor((s) => s.t > yellow.t && s.black, 10_000);
      await sampler.waitFor((s) => s.t > idle.t + 300, 5000);
      const seen = colourSequence(sampler.runs());
      assert.deepEqual(seen.slice(seen.indexOf('red')), ['red', 'lime', 'blue', 'yellow', 'black'], `saw ${seen.join(' → ')}`);
      assertNoGap(sampler.samples, ['red', 'lime', 'blue', 'yellow']);
    } finally {
      await sampler.stop();
    }
  });
});
