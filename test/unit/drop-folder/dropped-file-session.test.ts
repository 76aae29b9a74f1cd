import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import { NvidError } from '../../../core/errors.js';
import { DropQueue } from '../../../plugins/drop-folder/drop-queue.js';
import { DroppedFileSession, type AttemptOptions, type SessionHost, type SessionOptions } from '../../../plugins/drop-folder/dropped-file-session.js';
import { notePathFor, readNoteCodes, writeNote } from '../../../plugins/drop-folder/error-notes.js';
import { InFlightDeliveries, type PeerRef, type SendOutcome } from '../../../plugins/drop-folder/file-job.js';
import { DeliveryLedger } from '../../../plugins/drop-folder/ledger.js';
import { removeDir, sleep, tempDir, waitFor } from '../../helpers/nvid.js';

const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');
const LOBBY: PeerRef = { id: sha256('lobby'), name: 'lobby' };

/** A queue stand-in that only records what the session asked of it. */
class RecordingHost implements SessionHost {
  closed = false;
  readonly enqueued: DroppedFileSession[] = [];
  readonly released: DroppedFileSession[] = [];
  readonly retries: number[] = [];
  readonly totals = { deliveredFiles: 0, skippedSends: 0 };

  isClosed(): boolean {
    return this.closed;
  }
  enqueue(session: DroppedFileSession): void {
    session.markQueued();
    this.enqueued.push(session);
  }
  release(session: DroppedFileSession): void {
    this.released.push(session);
  }
  scheduleRetry(_session: DroppedFileSession, attempt: number): number {
    this.retries.push(attempt);
    return Date.now() + 60_000;
  }
}

describe('drop-folder: one file session', function () {
  this.timeout(10_000);
  let dir: string;
  let drop: string;
  let ledger: DeliveryLedger;
  let host: RecordingHost;
  let sends: Array<{ file: string; target: string; options: AttemptOptions }>;
  /** What the fake send does; by default it stores the file and acknowledges its hash. */
  let answer: (file: string) => Promise<SendOutcome>;

  const acknowledge = async (file: string): Promise<SendOutcome> => ({ transferId: `t-${sends.length}`, to: LOBBY, sha256: sha256(readFileSync(file)), size: 1, seconds: 0.01 });
  const session = (rel: string, content: string, extra: Partial<SessionOptions> = {}) => {
    const path = join(drop, rel);
    writeFileSync(path, content);
    const options: SessionOptions = { sentFolder: join(drop, '.sent'), afterSend: 'move', to: ['lobby'], stableMs: 60, pollMs: 10, ...extra };
    const services = {
      send: (file: string, target: string, sendOptions: AttemptOptions) => {
        sends.push({ file, target, options: sendOptions });
        return answer(file);
      },
      resolvePeer: (target: string) => {
        if (target !== 'lobby') throw new NvidError('NVID_ERR_UNKNOWN_PEER', `no admitted peer named "${target}"`);
        return LOBBY;
      },
      ledger,
      inFlight: new InFlightDeliveries(),
      log: pino({ enabled: false }),
    };
    return new DroppedFileSession(path, rel, { options, services, host });
  };
  /** Settles the file and runs one send, the way the queue would. */
  const settleAndSend = async (s: DroppedFileSession) => {
    await s.settle();
    assert.equal(s.state, 'queued');
    await s.send();
  };

  beforeEach(() => {
    dir = tempDir('nvid-df-session-');
    drop = join(dir, 'drop');
    mkdirSync(drop);
    ledger = new DeliveryLedger(join(dir, 'state', 'ledger.jsonl'));
    host = new RecordingHost();
    sends = [];
    answer = acknowledge;
  });
  afterEach(() => {
    ledger.close();
    removeDir(dir);
  });

  it('moves a delivered file and releases itself', async () => {
    const s = session('a.png', 'A');
    await settleAndSend(s);
    assert.equal(sends.length, 1);
    assert.equal(existsSync(join(drop, '.sent', 'a.png')), true);
    assert.deepEqual(host.released, [s]);
    assert.equal(host.totals.deliveredFiles, 1);
  });

  it('keeps a delivered file that cannot be moved, with a note, and does not retry it', async () => {
    writeFileSync(join(drop, 'blocked'), 'a file where the sent folder should be');
    const s = session('b.png', 'B', { sentFolder: join(drop, 'blocked') });
    await settleAndSend(s);
    assert.equal(s.state, 'held');
    assert.deepEqual(host.released, [], 'still tracked');
    assert.deepEqual(host.retries, [], 'moving again cannot succeed until something changes');
    const view = s.view(undefined);
    assert.deepEqual(view.delivered, ['lobby']);
    assert.equal(view.failures[0]!.target, '(all delivered)');
    assert.match(readFileSync(notePathFor(s.path), 'utf8'), /already delivered to: lobby/);
    assert.equal(ledger.has(sha256('B'), LOBBY.id), true, 'the delivery is recorded, so a retry will not send again');
    assert.equal(host.totals.deliveredFiles, 0);
  });

  it('plans a retry for a peer that is away, and says so in the note', async () => {
    const s = session('d.png', 'D', { to: ['lobby', 'kiosk'] });
    await settleAndSend(s);
    assert.equal(s.state, 'waiting');
    assert.deepEqual(host.retries, [1]);
    assert.deepEqual(readNoteCodes(s.path), ['NVID_ERR_UNKNOWN_PEER']);
    assert.equal(s.waitsFor({ id: sha256('kiosk'), name: 'kiosk' }), true);
    assert.equal(s.waitsFor(LOBBY), false, 'lobby has it already');
  });

  it('looks at a file again when it was reported changed during its send', async () => {
    const s = session('e.png', 'E');
    answer = async (file) => {
      s.markChanged();
      return acknowledge(file);
    };
    await settleAndSend(s);
    assert.deepEqual(host.released, [], 'not moved on what may be stale content');
    await waitFor(() => host.enqueued.length === 2, 'the file to settle again');
    answer = acknowledge;
    await s.send();
    assert.equal(sends.length, 1, 'the ledger had the unchanged content: not sent again');
    assert.equal(host.totals.skippedSends, 1);
    assert.deepEqual(host.released, [s]);
  });

  it('hands each send a signal that cancelSend aborts, and keeps the file without a note while closing', async () => {
    answer = (file) => {
      const { signal } = sends.at(-1)!.options;
      return new Promise((_resolve, reject) => signal.addEventListener('abort', () => reject(signal.reason as Error)));
    };
    const s = session('g.png', 'G');
    await s.settle();
    const sending = s.send();
    await waitFor(() => sends.length === 1, 'the send to start');
    host.closed = true;
    s.cancelSend(new Error('closing'));
    await sending;
    assert.equal(sends[0]!.options.signal.aborted, true);
    assert.equal(s.state, 'held');
    assert.deepEqual(host.retries, [], 'tried again at the next start, not by a timer');
    assert.equal(existsSync(notePathFor(s.path)), false, 'no note for a send our own shutdown cut short');
    s.cancelSend(new Error('again')); // nothing under way: no effect
  });

  it('forgets a file, and its note, when it vanishes while settling', async () => {
    const s = session('f.png', 'F');
    writeNote({ file: s.path, failures: [], time: new Date(), nextRetry: undefined, attempts: 1, delivered: [] });
    const settling = s.settle();
    await sleep(20);
    rmSync(s.path);
    await settling;
    assert.deepEqual(host.released, [s]);
    assert.equal(existsSync(notePathFor(s.path)), false);
  });
});

