/**
 * The café menu board of config/cafe-menu-board.json, as its owner would
 * check it: breakfast 06:00–11:00, lunch until 15:00, closed otherwise, a
 * winter weekend brunch that takes over Saturday and Sunday mornings, and a
 * Christmas menu that leaves the lunch playlist after Christmas Eve. Berlin
 * is on UTC+01:00 in winter.
 */
import assert from 'node:assert/strict';
import { activeAt, nextChangeAfter } from '../../../../plugins/display/schedule/evaluate.js';
import { parseSignage } from '../../../../plugins/display/schedule/parse.js';
import { validItems } from '../../../../plugins/display/schedule/validity.js';
import type { Schedule, Signage } from '../../../../plugins/display/schedule/types.js';
import { at, cafeOptions } from './helpers.js';

/** The playlists in play from `from` on, each with the instant it starts, until `to`. */
function dayPlan(schedule: Schedule, from: number, to: number): Array<[string, string]> {
  const plan: Array<[string, string]> = [[new Date(from).toISOString(), activeAt(schedule, from).playlist]];
  for (let t = nextChangeAfter(schedule, from); t !== undefined && t < to; t = nextChangeAfter(schedule, t)) {
    plan.push([new Date(t).toISOString(), activeAt(schedule, t).playlist]);
  }
  return plan;
}

describe('a café menu board runs itself', () => {
  let cafe: Signage;
  let schedule: Schedule;
  before(() => {
    const options = cafeOptions();
    cafe = parseSignage(options, { imageSeconds: options.imageSeconds as number });
    schedule = cafe.schedule!;
  });

  it('on a Monday: closed until 06:00, breakfast, lunch at 11:00, closed again at 15:00', () => {
    assert.equal(activeAt(schedule, at('2026-12-07T05:59:59.999+01:00')).playlist, 'closed');
    assert.equal(nextChangeAfter(schedule, at('2026-12-07T05:59:59.999+01:00')), at('2026-12-07T06:00+01:00'));
    assert.equal(activeAt(schedule, at('2026-12-07T06:00+01:00')).playlist, 'breakfast');
    assert.equal(activeAt(schedule, at('2026-12-07T10:59:59.999+01:00')).playlist, 'breakfast');
    assert.deepEqual(dayPlan(schedule, at('2026-12-07T00:00+01:00'), at('2026-12-08T00:00+01:00')), [
      ['2026-12-06T23:00:00.000Z', 'closed'],
      ['2026-12-07T05:00:00.000Z', 'breakfast'],
      ['2026-12-07T10:00:00.000Z', 'lunch'],
      ['2026-12-07T14:00:00.000Z', 'closed'],
    ]);
  });

  it('the switch is an exact instant: to the millisecond, not the next minute', () => {
    // 2026-12-07 11:00 in Berlin is 10:00 UTC: 1 796 637 600 000 ms after the epoch.
    assert.equal(nextChangeAfter(schedule, at('2026-12-07T06:00+01:00')), 1_796_637_600_000);
    assert.equal(nextChangeAfter(schedule, 1_796_637_600_000 - 1), 1_796_637_600_000);
    assert.equal(nextChangeAfter(schedule, 1_796_637_600_000), at('2026-12-07T15:00+01:00'));
  });

  it('closed overnight: from Monday 15:00 the next change is Tuesday breakfast', () => {
    assert.equal(activeAt(schedule, at('2026-12-07T23:30+01:00')).playlist, 'closed');
    assert.equal(activeAt(schedule, at('2026-12-07T23:30+01:00')).entry, undefined, 'the default, chosen by no entry');
    assert.equal(nextChangeAfter(schedule, at('2026-12-07T15:00+01:00')), at('2026-12-08T06:00+01:00'));
  });

  it('on a winter Saturday the brunch (priority 10) takes 09:00–14:00 from breakfast and lunch', () => {
    assert.deepEqual(dayPlan(schedule, at('2026-12-05T00:00+01:00'), at('2026-12-06T00:00+01:00')), [
      ['2026-12-04T23:00:00.000Z', 'closed'],
      ['2026-12-05T05:00:00.000Z', 'breakfast'],
      ['2026-12-05T08:00:00.000Z', 'weekend-brunch'],
      ['2026-12-05T13:00:00.000Z', 'lunch'],
      ['2026-12-05T14:00:00.000Z', 'closed'],
    ]);
    assert.equal(activeAt(schedule, at('2026-12-05T12:00+01:00')).entry?.name, 'winter weekend brunch');
  });

  it('the brunch starts on its first day and ends after its last', () => {
    const saturday = (date: string) => dayPlan(schedule, at(`${date}T00:00+01:00`), at(`${date}T23:59+01:00`)).map(([, p]) => p);
    // The Saturday before 2026-12-05, and the first one after 2027-02-28: breakfast and lunch only.
    assert.deepEqual(saturday('2026-11-28'), ['closed', 'breakfast', 'lunch', 'closed']);
    assert.deepEqual(saturday('2027-03-06'), ['closed', 'breakfast', 'lunch', 'closed']);
    // Its last day, Sunday 2027-02-28, still has it.
    assert.deepEqual(saturday('2027-02-28'), ['closed', 'breakfast', 'weekend-brunch', 'lunch', 'closed']);
  });

  it('the Christmas menu is in the lunch playlist through Christmas Eve and leaves at midnight', () => {
    const lunch = cafe.playlists.get('lunch')!;
    const names = (t: number) => validItems(lunch, t).items.map((i) => i.name);
    assert.deepEqual(names(at('2026-12-24T12:00+01:00')), ['lunch-menu.png', 'christmas-menu.png', '../menus/daily-specials']);
    assert.equal(validItems(lunch, at('2026-12-24T12:00+01:00')).nextChange, at('2026-12-25T00:00+01:00'));
    assert.deepEqual(names(at('2026-12-25T12:00+01:00')), ['lunch-menu.png', '../menus/daily-specials']);
    // …and the spring salads join on 2027-03-01, a date in winter time.
    assert.equal(validItems(lunch, at('2026-12-25T12:00+01:00')).nextChange, at('2027-03-01T00:00+01:00'));
    assert.deepEqual(names(at('2027-03-01T11:00+01:00')), ['lunch-menu.png', 'spring-salads.png', '../menus/daily-specials']);
  });

  it('stills stay up as long as their item says, else the display\'s imageSeconds', () => {
    const seconds = (playlist: string) => cafe.playlists.get(playlist)!.items.map((i) => i.seconds);
    assert.deepEqual(seconds('breakfast'), [15, 10]);
    assert.deepEqual(seconds('closed'), [0]);
    assert.deepEqual(cafe.playlists.get('lunch')!.items.map((i) => i.kind), ['file', 'file', 'file', 'folder']);
  });
});
