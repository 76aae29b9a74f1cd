/**
 * The kept schedule (`nvid schedule set`): written whole or not at all, read
 * back across a restart, a broken file refused by name, and a document with
 * problems refused whole with every problem listed and nothing changed.
 */
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NvidError } from '../../../core/errors.js';
import { ScheduleKeeper } from '../../../plugins/display/schedule-keeper.js';
import { readStoredSignage, SCHEDULE_FILE, writeStoredSignage, type StoredSignage } from '../../../plugins/display/schedule-store.js';

const GOOD = { playlists: { day: { items: [{ file: 'red.png' }] }, night: { items: [] } }, schedule: { timeZone: 'UTC', default: 'night', entries: [{ playlist: 'day', start: '06:00', end: '22:00' }] } };

describe('the kept schedule', () => {
  let dir: string;
  let file: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'nvid-schedule-store-'));
    file = join(dir, SCHEDULE_FILE);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const stored = (signage: object): StoredSignage => ({ version: 1, setAt: '2026-12-01T10:00:00.000Z', signage });

  it('reads back what it wrote, and there is none before the first write', () => {
    assert.equal(readStoredSignage(file), undefined);
    writeStoredSignage(file, { ...stored(GOOD), setBy: { id: 'ab'.repeat(32), name: 'laptop' } });
    assert.deepEqual(readStoredSignage(file), { ...stored(GOOD), setBy: { id: 'ab'.repeat(32), name: 'laptop' } });
    writeStoredSignage(file, stored({ schedule: { default: 'x' }, playlists: { x: { items: [] } } }));
    assert.deepEqual(readStoredSignage(file)?.signage, { schedule: { default: 'x' }, playlists: { x: { items: [] } } });
    assert.deepEqual(readdirSync(dir), [SCHEDULE_FILE], 'no temporary file is left');
    assert.equal(readFileSync(file, 'utf8').endsWith('\n'), true);
  });

  it('leaves the old file whole when the new one cannot be written', function () {
    if (process.getuid?.() === 0) this.skip(); // root writes into a read-only folder
    writeStoredSignage(file, stored(GOOD));
    const before = readFileSync(file, 'utf8');
    chmodSync(dir, 0o500);
    try {
      assert.throws(() => writeStoredSignage(file, stored({ schedule: { default: 'other' } })), (err: NvidError) => err.code === 'NVID_ERR_SCHEDULE_STORE' && /did not change/.test(err.message));
    } finally {
      chmodSync(dir, 0o700);
    }
    assert.equal(readFileSync(file, 'utf8'), before);
    assert.deepEqual(readdirSync(dir), [SCHEDULE_FILE]);
  });

  it('leaves no temporary file behind when the rename fails (even as root)', () => {
    const blocked = join(dir, 'blocked');
    mkdirSync(join(blocked, 'inside'), { recursive: true });
    assert.throws(() => writeStoredSignage(blocked, stored(GOOD)), (err: NvidError) => err.code === 'NVID_ERR_SCHEDULE_STORE');
    assert.deepEqual(readdirSync(dir), ['blocked']);
  });

  it('refuses a broken file by name: not JSON, or not what nvid writes', () => {
    writeFileSync(file, '{"version":1,"setAt":"x","signage":{"sched');
    assert.throws(() => readStoredSignage(file), (err: NvidError) => err.code === 'NVID_ERR_SCHEDULE_STORE' && err.message.includes(file) && /not JSON/.test(err.message));
    writeFileSync(file, JSON.stringify({ version: 2, signage: GOOD }));
    assert.throws(() => readStoredSignage(file), (err: NvidError) => err.code === 'NVID_ERR_SCHEDULE_STORE' && /not a schedule nvid wrote/.test(err.message));
  });

  describe('the keeper', () => {
    const config = { document: { schedule: { default: 'c' }, playlists: { c: { items: [] } } }, signage: undefined as never };

    it('plays the config until a schedule is set, then the set one, also after a restart', () => {
      const keeper = new ScheduleKeeper({ file, imageSeconds: 10, config });
      assert.equal(keeper.describe(null).source, 'config');
      keeper.set(GOOD, { id: 'cd'.repeat(32), name: 'laptop' });
      const shown = keeper.describe(null);
      assert.equal(shown.source, 'set');
      assert.equal(shown.file, file);
      assert.deepEqual(shown.signage, GOOD);
      assert.deepEqual(shown.setBy, { id: 'cd'.repeat(32), name: 'laptop' });
      const restarted = new ScheduleKeeper({ file, imageSeconds: 10, config });
      assert.deepEqual(restarted.describe(null).signage, GOOD, 'the set schedule wins over the config after a restart');
      assert.equal(restarted.signage?.schedule?.defaultPlaylist, 'night');
      assert.equal(new ScheduleKeeper({ file: join(dir, 'none.json'), imageSeconds: 10, config: undefined }).describe(null).source, 'none');
    });

    it('refuses a document with problems whole, listing every one, and changes nothing', () => {
      const keeper = new ScheduleKeeper({ file, imageSeconds: 10, config: undefined });
      keeper.set(GOOD);
      const before = readFileSync(file, 'utf8');
      const bad = {
        playlists: { day: { items: [{ file: '../etc/passwd' }] } },
        schedule: { timeZone: 'Europe/Berlinn', default: 'nope', entries: [{ playlist: 'day', start: '25:00', end: '22:00' }] },
        extra: true,
      };
      assert.throws(() => keeper.set(bad as never), (err: NvidError) => {
        assert.equal(err.code, 'NVID_ERR_SCHEDULE_INVALID');
        const problems = err.details?.problems as string[];
        for (const want of [/^extra: unknown key/, /^schedule\.timeZone: unknown time zone "Europe\/Berlinn"/, /^schedule\.default: no playlist "nope"/, /^schedule\.entries\[0\]\.start: "25:00"/, /^playlists\.day\.items\[0\]\.file/]) {
          assert.ok(problems.some((p) => want.test(p)), `${want} in ${problems.join(' | ')}`);
        }
        assert.match(err.message, /refused whole and nothing changed/);
        return true;
      });
      assert.throws(() => keeper.set({ playlists: {} }), (err: NvidError) => (err.details?.problems as string[]).some((p) => /^schedule: required/.test(p)));
      assert.equal(readFileSync(file, 'utf8'), before, 'the kept file did not change');
      assert.deepEqual(keeper.describe(null).signage, GOOD);
    });

    it('refuses to start with a kept schedule that no longer checks out, naming the file and the problems', () => {
      writeStoredSignage(file, stored({ playlists: {}, schedule: { default: 'gone' } }));
      assert.throws(() => new ScheduleKeeper({ file, imageSeconds: 10, config }), (err: NvidError) => {
        assert.equal(err.code, 'NVID_ERR_SCHEDULE_STORE');
        assert.ok(err.message.includes(file));
        assert.ok((err.details?.problems as string[]).some((p) => /no playlist "gone"/.test(p)));
        return true;
      });
    });
  });
});
