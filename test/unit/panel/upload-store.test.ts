import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { UploadStore } from '../../../plugins/panel/upload-store.js';

const MIB = 1024 * 1024;

describe('panel: uploads written over the last sent one (the spare)', () => {
  let root: string;
  let store: UploadStore;
  const spare = () => join(store.dir, 'spare');

  beforeEach(async () => {
    root = mkdtempSync(join(tmpdir(), 'nvid-uploads-'));
    store = new UploadStore(join(root, 'uploads'), 64 * MIB);
    await store.open();
  });

  afterEach(async () => {
    await store.close();
    rmSync(root, { recursive: true, force: true });
  });

  /** Announces and fills an upload of `bytes`, as the page does. */
  async function upload(name: string, bytes: Buffer) {
    const announced = await store.announce(name, bytes.length, 'video');
    await store.fill(announced.id, Readable.from([bytes]));
    return announced;
  }

  it('keeps a sent upload as the spare, and the next upload is written over it, cut to its own size', async () => {
    const first = await upload('first.mkv', randomBytes(3 * MIB));
    const inode = statSync(first.path).ino;
    await store.retire(first.id);
    assert.equal(existsSync(join(store.dir, first.id)), false, "the sent upload's folder is gone");
    assert.equal(statSync(spare()).size, 3 * MIB);

    const next = randomBytes(2 * MIB + 5);
    const second = await store.announce('second.mkv', next.length, 'video');
    assert.equal(statSync(second.path).ino, inode, 'the same file, its pages still in the cache');
    assert.equal(statSync(second.path).size, next.length, 'cut to the announced size before the first byte');
    assert.equal(existsSync(spare()), false);
    await store.fill(second.id, Readable.from([next]));
    assert.deepEqual(readFileSync(second.path), next, 'nothing of the older upload is left in it');
  });

  it('grows a smaller spare to a larger upload', async () => {
    await store.retire((await upload('small.mkv', randomBytes(MIB))).id);
    const bytes = randomBytes(2 * MIB + 3);
    const larger = await upload('large.mkv', bytes);
    assert.deepEqual(readFileSync(larger.path), bytes);
  });

  it('ends a streamed upload of unknown size at its own last byte over a longer spare', async () => {
    await store.retire((await upload('long.mkv', randomBytes(3 * MIB))).id);
    const bytes = randomBytes(2 * MIB - 7);
    // The multipart body is a little longer than the file: the file still ends at its own last byte.
    const received = await store.receive('short.jpg', Readable.from([bytes]), bytes.length + 200);
    assert.equal(existsSync(spare()), false, 'taken');
    assert.equal(received.size, bytes.length);
    assert.deepEqual(readFileSync(received.path), bytes);
  });

  it('gives the spare to one upload only when two arrive at once', async () => {
    const first = await upload('first.mkv', randomBytes(2 * MIB));
    const inode = statSync(first.path).ino;
    await store.retire(first.id);
    const [a, b] = await Promise.all([store.announce('a.mkv', MIB, 'video'), store.announce('b.mkv', 3 * MIB, 'video')]);
    assert.equal([a, b].filter((u) => statSync(u.path).ino === inode).length, 1);
    const bytes = { a: randomBytes(MIB), b: randomBytes(3 * MIB) };
    await Promise.all([store.fill(a.id, Readable.from([bytes.a])), store.fill(b.id, Readable.from([bytes.b]))]);
    assert.deepEqual(readFileSync(a.path), bytes.a);
    assert.deepEqual(readFileSync(b.path), bytes.b);
    // Both retired at once: the larger stays.
    await Promise.all([store.retire(a.id), store.retire(b.id)]);
    assert.equal(statSync(spare()).size, 3 * MIB);
    assert.deepEqual(readdirSync(store.dir), ['spare']);
  });

  it('keeps a large spare through small uploads: a photo between two videos does not cut it down', async () => {
    const video = await upload('video.mkv', randomBytes(4 * MIB));
    const inode = statSync(video.path).ino;
    await store.retire(video.id);
    const photo = await upload('photo.jpg', randomBytes(MIB));
    assert.notEqual(statSync(photo.path).ino, inode, 'a new file for the photo');
    assert.equal(statSync(spare()).size, 4 * MIB);
    await store.retire(photo.id);
    assert.equal(statSync(spare()).size, 4 * MIB, 'the larger file stays the spare');
    const unsized = await store.receive('unsized.jpg', Readable.from([randomBytes(3 * MIB)]));
    assert.notEqual(statSync(unsized.path).ino, inode, 'an upload of unknown size does not take it');
    const next = await store.announce('next.mkv', 4 * MIB, 'video');
    assert.equal(statSync(next.path).ino, inode);
  });

  it('lets go of the bytes it held for the send once the upload is done with, whoever still holds it', async () => {
    const sent = await upload('sent.mkv', randomBytes(MIB));
    assert.ok(sent.arrival!.recent(0, 1024), 'held in memory while sends may still read it');
    await store.retire(sent.id);
    assert.equal(sent.arrival!.recent(0, 1024), undefined);
    const deleted = await upload('deleted.mkv', randomBytes(MIB));
    await store.remove(deleted.id);
    assert.equal(deleted.arrival!.recent(0, 1024), undefined);
  });

  it('keeps no spare of an upload a person deleted', async () => {
    const deleted = await upload('private.mkv', randomBytes(MIB));
    await store.remove(deleted.id);
    assert.equal(existsSync(spare()), false);
    assert.equal(existsSync(join(store.dir, deleted.id)), false);
  });

  it('keeps no spare of an upload still being filled: its writer would go on into the next upload', async () => {
    const half = await store.announce('half.mkv', 2 * MIB, 'video');
    const body = new PassThrough();
    const filling = store.fill(half.id, body).catch((err: Error) => err);
    body.write(randomBytes(MIB));
    await new Promise((r) => setTimeout(r, 50));
    await store.retire(half.id);
    assert.equal(existsSync(spare()), false);
    body.end(randomBytes(MIB));
    await filling;
    assert.equal(existsSync(spare()), false);
    const next = await store.announce('next.mkv', MIB, 'video');
    assert.equal(statSync(next.path).size, 0, 'a new, empty file');
  });

  it('removes a spare no upload took in time', async () => {
    await store.close();
    store = new UploadStore(join(root, 'uploads'), 64 * MIB, 0, 100);
    await store.open();
    await store.retire((await upload('idle.mkv', randomBytes(MIB))).id);
    assert.equal(existsSync(spare()), true);
    await new Promise((r) => setTimeout(r, 400));
    assert.equal(existsSync(spare()), false);
    const next = await store.announce('next.mkv', MIB, 'video');
    assert.equal(statSync(next.path).size, 0);
  });
});
