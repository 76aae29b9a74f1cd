/**
 * Offline-first: a screen started while its coordinator is down (no address
 * book, nobody to send to it) still plays its schedule from its first
 * picture; everything it needs is on the screen.
 */
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Cluster } from '../helpers/cluster.js';
import { solidPng } from '../helpers/media-fixtures.js';
import { removeDir, tempDir, waitFor } from '../helpers/nvid.js';
import { screenColour } from '../helpers/screen.js';
import { startXvfb, type Xvfb } from '../helpers/xvfb.js';

describe('a scheduled screen whose coordinator is down', function () {
  this.timeout(120_000);
  let dir: string;
  let screen: Xvfb;
  let cluster: Cluster;
  before(async () => {
    dir = tempDir();
    screen = await startXvfb('320x240x24');
    cluster = new Cluster(dir);
  });
  after(async () => {
    await cluster.stop();
    await screen.stop();
    removeDir(dir);
  });

  it('plays its schedule from its first picture', async () => {
    // A coordinator that was there once and is gone: its port refuses every connection.
    await cluster.startCoordinator();
    await cluster.coordinator.stop();
    // The menu is on the screen already, as media a screen received earlier is.
    const library = join(dir, 'lobby', 'state', 'library');
    mkdirSync(library, { recursive: true, mode: 0o700 });
    await solidPng(library, 'menu.png', 'red', '320x240');
    const lobby = await cluster.startNode({
      name: 'lobby',
      plugins: ['crypto', 'media', { use: 'display', options: { display: screen.display, audio: false, playlists: { menu: { items: [{ file: 'menu.png', seconds: 0 }] } }, schedule: { default: 'menu' } } }],
    });
    await waitFor(async () => (await screenColour(screen.display, screen.width, screen.height)) === 'red', 'the menu on the screen', 20_000, 100);
    const status = await lobby.control<{ display: { schedule?: { playlist?: string } } }>('status');
    assert.equal(status.display.schedule?.playlist, 'menu');
  });
});
