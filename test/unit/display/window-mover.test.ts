/**
 * How a screen moves its players' windows, decided at start: over its own X
 * connection when it can keep one (xdotool not needed), with xdotool where it
 * cannot, and not at all with neither. Against a real Xvfb and real ffplay.
 */
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { findOnPath } from '../../../core/media-tools/binaries.js';
import { FfplayPlayer } from '../../../plugins/display/player.js';
import { WindowMover } from '../../../plugins/display/window-mover.js';
import { useDisplaySuite, windowLeft } from './harness.js';

/** A logger whose lines the test can read. */
function recordingLog(): { log: pino.Logger; lines: string[] } {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  return { log: pino({ level: 'warn' }, sink), lines };
}

describe('display plugin: how a screen moves windows', function () {
  this.timeout(60_000);
  const suite = useDisplaySuite();

  it('moves an off-screen player on screen over its X connection, without xdotool', async () => {
    const { display, width, height } = suite.xvfb;
    const { log, lines } = recordingLog();
    const mover = await WindowMover.create(display, undefined, log);
    assert.ok(mover, 'a screen with an X server can move windows without xdotool');
    const player = FfplayPlayer.spawn(findOnPath('ffplay')!, { input: `color=c=red:s=${width}x${height}`, lavfi: true, audio: false, title: 'nvid-mover', screen: { width, height }, offscreen: true }, display);
    try {
      await player.waitVisible('xwininfo', display, 10_000);
      assert.equal(await windowLeft(display, 'nvid-mover'), width, 'it starts off screen');
      await player.bringOnScreen((windowId) => mover.move(windowId), 0);
      assert.equal(await windowLeft(display, 'nvid-mover'), 0);
      assert.equal(await mover.keepContents(player.windowId!), true, 'the connection also asks for backing store');
    } finally {
      mover.close();
      await player.stop();
    }
    assert.deepEqual(lines, [], 'nothing to warn about');
  });

  it('falls back to xdotool where no X connection opens, and says so; with neither it cannot move windows', async () => {
    const nobody = ':4094';
    const withXdotool = recordingLog();
    const fallback = await WindowMover.create(nobody, findOnPath('xdotool'), withXdotool.log);
    assert.ok(fallback, 'xdotool is the fallback');
    assert.match(withXdotool.lines.join(''), /cannot keep an X connection to move players; moving them with xdotool/);
    assert.equal(await fallback.keepContents('0x1'), false, 'no connection to ask for backing store over');
    // xdotool, run against a display nobody serves, fails: the move was really handed to it.
    await assert.rejects(fallback.move('0x1'), /xdotool windowmove 0x1 0 0[\s\S]*Can't open display/);
    fallback.close();

    const withNeither = recordingLog();
    assert.equal(await WindowMover.create(nobody, undefined, withNeither.log), undefined);
    assert.match(withNeither.lines.join(''), /no X connection and no xdotool/);
  });
});
