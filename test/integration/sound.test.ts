import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Cluster } from '../helpers/cluster.js';
import { clipWithTone } from '../helpers/media-fixtures.js';
import { removeDir, sleep, tempDir, waitFor } from '../helpers/nvid.js';
import { listen, speakerInto } from '../helpers/speaker.js';
import { startXvfb, type Xvfb } from '../helpers/xvfb.js';

describe('screens with their sound on and off, as the people in the room hear them', function () {
  this.timeout(120_000);
  let dir: string;
  let screens: Xvfb[];
  let cluster: Cluster;
  let clip: string;
  const speaker = (name: string) => join(dir, `${name}-speaker.raw`);

  before(async () => {
    dir = tempDir();
    screens = [await startXvfb('320x240x24'), await startXvfb('320x240x24')];
    clip = await clipWithTone(dir, 'tone.mp4', 440, 2);
    cluster = new Cluster(dir);
    await cluster.startCoordinator();
    const display = (screen: Xvfb, audio: boolean) => ({ use: 'display', options: { display: screen.display, policy: 'replace', imageSeconds: 0, audio } });
    await cluster.startNode({ name: 'hall', plugins: ['crypto', 'media', display(screens[0]!, true)], env: speakerInto(speaker('hall')) });
    await cluster.startNode({ name: 'library', plugins: ['crypto', 'media', display(screens[1]!, false)], env: speakerInto(speaker('library')) });
    await cluster.startNode({ name: 'laptop' });
    await cluster.waitForPeers('laptop', ['hall', 'library']);
  });
  after(async () => {
    await cluster.stop();
    for (const screen of screens) await screen.stop();
    removeDir(dir);
  });

  const shown = (name: string) =>
    waitFor(async () => (await cluster.node(name).control<unknown[]>('history', { kind: 'displayed', limit: 1 })).length > 0, `${name} to show the clip`, 15_000);

  it('plays a video\'s sound track on a screen with sound on, at its pitch', async () => {
    assert.equal(listen(speaker('hall')), undefined, 'the idle screen opened no audio device');
    const sent = await cluster.node('laptop').cli(['send', clip, '--to', 'hall']);
    assert.equal(sent.code, 0, sent.stderr);
    await shown('hall');
    // The clip's two seconds of tone reach the device in real time.
    const heard = await waitFor(() => {
      const now = listen(speaker('hall'));
      return now && now.loudSeconds >= 1.5 ? now : undefined;
    }, 'the hall to play most of the two-second tone', 15_000, 200);
    assert.ok(Math.abs(heard.pitchHz - 440) < 15, `the hall played a ${heard.pitchHz.toFixed(0)} Hz tone, not the clip's 440 Hz`);
    // The last frame stays up after the clip ends; its sound must not go on, nor start again.
    await sleep(1_500);
    const after = listen(speaker('hall'))!;
    assert.ok(after.loudSeconds >= 1.6 && after.loudSeconds <= 2.3, `the tone played through, once: ${after.loudSeconds.toFixed(1)} s of sound for a 2 s clip`);
  });

  it('keeps a screen with sound off silent: its player never opens the audio device', async () => {
    const sent = await cluster.node('laptop').cli(['send', clip, '--to', 'library']);
    assert.equal(sent.code, 0, sent.stderr);
    await shown('library');
    // Past the clip's end: a player with sound would have played all of it by now.
    await sleep(2_500);
    assert.equal(listen(speaker('library')), undefined, 'the library screen opened an audio device');
  });
});
