import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import pino from 'pino';
import { NvidError } from '../../../core/errors.js';
import { readNoteCodes } from '../../../plugins/drop-folder/error-notes.js';
import { DropQueue, type DropQueueOptions } from '../../../plugins/drop-folder/drop-queue.js';
import { targetMatches } from '../../../plugins/drop-folder/dropped-file-session.js';
import { InFlightDeliveries, type PeerRef, type SendOutcome } from '../../../plugins/drop-folder/file-job.js';
import { DeliveryLedger } from '../../../plugins/drop-folder/ledger.js';
import { removeDir, sleep, tempDir, waitFor } from '../../helpers/nvid.js';

const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');

/** Peers that store what they get in memory, the way the real pipeline answers: resolve only once stored. */
class TestPeers {
  readonly online = new Map<string, PeerRef>();
  readonly stored: Array<{ peer: string; sha256: string; file: string }> = [];
  /** Content (by hash) a receiver refuses as media. */
  readonly refused = new Set<string>();
  active = 0;
  maxActive = 0;

  join(name: string): PeerRef {
    const peer = { id: sha256(name), name };
    this.online.set(name, peer);
    return peer;
  }

  resolve(target: string): PeerRef {
    const peer = this.online.get(target);
    if (!peer) throw new NvidError('NVID_ERR_UNKNOWN_PEER', `no admitted peer named "${target}"`);
    return peer;
  }

  async send(file: string, target: string): Promise<SendOutcome> {
    const peer = this.resolve(target);
    this.active++;
    this.maxActive = Math.max(this.maxActive, this.active);
    try {
      const data = readFileSync(file);
      await sleep(30);
      const hash = sha256(data);
      if (this.refused.has(hash)) throw new NvidError('NVID_ERR_REFUSED', 'not an image', { details: { code: 'NVID_ERR_MEDIA_REJECTED' } });
      this.stored.push({ peer: peer.name, sha256: hash, file });
      return { transferId: `t-${this.stored.length}`, to: peer, sha256: hash, size: data.length, seconds: 0.03 };
    } finally {
      this.active--;
    }
  }

  count(peer: string, hash: string): number {
    return this.stored.filter((s) => s.peer === peer && s.sha256 === hash).length;
  }
}

