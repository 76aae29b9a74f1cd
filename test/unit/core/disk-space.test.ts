/** The receiver's up-front disk check, against the real file system of a temporary folder. */
import assert from 'node:assert/strict';
import { assertRoomFor, freeBytes } from '../../../core/disk-space.js';
import { isNvidError } from '../../../core/errors.js';
import { TransferTracker } from '../../../core/pipeline/transfer-tracker.js';
import { removeDir, tempDir } from '../../helpers/nvid.js';

describe('core: room on disk for a received file', () => {
  let dir: string;
  before(() => (dir = tempDir()));
  after(() => removeDir(dir));

  it('lets a file through that fits with the kept space to spare', () => {
    assertRoomFor(dir, 1024, 0, 0);
  });

  it('refuses one that would eat into the kept space, counting what transfers under way are still owed', () => {
    const free = freeBytes(dir);
    assert.ok(free > 0);
    // Promised bytes alone leave no room: the file itself is small.
    assert.throws(
      () => assertRoomFor(dir, 1024, free, 0),
      (e: unknown) => isNvidError(e, 'NVID_ERR_NO_SPACE') && /not enough disk space for a file of 1\.0 KiB: .* free where this node keeps received files, .* of it promised to transfers under way/.test(e.message),
    );
    assert.throws(() => assertRoomFor(dir, 1024, 0, free), (e: unknown) => isNvidError(e, 'NVID_ERR_NO_SPACE') && /minFreeDiskBytes keeps/.test(e.message));
  });

  it('owes only what receives still have to bring in, not what sends carry out', () => {
    const transfers = new TransferTracker();
    transfers.begin({ transferId: 'a', direction: 'receive', bytes: 0, total: 1000, peerName: 'x' });
    transfers.begin({ transferId: 'b', direction: 'receive', bytes: 0, total: 500, peerName: 'y' });
    transfers.begin({ transferId: 'c', direction: 'send', bytes: 0, total: 9000, peerName: 'z' });
    transfers.update('a', 400);
    assert.equal(transfers.owedToReceives(), 600 + 500);
    transfers.end('b');
    assert.equal(transfers.owedToReceives(), 600);
  });
});
