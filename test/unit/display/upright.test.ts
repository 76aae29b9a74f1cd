/**
 * The filter ffplay gets for each EXIF orientation, applied by ffmpeg (the
 * same libavfilter) to a picture whose four corners have four colours, must put
 * the stored picture's first row and first column where the EXIF standard
 * says they belong.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { Orientation } from '../../../core/types.js';
import { ffplayArgs } from '../../../plugins/display/player.js';

const run = promisify(execFile);

/** Stored corners: the first row runs red to green, the first column red to blue; the last corner is yellow. */
const STORED = 'color=c=yellow:s=64x48,drawbox=x=0:y=0:w=32:h=24:color=red:t=fill,drawbox=x=32:y=0:w=32:h=24:color=lime:t=fill,drawbox=x=0:y=24:w=32:h=24:color=blue:t=fill';

/**
 * Where the stored red, green and blue corners must end up on screen, from the
 * standard's words for each value ("the 0th row is the visual right-hand side,
 * the 0th column is the visual top" for 6, and so on).
 */
const EXPECTED: Record<Orientation, { red: string; green: string; blue: string }> = {
  1: { red: 'top-left', green: 'top-right', blue: 'bottom-left' },
  2: { red: 'top-right', green: 'top-left', blue: 'bottom-right' },
  3: { red: 'bottom-right', green: 'bottom-left', blue: 'top-right' },
  4: { red: 'bottom-left', green: 'bottom-right', blue: 'top-left' },
  5: { red: 'top-left', green: 'bottom-left', blue: 'top-right' },
  6: { red: 'top-right', green: 'bottom-right', blue: 'top-left' },
  7: { red: 'bottom-right', green: 'top-right', blue: 'bottom-left' },
  8: { red: 'bottom-left', green: 'top-left', blue: 'bottom-right' },
};

/** The colour name of each corner of an rgb24 frame. */
function corners(frame: Buffer, width: number, height: number): Record<string, string> {
  const at = (x: number, y: number) => {
    const i = (y * width + x) * 3;
    const [r, g, b] = [frame[i]! > 127, frame[i + 1]! > 127, frame[i + 2]! > 127];
    return r && g && !b ? 'yellow' : r ? 'red' : g ? 'green' : b ? 'blue' : 'black';
  };
  const inset = 4;
  return {
    'top-left': at(inset, inset),
    'top-right': at(width - 1 - inset, inset),
    'bottom-left': at(inset, height - 1 - inset),
    'bottom-right': at(width - 1 - inset, height - 1 - inset),
  };
}

describe('display plugin: standing a photo upright by its EXIF orientation', function () {
  this.timeout(60_000);

  it('passes no filter for a picture stored upright', () => {
    assert.ok(!ffplayArgs({ input: '/lib/a.jpg', audio: false, title: 't' }).includes('-vf'));
    assert.ok(!ffplayArgs({ input: '/lib/a.jpg', audio: false, title: 't', orientation: 1 }).includes('-vf'));
  });

  for (const orientation of [1, 2, 3, 4, 5, 6, 7, 8] as const) {
    it(`turns orientation ${orientation} the way the standard defines it`, async () => {
      const args = ffplayArgs({ input: '/lib/a.jpg', audio: false, title: 't', orientation });
      const filter = args.includes('-vf') ? args[args.indexOf('-vf') + 1]! : 'null';
      const turned = orientation >= 5;
      const [width, height] = turned ? [48, 64] : [64, 48];
      const { stdout } = await run('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', STORED, '-frames:v', '1', '-vf', filter, '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'], { encoding: 'buffer', maxBuffer: 1 << 20 });
      assert.equal(stdout.length, width * height * 3, `a ${width}x${height} picture`);
      const seen = corners(stdout, width, height);
      const where = EXPECTED[orientation];
      assert.deepEqual({ red: seen[where.red], green: seen[where.green], blue: seen[where.blue] }, { red: 'red', green: 'green', blue: 'blue' }, JSON.stringify(seen));
    });
  }
});
