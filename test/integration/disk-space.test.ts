import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { PluginSpec } from '../../core/config.js';
import { Cluster, HEADLESS_NODE_PLUGINS } from '../helpers/cluster.js';
import { solidPng } from '../helpers/media-fixtures.js';
import { REPO_ROOT, removeDir, tempDir, waitFor } from '../helpers/nvid.js';
import { call, multipartBody } from '../helpers/panel-http.js';

const FILLS_THE_DISK = join(REPO_ROOT, 'test', 'fixtures', 'plugins', 'fills-the-disk.js');
const MIB = 1024 * 1024;

/** A lossless video of random noise: `frames` frames of 640x360 come to about 0.35 MiB each and do not compress. */
function noiseVideo(path: string, frames: number): string {
  execFileSync('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'nullsrc=s=640x360:r=25,geq=lum=random(1)*255:cb=128:cr=128', '-frames:v', String(frames), '-c:v', 'libx264', '-preset', 'ultrafast', '-qp', '0', path]);
  return path;
}

describe('screens with little disk left, as their senders see it', function () {
  this.timeout(120_000);
  let dir: string;
  let cluster: Cluster;
  const mounts: string[] = [];
  let videos: { big: string; smaller: string };

  /** A node whose state folder (its library included) lives on a small disk of its own. */
  async function nodeOnSmallDisk(name: string, mib: number, config: Record<string, unknown>, plugins?: PluginSpec[]) {
    const state = join(dir, name);
    mkdirSync(state, { recursive: true });
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${mib}m,mode=0700`, 'tmpfs', state]);
    mounts.push(state);
    const node = await cluster.startNode({ name, config, ...(plugins ? { plugins } : {}) });
    await waitFor(async () => (await cluster.node('laptop').control<Array<{ name: string }>>('peers')).some((p) => p.name === name), `the laptop to list ${name}`);
    return node;
  }

  before(async function () {
    dir = tempDir();
    // A real small disk: a tmpfs, which needs root (as the CI and the demo machines run).
    try {
      const probe = join(dir, 'probe');
      mkdirSync(probe);
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', probe], { stdio: 'ignore' });
      execFileSync('umount', [probe]);
    } catch {
      this.skip();
    }
    cluster = new Cluster(dir);
    await cluster.startCoordinator();
    await cluster.startNode({ name: 'laptop' });
    // About 21 MiB and 17.5 MiB.
    videos = { big: noiseVideo(join(dir, 'first.mkv'), 60), smaller: noiseVideo(join(dir, 'second.mkv'), 50) };
  });
  after(async () => {
    await cluster?.stop();
    for (const mount of mounts) execFileSync('umount', [mount]);
    removeDir(dir);
  });

  it('refuses a video that would not fit before it is sent, says why, and keeps taking what fits', async () => {
    const screen = await nodeOnSmallDisk('kiosk', 40, { minFreeDiskBytes: 4 * MIB });
    const laptop = cluster.node('laptop');
    // 21 MiB fits in 40 MiB; the next 17.5 MiB would leave less than the 4 MiB the kiosk keeps free.
    const first = await laptop.cli(['send', videos.big, '--to', 'kiosk']);
    assert.equal(first.code, 0, first.stderr);
    const second = await laptop.cli(['send', videos.smaller, '--to', 'kiosk']);
    assert.equal(second.code, 5, `${second.stdout}${second.stderr}`);
    assert.match(second.stderr, /not enough disk space for a file of 1\d\.\d MiB: 1\d\.\d MiB free where this node keeps received files, and minFreeDiskBytes keeps 4\.0 MiB free/);
    const [rejected] = await screen.control<Array<{ code: string; stage: string }>>('history', { kind: 'rejected', limit: 1 });
    assert.deepEqual([rejected!.code, rejected!.stage], ['NVID_ERR_NO_SPACE', 'open']);
    assert.deepEqual(readdirSync(join(screen.stateDir, 'incoming')), [], 'no partial file');
    assert.deepEqual(readdirSync(join(screen.stateDir, 'library')), ['first.mkv']);
    const picture = await laptop.cli(['send', await solidPng(dir, 'small.png', 'red'), '--to', 'kiosk']);
    assert.equal(picture.code, 0, `a file that fits still arrives: ${picture.stderr}`);
  });

  it('names a disk that filled up during the transfer, and leaves no partial file', async () => {
    const screen = await nodeOnSmallDisk('lobby', 40, { minFreeDiskBytes: 0 }, [FILLS_THE_DISK, 'crypto', 'media', { use: 'display', options: { output: 'headless' } }]);
    const sent = await cluster.node('laptop').cli(['send', videos.smaller, '--to', 'lobby']);
    assert.equal(sent.code, 5, `${sent.stdout}${sent.stderr}`);
    assert.match(sent.stderr, /the disk where this node keeps received files filled up during the transfer \(ENOSPC/);
    const [rejected] = await screen.control<Array<{ code: string }>>('history', { kind: 'rejected', limit: 1 });
    assert.equal(rejected!.code, 'NVID_ERR_NO_SPACE');
    assert.deepEqual(readdirSync(join(screen.stateDir, 'incoming')), [], 'no partial file');
    assert.deepEqual(readdirSync(join(screen.stateDir, 'library')), []);
  });

  it("refuses a panel upload the node's disk cannot hold before its first byte, and leaves nothing behind", async () => {
    const studio = await nodeOnSmallDisk('studio', 40, { minFreeDiskBytes: 4 * MIB }, [...HEADLESS_NODE_PLUGINS, { use: 'panel' }]);
    const uploads = join(studio.stateDir, 'panel', 'uploads');
    const link = await studio.control<{ url: string; loginUrl: string }>('panel');
    const cookie = String((await call(link.url, 'GET', link.loginUrl)).headers['set-cookie']).split(';')[0]!;
    const csrf = (await call(link.url, 'GET', '/api/session', { headers: { cookie } })).json<{ csrfToken: string }>().csrfToken;
    const api = (method: string, path: string, body?: unknown, headers: Record<string, string | number> = {}) =>
      call(link.url, method, path, { body, headers: { cookie, 'x-csrf-token': csrf, ...headers } });
    const announce = (name: string, size: number) => api('POST', '/api/uploads/announce', { name, size, kind: 'video' });

    // At most 40 MiB are free, and 4 MiB of them stay free: 50 MiB cannot fit.
    const tooBig = await announce('big.mkv', 50 * MIB);
    assert.equal(tooBig.status, 507, tooBig.text);
    assert.equal(tooBig.json().error.code, 'NVID_ERR_NO_SPACE');
    assert.match(tooBig.json().error.message, /^not enough disk space for a file of 50\.0 MiB: \d+\.\d MiB free where this node keeps panel uploads, and minFreeDiskBytes keeps 4\.0 MiB free$/);
    assert.deepEqual(readdirSync(uploads), [], 'nothing created');

    // 20 MiB fit; a second 20 MiB while the first is still owed its bytes do not, though the disk is still empty.
    const first = await announce('first.mkv', 20 * MIB);
    assert.equal(first.status, 201, first.text);
    const second = await announce('second.mkv', 20 * MIB);
    assert.equal(second.status, 507, second.text);
    assert.match(second.json().error.message, /20\.0 MiB of it promised to transfers under way/);
    // A one-step upload that says it is that large is refused before its file's bytes are read.
    const { body, contentType } = multipartBody('file', 'third.mkv', Buffer.alloc(20 * MIB, 3));
    const third = await api('POST', '/api/uploads', body, { 'content-type': contentType });
    assert.equal(third.status, 507, third.text);
    assert.equal(third.json().error.code, 'NVID_ERR_NO_SPACE');
    assert.deepEqual(readdirSync(uploads), [first.json<{ id: string }>().id], 'only the announced upload, still empty');

    // Given up, it frees its room again.
    assert.equal((await api('DELETE', `/api/uploads/${first.json<{ id: string }>().id}`)).status, 204);
    const again = await announce('second.mkv', 20 * MIB);
    assert.equal(again.status, 201, again.text);
  });
});
