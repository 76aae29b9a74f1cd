/**
 * The README's "Running it" walk-through, command by command as a new user
 * types it: the shipped configs, their fixed ports, their state folders
 * (relative to the configs), a holiday photo in the current folder. The
 * daemons run in the background as the README's "own terminal" says; between
 * commands the test waits as a person would, until the daemon answers and
 * the peers see each other. Only `npm run build` is left out: the suite built
 * the same tree already.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { callControl } from '../../core/control/client.js';
import { REPO_ROOT, removeDir, runNvid, tempDir, waitFor } from '../helpers/nvid.js';
import { startXvfb, type Xvfb } from '../helpers/xvfb.js';

/** The README's first shell block after "## Running it", one command a line, comments dropped. */
function walkThrough(): string[][] {
  const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
  const block = /## Running it\s+```sh\n([\s\S]*?)```/.exec(readme)?.[1];
  assert.ok(block, 'README.md has a "Running it" shell block');
  return block
    .split('\n')
    .map((line) => line.replace(/#.*$/, '').trim())
    .filter(Boolean)
    .map((line) => line.split(/\s+/));
}

describe('the README walk-through, as written', function () {
  this.timeout(120_000);
  let dir: string;
  let xvfb: Xvfb;
  const daemons: ChildProcess[] = [];

  before(async () => {
    dir = tempDir();
    // The checkout as the user has it: bin/ and config/ side by side (bin/ runs this tree's build).
    symlinkSync(join(REPO_ROOT, 'bin'), join(dir, 'bin'));
    cpSync(join(REPO_ROOT, 'config'), join(dir, 'config'), { recursive: true });
    mkdirSync(join(dir, 'drop'));
    execFileSync('ffmpeg', ['-loglevel', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=640x480', '-frames:v', '1', '-y', join(dir, 'holiday.jpg')]);
    xvfb = await startXvfb('320x240x24');
  });
  after(async () => {
    for (const child of daemons) child.kill('SIGTERM');
    await Promise.all(daemons.map((c) => new Promise((r) => (c.exitCode !== null || c.signalCode !== null ? r(null) : c.once('exit', r)))));
    await xvfb?.stop();
    removeDir(dir);
  });

  const controlOf = (name: string) => join(dir, '.nvid-state', name, 'control.sock');

  it('runs, from the coordinator to the holiday photo on the lobby screen', async () => {
    const commands = walkThrough();
    assert.deepEqual(commands[0], ['npm', 'run', 'build']);
    for (const words of commands.slice(1)) {
      assert.deepEqual(words.slice(0, 2), ['node', 'bin/nvid.js'], `a README command: ${words.join(' ')}`);
      const [command] = words.slice(2);
      const config = words[words.indexOf('--config') + 1]!;
      const name = JSON.parse(readFileSync(join(dir, config), 'utf8')).name as string;
      if (command === 'coordinator' || command === 'node') {
        const child = spawn(process.execPath, words.slice(1), { cwd: dir, env: { ...process.env, DISPLAY: xvfb.display }, stdio: ['ignore', 'ignore', 'pipe'] });
        let stderr = '';
        child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
        daemons.push(child);
        await waitFor(() => callControl(controlOf(name), 'status').then(() => true, () => false), `${name} to start (${stderr.slice(-500)})`, 20_000);
        continue;
      }
      if (command === 'trust') {
        // A person trusts a sender they can see in their peer list.
        await waitFor(async () => ((await callControl(controlOf(name), 'peers')) as Array<{ name: string }>).some((p) => p.name === words[4]), `${name} to see ${words[4]}`);
      }
      if (command === 'send') await waitFor(async () => ((await callControl(controlOf(name), 'peers')) as Array<{ name: string }>).some((p) => p.name === 'lobby'), `${name} to see the lobby`);
      const result = await runNvid(words.slice(2), { cwd: dir });
      assert.equal(result.code, 0, `${words.join(' ')}\n${result.stdout}${result.stderr}`);
    }
    const received = (await callControl(controlOf('lobby'), 'history', { kind: 'received' })) as Array<{ path: string }>;
    assert.equal(received.length, 1);
    assert.match(received[0]!.path, /holiday\.jpg$/);
  });
});
