import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { NvidProcess, removeDir, runNvid, tempDir, writeJson } from '../../helpers/nvid.js';
import { copyCliForOthers, runCliAs } from '../../helpers/cli-for-others.js';

/** What openssl says the certificate's SHA-256 fingerprint is: an independent check of the ID. */
function opensslFingerprint(certFile: string): string {
  const out = execFileSync('openssl', ['x509', '-in', certFile, '-noout', '-fingerprint', '-sha256'], { encoding: 'utf8' });
  return out.split('=')[1]!.trim().replace(/:/g, '').toLowerCase();
}

describe('a node keeps its state', function () {
  this.timeout(60_000);
  let dir: string;
  beforeEach(() => (dir = tempDir()));
  afterEach(() => removeDir(dir));

  it('makes its identity once, owner-only, and its ID is the certificate fingerprint, stable across restarts', async () => {
    const first = await NvidProcess.start('node', dir, { name: 'first', plugins: [] });
    const { id } = await first.control<{ id: string }>('status');
    await first.stop();
    const keyFile = join(first.stateDir, 'identity', 'key.pem');
    const certFile = join(first.stateDir, 'identity', 'cert.pem');
    assert.equal(statSync(keyFile).mode & 0o777, 0o600);
    assert.equal(statSync(first.stateDir).mode & 0o777, 0o700);
    assert.equal(id, opensslFingerprint(certFile));
    const keyBefore = readFileSync(keyFile, 'utf8');

    const second = await NvidProcess.start('node', dir, { name: 'renamed-in-config', plugins: [] });
    const again = await second.control<{ id: string; name: string }>('status');
    await second.stop();
    assert.equal(again.id, id, 'same ID after a restart, whatever the name');
    assert.equal(again.name, 'renamed-in-config');
    assert.equal(readFileSync(keyFile, 'utf8'), keyBefore);
  });

  it('refuses a corrupt or loosely-permissioned key and never replaces it', async () => {
    const node = await NvidProcess.start('node', dir, { plugins: [] });
    await node.stop();
    const keyFile = join(node.stateDir, 'identity', 'key.pem');
    const config = writeJson(join(dir, 'config.json'), { stateDir: node.stateDir, plugins: [] });

    chmodSync(keyFile, 0o644);
    const loose = await runNvid(['node', '--config', config]);
    assert.notEqual(loose.code, 0);
    assert.match(loose.stderr, /private key .*key\.pem is accessible by group or others \(mode 644\); run: chmod 600 .* \[NVID_ERR_IDENTITY_PERMISSIONS\]/);

    chmodSync(keyFile, 0o600);
    writeFileSync(keyFile, '-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n');
    const corrupt = await runNvid(['node', '--config', config]);
    assert.notEqual(corrupt.code, 0);
    assert.match(corrupt.stderr, /identity in .* cannot be parsed.*\[NVID_ERR_IDENTITY_CORRUPT\]/);
    assert.match(readFileSync(keyFile, 'utf8'), /not a key/, 'the broken key is left for the user to inspect');
  });

  it('keeps its history across a restart', async () => {
    const first = await NvidProcess.start('node', dir, { plugins: [] });
    await first.cli(['send', '/nonexistent.png', '--to', 'x']);
    await first.stop();
    const second = await NvidProcess.start('node', dir, { plugins: [] });
    const history = await second.control<Array<{ kind: string; code?: string }>>('history');
    await second.stop();
    assert.deepEqual(history.map((e) => e.kind), ['started', 'send-failed', 'stopped', 'started']);
    assert.equal(history[1]!.code, 'NVID_ERR_FILE_NOT_FOUND');
    const cli = await NvidProcess.start('node', dir, { plugins: [] });
    const text = await cli.cli(['history', '--limit', '2']);
    const json = await cli.cli(['history', '--kind', 'started', '--json']);
    await cli.stop();
    assert.equal(text.code, 0);
    assert.equal(text.stdout.trim().split('\n').length, 2);
    assert.equal((JSON.parse(json.stdout) as unknown[]).length, 3);
  });

  it('serves its control socket to its owner only', async () => {
    const node = await NvidProcess.start('node', dir, { plugins: [] });
    try {
      assert.equal(statSync(node.controlSocket).mode & 0o777, 0o600);
      const second = await runNvid(['node', '--config', node.configFile]);
      assert.equal(second.code, 1);
      assert.match(second.stderr, /a node is already running with this state folder .*\[NVID_ERR_ALREADY_RUNNING\]/);
      if (process.getuid?.() === 0) {
        // Another user (nobody) may not even reach the socket: the folder is 0700 and the socket 0600.
        chmodSync(dir, 0o755);
        // nobody runs a copy of the CLI: the checkout itself may sit where nobody cannot read (the superuser's home folder, say).
        const cli = copyCliForOthers(join(dir, 'cli-for-others'), 65534, 65534);
        const stranger = await runCliAs(cli, ['status', '--state', node.stateDir], 65534, 65534);
        assert.equal(stranger.code, 3);
        assert.match(stranger.stderr, /permission denied|no node is running/);
      }
    } finally {
      await node.stop();
    }
  });
});
