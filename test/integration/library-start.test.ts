/**
 * A screen node in `loop` with a library of 50 files kept from before: its
 * first picture does not wait for the whole library, and a second start runs
 * no ffprobe for the files it knows already.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmodSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Cluster } from '../helpers/cluster.js';
import { removeDir, sleep, tempDir, waitFor } from '../helpers/nvid.js';
import { screenColour } from '../helpers/screen.js';
import { startXvfb, type Xvfb } from '../helpers/xvfb.js';

const run = promisify(execFile);
const FILES = 50;

interface Status {
  display: { showing: string | null; library?: { total: number; checked: number; skipped: number; done: boolean } };
  media: { cache: { entries: number; hits: number; misses: number } | null };
}

describe('a screen node starting with a large library', function () {
  this.timeout(180_000);
  let dir: string;
  let screen: Xvfb;
  let cluster: Cluster;
  const plugins = () => ['crypto', 'media', { use: 'display', options: { display: screen.display, policy: 'loop', imageSeconds: 1, audio: false } }];

  before(async () => {
    dir = tempDir();
    screen = await startXvfb('320x240x24');
    cluster = new Cluster(dir);
    await cluster.startCoordinator();
    // 50 distinct red PNGs (a green dot each in its own place), from one ffmpeg run, kept before the node starts.
    const library = join(dir, 'screen', 'state', 'library');
    mkdirSync(library, { recursive: true });
    chmodSync(join(dir, 'screen', 'state'), 0o700);
    const dot = 'lt(abs(X-mod(N\\,64))\\,2)*lt(abs(Y-mod(floor(N/64)\\,48))\\,2)';
    const graph = `color=c=red:s=64x48:r=25,format=rgb24,geq=r='if(${dot}\\,0\\,255)':g='if(${dot}\\,255\\,0)':b=0`;
    await run('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', graph, '-frames:v', String(FILES), join(library, 'item-%03d.png')]);
    assert.equal(readdirSync(library).length, FILES);
  });
  after(async () => {
    await cluster.stop();
    await screen.stop();
    removeDir(dir);
  });

  it('shows the first library file while the rest are still being checked', async () => {
    const node = await cluster.startNode({ name: 'screen', plugins: plugins() });
    let firstShown: Status | undefined;
    await waitFor(
      async () => {
        const status = await node.control<Status>('status');
        if (status.display.showing && status.display.showing !== 'idle') firstShown = status;
        return firstShown;
      },
      'the first library file on screen',
      60_000,
      50,
    );
    const progress = firstShown!.display.library!;
    assert.equal(progress.total, FILES);
    assert.ok(progress.checked < FILES, `the first picture waited for all ${FILES} checks (${JSON.stringify(progress)})`);
    assert.equal(await screenColour(screen.display, screen.width, screen.height), 'red');
    // Then the whole library is checked behind it, each file once.
    const done = await waitFor(async () => {
      const status = await node.control<Status>('status');
      return status.display.library?.done ? status : undefined;
    }, 'the whole library to be checked', 120_000);
    assert.deepEqual(done.display.library, { total: FILES, checked: FILES, skipped: 0, done: true });
    assert.deepEqual(done.media.cache, { entries: FILES, hits: 0, misses: FILES });
    await node.stop();
  });

  it('started again, checks its library from the cache, without one ffprobe run', async () => {
    const node = await cluster.startNode({ name: 'screen', plugins: plugins() });
    const done = await waitFor(async () => {
      const status = await node.control<Status>('status');
      return status.display.library?.done ? status : undefined;
    }, 'the whole library to be checked', 60_000);
    assert.deepEqual(done.media.cache, { entries: FILES, hits: FILES, misses: 0 });
    await waitFor(async () => (await screenColour(screen.display, screen.width, screen.height)) === 'red', 'a library picture on screen', 10_000);
    await sleep(100);
    await node.stop();
  });
});
