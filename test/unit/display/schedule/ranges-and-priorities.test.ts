/**
 * A shop's screen over a few weeks: entries that start and stop on dates,
 * windows that overlap (the higher priority wins, a tie goes to the entry
 * listed first), the default playlist in every gap, and schedules that never
 * change again. Berlin, summer time (UTC+02:00), June 2026: the 1st is a Monday.
 */
import assert from 'node:assert/strict';
import { activeAt, nextChangeAfter } from '../../../../plugins/display/schedule/evaluate.js';
import type { ScheduleEntryInput } from '../../../../plugins/display/schedule/types.js';
import { at, signage } from './helpers.js';

const PLAYLISTS = {
  shop: { items: [{ file: 'shop.png' }] },
  sale: { items: [{ file: 'sale.png' }] },
  happy: { items: [{ file: 'happy-hour.png' }] },
  news: { items: [{ file: 'news.png' }] },
  dark: { items: [] },
};

function shop(...entries: ScheduleEntryInput[]) {
  return signage({ playlists: PLAYLISTS, schedule: { timeZone: 'Europe/Berlin', default: 'dark', entries } }).schedule;
}

describe('a summer sale that starts and ends on dates', () => {
  const schedule = shop(
    { start: '09:00', end: '18:00', playlist: 'shop' },
    { start: '09:00', end: '18:00', from: '2026-06-10', until: '2026-06-20', priority: 1, playlist: 'sale' },
  );

  it('shows the shop before the sale, the sale from its first day to its last, the shop after', () => {
    assert.equal(activeAt(schedule, at('2026-06-09T12:00+02:00')).playlist, 'shop');
    assert.equal(activeAt(schedule, at('2026-06-10T09:00+02:00')).playlist, 'sale');
    assert.equal(activeAt(schedule, at('2026-06-20T17:59:59.999+02:00')).playlist, 'sale');
    assert.equal(activeAt(schedule, at('2026-06-21T12:00+02:00')).playlist, 'shop');
  });

  it('the first switch to the sale is at 09:00 on its first day, the last switch back at 09:00 the day after its last', () => {
    // Evening of the 9th: dark until the 10th, then the sale at opening time.
    assert.equal(nextChangeAfter(schedule, at('2026-06-09T18:00+02:00')), at('2026-06-10T09:00+02:00'));
    assert.equal(nextChangeAfter(schedule, at('2026-06-20T09:00+02:00')), at('2026-06-20T18:00+02:00'));
    assert.equal(activeAt(schedule, at('2026-06-21T09:00+02:00')).playlist, 'shop');
  });

  it('an entry that begins in years finds its first window without walking every day', () => {
    const later = shop({ start: '09:00', end: '18:00', from: '2031-01-06', playlist: 'sale' });
    const started = performance.now();
    assert.equal(nextChangeAfter(later, at('2026-06-01T00:00+02:00')), at('2031-01-06T09:00+01:00'));
    assert.ok(performance.now() - started < 2000, 'jumps over the years in which nothing is in range');
  });
});

