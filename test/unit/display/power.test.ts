/**
 * Screen power on a real Xvfb, through the display plugin's hooks.
 *
 * Xvfb has no DPMS extension (`xset q`: "Server does not have the DPMS
 * Extension"; neither has the Xorg dummy driver), so on this machine:
 * - a node with `power` refuses to start there, with NVID_ERR_POWER_UNAVAILABLE;
 * - the DPMS round trip is run against a recording `xset` put first on PATH,
 *   which keeps the DPMS state as an X server would and answers `xset q`
 *   from it, while the items still play on the real Xvfb;
 * - the same round trip against the real xset and server runs only where the
 *   server has DPMS, and is skipped (shown as pending) here.
 *
 * The power hours run on a clock 30 times faster than real time, so a
 * one-minute window of on-hours lasts two seconds.
 */
import assert from 'node:assert/strict';
import { chmod, mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { findOnPath } from '../../../core/media-tools/binaries.js';
import { validateAgainst } from '../../../core/schema.js';
import DisplayPlugin from '../../../plugins/display/index.js';
import { readDpms, type DpmsReading } from '../../../plugins/display/power/dpms.js';
import type { SchedulerClock } from '../../../plugins/display/schedule/scheduler.js';
import MediaPlugin from '../../../plugins/media/index.js';
import { solidPng } from '../../helpers/media-fixtures.js';
import { waitFor } from '../../helpers/nvid.js';
import { at } from './schedule/helpers.js';
import { keep, mediaOf, useDisplaySuite } from './harness.js';
import { construct, createTestHost, fakeMeta, type TestHost } from '../media/test-host.js';

/** Wall time that starts at `start` and runs `factor` times faster than real time; timers shrink to match. */
class FastClock implements SchedulerClock {
  readonly #t0 = Date.now();
  constructor(readonly start: number, readonly factor: number) {}
  now(): number {
    return this.start + (Date.now() - this.#t0) * this.factor;
  }
  setTimer(fn: () => void, ms: number): unknown {
    return setTimeout(fn, Math.ceil(ms / this.factor));
  }
  cancelTimer(handle: unknown): void {
    clearTimeout(handle as NodeJS.Timeout);
  }
}

/** An xset that records its arguments and keeps DPMS state in files beside it, as an X server with DPMS would. */
const RECORDING_XSET = `#!/bin/sh
dir="$(dirname "$0")"
echo "$*" >> "$dir/calls.log"
[ "$1" = "-display" ] && shift 2
enabled="$(cat "$dir/enabled" 2>/dev/null || echo 0)"
monitor="$(cat "$dir/monitor" 2>/dev/null || echo On)"
case "$*" in
  q) printf 'DPMS (Energy Star):\\n  Standby: 600    Suspend: 600    Off: 600\\n'
     if [ "$enabled" = 1 ]; then printf '  DPMS is Enabled\\n  Monitor is %s\\n' "$monitor"; else printf '  DPMS is Disabled\\n'; fi ;;
  +dpms) echo 1 > "$dir/enabled" ;;
  -dpms) echo 0 > "$dir/enabled"; echo On > "$dir/monitor" ;;
  "dpms force off") echo 1 > "$dir/enabled"; echo Off > "$dir/monitor" ;;
  "dpms force on") echo 1 > "$dir/enabled"; echo On > "$dir/monitor" ;;
  "s off -dpms") echo 0 > "$dir/enabled"; echo On > "$dir/monitor" ;;
  *) echo "recording xset: unknown option $*" >&2; exit 1 ;;
esac
`;

/** Puts the recording xset in a folder of `t` and first on PATH until the returned function is called. */
async function recordingXset(t: TestHost): Promise<{ dir: string; restore: () => void }> {
  const dir = join(t.dir, 'fake-bin');
  await mkdir(dir);
  await writeFile(join(dir, 'xset'), RECORDING_XSET);
  await chmod(join(dir, 'xset'), 0o755);
  const before = process.env.PATH;
  process.env.PATH = `${dir}${delimiter}${before ?? ''}`;
  return { dir, restore: () => void (process.env.PATH = before) };
}

/** The display and media plugins on a test host, the display's power hours on `clock`; beforeStart and start run. */
async function startPowerRig(t: TestHost, display: string, options: Record<string, unknown>, clock: SchedulerClock): Promise<void> {
  construct(MediaPlugin, {}).apply(t.host);
  const copy = structuredClone({ display, audio: false, warmStills: false, ...options });
  assert.deepEqual(validateAgainst(DisplayPlugin.schema, copy, 'options'), []);
  new DisplayPlugin(copy as never, { clock }).apply(t.host);
  await t.hooks.beforeStart.promise({ role: 'node' });
  await t.hooks.start.promise({ role: 'node' });
}

const powerOf = (t: TestHost) => (t.host.status().display as { power?: { state: string; cause: string } }).power;

/**
 * One minute of on-hours, 07:00-07:01 UTC, on a clock started at 06:57 that runs 30x: asleep, on
 * after 6 s (time for the node to start and an item to show), asleep 2 s later.
 */
const HOURS = { timeZone: 'UTC', hours: [{ on: '07:00', off: '07:01' }] };
const fastClock = () => new FastClock(at('2026-12-01T06:57:00Z'), 30);

describe('screen power on a real Xvfb', function () {
  this.timeout(60_000);
  const suite = useDisplaySuite();
  let serverDpms: DpmsReading | undefined;
  const realXset = findOnPath('xset');

  before(async () => {
    if (realXset) serverDpms = await readDpms(realXset, suite.xvfb.display);
  });

  it('a node with power refuses to start on an X server without DPMS (Xvfb), saying why', async function () {
    if (!realXset) this.skip(); // then the xset-missing refusal is what a node would meet
    if (serverDpms?.supported) this.skip();
    const t = await createTestHost('power');
    try {
      await assert.rejects(startPowerRig(t, suite.xvfb.display, { power: HOURS }, fastClock()), (err: Error & { code?: string; cause?: { code?: string; details?: { reason?: string } } }) => {
        const own = err.code === 'NVID_ERR_POWER_UNAVAILABLE' ? (err as { details?: { reason?: string } }) : err.cause;
        assert.equal(err.code === 'NVID_ERR_POWER_UNAVAILABLE' ? err.code : err.cause?.code, 'NVID_ERR_POWER_UNAVAILABLE', err.message);
        assert.equal(own?.details?.reason, 'no-dpms');
        assert.match(err.message, /no DPMS extension/);
        return true;
      });
    } finally {
      await t.hooks.stop.promise({ role: 'node' }).catch(() => undefined);
      await t.dispose();
    }
  });

  it('a node with power refuses to start when xset is missing', async () => {
    const t = await createTestHost('power');
    const before = process.env.PATH;
    // A PATH of links to every program the display uses, but no xset.
    const bin = join(t.dir, 'bin-without-xset');
    await mkdir(bin);
    for (const name of ['ffplay', 'ffmpeg', 'ffprobe', 'xwininfo', 'xdotool', 'setpriv']) {
      const found = findOnPath(name);
      if (found) await symlink(found, join(bin, name));
    }
    process.env.PATH = bin;
    try {
      await assert.rejects(startPowerRig(t, suite.xvfb.display, { power: HOURS }, fastClock()), (err: Error & { code?: string; cause?: { code?: string } }) => {
        assert.equal(err.code === 'NVID_ERR_POWER_UNAVAILABLE' ? err.code : err.cause?.code, 'NVID_ERR_POWER_UNAVAILABLE', err.message);
        assert.match(err.message, /x11-xserver-utils/);
        return true;
      });
    } finally {
      process.env.PATH = before;
      await t.hooks.stop.promise({ role: 'node' }).catch(() => undefined);
      await t.dispose();
    }
  });

  it('sleeps outside the hours and wakes inside them while items keep playing on Xvfb (recording xset)', async () => {
    const t = await createTestHost('power');
    const xset = await recordingXset(t);
    try {
      await startPowerRig(t, suite.xvfb.display, { power: HOURS }, fastClock());
      const d = `-display ${suite.xvfb.display}`;
      const calls = async () => (await readFile(join(xset.dir, 'calls.log'), 'utf8')).trim().split('\n');
      const monitor = async () => (await readDpms(join(xset.dir, 'xset'), suite.xvfb.display)).monitor;
      // Started at night: the check, then asleep before anything shows.
      assert.deepEqual(await calls(), [`${d} q`, `${d} +dpms`, `${d} dpms force off`]);
      assert.equal(await monitor(), 'off');
      assert.equal(powerOf(t)?.state, 'off');

      // A pushed item plays on the real Xvfb; the screen stays asleep (wakeOnPushSeconds 0).
      const red = await keep(t, await solidPng(t.dir, 'red.png', 'red'));
      const media = await mediaOf(red);
      assert.deepEqual(await t.hooks.display.promise({ path: red, media, meta: fakeMeta('red.png', media) }), { state: 'showing' });
      await waitFor(async () => (await t.history.read({ kind: 'displayed' })).length > 0, 'the pushed item on screen');
      assert.equal(await monitor(), 'off', 'a push leaves the screen asleep');

      await waitFor(() => powerOf(t)?.state === 'on', 'the on-hours (07:00 on the fast clock)', 5000, 20);
      await waitFor(async () => (await monitor()) === 'on', 'xset to wake the screen', 2000, 20);
      await waitFor(() => powerOf(t)?.state === 'off', 'the end of the on-hours (07:01 on the fast clock)', 5000, 20);
      await waitFor(async () => (await monitor()) === 'off', 'xset to put the screen to sleep', 2000, 20);
      const issued = (await calls()).filter((c) => !c.endsWith(' q'));
      assert.deepEqual(issued, [`${d} +dpms`, `${d} dpms force off`, `${d} dpms force on`, `${d} s off -dpms`, `${d} +dpms`, `${d} dpms force off`]);

      const history = await t.history.read({ kind: 'screen-power' });
      assert.deepEqual(history.map((e) => `${String(e.state)} ${String(e.cause)}`), ['off hours', 'on hours', 'off hours']);
      assert.equal(history[1]!.next, '2026-12-01T07:01:00.000Z');

      // Stop wakes the screen: nobody would be left to wake it.
      await t.hooks.stop.promise({ role: 'node' });
      assert.equal(await monitor(), 'on');
    } finally {
      xset.restore();
      await t.hooks.stop.promise({ role: 'node' }).catch(() => undefined);
      await t.dispose();
    }
  });

  it('the real X server goes to sleep and wakes, by xset q (skipped where the server has no DPMS, as Xvfb here)', async function () {
    if (!realXset || !serverDpms?.supported) this.skip();
    const t = await createTestHost('power');
    try {
      await startPowerRig(t, suite.xvfb.display, { power: HOURS }, fastClock());
      const monitor = async () => (await readDpms(realXset!, suite.xvfb.display)).monitor;
      assert.equal(await monitor(), 'off');
      await waitFor(async () => (await monitor()) === 'on', 'the screen to wake at 07:00 (fast clock)', 5000, 20);
      await waitFor(async () => (await monitor()) === 'off', 'the screen to sleep at 07:01 (fast clock)', 5000, 20);
      await t.hooks.stop.promise({ role: 'node' });
      assert.equal(await monitor(), 'on');
    } finally {
      await t.hooks.stop.promise({ role: 'node' }).catch(() => undefined);
      await t.dispose();
    }
  });
});
