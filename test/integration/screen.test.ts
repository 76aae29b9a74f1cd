import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Cluster } from '../helpers/cluster.js';
import { hugePng, randomBytesFile, sidewaysPhoto, solidPng, textAsPng, truncatedMp4 } from '../helpers/media-fixtures.js';
import { REPO_ROOT, removeDir, sleep, tempDir, waitFor } from '../helpers/nvid.js';
import { columnColours, screenColour } from '../helpers/screen.js';
import { startXvfb, type Xvfb } from '../helpers/xvfb.js';

const TRUSTS_ANYTHING = join(REPO_ROOT, 'test', 'fixtures', 'plugins', 'trusts-anything.js');

describe('a screen node, as its viewers see it', function () {
  this.timeout(120_000);
  let dir: string;
  let screen: Xvfb;
  let cluster: Cluster;
  before(async () => {
    dir = tempDir();
    screen = await startXvfb('320x240x24');
    cluster = new Cluster(dir);
    await cluster.startCoordinator();
    await cluster.startNode({ name: 'lobby', plugins: ['crypto', 'media', { use: 'display', options: { display: screen.display, policy: 'replace', imageSeconds: 0, audio: false } }] });
    // The laptop skips its own checks, so the lobby alone has to refuse what is not media.
    await cluster.startNode({ name: 'laptop', plugins: [TRUSTS_ANYTHING, 'crypto', 'media', { use: 'display', options: { output: 'headless' } }] });
    await cluster.waitForPeers('laptop', ['lobby']);
  });
  after(async () => {
    await cluster.stop();
    await screen.stop();
    removeDir(dir);
  });

  const colour = () => screenColour(screen.display, screen.width, screen.height);

  it('shows a sent picture within a few seconds, and a screenshot of it has its colours', async () => {
    assert.equal(await colour(), 'black', 'the idle screen is black');
    const picture = await solidPng(dir, 'red.png', 'red', '320x240');
    const sent = await cluster.node('laptop').cli(['send', picture, '--to', 'lobby']);
    assert.equal(sent.code, 0, sent.stderr);
    await waitFor(async () => (await colour()) === 'red', 'the lobby screen to turn red', 10_000, 100);
    const shot = join(dir, 'lobby-now.png');
    const result = await cluster.node('lobby').cli(['screenshot', '--out', shot]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /screenshot saved to .*lobby-now\.png/);
  });

  for (const [label, make, reason] of [
    ['a text file renamed .png', (d: string) => textAsPng(d), /not an image or video|no video stream|invalid/i],
    ['a truncated mp4', (d: string) => truncatedMp4(d), /truncated|moov atom not found|invalid/i],
    ['random bytes', (d: string) => randomBytesFile(d), /not an image or video|no video stream|invalid|unknown/i],
    ['a PNG declaring 30000x30000 pixels', (d: string) => hugePng(d), /30000x30000 exceeds/],
  ] as const) {
    it(`refuses ${label} with a clear reason, keeps nothing and shows nothing new`, async () => {
      const file = await make(dir);
      const sent = await cluster.node('laptop').cli(['send', file, '--to', 'lobby']);
      assert.equal(sent.code, 5, `${sent.stdout}${sent.stderr}`);
      assert.match(sent.stderr, /NVID_ERR_REFUSED/);
      assert.match(sent.stderr, reason);
      const lobby = cluster.node('lobby');
      const rejected = await lobby.control<Array<{ stage: string; code: string; reason: string }>>('history', { kind: 'rejected', limit: 1 });
      assert.equal(rejected[0]!.stage, 'validate');
      assert.equal(rejected[0]!.code, 'NVID_ERR_MEDIA_REJECTED');
      assert.deepEqual(readdirSync(join(lobby.stateDir, 'incoming')), [], 'no temporary file left');
      assert.deepEqual(readdirSync(join(lobby.stateDir, 'library')), ['red.png'], 'nothing kept');
      await sleep(300);
      assert.equal(await colour(), 'red', 'the screen still shows the last good picture');
    });
  }

  it('stands a phone\'s portrait photo upright: stored sideways with an EXIF orientation, it shows tall, not on its side', async () => {
    // The sensor's picture: red above blue. Orientation 6 turns it a quarter clockwise: blue on the left, red on the right.
    const photo = await sidewaysPhoto(dir, 'portrait.jpg', 'red', 'blue', 6);
    const sent = await cluster.node('laptop').cli(['send', photo, '--to', 'lobby']);
    assert.equal(sent.code, 0, sent.stderr);
    // Upright it is 120x160: scaled to the 240-pixel height it spans x 70-250, with black on either side.
    const looks = () => columnColours(screen.display, screen.width, screen.height, [20, 115, 205, 300], [60, 180]);
    await waitFor(async () => (await looks()).join() === 'black,blue,red,black', 'the photo to stand upright on the lobby screen', 10_000, 100).catch(async (err: Error) => {
      throw new Error(`${err.message}; the screen shows ${(await looks()).join(', ')} from left to right`);
    });
  });
});
