import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { NVID_BIN, NvidProcess, REPO_ROOT, removeDir, runNvid, tempDir, writeJson } from '../../helpers/nvid.js';

const RECORDER = join(REPO_ROOT, 'dist', 'examples', 'hook-recorder', 'index.js');
const FIXTURES = join(REPO_ROOT, 'test', 'fixtures', 'plugins');

interface Recorded {
  hook: string;
  payload: Record<string, unknown>;
}
const readRecords = (file: string): Recorded[] => readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Recorded);

/** Starts `nvid node` with this config and expects it to refuse, returning what it said. */
async function refusedStart(dir: string, config: Record<string, unknown>) {
  const file = writeJson(join(dir, 'config.json'), { stateDir: join(dir, 'state'), ...config });
  const result = await runNvid(['node', '--config', file]);
  assert.notEqual(result.code, 0, 'the node must not start');
  assert.equal(existsSync(join(dir, 'state', 'control.sock')), false, 'nothing half-started: no control socket left');
  return result;
}

describe('plugins listed in the config', function () {
  this.timeout(60_000);
  let dir: string;
  beforeEach(() => (dir = tempDir()));
  afterEach(() => removeDir(dir));

  it('loads the example plugin by path and shows it the lifecycle hooks in order', async () => {
    const log = join(dir, 'hooks.jsonl');
    const node = await NvidProcess.start('node', dir, { name: 'recorded', plugins: [{ use: RECORDER, options: { file: log } }] });
    const status = await node.control<{ plugins: Array<{ name: string; source: string }>; hookRecorder: { file: string } }>('status');
    assert.deepEqual(status.plugins, [{ name: 'hook-recorder', source: 'path' }]);
    assert.equal(status.hookRecorder.file, log, 'a plugin can add to nvid status');
    assert.deepEqual(await node.control('recorder-count'), { recorded: 3 }, 'a plugin can answer its own control command');
    const viaCli = await node.cli(['control', 'recorder-count', 'verbose=true', '--json']);
    assert.equal(viaCli.code, 0, viaCli.stderr);
    assert.deepEqual(JSON.parse(viaCli.stdout), { recorded: 3 });
    const unknown = await node.cli(['control', 'no-such-command']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown control command "no-such-command" \[NVID_ERR_USAGE\]/);
    const { code } = await node.stop();
    assert.equal(code, 0);
    const records = readRecords(log);
    assert.deepEqual(records.map((r) => r.hook), ['beforeStart', 'start', 'afterStart', 'stop', 'afterStop']);
    assert.deepEqual(records[0]!.payload, { role: 'node' });
  });

  it('loads a plugin by path relative to the config file', async () => {
    const log = join(dir, 'hooks.jsonl');
    const fromConfig = relative(dir, RECORDER);
    assert.ok(fromConfig.startsWith('..'));
    const node = await NvidProcess.start('node', dir, { plugins: [{ use: fromConfig, options: { file: log } }] });
    await node.stop();
    assert.ok(existsSync(log));
  });

  it('refuses a plugin module that does not exist, naming the config key', async () => {
    const result = await refusedStart(dir, { plugins: ['transport', './no-such-plugin.js'] });
    assert.equal(result.code, 2);
    assert.match(result.stderr, /plugins\[1\] \("\.\/no-such-plugin\.js"\): no file at .*no-such-plugin\.js \[NVID_ERR_PLUGIN_NOT_FOUND\]/);
  });

  it('refuses an unknown bundled name or package', async () => {
    const result = await refusedStart(dir, { plugins: ['teleport'] });
    assert.equal(result.code, 2);
    assert.match(result.stderr, /plugins\[0\] \("teleport"\): not a bundled plugin and no package of that name is installed.*\[NVID_ERR_PLUGIN_NOT_FOUND\]/s);
  });

  it('refuses a module that fails to load or is not a plugin', async () => {
    const broken = await refusedStart(dir, { plugins: [join(FIXTURES, 'syntax-error.js')] });
    assert.match(broken.stderr, /plugins\[0\] .*the module failed to load.*\[NVID_ERR_PLUGIN_NOT_FOUND\]/s);
    const shapeless = await refusedStart(dir, { plugins: [join(FIXTURES, 'not-a-plugin.js')] });
    assert.match(shapeless.stderr, /plugins\[0\] .*default export must be a class with apply\(daemon\).*\[NVID_ERR_PLUGIN_SHAPE\]/s);
  });

  it('refuses a plugin that throws in apply(), naming it', async () => {
    const result = await refusedStart(dir, { plugins: [join(FIXTURES, 'throws-in-apply.js')] });
    assert.equal(result.code, 2);
    assert.match(result.stderr, /plugin "throws-in-apply" \(plugins\[0\]\) failed in apply\(\): cannot find my database \[NVID_ERR_PLUGIN_APPLY\]/);
  });

  it('refuses unknown and wrong-typed options with their key paths, all at once', async () => {
    const result = await refusedStart(dir, { plugins: [{ use: RECORDER, options: { file: 42, colour: 'red' } }] });
    assert.equal(result.code, 2);
    assert.match(result.stderr, /invalid options for plugin "hook-recorder" \(plugins\[0\]\)/);
    assert.match(result.stderr, /plugins\[0\]\.options\.colour: unknown key/);
    assert.match(result.stderr, /plugins\[0\]\.options\.file: must be string/);
    const missing = await refusedStart(dir, { plugins: [{ use: RECORDER }] });
    assert.match(missing.stderr, /plugins\[0\]\.options\.file: is required/);
    const optionless = await refusedStart(dir, { plugins: [{ use: join(FIXTURES, 'throws-in-apply.js'), options: { x: 1 } }] });
    assert.match(optionless.stderr, /plugins\[0\]\.options: plugin "throws-in-apply" takes no options, but has: x \[NVID_ERR_PLUGIN_OPTIONS\]/);
    // Every plugin's problems in one start, not the first plugin's only.
    const both = await refusedStart(dir, { plugins: [{ use: RECORDER, options: { file: 42 } }, 'transport', { use: 'media', options: { maxWidth: 'wide' } }] });
    assert.equal(both.code, 2);
    assert.match(both.stderr, /invalid options for plugins "hook-recorder" \(plugins\[0\]\), "media" \(plugins\[2\]\)/);
    assert.match(both.stderr, /plugins\[0\]\.options\.file: must be string/);
    assert.match(both.stderr, /plugins\[2\]\.options\.maxWidth: must be integer/);
  });

  it('refuses a plugin written for the old shouldAccept hook, naming the hooks that replaced it', async () => {
    const result = await refusedStart(dir, { plugins: [join(FIXTURES, 'old-accept-policy.js')] });
    assert.equal(result.code, 2);
    assert.match(result.stderr, /plugin "old-accept-policy" \(plugins\[0\]\) failed in apply\(\): the "shouldAccept" hook was split in plugin API 2: tap "acceptSender" .* and\/or "acceptTransfer" .*\[NVID_ERR_PLUGIN_API\]/);
  });

  it('refuses a plugin that declares another plugin API version, or a role it cannot have', async () => {
    const future = await refusedStart(dir, { plugins: [join(FIXTURES, 'api-version-9.js')] });
    assert.equal(future.code, 2);
    assert.match(future.stderr, /plugin "api-version-9" \(plugins\[0\]\) was written for plugin API 9; this nvid speaks plugin API 2 .*\[NVID_ERR_PLUGIN_API\]/);
    // A package says which nvid it works with in its package.json, as Homebridge plugins do.
    const pkg = join(dir, 'node_modules', 'nvid-plugin-future');
    mkdirSync(pkg, { recursive: true });
    writeJson(join(pkg, 'package.json'), { name: 'nvid-plugin-future', version: '1.0.0', type: 'module', main: 'index.js', engines: { nvid: '>=9' } });
    writeFileSync(join(pkg, 'index.js'), 'export default class Future { static pluginName = "future"; apply() {} }\n');
    const needsNewer = await refusedStart(dir, { plugins: ['nvid-plugin-future'] });
    assert.equal(needsNewer.code, 2);
    assert.match(needsNewer.stderr, /plugins\[0\] \("nvid-plugin-future"\): the package needs nvid >=9 \(its engines\.nvid\); this is nvid \d+\.\d+\.\d+ \[NVID_ERR_PLUGIN_API\]/);
    const twoTransports = await refusedStart(dir, { plugins: ['transport', join(FIXTURES, 'second-transport.js')] });
    assert.match(twoTransports.stderr, /plugins "transport" and "second-transport" both provide transport; list only one \[NVID_ERR_PLUGIN_SHAPE\]/);
  });

  it('stops what started when a start hook fails, and exits non-zero', async () => {
    const log = join(dir, 'hooks.jsonl');
    const result = await refusedStart(dir, { plugins: [{ use: RECORDER, options: { file: log } }, join(FIXTURES, 'fails-to-start.js')] });
    assert.match(result.stderr, /plugin "fails-to-start" failed in hook "start": port 1 is not mine \[NVID_ERR_HOOK\]/);
    assert.deepEqual(readRecords(log).map((r) => r.hook), ['beforeStart', 'start', 'stop', 'afterStop']);
  });

  it('reports a config that is not JSON, or breaks the schema, with every problem', async () => {
    const notJson = join(dir, 'broken.json');
    writeJson(notJson, {});
    await import('node:fs').then((fs) => fs.writeFileSync(notJson, '{ "name": '));
    const parse = await runNvid(['node', '--config', notJson]);
    assert.equal(parse.code, 2);
    assert.match(parse.stderr, /config file .*broken\.json is not valid JSON.*\[NVID_ERR_CONFIG_READ\]/);
    const absent = await runNvid(['node', '--config', join(dir, 'absent.json')]);
    assert.match(absent.stderr, /cannot read config file .*absent\.json: ENOENT \[NVID_ERR_CONFIG_READ\]/);
    const invalid = await refusedStart(dir, { name: '', log: { level: 'chatty' }, maxReceiveBytes: 'lots', extra: true });
    assert.match(invalid.stderr, /has 4 problem\(s\)/);
    for (const line of [/name: must NOT have fewer than 1 characters|name: must match pattern/, /log\.level: must be one of/, /maxReceiveBytes: must be integer/, /extra: unknown key/]) assert.match(invalid.stderr, line);
  });

  it('says which capability is missing instead of pretending', async () => {
    const node = await NvidProcess.start('node', dir, { plugins: [] });
    try {
      const send = await node.cli(['send', NVID_BIN, '--to', 'anyone']);
      assert.equal(send.code, 4);
      assert.match(send.stderr, /cannot send: not available: no transport plugin loaded \(nothing taps the "deliver" hook\) \[NVID_ERR_NOT_AVAILABLE\]/);
      const rename = await node.cli(['rename', 'lobby']);
      assert.equal(rename.code, 4);
      assert.match(rename.stderr, /no transport plugin loaded/);
      const shot = await node.cli(['screenshot', '--out', join(dir, 's.png')]);
      assert.equal(shot.code, 4);
      assert.match(shot.stderr, /no display plugin loaded/);
      const missingFile = await node.cli(['send', join(dir, 'nope.png'), '--to', 'anyone']);
      assert.equal(missingFile.code, 7);
      assert.match(missingFile.stderr, /nope\.png: no such regular file \[NVID_ERR_FILE_NOT_FOUND\]/);
    } finally {
      await node.stop();
    }
  });
});
