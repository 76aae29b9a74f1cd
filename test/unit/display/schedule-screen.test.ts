/**
 * A screen run by its schedule, on a real Xvfb: it plays what the schedule
 * says from its first picture, switches playlists at the instant the schedule
 * names without a black frame between them, and a pushed photo interrupts the
 * programme, which then resumes.
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { solidPng } from '../../helpers/media-fixtures.js';
import { ScreenSampler, screenColour } from '../../helpers/screen.js';
import { assertNoGap, colourSequence, keep, startRig, useDisplaySuite, type DisplayRig } from './harness.js';
import { waitFor } from '../../helpers/nvid.js';

/** The node's own wall clock `ms` from now, as HH:MM:SS (the schedule's zone is the node's by default). */
function clockIn(ms: number): string {
  const d = new Date(Date.now() + ms);
  return [d.getHours(), d.getMinutes(), d.getSeconds()].map((n) => String(n).padStart(2, '0')).join(':');
}

/** The harness's waitFor, with the description first as these stories read best. */
const until = <T>(what: string, test: () => T | Promise<T>, timeoutMs = 15_000) => waitFor(test, what, timeoutMs, 50);

describe('display plugin: a screen that runs by its schedule', function () {
  this.timeout(60_000);
  const suite = useDisplaySuite();
  let rig: DisplayRig | undefined;
  afterEach(async () => {
    await rig?.stop();
    rig = undefined;
  });

  const colour = () => screenColour(suite.xvfb.display, suite.xvfb.width, suite.xvfb.height);
  /** A rig whose library holds red.png and blue.png, with these playlists and schedule. */
  const scheduledRig = (schedule: unknown, extra: Record<string, unknown> = {}) =>
    startRig(
      suite.xvfb,
      {
        policy: 'replace',
        imageSeconds: 1,
        playlists: { morning: { items: [{ file: 'red.png', seconds: 0 }] }, noon: { items: [{ file: 'blue.png', seconds: 0 }] } },
        schedule,
        ...extra,
      },
      async (t) => {
        await keep(t, await solidPng(t.dir, 'red.png', 'red', '320x240'));
        await keep(t, await solidPng(t.dir, 'blue.png', 'blue', '320x240'));
      },
    );

  it('plays the morning playlist from the first picture, and noon at the second the schedule says, with no black frame between', async () => {
    // Far enough ahead for the rig to start on this shared machine, near enough for a test.
    const switchIn = 8000;
    const switchAt = Date.now() + switchIn;
    const sampler = new ScreenSampler(suite.xvfb.display, suite.xvfb.width, suite.xvfb.height, 20);
    try {
      await sampler.ready();
      rig = await scheduledRig({ default: 'morning', entries: [{ start: clockIn(switchIn), end: clockIn(switchIn + 3_600_000), playlist: 'noon' }] });
      await until('morning on screen', async () => (await colour()) === 'red');
      const blue = await sampler.waitFor((s) => s.name === 'blue', 15_000);
      const blueAt = sampler.startedAt + blue.t;
      // The new player starts at the switch (second precision in the schedule) and is on screen a player's start later.
      assert.ok(blueAt >= switchAt - 1000, `noon showed ${switchAt - blueAt} ms before the switch`);
      assert.ok(blueAt <= switchAt + 3000, `noon showed ${blueAt - switchAt} ms after the switch`);
      await sleep(300);
    } finally {
      await sampler.stop();
    }
    // Nothing but black (the bare X server) before the morning playlist: the schedule had the screen from the start.
    assert.deepEqual(colourSequence(sampler.runs()).filter((c) => c !== 'black'), ['red', 'blue']);
    assertNoGap(sampler.samples, ['red', 'blue']);
  });

  it('lets a pushed photo interrupt the programme, then resumes it', async () => {
    rig = await scheduledRig({ default: 'morning' });
    await until('morning on screen', async () => (await colour()) === 'red');
    const sampler = new ScreenSampler(suite.xvfb.display, suite.xvfb.width, suite.xvfb.height, 20);
    try {
      await sampler.ready();
      assert.deepEqual(await rig.show(await solidPng(rig.t.dir, 'lime.png', 'lime', '320x240')), { state: 'showing' });
      await sampler.waitFor((s) => s.name === 'lime', 10_000);
      // imageSeconds 1: the pushed still goes after a second, and the programme's red comes back.
      const back = await sampler.waitFor((s) => s.name === 'red' && s.t > sampler.samples.findLast((x) => x.name === 'lime')!.t, 10_000);
      assert.ok(back);
      await sleep(300);
    } finally {
      await sampler.stop();
    }
    const shown = colourSequence(sampler.runs());
    assert.deepEqual(shown.slice(shown.indexOf('red')), ['red', 'lime', 'red']);
    assertNoGap(sampler.samples, ['red', 'lime']);
  });
});
