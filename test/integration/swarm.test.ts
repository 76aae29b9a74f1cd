/**
 * Shared transfers between real processes on loopback: a group send is
 * sealed once, offered to every recipient, and the recipients pass verified
 * pieces on to each other, so the sender's uplink carries the file about
 * once. A recipient that passes on bad pieces (a test plugin) is caught by
 * the piece hashes the sender signed, dropped as a source and reported.
 * (Real-speed links, kills mid-way and resumes: swarm-netns.test.ts.)
 */
import assert from 'node:assert/strict';
import { mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { GroupSendResult, HistoryEntry } from '../../core/types.js';
import { Cluster, HEADLESS_NODE_PLUGINS } from '../helpers/cluster.js';
import { hashCounts, sha256Of } from '../helpers/drop-folder-media.js';
import { noiseVideo } from '../helpers/media-fixtures.js';
import { NvidProcess, REPO_ROOT, removeDir, tempDir } from '../helpers/nvid.js';

type GroupLine = GroupSendResult & { event: 'group-sent' };
type Status = { transport: { sharedBytesServed: number; sharedTransfers: number } };

const SCREENS = ['alpha', 'bravo', 'charlie'];
/** Small pieces, so a few megabytes make enough of them to pass along a chain. */
const SWARM = { pieceBytes: 65536, stallMs: 3000 };

describe('shared transfers: recipients pass verified pieces on to each other', function () {
  this.timeout(180_000);
  let dir: string;
  let cluster: Cluster;
  let video: string;
  let evil: NvidProcess;

  const groupSend = async (to: string): Promise<GroupLine> => {
    const run = await cluster.node('studio').cli(['send', video, '--to', to, '--json'], { timeoutMs: 90_000 });
    const last = JSON.parse(run.stdout.trim().split('\n').at(-1)!) as GroupLine;
    assert.equal(last.event, 'group-sent', `${run.stdout}${run.stderr}`);
    return last;
  };
  const served = async (node: NvidProcess) => (await node.control<Status>('status')).transport.sharedBytesServed;
  const holds = (stateDir: string, sha: string) => (hashCounts(join(stateDir, 'library')).get(sha) ?? 0) > 0;
  const idOf = async (node: NvidProcess) => (await node.control<{ id: string }>('status')).id;

  before(async () => {
    dir = tempDir('nvid-swarm-it-');
    video = await noiseVideo(dir, 'noise.mkv', 30);
    cluster = new Cluster(dir);
    await cluster.startCoordinator();
    for (const name of [...SCREENS, 'delta']) await cluster.startNode({ name, config: { tags: ['screens'] }, transport: { swarm: SWARM } });
    await cluster.startNode({ name: 'studio', transport: { swarm: SWARM } });
    // A recipient whose transport flips a byte in every piece it passes on (test/fixtures/plugins/corrupting-relay.js).
    const evilDir = join(dir, 'evil');
    mkdirSync(evilDir);
    evil = await NvidProcess.start('node', evilDir, {
      name: 'evil',
      plugins: [
        { use: join(REPO_ROOT, 'test', 'fixtures', 'plugins', 'corrupting-relay.js'), options: { listen: { host: '127.0.0.1', port: 0 }, coordinator: { host: '127.0.0.1', port: cluster.coordinatorPort }, swarm: SWARM } },
        ...HEADLESS_NODE_PLUGINS,
      ],
    });
    await cluster.waitForPeers('studio', [...SCREENS, 'delta', 'evil']);
  });
  after(async () => {
    await evil?.stop();
    await cluster?.stop();
    removeDir(dir);
  });

  it('delivers one group send to every screen while the sender uploads the file about once', async () => {
    const size = statSync(video).size;
    const before = await served(cluster.node('studio'));
    const result = await groupSend(SCREENS.join(','));
    assert.deepEqual(result.results.map((r) => [r.to.name, r.outcome]), SCREENS.map((n) => [n, 'sent']));
    const sha = sha256Of(video);
    for (const name of SCREENS) assert.ok(holds(cluster.node(name).stateDir, sha), `${name} keeps the verified file`);
    const uplink = (await served(cluster.node('studio'))) - before;
    // Three copies streamed one by one would be 3x; the chain sends it once (the envelope is a little larger than the file).
    assert.ok(uplink < 1.5 * size, `the sender served ${uplink} bytes for a ${size}-byte file to ${SCREENS.length} screens`);
    // The first screen passed the pieces on to the second, and the second to the third.
    assert.ok((await served(cluster.node('alpha'))) > 0.9 * size, 'alpha passed pieces on');
    assert.ok((await served(cluster.node('bravo'))) > 0.9 * size, 'bravo passed pieces on');
    const sent = (await cluster.node('studio').control<HistoryEntry[]>('history', { kind: 'sent' })).filter((e) => e.transferId === result.results[0]!.transferId);
    assert.equal(sent.length, SCREENS.length, 'one sent entry per screen, all under one transfer ID');
  });

  it('refuses bad pieces from a recipient that tampers with them, fetches them elsewhere and reports it', async () => {
    const result = await groupSend('evil,delta');
    assert.deepEqual(result.results.map((r) => [r.to.name, r.outcome]), [['evil', 'sent'], ['delta', 'sent']]);
    const sha = sha256Of(video);
    assert.ok(holds(cluster.node('delta').stateDir, sha), 'delta keeps the verified file anyway');
    const evilId = await idOf(evil);
    const reported = (await cluster.node('delta').control<HistoryEntry[]>('history', { kind: 'rejected' })).filter((e) => e.code === 'NVID_ERR_BAD_PIECE');
    assert.equal(reported.length, 1, 'one bad piece was enough to drop the source');
    assert.equal(reported[0]!.peerId, evilId, 'the report names the tampering peer');
    const sent = (await cluster.node('studio').control<HistoryEntry[]>('history', { kind: 'sent' })).find((e) => e.toName === 'delta' && e.transferId === result.results[1]!.transferId);
    assert.deepEqual(sent?.badSources, [evilId], "the sender's history says who fed delta bad pieces");
  });
});
