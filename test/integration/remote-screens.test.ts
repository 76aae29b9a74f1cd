import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Cluster } from '../helpers/cluster.js';
import { solidPng } from '../helpers/media-fixtures.js';
import { removeDir, tempDir, waitFor } from '../helpers/nvid.js';
import { dominantColour, nameColour, screenColour } from '../helpers/screen.js';
import { startXvfb, type Xvfb } from '../helpers/xvfb.js';

const run = promisify(execFile);

/** A PNG's size and the colour most of its pixels have. */
async function pngLooks(file: string): Promise<{ width: number; height: number; colour: string | undefined }> {
  const probe = await run('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'stream=width,height', '-of', 'json', file]);
  const { width, height } = (JSON.parse(probe.stdout) as { streams: Array<{ width: number; height: number }> }).streams[0]!;
  const raw = await run('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-i', file, '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'], { encoding: 'buffer', maxBuffer: 64 * 1024 * 1024 });
  return { width, height, colour: nameColour(dominantColour(raw.stdout).colour) };
}

const SCREEN_TIMEOUT_MS = 3000;

describe('remote screens: a controller watches and steers another node\'s screen', function () {
  this.timeout(120_000);
  let dir: string;
  let screen: Xvfb;
  let cluster: Cluster;
  let ids: Record<string, string>;
  before(async () => {
    dir = tempDir();
    screen = await startXvfb('320x240x24');
    cluster = new Cluster(dir);
    await cluster.startCoordinator();
    await cluster.startNode({ name: 'lobby', plugins: ['crypto', 'media', { use: 'display', options: { display: screen.display, policy: 'replace', imageSeconds: 0, audio: false } }] });
    await cluster.startNode({ name: 'laptop', transport: { screenTimeoutMs: SCREEN_TIMEOUT_MS } });
    await cluster.startNode({ name: 'stranger' });
    await cluster.waitForPeers('lobby', ['laptop', 'stranger']);
    await cluster.waitForPeers('laptop', ['lobby', 'stranger']);
    await cluster.waitForPeers('stranger', ['laptop', 'lobby']);
    ids = {};
    for (const name of ['lobby', 'laptop', 'stranger']) ids[name] = (await cluster.node(name).control<{ id: string }>('status')).id;
    const trusted = await cluster.node('lobby').cli(['trust', 'add', 'laptop', '--as', 'controller']);
    assert.equal(trusted.code, 0, trusted.stderr);
    const red = await solidPng(dir, 'red.png', 'red', '320x240');
    const sent = await cluster.node('laptop').cli(['send', red, '--to', 'lobby']);
    assert.equal(sent.code, 0, sent.stderr);
    await waitFor(async () => (await colour()) === 'red', 'the lobby screen to turn red', 10_000, 100);
  });
  after(async () => {
    await cluster.stop();
    await screen.stop();
    removeDir(dir);
  });

  const colour = () => screenColour(screen.display, screen.width, screen.height);
  const laptop = () => cluster.node('laptop');
  const lobby = () => cluster.node('lobby');

  it('takes a screenshot of the lobby whose pixels show what the lobby\'s screen shows, full size or scaled', async () => {
    const out = join(dir, 'lobby.png');
    const shot = await laptop().cli(['screenshot', '--of', 'lobby', '--out', out]);
    assert.equal(shot.code, 0, shot.stderr);
    assert.match(shot.stdout, /screenshot of lobby saved to .*lobby\.png/);
    assert.deepEqual(await pngLooks(out), { width: 320, height: 240, colour: 'red' });
    const small = join(dir, 'lobby-small.png');
    const scaled = await laptop().cli(['screenshot', '--of', 'lobby', '--out', small, '--width', '160', '--json']);
    assert.equal(scaled.code, 0, scaled.stderr);
    assert.equal((JSON.parse(scaled.stdout) as { path: string }).path, small);
    assert.deepEqual(await pngLooks(small), { width: 160, height: 120, colour: 'red' });
  });

  it('lists the lobby\'s library and says what its screen shows', async () => {
    const library = await laptop().cli(['library', '--of', 'lobby', '--json']);
    assert.equal(library.code, 0, library.stderr);
    assert.deepEqual((JSON.parse(library.stdout) as Array<{ name: string }>).map((i) => i.name), ['red.png']);
    const status = await laptop().cli(['screen', 'lobby', 'status', '--json']);
    assert.equal(status.code, 0, status.stderr);
    assert.equal((JSON.parse(status.stdout) as { showing: { name: string } }).showing.name, 'red.png');
    const local = await lobby().cli(['screen', 'status', '--json']);
    assert.equal(local.code, 0, local.stderr);
    assert.equal((JSON.parse(local.stdout) as { showing: { name: string } }).showing.name, 'red.png', 'the local form still works');
  });

  it('refuses a peer that is not a controller with NVID_ERR_NOT_CONTROLLER, and both histories say so', async () => {
    const stranger = cluster.node('stranger');
    const shot = await stranger.cli(['screenshot', '--of', 'lobby', '--out', join(dir, 'nope.png'), '--json']);
    assert.equal(shot.code, 5, `${shot.stdout}${shot.stderr}`);
    const { error } = JSON.parse(shot.stdout) as { error: { code: string; message: string } };
    assert.equal(error.code, 'NVID_ERR_NOT_CONTROLLER');
    assert.match(error.message, /not a controller/);
    assert.equal(existsSync(join(dir, 'nope.png')), false);
    const skip = await stranger.cli(['screen', 'lobby', 'skip']);
    assert.equal(skip.code, 5);
    assert.match(skip.stderr, /NVID_ERR_NOT_CONTROLLER/);
    const refused = await lobby().control<Array<Record<string, unknown>>>('history', { kind: 'rejected', limit: 2 });
    assert.deepEqual(refused.map((e) => [e.stage, e.code, e.peerId, e.action]), [
      ['remote-screen', 'NVID_ERR_NOT_CONTROLLER', ids.stranger, 'screenshot'],
      ['remote-screen', 'NVID_ERR_NOT_CONTROLLER', ids.stranger, 'skip'],
    ]);
    const failed = await stranger.control<Array<Record<string, unknown>>>('history', { kind: 'remote-screen-failed', limit: 2 });
    assert.deepEqual(failed.map((e) => [e.code, e.peerId, e.action]), [
      ['NVID_ERR_NOT_CONTROLLER', ids.lobby, 'screenshot'],
      ['NVID_ERR_NOT_CONTROLLER', ids.lobby, 'skip'],
    ]);
    assert.equal(await colour(), 'red', 'the lobby screen did not change');
  });

  it('skips, shows again, clears and deletes on the lobby\'s screen', async () => {
    const skip = await laptop().cli(['screen', 'lobby', 'skip']);
    assert.equal(skip.code, 0, skip.stderr);
    await waitFor(async () => (await colour()) === 'black', 'the lobby screen to go black after skip', 10_000, 100);
    const show = await laptop().cli(['screen', 'lobby', 'show', 'red.png']);
    assert.equal(show.code, 0, show.stderr);
    await waitFor(async () => (await colour()) === 'red', 'the lobby to show red.png again', 10_000, 100);
    const clear = await laptop().cli(['screen', 'lobby', 'clear']);
    assert.equal(clear.code, 0, clear.stderr);
    await waitFor(async () => (await colour()) === 'black', 'the lobby screen to go black after clear', 10_000, 100);
    await laptop().cli(['screen', 'lobby', 'show', 'red.png']);
    await waitFor(async () => (await colour()) === 'red', 'the lobby to show red.png before the delete', 10_000, 100);
    const deleted = await laptop().cli(['screen', 'lobby', 'delete', 'red.png', '--json']);
    assert.equal(deleted.code, 0, deleted.stderr);
    await waitFor(async () => (await colour()) === 'black', 'the deleted item to leave the lobby screen', 10_000, 100);
    assert.equal(existsSync(join(lobby().stateDir, 'library', 'red.png')), false, 'the file is gone');
    const library = await laptop().cli(['library', '--of', 'lobby', '--json']);
    assert.deepEqual(JSON.parse(library.stdout), []);
  });

  it('times out with a clear error when the lobby is stopped, without hanging the caller', async () => {
    lobby().child.kill('SIGSTOP');
    try {
      const started = Date.now();
      const status = await laptop().cli(['screen', 'lobby', 'status', '--json'], { timeoutMs: 20_000 });
      const took = Date.now() - started;
      const { error } = JSON.parse(status.stdout) as { error: { code: string; message: string } };
      assert.equal(error.code, 'NVID_ERR_TIMEOUT');
      assert.match(error.message, /lobby .* the status request within 3000 ms/);
      assert.ok(took < SCREEN_TIMEOUT_MS + 5000, `answered after ${took} ms`);
      const failed = await laptop().control<Array<Record<string, unknown>>>('history', { kind: 'remote-screen-failed', limit: 1 });
      assert.equal(failed[0]!.code, 'NVID_ERR_TIMEOUT');
    } finally {
      lobby().child.kill('SIGCONT');
    }
  });
});
