import assert from 'node:assert/strict';
import { wireEntry } from '../../../plugins/transport/coordinator/coordinator-registry.js';
import { BURST_BATCHES, Batch, DeltaBatches, GATHER_MS, SlicedBroadcast, WritePacer } from '../../../plugins/transport/coordinator/delta-batches.js';
import { PeerListPages } from '../../../plugins/transport/coordinator/peer-list-pages.js';
import { FrameDecoder, LIST_MESSAGE, encodeListFrame, encodeMessage } from '../../../plugins/transport/wire/frame-codec.js';
import { fromWirePeer, type WirePeer } from '../../../plugins/transport/wire/wire-peer.js';
import { identity, peerOf, sleep } from './helpers.js';

/** The messages in a byte string of frames, in order. */
function messages(bytes: Buffer): Array<Record<string, unknown>> {
  return new FrameDecoder().push(bytes).map((frame) => (frame.kind === 'message' ? (frame.message as Record<string, unknown>) : { kind: frame.kind }));
}

describe('coordinator batches and list pages: what a join burst costs', () => {
  it('lets a few changes in a quiet fleet leave at once and holds a stream of them to the write budget', () => {
    let now = 0;
    const pacer = new WritePacer(5_000, () => now);
    for (let change = 1; change <= BURST_BATCHES; change += 1) {
      assert.equal(pacer.delayFor(10_000), GATHER_MS, `change ${change} of a quiet spell (a person renaming screens) leaves after the gathering pause`);
      pacer.spend(10_000);
    }
    assert.equal(pacer.delayFor(10_000), 2000, 'then 10,000 writes wait for two seconds of budget');
    now += 500;
    assert.equal(pacer.delayFor(10_000), 1500, 'time passed counts');
    now += 1500;
    pacer.spend(10_000);
    now += 3_600_000;
    for (let change = 1; change <= BURST_BATCHES; change += 1) pacer.spend(10_000);
    assert.equal(pacer.delayFor(10_000), 2000, 'an hour of quiet buys no more than the bucket holds');
    assert.equal(pacer.delayFor(3), GATHER_MS, 'a handful of nodes always leave at once (a tenth of a second of budget is kept)');
  });

  it('lets a rename borrow ahead of a join burst, but only one bucket ahead', () => {
    let now = 0;
    const pacer = new WritePacer(5_000, () => now);
    for (let change = 1; change <= BURST_BATCHES; change += 1) pacer.spend(10_000);
    assert.equal(pacer.delayFor(10_000), 2000, 'a join waits for the budget');
    assert.equal(pacer.delayFor(10_000, true), GATHER_MS, 'a rename does not');
    for (let change = 1; change <= BURST_BATCHES; change += 1) {
      assert.equal(pacer.delayFor(10_000, true), GATHER_MS);
      pacer.spend(10_000);
    }
    assert.equal(pacer.delayFor(10_000, true), 2000, 'renames in a loop: one bucket borrowed, then they wait too');
    assert.equal(pacer.delayFor(10_000), 14_000, 'and the joins after them pay it back');
  });

  it('writes the changes gathered as one buffer, each reader getting only what it has not seen', async () => {
    const flushed: Batch[] = [];
    const deltas = new DeltaBatches(() => 3, (batch) => {
      flushed.push(batch);
      return 3;
    }, 16_384);
    const old = { seenSeq: deltas.seq };
    deltas.push({ frame: encodeMessage({ type: 'peer-left', id: 'a' } as never) });
    const joinedMidWindow = { seenSeq: deltas.seq }; // got the list after the first change
    deltas.push({ frame: encodeMessage({ type: 'peer-left', id: 'b' } as never) });
    const current = { seenSeq: deltas.seq };
    assert.equal(flushed.length, 0, 'nothing leaves in the same turn');
    await sleep(30);
    assert.equal(flushed.length, 1, 'one batch for the changes of one turn');
    const [batch] = flushed;
    assert.deepEqual(messages(batch!.unseenBy(old)!).map((m) => m.id), ['a', 'b']);
    assert.deepEqual(messages(batch!.unseenBy(joinedMidWindow)!).map((m) => m.id), ['b'], 'a zero-copy tail');
    assert.equal(batch!.unseenBy(current), undefined, 'a node whose list held both gets nothing');
    assert.equal(batch!.unseenBy(old), undefined, 'and nobody gets a batch twice');
    deltas.stop();
  });

  it('puts joins in a row into peers-joined messages for the nodes that knew everything before, one message per change for the others', () => {
    const entries = [1, 2, 3, 4, 5, 6].map((n) => wireEntry(peerOf(identity(n), `n${n}`)));
    const joined = (entry: Buffer) => ({ frame: encodeListFrame(LIST_MESSAGE.joined, [entry], 16_384), joined: entry });
    const left = { frame: encodeMessage({ type: 'peer-left', id: identity(9).id } as never) };
    // Room for two entries per message: five joins in a row become three messages.
    const batch = new Batch([joined(entries[0]!), left, ...entries.slice(1).map(joined)], 10, 1 + 2 * entries[0]!.length);
    const shapes = (bytes: Buffer) => messages(bytes).map((m) => `${m.type as string}:${m.type === 'peers-joined' ? (m.peers as unknown[]).length : 1}`);
    const everyone = { seenSeq: 9 };
    assert.deepEqual(shapes(batch.unseenBy(everyone)!), ['peers-joined:1', 'peer-left:1', 'peers-joined:2', 'peers-joined:2', 'peers-joined:1']);
    const idsOf = (bytes: Buffer) => messages(bytes).flatMap((m) => (m.type === 'peers-joined' ? (m.peers as string[][]) : m.type === 'peer-joined' ? [m.peer as string[]] : []).map((entry) => fromWirePeer(entry as WirePeer).id));
    assert.deepEqual(idsOf(new Batch([joined(entries[0]!), left, ...entries.slice(1).map(joined)], 10, 16_384).unseenBy({ seenSeq: 0 })!), [1, 2, 3, 4, 5, 6].map((n) => identity(n).id), 'every join, in order, as the node reads them');
    const listHeldThree = { seenSeq: 12 };
    assert.deepEqual(shapes(batch.unseenBy(listHeldThree)!), ['peers-joined:1', 'peers-joined:1', 'peers-joined:1', 'peers-joined:1'], 'a tail: the changes after its list, one message each');
  });

  it('writes a batch to its readers a slice per turn, each batch to everyone before the next', async () => {
    const frame = (id: string) => ({ frame: encodeMessage({ type: 'peer-left', id } as never) });
    const readers = Array.from({ length: 5 }, (_, n) => ({ n, seenSeq: 0, got: [] as string[] }));
    const turns: number[][] = [];
    let turn: number[] = [];
    const broadcast = new SlicedBroadcast<(typeof readers)[number]>((reader, batch) => {
      turn.push(reader.n);
      const unseen = batch.unseenBy(reader);
      if (unseen) reader.got.push(...messages(unseen).map((m) => m.id as string));
    }, 2);
    broadcast.enqueue(new Batch([frame('a'), frame('b')], 1, 16_384), readers);
    broadcast.enqueue(new Batch([frame('c')], 3, 16_384), readers.slice(0, 3));
    assert.equal(turn.length, 0, 'nothing is written in the turn it was queued');
    for (let i = 0; i < 6; i += 1) {
      await new Promise((resolve) => setImmediate(resolve));
      turns.push(turn);
      turn = [];
    }
    assert.deepEqual(turns.filter((t) => t.length > 0), [[0, 1], [2, 3], [4, 0], [1, 2]], 'two readers a turn, the second batch after the first');
    assert.deepEqual(readers.map((r) => r.got.join('')), ['abc', 'abc', 'abc', 'ab', 'ab']);
    broadcast.enqueue(new Batch([frame('d')], 4, 16_384), readers);
    broadcast.drain();
    assert.deepEqual(readers.map((r) => r.got.at(-1)), ['d', 'd', 'd', 'd', 'd'], 'drain writes the rest at once (the coordinator stopping)');
  });

  it('keeps the list as pages that fit the budget, adds a joiner to the last page only, and rebuilds after other changes', () => {
    const entries = [1, 2, 3, 4, 5].map((n) => [identity(n).id, wireEntry(peerOf(identity(n), `n${n}`))] as const);
    const pages = new PeerListPages(1 + entries[0]![1].length); // one entry per page
    const listed = (frames: readonly Buffer[]) => frames.flatMap((frame) => messages(frame)).map((m) => ({ ids: (m.peers as WirePeer[]).map((p) => fromWirePeer(p).id), more: m.more, certs: (m.peers as WirePeer[]).filter((p) => JSON.stringify(p).includes('CERTIFICATE')).length }));
    const first = listed(pages.frames(() => entries.slice(0, 3)));
    assert.ok(first.length >= 2, 'more than one page');
    assert.deepEqual(first.map((p) => p.more), [...first.slice(1).map(() => true), false]);
    assert.deepEqual(first.flatMap((p) => p.ids), entries.slice(0, 3).map(([id]) => id));
    assert.equal(first.reduce((n, p) => n + p.certs, 0), 0, 'no certificates on the wire');
    const firstPage = pages.frames(() => [])[0];
    pages.appended(entries[3]![0], entries[3]![1]);
    pages.appended(entries[3]![0], entries[3]![1]);
    const after = pages.frames(() => []);
    assert.deepEqual(listed(after).flatMap((p) => p.ids), entries.slice(0, 4).map(([id]) => id), 'appended once, though told twice');
    assert.equal(after[0], firstPage, 'the full pages were not encoded again');
    pages.invalidate();
    assert.deepEqual(listed(pages.frames(() => entries)).flatMap((p) => p.ids), entries.map(([id]) => id), 'rebuilt from the entries');
  });
});
