/** Finding ffmpeg, ffprobe and ffplay, and saying what to install when one is missing. */
import assert from 'node:assert/strict';
import { isNvidError } from '../../../core/errors.js';
import MediaPlugin from '../../../plugins/media/index.js';
import { findOnPath, resolveBinary } from '../../../core/media-tools/binaries.js';
import { construct, createTestHost } from './test-host.js';

describe('media plugin: finding the binaries', () => {
  it('finds Debian’s ffprobe on PATH', async () => {
    const found = await resolveBinary('ffprobe', undefined, 'media.options.ffprobe');
    assert.equal(found.source, 'PATH');
    assert.match(found.path, /\/ffprobe$/);
  });

  it('takes a configured path first, and refuses one that is not executable instead of falling back', async () => {
    const ffprobe = findOnPath('ffprobe')!;
    assert.deepEqual(await resolveBinary('ffprobe', ffprobe, 'k'), { name: 'ffprobe', path: ffprobe, source: 'options' });
    await assert.rejects(resolveBinary('ffprobe', '/nonexistent/ffprobe', 'media.options.ffprobe'), (e: unknown) => isNvidError(e, 'NVID_ERR_BINARY_MISSING') && /media\.options\.ffprobe is "\/nonexistent\/ffprobe"/.test(e.message) && /apt-get install ffmpeg/.test(e.message));
  });

  it('says what to install when nothing provides the binary', async () => {
    const saved = process.env.PATH;
    process.env.PATH = '/nonexistent';
    try {
      await assert.rejects(resolveBinary('ffplay', undefined, 'display.options.ffplay'), (e: unknown) => isNvidError(e, 'NVID_ERR_BINARY_MISSING') && /ffplay was not found: install it with "apt-get install ffmpeg"/.test(e.message));
    } finally {
      process.env.PATH = saved;
    }
  });

  it('fails the node at beforeStart when ffprobe is missing', async () => {
    const t = await createTestHost('media-missing');
    try {
      construct(MediaPlugin, { ffprobe: '/nonexistent/ffprobe' }).apply(t.host);
      await assert.rejects(t.hooks.beforeStart.promise({ role: 'node' }), (e: unknown) => isNvidError(e, 'NVID_ERR_BINARY_MISSING'));
    } finally {
      await t.dispose();
    }
  });
});
