/**
 * The gate between an upload still arriving and the sealer: the last byte
 * (and so the envelope's final chunk) stays back until the whole file passed
 * its check, and a failed check or a broken upload reaches a waiting sealer.
 */
import assert from 'node:assert/strict';
import { ArrivalGate } from '../../../core/pipeline/arrival-gate.js';
import { UploadArrival } from '../../../plugins/panel/upload-arrival.js';

const settled = async (promise: Promise<unknown>) => {
  let state = 'pending';
  promise.then(() => (state = 'resolved'), () => (state = 'rejected'));
  await new Promise((r) => setImmediate(r));
  return state;
};

describe('a file sent while it arrives: the gate before the final chunk', () => {
  it('lets every byte but the last through as it lands, and the last only once released', async () => {
    const arrival = new UploadArrival(10, 'image');
    const gate = new ArrivalGate(arrival);
    assert.equal(gate.available(), 0);
    const firstBytes = gate.waitBeyond(3);
    assert.equal(await settled(firstBytes), 'pending');
    arrival.advance(6);
    assert.equal(await settled(firstBytes), 'resolved');
    assert.equal(gate.available(), 6);
    arrival.advance(4);
    assert.equal(arrival.whole, true);
    assert.equal(gate.available(), 9, 'the whole file is there, but the last byte waits for the check');
    const lastByte = gate.waitBeyond(9);
    assert.equal(await settled(lastByte), 'pending');
    gate.release();
    assert.equal(await settled(lastByte), 'resolved');
    assert.equal(gate.available(), 10);
  });

  it('fails a waiting sealer with the reason when the check refuses the file, and stays shut', async () => {
    const arrival = new UploadArrival(4, 'video');
    const gate = new ArrivalGate(arrival);
    arrival.advance(4);
    const lastByte = gate.waitBeyond(3);
    gate.fail(new Error('announced as a video but is an image'));
    await assert.rejects(lastByte, /announced as a video/);
    gate.release();
    assert.equal(gate.available(), 3);
    await assert.rejects(gate.waitBeyond(3), /announced as a video/);
  });

  it('passes a broken upload on to whoever waits for its bytes', async () => {
    const arrival = new UploadArrival(100, 'video');
    const gate = new ArrivalGate(arrival);
    arrival.advance(40);
    const more = gate.waitBeyond(50);
    arrival.fail(new Error('the upload broke off after 40 of its 100 bytes'));
    await assert.rejects(more, /broke off/);
    await assert.rejects(arrival.waitBeyond(60), /broke off/);
    await gate.waitBeyond(20);
  });
});
