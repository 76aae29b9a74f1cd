import assert from 'node:assert/strict';
import { appendFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { backoffDelay, RetryScheduler } from '../../../plugins/drop-folder/retry-scheduler.js';
import { SendProgress } from '../../../plugins/drop-folder/send-progress.js';
import { snapshotOf, waitUntilStable } from '../../../plugins/drop-folder/stability.js';
import { removeDir, sleep, tempDir } from '../../helpers/nvid.js';

describe('drop-folder: stability check', () => {
  let dir: string;
  beforeEach(() => (dir = tempDir('nvid-df-stable-')));
  afterEach(() => removeDir(dir));

  it('waits while a file keeps growing and resolves with its final size', async () => {
    const file = join(dir, 'slow.bin');
    writeFileSync(file, Buffer.alloc(1000));
    let writing = true;
    const writer = (async () => {
      for (let i = 0; i < 8; i++) {
        await sleep(60);
        appendFileSync(file, Buffer.alloc(1000));
      }
      writing = false;
    })();
    const snapshot = await waitUntilStable(file, { stableMs: 250, pollMs: 20 });
    assert.equal(writing, false, 'not stable while the writer was still appending');
    assert.equal(snapshot?.size, 9000);
    await writer;
  });

  it('notices a rewrite of the same size by its mtime', async () => {
    const file = join(dir, 'same-size.bin');
    writeFileSync(file, 'aaaa');
    const started = Date.now();
    const rewrite = sleep(120).then(() => writeFileSync(file, 'bbbb'));
    const snapshot = await waitUntilStable(file, { stableMs: 250, pollMs: 20 });
    await rewrite;
    assert.ok(Date.now() - started >= 120 + 250, 'the clock restarted at the rewrite');
    assert.deepEqual(snapshot, await snapshotOf(file));
  });

  it('resolves undefined when the file goes away, and rejects when aborted', async () => {
    const file = join(dir, 'gone.bin');
    writeFileSync(file, 'x');
    const waiting = waitUntilStable(file, { stableMs: 1000, pollMs: 20 });
    await sleep(50);
    rmSync(file);
    assert.equal(await waiting, undefined);
    assert.equal(await waitUntilStable(join(dir, 'never-there'), { stableMs: 10, pollMs: 10 }), undefined);

    writeFileSync(file, 'x');
    const abort = new AbortController();
    const aborted = waitUntilStable(file, { stableMs: 1000, pollMs: 20, signal: abort.signal });
    abort.abort();
    await assert.rejects(aborted);
  });
});

describe('drop-folder: retry backoff', () => {
  const options = { initialMs: 100, maxMs: 1000, factor: 2 };

  it('doubles from the initial wait up to the maximum', () => {
    assert.deepEqual([1, 2, 3, 4, 5, 50, 5000].map((n) => backoffDelay(n, options)), [100, 200, 400, 800, 1000, 1000, 1000]);
    assert.equal(backoffDelay(3, { initialMs: 100, maxMs: 1000, factor: 1 }), 100);
  });

  it('fires each key once when due, can fire now, cancel and close', async () => {
    const fired: string[] = [];
    const scheduler = new RetryScheduler<string>({ initialMs: 40, maxMs: 1000, factor: 2 }, (key) => fired.push(key));
    const due = scheduler.schedule('a', 1);
    assert.ok(Math.abs(due - (Date.now() + 40)) < 20);
    scheduler.schedule('b', 3); // 160 ms
    scheduler.schedule('c', 1);
    scheduler.cancel('c');
    assert.equal(scheduler.fireNow('b'), true);
    assert.equal(scheduler.fireNow('b'), false, 'fired already');
    assert.equal(scheduler.dueAt('a'), due);
    await sleep(120);
    assert.deepEqual(fired, ['b', 'a']);
    scheduler.schedule('d', 1);
    scheduler.close();
    scheduler.schedule('e', 1);
    await sleep(80);
    assert.deepEqual(fired, ['b', 'a'], 'nothing fires after close');
    assert.equal(scheduler.scheduled, 0);
  });
});

describe('drop-folder: send progress per file', () => {
  it('follows the send that carries a file, ignores a stale one, and forgets it when done', () => {
    const progress = new SendProgress();
    const start = (transferId: string) => ({ transferId, file: '/drop/a.png', to: { id: 'ab'.repeat(32), name: 'lobby' }, size: 300, total: 400, media: {} as never });
    const report = (transferId: string, bytes: number) => ({ transferId, to: { id: 'ab'.repeat(32), name: 'lobby' }, bytes, total: 400, rate: 100, secondsLeft: (400 - bytes) / 100 });
    assert.equal(progress.of('/drop/a.png'), undefined, 'not started yet');
    progress.started('/drop/a.png', start('t-1'));
    assert.deepEqual(progress.of('/drop/a.png'), { transferId: 't-1', peer: 'lobby', bytes: 0, total: 400, percent: 0, rate: 0, secondsLeft: null });
    progress.update('/drop/a.png', report('t-1', 100));
    progress.update('/drop/b.png', report('t-1', 300));
    assert.deepEqual(progress.of('/drop/a.png'), { transferId: 't-1', peer: 'lobby', bytes: 100, total: 400, percent: 25, rate: 100, secondsLeft: 3 });
    progress.started('/drop/a.png', start('t-3'));
    progress.update('/drop/a.png', report('t-1', 200));
    assert.equal(progress.of('/drop/a.png')?.bytes, 0, 'a retry is a new transfer: the old one no longer counts');
    progress.update('/drop/a.png', report('t-3', 400));
    assert.equal(progress.of('/drop/a.png')?.percent, 100);
    progress.finished('/drop/a.png');
    assert.equal(progress.of('/drop/a.png'), undefined);
  });
});
