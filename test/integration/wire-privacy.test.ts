import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { captureLoopback, canCapture } from '../helpers/capture.js';
import { Cluster } from '../helpers/cluster.js';
import { removeDir, tempDir } from '../helpers/nvid.js';

/** Where `needle` occurs in `haystack`, or -1. */
const find = (haystack: Buffer, needle: Buffer | string) => haystack.indexOf(typeof needle === 'string' ? Buffer.from(needle) : needle);

describe('nothing readable on the wire', function () {
  this.timeout(120_000);
  let dir: string;
  let cluster: Cluster;
  before(function () {
    if (!canCapture()) this.skip(); // tcpdump on loopback needs root; CI runs as root
    dir = tempDir();
    cluster = new Cluster(dir);
  });
  after(async () => {
    if (!cluster) return;
    await cluster.stop();
    removeDir(dir);
  });

  it('shows no media bytes, file name or peer name on the coordinator link or the transfer link', async () => {
    // An image with a long, greppable name and a body that is easy to spot if it ever travelled in clear.
    const fileName = 'quarterly-results-CONFIDENTIAL.png';
    const picture = join(dir, fileName);
    execFileSync('ffmpeg', ['-loglevel', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=640x480', '-frames:v', '1', '-y', picture]);
    const media = readFileSync(picture);

    await cluster.startCoordinator();
    const capture = await captureLoopback(join(dir, 'wire.pcap'), [cluster.coordinatorPort]);
    // The nodes join while the capture runs, so the coordinator link is recorded from its first byte.
    const alice = await cluster.startNode({ name: 'alice-laptop' });
    const bob = await cluster.startNode({ name: 'bob-screen' });
    await cluster.waitForPeers('alice-laptop', ['bob-screen']);
    const transferPort = (await bob.control<{ transport: { transferPort: number } }>('status')).transport.transferPort;
    const transferCapture = await captureLoopback(join(dir, 'transfer.pcap'), [transferPort]);
    const sent = await alice.cli(['send', picture, '--to', 'bob-screen']);
    assert.equal(sent.code, 0, sent.stderr);
    await cluster.node('bob-screen').cli(['rename', 'bob-renamed']);
    await cluster.waitForPeers('alice-laptop', ['bob-renamed']);
    const wire = Buffer.concat([await capture.stop(), await transferCapture.stop()]);

    assert.ok(wire.length > media.length, `the capture holds the transfer (${wire.length} bytes recorded)`);
    for (const secret of [fileName, 'quarterly', 'alice-laptop', 'bob-screen', 'bob-renamed', 'image/png', 'png_pipe']) {
      assert.equal(find(wire, secret), -1, `"${secret}" is readable on the wire`);
    }
    // Sixteen 48-byte samples from across the file: none may appear as they are.
    for (let i = 0; i < 16; i++) {
      const at = Math.floor(((media.length - 48) * i) / 15);
      assert.equal(find(wire, media.subarray(at, at + 48)), -1, `media bytes at offset ${at} are readable on the wire`);
    }
    // The check itself works: the same search finds the name in a plain copy of the bytes.
    assert.notEqual(find(Buffer.concat([wire, Buffer.from(fileName)]), fileName), -1);
  });
});
