/**
 * Long sends, as the person at the sender sees them: a progress bar on the
 * terminal; Ctrl-C in the middle; the screen dying in the middle. When a send
 * does not finish the receiver keeps nothing (not even after a restart) and
 * the sender says what happened in words, with an exit code of its own.
 *
 * These nodes stream even a large file directly (`resumableFromBytes` above
 * its size). By default a file this large is a resumable shared transfer,
 * whose receiver keeps the pieces it verified when it dies, to go on from
 * them (test/integration/swarm-netns.test.ts); a cancel still leaves nothing.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Cluster } from '../../helpers/cluster.js';
import { NVID_BIN, removeDir, tempDir, waitFor, type RunResult } from '../../helpers/nvid.js';

/** About 140 MB of lossless noise: long enough on loopback to catch a transfer half-way. */
function bigVideo(path: string): string {
  execFileSync('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'nullsrc=s=1280x720:r=25,geq=lum=random(1)*255:cb=128:cr=128', '-frames:v', '100', '-c:v', 'libx264', '-preset', 'ultrafast', '-qp', '0', path]);
  return path;
}

/** The partial files in a node's incoming folder, with their sizes. */
function partials(stateDir: string): Array<{ name: string; size: number }> {
  const dir = join(stateDir, 'incoming');
  return readdirSync(dir)
    .filter((n) => n.endsWith('.part'))
    .map((name) => ({ name, size: statSync(join(dir, name)).size }));
}

/** `nvid send --json` as a child process the test can interrupt; lines as they arrive. */
function startSend(configFile: string, file: string, to: string) {
  const child = spawn(process.execPath, [NVID_BIN, 'send', file, '--to', to, '--json', '--config', configFile], { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: Array<Record<string, unknown>> = [];
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
    const complete = stdout.split('\n');
    stdout = complete.pop()!;
    for (const line of complete) if (line.trim()) lines.push(JSON.parse(line) as Record<string, unknown>);
  });
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<RunResult>((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stdout: lines.map((l) => JSON.stringify(l)).join('\n'), stderr })));
  return { child, lines, done };
}

/** Every send streamed directly, not resumable. */
const DIRECT = { resumableFromBytes: Number.MAX_SAFE_INTEGER };

describe('long sends', function () {
  this.timeout(120_000);
  let dir: string;
  let cluster: Cluster;
  let video: string;

  before(() => {
    dir = tempDir();
    video = bigVideo(join(dir, 'noise.mkv'));
  });
  after(() => removeDir(dir));
  beforeEach(async () => {
    cluster = new Cluster(join(dir, `run-${Date.now()}`));
    await cluster.startCoordinator();
    await cluster.startNode({ name: 'laptop', config: DIRECT });
    await cluster.startNode({ name: 'screen', config: DIRECT });
    await cluster.waitForPeers('laptop', ['screen']);
  });
  afterEach(async () => {
    for (const node of cluster.nodes.values()) {
      try {
        process.kill(node.child.pid!, 'SIGCONT');
      } catch {
        // already gone
      }
    }
    await Promise.all([...cluster.nodes.values(), cluster.coordinator].map((p) => p.stop()));
  });

  /** Starts a send and freezes the receiver once part of the file is on its disk. */
  async function sendAndFreezeHalfWay() {
    const screen = cluster.node('screen');
    const send = startSend(cluster.node('laptop').configFile, video, 'screen');
    await waitFor(() => partials(screen.stateDir).some((p) => p.size > 0), 'part of the file on the screen', 30_000, 5);
    process.kill(screen.child.pid!, 'SIGSTOP');
    return send;
  }

  it('draws a progress bar with bytes, rate and time left on a terminal', async () => {
    // `script` gives the CLI a real pseudo-terminal, as a person's shell would.
    const command = [process.execPath, NVID_BIN, 'send', video, '--to', 'screen', '--config', cluster.node('laptop').configFile].map((a) => `'${a}'`).join(' ');
    const output = execFileSync('script', ['-qefc', command, '/dev/null'], { encoding: 'utf8', timeout: 60_000 });
    const bars = output.split('\r').filter((part) => part.startsWith('['));
    assert.ok(bars.length > 0, `no progress bar in: ${JSON.stringify(output.slice(0, 400))}`);
    assert.match(bars.at(-1)!, /^\[#{30}\] 100% 1[0-9][0-9]\.\d MiB \/ 1[0-9][0-9]\.\d MiB {2}[\d.]+ [KMG]iB\/s {2}to screen/);
    for (const bar of bars.slice(0, -1)) assert.match(bar, /^\[#*\.+\] \d+% [\d.]+ [KMG]?i?B \/ 1[0-9][0-9]\.\d MiB( {2}[\d.]+ [KMG]?i?B\/s( {2}(\d+ s|\d+ min \d+ s|\d+ h \d+ min) left)?)? {2}to screen/);
    assert.match(output, /delivered .*noise\.mkv to screen/);
  });

  it('cancels on Ctrl-C: exit 130, the receiver keeps nothing, both histories say why', async () => {
    const send = await sendAndFreezeHalfWay();
    const start = send.lines.find((l) => l.event === 'start');
    assert.ok(start, '--json reported the start before the body moved');
    assert.match(String(start.transferId), /^[0-9a-f-]{36}$/);
    send.child.kill('SIGINT');
    const result = await send.done;
    assert.equal(result.code, 130, result.stderr);
    assert.equal((send.lines.at(-1)!.error as { code: string }).code, 'NVID_ERR_CANCELLED');

    const screen = cluster.node('screen');
    process.kill(screen.child.pid!, 'SIGCONT');
    await waitFor(() => partials(screen.stateDir).length === 0, 'the partial file to be removed');
    assert.deepEqual(readdirSync(join(screen.stateDir, 'library')), [], 'nothing reached the library');
    const refused = await waitFor(async () => (await screen.control<Array<Record<string, unknown>>>('history', { kind: 'rejected' })).find((e) => e.transferId === start.transferId), 'the refusal in the screen history');
    assert.ok(refused.code, 'the screen recorded a code');
    const failed = await waitFor(async () => (await cluster.node('laptop').control<Array<Record<string, unknown>>>('history', { kind: 'send-failed' })).find((e) => e.transferId === start.transferId), 'the cancellation in the laptop history');
    assert.equal(failed.code, 'NVID_ERR_CANCELLED');
  });

  it('says in words when the receiver dies mid-way, and the receiver cleans up when it comes back', async () => {
    const send = await sendAndFreezeHalfWay();
    const screen = cluster.node('screen');
    assert.equal(partials(screen.stateDir).length, 1);
    await screen.kill();
    const result = await send.done;
    assert.equal(result.code, 8, `${result.stderr}${result.stdout}`);
    const error = send.lines.at(-1)!.error as { code: string; message: string };
    assert.equal(error.code, 'NVID_ERR_RECEIVER_GONE');
    assert.match(error.message, /the receiver \(screen\) closed the connection after [\d.]+ [KMG]?i?B of [\d.]+ [KMG]?i?B/);
    assert.equal(partials(screen.stateDir).length, 1, 'a killed receiver could not clean up');

    const again = await cluster.startNode({ name: 'screen', config: DIRECT });
    assert.deepEqual(partials(again.stateDir), [], 'the next start removes what no transfer will finish');
    assert.deepEqual(readdirSync(join(again.stateDir, 'library')), []);
  });
});
