/** Sanitising file names from the wire. */
import assert from 'node:assert/strict';
import { MAX_FILE_NAME_BYTES, sanitizeFileName } from '../../../plugins/crypto/file-name.js';

describe('crypto file name sanitising', () => {
  const cases: Array<[string, string]> = [
    ['photo.png', 'photo.png'],
    ['../../etc/passwd', '_._etc_passwd'],
    ['..\\..\\windows\\system.ini', '_._windows_system.ini'],
    ['/absolute/path.jpg', '_absolute_path.jpg'],
    ['.hidden.mp4', 'hidden.mp4'],
    ['name..with...dots.png', 'name.with.dots.png'],
    ['tab\there\nnew\u0000line.png', 'tab_here_new_line.png'],
    ['evil\u202egnp.exe', 'evil_gnp.exe'],
    ['  spaced out.png  ', 'spaced out.png'],
    ['trailing dot.', 'trailing dot'],
    ['Café.png'.normalize('NFD'), 'Café.png'.normalize('NFC')],
    ['lone\ud800surrogate.png', 'lone_surrogate.png'],
  ];
  for (const [raw, expected] of cases) {
    it(`turns ${JSON.stringify(raw)} into ${JSON.stringify(expected)}`, () => {
      assert.equal(sanitizeFileName(raw), expected);
    });
  }

  for (const raw of ['', '.', '..', '...', '   ', ' . . ']) {
    it(`refuses ${JSON.stringify(raw)} with NVID_ERR_BAD_FILE_NAME`, () => {
      assert.throws(() => sanitizeFileName(raw), { code: 'NVID_ERR_BAD_FILE_NAME' });
    });
  }

  it('refuses a name that is not a string', () => {
    assert.throws(() => sanitizeFileName(42), { code: 'NVID_ERR_BAD_FILE_NAME' });
  });

  it('shortens long names to the byte limit, keeping the extension and whole characters', () => {
    const long = `${'é'.repeat(300)}.mp4`;
    const name = sanitizeFileName(long);
    assert.ok(Buffer.byteLength(name) <= MAX_FILE_NAME_BYTES);
    assert.ok(name.endsWith('.mp4'));
    assert.ok(!name.includes('\ufffd'));
    assert.equal(name, `${'é'.repeat((MAX_FILE_NAME_BYTES - 4) >> 1)}.mp4`);
  });

  it('never returns a separator, control character or ".." for any byte sequence', () => {
    for (let seed = 0; seed < 2000; seed += 1) {
      let raw = '';
      for (let i = 0; i < 1 + (seed % 40); i += 1) raw += String.fromCharCode((seed * 7919 + i * 104729) % 0x2100);
      let name: string;
      try {
        name = sanitizeFileName(raw);
      } catch (err) {
        assert.equal((err as { code?: string }).code, 'NVID_ERR_BAD_FILE_NAME');
        continue;
      }
      assert.ok(name.length > 0);
      assert.doesNotMatch(name, /[/\\\u0000-\u001f\u007f-\u009f]|\.\.|^\./u, JSON.stringify(raw));
      assert.ok(Buffer.byteLength(name) <= MAX_FILE_NAME_BYTES);
    }
  });
});
