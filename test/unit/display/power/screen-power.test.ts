/**
 * Screen power on a fake clock: the screen is put to sleep and woken at the
 * exact instants of its on-hours (also across midnight and on the DST days
 * of Europe/Berlin), starts asleep at night, stays asleep for a push unless
 * wakeOnPushSeconds says otherwise, and is woken on stop.
 */
import assert from 'node:assert/strict';
import { parsePower, type PowerState } from '../../../../plugins/display/power/parse.js';
import { ScreenPower, type PowerChange } from '../../../../plugins/display/power/screen-power.js';
import { at, FakeClock } from '../schedule/helpers.js';

/**
 * A ScreenPower on `clock`. `applied()` waits for the xset calls made so far and returns them as
 * [clock time of the switch, state]; the calls run after the switch is told, in order.
 */
function rig(clock: FakeClock, power: Record<string, unknown>) {
  const calls: PowerState[] = [];
  const changes: PowerChange[] = [];
  const screen = new ScreenPower({
    plan: parsePower(power),
    clock,
    apply: async (state) => {
      calls.push(state);
    },
    onChange: (change) => changes.push(change),
  });
  const applied = async (): Promise<Array<[number, PowerState]>> => {
    await screen.settled();
    assert.deepEqual(calls, changes.map((c) => c.state), 'xset is called once per switch, in order');
    return changes.map((c) => [c.at, c.state]);
  };
  return { screen, applied, changes };
}

const BERLIN = 'Europe/Berlin';

