/**
 * A group send on a real (shaped) network: a sender and three receivers, each
 * in a network namespace of its own on one bridge, every link 20 Mbit/s in
 * both directions (tbf), real nvid processes. The file is a ~20 MB video
 * that does not compress. Every receiver must hold a verified copy (the
 * SHA-256 of its `received` entry is the file's), and the bytes the sender
 * put on its own link are recorded.
 *
 * The uplink goal, peer-assisted fan-out ("swarm"): the sender's link carries
 * well under one copy per receiver, here below SWARM_UPLINK_GOAL_COPIES
 * copies. Today's code streams one copy to each receiver, so that assertion
 * is expected to fail (about 3 copies) until the swarm lands.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { NetnsFleet, fleetUnavailable, noiseVideo } from '../helpers/netns-fleet.js';
import { hasCommand } from '../helpers/netns.js';

/** The swarm's goal for this test: the sender's uplink carries fewer than this many copies of the file. Fails with today's one-copy-per-receiver fan-out. */
const SWARM_UPLINK_GOAL_COPIES = 2.0;
const RECEIVERS = ['r1', 'r2', 'r3'];

describe('swarm on a namespace LAN: a group send at 20 Mbit/s per link', function () {
  this.timeout(240_000);
  let fleet: NetnsFleet | undefined;
  let file: string;
  let size: number;
  let sha256: string;
  let txBytes = 0;

  before(async function () {
    const reason = fleetUnavailable() ?? (hasCommand('ffmpeg', '-version') ? undefined : 'no ffmpeg to make the video');
    if (reason) {
      console.log(`      (swarm namespace tests skipped: ${reason})`);
      this.skip();
    }
    fleet = new NetnsFleet({ label: 'swarm' });
    file = await noiseVideo(join(fleet.dir, 'clip.mp4'), 20);
    size = statSync(file).size;
    sha256 = createHash('sha256').update(readFileSync(file)).digest('hex');
    await fleet.start({ receivers: RECEIVERS.length, rate: '20mbit', tags: ['screens'] });
  });

  after(async () => {
    await fleet?.destroy();
  });

  it('a send to tag:screens reaches all three receivers, each with a verified copy, and the sender\'s link bytes are counted', async () => {
    const before = await fleet!.txBytes('sender');
    const sent = await fleet!.send(file, 'tag:screens', { timeoutMs: 90_000 });
    assert.equal(sent.code, 0, `nvid send exited ${sent.code}: ${sent.stdout}${sent.stderr}`);
    assert.equal(sent.result?.event, 'group-sent');
    assert.equal(sent.result?.delivered, 3);
    for (const name of RECEIVERS) {
      const entry = await fleet!.waitForFile(name, sha256, { since: sent.startedAt, timeoutMs: 30_000 });
      assert.equal(entry.sha256, sha256, `${name}'s copy is the file`);
      assert.equal(entry.size, size);
    }
    txBytes = (await fleet!.txBytes('sender')) - before;
    console.log(`      sender's link: ${(txBytes / 1e6).toFixed(1)} MB for a ${(size / 1e6).toFixed(1)} MB file to ${RECEIVERS.length} receivers (${(txBytes / size).toFixed(2)} copies) in ${sent.seconds.toFixed(1)} s`);
    assert.ok(txBytes >= size, 'at least one copy crossed the sender\'s link');
  });

  it(`the sender's uplink carries well under one copy per receiver (below ${SWARM_UPLINK_GOAL_COPIES} copies)`, function () {
    if (!txBytes) this.skip();
    assert.ok(txBytes < SWARM_UPLINK_GOAL_COPIES * size, `the sender put ${(txBytes / size).toFixed(2)} copies on its link (goal: below ${SWARM_UPLINK_GOAL_COPIES})`);
  });

  /** A fresh video (another seed), so nothing of it is held anywhere yet. */
  const freshVideo = async (seed: number) => {
    const path = await noiseVideo(join(fleet!.dir, `clip-${seed}.mp4`), 12, seed);
    return { path, size: statSync(path).size, sha256: createHash('sha256').update(readFileSync(path)).digest('hex') };
  };
  /** Resolves once `name`'s link has taken `bytes` more than `from`. */
  const whenReceived = async (name: string, from: number, bytes: number) => {
    for (;;) {
      if ((await fleet!.rxBytes(name)) - from >= bytes) return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };

  it('a receiver killed mid-way stalls nobody, restarts, goes on from the pieces on its disk, and the send still succeeds for all three', async () => {
    const clip = await freshVideo(2);
    const rx0 = await fleet!.rxBytes('r2');
    const send = fleet!.startSend(clip.path, 'tag:screens', { timeoutMs: 180_000 });
    // r2 is in the middle of the chain: r3 pulls from it, and must go past it to r1 or the sender.
    await whenReceived('r2', rx0, clip.size * 0.4);
    await fleet!.kill('r2');
    await new Promise((resolve) => setTimeout(resolve, 1000));
    await fleet!.restart('r2');
    const sent = await send.done;
    assert.equal(sent.code, 0, `nvid send exited ${sent.code}: ${sent.stdout}${sent.stderr}`);
    assert.equal(sent.result?.delivered, 3);
    for (const name of RECEIVERS) assert.equal((await fleet!.waitForFile(name, clip.sha256, { since: send.startedAt, timeoutMs: 30_000 })).sha256, clip.sha256);
    const taken = (await fleet!.rxBytes('r2')) - rx0;
    console.log(`      r2's link took ${(taken / clip.size).toFixed(2)} copies in all, killed at 40%`);
    assert.ok(taken < 1.3 * clip.size, `r2 took ${(taken / clip.size).toFixed(2)} copies: it started over instead of resuming`);
  });

  it('kill -9 of the sender half-way, then the same send again, resumes: the retry sends about what was missing', async () => {
    const clip = await freshVideo(3);
    const rx0 = await fleet!.rxBytes('r1');
    const send = fleet!.startSend(clip.path, 'tag:screens', { timeoutMs: 180_000 });
    await whenReceived('r1', rx0, clip.size * 0.5);
    await fleet!.kill('sender');
    const killed = await send.done;
    assert.notEqual(killed.code, 0, 'the first send fails with its sender');
    await fleet!.restart('sender');
    await fleet!.waitForPeers('sender', RECEIVERS);
    const tx0 = await fleet!.txBytes('sender');
    const retry = await fleet!.send(clip.path, 'tag:screens', { timeoutMs: 180_000 });
    assert.equal(retry.code, 0, `the retry exited ${retry.code}: ${retry.stdout}${retry.stderr}`);
    assert.equal(retry.result?.delivered, 3);
    for (const name of RECEIVERS) assert.equal((await fleet!.waitForFile(name, clip.sha256, { since: send.startedAt, timeoutMs: 30_000 })).sha256, clip.sha256);
    const resent = (await fleet!.txBytes('sender')) - tx0;
    console.log(`      the retry put ${(resent / clip.size).toFixed(2)} copies on the sender's link`);
    assert.ok(resent < 0.75 * clip.size, `the retry sent ${(resent / clip.size).toFixed(2)} copies: it did not resume`);
  });
});
