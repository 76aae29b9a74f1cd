/**
 * The scheduler on a fake clock: the café board's changes told at their exact
 * instants over days, waits longer than setTimeout can hold, the system time
 * set forwards and backwards, timers firing a millisecond early, and a
 * campaign that leaves the playlist in the middle of the morning.
 */
import assert from 'node:assert/strict';
import type { Active } from '../../../../plugins/display/schedule/evaluate.js';
import { MAX_TIMER_MS, Scheduler } from '../../../../plugins/display/schedule/scheduler.js';
import { playlistTimeline, programmeTimeline, type Programme } from '../../../../plugins/display/schedule/timeline.js';
import { at, cafeOptions, FakeClock, signage } from './helpers.js';

/** A scheduler of the café's playlists on `clock`, and the changes it told: [when, playlist]. */
function cafeScheduler(clock: FakeClock) {
  const told: Array<[number, string]> = [];
  const scheduler = new Scheduler<Active>(playlistTimeline(signage(cafeOptions()).schedule), {
    clock,
    onChange: (active, when) => told.push([when, active.playlist]),
  });
  return { scheduler, told };
}

describe('a scheduler runs the café board on its own', () => {
  it('tells the playlist at start, then each change at its exact instant, over a weekday and a brunch Saturday', () => {
    const clock = new FakeClock(at('2026-12-04T05:00+01:00')); // a Friday
    const { scheduler, told } = cafeScheduler(clock);
    scheduler.start();
    assert.deepEqual(told, [[at('2026-12-04T05:00+01:00'), 'closed']]);
    assert.equal(scheduler.nextChange, at('2026-12-04T06:00+01:00'));
    clock.advanceTo(at('2026-12-06T00:00+01:00'));
    assert.deepEqual(told, [
      [at('2026-12-04T05:00+01:00'), 'closed'],
      [at('2026-12-04T06:00+01:00'), 'breakfast'],
      [at('2026-12-04T11:00+01:00'), 'lunch'],
      [at('2026-12-04T15:00+01:00'), 'closed'],
      [at('2026-12-05T06:00+01:00'), 'breakfast'],
      [at('2026-12-05T09:00+01:00'), 'weekend-brunch'],
      [at('2026-12-05T14:00+01:00'), 'lunch'],
      [at('2026-12-05T15:00+01:00'), 'closed'],
    ]);
    // One timer per change, each exactly as long as the wait: nothing polls.
    assert.deepEqual(clock.delays.slice(0, 4), [3_600_000, 5 * 3_600_000, 4 * 3_600_000, 15 * 3_600_000]);
    assert.equal(clock.pending, 1);
    scheduler.stop();
    assert.equal(clock.pending, 0, 'stop cancels the timer');
    clock.advanceTo(at('2026-12-07T12:00+01:00'));
    assert.equal(told.length, 8, 'nothing told after stop');
  });

  it('a wait longer than setTimeout holds is cut into capped timers, and the change still comes exactly', () => {
    const playlists = { promo: { items: [{ file: 'promo.png' }] }, idle: { items: [] } };
    const schedule = signage({ playlists, schedule: { timeZone: 'Europe/Berlin', default: 'idle', entries: [{ start: '09:00', end: '17:00', from: '2027-03-01', playlist: 'promo' }] } }).schedule;
    const clock = new FakeClock(at('2026-12-01T12:00+01:00'));
    const told: Array<[number, string]> = [];
    const scheduler = new Scheduler<Active>(playlistTimeline(schedule), { clock, onChange: (a, when) => told.push([when, a.playlist]) });
    scheduler.start();
    clock.advanceTo(at('2027-03-01T12:00+01:00'));
    assert.deepEqual(told, [
      [at('2026-12-01T12:00+01:00'), 'idle'],
      [at('2027-03-01T09:00+01:00'), 'promo'],
    ]);
    const wait = at('2027-03-01T09:00+01:00') - at('2026-12-01T12:00+01:00');
    assert.ok(wait > 3 * MAX_TIMER_MS);
    assert.deepEqual(clock.delays.slice(0, 4), [MAX_TIMER_MS, MAX_TIMER_MS, MAX_TIMER_MS, wait - 3 * MAX_TIMER_MS]);
    assert.ok(clock.delays.every((d) => d <= MAX_TIMER_MS));
  });

  it('a smaller maxDelayMs re-checks more often without telling anything twice', () => {
    const clock = new FakeClock(at('2026-12-07T05:00+01:00'));
    const told: string[] = [];
    const scheduler = new Scheduler<Active>(playlistTimeline(signage(cafeOptions()).schedule), { clock, maxDelayMs: 600_000, onChange: (a) => told.push(a.playlist) });
    scheduler.start();
    clock.advanceTo(at('2026-12-07T12:00+01:00'));
    assert.deepEqual(told, ['closed', 'breakfast', 'lunch']);
    assert.ok(clock.delays.every((d) => d <= 600_000));
  });

  it('the system time set forward: the late timer catches up, and recheck() does at once', () => {
    const clock = new FakeClock(at('2026-12-07T05:00+01:00'));
    const { scheduler, told } = cafeScheduler(clock);
    scheduler.start(); // a timer for 06:00, one hour away
    clock.setSystemTime(at('2026-12-07T09:00+01:00')); // NTP after boot: four hours later than the board thought
    clock.advance(1_800_000); // 09:30 by the wall; the timer has half an hour to go
    assert.deepEqual(told.map(([, p]) => p), ['closed'], 'a timer cannot know the clock moved');
    scheduler.recheck();
    assert.deepEqual(told.at(-1), [at('2026-12-07T09:30+01:00'), 'breakfast']);
    clock.advanceTo(at('2026-12-07T11:00+01:00'));
    assert.deepEqual(told.at(-1), [at('2026-12-07T11:00+01:00'), 'lunch'], 'and the next change is exact again');
    assert.equal(told.length, 3);
  });

  it('the system time set forward with no recheck: the timer fires late, re-evaluates, and tells what is on now', () => {
    const clock = new FakeClock(at('2026-12-07T05:00+01:00'));
    const { scheduler, told } = cafeScheduler(clock);
    scheduler.start();
    clock.setSystemTime(at('2026-12-07T09:00+01:00'));
    clock.advanceTo(at('2026-12-07T10:00+01:00')); // the one-hour timer fires at 10:00 by the new wall clock
    assert.deepEqual(told, [
      [at('2026-12-07T05:00+01:00'), 'closed'],
      [at('2026-12-07T10:00+01:00'), 'breakfast'],
    ]);
    clock.advanceTo(at('2026-12-07T11:00+01:00'));
    assert.deepEqual(told.at(-1), [at('2026-12-07T11:00+01:00'), 'lunch']);
  });

  it('the system time set back: the timer fires early by the wall clock, finds another playlist, and re-arms', () => {
    const clock = new FakeClock(at('2026-12-07T12:00+01:00'));
    const { scheduler, told } = cafeScheduler(clock);
    scheduler.start(); // lunch; a timer for 15:00, three hours away
    clock.setSystemTime(at('2026-12-07T07:00+01:00'));
    clock.advance(3 * 3_600_000); // fires at 10:00 by the wall clock
    assert.deepEqual(told, [
      [at('2026-12-07T12:00+01:00'), 'lunch'],
      [at('2026-12-07T10:00+01:00'), 'breakfast'],
    ]);
    assert.equal(scheduler.nextChange, at('2026-12-07T11:00+01:00'));
    clock.advanceTo(at('2026-12-07T11:00+01:00'));
    assert.deepEqual(told.at(-1), [at('2026-12-07T11:00+01:00'), 'lunch']);
  });

  it('a timer that fires a millisecond early re-arms for that millisecond and tells the change once, on time', () => {
    const clock = new FakeClock(at('2026-12-07T05:00+01:00'), { earlyMs: 1 });
    const { scheduler, told } = cafeScheduler(clock);
    scheduler.start();
    clock.advanceTo(at('2026-12-07T11:30+01:00'));
    assert.deepEqual(told, [
      [at('2026-12-07T05:00+01:00'), 'closed'],
      [at('2026-12-07T06:00+01:00'), 'breakfast'],
      [at('2026-12-07T11:00+01:00'), 'lunch'],
    ]);
    assert.deepEqual(clock.delays.slice(0, 3), [3_600_000, 1, 5 * 3_600_000], 'the early timer, then one for the last millisecond');
  });

  it('an onChange that throws is reported, and the scheduler keeps going', () => {
    const clock = new FakeClock(at('2026-12-07T05:00+01:00'));
    const errors: unknown[] = [];
    const told: string[] = [];
    const scheduler = new Scheduler<Active>(playlistTimeline(signage(cafeOptions()).schedule), {
      clock,
      onChange: (a) => {
        told.push(a.playlist);
        if (a.playlist === 'breakfast') throw new Error('player busy');
      },
      onError: (err) => errors.push(err),
    });
    scheduler.start();
    clock.advanceTo(at('2026-12-07T12:00+01:00'));
    assert.deepEqual(told, ['closed', 'breakfast', 'lunch']);
    assert.equal((errors[0] as Error).message, 'player busy');
  });
});

