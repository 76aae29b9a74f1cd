import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import { NvidError } from '../../../core/errors.js';
import { resolveTargets } from '../../../core/targets.js';
import type { Peer } from '../../../core/types.js';
import { targetMatches } from '../../../plugins/drop-folder/dropped-file-session.js';
import { deliverToTargets, InFlightDeliveries, type JobServices } from '../../../plugins/drop-folder/file-job.js';
import { DeliveryLedger } from '../../../plugins/drop-folder/ledger.js';
import { snapshotOf } from '../../../plugins/drop-folder/stability.js';
import { removeDir, tempDir } from '../../helpers/nvid.js';

const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');
const peer = (name: string, tags: string[] = []): Peer => ({ id: sha256(name), name, certPem: '', address: '127.0.0.1', port: 1, tags });

describe('drop-folder: group targets (tag:NAME, lists, all)', () => {
  let dir: string;
  let ledger: DeliveryLedger;
  let peers: Peer[];
  let sends: string[];
  let failing: Set<string>;

  const table = { list: () => peers, resolve: (name: string) => {
    const found = peers.filter((p) => p.name === name || p.id === name);
    if (found.length !== 1) throw new NvidError('NVID_ERR_UNKNOWN_PEER', `no admitted peer named "${name}"`);
    return found[0]!;
  } };
  const services = (): JobServices => ({
    send: async (file, target) => {
      sends.push(target);
      const to = table.resolve(target);
      if (failing.has(to.name)) throw new NvidError('NVID_ERR_CONNECTION', `${to.name} is away`);
      return { transferId: `t-${sends.length}`, to, sha256: sha256(readFileSync(file)), size: 5, seconds: 0.01 };
    },
    resolvePeer: (target) => table.resolve(target),
    resolveTargets: (target) => resolveTargets(target, table),
    ledger,
    inFlight: new InFlightDeliveries(),
    log: pino({ enabled: false }),
  });

  beforeEach(() => {
    dir = tempDir('nvid-df-groups-');
    ledger = new DeliveryLedger(join(dir, 'ledger.jsonl'));
    peers = [peer('lobby', ['floor-2']), peer('kitchen', ['floor-2']), peer('office', ['floor-3'])];
    sends = [];
    failing = new Set();
  });
  afterEach(() => {
    ledger.close();
    removeDir(dir);
  });

  it('sends to each peer with the tag by full ID, records each in the ledger, and skips them next time', async () => {
    const file = join(dir, 'a.png');
    writeFileSync(file, 'hello');
    const result = await deliverToTargets(file, 'tag:floor-2/a.png', (await snapshotOf(file))!, ['tag:floor-2'], services());
    assert.equal(result.kind, 'delivered');
    assert.deepEqual(result.kind === 'delivered' && result.delivered, ['lobby', 'kitchen']);
    assert.deepEqual(sends, [sha256('lobby'), sha256('kitchen')]);
    const again = await deliverToTargets(file, 'a.png', (await snapshotOf(file))!, ['lobby,tag:floor-2', 'all'], services());
    assert.equal(again.kind, 'delivered');
    assert.deepEqual(sends.slice(2), [sha256('office')], 'only the office was new; every peer went once');
  });

  it('keeps a failure per peer under its name, and a tag nobody has under the tag', async () => {
    const file = join(dir, 'b.png');
    writeFileSync(file, 'world');
    failing.add('kitchen');
    const result = await deliverToTargets(file, 'b.png', (await snapshotOf(file))!, ['tag:floor-2', 'tag:floor-9'], services());
    assert.equal(result.kind, 'failed');
    if (result.kind !== 'failed') return;
    assert.deepEqual(result.delivered, ['lobby']);
    assert.deepEqual(result.failures.map((f) => [f.target, f.code]), [['tag:floor-9', 'NVID_ERR_UNKNOWN_PEER'], ['kitchen', 'NVID_ERR_CONNECTION']]);
  });

  it('matches a waiting group target against a peer that joins', () => {
    const joined = { id: sha256('attic'), name: 'attic', tags: ['floor-9'] };
    assert.equal(targetMatches('tag:floor-9', joined), true);
    assert.equal(targetMatches('tag:floor-2', joined), false);
    assert.equal(targetMatches('lobby, attic', joined), true);
    assert.equal(targetMatches('all', joined), true);
    assert.equal(targetMatches('tag:floor-9', { id: joined.id, name: 'attic' }), false, 'tags unknown: no match');
  });
});
