/**
 * The shared directory on a real nats-server (JetStream, a temporary store):
 * two or three directories, as two or three coordinators would hold them,
 * with sessions that are plain strings.
 */
import assert from 'node:assert/strict';
import type { Identity } from '../../../core/types.js';
import type { DirectoryChange, RegisterFields } from '../../../plugins/transport/coordinator/directory.js';
import { NatsDirectory } from '../../../plugins/transport/coordinator/directory-nats.js';
import { NatsServer, natsServerBinary } from '../../helpers/nats-server.js';
import { identity, removeDir, silentLog, sleep, tempDir, waitFor } from './helpers.js';

const TTL_MS = 1500;

interface Side {
  directory: NatsDirectory<string>;
  changes: Array<DirectoryChange<string>>;
}

const fields = (who: Identity, requestedName: string, port = 4000): RegisterFields => ({ id: who.id, certPem: who.certPem, address: '127.0.0.1', port, requestedName });
const names = (side: Side) => side.directory.list().map((p) => p.name).sort();

describe('transport shared directory on NATS', function () {
  this.timeout(60_000);
  let dir: string;
  let nats: NatsServer;
  let bucket = 0;
  const open: Side[] = [];

  before(async function () {
    if (!natsServerBinary()) {
      console.log('      nats-server is not installed (apt-get install nats-server): skipping the shared directory tests');
      this.skip();
    }
    for (let n = 0; n < 16; n += 1) identity(n);
    dir = tempDir();
    nats = await NatsServer.start(dir);
  });
  after(async () => {
    await nats?.stop();
    if (dir) removeDir(dir);
  });
  beforeEach(() => (bucket += 1));
  afterEach(async () => {
    await Promise.all(open.splice(0).map((side) => side.directory.stop()));
  });

  /** A directory as coordinator `n` would hold it, on this test's own bucket. */
  async function side(n: number, admits: (peer: { id: string }) => boolean = () => true): Promise<Side> {
    const changes: Array<DirectoryChange<string>> = [];
    const directory = new NatsDirectory<string>({ coordinatorId: `coordinator-${n}`, admits, log: silentLog }, { servers: [nats.url], bucket: `test-${bucket}`, ttlMs: TTL_MS }, 'same-policy');
    await directory.start((change) => changes.push(change));
    const s = { directory, changes };
    open.push(s);
    return s;
  }

  it('gives one name once across coordinators, the lowest free name-N, and lists everyone everywhere', async () => {
    const [a, b] = [await side(1), await side(2)];
    const joins = await Promise.all([1, 2, 3, 4, 5, 6].map((n) => (n % 2 ? a : b).directory.register(fields(identity(n), 'lobby'), `s${n}`)));
    assert.deepEqual(joins.map((j) => j.peer.name).sort(), ['lobby', 'lobby-2', 'lobby-3', 'lobby-4', 'lobby-5', 'lobby-6']);
    await waitFor(() => a.directory.list().length === 6 && b.directory.list().length === 6, 'both views list all six');
    assert.deepEqual(names(a), names(b));
    assert.equal(a.changes.filter((c) => c.kind === 'joined').length, 3, "a hears of b's three joins, not of its own");
    assert.equal(a.directory.sessionOf(identity(2).id), undefined, 'a node connected elsewhere has no session here');
    assert.equal(a.directory.sessionOf(identity(1).id), 's1');

    // A name freed by a leave is given again, lowest first, whoever asks.
    const lobby2 = joins.find((j) => j.peer.name === 'lobby-2')!.peer;
    const owner = lobby2.id === identity(1).id || lobby2.id === identity(3).id || lobby2.id === identity(5).id ? a : b;
    const n = [1, 2, 3, 4, 5, 6].find((k) => identity(k).id === lobby2.id)!;
    assert.equal(owner.directory.remove(lobby2.id, `s${n}`)?.name, 'lobby-2');
    const other = owner === a ? b : a;
    await waitFor(() => other.changes.some((c) => c.kind === 'left' && c.peer.id === lobby2.id), 'the other side hears the leave');
    assert.equal((await other.directory.register(fields(identity(7), 'lobby'), 's7')).peer.name, 'lobby-2');
  });

  it('renames consistently: a clash gets -N everywhere, a freed name can be taken elsewhere', async () => {
    const [a, b] = [await side(1), await side(2)];
    await a.directory.register(fields(identity(1), 'kitchen'), 's1');
    await b.directory.register(fields(identity(2), 'hall'), 's2');
    await waitFor(() => names(a).length === 2 && names(b).length === 2, 'both listed');
    const clash = await b.directory.rename(identity(2).id, 'kitchen');
    assert.deepEqual({ name: clash?.peer.name, oldName: clash?.oldName }, { name: 'kitchen-2', oldName: 'hall' });
    await waitFor(() => a.changes.some((c) => c.kind === 'renamed' && c.peer.name === 'kitchen-2' && c.oldName === 'hall'), 'a hears the rename');
    assert.equal((await a.directory.rename(identity(1).id, 'lounge'))?.peer.name, 'lounge');
    await waitFor(() => names(b).includes('lounge'), 'b hears it');
    assert.equal((await b.directory.rename(identity(2).id, 'kitchen'))?.peer.name, 'kitchen', 'the freed name');
    await waitFor(() => names(a).join() === 'kitchen,lounge', 'a lists the final names');
    assert.equal(await a.directory.rename(identity(2).id, 'x'), undefined, 'a rename is only made where the node is connected');
  });

  it('moves a node that fails over without doubling it or letting the old owner drop it', async () => {
    const [a, b] = [await side(1), await side(2)];
    await a.directory.register(fields(identity(1), 'mover'), 'at-a');
    await waitFor(() => b.directory.get(identity(1).id), 'b lists it');
    const moved = await b.directory.register(fields(identity(1), 'mover', 4100), 'at-b');
    assert.equal(moved.peer.name, 'mover', 'it keeps its name');
    assert.equal(moved.replacedSession, undefined, 'the old session is at a, not here');
    await waitFor(() => a.changes.find((c) => c.kind === 'displaced' && c.session === 'at-a'), 'a closes its stale session');
    assert.equal(a.directory.remove(identity(1).id, 'at-a'), undefined, 'the stale session cannot take the entry with it');
    await waitFor(() => a.directory.get(identity(1).id)?.port === 4100, 'a lists the new address');
    await sleep(TTL_MS * 2);
    assert.equal(a.directory.list().length, 1);
    assert.equal(b.directory.list().length, 1);
    assert.equal(a.changes.filter((c) => c.kind === 'left').length + b.changes.filter((c) => c.kind === 'left').length, 0, 'nobody heard it leave');
  });

  it("expires a dead coordinator's nodes everywhere, and a restarted one finds its own again", async () => {
    const [a, b] = [await side(1), await side(2)];
    await a.directory.register(fields(identity(1), 'lost'), 's1');
    await waitFor(() => b.directory.get(identity(1).id), 'b lists it');
    await a.directory.stop(); // stops refreshing, deletes nothing: like a crash, as far as the bucket knows
    open.splice(open.indexOf(a), 1);
    const again = await side(1);
    assert.deepEqual(again.directory.orphans().map((p) => p.name), ['lost'], 'restarted, it holds the entry until the node rejoins');
    assert.equal((await again.directory.register(fields(identity(1), 'lost'), 's1-again')).peer.name, 'lost');
    await again.directory.stop();
    open.splice(open.indexOf(again), 1);
    const t = Date.now();
    await waitFor(() => b.changes.find((c) => c.kind === 'left' && c.peer.id === identity(1).id), 'b drops the expired entry', TTL_MS * 4);
    assert.ok(Date.now() - t >= TTL_MS * 0.9, 'not before its TTL');
    assert.equal((await b.directory.register(fields(identity(2), 'lost'), 's2')).peer.name, 'lost', 'its name is free again');
  });

  it('lists a node another coordinator admitted only if this one admits it too', async () => {
    const [a, b] = [await side(1), await side(2, (peer) => peer.id !== identity(2).id)];
    await a.directory.register(fields(identity(1), 'welcome'), 's1');
    await a.directory.register(fields(identity(2), 'refused-at-b'), 's2');
    await waitFor(() => b.directory.get(identity(1).id), 'b lists the node it admits');
    await sleep(300);
    assert.deepEqual(names(b), ['welcome']);
  });
});
