import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT, removeDir, runNvid, tempDir } from '../../helpers/nvid.js';

describe('nvid CLI', function () {
  this.timeout(60_000);
  let dir: string;
  before(() => (dir = tempDir()));
  after(() => removeDir(dir));

  it('prints help for the program and for every command, exit 0', async () => {
    const top = await runNvid(['--help']);
    assert.equal(top.code, 0);
    for (const command of ['coordinator', 'node', 'status', 'peers', 'send', 'rename', 'history', 'screenshot', 'screen', 'library', 'trust', 'panel', 'control', 'stop']) {
      assert.match(top.stdout, new RegExp(`nvid ${command}`));
      const sub = await runNvid([command, '--help']);
      assert.equal(sub.code, 0, `${command} --help: ${sub.stderr}`);
      assert.match(sub.stdout, /--json/);
    }
  });

  it('prints the package version', async () => {
    const { version } = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };
    const result = await runNvid(['--version']);
    assert.equal(result.code, 0);
    assert.equal(result.stdout.trim(), version);
  });

  it('exits 2 with usage for an unknown command or a missing argument', async () => {
    const unknown = await runNvid(['frobnicate']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /Unknown argument: frobnicate/);
    const noTarget = await runNvid(['send', 'x.png']);
    assert.equal(noTarget.code, 2);
    assert.match(noTarget.stderr, /Missing required argument: to/);
    const none = await runNvid([]);
    assert.equal(none.code, 2);
  });

  it('says no node is running, exit 3, for every control command, in text and JSON', async () => {
    const state = join(dir, 'nobody-home');
    for (const args of [['status'], ['peers'], ['history'], ['rename', 'x'], ['send', '/etc/hostname', '--to', 'x'], ['screenshot']]) {
      const text = await runNvid([...args, '--state', state]);
      assert.equal(text.code, 3, `${args[0]}: ${text.stderr}`);
      assert.match(text.stderr, /no node is running for this state folder .* start one with: nvid node --config FILE \[NVID_ERR_NOT_RUNNING\]/);
    }
    const json = await runNvid(['status', '--state', state, '--json']);
    assert.equal(json.code, 3);
    assert.equal((JSON.parse(json.stdout) as { error: { code: string } }).error.code, 'NVID_ERR_NOT_RUNNING');
  });

  it("finds the node through a config file's state folder, relative to the file, and reports a config it cannot read one from", async () => {
    const configDir = join(dir, 'configs');
    mkdirSync(configDir, { recursive: true });
    const relative = join(configDir, 'relative.json');
    writeFileSync(relative, JSON.stringify({ stateDir: 'screens/lobby', plugins: [] }));
    const found = await runNvid(['status', '--config', relative]);
    assert.equal(found.code, 3);
    assert.ok(found.stderr.includes(join(configDir, 'screens', 'lobby')), `the message names the state folder next to the config: ${found.stderr}`);

    const wrongType = join(configDir, 'wrong.json');
    writeFileSync(wrongType, JSON.stringify({ stateDir: 42 }));
    const refused = await runNvid(['status', '--config', wrongType]);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /stateDir.*must be string.*\[NVID_ERR_CONFIG_INVALID\]/s);
  });
});
