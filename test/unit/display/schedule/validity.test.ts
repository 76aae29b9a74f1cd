/**
 * Items with a validity period, read in the schedule's zone: a date `until`
 * includes that day, a date-time `until` ends at that instant, and a bound
 * that falls in Berlin's skipped spring hour means the moment the clocks jump.
 */
import assert from 'node:assert/strict';
import { isValidAt, validItems } from '../../../../plugins/display/schedule/validity.js';
import type { PlaylistItemInput } from '../../../../plugins/display/schedule/types.js';
import { at, signage } from './helpers.js';

function playlist(...items: PlaylistItemInput[]) {
  return signage({ playlists: { p: { items } }, schedule: { timeZone: 'Europe/Berlin', default: 'p' } }).playlists.get('p')!;
}

describe('a campaign that runs until a date', () => {
  it('"until": "2026-06-30" shows all of 30 June and leaves at midnight', () => {
    const p = playlist({ file: 'always.png' }, { file: 'summer.png', until: '2026-06-30' });
    assert.deepEqual(validItems(p, at('2026-06-30T23:59:59.999+02:00')).items.map((i) => i.name), ['always.png', 'summer.png']);
    assert.deepEqual(validItems(p, at('2026-07-01T00:00+02:00')).items.map((i) => i.name), ['always.png']);
    assert.equal(validItems(p, at('2026-06-01T00:00+02:00')).nextChange, at('2026-07-01T00:00+02:00'));
    assert.equal(validItems(p, at('2026-07-01T00:00+02:00')).nextChange, undefined, 'nothing changes after the last bound');
  });

  it('a date-time until is exclusive, and a from is inclusive', () => {
    const p = playlist({ file: 'launch.png', from: '2026-06-10T12:00', until: '2026-06-10T18:00' });
    const item = p.items[0]!;
    assert.equal(isValidAt(item, at('2026-06-10T11:59:59.999+02:00')), false);
    assert.equal(isValidAt(item, at('2026-06-10T12:00+02:00')), true);
    assert.equal(isValidAt(item, at('2026-06-10T17:59:59.999+02:00')), true);
    assert.equal(isValidAt(item, at('2026-06-10T18:00+02:00')), false);
    assert.equal(validItems(p, at('2026-06-10T08:00+02:00')).nextChange, at('2026-06-10T12:00+02:00'));
    assert.equal(validItems(p, at('2026-06-10T12:00+02:00')).nextChange, at('2026-06-10T18:00+02:00'));
  });

  it('keeps playlist order, and a playlist whose items have all ended is empty', () => {
    const p = playlist({ file: 'a.png', until: '2026-06-01' }, { file: 'b.png', from: '2026-06-05' }, { file: 'c.png', until: '2026-06-03' });
    assert.deepEqual(validItems(p, at('2026-06-02T12:00+02:00')).items.map((i) => i.name), ['c.png']);
    assert.deepEqual(validItems(p, at('2026-06-04T12:00+02:00')).items, []);
    assert.deepEqual(validItems(p, at('2026-06-05T12:00+02:00')).items.map((i) => i.name), ['b.png']);
  });

  it('a bound in the skipped spring hour is the moment the clocks jump; one in the doubled autumn hour is its first showing', () => {
    const p = playlist({ file: 'a.png', from: '2026-03-29T02:30', until: '2026-10-25T02:30' });
    assert.equal(p.items[0]!.from, at('2026-03-29T03:00+02:00'));
    assert.equal(p.items[0]!.until, at('2026-10-25T02:30+02:00'));
  });

  it('a bound with its own offset is that instant whatever the zone; fractions of a second count', () => {
    const p = playlist({ file: 'a.png', from: '2026-06-10T10:00:00.250Z', until: '2026-06-10T12:00:00-05:00' });
    assert.equal(p.items[0]!.from, Date.UTC(2026, 5, 10, 10, 0, 0, 250));
    assert.equal(p.items[0]!.until, Date.UTC(2026, 5, 10, 17));
  });
});
