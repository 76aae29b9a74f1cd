import assert from 'node:assert/strict';
import { NvidError } from '../../../core/errors.js';
import { MAX_NAME_LENGTH, safeUploadName } from '../../../plugins/panel/safe-name.js';

const refused = (name: string) =>
  assert.throws(() => safeUploadName(name), (err: unknown) => err instanceof NvidError && err.code === 'NVID_ERR_PANEL_UPLOAD', name);

describe('panel: the name an upload is stored under', () => {
  it('keeps a plain media name as it is', () => {
    assert.equal(safeUploadName('holiday.jpg'), 'holiday.jpg');
    assert.equal(safeUploadName('Clip 2024 (final).MP4'), 'Clip 2024 (final).mp4');
  });

  it('keeps only the last segment of a POSIX or Windows path', () => {
    assert.equal(safeUploadName('../../etc/passwd.jpg'), 'passwd.jpg');
    assert.equal(safeUploadName('..\\evil.png'), 'evil.png');
    assert.equal(safeUploadName('C:\\Users\\me\\Pictures\\cat.webp'), 'cat.webp');
    assert.equal(safeUploadName('/absolute/path/movie.mkv'), 'movie.mkv');
  });

  it('drops control characters and characters file systems refuse, and never makes a hidden file', () => {
    assert.equal(safeUploadName('a\u0000b\nc\u007f\u0085d.png'), 'abcd.png');
    assert.equal(safeUploadName('what?<>|:"*.gif'), 'what.gif');
    assert.equal(safeUploadName('.hidden.png'), 'hidden.png');
    assert.equal(safeUploadName('...png'), 'upload.png');
    assert.equal(safeUploadName('.png'), 'upload.png');
    assert.equal(safeUploadName('../.jpg'), 'upload.jpg');
  });

  it('cuts long names to 120 characters, extension kept', () => {
    const name = safeUploadName(`${'x'.repeat(500)}.jpeg`);
    assert.equal(name.length, MAX_NAME_LENGTH);
    assert.ok(name.endsWith('.jpeg'));
  });

  it('refuses names without an allowed media extension', () => {
    for (const name of ['notes.txt', 'script.sh', 'image.jpg.exe', 'noextension', '', '..', 'dir/', 'evil.png/..', 'photo.jpg\u0000.sh']) refused(name);
  });
});
