import assert from 'node:assert/strict';
import type { NvidError } from '../../../core/errors.js';
import { BodyRateFloor } from '../../../plugins/transport/transfer/body-rate.js';

/** A floor on a clock the test moves by hand; `check()` is what the floor's own timer calls. */
function floorAt(minBytesPerSecond: number, windowMs: number) {
  let now = 0;
  const verdicts: NvidError[] = [];
  const floor = new BodyRateFloor({ minBytesPerSecond, windowMs, tooSlow: (err) => verdicts.push(err), now: () => now });
  const advance = (ms: number) => {
    now += ms;
    floor.check();
  };
  return { floor, verdicts, advance };
}

describe('transport: the body rate floor', () => {
  it('cuts a body that came in under the floor over a whole window, once, saying how slow', () => {
    const { floor, verdicts, advance } = floorAt(1000, 1000);
    floor.received(300);
    advance(500);
    assert.equal(verdicts.length, 0, 'half a window is too little to judge');
    floor.received(300);
    advance(500);
    assert.equal(verdicts.length, 1);
    assert.equal(verdicts[0]!.code, 'NVID_ERR_TIMEOUT');
    assert.match(verdicts[0]!.message, /sender too slow: 600 bytes\/s over the last 1\.0 s, under this node's floor of 1000/);
    advance(2000);
    assert.equal(verdicts.length, 1, 'stopped after its verdict');
  });

  it('starts a fresh window after a good one, so an early burst does not cover a later crawl', () => {
    const { floor, verdicts, advance } = floorAt(1000, 1000);
    floor.received(10_000);
    advance(1000);
    assert.equal(verdicts.length, 0);
    floor.received(100);
    advance(1000);
    assert.equal(verdicts.length, 1);
    floor.stop();
  });

  it('does not count the time the receiver held the source back', () => {
    const { floor, verdicts, advance } = floorAt(1000, 1000);
    floor.received(600);
    advance(600);
    floor.held();
    advance(5000);
    assert.equal(verdicts.length, 0, 'held: 0.6 s of the sender time so far');
    floor.released();
    floor.received(400);
    advance(400);
    assert.equal(verdicts.length, 0, '1000 bytes in 1.0 s of the sender time is exactly the floor');
    floor.received(100);
    advance(1000);
    assert.equal(verdicts.length, 1, 'then 100 bytes in a whole window is not');
  });

  it('never judges with a floor of 0', () => {
    const { floor, verdicts, advance } = floorAt(0, 1000);
    advance(10_000);
    assert.equal(verdicts.length, 0);
    floor.stop();
  });
});
