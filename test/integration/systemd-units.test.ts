/**
 * The systemd units in systemd/ (docs/systemd.md): rendered the way
 * scripts/install-systemd.sh renders them for a user, checked by
 * `systemd-analyze verify`, and their ExecStart lines run for real, so a flag the
 * CLI does not know or a state folder nvid does not use fails here, not at boot.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { NVID_BIN, REPO_ROOT, removeDir, runNvid, tempDir, waitFor, writeJson } from '../helpers/nvid.js';
import { execStartArgs, findSystemdAnalyze, flagValue, renderUnits, unitSetting, verifyUnits, type UnitMode } from '../helpers/systemd.js';

/** Each unit as systemctl would be asked for it: a template by one of its instances. */
const UNITS: Record<UnitMode, Array<{ file: string; name: string; role: 'node' | 'coordinator' }>> = {
  system: [
    { file: 'nvid-node@.service', name: 'nvid-node@lobby.service', role: 'node' },
    { file: 'nvid-coordinator.service', name: 'nvid-coordinator.service', role: 'coordinator' },
  ],
  user: [
    { file: 'nvid-node.service', name: 'nvid-node.service', role: 'node' },
    { file: 'nvid-coordinator.service', name: 'nvid-coordinator.service', role: 'coordinator' },
  ],
};
const MODES: UnitMode[] = ['system', 'user'];

