/**
 * The media plugin's cache of checks: what hits, what misses, what survives a
 * damaged file, and that the plugin really skips ffprobe for a known file.
 */
import assert from 'node:assert/strict';
import { appendFileSync, copyFileSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isNvidError, NvidError } from '../../../core/errors.js';
import { findOnPath } from '../../../core/media-tools/binaries.js';
import type { MediaInfo } from '../../../core/types.js';
import MediaPlugin from '../../../plugins/media/index.js';
import { DEFAULT_MEDIA_POLICY } from '../../../plugins/media/options.js';
import { probeFile } from '../../../plugins/media/probe.js';
import { validateMediaFile } from '../../../plugins/media/validate-file.js';
import { checkWithCache, rulesDigest, VALIDATION_CACHE_FILE, ValidationCache } from '../../../plugins/media/validation-cache.js';
import { solidPng, textAsPng } from '../../helpers/media-fixtures.js';
import { construct, createTestHost, type TestHost } from './test-host.js';

const SETTINGS = { maxEntries: 1000, hashLimitBytes: 16 * 1024 * 1024 };

describe('media plugin: cache of checks', function () {
  this.timeout(60_000);
  let t: TestHost;
  let ffprobe: string;
  let file: string;
  let rules: string;
  /** ffprobe runs made through `check`. */
  let probes: number;

  before(async () => {
    t = await createTestHost('media-cache');
    ffprobe = findOnPath('ffprobe') ?? assert.fail('ffprobe is needed');
    rules = rulesDigest(DEFAULT_MEDIA_POLICY, ffprobe);
  });
  after(() => t.dispose());
  beforeEach(() => {
    probes = 0;
    file = join(t.dir, `cache-${Date.now()}-${Math.random()}.jsonl`);
  });

  const check = (path: string, policy = DEFAULT_MEDIA_POLICY) => () => {
    probes++;
    return validateMediaFile(ffprobe, path, policy, 10_000);
  };
  const fresh = async (settings = SETTINGS) => {
    const cache = new ValidationCache(file, settings);
    await cache.load();
    return cache;
  };

  it('answers a known file from memory and, after a restart, from its file, without ffprobe', async () => {
    const png = await solidPng(t.dir, 'red.png', 'red');
    const cache = await fresh();
    const first = await checkWithCache(cache, png, rules, 'local', check(png));
    assert.equal(first.cached, false);
    const again = await checkWithCache(cache, png, rules, 'local', check(png));
    assert.deepEqual(again, { media: first.media, cached: true });
    await cache.flush();
    const restarted = await fresh();
    const third = await checkWithCache(restarted, png, rules, 'foreign', check(png));
    assert.deepEqual(third, { media: first.media, cached: true });
    assert.equal(probes, 1);
    assert.deepEqual([restarted.hits, restarted.misses], [1, 0]);
  });

  it('misses once the content changes, even with the same name, size and mtime', async () => {
    const png = await solidPng(t.dir, 'changing.png', 'red');
    const cache = await fresh();
    const red = await checkWithCache(cache, png, rules, 'local', check(png));
    const before = readFileSync(png);
    const other = readFileSync(await solidPng(t.dir, 'other.png', 'blue'));
    assert.equal(other.length, before.length, 'the two PNGs should weigh the same for this test');
    writeFileSync(png, other);
    utimesSync(png, new Date(1_000_000), new Date(1_000_000));
    const blue = await checkWithCache(cache, png, rules, 'local', check(png));
    assert.equal(blue.cached, false);
    assert.equal(probes, 2);
    assert.equal(red.cached, false);
  });

  it('misses when the rules change, and the rules digest ignores the order of lists', async () => {
    const png = await solidPng(t.dir, 'wide.png', 'lime', '320x240');
    const cache = await fresh();
    await checkWithCache(cache, png, rules, 'local', check(png));
    const tight = { ...DEFAULT_MEDIA_POLICY, maxWidth: 100 };
    const tightRules = rulesDigest(tight, ffprobe);
    assert.notEqual(tightRules, rules);
    await assert.rejects(checkWithCache(cache, png, tightRules, 'local', check(png, tight)), (e: unknown) => isNvidError(e, 'NVID_ERR_MEDIA_REJECTED'));
    assert.equal(probes, 2);
    assert.equal(rulesDigest({ ...DEFAULT_MEDIA_POLICY, codecs: [...DEFAULT_MEDIA_POLICY.codecs].reverse() }, ffprobe), rules);
    assert.notEqual(rulesDigest(DEFAULT_MEDIA_POLICY, '/another/ffprobe'), rules);
  });

  it('remembers a refused file as refused, with its reason, but not a failed ffprobe run', async () => {
    const text = await textAsPng(t.dir);
    const cache = await fresh();
    const first = await checkWithCache(cache, text, rules, 'foreign', check(text)).then(() => assert.fail('accepted'), (e: unknown) => e as NvidError);
    const second = await checkWithCache(cache, text, rules, 'foreign', check(text)).then(() => assert.fail('accepted'), (e: unknown) => e as NvidError);
    assert.equal(probes, 1);
    assert.equal(second.code, 'NVID_ERR_MEDIA_REJECTED');
    assert.equal(second.message, first.message);

    const png = await solidPng(t.dir, 'flaky.png', 'yellow');
    let runs = 0;
    const flaky = async (): Promise<MediaInfo> => {
      runs++;
      throw new NvidError('NVID_ERR_PROBE_FAILED', 'ffprobe timed out');
    };
    for (let i = 0; i < 2; i++) await assert.rejects(checkWithCache(cache, png, rules, 'local', flaky), /timed out/);
    assert.equal(runs, 2, 'a failed ffprobe run is the tool, not the file: asked again');
  });

  it('does not remember the verdict on a file removed or changed while it was checked', async () => {
    const cache = await fresh();
    // An upload whose send was cancelled while ffprobe read it: the file goes, and ffprobe finds nothing.
    const upload = await solidPng(t.dir, 'going.png', 'navy');
    const kept = join(t.dir, 'kept.png');
    copyFileSync(upload, kept);
    const removedMidway = async (): Promise<MediaInfo> => {
      probes++;
      rmSync(upload);
      // What the check's ffprobe run then says, word for word.
      await probeFile(ffprobe, upload, 10_000);
      return assert.fail('ffprobe read a removed file');
    };
    await assert.rejects(checkWithCache(cache, upload, rules, 'foreign', removedMidway), (e: unknown) => isNvidError(e, 'NVID_ERR_MEDIA_REJECTED') && /No such file/.test(e.message));
    // The same content, sent again from another copy, is checked afresh and passes.
    const again = await checkWithCache(cache, kept, rules, 'foreign', check(kept));
    assert.equal(again.cached, false);
    assert.equal(again.media.kind, 'image');

    // A file rewritten while it was checked: what was checked is not what the key was made from.
    const rewritten = await solidPng(t.dir, 'rewritten.png', 'teal');
    const changedMidway = async (): Promise<MediaInfo> => {
      const media = await validateMediaFile(ffprobe, rewritten, DEFAULT_MEDIA_POLICY, 10_000);
      writeFileSync(rewritten, 'not a picture any more');
      return media;
    };
    await checkWithCache(cache, rewritten, rules, 'local', changedMidway);
    assert.equal(cache.size, 1, 'only the check of the unchanged copy is remembered');
    assert.equal(probes, 2);
  });

  it('skips unreadable lines of a damaged file, keeps the rest, and writes it clean again', async () => {
    const png = await solidPng(t.dir, 'kept.png', 'cyan');
    const cache = await fresh();
    await checkWithCache(cache, png, rules, 'local', check(png));
    await cache.flush();
    appendFileSync(file, 'not json at all\n{"k":"x","v":{"ok":"maybe"}}\n{"k":"sha256:trunc');
    const reloaded = await fresh();
    assert.equal(reloaded.skipped, 3);
    assert.equal(reloaded.size, 1);
    assert.equal((await checkWithCache(reloaded, png, rules, 'local', check(png))).cached, true);
    await reloaded.flush();
    const lines = readFileSync(file, 'utf8').trim().split('\n');
    assert.equal(lines.length, 1, 'rewritten with the good line only');
    assert.equal(probes, 1);
  });

  it('keeps at most maxEntries results, the newest, and a bounded file', async () => {
    const cache = await fresh({ maxEntries: 3, hashLimitBytes: SETTINGS.hashLimitBytes });
    const media: MediaInfo = { kind: 'image', container: 'png_pipe', codec: 'png', width: 1, height: 1, duration: 0, frames: 1, hasAudio: false, size: 1 };
    for (let i = 0; i < 10; i++) cache.put(`k${i}`, { ok: true, media });
    await cache.flush();
    assert.equal(cache.size, 3);
    assert.ok(readFileSync(file, 'utf8').trim().split('\n').length <= 6);
    const reloaded = await fresh({ maxEntries: 3, hashLimitBytes: SETTINGS.hashLimitBytes });
    assert.ok(reloaded.get('k9'));
    assert.equal(reloaded.get('k0'), undefined);
  });

  it('knows a file over hashLimitBytes by its inode, size and times on this node, and not at all from elsewhere', async () => {
    const png = await solidPng(t.dir, 'big.png', 'magenta');
    const cache = await fresh({ maxEntries: 100, hashLimitBytes: 10 });
    assert.equal(await cache.keyOf(png, rules, 'foreign'), undefined);
    const key = await cache.keyOf(png, rules, 'local');
    assert.match(key ?? '', /^file:/);
    assert.equal((await checkWithCache(cache, png, rules, 'local', check(png))).cached, false);
    assert.equal((await checkWithCache(cache, png, rules, 'local', check(png))).cached, true);
    // Copied over in place: same inode and size, but ctime moves (no user can set it back).
    copyFileSync(png, png);
    utimesSync(png, new Date(0), new Date(0));
    assert.notEqual(await cache.keyOf(png, rules, 'local'), key);
    assert.equal((await checkWithCache(cache, png, rules, 'local', check(png))).cached, false);
    assert.equal(probes, 2);
  });

  it('the plugin checks a file once: the second validate is a cache hit, and off when disabled', async () => {
    const png = await solidPng(t.dir, 'hooked.png', 'white');
    const status = async (h: TestHost) => ((h.hooks.status.call({} as never)) as unknown as { media: { cache: { hits: number; misses: number } | null } }).media.cache;
    const on = await createTestHost('media-cache-on');
    const off = await createTestHost('media-cache-off');
    try {
      construct(MediaPlugin, {}).apply(on.host);
      construct(MediaPlugin, { cache: { enabled: false } }).apply(off.host);
      for (const h of [on, off]) await h.hooks.beforeStart.promise({ role: 'node' });
      for (let i = 0; i < 2; i++) for (const h of [on, off]) await h.hooks.validate.promise({ path: png, side: 'receive' });
      assert.deepEqual(await status(on), { entries: 1, hits: 1, misses: 1 });
      assert.equal(await status(off), null);
      await on.hooks.stop.promise({ role: 'node' });
      assert.equal(readFileSync(join(on.dir, 'state', VALIDATION_CACHE_FILE), 'utf8').trim().split('\n').length, 1);
    } finally {
      await on.dispose();
      await off.dispose();
    }
  });
});
