/**
 * The media plugin through its `validate` hook, on real files made by ffmpeg
 * at test time and on the bad files it must refuse.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { isNvidError } from '../../../core/errors.js';
import type { MediaInfo } from '../../../core/types.js';
import MediaPlugin from '../../../plugins/media/index.js';
import { colourClip, hugePng, randomBytesFile, sidewaysPhoto, solidJpeg, solidPng, testPatternPng, textAsPng, truncatedMp4 } from '../../helpers/media-fixtures.js';
import { construct, createTestHost, type TestHost } from './test-host.js';

describe('media plugin: validate hook', function () {
  this.timeout(60_000);
  let t: TestHost;

  before(async () => {
    t = await createTestHost('media');
    construct(MediaPlugin, {}).apply(t.host);
    await t.hooks.beforeStart.promise({ role: 'node' });
  });
  after(() => t.dispose());

  const validate = (path: string) => t.hooks.validate.promise({ path, side: 'receive' }) as Promise<MediaInfo>;

  async function rejects(path: string, pattern: RegExp): Promise<string> {
    const err = await validate(path).then(
      () => assert.fail(`${path} was accepted`),
      (e: unknown) => e,
    );
    assert.ok(isNvidError(err, 'NVID_ERR_MEDIA_REJECTED'), `expected NVID_ERR_MEDIA_REJECTED, got ${String(err)}`);
    assert.match(err.message, pattern);
    return err.message;
  }

  it('accepts a PNG as an image with its dimensions', async () => {
    const info = await validate(await testPatternPng(t.dir, 'pattern.png', '320x240'));
    assert.equal(info.kind, 'image');
    assert.equal(info.codec, 'png');
    assert.equal(info.width, 320);
    assert.equal(info.height, 240);
    assert.equal(info.duration, 0);
  });

  it('accepts a JPEG as an image', async () => {
    const info = await validate(await solidJpeg(t.dir, 'blue.jpg', 'blue', '96x64'));
    assert.deepEqual([info.kind, info.codec, info.width, info.height], ['image', 'mjpeg', 96, 64]);
  });

  it('tells how a phone\'s sideways JPEG must be turned (EXIF orientation), and says nothing for one stored upright', async () => {
    const sideways = await validate(await sidewaysPhoto(t.dir, 'portrait.jpg', 'red', 'blue', 6));
    assert.deepEqual([sideways.kind, sideways.width, sideways.height, sideways.orientation], ['image', 160, 120, 6]);
    const upright = await validate(await solidJpeg(t.dir, 'upright.jpg', 'blue'));
    assert.equal('orientation' in upright, false);
  });

  it('decides by content, not by the extension: a PNG named .mp4 is an image', async () => {
    const info = await validate(await solidPng(t.dir, 'really-a-png.mp4', 'red'));
    assert.deepEqual([info.kind, info.codec], ['image', 'png']);
  });

  it('decides by content between image formats too: a PNG named .jpg and a JPEG named .png', async () => {
    const png = await validate(await solidPng(t.dir, 'really-a-png.jpg', 'red'));
    assert.deepEqual([png.kind, png.codec], ['image', 'png']);
    const jpeg = await validate(await solidJpeg(t.dir, 'really-a-jpeg.png', 'blue'));
    assert.deepEqual([jpeg.kind, jpeg.codec], ['image', 'mjpeg']);
  });

  it('accepts an mp4 as a video with its duration and frame count', async () => {
    const info = await validate(await colourClip(t.dir, 'clip.mp4', ['red', 'lime', 'blue', 'white'], 0.5, '160x120'));
    assert.equal(info.kind, 'video');
    assert.equal(info.codec, 'h264');
    assert.deepEqual([info.width, info.height], [160, 120]);
    assert.ok(Math.abs(info.duration - 2) < 0.2, `duration ${info.duration}`);
    assert.ok(info.frames >= 45 && info.frames <= 55, `frames ${info.frames}`);
    assert.equal(info.hasAudio, false);
  });

  it('records each acceptance in the history with its facts', async () => {
    const path = await solidPng(t.dir, 'logged.png', 'green');
    await validate(path);
    const entries = await t.history.read({ kind: 'validated' });
    const entry = entries.find((e) => e.path === path);
    assert.ok(entry, 'no validated entry for the file');
    assert.equal(entry.kind, 'validated');
    assert.equal((entry.media as MediaInfo).codec, 'png');
    assert.equal(entry.side, 'receive');
  });

  it('rejects a text file renamed .png (ffprobe exits 0 on it)', async () => {
    await rejects(await textAsPng(t.dir), /not an image or video/);
  });

  it('rejects a truncated mp4 whose index was cut off', async () => {
    await rejects(await truncatedMp4(t.dir, 'cut.mp4'), /not an image or video: ffprobe cannot read it \(moov atom not found/);
  });

  it('rejects a truncated mp4 whose index survived (faststart)', async () => {
    await rejects(await truncatedMp4(t.dir, 'cut-faststart.mp4', { faststart: true }), /truncated video/);
  });

  it('rejects a folder and a named pipe as not regular files, without waiting for a writer', async () => {
    await rejects(t.dir, /not a regular file/);
    const pipe = join(t.dir, 'pipe.mp4');
    execFileSync('mkfifo', [pipe]);
    await rejects(pipe, /not a regular file/);
  });

  it('rejects random bytes', async () => {
    await rejects(await randomBytesFile(t.dir), /not an image or video/);
  });

  it('rejects a PNG declaring 30000x30000 pixels by the dimension limit', async () => {
    await rejects(await hugePng(t.dir), /30000x30000 exceeds limit 16384x16384/);
  });

  it('rejects a file over the size limit before probing it', async () => {
    const small = await createTestHost('media-small');
    try {
      construct(MediaPlugin, { maxFileBytes: 100 }).apply(small.host);
      const path = await testPatternPng(small.dir, 'big.png', '320x240');
      await assert.rejects(small.hooks.validate.promise({ path, side: 'send' }), (e: unknown) => isNvidError(e, 'NVID_ERR_MEDIA_REJECTED') && /over the limit of 100/.test(e.message));
    } finally {
      await small.dispose();
    }
  });

  it('rejects what its allow-list leaves out', async () => {
    const strict = await createTestHost('media-strict');
    try {
      construct(MediaPlugin, { codecs: ['png'] }).apply(strict.host);
      const path = await solidJpeg(strict.dir, 'x.jpg', 'red');
      await assert.rejects(strict.hooks.validate.promise({ path, side: 'send' }), (e: unknown) => isNvidError(e, 'NVID_ERR_MEDIA_REJECTED') && /codec "mjpeg"/.test(e.message));
    } finally {
      await strict.dispose();
    }
  });
});
