/** The replay guard on its own: persistence across restarts, expiry, compaction, torn lines. */
import assert from 'node:assert/strict';
import { appendFileSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ReplayGuard } from '../../../plugins/crypto/replay-guard.js';
import { assertCode, tempDir } from './helpers.js';

describe('crypto replay guard', () => {
  const windowMs = 60_000;
  let clock = 1_000_000_000;
  const now = () => clock;
  const load = (file: string) => ReplayGuard.load({ file, windowMs, now });

  beforeEach(() => {
    clock = 1_000_000_000;
  });

  it('refuses a committed ID, also after a restart on the same file', async () => {
    const file = join(tempDir(), 'replay.log');
    const guard = await load(file);
    await guard.reserve('transfer-1', clock).commit();
    assert.throws(() => guard.reserve('transfer-1', clock), { code: 'NVID_ERR_REPLAY' });
    const restarted = await load(file);
    assert.equal(restarted.size, 1);
    assert.throws(() => restarted.reserve('transfer-1', clock), { code: 'NVID_ERR_REPLAY' });
    assert.equal(statSync(file).mode & 0o077, 0, 'the log is owner-only');
  });

  it('refuses an ID while it is reserved, and frees it when released', async () => {
    const guard = await load(join(tempDir(), 'replay.log'));
    const reservation = guard.reserve('transfer-2', clock);
    assert.throws(() => guard.reserve('transfer-2', clock), { code: 'NVID_ERR_REPLAY' });
    reservation.release();
    guard.reserve('transfer-2', clock).release();
    // A released reservation does not commit later.
    await reservation.commit();
    assert.equal(guard.size, 0);
  });

  it('forgets IDs once their time is older than the window', async () => {
    const file = join(tempDir(), 'replay.log');
    const guard = await load(file);
    await guard.reserve('old', clock - windowMs + 1000).commit();
    await guard.reserve('new', clock).commit();
    clock += 2000;
    const restarted = await load(file);
    assert.equal(restarted.size, 1);
    restarted.reserve('old', clock - windowMs + 1000).release();
    await assertCode(Promise.resolve().then(() => restarted.reserve('new', clock)), 'NVID_ERR_REPLAY');
    // Loading compacted the file down to the live ID.
    assert.equal(readFileSync(file, 'utf8'), `${clock - 2000} new\n`);
  });

  it('skips torn or garbled lines instead of failing to start', async () => {
    const file = join(tempDir(), 'replay.log');
    appendFileSync(file, `${clock} good-id\nnot a line\n${clock} two words here\n${clock} torn-i`);
    const guard = await load(file);
    assert.equal(guard.size, 2);
    assert.throws(() => guard.reserve('good-id', clock), { code: 'NVID_ERR_REPLAY' });
    // The torn last line was "torn-i": that ID is remembered as written, harmlessly.
    guard.reserve('torn-id', clock).release();
  });

  it('compacts the log as expired lines pile up', async () => {
    const file = join(tempDir(), 'replay.log');
    const guard = await load(file);
    for (let i = 0; i < 1100; i += 1) {
      await guard.reserve(`id-${i}`, clock).commit();
      clock += 100; // after 600 IDs, the first ones start expiring
    }
    const lines = readFileSync(file, 'utf8').trim().split('\n');
    assert.ok(lines.length < 1100, `log has ${lines.length} lines`);
    const restarted = await load(file);
    assert.throws(() => restarted.reserve('id-1099', clock), { code: 'NVID_ERR_REPLAY' });
    restarted.reserve('id-0', clock).release();
  });

  it('reports an unusable replay file as NVID_ERR_STATE_DIR, at load and at commit', async () => {
    const dir = tempDir();
    await assertCode(load(dir), 'NVID_ERR_STATE_DIR', 'a folder where the file should be');
    const guard = await load(join(dir, 'sub', 'replay.log'));
    // The folder is missing at load (fine: nothing seen yet); then a file takes its place.
    appendFileSync(join(dir, 'sub'), '');
    await assertCode(guard.reserve('transfer-x', clock).commit(), 'NVID_ERR_STATE_DIR', 'parent is a file');
  });
});