describe('overlapping windows', () => {
  it('a happy hour (priority 5) interrupts the shop 17:00–19:00, and the shop resumes if it is still open', () => {
    const schedule = shop({ start: '09:00', end: '20:00', playlist: 'shop' }, { start: '17:00', end: '19:00', priority: 5, playlist: 'happy' });
    const day: Array<[number, string]> = [];
    for (let t: number | undefined = at('2026-06-01T00:00+02:00'); t !== undefined && t < at('2026-06-02T00:00+02:00'); t = nextChangeAfter(schedule, t)) {
      day.push([t, activeAt(schedule, t).playlist]);
    }
    assert.deepEqual(day, [
      [at('2026-06-01T00:00+02:00'), 'dark'],
      [at('2026-06-01T09:00+02:00'), 'shop'],
      [at('2026-06-01T17:00+02:00'), 'happy'],
      [at('2026-06-01T19:00+02:00'), 'shop'],
      [at('2026-06-01T20:00+02:00'), 'dark'],
    ]);
  });

  it('a lower priority listed first loses; on a tie the entry listed first wins', () => {
    const lowFirst = shop({ start: '10:00', end: '12:00', priority: 1, playlist: 'news' }, { start: '11:00', end: '13:00', priority: 2, playlist: 'sale' });
    assert.equal(activeAt(lowFirst, at('2026-06-01T11:30+02:00')).playlist, 'sale');
    const tieNewsFirst = shop({ start: '10:00', end: '12:00', playlist: 'news' }, { start: '11:00', end: '13:00', playlist: 'sale' });
    const tieSaleFirst = shop({ start: '11:00', end: '13:00', playlist: 'sale' }, { start: '10:00', end: '12:00', playlist: 'news' });
    assert.equal(activeAt(tieNewsFirst, at('2026-06-01T11:30+02:00')).playlist, 'news');
    assert.equal(activeAt(tieSaleFirst, at('2026-06-01T11:30+02:00')).playlist, 'sale');
    // With news first, sale only gets 12:00–13:00.
    assert.equal(nextChangeAfter(tieNewsFirst, at('2026-06-01T10:00+02:00')), at('2026-06-01T12:00+02:00'));
    assert.equal(activeAt(tieNewsFirst, at('2026-06-01T12:00+02:00')).playlist, 'sale');
  });

  it('negative priorities rank below the default of 0', () => {
    const schedule = shop({ start: '08:00', end: '20:00', priority: -1, playlist: 'news' }, { start: '09:00', end: '18:00', playlist: 'shop' });
    assert.equal(activeAt(schedule, at('2026-06-01T08:30+02:00')).playlist, 'news');
    assert.equal(activeAt(schedule, at('2026-06-01T12:00+02:00')).playlist, 'shop');
  });

  it('two entries showing the same playlist back to back make no change between them', () => {
    const schedule = shop({ start: '09:00', end: '13:00', playlist: 'shop' }, { start: '13:00', end: '18:00', playlist: 'shop' });
    assert.equal(nextChangeAfter(schedule, at('2026-06-01T09:00+02:00')), at('2026-06-01T18:00+02:00'));
  });
});

describe('the default playlist in the gaps, and schedules that never change', () => {
  it('weekdays only: the weekend is the default from Friday evening to Monday morning', () => {
    const schedule = shop({ days: ['mon', 'tue', 'wed', 'thu', 'fri'], start: '09:00', end: '18:00', playlist: 'shop' });
    assert.equal(activeAt(schedule, at('2026-06-06T12:00+02:00')).playlist, 'dark');
    assert.equal(nextChangeAfter(schedule, at('2026-06-05T18:00+02:00')), at('2026-06-08T09:00+02:00'));
  });

  it('no entries: the default forever', () => {
    const schedule = shop();
    assert.equal(activeAt(schedule, at('2026-06-01T12:00+02:00')).playlist, 'dark');
    assert.equal(nextChangeAfter(schedule, at('2026-06-01T12:00+02:00')), undefined);
  });

  it('every entry over: the default forever after the last window', () => {
    const schedule = shop({ start: '09:00', end: '18:00', until: '2026-06-03', playlist: 'shop' });
    assert.equal(nextChangeAfter(schedule, at('2026-06-03T09:00+02:00')), at('2026-06-03T18:00+02:00'));
    assert.equal(nextChangeAfter(schedule, at('2026-06-03T18:00+02:00')), undefined);
  });

  it('a whole-day window every day: one playlist forever, no change at any midnight', () => {
    const schedule = shop({ start: '00:00', end: '24:00', playlist: 'news' });
    assert.equal(activeAt(schedule, at('2026-03-29T02:30+02:00')).playlist, 'news');
    assert.equal(nextChangeAfter(schedule, at('2026-06-01T12:00+02:00')), undefined);
  });
});
