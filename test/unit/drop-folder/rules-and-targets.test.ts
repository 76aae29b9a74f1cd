import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isNvidError } from '../../../core/errors.js';
import { FolderWatcher } from '../../../plugins/drop-folder/folder-watcher.js';
import { IgnoreRules, patternToRegExp } from '../../../plugins/drop-folder/ignore-rules.js';
import { resolveFolders } from '../../../plugins/drop-folder/options.js';
import { targetsFor } from '../../../plugins/drop-folder/targets.js';

describe('drop-folder: ignore rules', () => {
  const folder = join('/', 'srv', 'drop');
  const rules = new IgnoreRules(folder, join(folder, '.sent'), ['*.raw', 'draft-??.png']);

  it('keeps ordinary files, in the folder and in subfolders', () => {
    for (const name of ['photo.jpg', join('lobby', 'clip.mp4'), join('lobby', '2024', 'a b.png'), 'tmp.png', 'partial-view.png']) {
      assert.equal(rules.isIgnoredPath(join(folder, name)), false, name);
    }
    assert.equal(rules.isIgnoredPath(folder), false, 'the folder itself is watched');
  });

  it('skips hidden, temporary and partial names, error notes and anything under a hidden folder', () => {
    const skipped = ['.DS_Store', 'photo.jpg.tmp', 'clip.mp4.part', 'x.crdownload', '~$report.png', 'photo.jpg.swp', 'photo.jpg~', 'photo.jpg.nvid-error.txt', 'PHOTO.JPG.PART', join('.hidden', 'photo.jpg'), join('lobby', '.photo.jpg.ab12')];
    for (const name of skipped) assert.equal(rules.isIgnoredPath(join(folder, name)), true, name);
  });

  it('skips the sent folder, also when it is not hidden, and paths outside the folder', () => {
    const custom = new IgnoreRules(folder, join(folder, 'done'));
    assert.equal(custom.isIgnoredPath(join(folder, 'done')), true);
    assert.equal(custom.isIgnoredPath(join(folder, 'done', 'lobby', 'a.png')), true);
    assert.equal(custom.isIgnoredPath(join(folder, 'done-not', 'a.png')), false, 'a sibling with a longer name is not the sent folder');
    assert.equal(custom.isIgnoredPath(join('/', 'srv', 'other', 'a.png')), true);
  });

  it('adds the user patterns with * and ? wildcards, matched against the whole name', () => {
    assert.equal(rules.isIgnoredPath(join(folder, 'scan.raw')), true);
    assert.equal(rules.isIgnoredPath(join(folder, 'draft-01.png')), true);
    assert.equal(rules.isIgnoredPath(join(folder, 'draft-001.png')), false);
    assert.equal(patternToRegExp('a.b(c)*').test('a.b(c)zz'), true);
    assert.equal(patternToRegExp('a.b').test('axb'), false, 'dots are literal');
  });
});

describe('drop-folder: targets', () => {
  it('sends a file at the top to the configured targets', () => {
    assert.deepEqual(targetsFor('photo.jpg', ['lobby', 'kiosk']), ['lobby', 'kiosk']);
  });

  it('sends a file in a subfolder to the peer named by it, overriding the configured targets', () => {
    assert.deepEqual(targetsFor(join('kiosk', 'photo.jpg'), ['lobby']), ['kiosk']);
    assert.deepEqual(targetsFor(join('kiosk', '2024', 'may', 'photo.jpg'), []), ['kiosk']);
  });

  it('refuses a file at the top when no target is configured, with NVID_ERR_DROP_TARGET', () => {
    assert.throws(() => targetsFor('photo.jpg', []), (err: unknown) => isNvidError(err, 'NVID_ERR_DROP_TARGET') && /lobby\/photo\.jpg/.test(err.message));
  });
});

describe('drop-folder: folder options', () => {
  it('resolves relative folders against the config file folder and defaults the sent folder to <folder>/.sent', () => {
    const cwd = join('/', 'etc', 'nvid');
    assert.deepEqual(resolveFolders({ folder: 'drop' }, cwd), { folder: join(cwd, 'drop'), sentFolder: join(cwd, 'drop', '.sent') });
    assert.deepEqual(resolveFolders({ folder: '/data/in', sentFolder: 'out' }, cwd), { folder: '/data/in', sentFolder: join(cwd, 'out') });
    assert.deepEqual(resolveFolders({ folder: '/data/in', sentFolder: '/data/out' }, cwd), { folder: '/data/in', sentFolder: '/data/out' });
  });
});

describe('drop-folder: listing the folder (the rescan behind the watcher)', () => {
  it('lists every file below the folder except ignored names, partial files and the sent folder', () => {
    const folder = mkdtempSync(join(tmpdir(), 'nvid-df-list-'));
    try {
      for (const sub of ['lobby', '.sent/lobby', '.hidden-dir']) mkdirSync(join(folder, sub), { recursive: true });
      for (const file of ['a.png', 'lobby/b.jpg', 'lobby/c.png.part', '.sent/lobby/d.png', '.hidden-dir/e.png', '.f.png', 'g.mp4.tmp', 'a.png.nvid-error.txt']) {
        writeFileSync(join(folder, file), 'x');
      }
      const watcher = new FolderWatcher(folder, new IgnoreRules(folder, join(folder, '.sent')));
      assert.deepEqual(watcher.listFiles().map((p) => p.slice(folder.length + 1)).sort(), ['a.png', 'lobby/b.jpg']);
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });
});
