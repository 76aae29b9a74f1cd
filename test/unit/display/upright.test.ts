/**
 * The filter ffplay gets for each EXIF orientation, applied by ffmpeg (the
 * same libavfilter) to a picture whose four corners have four colours, must put
 * the stored picture's first row and first column where the EXIF standard
 * says they belong.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { ffplayArgs } from '../../../plugins/display/player.js';
import { corners, STORED, UPRIGHT_CORNERS } from './exif-corners.js';

const run = promisify(execFile);

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
      const where = UPRIGHT_CORNERS[orientation];
      assert.deepEqual({ red: seen[where.red], green: seen[where.green], blue: seen[where.blue] }, { red: 'red', green: 'green', blue: 'blue' }, JSON.stringify(seen));
    });
  }
});