describe('drop-folder: the queue', function () {
  this.timeout(20_000);
  let dir: string;
  let drop: string;
  let peers: TestPeers;
  let ledger: DeliveryLedger;
  let queue: DropQueue;
  const log = pino({ enabled: false });

  const options = (extra: Partial<DropQueueOptions> = {}): DropQueueOptions => ({
    folder: drop,
    sentFolder: join(drop, '.sent'),
    afterSend: 'move',
    to: ['lobby'],
    concurrency: 2,
    stableMs: 150,
    pollMs: 20,
    retry: { initialMs: 300, maxMs: 600, factor: 2 },
    ...extra,
  });
  const start = (extra: Partial<DropQueueOptions> = {}) => {
    ledger = new DeliveryLedger(join(dir, 'state', 'ledger.jsonl'));
    queue = new DropQueue(options(extra), { send: (f, t) => peers.send(f, t), resolvePeer: (t) => peers.resolve(t), ledger, inFlight: new InFlightDeliveries(), log });
    return queue;
  };
  const put = (rel: string, content: string | Buffer) => {
    const path = join(drop, rel);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, content);
    queue.offer(path);
    return path;
  };
  const idle = () => waitFor(() => queue.list().every((f) => f.state === 'waiting' || f.state === 'held'), 'the queue to settle');

  beforeEach(() => {
    dir = tempDir('nvid-df-queue-');
    drop = join(dir, 'drop');
    mkdirSync(drop);
    peers = new TestPeers();
  });
  afterEach(async () => {
    await queue?.close(1000);
    ledger?.close();
    removeDir(dir);
  });

  it('delivers to the configured target or the subfolder peer, then moves the file to the sent folder', async () => {
    peers.join('lobby');
    peers.join('kiosk');
    start();
    put('a.png', 'A');
    put(join('kiosk', 'b.png'), 'B');
    await waitFor(() => existsSync(join(drop, '.sent', 'a.png')) && existsSync(join(drop, '.sent', 'kiosk', 'b.png')), 'both files in the sent folder');
    assert.equal(peers.count('lobby', sha256('A')), 1);
    assert.equal(peers.count('kiosk', sha256('B')), 1);
    assert.equal(peers.count('lobby', sha256('B')), 0, 'the subfolder overrides the configured target');
    assert.equal(existsSync(join(drop, 'a.png')), false);
    assert.equal(queue.counts().deliveredFiles, 2);
  });

  it('keeps a file for an absent peer with a note, and delivers it when the peer comes', async () => {
    peers.join('lobby');
    start({ to: ['lobby', 'kiosk'], retry: { initialMs: 60_000, maxMs: 60_000, factor: 2 } });
    const file = put('c.png', 'C');
    await waitFor(() => queue.list()[0]?.state === 'waiting', 'the file to wait');
    assert.deepEqual(readNoteCodes(file), ['NVID_ERR_UNKNOWN_PEER']);
    assert.deepEqual(queue.list()[0]!.delivered, ['lobby'], 'the peer that is there has it already');
    assert.ok(queue.list()[0]!.nextRetry, 'a retry is planned');
    assert.equal(existsSync(file), true, 'not moved before every target has it');

    assert.equal(queue.peerAvailable(peers.join('kiosk')), 1);
    await waitFor(() => existsSync(join(drop, '.sent', 'c.png')), 'delivery once kiosk joined');
    assert.equal(peers.count('lobby', sha256('C')), 1, 'lobby is not sent the file twice');
    assert.equal(peers.count('kiosk', sha256('C')), 1);
    assert.deepEqual(readNoteCodes(file), [], 'the note is gone');
  });

  it('retries with backoff until the peer is there', async () => {
    start({ retry: { initialMs: 100, maxMs: 200, factor: 2 } });
    const file = put('d.png', 'D');
    await waitFor(() => (queue.list()[0]?.attempts ?? 0) >= 2, 'two attempts');
    peers.join('lobby'); // no peerAvailable call: only the backoff timer brings it back
    await waitFor(() => existsSync(join(drop, '.sent', 'd.png')), 'delivery by a timed retry');
    assert.equal(existsSync(`${file}.nvid-error.txt`), false);
  });

  it('keeps refused content without retrying until the file changes', async () => {
    peers.join('lobby');
    peers.refused.add(sha256('not media'));
    start({ retry: { initialMs: 50, maxMs: 50, factor: 1 } });
    const file = put('e.png', 'not media');
    await waitFor(() => queue.list()[0]?.state === 'held', 'the file to be kept');
    assert.deepEqual(readNoteCodes(file), ['NVID_ERR_MEDIA_REJECTED']);
    queue.peerAvailable(peers.resolve('lobby'));
    queue.offer(file); // a spurious event without a change
    await sleep(400);
    assert.equal(queue.list()[0]!.attempts, 1, 'neither backoff, a join nor a spurious event retried it');

    appendFileSync(file, ' but now it is');
    utimesSync(file, new Date(), new Date(Date.now() + 5000));
    queue.offer(file);
    await waitFor(() => existsSync(join(drop, '.sent', 'e.png')), 'the changed file to go');
    assert.equal(peers.count('lobby', sha256('not media but now it is')), 1);
  });

  it('sends the same content to the same peer once, also for two files at once and after a restart', async () => {
    peers.join('lobby');
    start();
    put('f1.png', 'same');
    put('f2.png', 'same');
    await waitFor(() => existsSync(join(drop, '.sent', 'f1.png')) && existsSync(join(drop, '.sent', 'f2.png')), 'both moved');
    assert.equal(peers.count('lobby', sha256('same')), 1);
    assert.equal(queue.counts().skippedSends, 1);
    await queue.close(1000);
    ledger.close();

    start();
    put('f3.png', 'same');
    put(join('lobby', 'f4.png'), 'same');
    await waitFor(() => existsSync(join(drop, '.sent', 'f3.png')) && existsSync(join(drop, '.sent', 'lobby', 'f4.png')), 'moved after the restart');
    assert.equal(peers.count('lobby', sha256('same')), 1, 'the ledger survived the restart');
  });

  it('sends a slowly written file only once it is complete, and never more at once than allowed', async () => {
    peers.join('lobby');
    start({ concurrency: 2, afterSend: 'delete' });
    const slow = join(drop, 'slow.bin');
    writeFileSync(slow, 'part 0;');
    queue.offer(slow);
    for (let i = 0; i < 6; i++) put(`many-${i}.png`, `content ${i}`);
    for (let i = 1; i <= 6; i++) {
      await sleep(60);
      appendFileSync(slow, `part ${i};`);
      queue.offer(slow);
    }
    await waitFor(() => queue.list().length === 0, 'everything delivered');
    const full = 'part 0;part 1;part 2;part 3;part 4;part 5;part 6;';
    assert.deepEqual(peers.stored.filter((s) => s.file === slow).map((s) => s.sha256), [sha256(full)], 'only the complete file went');
    assert.equal(peers.stored.length, 7);
    assert.ok(peers.maxActive <= 2, `at most 2 sends at once, saw ${peers.maxActive}`);
    assert.equal(existsSync(join(drop, '.sent')), false, 'afterSend delete: nothing moved');
    assert.equal(existsSync(slow), false);
  });

  it('keeps a file at the top with no target configured, naming NVID_ERR_DROP_TARGET', async () => {
    peers.join('lobby');
    start({ to: [] });
    const file = put('orphan.png', 'O');
    await idle();
    assert.equal(queue.list()[0]!.state, 'held');
    assert.deepEqual(readNoteCodes(file), ['NVID_ERR_DROP_TARGET']);
    assert.equal(readFileSync(file, 'utf8'), 'O');
  });

  it('matches a peer by name or by an ID prefix of at least 8 hex digits', () => {
    const peer = { id: 'ab12cd34ef' + '0'.repeat(54), name: 'lobby' };
    assert.equal(targetMatches('lobby', peer), true);
    assert.equal(targetMatches('AB:12:CD:34', peer), true);
    assert.equal(targetMatches('ab12cd3', peer), false);
    assert.equal(targetMatches('kiosk', peer), false);
  });
});
