import assert from 'node:assert/strict';
import { wireEntry } from '../../../plugins/transport/coordinator/coordinator-registry.js';
import { Batch, DeltaBatches, batchWindowMs } from '../../../plugins/transport/coordinator/delta-batches.js';
import { PeerListPages } from '../../../plugins/transport/coordinator/peer-list-pages.js';
import { FrameDecoder, encodeMessage } from '../../../plugins/transport/wire/frame-codec.js';
import { identity, peerOf, sleep } from './helpers.js';

/** The messages in a byte string of frames, in order. */
function messages(bytes: Buffer): Array<Record<string, unknown>> {
  return new FrameDecoder().push(bytes).map((frame) => (frame.kind === 'message' ? (frame.message as Record<string, unknown>) : { kind: frame.kind }));
}

describe('coordinator batches and list pages: what a join burst costs', () => {
  it('gathers changes for a window that grows with the fleet, from 2 ms to 250 ms', () => {
    assert.equal(batchWindowMs(3), 2);
    assert.equal(batchWindowMs(1000), 25);
    assert.equal(batchWindowMs(10_000), 250);
    assert.equal(batchWindowMs(100_000), 250);
  });

  it('writes the changes of one window as one buffer, each reader getting only what it has not seen', async () => {
    const flushed: Batch[] = [];
    const deltas = new DeltaBatches(() => 20, (batch) => flushed.push(batch));
    const old = { seenSeq: deltas.seq };
    deltas.push(encodeMessage({ type: 'peer-left', id: 'a' } as never));
    const joinedMidWindow = { seenSeq: deltas.seq }; // got the list after the first change
    deltas.push(encodeMessage({ type: 'peer-left', id: 'b' } as never));
    const current = { seenSeq: deltas.seq };
    assert.equal(flushed.length, 0, 'nothing leaves before the window ends');
    await sleep(60);
    assert.equal(flushed.length, 1, 'one batch for the window');
    const [batch] = flushed;
    assert.deepEqual(messages(batch!.unseenBy(old)!).map((m) => m.id), ['a', 'b']);
    assert.deepEqual(messages(batch!.unseenBy(joinedMidWindow)!).map((m) => m.id), ['b'], 'a zero-copy tail');
    assert.equal(batch!.unseenBy(current), undefined, 'a node whose list held both gets nothing');
    assert.equal(batch!.unseenBy(old), undefined, 'and nobody gets a batch twice');
    deltas.stop();
  });

  it('keeps the list as pages that fit the budget, adds a joiner to the last page only, and rebuilds after other changes', () => {
    const pages = new PeerListPages(400);
    const entries = [1, 2, 3, 4, 5].map((n) => [identity(n).id, wireEntry(peerOf(identity(n), `n${n}`))] as const);
    const listed = (frames: readonly Buffer[]) => frames.flatMap((frame) => messages(frame)).map((m) => ({ ids: (m.peers as Array<{ id: string; certPem?: string }>).map((p) => p.id), more: m.more, certs: (m.peers as Array<{ certPem?: string }>).filter((p) => p.certPem).length }));
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
