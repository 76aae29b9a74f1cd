/**
 * The drop folder between real processes: a coordinator, a sending node with
 * the drop-folder plugin and receiving nodes (headless display), all real
 * `nvid` processes on 127.0.0.1. What reached a receiver is judged by the
 * SHA-256 of the files in its library, never by what the sender believes.
 */
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { PluginSpec } from '../../core/config.js';
import type { HistoryEntry } from '../../core/types.js';
import { readNoteCodes } from '../../plugins/drop-folder/error-notes.js';
import { Cluster } from '../helpers/cluster.js';
import { distinctPngs, hashCounts, noisePng, sha256Of, writeSlowly } from '../helpers/drop-folder-media.js';
import { removeDir, tempDir, waitFor } from '../helpers/nvid.js';

interface DropFolderList {
  counts: Record<string, number>;
  files: Array<{ file: string; state: string; failures: Array<{ code: string }> }>;
}

const SENDER_PLUGINS = (options: Record<string, unknown>): PluginSpec[] => ['crypto', 'media', { use: 'drop-folder', options }];
const libraryOf = (cluster: Cluster, name: string) => join(cluster.node(name).stateDir, 'library');
/** Files the user would still see in the drop folder (not notes, not the sent folder). */
const leftIn = (folder: string) =>
  readdirSync(folder, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && !e.name.endsWith('.nvid-error.txt') && !join(e.parentPath, e.name).includes(`${join(folder, '.sent')}`))
    .map((e) => join(e.parentPath, e.name));

