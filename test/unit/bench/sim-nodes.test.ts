/**
 * The coordinator benchmark's simulated nodes walk list entries without
 * building them and read through one shared buffer: their counts decide when
 * the benchmark says every list is complete, so they must be exact for every
 * kind of entry and however the link cut the frames.
 */
import assert from 'node:assert/strict';
import { RawFrameReader, countListEntries } from '../../../bench/coordinator-sim-nodes.js';
import { FRAME_KIND, LIST_MESSAGE, PREFIX_BYTES, encodeListFrame, encodeMessage, type ListMessage } from '../../../plugins/transport/wire/frame-codec.js';
import { encodePeerEntry } from '../../../plugins/transport/wire/wire-peer.js';

/** Entries of every shape: IPv4 or text addresses, names of any length and script, tags or none. */
const entry = (n: number) =>
  encodePeerEntry({
    id: Buffer.alloc(32, n).toString('hex'),
    name: n % 3 === 0 ? `sim-${n}` : `écran ${'x'.repeat(n % 60)} 🖥`,
    address: n % 4 === 0 ? 'fe80::1%eth0' : '127.0.0.1',
    port: 9 + n,
    tags: n % 5 === 0 ? ['lobby', `floor-${n % 7}`] : [],
  });
const list = (count: number, which: ListMessage = LIST_MESSAGE.lastPage) => encodeListFrame(which, Array.from({ length: count }, (_, n) => entry(n)), 1 << 20);

describe('coordinator benchmark: simulated nodes', () => {
  it('counts the entries of a list frame exactly, whatever the entries hold', () => {
    for (const count of [0, 1, 2, 3, 7, 227]) {
      assert.equal(countListEntries(list(count).subarray(PREFIX_BYTES)), count, `${count} entries`);
    }
    assert.throws(() => countListEntries(list(3).subarray(PREFIX_BYTES, -1)), /malformed list frame/, 'a cut entry is not counted as whole');
  });

  it('splits frames cut anywhere by the link, even when the bytes it was handed are reused', () => {
    const frames = Buffer.concat([list(1, LIST_MESSAGE.page), encodeMessage({ type: 'pong' }), list(5, LIST_MESSAGE.joined), list(40)]);
    for (const cut of [1, 3, 4, 5, 17, 600, frames.length - 1]) {
      const reader = new RawFrameReader();
      const seen: string[] = [];
      const shared = Buffer.alloc(frames.length);
      for (const [from, to] of [[0, cut], [cut, frames.length]] as const) {
        frames.copy(shared, 0, from, to);
        reader.pushBytes(shared.subarray(0, to - from), (payload, kind) => seen.push(kind === FRAME_KIND.list ? `${payload[0]}:${countListEntries(payload)}` : payload.toString()));
        shared.fill(0); // the next read overwrites the buffer
      }
      assert.deepEqual(seen, ['2:1', '{"type":"pong"}', '3:5', '1:40'], `cut at ${cut}`);
    }
  });
});
