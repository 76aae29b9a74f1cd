/**
 * Every way of changing an envelope is refused, each with its own code:
 * single-byte flips in every region (exhaustively on a small envelope, at
 * sampled positions on a 64 KiB-chunk one), truncation anywhere, dropped,
 * swapped, repeated and appended chunks.
 */
import assert from 'node:assert/strict';
import type { NvidErrorCode } from '../../../core/errors.js';
import { decodePreambleFixed, PREAMBLE_FIXED_BYTES, TAG_BYTES } from '../../../plugins/crypto/envelope-format.js';
import type { ReplayGuard } from '../../../plugins/crypto/replay-guard.js';
import { asPeer, assertCode, freshGuard, makeMeta, openBuffer, patternBytes, sealToBuffer, testIdentities } from './helpers.js';

/** Byte ranges of one envelope, for deciding which code a change there must produce. */
interface Layout {
  readonly bodyStart: number;
  readonly wrappedKeyStart: number;
  readonly headerStart: number;
  /** [start, end) of each sealed chunk, tag included. */
  readonly chunks: Array<[number, number]>;
}

function layoutOf(envelope: Buffer, size: number, chunkSize: number): Layout {
  const fixed = decodePreambleFixed(envelope.subarray(0, PREAMBLE_FIXED_BYTES));
  const wrappedKeyStart = PREAMBLE_FIXED_BYTES;
  const headerStart = wrappedKeyStart + fixed.wrappedKeyLength;
  const bodyStart = headerStart + fixed.sealedHeaderLength;
  const chunks: Array<[number, number]> = [];
  let at = bodyStart;
  for (let left = size; chunks.length === 0 || left > 0; left -= chunkSize) {
    const length = Math.min(chunkSize, Math.max(0, left)) + TAG_BYTES;
    chunks.push([at, at + length]);
    at += length;
  }
  assert.equal(at, envelope.length, 'layout covers the envelope exactly');
  return { bodyStart, wrappedKeyStart, headerStart, chunks };
}

/** The code a flip at `position` must produce. */
function expectedFlipCode(position: number, layout: Layout): NvidErrorCode | NvidErrorCode[] {
  if (position < 5) return 'NVID_ERR_BAD_ENVELOPE'; // magic, version
  if (position < 37) return 'NVID_ERR_WRONG_RECIPIENT';
  if (position < 73) return 'NVID_ERR_BAD_ENVELOPE'; // salt (header no longer authenticates), chunk size
  // A larger header length reads body bytes as header (fails to authenticate) or runs off the end.
  if (position < 77) return ['NVID_ERR_BAD_ENVELOPE', 'NVID_ERR_TRUNCATED'];
  if (position < layout.wrappedKeyStart) return 'NVID_ERR_BAD_ENVELOPE'; // wrapped key length
  if (position < layout.headerStart) return 'NVID_ERR_KEY_UNWRAP';
  if (position < layout.bodyStart) return 'NVID_ERR_BAD_ENVELOPE'; // sealed header and its tag
  return 'NVID_ERR_CHUNK_AUTH';
}

function flipped(envelope: Buffer, position: number): Buffer {
  const copy = Buffer.from(envelope);
  copy[position] = copy[position]! ^ (1 << position % 8);
  return copy;
}

async function assertRejected(envelope: Buffer, expected: NvidErrorCode | NvidErrorCode[], context: string, guard: ReplayGuard): Promise<void> {
  const { alice, bob } = testIdentities();
  const codes = Array.isArray(expected) ? expected : [expected];
  const err = await openBuffer(envelope, { sender: asPeer(alice, 'alice'), identity: bob, replayGuard: guard }).then(
    () => assert.fail(`${context}: accepted`),
    (e: { code?: string; message?: string }) => e,
  );
  assert.ok(codes.includes(err.code as NvidErrorCode), `${context}: got ${err.code} (${err.message}), expected ${codes.join(' or ')}`);
}

