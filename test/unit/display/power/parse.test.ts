/** The power option's checks: every problem at once, with key paths; and what `xset q` says about DPMS. */
import assert from 'node:assert/strict';
import { NvidError } from '../../../../core/errors.js';
import { parseXsetQuery } from '../../../../plugins/display/power/dpms.js';
import { parsePower } from '../../../../plugins/display/power/parse.js';

function problemsOf(input: unknown): string[] {
  try {
    parsePower(input, { prefix: 'display.options.power' });
  } catch (err) {
    assert.ok(err instanceof NvidError);
    assert.equal(err.code, 'NVID_ERR_POWER_INVALID');
    return err.details!.problems as string[];
  }
  assert.fail('the power option was accepted');
}

describe('the power option is checked whole', () => {
  it('lists every problem with its key path', () => {
    const problems = problemsOf({
      timeZone: 'Europe/Berlinn',
      hours: [{ on: '25:00', off: '22:00' }, { on: '07:00', off: '07:00' }, { on: '7:00', off: '24:00', days: ['mon', 'funday'] }, { on: '08:00' }],
      wakeOnPushSeconds: -1,
      colour: 'blue',
    });
    for (const expected of [
      'display.options.power.timeZone: unknown time zone "Europe/Berlinn"',
      'display.options.power.hours[0].on: "25:00" is not a time of day HH:MM',
      'display.options.power.hours[1]: on and off are both 07:00',
      'display.options.power.hours[2].on: "7:00" is not a time of day HH:MM',
      'display.options.power.hours[2].days',
      'display.options.power.hours[3]',
      'display.options.power.wakeOnPushSeconds',
      'colour',
    ]) {
      assert.ok(problems.some((p) => p.includes(expected)), `no problem says ${expected}:\n${problems.join('\n')}`);
    }
  });

  it('refuses an empty list of hours', () => {
    assert.ok(problemsOf({ hours: [] }).some((p) => p.startsWith('display.options.power.hours')));
  });

  it('reads good hours: off at or before on ends the next day, 24:00 is midnight, days default to every day', () => {
    const plan = parsePower({ timeZone: 'Europe/Berlin', hours: [{ on: '18:00', off: '02:00', days: ['fri'] }, { on: '07:00', off: '24:00' }] });
    assert.equal(plan.schedule.timeZone, 'Europe/Berlin');
    assert.equal(plan.wakeOnPushSeconds, 0);
    const [night, day] = plan.schedule.entries;
    assert.deepEqual([night!.startMinute, night!.endMinute, [...night!.days]], [18 * 60, 2 * 60, [5]]);
    assert.deepEqual([day!.startMinute, day!.endMinute, day!.days.size], [7 * 60, 24 * 60, 7]);
  });
});

describe('xset q, read', () => {
  it('tells a server without DPMS, a monitor off, on, and DPMS disabled', () => {
    assert.deepEqual(parseXsetQuery('Font Path:\n  built-ins\nDPMS (Energy Star):\n  Server does not have the DPMS Extension\n'), { supported: false });
    const enabled = 'DPMS (Energy Star):\n  Standby: 600    Suspend: 600    Off: 600\n  DPMS is Enabled\n';
    assert.deepEqual(parseXsetQuery(`${enabled}  Monitor is Off\n`), { supported: true, enabled: true, monitor: 'off' });
    assert.deepEqual(parseXsetQuery(`${enabled}  Monitor is On\n`), { supported: true, enabled: true, monitor: 'on' });
    assert.deepEqual(parseXsetQuery(`${enabled}  Monitor is in Standby\n`), { supported: true, enabled: true, monitor: 'standby' });
    assert.deepEqual(parseXsetQuery('DPMS (Energy Star):\n  Standby: 600    Suspend: 600    Off: 600\n  DPMS is Disabled\n'), { supported: true, enabled: false, monitor: 'on' });
  });
});
