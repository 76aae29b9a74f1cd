import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isNvidError } from '../../../core/errors.js';
import { CoordinatorPins } from '../../../plugins/transport/coordinator/coordinator-pins.js';
import { CoordinatorRegistry, cleanName } from '../../../plugins/transport/coordinator/coordinator-registry.js';
import { backoffDelay } from '../../../plugins/transport/coordinator/coordinator-client.js';
import { removeDir, tempDir } from './helpers.js';

const ID = (n: number) => n.toString(16).padStart(64, '0');
const fields = (n: number, requestedName: string, port = 1000 + n) => ({ id: ID(n), certPem: `cert-${n}`, address: '127.0.0.1', port, requestedName });

describe('transport coordinator registry', () => {
  it('gives duplicate names the lowest free -N suffix, predictably', () => {
    const reg = new CoordinatorRegistry<string>();
    assert.equal(reg.register(fields(1, 'lobby'), 's1').peer.name, 'lobby');
    assert.equal(reg.register(fields(2, 'lobby'), 's2').peer.name, 'lobby-2');
    assert.equal(reg.register(fields(3, 'lobby'), 's3').peer.name, 'lobby-3');
    reg.remove(ID(2), 's2');
    assert.equal(reg.register(fields(4, 'lobby'), 's4').peer.name, 'lobby-2');
  });

  it('still gives the lowest free suffix in a fleet where every screen asks for the same name', () => {
    const reg = new CoordinatorRegistry<string>();
    for (let n = 1; n <= 500; n += 1) reg.register(fields(n, 'screen'), `s${n}`);
    assert.equal(reg.get(ID(500))!.name, 'screen-500');
    reg.remove(ID(300), 's300');
    reg.remove(ID(7), 's7');
    assert.equal(reg.register(fields(501, 'screen'), 's501').peer.name, 'screen-7', 'a freed name is found again, lowest first');
    assert.equal(reg.register(fields(502, 'screen'), 's502').peer.name, 'screen-300');
    assert.equal(reg.register(fields(503, 'screen'), 's503').peer.name, 'screen-501');
    // A name asked for as it is, then given up, is one the suffix search may hand out.
    assert.equal(reg.register(fields(504, 'screen-502'), 's504').peer.name, 'screen-502');
    assert.equal(reg.register(fields(505, 'screen'), 's505').peer.name, 'screen-503');
    reg.remove(ID(504), 's504');
    assert.equal(reg.register(fields(506, 'screen'), 's506').peer.name, 'screen-502');
    assert.equal(reg.rename(ID(506), 'hall')!.peer.name, 'hall');
    assert.equal(reg.register(fields(507, 'screen'), 's507').peer.name, 'screen-502', 'a rename frees the name too');
    const long = 'y'.repeat(64);
    for (let n = 600; n < 612; n += 1) reg.register(fields(n, long), `s${n}`);
    reg.remove(ID(603), 's603');
    assert.equal(reg.register(fields(612, long), 's612').peer.name, `${'y'.repeat(62)}-4`, 'a long name cut for its suffix is found again as well');
  });

  it('keeps one entry per ID when a node reconnects, handing back the old session', () => {
    const reg = new CoordinatorRegistry<string>();
    reg.register(fields(1, 'a'), 'old');
    const again = reg.register(fields(1, 'a', 2222), 'new');
    assert.equal(reg.size, 1);
    assert.equal(again.replacedSession, 'old');
    assert.equal(again.peer.name, 'a');
    assert.equal(again.peer.port, 2222);
  });

  it('does not let a replaced session remove its successor', () => {
    const reg = new CoordinatorRegistry<string>();
    reg.register(fields(1, 'a'), 'old');
    reg.register(fields(1, 'a'), 'new');
    assert.equal(reg.remove(ID(1), 'old'), undefined);
    assert.equal(reg.size, 1);
    assert.equal(reg.remove(ID(1), 'new')?.name, 'a');
    assert.equal(reg.size, 0);
  });

  it('renames, resolving clashes, and frees the old name', () => {
    const reg = new CoordinatorRegistry<string>();
    reg.register(fields(1, 'a'), 's1');
    reg.register(fields(2, 'b'), 's2');
    assert.deepEqual(reg.rename(ID(2), 'a'), { peer: { ...reg.get(ID(2))! }, oldName: 'b' });
    assert.equal(reg.get(ID(2))!.name, 'a-2');
    assert.equal(reg.register(fields(3, 'b'), 's3').peer.name, 'b');
    assert.equal(reg.rename(ID(1), 'a')!.peer.name, 'a', 'keeping its own name is not a clash');
    assert.equal(reg.rename(ID(9), 'x'), undefined);
  });

  it('cleans names: control characters, whitespace, length, empty', () => {
    assert.equal(cleanName('  meeting\u0007 room \n'), 'meeting room');
    assert.equal(cleanName('\u0000'), 'node');
    assert.equal(cleanName('x'.repeat(100)).length, 64);
    const reg = new CoordinatorRegistry<string>();
    reg.register(fields(1, 'y'.repeat(64)), 's1');
    assert.equal(reg.register(fields(2, 'y'.repeat(64)), 's2').peer.name, `${'y'.repeat(62)}-2`);
  });
});

describe('transport coordinator pins', () => {
  let dir: string;
  beforeEach(() => (dir = tempDir()));
  afterEach(() => removeDir(dir));

  it('trusts on first use, records the fingerprint, then enforces it', () => {
    const pins = new CoordinatorPins(join(dir, 'known_coordinators'));
    assert.equal(pins.check('10.0.0.1:7700', ID(1)).outcome, 'pinned-now');
    assert.equal(pins.check('10.0.0.1:7700', ID(1)).outcome, 'trusted');
    assert.match(readFileSync(pins.path, 'utf8'), new RegExp(`^10.0.0.1:7700 ${ID(1)}$`, 'm'));
    assert.throws(() => pins.check('10.0.0.1:7700', ID(2)), (err) => isNvidError(err, 'NVID_ERR_COORDINATOR_MISMATCH') && err.details?.expected === ID(1));
    assert.equal(pins.check('10.0.0.2:7700', ID(2)).outcome, 'pinned-now', 'another address is another coordinator');
  });

  it('lets the configured fingerprint win over the file', () => {
    const pins = new CoordinatorPins(join(dir, 'known_coordinators'));
    writeFileSync(pins.path, `# comment\n10.0.0.1:7700 ${ID(1)}\n`);
    assert.equal(pins.check('10.0.0.1:7700', ID(2), ID(2)).outcome, 'trusted');
    assert.throws(() => pins.check('10.0.0.1:7700', ID(1), ID(2)), (err) => isNvidError(err, 'NVID_ERR_COORDINATOR_MISMATCH') && err.details?.source === 'config');
  });
});

describe('transport reconnect backoff', () => {
  it('grows exponentially up to the cap and stays within [ceiling/2, ceiling]', () => {
    assert.equal(backoffDelay(0, 100, 10_000, () => 0), 50);
    assert.equal(backoffDelay(0, 100, 10_000, () => 1), 100);
    assert.equal(backoffDelay(3, 100, 10_000, () => 1), 800);
    assert.equal(backoffDelay(50, 100, 10_000, () => 1), 10_000);
    assert.equal(backoffDelay(50, 100, 10_000, () => 0), 5_000);
  });
});
