/**
 * The X connection a screen keeps to move players on screen at the
 * hand-over, without starting a program each time: against real Xvfb
 * servers, one open to all on its local socket and one that checks cookies.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { isNvidError } from '../../../core/errors.js';
import { findOnPath } from '../../../core/media-tools/binaries.js';
import { FfplayPlayer } from '../../../plugins/display/player.js';
import { XConnection, displayAddress, findCookie } from '../../../plugins/display/x-connection.js';
import { screenColour } from '../../helpers/screen.js';
import { startXvfb, type Xvfb } from '../../helpers/xvfb.js';
import { useDisplaySuite, windowLeft } from './harness.js';

/** An Xauthority file's bytes: one entry per [family, address, display number, cookie]. */
function xauthority(entries: ReadonlyArray<readonly [number, string, string, Buffer]>): Buffer {
  const field = (bytes: Buffer) => {
    const length = Buffer.alloc(2);
    length.writeUInt16BE(bytes.length);
    return Buffer.concat([length, bytes]);
  };
  return Buffer.concat(
    entries.flatMap(([family, address, number, cookie]) => {
      const head = Buffer.alloc(2);
      head.writeUInt16BE(family);
      return [head, field(Buffer.from(address)), field(Buffer.from(number)), field(Buffer.from('MIT-MAGIC-COOKIE-1')), field(cookie)];
    }),
  );
}

/** An off-screen player window, as the screen prepares one. */
async function offScreenPlayer(xvfb: Xvfb, title: string): Promise<FfplayPlayer> {
  const { display, width, height } = xvfb;
  const player = FfplayPlayer.spawn(findOnPath('ffplay')!, { input: `color=c=red:s=${width}x${height}`, lavfi: true, audio: false, title, screen: { width, height }, offscreen: true }, display);
  await player.waitVisible('xwininfo', display, 10_000);
  assert.equal(await windowLeft(display, title), width, 'it starts off screen');
  return player;
}

describe('display plugin: the X connection that moves players', function () {
  this.timeout(60_000);
  const suite = useDisplaySuite();

  it('moves an off-screen window on screen, and says which window the server refused', async () => {
    const player = await offScreenPlayer(suite.xvfb, 'nvid-x-move');
    const x = await XConnection.open(suite.xvfb.display);
    try {
      await assert.rejects(x.moveWindow('0x1fffffe', 0, 0), (err) => isNvidError(err, 'NVID_ERR_PLAYER') && /window 0x1fffffe: BadWindow/.test((err as Error).message));
      await player.bringOnScreen((windowId) => x.moveWindow(windowId, 0, 0), 0);
      assert.equal(await windowLeft(suite.xvfb.display, 'nvid-x-move'), 0, 'on screen once the move resolved: the round trip waits for the server');
      assert.equal(x.open, true, 'a refused request does not end the connection');
    } finally {
      x.close();
      await player.stop();
    }
    assert.equal(x.open, false);
    await assert.rejects(x.moveWindow(1, 0, 0), (err) => isNvidError(err, 'NVID_ERR_DISPLAY_UNAVAILABLE'), 'a closed connection says so');
  });

  it('keeps a frozen player\'s picture, so it shows the moment the window moves in', async () => {
    const { display, width, height } = suite.xvfb;
    const x = await XConnection.open(display);
    try {
      for (const keep of [false, true]) {
        const player = await offScreenPlayer(suite.xvfb, `nvid-x-keep-${keep}`);
        try {
          if (keep) {
            await x.keepContents(player.windowId!);
            await player.printed(2, 250);
          }
          player.pause(); // as a video prepared ahead waits: a stopped process cannot repaint
          await x.moveWindow(player.windowId!, 0, 0);
          await sleep(150);
          assert.equal(await screenColour(display, width, height), keep ? 'red' : 'black', keep ? 'the server drew the kept picture' : 'without it, the window waits for its stopped client (this is what the test is for)');
        } finally {
          await player.stop();
        }
      }
    } finally {
      x.close();
    }
  });

  it('opens a server that checks cookies with the one in XAUTHORITY, and reports a refusal in the server’s words', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nvid-xauth-'));
    const cookie = randomBytes(16);
    const serverAuth = join(dir, 'server');
    writeFileSync(serverAuth, xauthority([[256, hostname(), '0', cookie]]));
    const saved = process.env.XAUTHORITY;
    const xvfb = await startXvfb('64x48x24', 10_000, ['-auth', serverAuth]);
    try {
      const number = displayAddress(xvfb.display).number;
      const right = join(dir, 'right');
      writeFileSync(right, xauthority([[256, 'another-host', number, randomBytes(16)], [256, hostname(), number, cookie]]));
      const wrong = join(dir, 'wrong');
      writeFileSync(wrong, xauthority([[256, hostname(), number, randomBytes(16)]]));
      process.env.XAUTHORITY = right;
      const x = await XConnection.open(xvfb.display);
      await assert.rejects(x.moveWindow(0x1fffffe, 0, 0), /BadWindow/, 'the connection is in use');
      x.close();
      process.env.XAUTHORITY = wrong;
      await assert.rejects(XConnection.open(xvfb.display), (err) => isNvidError(err, 'NVID_ERR_DISPLAY_UNAVAILABLE') && new RegExp(`X display "${xvfb.display}": refused: .+`).test((err as Error).message));
    } finally {
      if (saved === undefined) delete process.env.XAUTHORITY;
      else process.env.XAUTHORITY = saved;
      await xvfb.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('names a display nobody serves, and reads display names and Xauthority entries as X clients do', async () => {
    await assert.rejects(XConnection.open(':4093'), (err) => isNvidError(err, 'NVID_ERR_DISPLAY_UNAVAILABLE') && /X display ":4093"/.test((err as Error).message));
    assert.deepEqual(displayAddress(':0'), { path: '/tmp/.X11-unix/X0', number: '0' });
    assert.deepEqual(displayAddress('unix:12.0'), { path: '/tmp/.X11-unix/X12', number: '12' });
    assert.deepEqual(displayAddress('screens.example:10.0'), { host: 'screens.example', port: 6010, number: '10' });
    assert.throws(() => displayAddress('nonsense'), (err) => isNvidError(err, 'NVID_ERR_DISPLAY_UNAVAILABLE'));
    const mine = randomBytes(16);
    const file = xauthority([
      [256, 'other', '7', randomBytes(16)],
      [256, 'here', '3', randomBytes(16)],
      [256, 'here', '7', mine],
    ]);
    assert.deepEqual(findCookie(file, '7', true, 'here'), mine, "this host's cookie for this display");
    assert.equal(findCookie(file, '9', true, 'here'), undefined);
    assert.equal(findCookie(file.subarray(0, file.length - 5), '7', true, 'here'), undefined, 'a torn file gives no cookie');
  });
});