describe('drop-folder: closing the queue', () => {
  let dir: string;
  beforeEach(() => (dir = tempDir('nvid-df-close-')));
  afterEach(() => removeDir(dir));

  it('aborts the signal of a send still running when the grace is over', async () => {
    const drop = join(dir, 'drop');
    mkdirSync(drop);
    const ledger = new DeliveryLedger(join(dir, 'ledger.jsonl'));
    let signal: AbortSignal | undefined;
    const queue = new DropQueue(
      { folder: drop, sentFolder: join(drop, '.sent'), afterSend: 'move', to: ['lobby'], concurrency: 1, stableMs: 50, pollMs: 10, retry: { initialMs: 1000, maxMs: 1000, factor: 2 } },
      {
        send: (_file, _target, options) => {
          signal = options.signal;
          return new Promise((_resolve, reject) => options.signal.addEventListener('abort', () => reject(options.signal.reason as Error)));
        },
        resolvePeer: () => LOBBY,
        ledger,
        inFlight: new InFlightDeliveries(),
        log: pino({ enabled: false }),
      },
    );
    const file = join(drop, 'slow.png');
    writeFileSync(file, 'S');
    queue.offer(file);
    await waitFor(() => signal, 'the send to start');
    const closing = queue.close(150);
    await sleep(50);
    assert.equal(signal!.aborted, false, 'running sends get their grace');
    await closing;
    assert.equal(signal!.aborted, true);
    await waitFor(() => queue.list()[0]?.state === 'held', 'the cancelled send to end');
    assert.equal(existsSync(notePathFor(file)), false, 'no note for a send our own shutdown cut short');
    ledger.close();
  });
});
