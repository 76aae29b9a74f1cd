import assert from 'node:assert/strict';
import { RateMeter } from '../../../core/pipeline/rate-meter.js';

describe('rate and time left for progress bars', () => {
  it('measures from the first bytes reported, so a slow connect does not drag the rate down', () => {
    const start = Date.now();
    const meter = new RateMeter(1000);
    // The first report comes 5 s after the send began (connecting, checks): only the start to measure from.
    assert.deepEqual(meter.at(100, start + 5000), { bytes: 100, total: 1000, rate: 20, secondsLeft: 45 });
    // Then 500 bytes in one second: the rate is the transfer's, not diluted by the 5 s before.
    assert.deepEqual(meter.at(600, start + 6000), { bytes: 600, total: 1000, rate: 500, secondsLeft: 0.8 });
  });

  it('says nothing of time left before any rate is known', () => {
    const meter = new RateMeter(1000);
    const report = meter.at(0, Date.now());
    assert.equal(report.secondsLeft, undefined);
  });
});