describe('the systemd units in systemd/', function () {
  this.timeout(120_000);
  let dir: string;
  const rendered = (mode: UnitMode) => join(dir, mode);
  before(() => {
    dir = tempDir('nvid-systemd-');
    for (const mode of MODES) renderUnits(mode, rendered(mode));
  });
  after(() => removeDir(dir));

  describe('systemd-analyze verify', () => {
    before(function () {
      if (findSystemdAnalyze()) return;
      // Visible in the report, so a machine without systemd does not pass this silently.
      console.log('      skipped: systemd-analyze is not installed (Debian package: systemd)');
      this.skip();
    });

    for (const mode of MODES) {
      it(`finds nothing wrong with the ${mode} units`, () => {
        const files = UNITS[mode].map((u) => join(rendered(mode), u.name));
        const { code, complaints } = verifyUnits(mode, files, join(dir, `verify-${mode}`));
        assert.equal(complaints, '', `systemd-analyze ${mode === 'user' ? '--user ' : ''}verify complained`);
        assert.equal(code, 0);
      });
    }

    it('complains about a broken unit (so it cannot pass by checking nothing)', () => {
      const broken = join(dir, 'broken');
      mkdirSync(broken);
      const unit = join(broken, 'nvid-coordinator.service');
      const good = readFileSync(join(rendered('system'), 'nvid-coordinator.service'), 'utf8');
      writeFileSync(unit, good.replace('ProtectSystem=strict', 'ProtectSystm=strict'));
      assert.match(verifyUnits('system', [unit], join(dir, 'verify-broken')).complaints, /Unknown key.*ProtectSystm/);
      writeFileSync(unit, good.replaceAll(process.execPath, join(broken, 'no-such-node')));
      const missing = verifyUnits('system', [unit], join(dir, 'verify-broken'));
      assert.match(missing.complaints, /no-such-node.*not executable/);
      assert.notEqual(missing.code, 0);
    });
  });

  describe('what they promise', () => {
    it('restart on failure but not on a config error, and keep the players in the cgroup', () => {
      for (const mode of MODES) {
        for (const { file, role } of UNITS[mode]) {
          const unit = join(REPO_ROOT, 'systemd', mode, file);
          assert.equal(unitSetting(unit, 'Restart'), 'on-failure', file);
          assert.ok(unitSetting(unit, 'RestartSec'), `${file} has a RestartSec`);
          assert.equal(unitSetting(unit, 'RestartPreventExitStatus'), '2', `${file}: exit code 2 is a config error`);
          assert.ok(['control-group', undefined].includes(unitSetting(unit, 'KillMode')), `${file} kills the whole cgroup`);
          if (role === 'node') assert.notEqual(unitSetting(unit, 'PrivateTmp'), 'yes', `${file}: a private /tmp hides the X server's socket`);
        }
      }
    });

    it('name the X display and the state folder, and the state folder is the one --state gets', () => {
      const node = join(REPO_ROOT, 'systemd', 'system', 'nvid-node@.service');
      assert.equal(unitSetting(node, 'Environment'), 'DISPLAY=:0');
      for (const { file } of UNITS.system) {
        const unit = join(REPO_ROOT, 'systemd', 'system', file);
        const args = execStartArgs(unit, {});
        assert.equal(flagValue(args, '--state'), `/var/lib/${unitSetting(unit, 'StateDirectory')}`, file);
        assert.equal(unitSetting(unit, 'StateDirectoryMode'), '0700', `${file}: nvid refuses a state folder others can write`);
      }
      for (const { file, role } of UNITS.user) {
        const args = execStartArgs(join(REPO_ROOT, 'systemd', 'user', file), {});
        assert.equal(flagValue(args, '--state'), `%h/.local/state/nvid/${role}`, `${file}: nvid's own default folder`);
      }
    });

    it('are rendered for this checkout and this Node.js', () => {
      for (const mode of MODES) {
        for (const { file } of UNITS[mode]) {
          const [node, bin] = execStartArgs(join(rendered(mode), file), {});
          assert.deepEqual([node, bin], [process.execPath, NVID_BIN], file);
        }
      }
    });
  });

  describe('their ExecStart, run as systemd would run it', () => {
    // The folders the units name, moved into the test's own: /etc/nvid, /var/lib/nvid, and the specifiers.
    const folders = () => ({
      '/etc/nvid': join(dir, 'etc'),
      '/var/lib/nvid': join(dir, 'var'),
      '%E': join(dir, 'home', '.config'),
      '%h': join(dir, 'home'),
      '%i': 'lobby',
    });
    // The coordinator runs first; the node is pointed at its port, closed again by then:
    // a node starts without its coordinator and keeps trying to join.
    let coordinatorPort = 0;

    for (const mode of MODES) {
      for (const { file, role } of UNITS[mode].slice().reverse()) {
        it(`${mode} ${file}: starts with its --config and --state, stops cleanly on SIGTERM`, async () => {
          const args = execStartArgs(join(rendered(mode), file), folders());
          const config = flagValue(args, '--config');
          const state = flagValue(args, '--state');
          mkdirSync(join(config, '..'), { recursive: true });
          writeJson(config, role === 'coordinator' ? coordinatorConfig() : nodeConfig(coordinatorPort));
          const child = spawn(args[0]!, args.slice(1), { stdio: ['ignore', 'ignore', 'pipe'] });
          let stderr = '';
          child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
          const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
          try {
            const status = await waitFor(async () => {
              if (child.exitCode !== null) throw new Error(`exited with ${child.exitCode}:\n${stderr}`);
              const answer = await runNvid(['status', '--json', '--state', state]);
              return answer.code === 0 ? (JSON.parse(answer.stdout) as { transport: { port: number } }) : undefined;
            }, `nvid ${role} to answer in ${state}`, 30_000);
            assert.ok(existsSync(join(state, 'identity', 'cert.pem')), 'the identity is kept in the named state folder');
            if (role === 'coordinator') coordinatorPort = status.transport.port;
          } finally {
            child.kill('SIGTERM');
          }
          assert.equal(await exited, 0, `a clean stop, so systemd does not count it a failure:\n${stderr}`);
        });
      }
    }
  });
});

/** The smallest coordinator: any free port, admits anyone (only this test's nodes are around). */
function coordinatorConfig(): Record<string, unknown> {
  return { plugins: [{ use: 'transport', options: { listen: { host: '127.0.0.1', port: 0 } } }] };
}

/** A node for that coordinator; headless, since no X server runs here. */
function nodeConfig(coordinatorPort: number): Record<string, unknown> {
  return {
    plugins: [
      { use: 'transport', options: { listen: { host: '127.0.0.1', port: 0 }, coordinator: { host: '127.0.0.1', port: coordinatorPort } } },
      'crypto',
      'media',
      { use: 'display', options: { output: 'headless' } },
    ],
  };
}
