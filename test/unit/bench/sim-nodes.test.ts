/**
 * The coordinator benchmark's simulated nodes count list entries four bytes
 * a step and read through one shared buffer: their counts decide when the
 * benchmark says every list is complete, so they must be exact wherever a
 * message starts in memory and however the link cut it.
 */
import assert from 'node:assert/strict';
import { RawMessageReader, countEntries } from '../../../bench/coordinator-sim-nodes.js';
import { encodeMessageJson } from '../../../plugins/transport/wire/frame-codec.js';

const entry = (n: number) => `["${Buffer.alloc(32, n).toString('base64url')}","sim-${n}","127.0.0.1",9]`;
const page = (count: number) => Buffer.from(`{"type":"peers","peers":[${Array.from({ length: count }, (_, n) => entry(n)).join(',')}],"more":false}`);

describe('coordinator benchmark: simulated nodes', () => {
  it('counts the entries of a list exactly at every alignment and length', () => {
    for (const count of [0, 1, 2, 3, 7, 227]) {
      const json = page(count);
      for (let offset = 0; offset < 8; offset += 1) {
        const placed = Buffer.concat([Buffer.alloc(offset, 0x5b), json, Buffer.alloc(3, 0x5b)]).subarray(offset, offset + json.length);
        assert.equal(countEntries(placed), count, `${count} entries at offset ${offset}`);
      }
    }
  });

  it('splits messages cut anywhere by the link, even when the bytes it was handed are reused', () => {
    const frames = Buffer.concat([1, 5, 40].map((count) => encodeMessageJson(page(count).toString(), 1 << 20, 'peers')));
    for (const cut of [1, 3, 4, 5, 17, 600, frames.length - 1]) {
      const reader = new RawMessageReader();
      const counts: number[] = [];
      const shared = Buffer.alloc(frames.length);
      for (const [from, to] of [[0, cut], [cut, frames.length]] as const) {
        frames.copy(shared, 0, from, to);
        reader.pushBytes(shared.subarray(0, to - from), (json) => counts.push(countEntries(json)));
        shared.fill(0); // the next read overwrites the buffer
      }
      assert.deepEqual(counts, [1, 5, 40], `cut at ${cut}`);
    }
  });
});
