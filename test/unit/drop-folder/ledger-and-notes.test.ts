import assert from 'node:assert/strict';
import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatNote, notePathFor, readNoteCodes, removeNote, writeNote } from '../../../plugins/drop-folder/error-notes.js';
import { DeliveryLedger, type LedgerEntry } from '../../../plugins/drop-folder/ledger.js';
import { moveToSent, suffixedNames } from '../../../plugins/drop-folder/sent-folder.js';
import { removeDir, tempDir } from '../../helpers/nvid.js';

const sha = (c: string) => c.repeat(64);
const entry = (sha256: string, peerId: string, file = 'a.png'): LedgerEntry => ({ sha256, peerId, peerName: 'lobby', file, transferId: 't-1', time: new Date(0).toISOString() });

describe('drop-folder: delivery ledger', () => {
  let dir: string;
  beforeEach(() => (dir = tempDir('nvid-df-ledger-')));
  afterEach(() => removeDir(dir));

  it('remembers content per peer across instances (restarts), owner-only on disk', () => {
    const file = join(dir, 'state', 'drop-folder', 'ledger.jsonl');
    const first = new DeliveryLedger(file);
    assert.equal(existsSync(file), false, 'nothing is written before the first delivery');
    first.record(entry(sha('a'), 'peer-1'));
    first.record(entry(sha('b'), 'peer-2'));
    first.close();
    assert.equal(statSync(file).mode & 0o077, 0);

    const second = new DeliveryLedger(file);
    assert.equal(second.has(sha('a'), 'peer-1'), true);
    assert.equal(second.has(sha('a'), 'peer-2'), false, 'the same content to another peer is still to send');
    assert.equal(second.has(sha('b'), 'peer-2'), true);
    second.record(entry(sha('a'), 'peer-2'));
    second.close();
    assert.equal(readFileSync(file, 'utf8').trim().split('\n').length, 3, 'append-only: one line per delivery');
    assert.deepEqual(new DeliveryLedger(file).size, { entries: 3, skipped: 0 });
  });

  it('skips a torn last line and lines that are not deliveries, keeping the rest', () => {
    const file = join(dir, 'ledger.jsonl');
    writeFileSync(file, `${JSON.stringify(entry(sha('c'), 'peer-1'))}\n{"sha256":"nothex","peerId":"p"}\n`);
    appendFileSync(file, '{"sha256":"ddd');
    const ledger = new DeliveryLedger(file);
    assert.equal(ledger.has(sha('c'), 'peer-1'), true);
    assert.deepEqual(ledger.size, { entries: 1, skipped: 2 });
    ledger.record(entry(sha('e'), 'peer-1'));
    ledger.close();
    const reloaded = new DeliveryLedger(file);
    assert.equal(reloaded.has(sha('e'), 'peer-1'), true, 'a record appended after a torn line starts a line of its own');
    assert.deepEqual(reloaded.size, { entries: 2, skipped: 2 });
  });
});

describe('drop-folder: error notes', () => {
  let dir: string;
  beforeEach(() => (dir = tempDir('nvid-df-notes-')));
  afterEach(() => removeDir(dir));

  it('writes the reason next to the file, replaces it atomically and removes it', () => {
    const file = join(dir, 'photo.jpg');
    writeFileSync(file, 'x');
    const failures = [{ target: 'lobby', code: 'NVID_ERR_UNKNOWN_PEER', message: 'no admitted peer named "lobby"' }];
    const next = new Date(Date.UTC(2030, 0, 1));
    const path = writeNote({ file, failures, time: new Date(Date.UTC(2029, 0, 1)), nextRetry: next, attempts: 2, delivered: ['kiosk'] });
    assert.equal(path, notePathFor(file));
    assert.equal(path, join(dir, 'photo.jpg.nvid-error.txt'));
    const text = readFileSync(path, 'utf8');
    assert.match(text, /^code: NVID_ERR_UNKNOWN_PEER$/m);
    assert.match(text, /^next retry: 2030-01-01T00:00:00.000Z$/m);
    assert.match(text, /^already delivered to: kiosk$/m);

    writeNote({ file, failures: [{ target: 'lobby', code: 'NVID_ERR_MEDIA_REJECTED', message: 'not media\nat all' }], time: new Date(), nextRetry: undefined, attempts: 3, delivered: [] });
    assert.deepEqual(readNoteCodes(file), ['NVID_ERR_MEDIA_REJECTED']);
    assert.deepEqual(readdirSync(dir).sort(), ['photo.jpg', 'photo.jpg.nvid-error.txt'], 'no temporary file left behind');
    removeNote(file);
    removeNote(file);
    assert.deepEqual(readNoteCodes(file), []);
  });

  it('keeps a multi-line message on one line and says when no retry is planned', () => {
    const text = formatNote({ file: '/x/a.png', failures: [{ target: 't', code: 'C', message: 'one\n  two' }], time: new Date(0), nextRetry: undefined, attempts: 1, delivered: [] });
    assert.match(text, /^message: one two$/m);
    assert.match(text, /^next retry: not until the file changes/m);
  });
});

describe('drop-folder: sent folder', () => {
  let dir: string;
  beforeEach(() => (dir = tempDir('nvid-df-sent-')));
  afterEach(() => removeDir(dir));

  it('numbers names after the stem', () => {
    const names = suffixedNames('clip.final.mp4');
    assert.deepEqual([names.next().value, names.next().value, names.next().value], ['clip.final.mp4', 'clip.final-1.mp4', 'clip.final-2.mp4']);
    const bare = suffixedNames('README');
    bare.next();
    assert.equal(bare.next().value, 'README-1');
  });

  it('keeps the subfolders and never overwrites: a suffix instead', () => {
    const drop = join(dir, 'drop');
    const sent = join(drop, '.sent');
    mkdirSync(join(drop, 'lobby'), { recursive: true });
    const rel = join('lobby', 'photo.jpg');
    writeFileSync(join(drop, rel), 'first');
    assert.equal(moveToSent(join(drop, rel), rel, sent), join(sent, 'lobby', 'photo.jpg'));
    writeFileSync(join(drop, rel), 'second');
    assert.equal(moveToSent(join(drop, rel), rel, sent), join(sent, 'lobby', 'photo-1.jpg'));
    assert.equal(existsSync(join(drop, rel)), false);
    assert.equal(readFileSync(join(sent, 'lobby', 'photo.jpg'), 'utf8'), 'first');
    assert.equal(readFileSync(join(sent, 'lobby', 'photo-1.jpg'), 'utf8'), 'second');
  });
});