describe('crypto envelope tampering', function () {
  this.timeout(120_000);

  describe('with 64-byte chunks (every position)', () => {
    const chunkSize = 64;
    const size = 4 * chunkSize; // equal chunks, so dropping or swapping keeps lengths plausible
    let envelope: Buffer;
    let layout: Layout;
    let guard: ReplayGuard;

    beforeEach(async () => {
      guard = await freshGuard();
    });

    before(async () => {
      const { alice, bob } = testIdentities();
      envelope = await sealToBuffer(patternBytes(size), { recipient: bob, sender: alice, meta: makeMeta(alice, bob, size), chunkSize });
      layout = layoutOf(envelope, size, chunkSize);
    });

    const chunk = (i: number) => envelope.subarray(...layout.chunks[i]!);
    const body = (...order: number[]) => Buffer.concat([envelope.subarray(0, layout.bodyStart), ...order.map(chunk)]);

    it('refuses a flip of any single byte, with the code of the region it hit', async () => {
      for (let position = 0; position < envelope.length; position += 1) {
        await assertRejected(flipped(envelope, position), expectedFlipCode(position, layout), `flip at ${position}`, guard);
      }
      assert.equal(guard.size, 0, 'no failed transfer is remembered');
      // ...so the untouched envelope still opens with the same guard.
      const { alice, bob } = testIdentities();
      const opened = await openBuffer(envelope, { sender: asPeer(alice, 'alice'), identity: bob, replayGuard: guard });
      assert.ok(opened.plaintext.equals(patternBytes(size)));
    });

    it('refuses truncation at every length, at and between chunk boundaries, with NVID_ERR_TRUNCATED', async () => {
      for (let cut = 0; cut < envelope.length; cut += 1) {
        await assertRejected(envelope.subarray(0, cut), 'NVID_ERR_TRUNCATED', `cut at ${cut}`, guard);
      }
    });

    it('refuses a dropped chunk', async () => {
      await assertRejected(body(1, 2, 3), 'NVID_ERR_CHUNK_AUTH', 'first dropped', guard);
      await assertRejected(body(0, 2, 3), 'NVID_ERR_CHUNK_AUTH', 'second dropped', guard);
      await assertRejected(body(0, 1, 3), 'NVID_ERR_CHUNK_AUTH', 'third dropped', guard);
      // Without its final chunk the stream simply ends early.
      await assertRejected(body(0, 1, 2), 'NVID_ERR_TRUNCATED', 'final dropped', guard);
    });

    it('refuses swapped or repeated chunks with NVID_ERR_CHUNK_AUTH', async () => {
      await assertRejected(body(1, 0, 2, 3), 'NVID_ERR_CHUNK_AUTH', 'first two swapped', guard);
      await assertRejected(body(0, 1, 3, 2), 'NVID_ERR_CHUNK_AUTH', 'final swapped with the one before', guard);
      await assertRejected(body(0, 0, 2, 3), 'NVID_ERR_CHUNK_AUTH', 'first repeated', guard);
      await assertRejected(body(0, 1, 2, 2), 'NVID_ERR_CHUNK_AUTH', 'third repeated in the final place', guard);
    });

    it('refuses data after the final chunk with NVID_ERR_TRAILING_DATA', async () => {
      await assertRejected(Buffer.concat([envelope, Buffer.from([0])]), 'NVID_ERR_TRAILING_DATA', 'one byte appended', guard);
      await assertRejected(Buffer.concat([envelope, chunk(3)]), 'NVID_ERR_TRAILING_DATA', 'final chunk repeated', guard);
    });

    it('refuses chunks spliced in from another envelope to the same recipient', async () => {
      const { alice, bob } = testIdentities();
      const other = await sealToBuffer(patternBytes(size), { recipient: bob, sender: alice, meta: makeMeta(alice, bob, size), chunkSize });
      const spliced = Buffer.concat([envelope.subarray(0, layout.chunks[1]![0]), other.subarray(layout.chunks[1]![0])]);
      await assertRejected(spliced, 'NVID_ERR_CHUNK_AUTH', 'body of another envelope', guard);
    });
  });

  describe('with 64 KiB chunks (sampled positions)', () => {
    const chunkSize = 65536;
    const size = 2 * chunkSize + 1000;

    it('refuses flips at the edges and middle of every region', async () => {
      const { alice, bob } = testIdentities();
      const guard = await freshGuard();
      const envelope = await sealToBuffer(patternBytes(size, 7), { recipient: bob, sender: alice, meta: makeMeta(alice, bob, size), chunkSize });
      const layout = layoutOf(envelope, size, chunkSize);
      const regions: Array<[number, number]> = [
        [0, layout.wrappedKeyStart],
        [layout.wrappedKeyStart, layout.headerStart],
        [layout.headerStart, layout.bodyStart],
        ...layout.chunks,
      ];
      const positions = new Set<number>();
      for (const [start, end] of regions) {
        // First and last bytes, the middle, and the ciphertext/tag seam of each region.
        for (const p of [start, start + 1, (start + end) >> 1, end - TAG_BYTES - 1, end - TAG_BYTES, end - 2, end - 1]) positions.add(p);
      }
      for (const position of positions) {
        await assertRejected(flipped(envelope, position), expectedFlipCode(position, layout), `flip at ${position}`, guard);
      }
    });

    it('refuses truncation at each chunk boundary and inside each chunk', async () => {
      const { alice, bob } = testIdentities();
      const guard = await freshGuard();
      const envelope = await sealToBuffer(patternBytes(size, 9), { recipient: bob, sender: alice, meta: makeMeta(alice, bob, size), chunkSize });
      const layout = layoutOf(envelope, size, chunkSize);
      for (const [start, end] of layout.chunks) {
        for (const cut of [start, start + 1, end - TAG_BYTES, end - 1]) {
          await assertRejected(envelope.subarray(0, cut), 'NVID_ERR_TRUNCATED', `cut at ${cut}`, guard);
        }
      }
    });
  });
});
