import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Cluster, HEADLESS_NODE_PLUGINS } from '../../helpers/cluster.js';
import { REPO_ROOT, removeDir, sendResult, tempDir, waitFor } from '../../helpers/nvid.js';

const RECORDER = join(REPO_ROOT, 'dist', 'examples', 'hook-recorder', 'index.js');

interface Recorded {
  hook: string;
  payload: Record<string, any>;
}
const readRecords = (file: string): Recorded[] => readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Recorded);

describe('the data flow, as a plugin sees it', function () {
  this.timeout(90_000);
  let dir: string;
  let cluster: Cluster;
  before(() => {
    dir = tempDir();
    cluster = new Cluster(dir);
  });
  after(async () => {
    await cluster.stop();
    removeDir(dir);
  });

  it('calls validate, seal, deliver on the sender and accept, open, validate, display on the receiver, in that order', async () => {
    const picture = join(dir, 'test-pattern.png');
    execFileSync('ffmpeg', ['-loglevel', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=320x240', '-frames:v', '1', '-y', picture]);
    await cluster.startCoordinator();
    const recorder = (name: string) => ({ use: RECORDER, options: { file: join(dir, `${name}.hooks.jsonl`) } });
    await cluster.startNode({ name: 'laptop', plugins: [recorder('laptop'), ...HEADLESS_NODE_PLUGINS] });
    const screen = await cluster.startNode({ name: 'screen', plugins: [recorder('screen'), ...HEADLESS_NODE_PLUGINS] });
    await cluster.waitForPeers('laptop', ['screen']);

    const sent = await cluster.node('laptop').cli(['send', picture, '--to', 'screen', '--json']);
    assert.equal(sent.code, 0, sent.stderr);
    const lines = sent.stdout.trim().split('\n').map((l) => JSON.parse(l) as { event: string; transferId: string; sha256: string; receipt: { storedAs: string } });
    assert.equal(lines[0]!.event, 'start', '--json streams the start first');
    const result = lines.at(-1)!;
    assert.equal(result.event, 'sent');
    assert.equal(lines[0]!.transferId, result.transferId, 'the transfer ID is known at the start');
    await waitFor(() => readRecords(join(dir, 'screen.hooks.jsonl')).some((r) => r.hook === 'display'), 'the file to reach the display');

    const sender = readRecords(join(dir, 'laptop.hooks.jsonl')).filter((r) => !['peerJoined', 'beforeStart', 'start', 'afterStart'].includes(r.hook));
    assert.deepEqual(sender.map((r) => r.hook), ['validate', 'seal', 'deliver', 'sent']);
    assert.deepEqual(sender[0]!.payload, { path: picture, side: 'send' });
    assert.equal(sender[1]!.payload.meta.fileName, 'test-pattern.png');
    assert.equal(sender[1]!.payload.recipient.name, 'screen');
    assert.equal(sender[1]!.payload.recipient.certPem, undefined, 'the recorder drops PEM blocks');
    assert.equal(sender[2]!.payload.envelope.stream, '[stream]');
    assert.equal(sender[3]!.payload.receipt.transferId, result.transferId);

    const receiver = readRecords(join(dir, 'screen.hooks.jsonl')).filter((r) => !['peerJoined', 'beforeStart', 'start', 'afterStart'].includes(r.hook));
    // A headless display keeps the file: no `displayed` event, since nothing was shown.
    assert.deepEqual(receiver.map((r) => r.hook), ['acceptSender', 'open', 'acceptTransfer', 'validate', 'received', 'display']);
    assert.equal(receiver[0]!.payload.sender.name, 'laptop');
    assert.equal(receiver[0]!.payload.meta, undefined, 'the first check comes before the envelope is opened');
    assert.equal(receiver[2]!.payload.meta.transferId, result.transferId);
    assert.equal(receiver[3]!.payload.side, 'receive');
    assert.match(receiver[3]!.payload.path, /incoming\/.*\.part$/, 'validated while still a temporary file');
    assert.equal(receiver[4]!.payload.sha256, result.sha256);
    assert.equal(receiver[4]!.payload.media.kind, 'image');
    assert.equal(receiver[5]!.payload.path, join(screen.stateDir, 'library', result.receipt.storedAs));
    assert.equal(readFileSync(receiver[5]!.payload.path as string).equals(readFileSync(picture)), true);
  });

  it('keeps one copy when the same sender delivers the same content again, and acknowledges it', async () => {
    const picture = join(dir, 'again.png');
    execFileSync('ffmpeg', ['-loglevel', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=160x120', '-frames:v', '1', '-y', picture]);
    const first = sendResult((await cluster.node('laptop').cli(['send', picture, '--to', 'screen', '--json'])).stdout);
    const second = await cluster.node('laptop').cli(['send', picture, '--to', 'screen', '--json']);
    assert.equal(second.code, 0, second.stderr);
    assert.equal(sendResult(second.stdout).receipt.storedAs, first.receipt.storedAs);
    const library = readdirSync(join(cluster.node('screen').stateDir, 'library')).filter((f) => f.startsWith('again'));
    assert.deepEqual(library, ['again.png']);
  });
});
