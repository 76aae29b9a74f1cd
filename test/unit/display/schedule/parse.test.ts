/**
 * Writing a schedule: a board typed in a hurry is refused whole, with every
 * mistake listed at once by its key path, both those the JSON schema sees
 * (types, unknown keys) and those only reading finds (a 25th hour, 30 June
 * 31st, a misspelt zone, a playlist that does not exist). Through the plugin
 * loader, the shipped café config loads and a broken schedule stops the start.
 */
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { isNvidError, NvidError } from '../../../../core/errors.js';
import { loadPlugin } from '../../../../core/plugin-loader.js';
import { parseSignage } from '../../../../plugins/display/schedule/parse.js';
import { at, cafeOptions } from './helpers.js';

/** The problems parseSignage lists for `input`, or fails the test when it accepts it. */
function problems(input: unknown, prefix = 'display.options'): string[] {
  try {
    parseSignage(input, { imageSeconds: 10, prefix });
  } catch (err) {
    assert.ok(isNvidError(err, 'NVID_ERR_SCHEDULE_INVALID'), String(err));
    const listed = (err as NvidError).details?.problems as string[];
    for (const line of listed) assert.ok(err.message.includes(line), `the message lists "${line}" too`);
    return listed;
  }
  assert.fail('the input was accepted');
}

describe('a schedule typed in a hurry is refused with every mistake listed', () => {
  it('lists shape and meaning problems together, each with its key path', () => {
    const listed = problems({
      playlists: {
        breakfast: {
          items: [
            { file: 'menu.png', seconds: -1 },
            { file: 'a.png', folder: 'specials' },
            {},
            { file: '../etc/passwd' },
            { file: 'x.png', from: '2026-02-30', until: 'soon' },
            { file: 'y.png', from: '2026-07-01', until: '2026-06-01' },
          ],
        },
        lunch: { itms: [] },
      },
      schedule: {
        timeZone: 'Europe/Berlinn',
        default: 'closed',
        entries: [
          { start: '25:00', end: '11:00', playlist: 'breakfast', days: ['mon', 'funday'] },
          { start: '11:00', end: '11:00', playlist: 'brunch', priority: 1.5 },
          { start: '09:00', playlist: 'breakfast', from: '2026-06-31', colour: 'red' },
          { start: '09:00', end: '10:00', playlist: 'breakfast', from: '2026-06-20', until: '2026-06-01' },
        ],
      },
    });
    const p = 'display.options';
    assert.deepEqual([...listed].sort(), [
      `${p}.playlists.breakfast.items[0].seconds: must be >= 0`,
      `${p}.playlists.breakfast.items[1]: give either file or folder, not both`,
      `${p}.playlists.breakfast.items[2]: needs file (a library file name) or folder`,
      `${p}.playlists.breakfast.items[3].file: "../etc/passwd" is not a library file name (no folders, not hidden); use folder for a folder of media`,
      `${p}.playlists.breakfast.items[4].from: "2026-02-30" is not a date (YYYY-MM-DD) or date-time (YYYY-MM-DDTHH:MM, optionally :SS and Z or ±HH:MM)`,
      `${p}.playlists.breakfast.items[4].until: "soon" is not a date (YYYY-MM-DD) or date-time (YYYY-MM-DDTHH:MM, optionally :SS and Z or ±HH:MM)`,
      `${p}.playlists.breakfast.items[5]: until (2026-06-01) is not after from (2026-07-01), so the item would never show`,
      `${p}.playlists.lunch.items: is required`,
      `${p}.playlists.lunch.itms: unknown key`,
      `${p}.schedule.default: no playlist "closed" (playlists: breakfast, lunch)`,
      `${p}.schedule.entries[0].days[1]: must be one of "mon", "tue", "wed", "thu", "fri", "sat", "sun"`,
      `${p}.schedule.entries[0].start: "25:00" is not a time of day HH:MM or HH:MM:SS (00:00 to 23:59:59)`,
      `${p}.schedule.entries[1].playlist: no playlist "brunch" (playlists: breakfast, lunch)`,
      `${p}.schedule.entries[1].priority: must be integer`,
      `${p}.schedule.entries[1]: start and end are both 11:00: an empty or a 24-hour window? Write 00:00 to 24:00 for a whole day`,
      `${p}.schedule.entries[2].colour: unknown key`,
      `${p}.schedule.entries[2].end: is required`,
      `${p}.schedule.entries[2].from: "2026-06-31" is not a date YYYY-MM-DD`,
      `${p}.schedule.entries[3]: until (2026-06-01) is before from (2026-06-20), so the entry would never apply`,
      `${p}.schedule.timeZone: unknown time zone "Europe/Berlinn" (an IANA name such as Europe/Berlin)`,
    ]);
  });

  it('a schedule needs its default, and refers only to playlists that exist', () => {
    assert.deepEqual(problems({ schedule: { entries: [] } }, ''), ['schedule.default: is required']);
    assert.deepEqual(problems({ schedule: { default: 'closed' } }, ''), ['schedule.default: no playlist "closed" (no playlists are defined)']);
  });

  it('times are HH:MM or HH:MM:SS: "6:00", "06:60", "06:00:60" and a start of "24:00" are refused; an end of "24:00" is midnight', () => {
    const base = { playlists: { a: { items: [] } } };
    const entry = (start: string, end: string) => ({ ...base, schedule: { default: 'a', entries: [{ start, end, playlist: 'a' }] } });
    assert.deepEqual(problems(entry('6:00', '06:60'), ''), [
      'schedule.entries[0].start: "6:00" is not a time of day HH:MM or HH:MM:SS (00:00 to 23:59:59)',
      'schedule.entries[0].end: "06:60" is not a time of day HH:MM or HH:MM:SS (00:00 to 24:00)',
    ]);
    assert.deepEqual(problems(entry('24:00', '02:00'), ''), ['schedule.entries[0].start: "24:00" is not a time of day HH:MM or HH:MM:SS (00:00 to 23:59:59)']);
    assert.equal(parseSignage(entry('18:00', '24:00'), { imageSeconds: 10 }).schedule?.entries[0]?.endMinute, 24 * 60);
    assert.deepEqual(problems(entry('06:00:60', '07:00'), ''), ['schedule.entries[0].start: "06:00:60" is not a time of day HH:MM or HH:MM:SS (00:00 to 23:59:59)']);
    assert.equal(parseSignage(entry('18:00:30', '24:00'), { imageSeconds: 10 }).schedule?.entries[0]?.startMinute, 18 * 60 + 0.5);
  });

  it('leaves the input as it was, even frozen (plugin options are frozen)', () => {
    const input = Object.freeze({ playlists: Object.freeze({ a: Object.freeze({ items: Object.freeze([Object.freeze({ file: 'a.png' })]) }) }), schedule: Object.freeze({ default: 'a' }) });
    const parsed = parseSignage(input, { imageSeconds: 7 });
    assert.equal(parsed.playlists.get('a')?.items[0]?.seconds, 7);
    assert.deepEqual(input.schedule, { default: 'a' });
  });
});

