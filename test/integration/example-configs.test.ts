import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { NvidProcess, REPO_ROOT, removeDir, tempDir, waitFor } from '../helpers/nvid.js';
import { startXvfb, type Xvfb } from '../helpers/xvfb.js';

type Json = Record<string, any>;
const CONFIG_DIR = join(REPO_ROOT, 'config');
const readExample = (name: string): Json => JSON.parse(readFileSync(join(CONFIG_DIR, name), 'utf8')) as Json;

/**
 * An example config as a test can run it: its own state folder and ephemeral
 * ports (several tests share this machine), everything else as shipped.
 */
function runnable(config: Json, stateDir: string, coordinatorPort?: number): Json {
  const copy = structuredClone(config);
  copy.stateDir = stateDir;
  for (const plugin of copy.plugins as Array<string | Json>) {
    if (typeof plugin !== 'object' || plugin.use !== 'transport') continue;
    plugin.options.listen = { ...plugin.options.listen, host: '127.0.0.1', port: 0 };
    if (coordinatorPort) plugin.options.coordinator = { ...plugin.options.coordinator, port: coordinatorPort };
  }
  return copy;
}

describe('the example configs in config/', function () {
  this.timeout(120_000);
  let dir: string;
  let screen: Xvfb;
  const running: NvidProcess[] = [];
  before(async () => {
    dir = tempDir();
    screen = await startXvfb('320x240x24');
  });
  after(async () => {
    await Promise.all(running.map((p) => p.stop()));
    await screen.stop();
    removeDir(dir);
  });

  async function start(role: 'coordinator' | 'node', name: string, config: Json): Promise<NvidProcess> {
    const home = join(dir, name);
    mkdirSync(home, { recursive: true });
    const proc = await NvidProcess.start(role, home, config, { env: { DISPLAY: screen.display } });
    running.push(proc);
    return proc;
  }

  it('are all valid JSON with a name and plugins', () => {
    const files = readdirSync(CONFIG_DIR).filter((f) => f.endsWith('.json'));
    assert.ok(files.length >= 3);
    for (const file of files) assert.ok(readExample(file).plugins, file);
  });

  it('carry no join token a copy would keep: the coordinator makes its own', () => {
    for (const file of readdirSync(CONFIG_DIR).filter((f) => f.endsWith('.json'))) {
      const text = readFileSync(join(CONFIG_DIR, file), 'utf8');
      assert.doesNotMatch(text, /"(token|joinToken)"\s*:/, `${file} names no token; nodes read the coordinator's file (joinTokenFile)`);
    }
  });

  it('start a coordinator that makes its join token, and screens that join with it and apply their policies', async () => {
    // The coordinator's state folder sits where the shipped node configs look for its token
    // (joinTokenFile "../.nvid-state/coordinator/join-token", from each config's folder in dir).
    const coordinator = await start('coordinator', 'coordinator', runnable(readExample('coordinator.json'), join(dir, '.nvid-state', 'coordinator')));
    const { transport } = await coordinator.control<{ transport: { port: number; admission: string; joinTokenFile: string } }>('status');
    assert.equal(transport.admission, 'token');
    assert.equal(transport.joinTokenFile, join(dir, '.nvid-state', 'coordinator', 'join-token'));
    assert.equal(statSync(transport.joinTokenFile).mode & 0o777, 0o600);

    const lobby = await start('node', 'lobby', runnable(readExample('lobby.json'), join(dir, 'lobby', 'state'), transport.port));
    const meeting = await start('node', 'meeting-room', runnable(readExample('meeting-room.json'), join(dir, 'meeting-room', 'state'), transport.port));
    await waitFor(async () => (await meeting.control<unknown[]>('peers')).length === 1, 'the meeting room to see the lobby');
    const lobbyStatus = await lobby.control<Json>('status');
    const meetingStatus = await meeting.control<Json>('status');
    assert.equal(lobbyStatus.display.policy, 'loop');
    assert.equal(meetingStatus.display.policy, 'replace');

    // The lobby trusts no sender until a person says so; the refusal says how.
    const picture = join(dir, 'slide.png');
    execFileSync('ffmpeg', ['-loglevel', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=160x120', '-frames:v', '1', '-y', picture]);
    const refused = await meeting.cli(['send', picture, '--to', 'lobby']);
    assert.equal(refused.code, 5, refused.stderr);
    assert.match(refused.stderr, /not in this node's acceptFrom list; on this node: nvid trust add meeting-room --as sender/);
    await waitFor(async () => (await lobby.control<Array<{ name: string }>>('peers')).some((p) => p.name === 'meeting-room'), 'the lobby to see the meeting room');
    const trusted = await lobby.cli(['trust', 'add', 'meeting-room', '--as', 'sender']);
    assert.equal(trusted.code, 0, trusted.stderr);
    const meetingId = (await meeting.control<{ id: string }>('status')).id;
    assert.match(trusted.stdout, new RegExp(`meeting-room is now trusted as sender\\n  fingerprint ${meetingId.match(/.{4}/g)!.join(' ')}`));
    const welcomed = await meeting.cli(['send', picture, '--to', 'lobby']);
    assert.equal(welcomed.code, 0, `trusted at once, without a restart: ${welcomed.stderr}`);
    const [change] = await lobby.control<Array<Record<string, unknown>>>('history', { kind: 'trust-changed' });
    assert.deepEqual([change?.role, change?.change, change?.peerId], ['sender', 'added', meetingId]);
    // The meeting room accepts anyone admitted.
    const accepted = await lobby.cli(['send', picture, '--to', 'meeting-room']);
    assert.equal(accepted.code, 0, accepted.stderr);

    // The drop-folder sender: a picture dropped into its folder reaches the meeting room and moves to .sent.
    const sender = await start('node', 'drop-sender', runnable(readExample('drop-sender.json'), join(dir, 'drop-sender', 'state'), transport.port));
    const drop = join(dir, 'drop');
    execFileSync('ffmpeg', ['-loglevel', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=160x120', '-frames:v', '1', '-vf', 'hue=h=90', '-y', join(drop, 'dropped.png')]);
    await waitFor(() => existsSync(join(drop, '.sent', 'dropped.png')), 'the dropped file to be delivered and moved to .sent', 30_000);
    const received = await meeting.control<Array<{ kind: string; fromName?: string; path?: string }>>('history', { kind: 'received' });
    assert.ok(received.some((e) => e.fromName === 'drop-sender' && e.path?.endsWith('dropped.png')));
    assert.equal((await sender.control<Json>('status')).dropFolder !== undefined, true);
  });
});