describe('a campaign leaves the screen at its end, with the scheduler', () => {
  it('an offer until 10:30 drops out of breakfast at 10:30 exactly, and the rest of the playlist plays on', () => {
    const playlists = {
      breakfast: { items: [{ file: 'menu.png' }, { file: 'croissant-offer.png', until: '2026-12-07T10:30' }] },
      closed: { items: [] },
    };
    const board = signage({ playlists, schedule: { timeZone: 'Europe/Berlin', default: 'closed', entries: [{ start: '06:00', end: '11:00', playlist: 'breakfast' }] } });
    const clock = new FakeClock(at('2026-12-07T05:00+01:00'));
    const told: Array<[number, string, string[]]> = [];
    const scheduler = new Scheduler<Programme>(programmeTimeline(board), {
      clock,
      onChange: (p, when) => told.push([when, p.playlist, p.items.map((i) => i.name)]),
    });
    scheduler.start();
    clock.advanceTo(at('2026-12-08T12:00+01:00'));
    assert.deepEqual(told, [
      [at('2026-12-07T05:00+01:00'), 'closed', []],
      [at('2026-12-07T06:00+01:00'), 'breakfast', ['menu.png', 'croissant-offer.png']],
      [at('2026-12-07T10:30+01:00'), 'breakfast', ['menu.png']],
      [at('2026-12-07T11:00+01:00'), 'closed', []],
      [at('2026-12-08T06:00+01:00'), 'breakfast', ['menu.png']],
      [at('2026-12-08T11:00+01:00'), 'closed', []],
    ]);
  });

  it('an offer that starts mid-morning joins at its start', () => {
    const playlists = { breakfast: { items: [{ file: 'menu.png' }, { file: 'lunch-teaser.png', from: '2026-12-07T09:45:30Z' }] }, closed: { items: [] } };
    const board = signage({ playlists, schedule: { timeZone: 'Europe/Berlin', default: 'closed', entries: [{ start: '06:00', end: '11:00', playlist: 'breakfast' }] } });
    const timeline = programmeTimeline(board);
    // 09:45:30 UTC is 10:45:30 in Berlin: an instant given with its offset is that instant whatever the zone.
    assert.equal(timeline.nextChangeAfter(at('2026-12-07T06:00+01:00')), at('2026-12-07T10:45:30+01:00'));
    assert.deepEqual(timeline.at(at('2026-12-07T10:45:30+01:00')).items.map((i) => i.name), ['menu.png', 'lunch-teaser.png']);
  });
});