describe('drop folder: 200 files, three large ones written slowly, the receiver restarted midway', function () {
  this.timeout(300_000);
  let dir: string;
  let cluster: Cluster;

  before(async () => {
    dir = tempDir('nvid-df-it-');
    cluster = new Cluster(dir);
    await cluster.startCoordinator();
    await cluster.startNode({ name: 'lobby' });
  });
  after(async () => {
    await cluster?.stop();
    removeDir(dir);
  });

  it('delivers every file exactly once by content, or keeps it with its reason; none lost, none duplicated', async () => {
    const began = Date.now();
    const staging = join(dir, 'staging');
    const drop = join(dir, 'drop');
    mkdirSync(staging);
    mkdirSync(drop);
    const small = await distinctPngs(staging, 195);
    const large = await Promise.all([1, 2, 3].map((n) => noisePng(join(staging, `large-${n}.png`), 2600, 2600)));
    const bad = ['not-media-1.png', 'not-media-2.png'].map((name) => {
      writeFileSync(join(staging, name), `${name}: a text file wearing an image's name\n`);
      return join(staging, name);
    });
    const expected = new Map([...small, ...large].map((f) => [sha256Of(f), f]));
    const badHashes = new Set(bad.map(sha256Of));
    assert.equal(expected.size, 198);
    const generated = Date.now();

    // Half the small files are there before the sender starts; the rest arrive while it runs.
    const dropped = (f: string) => join(drop, f.slice(staging.length + 1));
    for (const f of small.slice(0, 100)) copyFileSync(f, dropped(f));
    await cluster.startNode({
      name: 'sender',
      plugins: SENDER_PLUGINS({ folder: drop, to: ['lobby'], concurrency: 4, stableMs: 1000, pollMs: 100, retry: { initialMs: 500, maxMs: 2000, factor: 2 } }),
    });
    await cluster.waitForPeers('sender', ['lobby']);
    // Sample `nvid status` meanwhile: the large sends must show there with their byte progress.
    const sender = cluster.node('sender');
    const largeProgress: Array<{ file: string; progress: { bytes: number; total: number } | null }> = [];
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const status = await sender.control<{ dropFolder: { sendingFiles: typeof largeProgress } }>('status').catch(() => undefined);
        largeProgress.push(...(status?.dropFolder.sendingFiles.filter((f) => f.file.startsWith('large-')) ?? []));
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    const slowWrites = large.map((f) => writeSlowly(f, dropped(f), 20, 100));
    for (const f of [...small.slice(100), ...bad]) copyFileSync(f, dropped(f));

    // Midway: restart the receiver on the same state folder, once stopped cleanly (SIGTERM), once killed (SIGKILL).
    const library = libraryOf(cluster, 'lobby');
    const restartedAt: number[] = [];
    for (const [count, how] of [[60, 'stop'], [120, 'kill']] as const) {
      await waitFor(() => readdirSync(library).length >= count, `${count} files at the receiver`, 150_000, 200);
      await cluster.node('lobby')[how]();
      restartedAt.push(readdirSync(library).length);
      await cluster.startNode({ name: 'lobby' });
    }
    await Promise.all(slowWrites);

    // Done: only the refused files are left, each kept with its reason.
    await waitFor(
      async () => {
        const list = await sender.control<DropFolderList>('drop-folder');
        return list.files.length === 2 && list.files.every((f) => f.state === 'held') && leftIn(drop).length === 2;
      },
      'the drop folder to hold only the two refused files',
      180_000,
      500,
    );
    const finished = Date.now();
    sampling = false;
    await sampler;

    const received = hashCounts(library);
    const duplicates = [...received].filter(([, n]) => n > 1).map(([h]) => expected.get(h) ?? h);
    assert.deepEqual(duplicates, [], 'no content stored twice at the receiver');
    const unknown = [...received.keys()].filter((h) => !expected.has(h));
    assert.deepEqual(unknown, [], 'nothing stored that was not dropped (no half-written copy)');
    const missing = [...expected].filter(([h]) => !received.has(h)).map(([, f]) => f);
    assert.deepEqual(missing, [], 'every media file delivered');
    for (const f of bad) {
      assert.equal(existsSync(dropped(f)), true, `${f} kept in the drop folder`);
      assert.deepEqual(readNoteCodes(dropped(f)), ['NVID_ERR_MEDIA_REJECTED'], `${f} has its reason beside it`);
      assert.equal(badHashes.has(sha256Of(dropped(f))), true);
    }
    const sent = hashCounts(join(drop, '.sent'));
    assert.deepEqual([...sent.keys()].sort(), [...expected.keys()].sort(), 'every delivered file moved to the sent folder');

    // Progress of the large sends shows in `nvid status` and in the sender's log.
    assert.ok(
      largeProgress.some((f) => f.progress !== null && f.progress.total > 10 * 1024 * 1024),
      `a large file seen sending with its byte progress in nvid status (samples: ${JSON.stringify(largeProgress.slice(0, 5))})`,
    );
    assert.match(sender.stderr, /"msg":"sending large-\d\.png \(\d+\.\d MiB\) to lobby"/);
    assert.match(sender.stderr, /"direction":"send".*"percent":(?!100)\d+,"msg":"transfer progress"/);
    console.log(
      `      figures: ${expected.size + bad.length} files generated in ${((generated - began) / 1000).toFixed(1)} s; ` +
        `receiver restarted after ${restartedAt.join(' and ')} files; all settled ${((finished - generated) / 1000).toFixed(1)} s after generation; ` +
        `${largeProgress.filter((f) => f.progress).length} status samples showed a large send's progress`,
    );
  });
});