describe('time zones', () => {
  const board = (timeZone?: string) => ({ playlists: { a: { items: [] } }, schedule: { ...(timeZone ? { timeZone } : {}), default: 'a' } });

  it('with none given, the node\'s own zone (or the one the caller says is the node\'s)', () => {
    assert.equal(parseSignage(board(), { imageSeconds: 10 }).schedule?.timeZone, new Intl.DateTimeFormat().resolvedOptions().timeZone);
    assert.equal(parseSignage(board(), { imageSeconds: 10, defaultTimeZone: 'Asia/Tokyo' }).schedule?.timeZone, 'Asia/Tokyo');
  });

  it('a named zone is kept, and item dates are read in it', () => {
    const parsed = parseSignage({ ...board('America/New_York'), playlists: { a: { items: [{ file: 'a.png', until: '2026-07-04' }] } } }, { imageSeconds: 10 });
    assert.equal(parsed.schedule?.timeZone, 'America/New_York');
    assert.equal(parsed.playlists.get('a')?.items[0]?.until, at('2026-07-05T00:00-04:00'));
  });

  it('refuses zones that do not exist, and abbreviations that are not zones', () => {
    assert.deepEqual(problems(board('Mars/Olympus_Mons'), ''), ['schedule.timeZone: unknown time zone "Mars/Olympus_Mons" (an IANA name such as Europe/Berlin)']);
    assert.deepEqual(problems(board('CEST'), ''), ['schedule.timeZone: unknown time zone "CEST" (an IANA name such as Europe/Berlin)']);
    assert.deepEqual(problems({ ...board(), schedule: { timeZone: '', default: 'a' }, playlists: { a: { items: [{ file: 'a.png', until: '2026-07-04' }] } } }, ''), [
      'schedule.timeZone: must NOT have fewer than 1 characters',
    ]);
  });
});

describe('in the display plugin\'s options', () => {
  const configDir = fileURLToPath(new URL('../../../../../config/', import.meta.url));

  it('the café config loads through the plugin loader', async () => {
    const loaded = await loadPlugin({ use: 'display', options: cafeOptions() }, 3, configDir);
    assert.equal(loaded.name, 'display');
  });

  it('a schedule mistake the schema cannot see stops the start, listed with its key path', async () => {
    const options = cafeOptions();
    options.schedule.entries[1].start = '11.00';
    await assert.rejects(loadPlugin({ use: 'display', options }, 3, configDir), (err: NvidError) => {
      assert.equal(err.code, 'NVID_ERR_PLUGIN_APPLY');
      assert.equal((err.cause as NvidError).code, 'NVID_ERR_SCHEDULE_INVALID');
      assert.match(err.message, /display\.options\.schedule\.entries\[1\]\.start: "11\.00" is not a time of day HH:MM/);
      return true;
    });
  });

  it('a shape mistake is reported by the core with every other plugin option problem', async () => {
    const options = { ...cafeOptions(), schedule: { default: 'closed', entries: [{ start: '06:00', end: '11:00', playlist: 'breakfast', priority: 'high' }] } };
    await assert.rejects(loadPlugin({ use: 'display', options }, 3, configDir), (err: NvidError) => {
      assert.equal(err.code, 'NVID_ERR_PLUGIN_OPTIONS');
      assert.deepEqual(err.details?.problems, ['plugins[3].options.schedule.entries[0].priority: must be integer']);
      return true;
    });
  });
});