describe('screen power follows its on-hours', () => {
  it('a node started at night starts asleep, wakes at 07:00 and sleeps at 22:00 sharp, day after day', async () => {
    const clock = new FakeClock(at('2026-12-01T03:00+01:00'));
    const { screen, applied, changes } = rig(clock, { timeZone: BERLIN, hours: [{ on: '07:00', off: '22:00' }] });
    await screen.start();
    assert.deepEqual(await applied(), [[at('2026-12-01T03:00+01:00'), 'off']]);
    assert.equal(screen.status().state, 'off');
    assert.equal(screen.status().next?.at, new Date(at('2026-12-01T07:00+01:00')).toISOString());
    assert.deepEqual(changes[0], { state: 'off', cause: 'hours', at: at('2026-12-01T03:00+01:00'), next: { at: at('2026-12-01T07:00+01:00'), state: 'on' } });
    clock.advanceTo(at('2026-12-03T00:00+01:00'));
    assert.deepEqual(await applied(), [
      [at('2026-12-01T03:00+01:00'), 'off'],
      [at('2026-12-01T07:00+01:00'), 'on'],
      [at('2026-12-01T22:00+01:00'), 'off'],
      [at('2026-12-02T07:00+01:00'), 'on'],
      [at('2026-12-02T22:00+01:00'), 'off'],
    ]);
    // One timer per switch, exactly as long as the wait.
    assert.deepEqual(clock.delays.slice(0, 3), [4 * 3_600_000, 15 * 3_600_000, 9 * 3_600_000]);
    await screen.stop();
    assert.equal(clock.pending, 0, 'stop cancels the timer');
  });

  it('a node started by day wakes the screen at once (a crashed run may have left it asleep)', async () => {
    const clock = new FakeClock(at('2026-12-01T12:00+01:00'));
    const { screen, applied } = rig(clock, { timeZone: BERLIN, hours: [{ on: '07:00', off: '22:00' }] });
    await screen.start();
    assert.deepEqual(await applied(), [[at('2026-12-01T12:00+01:00'), 'on']]);
    await screen.stop();
    assert.deepEqual((await applied()).length, 1, 'an awake screen needs nothing on stop');
  });

  it('hours crossing midnight: on Friday and Saturday 18:00 to 02:00, asleep the rest of the week', async () => {
    const clock = new FakeClock(at('2026-12-03T12:00+01:00')); // a Thursday
    const { screen, applied } = rig(clock, { timeZone: BERLIN, hours: [{ days: ['fri', 'sat'], on: '18:00', off: '02:00' }] });
    await screen.start();
    clock.advanceTo(at('2026-12-08T00:00+01:00'));
    assert.deepEqual(await applied(), [
      [at('2026-12-03T12:00+01:00'), 'off'],
      [at('2026-12-04T18:00+01:00'), 'on'],
      [at('2026-12-05T02:00+01:00'), 'off'],
      [at('2026-12-05T18:00+01:00'), 'on'],
      [at('2026-12-06T02:00+01:00'), 'off'],
    ]);
    await screen.stop();
  });

  it('windows that touch or overlap are one stretch of on-hours: no sleep in between', async () => {
    const clock = new FakeClock(at('2026-12-01T05:00+01:00'));
    const { screen, applied } = rig(clock, { timeZone: BERLIN, hours: [{ on: '07:00', off: '12:00' }, { on: '12:00', off: '18:00' }, { on: '16:00', off: '20:00' }] });
    await screen.start();
    clock.advanceTo(at('2026-12-01T23:00+01:00'));
    assert.deepEqual(await applied(), [
      [at('2026-12-01T05:00+01:00'), 'off'],
      [at('2026-12-01T07:00+01:00'), 'on'],
      [at('2026-12-01T20:00+01:00'), 'off'],
    ]);
    await screen.stop();
  });

  it('on the spring-forward night in Berlin (2026-03-29) an off time the clock skips means the jump, and the on time is local', async () => {
    // 20:00 to 02:30: on 29 March the clock goes from 01:59:59 CET to 03:00 CEST, so 02:30 means 03:00 CEST.
    const clock = new FakeClock(at('2026-03-28T12:00+01:00'));
    const { screen, applied } = rig(clock, { timeZone: BERLIN, hours: [{ on: '20:00', off: '02:30' }] });
    await screen.start();
    clock.advanceTo(at('2026-03-30T12:00+02:00'));
    assert.deepEqual(await applied(), [
      [at('2026-03-28T12:00+01:00'), 'off'],
      [at('2026-03-28T20:00+01:00'), 'on'],
      [at('2026-03-29T03:00+02:00'), 'off'], // 6 hours on: 20:00 CET to the jump
      [at('2026-03-29T20:00+02:00'), 'on'], // summer time from now on
      [at('2026-03-30T02:30+02:00'), 'off'],
    ]);
    assert.equal(at('2026-03-29T03:00+02:00') - at('2026-03-28T20:00+01:00'), 6 * 3_600_000);
    await screen.stop();
  });

  it('on the fall-back night (2026-10-25) a time the clock shows twice means its first showing', async () => {
    const clock = new FakeClock(at('2026-10-24T12:00+02:00'));
    const { screen, applied } = rig(clock, { timeZone: BERLIN, hours: [{ on: '20:00', off: '02:30' }] });
    await screen.start();
    clock.advanceTo(at('2026-10-25T12:00+01:00'));
    assert.deepEqual(await applied(), [
      [at('2026-10-24T12:00+02:00'), 'off'],
      [at('2026-10-24T20:00+02:00'), 'on'],
      [at('2026-10-25T02:30+02:00'), 'off'], // the first 02:30 (CEST), an hour before the second
    ]);
    await screen.stop();
  });

  it('a push while asleep leaves the screen asleep (wakeOnPushSeconds 0, the default)', async () => {
    const clock = new FakeClock(at('2026-12-01T23:00+01:00'));
    const { screen, applied } = rig(clock, { timeZone: BERLIN, hours: [{ on: '07:00', off: '22:00' }] });
    await screen.start();
    screen.pushed();
    assert.deepEqual(await applied(), [[at('2026-12-01T23:00+01:00'), 'off']]);
    await screen.stop();
  });

  it('with wakeOnPushSeconds a push wakes a sleeping screen for that long, a later push extends it, the on-hours end it', async () => {
    const clock = new FakeClock(at('2026-12-01T23:00+01:00'));
    const { screen, applied, changes } = rig(clock, { timeZone: BERLIN, hours: [{ on: '07:00', off: '22:00' }], wakeOnPushSeconds: 60 });
    await screen.start();
    screen.pushed();
    assert.equal(screen.status().wokenUntil, new Date(at('2026-12-01T23:01+01:00')).toISOString());
    clock.advance(30_000);
    screen.pushed(); // awake already: only the wake is extended, to 23:01:30
    clock.advanceTo(at('2026-12-01T23:05+01:00'));
    assert.deepEqual(await applied(), [
      [at('2026-12-01T23:00+01:00'), 'off'],
      [at('2026-12-01T23:00+01:00'), 'on'],
      [at('2026-12-01T23:01:30+01:00'), 'off'],
    ]);
    assert.deepEqual(changes.map((c) => `${c.state} ${c.cause}`), ['off hours', 'on push', 'off hours']);
    // A push a few seconds before the on-hours: the hours take over, nothing sleeps at the end of the wake.
    clock.advanceTo(at('2026-12-02T06:59:30+01:00'));
    screen.pushed();
    clock.advanceTo(at('2026-12-02T08:00+01:00'));
    assert.deepEqual((await applied()).slice(3), [[at('2026-12-02T06:59:30+01:00'), 'on']]);
    assert.equal(screen.status().cause, 'push', 'still on since the push');
    // By day a push changes nothing.
    screen.pushed();
    assert.equal(screen.status().wokenUntil, undefined);
    clock.advanceTo(at('2026-12-02T22:00+01:00'));
    assert.deepEqual((await applied()).slice(4), [[at('2026-12-02T22:00+01:00'), 'off']]);
    await screen.stop();
  });

  it('stop wakes a sleeping screen, and a failing xset is reported while the hours go on', async () => {
    const clock = new FakeClock(at('2026-12-01T21:00+01:00'));
    const errors: Array<[string, PowerState]> = [];
    const applied: PowerState[] = [];
    let fail = true;
    const screen = new ScreenPower({
      plan: parsePower({ timeZone: BERLIN, hours: [{ on: '07:00', off: '22:00' }] }),
      clock,
      apply: async (state) => {
        if (fail) throw new Error('xset: unable to open display');
        applied.push(state);
      },
      onError: (err, state) => errors.push([(err as Error).message, state]),
    });
    await screen.start();
    assert.deepEqual(errors, [['xset: unable to open display', 'on']]);
    fail = false;
    clock.advanceTo(at('2026-12-01T23:00+01:00'));
    await screen.settled();
    assert.deepEqual(applied, ['off'], 'the next switch still happens');
    await screen.stop();
    assert.deepEqual(applied, ['off', 'on'], 'stop wakes the screen');
    assert.equal(clock.pending, 0);
  });
});
