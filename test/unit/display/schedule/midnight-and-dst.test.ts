/**
 * Windows that cross midnight, and the two days in 2026 when Berlin's clocks
 * change: Sunday 29 March (02:00 CET jumps to 03:00 CEST, so 02:00–03:00
 * never happens) and Sunday 25 October (03:00 CEST falls back to 02:00 CET,
 * so 02:00–03:00 happens twice).
 *
 * The rule under test (plugins/display/schedule/README.md): a time stands for
 * the first moment the clock reads that time or later. A skipped 02:30 is the
 * jump itself (03:00 CEST); a doubled 02:30 is its first showing (CEST).
 */
import assert from 'node:assert/strict';
import { activeAt, nextChangeAfter } from '../../../../plugins/display/schedule/evaluate.js';
import type { ScheduleEntryInput } from '../../../../plugins/display/schedule/types.js';
import { at, signage } from './helpers.js';

const PLAYLISTS = { bar: { items: [{ file: 'cocktails.png' }] }, bakery: { items: [{ file: 'bread.png' }] }, closed: { items: [] } };

function berlin(...entries: ScheduleEntryInput[]) {
  return signage({ playlists: PLAYLISTS, schedule: { timeZone: 'Europe/Berlin', default: 'closed', entries } }).schedule;
}

describe('a bar open late: windows that cross midnight', () => {
  const schedule = berlin({ days: ['fri'], start: '22:00', end: '02:00', playlist: 'bar' });

  it('a Friday 22:00–02:00 window runs from Friday 22:00 to Saturday 02:00', () => {
    // Friday 2026-06-05 (Berlin on UTC+02:00).
    assert.equal(activeAt(schedule, at('2026-06-05T21:59:59.999+02:00')).playlist, 'closed');
    assert.equal(activeAt(schedule, at('2026-06-05T22:00+02:00')).playlist, 'bar');
    assert.equal(activeAt(schedule, at('2026-06-06T01:59:59.999+02:00')).playlist, 'bar', 'Saturday after midnight is still Friday night');
    assert.equal(activeAt(schedule, at('2026-06-06T02:00+02:00')).playlist, 'closed');
    assert.equal(nextChangeAfter(schedule, at('2026-06-05T22:00+02:00')), at('2026-06-06T02:00+02:00'));
  });

  it('is not open on Friday 00:00–02:00 (that belongs to Thursday night) nor Saturday night', () => {
    assert.equal(activeAt(schedule, at('2026-06-05T01:00+02:00')).playlist, 'closed');
    assert.equal(activeAt(schedule, at('2026-06-06T23:00+02:00')).playlist, 'closed');
    // From Saturday 02:00 the next opening is a week later.
    assert.equal(nextChangeAfter(schedule, at('2026-06-06T02:00+02:00')), at('2026-06-12T22:00+02:00'));
  });

  it('the last night of a date range runs to its end the next morning', () => {
    const last = berlin({ days: ['fri'], start: '22:00', end: '02:00', until: '2026-06-05', playlist: 'bar' });
    assert.equal(activeAt(last, at('2026-06-06T01:30+02:00')).playlist, 'bar');
    assert.equal(nextChangeAfter(last, at('2026-06-05T22:00+02:00')), at('2026-06-06T02:00+02:00'));
    assert.equal(nextChangeAfter(last, at('2026-06-06T02:00+02:00')), undefined, 'never again');
  });

  it('24:00 ends a window at midnight, and windows back to back with one playlist make no change at midnight', () => {
    const evening = berlin({ start: '18:00', end: '24:00', playlist: 'bar' }, { start: '00:00', end: '01:00', playlist: 'bar' });
    assert.equal(activeAt(evening, at('2026-06-05T23:59:59.999+02:00')).playlist, 'bar');
    assert.equal(nextChangeAfter(evening, at('2026-06-05T18:00+02:00')), at('2026-06-06T01:00+02:00'));
  });
});

describe('spring forward in Berlin, Sunday 2026-03-29: 02:00–03:00 does not exist', () => {
  it('a window starting at 02:30 starts at 03:00 CEST that day, and at 02:30 on the days around it', () => {
    const schedule = berlin({ start: '02:30', end: '05:00', playlist: 'bakery' });
    assert.equal(nextChangeAfter(schedule, at('2026-03-28T12:00+01:00')), at('2026-03-29T03:00+02:00'));
    assert.equal(at('2026-03-29T03:00+02:00'), 1_774_746_000_000);
    assert.equal(activeAt(schedule, at('2026-03-29T01:59:59.999+01:00')).playlist, 'closed');
    assert.equal(activeAt(schedule, at('2026-03-29T03:00+02:00')).playlist, 'bakery');
    assert.equal(nextChangeAfter(schedule, at('2026-03-27T12:00+01:00')), at('2026-03-28T02:30+01:00'));
    assert.equal(nextChangeAfter(schedule, at('2026-03-29T12:00+02:00')), at('2026-03-30T02:30+02:00'));
  });

  it('a window ending at 02:30 ends at 03:00 CEST: Saturday 22:00 to then is 4 hours', () => {
    const schedule = berlin({ days: ['sat'], start: '22:00', end: '02:30', playlist: 'bar' });
    assert.equal(nextChangeAfter(schedule, at('2026-03-28T22:00+01:00')), at('2026-03-29T03:00+02:00'));
    // Four hours by the clock on the wall (22:00 to 03:00 minus the skipped hour): 4 h of real time.
    assert.equal(at('2026-03-29T03:00+02:00') - at('2026-03-28T22:00+01:00'), 4 * 3_600_000);
  });

  it('a window inside the skipped hour does not happen that day', () => {
    const schedule = berlin({ start: '02:00', end: '02:45', playlist: 'bakery' });
    assert.equal(nextChangeAfter(schedule, at('2026-03-28T03:00+01:00')), at('2026-03-30T02:00+02:00'));
    assert.equal(activeAt(schedule, at('2026-03-29T03:00+02:00')).playlist, 'closed');
  });

  it('a day is 23 hours long: breakfast at 06:00 comes 23 h after the previous day\'s', () => {
    const schedule = berlin({ start: '06:00', end: '11:00', playlist: 'bakery' });
    const saturday = nextChangeAfter(schedule, at('2026-03-28T00:00+01:00'))!;
    const sunday = nextChangeAfter(schedule, nextChangeAfter(schedule, saturday)!)!;
    assert.equal(saturday, at('2026-03-28T06:00+01:00'));
    assert.equal(sunday, at('2026-03-29T06:00+02:00'));
    assert.equal(sunday - saturday, 23 * 3_600_000);
  });
});

