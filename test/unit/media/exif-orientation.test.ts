/** Reading a JPEG's EXIF orientation from its first bytes, and shrugging off anything else. */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { jpegOrientation } from '../../../core/media-tools/exif-orientation.js';
import { exifOrientationSegment, solidJpeg, withSegment } from '../../helpers/media-fixtures.js';
import { removeDir, tempDir } from '../../helpers/nvid.js';

describe('media plugin: EXIF orientation of a JPEG', function () {
  this.timeout(30_000);
  let dir: string;
  let jpeg: Buffer;
  before(async () => {
    dir = tempDir();
    // ffmpeg's JPEG starts with a JFIF APP0 segment; the EXIF segment goes after it, as cameras order them.
    jpeg = await readFile(await solidJpeg(dir, 'plain.jpg', 'green'));
  });
  after(() => removeDir(dir));

  it('reads every orientation, in both byte orders', () => {
    for (const order of ['II', 'MM'] as const) {
      for (let value = 1; value <= 8; value++) {
        assert.equal(jpegOrientation(withSegment(jpeg, exifOrientationSegment(value, order))), value, `orientation ${value}, ${order}`);
      }
    }
  });

  it('takes a JPEG without EXIF as stored', () => {
    assert.equal(jpegOrientation(jpeg), 1);
  });

  it('takes an impossible value, a wrong field type or a segment cut short as stored, without throwing', () => {
    assert.equal(jpegOrientation(withSegment(jpeg, exifOrientationSegment(9))), 1);
    assert.equal(jpegOrientation(withSegment(jpeg, exifOrientationSegment(0))), 1);
    const longType = exifOrientationSegment(6);
    longType.writeUInt16LE(4, 4 + 6 + 12); // the entry's type: LONG instead of SHORT
    assert.equal(jpegOrientation(withSegment(jpeg, longType)), 1);
    const whole = withSegment(jpeg, exifOrientationSegment(6));
    for (let cut = 0; cut < 64; cut++) assert.ok([1, 6].includes(jpegOrientation(whole.subarray(0, cut))), `cut at ${cut}`);
    assert.equal(jpegOrientation(whole.subarray(0, 40)), 1, 'an entry cut in half is not read');
  });

  it('only looks at JPEGs, and only before the picture data starts', () => {
    assert.equal(jpegOrientation(Buffer.concat([Buffer.from('\x89PNG\r\n\x1a\n', 'latin1'), exifOrientationSegment(6)])), 1);
    // An EXIF-like segment after the start of scan is picture data, not a header.
    const startOfScan = Buffer.from([0xff, 0xda, 0x00, 0x02]);
    assert.equal(jpegOrientation(Buffer.concat([Buffer.from([0xff, 0xd8]), startOfScan, exifOrientationSegment(6)])), 1);
  });
});