describe('drop folder: stories', function () {
  this.timeout(120_000);
  let dir: string;
  let cluster: Cluster;
  let drop: string;
  let staging: string;
  let pngs: string[];
  const senderOptions = () => ({ folder: drop, to: ['lobby'], stableMs: 800, pollMs: 100, retry: { initialMs: 300, maxMs: 5000, factor: 2 } });
  const startSender = () => cluster.startNode({ name: 'sender', plugins: SENDER_PLUGINS(senderOptions()) });
  const sentHistory = async (path: string) => (await cluster.node('sender').control<HistoryEntry[]>('history')).filter((e) => e.path === path);

  before(async () => {
    dir = tempDir('nvid-df-stories-');
    drop = join(dir, 'drop');
    staging = join(dir, 'staging');
    mkdirSync(staging);
    pngs = await distinctPngs(staging, 4, 'story');
    cluster = new Cluster(dir);
    await cluster.startCoordinator();
    await cluster.startNode({ name: 'lobby' });
    await startSender();
    await cluster.waitForPeers('sender', ['lobby']);
  });
  after(async () => {
    await cluster?.stop();
    removeDir(dir);
  });

  it('sends a file written slowly only once it is complete', async () => {
    const source = await noisePng(join(staging, 'slow.png'), 1400, 1400);
    await writeSlowly(source, join(drop, 'slow.png'), 12, 150);
    await waitFor(() => existsSync(join(drop, '.sent', 'slow.png')), 'slow.png delivered', 60_000);
    assert.deepEqual([...hashCounts(libraryOf(cluster, 'lobby'))], [[sha256Of(source), 1]], 'the receiver has the whole file, once, and nothing partial');
    assert.equal((await sentHistory(join(drop, 'slow.png'))).filter((e) => e.kind === 'sent').length, 1);
  });

  it('keeps a non-media file with a note naming NVID_ERR_MEDIA_REJECTED, and does not retry it', async () => {
    const file = join(drop, 'minutes.png');
    writeFileSync(file, 'meeting minutes, not a picture\n');
    await waitFor(() => readNoteCodes(file).length > 0, 'the note beside minutes.png', 30_000);
    assert.deepEqual(readNoteCodes(file), ['NVID_ERR_MEDIA_REJECTED']);
    // Backoff would have retried it several times by now (300 ms, 600 ms, 1 s ...).
    await new Promise((r) => setTimeout(r, 2500));
    const failed = (await sentHistory(file)).filter((e) => e.kind === 'send-failed');
    assert.equal(failed.length, 1, 'tried once, kept until it changes');
    assert.equal(existsSync(file), true);
  });

  it('keeps a file for an absent peer, named by its subfolder, and delivers it there when the peer joins', async () => {
    const file = join(drop, 'kiosk', 'welcome.png');
    mkdirSync(join(drop, 'kiosk'));
    copyFileSync(pngs[0]!, file);
    await waitFor(() => readNoteCodes(file).includes('NVID_ERR_UNKNOWN_PEER'), 'a note saying kiosk is unknown', 30_000);
    // Let the backoff grow until the next retry is well away, so the join (not a timer) is what sends it.
    await waitFor(
      async () => {
        const { files } = await cluster.node('sender').control<{ files: Array<{ file: string; state: string; nextRetry?: string }> }>('drop-folder', { action: 'list' });
        const entry = files.find((f) => f.file === join('kiosk', 'welcome.png'));
        return entry?.state === 'waiting' && entry.nextRetry !== undefined && Date.parse(entry.nextRetry) - Date.now() > 1500;
      },
      'welcome.png waiting with its next retry more than 1.5 s away',
      30_000,
    );
    await cluster.startNode({ name: 'kiosk' });
    await waitFor(() => existsSync(join(drop, '.sent', 'kiosk', 'welcome.png')), 'welcome.png delivered to kiosk', 30_000);
    assert.deepEqual([...hashCounts(libraryOf(cluster, 'kiosk'))], [[sha256Of(pngs[0]!), 1]]);
    assert.equal(hashCounts(libraryOf(cluster, 'lobby')).has(sha256Of(pngs[0]!)), false, 'the subfolder overrides "to"');
    assert.equal(existsSync(`${file}.nvid-error.txt`), false, 'the note is gone once delivered');
    assert.match(cluster.node('sender').stderr, /kiosk is here: retrying 1 file/);
  });

  it('processes files present at start and does not resend content after the sender restarts', async () => {
    await cluster.node('sender').stop();
    copyFileSync(join(drop, '.sent', 'slow.png'), join(drop, 'slow-again.png'));
    copyFileSync(pngs[1]!, join(drop, 'fresh.png'));
    await startSender();
    await waitFor(() => existsSync(join(drop, '.sent', 'slow-again.png')) && existsSync(join(drop, '.sent', 'fresh.png')), 'both files handled after the restart', 30_000);
    const lobby = hashCounts(libraryOf(cluster, 'lobby'));
    assert.equal(lobby.get(sha256Of(join(drop, '.sent', 'slow.png'))), 1, 'the content delivered before the restart was not sent again');
    assert.equal(lobby.get(sha256Of(pngs[1]!)), 1, 'the file present at start was delivered');
    assert.match(cluster.node('sender').stderr, /slow-again\.png: lobby already has this content/);
  });
});