describe('fall back in Berlin, Sunday 2026-10-25: 02:00–03:00 happens twice', () => {
  it('a window ending at 02:30 ends at the first 02:30 (CEST)', () => {
    const schedule = berlin({ days: ['sat'], start: '22:00', end: '02:30', playlist: 'bar' });
    assert.equal(nextChangeAfter(schedule, at('2026-10-24T22:00+02:00')), at('2026-10-25T02:30+02:00'));
    assert.equal(activeAt(schedule, at('2026-10-25T02:29:59.999+02:00')).playlist, 'bar');
    // The second 02:15 (CET) comes after the end: closed, though the clock reads before 02:30.
    assert.equal(activeAt(schedule, at('2026-10-25T02:15+01:00')).playlist, 'closed');
    assert.equal(at('2026-10-25T02:30+02:00') - at('2026-10-24T22:00+02:00'), 4.5 * 3_600_000);
  });

  it('a window starting at 02:30 starts at the first 02:30, and runs on through the repeated hour', () => {
    const schedule = berlin({ start: '02:30', end: '05:00', playlist: 'bakery' });
    assert.equal(nextChangeAfter(schedule, at('2026-10-24T12:00+02:00')), at('2026-10-25T02:30+02:00'));
    assert.equal(activeAt(schedule, at('2026-10-25T02:15+01:00')).playlist, 'bakery');
    assert.equal(nextChangeAfter(schedule, at('2026-10-25T02:30+02:00')), at('2026-10-25T05:00+01:00'));
  });

  it('a day is 25 hours long: breakfast at 06:00 comes 25 h after the previous day\'s', () => {
    const schedule = berlin({ start: '06:00', end: '11:00', playlist: 'bakery' });
    const saturday = at('2026-10-24T06:00+02:00');
    const sunday = nextChangeAfter(schedule, nextChangeAfter(schedule, saturday)!)!;
    assert.equal(sunday, at('2026-10-25T06:00+01:00'));
    assert.equal(sunday - saturday, 25 * 3_600_000);
  });
});

describe('the same schedule in other zones', () => {
  it('New York switches at its own 06:00, and its clocks change on other days than Berlin\'s', () => {
    const schedule = signage({ playlists: PLAYLISTS, schedule: { timeZone: 'America/New_York', default: 'closed', entries: [{ start: '06:00', end: '11:00', playlist: 'bakery' }] } }).schedule;
    // 2026-03-08: New York springs forward; Berlin's clocks stay until the 29th.
    assert.equal(nextChangeAfter(schedule, at('2026-03-07T12:00-05:00')), at('2026-03-08T06:00-04:00'));
    assert.equal(nextChangeAfter(schedule, at('2026-03-28T12:00-04:00')), at('2026-03-29T06:00-04:00'));
  });

  it('a zone with a 30-minute offset (Asia/Kolkata) and one without DST (UTC)', () => {
    const kolkata = signage({ playlists: PLAYLISTS, schedule: { timeZone: 'Asia/Kolkata', default: 'closed', entries: [{ start: '06:00', end: '11:00', playlist: 'bakery' }] } }).schedule;
    assert.equal(nextChangeAfter(kolkata, at('2026-03-29T00:00+05:30')), at('2026-03-29T06:00+05:30'));
    const utc = signage({ playlists: PLAYLISTS, schedule: { timeZone: 'UTC', default: 'closed', entries: [{ start: '06:00', end: '11:00', playlist: 'bakery' }] } }).schedule;
    assert.equal(nextChangeAfter(utc, at('2026-03-29T00:00Z')), at('2026-03-29T06:00Z'));
  });
});

describe('a switch on the second: times with seconds', () => {
  it('a window from 22:00:30 to 01:59:45 starts and ends on those seconds, across midnight', () => {
    const schedule = berlin({ days: ['fri'], start: '22:00:30', end: '01:59:45', playlist: 'bar' });
    assert.equal(activeAt(schedule, at('2026-06-05T22:00:29.999+02:00')).playlist, 'closed');
    assert.equal(activeAt(schedule, at('2026-06-05T22:00:30+02:00')).playlist, 'bar');
    assert.equal(nextChangeAfter(schedule, at('2026-06-05T21:00+02:00')), at('2026-06-05T22:00:30+02:00'));
    assert.equal(nextChangeAfter(schedule, at('2026-06-05T22:00:30+02:00')), at('2026-06-06T01:59:45+02:00'));
  });
});
