import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Cluster } from '../helpers/cluster.js';
import { solidPng } from '../helpers/media-fixtures.js';
import { removeDir, tempDir, waitFor } from '../helpers/nvid.js';
import { screenColour } from '../helpers/screen.js';
import { startXvfb, type Xvfb } from '../helpers/xvfb.js';

interface ScheduleShown {
  source: 'set' | 'config' | 'none';
  file?: string;
  setBy?: { id: string; name: string };
  signage: { playlists?: unknown; schedule?: unknown } | null;
  playing: { playlist?: string } | null;
}

/** All day, every day: the `red` playlist (red.png until the playlist changes); `dark` otherwise. */
const RED_ALL_DAY = {
  playlists: { red: { items: [{ file: 'red.png', seconds: 0 }] }, dark: { items: [] } },
  schedule: { timeZone: 'UTC', default: 'dark', entries: [{ name: 'all day', start: '00:00', end: '24:00', playlist: 'red' }] },
};

describe('remote schedules: a controller sets and shows a screen\'s playlists and schedule', function () {
  this.timeout(180_000);
  let dir: string;
  let screen: Xvfb;
  let cluster: Cluster;
  let ids: Record<string, string>;
  const display = () => ({ use: 'display', options: { display: screen.display, policy: 'replace', imageSeconds: 0, audio: false } });
  const startLobby = () => cluster.startNode({ name: 'lobby', plugins: ['crypto', 'media', display()] });
  const colour = () => screenColour(screen.display, screen.width, screen.height);
  const laptop = () => cluster.node('laptop');
  const lobby = () => cluster.node('lobby');
  const file = (name: string, content: unknown) => {
    const path = join(dir, name);
    writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
    return path;
  };

  before(async () => {
    dir = tempDir();
    screen = await startXvfb('320x240x24');
    cluster = new Cluster(dir);
    await cluster.startCoordinator();
    await startLobby();
    await cluster.startNode({ name: 'laptop' });
    await cluster.startNode({ name: 'stranger' });
    await cluster.waitForPeers('lobby', ['laptop', 'stranger']);
    await cluster.waitForPeers('laptop', ['lobby', 'stranger']);
    await cluster.waitForPeers('stranger', ['laptop', 'lobby']);
    ids = {};
    for (const name of ['lobby', 'laptop', 'stranger']) ids[name] = (await cluster.node(name).control<{ id: string }>('status')).id;
    const trusted = await lobby().cli(['trust', 'add', 'laptop', '--as', 'controller']);
    assert.equal(trusted.code, 0, trusted.stderr);
    // red.png reaches the lobby's library (and its screen); then the screen is cleared to black.
    const sent = await laptop().cli(['send', await solidPng(dir, 'red.png', 'red', '320x240'), '--to', 'lobby']);
    assert.equal(sent.code, 0, sent.stderr);
    await waitFor(async () => (await colour()) === 'red', 'the lobby screen to turn red', 10_000, 100);
    assert.equal((await lobby().cli(['screen', 'clear'])).code, 0);
    await waitFor(async () => (await colour()) === 'black', 'the lobby screen to go black', 10_000, 100);
  });
  after(async () => {
    await cluster?.stop();
    await screen?.stop();
    removeDir(dir);
  });

  it('shows on the node itself that there is no schedule yet', async () => {
    const shown = await lobby().cli(['schedule', 'show', '--json']);
    assert.equal(shown.code, 0, shown.stderr);
    assert.deepEqual(JSON.parse(shown.stdout), { source: 'none', signage: null, playing: null });
    const human = await lobby().cli(['schedule', 'show']);
    assert.match(human.stdout, /schedule: none/);
  });

  it('sets a schedule on the lobby from the laptop: it plays at once, and show returns it', async () => {
    const set = await laptop().cli(['schedule', '--on', 'lobby', 'set', file('red.json', RED_ALL_DAY), '--json']);
    assert.equal(set.code, 0, `${set.stdout}${set.stderr}`);
    const answer = JSON.parse(set.stdout) as ScheduleShown;
    assert.equal(answer.source, 'set');
    assert.deepEqual(answer.playing?.playlist, 'red');
    assert.deepEqual(answer.setBy, { id: ids.laptop, name: 'laptop' });
    await waitFor(async () => (await colour()) === 'red', 'the lobby to play the red playlist', 10_000, 100);
    const shown = await laptop().cli(['schedule', 'show', '--on', 'lobby', '--json']);
    assert.equal(shown.code, 0, shown.stderr);
    const state = JSON.parse(shown.stdout) as ScheduleShown;
    assert.deepEqual(state.signage, RED_ALL_DAY);
    assert.equal(state.file, join(lobby().stateDir, 'display-schedule.json'));
    const human = await laptop().cli(['schedule', 'show', '--on', 'lobby']);
    assert.match(human.stdout, /schedule: set by laptop at .*display-schedule\.json \(it wins over the config\)/);
    assert.match(human.stdout, /playing: red/);
    const history = await lobby().control<Array<Record<string, unknown>>>('history', { kind: 'schedule-set', limit: 1 });
    assert.deepEqual(history.map((e) => [e.peerId, e.playlist]), [[ids.laptop, 'red']]);
  });

  it('refuses an invalid schedule whole, listing every problem, and the old one keeps playing', async () => {
    const kept = readFileSync(join(lobby().stateDir, 'display-schedule.json'), 'utf8');
    const bad = {
      playlists: { red: { items: [{ file: 'red.png', until: '2026-02-30' }] } },
      schedule: { timeZone: 'Mars/Olympus', default: 'blue', entries: [{ start: '25:00', end: '10:00', playlist: 'red' }] },
    };
    const set = await laptop().cli(['schedule', '--on', 'lobby', 'set', file('bad.json', bad), '--json']);
    assert.notEqual(set.code, 0);
    const { error } = JSON.parse(set.stdout) as { error: { code: string; message: string; details: { problems: string[] } } };
    assert.equal(error.code, 'NVID_ERR_SCHEDULE_INVALID');
    const problems = error.details.problems;
    for (const want of [/^playlists\.red\.items\[0\]\.until/, /^schedule\.timeZone: unknown time zone "Mars\/Olympus"/, /^schedule\.default: no playlist "blue"/, /^schedule\.entries\[0\]\.start: "25:00"/]) {
      assert.ok(problems.some((p) => want.test(p)), `${want} among ${problems.join(' | ')}`);
    }
    const local = await lobby().cli(['schedule', 'set', file('bad.json', bad)]);
    assert.notEqual(local.code, 0);
    assert.match(local.stderr, /NVID_ERR_SCHEDULE_INVALID/);
    assert.match(local.stderr, /Mars\/Olympus/);
    const notJson = await lobby().cli(['schedule', 'set', file('broken.json', '{ "playlists": ')]);
    assert.equal(notJson.code, 2, notJson.stderr);
    assert.match(notJson.stderr, /is not JSON/);
    assert.equal(readFileSync(join(lobby().stateDir, 'display-schedule.json'), 'utf8'), kept, 'the kept file did not change');
    const shown = JSON.parse((await laptop().cli(['schedule', 'show', '--on', 'lobby', '--json'])).stdout) as ScheduleShown;
    assert.deepEqual(shown.signage, RED_ALL_DAY);
    assert.equal(await colour(), 'red', 'the lobby still plays the old schedule');
  });

  it('refuses a peer that is not a controller with NVID_ERR_NOT_CONTROLLER, and both histories say so', async () => {
    const stranger = cluster.node('stranger');
    const set = await stranger.cli(['schedule', '--on', 'lobby', 'set', file('dark.json', { ...RED_ALL_DAY, schedule: { default: 'dark' } }), '--json']);
    assert.equal(set.code, 5, `${set.stdout}${set.stderr}`);
    assert.equal((JSON.parse(set.stdout) as { error: { code: string } }).error.code, 'NVID_ERR_NOT_CONTROLLER');
    const show = await stranger.cli(['schedule', 'show', '--on', 'lobby']);
    assert.equal(show.code, 5);
    assert.match(show.stderr, /NVID_ERR_NOT_CONTROLLER/);
    const refused = await lobby().control<Array<Record<string, unknown>>>('history', { kind: 'rejected', limit: 2 });
    assert.deepEqual(refused.map((e) => [e.stage, e.code, e.peerId, e.action]), [
      ['remote-screen', 'NVID_ERR_NOT_CONTROLLER', ids.stranger, 'schedule-set'],
      ['remote-screen', 'NVID_ERR_NOT_CONTROLLER', ids.stranger, 'schedule-show'],
    ]);
    const failed = await stranger.control<Array<Record<string, unknown>>>('history', { kind: 'remote-screen-failed', limit: 2 });
    assert.deepEqual(failed.map((e) => [e.code, e.peerId, e.action]), [
      ['NVID_ERR_NOT_CONTROLLER', ids.lobby, 'schedule-set'],
      ['NVID_ERR_NOT_CONTROLLER', ids.lobby, 'schedule-show'],
    ]);
    assert.equal(await colour(), 'red', 'the lobby screen did not change');
  });

  it('keeps the set schedule when the lobby restarts, and refuses to start with a corrupt one, naming the file', async () => {
    await lobby().stop();
    await waitFor(async () => (await colour()) !== 'red', 'the lobby screen to leave red when it stops', 10_000, 100).catch(() => undefined);
    await startLobby();
    await waitFor(async () => (await colour()) === 'red', 'the restarted lobby to play the kept schedule', 15_000, 100);
    const shown = JSON.parse((await lobby().cli(['schedule', 'show', '--json'])).stdout) as ScheduleShown;
    assert.equal(shown.source, 'set');
    assert.deepEqual(shown.signage, RED_ALL_DAY);

    await lobby().stop();
    const kept = join(lobby().stateDir, 'display-schedule.json');
    writeFileSync(kept, '{ "version": 1, "setAt": ');
    await assert.rejects(startLobby(), (err: Error) => {
      assert.match(err.message, /the kept schedule \S*display-schedule\.json is not JSON/);
      return true;
    });
    assert.ok(existsSync(kept), 'the broken file is left for a person to look at');
  });
});
