/**
 * Sealing a file while it is still being written (a panel upload): the
 * envelope is byte for byte the one of the whole file; until the gate is
 * released no envelope ends; a gate that fails ends the envelope with its
 * reason.
 */
import assert from 'node:assert/strict';
import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buffer } from 'node:stream/consumers';
import { setTimeout as sleep } from 'node:timers/promises';
import { NvidError } from '../../../core/errors.js';
import { ArrivalGate } from '../../../core/pipeline/arrival-gate.js';
import { sealFile } from '../../../plugins/crypto/seal.js';
import { FILE_KEY_BYTES, SALT_BYTES } from '../../../plugins/crypto/envelope-format.js';
import { UploadArrival } from '../../../plugins/panel/upload-arrival.js';
import { fixedPrimitives } from './deterministic-primitives.js';
import { asPeer, freshGuard, makeMeta, openBuffer, patternBytes, sealToBuffer, tempDir, testIdentities } from './helpers.js';

const CHUNK = 256 * 1024;
const MIB = 1024 * 1024;
const sameRandomness = () => fixedPrimitives({ fileKey: Buffer.alloc(FILE_KEY_BYTES, 1), salt: Buffer.alloc(SALT_BYTES, 2), oaepSeed: Buffer.alloc(32, 3), pssSalt: Buffer.alloc(32, 4) });

/** A file written piece by piece as an upload writes it, told to an UploadArrival. */
function growingFile(size: number) {
  const file = join(tempDir(), 'upload.mkv');
  writeFileSync(file, Buffer.alloc(0));
  const arrival = new UploadArrival(size, 'video');
  const plaintext = patternBytes(size, 7);
  let written = 0;
  return {
    file,
    arrival,
    plaintext,
    write(bytes: number) {
      const piece = plaintext.subarray(written, Math.min(size, written + bytes));
      appendFileSync(file, piece);
      written += piece.length;
      arrival.advance(piece.length);
    },
    get written() {
      return written;
    },
  };
}

describe('crypto: sealing a file that is still arriving', function () {
  this.timeout(120_000);
  const { alice, bob } = testIdentities();
  /** Fresh deterministic randomness on every call (it is used up by one seal), the meta given or a new one. */
  const input = (size: number, meta = makeMeta(alice, bob, size)) => ({ recipient: asPeer(bob, 'bob'), sender: alice, chunkSize: CHUNK, meta, primitives: sameRandomness() });

  for (const size of [3 * MIB + 17, 40 * MIB + 3]) {
    it(`seals ${size} bytes as they land, holds the end back until released, and opens to the whole file`, async () => {
      const upload = growingFile(size);
      const gate = new ArrivalGate(upload.arrival);
      const sealInput = input(size);
      upload.write(MIB);
      const sealed = await sealFile(upload.file, sealInput, gate);
      const envelope = buffer(sealed.stream);
      let ended = false;
      void envelope.then(() => (ended = true), () => (ended = true));
      while (upload.written < size) {
        upload.write(4 * MIB);
        await sleep(5);
      }
      await sleep(300);
      assert.equal(ended, false, 'the envelope waits for the check before its final chunk');
      gate.release();
      const bytes = await envelope;
      assert.equal(bytes.length, sealed.length);
      assert.ok(bytes.equals(await sealToBuffer(upload.plaintext, input(size, sealInput.meta))), 'the same envelope as of the whole file');
      const opened = await openBuffer(bytes, { sender: asPeer(alice, 'alice'), identity: bob, replayGuard: await freshGuard() });
      assert.ok(opened.plaintext.equals(upload.plaintext));
    });
  }

  it('ends the envelope with the reason when the file fails its check', async () => {
    const size = 5 * MIB + 1;
    const upload = growingFile(size);
    const gate = new ArrivalGate(upload.arrival);
    upload.write(size);
    const sealed = await sealFile(upload.file, input(size), gate);
    const envelope = buffer(sealed.stream);
    await sleep(200);
    gate.fail(new NvidError('NVID_ERR_MEDIA_REJECTED', 'announced as a video but is an image'));
    await assert.rejects(envelope, (err: NvidError) => err.code === 'NVID_ERR_MEDIA_REJECTED' && /announced as a video/.test(err.message));
  });
});
