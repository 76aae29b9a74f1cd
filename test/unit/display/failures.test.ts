/**
 * When a player goes wrong: a crashed or hung ffplay is reported and the next
 * item plays; players a crashed daemon left behind are stopped at the next
 * start; nothing outlives stop.
 */
import assert from 'node:assert/strict';
import { createHooks } from '../../../core/hooks.js';
import DisplayPlugin from '../../../plugins/display/index.js';
import { solidPng } from '../../helpers/media-fixtures.js';
import { screenColour } from '../../helpers/screen.js';
import { construct } from '../media/test-host.js';
import { ffplayChildren, startRig, useDisplaySuite, type DisplayRig } from './harness.js';

async function until(what: string, test: () => Promise<boolean> | boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await test())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

// These count ffplay processes, so no player waits ahead for the next still (warm-still.test.ts covers that one).
describe('display plugin: failing players', function () {
  this.timeout(60_000);
  const suite = useDisplaySuite();
  let rig: DisplayRig | undefined;

  const colour = () => screenColour(suite.xvfb.display, suite.xvfb.width, suite.xvfb.height);

  /** Shows red, queues lime, and returns the pid of the player showing red. */
  async function redThenLime(r: DisplayRig): Promise<number> {
    await r.show(await solidPng(r.t.dir, 'red.png', 'red'));
    await until('red on screen', async () => (await colour()) === 'red');
    // Once red is up, the idle player is gone: the only player left is red's.
    await until('one player', () => ffplayChildren().length === 1);
    const [pid] = ffplayChildren();
    assert.deepEqual(await r.show(await solidPng(r.t.dir, 'lime.png', 'lime')), { state: 'queued', position: 0 });
    return pid!;
  }

  it('reports a crashed player and plays the next item', async () => {
    rig = await startRig(suite.xvfb, { policy: 'queue', imageSeconds: 60, warmStills: false });
    process.kill(await redThenLime(rig), 'SIGKILL');
    await until('lime on screen', async () => (await colour()) === 'lime');
    const failed = await rig.t.history.read({ kind: 'display-failed' });
    assert.equal(failed.length, 1);
    assert.match(String(failed[0]!.path), /red\.png$/);
    assert.match(String(failed[0]!.reason), /exited unexpectedly .*signal SIGKILL/);
  });

  it('reports a hung player (no progress) and plays the next item', async () => {
    rig = await startRig(suite.xvfb, { policy: 'queue', imageSeconds: 60, stallTimeoutMs: 1500, warmStills: false });
    process.kill(await redThenLime(rig), 'SIGSTOP');
    await until('lime on screen', async () => (await colour()) === 'lime');
    const failed = await rig.t.history.read({ kind: 'display-failed' });
    assert.equal(failed.length, 1);
    assert.match(String(failed[0]!.reason), /hung: no progress for \d+ ms/);
  });

  it('stops players a crashed run left behind, at the next start', async () => {
    rig = await startRig(suite.xvfb, { policy: 'replace', imageSeconds: 0, warmStills: false });
    await rig.show(await solidPng(rig.t.dir, 'red.png', 'red'));
    await until('red on screen', async () => (await colour()) === 'red');
    await until('one player', () => ffplayChildren().length === 1);
    const [leftover] = ffplayChildren();
    // A second daemon on the same state folder, as after a crash and restart.
    // (The first one still runs in this process and will start its idle screen again: only the old pid matters.)
    const restarted = { ...rig.t.host, hooks: createHooks() };
    construct(DisplayPlugin, { display: suite.xvfb.display, audio: false, warmStills: false }).apply(restarted);
    await restarted.hooks.beforeStart.promise({ role: 'node' });
    await until('the leftover player gone', () => !ffplayChildren().includes(leftover!), 5000);
  });
});
